import { createRequire } from 'node:module';
import type { Document } from 'bson';

// sorted-btree is CommonJS with `exports.default` (see orderedIndex.ts).
const BTree = (createRequire(import.meta.url)('sorted-btree') as typeof import('sorted-btree')).default;
type Tree<K, V> = import('sorted-btree').default<K, V>;

/** One document under an index key, with its collection-wide insertion number (mongod's RecordId). */
export interface Posting {
  readonly seq: number;
  readonly doc: Document;
}

/**
 * The documents under one index key, in insertion order (mongod orders equal keys by RecordId):
 * one posting (a unique value), a sorted array of a few, or a tree by insertion number for many,
 * so a key shared by half a collection still changes in O(log n). Arrays and trees are changed
 * in place: a clone of the index tree would have to copy them.
 */
export type Postings = Posting | Posting[] | Tree<number, Document>;

/** Past this many postings an array becomes a tree; a tree back at half of it becomes an array. */
const ARRAY_LIMIT = 32;
const TREE_NODE_SIZE = 64;

function isTree(held: Postings): held is Tree<number, Document> {
  return held instanceof BTree;
}

function isSingle(held: Postings): held is Posting {
  return !Array.isArray(held) && !isTree(held);
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
 * `held` with `posting` added: what to keep under the key (`held` itself when changed in place),
 * or undefined when the document is there already (equal elements of one array are one key).
 */
export function addPosting(held: Postings, posting: Posting): Postings | undefined {
  if (isSingle(held)) {
    if (held.seq === posting.seq) return undefined;
    return held.seq < posting.seq ? [held, posting] : [posting, held];
  }
  if (isTree(held)) return held.set(posting.seq, posting.doc, false) ? held : undefined;
  const i = indexOfSeq(held, posting.seq);
  if (i < held.length && held[i]!.seq === posting.seq) return undefined;
  if (held.length < ARRAY_LIMIT) {
    held.splice(i, 0, posting);
    return held;
  }
  const tree = new BTree<number, Document>(undefined, (a, b) => a - b, TREE_NODE_SIZE);
  for (const p of held) tree.set(p.seq, p.doc);
  tree.set(posting.seq, posting.doc);
  return tree;
}

/**
 * `held` without the posting of `seq`: what to keep under the key (`held` itself when changed in
 * place), null when nothing is left, undefined when it held no such posting.
 */
export function removePosting(held: Postings, seq: number): Postings | null | undefined {
  if (isSingle(held)) return held.seq === seq ? null : undefined;
  if (isTree(held)) {
    if (!held.delete(seq)) return undefined;
    return held.size > ARRAY_LIMIT / 2 ? held : held.toArray().map(([s, doc]) => ({ seq: s, doc }));
  }
  const i = indexOfSeq(held, seq);
  if (i === held.length || held[i]!.seq !== seq) return undefined;
  held.splice(i, 1);
  return held.length === 1 ? held[0]! : held;
}

/** How many documents are under the key (each is one index key). */
export function postingCount(held: Postings): number {
  return isSingle(held) ? 1 : isTree(held) ? held.size : held.length;
}

/** The documents under the key, in insertion order. */
export function postingDocs(held: Postings): Document[] {
  if (isSingle(held)) return [held.doc];
  return isTree(held) ? held.valuesArray() : held.map((p) => p.doc);
}

/** The documents under the key, in insertion order or its reverse. */
export function* postingsInOrder(held: Postings, descending: boolean): Generator<Document> {
  if (isSingle(held)) yield held.doc;
  else if (isTree(held)) for (const [, doc] of descending ? held.entriesReversed() : held.entries()) yield doc;
  else if (descending) for (let i = held.length - 1; i >= 0; i--) yield held[i]!.doc;
  else for (const p of held) yield p.doc;
}
