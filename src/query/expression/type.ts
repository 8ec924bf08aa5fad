/**
 * Type expressions: $type, $isNumber, $convert and its shortcuts $toBool $toInt $toLong $toDouble
 * $toDecimal $toString $toObjectId $toDate (ExpressionConvert in src/mongo/db/pipeline/
 * expression.cpp; the 7.0 conversion table, as in evaluate_math.cpp's ConversionTable without the
 * 8.0 BinData conversions and 'format'/'byteOrder'/'base' arguments).
 *
 * $convert: 'input' null/missing gives 'onNull' (or null); 'to' null/missing gives null; 'to' is a
 * type name ("missing" accepted, converting to nothing) or a type number; a conversion that fails
 * is ConversionFailure (241), which 'onError' (evaluated only then) replaces. Conversions are
 * exact: longs to decimals exactly, decimals to ints/longs truncated with range checks, doubles to
 * decimals with 15 significant digits (Value::coerceToDecimal), as mongod does.
 *
 * A few inputs whose mongod result this module cannot reproduce exactly are refused (115) at
 * evaluation: strings in date formats other than plain ISO-8601, number words ("inf", "nan") in
 * strings, dates outside JavaScript's range, doubles whose text mongod releases disagree on.
 */
import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { decimalFromBigInt, decimalIsInfinite, decimalIsNaN, decimalIsZero, decimalToDouble, decimalToInt32, decimalToInt64 } from '../decimal128.js';
import { type BsonNumber, integral, toDecimal } from '../numeric.js';
import {
  computed,
  constantNode,
  fail,
  fixedArity,
  isArgumentObject,
  operandList,
  refuse,
  type Node,
  type OperatorTable,
  type ParseContext,
} from './node.js';
import {
  BSON_TYPE,
  coerceToBool,
  coerceToInt,
  dateOutOfRange,
  daysFromCivil,
  doubleText,
  doubleToString,
  doubleValue,
  intValue,
  isNumber,
  isoDateText,
  longValue,
  nullish,
  typeName,
  typeNameOfCode,
  typeCodeOfName,
  typeOf,
} from './values.js';

// ---------------------------------------------------------------------------------------------
// $type $isNumber

function parseType(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => typeName(a(s)), children);
}

function parseIsNumber(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => isNumber(a(s)), children);
}

// ---------------------------------------------------------------------------------------------
// Conversions

function conversionFailure(message: string): MongoError {
  return new MongoError(ErrorCodes.ConversionFailure, message);
}

const SUFFIX = 'in $convert with no onError value';

function unsupported(from: unknown, to: number): MongoError {
  return conversionFailure(`Unsupported conversion from ${typeName(from)} to ${typeNameOfCode(to)} ${SUFFIX}`);
}

function overflow(text: string): MongoError {
  return conversionFailure(`Conversion would overflow target type ${SUFFIX}: ${text}`);
}

const NAN_TO_INTEGER = `Attempt to convert NaN value to integer type ${SUFFIX}`;
const INFINITY_TO_INTEGER = `Attempt to convert infinity value to integer type ${SUFFIX}`;

const TWO_POW_63 = 9223372036854775808;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** A number as the bson object it is (plain JS numbers typed as the serializer would). */
function stored(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) && v >= -2147483648 && v <= 2147483647 ? new Int32(v) : new Double(v);
  if (typeof v === 'bigint') return Long.fromBigInt(BigInt.asIntN(64, v));
  return v;
}

function castDoubleToInt(d: number): Int32 {
  if (d !== d) throw conversionFailure(NAN_TO_INTEGER);
  if (!Number.isFinite(d)) throw conversionFailure(INFINITY_TO_INTEGER);
  if (!(d >= -2147483648 && d <= 2147483647)) throw overflow(doubleText(d));
  return new Int32(Math.trunc(d));
}

function castDoubleToLong(d: number): bigint {
  if (d !== d) throw conversionFailure(NAN_TO_INTEGER);
  if (!Number.isFinite(d)) throw conversionFailure(INFINITY_TO_INTEGER);
  if (!(d >= -TWO_POW_63 && d < TWO_POW_63)) throw overflow(doubleText(d));
  return BigInt(Math.trunc(d));
}

function castDecimalToInteger(x: Decimal128, toInt: boolean): bigint {
  if (decimalIsNaN(x)) throw conversionFailure(NAN_TO_INTEGER);
  if (decimalIsInfinite(x)) throw conversionFailure(INFINITY_TO_INTEGER);
  const r = toInt ? decimalToInt32(x, 'towardZero') : decimalToInt64(x, 'towardZero');
  if (r.invalid) throw overflow(x.toString());
  return r.value;
}

/** Decimal128::toDouble, refusing overflow and underflow as performCastDecimalToDouble does. */
function castDecimalToDouble(x: Decimal128): Double {
  const d = decimalToDouble(x);
  if (decimalIsNaN(x) || decimalIsInfinite(x)) return new Double(d);
  if (!Number.isFinite(d)) throw overflow(x.toString());
  // underflow: a nonzero value whose double is zero or subnormal (tiny and, necessarily, inexact)
  if (!decimalIsZero(x) && Math.abs(d) < 2.2250738585072014e-308) throw overflow(x.toString());
  return new Double(d);
}

/** The JS Date for an int64 millisecond count (mongod's dates hold any int64; JS ones ±8.64e15). */
function dateOfMillis(ms: bigint): Date {
  if (ms < -8640000000000000n || ms > 8640000000000000n) {
    throw refuse(`dates beyond the year 275760 (milliseconds ${ms})`);
  }
  return new Date(Number(ms));
}

function millisOf(d: Date): bigint {
  const ms = d.getTime();
  if (ms !== ms) throw refuse('an invalid JavaScript Date');
  return BigInt(ms);
}

// Strings to numbers (NumberParser, base 10 for int/long, base 0 for double/decimal).

const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_WORDS = /^[+-]?(?:inf|infinity|nan)$/i;

function parseFailure(s: string, reason: string): MongoError {
  return conversionFailure(`Failed to parse number '${s}' ${SUFFIX}: ${reason}`);
}

function parseNumberText(s: string, target: number): unknown {
  if (s.startsWith('0x')) throw conversionFailure(`Illegal hexadecimal input ${SUFFIX}: ${s}`);
  if (s.length === 0) throw parseFailure(s, 'No digits');
  if (/^\s/.test(s)) throw parseFailure(s, 'Leading whitespace');
  if (target === BSON_TYPE.int || target === BSON_TYPE.long) {
    if (!INTEGER_TEXT.test(s)) throw parseFailure(s, 'Did not consume whole string.');
    const n = BigInt(s);
    if (target === BSON_TYPE.int) {
      if (n < -2147483648n || n > 2147483647n) throw parseFailure(s, 'Overflow');
      return new Int32(Number(n));
    }
    if (n < INT64_MIN || n > INT64_MAX) throw parseFailure(s, 'Overflow');
    return Long.fromBigInt(n);
  }
  if (NUMBER_WORDS.test(s)) throw refuse(`converting the string '${s}' to a number`);
  if (/^[+-]?0[xX]/.test(s)) throw refuse(`converting the hexadecimal string '${s}' to a number`);
  if (!DECIMAL_TEXT.test(s)) throw parseFailure(s, 'Did not consume whole string.');
  if (target === BSON_TYPE.double) {
    const d = Number(s);
    if (!Number.isFinite(d)) throw parseFailure(s, 'Out of range');
    const hasNonZeroDigit = /[1-9]/.test(s.replace(/[eE].*$/, ''));
    if (hasNonZeroDigit && Math.abs(d) < 2.2250738585072014e-308) throw parseFailure(s, 'Out of range');
    return new Double(d);
  }
  // decimal: exact when it fits 34 digits; otherwise mongod rounds, which is not reproduced here
  const digits = s.replace(/^[+-]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '');
  if (digits.replace(/0+$/, '').length > 34) throw refuse(`converting the string '${s}' with more than 34 digits to a decimal`);
  try {
    return Decimal128.fromString(s);
  } catch {
    throw refuse(`converting the string '${s}' to a decimal`);
  }
}

function parseObjectIdText(s: string): ObjectId {
  if (s.length !== 24) {
    throw conversionFailure(`Failed to parse objectId '${s}' ${SUFFIX}: Invalid string length for parsing to OID, expected 24 but found ${s.length}`);
  }
  const bad = /[^0-9a-fA-F]/.exec(s);
  if (bad !== null) {
    throw conversionFailure(`Failed to parse objectId '${s}' ${SUFFIX}: Invalid character found in hex string: '${bad[0]}'`);
  }
  return ObjectId.createFromHexString(s.toLowerCase());
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function daysInMonth(y: number, m: number): number {
  return [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** TimeZoneDatabase::fromString for the plain ISO-8601 forms; other forms are refused. */
function parseDateText(s: string): Date {
  const m = ISO_DATE.exec(s);
  if (m === null) throw refuse(`converting the string '${s}' to a date (only plain ISO-8601 dates are parsed here)`);
  const [y, mo, d, h, mi, sec, frac, zone] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = sec === undefined ? 0 : Number(sec);
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw refuse(`converting the string '${s}' to a date (not a valid calendar date)`);
  }
  let offset = 0;
  if (zone !== undefined && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    offset = (Number(z[2]) * 60 + Number(z[3])) * 60000 * (z[1] === '-' ? -1 : 1);
  }
  const days = daysFromCivil(year, month, day);
  return new Date(days * 86400000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms - offset);
}

function dateToString(d: Date): string {
  const ms = d.getTime();
  const text = isoDateText(ms);
  if (text === undefined) throw dateOutOfRange(ms);
  return text;
}

/** performConversion: the 7.0 conversion table. */
export function convertValue(v: unknown, to: number): unknown {
  const from = typeOf(v);
  if (to === BSON_TYPE.bool) {
    switch (from) {
      case BSON_TYPE.double:
      case BSON_TYPE.int:
      case BSON_TYPE.long:
      case BSON_TYPE.decimal:
      case BSON_TYPE.date:
      case BSON_TYPE.bool:
        return coerceToBool(v);
      case BSON_TYPE.string:
      case BSON_TYPE.objectId:
      case BSON_TYPE.object:
      case BSON_TYPE.array:
      case BSON_TYPE.binData:
      case BSON_TYPE.regex:
      case BSON_TYPE.dbPointer:
      case BSON_TYPE.javascript:
      case BSON_TYPE.symbol:
      case BSON_TYPE.javascriptWithScope:
      case BSON_TYPE.timestamp:
      case BSON_TYPE.minKey:
      case BSON_TYPE.maxKey:
        return true;
      default:
        throw unsupported(v, to);
    }
  }
  switch (from) {
    case BSON_TYPE.double: {
      const d = doubleValue(v);
      switch (to) {
        case BSON_TYPE.double:
          return stored(v);
        case BSON_TYPE.string:
          return doubleToString(d);
        case BSON_TYPE.date:
          return dateOfMillis(castDoubleToLong(d));
        case BSON_TYPE.int:
          return castDoubleToInt(d);
        case BSON_TYPE.long:
          return Long.fromBigInt(castDoubleToLong(d));
        case BSON_TYPE.decimal:
          return toDecimal(v as BsonNumber);
        default:
          throw unsupported(v, to);
      }
    }
    case BSON_TYPE.string: {
      const s = v as string;
      switch (to) {
        case BSON_TYPE.double:
        case BSON_TYPE.int:
        case BSON_TYPE.long:
        case BSON_TYPE.decimal:
          return parseNumberText(s, to);
        case BSON_TYPE.string:
          return s;
        case BSON_TYPE.objectId:
          return parseObjectIdText(s);
        case BSON_TYPE.date:
          return parseDateText(s);
        default:
          throw unsupported(v, to);
      }
    }
    case BSON_TYPE.objectId: {
      const oid = v as ObjectId;
      switch (to) {
        case BSON_TYPE.string:
          return oid.toHexString();
        case BSON_TYPE.objectId:
          return v;
        case BSON_TYPE.date:
          return new Date(oid.getTimestamp().getTime());
        default:
          throw unsupported(v, to);
      }
    }
    case BSON_TYPE.bool: {
      const b = v as boolean;
      switch (to) {
        case BSON_TYPE.double:
          return new Double(b ? 1 : 0);
        case BSON_TYPE.string:
          return b ? 'true' : 'false';
        case BSON_TYPE.int:
          return new Int32(b ? 1 : 0);
        case BSON_TYPE.long:
          return Long.fromNumber(b ? 1 : 0);
        case BSON_TYPE.decimal:
          return decimalFromBigInt(b ? 1n : 0n);
        default:
          throw unsupported(v, to);
      }
    }
    case BSON_TYPE.date: {
      const d = v as Date;
      switch (to) {
        case BSON_TYPE.double:
          return new Double(Number(millisOf(d)));
        case BSON_TYPE.string:
          return dateToString(d);
        case BSON_TYPE.date:
          return v;
        case BSON_TYPE.long:
          return Long.fromBigInt(millisOf(d));
        case BSON_TYPE.decimal:
          return decimalFromBigInt(millisOf(d));
        default:
          throw unsupported(v, to);
      }
    }
    case BSON_TYPE.timestamp:
      if (to === BSON_TYPE.date) return new Date(((v as { high: number }).high >>> 0) * 1000);
      throw unsupported(v, to);
    case BSON_TYPE.int: {
      const i = intValue(v);
      switch (to) {
        case BSON_TYPE.double:
          return new Double(i);
        case BSON_TYPE.string:
          return String(i);
        case BSON_TYPE.int:
          return stored(v);
        case BSON_TYPE.long:
          return Long.fromNumber(i);
        case BSON_TYPE.decimal:
          return decimalFromBigInt(BigInt(i));
        default:
          throw unsupported(v, to);
      }
    }
    case BSON_TYPE.long: {
      const l = longValue(v);
      switch (to) {
        case BSON_TYPE.double:
          return new Double(Number(l));
        case BSON_TYPE.string:
          return String(l);
        case BSON_TYPE.date:
          return dateOfMillis(l);
        case BSON_TYPE.int:
          if (l < -2147483648n || l > 2147483647n) throw conversionFailure(`Conversion would overflow target type ${SUFFIX}: `);
          return new Int32(Number(l));
        case BSON_TYPE.long:
          return stored(v);
        case BSON_TYPE.decimal:
          return decimalFromBigInt(l);
        default:
          throw unsupported(v, to);
      }
    }
    case BSON_TYPE.decimal: {
      const x = v as Decimal128;
      switch (to) {
        case BSON_TYPE.double:
          return castDecimalToDouble(x);
        case BSON_TYPE.string:
          return x.toString();
        case BSON_TYPE.date:
          return dateOfMillis(castDecimalToInteger(x, false));
        case BSON_TYPE.int:
          return new Int32(Number(castDecimalToInteger(x, true)));
        case BSON_TYPE.long:
          return Long.fromBigInt(castDecimalToInteger(x, false));
        case BSON_TYPE.decimal:
          return v;
        default:
          throw unsupported(v, to);
      }
    }
    default:
      throw unsupported(v, to);
  }
}

/** ExpressionConvert::computeTargetType. */
function targetType(to: unknown): number {
  if (typeof to === 'string') {
    if (to === 'missing') return BSON_TYPE.eoo;
    const code = typeCodeOfName(to);
    if (code === undefined) throw new MongoError(ErrorCodes.BadValue, `Unknown type name: ${to}`);
    return code;
  }
  if (isNumber(to)) {
    if (!integral(to)) throw new MongoError(ErrorCodes.FailedToParse, "In $convert, numeric 'to' argument is not an integer");
    const code = coerceToInt(to);
    if (!VALID_TYPE_CODES.has(code)) {
      throw new MongoError(ErrorCodes.FailedToParse, `In $convert, numeric value for 'to' does not correspond to a BSON type: ${code}`);
    }
    return code;
  }
  throw new MongoError(ErrorCodes.FailedToParse, `$convert's 'to' argument must be a string or number, but is ${typeName(to)}`);
}

const VALID_TYPE_CODES = new Set([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 127]);

function convertNode(input: Node, to: Node, onError: Node | undefined, onNull: Node | undefined): Node {
  const inputEval = input.evaluate;
  const toEval = to.evaluate;
  const onErrorEval = onError?.evaluate;
  const onNullEval = onNull?.evaluate;
  return computed(
    (s) => {
      const toValue = toEval(s);
      const v = inputEval(s);
      const target = nullish(toValue) ? undefined : targetType(toValue);
      if (nullish(v)) return onNullEval !== undefined ? onNullEval(s) : null;
      if (target === undefined) return null;
      try {
        return convertValue(v, target);
      } catch (err) {
        if (onErrorEval !== undefined && err instanceof MongoError && err.code === ErrorCodes.ConversionFailure) return onErrorEval(s);
        throw err;
      }
    },
    [input, to, onError, onNull],
  );
}

function parseConvert(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) {
    throw new MongoError(ErrorCodes.FailedToParse, `$convert expects an object of named arguments but found: ${typeName(arg)}`);
  }
  let input: Node | undefined;
  let to: Node | undefined;
  let onError: Node | undefined;
  let onNull: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'input') input = ctx.parse(arg[k]);
    else if (k === 'to') to = ctx.parse(arg[k]);
    else if (k === 'onError') onError = ctx.parse(arg[k]);
    else if (k === 'onNull') onNull = ctx.parse(arg[k]);
    else throw new MongoError(ErrorCodes.FailedToParse, `$convert found an unknown argument: ${k}`);
  }
  if (input === undefined) throw new MongoError(ErrorCodes.FailedToParse, "Missing 'input' parameter to $convert");
  if (to === undefined) throw new MongoError(ErrorCodes.FailedToParse, "Missing 'to' parameter to $convert");
  return convertNode(input, to, onError, onNull);
}

function shortcut(typeNameText: string) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const args = operandList(arg);
    if (args.length !== 1) throw fail(LocationCodes.ConvertShortcutArity, `${op} requires a single argument, got ${args.length}`);
    return convertNode(ctx.parse(args[0]), constantNode(typeNameText), undefined, undefined);
  };
}

export const typeOperators: OperatorTable = {
  $type: parseType,
  $isNumber: parseIsNumber,
  $convert: parseConvert,
  $toBool: shortcut('bool'),
  $toInt: shortcut('int'),
  $toLong: shortcut('long'),
  $toDouble: shortcut('double'),
  $toDecimal: shortcut('decimal'),
  $toString: shortcut('string'),
  $toObjectId: shortcut('objectId'),
  $toDate: shortcut('date'),
};
