/**
 * Reading BSON values as mongod's aggregation Value does (src/mongo/db/exec/document_value/
 * value.cpp): BSON type codes and names, nullish, coerceToBool, coerceToInt/Double, coerceToString
 * (coerceToLong and integral are numeric.ts's), coerceToDate, Value's operator<< text (used in error messages), and building
 * documents.
 *
 * Values are those of `BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true })` plus
 * plain JS numbers (an integer in int32 range that is not -0 is an int32, anything else a double,
 * as the bson serializer types them) and bigints (longs). `undefined` is a missing value (the BSON
 * undefined type decodes to `undefined` too, so the two are not told apart here).
 */
import { Decimal128, Double, Int32, Long, type Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { bsonText } from '../../bson/bsonText.js';
import { decimalIsZero, decimalToDouble, decimalToInt32, decimalToInt64 } from '../decimal128.js';
import { BSON_TYPE, bsonTypeOf, dbrefDocument, defineField, objectKind } from '../match/values.js';
import { cppDoubleText, toBsonNumber } from '../numeric.js';

export { BSON_TYPE, defineField, objectKind };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO_POW_63 = 9223372036854775808;

/** mongod's BSON type of a value; 0 (EOO) for missing. */
export function typeOf(v: unknown): number {
  return v === undefined ? BSON_TYPE.eoo : bsonTypeOf(v);
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [BSON_TYPE.minKey]: 'minKey',
  [BSON_TYPE.eoo]: 'missing',
  [BSON_TYPE.double]: 'double',
  [BSON_TYPE.string]: 'string',
  [BSON_TYPE.object]: 'object',
  [BSON_TYPE.array]: 'array',
  [BSON_TYPE.binData]: 'binData',
  [BSON_TYPE.undefined]: 'undefined',
  [BSON_TYPE.objectId]: 'objectId',
  [BSON_TYPE.bool]: 'bool',
  [BSON_TYPE.date]: 'date',
  [BSON_TYPE.null]: 'null',
  [BSON_TYPE.regex]: 'regex',
  [BSON_TYPE.dbPointer]: 'dbPointer',
  [BSON_TYPE.javascript]: 'javascript',
  [BSON_TYPE.symbol]: 'symbol',
  [BSON_TYPE.javascriptWithScope]: 'javascriptWithScope',
  [BSON_TYPE.int]: 'int',
  [BSON_TYPE.timestamp]: 'timestamp',
  [BSON_TYPE.long]: 'long',
  [BSON_TYPE.decimal]: 'decimal',
  [BSON_TYPE.maxKey]: 'maxKey',
};

/** typeName(BSONType) (bsontypes.cpp) of a type code. */
export function typeNameOfCode(code: number): string {
  return TYPE_NAMES[code] ?? 'unknown';
}

/** typeName(v.getType()): "int", "double", "missing" for missing, ... */
export function typeName(v: unknown): string {
  return TYPE_NAMES[typeOf(v)]!;
}

/** The BSON type code of a type name as typeFromName accepts it ("missing" excluded); undefined if unknown. */
export function typeCodeOfName(name: string): number | undefined {
  for (const [code, n] of Object.entries(TYPE_NAMES)) {
    if (n === name && n !== 'missing') return Number(code);
  }
  return undefined;
}

/** Value::nullish(): null, undefined or missing. */
export function nullish(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

export function isNumberCode(t: number): boolean {
  return t === BSON_TYPE.int || t === BSON_TYPE.long || t === BSON_TYPE.double || t === BSON_TYPE.decimal;
}

/** Value::numeric(). */
export function isNumber(v: unknown): boolean {
  return isNumberCode(typeOf(v));
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** A document (BSON type 3: plain object or DBRef). */
export function isObject(v: unknown): boolean {
  return objectKind(v) !== 0;
}

/** A document's fields as a plain object (a DBRef as it is written on the wire). */
export function documentOf(v: unknown): Record<string, unknown> {
  return objectKind(v) === 2 ? dbrefDocument(v) : (v as Record<string, unknown>);
}

/** A fresh plain document. */
export function newDocument(): Record<string, unknown> {
  return {};
}

/** Sets (or replaces, in place) a field; a missing value removes the field. */
export function setField(doc: Record<string, unknown>, name: string, value: unknown): void {
  if (value === undefined) {
    if (Object.hasOwn(doc, name)) delete doc[name];
    return;
  }
  if (name === '__proto__' || !Object.hasOwn(doc, name)) defineField(doc, name, value);
  else doc[name] = value;
}

/** A copy of a document's fields (own enumerable, in order), without missing values. */
export function copyDocument(v: unknown): Record<string, unknown> {
  const src = documentOf(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) {
    const x = src[k];
    if (x !== undefined) defineField(out, k, x);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** The int32 value of an int (Int32 or a plain int32 number). */
export function intValue(v: unknown): number {
  return typeof v === 'number' ? v : (v as Int32).value;
}

/** The double value of an int or double. */
export function doubleValue(v: unknown): number {
  return typeof v === 'number' ? v : +(v as Double | Int32).value;
}

/** The int64 value of a long (Long or bigint). */
export function longValue(v: unknown): bigint {
  return typeof v === 'bigint' ? BigInt.asIntN(64, v) : (v as Long).toBigInt();
}

/** Value::coerceToDouble (numbers only). */
export function coerceToDouble(v: unknown): number {
  switch (typeOf(v)) {
    case BSON_TYPE.int:
    case BSON_TYPE.double:
      return doubleValue(v);
    case BSON_TYPE.long:
      return Number(longValue(v));
    case BSON_TYPE.decimal:
      return decimalToDouble(v as Decimal128);
    default:
      throw new MongoError(LocationCodes.CoerceToLongBadType, `can't convert from BSON type ${typeName(v)} to double`);
  }
}

/** Value::coerceToInt for a value known to be integral(). */
export function coerceToInt(v: unknown): number {
  switch (typeOf(v)) {
    case BSON_TYPE.int:
      return intValue(v);
    case BSON_TYPE.long:
      return Number(BigInt.asIntN(32, longValue(v)));
    case BSON_TYPE.double:
      return Math.trunc(doubleValue(v));
    case BSON_TYPE.decimal:
      return Number(decimalToInt32(v as Decimal128, 'halfEven').value);
    default:
      throw new MongoError(LocationCodes.CoerceToLongBadType, `can't convert from BSON type ${typeName(v)} to int`);
  }
}

/** Value::integral64Bit(): a number that an int64 represents exactly. */
export function integral64Bit(v: unknown): boolean {
  switch (typeOf(v)) {
    case BSON_TYPE.int:
    case BSON_TYPE.long:
      return true;
    case BSON_TYPE.double: {
      const d = doubleValue(v);
      return d >= -TWO_POW_63 && d < TWO_POW_63 && Number.isInteger(d);
    }
    case BSON_TYPE.decimal: {
      const r = decimalToInt64(v as Decimal128, 'halfEven');
      return !r.invalid && !r.inexact;
    }
    default:
      return false;
  }
}

/** Value::createIntOrLong. */
export function intOrLong(x: number | bigint): Int32 | Long {
  if (typeof x === 'number') return x >= INT32_MIN && x <= INT32_MAX ? new Int32(x) : Long.fromNumber(x);
  return x >= -2147483648n && x <= 2147483647n ? new Int32(Number(x)) : Long.fromBigInt(x);
}

/** A number as a bson number object (plain numbers typed as the serializer would). */
export function asBsonNumber(v: unknown): Int32 | Long | Double | Decimal128 {
  return toBsonNumber(v)!;
}

// ---------------------------------------------------------------------------------------------
// Truthiness

/**
 * Value::coerceToBool: false, null, missing, undefined and zeros of every numeric type (any
 * decimal cohort, -0) are false; NaN, every other value (including empty strings, arrays and
 * documents) true.
 */
export function coerceToBool(v: unknown): boolean {
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'undefined':
      return false;
    case 'number':
      return v !== 0;
    case 'bigint':
      return BigInt.asIntN(64, v) !== 0n;
    case 'string':
      return true;
    default:
      break;
  }
  if (v === null) return false;
  switch ((v as { _bsontype?: unknown })._bsontype) {
    case 'Int32':
    case 'Double':
      return (v as Int32 | Double).value !== 0;
    case 'Long':
      return !(v as Long).isZero();
    case 'Decimal128':
      return !decimalIsZero(v as Decimal128);
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Text

/** A double as mongod prints it in messages (std::ostream / StringBuilder: "%g"). */
export function doubleText(d: number): string {
  return cppDoubleText(d);
}

/**
 * Value's operator<< (document_value/value.cpp), as mongod prints values in error messages; for a
 * document, Document::toString (`{a: 1, b: "x"}`). The one such text of the query language: the
 * expressions' messages and the aggregation stages' ($replaceRoot, $bucket, $mergeObjects, ...).
 *
 * `undefined` given is a missing value (printed MISSING, as the MISSING symbol is); inside an
 * array or a document it is a stored BSON undefined (an array holds no missing values, a
 * document's missing fields are absent), printed `undefined`.
 */
export function valueText(v: unknown): string {
  switch (typeOf(v)) {
    case BSON_TYPE.eoo:
      return 'MISSING';
    case BSON_TYPE.minKey:
      return 'MinKey';
    case BSON_TYPE.maxKey:
      return 'MaxKey';
    case BSON_TYPE.string:
      return `"${v as string}"`;
    case BSON_TYPE.bool:
      return v ? 'true' : 'false';
    case BSON_TYPE.null:
      return 'null';
    case BSON_TYPE.undefined:
      return 'undefined';
    case BSON_TYPE.int:
      return String(intValue(v));
    case BSON_TYPE.long:
      return String(longValue(v));
    case BSON_TYPE.double:
      return cppDoubleText(doubleValue(v));
    case BSON_TYPE.decimal:
      return (v as Decimal128).toString();
    case BSON_TYPE.objectId:
      return (v as { toHexString(): string }).toHexString();
    case BSON_TYPE.date: {
      const d = v as Date;
      return isoDateText(d.getTime()) ?? String(d.getTime());
    }
    case BSON_TYPE.timestamp: {
      const t = v as { high: number; low: number };
      return `Timestamp(${t.high >>> 0}, ${t.low >>> 0})`;
    }
    case BSON_TYPE.regex: {
      const r = v as { pattern?: string; source?: string; options?: string; flags?: string };
      return `/${r.pattern ?? r.source ?? ''}/${r.options ?? r.flags ?? ''}`;
    }
    case BSON_TYPE.symbol:
      return `Symbol("${String((v as { value: unknown }).value)}")`;
    case BSON_TYPE.javascript:
      return `Code("${String((v as { code: unknown }).code)}")`;
    case BSON_TYPE.array:
      return `[${(v as unknown[]).map(innerValueText).join(', ')}]`;
    case BSON_TYPE.object: {
      const doc = documentOf(v);
      return `{${Object.keys(doc)
        .map((k) => `${k}: ${innerValueText(doc[k])}`)
        .join(', ')}}`;
    }
    default:
      return bsonText(v);
  }
}

/** An element of an array or a field of a document: `undefined` there is a BSON undefined. */
function innerValueText(v: unknown): string {
  return v === undefined ? 'undefined' : valueText(v);
}

/** An object as BSONObj::toString prints it (used by parse errors that quote the spec). */
export function objText(v: unknown): string {
  return bsonText(v);
}

// ---------------------------------------------------------------------------------------------
// Dates

const MS_PER_DAY = 86400000;

/** The civil date (proleptic Gregorian, UTC) of a day number since the epoch. */
export function civilFromDays(z: number): { year: number; month: number; day: number } {
  // Howard Hinnant's algorithm, exact for all safe integers.
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: month <= 2 ? y + 1 : y, month, day };
}

/** Days since the epoch of a civil date (proleptic Gregorian). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Broken-down UTC time of a millisecond count. */
export interface DateParts {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number; // 1..31
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
  /** Days since the epoch. */
  readonly days: number;
}

export function dateParts(ms: number): DateParts {
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const hour = Math.floor(rest / 3600000);
  rest -= hour * 3600000;
  const minute = Math.floor(rest / 60000);
  rest -= minute * 60000;
  const second = Math.floor(rest / 1000);
  const millisecond = rest - second * 1000;
  const { year, month, day } = civilFromDays(days);
  return { year, month, day, hour, minute, second, millisecond, days };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** "%Y-%m-%dT%H:%M:%S.%LZ" of a millisecond count, or undefined when the year is outside 0..9999. */
export function isoDateText(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const p = dateParts(ms);
  if (p.year < 0 || p.year > 9999) return undefined;
  return `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}T${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}.${pad(p.millisecond, 3)}Z`;
}

/** The error formatDate gives for a year outside 0..9999 (18537). */
export function dateOutOfRange(ms: number): MongoError {
  return new MongoError(
    LocationCodes.DateOutOfRangeForFormat,
    `Could not convert date to string: date component was outside the supported range of 0-9999: ${dateParts(ms).year}`,
  );
}

/**
 * Value::coerceToDate: a date's milliseconds, a timestamp's seconds * 1000, an ObjectId's
 * seconds * 1000; anything else is 16006 "can't convert from BSON type X to Date".
 */
export function coerceToDateMillis(v: unknown): number {
  switch (typeOf(v)) {
    case BSON_TYPE.date:
      return (v as Date).getTime();
    case BSON_TYPE.timestamp:
      return ((v as { high: number }).high >>> 0) * 1000;
    case BSON_TYPE.objectId:
      return (v as { getTimestamp(): Date }).getTimestamp().getTime();
    default:
      throw new MongoError(LocationCodes.CoerceToDateBadType, `can't convert from BSON type ${typeName(v)} to Date`);
  }
}

// ---------------------------------------------------------------------------------------------
// Strings

/**
 * A double as mongod 7.0's $toString / Value::coerceToString writes it. mongod's own sources differ
 * between releases here (older ones stream the double through "%g", 6 significant digits; newer
 * ones use fmt's shortest round-trip form), and which of the two 7.0 ships was not settled from
 * the sources at hand. Where both give the same text (2.5, 100, 0.1, 123456, 1e+20, ...) it is
 * returned; otherwise this refuses (115) rather than guess.
 */
export function doubleToString(d: number): string {
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d !== d) return 'NaN';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const g = cppDoubleText(d);
  const shortest = fmtShortest(d);
  if (g !== shortest) {
    throw new MongoError(
      ErrorCodes.CommandNotSupported,
      `pocketmongo does not support converting the double ${shortest} to a string yet (mongod releases format it as "${g}" or "${shortest}")`,
    );
  }
  return g;
}

/** fmt::format("{}", d): the shortest round-trip digits, exponent form when exp < -4 or >= 16. */
export function fmtShortest(d: number): string {
  const sign = d < 0 ? '-' : '';
  const a = Math.abs(d);
  const [mant, expText] = a.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/**
 * Value::coerceToString: numbers as text, strings/symbols/code as they are, dates in ISO format,
 * null/missing/undefined as ""; anything else 16007 "can't convert from BSON type X to String".
 */
export function coerceToString(v: unknown): string {
  switch (typeOf(v)) {
    case BSON_TYPE.double:
      return doubleToString(doubleValue(v));
    case BSON_TYPE.int:
      return String(intValue(v));
    case BSON_TYPE.long:
      return String(longValue(v));
    case BSON_TYPE.decimal:
      return (v as Decimal128).toString();
    case BSON_TYPE.string:
      return v as string;
    case BSON_TYPE.symbol:
      return String((v as { value: unknown }).value);
    case BSON_TYPE.javascript:
      return String((v as { code: unknown }).code);
    case BSON_TYPE.date: {
      const ms = (v as Date).getTime();
      const text = isoDateText(ms);
      if (text === undefined) throw dateOutOfRange(ms);
      return text;
    }
    case BSON_TYPE.timestamp:
      // Timestamp::toStringPretty prints the seconds in the server's local time zone.
      throw new MongoError(ErrorCodes.CommandNotSupported, 'pocketmongo does not support converting a timestamp to a string yet');
    case BSON_TYPE.eoo:
    case BSON_TYPE.null:
    case BSON_TYPE.undefined:
      return '';
    default:
      throw new MongoError(LocationCodes.CoerceToStringBadType, `can't convert from BSON type ${typeName(v)} to String`);
  }
}

/** The UTF-8 bytes of a string (lone surrogates as U+FFFD, as on the wire). */
export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** Whether a document-typed value (plain object) is a Document as the caller sees it. */
export type Doc = Document;
