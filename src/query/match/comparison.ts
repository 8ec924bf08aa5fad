/**
 * $eq $ne $gt $gte $lt $lte $in $nin (expression_leaf.cpp: ComparisonMatchExpression,
 * InMatchExpression).
 *
 * ComparisonMatchExpression::matchesSingleElement, rule by rule:
 * - values of different canonical types never compare, except: null against a missing field or
 *   undefined (canonical 5 + 0) matches $eq, $lte and $gte; a MinKey/MaxKey operand: $lt/$lte
 *   match everything below MaxKey, $gt/$gte everything above MinKey, $eq nothing else;
 * - for $lt $lte $gt $gte a NaN (double or decimal) on either side matches only $lte/$gte of two
 *   NaNs; $eq compares normally (NaN equals NaN);
 * - otherwise BSONElement::compareElements: exact numeric comparison across int/long/double/
 *   decimal, documents field by field in order (names included), arrays element by element,
 *   strings by bytes or by the collation.
 * The path yields each element of a leaf array and the array itself, so {a: 5} matches
 * {a: [1, 5]} and {a: [1, 5]} matches {a: [[1, 5]]} as well as {a: [1, 5]}.
 *
 * InMatchExpression::matchesSingleElement: a null among the values matches missing and undefined;
 * then equality with any value (same comparison as $eq); then the regular expressions.
 * $ne and $nin are NOT($eq) and NOT($in) over the whole path.
 */
import { canonicalKey, canonicalTypeOrder, compareUtf8, compareValues } from '../../bson/bsonOrder.js';
import { collatedCompare } from './collation.js';
import { badValue } from '../queryErrors.js';
import type { Test } from './node.js';
import { isNaNValue, MISSING, simpleDouble } from './values.js';

export type ComparisonOp = '$eq' | '$lt' | '$lte' | '$gt' | '$gte';

const RANK_MINKEY = -1;
const RANK_NULL = 5;
const RANK_NUMBER = 10;
const RANK_STRING = 15;
const RANK_MAXKEY = 127;

/** Strings whose equality under UTF-8 byte order is plain JS string equality. */
const NEEDS_BYTES = /[\uD800-\uDFFF\uFFFD]/;

/** The canonical type rank of a value the path offered (missing: 0, as EOO). */
export function rankOf(v: unknown): number {
  return v === MISSING ? 0 : canonicalTypeOrder(v);
}

/** Whether `v` is a number stored as int32 or double (compares as a JS double). */
function isSimpleNumber(v: unknown): boolean {
  if (typeof v === 'number') return true;
  if (typeof v !== 'object' || v === null) return false;
  const tag = (v as { _bsontype?: unknown })._bsontype;
  return tag === 'Int32' || tag === 'Double';
}

function result(op: ComparisonOp, c: number): boolean {
  switch (op) {
    case '$eq':
      return c === 0;
    case '$lt':
      return c < 0;
    case '$lte':
      return c <= 0;
    case '$gt':
      return c > 0;
    case '$gte':
      return c >= 0;
  }
}

/**
 * A value of another canonical type than the operand's: the answer depends on the types alone
 * (a function of the module, not a closure made per compiled filter).
 */
function otherType(er: number, rr: number, op: ComparisonOp): boolean {
  if (er + rr === 5) return op === '$eq' || op === '$lte' || op === '$gte'; // null vs missing/undefined
  if (rr === RANK_MAXKEY) return op === '$lt' || op === '$lte';
  if (rr === RANK_MINKEY) return op === '$gt' || op === '$gte';
  return false;
}

/**
 * The test of one comparison operator against `rhs` (ComparisonMatchExpression). Throws
 * mongod's BadValue for an undefined operand.
 */
export function comparisonTest(op: ComparisonOp, rhs: unknown, collator: Intl.Collator | undefined): Test {
  if (rhs === undefined) throw badValue('cannot compare to undefined');
  const rr = canonicalTypeOrder(rhs);
  const isEq = op === '$eq';
  const inclusive = op === '$eq' || op === '$lte' || op === '$gte';
  const rhsNaN = isNaNValue(rhs);

  if (rr === RANK_NUMBER) {
    const rd = simpleDouble(rhs);
    if (rd !== undefined && rd === rd) {
      // A non-NaN int32/double operand: int32/double values compare as doubles.
      return (e) => {
        if (isSimpleNumber(e)) {
          const x = simpleDouble(e)!;
          if (x !== x) return false; // NaN: never equal to a number, no range holds
          return isEq ? x === rd : result(op, x < rd ? -1 : x > rd ? 1 : 0);
        }
        const er = rankOf(e);
        if (er !== RANK_NUMBER) return otherType(er, rr, op);
        if (!isEq && isNaNValue(e)) return false;
        return result(op, compareValues(e, rhs));
      };
    }
  }

  if (rr === RANK_STRING && collator === undefined && typeof rhs === 'string' && !NEEDS_BYTES.test(rhs)) {
    if (isEq) {
      return (e) => {
        if (typeof e === 'string') return e === rhs;
        const er = rankOf(e);
        if (er !== RANK_STRING) return otherType(er, rr, op);
        return compareValues(e, rhs) === 0;
      };
    }
    return (e) => {
      if (typeof e === 'string') return result(op, compareUtf8(e, rhs));
      const er = rankOf(e);
      if (er !== RANK_STRING) return otherType(er, rr, op);
      return result(op, compareValues(e, rhs));
    };
  }

  if (rr === RANK_NULL) {
    // null: only null, undefined and missing have a matching rank.
    return (e) => (e === null ? inclusive : otherType(rankOf(e), rr, op));
  }

  const compare = collator === undefined ? compareValues : (a: unknown, b: unknown) => collatedCompare(a, b, collator);
  return (e) => {
    const er = rankOf(e);
    if (er !== rr) return otherType(er, rr, op);
    if (!isEq && (rhsNaN || isNaNValue(e))) return rhsNaN && isNaNValue(e) && op !== '$lt' && op !== '$gt';
    return result(op, compare(e, rhs));
  };
}

/**
 * The equality part of $in (and of $all's values): whether a value equals one of `values`.
 * Small sets compare one by one; larger ones look values up by canonicalKey (equal keys exactly
 * when compareValues says equal); with a collation every comparison goes through the collator.
 */
export function equalityAnyTest(values: readonly unknown[], collator: Intl.Collator | undefined): Test {
  for (const v of values) {
    if (v === undefined) throw badValue('InMatchExpression equality cannot be undefined');
  }
  if (values.length === 0) return () => false;
  if (collator !== undefined || values.length <= 8) {
    const tests = values.map((v) => comparisonTest('$eq', v, collator));
    const n = tests.length;
    return (e) => {
      if (e === MISSING) return false;
      for (let i = 0; i < n; i++) if (tests[i]!(e)) return true;
      return false;
    };
  }
  const ranks = new Set(values.map((v) => canonicalTypeOrder(v)));
  const keys = new Set(values.map((v) => canonicalKey(v)));
  return (e) => {
    if (e === MISSING) return false;
    if (!ranks.has(canonicalTypeOrder(e))) return false;
    return keys.has(canonicalKey(e));
  };
}

/**
 * $in's test (InMatchExpression::matchesSingleElement): a null among the values matches missing
 * and undefined; then equality; then the regular expressions (`regexTests`).
 */
export function inTest(values: readonly unknown[], regexTests: readonly Test[], collator: Intl.Collator | undefined): Test {
  const hasNull = values.some((v) => v === null);
  const equal = equalityAnyTest(values, collator);
  const nr = regexTests.length;
  return (e) => {
    if (hasNull && (e === MISSING || e === undefined)) return true;
    if (equal(e)) return true;
    for (let i = 0; i < nr; i++) if (regexTests[i]!(e)) return true;
    return false;
  };
}
