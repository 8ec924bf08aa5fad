/**
 * The $group accumulators, on stored BSON values: results keep mongod's numeric types exactly
 * ($sum / $avg through query/numeric.ts), and values passed through ($first, $last, $min, $max,
 * $push, $addToSet, ...) are the input's own value objects.
 *
 * Sources (mongodb/mongo, src/mongo/db/pipeline/):
 * - accumulation_statement.cpp: 40234, 40235, 40236, 40238, 40237 (array operand), 15952 (unknown).
 * - accumulator_helpers.h parseCountAccumulator: {$count: {}} is {$sum: 1}; otherwise TypeMismatch.
 * - accumulator_sum.cpp / accumulator_avg.cpp: non-numbers ignored; the widest type; see numeric.ts.
 * - accumulator_first.cpp / accumulator_last.cpp: the first / last value, missing included
 *   (a missing result is output as null: GroupProcessorBase::makeDocument).
 * - accumulator_min_max.cpp: nullish values ignored; the value comparator (collation); null if none.
 * - accumulator_push.cpp / accumulator_add_to_set.cpp: missing ignored; the set by the value
 *   comparator (collation), its order unspecified (here: first occurrence).
 * - accumulator_merge_objects.cpp: nullish ignored, 40400 for a non-object, fields set in order.
 * - accumulator_std_dev.cpp: Welford over numbers as doubles; null when the count (minus one for
 *   the sample) is not positive.
 * - accumulator_multi.cpp: $firstN $lastN $minN $maxN ({input, n}: 5787801 / 5787900, 5787901,
 *   5787906, 5787907; n checked per group: 5787902, 5787903, 5787908).
 * - accumulator_multi.cpp: $top $bottom $topN $bottomN ({n, output, sortBy}: 5788001-5788005; the
 *   sort key of each document by sortBy (a $sort pattern: arrays by their least / greatest
 *   element, missing as null), ties keep the first seen; the kept outputs in sortBy order, a
 *   missing output null).
 * - accumulator_percentile.cpp: $percentile $median (../expression/percentile.ts: the spec,
 *   7429703 / 7436100 when not a document; non-numbers ignored; mongod's t-digest, reproduced while
 *   no two numbers share a centroid, else 115 when the result is read).
 * - accumulator_js_reduce.cpp: $accumulator runs server-side JavaScript, refused with 115 as
 *   $where and $function are; when a group is created, so that the refusal reaches the client
 *   (a refusal while compiling would send the stage to mingo, which would run it).
 * Top/bottom by {$meta} answers 115, so its stage goes to mingo.
 */
import { Double, type Document } from 'bson';
import { typeName } from '../../bson/typeName.js';
import { ErrorCodes, LocationCodes } from '../../errors.js';
import type { CompiledExpression } from '../expression/compile.js';
import { AvgAccumulator, isBsonNumber, SumAccumulator, toDouble, type BsonNumber } from '../numeric.js';
import { elementText, isDocument, objectKind } from '../match/values.js';
import { checkQuantileSpec, quantilePs, quantileResult, QuantileSamples, type QuantileOp } from '../expression/percentile.js';
import { valueText } from '../expression/values.js';
import { finalRefusal, notSupported } from '../queryErrors.js';
import { compileExpr, type CompileContext } from './context.js';
import { fail } from './errors.js';
import { asObj, MISSING, setField, type Obj } from './values.js';
import type { ValueCompare } from '../match/collation.js';
import { canonicalTypeOrder } from '../../bson/bsonOrder.js';
import { parseSortSpec } from './sortLimit.js';

/** One group's running state of one accumulator. `undefined` input is a missing value. */
export interface Accumulator {
  add(value: unknown): void;
  /** The result; undefined (missing) is output as null. */
  result(): unknown;
}

/** A parsed accumulation statement: its field, its argument, and a factory for each group. */
export interface AccumulationStatement {
  readonly field: string;
  readonly argument: CompiledExpression;
  /** The per-group initializer argument ('n' of the N accumulators), evaluated on the group's _id document. */
  readonly initializer: CompiledExpression | undefined;
  create(initial: unknown): Accumulator;
}

/** The accumulators of mongod 7.0 (AccumulationStatement's registry), to tell 115 from 15952. */
const MONGOD_ACCUMULATORS = new Set([
  '$accumulator',
  '$addToSet',
  '$avg',
  '$bottom',
  '$bottomN',
  '$count',
  '$first',
  '$firstN',
  '$last',
  '$lastN',
  '$max',
  '$maxN',
  '$median',
  '$mergeObjects',
  '$min',
  '$minN',
  '$percentile',
  '$push',
  '$stdDevPop',
  '$stdDevSamp',
  '$sum',
  '$top',
  '$topN',
]);

function nullish(v: unknown): boolean {
  return v === undefined || v === null || v === MISSING;
}

class FirstAccumulator implements Accumulator {
  private seen = false;
  private value: unknown = undefined;
  add(v: unknown): void {
    if (this.seen) return;
    this.seen = true;
    this.value = v;
  }
  result(): unknown {
    return this.value;
  }
}

class LastAccumulator implements Accumulator {
  private value: unknown = undefined;
  add(v: unknown): void {
    this.value = v;
  }
  result(): unknown {
    return this.value;
  }
}

class MinMaxAccumulator implements Accumulator {
  private value: unknown = MISSING;
  constructor(
    private readonly sense: 1 | -1,
    private readonly compare: ValueCompare,
  ) {}
  add(v: unknown): void {
    if (nullish(v)) return;
    if (this.value === MISSING || this.compare(this.value, v) * this.sense > 0) this.value = v;
  }
  result(): unknown {
    return this.value === MISSING ? null : this.value;
  }
}

class PushAccumulator implements Accumulator {
  private readonly values: unknown[] = [];
  add(v: unknown): void {
    if (v !== undefined) this.values.push(v);
  }
  result(): unknown {
    return this.values;
  }
}

/** A set of values under the value comparator (collation-aware equality). */
class ValueSet {
  private readonly values: unknown[] = [];
  private readonly keys = new Set<string>();
  constructor(
    private readonly compare: ValueCompare,
    private readonly keyOf: ((v: unknown) => string) | undefined,
  ) {}
  /** Adds the value; false when an equal one is there. */
  add(v: unknown): boolean {
    if (this.keyOf !== undefined) {
      const k = this.keyOf(v);
      if (this.keys.has(k)) return false;
      this.keys.add(k);
    } else if (this.values.some((x) => this.compare(x, v) === 0)) {
      return false;
    }
    this.values.push(v);
    return true;
  }
  list(): unknown[] {
    return this.values;
  }
}

class AddToSetAccumulator implements Accumulator {
  private readonly set: ValueSet;
  constructor(compare: ValueCompare, keyOf: ((v: unknown) => string) | undefined) {
    this.set = new ValueSet(compare, keyOf);
  }
  add(v: unknown): void {
    if (v !== undefined) this.set.add(v);
  }
  result(): unknown {
    return this.set.list();
  }
}

class SumAcc implements Accumulator {
  private readonly sum = new SumAccumulator();
  add(v: unknown): void {
    if (v !== undefined) this.sum.add(v);
  }
  result(): unknown {
    return this.sum.result();
  }
}

class AvgAcc implements Accumulator {
  private readonly avg = new AvgAccumulator();
  add(v: unknown): void {
    if (v !== undefined) this.avg.add(v);
  }
  result(): unknown {
    return this.avg.result();
  }
}

class MergeObjectsAccumulator implements Accumulator {
  private readonly out: Obj = {};
  add(v: unknown): void {
    if (nullish(v)) return;
    if (!isDocument(v)) {
      fail(LocationCodes.MergeObjectsNotObject, `$mergeObjects requires object inputs, but input ${valueText(v)} is of type ${typeName(v)}`);
    }
    const src = asObj(v);
    for (const k of Object.keys(src)) setField(this.out, k, src[k]);
  }
  result(): unknown {
    return this.out;
  }
}

class StdDevAccumulator implements Accumulator {
  private count = 0;
  private mean = 0;
  private m2 = 0;
  constructor(private readonly sample: boolean) {}
  add(v: unknown): void {
    if (!isBsonNumber(v) && typeof v !== 'number' && typeof v !== 'bigint') return;
    const x = toDouble(v as BsonNumber | number | bigint);
    this.count += 1;
    const delta = x - this.mean;
    if (delta !== 0) {
      this.mean += delta / this.count;
      this.m2 += delta * (x - this.mean);
    }
  }
  result(): unknown {
    const n = this.sample ? this.count - 1 : this.count;
    if (n <= 0) return null;
    return new Double(Math.sqrt(this.m2 / n));
  }
}

/** AccumulatorN::validateN. */
function validateN(v: unknown): number {
  const numeric = isBsonNumber(v) || typeof v === 'number' || typeof v === 'bigint';
  const shown = valueText(v);
  if (!numeric) fail(5787902, `Value for 'n' must be of integral type, but found ${shown}`);
  const d = toDouble(v as BsonNumber | number | bigint);
  const n = Math.trunc(d);
  if (n !== d) fail(5787903, `Value for 'n' must be of integral type, but found ${shown}`);
  if (n <= 0) fail(5787908, `'n' must be greater than 0, found ${n}`);
  return n;
}

class FirstLastNAccumulator implements Accumulator {
  private readonly values: unknown[] = [];
  private readonly n: number;
  constructor(
    private readonly last: boolean,
    n: unknown,
  ) {
    this.n = validateN(n);
  }
  add(v: unknown): void {
    const value = v === undefined ? null : v;
    if (this.values.length === this.n) {
      if (!this.last) return;
      this.values.shift();
    }
    this.values.push(value);
  }
  result(): unknown {
    return this.values;
  }
}

class MinMaxNAccumulator implements Accumulator {
  /** Ascending by the comparator, equal values in arrival order (a multiset). */
  private readonly values: unknown[] = [];
  private readonly n: number;
  constructor(
    private readonly max: boolean,
    private readonly compare: ValueCompare,
    n: unknown,
  ) {
    this.n = validateN(n);
  }
  add(v: unknown): void {
    if (nullish(v)) return;
    if (this.values.length === this.n) {
      const index = this.max ? 0 : this.values.length - 1;
      const c = this.compare(this.values[index], v) * (this.max ? -1 : 1);
      if (c > 0) this.values.splice(index, 1);
      else return;
    }
    // Insert after the equal ones (std::multiset::emplace).
    let lo = 0;
    let hi = this.values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.values[mid], v) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.values.splice(lo, 0, v);
  }
  result(): unknown {
    return this.max ? [...this.values].reverse() : this.values;
  }
}

/** A $sort pattern's key of a value: arrays (flattened) by their least or greatest element, an empty array below null, missing as null. */
export function sortKeyPart(v: unknown, descending: boolean, compare: ValueCompare): unknown {
  if (v === undefined) return null;
  if (!Array.isArray(v)) return v;
  const flat: unknown[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) for (const el of x) walk(el);
    else flat.push(x);
  };
  walk(v);
  if (flat.length === 0) return undefined;
  let best = flat[0];
  for (let i = 1; i < flat.length; i++) {
    const c = compare(flat[i], best);
    if (descending ? c > 0 : c < 0) best = flat[i];
  }
  return best;
}

/** The argument of $top / $bottom and their N forms: the output and the values at the sortBy paths. */
export interface TopBottomInput {
  readonly out: unknown;
  readonly keys: readonly unknown[];
}

class TopBottomAccumulator implements Accumulator {
  /** Ascending in sortBy order, equal keys in arrival order (a multimap). */
  private readonly entries: Array<{ key: unknown[]; out: unknown }> = [];
  private readonly n: number;
  constructor(
    private readonly bottom: boolean,
    private readonly single: boolean,
    private readonly descending: readonly boolean[],
    private readonly compare: ValueCompare,
    n: unknown,
  ) {
    this.n = validateN(n);
  }
  private cmp(a: readonly unknown[], b: readonly unknown[]): number {
    for (let i = 0; i < a.length; i++) {
      const c = this.compare(a[i], b[i]);
      if (c !== 0) return this.descending[i] ? -c : c;
    }
    return 0;
  }
  add(v: unknown): void {
    const input = v as TopBottomInput;
    const key = input.keys.map((k, i) => sortKeyPart(k, this.descending[i]!, this.compare));
    const out = input.out === undefined ? null : input.out;
    if (this.entries.length === this.n) {
      if (this.bottom) {
        if (this.cmp(key, this.entries[0]!.key) > 0) this.entries.shift();
        else return;
      } else {
        if (this.cmp(this.entries[this.entries.length - 1]!.key, key) > 0) this.entries.pop();
        else return;
      }
    }
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmp(this.entries[mid]!.key, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.entries.splice(lo, 0, { key, out });
  }
  result(): unknown {
    const outs = this.entries.map((e) => e.out);
    if (!this.single) return outs;
    return outs.length === 0 ? null : outs[0];
  }
}

/** AccumulatorPercentile / AccumulatorMedian: the numbers, as doubles, into the t-digest. */
class QuantileAccumulator implements Accumulator {
  private readonly samples = new QuantileSamples();
  constructor(
    private readonly op: QuantileOp,
    private readonly ps: readonly number[],
  ) {}
  add(v: unknown): void {
    if (isBsonNumber(v) || typeof v === 'number' || typeof v === 'bigint') this.samples.add(toDouble(v as BsonNumber | number | bigint));
  }
  result(): unknown {
    return quantileResult(this.op, this.ps.length, this.samples.approximate(this.ps, this.op));
  }
}

/** AccumulatorPercentile::parseArgs / AccumulatorMedian::parseArgs. */
function parseQuantile(op: QuantileOp, arg: unknown, cc: CompileContext, field: string): AccumulationStatement {
  if (objectKind(arg) !== 1) {
    const code = op === '$percentile' ? LocationCodes.PercentileSpecNotObject : LocationCodes.MedianSpecNotObject;
    fail(code, `specification must be an object; found ${elementText(op, arg)}`);
  }
  const spec = checkQuantileSpec(op, arg as Obj);
  const argument = compileExpr(spec.input, cc);
  const ps = op === '$median' ? [0.5] : quantilePs(compileExpr(spec.p, cc), spec.p);
  return { field, argument, initializer: undefined, create: () => new QuantileAccumulator(op, ps) };
}

/** accumulatorNParseArgs and parseTopBottomN (accumulator_multi.cpp). */
function parseTopBottom(op: string, arg: unknown, cc: CompileContext, field: string): AccumulationStatement {
  const single = op === '$top' || op === '$bottom';
  if (objectKind(arg) !== 1) fail(5788001, `specification must be an object; found ${elementText(op, arg)}`);
  let n: CompiledExpression | undefined;
  let output: unknown;
  let hasOutput = false;
  let sortBy: unknown;
  let hasSortBy = false;
  for (const [name, value] of Object.entries(arg as Obj)) {
    if (!single && name === 'n') n = compileExpr(value, cc);
    else if (name === 'output') {
      output = value;
      hasOutput = true;
    } else if (name === 'sortBy') {
      sortBy = value;
      hasSortBy = true;
    } else fail(5788002, `Unknown argument to ${op} '${name}'`);
  }
  if (single) n = compileExpr(1, cc);
  else if (n === undefined) fail(5788003, "Missing value for 'n'");
  if (!hasOutput) fail(5788004, "Missing value for 'output'");
  if (!hasSortBy) fail(5788005, "Missing value for 'sortBy'");
  const fields = parseSortSpec(sortBy);
  const outputExpr = compileExpr(output, cc);
  const keyExprs = Object.keys(sortBy as Obj).map((path) => compileExpr(`$${path}`, cc));
  const descending = fields.map((f) => f.descending);
  const bottom = op === '$bottom' || op === '$bottomN';
  const compare = cc.compare;
  return {
    field,
    argument: {
      constant: false,
      evaluate: (scope) => ({ out: outputExpr.evaluate(scope), keys: keyExprs.map((e) => e.evaluate(scope)) }) satisfies TopBottomInput,
    },
    initializer: n,
    create: (initial) => new TopBottomAccumulator(bottom, single, descending, compare, initial),
  };
}

/** An accumulator of one argument expression and no initializer (a function, not a closure made per $group). */
function singleArgument(field: string, arg: unknown, cc: CompileContext, create: (initial: unknown) => Accumulator): AccumulationStatement {
  return { field, argument: compileExpr(arg, cc), initializer: undefined, create };
}

/** The accumulator parser for {field: {$op: arg}} (AccumulationStatement::parseAccumulationStatement). */
export function parseAccumulationStatement(
  field: string,
  spec: unknown,
  cc: CompileContext,
  keyOf: ((v: unknown) => string) | undefined,
): AccumulationStatement {
  const first = objectKind(spec) === 1 ? Object.keys(spec as Obj)[0] : undefined;
  if (first === undefined || !first.startsWith('$')) fail(LocationCodes.GroupFieldNotAccumulator, `The field '${field}' must be an accumulator object`);
  if (field.includes('.')) fail(LocationCodes.GroupFieldDotted, `The field name '${field}' cannot contain '.'`);
  if (field.startsWith('$')) fail(LocationCodes.GroupFieldOperatorName, `The field name '${field}' cannot be an operator name`);
  const obj = spec as Obj;
  if (Object.keys(obj).length !== 1) fail(LocationCodes.GroupOneAccumulator, `The field '${field}' must specify one accumulator`);
  const op = first;
  const arg = obj[op];
  if (Array.isArray(arg)) fail(LocationCodes.GroupAccumulatorUnary, `The ${op} accumulator is a unary operator`);
  if (!MONGOD_ACCUMULATORS.has(op)) fail(LocationCodes.GroupUnknownOperator, `unknown group operator '${op}'`);
  const compare = cc.compare;
  switch (op) {
    case '$sum':
      return singleArgument(field, arg, cc, () => new SumAcc());
    case '$count': {
      if (objectKind(arg) !== 1 || Object.keys(arg as Obj).length !== 0) fail(ErrorCodes.TypeMismatch, '$count takes no arguments, i.e. $count:{}');
      return { field, argument: compileExpr(1, cc), initializer: undefined, create: () => new SumAcc() };
    }
    case '$avg':
      return singleArgument(field, arg, cc, () => new AvgAcc());
    case '$first':
      return singleArgument(field, arg, cc, () => new FirstAccumulator());
    case '$last':
      return singleArgument(field, arg, cc, () => new LastAccumulator());
    case '$min':
      return singleArgument(field, arg, cc, () => new MinMaxAccumulator(1, compare));
    case '$max':
      return singleArgument(field, arg, cc, () => new MinMaxAccumulator(-1, compare));
    case '$push':
      return singleArgument(field, arg, cc, () => new PushAccumulator());
    case '$addToSet':
      return singleArgument(field, arg, cc, () => new AddToSetAccumulator(compare, keyOf));
    case '$mergeObjects':
      return singleArgument(field, arg, cc, () => new MergeObjectsAccumulator());
    case '$stdDevPop':
      return singleArgument(field, arg, cc, () => new StdDevAccumulator(false));
    case '$stdDevSamp':
      return singleArgument(field, arg, cc, () => new StdDevAccumulator(true));
    case '$firstN':
    case '$lastN':
    case '$minN':
    case '$maxN': {
      const firstLast = op === '$firstN' || op === '$lastN';
      if (objectKind(arg) !== 1) fail(firstLast ? 5787801 : 5787900, `specification must be an object; found ${elementText(op, arg)}`);
      let n: CompiledExpression | undefined;
      let input: CompiledExpression | undefined;
      for (const [name, value] of Object.entries(arg as Obj)) {
        if (name === 'input') input = compileExpr(value, cc);
        else if (name === 'n') n = compileExpr(value, cc);
        else fail(5787901, `Unknown argument for 'n' operator: ${name}`);
      }
      if (n === undefined) fail(5787906, "Missing value for 'n'");
      if (input === undefined) fail(5787907, "Missing value for 'input'");
      const create = (initial: unknown): Accumulator => {
        switch (op) {
          case '$firstN':
            return new FirstLastNAccumulator(false, initial);
          case '$lastN':
            return new FirstLastNAccumulator(true, initial);
          case '$minN':
            return new MinMaxNAccumulator(false, compare, initial);
          default:
            return new MinMaxNAccumulator(true, compare, initial);
        }
      };
      return { field, argument: input, initializer: n, create };
    }
    case '$top':
    case '$bottom':
    case '$topN':
    case '$bottomN':
      return parseTopBottom(op, arg, cc, field);
    case '$percentile':
    case '$median':
      return parseQuantile(op, arg, cc, field);
    case '$accumulator':
      throw finalRefusal('server-side JavaScript ($accumulator)');
    default:
      throw notSupported(`the ${op} accumulator`);
  }
}

/** The group's _id as the document the initializers evaluate in (the _id itself when a document, else {}). */
export function initializerRoot(id: unknown): Document {
  return isDocument(id) && canonicalTypeOrder(id) === 20 ? (asObj(id) as Document) : {};
}
