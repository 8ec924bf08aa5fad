/**
 * A drop-in for mongodb-memory-server's `MongoMemoryReplSet` (mongodb-memory-server-core 8–10):
 * `create`, `start`, `getUri`, `stop`, `cleanup`, `waitUntilRunning`, `state`, `servers` and the
 * `stateChange` event. The set is one pocketmongo member started with `replSet` (primary at once,
 * so there is no election to wait for); transactions' and retryable writes' clients connect with
 * `getUri()`, which names the set as mongodb-memory-server's does.
 *
 * A set of several members cannot be honoured (`replSet.count` above 1, or more than one
 * `instanceOpts`) and is refused with an error rather than run as one member.
 */
import { EventEmitter } from 'node:events';
import { MongoMemoryServer, StateError, type AutomaticAuth, type Cleanup, type MongoMemoryInstanceOpts, type StorageEngine } from './memoryServer.js';

/** mongodb-memory-server's MongoMemoryReplSetStates, same names and values. */
export enum MongoMemoryReplSetStates {
  init = 'init',
  running = 'running',
  stopped = 'stopped',
}

/** mongodb-memory-server's MongoMemoryReplSetEvents. */
export enum MongoMemoryReplSetEvents {
  stateChange = 'stateChange',
}

/** `opts.replSet` (mongodb-memory-server's ReplSetOpts). */
export interface ReplSetOpts {
  /** `true` or mongodb-memory-server's AutomaticAuth: auth enforced, the root user (and extra users) created. */
  auth?: boolean | AutomaticAuth;
  /** mongod arguments for every member (those pocketmongo knows; see MongoMemoryServer). */
  args?: string[];
  /** Members; only 1 is possible. Default 1. */
  count?: number;
  /** Added to getUri() (the auth database for the driver, the default database for mongoose). Default ''. */
  dbName?: string;
  /** Default '127.0.0.1'. */
  ip?: string;
  /** The set's name. Default 'testset'. */
  name?: string;
  /** Ignored: there is no child process. */
  spawn?: Record<string, unknown>;
  /** Default 'ephemeralForTest' (in memory). */
  storageEngine?: StorageEngine;
  /** Accepted and ignored: one member has no heartbeats or elections to tune. */
  configSettings?: Record<string, unknown>;
}

/** Options for one member (mongodb-memory-server's MongoMemoryInstanceOptsBase). */
export type ReplSetInstanceOpts = Pick<MongoMemoryInstanceOpts, 'port' | 'dbPath' | 'storageEngine' | 'args' | 'launchTimeout'>;

export interface MongoMemoryReplSetOpts {
  instanceOpts: ReplSetInstanceOpts[];
  /** Ignored: there is no mongod binary. */
  binary: Record<string, unknown>;
  replSet: ReplSetOpts;
}

export class MongoMemoryReplSet extends EventEmitter {
  /** The members: one MongoMemoryServer started with the set's name. */
  servers: MongoMemoryServer[] = [];
  readonly instanceOpts: ReplSetInstanceOpts[];
  readonly binaryOpts: Record<string, unknown>;
  readonly replSetOpts: Required<Omit<ReplSetOpts, 'auth'>> & { auth: AutomaticAuth };
  protected _state: MongoMemoryReplSetStates = MongoMemoryReplSetStates.stopped;

  constructor(opts: Partial<MongoMemoryReplSetOpts> = {}) {
    super();
    this.instanceOpts = opts.instanceOpts ?? [];
    this.binaryOpts = { ...opts.binary };
    const given = opts.replSet ?? {};
    const count = given.count ?? 1;
    if (count < 1) throw new Error(`ReplSet Count needs to be 1 or higher! (specified count: "${count}")`);
    if (count > 1 || this.instanceOpts.length > 1) {
      throw new Error('MongoMemoryReplSet: pocketmongo runs one-member replica sets; replSet.count and instanceOpts may name one member only');
    }
    this.replSetOpts = {
      args: given.args ?? [],
      count,
      dbName: given.dbName ?? '',
      ip: given.ip ?? '127.0.0.1',
      name: given.name ?? 'testset',
      spawn: given.spawn ?? {},
      storageEngine: given.storageEngine ?? 'ephemeralForTest',
      configSettings: given.configSettings ?? {},
      auth: typeof given.auth === 'boolean' ? { enable: given.auth } : (given.auth ?? { enable: false }),
    };
  }

  /** Creates a set and starts it. */
  static async create(opts?: Partial<MongoMemoryReplSetOpts>): Promise<MongoMemoryReplSet> {
    const replSet = new MongoMemoryReplSet({ ...opts });
    await replSet.start();
    return replSet;
  }

  get state(): MongoMemoryReplSetStates {
    return this._state;
  }

  protected stateChange(newState: MongoMemoryReplSetStates): void {
    this._state = newState;
    this.emit(MongoMemoryReplSetEvents.stateChange, newState);
  }

  /**
   * Starts the member (again after `stop({ doCleanup: false })`, on its port and data).
   * @throws StateError unless stopped
   */
  async start(): Promise<void> {
    if (this._state !== MongoMemoryReplSetStates.stopped) throw new StateError([MongoMemoryReplSetStates.stopped], this._state);
    this.stateChange(MongoMemoryReplSetStates.init);
    try {
      if (this.servers.length === 0) this.servers.push(new MongoMemoryServer({ instance: this.memberOpts(), auth: this.replSetOpts.auth }));
      await Promise.all(this.servers.map((server) => server.start(true)));
    } catch (err) {
      await this.stop({ doCleanup: false });
      this.stateChange(MongoMemoryReplSetStates.stopped);
      throw err;
    }
    this.stateChange(MongoMemoryReplSetStates.running);
  }

  private memberOpts(): MongoMemoryInstanceOpts {
    const base = this.instanceOpts[0] ?? {};
    const opts: MongoMemoryInstanceOpts = {
      args: [...this.replSetOpts.args, ...(base.args ?? [])],
      dbName: this.replSetOpts.dbName,
      ip: this.replSetOpts.ip,
      replSet: this.replSetOpts.name,
      storageEngine: base.storageEngine ?? this.replSetOpts.storageEngine,
    };
    if (base.port !== undefined) opts.port = base.port;
    if (base.dbPath !== undefined) opts.dbPath = base.dbPath;
    return opts;
  }

  /**
   * 'mongodb://127.0.0.1:<port>/<otherDb>?replicaSet=<name>', as mongodb-memory-server builds it.
   * @throws StateError unless running or starting
   */
  getUri(otherDb?: string, otherIp?: string): string {
    if (this._state !== MongoMemoryReplSetStates.running && this._state !== MongoMemoryReplSetStates.init) {
      throw new StateError([MongoMemoryReplSetStates.running, MongoMemoryReplSetStates.init], this._state);
    }
    const hosts = this.servers.map((server) => {
      const port = server.instanceInfo?.port;
      if (port === undefined) throw new Error('Instance Port is undefined!');
      return `${otherIp ?? '127.0.0.1'}:${port}`;
    });
    return `mongodb://${hosts.join(',')}/${otherDb ?? ''}?replicaSet=${this.replSetOpts.name}`;
  }

  /** Resolves once the set is running (at once when it is); rejects if a start fails. */
  async waitUntilRunning(): Promise<void> {
    if (this._state === MongoMemoryReplSetStates.running) return;
    if (this._state === MongoMemoryReplSetStates.stopped) throw new StateError([MongoMemoryReplSetStates.running, MongoMemoryReplSetStates.init], this._state);
    await new Promise<void>((resolve, reject) => {
      const onChange = (state: MongoMemoryReplSetStates) => {
        if (state === MongoMemoryReplSetStates.init) return;
        this.off(MongoMemoryReplSetEvents.stateChange, onChange);
        if (state === MongoMemoryReplSetStates.running) resolve();
        else reject(new Error(`"waitUntilRunning" waited for "running" but got "${state}"`));
      };
      this.on(MongoMemoryReplSetEvents.stateChange, onChange);
    });
  }

  /**
   * Stops the member; by default also cleans up (the temporary data directory, and the members
   * are forgotten). `{ doCleanup: false }` keeps them for `start()`.
   * @returns false when already stopped
   */
  async stop(cleanupOptions?: boolean | Cleanup): Promise<boolean> {
    const cleanup: Required<Cleanup> =
      typeof cleanupOptions === 'boolean' ? { doCleanup: cleanupOptions, force: false } : { doCleanup: true, force: false, ...cleanupOptions };
    if (this._state === MongoMemoryReplSetStates.stopped && this.servers.every((server) => server.state !== 'running')) return false;
    await Promise.all(this.servers.map((server) => server.stop({ doCleanup: false })));
    this.stateChange(MongoMemoryReplSetStates.stopped);
    if (cleanup.doCleanup) await this.cleanup(cleanup);
    return true;
  }

  /**
   * Removes what the stopped members kept and forgets them.
   * @throws StateError unless stopped
   */
  async cleanup(options?: boolean | Cleanup): Promise<void> {
    if (this._state !== MongoMemoryReplSetStates.stopped) throw new StateError([MongoMemoryReplSetStates.stopped], this._state);
    const doCleanup = typeof options === 'boolean' ? options : (options?.doCleanup ?? true);
    if (!doCleanup) return;
    await Promise.all(this.servers.map((server) => server.cleanup({ doCleanup: true, force: options !== undefined && typeof options !== 'boolean' && options.force === true })));
    this.servers = [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this._state === MongoMemoryReplSetStates.running) await this.stop({ doCleanup: true, force: true });
  }
}

export default MongoMemoryReplSet;
