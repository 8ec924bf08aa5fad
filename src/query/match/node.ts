/**
 * The compiled form of a match expression: a tree of closures built once per filter.
 *
 * Each node answers two questions, as mongod's MatchExpression does:
 * - matches(doc, details): does the document match (MatchExpression::matches)? When `details` is
 *   given, the array position of the match is recorded there (MatchDetails' elemMatchKey), for the
 *   positional `$` of updates and projections;
 * - single(value): does one value match (matchesSingleElement), which the value form of
 *   $elemMatch applies to each array element, without any path traversal.
 */
import { cachedPath } from './path.js';

/** mongod's MatchDetails, reduced to what the positional operator needs: -1 when nothing is recorded. */
export interface Details {
  pos: number;
}

export interface MatchNode {
  matches(doc: unknown, details: Details | null): boolean;
  single(value: unknown): boolean;
  /** True for $alwaysTrue / an empty $and, false for $alwaysFalse (lets $and/$or fold like mongod's optimizer). */
  readonly constant?: boolean;
}

/** A predicate on one value (a BSON value or MISSING). */
export type Test = (value: unknown) => boolean;

/**
 * A predicate that may say which array element made it true ($elemMatch): after a true answer,
 * `lastIndex` is that element's index.
 */
export interface IndexedTest {
  readonly test: Test;
  lastIndex: number;
}

/**
 * A leaf on a path (PathMatchExpression::matches): true when any value the path yields passes
 * `test`; the position recorded is the outermost implicit array position, or (for the array
 * operators) the index of the array element that matched.
 */
export function pathLeaf(path: string, test: Test, leafArrays: 'traverse' | 'whole', indexed?: IndexedTest): MatchNode {
  const traverse = cachedPath(path, leafArrays);
  let record: Details = { pos: -1 };
  // Made at the first match that records a position (positional $, $elemMatch), not with every
  // compiled filter: the bundle names each named closure as it is made (a defineProperty).
  let visitRecording: ((value: unknown, position: number) => boolean) | undefined;
  return {
    matches(doc, details) {
      if (details === null) return traverse(doc, test);
      record = details;
      visitRecording ??= function (value: unknown, position: number): boolean {
        if (!test(value)) return false;
        if (position >= 0) record.pos = position;
        else if (indexed !== undefined && indexed.lastIndex >= 0) record.pos = indexed.lastIndex;
        return true;
      };
      return traverse(doc, visitRecording);
    },
    single: test,
  };
}

export const ALWAYS_TRUE: MatchNode = { matches: () => true, single: () => true, constant: true };
export const ALWAYS_FALSE: MatchNode = { matches: () => false, single: () => false, constant: false };

/**
 * $and (AndMatchExpression): every child; a failing child clears what was recorded. Children that
 * are always true are dropped, one always false makes the whole false, one child stands alone.
 */
export function andNode(children: readonly MatchNode[]): MatchNode {
  const kids = children.filter((c) => c.constant !== true);
  if (kids.some((c) => c.constant === false)) return ALWAYS_FALSE;
  if (kids.length === 0) return ALWAYS_TRUE;
  if (kids.length === 1) return kids[0]!;
  if (kids.length === 2) {
    const [a, b] = kids as [MatchNode, MatchNode];
    return {
      matches(doc, details) {
        if (!a.matches(doc, details) || !b.matches(doc, details)) {
          if (details !== null) details.pos = -1;
          return false;
        }
        return true;
      },
      single(v) {
        return a.single(v) && b.single(v);
      },
    };
  }
  const n = kids.length;
  return {
    matches(doc, details) {
      for (let i = 0; i < n; i++) {
        if (!kids[i]!.matches(doc, details)) {
          if (details !== null) details.pos = -1;
          return false;
        }
      }
      return true;
    },
    single(v) {
      for (let i = 0; i < n; i++) if (!kids[i]!.single(v)) return false;
      return true;
    },
  };
}

/** $or (OrMatchExpression): any child; children match without recording positions (one child stands alone). */
export function orNode(children: readonly MatchNode[]): MatchNode {
  const kids = children.filter((c) => c.constant !== false);
  if (kids.some((c) => c.constant === true)) return ALWAYS_TRUE;
  if (kids.length === 0) return ALWAYS_FALSE;
  if (kids.length === 1) return kids[0]!;
  const n = kids.length;
  return {
    matches(doc) {
      for (let i = 0; i < n; i++) if (kids[i]!.matches(doc, null)) return true;
      return false;
    },
    single(v) {
      for (let i = 0; i < n; i++) if (kids[i]!.single(v)) return true;
      return false;
    },
  };
}

/** $nor (NorMatchExpression): no child. */
export function norNode(children: readonly MatchNode[]): MatchNode {
  const n = children.length;
  return {
    matches(doc) {
      for (let i = 0; i < n; i++) if (children[i]!.matches(doc, null)) return false;
      return true;
    },
    single(v) {
      for (let i = 0; i < n; i++) if (children[i]!.single(v)) return false;
      return true;
    },
  };
}

/** $not, $ne, $nin, {$exists: false} (NotMatchExpression): the child does not match. */
export function notNode(child: MatchNode): MatchNode {
  return {
    matches(doc) {
      return !child.matches(doc, null);
    },
    single(v) {
      return !child.single(v);
    },
  };
}
