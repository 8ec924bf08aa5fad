import { randomBytes } from 'node:crypto';
import { BSON, Long, type Document } from 'bson';
import type { Clock, TimerHandle } from '../clock.js';
import type { SessionRecord, SessionRegistry, SessionResource } from '../sessions/sessionRegistry.js';
import { MAX_BSON_OBJECT_SIZE } from '../bson/limits.js';
import { ErrorCodes, MongoError } from '../errors.js';

/** mongod's default first batch (query_request_helper: kDefaultBatchSize). */
export const DEFAULT_FIRST_BATCH_SIZE = 101;
/** A batch stops growing past this many bytes (leave room for the reply envelope). */
const MAX_BATCH_BYTES = MAX_BSON_OBJECT_SIZE - 64 * 1024;

/** Cursors over catalog listings (`<db>.$cmd.listCollections`, `<db>.$cmd.listIndexes.<coll>`). */
const CATALOG_CURSOR = /\.\$cmd\.list(Collections$|Indexes\.)/;

export type LifespanBucket =
  | 'greaterThanOrEqual10Minutes'
  | 'lessThan10Minutes'
  | 'lessThan15Seconds'
  | 'lessThan1Minute'
  | 'lessThan1Second'
  | 'lessThan30Seconds'
  | 'lessThan5Seconds';

/** mongod's cursor lifespan histogram buckets (cursor_manager.cpp). */
function lifespanBucket(ms: number): LifespanBucket {
  if (ms < 1_000) return 'lessThan1Second';
  if (ms < 5_000) return 'lessThan5Seconds';
  if (ms < 15_000) return 'lessThan15Seconds';
  if (ms < 30_000) return 'lessThan30Seconds';
  if (ms < 60_000) return 'lessThan1Minute';
  if (ms < 600_000) return 'lessThan10Minutes';
  return 'greaterThanOrEqual10Minutes';
}

/**
 * A cursor's documents. One that keeps a position between batches (a capped collection scan) has
 * `restore`, run before each getMore: it throws when the position is lost.
 */
export interface CursorSource extends Iterator<Document> {
  restore?(): void;
  /**
   * The fields a reply puts after its batch, given the documents it returns (a change stream's
   * postBatchResumeToken, and `invalidated` once it has ended).
   */
  batchFields?(batch: readonly Document[]): Document;
  /** A tailable source that has ended for good (a change stream after its invalidate): its cursor closes. */
  readonly ended?: boolean;
  /** A change stream's events (its getMore errors carry the change stream error labels). */
  readonly changeStream?: boolean;
}

/**
 * What makes a cursor tailable (find with `tailable` on a capped collection): the end of its source
 * only means "nothing yet", so it stays open; an awaitData getMore that finds nothing waits for
 * `onInsert` (which calls `wake` once at the collection's next insert and returns a cancel).
 */
export interface TailOptions {
  readonly awaitData: boolean;
  onInsert(wake: () => void): () => void;
}

/** How an awaitData wait ended. */
type WaitOutcome = 'insert' | 'timeout' | 'killed' | 'interrupted';

/** getmore_cmd.cpp adds this context to an error raised while the batch is produced. */
function duringGetMore(err: unknown): unknown {
  return err instanceof MongoError ? new MongoError(err.code, `Executor error during getMore :: caused by :: ${err.message}`, { ...err.extra }) : err;
}

/** How a cursor is opened: its session and owner, first batch size, and what the plan knows of its end. */
export interface CursorOptions {
  session: SessionRecord | undefined;
  batchSize: number;
  singleBatch?: boolean;
  noTimeout?: boolean;
  owner?: string;
  tail?: TailOptions;
  endKnown?: boolean;
}

/** An open server-side cursor: the rest of a result, owned by the session that opened it. */
export class ServerCursor implements SessionResource {
  readonly kind = 'cursor';
  lastUsed: number;
  /** When it was opened (metrics.cursor.lifespan). */
  readonly createdAt: number;
  /** Batches served so far, the first one included (metrics.cursor.moreThanOneBatch). */
  batches = 0;
  private lookahead: Document | undefined;
  private exhausted = false;

  /** Its id, given only when it outlives its first batch (id 0 otherwise, as mongod answers). */
  id: Long = Long.ZERO;
  /** The session that opened it, if any (getMore must come from the same one); the cursor dies with it. */
  session: SessionRecord | undefined;
  /** In use by a getMore that waits (mongod's pinned cursor): it does not time out meanwhile. */
  pinned = false;
  /** Ends the wait of the getMore using it, when it is killed meanwhile. */
  interrupt: (() => void) | undefined;

  constructor(
    private readonly manager: CursorManager,
    /** "db.collection" (or "db.$cmd.aggregate"). */
    readonly ns: string,
    readonly noTimeout: boolean,
    private readonly source: CursorSource,
    now: number,
    /** "user@db" of the user that opened it, when someone was logged in. */
    readonly owner: string | undefined,
    /** Set for a tailable cursor. */
    readonly tail?: TailOptions,
    /**
     * Whether the plan knows its end before reading past it (a blocking sort, a reached limit, a
     * queued result: mongod's isEOF()). A scan or a pipeline does not: when a batch ends exactly at
     * the last document the cursor stays open, and one more getMore answers an empty batch.
     */
    private readonly endKnown = true,
  ) {
    this.lastUsed = now;
    this.createdAt = now;
  }

  /** Whether getMore may wait for inserts (and take a maxTimeMS): a tailable awaitData cursor. */
  get awaitData(): boolean {
    return this.tail?.awaitData === true;
  }

  /** Finds the source's position again before a getMore (a capped scan's may have been deleted). */
  restore(): void {
    this.source.restore?.();
  }

  /** Its session was killed, expired or ended: the cursor closes. */
  release(): void {
    this.manager.kill(this.id);
  }

  /** Up to `batchSize` documents (0 = no count limit), never more than one reply can hold. */
  nextBatch(batchSize: number): Document[] {
    const batch: Document[] = [];
    let bytes = 0;
    while (!this.exhausted && (batchSize <= 0 || batch.length < batchSize)) {
      const doc = this.lookahead ?? this.pull();
      if (doc === undefined) break;
      const size = BSON.calculateObjectSize(doc);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        this.lookahead = doc;
        break;
      }
      this.lookahead = undefined;
      batch.push(doc);
      bytes += size;
    }
    return batch;
  }

  /** Whether its documents are a change stream's events. */
  get isChangeStream(): boolean {
    return this.source.changeStream === true;
  }

  /** The fields its reply adds after a batch (none but a change stream's). */
  batchFields(batch: readonly Document[]): Document {
    return this.source.batchFields?.(batch) ?? {};
  }

  /** True when no document is left (for a tailable cursor only once its source has ended: more may come). */
  get isExhausted(): boolean {
    if (this.tail !== undefined) return this.lookahead === undefined && this.source.ended === true;
    if (this.exhausted) return true;
    if (!this.endKnown) return false;
    // A scan that keeps a position is not read ahead (it would move the position): as mongod's,
    // it knows its end only once a batch reads past it.
    if (this.source.restore !== undefined) return false;
    if (this.lookahead === undefined) this.lookahead = this.pull();
    return this.exhausted && this.lookahead === undefined;
  }

  private pull(): Document | undefined {
    const next = this.source.next();
    if (next.done) {
      if (this.tail === undefined) this.exhausted = true;
      return undefined;
    }
    return next.value;
  }
}

/**
 * Every open cursor. A cursor opened in a session is one of the session's resources: killing,
 * expiring or ending the session closes it. Idle cursors time out after cursorTimeoutMillis.
 */
export class CursorManager {
  private readonly cursors = new Map<string, ServerCursor>();
  private timer: TimerHandle | undefined;
  totalOpened = 0;
  totalTimedOut = 0;
  /** Cursors that served more than one batch, counted when they close (mongod's ClientCursor dispose). */
  moreThanOneBatch = 0;
  /** How long closed cursors lived, by metrics.cursor.lifespan bucket. */
  readonly lifespan: Record<LifespanBucket, number> = {
    greaterThanOrEqual10Minutes: 0,
    lessThan10Minutes: 0,
    lessThan15Seconds: 0,
    lessThan1Minute: 0,
    lessThan1Second: 0,
    lessThan30Seconds: 0,
    lessThan5Seconds: 0,
  };

  constructor(
    private readonly clock: Clock,
    private readonly sessions: SessionRegistry,
    private readonly cursorTimeoutMillis: () => number,
    /** Told how many documents each batch returns to a client (metrics.document.returned). */
    private readonly onReturned: (n: number) => void = () => undefined,
  ) {
    this.scheduleTimeoutSweep();
  }

  get size(): number {
    return this.cursors.size;
  }

  /** Open cursors that never time out (metrics.cursor.open.noTimeout). */
  get openNoTimeout(): number {
    let n = 0;
    for (const cursor of this.cursors.values()) if (cursor.noTimeout) n += 1;
    return n;
  }

  /**
   * Runs the first batch; keeps a cursor open only if documents remain, or if it is tailable.
   * Returns the reply's `cursor`.
   */
  open(ns: string, source: CursorSource, options: CursorOptions): Document {
    const cursor = new ServerCursor(this, ns, options.noTimeout ?? false, source, this.clock.now(), options.owner, options.tail, options.endKnown);
    const firstBatch = cursor.nextBatch(options.batchSize);
    cursor.batches = 1;
    // listCollections and listIndexes do not count their first batch as returned documents
    // (mongod sets the operation's nreturned only in find, aggregate and getMore).
    if (!CATALOG_CURSOR.test(ns)) this.onReturned(firstBatch.length);
    if (!options.singleBatch && !cursor.isExhausted) {
      // Only a cursor that stays open needs an id, and belongs to its session.
      cursor.id = this.newId();
      this.cursors.set(cursor.id.toString(), cursor);
      if (options.session !== undefined) {
        cursor.session = options.session;
        this.sessions.attach(options.session, cursor);
      }
      this.totalOpened += 1;
    }
    return { firstBatch, ...cursor.batchFields(firstBatch), id: cursor.id, ns };
  }

  /**
   * `open` over a result already in hand (not tailable). At most one document needs no cursor
   * object: the first batch holds it whatever its size, and whether a cursor stays open follows
   * from the batch size alone (one document with batchSize 1 leaves the end unread unless `endKnown`).
   */
  openResult(ns: string, documents: Document[], options: CursorOptions): Document {
    if (documents.length <= 1 && options.tail === undefined) {
      const exhausted = documents.length === 0 || options.batchSize !== 1 || options.endKnown === true;
      if (exhausted || options.singleBatch === true) {
        if (!CATALOG_CURSOR.test(ns)) this.onReturned(documents.length);
        return { firstBatch: documents, id: Long.ZERO, ns };
      }
    }
    return this.open(ns, documents[Symbol.iterator](), options);
  }

  get(id: Long): ServerCursor | undefined {
    return this.cursors.get(id.toString());
  }

  /** The next batch of an open cursor; closes it when exhausted. Returns the reply's `cursor`. */
  more(cursor: ServerCursor, batchSize: number): Document {
    cursor.lastUsed = this.clock.now();
    return this.reply(cursor, this.batch(cursor, batchSize, true));
  }

  /**
   * getMore on a tailable awaitData cursor (getmore_cmd.cpp, PlanExecutorImpl::_waitForInserts):
   * when no document is ready it waits, up to `waitMs` of the server's clock, for an insert into
   * the collection, and answers as soon as one brings a document (one its filter skips waits on).
   * Killing the cursor meanwhile answers CursorKilled; a killed session or closed connection
   * (`signal`) ends the wait and the cursor.
   */
  async moreAwaiting(cursor: ServerCursor, batchSize: number, waitMs: number, signal: AbortSignal): Promise<Document> {
    cursor.lastUsed = this.clock.now();
    const deadline = cursor.lastUsed + waitMs;
    let nextBatch = this.batch(cursor, batchSize, true);
    cursor.pinned = true;
    try {
      while (nextBatch.length === 0 && !cursor.isExhausted && deadline > this.clock.now()) {
        const outcome = await this.waitForInsert(cursor, deadline - this.clock.now(), signal);
        if (outcome === 'timeout') break;
        if (outcome !== 'insert') {
          this.dispose(cursor.id.toString());
          const code = outcome === 'killed' ? ErrorCodes.CursorKilled : ErrorCodes.Interrupted;
          throw new MongoError(code, 'Executor error during getMore :: caused by :: operation was interrupted');
        }
        nextBatch = this.batch(cursor, batchSize, false);
      }
    } finally {
      cursor.pinned = false;
    }
    cursor.lastUsed = this.clock.now();
    return this.reply(cursor, nextBatch);
  }

  /**
   * A getMore's documents: the position restored first (when asked), then the batch. Either
   * failing kills the cursor (getmore_cmd.cpp's cursorDeleter); the batch's errors carry the
   * executor's context.
   */
  private batch(cursor: ServerCursor, batchSize: number, restore: boolean): Document[] {
    try {
      if (restore) cursor.restore();
    } catch (err) {
      this.dispose(cursor.id.toString());
      throw err;
    }
    try {
      return cursor.nextBatch(batchSize);
    } catch (err) {
      this.dispose(cursor.id.toString());
      throw duringGetMore(err);
    }
  }

  /** The reply's `cursor` for a getMore batch; the cursor closes when exhausted. */
  private reply(cursor: ServerCursor, nextBatch: Document[]): Document {
    cursor.batches += 1;
    this.onReturned(nextBatch.length);
    let id = cursor.id;
    if (cursor.isExhausted) {
      this.dispose(cursor.id.toString());
      id = Long.ZERO;
    }
    return { nextBatch, ...cursor.batchFields(nextBatch), id, ns: cursor.ns };
  }

  /** Waits for the cursor's collection's next insert, at most `ms` on the server's clock. */
  private waitForInsert(cursor: ServerCursor, ms: number, signal: AbortSignal): Promise<WaitOutcome> {
    if (signal.aborted) return Promise.resolve('interrupted');
    return new Promise((resolve) => {
      const end = (outcome: WaitOutcome) => {
        this.clock.clearTimer(timer);
        cancelInsert();
        cursor.interrupt = undefined;
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = () => end('interrupted');
      const timer = this.clock.setTimer(ms, () => end('timeout'));
      const cancelInsert = cursor.tail!.onInsert(() => end('insert'));
      cursor.interrupt = () => end('killed');
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  kill(id: Long): boolean {
    return this.dispose(id.toString());
  }

  /** mongod's ClientCursorMonitor: every minute, idle cursors older than cursorTimeoutMillis die. */
  private scheduleTimeoutSweep(): void {
    this.timer = this.clock.setTimer(60_000, () => {
      const deadline = this.clock.now() - this.cursorTimeoutMillis();
      for (const [key, cursor] of this.cursors) {
        if (!cursor.noTimeout && !cursor.pinned && cursor.lastUsed <= deadline) {
          this.dispose(key);
          this.totalTimedOut += 1;
        }
      }
      this.scheduleTimeoutSweep();
    });
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.cursors.clear();
  }

  /** Closes an open cursor and records its metrics; false if there is none with that key. */
  private dispose(key: string): boolean {
    const cursor = this.cursors.get(key);
    if (cursor === undefined) return false;
    this.cursors.delete(key);
    cursor.interrupt?.();
    if (cursor.session !== undefined) this.sessions.detach(cursor.session, cursor);
    if (cursor.batches > 1) this.moreThanOneBatch += 1;
    this.lifespan[lifespanBucket(this.clock.now() - cursor.createdAt)] += 1;
    return true;
  }

  private newId(): Long {
    for (;;) {
      // A random positive 63-bit id, as mongod's are random and never 0.
      const id = Long.fromBytesLE([...randomBytes(8)]).and(Long.MAX_VALUE);
      if (!id.isZero() && !this.cursors.has(id.toString())) return id;
    }
  }
}
