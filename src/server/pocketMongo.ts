import { totalmem } from 'node:os';
import { systemClock } from '../clock.js';
import { defaultOplogBytes } from '../storage/oplog.js';
import type { Catalog } from '../storage/catalog.js';
import { DataDirectory } from '../storage/durable/dataDirectory.js';
import { DurableStore } from '../storage/durable/durableStore.js';
import { Parameters } from '../commands/serverParameters.js';
import type { Services } from '../commands/services.js';
import { DEFAULT_MAX_CONNS, DEFAULT_PORT, DEFAULT_SLOW_MS, type ServerOptions } from './options.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { Log } from '../log.js';
import { Listener } from '../net/listener.js';
import { wireServices, type Wiring } from './services.js';
import { loadAuth, saveAuthIfChanged } from '../commands/authStorage.js';
import { loadSessions } from '../commands/sessionsStorage.js';
import { PACKAGE_VERSION, SERVER_VERSION } from '../version.js';

/** mongod's bind_ip rules: a comma list; bind_ip_all means every interface (IPv6 too with --ipv6). */
export function resolveBindIps(options: ServerOptions): string[] {
  if (options.bindIpAll) return options.ipv6 ? ['::'] : ['0.0.0.0'];
  const raw = options.bindIp ?? '127.0.0.1';
  const list = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new MongoError(ErrorCodes.BadValue, 'bind_ip must list at least one address');
  const resolved = list.map((ip) => (ip === 'localhost' ? '127.0.0.1' : ip));
  if (!options.ipv6 && resolved.some((ip) => ip.includes(':'))) {
    throw new MongoError(ErrorCodes.BadValue, `IPv6 address given to bind_ip without --ipv6: ${resolved.find((ip) => ip.includes(':'))}`);
  }
  if (options.ipv6 && !resolved.includes('::1') && resolved.includes('127.0.0.1')) resolved.push('::1');
  return resolved;
}

/** The options as mongod's getCmdLineOpts reports them under `parsed` (its YAML config shape). */
function parsedOptions(options: ServerOptions, bindIps: readonly string[]): Record<string, unknown> {
  const net: Record<string, unknown> = { bindIp: bindIps.join(','), port: options.port ?? DEFAULT_PORT };
  if (options.bindIpAll) net.bindIpAll = true;
  if (options.ipv6) net.ipv6 = true;
  if (options.maxConns !== undefined) net.maxIncomingConnections = options.maxConns;
  const parsed: Record<string, unknown> = { net };
  const systemLog: Record<string, unknown> = {};
  if (options.quiet) systemLog.quiet = true;
  if (options.logpath !== undefined) {
    systemLog.destination = 'file';
    systemLog.path = options.logpath;
    if (options.logappend) systemLog.logAppend = true;
  }
  if (Object.keys(systemLog).length > 0) parsed.systemLog = systemLog;
  if (options.setParameter !== undefined && Object.keys(options.setParameter).length > 0) {
    parsed.setParameter = Object.fromEntries(Object.entries(options.setParameter).map(([k, v]) => [k, String(v)]));
  }
  if (options.slowms !== undefined) parsed.operationProfiling = { slowOpThresholdMs: options.slowms };
  if (options.auth) parsed.security = { authorization: 'enabled' };
  if (options.transitionToAuth) parsed.security = { ...(parsed.security as object), transitionToAuth: true };
  if (options.replSet !== undefined) {
    parsed.replication = options.oplogSize === undefined ? { replSet: options.replSet } : { oplogSizeMB: options.oplogSize, replSet: options.replSet };
  }
  return parsed;
}

/** A data directory held by a server and the store in it. */
interface OpenStorage {
  readonly directory: DataDirectory;
  readonly store: DurableStore;
}

/** --dbpath: mongod's start-up checks and lock, then the store (lmdb is loaded only here). */
function openStorage(dbPath: string, log: Log, shutDown: () => void): OpenStorage {
  const directory = DataDirectory.open(dbPath);
  if (directory.uncleanShutdown) {
    log.warn({ c: 'STORAGE', id: 22271, ctx: 'initandlisten', msg: 'Detected unclean shutdown - Lock file is not empty', attr: { lockFile: directory.lockPath } });
  }
  try {
    if (directory.storeNeedsCheck) DurableStore.check(directory.storePath);
    // mongod fasserts on a write error of its storage engine; a server whose store cannot take
    // the writes it acknowledged must not go on acknowledging more.
    const store = DurableStore.open(directory.storePath, (err) => {
      log.error({ c: 'STORAGE', id: 22435, ctx: 'storage', msg: 'Storage error: the data file could not be written; shutting down', attr: { error: err.message, dbPath } });
      shutDown();
    });
    return { directory, store };
  } catch (err) {
    directory.release(false);
    throw err;
  }
}

/** Fills the new server's catalog from the store, and says what it found. */
function loadStorage(storage: OpenStorage, services: Services): void {
  const started = services.clock.now();
  const { collections, documents } = storage.store.load(services.catalog);
  loadAuth(services);
  loadSessions(services);
  services.log.info({
    c: 'STORAGE',
    id: 22315,
    ctx: 'initandlisten',
    msg: 'Opening the durable store',
    attr: { dbPath: storage.directory.path, collections, documents, durationMillis: services.clock.now() - started, uncleanShutdown: storage.directory.uncleanShutdown },
  });
}

async function closeStorage(storage: OpenStorage | undefined): Promise<void> {
  if (storage === undefined) return;
  await storage.store.close();
  storage.directory.release(true);
}

/** What each snapshot holds, out of its public type. */
const snapshotCatalogs = new WeakMap<DataSnapshot, Catalog>();

/** The data of a server at one moment (PocketMongo.snapshot), to restore it later. */
export class DataSnapshot {
  /** When it was taken (ms, the server's clock). */
  readonly takenAt: number;

  private constructor(catalog: Catalog, takenAt: number) {
    this.takenAt = takenAt;
    snapshotCatalogs.set(this, catalog);
  }

  /** @internal */
  static of(catalog: Catalog, takenAt: number): DataSnapshot {
    return new DataSnapshot(catalog, takenAt);
  }
}

/** A running server. Several may run in one process; they share nothing. */
export class PocketMongo {
  private stopping: Promise<void> | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  private constructor(
    private readonly wiring: Wiring,
    private readonly listener: Listener,
    private readonly host: string,
    private readonly storage: OpenStorage | undefined,
  ) {
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Starts a server; resolves once it is listening. */
  static async start(options: ServerOptions = {}): Promise<PocketMongo> {
    const bindIps = resolveBindIps(options);
    const params = new Parameters(options.setParameter ?? {});
    const log = new Log({
      logpath: options.logpath,
      logappend: options.logappend,
      toStdout: options.logToStdout,
      quiet: options.quiet || params.bool('quiet'),
    });
    log.setVerbosity(params.int('logLevel'));
    const clock = options.clock ?? systemClock;
    let server: PocketMongo | undefined;
    let storage: OpenStorage | undefined;
    try {
      storage = options.dbPath === undefined ? undefined : openStorage(options.dbPath, log, () => void server?.stop());
    } catch (err) {
      const error = err instanceof MongoError ? `${err.codeName}: ${err.message}` : String(err);
      log.error({ c: 'STORAGE', id: 20557, ctx: 'initandlisten', msg: 'DBException in initAndListen, terminating', attr: { error } });
      throw err;
    }
    const wiring = wireServices(params, log, clock, {
      durable: storage?.store,
      cmdLine: { argv: options.argv ?? ['pocketmongo'], parsed: parsedOptions(options, bindIps) },
      slowms: options.slowms ?? DEFAULT_SLOW_MS,
      requestShutdown: () => void server?.stop(),
      auth: { enabled: options.auth ?? false, transitionToAuth: options.transitionToAuth ?? false },
      ...(options.replSet === undefined
        ? {}
        : { replSet: { name: options.replSet, oplogBytes: options.oplogSize === undefined ? defaultOplogBytes(totalmem()) : options.oplogSize * 1024 * 1024 } }),
    });
    const context = wiring.services;
    if (storage !== undefined) loadStorage(storage, context);
    for (const u of options.users ?? []) {
      const db = u.db ?? 'admin';
      // A user kept from an earlier run with --dbpath stays as it is (the official image's
      // MONGO_INITDB_ROOT_* likewise only act on an empty data directory).
      if (context.auth.users.find(db, u.user) !== undefined) continue;
      context.auth.users.create(
        {
          user: u.user,
          db,
          pwd: u.pwd,
          roles: (u.roles ?? [{ role: 'root', db: 'admin' }]).map((r) => (typeof r === 'string' ? { role: r, db } : { role: r.role, db: r.db })),
        },
        { scramIterationCount: params.int('scramIterationCount'), scramSHA256IterationCount: params.int('scramSHA256IterationCount') },
      );
    }
    saveAuthIfChanged(context);
    params.onChange((name, value) => {
      if (name === 'logLevel') log.setVerbosity(value as number);
      if (name === 'quiet') log.quiet = value as boolean;
    });
    const maxConns = options.maxConns ?? DEFAULT_MAX_CONNS;
    log.info({
      c: 'CONTROL',
      id: 4615611,
      ctx: 'initandlisten',
      msg: 'MongoDB starting',
      attr: { pid: process.pid, port: options.port ?? DEFAULT_PORT, version: SERVER_VERSION, pocketmongo: PACKAGE_VERSION },
    });
    if (!options.auth) log.startupWarning({
      c: 'CONTROL',
      id: 22120,
      ctx: 'initandlisten',
      msg: 'Access control is not enabled for the database. Read and write access to data and configuration is unrestricted',
      attr: { tags: ['startupWarnings'] },
    });
    if (params.bool('enableTestCommands')) {
      log.startupWarning({
        c: 'CONTROL',
        id: 20535,
        ctx: 'initandlisten',
        msg: 'Test commands are enabled',
      });
    }
    const listener = new Listener(context, { port: options.port ?? DEFAULT_PORT, bindIps, maxConns });
    try {
      await listener.start();
    } catch (err) {
      await listener.stop();
      await closeStorage(storage);
      throw err;
    }
    context.process.listen = { port: listener.port, bindIps, maxConns, ipv6: options.ipv6 ?? false };
    log.info({
      c: 'NETWORK',
      id: 23016,
      ctx: 'listener',
      msg: 'Waiting for connections',
      attr: { port: listener.port, ssl: 'off' },
    });
    const host = bindIps[0] === '0.0.0.0' || bindIps[0] === '::' ? '127.0.0.1' : bindIps[0]!;
    const hostName = host.includes(':') ? `[${host}]` : host;
    // The one address the set names as its member (hosts, me, primary): clients must dial it.
    if (context.replication !== undefined) context.replication.me = `${hostName}:${listener.port}`;
    server = new PocketMongo(wiring, listener, hostName, storage);
    return server;
  }

  /** The server's services (for tests and tools that look inside; the wire is the public door). */
  get services(): Services {
    return this.wiring.services;
  }

  get port(): number {
    return this.listener.port;
  }

  /** A connection string for this server (naming the replica set in replica-set mode). */
  get uri(): string {
    const rs = this.wiring.services.replication;
    return `mongodb://${this.host}:${this.port}/${rs === undefined ? '' : `?replicaSet=${encodeURIComponent(rs.setName)}`}`;
  }

  /**
   * A snapshot of every database's data (collections with their documents, indexes and options;
   * views, kept in system.views), taken in O(number of collections): the collections are
   * copy-on-write clones, so later writes copy only what they change. Users, roles, sessions and
   * cursors are not part of it.
   */
  snapshot(): DataSnapshot {
    const services = this.wiring.services;
    return DataSnapshot.of(services.catalog.clone(), services.clock.now());
  }

  /**
   * Puts the data back as `snapshot` holds it (it can be restored again later): open
   * transactions are aborted; cursors already open go on reading what they read. In memory this
   * costs O(number of collections); with --dbpath the store is rewritten to match (O(documents)).
   * Not an operation mongod has, so it leaves no oplog entry: change streams do not see it.
   */
  restore(snapshot: DataSnapshot): void {
    const services = this.wiring.services;
    services.transactions.abortAll();
    const oplog = services.replication?.oplog;
    if (oplog !== undefined) oplog.quiet += 1;
    try {
      services.catalog.replaceWith(snapshotCatalogs.get(snapshot)!);
    } finally {
      if (oplog !== undefined) oplog.quiet -= 1;
    }
  }

  /** Resolves when the server has stopped (by stop(), the shutdown command, or a signal). */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Graceful stop: refuse new work, release waiting hellos, close every connection. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const context = this.wiring.services;
      context.log.info({ c: 'CONTROL', id: 4784901, ctx: 'SignalHandler', msg: 'Shutdown started' });
      context.process.shuttingDown = true;
      context.topology.change();
      this.wiring.stopJobs();
      await this.listener.stop();
      if (this.storage !== undefined) {
        context.log.info({ c: 'STORAGE', id: 4784930, ctx: 'SignalHandler', msg: 'Shutting down the storage engine' });
        await closeStorage(this.storage);
        context.log.info({ c: 'STORAGE', id: 22279, ctx: 'SignalHandler', msg: 'shutdown: removing fs lock...' });
      }
      context.log.info({ c: 'CONTROL', id: 20565, ctx: 'SignalHandler', msg: 'Now exiting' });
      this.resolveClosed();
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
