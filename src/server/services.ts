import { AuthManager } from '../auth/manager.js';
import type { Clock } from '../clock.js';
import { COMMAND_TABLE, CommandRegistry } from '../commands/commandTable.js';
import { ServerCounters } from '../commands/counters.js';
import { NamespaceView } from '../commands/namespaces.js';
import { FailPointRegistry } from '../commands/failPoints.js';
import type { Parameters } from '../commands/serverParameters.js';
import { ClientRegistry, ServerProcess, type Services } from '../commands/services.js';
import { Topology } from '../commands/topology.js';
import { ReplicaSet } from '../commands/replicaSet.js';
import { TransactionCoordinator } from '../commands/transactions.js';
import { SnapshotReads } from '../commands/snapshotReads.js';
import { withOplog } from '../storage/oplog.js';
import { CursorManager } from '../cursors/cursorManager.js';
import type { Log } from '../log.js';
import { OwnerResolver } from '../sessions/owner.js';
import { SessionRegistry } from '../sessions/sessionRegistry.js';
import { sessionsCollectionChanges } from '../commands/sessionsStorage.js';
import { Catalog } from '../storage/catalog.js';
import type { DurableStore } from '../storage/durable/durableStore.js';
import { TtlMonitor } from '../storage/ttlMonitor.js';

/** What wiring a server needs beyond its parameters, log and clock. */
export interface WiringOptions {
  readonly cmdLine: { readonly argv: readonly string[]; readonly parsed: Record<string, unknown> };
  readonly slowms: number;
  readonly requestShutdown: () => void;
  readonly auth: { readonly enabled: boolean; readonly transitionToAuth: boolean };
  /** With --dbpath: the store the catalog's changes go to (start-up fills the catalog from it after wiring). */
  readonly durable?: DurableStore;
  /** With --replSet: the set's name and the oplog's size limit in bytes. */
  readonly replSet?: { readonly name: string; readonly oplogBytes: number };
}

/** One server's services, and its background jobs (session sweeper and refresh, cursor timeouts, TTL). */
export interface Wiring {
  readonly services: Services;
  stopJobs(): void;
}

/**
 * Builds one server's services and connects them; the only place that knows them all. Nothing is
 * global, so servers in one process share nothing.
 */
export function wireServices(params: Parameters, log: Log, clock: Clock, options: WiringOptions): Wiring {
  const counters = new ServerCounters();
  const auth = new AuthManager(options.auth.enabled || options.auth.transitionToAuth, options.auth.transitionToAuth);
  const sessions = new SessionRegistry({
    clock,
    timeoutMinutes: params.int('localLogicalSessionTimeoutMinutes'),
    refreshMillis: params.int('logicalSessionRefreshMillis'),
    maxSessions: params.int('maxSessions'),
    refreshDisabled: params.bool('disableLogicalSessionCacheRefresh'),
    ...(options.durable === undefined ? {} : { collectionChanges: sessionsCollectionChanges(options.durable) }),
  });
  const cursors = new CursorManager(clock, sessions, () => params.int('cursorTimeoutMillis'), (n) => counters.documentsReturned(n));
  const replication = options.replSet === undefined ? undefined : new ReplicaSet(options.replSet.name, () => clock.now(), options.replSet.oplogBytes);
  const transactions = new TransactionCoordinator(clock, () => params.int('transactionLifetimeLimitSeconds'), log);
  // A replica set logs the catalog's changes in its oplog, and transactions watch them for conflicts.
  const catalog = new Catalog(replication === undefined ? options.durable : transactions.observing(withOplog(options.durable, replication.oplog)));
  const ttl = new TtlMonitor(catalog, clock);
  const services: Services = {
    clock,
    log,
    params,
    counters,
    topology: new Topology(),
    process: new ServerProcess(clock.now(), options.cmdLine, options.slowms, options.requestShutdown),
    clients: new ClientRegistry(),
    commands: new CommandRegistry(COMMAND_TABLE, { enableTestCommands: params.bool('enableTestCommands') }),
    auth,
    owners: new OwnerResolver(auth),
    sessions,
    cursors,
    catalog,
    durable: options.durable,
    namespaces: new NamespaceView(catalog, sessions, () => params.int('localLogicalSessionTimeoutMinutes'), counters, replication),
    failPoints: new FailPointRegistry(),
    replication,
    transactions,
    snapshotReads: new SnapshotReads(),
  };
  return {
    services,
    stopJobs(): void {
      sessions.stop();
      cursors.stop();
      ttl.stop();
      transactions.stop();
    },
  };
}
