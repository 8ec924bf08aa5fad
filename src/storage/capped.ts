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
  /** Record numbers in natural order; deleted ones stay until the array is compacted. */
  private order: number[] = [];
  /** Where the live part of `order` starts. */
  private start = 0;
  private readonly records = new Map<number, CappedRecord>();
  private readonly waiters = new Set<() => void>();
  /** The documents' BSON size, what `size` limits (the collection's dataSize). */
  dataSize = 0;

  constructor(readonly options: CappedOptions) {}

  get count(): number {
    return this.records.size;
  }

  has(id: number): boolean {
    return this.records.has(id);
  }

  /**
   * `doc` was inserted as record `id`: the documents to delete now, oldest first, until neither
   * limit is passed. The document just inserted is never one of them, so a document larger than
   * the size limit stays, alone, as in mongod 7.0.
   */
  inserted(id: number, doc: Document): Document[] {
    const bytes = BSON.calculateObjectSize(doc);
    this.order.push(id);
    this.records.set(id, { doc, bytes });
    this.dataSize += bytes;
    const sizeOver = Math.max(0, this.dataSize - this.options.size);
    const docsOver = this.options.max !== 0 ? Math.max(0, this.count - this.options.max) : 0;
    const doomed: Document[] = [];
    let saved = 0;
    for (let i = this.start; i < this.order.length && (saved < sizeOver || doomed.length < docsOver); i++) {
      const oldest = this.order[i]!;
      if (oldest === id) break;
      const record = this.records.get(oldest);
      if (record === undefined) continue;
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
    while (this.start < this.order.length && !this.records.has(this.order[this.start]!)) this.start += 1;
    if (this.order.length - this.start > 2 * this.records.size + 64) {
      this.order = this.order.slice(this.start).filter((n) => this.records.has(n));
      this.start = 0;
    }
  }

  /** The first live record after record `id` in natural order (the first of all when undefined). */
  after(id: number | undefined): { id: number; doc: Document } | undefined {
    let lo = this.start;
    let hi = this.order.length;
    if (id !== undefined) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.order[mid]! <= id) lo = mid + 1;
        else hi = mid;
      }
    }
    for (let i = lo; i < this.order.length; i++) {
      const record = this.records.get(this.order[i]!);
      if (record !== undefined) return { id: this.order[i]!, doc: record.doc };
    }
    return undefined;
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
