import type { Document } from 'bson';
import { ServerCounters } from './commands/counters.js';
import { Topology } from './commands/topology.js';
import { NamespaceView } from './commands/namespaces.js';
import type { Clock } from './clock.js';
import type { CommandRegistry } from './commands/commandTable.js';
import type { Parameters } from './config.js';
import type { Log } from './log.js';
import { AuthManager } from './auth/manager.js';
import { Catalog } from './storage/catalog.js';
import { TtlMonitor } from './storage/ttlMonitor.js';
import type { SessionOperation } from './commands/operation.js';
import { CursorManager } from './cursors/cursorManager.js';
import type { ConnectionState } from './net/connectionState.js';
import type { LogicalSessionId } from './sessions/logicalSessionId.js';
import { SessionRegistry } from './sessions/sessionRegistry.js';

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
  readonly namespaces: NamespaceView;
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
    this.namespaces = new NamespaceView(this.catalog, this.sessions, () => params.int('localLogicalSessionTimeoutMinutes'), this.counters);
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
