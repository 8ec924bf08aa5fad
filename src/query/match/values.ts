/**
 * Reading stored BSON values as mongod's matcher reads BSONElements: field lookup (own fields only,
 * DBRefs as the objects they are on the wire), BSON type codes, and the integer conversions the
 * operators need ($mod, bit tests, $size, $slice). Values are those of
 * `BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true })` plus plain JS numbers,
 * bigints and RegExps from server-built documents (as src/bson/bsonOrder.ts takes them).
 */
import { bsonText } from '../../bson/bsonText.js';

/** The value of a field that is not there (mongod's EOO element). Never a BSON value. */
export const MISSING: unique symbol = Symbol('missing');
export type Missing = typeof MISSING;

type Obj = Record<string, unknown>;

const OBJECT_PROTO = Object.prototype;
const hasOwn = Object.prototype.hasOwnProperty;

/** Field names that plain property access would find on Object.prototype ("constructor", "__proto__" ...). */
export function isPrototypeName(name: string): boolean {
  return name in OBJECT_PROTO;
}

/** 0: not a document; 1: a plain document (or other field-bearing object); 2: a bson DBRef. */
export function objectKind(v: unknown): 0 | 1 | 2 {
  if (typeof v !== 'object' || v === null) return 0;
  const tag = (v as { _bsontype?: unknown })._bsontype;
  if (tag === undefined) {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === OBJECT_PROTO || proto === null) return 1;
    if (Array.isArray(v) || v instanceof Date || v instanceof Uint8Array || v instanceof RegExp) return 0;
    return 1;
  }
  return tag === 'DBRef' ? 2 : 0;
}

/** Whether `v` is an embedded document (BSON type 3): a plain object or a DBRef. */
export function isDocument(v: unknown): boolean {
  return objectKind(v) !== 0;
}

interface DBRefLike {
  readonly collection: string;
  readonly oid: unknown;
  readonly db?: string | undefined;
  readonly fields: Obj;
}

function dbrefField(ref: DBRefLike, name: string): unknown {
  switch (name) {
    case '$ref':
      return ref.collection;
    case '$id':
      return ref.oid;
    case '$db':
      return ref.db != null ? ref.db : MISSING;
    default: {
      const fields = ref.fields;
      return fields != null && hasOwn.call(fields, name) ? fields[name] : MISSING;
    }
  }
}

/** A DBRef as the document bson writes: {$ref, $id, [$db], ...fields}. */
export function dbrefDocument(ref: unknown): Obj {
  const r = ref as DBRefLike;
  const out: Obj = { $ref: r.collection, $id: r.oid };
  if (r.db != null) out.$db = r.db;
  if (r.fields != null) {
    for (const k of Object.keys(r.fields)) defineField(out, k, r.fields[k]);
  }
  return out;
}

/** The fields of a document in order (a DBRef's as it is written). */
export function documentKeys(doc: unknown): string[] {
  return objectKind(doc) === 2 ? Object.keys(dbrefDocument(doc)) : Object.keys(doc as Obj);
}

/**
 * The value of field `name` in a document (or, for the root of a sub-match, an array read as the
 * document {"0": ..., "1": ...}); MISSING when absent. `protoName` says whether `name` is also the
 * name of an Object.prototype property, which plain access would find.
 */
export function getField(container: unknown, name: string, protoName: boolean): unknown {
  if (Array.isArray(container)) {
    const i = arrayIndexOf(name);
    return i >= 0 && i < container.length ? container[i] : MISSING;
  }
  const kind = objectKind(container);
  if (kind === 1) {
    const o = container as Obj;
    const v = o[name];
    if (v === undefined) return hasOwn.call(o, name) ? undefined : MISSING;
    if (protoName && !hasOwn.call(o, name)) return MISSING;
    return v;
  }
  if (kind === 2) return dbrefField(container as DBRefLike, name);
  return MISSING;
}

/** The array index a field name denotes ("0", "12"; not "01" or "-1"), else -1. */
export function arrayIndexOf(name: string): number {
  const n = name.length;
  if (n === 0 || n > 10) return -1;
  const c0 = name.charCodeAt(0);
  if (c0 === 48) return n === 1 ? 0 : -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v <= 0xfffffffe ? v : -1;
}

/** Sets a field, keeping a `__proto__` field a field. */
export function defineField(o: Obj, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

// ---------------------------------------------------------------------------------------------
// BSON types

/** BSON type codes (bsontypes.h). */
export const BSON_TYPE = {
  minKey: -1,
  eoo: 0,
  double: 1,
  string: 2,
  object: 3,
  array: 4,
  binData: 5,
  undefined: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  null: 10,
  regex: 11,
  dbPointer: 12,
  javascript: 13,
  symbol: 14,
  javascriptWithScope: 15,
  int: 16,
  timestamp: 17,
  long: 18,
  decimal: 19,
  maxKey: 127,
} as const;

const TYPE_OF_TAG: Readonly<Record<string, number>> = {
  ObjectId: BSON_TYPE.objectId,
  Int32: BSON_TYPE.int,
  Double: BSON_TYPE.double,
  Long: BSON_TYPE.long,
  Decimal128: BSON_TYPE.decimal,
  Binary: BSON_TYPE.binData,
  Timestamp: BSON_TYPE.timestamp,
  BSONRegExp: BSON_TYPE.regex,
  BSONSymbol: BSON_TYPE.symbol,
  MinKey: BSON_TYPE.minKey,
  MaxKey: BSON_TYPE.maxKey,
  DBRef: BSON_TYPE.object,
};

/** The BSON type code of a value (MISSING: 0). A plain JS number is an int when whole and 32-bit (typeName's rule). */
export function bsonTypeOf(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return BSON_TYPE.string;
    case 'number':
      return Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647 && !Object.is(v, -0)
        ? BSON_TYPE.int
        : BSON_TYPE.double;
    case 'boolean':
      return BSON_TYPE.bool;
    case 'undefined':
      return BSON_TYPE.undefined;
    case 'bigint':
      return BSON_TYPE.long;
    case 'symbol':
      return BSON_TYPE.eoo;
    default:
      break;
  }
  if (v === null) return BSON_TYPE.null;
  if (Array.isArray(v)) return BSON_TYPE.array;
  const tag = (v as { _bsontype?: unknown })._bsontype;
  if (tag === undefined) {
    if (v instanceof Date) return BSON_TYPE.date;
    if (v instanceof Uint8Array) return BSON_TYPE.binData;
    if (v instanceof RegExp) return BSON_TYPE.regex;
    return BSON_TYPE.object;
  }
  if (tag === 'Code') {
    const scope = (v as { scope?: unknown }).scope;
    return scope !== null && typeof scope === 'object' ? BSON_TYPE.javascriptWithScope : BSON_TYPE.javascript;
  }
  return TYPE_OF_TAG[tag as string] ?? BSON_TYPE.object;
}

/** Whether the BSON type code is a number type (int, long, double, decimal). */
export function isNumberType(t: number): boolean {
  return t === BSON_TYPE.int || t === BSON_TYPE.long || t === BSON_TYPE.double || t === BSON_TYPE.decimal;
}

/** The double of an int32 / double value (plain number, Int32, Double); undefined for anything else. */
export function simpleDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null) {
    const tag = (v as { _bsontype?: unknown })._bsontype;
    if (tag === 'Int32' || tag === 'Double') return +(v as { value: number }).value;
  }
  return undefined;
}

/** Whether `v` is a double NaN or a decimal NaN (the values comparison operators treat specially). */
export function isNaNValue(v: unknown): boolean {
  if (typeof v === 'number') return v !== v;
  if (typeof v !== 'object' || v === null) return false;
  const tag = (v as { _bsontype?: unknown })._bsontype;
  if (tag === 'Double') return Number.isNaN((v as { value: number }).value);
  if (tag === 'Decimal128') return (v as { toString(): string }).toString() === 'NaN';
  return false;
}

// ---------------------------------------------------------------------------------------------
// Exact integers

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_POW_63 = 9223372036854775808; // 2^63 as a double

/** A decimal's value: sign, integer coefficient and base-10 exponent; or a special. */
export type DecimalParts = { readonly neg: boolean; readonly coef: bigint; readonly exp: number } | 'NaN' | 'Infinity' | '-Infinity';

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]?\d+))?$/;

export function decimalParts(d: unknown): DecimalParts {
  const s = (d as { toString(): string }).toString();
  if (s === 'NaN' || s === '-NaN') return 'NaN';
  if (s === 'Infinity' || s === '-Infinity') return s;
  const m = DECIMAL_RE.exec(s);
  if (m === null) return 'NaN';
  const frac = m[3] ?? '';
  return { neg: m[1] === '-', coef: BigInt(m[2]! + frac), exp: (m[4] === undefined ? 0 : Number(m[4])) - frac.length };
}

/** The decimal rounded to an integer: toward zero, or half to even; undefined for NaN/Infinity. */
export function decimalToInteger(d: unknown, mode: 'zero' | 'even'): bigint | undefined {
  const p = decimalParts(d);
  if (typeof p === 'string') return undefined;
  let q: bigint;
  if (p.exp >= 0) {
    if (p.exp > 6200) return p.coef === 0n ? 0n : p.neg ? -(10n ** 6200n) : 10n ** 6200n; // far out of every range
    q = p.coef * 10n ** BigInt(p.exp);
  } else {
    if (-p.exp > 6200) return 0n;
    const div = 10n ** BigInt(-p.exp);
    q = p.coef / div;
    if (mode === 'even') {
      const r = p.coef - q * div;
      const twice = r * 2n;
      if (twice > div || (twice === div && (q & 1n) === 1n)) q += 1n;
    }
  }
  return p.neg ? -q : q;
}

/** Whether a bigint fits a signed 64-bit integer. */
export function fitsInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

export { INT64_MIN, INT64_MAX };

/**
 * The number as a 64-bit integer the way `$mod` takes its dividend (ModMatchExpression): doubles and
 * decimals truncated toward zero, undefined when NaN, infinite or out of the 64-bit range; undefined
 * for non-numbers.
 */
export function truncatedInt64(v: unknown): bigint | undefined {
  if (typeof v === 'number') return doubleTrunc64(v);
  if (typeof v === 'bigint') return BigInt.asIntN(64, v);
  if (typeof v !== 'object' || v === null) return undefined;
  switch ((v as { _bsontype?: unknown })._bsontype) {
    case 'Int32':
      return BigInt((v as { value: number }).value);
    case 'Double':
      return doubleTrunc64((v as { value: number }).value);
    case 'Long':
      return (v as { toBigInt(): bigint }).toBigInt();
    case 'Decimal128': {
      const i = decimalToInteger(v, 'zero');
      return i !== undefined && fitsInt64(i) ? i : undefined;
    }
    default:
      return undefined;
  }
}

function doubleTrunc64(d: number): bigint | undefined {
  if (!Number.isFinite(d)) return undefined;
  const t = Math.trunc(d);
  if (t >= TWO_POW_63 || t < -TWO_POW_63) return undefined;
  return BigInt(t);
}

/**
 * BSONElement::numberLong for a decimal: rounded half to even; NaN, infinities and values outside
 * the 64-bit range give the Intel library's "invalid" result, the smallest long.
 */
export function decimalNumberLong(v: unknown): bigint {
  const i = decimalToInteger(v, 'even');
  return i !== undefined && fitsInt64(i) ? i : INT64_MIN;
}

/**
 * BSONElement::safeNumberInt: a number as a 32-bit int, truncated toward zero (decimals rounded
 * half to even) and clamped to the int range; NaN is 0.
 */
export function safeNumberInt(v: unknown): number {
  const clamp = (x: number): number => (x !== x ? 0 : x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x));
  if (typeof v === 'number') return clamp(v);
  if (typeof v === 'bigint') return clamp(Number(BigInt.asIntN(64, v)));
  const tag = (v as { _bsontype?: unknown })._bsontype;
  if (tag === 'Int32' || tag === 'Double') return clamp((v as { value: number }).value);
  if (tag === 'Long') return clamp(Number((v as { toBigInt(): bigint }).toBigInt()));
  if (tag === 'Decimal128') {
    const i = decimalToInteger(v, 'even');
    if (i === undefined) return 0;
    return i > 2147483647n ? 2147483647 : i < -2147483648n ? -2147483648 : Number(i);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Messages

/** A double as StringBuilder::appendDoubleNice writes it ("%.16g", ".0" added to whole numbers). */
export function doubleNice(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  let s = x.toPrecision(16);
  if (s.includes('e')) {
    const [mant, exp] = s.split('e') as [string, string];
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const e = Number(exp);
    s = `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
    return s;
  }
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  if (Object.is(x, -0)) s = '-0';
  return s.includes('.') ? s : `${s}.0`;
}

/** A value as BSONElement::toString prints it, without its field name. */
export function valueText(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 2147483647 && !Object.is(v, -0) ? String(v) : doubleNice(v);
  if (typeof v === 'object' && v !== null) {
    const tag = (v as { _bsontype?: unknown })._bsontype;
    if (tag === 'Double') return doubleNice((v as { value: number }).value);
    if (tag === 'Decimal128') return (v as { toString(): string }).toString();
    if (tag === 'MinKey') return 'MinKey';
    if (tag === 'MaxKey') return 'MaxKey';
  }
  return bsonText(v);
}

/** An element as BSONElement::toString(true, true) prints it: `name: value`. */
export function elementText(name: string, v: unknown): string {
  return `${name}: ${valueText(v)}`;
}

/** The decimal's value when it is a whole number, else undefined (Decimal128::toLongExact without the range). */
export function decimalExactInteger(v: unknown): bigint | undefined {
  const p = decimalParts(v);
  if (typeof p === 'string') return undefined;
  if (p.coef === 0n) return 0n;
  if (p.exp >= 0) return p.exp > 6200 ? undefined : (p.neg ? -1n : 1n) * p.coef * 10n ** BigInt(p.exp);
  if (-p.exp > 6200) return undefined;
  const div = 10n ** BigInt(-p.exp);
  if (p.coef % div !== 0n) return undefined;
  return (p.neg ? -1n : 1n) * (p.coef / div);
}

/**
 * BSONElement::parseIntegerElementToLong (and ..ToInt / ..ToNonNegativeInt with `range`): the whole
 * number a numeric argument holds, or mongod's reason for refusing it, quoting the element
 * (`name: value`).
 */
export function parseIntegerElement(name: string, v: unknown, range: 'long' | 'int' | 'nonNegativeInt' | 'nonNegativeLong'): bigint | string {
  const text = elementText(name, v);
  const t = bsonTypeOf(v);
  let n: bigint;
  if (t === BSON_TYPE.double) {
    const d = typeof v === 'number' ? v : +(v as { value: number }).value;
    if (d !== d) return `Expected an integer, but found NaN in: ${text}`;
    if (d >= 9223372036854775808 || d < -9223372036854775808) return `Cannot represent as a 64-bit integer: ${text}`;
    if (!Number.isInteger(d)) return `Expected an integer: ${text}`;
    n = BigInt(d);
  } else if (t === BSON_TYPE.decimal) {
    const i = decimalExactInteger(v);
    if (i === undefined || !fitsInt64(i)) return `Cannot represent as a 64-bit integer: ${text}`;
    n = i;
  } else if (t === BSON_TYPE.int) {
    n = BigInt(typeof v === 'number' ? v : (v as { value: number }).value);
  } else if (t === BSON_TYPE.long) {
    n = typeof v === 'bigint' ? BigInt.asIntN(64, v) : (v as { toBigInt(): bigint }).toBigInt();
  } else {
    return `Expected a number in: ${text}`;
  }
  if ((range === 'int' || range === 'nonNegativeInt') && (n < -2147483648n || n > 2147483647n)) return `Cannot represent ${text} in an int`;
  if ((range === 'nonNegativeInt' || range === 'nonNegativeLong') && n < 0n) return `Expected a non-negative number in: ${text}`;
  return n;
}

/** A number as a double (BSONElement::numberDouble; longs and decimals rounded); NaN for non-numbers. */
export function numberAsDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(BigInt.asIntN(64, v));
  if (typeof v !== 'object' || v === null) return NaN;
  switch ((v as { _bsontype?: unknown })._bsontype) {
    case 'Int32':
    case 'Double':
      return +(v as { value: number }).value;
    case 'Long':
      return Number((v as { toBigInt(): bigint }).toBigInt());
    case 'Decimal128':
      return Number((v as { toString(): string }).toString());
    default:
      return NaN;
  }
}
