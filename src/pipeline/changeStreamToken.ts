/**
 * Change stream resume tokens (resume_token.cpp): `{_data: "<hex>"}`, the uppercase hex of a
 * KeyString V1 encoding (key_string.cpp) of clusterTime, version, tokenType, txnOpIndex,
 * fromInvalidate, the collection UUID (or null) and, for an event, its eventIdentifier
 * ({operationType, documentKey} or {operationType, operationDescription}). KeyString keeps BSON
 * order in byte order, so comparing two `_data` strings compares the tokens: stream order
 * (change-streams-semantics.md §3). MongoDB's own decoder reads the tokens made here; `_typeBits`
 * (which restores a long or double `_id` inside the token) is never written, as §7 allows.
 */
import { Binary, BSONRegExp, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID, BSONSymbol, type Document } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { bsonText } from '../bson/bsonText.js';
import { ErrorCodes, MongoError } from '../errors.js';

/** ResumeTokenData::TokenType. */
export const HIGH_WATER_MARK_TOKEN = 0;
export const EVENT_TOKEN = 128;
/** The token version written (kDefaultTokenVersion). */
const TOKEN_VERSION = 2;

/** What a token encodes. */
export interface ResumeTokenData {
  readonly clusterTime: Timestamp;
  readonly tokenType: typeof HIGH_WATER_MARK_TOKEN | typeof EVENT_TOKEN;
  readonly txnOpIndex: number;
  readonly fromInvalidate: boolean;
  /** The collection's UUID; absent (null in the token) for dropDatabase and high-water marks. */
  readonly uuid?: UUID;
  /** Events only: {operationType, documentKey} or {operationType, operationDescription}. */
  readonly eventIdentifier?: Document;
}

// KeyString's canonical types (key_string.cpp CType).
const CType = {
  minKey: 10,
  undefined: 15,
  nullish: 20,
  numeric: 30,
  numericNaN: 30,
  numericNegativeLargeMagnitude: 31,
  numericNegative8ByteInt: 32,
  numericNegative1ByteInt: 39,
  numericNegativeSmallMagnitude: 40,
  numericZero: 41,
  numericPositiveSmallMagnitude: 42,
  numericPositive1ByteInt: 43,
  numericPositive8ByteInt: 50,
  numericPositiveLargeMagnitude: 51,
  stringLike: 60,
  object: 70,
  array: 80,
  binData: 90,
  oid: 100,
  boolFalse: 110,
  boolTrue: 111,
  date: 120,
  timestamp: 130,
  regex: 140,
  code: 160,
  codeWithScope: 170,
  maxKey: 240,
} as const;
const END = 0x04;

const TWO_POW_63 = 2 ** 63;
/** Doubles below 2**-255 keep one decimal-continuation bit only (kTiniestDoubleWith2BitDCM). */
const TINIEST_DOUBLE_WITH_2BIT_DCM = 2 ** -255;

/** A growing byte buffer. */
class Bytes {
  private readonly out: number[] = [];

  byte(b: number): void {
    this.out.push(b & 0xff);
  }

  bytes(bs: ArrayLike<number>, invert = false): void {
    for (let i = 0; i < bs.length; i++) this.out.push((invert ? ~bs[i]! : bs[i]!) & 0xff);
  }

  /** A 64-bit unsigned value, big-endian (inverted for negative numbers). */
  uint64(value: bigint, invert = false): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, value));
    this.bytes(b, invert);
  }

  /** KeyString's string body: the UTF-8 bytes, a NUL written as 00 FF, then 00. */
  cstring(text: string): void {
    const utf8 = Buffer.from(text, 'utf8');
    for (const b of utf8) {
      this.out.push(b);
      if (b === 0) this.out.push(0xff);
    }
    this.out.push(0);
  }

  hex(): string {
    return Buffer.from(this.out).toString('hex').toUpperCase();
  }
}

function doubleBits(value: number): bigint {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(value);
  return b.readBigUInt64BE();
}

/** The generic type byte of a value, written before each field name of an object (bsonTypeToGenericKeyStringType). */
function genericType(value: unknown): number {
  if (value === null || value === undefined) return value === null ? CType.nullish : CType.undefined;
  // A Timestamp is a Long to `instanceof`: it is tested first.
  if (value instanceof Timestamp) return CType.timestamp;
  if (typeof value === 'number' || value instanceof Int32 || value instanceof Double || value instanceof Long || value instanceof Decimal128) return CType.numeric;
  if (typeof value === 'string' || value instanceof BSONSymbol) return CType.stringLike;
  if (typeof value === 'boolean') return CType.boolFalse;
  if (value instanceof Date) return CType.date;
  if (value instanceof ObjectId) return CType.oid;
  if (value instanceof Binary) return CType.binData;
  if (value instanceof BSONRegExp || value instanceof RegExp) return CType.regex;
  if (value instanceof Code) return value.scope === null || value.scope === undefined ? CType.code : CType.codeWithScope;
  if (value instanceof MinKey) return CType.minKey;
  if (value instanceof MaxKey) return CType.maxKey;
  if (Array.isArray(value)) return CType.array;
  return CType.object;
}

/** _appendPreshiftedIntegerPortion: the integer part shifted left one bit (the low bit says a fraction follows). */
function appendPreshiftedInteger(out: Bytes, preshifted: bigint, negative: boolean): void {
  let bytesNeeded = 0;
  for (let v = preshifted; v > 0n; v >>= 8n) bytesNeeded += 1;
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(preshifted);
  const used = b.subarray(8 - bytesNeeded);
  if (negative) {
    out.byte(CType.numericNegative1ByteInt - (bytesNeeded - 1));
    out.bytes(used, true);
  } else {
    out.byte(CType.numericPositive1ByteInt + (bytesNeeded - 1));
    out.bytes(used);
  }
}

/** _appendInteger (int32 and int64 alike; the type bits, not written here, tell them apart). */
function appendInteger(out: Bytes, n: bigint): void {
  if (n === 0n) {
    out.byte(CType.numericZero);
    return;
  }
  if (n === -(2n ** 63n)) {
    appendLargeDouble(out, -TWO_POW_63);
    return;
  }
  const negative = n < 0n;
  appendPreshiftedInteger(out, (negative ? -n : n) << 1n, negative);
}

function appendLargeDouble(out: Bytes, value: number): void {
  out.byte(value > 0 ? CType.numericPositiveLargeMagnitude : CType.numericNegativeLargeMagnitude);
  const encoded = Number.isFinite(value) ? (doubleBits(value) << 1n) & ~(1n << 63n) : 2n ** 64n - 1n;
  out.uint64(encoded, value < 0);
}

function appendSmallDouble(out: Bytes, value: number): void {
  const negative = value < 0;
  const magnitude = Math.abs(value);
  out.byte(negative ? CType.numericNegativeSmallMagnitude : CType.numericPositiveSmallMagnitude);
  let encoded: bigint;
  if (magnitude >= TINIEST_DOUBLE_WITH_2BIT_DCM) {
    encoded = doubleBits(magnitude) << 2n;
  } else {
    encoded = (doubleBits(magnitude * 2 ** 256) << 1n) + (1n << 62n);
  }
  out.uint64(encoded, negative);
}

/** _appendDoubleWithoutTypeBits for a double that is exactly its value (the decimal continuation marker 0). */
function appendDouble(out: Bytes, num: number): void {
  const negative = num < 0;
  const magnitude = Math.abs(num);
  if (!(magnitude >= 1)) {
    if (magnitude > 0) appendSmallDouble(out, num);
    else if (num === 0) out.byte(CType.numericZero);
    else out.byte(CType.numericNaN);
    return;
  }
  if (magnitude >= TWO_POW_63) {
    appendLargeDouble(out, num);
    return;
  }
  const integerPart = BigInt(Math.trunc(magnitude));
  if (Number(integerPart) === magnitude) {
    appendPreshiftedInteger(out, integerPart << 1n, negative);
    return;
  }
  // A fraction: 8 bytes in all, the integer part's bytes then the fraction's, shifted to leave
  // two bits for the decimal continuation marker.
  const preshifted = integerPart << 1n;
  let leadingZeros = 64;
  for (let v = preshifted; v > 0n; v >>= 1n) leadingZeros -= 1;
  const fractionalBytes = Math.floor(leadingZeros / 8);
  out.byte(negative ? CType.numericNegative8ByteInt + fractionalBytes : CType.numericPositive8ByteInt - fractionalBytes);
  let encoding = BigInt(magnitude * 256 ** fractionalBytes);
  encoding += (integerPart + 1n) << BigInt(fractionalBytes * 8);
  out.uint64(encoding, negative);
}

/**
 * A Decimal128 holding an integer a double holds exactly is encoded as that number (key_string.cpp's
 * easy case). Others are encoded by their nearest double followed by their own 16 bytes: ordered
 * by value to about 15 digits and deterministic, though not mongod's decimal continuation.
 */
function appendDecimal(out: Bytes, value: Decimal128): void {
  const text = value.toString();
  if (/^-?NaN$/.test(text)) {
    out.byte(CType.numericNaN);
    return;
  }
  const approx = Number(text);
  if (/^-?\d+$/.test(text) && Math.abs(approx) <= 2 ** 53) {
    appendInteger(out, BigInt(text));
    return;
  }
  appendDouble(out, approx);
  out.bytes(value.bytes);
}

/** _appendBsonValue: the type byte and the value. */
function appendValue(out: Bytes, value: unknown): void {
  if (value === null) return out.byte(CType.nullish);
  if (value === undefined) return out.byte(CType.undefined);
  if (value instanceof Timestamp) {
    out.byte(CType.timestamp);
    return out.uint64(value.toBigInt());
  }
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < TWO_POW_63 ? appendInteger(out, BigInt(value)) : appendDouble(out, value);
  if (value instanceof Int32) return appendInteger(out, BigInt(value.value));
  if (value instanceof Long) return appendInteger(out, value.toBigInt());
  if (value instanceof Double) return appendDouble(out, value.value);
  if (value instanceof Decimal128) return appendDecimal(out, value);
  if (typeof value === 'string') {
    out.byte(CType.stringLike);
    return out.cstring(value);
  }
  if (value instanceof BSONSymbol) {
    out.byte(CType.stringLike);
    return out.cstring(value.valueOf());
  }
  if (typeof value === 'boolean') return out.byte(value ? CType.boolTrue : CType.boolFalse);
  if (value instanceof Date) {
    out.byte(CType.date);
    return out.uint64(BigInt(value.getTime()) ^ (1n << 63n));
  }
  if (value instanceof ObjectId) {
    out.byte(CType.oid);
    return out.bytes(value.id);
  }
  if (value instanceof Binary) {
    const data = value.value();
    out.byte(CType.binData);
    if (data.length < 0xff) out.byte(data.length);
    else {
      out.byte(0xff);
      const size = Buffer.alloc(4);
      size.writeInt32BE(data.length);
      out.bytes(size);
    }
    out.byte(value.sub_type);
    return out.bytes(data);
  }
  if (value instanceof BSONRegExp) {
    out.byte(CType.regex);
    out.bytes(Buffer.from(value.pattern, 'utf8'));
    out.byte(0);
    out.bytes(Buffer.from(value.options, 'utf8'));
    return out.byte(0);
  }
  if (value instanceof Code) {
    const scoped = value.scope !== null && value.scope !== undefined;
    out.byte(scoped ? CType.codeWithScope : CType.code);
    out.cstring(value.code);
    if (scoped) appendObjectBody(out, value.scope as Document);
    return;
  }
  if (value instanceof MinKey) return out.byte(CType.minKey);
  if (value instanceof MaxKey) return out.byte(CType.maxKey);
  if (Array.isArray(value)) {
    out.byte(CType.array);
    for (const element of value) appendValue(out, element);
    return out.byte(0);
  }
  out.byte(CType.object);
  appendObjectBody(out, value as Document);
}

/** _appendBson: per field its generic type, its name, then the value; a 0 ends the object. */
function appendObjectBody(out: Bytes, doc: Document): void {
  for (const [name, value] of Object.entries(doc)) {
    if (value === undefined) continue;
    out.byte(genericType(value));
    out.cstring(name);
    appendValue(out, value);
  }
  out.byte(0);
}

/** The KeyString V1 hex of a list of values (a key of unnamed fields, kInclusive: ends with 04). */
export function keyStringHex(values: readonly unknown[]): string {
  const out = new Bytes();
  for (const value of values) appendValue(out, value);
  out.byte(END);
  return out.hex();
}

/** The `_data` of a token (ResumeToken(const ResumeTokenData&)). */
export function encodeResumeToken(data: ResumeTokenData): string {
  const values: unknown[] = [data.clusterTime, new Int32(TOKEN_VERSION), new Int32(data.tokenType), new Int32(data.txnOpIndex), data.fromInvalidate];
  values.push(data.uuid === undefined ? null : data.uuid);
  if (data.eventIdentifier !== undefined) values.push(data.eventIdentifier);
  return keyStringHex(values);
}

/** A high-water-mark token: a point in time, before every event of that time. */
export function highWaterMark(clusterTime: Timestamp): string {
  return encodeResumeToken({ clusterTime, tokenType: HIGH_WATER_MARK_TOKEN, txnOpIndex: 0, fromInvalidate: false });
}

/** The token as events and replies carry it. */
export function tokenDocument(data: string): Document {
  return { _data: data };
}

/** The timestamp one tick after `ts` (LogicalTime::addTicks(1)). */
export function nextTick(ts: Timestamp): Timestamp {
  return ts.i === 0xffffffff ? new Timestamp({ t: ts.t + 1, i: 0 }) : new Timestamp({ t: ts.t, i: ts.i + 1 });
}

// Reading a client's token back (ResumeToken::getData): only its leading fields are decoded;
// events are matched by comparing whole `_data` strings.

/** A token a client gave, checked and with the fields the stream needs. */
export interface ClientToken {
  /** Its `_data`, uppercase. */
  readonly data: string;
  readonly clusterTime: Timestamp;
  readonly version: number;
  readonly tokenType: number;
  readonly fromInvalidate: boolean;
  readonly hasUuid: boolean;
}

/** mongod's Document::toString of a token (`{_data: "..."}`), used in its messages. */
export function tokenText(token: Document): string {
  const entries = Object.entries(token).map(([k, v]) => `${k}: ${documentValueText(v)}`);
  return `{${entries.join(', ')}}`;
}

function documentValueText(value: unknown): string {
  if (isPlainObject(value)) return tokenText(value);
  return bsonText(value);
}

class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(): number | undefined {
    return this.buf[this.pos];
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw formatError('unexpected end of input');
    return this.buf[this.pos++]!;
  }

  skip(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw formatError('unexpected end of input');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function formatError(message: string): MongoError {
  return new MongoError(ErrorCodes.FailedToParse, `KeyString format error: ${message}`);
}

/** A small non-negative integer (the version, tokenType, txnOpIndex): 0, or 1 to 8 bytes. Undefined for another type. */
function readInteger(reader: Reader): number | undefined {
  const ctype = reader.byte();
  if (ctype === CType.numericZero) return 0;
  if (ctype < CType.numericPositive1ByteInt || ctype > CType.numericPositive8ByteInt) return undefined;
  let value = 0n;
  for (const b of reader.skip(ctype - CType.numericPositive1ByteInt + 1)) value = (value << 8n) | BigInt(b);
  if ((value & 1n) === 1n) return undefined;
  return Number(value >> 1n);
}

/**
 * Parses and checks a token given as resumeAfter or startAfter (ResumeToken's constructor and
 * getData), with mongod's errors.
 */
export function parseClientToken(token: Document): ClientToken {
  const data = token._data;
  if (typeof data !== 'string') {
    throw new MongoError(40647, `Bad resume token: _data of missing or of wrong type. Expected string, got ${tokenText(token)}`);
  }
  const typeBits = token._typeBits;
  if (typeBits !== undefined && !(typeBits instanceof Binary && typeBits.sub_type === 0)) {
    throw new MongoError(40648, `Bad resume token: _typeBits of wrong type ${tokenText(token)}`);
  }
  if (data.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(data)) throw new MongoError(ErrorCodes.FailedToParse, 'resume token string was not a valid hex string');
  const reader = new Reader(Buffer.from(data, 'hex'));
  if (reader.done || reader.peek() === END) throw new MongoError(40649, 'invalid empty resume token');
  if (reader.byte() !== CType.timestamp) throw formatError('expected a Timestamp first');
  const ts = reader.skip(8);
  const clusterTime = new Timestamp({ t: ts.readUInt32BE(0), i: ts.readUInt32BE(4) });
  const more = (): boolean => !reader.done && reader.peek() !== END;
  if (!more()) throw new MongoError(50796, 'Resume Token does not contain version');
  const version = readInteger(reader);
  if (version === undefined) throw new MongoError(50854, 'Invalid resume token: wrong type for version');
  if (version > 2) throw new MongoError(50795, 'Invalid Resume Token: only supports version 0, 1 and 2');
  let tokenType: number = EVENT_TOKEN;
  if (version >= 1) {
    if (!more()) throw new MongoError(51055, 'Resume Token does not contain tokenType');
    const type = readInteger(reader);
    if (type === undefined) throw new MongoError(51056, 'Resume Token tokenType is not an int.');
    if (type !== EVENT_TOKEN && type !== HIGH_WATER_MARK_TOKEN) throw new MongoError(51057, `Token type ${type} not recognized`);
    tokenType = type;
  }
  if (!more()) throw new MongoError(50793, 'Resume Token does not contain txnOpIndex');
  if (readInteger(reader) === undefined) throw new MongoError(50855, 'Resume Token txnOpIndex is not an integer');
  let fromInvalidate = false;
  if (version >= 1) {
    if (!more()) throw new MongoError(50872, 'Resume Token does not contain fromInvalidate');
    const flag = reader.byte();
    if (flag !== CType.boolFalse && flag !== CType.boolTrue) throw new MongoError(50870, 'Resume Token fromInvalidate is not a boolean.');
    fromInvalidate = flag === CType.boolTrue;
  }
  let hasUuid = false;
  if (!more()) {
    if (version >= 2) throw new MongoError(6189500, 'Expected UUID or null');
  } else {
    const ctype = reader.peek();
    if (ctype === CType.binData) {
      reader.byte();
      const size = reader.byte();
      const subtype = reader.byte();
      reader.skip(size);
      if (subtype !== 4 || size !== 16) throw new MongoError(ErrorCodes.InvalidUUID, 'uuid must be a 16-byte binary field with UUID (4) subtype');
      hasUuid = true;
    } else if (ctype === CType.nullish) {
      reader.byte();
    } else if (version >= 2) {
      throw new MongoError(ErrorCodes.InvalidUUID, 'uuid must be a 16-byte binary field with UUID (4) subtype');
    }
    if (tokenType === HIGH_WATER_MARK_TOKEN && more()) throw new MongoError(6189504, 'Invalid high water mark token');
    if (!more()) {
      if (tokenType === EVENT_TOKEN && version >= 2) throw new MongoError(6189501, 'Expected an eventIdentifier for an event resume token');
    } else if (reader.peek() !== CType.object) {
      throw new MongoError(6189503, 'Resume Token eventIdentifier is not an object');
    }
  }
  return { data: data.toUpperCase(), clusterTime, version, tokenType, fromInvalidate, hasUuid };
}

/** Token order is `_data` order (KeyString compares bytewise; the hex is uppercase). */
export function compareTokens(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
