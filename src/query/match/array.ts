/**
 * $size, $all and $elemMatch (expression_array.cpp, expression_parser.cpp parseAll /
 * parseElemMatch).
 *
 * The array operators read the path without expanding a leaf array (kNoTraversal): the value
 * tested is the array itself (arrays met earlier on the path are still traversed).
 * - $size n: an array of exactly n elements ("Failed to parse $size. <reason>" for an argument that
 *   is not a non-negative 32-bit whole number).
 * - $elemMatch, object form ({$elemMatch: {b: 1, c: {$gt: 2}}}, or any argument whose first field
 *   is not an operator, or is $and/$or/$nor/$expr/...): some element that is a document or an
 *   array (read as a document with fields "0", "1", ...) matches the filter.
 * - $elemMatch, value form ({$elemMatch: {$gt: 1, $lt: 5}}): some element passes every operator,
 *   each applied to the element alone (no further traversal).
 *   Either form records the matching element's index for the positional `$`.
 * - $all: [v1, v2, ...] is $and of {$eq: vi} (regexes: the regex test), each over the whole path;
 *   $all: [] matches nothing; $all: [{$elemMatch: ...}, ...] is $and of the $elemMatch's (then
 *   every element must be one: "$all/$elemMatch has to be consistent"); an operator document
 *   among plain values is "no $ expressions in $all".
 */
import { badValue } from '../queryErrors.js';
import type { IndexedTest, MatchNode, Test } from './node.js';
import { isDocument, parseIntegerElement } from './values.js';

/** $size's test; the argument parsed as parseIntegerElementToNonNegativeInt. */
export function sizeTest(arg: unknown): Test {
  const n = parseIntegerElement('$size', arg, 'nonNegativeInt');
  if (typeof n === 'string') throw badValue(`Failed to parse $size. ${n}`);
  const size = Number(n);
  return (e) => Array.isArray(e) && e.length === size;
}

/** $elemMatch (object form): some document/array element matches `sub` as a document. */
export function elemMatchObjectTest(sub: MatchNode): IndexedTest {
  const it: IndexedTest = {
    lastIndex: -1,
    test(e) {
      it.lastIndex = -1;
      if (!Array.isArray(e)) return false;
      for (let i = 0; i < e.length; i++) {
        const el = e[i];
        if ((Array.isArray(el) || isDocument(el)) && sub.matches(el, null)) {
          it.lastIndex = i;
          return true;
        }
      }
      return false;
    },
  };
  return it;
}

/** $elemMatch (value form): some element passes every test of `subs` (each matchesSingleElement). */
export function elemMatchValueTest(subs: readonly MatchNode[]): IndexedTest {
  const n = subs.length;
  const it: IndexedTest = {
    lastIndex: -1,
    test(e) {
      it.lastIndex = -1;
      if (!Array.isArray(e)) return false;
      outer: for (let i = 0; i < e.length; i++) {
        const el = e[i];
        for (let k = 0; k < n; k++) if (!subs[k]!.single(el)) continue outer;
        it.lastIndex = i;
        return true;
      }
      return false;
    },
  };
  return it;
}
