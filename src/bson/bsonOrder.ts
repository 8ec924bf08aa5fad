/**
 * mongod's total order over BSON values ("BSONElement::woCompare" semantics, no collation).
 *
 * Values are what `BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true })` returns
 * (the bson package's classes, JS strings, booleans, null, undefined, Date, arrays, plain
 * objects), plus plain JS numbers and bigints from server-built documents.
 *
 * Facts this follows (mongodb/mongo):
 * - canonicalizeBSONType (src/mongo/bson/bsontypes.h): MinKey -1, EOO/Undefined 0, null 5,
 *   all numbers 10, String/Symbol 15, Object 20, Array 25, BinData 30, ObjectId 35, Bool 40,
 *   Date 45, Timestamp 47, RegEx 50, DBPointer 55, Code 60, CodeWScope 65, MaxKey 127.
 * - BSONElement::woCompare (src/mongo/bson/bsonelement.cpp): canonical type first, then the field
 *   name (strcmp), then compareElementValues.
 * - compareElementValues: valueless types equal; Bool false < true; Timestamp unsigned; Date signed
 *   int64 ms; numbers by exact value (src/mongo/base/compare_numbers.h: NaN == NaN and NaN below
 *   every other number, long/double and decimal/double compared exactly); String/Symbol/Code by
 *   memcmp of the UTF-8 bytes, then length; Object/Array by woCompare with field names; BinData by
 *   length, then subtype byte, then bytes; ObjectId by its 12 bytes; RegEx by pattern then flags
 *   (strcmp); CodeWScope by code, then scope object.
 * - BSONObj::woCompare (src/mongo/bson/bsonobj.cpp): element by element; the object that runs out
 *   of elements first is smaller.
 */
import { Buffer } from 'node:buffer';

/** mongod's canonical type ranks (canonicalizeBSONType). Equal rank = values compared by value. */
export const CANONICAL_TYPE = {
  minKey: -1,
  undefined: 0,
  null: 5,
  number: 10,
  string: 15,
  object: 20,
  array: 25,
  binData: 30,
  objectId: 35,
  bool: 40,
  date: 45,
  timestamp: 47,
  regex: 50,
  dbPointer: 55,
  javascript: 60,
  javascriptWithScope: 65,
  maxKey: 127,
} as const;

// ---------------------------------------------------------------------------------------------
// Classification

const K_MINKEY = 0;
const K_UNDEFINED = 1;
const K_NULL = 2;
const K_NUMBER = 3; // plain JS number
const K_INT32 = 4;
const K_DOUBLE = 5;
const K_LONG = 6;
const K_BIGINT = 7;
const K_DECIMAL = 8;
const K_STRING = 9;
const K_SYMBOL = 10;
const K_OBJECT = 11;
const K_DBREF = 12;
const K_ARRAY = 13;
const K_BINARY = 14;
const K_UINT8ARRAY = 15;
const K_OBJECTID = 16;
const K_BOOL = 17;
const K_DATE = 18;
const K_TIMESTAMP = 19;
const K_BSONREGEXP = 20;
const K_JSREGEXP = 21;
const K_CODE = 22;
const K_CODEWSCOPE = 23;
const K_MAXKEY = 24;

const RANK_OF_KIND: readonly number[] = [
  CANONICAL_TYPE.minKey,
  CANONICAL_TYPE.undefined,
  CANONICAL_TYPE.null,
  CANONICAL_TYPE.number,
  CANONICAL_TYPE.number,
  CANONICAL_TYPE.number,
  CANONICAL_TYPE.number,
  CANONICAL_TYPE.number,
  CANONICAL_TYPE.number,
  CANONICAL_TYPE.string,
  CANONICAL_TYPE.string,
  CANONICAL_TYPE.object,
  CANONICAL_TYPE.object,
  CANONICAL_TYPE.array,
  CANONICAL_TYPE.binData,
  CANONICAL_TYPE.binData,
  CANONICAL_TYPE.objectId,
  CANONICAL_TYPE.bool,
  CANONICAL_TYPE.date,
  CANONICAL_TYPE.timestamp,
  CANONICAL_TYPE.regex,
  CANONICAL_TYPE.regex,
  CANONICAL_TYPE.javascript,
  CANONICAL_TYPE.javascriptWithScope,
  CANONICAL_TYPE.maxKey,
];

/** Structural views of the bson classes (read through `_bsontype`, so a second copy of bson works). */
interface LongLike {
  readonly high: number;
  readonly low: number;
}
interface NumberBox {
  readonly value: number;
}
interface DecimalLike {
  toString(): string;
}
interface BinaryLike {
  readonly buffer: Uint8Array;
  readonly position: number;
  readonly sub_type: number;
}
interface ObjectIdLike {
  readonly id: Uint8Array;
  toHexString(): string;
}
interface RegExpLike {
  readonly pattern: string;
  readonly options: string;
}
interface CodeLike {
  readonly code: string | (() => unknown);
  readonly scope: Record<string, unknown> | null | undefined;
}
interface SymbolLike {
  readonly value: string;
}
interface DBRefLike {
  readonly collection: string;
  readonly oid: unknown;
  readonly db?: string | undefined;
  readonly fields: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function kindOf(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return K_STRING;
    case 'number':
      return K_NUMBER;
    case 'boolean':
      return K_BOOL;
    case 'undefined':
      return K_UNDEFINED;
    case 'bigint':
      return K_BIGINT;
    case 'object':
      break;
    default:
      throw new TypeError(`not a BSON value: ${typeof v}`);
  }
  if (v === null) return K_NULL;
  if (Array.isArray(v)) return K_ARRAY;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return K_OBJECT;
  const tag = (v as { _bsontype?: unknown })._bsontype;
  if (tag === undefined) {
    if (v instanceof Date) return K_DATE;
    if (v instanceof Uint8Array) return K_UINT8ARRAY;
    if (v instanceof RegExp) return K_JSREGEXP;
    return K_OBJECT; // other class instances: their own enumerable fields, as bson serializes them
  }
  switch (tag) {
    case 'ObjectId':
      return K_OBJECTID;
    case 'Int32':
      return K_INT32;
    case 'Double':
      return K_DOUBLE;
    case 'Long':
      return K_LONG;
    case 'Decimal128':
      return K_DECIMAL;
    case 'Binary':
      return K_BINARY;
    case 'Timestamp':
      return K_TIMESTAMP;
    case 'BSONRegExp':
      return K_BSONREGEXP;
    case 'Code': {
      const scope = (v as CodeLike).scope;
      return scope !== null && typeof scope === 'object' ? K_CODEWSCOPE : K_CODE;
    }
    case 'BSONSymbol':
      return K_SYMBOL;
    case 'MinKey':
      return K_MINKEY;
    case 'MaxKey':
      return K_MAXKEY;
    case 'DBRef':
      return K_DBREF;
    default:
      throw new TypeError(`not a BSON value: _bsontype ${String(tag)}`);
  }
}

/**
 * mongod's canonical type rank of a value (canonicalizeBSONType): MinKey -1, undefined 0, null 5,
 * numbers 10, string/symbol 15, object 20, array 25, binData 30, objectId 35, bool 40, date 45,
 * timestamp 47, regex 50, javascript 60, javascript with scope 65, MaxKey 127. Values with equal
 * ranks are compared by value; different ranks order the values.
 */
export function canonicalTypeOrder(value: unknown): number {
  return RANK_OF_KIND[kindOf(value)]!;
}

// ---------------------------------------------------------------------------------------------
// Numbers: exact comparison across int32 / int64 / double / decimal128

/** A finite non-zero number, exactly: (neg ? -1 : 1) * coef * 2^e2 * 10^e10. */
interface Fin {
  readonly neg: boolean;
  readonly coef: bigint; // > 0
  readonly e2: number;
  readonly e10: number;
  mag?: number; // approximate log10 of the magnitude, computed lazily
}

/** A numeric value: a JS number when exactly a double (incl. NaN, ±Infinity, 0), else a Fin. */
type Num = number | Fin;

const TWO_POW_32 = 4294967296;
const LOG10_2 = Math.log10(2);

function sign(x: number): number {
  return x < 0 ? -1 : x > 0 ? 1 : 0;
}

function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  // at least one NaN: NaN == NaN, NaN < everything else
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  return an === bn ? 0 : an ? -1 : 1;
}

function finOfBigint(v: bigint): Num {
  if (v >= -9007199254740992n && v <= 9007199254740992n) return Number(v);
  return v < 0n ? { neg: true, coef: -v, e2: 0, e10: 0 } : { neg: false, coef: v, e2: 0, e10: 0 };
}

function longNum(l: LongLike): Num {
  const high = l.high | 0;
  const low = l.low >>> 0;
  // |value| < 2^53 exactly when the high word is in [-2^21, 2^21)
  if (high >= -2097152 && high < 2097152) return high * TWO_POW_32 + low;
  return finOfBigint((BigInt(high) << 32n) | BigInt(low));
}

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]?\d+))?$/;
const decimalCache = new WeakMap<object, Num>();

function decimalNum(d: DecimalLike): Num {
  const cached = decimalCache.get(d);
  if (cached !== undefined) return cached;
  const s = d.toString();
  let result: Num;
  if (s === 'NaN' || s === '-NaN') result = NaN;
  else if (s === 'Infinity') result = Infinity;
  else if (s === '-Infinity') result = -Infinity;
  else {
    const m = DECIMAL_RE.exec(s);
    if (m === null) throw new TypeError(`unparseable Decimal128 ${s}`);
    const digits = m[2]! + (m[3] ?? '');
    const e10 = (m[4] === undefined ? 0 : Number(m[4])) - (m[3]?.length ?? 0);
    const coef = BigInt(digits);
    if (coef === 0n) result = 0;
    else if (e10 >= 0 && digits.length + e10 <= 15) result = Number(s); // a small integer: exact
    else result = { neg: m[1] === '-', coef, e2: 0, e10 };
  }
  decimalCache.set(d, result);
  return result;
}

function numOf(v: unknown, kind: number): Num {
  switch (kind) {
    case K_NUMBER:
      return v as number;
    case K_INT32:
    case K_DOUBLE:
      return +(v as NumberBox).value;
    case K_LONG:
      return longNum(v as LongLike);
    case K_BIGINT:
      return finOfBigint(BigInt.asIntN(64, v as bigint));
    case K_DECIMAL:
      return decimalNum(v as DecimalLike);
    default:
      throw new TypeError('not a number');
  }
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A finite non-zero double, exactly. */
function finOfDouble(d: number): Fin {
  f64[0] = d;
  const hi = u32[LITTLE_ENDIAN ? 1 : 0]!;
  const lo = u32[LITTLE_ENDIAN ? 0 : 1]!;
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (hi & 0xfffff) * TWO_POW_32 + lo;
  const mantissa = biased === 0 ? frac : frac + 4503599627370496; // + 2^52 for normal numbers
  const e2 = biased === 0 ? -1074 : biased - 1075;
  return { neg: d < 0, coef: BigInt(mantissa), e2, e10: 0 };
}

function magnitude(f: Fin): number {
  if (f.mag !== undefined) return f.mag;
  let log: number;
  if (f.coef <= 9007199254740992n) log = Math.log10(Number(f.coef));
  else {
    const s = f.coef.toString();
    log = Math.log10(Number(s.slice(0, 15))) + (s.length - 15);
  }
  f.mag = log + f.e10 + f.e2 * LOG10_2;
  return f.mag;
}

function scaled(f: Fin, k2: number, k10: number): bigint {
  let c = f.coef;
  if (k2 > 0) c <<= BigInt(k2);
  if (k10 > 0) c *= 10n ** BigInt(k10);
  return c;
}

function compareFin(x: Fin, y: Fin): number {
  if (x.neg !== y.neg) return x.neg ? -1 : 1;
  const s = x.neg ? -1 : 1;
  const mx = magnitude(x);
  const my = magnitude(y);
  // the estimates are good to far better than one decade; decide without big arithmetic
  if (mx - my > 1) return s;
  if (my - mx > 1) return -s;
  const m2 = Math.min(x.e2, y.e2);
  const m10 = Math.min(x.e10, y.e10);
  const a = scaled(x, x.e2 - m2, x.e10 - m10);
  const b = scaled(y, y.e2 - m2, y.e10 - m10);
  return a === b ? 0 : a < b ? -s : s;
}

function compareNums(x: Num, y: Num): number {
  if (typeof x === 'number') {
    if (typeof y === 'number') return compareDoubles(x, y);
    if (x !== x) return -1; // NaN
    if (x === Infinity) return 1;
    if (x === -Infinity) return -1;
    if (x === 0) return y.neg ? 1 : -1;
    return compareFin(finOfDouble(x), y);
  }
  if (typeof y === 'number') return 0 - compareNums(y, x);
  return compareFin(x, y);
}

function compareNumbers(a: unknown, ka: number, b: unknown, kb: number): number {
  // fast path: both plain doubles
  if (ka <= K_DOUBLE && kb <= K_DOUBLE) {
    const x = ka === K_NUMBER ? (a as number) : +(a as NumberBox).value;
    const y = kb === K_NUMBER ? (b as number) : +(b as NumberBox).value;
    return compareDoubles(x, y);
  }
  return compareNums(numOf(a, ka), numOf(b, kb));
}

function numberKey(n: Num): string {
  if (typeof n === 'number') {
    if (n !== n) return 'nNaN;';
    return n === 0 ? 'n0;' : `n${n};`;
  }
  // A Fin here comes from a long or a decimal (e2 === 0). If it is exactly some double, it must
  // get that double's key; otherwise its normalized decimal form is unique to its value.
  if (n.e2 !== 0) throw new Error('numberKey: unexpected binary exponent');
  const d = Number(`${n.neg ? '-' : ''}${n.coef}e${n.e10}`);
  if (Number.isFinite(d) && d !== 0 && compareFin(n, finOfDouble(d)) === 0) return `n${d};`;
  let digits = n.coef.toString();
  let e = n.e10;
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  e += digits.length - end;
  digits = digits.slice(0, end);
  return `n#${n.neg ? '-' : ''}${digits}e${e};`;
}

// ---------------------------------------------------------------------------------------------
// Strings: UTF-8 byte order (simple binary collation)

function isSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdfff;
}

/**
 * Compares two strings by their UTF-8 bytes (memcmp, then length), as mongod does without a
 * collation. UTF-16 code unit order matches UTF-8 byte order except where a surrogate is involved;
 * then the bytes are compared (lone surrogates encode as U+FFFD, as on the wire).
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (isSurrogate(ca) || isSurrogate(cb)) return sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

const SURROGATE_RE = /[\uD800-\uDFFF]/;

function stringKey(s: string): string {
  if (SURROGATE_RE.test(s)) s = Buffer.from(s, 'utf8').toString('utf8');
  return `s${s.length}:${s}`;
}

// ---------------------------------------------------------------------------------------------
// Other value types

function binaryParts(v: unknown, kind: number): { subtype: number; bytes: Uint8Array } {
  if (kind === K_UINT8ARRAY) return { subtype: 0, bytes: v as Uint8Array };
  const b = v as BinaryLike;
  return { subtype: b.sub_type & 0xff, bytes: b.buffer.subarray(0, b.position) };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function compareBinary(a: unknown, ka: number, b: unknown, kb: number): number {
  const x = binaryParts(a, ka);
  const y = binaryParts(b, kb);
  // mongod's length is the BSON int32 length; subtype 2 (old binary) carries 4 more bytes there,
  // an inner length that is equal whenever the outer lengths are.
  const lx = x.bytes.length + (x.subtype === 2 ? 4 : 0);
  const ly = y.bytes.length + (y.subtype === 2 ? 4 : 0);
  if (lx !== ly) return lx < ly ? -1 : 1;
  if (x.subtype !== y.subtype) return x.subtype < y.subtype ? -1 : 1;
  return compareBytes(x.bytes, y.bytes);
}

function dateMs(d: Date): number {
  const t = d.getTime();
  return t === t ? t : 0; // an invalid Date goes on the wire as 0 (Long.fromNumber(NaN))
}

/** The pattern and flags as they go on the wire (bson's serializer for a JS RegExp: i, s (for g), m). */
function regexParts(v: unknown, kind: number): RegExpLike {
  if (kind === K_BSONREGEXP) return v as RegExpLike;
  const r = v as RegExp;
  return { pattern: r.source, options: (r.ignoreCase ? 'i' : '') + (r.global ? 's' : '') + (r.multiline ? 'm' : '') };
}

function codeString(v: unknown): string {
  return String((v as CodeLike).code);
}

function stringOf(v: unknown, kind: number): string {
  return kind === K_STRING ? (v as string) : String((v as SymbolLike).value);
}

/** A DBRef as the object bson writes: {$ref, $id, [$db], ...fields}. */
function dbrefObject(v: DBRefLike): Obj {
  const o: Obj = { $ref: v.collection, $id: v.oid };
  if (v.db != null) o.$db = v.db;
  return Object.assign(o, v.fields);
}

function objectOf(v: unknown, kind: number): Obj {
  return kind === K_DBREF ? dbrefObject(v as DBRefLike) : (v as Obj);
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** compareElementValues for two values of the same canonical rank. */
function compareSameRank(a: unknown, ka: number, b: unknown, kb: number, rank: number): number {
  switch (rank) {
    case CANONICAL_TYPE.minKey:
    case CANONICAL_TYPE.undefined:
    case CANONICAL_TYPE.null:
    case CANONICAL_TYPE.maxKey:
      return 0;
    case CANONICAL_TYPE.number:
      return compareNumbers(a, ka, b, kb);
    case CANONICAL_TYPE.string:
      return compareUtf8(stringOf(a, ka), stringOf(b, kb));
    case CANONICAL_TYPE.object:
      return compareObjects(objectOf(a, ka), objectOf(b, kb));
    case CANONICAL_TYPE.array:
      return compareArrays(a as readonly unknown[], b as readonly unknown[]);
    case CANONICAL_TYPE.binData:
      return compareBinary(a, ka, b, kb);
    case CANONICAL_TYPE.objectId:
      return compareBytes((a as ObjectIdLike).id, (b as ObjectIdLike).id);
    case CANONICAL_TYPE.bool:
      return a === b ? 0 : a ? 1 : -1;
    case CANONICAL_TYPE.date:
      return sign(dateMs(a as Date) - dateMs(b as Date));
    case CANONICAL_TYPE.timestamp: {
      const x = a as LongLike;
      const y = b as LongLike;
      const hx = x.high >>> 0;
      const hy = y.high >>> 0;
      if (hx !== hy) return hx < hy ? -1 : 1;
      return sign((x.low >>> 0) - (y.low >>> 0));
    }
    case CANONICAL_TYPE.regex: {
      const x = regexParts(a, ka);
      const y = regexParts(b, kb);
      return compareUtf8(x.pattern, y.pattern) || compareUtf8(x.options, y.options);
    }
    case CANONICAL_TYPE.javascript:
      return compareUtf8(codeString(a), codeString(b));
    case CANONICAL_TYPE.javascriptWithScope:
      return (
        compareUtf8(codeString(a), codeString(b)) ||
        compareObjects((a as CodeLike).scope as Obj, (b as CodeLike).scope as Obj)
      );
    default:
      throw new Error(`unexpected canonical type ${rank}`);
  }
}

/** BSONObj::woCompare with field names considered (no ordering, no collation). */
function compareObjects(a: Obj, b: Obj): number {
  if (a === b) return 0;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = ka.length < kb.length ? ka.length : kb.length;
  for (let i = 0; i < n; i++) {
    const na = ka[i]!;
    const nb = kb[i]!;
    const va = a[na];
    const vb = b[nb];
    const ta = kindOf(va);
    const tb = kindOf(vb);
    const ra = RANK_OF_KIND[ta]!;
    const rb = RANK_OF_KIND[tb]!;
    if (ra !== rb) return ra < rb ? -1 : 1;
    if (na !== nb) {
      const c = compareUtf8(na, nb);
      if (c !== 0) return c;
    }
    const c = compareSameRank(va, ta, vb, tb, ra);
    if (c !== 0) return c;
  }
  return ka.length < kb.length ? -1 : ka.length > kb.length ? 1 : 0;
}

/** Arrays compare as objects whose field names are "0", "1", ...: equal at equal positions. */
function compareArrays(a: readonly unknown[], b: readonly unknown[]): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const va = a[i];
    const vb = b[i];
    const ta = kindOf(va);
    const tb = kindOf(vb);
    const ra = RANK_OF_KIND[ta]!;
    const rb = RANK_OF_KIND[tb]!;
    if (ra !== rb) return ra < rb ? -1 : 1;
    const c = compareSameRank(va, ta, vb, tb, ra);
    if (c !== 0) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/**
 * mongod's comparison of two BSON values (BSONElement::woCompare without field names):
 * -1, 0 or 1. Throws a TypeError for values that are not BSON (functions, symbols, unknown
 * `_bsontype`s).
 */
export function compareValues(a: unknown, b: unknown): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const ra = RANK_OF_KIND[ka]!;
  const rb = RANK_OF_KIND[kb]!;
  if (ra !== rb) return ra < rb ? -1 : 1;
  return compareSameRank(a, ka, b, kb, ra);
}

/** Whether mongod considers the two values equal (compareValues === 0). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareValues(a, b) === 0;
}

/** BSONObj::woCompare of two whole documents, field names considered: -1, 0 or 1. */
export function compareDocuments(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): number {
  return compareObjects(a as Obj, b as Obj);
}

// ---------------------------------------------------------------------------------------------
// Canonical keys

/**
 * A string key with canonicalKey(a) === canonicalKey(b) exactly when compareValues(a, b) === 0.
 * Numbers of every type share keys by value (Int32(1), Long(1), Double(1), Decimal128("1.0")),
 * 0 and -0 share one, all NaNs share one; a symbol shares the key of the equal string; objects and
 * arrays are keyed recursively with field names. The encoding is prefix-free, so keys compose.
 */
export function canonicalKey(value: unknown): string {
  const kind = kindOf(value);
  switch (kind) {
    case K_STRING:
      return stringKey(value as string);
    case K_OBJECTID:
      return `i${(value as ObjectIdLike).toHexString()}`;
    case K_NUMBER:
    case K_INT32:
    case K_DOUBLE:
    case K_LONG:
    case K_BIGINT:
    case K_DECIMAL:
      return numberKey(numOf(value, kind));
    case K_MINKEY:
      return '<';
    case K_UNDEFINED:
      return 'u';
    case K_NULL:
      return '_';
    case K_MAXKEY:
      return '>';
    case K_SYMBOL:
      return stringKey(stringOf(value, kind));
    case K_OBJECT:
    case K_DBREF:
      return objectKey(objectOf(value, kind));
    case K_ARRAY: {
      let out = 'A';
      for (const item of value as readonly unknown[]) out += canonicalKey(item);
      return `${out}]`;
    }
    case K_BINARY:
    case K_UINT8ARRAY: {
      const { subtype, bytes } = binaryParts(value, kind);
      return `b${subtype}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')};`;
    }
    case K_BOOL:
      return value ? 't' : 'f';
    case K_DATE:
      return `d${dateMs(value as Date)};`;
    case K_TIMESTAMP: {
      const t = value as LongLike;
      return `T${t.high >>> 0},${t.low >>> 0};`;
    }
    case K_BSONREGEXP:
    case K_JSREGEXP: {
      const r = regexParts(value, kind);
      return `r${stringKey(r.pattern)}${stringKey(r.options)}`;
    }
    case K_CODE:
      return `c${stringKey(codeString(value))}`;
    case K_CODEWSCOPE:
      return `C${stringKey(codeString(value))}${objectKey((value as CodeLike).scope as Obj)}`;
    default:
      throw new Error(`unexpected kind ${kind}`);
  }
}

function objectKey(o: Obj): string {
  let out = 'O';
  for (const name of Object.keys(o)) out += stringKey(name) + canonicalKey(o[name]);
  return `${out}}`;
}
