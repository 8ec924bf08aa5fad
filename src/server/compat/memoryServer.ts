/**
 * A drop-in for mongodb-memory-server's `MongoMemoryServer`: a suite that used it changes only its
 * import line (`from 'mongodb-memory-server'` → `from 'pocketmongo/memory-server'`).
 *
 * The API surface is the one of mongodb-memory-server-core 8–10 (`MongoMemoryServer.ts`) that suites
 * actually call: `create`, `start`, `getUri`, `stop`, `cleanup`, `ensureInstance`, `state`,
 * `instanceInfo`, the `stateChange` event, the `opts.instance` options that make sense for an
 * in-process server, and automatic auth (`opts.auth`). Instead of spawning a downloaded mongod it
 * runs a `PocketMongo` in this process.
 *
 * Options that cannot be honoured are refused with an error rather than silently taking another
 * meaning (mongod `args` pocketmongo does not know). `instance.replSet` starts the server as a
 * one-member set that is primary at once (MongoMemoryReplSet uses it). Options
 * about the binary or the child process (`opts.binary`, `opts.spawn`, `instance.launchTimeout`,
 * `instance.keyfileLocation`, `auth.keyfileContent`, `auth.force`, the `MONGOMS_*` environment
 * variables) are accepted and ignored: there is no binary to download and no process to spawn.
 *
 * Storage is in memory (reported as mongod's `ephemeralForTest` engine) unless the instance asks
 * for disk as mongodb-memory-server users do: `instance.dbPath` keeps the data in that directory
 * (never removed by `cleanup`), and `storageEngine: 'wiredTiger'` without a dbPath keeps it in a
 * temporary directory (`instanceInfo.tmpDir`) that survives `stop({doCleanup: false})` and a
 * restart, and is removed by `cleanup`, as mongodb-memory-server removes its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { buildProgram } from '../cli.js';
import type { InitialUser, ServerOptions } from '../options.js';
import { PocketMongo } from '../pocketMongo.js';

/** mongodb-memory-server's states, same names and values. */
export enum MongoMemoryServerStates {
  new = 'new',
  starting = 'starting',
  running = 'running',
  stopped = 'stopped',
}

/** mongodb-memory-server's events, same names. */
export enum MongoMemoryServerEvents {
  stateChange = 'stateChange',
}

export type StorageEngine = 'ephemeralForTest' | 'wiredTiger';

/** `opts.instance` (mongodb-memory-server's MongoMemoryInstanceOpts). */
export interface MongoMemoryInstanceOpts {
  /** Preferred port; if it is taken another free one is used (unless `portGeneration: false`). Default: a free port. */
  port?: number;
  /** Address(es) to listen on, a comma list as mongod's --bind_ip (`'::,0.0.0.0'` binds everything). Default '127.0.0.1'. */
  ip?: string;
  /** Reported in `instanceInfo.dbName`; as in mongodb-memory-server it is NOT added to `getUri()`. */
  dbName?: string;
  /** Keep the data in this existing directory (pocketmongo's --dbpath); it is never removed. */
  dbPath?: string;
  /** 'wiredTiger' keeps the data on disk (in a temporary directory unless dbPath is given); default in memory. */
  storageEngine?: StorageEngine;
  /** Run as a one-member replica set of this name, primary at once (pocketmongo's --replSet). */
  replSet?: string;
  /**
   * Extra mongod arguments. Those pocketmongo knows are applied (`--setParameter name=value`,
   * `--maxConns`, `--slowms`, `--quiet`, `--ipv6`, `--auth`, `--transitionToAuth`); any other is refused.
   */
  args?: string[];
  /** mongodb-memory-server 8's way to enable auth (9+ ignores it in favour of `auth.enable`); honoured here. */
  auth?: boolean;
  /** With `false`, a taken `port` is an error instead of moving to a free port. Default true. */
  portGeneration?: boolean;
  /** Ignored: nothing is launched. */
  launchTimeout?: number;
  /** Ignored: only used for replica sets. */
  keyfileLocation?: string;
}

/** mongodb-memory-server's CreateUser (an extra user for automatic auth). */
export interface CreateUser {
  createUser: string;
  pwd: string;
  roles: ({ role: string; db: string } | string)[];
  /** Database the user is created in. Default 'admin'. */
  database?: string;
  /** Accepted, not stored. */
  customData?: Record<string, unknown>;
  /** Accepted: pocketmongo stores both SCRAM-SHA-1 and SCRAM-SHA-256 credentials. */
  mechanisms?: ('SCRAM-SHA-1' | 'SCRAM-SHA-256')[];
  /** Refused when non-empty: pocketmongo does not enforce authentication restrictions. */
  authenticationRestrictions?: { clientSource?: string; serverAddress?: string }[];
  /** Accepted and ignored: the server always digests the password. */
  digestPassword?: boolean;
}

/** `opts.auth` (mongodb-memory-server's AutomaticAuth). */
export interface AutomaticAuth {
  /** mongodb-memory-server 9+: turn auth on and create the users. Default false. */
  enable?: boolean;
  /** mongodb-memory-server 8: with `instance.auth: true`, `disable: true` skips creating the users. */
  disable?: boolean;
  /** Default 'mongodb-memory-server-root' (root on admin). */
  customRootName?: string;
  /** Default 'rootuser'. */
  customRootPwd?: string;
  extraUsers?: CreateUser[];
  /** Ignored: users are created at every start. */
  force?: boolean;
  /** Ignored: only used for replica sets. */
  keyfileContent?: string;
}

export interface MongoMemoryServerOpts {
  instance?: MongoMemoryInstanceOpts;
  /** Ignored: there is no mongod binary (the server always reports version 7.0). */
  binary?: Record<string, unknown>;
  /** Ignored: there is no child process. */
  spawn?: Record<string, unknown>;
  auth?: AutomaticAuth;
}

/** mongodb-memory-server's Cleanup options for `stop` and `cleanup`. */
export interface Cleanup {
  /** Default true. */
  doCleanup?: boolean;
  /** Accepted: a user's dbPath is never removed, the temporary directory always is. */
  force?: boolean;
}

/** `instanceInfo`: what mongodb-memory-server reports, minus the child process. */
export interface MongoInstanceData {
  port: number;
  ip: string;
  dbName: string;
  /** Where the data is kept on disk (instance.dbPath or tmpDir); undefined in memory. */
  dbPath: string | undefined;
  storageEngine: StorageEngine;
  /** The replica set's name, when it runs as one. */
  replSet: string | undefined;
  /** The temporary data directory of a wiredTiger instance without a dbPath. */
  tmpDir: string | undefined;
}

/** Thrown when a method is called in a state that does not allow it (mongodb-memory-server's StateError). */
export class StateError extends Error {
  constructor(
    /** MongoMemoryServerStates, or MongoMemoryReplSetStates for a set. */
    readonly wantedStates: readonly string[],
    readonly gotState: string,
  ) {
    super(`Incorrect State for operation: "${gotState}", allowed States: "[${wantedStates.join(',')}]"`);
    this.name = 'StateError';
  }
}

const DEFAULT_ROOT_NAME = 'mongodb-memory-server-root';
const DEFAULT_ROOT_PWD = 'rootuser';
const PORT_RETRIES = 5;

/** The mongod arguments pocketmongo understands, parsed with the CLI's own flag table. */
function optionsFromArgs(args: readonly string[]): Partial<ServerOptions> {
  if (args.length === 0) return {};
  const program = buildProgram()
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    program.parse([...args], { from: 'user' });
  } catch (err) {
    throw new Error(`MongoMemoryServer: instance.args ${JSON.stringify(args)} are not supported by pocketmongo: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const opts = program.opts();
  const explicit = (name: string) => program.getOptionValueSource(name) === 'cli';
  const refused = ['port', 'bind_ip', 'bind_ip_all', 'initUser', 'logpath', 'logappend'].filter(explicit);
  if (refused.length > 0) {
    throw new Error(
      `MongoMemoryServer: instance.args may not set --${refused.join(', --')}; use instance.port, instance.ip or opts.auth instead`,
    );
  }
  const out: Partial<ServerOptions> = {};
  if (explicit('setParameter')) out.setParameter = opts.setParameter as Record<string, string>;
  if (explicit('maxConns')) out.maxConns = opts.maxConns as number;
  if (explicit('slowms')) out.slowms = opts.slowms as number;
  if (opts.quiet === true) out.quiet = true;
  if (opts.ipv6 === true) out.ipv6 = true;
  if (opts.auth === true) out.auth = true;
  if (opts.transitionToAuth === true) out.transitionToAuth = true;
  return out;
}

function toInitialUser(u: CreateUser): InitialUser {
  if (u.authenticationRestrictions !== undefined && u.authenticationRestrictions.length > 0) {
    throw new Error(`MongoMemoryServer: authenticationRestrictions (user "${u.createUser}") are not supported by pocketmongo`);
  }
  return { user: u.createUser, pwd: u.pwd, db: u.database ?? 'admin', roles: u.roles };
}

function isAddressInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}

/** mongodb-memory-server's MongoMemoryServer, backed by an in-process PocketMongo. */
export class MongoMemoryServer extends EventEmitter {
  /** The options given to the constructor (mongodb-memory-server lets them be changed while stopped). */
  opts: MongoMemoryServerOpts;
  protected _state: MongoMemoryServerStates = MongoMemoryServerStates.new;
  protected _instanceInfo: MongoInstanceData | undefined;
  private _server: PocketMongo | undefined;
  /** The temporary data directory this instance made (storageEngine 'wiredTiger' without a dbPath). */
  private _tmpDir: string | undefined;
  private _host = '127.0.0.1';

  constructor(opts?: MongoMemoryServerOpts) {
    super();
    this.opts = { ...opts };
  }

  /** Creates an instance and starts it. */
  static async create(opts?: MongoMemoryServerOpts): Promise<MongoMemoryServer> {
    const instance = new MongoMemoryServer({ ...opts });
    await instance.start();
    return instance;
  }

  get state(): MongoMemoryServerStates {
    return this._state;
  }

  /** Information about the instance; undefined before the first start and after cleanup. */
  get instanceInfo(): MongoInstanceData | undefined {
    return this._instanceInfo;
  }

  /** The PocketMongo behind this instance while it runs (not part of mongodb-memory-server's API). */
  get server(): PocketMongo | undefined {
    return this._server;
  }

  protected stateChange(newState: MongoMemoryServerStates): void {
    this._state = newState;
    this.emit(MongoMemoryServerEvents.stateChange, newState);
  }

  /**
   * Starts (or restarts after `stop`) the server.
   * @param forceSamePort on a restart, fail rather than move if the previous port is taken
   * @throws StateError if it is already starting or running
   */
  async start(forceSamePort = false): Promise<void> {
    if (this._state !== MongoMemoryServerStates.new && this._state !== MongoMemoryServerStates.stopped) {
      throw new StateError([MongoMemoryServerStates.new, MongoMemoryServerStates.stopped], this._state);
    }
    this.stateChange(MongoMemoryServerStates.starting);
    try {
      await this.startUp(forceSamePort);
    } catch (err) {
      this.stateChange(MongoMemoryServerStates.stopped);
      throw err;
    }
    this.stateChange(MongoMemoryServerStates.running);
  }

  private serverOptions(): { options: ServerOptions; ip: string } {
    const inst = this.opts.instance ?? {};
    const ip = inst.ip ?? '127.0.0.1';
    const fromArgs = optionsFromArgs(inst.args ?? []);
    const auth = this.opts.auth;
    // mongodb-memory-server 9+: auth.enable; 8: instance.auth (users created unless auth.disable or no auth object).
    const authOn = auth?.enable === true || inst.auth === true || fromArgs.auth === true;
    const createUsers = auth !== undefined && (auth.enable === true || (inst.auth === true && auth.disable !== true));
    const users: InitialUser[] = [];
    if (authOn && createUsers) {
      users.push({ user: auth.customRootName ?? DEFAULT_ROOT_NAME, pwd: auth.customRootPwd ?? DEFAULT_ROOT_PWD, db: 'admin', roles: ['root'] });
      for (const u of auth.extraUsers ?? []) users.push(toInitialUser(u));
    }
    if (inst.dbPath === undefined && inst.storageEngine === 'wiredTiger') this._tmpDir ??= mkdtempSync(join(tmpdir(), 'mongo-mem-'));
    const dbPath = inst.dbPath ?? this._tmpDir;
    const options: ServerOptions = {
      ...fromArgs,
      ...(dbPath === undefined ? {} : { dbPath }),
      ...(inst.replSet === undefined ? {} : { replSet: inst.replSet }),
      bindIp: ip,
      ipv6: fromArgs.ipv6 === true || ip.includes(':'),
      auth: authOn,
      users,
      argv: ['pocketmongo', '--port', '<port>', '--bind_ip', ip, ...(authOn ? ['--auth'] : []), ...(inst.replSet === undefined ? [] : ['--replSet', inst.replSet]), ...(inst.args ?? [])],
    };
    return { options, ip };
  }

  private async startUp(forceSamePort: boolean): Promise<void> {
    const inst = this.opts.instance ?? {};
    const { options, ip } = this.serverOptions();
    // The port to try first: the previous one on a restart, else the configured one, else any free one.
    const preferred = this._instanceInfo?.port ?? inst.port ?? 0;
    const strict = forceSamePort || inst.portGeneration === false;
    let server: PocketMongo | undefined;
    for (let attempt = 0; server === undefined; attempt += 1) {
      const port = attempt === 0 ? preferred : 0;
      try {
        server = await PocketMongo.start({ ...options, port });
      } catch (err) {
        // A taken preferred port moves to a free one, as mongodb-memory-server's get-port does; port 0
        // can still collide when several addresses are bound, so that is retried a few times.
        if (!isAddressInUse(err) || (port !== 0 && strict) || attempt >= PORT_RETRIES) throw err;
      }
    }
    this._server = server;
    this._host = new URL(server.uri).hostname;
    this._instanceInfo = {
      port: server.port,
      ip,
      dbName: inst.dbName ?? '',
      dbPath: options.dbPath,
      storageEngine: options.dbPath === undefined ? 'ephemeralForTest' : 'wiredTiger',
      replSet: inst.replSet,
      tmpDir: this._tmpDir,
    };
  }

  /**
   * Resolves with `instanceInfo` once running: starts a new or stopped instance, waits for a
   * starting one.
   */
  async ensureInstance(): Promise<MongoInstanceData> {
    switch (this._state) {
      case MongoMemoryServerStates.running:
        if (this._instanceInfo !== undefined) return this._instanceInfo;
        throw new Error('MongoMemoryServer: running but instanceInfo is undefined');
      case MongoMemoryServerStates.starting:
        return new Promise((resolve, reject) => {
          this.once(MongoMemoryServerEvents.stateChange, (state: MongoMemoryServerStates) => {
            if (state === MongoMemoryServerStates.running && this._instanceInfo !== undefined) resolve(this._instanceInfo);
            else reject(new Error(`"ensureInstance" waited for "running" but got a different state: "${state}"`));
          });
        });
      default:
        await this.start();
        if (this._instanceInfo === undefined) throw new Error('MongoMemoryServer: started but instanceInfo is undefined');
        return this._instanceInfo;
    }
  }

  /**
   * 'mongodb://127.0.0.1:<port>/' plus `otherDb` when given (in mongoose the default database).
   * As in mongodb-memory-server, `instance.dbName` is not added and no credentials are included.
   * @param otherIp a host to put in the URI instead of the listening address
   * @throws StateError unless running
   */
  getUri(otherDb?: string, otherIp?: string): string {
    if (this._state !== MongoMemoryServerStates.running && this._state !== MongoMemoryServerStates.starting) {
      throw new StateError([MongoMemoryServerStates.running, MongoMemoryServerStates.starting], this._state);
    }
    if (this._server === undefined || this._instanceInfo === undefined) throw new Error('"instanceInfo" is undefined');
    const host = otherIp ?? (this._host.includes(':') ? `[${this._host.replace(/^\[|\]$/g, '')}]` : this._host);
    return `mongodb://${host}:${this._instanceInfo.port}/${otherDb ?? ''}`;
  }

  /**
   * Stops the server (closing every connection). By default also runs `cleanup` (state back to
   * 'new', `instanceInfo` undefined); `{ doCleanup: false }` (or `false`, mongodb-memory-server 8)
   * keeps `instanceInfo` so that `start()` reuses the port (and, on disk, the data).
   * @returns false if it was never started or is already stopped, else true
   */
  async stop(cleanupOptions?: boolean | Cleanup): Promise<boolean> {
    const cleanup: Required<Cleanup> =
      typeof cleanupOptions === 'boolean'
        ? { doCleanup: cleanupOptions, force: false }
        : { doCleanup: true, force: false, ...cleanupOptions };
    if (this._server === undefined || this._state === MongoMemoryServerStates.stopped) return false;
    const server = this._server;
    this._server = undefined;
    await server.stop();
    this.stateChange(MongoMemoryServerStates.stopped);
    if (cleanup.doCleanup) await this.cleanup(cleanup);
    return true;
  }

  /**
   * Forgets the stopped instance: state back to 'new', `instanceInfo` undefined, the temporary
   * data directory removed. A no-op on a 'new' instance.
   * @throws StateError while starting or running
   */
  async cleanup(options?: boolean | Cleanup): Promise<void> {
    if (this._state === MongoMemoryServerStates.new) return;
    if (this._state !== MongoMemoryServerStates.stopped) {
      throw new StateError([MongoMemoryServerStates.stopped], this._state);
    }
    const doCleanup = typeof options === 'boolean' ? true : (options?.doCleanup ?? true);
    if (!doCleanup) return;
    if (this._tmpDir !== undefined) rmSync(this._tmpDir, { recursive: true, force: true });
    this._tmpDir = undefined;
    this._instanceInfo = undefined;
    this.stateChange(MongoMemoryServerStates.new);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this._state === MongoMemoryServerStates.running) await this.stop({ doCleanup: true, force: true });
  }
}

export default MongoMemoryServer;
