import type { Document } from 'bson';
import { BTree, type Tree } from './btree.js';
import { compareKeys } from './orderedIndex.js';

/**
 * Records per chunk. Moving to the next chunk costs a scan a few cache misses (tree node, chunk,
 * its array), so chunks are large; a chunk shared with a clone is copied whole at its first change.
 */
const CHUNK_SIZE = 256;
const TREE_NODE_SIZE = 64;
/** A chunk left smaller than this by a removal takes in the next one when both fit in one chunk. */
const MERGE_BELOW = CHUNK_SIZE / 4;

/** Neighbouring records, in RecordId order; changed in place only by the list whose `owner` token it carries. */
interface Chunk {
  readonly owner: object;
  readonly seqs: number[];
  readonly docs: Document[];
}

/** The first index in `seqs` whose seq is at least `seq`. */
function indexOfSeq(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqs[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A collection's documents by RecordId (mongod's natural order: insertion order, a replacement
 * keeps its place), in chunks of up to CHUNK_SIZE under a B-tree keyed by each chunk's lowest
 * RecordId (or lower: removals leave the key). clone() is O(1): the clone shares the tree's nodes
 * (sorted-btree copies a shared node before changing it) and so the chunks, which a list changes
 * in place only while they carry its `owner` token; it takes a new token at every clone, so a
 * shared chunk is copied before a change. Scans read the chunks' arrays directly (sorted-btree's
 * own iterators, which make a pair per record, cost several times as much per record).
 */
export class Records {
  private tree: Tree<number, Chunk> = new BTree<number, Chunk>(undefined, compareKeys, TREE_NODE_SIZE);
  /** Marks the chunks only this list holds. */
  private owner: object = {};
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** An independent copy, in O(1): later changes to either do not show in the other. */
  clone(): Records {
    const copy = new Records();
    copy.tree = this.tree.clone();
    copy.count = this.count;
    this.owner = {};
    return copy;
  }

  /**
   * The documents in natural order, as they are now: the scan reads a clone, so writes made while
   * it is read do not disturb it (nor show in it).
   */
  values(): IterableIterator<Document> {
    this.owner = {};
    return new ChunkScan(this.tree.clone().values());
  }

  /** Each record as [RecordId, document], in order; nothing may be written while they are read. */
  *entries(): Generator<[number, Document]> {
    for (const chunk of this.tree.values()) for (let i = 0; i < chunk.seqs.length; i++) yield [chunk.seqs[i]!, chunk.docs[i]!];
  }

  /** Stores `doc` as record `seq`: a new record (anywhere, though new RecordIds come last), or a replacement in place. */
  set(seq: number, doc: Document): void {
    const found = this.tree.getPairOrNextLower(seq) ?? this.tree.nextHigherPair(undefined);
    if (found === undefined) {
      this.tree.set(seq, { owner: this.owner, seqs: [seq], docs: [doc] });
      this.count += 1;
      return;
    }
    const [key, held] = found;
    const i = indexOfSeq(held.seqs, seq);
    if (held.seqs[i] === seq) {
      this.writable(key, held).docs[i] = doc;
      return;
    }
    this.count += 1;
    // Past the end of a full chunk (every insert, as RecordIds grow): a new chunk, so chunks fill up.
    if (i === CHUNK_SIZE) {
      this.tree.set(seq, { owner: this.owner, seqs: [seq], docs: [doc] });
      return;
    }
    const chunk = this.writable(key, held);
    chunk.seqs.splice(i, 0, seq);
    chunk.docs.splice(i, 0, doc);
    if (seq < key) {
      this.tree.delete(key);
      this.tree.set(seq, chunk);
    }
    if (chunk.seqs.length > CHUNK_SIZE) {
      const half = chunk.seqs.length >>> 1;
      const seqs = chunk.seqs.splice(half);
      this.tree.set(seqs[0]!, { owner: this.owner, seqs, docs: chunk.docs.splice(half) });
    }
  }

  /** Removes record `seq`; false when there is none. */
  delete(seq: number): boolean {
    const found = this.tree.getPairOrNextLower(seq);
    if (found === undefined) return false;
    const [key, held] = found;
    const i = indexOfSeq(held.seqs, seq);
    if (held.seqs[i] !== seq) return false;
    this.count -= 1;
    if (held.seqs.length === 1) {
      this.tree.delete(key);
      return true;
    }
    const chunk = this.writable(key, held);
    chunk.seqs.splice(i, 1);
    chunk.docs.splice(i, 1);
    if (chunk.seqs.length < MERGE_BELOW) {
      const next = this.tree.nextHigherPair(key);
      if (next !== undefined && chunk.seqs.length + next[1].seqs.length <= CHUNK_SIZE) {
        chunk.seqs.push(...next[1].seqs);
        chunk.docs.push(...next[1].docs);
        this.tree.delete(next[0]);
      }
    }
    return true;
  }

  /** The chunk under `key`, to be changed: itself when this list owns it, else a copy put in its place. */
  private writable(key: number, chunk: Chunk): Chunk {
    if (chunk.owner === this.owner) return chunk;
    const copy = { owner: this.owner, seqs: chunk.seqs.slice(), docs: chunk.docs.slice() };
    this.tree.set(key, copy);
    return copy;
  }
}

/**
 * A scan of chunks: each chunk's documents read straight from its array. It hands out one result
 * object, changed at each step (a new object per document cost half as much again per document):
 * read `value` before the next call, as for-of, spreads and Array.from do.
 */
class ChunkScan implements IterableIterator<Document> {
  private docs: readonly Document[] = [];
  /** The next document's place in `docs`. */
  private at = 0;
  private readonly result: { done: false; value: Document } = { done: false, value: {} };

  constructor(private readonly chunks: Iterator<Chunk>) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Document> {
    if (this.at < this.docs.length) {
      this.result.value = this.docs[this.at++]!;
      return this.result;
    }
    return this.nextChunk();
  }

  private nextChunk(): IteratorResult<Document> {
    const chunk = this.chunks.next();
    if (chunk.done === true) return { done: true, value: undefined };
    this.docs = chunk.value.docs;
    this.at = 1;
    this.result.value = this.docs[0]!;
    return this.result;
  }
}
