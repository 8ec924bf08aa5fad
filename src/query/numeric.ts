/**
 * mongod's numeric semantics, exact: type promotion, the aggregation arithmetic expressions
 * ($add, $subtract, $multiply, $divide, $mod, $abs, $round, $trunc), the update operators $inc and
 * $mul (SafeNum), and the $sum / $avg accumulators.
 *
 * Inputs are BSON values as decoded with `promoteValues: false` (bson Int32, Long, Double,
 * Decimal128, Date, ...). Plain JS numbers are accepted as the bson serializer would write them:
 * an integer in int32 range (not -0) is an int32, anything else a double; a bigint in int64 range
 * is a long. Results are always bson objects (Int32, Long, Double, Decimal128), a Date, or null.
 *
 * int64 arithmetic is done on BigInt (or on JS numbers only while they are exact), decimal
 * arithmetic by ./decimal128.ts; nothing long or decimal goes through a double unless mongod
 * itself converts it.
 *
 * Sources (mongodb/mongo, master as stored in the search index):
 * - src/mongo/db/exec/expression/evaluate_math.cpp: AddState, evaluateDivide, evaluateMod,
 *   MultiplyState, evaluateSubtract, evaluateRoundOrTrunc, evaluateSingleNumericArg ($abs).
 * - src/mongo/db/exec/document_value/value.cpp: getWidestNumeric, createIntOrLong, integral,
 *   coerceToLong/Double/Decimal (doubles become decimals with 15 significant digits).
 * - src/mongo/util/safe_num.cpp, src/mongo/db/update/arithmetic_node.cpp: $inc / $mul.
 * - src/mongo/util/summation.h/.cpp, src/mongo/db/pipeline/accumulator_sum.cpp,
 *   accumulator_avg.cpp: DoubleDoubleSummation, $sum, $avg.
 * - src/mongo/platform/decimal128.cpp: Decimal128(double), quantize, toLong.
 */
import { Decimal128, Double, Int32, Long } from 'bson';
import { compareValues } from '../bson/bsonOrder.js';
import { bsonText } from '../bson/bsonText.js';
import { typeName } from '../bson/typeName.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import {
  decimalAbs,
  decimalAdd,
  decimalDivide,
  decimalEquals,
  decimalFromBigInt,
  decimalFromDouble,
  decimalIsInfinite,
  decimalIsZero,
  decimalMultiply,
  decimalQuantizeLikeMongod,
  decimalRemainder,
  decimalSubtract,
  decimalToDouble,
  decimalToInt32,
  decimalToInt64,
  type RoundingMode,
} from './decimal128.js';

/** A BSON number as stored (decoded with promoteValues: false). */
export type BsonNumber = Int32 | Long | Double | Decimal128;
export type NumericTypeName = 'int' | 'long' | 'double' | 'decimal';

// ---------------------------------------------------------------------------------------------
// Classification. Kinds are ordered as mongod widens them (Value::getWidestNumeric):
// int < long < double < decimal, so the widest of two kinds is their maximum.

const K_INT = 0;
const K_LONG = 1;
const K_DOUBLE = 2;
const K_DECIMAL = 3;
const NOT_NUMBER = -1;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;
const TWO_POW_32 = 4294967296;
const TWO_POW_63 = 9223372036854775808; // as a double

interface LongBits {
  readonly high: number;
  readonly low: number;
}

function isInt32Number(n: number): boolean {
  return (n | 0) === n && !Object.is(n, -0);
}

function kindOf(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return isInt32Number(v) ? K_INT : K_DOUBLE;
    case 'bigint':
      return v >= INT64_MIN && v <= INT64_MAX ? K_LONG : NOT_NUMBER;
    case 'object': {
      if (v === null) return NOT_NUMBER;
      switch ((v as { _bsontype?: unknown })._bsontype) {
        case 'Int32':
          return K_INT;
        case 'Long':
          return K_LONG;
        case 'Double':
          return K_DOUBLE;
        case 'Decimal128':
          return K_DECIMAL;
        default:
          return NOT_NUMBER;
      }
    }
    default:
      return NOT_NUMBER;
  }
}

const TYPE_NAMES: readonly NumericTypeName[] = ['int', 'long', 'double', 'decimal'];

/** Whether v is one of the bson number classes (Int32, Long, Double, Decimal128). */
export function isBsonNumber(v: unknown): v is BsonNumber {
  return typeof v === 'object' && kindOf(v) !== NOT_NUMBER;
}

/** Whether mongod would see a number here (bson numbers, plain JS numbers, int64 bigints). */
export function isNumeric(v: unknown): boolean {
  return kindOf(v) !== NOT_NUMBER;
}

/** The BSON numeric type of v ('int', 'long', 'double', 'decimal'), or undefined. */
export function numericType(v: unknown): NumericTypeName | undefined {
  return TYPE_NAMES[kindOf(v)];
}

/** v as a bson number object (plain numbers as the serializer would type them), or undefined. */
export function toBsonNumber(v: unknown): BsonNumber | undefined {
  switch (typeof v) {
    case 'number':
      return isInt32Number(v) ? new Int32(v) : new Double(v);
    case 'bigint':
      return v >= INT64_MIN && v <= INT64_MAX ? Long.fromBigInt(v) : undefined;
    case 'object':
      return isBsonNumber(v) ? v : undefined;
    default:
      return undefined;
  }
}

/** null, missing (undefined) and BSON undefined: mongod's Value::nullish(). */
function nullish(v: unknown): boolean {
  return v === null || v === undefined;
}

function isDate(v: unknown): v is Date {
  return v instanceof Date;
}

// ---------------------------------------------------------------------------------------------
// Accessors (callers know the kind)

function intOf(v: unknown): number {
  return typeof v === 'number' ? v : (v as Int32).value;
}

/** An int64 as a JS number when exact (|x| < 2^53), else a bigint. */
type I64 = number | bigint;

function longOf(v: unknown): I64 {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  const l = v as LongBits;
  const high = l.high | 0;
  const low = l.low >>> 0;
  // |value| < 2^53 exactly when the high word is in [-2^21, 2^21)
  if (high >= -2097152 && high < 2097152) return high * TWO_POW_32 + low;
  return (BigInt(high) << 32n) + BigInt(low);
}

/** int or long value as an I64. */
function integerOf(v: unknown, kind: number): I64 {
  return kind === K_INT ? intOf(v) : longOf(v);
}

function big(x: I64): bigint {
  return typeof x === 'bigint' ? x : BigInt(x);
}

/** Value::coerceToDouble (long → nearest double; decimal → bid128_to_binary64). */
function doubleOf(v: unknown, kind: number): number {
  switch (kind) {
    case K_INT:
    case K_DOUBLE:
      return typeof v === 'number' ? v : (v as Double).value;
    case K_LONG: {
      if (typeof v === 'bigint') return Number(v);
      const l = v as LongBits;
      // exact high part plus exact low part: one correctly rounded addition
      return (l.high | 0) * TWO_POW_32 + (l.low >>> 0);
    }
    default:
      return decimalToDouble(v as Decimal128);
  }
}

/** Value::coerceToDecimal: ints and longs exactly (exponent 0), doubles to 15 digits. */
function decimalOf(v: unknown, kind: number): Decimal128 {
  switch (kind) {
    case K_INT:
      return decimalFromInt32(intOf(v));
    case K_LONG:
      return decimalFromBigInt(big(longOf(v)));
    case K_DOUBLE:
      return decimalFromDouble(doubleOf(v, K_DOUBLE), 15);
    default:
      return v as Decimal128;
  }
}

const SMALL_DECIMALS: Decimal128[] = [];
function decimalFromInt32(n: number): Decimal128 {
  if (n >= 0 && n < 16) return (SMALL_DECIMALS[n] ??= decimalFromBigInt(BigInt(n)));
  return decimalFromBigInt(BigInt(n));
}

/** Coerces a number to a Decimal128 as mongod does (Value::coerceToDecimal). */
export function toDecimal(v: BsonNumber | number | bigint): Decimal128 {
  const kind = kindOf(v);
  if (kind === NOT_NUMBER) throw new TypeError('not a number');
  return decimalOf(v, kind);
}

/** Coerces a number to a double as mongod does (Value::coerceToDouble). */
export function toDouble(v: BsonNumber | number | bigint): number {
  const kind = kindOf(v);
  if (kind === NOT_NUMBER) throw new TypeError('not a number');
  return doubleOf(v, kind);
}

// ---------------------------------------------------------------------------------------------
// Results

function makeLong(x: I64): Long {
  return typeof x === 'number' ? Long.fromNumber(x) : Long.fromBigInt(x);
}

/** Value::createIntOrLong: an int32 when it fits, else a long. */
function intOrLong(x: I64): Int32 | Long {
  if (typeof x === 'number') return x >= INT32_MIN && x <= INT32_MAX ? new Int32(x) : Long.fromNumber(x);
  return x >= -2147483648n && x <= 2147483647n ? new Int32(Number(x)) : Long.fromBigInt(x);
}

function asBsonNumber(v: unknown, kind: number): BsonNumber {
  if (typeof v === 'object') return v as BsonNumber;
  if (typeof v === 'bigint') return Long.fromBigInt(v);
  return kind === K_INT ? new Int32(v as number) : new Double(v as number);
}

/** a + b in int64, or undefined on overflow. */
function addI64(a: I64, b: I64): I64 | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (Number.isSafeInteger(s)) return s;
  }
  const s = big(a) + big(b);
  return s < INT64_MIN || s > INT64_MAX ? undefined : narrow(s);
}

function subI64(a: I64, b: I64): I64 | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a - b;
    if (Number.isSafeInteger(s)) return s;
  }
  const s = big(a) - big(b);
  return s < INT64_MIN || s > INT64_MAX ? undefined : narrow(s);
}

function mulI64(a: I64, b: I64): I64 | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    const p = a * b;
    if (Math.abs(p) < 9007199254740992) return p === 0 ? 0 : p; // exact (and no -0)
  }
  const p = big(a) * big(b);
  return p < INT64_MIN || p > INT64_MAX ? undefined : narrow(p);
}

function narrow(x: bigint): I64 {
  return x >= -9007199254740991n && x <= 9007199254740991n ? Number(x) : x;
}

/** llround: the nearest integer, halfway cases away from zero (x finite, |x| < 2^63). */
function llround(x: number): I64 {
  let t = Math.trunc(x);
  const f = x - t;
  if (f >= 0.5) t += 1;
  else if (f <= -0.5) t -= 1;
  if (t === 0) return 0;
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

// ---------------------------------------------------------------------------------------------
// Errors

function typeMismatch(message: string): MongoError {
  return new MongoError(ErrorCodes.TypeMismatch, message);
}

function dateOverflow(): MongoError {
  return new MongoError(ErrorCodes.Overflow, 'date overflow');
}

/**
 * A double as C++ `std::ostream << double` prints it (the "%g" format with 6 significant digits):
 * 1e+300, 0.1, 123457, nan, inf. Exact decimal ties round away from zero here (glibc rounds them
 * to even), which only shows for values whose 7th significant digit is an exact 5.
 */
export function cppDoubleText(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const a = Math.abs(x);
  const [mantissa, expText] = a.toExponential(5).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const m = stripZeros(mantissa);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return sign + stripZeros(a.toFixed(5 - exp));
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  return s.replace(/0+$/, '').replace(/\.$/, '');
}

// ---------------------------------------------------------------------------------------------
// $add

/**
 * AddState (evaluate_math.cpp): keeps an int64 total while every operand is int/long (widening to
 * double when it would overflow), a double total once a double is seen (the int64 total converted
 * to double), a decimal total once a decimal is seen (the previous total converted: int64 exactly,
 * double to 15 digits). A date switches to int64 millisecond arithmetic: the total so far is
 * converted to int64 (doubles by llround, decimals half-even) and every later operand is added to
 * it the same way; any overflow is Overflow (15) "date overflow".
 */
class AddState {
  private widest = K_INT;
  private longTotal: I64 = 0;
  private doubleTotal = 0;
  private decimalTotal: Decimal128 | undefined;
  private isDate = false;

  add(operand: unknown, kind: number): void {
    const oldWidest = this.widest;
    let val: unknown = operand;
    let valKind = kind;
    if (kind === NOT_NUMBER) {
      // a date (the caller checked the type)
      if (this.isDate) throw new MongoError(LocationCodes.AddMoreThanOneDate, 'only one date allowed in an $add expression');
      const oldValue = this.value() as BsonNumber;
      this.longTotal = 0;
      this.addToDate(oldValue, kindOf(oldValue));
      this.isDate = true;
      val = dateMillis(operand as Date);
      valKind = K_LONG;
    } else if (kind > this.widest) {
      this.widest = kind;
    }
    if (this.isDate) {
      this.addToDate(val, valKind);
      return;
    }
    if (oldWidest !== this.widest) {
      if (this.widest === K_DOUBLE) this.doubleTotal = Number(this.longTotal);
      else if (this.widest === K_DECIMAL) {
        this.decimalTotal =
          oldWidest === K_DOUBLE ? decimalFromDouble(this.doubleTotal, 15) : decimalFromBigInt(big(this.longTotal));
      }
    }
    switch (this.widest) {
      case K_INT:
      case K_LONG: {
        const sum = addI64(this.longTotal, integerOf(val, valKind));
        if (sum === undefined) {
          this.widest = K_DOUBLE;
          this.doubleTotal = Number(this.longTotal) + doubleOf(val, valKind);
        } else {
          this.longTotal = sum;
        }
        break;
      }
      case K_DOUBLE:
        this.doubleTotal += doubleOf(val, valKind);
        break;
      default:
        this.decimalTotal = decimalAdd(this.decimalTotal!, decimalOf(val, valKind));
    }
  }

  private addToDate(val: unknown, kind: number): void {
    let toAdd: I64;
    switch (kind) {
      case K_INT:
      case K_LONG:
        toAdd = integerOf(val, kind);
        break;
      case K_DOUBLE: {
        const d = doubleOf(val, kind);
        // the upper bound is exclusive: 2^63 - 1 rounds up to 2^63 as a double
        if (!(d >= -TWO_POW_63 && d < TWO_POW_63)) throw dateOverflow();
        toAdd = llround(d);
        break;
      }
      default: {
        const r = decimalToInt64(val as Decimal128, 'halfEven');
        if (r.invalid) throw dateOverflow();
        toAdd = narrow(r.value);
      }
    }
    const sum = addI64(this.longTotal, toAdd);
    if (sum === undefined) throw dateOverflow();
    this.longTotal = sum;
  }

  value(): BsonNumber | Date {
    if (this.isDate) return makeDate(this.longTotal);
    switch (this.widest) {
      case K_INT:
        return intOrLong(this.longTotal);
      case K_LONG:
        return makeLong(this.longTotal);
      case K_DOUBLE:
        return new Double(this.doubleTotal);
      default:
        return this.decimalTotal!;
    }
  }
}

function dateMillis(d: Date): I64 {
  const ms = d.getTime();
  if (ms !== ms) throw dateOverflow(); // an Invalid Date carries no millisecond value
  return ms;
}

/**
 * A Date for an int64 millisecond count. JS Dates hold only ±8.64e15 ms; mongod's hold any int64.
 * A result outside the JS range cannot be represented, so it is refused ("date overflow") rather
 * than turned into an Invalid Date.
 */
function makeDate(ms: I64): Date {
  const n = typeof ms === 'number' ? ms : Number(ms);
  if (typeof ms === 'bigint' || Math.abs(n) > 8.64e15) throw dateOverflow();
  return new Date(n);
}

/**
 * $add: numbers and at most one date, left to right; the first null/missing operand makes the
 * result null, the first other non-number fails with TypeMismatch (14)
 * "$add only supports numeric or date types, not <type>". No operands: int 0.
 */
export function add(...operands: readonly unknown[]): BsonNumber | Date | null {
  if (operands.length === 2) {
    const a = operands[0];
    const b = operands[1];
    if (kindOf(a) === K_INT && kindOf(b) === K_INT) return intOrLong(intOf(a) + intOf(b));
  }
  const state = new AddState();
  for (const v of operands) {
    if (nullish(v)) return null;
    const kind = kindOf(v);
    if (kind === NOT_NUMBER && !isDate(v)) throw typeMismatch(`$add only supports numeric or date types, not ${typeName(v)}`);
    state.add(v, kind);
  }
  return state.value();
}

// ---------------------------------------------------------------------------------------------
// $subtract

/**
 * $subtract (evaluateSubtract): two numbers subtract in their widest type (int → int or long,
 * long → long or, on overflow, the difference of the two doubles; double; decimal); otherwise a
 * null/missing operand gives null; date - date is a long (ms); date - number is a date (doubles by
 * llround, decimals half-even; overflow is Overflow (15) "date overflow"); anything else is
 * TypeMismatch (14) "can't $subtract <rhs type> from <lhs type>" ("... from Date" for dates).
 */
export function subtract(lhs: unknown, rhs: unknown): BsonNumber | Date | null {
  const kl = kindOf(lhs);
  const kr = kindOf(rhs);
  if (kl !== NOT_NUMBER && kr !== NOT_NUMBER) {
    const w = kl > kr ? kl : kr;
    switch (w) {
      case K_INT:
        return intOrLong(intOf(lhs) - intOf(rhs));
      case K_LONG: {
        const d = subI64(integerOf(lhs, kl), integerOf(rhs, kr));
        return d === undefined ? new Double(doubleOf(lhs, kl) - doubleOf(rhs, kr)) : makeLong(d);
      }
      case K_DOUBLE:
        return new Double(doubleOf(lhs, kl) - doubleOf(rhs, kr));
      default:
        return decimalSubtract(decimalOf(lhs, kl), decimalOf(rhs, kr));
    }
  }
  if (nullish(lhs) || nullish(rhs)) return null;
  if (isDate(lhs)) {
    const ms = dateMillis(lhs);
    if (isDate(rhs)) {
      const d = subI64(ms, dateMillis(rhs));
      return makeLong(d!); // both within ±8.64e15: cannot overflow
    }
    let toSub: I64;
    switch (kr) {
      case K_INT:
      case K_LONG:
        toSub = integerOf(rhs, kr);
        break;
      case K_DOUBLE: {
        const d = doubleOf(rhs, kr);
        if (!(d >= -TWO_POW_63 && d < TWO_POW_63)) throw dateOverflow();
        toSub = llround(d);
        break;
      }
      case K_DECIMAL: {
        const r = decimalToInt64(rhs as Decimal128, 'halfEven');
        if (r.invalid) throw dateOverflow();
        toSub = narrow(r.value);
        break;
      }
      default:
        throw typeMismatch(`can't $subtract ${typeName(rhs)} from Date`);
    }
    const diff = subI64(ms, toSub);
    if (diff === undefined) throw dateOverflow();
    return makeDate(diff);
  }
  throw typeMismatch(`can't $subtract ${typeName(rhs)} from ${typeName(lhs)}`);
}

// ---------------------------------------------------------------------------------------------
// $multiply

/**
 * $multiply (MultiplyState): a double product and an int64 product are kept side by side from the
 * start; the int64 one is abandoned (result: the double product) when it would overflow. The first
 * decimal converts the product so far (int64 exactly, double to 15 digits) and continues in
 * decimal. Null/missing → null; other non-numbers: TypeMismatch (14)
 * "$multiply only supports numeric types, not <type>". No operands: int 1.
 */
export function multiply(...operands: readonly unknown[]): BsonNumber | null {
  if (operands.length === 2) {
    const a = operands[0];
    const b = operands[1];
    if (kindOf(a) === K_INT && kindOf(b) === K_INT) {
      const p = mulI64(intOf(a), intOf(b))!; // int32 * int32 always fits int64
      return intOrLong(p);
    }
  }
  let productType = K_INT;
  let doubleProduct = 1;
  let longProduct: I64 = 1;
  let decimalProduct: Decimal128 | undefined;
  for (const v of operands) {
    if (nullish(v)) return null;
    const kind = kindOf(v);
    if (kind === NOT_NUMBER) throw typeMismatch(`$multiply only supports numeric types, not ${typeName(v)}`);
    const old = productType;
    if (kind > productType) productType = kind;
    if (productType === K_DECIMAL) {
      if (old !== K_DECIMAL) {
        decimalProduct = old === K_DOUBLE ? decimalFromDouble(doubleProduct, 15) : decimalFromBigInt(big(longProduct));
      }
      decimalProduct = decimalMultiply(decimalProduct!, decimalOf(v, kind));
    } else {
      doubleProduct *= doubleOf(v, kind);
      if (productType !== K_DOUBLE) {
        const p = mulI64(longProduct, integerOf(v, kind));
        if (p === undefined) productType = K_DOUBLE;
        else longProduct = p;
      }
    }
  }
  switch (productType) {
    case K_INT:
      return intOrLong(longProduct);
    case K_LONG:
      return makeLong(longProduct);
    case K_DOUBLE:
      return new Double(doubleProduct);
    default:
      return decimalProduct!;
  }
}

// ---------------------------------------------------------------------------------------------
// $divide, $mod

/**
 * $divide (evaluateDivide): a double quotient, or a decimal one when either operand is a decimal
 * (the other converted, doubles to 15 digits). A zero divisor (0, -0, decimal zero of any cohort)
 * is BadValue (2) "can't $divide by zero". Null/missing (when not both numeric) → null; else
 * TypeMismatch (14) "$divide only supports numeric types, not <t1> and <t2>".
 */
export function divide(lhs: unknown, rhs: unknown): BsonNumber | null {
  const kl = kindOf(lhs);
  const kr = kindOf(rhs);
  if (kl !== NOT_NUMBER && kr !== NOT_NUMBER) {
    if (kl === K_DECIMAL || kr === K_DECIMAL) {
      const n = decimalOf(lhs, kl);
      const d = decimalOf(rhs, kr);
      if (decimalIsZero(d)) throw new MongoError(ErrorCodes.BadValue, "can't $divide by zero");
      return decimalDivide(n, d);
    }
    const n = doubleOf(lhs, kl);
    const d = doubleOf(rhs, kr);
    if (d === 0) throw new MongoError(ErrorCodes.BadValue, "can't $divide by zero");
    return new Double(n / d);
  }
  if (nullish(lhs) || nullish(rhs)) return null;
  throw typeMismatch(`$divide only supports numeric types, not ${typeName(lhs)} and ${typeName(rhs)}`);
}

/**
 * $mod (evaluateMod): decimal if either is a decimal (fmod, exact, exponent min of the two; zero
 * divisor: 5733415); otherwise a zero divisor is 16610 "can't $mod by zero"; a double operand gives
 * a double fmod; a long gives a long; two ints an int (truncated remainder, sign of the dividend;
 * x mod -1 = 0). Null/missing (when not both numeric) → null; else 16611
 * "$mod only supports numeric types, not <t1> and <t2>".
 */
export function mod(lhs: unknown, rhs: unknown): BsonNumber | null {
  const kl = kindOf(lhs);
  const kr = kindOf(rhs);
  if (kl !== NOT_NUMBER && kr !== NOT_NUMBER) {
    if (kl === K_DECIMAL || kr === K_DECIMAL) {
      const left = decimalOf(lhs, kl);
      const right = decimalOf(rhs, kr);
      if (decimalIsZero(right)) throw new MongoError(LocationCodes.ModDecimalByZero, "can't $mod by zero");
      return decimalRemainder(left, right);
    }
    const right = doubleOf(rhs, kr);
    if (right === 0) throw new MongoError(LocationCodes.ModByZero, "can't $mod by zero");
    if (kl === K_DOUBLE || kr === K_DOUBLE) return new Double(doubleOf(lhs, kl) % right);
    if (kl === K_LONG || kr === K_LONG) {
      const r = integerOf(rhs, kr);
      if (r === -1 || r === -1n) return Long.fromNumber(0);
      const l = integerOf(lhs, kl);
      if (typeof l === 'number' && typeof r === 'number') return Long.fromNumber(l % r || 0);
      return makeLong(narrow(big(l) % big(r)));
    }
    const r = intOf(rhs);
    return new Int32(r === -1 ? 0 : intOf(lhs) % r || 0);
  }
  if (nullish(lhs) || nullish(rhs)) return null;
  throw new MongoError(
    LocationCodes.ModNotNumeric,
    `$mod only supports numeric types, not ${typeName(lhs)} and ${typeName(rhs)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// $abs

/**
 * $abs: null/missing → null; non-number → 28765 "$abs only supports numeric types, not <type>";
 * int → int (int32 min → long 2147483648); long → long (long min: 28680 "can't take $abs of long
 * long min"); double → |x| (-0 → 0); decimal → sign cleared (cohort kept).
 */
export function abs(v: unknown): BsonNumber | null {
  if (nullish(v)) return null;
  const kind = kindOf(v);
  switch (kind) {
    case K_INT:
      return intOrLong(Math.abs(intOf(v)));
    case K_LONG: {
      const x = longOf(v);
      if (typeof x === 'number') return Long.fromNumber(Math.abs(x));
      if (x === INT64_MIN) throw new MongoError(LocationCodes.AbsLongLongMin, "can't take $abs of long long min");
      return Long.fromBigInt(x < 0n ? -x : x);
    }
    case K_DOUBLE:
      return new Double(Math.abs(doubleOf(v, kind)));
    case K_DECIMAL:
      return decimalAbs(v as Decimal128);
    default:
      throw new MongoError(LocationCodes.SingleNumericArgNotNumeric, `$abs only supports numeric types, not ${typeName(v)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// $round, $trunc

/**
 * $round (half to even) and $trunc (toward zero) to `place` decimal places (-20..100, default 0),
 * as evaluateRoundOrTrunc does:
 * - null/missing value → null; non-number → 51081; then a null/missing place → null;
 * - the place is coerced to a long (non-number: 16004; a double out of range or NaN: 31109), must
 *   be integral (int32-representable, 51082) and in [-20, 100] (51083);
 * - decimal: unchanged if infinite, else Decimal128::quantize to 1E-place (which returns the
 *   34-digit normalized value when the quantum is finer than 34 digits allow);
 * - double: converted to decimal with 34 digits, unchanged if infinite, quantized, converted back;
 * - int/long: unchanged for place >= 0; else quantized as a decimal and converted back to a long
 *   (51080 when it does not fit), kept a long when it was one or when it exceeds int32 max, else an
 *   int (a result below int32 min wraps around, as mongod's static_cast<int> does).
 */
export function round(value: unknown, ...place: [] | [place: unknown]): BsonNumber | null {
  return roundOrTrunc('$round', 'halfEven', value, place);
}

/** $trunc: see {@link round}. */
export function trunc(value: unknown, ...place: [] | [place: unknown]): BsonNumber | null {
  return roundOrTrunc('$trunc', 'towardZero', value, place);
}

function roundOrTrunc(opName: string, mode: RoundingMode, value: unknown, place: [] | [unknown]): BsonNumber | null {
  if (nullish(value)) return null;
  const kind = kindOf(value);
  if (kind === NOT_NUMBER) {
    throw new MongoError(LocationCodes.RoundTruncNotNumeric, `${opName} only supports numeric types, not ${typeName(value)}`);
  }
  let precision = 0;
  if (place.length > 0) {
    const p = place[0];
    if (nullish(p)) return null;
    const asLong = coerceToLong(p);
    if (!integral(p)) {
      throw new MongoError(
        LocationCodes.RoundTruncPrecisionNotIntegral,
        `precision argument to  ${opName} must be a integral value`,
      );
    }
    precision = Number(asLong);
    if (precision < -20 || precision > 100) {
      throw new MongoError(
        LocationCodes.RoundTruncPrecisionOutOfRange,
        `cannot apply ${opName} with precision value ${precision} value must be in [-20, 100]`,
      );
    }
  }
  switch (kind) {
    case K_DECIMAL: {
      const d = value as Decimal128;
      if (decimalIsInfinite(d)) return d;
      return decimalQuantizeLikeMongod(d, -precision, mode);
    }
    case K_DOUBLE: {
      const x = doubleOf(value, kind);
      const dec = decimalFromDouble(x, 34);
      if (decimalIsInfinite(dec)) return asBsonNumber(value, kind);
      return new Double(decimalToDouble(decimalQuantizeLikeMongod(dec, -precision, mode)));
    }
    default: {
      if (precision >= 0) return asBsonNumber(value, kind);
      const n = integerOf(value, kind);
      const out = decimalToInt64(decimalQuantizeLikeMongod(decimalFromBigInt(big(n)), -precision, mode), 'halfEven');
      if (out.invalid) {
        throw new MongoError(
          LocationCodes.RoundTruncInvalidConversion,
          `invalid conversion from Decimal128 result in ${opName} resulting from arguments: [${String(n)}, ${precision}]`,
        );
      }
      if (kind === K_LONG || out.value > 2147483647n) return Long.fromBigInt(out.value);
      return new Int32(Number(BigInt.asIntN(32, out.value)));
    }
  }
}

/** Value::coerceToLong: doubles truncated (31109 out of range), decimals rounded half-even. */
export function coerceToLong(v: unknown): bigint {
  const kind = kindOf(v);
  switch (kind) {
    case K_INT:
    case K_LONG:
      return big(integerOf(v, kind));
    case K_DOUBLE: {
      const d = doubleOf(v, kind);
      if (!(d >= -TWO_POW_63 && d < TWO_POW_63)) {
        throw new MongoError(LocationCodes.CoerceToLongOutOfRange, `Can't coerce out of range value ${cppDoubleText(d)} to long`);
      }
      return BigInt(Math.trunc(d));
    }
    case K_DECIMAL:
      return decimalToInt64(v as Decimal128, 'halfEven').value;
    default:
      throw new MongoError(LocationCodes.CoerceToLongBadType, `can't convert from BSON type ${typeName(v)} to long`);
  }
}

/** Value::integral: a number representable as an int32 without loss. */
export function integral(v: unknown): boolean {
  const kind = kindOf(v);
  switch (kind) {
    case K_INT:
      return true;
    case K_LONG: {
      const x = longOf(v);
      return typeof x === 'number' && x >= INT32_MIN && x <= INT32_MAX;
    }
    case K_DOUBLE: {
      const d = doubleOf(v, kind);
      return Number.isInteger(d) && d >= INT32_MIN && d <= INT32_MAX;
    }
    case K_DECIMAL: {
      const r = decimalToInt32(v as Decimal128, 'halfEven');
      return !r.invalid && !r.inexact;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// $inc, $mul (SafeNum)

/** What the update operator's error messages need from the document being updated. */
export interface ArithmeticUpdateContext {
  /** The _id element as mongod prints it (BSONElement::toString), e.g. `_id: 1`; or "no id". */
  readonly idText: string;
  /** The name of the field being updated (the last path component), e.g. `a`. */
  readonly fieldName: string;
}

export interface ArithmeticUpdateResult {
  /** The value to store. */
  readonly value: BsonNumber;
  /**
   * mongod treats the update as a no-op (keeps the stored value, its type and bytes) when the new
   * value is "identical": the same type and an equal value (doubles by ==, so 0.0 and -0.0 are;
   * decimals by IEEE equality, so 1.0 and 1.00 are; NaN never is).
   */
  readonly noop: boolean;
}

export type ArithmeticUpdateOperator = '$inc' | '$mul';

/**
 * $inc of the field value `current` (undefined when the field is missing) by `by`, as
 * ArithmeticNode + SafeNum do: int+int → int, or long on overflow; int/long+long → long, or
 * BadValue (2) "Failed to apply $inc operations to current value ((NumberLong)…) for document {…}"
 * on overflow; with a double → double (a long converted to the nearest double); with a decimal →
 * decimal (doubles converted to 15 digits). A missing field is created with `by` unchanged; a
 * non-numeric field is TypeMismatch (14) "Cannot apply $inc to a value of non-numeric type. {…}
 * has the field '…' of non-numeric type …".
 */
export function incValue(current: unknown, by: unknown, context: ArithmeticUpdateContext): ArithmeticUpdateResult {
  return applyArithmetic('$inc', current, by, context);
}

/**
 * $mul: as {@link incValue} with multiplication (int*int → int or long; long overflow → BadValue
 * "Failed to apply $mul operations …"). A missing field is created as `by * int32 0`: a zero of the
 * argument's type (-0.0 for a negative double, a decimal zero with the argument's exponent).
 */
export function mulValue(current: unknown, by: unknown, context: ArithmeticUpdateContext): ArithmeticUpdateResult {
  return applyArithmetic('$mul', current, by, context);
}

/**
 * The parse-time check of the operator's argument (ArithmeticNode::init): TypeMismatch (14)
 * "Cannot increment with non-numeric argument: {a: \"x\"}" ("multiply" for $mul).
 */
export function checkArithmeticUpdateArgument(op: ArithmeticUpdateOperator, fieldPath: string, by: unknown): void {
  if (kindOf(by) === NOT_NUMBER) {
    throw typeMismatch(`Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${fieldPath}: ${bsonText(by)}}`);
  }
}

function applyArithmetic(
  op: ArithmeticUpdateOperator,
  current: unknown,
  by: unknown,
  context: ArithmeticUpdateContext,
): ArithmeticUpdateResult {
  const kb = kindOf(by);
  if (kb === NOT_NUMBER) checkArithmeticUpdateArgument(op, context.fieldName, by);
  if (current === undefined) {
    // setValueForNewElement: $inc stores the argument; $mul stores argument * int32 0
    const value = op === '$inc' ? asBsonNumber(by, kb) : safeMultiply(by, kb, 0, K_INT)!;
    return { value, noop: false };
  }
  const kc = kindOf(current);
  if (kc === NOT_NUMBER) {
    throw typeMismatch(
      `Cannot apply ${op} to a value of non-numeric type. {${context.idText}} has the field '${context.fieldName}' of non-numeric type ${typeName(current)}`,
    );
  }
  const value = op === '$inc' ? safeAdd(by, kb, current, kc) : safeMultiply(by, kb, current, kc);
  if (value !== undefined && isIdentical(value, current, kc)) return { value: asBsonNumber(current, kc), noop: true };
  if (value === undefined) {
    throw new MongoError(
      ErrorCodes.BadValue,
      `Failed to apply ${op} operations to current value (${safeNumDebugString(current, kc)}) for document {${context.idText}}`,
    );
  }
  return { value, noop: false };
}

/** SafeNum::addInternal; undefined is SafeNum's invalid result (int64 overflow). */
function safeAdd(a: unknown, ka: number, b: unknown, kb: number): BsonNumber | undefined {
  if (ka === K_INT && kb === K_INT) return intOrLong(intOf(a) + intOf(b));
  if (ka <= K_LONG && kb <= K_LONG) {
    const s = addI64(integerOf(a, ka), integerOf(b, kb));
    return s === undefined ? undefined : makeLong(s);
  }
  if (ka === K_DECIMAL || kb === K_DECIMAL) return decimalAdd(decimalOf(a, ka), decimalOf(b, kb));
  return new Double(doubleOf(a, ka) + doubleOf(b, kb));
}

/** SafeNum::mulInternal; undefined is SafeNum's invalid result (int64 overflow). */
function safeMultiply(a: unknown, ka: number, b: unknown, kb: number): BsonNumber | undefined {
  if (ka === K_INT && kb === K_INT) return intOrLong(mulI64(intOf(a), intOf(b))!);
  if (ka <= K_LONG && kb <= K_LONG) {
    const p = mulI64(integerOf(a, ka), integerOf(b, kb));
    return p === undefined ? undefined : makeLong(p);
  }
  if (ka === K_DECIMAL || kb === K_DECIMAL) return decimalMultiply(decimalOf(a, ka), decimalOf(b, kb));
  return new Double(doubleOf(a, ka) * doubleOf(b, kb));
}

/** SafeNum::isIdentical: the same type and an equal value. */
function isIdentical(result: BsonNumber, original: unknown, ko: number): boolean {
  const kr = kindOf(result);
  if (kr !== ko) return false;
  switch (kr) {
    case K_INT:
      return intOf(result) === intOf(original);
    case K_LONG: {
      const x = longOf(result);
      const y = longOf(original);
      return typeof x === typeof y && x === y;
    }
    case K_DOUBLE:
      return doubleOf(result, kr) === doubleOf(original, ko);
    default:
      return decimalEquals(result as Decimal128, original as Decimal128);
  }
}

/** SafeNum::debugString: (NumberInt)42, (NumberLong)9223372036854775807, (NumberDouble)0.1, ... */
function safeNumDebugString(v: unknown, kind: number): string {
  switch (kind) {
    case K_INT:
      return `(NumberInt)${intOf(v)}`;
    case K_LONG:
      return `(NumberLong)${String(longOf(v))}`;
    case K_DOUBLE:
      return `(NumberDouble)${cppDoubleText(doubleOf(v, kind))}`;
    default:
      return `(NumberDecimal)${(v as Decimal128).toString()}`;
  }
}

// ---------------------------------------------------------------------------------------------
// $sum, $avg

/**
 * DoubleDoubleSummation (src/mongo/util/summation.h): a compensated sum kept as an unevaluated
 * pair (sum, addend) via Fast2Sum and 2Sum, plus a plain sum used when the pair turns NaN (so
 * infinities survive). Int64s are added as two exact halves.
 */
export class DoubleDoubleSummation {
  private sum = 0;
  private addend = 0;
  private special = 0;

  addDouble(x: number): void {
    this.special += x;
    // Fast2Sum(x, addend)
    let s = x + this.addend;
    const z = s - x;
    const t = this.addend - z;
    x = s;
    this.addend = t;
    // 2Sum(sum, x)
    s = this.sum + x;
    const aPrime = s - x;
    const bPrime = s - aPrime;
    const deltaA = this.sum - aPrime;
    const deltaB = x - bPrime;
    this.sum = s;
    this.addend += deltaA + deltaB;
  }

  /** addLong: high = x / 2^32 * 2^32 (C++ truncating division), low = x - high. */
  addLong(x: number | bigint): void {
    if (typeof x === 'bigint') {
      const high = (x / 4294967296n) * 4294967296n;
      this.addDouble(Number(x - high));
      this.addDouble(Number(high));
    } else {
      const high = Math.trunc(x / TWO_POW_32) * TWO_POW_32;
      this.addDouble(x - high);
      this.addDouble(high);
    }
  }

  /** The double nearest the sum. */
  getDouble(): number {
    return this.sum !== this.sum ? this.special : this.sum;
  }

  /** Whether the sum rounds to an integer within int64. */
  fitsLong(): boolean {
    if (this.sum > -TWO_POW_63 && this.sum < TWO_POW_63) return true;
    if (this.sum === TWO_POW_63) return this.addend < -0.5;
    if (this.sum === -TWO_POW_63) return this.addend >= -0.5;
    return false;
  }

  /** The sum rounded to the nearest integer, halfway cases away from zero (fitsLong() first). */
  getLong(): bigint {
    if (!this.fitsLong()) throw new MongoError(ErrorCodes.Overflow, 'sum out of range of a 64-bit signed integer');
    if (this.sum === TWO_POW_63) return big(llround(this.addend)) + 9223372036854775808n;
    const s = big(llround(this.sum));
    return s + big(llround(this.sum - Number(s) + this.addend));
  }

  /** Decimal128(sum, 34 digits) + Decimal128(addend, 34 digits) (about 32 digits of precision). */
  getDecimal(): Decimal128 {
    if (!Number.isFinite(this.sum)) return decimalFromDouble(this.special, 34);
    return decimalAdd(decimalFromDouble(this.sum, 34), decimalFromDouble(this.addend, 34));
  }
}

/** Decimal128() in mongod: 0E+0. */
const DECIMAL_ZERO = decimalFromBigInt(0n);

/** Adds a Long's value to a DoubleDoubleSummation without BigInt (same split as addLong). */
function addLongTo(dd: DoubleDoubleSummation, v: unknown): void {
  if (typeof v === 'bigint') {
    dd.addLong(v);
    return;
  }
  const l = v as LongBits;
  const hi = l.high | 0;
  const lo = l.low >>> 0;
  if (hi < 0 && lo !== 0) {
    // truncation toward zero: high = (hi + 1) * 2^32, low = lo - 2^32
    dd.addDouble(lo - TWO_POW_32);
    dd.addDouble((hi + 1) * TWO_POW_32);
  } else {
    dd.addDouble(lo);
    dd.addDouble(hi * TWO_POW_32);
  }
}

/**
 * The running total $sum and $avg keep (AccumulatorSum/AccumulatorAvg): ints, longs and doubles go
 * into one DoubleDoubleSummation, decimals into a decimal total (starting at 0E+0), and the widest
 * type seen is remembered.
 */
class NumericTotal {
  widest = K_INT;
  readonly nonDecimal = new DoubleDoubleSummation();
  decimalTotal = DECIMAL_ZERO;

  /** Adds a number; false, and nothing added, for anything else. */
  add(v: unknown): boolean {
    const kind = kindOf(v);
    switch (kind) {
      case K_INT:
        this.nonDecimal.addDouble(intOf(v));
        break;
      case K_LONG:
        addLongTo(this.nonDecimal, v);
        break;
      case K_DOUBLE:
        this.nonDecimal.addDouble(doubleOf(v, kind));
        break;
      case K_DECIMAL:
        this.decimalTotal = decimalAdd(this.decimalTotal, v as Decimal128);
        break;
      default:
        return false;
    }
    if (kind > this.widest) this.widest = kind;
    return true;
  }

  /** The decimal total plus the non-decimal sum converted with 34 digits. */
  decimal(): Decimal128 {
    return decimalAdd(this.decimalTotal, this.nonDecimal.getDecimal());
  }
}

/**
 * $sum (AccumulatorSum, non-constant operand): non-numbers are ignored. The result type is the
 * widest seen: int (or long) when the sum fits int64, long, else double; with a decimal, the
 * decimal total plus the non-decimal sum. Empty: int 0.
 */
export class SumAccumulator {
  private readonly total = new NumericTotal();

  add(v: unknown): void {
    this.total.add(v);
  }

  result(): BsonNumber {
    const dd = this.total.nonDecimal;
    switch (this.total.widest) {
      case K_INT:
        if (dd.fitsLong()) return intOrLong(narrow(dd.getLong()));
        return new Double(dd.getDouble());
      case K_LONG:
        if (dd.fitsLong()) return Long.fromBigInt(dd.getLong());
        return new Double(dd.getDouble());
      case K_DOUBLE:
        return new Double(dd.getDouble());
      default:
        return this.total.decimal();
    }
  }
}

/**
 * $avg (AccumulatorAvg): non-numbers are ignored (and not counted); no numbers → null; a decimal
 * among them → the decimal total / count, in decimal; else the double sum / count, a double.
 */
export class AvgAccumulator {
  private readonly total = new NumericTotal();
  private count = 0;

  add(v: unknown): void {
    if (this.total.add(v)) this.count++;
  }

  result(): Double | Decimal128 | null {
    if (this.count === 0) return null;
    if (this.total.widest === K_DECIMAL) return decimalDivide(this.total.decimal(), decimalFromBigInt(BigInt(this.count)));
    return new Double(this.total.nonDecimal.getDouble() / this.count);
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison (delegates to the exact cross-type order of src/bson/bsonOrder.ts)

/**
 * mongod's comparison of two numbers of any types, exactly (compare_numbers.h): -1, 0 or 1.
 * NaN equals NaN and sorts below every other number; 0 equals -0; 1 equals 1.0 and Decimal "1.00".
 */
export function compareNumbers(a: BsonNumber | number | bigint, b: BsonNumber | number | bigint): number {
  return compareValues(a, b);
}

/** Whether two numbers are equal in mongod's comparison (see {@link compareNumbers}). */
export function numberEquals(a: BsonNumber | number | bigint, b: BsonNumber | number | bigint): boolean {
  return compareValues(a, b) === 0;
}
