/**
 * Set expressions (src/mongo/db/exec/expression/evaluate_array.cpp, evaluate_logical.cpp):
 * $setUnion $setIntersection $setDifference $setEquals $setIsSubset $anyElementTrue
 * $allElementsTrue.
 *
 * mongod keeps sets as ordered sets (ValueSet, ordered by Value comparison under the operation's
 * collation): $setUnion and $setIntersection therefore return their elements sorted, and among
 * elements that compare equal (1 and 1.0, or strings equal under the collation) the one inserted
 * first is kept. $setDifference keeps the first operand's order (without duplicates). Here a set is
 * a sorted array of distinct elements, searched by binary search, which gives the same results.
 */
import { LocationCodes } from '../../errors.js';
import { computed, fail, fixedArity, variadic, type Node, type OperatorTable, type ParseContext } from './node.js';
import { coerceToBool, nullish, typeName } from './values.js';

type Compare = (a: unknown, b: unknown) => number;

/** The ordered set of an array's elements: sorted, first of each run of equal elements kept. */
function orderedSet(values: readonly unknown[], compare: Compare): unknown[] {
  const sorted = values.slice().sort(compare); // Array.prototype.sort is stable
  const out: unknown[] = [];
  for (const v of sorted) {
    if (out.length === 0 || compare(out[out.length - 1], v) !== 0) out.push(v);
  }
  return out;
}

/** Index of `v` in a sorted set, or -(insertion point) - 1. */
function search(set: readonly unknown[], v: unknown, compare: Compare): number {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compare(set[mid], v);
    if (c < 0) lo = mid + 1;
    else if (c > 0) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

function has(set: readonly unknown[], v: unknown, compare: Compare): boolean {
  return search(set, v, compare) >= 0;
}

function parseSetUnion(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = variadic(arg, ctx);
  const evals = children.map((c) => c.evaluate);
  const compare = ctx.compare;
  return computed((s) => {
    const all: unknown[] = [];
    for (const e of evals) {
      const v = e(s);
      if (nullish(v)) return null;
      if (!Array.isArray(v)) {
        throw fail(LocationCodes.SetUnionNotArray, `All operands of ${op} must be arrays. One argument is of type: ${typeName(v)}`);
      }
      for (const x of v) all.push(x);
    }
    return orderedSet(all, compare);
  }, children);
}

function parseSetIntersection(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = variadic(arg, ctx);
  const evals = children.map((c) => c.evaluate);
  const compare = ctx.compare;
  return computed((s) => {
    let current: unknown[] = [];
    for (let i = 0; i < evals.length; i++) {
      const v = evals[i]!(s);
      if (nullish(v)) return null;
      if (!Array.isArray(v)) {
        throw fail(
          LocationCodes.SetIntersectionNotArray,
          `All operands of ${op} must be arrays. One argument is of type: ${typeName(v)}`,
        );
      }
      if (i === 0) {
        current = orderedSet(v, compare);
      } else if (current.length > 0) {
        let next = orderedSet(v, compare);
        if (current.length > next.length) {
          // iterate over whichever is the smaller set (the kept elements then come from it)
          const t = next;
          next = current;
          current = t;
        }
        const nextSet = next;
        current = current.filter((x) => has(nextSet, x, compare));
      }
    }
    return current;
  }, children);
}

function parseSetDifference(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  const compare = ctx.compare;
  return computed((s) => {
    const lhs = a(s);
    const rhs = b(s);
    if (nullish(lhs) || nullish(rhs)) return null;
    if (!Array.isArray(lhs)) {
      throw fail(
        LocationCodes.SetDifferenceFirstNotArray,
        `both operands of $setDifference must be arrays. First argument is of type: ${typeName(lhs)}`,
      );
    }
    if (!Array.isArray(rhs)) {
      throw fail(
        LocationCodes.SetDifferenceSecondNotArray,
        `both operands of $setDifference must be arrays. Second argument is of type: ${typeName(rhs)}`,
      );
    }
    const seen = orderedSet(rhs, compare);
    const out: unknown[] = [];
    for (const x of lhs) {
      const i = search(seen, x, compare);
      if (i < 0) {
        seen.splice(-i - 1, 0, x);
        out.push(x);
      }
    }
    return out;
  }, children);
}

function parseSetEquals(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = variadic(arg, ctx);
  if (children.length < 2) {
    throw fail(LocationCodes.SetEqualsArity, `${op} needs at least two arguments had: ${children.length}`);
  }
  const evals = children.map((c) => c.evaluate);
  const compare = ctx.compare;
  return computed((s) => {
    let lhs: unknown[] = [];
    for (let i = 0; i < evals.length; i++) {
      const v = evals[i]!(s);
      if (!Array.isArray(v)) {
        throw fail(
          LocationCodes.SetEqualsNotArray,
          `All operands of ${op} must be arrays. ${i + 1}-th argument is of type: ${typeName(v)}`,
        );
      }
      if (i === 0) {
        lhs = orderedSet(v, compare);
      } else {
        const rhs = orderedSet(v, compare);
        if (lhs.length !== rhs.length) return false;
        for (const x of lhs) if (!has(rhs, x, compare)) return false;
      }
    }
    return true;
  }, children);
}

function parseSetIsSubset(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  const compare = ctx.compare;
  return computed((s) => {
    const lhs = a(s);
    if (!Array.isArray(lhs)) {
      throw fail(
        LocationCodes.SetIsSubsetFirstNotArray,
        `both operands of $setIsSubset must be arrays. First argument is of type: ${typeName(lhs)}`,
      );
    }
    const rhs = b(s);
    if (!Array.isArray(rhs)) {
      throw fail(
        LocationCodes.SetIsSubsetSecondNotArray,
        `both operands of $setIsSubset must be arrays. Second argument is of type: ${typeName(rhs)}`,
      );
    }
    const set = orderedSet(rhs, compare);
    for (const x of lhs) if (!has(set, x, compare)) return false;
    return true;
  }, children);
}

function parseElementsTrue(any: boolean) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = fixedArity(op, arg, 1, ctx);
    const a = children[0]!.evaluate;
    return computed((s) => {
      const v = a(s);
      if (!Array.isArray(v)) {
        throw fail(
          any ? LocationCodes.AnyElementTrueNotArray : LocationCodes.AllElementsTrueNotArray,
          `${op}'s argument must be an array, but is ${typeName(v)}`,
        );
      }
      for (const x of v) if (coerceToBool(x) === any) return any;
      return !any;
    }, children);
  };
}

export const setOperators: OperatorTable = {
  $setUnion: parseSetUnion,
  $setIntersection: parseSetIntersection,
  $setDifference: parseSetDifference,
  $setEquals: parseSetEquals,
  $setIsSubset: parseSetIsSubset,
  $anyElementTrue: parseElementsTrue(true),
  $allElementsTrue: parseElementsTrue(false),
};
