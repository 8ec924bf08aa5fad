/**
 * The executors of $setWindowFields: for each document of a partition, in order, the value of
 * one window function over its window.
 *
 * Sources (mongodb/mongo 7.0, src/mongo/db/pipeline/window_function/):
 * - window_function_exec.cpp WindowFunctionExec::create: a left-unbounded window feeds an
 *   accumulator (buildAccumulatorOnly) as its right end advances; any other window a removable
 *   state (buildRemovable); $first, $last and $shift read one endpoint; $derivative and
 *   $linearFill have their own executors.
 * - window_function_exec_non_removable.h, window_function_exec_removable_document.cpp (the
 *   values added at the right end first, then the oldest removed), window_function_exec_non_
 *   removable_range.h (an empty window resets the accumulator), window_function_exec_removable_
 *   range.cpp (added values, then removed ones; 5429407 when an endpoint moves back).
 * - window_function_exec_first_last.h (the default, null unless $shift gives one, for an empty
 *   window; a missing value stays missing), window_function_exec_derivative.cpp (5624900-5624903;
 *   a zero run gives null), window_function_exec_linear_fill.cpp.
 */
import { Long, type Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { compareValues } from '../../bson/bsonOrder.js';
import type { CompiledExpression } from '../expression/compile.js';
import { nullish, typeName } from '../expression/values.js';
import type { ValueCompare } from '../match/collation.js';
import { BSON_TYPE, bsonTypeOf } from '../match/values.js';
import { add, divide, isNumeric, multiply, subtract } from '../numeric.js';
import type { Accumulator } from './accumulators.js';
import { scopeOf, type RunContext } from './context.js';
import { fail } from './errors.js';
import { documentEndpoints, rangeEndpoints, type Bound, type DocumentBounds, type Endpoints, type PartitionView, type RangeBounds, type WindowBounds } from './windowBounds.js';
import type { WindowState } from './windowStates.js';

/** One partition, as the executors read it. */
export interface Partition extends PartitionView {
  readonly docs: readonly Document[];
  readonly run: RunContext;
  readonly compare: ValueCompare;
  /** The value of the (single) sortBy field at an index ($derivative, $integral, $linearFill). */
  sortValue(index: number): unknown;
}

/** Computes the value at each index of a partition, called with 0, 1, 2, ... in order. */
export interface Executor {
  next(index: number): unknown;
}

/** An executor for a partition. */
export type ExecutorFactory = (p: Partition) => Executor;

/** What a window function evaluates at each document (its input expression, or $integral's pair). */
export type Input = (p: Partition, index: number) => unknown;

export function expressionInput(expr: CompiledExpression): Input {
  return (p, i) => expr.evaluate(scopeOf(p.docs[i]!, p.run));
}

/** Input values computed once per index of a partition. */
function memoize(p: Partition, input: Input): (index: number) => unknown {
  const values = new Map<number, unknown>();
  return (i) => {
    if (values.has(i)) return values.get(i);
    const v = input(p, i);
    values.set(i, v);
    return v;
  };
}

function offset(b: Bound<number>): number {
  return b === 'current' ? 0 : (b as { value: number }).value;
}

/** A range window's endpoints, each scan starting where the previous one ended. */
function rangeScanner(bounds: RangeBounds, p: Partition): { endpoints(index: number): Endpoints; last: Endpoints } {
  let floor = 0;
  const scanner = {
    last: undefined as Endpoints,
    endpoints(index: number): Endpoints {
      const e = rangeEndpoints(bounds, p, index, p.compare, scanner.last, floor);
      if (e !== undefined) floor = Math.max(floor, e[0]);
      return e;
    },
  };
  return scanner;
}

/** Endpoints without a hint (the endpoint executors ask for them afresh at each document). */
function endpointsOf(bounds: WindowBounds, p: Partition): (index: number) => Endpoints {
  if (bounds.kind === 'documents') return (i) => documentEndpoints(bounds, i, p.size);
  let floor = 0;
  return (i) => {
    const e = rangeEndpoints(bounds, p, i, p.compare, undefined, floor);
    if (e !== undefined) floor = Math.max(floor, e[0]);
    return e;
  };
}

// ---------------------------------------------------------------------------------------------
// Accumulating executors

/** An accumulator's result for one document: its arrays go on accumulating, so each document gets a copy. */
function resultOf(acc: Accumulator): unknown {
  const v = acc.result();
  return Array.isArray(v) ? [...v] : v;
}

/** WindowFunctionExecNonRemovable: [unbounded, upper] by documents. */
function nonRemovableDocuments(upper: Bound<number>, input: Input, accumulator: () => Accumulator): ExecutorFactory {
  return (p) => {
    const acc = accumulator();
    const value = memoize(p, input);
    let initialized = false;
    return {
      next(i) {
        if (!initialized) {
          initialized = true;
          for (let k = 0; upper === 'unbounded' || k <= offset(upper); k++) {
            if (i + k >= p.size) break;
            acc.add(value(i + k));
          }
        } else if (upper !== 'unbounded') {
          const at = i + offset(upper);
          if (at >= 0 && at < p.size) acc.add(value(at));
        }
        return resultOf(acc);
      },
    };
  };
}

/** WindowFunctionExecRemovableDocument. */
function removableDocuments(bounds: DocumentBounds, input: Input, state: () => WindowState): ExecutorFactory {
  const lower = offset(bounds.lower);
  const upper = bounds.upper === 'unbounded' ? undefined : offset(bounds.upper);
  return (p) => {
    const s = state();
    const value = memoize(p, input);
    const queue: unknown[] = [];
    const push = (v: unknown): void => {
      s.add(v);
      queue.push(v);
    };
    let initialized = false;
    return {
      next(i) {
        if (!initialized) {
          initialized = true;
          for (let k = Math.max(lower, 0); upper === undefined || k <= upper; k++) {
            if (i + k >= p.size) break;
            push(value(i + k));
          }
        } else {
          if (upper !== undefined) {
            const at = i + upper;
            if (at >= 0 && at < p.size) push(value(at));
          }
          if ((lower >= 0 || i > Math.abs(lower)) && queue.length > 0) s.remove(queue.shift());
        }
        return s.value();
      },
    };
  };
}

/** WindowFunctionExecNonRemovableRange. */
function nonRemovableRange(bounds: RangeBounds, input: Input, accumulator: () => Accumulator): ExecutorFactory {
  return (p) => {
    let acc = accumulator();
    const value = memoize(p, input);
    const scan = rangeScanner(bounds, p);
    return {
      next(i) {
        const last = scan.last;
        const e = scan.endpoints(i);
        if (last !== undefined) {
          if (e !== undefined) for (let k = last[1] + 1; k <= e[1]; k++) acc.add(value(k));
          else acc = accumulator();
        } else if (e !== undefined) {
          for (let k = e[0]; k <= e[1]; k++) acc.add(value(k));
        }
        scan.last = e;
        return resultOf(acc);
      },
    };
  };
}

/** WindowFunctionExecRemovableRange. */
function removableRange(bounds: RangeBounds, input: Input, state: () => WindowState): ExecutorFactory {
  return (p) => {
    const s = state();
    const value = memoize(p, input);
    const queue: unknown[] = [];
    const scan = rangeScanner(bounds, p);
    return {
      next(i) {
        const old = scan.last;
        const e = scan.endpoints(i);
        let added: readonly [number, number] | undefined;
        let removed: readonly [number, number] | undefined;
        if (old === undefined) added = e;
        else if (e === undefined) removed = old;
        else {
          if (!(old[0] <= e[0] && old[1] <= e[1])) throw new MongoError(LocationCodes.WindowEndpointsDecrease, 'Endpoints should never decrease.');
          if (old[0] < e[0]) removed = [old[0], e[0] - 1];
          if (old[1] < e[1]) added = [old[1] + 1, e[1]];
        }
        if (added !== undefined) {
          for (let k = added[0]; k <= added[1]; k++) {
            const v = value(k);
            s.add(v);
            queue.push(v);
          }
        }
        if (removed !== undefined) for (let k = removed[0]; k <= removed[1]; k++) s.remove(queue.shift());
        scan.last = e;
        return s.value();
      },
    };
  };
}

/** The executor of a function whose window is always [unbounded, current] ($rank, $locf, $expMovingAvg). */
export function leftUnboundedExecutor(input: Input, accumulator: () => Accumulator): ExecutorFactory {
  return nonRemovableDocuments('current', input, accumulator);
}

/** The executor of an accumulating window function over its bounds. */
export function accumulatingExecutor(bounds: WindowBounds, input: Input, accumulator: () => Accumulator, state: () => WindowState): ExecutorFactory {
  if (bounds.kind === 'documents') {
    return bounds.lower === 'unbounded' ? nonRemovableDocuments(bounds.upper, input, accumulator) : removableDocuments(bounds, input, state);
  }
  return bounds.lower === 'unbounded' ? nonRemovableRange(bounds, input, accumulator) : removableRange(bounds, input, state);
}

// ---------------------------------------------------------------------------------------------
// Endpoint executors

/** WindowFunctionExecFirst / WindowFunctionExecLast ($shift is a first over [by, by] with a default). */
export function endpointExecutor(bounds: WindowBounds, expr: CompiledExpression, last: boolean, defaultValue: unknown): ExecutorFactory {
  const input = expressionInput(expr);
  return (p) => {
    const endpoints = endpointsOf(bounds, p);
    return {
      next(i) {
        const e = endpoints(i);
        if (e === undefined) return defaultValue;
        return input(p, last ? e[1] : e[0]);
      },
    };
  };
}

/** WindowFunctionExecDerivative: (input at the right end - at the left end) / (sortBy run). */
export function derivativeExecutor(bounds: WindowBounds, expr: CompiledExpression, unitMillis: number | undefined): ExecutorFactory {
  const input = expressionInput(expr);
  return (p) => {
    const endpoints = endpointsOf(bounds, p);
    return {
      next(i) {
        const e = endpoints(i);
        if (e === undefined) return null;
        const leftTime = p.sortValue(e[0]);
        const rightTime = p.sortValue(e[1]);
        const isDate = (v: unknown): boolean => v instanceof Date;
        if (unitMillis !== undefined) {
          if (!isDate(leftTime) || !isDate(rightTime)) fail(LocationCodes.WindowDerivativeNeedsDate, "$derivative with 'unit' expects the sortBy field to be a Date");
        } else {
          if (isDate(leftTime) || isDate(rightTime)) fail(LocationCodes.WindowDerivativeDateNeedsUnit, "$derivative where the sortBy is a Date requires an 'unit'");
          if (!isNumeric(leftTime) || !isNumeric(rightTime)) fail(LocationCodes.WindowDerivativeNeedsNumber, "$derivative (with no 'unit') expects the sortBy field to be numeric");
        }
        const run = subtract(rightTime, leftTime);
        const rise = subtract(input(p, e[1]), input(p, e[0]));
        if (nullish(rise)) fail(LocationCodes.WindowDerivativeNullInput, '$derivative input must not be null or missing');
        let result: unknown;
        try {
          result = divide(rise, run);
        } catch (err) {
          // A zero run (one document in the window) is no error: the result is null.
          if (err instanceof MongoError && err.code === ErrorCodes.BadValue) return null;
          throw err;
        }
        return unitMillis === undefined ? result : multiply(result, Long.fromNumber(unitMillis));
      },
    };
  };
}

/** Value::coercibleToDate: a date, a timestamp or an ObjectId. */
function coercibleToDate(v: unknown): boolean {
  const t = bsonTypeOf(v);
  return t === BSON_TYPE.date || t === BSON_TYPE.timestamp || t === BSON_TYPE.objectId;
}

/** WindowFunctionExecLinearFill: y1 + (x - x1) * ((y2 - y1) / (x2 - x1)) between the known points. */
export function linearFillExecutor(expr: CompiledExpression): ExecutorFactory {
  const input = expressionInput(expr);
  return (p) => {
    let lastSeen: { readonly value: unknown } | undefined;
    let prevX1Y1: readonly [unknown, unknown] | undefined;
    let prevX2Y2: readonly [unknown, unknown] | undefined;
    const findX2Y2 = (i: number): readonly [unknown, unknown] | undefined => {
      for (let k = i + 1; k < p.size; k++) {
        const y = input(p, k);
        if (nullish(y)) continue;
        const x = p.sortValue(k);
        if (!nullish(x)) {
          prevX2Y2 = [x, y];
          return prevX2Y2;
        }
      }
      return undefined;
    };
    return {
      next(i) {
        const y = input(p, i);
        if (!isNumeric(y) && !nullish(y)) fail(ErrorCodes.TypeMismatch, `Value to be filled must be numeric or nullish, but found ${typeName(y)}`);
        const x = p.sortValue(i);
        if (!isNumeric(x) && !coercibleToDate(x)) fail(ErrorCodes.TypeMismatch, `Value of the sortBy field must be numeric or a date, but found ${typeName(x)}`);
        if (lastSeen !== undefined) {
          if (compareValues(x, lastSeen.value) === 0) fail(LocationCodes.WindowLinearFillRepeated, 'There can be no repeated values in the sort field');
          const prev = lastSeen.value;
          if (!((coercibleToDate(x) && coercibleToDate(prev)) || (isNumeric(x) && isNumeric(prev)))) {
            fail(ErrorCodes.TypeMismatch, `Conflicting sort value types, previously received type ${typeName(prev)}, but found ${typeName(x)}`);
          }
        }
        lastSeen = { value: x };
        if (!nullish(y)) {
          prevX1Y1 = prevX2Y2 ?? [x, y];
          prevX2Y2 = undefined;
          return y;
        }
        if (prevX1Y1 === undefined) return null;
        const second = prevX2Y2 ?? findX2Y2(i);
        if (second === undefined) return null;
        const [x1, y1] = prevX1Y1;
        const [x2, y2] = second;
        return add(y1, multiply(subtract(x, x1), divide(subtract(y2, y1), subtract(x2, x1))));
      },
    };
  };
}
