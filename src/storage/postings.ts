import type { Document } from 'bson';
import { BTree, type Tree } from './btree.js';

/** One document under an index key, with its collection-wide insertion number (mongod's RecordId). */
export interface Posting {
  readonly seq: number;
  readonly doc: Document;
}

/**
 * Many postings: a tree by insertion number. Index trees share their values with their clones,
 * so the tree is changed in place only by the index whose `owner` token it carries (an index
 * takes a new token whenever it is cloned); any other index copies it first (an O(1) clone).
 */
export class PostingTree {
  constructor(
    readonly owner: object,
    readonly tree: Tree<number, Document>,
  ) {}
}

/**
 * The documents under one index key, in insertion order (mongod orders equal keys by RecordId):
 * one posting (a unique value), a sorted array of a few, or a tree for many, so a key shared by
 * half a collection still changes in O(log n). A posting and an array are never changed once
 * made (a change makes a new array), so index trees may share them.
 */
export type Postings = Posting | readonly Posting[] | PostingTree;

/** Past this many postings an array becomes a tree; a tree back at half of it becomes an array. */
const ARRAY_LIMIT = 32;
const TREE_NODE_SIZE = 64;

function isSingle(held: Postings): held is Posting {
  return !Array.isArray(held) && !(held instanceof PostingTree);
}

/** The first index in `list` whose seq is at least `seq`. */
function indexOfSeq(list: readonly Posting[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `held` with `posting` added, for the index whose token is `owner`: what to keep under the key
 * (`held` itself when changed in place), or undefined when the document is there already (equal
 * elements of one array are one key).
 */
export function addPosting(held: Postings, posting: Posting, owner: object): Postings | undefined {
  if (isSingle(held)) {
    if (held.seq === posting.seq) return undefined;
    return held.seq < posting.seq ? [held, posting] : [posting, held];
  }
  if (held instanceof PostingTree) {
    if (held.owner === owner) return held.tree.set(posting.seq, posting.doc, false) ? held : undefined;
    if (held.tree.get(posting.seq) !== undefined) return undefined;
    const copy = new PostingTree(owner, held.tree.clone());
    copy.tree.set(posting.seq, posting.doc);
    return copy;
  }
  const i = indexOfSeq(held, posting.seq);
  if (i < held.length && held[i]!.seq === posting.seq) return undefined;
  if (held.length < ARRAY_LIMIT) return [...held.slice(0, i), posting, ...held.slice(i)];
  const tree = new BTree<number, Document>(undefined, (a, b) => a - b, TREE_NODE_SIZE);
  for (const p of held) tree.set(p.seq, p.doc);
  tree.set(posting.seq, posting.doc);
  return new PostingTree(owner, tree);
}

/**
 * `held` without the posting of `seq`, for the index whose token is `owner`: what to keep under
 * the key (`held` itself when changed in place), null when nothing is left, undefined when it
 * held no such posting.
 */
export function removePosting(held: Postings, seq: number, owner: object): Postings | null | undefined {
  if (isSingle(held)) return held.seq === seq ? null : undefined;
  if (held instanceof PostingTree) {
    if (held.tree.get(seq) === undefined) return undefined;
    if (held.tree.size - 1 <= ARRAY_LIMIT / 2) return held.tree.toArray().flatMap(([s, doc]) => (s === seq ? [] : [{ seq: s, doc }]));
    const owned = held.owner === owner ? held : new PostingTree(owner, held.tree.clone());
    owned.tree.delete(seq);
    return owned;
  }
  const i = indexOfSeq(held, seq);
  if (i === held.length || held[i]!.seq !== seq) return undefined;
  if (held.length === 2) return held[1 - i]!;
  return [...held.slice(0, i), ...held.slice(i + 1)];
}

/** How many documents are under the key (each is one index key). */
export function postingCount(held: Postings): number {
  return isSingle(held) ? 1 : held instanceof PostingTree ? held.tree.size : held.length;
}

/** The first posting under the key: the only one under a key of a unique index. */
export function firstPosting(held: Postings): Posting {
  if (isSingle(held)) return held;
  if (held instanceof PostingTree) {
    const [seq, doc] = held.tree.nextHigherPair(undefined)!;
    return { seq, doc };
  }
  return held[0]!;
}

/** The documents under the key, in insertion order. */
export function postingDocs(held: Postings): Document[] {
  if (isSingle(held)) return [held.doc];
  return held instanceof PostingTree ? held.tree.valuesArray() : held.map((p) => p.doc);
}

/** The documents under the key, in insertion order or its reverse. */
export function* postingsInOrder(held: Postings, descending: boolean): Generator<Document> {
  if (isSingle(held)) yield held.doc;
  else if (held instanceof PostingTree) for (const [, doc] of descending ? held.tree.entriesReversed() : held.tree.entries()) yield doc;
  else if (descending) for (let i = held.length - 1; i >= 0; i--) yield held[i]!.doc;
  else for (const p of held) yield p.doc;
}
