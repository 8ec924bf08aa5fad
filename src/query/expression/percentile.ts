/**
 * $percentile and $median: the expressions, and what the $group accumulators
 * (../aggregation/accumulators.ts) share with them. mongod 7.0: src/mongo/db/pipeline/
 * accumulator_percentile.cpp/.idl, expression_from_accumulator_quantile.h, percentile_algo.h,
 * percentile_algo_discrete.cpp, percentile_algo_tdigest.cpp/.h.
 *
 * Parsing (both forms): the spec must be a document (7436200 / 7436201 for the expressions,
 * 7429703 / 7436100 for the accumulators), read by the IDL as a strict struct named "$percentile"
 * / "$median": fields in order, an unknown one 40415, 'method' a string (TypeMismatch) equal to
 * 'approximate' (BadValue: 7.0 has only that method), then 40414 for the first missing of input,
 * p, method. Then 'input' is parsed, then 'p': an expression that must be constant
 * (7750300) and evaluate to a non-empty array (7750301) of numbers (7750302) in [0, 1] (7750303).
 * A 'p' that reads variables (mongod folds the command's `let` constants) is refused with 115.
 *
 * Percentiles are computed on the numbers as doubles (coerceToDouble; non-numbers are ignored,
 * NaN left out, infinities counted apart); the results are Doubles ($percentile: an array, one per
 * p, of nulls when no number was seen; $median: a Double or null).
 *
 * - The expression (ExpressionFromAccumulatorQuantile::evaluate): a number gives itself for every
 *   p; a non-empty array the discrete percentiles of its numbers (DiscretePercentile, even for
 *   'approximate'): the value of 0-based rank computeTrueRank(n, p) = p >= 1 ? n - 1 :
 *   max(0, ceil(n * p) - 1) in ascending order, the -inf values first and the +inf values last;
 *   anything else nulls.
 * - The accumulator uses a t-digest (TDigest with the k2 scaling function, delta =
 *   internalQueryTdigestDelta: 2000 in the sources read, a buffer of 5 * delta inputs). While no
 *   two inputs share a centroid, every centroid has weight 1 and computePercentile returns the
 *   mean of the one at that same rank: the discrete percentile again. Whether two inputs share a
 *   centroid is decided as merge() decides it, checked here with delta = 1000 (the smaller delta
 *   merges more, so the check holds for 1000 and 2000 alike): up to 1000 finite numbers. Beyond,
 *   the result is refused with 115 (the interpolated results are not reproduced). So are the
 *   cases where mongod answers p >= 1 / p <= 0 from its digest's initial _max
 *   (numeric_limits<double>::min()) or _min: no finite input, or none above DBL_MIN.
 * - A percentile that is a zero when the numbers hold both 0 and -0 is refused with 115 (mongod's
 *   std::sort / std::nth_element decide its sign); so is a NaN p (mongod's rank is then
 *   undefined behaviour).
 */
import { Double } from 'bson';
import { missingField, unknownField, wrongType } from '../../bson/idlErrors.js';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { elementText, valueText as elementValueText } from '../match/values.js';
import { computed, fail, isArgumentObject, refuse, type Node, type OperatorTable, type ParseContext, type Scope } from './node.js';
import { coerceToDouble, doubleText, isNumber, valueText } from './values.js';

export type QuantileOp = '$percentile' | '$median';

// ---------------------------------------------------------------------------------------------
// Parsing

/** The IDL parse of AccumulatorPercentileSpec / AccumulatorMedianSpec: the raw input and p. */
export function checkQuantileSpec(op: QuantileOp, spec: Readonly<Record<string, unknown>>): { readonly input: unknown; readonly p: unknown } {
  let hasInput = false;
  let hasP = false;
  let hasMethod = false;
  for (const k of Object.keys(spec)) {
    if (k === 'input') hasInput = true;
    else if (k === 'p' && op === '$percentile') hasP = true;
    else if (k === 'method') {
      const method = spec[k];
      if (typeof method !== 'string') throw wrongType(`${op}.method`, method, 'string');
      // AccumulatorPercentile::validatePercentileMethod (the IDL validator), accurate percentiles off
      if (method !== 'approximate') throw new MongoError(ErrorCodes.BadValue, "Currently only 'approximate' can be used as percentile 'method'.");
      hasMethod = true;
    } else {
      throw unknownField(`${op}.${k}`);
    }
  }
  if (!hasInput) throw missingField(`${op}.input`);
  if (op === '$percentile' && !hasP) throw missingField(`${op}.p`);
  if (!hasMethod) throw missingField(`${op}.method`);
  return { input: spec.input, p: spec.p };
}

/** A compiled 'p': its constancy and its evaluation. */
export interface CompiledP {
  readonly constant: boolean;
  evaluate(scope: Scope): unknown;
}

/** A constant expression reads nothing from its scope. */
const NO_SCOPE: Scope = { root: {}, current: {}, now: new Date(0), variables: new Map() };

const P_TEXT = "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: ";

/** Whether a spec names a variable ("$$name") anywhere. */
function readsVariables(spec: unknown): boolean {
  if (typeof spec === 'string') return spec.startsWith('$$');
  if (Array.isArray(spec)) return spec.some(readsVariables);
  if (isArgumentObject(spec)) return Object.values(spec).some(readsVariables);
  return false;
}

/** parseP: the percentiles, from the compiled 'p' and its spec. */
export function quantilePs(p: CompiledP, spec: unknown): number[] {
  if (!p.constant) {
    if (readsVariables(spec)) throw refuse("a $percentile 'p' that reads variables");
    throw fail(
      LocationCodes.PercentilePNotConstant,
      `The $percentile 'p' field must be an array of constant values, but found value: ${elementValueText(spec)}.`,
    );
  }
  const values = p.evaluate(NO_SCOPE);
  if (!Array.isArray(values) || values.length === 0) throw fail(LocationCodes.PercentilePNotArray, P_TEXT + valueText(values));
  return values.map((v: unknown) => {
    if (!isNumber(v)) throw fail(LocationCodes.PercentilePNotNumeric, P_TEXT + valueText(v));
    const x = coerceToDouble(v);
    if (x < 0 || x > 1) throw fail(LocationCodes.PercentilePOutOfRange, P_TEXT + doubleText(x));
    return x;
  });
}

// ---------------------------------------------------------------------------------------------
// Computing

/** numeric_limits<double>::min(): TDigest's initial _max. */
const DBL_MIN = 2.2250738585072014e-308;
/** The t-digest compaction parameter the exactness check assumes (see the header). */
const CHECK_DELTA = 1000;
/** TDigest::bufferCoeff. */
const BUFFER_COEFF = 5;
const SQRT_OF_2_RECIP = 1 / Math.sqrt(2);

/** TDigest::k2_limit(q, delta) = k2_inverse(1 + k2(q, delta), delta), evaluated as mongod does. */
function k2Limit(q: number, delta: number): number {
  const k = q <= 0.5 ? delta * SQRT_OF_2_RECIP * Math.sqrt(q) : delta - delta * SQRT_OF_2_RECIP * Math.sqrt(1 - q);
  const r = (1 + k) / delta;
  if (r <= 0.5) return 2 * r * r;
  const b = 1 - r;
  return 1 - 2 * b * b;
}

/**
 * Whether TDigest::merge of `n` sorted inputs into an empty digest keeps every input in its own
 * centroid: at cumulative weight w the next input joins the current centroid when
 * w + 2 <= n * k2_limit(w / n, delta). A near tie counts as a merge (a fused multiply-add in
 * mongod's build could round it either way).
 */
function singletonCentroids(n: number): boolean {
  if (n >= BUFFER_COEFF * CHECK_DELTA) return false;
  for (let w = 0; w + 1 < n; w++) {
    const qLimit = n * k2Limit(w / n, CHECK_DELTA);
    if (w + 2 <= qLimit * (1 + 1e-9)) return false;
  }
  return true;
}

/** The numbers a percentile is taken of: NaN left out, infinities counted apart. */
export class QuantileSamples {
  private readonly finite: number[] = [];
  private negInf = 0;
  private posInf = 0;

  add(x: number): void {
    if (x !== x) return;
    if (x === Infinity) this.posInf++;
    else if (x === -Infinity) this.negInf++;
    else this.finite.push(x);
  }

  /** DiscretePercentile::computePercentiles; undefined when no number was added. */
  discrete(ps: readonly number[], op: QuantileOp): number[] | undefined {
    if (this.empty()) return undefined;
    const sorted = this.sorted();
    return ps.map((p) => this.at(sorted, p, op));
  }

  /** The t-digest's percentiles (TDigest::computePercentiles) where they are the discrete ones (else 115). */
  approximate(ps: readonly number[], op: QuantileOp): number[] | undefined {
    if (this.empty()) return undefined;
    const n = this.finite.length;
    if (!singletonCentroids(n)) throw refuse(`the ${op} accumulator over more than 1000 numbers (its t-digest merges them into centroids)`);
    const sorted = this.sorted();
    return ps.map((p) => {
      if ((p >= 1 && this.posInf === 0 && (n === 0 || sorted[n - 1]! < DBL_MIN)) || (p <= 0 && this.negInf === 0 && n === 0)) {
        throw refuse(`the ${op} accumulator's ${p >= 1 ? 'maximum' : 'minimum'} when mongod reads its t-digest's initial value`);
      }
      return this.at(sorted, p, op);
    });
  }

  private empty(): boolean {
    return this.finite.length === 0 && this.negInf === 0 && this.posInf === 0;
  }

  private sorted(): Float64Array {
    return Float64Array.from(this.finite).sort();
  }

  /** The value of rank computeTrueRank(n, p), the infinities at the ends. */
  private at(sorted: Float64Array, p: number, op: QuantileOp): number {
    if (p !== p) throw refuse(`a NaN percentile in ${op}`);
    const total = sorted.length + this.negInf + this.posInf;
    const rank = p >= 1 ? total - 1 : Math.max(0, Math.ceil(total * p) - 1);
    if (this.negInf > 0 && rank < this.negInf) return -Infinity;
    if (this.posInf > 0 && rank >= sorted.length + this.negInf) return Infinity;
    const x = sorted[rank - this.negInf]!;
    // mongod's sort leaves the order of 0 and -0 unspecified
    if (x === 0 && mixedZeros(sorted)) throw refuse(`a ${op} that is a zero of numbers holding both 0 and -0 (mongod's sort order decides its sign)`);
    return x;
  }
}

function mixedZeros(values: Float64Array): boolean {
  let negative = false;
  let positive = false;
  for (const y of values) {
    if (y !== 0) continue;
    if (Object.is(y, -0)) negative = true;
    else positive = true;
  }
  return negative && positive;
}

/** AccumulatorPercentile / AccumulatorMedian::formatFinalValue. */
export function quantileResult(op: QuantileOp, count: number, values: readonly number[] | undefined): unknown {
  if (op === '$median') return values === undefined ? null : new Double(values[0]!);
  if (values === undefined) return Array.from({ length: count }, () => null);
  return values.map((x) => new Double(x));
}

// ---------------------------------------------------------------------------------------------
// The expressions

function parseQuantile(op: QuantileOp) {
  return (arg: unknown, ctx: ParseContext): Node => {
    if (!isArgumentObject(arg)) {
      const code = op === '$percentile' ? LocationCodes.PercentileExprSpecNotObject : LocationCodes.MedianExprSpecNotObject;
      throw fail(code, `specification must be an object; found ${elementText(op, arg)}`);
    }
    const spec = checkQuantileSpec(op, arg);
    const input = ctx.parse(spec.input);
    const ps = op === '$median' ? [0.5] : quantilePs(ctx.parse(spec.p), spec.p);
    const e = input.evaluate;
    return computed((s) => {
      const v = e(s);
      if (isNumber(v)) {
        const x = coerceToDouble(v);
        return quantileResult(op, ps.length, ps.map(() => x));
      }
      if (!Array.isArray(v) || v.length === 0) return quantileResult(op, ps.length, undefined);
      const samples = new QuantileSamples();
      for (const el of v) if (isNumber(el)) samples.add(coerceToDouble(el));
      return quantileResult(op, ps.length, samples.discrete(ps, op));
    }, [input]);
  };
}

export const percentileOperators: OperatorTable = {
  $percentile: parseQuantile('$percentile'),
  $median: parseQuantile('$median'),
};
