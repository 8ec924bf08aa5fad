/**
 * The window functions of $setWindowFields: the parse of one output field's spec
 * ({<function>: <argument>, window: {...}}) into the executor of its values.
 *
 * Sources (mongodb/mongo 7.0, src/mongo/db/pipeline/window_function/):
 * - window_function_expression.cpp Expression::parse: the first $-prefixed field names the
 *   function ("Unrecognized window function, $x"; "Expected a $-prefixed window function, x").
 * - window_function_expression.h: ExpressionRemovable ($sum $avg $min $max $stdDevPop
 *   $stdDevSamp $addToSet $push $covariancePop $covarianceSamp: an operand and an optional
 *   window), ExpressionFromRankAccumulator (5371601-5371603), ExpressionFromLeftUnboundedWindow
 *   Function ($locf: no window), ExpressionExpMovingAvg (N or alpha), ExpressionDerivative /
 *   ExpressionIntegral (a one-field sortBy; unit up to a week: 5490710), ExpressionLinearFill
 *   (605001), ExpressionFirst/Last, ExpressionN ($firstN $lastN $minN $maxN $top $topN $bottom
 *   $bottomN: their accumulator's argument parse, 'n' evaluated once when the stage starts).
 * - window_function_count.cpp ($count is {$sum: 1}), window_function_shift.cpp ($shift: output,
 *   by, a constant default; [by, by] by documents).
 * - window_function_expression.cpp ExpressionQuantile ($median, $percentile: the accumulator's
 *   argument parse; the $group accumulator for a left-unbounded window).
 */
import type { Decimal128 } from 'bson';
import { compareValues } from '../../bson/bsonOrder.js';
import { ErrorCodes, LocationCodes } from '../../errors.js';
import { decimalAdd, decimalDivide, decimalFromBigInt } from '../decimal128.js';
import type { CompiledExpression } from '../expression/compile.js';
import { checkQuantileSpec, quantilePs, type QuantileOp } from '../expression/percentile.js';
import { typeName } from '../expression/values.js';
import { elementText, objectKind, parseIntegerElement } from '../match/values.js';
import { isNumeric, toDecimal, toDouble, type BsonNumber } from '../numeric.js';
import { parseAccumulationStatement, type Accumulator } from './accumulators.js';
import { compileExpr, constantValue, scopeOf, type CompileContext, type RunContext } from './context.js';
import { fail } from './errors.js';
import { exactKeyFunction } from './group.js';
import { parseSortSpec } from './sortLimit.js';
import type { Obj } from './values.js';
import {
  DEFAULT_BOUNDS,
  parseTimeUnit,
  parseWindowBounds,
  UNIT_MILLIS,
  type SortBy,
  type TimeUnit,
  type WindowBounds,
} from './windowBounds.js';
import {
  accumulatingExecutor,
  derivativeExecutor,
  endpointExecutor,
  expressionInput,
  leftUnboundedExecutor,
  linearFillExecutor,
  type ExecutorFactory,
  type Input,
} from './windowExec.js';
import {
  ExpMovingAvgAccumulator,
  LocfAccumulator,
  RankAccumulator,
  RemovableAddToSet,
  RemovableAvg,
  RemovableFirstLastN,
  RemovableMinMax,
  RemovableMinMaxN,
  RemovablePush,
  RemovableQuantile,
  RemovableStdDev,
  RemovableSum,
  RemovableTopBottom,
  stateAccumulator,
  WindowCovariance,
  WindowIntegral,
  type WindowState,
} from './windowStates.js';

/** A parsed window function. */
export interface WindowFunction {
  /** Run when the stage starts (mongod's initialize(): the 'n' of $firstN and the like is evaluated and checked then). */
  prepare(run: RunContext): ExecutorFactory;
}

/** The window functions mongod 7.0 registers. */
const WINDOW_FUNCTIONS: ReadonlySet<string> = new Set([
  '$addToSet', '$avg', '$bottom', '$bottomN', '$count', '$covariancePop', '$covarianceSamp', '$denseRank', '$derivative',
  '$documentNumber', '$expMovingAvg', '$first', '$firstN', '$integral', '$last', '$lastN', '$linearFill', '$locf', '$max',
  '$maxN', '$median', '$min', '$minN', '$percentile', '$push', '$rank', '$shift', '$stdDevPop', '$stdDevSamp', '$sum',
  '$top', '$topN',
]);

function failToParse(message: string): never {
  return fail(ErrorCodes.FailedToParse, message);
}

/** A window function whose executor does not depend on the run. */
function fixed(factory: ExecutorFactory): WindowFunction {
  return { prepare: () => factory };
}

/** The $group accumulator of the same name, for the left-unbounded windows (buildAccumulatorOnly). */
function groupAccumulator(op: string, cc: CompileContext): () => Accumulator {
  const statement = parseAccumulationStatement('x', { [op]: op === '$count' ? {} : null }, cc, exactKeyFunction(cc));
  return () => statement.create(undefined);
}

/** The functions ExpressionRemovable parses ($count as {$sum: 1}). */
type RemovableOp = '$sum' | '$count' | '$avg' | '$min' | '$max' | '$stdDevPop' | '$stdDevSamp' | '$addToSet' | '$push' | '$covariancePop' | '$covarianceSamp';

/** The removable state of an ExpressionRemovable function (buildRemovable). */
function removableState(op: RemovableOp, cc: CompileContext): () => WindowState {
  switch (op) {
    case '$sum':
    case '$count':
      return () => new RemovableSum();
    case '$avg':
      return () => new RemovableAvg();
    case '$min':
    case '$max':
      return () => new RemovableMinMax(op === '$max', cc.compare);
    case '$stdDevPop':
    case '$stdDevSamp':
      return () => new RemovableStdDev(op === '$stdDevSamp');
    case '$addToSet':
      return () => new RemovableAddToSet(cc.compare);
    case '$push':
      return () => new RemovablePush();
    default:
      return () => new WindowCovariance(op === '$covarianceSamp');
  }
}

/** ExpressionRemovable::parse (and parseCountWindowFunction for $count). */
function parseRemovable(op: RemovableOp, obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  let name: string | undefined;
  let bounds: WindowBounds = DEFAULT_BOUNDS;
  let input: CompiledExpression | undefined;
  for (const [arg, value] of Object.entries(obj)) {
    if (arg === 'window') {
      bounds = parseWindowBounds(value, sortBy, cc);
    } else if (WINDOW_FUNCTIONS.has(arg)) {
      if (op === '$count') {
        if (name !== undefined) failToParse('Cannot specify multiple functions in window function spec');
        if (objectKind(value) !== 1 || Object.keys(value as Obj).length !== 0) failToParse('$count only accepts an empty object as input');
        input = compileExpr(1, cc);
      } else {
        if (name !== undefined) failToParse('Cannot specify two functions in window function spec');
        input = compileExpr(value, cc);
      }
      name = arg;
    } else {
      failToParse(`Window function found an unknown argument: ${arg}`);
    }
  }
  if (name === undefined || input === undefined) return failToParse('Must specify a window function in output field');
  const state = removableState(op, cc);
  const accumulator = op === '$covariancePop' || op === '$covarianceSamp' ? () => stateAccumulator(state()) : groupAccumulator(op, cc);
  return fixed(accumulatingExecutor(bounds, expressionInput(input), accumulator, state));
}

/** ExpressionFirstLast::parse. */
function parseFirstLast(op: '$first' | '$last', obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  let bounds: WindowBounds = DEFAULT_BOUNDS;
  let input: CompiledExpression | undefined;
  for (const [arg, value] of Object.entries(obj)) {
    if (arg === 'window') bounds = parseWindowBounds(value, sortBy, cc);
    else if (arg === op) input = compileExpr(value, cc);
    else failToParse(`${op} got unexpected argument: ${arg}`);
  }
  return fixed(endpointExecutor(bounds, input!, op === '$last', null));
}

/** ExpressionShift::parse and parseShiftArgs. */
function parseShift(obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  let output: CompiledExpression | undefined;
  let defaultValue: unknown = null;
  let by: number | undefined;
  let name: string | undefined;
  for (const [arg, value] of Object.entries(obj)) {
    if (arg === 'window') failToParse("$shift does not accept a 'window' field");
    if (!WINDOW_FUNCTIONS.has(arg)) failToParse(`Window function found an unknown argument: ${arg}`);
    if (name !== undefined) failToParse('Cannot specify multiple functions in window function spec');
    name = arg;
    if (objectKind(value) !== 1) failToParse('Argument to $shift must be an object');
    for (const [k, v] of Object.entries(value as Obj)) {
      if (k === 'output') {
        output = compileExpr(v, cc);
      } else if (k === 'default') {
        const e = compileExpr(v, cc);
        if (!e.constant) failToParse("'$shift:default' expression must yield a constant value.");
        defaultValue = constantValue(e, new Date());
      } else if (k === 'by') {
        const n = parseIntegerElement(k, v, 'int');
        if (typeof n === 'string') failToParse(`'$shift:by' field must be an integer, but found  ${elementText(k, v)}`);
        by = Number(n);
      } else {
        failToParse(`Unknown argument in ${arg}`);
      }
    }
    if (output === undefined) failToParse(`${arg} requires an 'output' expression.`);
    if (by === undefined) failToParse(`${arg} requires 'by' as an integer value.`);
  }
  if (sortBy === undefined) failToParse(`'${name}' requires a sortBy`);
  const bounds: WindowBounds = { kind: 'documents', lower: { value: by! }, upper: { value: by! } };
  return fixed(endpointExecutor(bounds, output!, false, defaultValue));
}

/** ExpressionFromRankAccumulator::parse. */
function parseRank(op: '$rank' | '$denseRank' | '$documentNumber', obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  if (Object.keys(obj).length !== 1) fail(LocationCodes.WindowRankExtraArguments, 'Rank style window functions take no other arguments');
  const arg = obj[op];
  if (objectKind(arg) !== 1 || Object.keys(arg as Obj).length !== 0) fail(LocationCodes.WindowRankNotEmptyObject, `${op} must be specified with '{}' as the value`);
  if (sortBy === undefined || sortBy.length !== 1) {
    fail(LocationCodes.WindowRankNeedsSortBy, `${op} must be specified with a top level sortBy expression with exactly one element`);
  }
  const descending = sortBy[0]!.descending;
  const input: Input = (p, i) => p.sortValue(i);
  return fixed(leftUnboundedExecutor(input, () => new RankAccumulator(op, descending, cc.compare)));
}

/**
 * The spec of a window function that takes no window ($locf, $linearFill): its name and input;
 * a `window` is refused, as are a second function and unknown arguments.
 */
function parseWindowlessFunction(obj: Obj, cc: CompileContext): { name: string; input: CompiledExpression } {
  let input: CompiledExpression | undefined;
  let name: string | undefined;
  let window = false;
  for (const [arg, value] of Object.entries(obj)) {
    if (arg === 'window') window = true;
    else if (WINDOW_FUNCTIONS.has(arg)) {
      if (name !== undefined) failToParse('Cannot specify two functions in window function spec');
      name = arg;
      input = compileExpr(value, cc);
    } else failToParse(`Window function found an unknown argument: ${arg}`);
  }
  if (window) failToParse(`'window' field is not allowed in ${name}`);
  return { name: name!, input: input! };
}

/** ExpressionFromLeftUnboundedWindowFunction::parse ($locf). */
function parseLocf(obj: Obj, cc: CompileContext): WindowFunction {
  const { input } = parseWindowlessFunction(obj, cc);
  return fixed(leftUnboundedExecutor(expressionInput(input), () => new LocfAccumulator()));
}

/** ExpressionLinearFill::parse. */
function parseLinearFill(obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  const { name, input } = parseWindowlessFunction(obj, cc);
  if (sortBy === undefined || sortBy.length !== 1) {
    fail(LocationCodes.WindowLinearFillNeedsSortBy, `${name} must be specified with a top level sortBy expression with exactly one element`);
  }
  return fixed(linearFillExecutor(input));
}

const SUB_OBJECT_FIELDS = "$expMovingAvg sub object must have exactly two fields: An 'input' field, and either an 'N' field or an 'alpha' field";

/** ExpressionExpMovingAvg::parse: alpha = 2 / (N + 1), or the given alpha. */
function parseExpMovingAvg(obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  const arg = obj.$expMovingAvg;
  if (Object.keys(obj).length !== 1 || objectKind(arg) !== 1) failToParse('$expMovingAvg must have exactly one argument that is an object');
  const sub = arg as Obj;
  if (Object.keys(sub).length !== 2 || !Object.hasOwn(sub, 'input')) failToParse(SUB_OBJECT_FIELDS);
  if (sortBy === undefined) failToParse("$expMovingAvg requires an explicit 'sortBy'");
  const input = compileExpr(sub.input, cc);
  let alpha: Decimal128;
  if (Object.hasOwn(sub, 'N')) {
    const n = sub.N;
    if (!isNumeric(n)) failToParse(`'N' field must be an integer, but found type ${typeName(n)}`);
    const d = toDouble(n as BsonNumber);
    if (d !== Math.floor(d)) failToParse(`'N' field must be an integer, but found  ${elementText('N', n)}. To use a non-integer, use the 'alpha' argument instead`);
    const count = BigInt(Math.max(-9223372036854775808, Math.min(9223372036854775807, d)));
    if (count <= 0n) failToParse(`'N' must be greater than zero. Got ${count}`);
    alpha = decimalDivide(decimalFromBigInt(2n), decimalAdd(decimalFromBigInt(count), decimalFromBigInt(1n)));
  } else if (Object.hasOwn(sub, 'alpha')) {
    if (!isNumeric(sub.alpha)) failToParse("'alpha' must be a number");
    alpha = toDecimal(sub.alpha as BsonNumber);
    if (!(compareValues(alpha, 0) > 0 && compareValues(alpha, 1) < 0)) {
      failToParse(`'alpha' must be between 0 and 1 (exclusive), found ${elementText('alpha', sub.alpha)}`);
    }
  } else {
    return failToParse(`Got unrecognized field in $expMovingAvg${SUB_OBJECT_FIELDS}`);
  }
  const a = alpha;
  return fixed(leftUnboundedExecutor(expressionInput(input), () => new ExpMovingAvgAccumulator(a)));
}

/** ExpressionWithUnit::validateSortBy. */
function validateSortBy(sortBy: SortBy, op: string): void {
  if (sortBy === undefined) failToParse(`${op} requires a sortBy`);
  if (sortBy.length !== 1) failToParse(`${op} requires a non-compound sortBy`);
}

/** ExpressionWithUnit::parseUnit: up to a week, as milliseconds. */
function parseUnit(value: unknown): number {
  if (typeof value !== 'string') failToParse(`unit' must be a string, but got ${typeName(value)}`);
  const unit: TimeUnit = parseTimeUnit(value);
  if (unit === 'year' || unit === 'quarter' || unit === 'month') fail(LocationCodes.WindowUnitTooLarge, "unit must be 'week' or smaller");
  return UNIT_MILLIS[unit]!;
}

/** ExpressionDerivative::parse and ExpressionIntegral::parse. */
function parseWithUnit(op: '$derivative' | '$integral', obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  validateSortBy(sortBy, op);
  let bounds: WindowBounds | undefined;
  let args: unknown;
  for (const [arg, value] of Object.entries(obj)) {
    if (arg === 'window') bounds = parseWindowBounds(value, sortBy, cc);
    else if (arg === op) args = value;
    else failToParse(`${op} got unexpected argument: ${arg}`);
  }
  if (objectKind(args) !== 1) failToParse(`${op} expects an object, but got a ${typeName(args)}: ${elementText(op, args)}`);
  let input: CompiledExpression | undefined;
  let unitMillis: number | undefined;
  for (const [arg, value] of Object.entries(args as Obj)) {
    if (arg === 'input') input = compileExpr(value, cc);
    else if (arg === 'unit') unitMillis = parseUnit(value);
    else failToParse(`${op} got unexpected argument: ${arg}`);
  }
  if (input === undefined) return failToParse(`${op} requires an 'input' expression`);
  if (op === '$derivative') {
    if (bounds === undefined) return failToParse('$derivative requires explicit window bounds');
    return fixed(derivativeExecutor(bounds, input, unitMillis));
  }
  const expr = input;
  const pair: Input = (p, i) => {
    const x = p.sortValue(i);
    const y = expr.evaluate(scopeOf(p.docs[i]!, p.run));
    return [x === undefined ? null : x, y === undefined ? null : y];
  };
  const state = (): WindowState => new WindowIntegral(unitMillis);
  return fixed(accumulatingExecutor(bounds ?? DEFAULT_BOUNDS, pair, () => stateAccumulator(state()), state));
}

/** ExpressionN::parse, the function's argument parsed as its accumulator's. */
function parseN(op: string, obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  let bounds: WindowBounds = DEFAULT_BOUNDS;
  let statement: ReturnType<typeof parseAccumulationStatement> | undefined;
  let descending: readonly boolean[] = [];
  for (const [arg, value] of Object.entries(obj)) {
    if (arg === op) {
      if (statement !== undefined) failToParse(`saw multiple specifications for '${op}' expression`);
      if (objectKind(value) !== 1) {
        const code =
          op === '$firstN' || op === '$lastN'
            ? LocationCodes.FirstLastNSpecNotObject
            : op === '$minN' || op === '$maxN'
              ? LocationCodes.MinMaxNSpecNotObject
              : LocationCodes.TopBottomSpecNotObject;
        fail(code, `specification must be an object; found ${elementText(op, value)}`);
      }
      statement = parseAccumulationStatement('x', { [op]: value }, cc, exactKeyFunction(cc));
      const inner = (value as Obj).sortBy;
      if (inner !== undefined) descending = parseSortSpec(inner).map((f) => f.descending);
    } else if (arg === 'window') {
      bounds = parseWindowBounds(value, sortBy, cc);
    } else {
      failToParse(`${op} got unexpected argument: ${arg}`);
    }
  }
  const s = statement!;
  const w = bounds;
  const input = expressionInput(s.argument);
  return {
    prepare(run) {
      const nValue = s.initializer!.evaluate(scopeOf({}, run));
      // The accumulator checks 'n' as AccumulatorN::validateN does, for either kind of window.
      s.create(nValue);
      const n = Math.trunc(toDouble(nValue as BsonNumber));
      const state = (): WindowState => {
        switch (op) {
          case '$firstN':
          case '$lastN':
            return new RemovableFirstLastN(op === '$lastN', n);
          case '$minN':
          case '$maxN':
            return new RemovableMinMaxN(op === '$maxN', n, cc.compare);
          default:
            return new RemovableTopBottom(op.startsWith('$bottom'), op === '$top' || op === '$bottom', n, descending, cc.compare);
        }
      };
      return accumulatingExecutor(w, input, () => s.create(nValue), state);
    },
  };
}

/** ExpressionQuantile::parse: the argument parsed as the accumulator's. */
function parseQuantile(op: QuantileOp, obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  let bounds: WindowBounds = DEFAULT_BOUNDS;
  let statement: ReturnType<typeof parseAccumulationStatement> | undefined;
  let ps: readonly number[] = [0.5];
  for (const [arg, value] of Object.entries(obj)) {
    if (arg === op) {
      statement = parseAccumulationStatement('x', { [op]: value }, cc, undefined);
      if (op === '$percentile') {
        const spec = checkQuantileSpec(op, value as Obj);
        ps = quantilePs(compileExpr(spec.p, cc), spec.p);
      }
    } else if (arg === 'window') {
      bounds = parseWindowBounds(value, sortBy, cc);
    } else {
      failToParse(`${op} got unexpected argument: ${arg}`);
    }
  }
  const s = statement!;
  const percentiles = ps;
  return fixed(accumulatingExecutor(bounds, expressionInput(s.argument), () => s.create(undefined), () => new RemovableQuantile(op === '$median', percentiles)));
}

/** Expression::parse: the first $-prefixed field names the window function. */
export function parseWindowFunction(obj: Obj, sortBy: SortBy, cc: CompileContext): WindowFunction {
  const keys = Object.keys(obj);
  const op = keys.find((k) => k.startsWith('$'));
  if (op === undefined) return failToParse(`Expected a $-prefixed window function${keys[0] ? `, ${keys[0]}` : ''}`);
  if (!WINDOW_FUNCTIONS.has(op)) return failToParse(`Unrecognized window function, ${op}`);
  switch (op) {
    case '$first':
    case '$last':
      return parseFirstLast(op, obj, sortBy, cc);
    case '$shift':
      return parseShift(obj, sortBy, cc);
    case '$rank':
    case '$denseRank':
    case '$documentNumber':
      return parseRank(op, obj, sortBy, cc);
    case '$locf':
      return parseLocf(obj, cc);
    case '$linearFill':
      return parseLinearFill(obj, sortBy, cc);
    case '$expMovingAvg':
      return parseExpMovingAvg(obj, sortBy, cc);
    case '$derivative':
    case '$integral':
      return parseWithUnit(op, obj, sortBy, cc);
    case '$firstN':
    case '$lastN':
    case '$minN':
    case '$maxN':
    case '$top':
    case '$topN':
    case '$bottom':
    case '$bottomN':
      return parseN(op, obj, sortBy, cc);
    case '$median':
    case '$percentile':
      return parseQuantile(op, obj, sortBy, cc);
    default:
      return parseRemovable(op as RemovableOp, obj, sortBy, cc);
  }
}
