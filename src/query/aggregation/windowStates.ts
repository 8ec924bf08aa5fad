/**
 * The states of the window functions: the removable ones a sliding window adds values to and
 * removes values from (oldest first), and the accumulators that exist only as window functions.
 * A state's value is what mongod's is after the same adds and removes: the removable $sum keeps
 * one running AccumulatorSum of the values added and of the values removed (negated), so the
 * result type and the double rounding follow that history, as mongod's do.
 *
 * Sources (mongodb/mongo 7.0, src/mongo/db/pipeline/):
 * - window_function/window_function_sum.h/.cpp RemovableSum: NaN and infinities counted apart;
 *   a decimal total narrowed to a double (doubles seen) or an int/long when no decimal remains,
 *   a double total to an int/long when no double remains, a long to an int when it fits.
 * - window_function_avg.h: the sum above divided by the count of numbers (decimal division for a
 *   decimal sum, NaN and infinities returned as they are); null when empty.
 * - window_function_stddev.h: a removable Welford update over two AccumulatorSums; null while a
 *   non-finite number is in the window; int 0 when the squared differences go negative or for
 *   the population deviation of one number.
 * - window_function_min_max.h: a multiset in the value order (nullish ignored): the oldest of the
 *   least values, the newest of the greatest; $minN/$maxN the first n in that order.
 * - window_function_add_to_set.h: the distinct values in the value order; window_function_push.h.
 * - window_function_first_last_n.h, window_function_top_bottom_n.h (the whole multimap of sort
 *   keys kept, top the first n, bottom the last n).
 * - window_function_covariance.cpp (the same state for the accumulator), window_function_integral
 *   .cpp (5423900-5423902, the trapezoidal rule over a removable $sum).
 * - window_function_percentile.h ($percentile and $median over a removable window: the value at
 *   rank computeTrueRank(n, p) of the numbers in order; the left-unbounded ones are the $group
 *   accumulators).
 * - accumulator_rank.cpp ($rank, $denseRank, $documentNumber: nullish values rank together,
 *   arrays by their sort key), accumulator_locf.cpp, accumulator_exp_moving_avg.cpp.
 * Missing values inside an output array are dropped (Value::addToBsonArray skips them).
 */
import { Decimal128, Double, Int32, Long } from 'bson';
import { LocationCodes } from '../../errors.js';
import {
  decimalAdd,
  decimalFromBigInt,
  decimalIsInfinite,
  decimalIsNaN,
  decimalIsNegative,
  decimalMultiply,
  decimalNegate,
  decimalSubtract,
  decimalToDouble,
  decimalToInt64,
} from '../decimal128.js';
import { coerceToDouble, intOrLong, intValue, longValue, nullish, typeOf } from '../expression/values.js';
import type { ValueCompare } from '../match/collation.js';
import { BSON_TYPE } from '../match/values.js';
import { add, divide, isNumeric, multiply, subtract, SumAccumulator, toDecimal, type BsonNumber } from '../numeric.js';
import { sortKeyPart, type Accumulator, type TopBottomInput } from './accumulators.js';
import { fail } from './errors.js';

/** A removable window function's state: values leave in the order they came. `undefined` is missing. */
export interface WindowState {
  add(value: unknown): void;
  remove(value: unknown): void;
  value(): unknown;
}

/** A state that is never removed from, as the accumulator of a left-unbounded window. */
export function stateAccumulator(state: WindowState): Accumulator {
  return { add: (v) => state.add(v), result: () => state.value() };
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;
const TWO_POW_63 = 9223372036854775808;

const decimalNaN = (): Decimal128 => Decimal128.fromString('NaN');
const decimalInf = (negative: boolean): Decimal128 => Decimal128.fromString(negative ? '-Infinity' : 'Infinity');

/** Value::isNaN. */
function isNaNValue(v: unknown): boolean {
  const t = typeOf(v);
  if (t === BSON_TYPE.double) return Number.isNaN(coerceToDouble(v));
  return t === BSON_TYPE.decimal && decimalIsNaN(v as Decimal128);
}

/** Value::isInfinite. */
function isInfiniteValue(v: unknown): boolean {
  const t = typeOf(v);
  if (t === BSON_TYPE.double) {
    const d = coerceToDouble(v);
    return d === Infinity || d === -Infinity;
  }
  return t === BSON_TYPE.decimal && decimalIsInfinite(v as Decimal128);
}

/** llround: the nearest integer, halves away from zero. */
function llround(x: number): number {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

// ---------------------------------------------------------------------------------------------
// Sums

/** RemovableSum (WindowFunctionSum). */
export class RemovableSum implements WindowState {
  private readonly sum = new SumAccumulator();
  private posInfinite = 0;
  private negInfinite = 0;
  private nans = 0;
  private doubles = 0;
  private decimals = 0;

  add(value: unknown): void {
    this.update(value, 1);
  }

  remove(value: unknown): void {
    this.update(value, -1);
  }

  private update(v: unknown, q: 1 | -1): void {
    switch (typeOf(v)) {
      case BSON_TYPE.int: {
        const x = intValue(v);
        if (x === INT32_MIN && q === -1) {
          this.sum.add(new Int32(INT32_MAX));
          this.sum.add(new Int32(1));
        } else {
          this.sum.add(new Int32(x * q));
        }
        return;
      }
      case BSON_TYPE.long: {
        const x = longValue(v);
        if (x === INT64_MIN && q === -1) {
          this.sum.add(Long.fromBigInt(INT64_MAX));
          this.sum.add(new Int32(1));
        } else {
          this.sum.add(Long.fromBigInt(x * BigInt(q)));
        }
        return;
      }
      case BSON_TYPE.double: {
        this.doubles += q;
        const x = coerceToDouble(v);
        if (Number.isNaN(x)) this.nans += q;
        else if (x === Infinity) this.posInfinite += q;
        else if (x === -Infinity) this.negInfinite += q;
        else this.sum.add(new Double(x * q));
        return;
      }
      case BSON_TYPE.decimal: {
        this.decimals += q;
        const d = v as Decimal128;
        if (decimalIsNaN(d)) this.nans += q;
        else if (decimalIsInfinite(d)) {
          if (decimalIsNegative(d)) this.negInfinite += q;
          else this.posInfinite += q;
        } else {
          this.sum.add(q === -1 ? decimalNegate(d) : d);
        }
        return;
      }
      default:
    }
  }

  value(): BsonNumber {
    const decimal = this.decimals > 0;
    if (this.nans > 0 || (this.posInfinite > 0 && this.negInfinite > 0)) return decimal ? decimalNaN() : new Double(NaN);
    if (this.posInfinite > 0) return decimal ? decimalInf(false) : new Double(Infinity);
    if (this.negInfinite > 0) return decimal ? decimalInf(true) : new Double(-Infinity);
    const val = this.sum.result();
    switch (typeOf(val)) {
      case BSON_TYPE.decimal: {
        if (decimal) return val;
        const d = val as Decimal128;
        if (this.doubles > 0) return new Double(decimalToDouble(d));
        const asLong = decimalToInt64(d, 'halfEven');
        return asLong.invalid ? new Double(decimalToDouble(d)) : intOrLong(asLong.value);
      }
      case BSON_TYPE.double: {
        const x = coerceToDouble(val);
        if (this.doubles === 0 && x > -TWO_POW_63 && x < TWO_POW_63) return intOrLong(BigInt(llround(x)));
        return val;
      }
      case BSON_TYPE.long:
        return intOrLong(longValue(val));
      default:
        return val;
    }
  }
}

/** WindowFunctionAvg. */
export class RemovableAvg implements WindowState {
  private readonly sum = new RemovableSum();
  private count = 0;

  add(value: unknown): void {
    if (!isNumeric(value)) return;
    this.sum.add(value);
    this.count += 1;
  }

  remove(value: unknown): void {
    if (!isNumeric(value)) return;
    this.sum.remove(value);
    this.count -= 1;
  }

  value(): unknown {
    if (this.count === 0) return null;
    const sum = this.sum.value();
    switch (typeOf(sum)) {
      case BSON_TYPE.double: {
        const x = coerceToDouble(sum);
        return Number.isFinite(x) ? new Double(x / this.count) : sum;
      }
      case BSON_TYPE.decimal:
        return isNaNValue(sum) || isInfiniteValue(sum) ? sum : divide(sum, decimalFromBigInt(BigInt(this.count)));
      default:
        return new Double(coerceToDouble(sum) / this.count);
    }
  }
}

/** WindowFunctionStdDev. */
export class RemovableStdDev implements WindowState {
  private sum = new SumAccumulator();
  private m2 = new SumAccumulator();
  private count = 0;
  private nonFinite = 0;

  constructor(private readonly sample: boolean) {}

  add(value: unknown): void {
    this.update(value, 1);
  }

  remove(value: unknown): void {
    this.update(value, -1);
  }

  private reset(): void {
    this.sum = new SumAccumulator();
    this.m2 = new SumAccumulator();
    this.count = 0;
    this.nonFinite = 0;
  }

  private update(v: unknown, q: 1 | -1): void {
    if (!isNumeric(v)) return;
    if (isNaNValue(v) || isInfiniteValue(v)) {
      this.nonFinite += q;
      this.count += q;
      return;
    }
    if (this.count === 0) {
      this.count += 1;
      this.sum.add(v);
      return;
    }
    if (this.count + q === 0) {
      this.reset();
      return;
    }
    const x0 = coerceToDouble(v);
    const x = this.count * x0 - coerceToDouble(this.sum.result());
    this.count += q;
    this.sum.add(new Double(x0 * q));
    this.m2.add(new Double((x * x * q) / (this.count * (this.count - q))));
  }

  value(): unknown {
    if (this.nonFinite > 0) return null;
    const adjusted = this.sample ? this.count - 1 : this.count;
    if (adjusted === 0) return null;
    const squared = coerceToDouble(this.m2.result());
    if (squared < 0 || (!this.sample && this.count === 1)) {
      this.m2 = new SumAccumulator();
      return new Int32(0);
    }
    return new Double(Math.sqrt(squared / adjusted));
  }
}

// ---------------------------------------------------------------------------------------------
// Ordered multisets

/** Values in ascending order, equal ones in insertion order (std::multiset). */
class Multiset<T> {
  readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Inserts after the equal ones. */
  insert(v: T): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.items[mid]!, v) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, v);
  }

  /** Removes the oldest equal one. */
  erase(v: T): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.items[mid]!, v) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.items.length && this.compare(this.items[lo]!, v) === 0) this.items.splice(lo, 1);
  }
}

/** The window's non-nullish values in the value order (what $min/$max and their N forms keep). */
abstract class OrderedValues implements WindowState {
  protected readonly set: Multiset<unknown>;
  constructor(compare: ValueCompare) {
    this.set = new Multiset(compare);
  }
  add(value: unknown): void {
    if (!nullish(value)) this.set.insert(value);
  }
  remove(value: unknown): void {
    if (!nullish(value)) this.set.erase(value);
  }
  abstract value(): unknown;
}

/** WindowFunctionMin / WindowFunctionMax. */
export class RemovableMinMax extends OrderedValues {
  constructor(
    private readonly max: boolean,
    compare: ValueCompare,
  ) {
    super(compare);
  }
  value(): unknown {
    const items = this.set.items;
    if (items.length === 0) return null;
    return this.max ? items[items.length - 1] : items[0];
  }
}

/** WindowFunctionMinN / WindowFunctionMaxN. */
export class RemovableMinMaxN extends OrderedValues {
  constructor(
    private readonly max: boolean,
    private readonly n: number,
    compare: ValueCompare,
  ) {
    super(compare);
  }
  value(): unknown {
    const items = this.max ? [...this.set.items].reverse() : this.set.items;
    return items.slice(0, this.n);
  }
}

/** WindowFunctionAddToSet: the distinct values, in the value order. */
export class RemovableAddToSet implements WindowState {
  private readonly set: Multiset<unknown>;
  constructor(private readonly compare: ValueCompare) {
    this.set = new Multiset(compare);
  }
  add(value: unknown): void {
    if (value !== undefined) this.set.insert(value);
  }
  remove(value: unknown): void {
    if (value !== undefined) this.set.erase(value);
  }
  value(): unknown {
    const out: unknown[] = [];
    for (const v of this.set.items) if (out.length === 0 || this.compare(out[out.length - 1], v) !== 0) out.push(v);
    return out;
  }
}

/** WindowFunctionPush. */
export class RemovablePush implements WindowState {
  private readonly values: unknown[] = [];
  add(value: unknown): void {
    if (value !== undefined) this.values.push(value);
  }
  remove(value: unknown): void {
    if (value !== undefined) this.values.shift();
  }
  value(): unknown {
    return [...this.values];
  }
}

/** WindowFunctionFirstN / WindowFunctionLastN (missing values kept in the count, dropped from the output). */
export class RemovableFirstLastN implements WindowState {
  private readonly values: unknown[] = [];
  constructor(
    private readonly last: boolean,
    private readonly n: number,
  ) {}
  add(value: unknown): void {
    this.values.push(value);
  }
  remove(): void {
    this.values.shift();
  }
  value(): unknown {
    const kept = this.last ? this.values.slice(Math.max(0, this.values.length - this.n)) : this.values.slice(0, this.n);
    return kept.filter((v) => v !== undefined);
  }
}

interface KeyedOutput {
  readonly key: readonly unknown[];
  readonly out: unknown;
}

/** WindowFunctionTopBottomN: every entry kept in sortBy order; top the first n, bottom the last n. */
export class RemovableTopBottom implements WindowState {
  private readonly map: Multiset<KeyedOutput>;
  constructor(
    private readonly bottom: boolean,
    private readonly single: boolean,
    private readonly n: number,
    private readonly descending: readonly boolean[],
    private readonly compare: ValueCompare,
  ) {
    this.map = new Multiset((a, b) => {
      for (let i = 0; i < a.key.length; i++) {
        const c = compare(a.key[i], b.key[i]);
        if (c !== 0) return descending[i] ? -c : c;
      }
      return 0;
    });
  }
  private keyed(v: unknown): KeyedOutput {
    const input = v as TopBottomInput;
    return {
      key: input.keys.map((k, i) => sortKeyPart(k, this.descending[i]!, this.compare)),
      out: input.out === undefined ? null : input.out,
    };
  }
  add(value: unknown): void {
    this.map.insert(this.keyed(value));
  }
  remove(value: unknown): void {
    this.map.erase(this.keyed(value));
  }
  value(): unknown {
    const items = this.map.items;
    const kept = this.bottom ? items.slice(Math.max(0, items.length - this.n)) : items.slice(0, this.n);
    const outs = kept.map((e) => e.out);
    if (!this.single) return outs;
    return outs.length === 0 ? null : outs[0];
  }
}

/** WindowFunctionPercentile / WindowFunctionMedian: the exact percentile of the numbers, as doubles. */
export class RemovableQuantile implements WindowState {
  private readonly set = new Multiset<number>((a, b) => (a < b || (Number.isNaN(a) && !Number.isNaN(b)) ? -1 : b < a || Number.isNaN(b) ? 1 : 0));
  constructor(
    private readonly median: boolean,
    private readonly ps: readonly number[],
  ) {}
  add(value: unknown): void {
    if (isNumeric(value)) this.set.insert(coerceToDouble(value));
  }
  remove(value: unknown): void {
    if (isNumeric(value)) this.set.erase(coerceToDouble(value));
  }
  value(): unknown {
    const values = this.set.items;
    const n = values.length;
    // computeTrueRank: p >= 1 is the last value, else ceil(n * p) - 1 (at least 0).
    const at = (p: number): Double => new Double(values[p >= 1 ? n - 1 : Math.max(0, Math.ceil(n * p) - 1)]!);
    if (this.median) return n === 0 ? null : at(0.5);
    return this.ps.map((p) => (n === 0 ? null : at(p)));
  }
}

// ---------------------------------------------------------------------------------------------
// Covariance and integral

/** convertNonFiniteInputValue: the NaN or infinity a pair holding one contributes to the sum. */
function nonFiniteOf(pair: readonly unknown[]): BsonNumber {
  let pos = 0;
  let neg = 0;
  let nans = 0;
  let decimal = false;
  for (const v of pair) {
    if (isNaNValue(v)) {
      nans += 1;
    } else if (typeOf(v) === BSON_TYPE.decimal) {
      if (isInfiniteValue(v)) {
        if (decimalIsNegative(v as Decimal128)) neg += 1;
        else pos += 1;
      }
      decimal = true;
    } else {
      const d = coerceToDouble(v);
      if (d === Infinity) pos += 1;
      else if (d === -Infinity) neg += 1;
    }
  }
  if (nans > 0 || pos * neg > 0) return decimal ? decimalNaN() : new Double(NaN);
  if (decimal) return decimalInf(pos === 0);
  return new Double(pos > 0 ? Infinity : -Infinity);
}

/** WindowFunctionCovariance: the input is a pair of numbers; anything else is ignored. */
export class WindowCovariance implements WindowState {
  private count = 0;
  private meanX = new RemovableAvg();
  private meanY = new RemovableAvg();
  private cXY = new RemovableSum();

  constructor(private readonly sample: boolean) {}

  private static pair(v: unknown): readonly unknown[] | undefined {
    return Array.isArray(v) && v.length === 2 && isNumeric(v[0]) && isNumeric(v[1]) ? v : undefined;
  }

  add(value: unknown): void {
    const p = WindowCovariance.pair(value);
    if (p === undefined) return;
    if (p.some((x) => isNaNValue(x) || isInfiniteValue(x))) {
      this.cXY.add(nonFiniteOf(p));
      return;
    }
    this.count += 1;
    const dx = subtract(p[0], this.meanX.value());
    this.meanX.add(p[0]);
    this.meanY.add(p[1]);
    const dy = subtract(p[1], this.meanY.value());
    this.cXY.add(multiply(dx, dy));
  }

  remove(value: unknown): void {
    const p = WindowCovariance.pair(value);
    if (p === undefined) return;
    if (p.some((x) => isNaNValue(x) || isInfiniteValue(x))) {
      this.cXY.remove(nonFiniteOf(p));
      return;
    }
    this.count -= 1;
    if (this.count === 0) {
      this.meanX = new RemovableAvg();
      this.meanY = new RemovableAvg();
      this.cXY = new RemovableSum();
      return;
    }
    this.meanX.remove(p[0]);
    const dx = subtract(p[0], this.meanX.value());
    const dy = subtract(p[1], this.meanY.value());
    this.cXY.remove(multiply(dx, dy));
    this.meanY.remove(p[1]);
  }

  value(): unknown {
    if (this.count === 1 && !this.sample) return new Double(0);
    const adjusted = this.sample ? this.count - 1 : this.count;
    if (adjusted <= 0) return null;
    const out = this.cXY.value();
    if (typeOf(out) === BSON_TYPE.decimal) return divide(out, new Double(adjusted));
    return new Double(coerceToDouble(out) / adjusted);
  }
}

/** WindowFunctionIntegral: the input is [sortBy value, input value]. */
export class WindowIntegral implements WindowState {
  private readonly values: Array<readonly unknown[]> = [];
  private readonly integral = new RemovableSum();
  private nans = 0;

  constructor(private readonly unitMillis: number | undefined) {}

  private checked(value: unknown): readonly unknown[] {
    const ok = Array.isArray(value) && value.length === 2 && isNumeric(value[1]) && (isNumeric(value[0]) || value[0] instanceof Date);
    if (!ok) {
      fail(
        LocationCodes.WindowIntegralInput,
        'The input value of $integral window function must be a vector of 2 value, the first value must be numeric or date type and the second must be numeric.',
      );
    }
    const pair = value as unknown[];
    if (this.unitMillis !== undefined) {
      if (!(pair[0] instanceof Date)) fail(LocationCodes.WindowIntegralNeedsDate, "$integral with 'outputUnit' expects the sortBy field to be a Date");
    } else if (!isNumeric(pair[0])) {
      fail(LocationCodes.WindowIntegralNeedsNumber, "$integral (with no 'outputUnit') expects the sortBy field to be numeric");
    }
    return pair;
  }

  /** integralOfTwoPointsByTrapezoidalRule. */
  private static trapezoid(pre: readonly unknown[], next: readonly unknown[]): unknown {
    if ([pre[0], pre[1], next[0], next[1]].some(isNaNValue)) return new Int32(0);
    const dates = pre[0] instanceof Date && next[0] instanceof Date;
    if (!dates && !(isNumeric(pre[0]) && isNumeric(next[0]))) return new Int32(0);
    const delta = subtract(next[0], pre[0]);
    const sumY = add(next[1], pre[1]);
    return divide(multiply(sumY, delta), new Double(2));
  }

  add(value: unknown): void {
    const pair = this.checked(value);
    if (isNaNValue(pair[0]) || isNaNValue(pair[1])) this.nans += 1;
    const last = this.values[this.values.length - 1];
    if (last !== undefined) this.integral.add(WindowIntegral.trapezoid(last, pair));
    this.values.push(pair);
  }

  remove(value: unknown): void {
    const pair = this.checked(value);
    if (isNaNValue(pair[0]) || isNaNValue(pair[1])) this.nans -= 1;
    this.values.shift();
    const first = this.values[0];
    if (first !== undefined) this.integral.remove(WindowIntegral.trapezoid(pair, first));
  }

  value(): unknown {
    if (this.values.length === 0) return null;
    if (this.nans > 0) return new Double(NaN);
    const sum = this.integral.value();
    return this.unitMillis === undefined ? sum : divide(sum, Long.fromNumber(this.unitMillis));
  }
}

// ---------------------------------------------------------------------------------------------
// Window-only accumulators

/** $rank, $denseRank and $documentNumber over the sortBy value of each document in order. */
export class RankAccumulator implements Accumulator {
  private rank = 0;
  private sameRank = 1;
  private last: { readonly value: unknown } | undefined;

  constructor(
    private readonly kind: '$rank' | '$denseRank' | '$documentNumber',
    private readonly descending: boolean,
    private readonly compare: ValueCompare,
  ) {}

  /** isSameValue: nullish values are one, arrays compare by their sort key. */
  private same(a: unknown, b: unknown): boolean {
    if (nullish(a) && nullish(b)) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
      return this.compare(sortKeyPart(a, this.descending, this.compare), sortKeyPart(b, this.descending, this.compare)) === 0;
    }
    return this.compare(a, b) === 0;
  }

  add(value: unknown): void {
    if (this.kind === '$documentNumber') {
      this.rank += 1;
      return;
    }
    const isNew = this.last === undefined || !this.same(this.last.value, value);
    if (this.kind === '$denseRank') {
      if (isNew) {
        this.rank += 1;
        this.last = { value };
      }
    } else if (isNew) {
      this.rank += this.sameRank;
      this.sameRank = 1;
      this.last = { value };
    } else {
      this.sameRank += 1;
    }
  }

  result(): unknown {
    return intOrLong(this.rank);
  }
}

/** AccumulatorLocf: the last non-nullish value (null before one). */
export class LocfAccumulator implements Accumulator {
  private last: unknown = null;
  add(value: unknown): void {
    if (!nullish(value)) this.last = value;
  }
  result(): unknown {
    return this.last;
  }
}

const DECIMAL_ONE = decimalFromBigInt(1n);

/** AccumulatorExpMovingAvg: in decimal, a double result unless a decimal was seen. */
export class ExpMovingAvgAccumulator implements Accumulator {
  private current: Decimal128 | undefined;
  private decimal = false;
  constructor(private readonly alpha: Decimal128) {}
  add(value: unknown): void {
    if (!isNumeric(value)) return;
    if (typeOf(value) === BSON_TYPE.decimal) this.decimal = true;
    const d = toDecimal(value as BsonNumber);
    this.current =
      this.current === undefined ? d : decimalAdd(decimalMultiply(d, this.alpha), decimalMultiply(this.current, decimalSubtract(DECIMAL_ONE, this.alpha)));
  }
  result(): unknown {
    if (this.current === undefined) return null;
    return this.decimal ? this.current : new Double(decimalToDouble(this.current));
  }
}
