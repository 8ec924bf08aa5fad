/**
 * $bitsAllSet $bitsAllClear $bitsAnySet $bitsAnyClear (expression_leaf.cpp BitTestMatchExpression,
 * expression_parser.cpp parseBitTest / parseBitPositionsArray).
 *
 * The argument: an array of bit positions (each parseIntegerElementToNonNegativeInt, else BadValue
 * "Failed to parse bit position. <reason>"), a number (a non-negative whole 64-bit mask, else
 * FailedToParse with the reason), or BinData (its bytes are the mask, little-endian; as in mongod a
 * mask byte is read as a signed char, so a byte >= 0x80 among the first eight sets every higher bit
 * of the 64-bit mask, and any set byte past the eighth sets bit 63). Anything else: BadValue
 * "<path> takes an Array, a number, or a BinData but received: <element>".
 *
 * A value matches when it is BinData (bits tested per position, zero past its end) or a number:
 * doubles must be whole and within the 64-bit range (NaN never matches); decimals are taken as
 * BSONElement::numberLong takes them (rounded half to even; NaN and out-of-range values become the
 * smallest long). Positions past 63 test the sign bit (numbers are sign-extended).
 */
import { badValue, failedToParse } from '../queryErrors.js';
import type { Test } from './node.js';
import { bsonTypeOf, BSON_TYPE, decimalNumberLong, elementText, parseIntegerElement } from './values.js';

export type BitOp = '$bitsAllSet' | '$bitsAllClear' | '$bitsAnySet' | '$bitsAnyClear';

const MASK64 = (1n << 64n) - 1n;

function binaryBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position: number; sub_type: number };
  const bytes = b.buffer.subarray(0, b.position);
  if ((b.sub_type & 0xff) !== 2) return bytes;
  // BSONElement::binData of the old binary subtype includes its inner int32 length.
  const out = new Uint8Array(bytes.length + 4);
  new DataView(out.buffer).setInt32(0, bytes.length, true);
  out.set(bytes, 4);
  return out;
}

/** The test of one bit operator, its argument checked as mongod parses it. */
export function bitTest(op: BitOp, path: string, arg: unknown): Test {
  let positions: number[];
  let mask = 0n; // unsigned 64-bit
  const t = bsonTypeOf(arg);
  if (Array.isArray(arg)) {
    positions = [];
    for (const e of arg) {
      const n = parseIntegerElement(String(positions.length), e, 'nonNegativeInt');
      if (typeof n === 'string') throw badValue(`Failed to parse bit position. ${n}`);
      positions.push(Number(n));
    }
    for (const p of positions) mask |= 1n << BigInt(Math.min(p, 63));
  } else if (t === BSON_TYPE.int || t === BSON_TYPE.long || t === BSON_TYPE.double || t === BSON_TYPE.decimal) {
    const n = parseIntegerElement(op, arg, 'nonNegativeLong');
    if (typeof n === 'string') throw failedToParse(n);
    mask = n & MASK64;
    positions = [];
    for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) positions.push(bit);
  } else if (t === BSON_TYPE.binData) {
    const bytes = binaryBytes(arg);
    positions = [];
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (byte === 0) continue;
      if (i < 8) mask |= BigInt.asUintN(64, BigInt((byte << 24) >> 24) << BigInt(8 * i));
      else mask |= 1n << 63n;
      for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) positions.push(8 * i + bit);
    }
  } else {
    throw badValue(`${path} takes an Array, a number, or a BinData but received: ${elementText(op, arg)}`);
  }

  const allSet = op === '$bitsAllSet';
  const allClear = op === '$bitsAllClear';
  const anySet = op === '$bitsAnySet';
  const numberTest = (value: bigint): boolean => {
    const v = BigInt.asUintN(64, value);
    if (allSet) return (v & mask) === mask;
    if (allClear) return (~v & MASK64 & mask) === mask;
    if (anySet) return (v & mask) !== 0n;
    return (~v & MASK64 & mask) !== 0n;
  };
  const binaryTest = (bytes: Uint8Array): boolean => {
    // needFurtherBitTests / performBitTest(const char*, len)
    for (const p of positions) {
      const byteIndex = p >>> 3;
      const isSet = byteIndex < bytes.length ? (bytes[byteIndex]! & (1 << (p & 7))) !== 0 : false;
      const further = (isSet && (allSet || op === '$bitsAnyClear')) || (!isSet && (allClear || anySet));
      if (!further) return anySet || op === '$bitsAnyClear';
    }
    return allSet || allClear;
  };
  return (e) => {
    const et = bsonTypeOf(e);
    switch (et) {
      case BSON_TYPE.binData:
        return binaryTest(binaryBytes(e));
      case BSON_TYPE.int:
        return numberTest(BigInt(typeof e === 'number' ? e : (e as { value: number }).value));
      case BSON_TYPE.double: {
        const d = typeof e === 'number' ? e : +(e as { value: number }).value;
        if (d !== d || d >= 9223372036854775808 || d < -9223372036854775808 || !Number.isInteger(d)) return false;
        return numberTest(BigInt(d));
      }
      case BSON_TYPE.long:
        return numberTest(typeof e === 'bigint' ? e : (e as { toBigInt(): bigint }).toBigInt());
      case BSON_TYPE.decimal:
        return numberTest(decimalNumberLong(e));
      default:
        return false;
    }
  };
}
