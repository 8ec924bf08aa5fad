/**
 * mongod's dotted-path traversal for query predicates (src/mongo/db/matcher/path.cpp,
 * BSONElementIterator, and path_internal.cpp getFieldDottedOrArray), compiled once per path.
 *
 * - The path is followed through embedded documents until it ends, hits a missing field or a
 *   non-document (then the predicate sees a missing value: mongod's EOO), or hits an array.
 * - An array at the END of the path (a "leaf array"): with kTraverse, each element is offered,
 *   then the array itself; with kNoTraversal (the array operators $size, $elemMatch) only the array.
 * - An array in the MIDDLE of the path: for each element, a document element continues the rest of
 *   the path (a document without the field offers a missing value); if the next path component is
 *   the element's index ("a.0.b"), the element is also taken as that component: the path ends there
 *   (the element itself is offered) or continues into it (a nested array is then traversed the same
 *   way). Other elements (scalars, nested arrays not named by index) offer nothing.
 * - Each offered value carries the array position mongod records for the positional `$` (the
 *   elemMatchKey): the index in the OUTERMOST array traversed implicitly, or -1 for none. A value
 *   reached through an explicit index ("a.0") does not take that array's position.
 */
import { arrayIndexOf, getField, isDocument, isPrototypeName, MISSING } from './values.js';

/** Receives one value the path yields and its array position; returns true to stop (a match). */
export type Visit = (value: unknown, position: number) => boolean;

/** Offers each value at the path in `doc` to `visit`; true as soon as a visit returns true. */
export type Traverse = (doc: unknown, visit: Visit) => boolean;

/**
 * Compiles the traversal of a dotted path. `leafArrays`: 'traverse' offers a leaf array's elements
 * and then the array (kTraverse); 'whole' offers only the array (kNoTraversal).
 */
export function compilePath(path: string, leafArrays: 'traverse' | 'whole'): Traverse {
  const parts = path.split('.');
  const n = parts.length;
  const proto = parts.map(isPrototypeName);
  const index = parts.map(arrayIndexOf);
  const traverseLeaf = leafArrays === 'traverse';

  /** getFieldDottedOrArray from `obj` at component `i`, then on. */
  function fromDocument(obj: unknown, i: number, visit: Visit, outer: number): boolean {
    let cur = obj;
    for (;;) {
      const v = getField(cur, parts[i]!, proto[i]!);
      if (v === MISSING) return visit(MISSING, outer);
      if (Array.isArray(v)) return fromArray(v, i + 1, visit, outer);
      if (i + 1 === n) return visit(v, outer);
      if (!isDocument(v)) return visit(MISSING, outer);
      cur = v;
      i++;
    }
  }

  /** An array met at component `rest - 1`. */
  function fromArray(arr: readonly unknown[], rest: number, visit: Visit, outer: number): boolean {
    if (rest === n) {
      if (!traverseLeaf) return visit(arr, outer);
      for (let j = 0; j < arr.length; j++) {
        if (visit(arr[j], outer >= 0 ? outer : j)) return true;
      }
      return visit(arr, outer);
    }
    return inArray(arr, rest, visit, outer);
  }

  /** The elements of an array with path components `rest`.. still to follow. */
  function inArray(arr: readonly unknown[], rest: number, visit: Visit, outer: number): boolean {
    const idx = index[rest]!;
    const last = rest + 1 === n;
    for (let j = 0; j < arr.length; j++) {
      const el = arr[j];
      if (isDocument(el)) {
        if (fromDocument(el, rest, visit, outer >= 0 ? outer : j)) return true;
        if (j === idx) {
          if (last ? visit(el, outer) : fromDocument(el, rest + 1, visit, outer)) return true;
        }
      } else if (j === idx) {
        if (last) {
          if (visit(el, outer)) return true;
        } else if (Array.isArray(el)) {
          if (inArray(el, rest + 1, visit, outer)) return true;
        }
      }
    }
    return false;
  }

  if (n === 1) {
    // The common case, without the loop.
    const name = parts[0]!;
    const p = proto[0]!;
    return (doc, visit) => {
      const v = getField(doc, name, p);
      if (Array.isArray(v)) return fromArray(v, 1, visit, -1);
      return visit(v, -1);
    };
  }
  return (doc, visit) => fromDocument(doc, 0, visit, -1);
}

/** Compiled traversals by path: they hold no state, so queries on the same paths share them. */
const cache = { traverse: new Map<string, Traverse>(), whole: new Map<string, Traverse>() };
/** Paths come from clients: past this many, the cache starts over rather than grow without bound. */
const CACHE_LIMIT = 1024;

/** compilePath, compiled once per path (a filter compiled per command need not split its paths again). */
export function cachedPath(path: string, leafArrays: 'traverse' | 'whole'): Traverse {
  const paths = cache[leafArrays];
  let traverse = paths.get(path);
  if (traverse === undefined) {
    if (paths.size >= CACHE_LIMIT) paths.clear();
    traverse = compilePath(path, leafArrays);
    paths.set(path, traverse);
  }
  return traverse;
}
