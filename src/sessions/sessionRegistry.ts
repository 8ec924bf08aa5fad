import { Int32, UUID, type Document } from 'bson';
import type { Clock, TimerHandle } from '../clock.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { TransactionRecord } from './transactionRecord.js';
import { lsidDocument, NO_AUTH_UID, lsidKey, lsidText, type LogicalSessionId } from './logicalSessionId.js';
import { IntrusiveTimerWheel, type Timed } from './timerWheel.js';

const IN_CACHE = 1;
const ENDING = 2;
const GONE = 4;

/**
 * One logical session, as the server holds it. Both observable views are derived from these.
 * A million of them must fit comfortably, so a record is one object of ten fields: the id
 * lives only in the key, the uid is shared, the three flags share one field, and the record is
 * its own entry in the expiry wheel (no separate entry object, no closures, no per-record sets
 * until it owns something).
 */
export class SessionRecord implements Timed<SessionRecord> {
  // Every field is assigned in the constructor, in one order, and none is declared as a class
  // field: a declared field starts as undefined, and V8 would then box each new number stored
  // in lastUse (a fresh heap number per touch) instead of updating it in place.
  /** lsidKey(id, uid): the id's 16 bytes (then the uid's 32 unless it is SHA-256("")), as latin1 characters. */
  declare readonly key: string;
  /** The owner's digest (shared by all of that owner's sessions). */
  declare readonly uid: Buffer;
  /** "user@db" of the owner when auth is on. */
  declare readonly user: string | undefined;
  /** Last time a command used the session (ms). Its expiry is due at lastUse + the timeout. */
  declare lastUse: number;
  /** @internal wheel links */ declare prev: SessionRecord | undefined;
  /** @internal */ declare next: SessionRecord | undefined;
  /** @internal */ declare slot: number;
  /** IN_CACHE | ENDING | GONE. */
  private declare flags: number;
  /** In config.system.sessions: the refresh time written there, if written. */
  declare persistedLastUse: number | undefined;
  /** What the session owns and what dies with it (made at the first one; most sessions own nothing). */
  declare resources: Set<SessionResource> | undefined;
  /** Its transaction record, made by the first retryable write (replica-set mode only). */
  declare txn: TransactionRecord | undefined;

  constructor(key: string, uid: Buffer, user: string | undefined, lastUse: number) {
    this.key = key;
    this.uid = uid;
    this.user = user;
    this.lastUse = lastUse;
    this.prev = undefined;
    this.next = undefined;
    this.slot = -1;
    this.flags = 0;
    this.persistedLastUse = undefined;
    this.resources = undefined;
    this.txn = undefined;
  }

  /** In the local cache: used since the last refresh ($listLocalSessions, maxSessions). */
  get inCache(): boolean {
    return (this.flags & IN_CACHE) !== 0;
  }

  set inCache(value: boolean) {
    this.flags = value ? this.flags | IN_CACHE : this.flags & ~IN_CACHE;
  }

  /** endSessions was called: removed at the next refresh. */
  get ending(): boolean {
    return (this.flags & ENDING) !== 0;
  }

  set ending(value: boolean) {
    this.flags = value ? this.flags | ENDING : this.flags & ~ENDING;
  }

  /** No longer in the registry (expired or ended): forgotten once its last resource is gone. */
  get gone(): boolean {
    return (this.flags & GONE) !== 0;
  }

  set gone(value: boolean) {
    this.flags = value ? this.flags | GONE : this.flags & ~GONE;
  }

  get lsid(): LogicalSessionId {
    return { id: Buffer.from(this.key.slice(0, 16), 'latin1'), uid: this.uid };
  }
}

/** Session expiry: every session is due the timeout after its last use. */
class ExpiryWheel extends IntrusiveTimerWheel<SessionRecord> {
  constructor(
    tickMs: number,
    private readonly timeoutMs: number,
    now: number,
  ) {
    super(tickMs, timeoutMs, now);
  }

  protected dueOf(record: SessionRecord): number {
    return record.lastUse + this.timeoutMs;
  }
}

/**
 * Something a session owns that dies with it: an open cursor, a running operation, an open
 * transaction (aborted by a kill). Registered with the session while it lives.
 */
export interface SessionResource {
  /** Cursors are counted when released (lastSessionsCollectionJobCursorsClosed). */
  readonly kind: 'cursor' | 'operation' | 'transaction';
  /** Kills it (a cursor closes, an operation is interrupted); a cursor also detaches itself. */
  release(): void;
}

export interface SessionRegistryOptions {
  clock: Clock;
  timeoutMinutes: number;
  refreshMillis: number;
  maxSessions: number;
  /** disableLogicalSessionCacheRefresh: no periodic refresh. */
  refreshDisabled: boolean;
  /** How often the expiry sweeper runs (the precision of expiry). */
  sweepMillis?: number;
  /** Most sessions expired in one go before yielding to the event loop. */
  sweepBatch?: number;
  /** Where config.system.sessions' changes go to be kept on disk (--dbpath); none in memory. */
  collectionChanges?: SessionsCollectionChanges;
}

/**
 * The changes of config.system.sessions, for durable storage: a record written by a refresh,
 * and a persisted record that left (expired or ended). Given the records themselves; the server
 * decides how they are stored.
 */
export interface SessionsCollectionChanges {
  written(record: SessionRecord): void;
  removed(record: SessionRecord): void;
}

/** serverStatus().logicalSessionRecordCache counters (logical_session_cache_stats.idl). */
interface CacheStats {
  sessionsCollectionJobCount: number;
  lastSessionsCollectionJobDurationMillis: number;
  lastSessionsCollectionJobTimestamp: Date;
  lastSessionsCollectionJobEntriesRefreshed: number;
  lastSessionsCollectionJobEntriesEnded: number;
  lastSessionsCollectionJobCursorsClosed: number;
  transactionReaperJobCount: number;
  lastTransactionReaperJobDurationMillis: number;
  lastTransactionReaperJobTimestamp: Date;
  lastTransactionReaperJobEntriesCleanedUp: number;
}

/**
 * The session registry: every live session keyed by its full lsid {id, uid}. mongod users see
 * two views of it (sessions-semantics.md §1.3-1.4): the local cache (sessions used since the
 * last refresh) and config.system.sessions (records as of the last refresh). Expiry is precise:
 * a timer wheel drops a session (from both views, with its cursors) within one sweep of
 * lastUse + timeout, touching only sessions that are due.
 */
export class SessionRegistry {
  private readonly records = new Map<string, SessionRecord>();
  /**
   * The local cache, so a refresh walks only the sessions used since the last one: the records
   * flagged inCache, in the order they entered it. A record that leaves the cache other than by a
   * refresh (it expired or ended) only loses its flag; the array skips it and is compacted when
   * such leftovers outnumber the members.
   */
  private cache: SessionRecord[] = [];
  /** How many records are in the cache (flagged inCache). */
  private cached = 0;
  private readonly ending = new Set<SessionRecord>();
  private readonly wheel: ExpiryWheel;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly maxSessions: number;
  private readonly sweepBatch: number;
  private readonly timers: TimerHandle[] = [];
  private sweepTimer: TimerHandle | undefined;
  private sweepPending = false;
  private stopped = false;
  /**
   * Sessions that have owned resources: the only ones a kill has to look at. A session stays here
   * while it is registered (a command in a session attaches and detaches an operation each time,
   * so membership does not churn); a gone one leaves with its last resource.
   */
  private readonly holding = new Set<SessionRecord>();
  /** config.system.sessions is created lazily, at the first refresh (sessions_collection_standalone.cpp). */
  collectionExists = false;
  /** Called at the start of each refresh (the sessions collection's setup: its TTL index). */
  private readonly refreshListeners: Array<() => void> = [];
  /** One shared, owned Buffer per distinct uid (there is one uid per user). */
  private readonly uids = new Map<string, Buffer>([[NO_AUTH_UID.toString('latin1'), NO_AUTH_UID]]);
  /** The sessions collection's UUID, as listCollections shows it (kept on disk with --dbpath). */
  collectionUuid = new UUID();
  readonly stats: CacheStats;

  constructor(private readonly options: SessionRegistryOptions) {
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMinutes * 60_000;
    this.maxSessions = options.maxSessions;
    this.sweepBatch = options.sweepBatch ?? 5_000;
    const sweepMillis = options.sweepMillis ?? 500;
    const now = this.clock.now();
    this.wheel = new ExpiryWheel(sweepMillis, this.timeoutMs, now);
    this.stats = {
      sessionsCollectionJobCount: 0,
      lastSessionsCollectionJobDurationMillis: 0,
      lastSessionsCollectionJobTimestamp: new Date(now),
      lastSessionsCollectionJobEntriesRefreshed: 0,
      lastSessionsCollectionJobEntriesEnded: 0,
      lastSessionsCollectionJobCursorsClosed: 0,
      transactionReaperJobCount: 0,
      lastTransactionReaperJobDurationMillis: 0,
      lastTransactionReaperJobTimestamp: new Date(now),
      lastTransactionReaperJobEntriesCleanedUp: 0,
    };
    this.scheduleSweep(sweepMillis);
    if (!options.refreshDisabled) this.scheduleRefresh();
  }

  /** `resource` now belongs to the session: it dies with it (kill, expiry, end). */
  attach(record: SessionRecord, resource: SessionResource): void {
    let resources = record.resources;
    if (resources === undefined) {
      resources = record.resources = new Set();
      this.holding.add(record);
    }
    resources.add(resource);
  }

  /** `resource` ended on its own (a cursor exhausted or killed by id, an operation done). */
  detach(record: SessionRecord, resource: SessionResource): void {
    const resources = record.resources;
    if (resources === undefined || !resources.delete(resource)) return;
    if (resources.size === 0 && record.gone) this.holding.delete(record);
  }

  /**
   * The one kill path: what the session owns is released when it is killed (killSessions and
   * friends), expires, or ends at a refresh. Every resource dies with a kill; expiry and ending
   * close cursors but do not interrupt running operations (sessions-semantics.md §4.3:
   * killSessionsLocal interrupts operations, the refresh job only kills cursors). Returns how
   * many cursors closed.
   */
  private release(record: SessionRecord, reason: 'kill' | 'end' | 'expire'): number {
    const resources = record.resources;
    if (resources === undefined || resources.size === 0) return 0;
    let cursors = 0;
    for (const resource of [...resources]) {
      if (resource.kind === 'operation' && reason !== 'kill') continue;
      if (resource.kind === 'cursor') cursors += 1;
      resources.delete(resource);
      resource.release();
    }
    if (resources.size === 0 && record.gone) this.holding.delete(record);
    return cursors;
  }

  /** Whether a command is running in the session now. */
  private inUse(record: SessionRecord): boolean {
    if (record.resources === undefined) return false;
    for (const resource of record.resources) if (resource.kind === 'operation') return true;
    return false;
  }

  /**
   * killSessions, killAllSessions, killAllSessionsByPattern: what the matching sessions own dies
   * at once (cursors close, operations are interrupted); the sessions themselves stay usable, as
   * in mongod (kill_sessions_local.cpp). Returns how many cursors closed.
   */
  kill(matches: (lsid: LogicalSessionId) => boolean): number {
    let cursors = 0;
    for (const record of [...this.holding]) {
      if (record.resources!.size > 0 && matches(record.lsid)) cursors += this.release(record, 'kill');
    }
    return cursors;
  }

  get size(): number {
    return this.records.size;
  }

  get cacheSize(): number {
    return this.cached;
  }

  get(lsid: LogicalSessionId): SessionRecord | undefined {
    return this.records.get(lsidKey(lsid.id, lsid.uid));
  }

  /**
   * mongod's vivify: a known session is touched (lastUse = now, back into the cache); an unknown
   * one is created. Adding to a full cache fails with TooManyLogicalSessions (261).
   */
  vivify(lsid: LogicalSessionId, user: string | undefined): SessionRecord {
    const key = lsidKey(lsid.id, lsid.uid);
    const now = this.clock.now();
    let record = this.records.get(key);
    if (record !== undefined) {
      if (!record.inCache) {
        this.admitToCache(lsid);
        this.enterCache(record);
      }
      record.lastUse = now;
      this.wheel.reschedule(record);
      return record;
    }
    this.admitToCache(lsid);
    record = new SessionRecord(key, this.internUid(lsid.uid), user, now);
    this.wheel.add(record);
    this.records.set(key, record);
    this.enterCache(record);
    return record;
  }

  /**
   * Puts back a session of config.system.sessions read from durable storage (start-up): not in
   * the local cache, last used when that refresh wrote it, so it expires as mongod's TTL monitor
   * would delete its document, unless a client uses it again first.
   */
  restorePersisted(lsid: LogicalSessionId, user: string | undefined, lastUse: number): void {
    const key = lsidKey(lsid.id, lsid.uid);
    if (this.records.has(key)) return;
    const record = new SessionRecord(key, this.internUid(lsid.uid), user, lastUse);
    record.persistedLastUse = lastUse;
    this.wheel.add(record);
    this.records.set(key, record);
    this.collectionExists = true;
  }

  /**
   * The registry's own copy of a uid. Parsed uids are views into the request's bytes, which can
   * be a whole socket read: a record kept past the command must not pin those.
   */
  private internUid(uid: Buffer): Buffer {
    if (uid === NO_AUTH_UID) return uid;
    const key = uid.toString('latin1');
    let shared = this.uids.get(key);
    if (shared === undefined) {
      shared = Buffer.from(uid);
      if (this.uids.size < 100_000) this.uids.set(key, shared);
    }
    return shared;
  }

  private enterCache(record: SessionRecord): void {
    record.inCache = true;
    this.cache.push(record);
    this.cached += 1;
  }

  /** A record leaves the cache between refreshes (it expired or was dropped). */
  private leaveCache(record: SessionRecord): void {
    if (!record.inCache) return;
    record.inCache = false;
    this.cached -= 1;
    const cache = this.cache;
    const stale = cache.length - this.cached;
    if (stale <= 1024 || stale <= this.cached) return;
    // Compacted in place (no new array to allocate mid-sweep), order kept.
    let kept = 0;
    for (let i = 0; i < cache.length; i++) {
      const member = cache[i]!;
      if (member.inCache) cache[kept++] = member;
    }
    cache.length = kept;
  }

  private admitToCache(lsid: LogicalSessionId): void {
    if (this.cached >= this.maxSessions) {
      throw new MongoError(
        ErrorCodes.TooManyLogicalSessions,
        `Unable to add session ID ${lsidText(lsid)} into the cache because the number of active sessions is too high`,
      );
    }
  }

  /** endSessions: marks sessions to be removed at the next refresh (unknown ids are fine). */
  end(lsids: readonly LogicalSessionId[]): void {
    for (const lsid of lsids) {
      const record = this.get(lsid);
      if (record === undefined || record.ending) continue;
      record.ending = true;
      this.ending.add(record);
    }
  }

  /** $listLocalSessions: records in the local cache. */
  *localSessions(): Iterable<SessionRecord> {
    for (const record of this.cache) if (record.inCache) yield record;
  }

  /** config.system.sessions: one document per persisted record, as mongod stores them. */
  *collectionDocuments(): Iterable<Document> {
    for (const record of this.records.values()) {
      if (record.persistedLastUse === undefined) continue;
      const doc: Document = { _id: lsidDocument(record.lsid), lastUse: new Date(record.persistedLastUse) };
      if (record.user !== undefined) doc.user = { name: record.user };
      yield doc;
    }
  }

  /** Runs `listener` at the start of every refresh, where mongod sets up the sessions collection. */
  onRefresh(listener: () => void): void {
    this.refreshListeners.push(listener);
  }

  /**
   * The refresh job (logical_session_cache_impl.cpp _refresh): create the collection if needed,
   * write every cached session (lastUse = now), empty the cache, then delete ended sessions and
   * kill their cursors.
   */
  refresh(): void {
    const started = this.clock.now();
    this.collectionExists = true;
    for (const listener of this.refreshListeners) listener();
    const swapped = this.cache;
    this.cache = [];
    this.cached = 0;
    let refreshed = 0;
    for (const record of swapped) {
      if (!record.inCache) continue;
      record.inCache = false;
      if (record.ending) continue;
      record.persistedLastUse = started;
      this.options.collectionChanges?.written(record);
      refreshed += 1;
    }
    const ended = [...this.ending];
    this.ending.clear();
    let cursorsClosed = 0;
    for (const record of ended) {
      this.drop(record);
      cursorsClosed += this.release(record, 'end');
    }
    const finished = this.clock.now();
    Object.assign(this.stats, {
      sessionsCollectionJobCount: this.stats.sessionsCollectionJobCount + 1,
      lastSessionsCollectionJobDurationMillis: finished - started,
      lastSessionsCollectionJobTimestamp: new Date(started),
      lastSessionsCollectionJobEntriesRefreshed: refreshed,
      lastSessionsCollectionJobEntriesEnded: ended.length,
      lastSessionsCollectionJobCursorsClosed: cursorsClosed,
    });
  }

  /** The transaction reaper: a standalone keeps no transaction records, so it only counts its runs. */
  reap(): void {
    const now = this.clock.now();
    Object.assign(this.stats, {
      transactionReaperJobCount: this.stats.transactionReaperJobCount + 1,
      lastTransactionReaperJobDurationMillis: 0,
      lastTransactionReaperJobTimestamp: new Date(now),
      lastTransactionReaperJobEntriesCleanedUp: 0,
    });
  }

  /** Removes a session from the registry and both views (not its resources: callers release them). */
  private drop(record: SessionRecord): void {
    this.records.delete(record.key);
    this.leaveCache(record);
    this.ending.delete(record);
    this.wheel.remove(record);
    this.forget(record);
  }

  /**
   * The record left the registry: its document leaves config.system.sessions, and it stays among
   * the holders only while a resource remains.
   */
  private forget(record: SessionRecord): void {
    record.gone = true;
    if (record.persistedLastUse !== undefined) this.options.collectionChanges?.removed(record);
    if (record.resources !== undefined && record.resources.size === 0) this.holding.delete(record);
  }

  /**
   * Expires due sessions, at most sweepBatch at a time; when more are due, the rest follow on
   * the next turn of the event loop, so a million sessions falling due never block it for long.
   */
  sweep(): number {
    const now = this.clock.now();
    const expired = this.wheel.advance(now, this.sweepBatch);
    if (expired.length === 0) return 0;
    let removed = 0;
    for (const record of expired) {
      if (this.inUse(record)) {
        // A running operation keeps its session alive: mongod's refresh re-vivifies the sessions
        // of running operations (logical_session_cache_impl.cpp), so it is used now.
        record.lastUse = now;
        this.wheel.reschedule(record);
        if (!record.inCache && this.cached < this.maxSessions) this.enterCache(record);
        continue;
      }
      // The wheel already unlinked the entry; drop the rest of the record.
      this.records.delete(record.key);
      this.leaveCache(record);
      this.ending.delete(record);
      this.release(record, 'expire');
      this.forget(record);
      removed += 1;
    }
    if (expired.length === this.sweepBatch && !this.sweepPending && !this.stopped) {
      this.sweepPending = true;
      setImmediate(() => {
        this.sweepPending = false;
        if (!this.stopped) this.sweep();
      });
    }
    return removed;
  }

  private scheduleSweep(ms: number): void {
    this.sweepTimer = this.clock.setTimer(ms, () => {
      if (this.stopped) return;
      this.sweep();
      this.scheduleSweep(ms);
    });
  }

  private scheduleRefresh(): void {
    const handle = this.clock.setTimer(this.options.refreshMillis, () => {
      if (this.stopped) return;
      this.refresh();
      this.reap();
      this.timers.splice(this.timers.indexOf(handle), 1);
      this.scheduleRefresh();
    });
    this.timers.push(handle);
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimer(this.sweepTimer);
    for (const t of this.timers) this.clock.clearTimer(t);
    this.timers.length = 0;
  }

  /** serverStatus().logicalSessionRecordCache. */
  statusSection(): Document {
    const s = this.stats;
    return {
      activeSessionsCount: new Int32(this.cached),
      sessionsCollectionJobCount: new Int32(s.sessionsCollectionJobCount),
      lastSessionsCollectionJobDurationMillis: new Int32(s.lastSessionsCollectionJobDurationMillis),
      lastSessionsCollectionJobTimestamp: s.lastSessionsCollectionJobTimestamp,
      lastSessionsCollectionJobEntriesRefreshed: new Int32(s.lastSessionsCollectionJobEntriesRefreshed),
      lastSessionsCollectionJobEntriesEnded: new Int32(s.lastSessionsCollectionJobEntriesEnded),
      lastSessionsCollectionJobCursorsClosed: new Int32(s.lastSessionsCollectionJobCursorsClosed),
      transactionReaperJobCount: new Int32(s.transactionReaperJobCount),
      lastTransactionReaperJobDurationMillis: new Int32(s.lastTransactionReaperJobDurationMillis),
      lastTransactionReaperJobTimestamp: s.lastTransactionReaperJobTimestamp,
      lastTransactionReaperJobEntriesCleanedUp: new Int32(s.lastTransactionReaperJobEntriesCleanedUp),
      sessionCatalogSize: new Int32(0),
    };
  }
}
