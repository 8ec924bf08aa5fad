/**
 * Array expressions (src/mongo/db/exec/expression/evaluate_array.cpp, evaluate_map_reduce_filter.cpp,
 * evaluate_logical.cpp, evaluate_math.cpp for $range; parsers in src/mongo/db/pipeline/expression.cpp):
 * $arrayElemAt $first $last $concatArrays $filter $map $reduce $in $indexOfArray $isArray $size
 * $slice $range $reverseArray $zip $sortArray; and $firstN $lastN $maxN $minN, the accumulators'
 * expression forms (ExpressionFromAccumulatorN, src/mongo/db/pipeline/accumulator_multi.cpp).
 *
 * Elements are returned as they are (the stored objects); new arrays are built only for results.
 */
import { BSON, Int32 } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import {
  computed,
  fail,
  fixedArity,
  isArgumentObject,
  rangedArity,
  refuse,
  variadic,
  type Node,
  type OperatorTable,
  type ParseContext,
  validateVariableNameForWrite,
} from './node.js';
import { elementText } from '../match/values.js';
import { coerceToLong, integral } from '../numeric.js';
import {
  coerceToBool,
  coerceToDouble,
  coerceToInt,
  doubleText,
  documentOf,
  isNumber,
  isObject,
  nullish,
  typeName,
  valueText,
} from './values.js';

const MINUS_ONE = new Int32(-1);

// ---------------------------------------------------------------------------------------------
// $arrayElemAt $first $last

/** arrayElemAt (evaluate_array.cpp): null for null/missing input, missing when out of range. */
function elemAt(op: string, arity: number, array: unknown, index: unknown): unknown {
  if (nullish(array) || nullish(index)) return null;
  if (!Array.isArray(array)) {
    throw fail(
      LocationCodes.ArrayElemAtNotArray,
      `${op}'s ${arity === 1 ? 'argument' : 'first argument'} must be an array, but is ${typeName(array)}`,
    );
  }
  if (!isNumber(index)) {
    throw fail(LocationCodes.ArrayElemAtIndexNotNumeric, `${op}'s second argument must be a numeric value, but is ${typeName(index)}`);
  }
  if (!integral(index)) {
    throw fail(
      LocationCodes.ArrayElemAtIndexNotIntegral,
      `${op}'s second argument must be representable as a 32-bit integer: ${doubleText(coerceToDouble(index))}`,
    );
  }
  let i = coerceToInt(index);
  if (i < 0) {
    if (-i > array.length) return undefined;
    i += array.length;
  }
  return i < array.length ? array[i] : undefined;
}

function parseArrayElemAt(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  return computed((s) => {
    const array = a(s);
    return elemAt(op, 2, array, b(s));
  }, children);
}

function parseFirstLast(index: number) {
  const idx = new Int32(index);
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = fixedArity(op, arg, 1, ctx);
    const a = children[0]!.evaluate;
    return computed((s) => elemAt(op, 1, a(s), idx), children);
  };
}

// ---------------------------------------------------------------------------------------------
// $concatArrays

function parseConcatArrays(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = variadic(arg, ctx);
  const evals = children.map((c) => c.evaluate);
  return computed((s) => {
    const out: unknown[] = [];
    for (const e of evals) {
      const v = e(s);
      if (nullish(v)) return null;
      if (!Array.isArray(v)) throw fail(LocationCodes.ConcatArraysNotArray, `${op} only supports arrays, not ${typeName(v)}`);
      for (const x of v) out.push(x);
    }
    return out;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $filter $map $reduce

/** The name an "as" argument gives (BSONElement::str(): "" for a non-string). */
function asName(v: unknown, given: boolean): string {
  if (!given) return 'this';
  return typeof v === 'string' ? v : '';
}

function parseFilter(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.FilterNotObject, '$filter only supports an object as its argument');
  let hasInput = false;
  let hasAs = false;
  let hasCond = false;
  let hasLimit = false;
  for (const k of Object.keys(arg)) {
    if (k === 'input') hasInput = true;
    else if (k === 'as') hasAs = true;
    else if (k === 'cond') hasCond = true;
    else if (k === 'limit') hasLimit = true;
    else throw fail(LocationCodes.FilterUnknownParameter, `Unrecognized parameter to $filter: ${k}`);
  }
  if (!hasInput) throw fail(LocationCodes.FilterMissingInput, "Missing 'input' parameter to $filter");
  if (!hasCond) throw fail(LocationCodes.FilterMissingCond, "Missing 'cond' parameter to $filter");
  const input = ctx.parse(arg.input);
  const name = asName(arg.as, hasAs);
  validateVariableNameForWrite(name);
  const { ctx: inner, slots } = ctx.define([name]);
  const cond = inner.parse(arg.cond);
  const limit = hasLimit ? ctx.parse(arg.limit) : undefined;
  const frame = ctx.frame;
  const slot = slots[0]!;
  const inputEval = input.evaluate;
  const condEval = cond.evaluate;
  const limitEval = limit?.evaluate;
  return {
    constant: false,
    evaluate(s) {
      const v = inputEval(s);
      if (nullish(v)) return null;
      if (!Array.isArray(v)) throw fail(LocationCodes.FilterInputNotArray, `input to $filter must be an array not ${typeName(v)}`);
      if (v.length === 0) return v;
      let remaining = -1;
      if (limitEval !== undefined) {
        const l = limitEval(s);
        if (!nullish(l)) {
          if (!integral(l)) {
            throw fail(LocationCodes.FilterLimitNotIntegral, `$filter: limit must be represented as a 32-bit integral value: ${valueText(l)}`);
          }
          const n = coerceToInt(l);
          if (n <= 0) throw fail(LocationCodes.FilterLimitNotPositive, `$filter: limit must be greater than 0: ${valueText(l)}`);
          remaining = n;
        }
      }
      const out: unknown[] = [];
      for (const el of v) {
        frame[slot] = el;
        if (coerceToBool(condEval(s))) {
          out.push(el);
          if (remaining > 0 && --remaining === 0) break;
        }
      }
      return out;
    },
  };
}

function parseMap(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.MapNotObject, '$map only supports an object as its argument');
  let hasInput = false;
  let hasAs = false;
  let hasIn = false;
  for (const k of Object.keys(arg)) {
    if (k === 'input') hasInput = true;
    else if (k === 'as') hasAs = true;
    else if (k === 'in') hasIn = true;
    else throw fail(LocationCodes.MapUnknownParameter, `Unrecognized parameter to $map: ${k}`);
  }
  if (!hasInput) throw fail(LocationCodes.MapMissingInput, "Missing 'input' parameter to $map");
  if (!hasIn) throw fail(LocationCodes.MapMissingIn, "Missing 'in' parameter to $map");
  const input = ctx.parse(arg.input);
  const name = asName(arg.as, hasAs);
  validateVariableNameForWrite(name);
  const { ctx: inner, slots } = ctx.define([name]);
  const each = inner.parse(arg.in);
  const frame = ctx.frame;
  const slot = slots[0]!;
  const inputEval = input.evaluate;
  const eachEval = each.evaluate;
  return {
    constant: false,
    evaluate(s) {
      const v = inputEval(s);
      if (nullish(v)) return null;
      if (!Array.isArray(v)) throw fail(LocationCodes.MapInputNotArray, `input to $map must be an array not ${typeName(v)}`);
      if (v.length === 0) return v;
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        frame[slot] = v[i];
        const r = eachEval(s);
        out[i] = r === undefined ? null : r;
      }
      return out;
    },
  };
}

function parseReduce(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) {
    throw fail(LocationCodes.ReduceNotObject, `$reduce requires an object as an argument, found: ${typeName(arg)}`);
  }
  const { ctx: inner, slots } = ctx.define(['this', 'value']);
  let input: Node | undefined;
  let initial: Node | undefined;
  let body: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'input') input = ctx.parse(arg[k]);
    else if (k === 'initialValue') initial = ctx.parse(arg[k]);
    else if (k === 'in') body = inner.parse(arg[k]);
    else throw fail(LocationCodes.ReduceUnknownArgument, `$reduce found an unknown argument: ${k}`);
  }
  if (input === undefined) throw fail(LocationCodes.ReduceMissingInput, "$reduce requires 'input' to be specified");
  if (initial === undefined) throw fail(LocationCodes.ReduceMissingInitialValue, "$reduce requires 'initialValue' to be specified");
  if (body === undefined) throw fail(LocationCodes.ReduceMissingIn, "$reduce requires 'in' to be specified");
  const frame = ctx.frame;
  const thisSlot = slots[0]!;
  const valueSlot = slots[1]!;
  const inputEval = input.evaluate;
  const initialEval = initial.evaluate;
  const bodyEval = body.evaluate;
  return {
    constant: false,
    evaluate(s) {
      const v = inputEval(s);
      if (nullish(v)) return null;
      if (!Array.isArray(v)) {
        throw fail(LocationCodes.ReduceInputNotArray, `$reduce requires that 'input' be an array, found: ${valueText(v)}`);
      }
      let acc = initialEval(s);
      for (const el of v) {
        frame[thisSlot] = el;
        frame[valueSlot] = acc;
        acc = bodyEval(s);
      }
      return acc;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// $in $indexOfArray

function parseIn(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  const compare = ctx.compare;
  return computed((s) => {
    const x = a(s);
    const arr = b(s);
    if (!Array.isArray(arr)) {
      throw fail(LocationCodes.InNotArray, `$in requires an array as a second argument, found: ${typeName(arr)}`);
    }
    for (const el of arr) if (compare(x, el) === 0) return true;
    return false;
  }, children);
}

/** uassertIfNotIntegralAndNonNegative (evaluate_string.cpp / evaluate_array.cpp, 7.0). */
export function checkIndexArgument(v: unknown, op: string, argument: string): number {
  if (!integral(v)) {
    throw fail(
      LocationCodes.IndexNotIntegral,
      `${op}requires an integral ${argument}, found a value of type: ${typeName(v)}, with value: ${valueText(v)}`,
    );
  }
  const n = coerceToInt(v);
  if (n < 0) throw fail(LocationCodes.IndexNegative, `${op} requires a nonnegative ${argument}, found: ${valueText(v)}`);
  return n;
}

function parseIndexOfArray(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = rangedArity(op, arg, 2, 4, ctx);
  const evals = children.map((c) => c.evaluate);
  const compare = ctx.compare;
  return computed((s) => {
    const arr = evals[0]!(s);
    if (nullish(arr)) return null;
    if (!Array.isArray(arr)) {
      throw fail(LocationCodes.IndexOfArrayNotArray, `$indexOfArray requires an array as a first argument, found: ${typeName(arr)}`);
    }
    let start = 0;
    if (evals.length > 2) start = checkIndexArgument(evals[2]!(s), op, 'starting index');
    let end = arr.length;
    if (evals.length > 3) end = Math.min(arr.length, checkIndexArgument(evals[3]!(s), op, 'ending index'));
    const target = evals[1]!(s);
    for (let i = start; i < end; i++) {
      if (compare(arr[i], target) === 0) return new Int32(i);
    }
    return MINUS_ONE;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $isArray $size $reverseArray $slice $range

function parseIsArray(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => Array.isArray(a(s)), children);
}

function parseSize(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const v = a(s);
    if (!Array.isArray(v)) throw fail(LocationCodes.SizeNotArray, `The argument to $size must be an array, but was of type: ${typeName(v)}`);
    return new Int32(v.length);
  }, children);
}

function parseReverseArray(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const v = a(s);
    if (nullish(v)) return null;
    if (!Array.isArray(v)) {
      throw fail(LocationCodes.ReverseArrayNotArray, `The argument to $reverseArray must be an array, but was of type: ${typeName(v)}`);
    }
    if (v.length < 2) return v;
    return v.slice().reverse();
  }, children);
}

function parseSlice(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = rangedArity(op, arg, 2, 3, ctx);
  const evals = children.map((c) => c.evaluate);
  return computed((s) => {
    const arr = evals[0]!(s);
    const arg2 = evals[1]!(s);
    if (nullish(arr) || nullish(arg2)) return null;
    if (!Array.isArray(arr)) {
      throw fail(LocationCodes.SliceNotArray, `First argument to $slice must be an array, but is of type: ${typeName(arr)}`);
    }
    if (!isNumber(arg2)) {
      throw fail(LocationCodes.SliceSecondNotNumeric, `Second argument to $slice must be a numeric value, but is of type: ${typeName(arg2)}`);
    }
    if (!integral(arg2)) {
      throw fail(
        LocationCodes.SliceSecondNotIntegral,
        `Second argument to $slice can't be represented as a 32-bit integer: ${doubleText(coerceToDouble(arg2))}`,
      );
    }
    const len = arr.length;
    let start: number;
    let end: number;
    if (evals.length === 2) {
      const count = coerceToInt(arg2);
      start = 0;
      end = len;
      if (count >= 0) end = Math.min(end, count);
      else start = Math.max(0, len + count);
    } else {
      const startInt = coerceToInt(arg2);
      start = startInt < 0 ? Math.max(0, len + startInt) : Math.min(len, startInt);
      const countVal = evals[2]!(s);
      if (nullish(countVal)) return null;
      if (!isNumber(countVal)) {
        throw fail(LocationCodes.SliceThirdNotNumeric, `Third argument to $slice must be numeric, but is of type: ${typeName(countVal)}`);
      }
      if (!integral(countVal)) {
        throw fail(
          LocationCodes.SliceThirdNotIntegral,
          `Third argument to $slice can't be represented as a 32-bit integer: ${doubleText(coerceToDouble(countVal))}`,
        );
      }
      const count = coerceToInt(countVal);
      if (count <= 0) throw fail(LocationCodes.SliceThirdNotPositive, `Third argument to $slice must be positive: ${count}`);
      end = Math.min(start + count, len);
    }
    return arr.slice(start, end);
  }, children);
}

/** internalQueryMaxRangeBytes (64 MiB). */
const MAX_RANGE_BYTES = 64 * 1024 * 1024;

function parseRange(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = rangedArity(op, arg, 2, 3, ctx);
  const evals = children.map((c) => c.evaluate);
  return computed((s) => {
    const startVal = evals[0]!(s);
    const endVal = evals[1]!(s);
    if (!isNumber(startVal)) {
      throw fail(LocationCodes.RangeStartNotNumeric, `$range requires a numeric starting value, found value of type: ${typeName(startVal)}`);
    }
    if (!integral(startVal)) {
      throw fail(
        LocationCodes.RangeStartNotIntegral,
        `$range requires a starting value that can be represented as a 32-bit integer, found value: ${valueText(startVal)}`,
      );
    }
    if (!isNumber(endVal)) {
      throw fail(LocationCodes.RangeEndNotNumeric, `$range requires a numeric ending value, found value of type: ${typeName(endVal)}`);
    }
    if (!integral(endVal)) {
      throw fail(
        LocationCodes.RangeEndNotIntegral,
        `$range requires an ending value that can be represented as a 32-bit integer, found value: ${valueText(endVal)}`,
      );
    }
    let current = coerceToInt(startVal);
    const end = coerceToInt(endVal);
    let step = 1;
    if (evals.length === 3) {
      const stepVal = evals[2]!(s);
      if (!isNumber(stepVal)) {
        throw fail(LocationCodes.RangeStepNotNumeric, `$range requires a numeric step value, found value of type:${typeName(stepVal)}`);
      }
      if (!integral(stepVal)) {
        throw fail(
          LocationCodes.RangeStepNotIntegral,
          `$range requires a step value that can be represented as a 32-bit integer, found value: ${valueText(stepVal)}`,
        );
      }
      step = coerceToInt(stepVal);
      if (step === 0) throw fail(LocationCodes.RangeStepZero, '$range requires a non-zero step value');
    }
    const steps = Math.trunc((end - current) / step);
    const length = steps >= 0 ? 1 + steps : 0;
    const memNeeded = 24 + length * 16;
    if (memNeeded >= MAX_RANGE_BYTES) {
      throw new MongoError(
        ErrorCodes.ExceededMemoryLimit,
        `$range would use too much memory (${memNeeded} bytes) and cannot spill to disk. Memory limit: ${MAX_RANGE_BYTES} bytes`,
      );
    }
    const out: Int32[] = [];
    while (step > 0 ? current < end : current > end) {
      out.push(new Int32(current));
      current += step;
    }
    return out;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $zip

function parseZip(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.ZipNotObject, `$zip only supports an object as an argument, found ${typeName(arg)}`);
  let useLongest = false;
  const inputs: Node[] = [];
  const defaults: Node[] = [];
  for (const k of Object.keys(arg)) {
    const v = arg[k];
    if (k === 'inputs') {
      if (!Array.isArray(v)) throw fail(LocationCodes.ZipInputsNotArray, `inputs must be an array of expressions, found ${typeName(v)}`);
      for (const e of v as unknown[]) inputs.push(ctx.parse(e));
    } else if (k === 'defaults') {
      if (!Array.isArray(v)) throw fail(LocationCodes.ZipDefaultsNotArray, `defaults must be an array of expressions, found ${typeName(v)}`);
      for (const e of v as unknown[]) defaults.push(ctx.parse(e));
    } else if (k === 'useLongestLength') {
      // mongod names the type of the whole argument here
      if (typeof v !== 'boolean') throw fail(LocationCodes.ZipUseLongestNotBool, `useLongestLength must be a bool, found ${typeName(arg)}`);
      useLongest = v;
    } else {
      throw fail(LocationCodes.ZipUnknownArgument, `$zip found an unknown argument: ${k}`);
    }
  }
  if (inputs.length === 0) throw fail(LocationCodes.ZipNoInputs, '$zip requires at least one input array');
  if (!useLongest && defaults.length > 0) throw fail(LocationCodes.ZipDefaultsWithoutLongest, 'cannot specify defaults unless useLongestLength is true');
  if (defaults.length > 0 && defaults.length !== inputs.length) {
    throw fail(LocationCodes.ZipDefaultsLength, 'defaults and inputs must have the same length');
  }
  const inputEvals = inputs.map((n) => n.evaluate);
  const defaultEvals = defaults.map((n) => n.evaluate);
  return computed(
    (s) => {
      const arrays: unknown[][] = [];
      let min = 0;
      let max = 0;
      for (let i = 0; i < inputEvals.length; i++) {
        const v = inputEvals[i]!(s);
        if (nullish(v)) return null;
        if (!Array.isArray(v)) throw fail(LocationCodes.ZipInputNotArray, `$zip found a non-array expression in input: ${valueText(v)}`);
        arrays.push(v);
        if (i === 0) {
          min = v.length;
          max = v.length;
        } else {
          min = Math.min(min, v.length);
          max = Math.max(max, v.length);
        }
      }
      const fill: unknown[] = arrays.map(() => null);
      if (min !== max) {
        for (let i = 0; i < defaultEvals.length; i++) fill[i] = defaultEvals[i]!(s);
      }
      const length = useLongest ? max : min;
      const out: unknown[][] = [];
      for (let row = 0; row < length; row++) {
        const r: unknown[] = [];
        for (let col = 0; col < arrays.length; col++) {
          const a = arrays[col]!;
          // a missing default makes a missing element, which an array holds as null
          const v = row < a.length ? a[row] : fill[col];
          r.push(v === undefined ? null : v);
        }
        out.push(r);
      }
      return out;
    },
    [...inputs, ...defaults],
  );
}

// ---------------------------------------------------------------------------------------------
// $sortArray

interface SortSpec {
  /** Sort by the whole value, in this direction; or by the pattern's fields. */
  readonly whole?: 1 | -1;
  readonly fields?: readonly { readonly path: readonly string[]; readonly dir: 1 | -1 }[];
}

/** pattern_cmp::checkSortClause's reasons. */
function checkSortClause(pattern: Record<string, unknown>): string | undefined {
  const keys = Object.keys(pattern);
  if (keys.length === 0) return 'The $sort pattern is empty when it should be a set of fields.';
  for (const k of keys) {
    const v = pattern[k];
    const order = isNumber(v) ? coerceToDouble(v) : 0;
    if (order !== -1 && order !== 1) return 'The $sort element value must be either 1 or -1';
    if (k.length === 0) return 'The $sort field cannot be empty';
    if (k.split('.').some((p) => p.length === 0)) return `The $sort field is a dotted field but has an empty part: ${k}`;
  }
  return undefined;
}

function parseSortSpec(v: unknown): SortSpec {
  if (isArgumentObject(v)) {
    const reason = checkSortClause(v);
    if (reason !== undefined) throw fail(LocationCodes.SortArrayBadPattern, `BadValue: ${reason}`);
    const keys = Object.keys(v);
    // a pattern {"": 1} sorts by the whole value (useWholeValue = sortPattern.hasField(""))
    if (keys.includes('')) return { whole: coerceToDouble(v['']) < 0 ? -1 : 1 };
    return { fields: keys.map((k) => ({ path: k.split('.'), dir: coerceToDouble(v[k]) < 0 ? -1 : 1 })) };
  }
  if (isNumber(v)) {
    const order = coerceToDouble(v);
    if (order !== -1 && order !== 1) throw fail(LocationCodes.SortArrayBadOrder, 'The $sort element value must be either 1 or -1');
    return { whole: order < 0 ? -1 : 1 };
  }
  throw fail(
    LocationCodes.SortArrayBadSortBy,
    'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields',
  );
}

/** BSONObj::getFieldDotted: documents by name, arrays by numeric index; else missing. */
function dottedField(v: unknown, path: readonly string[]): unknown {
  let cur: unknown = v;
  for (const part of path) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(part)) return undefined;
      cur = cur[Number(part)];
    } else if (isObject(cur)) {
      const doc = documentOf(cur);
      cur = Object.hasOwn(doc, part) ? doc[part] : undefined;
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Whether two values are the same BSON (type and bytes). */
function identical(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = BSON.serialize({ v: a });
  const y = BSON.serialize({ v: b });
  return Buffer.compare(x, y) === 0;
}

/**
 * libstdc++'s std::sort is stable for up to 16 elements (insertion sort only); beyond that, the
 * order of elements that compare equal is unspecified. A stable sort is used; when elements that
 * are not identical compare equal in an array of more than 16, the result is refused (115).
 */
function sortArray(arr: readonly unknown[], spec: SortSpec, compare: (a: unknown, b: unknown) => number): unknown[] {
  let cmp: (a: unknown, b: unknown) => number;
  if (spec.whole !== undefined) {
    const dir = spec.whole;
    cmp = (a, b) => compare(a, b) * dir;
  } else {
    const fields = spec.fields!;
    const keyOf = (v: unknown): unknown[] =>
      fields.map((f) => {
        const x = isObject(v) ? dottedField(v, f.path) : undefined;
        return x === undefined ? null : x;
      });
    const keys = new Map<unknown, unknown[]>();
    const key = (v: unknown): unknown[] => {
      let k = keys.get(v);
      if (k === undefined) {
        k = keyOf(v);
        if (typeof v === 'object' && v !== null) keys.set(v, k);
      }
      return k;
    };
    cmp = (a, b) => {
      const ka = key(a);
      const kb = key(b);
      for (let i = 0; i < fields.length; i++) {
        const c = compare(ka[i], kb[i]);
        if (c !== 0) return c * fields[i]!.dir;
      }
      return 0;
    };
  }
  const out = arr.slice().sort(cmp);
  if (out.length > 16) {
    for (let i = 1; i < out.length; i++) {
      if (cmp(out[i - 1], out[i]) === 0 && !identical(out[i - 1], out[i])) {
        throw refuse('$sortArray of more than 16 elements where distinct elements sort equal (mongod leaves their order unspecified)');
      }
    }
  }
  return out;
}

function parseSortArray(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) {
    throw fail(LocationCodes.SortArrayNotObject, `$sortArray requires an object as an argument, found: ${typeName(arg)}`);
  }
  let input: Node | undefined;
  let spec: SortSpec | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'input') input = ctx.parse(arg[k]);
    else if (k === 'sortBy') spec = parseSortSpec(arg[k]);
    else throw fail(LocationCodes.SortArrayUnknownArgument, `$sortArray found an unknown argument: ${k}`);
  }
  if (input === undefined) throw fail(LocationCodes.SortArrayMissingInput, "$sortArray requires 'input' to be specified");
  if (spec === undefined) throw fail(LocationCodes.SortArrayMissingSortBy, "$sortArray requires 'sortBy' to be specified");
  const inputEval = input.evaluate;
  const compare = ctx.compare;
  const sortSpec = spec;
  return computed((s) => {
    const v = inputEval(s);
    if (nullish(v)) return null;
    if (!Array.isArray(v)) {
      throw fail(LocationCodes.SortArrayInputNotArray, `The input argument to $sortArray must be an array, but was of type: ${typeName(v)}`);
    }
    if (v.length < 2) return v;
    return sortArray(v, sortSpec, compare);
  }, [input]);
}

// ---------------------------------------------------------------------------------------------
// $firstN $lastN $maxN $minN

type NKind = 'first' | 'last' | 'min' | 'max';

/** AccumulatorN::validateN: a number whose int64 value (coerceToLong) equals it as a double, above 0. */
function validateN(v: unknown): number {
  if (!isNumber(v)) throw fail(LocationCodes.AccumulatorNNotNumeric, `Value for 'n' must be of integral type, but found ${valueText(v)}`);
  const n = coerceToLong(v);
  if (Number(n) !== coerceToDouble(v)) {
    throw fail(LocationCodes.AccumulatorNNotIntegral, `Value for 'n' must be of integral type, but found ${valueText(v)}`);
  }
  if (n <= 0n) throw fail(LocationCodes.AccumulatorNNotPositive, `'n' must be greater than 0, found ${n}`);
  // an array never holds 2^53 elements: larger counts keep them all
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/**
 * AccumulatorMinMaxN over an array: nullish elements ignored; the kept multiset is the n least
 * (greatest) elements, of equal ones the earliest; it is output ascending for $minN, descending
 * for $maxN (the multiset read backwards: equal elements latest first).
 */
function minMaxN(arr: readonly unknown[], n: number, max: boolean, compare: (a: unknown, b: unknown) => number): unknown[] {
  const values = arr.filter((v) => !nullish(v));
  // Array.prototype.sort is stable: equal elements stay in arrival order
  values.sort(max ? (a, b) => compare(b, a) : compare);
  const kept = values.slice(0, n);
  if (!max) return kept;
  const out: unknown[] = [];
  for (let start = 0; start < kept.length; ) {
    let end = start + 1;
    while (end < kept.length && compare(kept[start], kept[end]) === 0) end++;
    for (let i = end - 1; i >= start; i--) out.push(kept[i]);
    start = end;
  }
  return out;
}

/** AccumulatorFirstLastN::parseFirstLastN / AccumulatorMinMaxN::parseMinMaxN, then AccumulatorN::parseArgs. */
function parseAccumulatorN(kind: NKind) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    if (!isArgumentObject(arg)) {
      const code = kind === 'first' || kind === 'last' ? LocationCodes.FirstLastNSpecNotObject : LocationCodes.MinMaxNSpecNotObject;
      throw fail(code, `specification must be an object; found ${elementText(op, arg)}`);
    }
    let n: Node | undefined;
    let input: Node | undefined;
    for (const k of Object.keys(arg)) {
      if (k === 'input') input = ctx.parse(arg[k]);
      else if (k === 'n') n = ctx.parse(arg[k]);
      else throw fail(LocationCodes.AccumulatorNUnknownArgument, `Unknown argument for 'n' operator: ${k}`);
    }
    if (n === undefined) throw fail(LocationCodes.AccumulatorNMissingN, "Missing value for 'n'");
    if (input === undefined) throw fail(LocationCodes.AccumulatorNMissingInput, "Missing value for 'input'");
    const nEval = n.evaluate;
    const inputEval = input.evaluate;
    const compare = ctx.compare;
    return computed((s) => {
      // 'n' is checked before the input is evaluated (evaluateAccumulatorN: startNewGroup first)
      const count = validateN(nEval(s));
      const arr = inputEval(s);
      if (!Array.isArray(arr)) throw fail(LocationCodes.AccumulatorNInputNotArray, 'Input must be an array');
      switch (kind) {
        case 'first':
          return arr.slice(0, count).map((v: unknown) => (v === undefined ? null : v));
        case 'last':
          return arr.slice(Math.max(0, arr.length - count)).map((v: unknown) => (v === undefined ? null : v));
        default:
          return minMaxN(arr, count, kind === 'max', compare);
      }
    }, [n, input]);
  };
}

export const arrayOperators: OperatorTable = {
  $arrayElemAt: parseArrayElemAt,
  $first: parseFirstLast(0),
  $last: parseFirstLast(-1),
  $concatArrays: parseConcatArrays,
  $filter: parseFilter,
  $map: parseMap,
  $reduce: parseReduce,
  $in: parseIn,
  $indexOfArray: parseIndexOfArray,
  $isArray: parseIsArray,
  $size: parseSize,
  $reverseArray: parseReverseArray,
  $slice: parseSlice,
  $range: parseRange,
  $zip: parseZip,
  $sortArray: parseSortArray,
  $firstN: parseAccumulatorN('first'),
  $lastN: parseAccumulatorN('last'),
  $maxN: parseAccumulatorN('max'),
  $minN: parseAccumulatorN('min'),
};
