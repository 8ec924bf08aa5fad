import type { AuthManager } from '../auth/manager.js';
import type { Clock } from '../clock.js';
import type { CursorManager } from '../cursors/cursorManager.js';
import type { Log } from '../log.js';
import type { OwnerResolver } from '../sessions/owner.js';
import type { SessionRegistry } from '../sessions/sessionRegistry.js';
import type { Catalog } from '../storage/catalog.js';
import type { DurableStore } from '../storage/durable/durableStore.js';
import type { Client } from './client.js';
import type { CommandRegistry } from './commandTable.js';
import type { ServerCounters } from './counters.js';
import type { FailPointRegistry } from './failPoints.js';
import type { NamespaceView } from './namespaces.js';
import type { Parameters } from './serverParameters.js';
import type { ReplicaSet } from './replicaSet.js';
import type { TransactionCoordinator } from './transactions.js';
import type { SnapshotReads } from './snapshotReads.js';
import type { Topology } from './topology.js';

export interface ListenInfo {
  port: number;
  bindIps: readonly string[];
  maxConns: number;
  ipv6: boolean;
}

/** The server process as commands report and steer it: start time, listening, command line, shutdown. */
export class ServerProcess {
  /** Set while shutting down: new commands and connections are refused. */
  shuttingDown = false;
  listen: ListenInfo = { port: 0, bindIps: [], maxConns: 0, ipv6: false };
  /** The profiler's sample rate (the profile command's sampleRate). */
  sampleRate = 1;

  constructor(
    readonly startedAt: number,
    /** getCmdLineOpts: the argv and the parsed options as mongod reports them. */
    readonly cmdLine: { readonly argv: readonly string[]; readonly parsed: Record<string, unknown> },
    /** Operations slower than this are logged (--slowms; the profile command changes it). */
    public slowms: number,
    /** Starts a graceful shutdown (the `shutdown` command). */
    readonly requestShutdown: () => void,
  ) {}
}

/** The open client connections (serverStatus().connections). */
export class ClientRegistry {
  readonly open = new Map<number, Client>();
  totalCreated = 0;
  /** The next operation id (currentOp's opid). */
  nextOpId = 1;
  rejected = 0;
}

/**
 * The services of one server, each a narrow object of its own. Nothing here is global: several
 * servers in one process share nothing. A handler names the ones it uses in its context type
 * (`CommandContext<'sessions' | 'params'>`), so it can be run in process with just those.
 */
export interface Services {
  readonly clock: Clock;
  readonly log: Log;
  readonly params: Parameters;
  readonly counters: ServerCounters;
  readonly topology: Topology;
  readonly process: ServerProcess;
  readonly clients: ClientRegistry;
  readonly commands: CommandRegistry;
  readonly auth: AuthManager;
  readonly owners: OwnerResolver;
  readonly sessions: SessionRegistry;
  readonly cursors: CursorManager;
  readonly catalog: Catalog;
  /** The catalog's durable store with --dbpath; undefined for a server that keeps data in memory. */
  readonly durable: DurableStore | undefined;
  readonly namespaces: NamespaceView;
  /** configureFailPoint's fail points (only reachable with enableTestCommands). */
  readonly failPoints: FailPointRegistry;
  /** The replica set with --replSet; undefined for a standalone. */
  readonly replication: ReplicaSet | undefined;
  /** The open multi-document transactions (replica-set mode). */
  readonly transactions: TransactionCoordinator;
  /** The snapshots readConcern "snapshot" reads outside transactions keep (replica-set mode). */
  readonly snapshotReads: SnapshotReads;
}
