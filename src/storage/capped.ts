/**
 * Capped collections, as mongod 7.0 keeps them: the limits (collection_options.cpp
 * adjustCappedSize / adjustCappedMaxDocs), the deletion of the oldest documents after each insert
 * (capped_collection_maintenance.cpp cappedDeleteUntilBelowConfiguredMaximum), the insert
 * notifier awaitData cursors wait on, and the scan that keeps its position between batches
 * (collection_scan.cpp over WiredTiger's capped cursor: a position that was deleted is lost, never
 * skipped). The oplog is one of these.
 */
import { BSON, Int32, Long, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { BTree, type Tree } from './btree.js';
import { compareKeys } from './orderedIndex.js';

/** A capped collection's limits (CollectionOptions cappedSize and cappedMaxDocs). */
export interface CappedOptions {
  /** The size limit in bytes of the documents' BSON, a multiple of 256. */
  readonly size: number;
  /** The document limit; 0 for none. */
  readonly max: number;
}

/** adjustCappedSize: the size asked for, rounded up to a multiple of 256 bytes. */
export function cappedSize(requested: number): number {
  return Math.ceil(requested / 256) * 256;
}

/** adjustCappedMaxDocs: a `max` of 0 or less stands for 2^31 - 1 documents. */
export function cappedMaxDocs(requested: number): number {
  return requested <= 0 ? 0x7fffffff : requested;
}

/** BSONObjBuilder::appendNumber of a long: an int32 when it fits, else a long. */
function appendNumber(n: number): Int32 | Long {
  return n <= 0x7fffffff && n >= -0x80000000 ? new Int32(n) : Long.fromNumber(n);
}

/** CollectionOptions::appendBSON's capped part: what listCollections shows in `options`. */
export function cappedCollectionOptions(capped: CappedOptions): Document {
  const options: Document = { capped: true, size: appendNumber(capped.size) };
  if (capped.max !== 0) options.max = appendNumber(capped.max);
  return options;
}

/** storage_stats.cpp: `capped`, and for a capped collection its `max` and `maxSize` (scaled), in collStats and $collStats. */
export function cappedStorageStats(capped: CappedOptions | undefined, scale: number): Document {
  if (capped === undefined) return { capped: false };
  return { capped: true, max: appendNumber(capped.max), maxSize: appendNumber(Math.floor(capped.size / scale)) };
}

interface CappedRecord {
  readonly doc: Document;
  readonly bytes: number;
}

/**
 * The capped part of one collection: its records by RecordId in natural (insertion) order, their
 * data size, and who waits for the next insert. The collection tells it of every insert, update
 * and delete, keyed by the record's insertion number.
 */
export class CappedRecords {
  /** A tree, so that clone() is O(1) (sorted-btree shares nodes); its records are never changed, only replaced. */
  private records: Tree<number, CappedRecord> = new BTree<number, CappedRecord>(undefined, compareKeys);
  private readonly waiters = new Set<() => void>();
  /** The documents' BSON size, what `size` limits (the collection's dataSize). */
  dataSize = 0;

  constructor(readonly options: CappedOptions) {}

  /** An independent copy of the records, in O(1); nobody waits on it yet. */
  clone(): CappedRecords {
    const copy = new CappedRecords(this.options);
    copy.records = this.records.clone();
    copy.dataSize = this.dataSize;
    return copy;
  }

  get count(): number {
    return this.records.size;
  }

  has(id: number): boolean {
    return this.records.get(id) !== undefined;
  }

  /**
   * `doc` was inserted as record `id`: the documents to delete now, oldest first, until neither
   * limit is passed. The document just inserted is never one of them, so a document larger than
   * the size limit stays, alone, as in mongod 7.0.
   */
  inserted(id: number, doc: Document): Document[] {
    const bytes = BSON.calculateObjectSize(doc);
    this.records.set(id, { doc, bytes });
    this.dataSize += bytes;
    const sizeOver = Math.max(0, this.dataSize - this.options.size);
    const docsOver = this.options.max !== 0 ? Math.max(0, this.count - this.options.max) : 0;
    const doomed: Document[] = [];
    if (sizeOver === 0 && docsOver === 0) return doomed;
    let saved = 0;
    for (const [oldest, record] of this.records.entries()) {
      if (oldest === id || (saved >= sizeOver && doomed.length >= docsOver)) break;
      doomed.push(record.doc);
      saved += record.bytes;
    }
    return doomed;
  }

  /** Record `id` now holds `doc` (an update keeps its place; 7.0 lets it change size). */
  replaced(id: number, doc: Document): void {
    const old = this.records.get(id);
    if (old === undefined) return;
    const bytes = BSON.calculateObjectSize(doc);
    this.records.set(id, { doc, bytes });
    this.dataSize += bytes - old.bytes;
  }

  removed(id: number): void {
    const old = this.records.get(id);
    if (old === undefined) return;
    this.records.delete(id);
    this.dataSize -= old.bytes;
  }

  /** The first live record after record `id` in natural order (the first of all when undefined). */
  after(id: number | undefined): { id: number; doc: Document } | undefined {
    const next = this.records.nextHigherPair(id);
    return next === undefined ? undefined : { id: next[0], doc: next[1].doc };
  }

  /** Calls `wake` once, at the next insert (the capped insert notifier); returns a function that cancels. */
  onInsert(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  /** An insert finished (its deletions done): everyone waiting wakes. */
  notifyInsert(): void {
    if (this.waiters.size === 0) return;
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) wake();
  }
}

/** mongod shows record ids counting from 1. */
function recordId(id: number): string {
  return `RecordId(${id + 1})`;
}

/**
 * A forward collection scan of a capped collection that keeps its position (the last record it
 * read) between batches. Before a getMore, `restore` finds the position again or fails with
 * CappedPositionLost, as WiredTiger's capped cursor does; a tailable scan at its end re-seeks its
 * position on the next read instead (and fails there when it is gone), then reads what arrived.
 */
export class CappedScan implements Iterator<Document> {
  private lastSeen: number | undefined;
  private atEnd = false;

  constructor(
    private readonly records: CappedRecords,
    private readonly tailable: boolean,
  ) {}

  restore(): void {
    if (this.atEnd && this.tailable) return;
    if (this.lastSeen !== undefined && !this.records.has(this.lastSeen)) {
      throw new MongoError(
        ErrorCodes.CappedPositionLost,
        `CollectionScan died due to position in capped collection being deleted. Last seen record id: ${recordId(this.lastSeen)}`,
      );
    }
  }

  next(): IteratorResult<Document> {
    if (this.atEnd && this.lastSeen !== undefined && !this.records.has(this.lastSeen)) {
      throw new MongoError(
        ErrorCodes.CappedPositionLost,
        `CollectionScan died due to failure to restore tailable cursor position. Last seen record id: ${recordId(this.lastSeen)}`,
      );
    }
    const record = this.records.after(this.lastSeen);
    if (record === undefined) {
      this.atEnd = true;
      return { done: true, value: undefined };
    }
    this.atEnd = false;
    this.lastSeen = record.id;
    return { done: false, value: record.doc };
  }
}
