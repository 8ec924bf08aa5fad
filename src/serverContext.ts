import { ObjectId, type Document } from 'bson';
import type { Clock } from './clock.js';
import type { CommandRegistry } from './commands/registry.js';
import type { Parameters } from './config.js';
import type { Log } from './log.js';
import { AuthManager } from './auth/manager.js';
import { Catalog } from './storage/catalog.js';
import { TtlMonitor } from './storage/ttlMonitor.js';
import type { SessionOperation } from './commands/operation.js';
import { CursorManager } from './cursors/cursorManager.js';
import type { ConnectionState } from './net/connectionState.js';
import type { LogicalSessionId } from './sessions/logicalSessionId.js';
import { SessionRegistry } from './sessions/registry.js';

/** serverStatus counters (opcounters, network, metrics), bumped on the per-command path: plain integers only. */
export class ServerCounters {
  readonly opcounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };
  bytesIn = 0;
  bytesOut = 0;
  numRequests = 0;
  physicalBytesIn = 0;
  physicalBytesOut = 0;
  /** metrics.document: documents written by inserts, updates and deletes, and returned by cursors. */
  readonly document = { deleted: 0, inserted: 0, returned: 0, updated: 0 };
  /** metrics.queryExecutor: keys and documents examined, and collection scans run. */
  readonly queryExecutor = { scanned: 0, scannedObjects: 0, collectionScans: 0, collectionScansNonTailable: 0 };
  /** metrics.operation.scanAndOrder: operations that sorted in memory (no index gave the order). */
  scanAndOrder = 0;

  /** `n` documents inserted by an insert command (mongod's ninserted; upserts do not count). */
  documentsInserted(n: number): void {
    this.document.inserted += n;
  }

  /**
   * `n` documents matched by an update or findAndModify update (mongod adds the operation's
   * nMatched, modified or not; an upsert that inserts matches nothing).
   */
  documentsUpdated(n: number): void {
    this.document.updated += n;
  }

  /** `n` documents deleted (delete, findAndModify remove, TTL). */
  documentsDeleted(n: number): void {
    this.document.deleted += n;
  }

  /** `n` documents returned to a client in a cursor batch (find, aggregate, getMore). */
  documentsReturned(n: number): void {
    this.document.returned += n;
  }

  /** An operation that sorted its results in memory (a SORT stage). */
  sortedInMemory(): void {
    this.scanAndOrder += 1;
  }

  /**
   * One query plan's examination: index keys (`scanned`), documents (`scannedObjects`), and
   * whether it was a collection scan (tailable ones are not "nonTailable").
   */
  queryExamined(keysExamined: number, docsExamined: number, collectionScan: boolean, tailable = false): void {
    this.queryExecutor.scanned += keysExamined;
    this.queryExecutor.scannedObjects += docsExamined;
    if (collectionScan) {
      this.queryExecutor.collectionScans += 1;
      if (!tailable) this.queryExecutor.collectionScansNonTailable += 1;
    }
  }
}

/**
 * The topology as hello reports it. A standalone's only change is shutting down; awaitable hellos
 * wait on this until their maxAwaitTimeMS ends or the topology changes.
 */
export class Topology {
  readonly processId = new ObjectId();
  counter = 0;
  private readonly waiters = new Set<() => void>();

  /** How many awaitable hellos are waiting (serverStatus connections.awaitingTopologyChanges). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Calls `fn` once on the next change; returns a function that cancels the wait. */
  onChange(fn: () => void): () => void {
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }

  change(): void {
    this.counter += 1;
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const fn of waiting) fn();
  }
}

export interface ListenInfo {
  port: number;
  bindIps: readonly string[];
  maxConns: number;
  ipv6: boolean;
}

/** Everything server-wide that commands may read: one per running server, no globals. */
export class ServerContext {
  readonly counters = new ServerCounters();
  readonly topology = new Topology();
  readonly connections = new Map<number, ConnectionState>();
  totalConnectionsCreated = 0;
  rejectedConnections = 0;
  readonly startedAt: number;
  /** Set while shutting down: new commands are refused with ShutdownInProgress. */
  shuttingDown = false;
  listen: ListenInfo = { port: 0, bindIps: [], maxConns: 0, ipv6: false };
  /** serverStatus sections contributed by subsystems (e.g. logicalSessionRecordCache), by name. */
  readonly statusSections: Record<string, () => Document> = {};
  readonly sessions: SessionRegistry;
  readonly auth: AuthManager;
  readonly catalog = new Catalog();
  readonly ttl: TtlMonitor;
  readonly cursors: CursorManager;
  /** Operations running in a session, so killing the session can interrupt them. */
  readonly sessionOperations = new Set<SessionOperation>();

  constructor(
    readonly params: Parameters,
    readonly log: Log,
    readonly clock: Clock,
    readonly commands: CommandRegistry,
    /** getCmdLineOpts: the argv and the parsed options as mongod reports them. */
    readonly cmdLine: { argv: readonly string[]; parsed: Record<string, unknown> },
    readonly slowms: number,
    /** Starts a graceful shutdown (the `shutdown` command); set by the server. */
    readonly requestShutdown: () => void,
    auth: { enabled: boolean; transitionToAuth: boolean } = { enabled: false, transitionToAuth: false },
  ) {
    this.startedAt = clock.now();
    this.auth = new AuthManager(auth.enabled || auth.transitionToAuth, auth.transitionToAuth);
    this.cursors = new CursorManager(clock, () => params.int('cursorTimeoutMillis'), (n) => this.counters.documentsReturned(n));
    this.ttl = new TtlMonitor(this.catalog, clock);
    this.sessions = new SessionRegistry({
      clock,
      timeoutMinutes: params.int('localLogicalSessionTimeoutMinutes'),
      refreshMillis: params.int('logicalSessionRefreshMillis'),
      maxSessions: params.int('maxSessions'),
      refreshDisabled: params.bool('disableLogicalSessionCacheRefresh'),
    });
    this.sessions.setResources(this.cursors);
    this.statusSections.logicalSessionRecordCache = () => this.sessions.statusSection();
  }

  /**
   * Kills what the matching sessions own, at once (killSessions and friends): their cursors die
   * and their running operations are interrupted. The sessions themselves stay usable.
   */
  killSessions(matches: (lsid: LogicalSessionId) => boolean): void {
    this.cursors.killSessionResources(matches);
    for (const operation of this.sessionOperations) {
      if (matches(operation.lsid)) operation.kill();
    }
  }

  /** Stops background jobs (session sweeper and refresh, cursor timeouts). */
  stopJobs(): void {
    this.sessions.stop();
    this.cursors.stop();
    this.ttl.stop();
  }
}
