/**
 * Replica-set mode's record of committed writes: the cluster time (a Timestamp that only moves
 * forward) and `local.oplog.rs`, with mongod 7.0's entry shapes (repl/oplog_entry.idl
 * OplogEntryBase: session info, the operation, then the optime). Cluster time, operationTime,
 * change streams and retryable writes hang on it (replset-transactions-semantics.md §2.3).
 */
import { BSON, Long, Timestamp, type Document, type UUID } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { documentDiff } from './oplogDiff.js';
import type { CatalogChanges } from './catalog.js';

/** An optime: a timestamp and the election term that wrote it. */
export interface OpTime {
  readonly ts: Timestamp;
  readonly t: Long;
}

/** The optime before any write (mongod's OpTime(): Timestamp(0, 0), term -1). */
export const NULL_OPTIME: OpTime = { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) };

/** The one term this server is primary in (it never steps down or holds an election). */
export const TERM = Long.fromNumber(1);

/**
 * What a retryable write stamps on its entries: lsid, txnNumber, the statement's stmtId, and
 * prevOpTime, the optime of the write's previous entry (each append moves it on).
 */
export interface WriteSession {
  readonly lsid: Document;
  readonly txnNumber: Long;
  stmtId: number;
  prevOpTime: OpTime;
}

/**
 * The Lamport clock of replica-set mode. A write ticks it: seconds up to the wall clock if behind,
 * then the increment (a batch of N entries reserves N). Gossip from clients moves it forward.
 */
export class ClusterClock {
  private seconds: number;
  private increment: number;

  constructor(private readonly nowMs: () => number) {
    this.seconds = Math.floor(nowMs() / 1000);
    this.increment = 0;
  }

  get time(): Timestamp {
    return new Timestamp({ t: this.seconds, i: this.increment });
  }

  /** Reserves the next timestamp. */
  tick(): Timestamp {
    const wall = Math.floor(this.nowMs() / 1000);
    if (wall > this.seconds) {
      this.seconds = wall;
      this.increment = 1;
    } else if (this.increment === 0xffffffff) {
      this.seconds += 1;
      this.increment = 1;
    } else {
      this.increment += 1;
    }
    return this.time;
  }

  /**
   * A client's $clusterTime: the clock moves to it if it is later. VectorClock's rate limiter
   * refuses a time more than `maxDriftSecs` ahead of the wall clock (205).
   */
  advanceTo(time: Timestamp, maxDriftSecs: number): void {
    const seconds = time.t;
    const increment = time.i;
    if (seconds < this.seconds || (seconds === this.seconds && increment <= this.increment)) return;
    const wall = Math.floor(this.nowMs() / 1000);
    if (seconds - wall > maxDriftSecs) {
      throw new MongoError(
        ErrorCodes.ClusterTimeFailsRateLimiter,
        `New cluster time, ${seconds}, is too far from this node's wall clock time, ${wall}.`,
      );
    }
    this.seconds = seconds;
    this.increment = increment;
  }
}

/** One entry as stored; `o` and `o2` share the stored document objects (never copied). */
export type OplogEntry = Document & { readonly op: 'i' | 'u' | 'd' | 'c' | 'n'; readonly ts: Timestamp; readonly wall: Date };

const VERSION = Long.fromNumber(2);

/**
 * local.oplog.rs: a capped list of entries in timestamp order (mongod sizes it with --oplogSize;
 * the oldest entries go when it is full). Readers get the entries; listeners hear each append
 * (change streams, awaitData cursors).
 */
export class Oplog {
  private readonly entries: OplogEntry[] = [];
  /** Each entry's BSON size, beside it (measured once, when written). */
  private readonly sizes: number[] = [];
  /** Index of the first live entry in `entries` (removed ones are compacted away in bulk). */
  private head = 0;
  private bytes = 0;
  private last: OpTime = NULL_OPTIME;
  private lastWall = new Date(0);
  /** The timestamp of the newest entry the size limit removed (a reader behind it lost history). */
  private removedThrough: Timestamp | undefined = undefined;
  private readonly listeners = new Set<() => void>();
  /** How many entries were ever written (a command compares it to see whether it wrote). */
  appended = 0;
  /** Set by a retryable write around its statements: the session fields its entries carry. */
  session: WriteSession | undefined = undefined;
  /** Set while a write replaces a whole document (a replacement update logs the new document, not a diff). */
  replacing = false;
  /** Set while a command's own entry stands for its storage changes (renameCollection copies documents). */
  quiet = 0;

  constructor(
    readonly clock: ClusterClock,
    private readonly nowMs: () => number,
    /** The size limit in bytes. */
    readonly maxBytes: number,
  ) {}

  /** The optime of the last write (mongod's lastApplied; on one node also the majority point). */
  get lastApplied(): OpTime {
    return this.last;
  }

  get lastWallTime(): Date {
    return this.lastWall;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  get dataSize(): number {
    return this.bytes;
  }

  /** The live entries, oldest first. */
  *documents(): Generator<OplogEntry> {
    for (let i = this.head; i < this.entries.length; i++) yield this.entries[i]!;
  }

  /** The oldest entry still kept, if any. */
  get oldest(): OplogEntry | undefined {
    return this.entries[this.head];
  }

  /** The oldest live entry whose timestamp is `ts` or later (a binary search: timestamps only grow). */
  entryFrom(ts: Timestamp): OplogEntry | undefined {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.ts.compare(ts) < 0) low = mid + 1;
      else high = mid;
    }
    return this.entries[low];
  }

  /** The timestamp of the newest entry dropped to keep the oplog within its size, if any was. */
  get truncatedThrough(): Timestamp | undefined {
    return this.removedThrough;
  }

  /** Calls `fn` after every append until the returned function is called. */
  onAppend(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  insert(ns: string, ui: UUID, doc: Document): void {
    if (this.quiet > 0) return;
    this.append(insertOperation(ns, ui, doc));
  }

  update(ns: string, ui: UUID, old: Document, next: Document): void {
    if (this.quiet > 0) return;
    this.append(updateOperation(ns, ui, old, next, this.replacing));
  }

  delete(ns: string, ui: UUID, doc: Document): void {
    if (this.quiet > 0) return;
    this.append(deleteOperation(ns, ui, doc));
  }

  /**
   * A committed transaction: one applyOps command entry on admin.$cmd holding its operations,
   * with the session's lsid and txnNumber (a transaction that fits one entry has no chain).
   */
  transaction(lsid: Document, txnNumber: Long, operations: Document[]): void {
    this.append({ lsid, txnNumber, op: 'c', ns: 'admin.$cmd', o: { applyOps: operations } }, NULL_OPTIME);
  }

  /** A command entry (create, drop, renameCollection, dropDatabase, createIndexes, dropIndexes, collMod) on `db.$cmd`. */
  command(db: string, o: Document, ui?: UUID, o2?: Document): void {
    const entry: Document = { op: 'c', ns: `${db}.$cmd` };
    if (ui !== undefined) entry.ui = ui;
    entry.o = o;
    if (o2 !== undefined) entry.o2 = o2;
    this.append(entry);
  }

  /** A no-op entry (replSetInitiate's "initiating set", periodic no-ops). */
  noop(msg: Document): void {
    this.append({ op: 'n', ns: '', o: msg });
  }

  /** Appends an entry; `prevOpTime` is given for a transaction's entry, else taken from a retryable write's session. */
  private append(operation: Document, prevOpTime?: OpTime): void {
    const session = this.session;
    const entry: Document = {};
    if (session !== undefined) {
      entry.lsid = session.lsid;
      entry.txnNumber = session.txnNumber;
    }
    Object.assign(entry, operation);
    const ts = this.clock.tick();
    const wall = new Date(this.nowMs());
    if (session !== undefined) entry.stmtId = session.stmtId;
    entry.ts = ts;
    entry.t = TERM;
    entry.v = VERSION;
    entry.wall = wall;
    if (prevOpTime !== undefined) entry.prevOpTime = prevOpTime;
    else if (session !== undefined) {
      entry.prevOpTime = session.prevOpTime;
      session.prevOpTime = { ts, t: TERM };
    }
    this.entries.push(entry as OplogEntry);
    const size = BSON.calculateObjectSize(entry);
    this.sizes.push(size);
    this.bytes += size;
    this.last = { ts, t: TERM };
    this.lastWall = wall;
    this.appended += 1;
    this.truncate();
    for (const listener of [...this.listeners]) listener();
  }

  /** Drops the oldest entries while over the size limit (always keeping the newest). */
  private truncate(): void {
    while (this.bytes > this.maxBytes && this.entries.length - this.head > 1) {
      const removed = this.entries[this.head]!;
      this.bytes -= this.sizes[this.head]!;
      this.removedThrough = removed.ts;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** An insert's operation: the document, and its key in o2. */
export function insertOperation(ns: string, ui: UUID, doc: Document): Document {
  return { op: 'i', ns, ui, o: doc, o2: { _id: doc._id } };
}

/** An update's operation: a $v: 2 diff, or the whole new document for a replacement. */
export function updateOperation(ns: string, ui: UUID, old: Document, next: Document, replacement: boolean): Document {
  return { op: 'u', ns, ui, o: replacement ? next : { $v: 2, diff: documentDiff(old, next) }, o2: { _id: next._id } };
}

export function deleteOperation(ns: string, ui: UUID, doc: Document): Document {
  return { op: 'd', ns, ui, o: { _id: doc._id } };
}

/** mongod's default oplog size for an in-memory engine: 5 % of physical memory, at least 50 MB, at most 50 GB. */
export function defaultOplogBytes(totalMemory: number): number {
  const mb = 1024 * 1024;
  return Math.min(Math.max(Math.floor(totalMemory * 0.05), 50 * mb), 50 * 1024 * mb);
}

/**
 * The catalog's changes as oplog entries (inserts, updates, deletes), alongside any other sink
 * (the durable store). The local database is not replicated, so it is not logged.
 */
export function withOplog(changes: CatalogChanges | undefined, oplog: Oplog): CatalogChanges {
  return {
    written(collection, seq, doc, replaced) {
      changes?.written(collection, seq, doc, replaced);
      if (collection.db === 'local') return;
      if (replaced === undefined) oplog.insert(collection.ns, collection.uuid, doc);
      else oplog.update(collection.ns, collection.uuid, replaced, doc);
    },
    removed(collection, seq, doc) {
      changes?.removed(collection, seq, doc);
      if (collection.db !== 'local') oplog.delete(collection.ns, collection.uuid, doc);
    },
    described(collection) {
      changes?.described(collection);
    },
    dropped(collection) {
      changes?.dropped(collection);
    },
  };
}
