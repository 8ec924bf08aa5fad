import type { Clock } from '../clock.js';

/** Everything a server can be started with; the CLI maps mongod's flags onto these. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 27017. */
  port?: number;
  /** Addresses to listen on (mongod's --bind_ip, a comma list or an array). Default 127.0.0.1. */
  bindIp?: string | readonly string[];
  /** Listen on every interface (--bind_ip_all). */
  bindIpAll?: boolean;
  /** Allow IPv6 addresses (--ipv6); with bindIpAll also listens on `::`. */
  ipv6?: boolean;
  /** Most concurrent connections (--maxConns). Default 1,000,000. */
  maxConns?: number;
  /** Enforce authentication and authorization (--auth). */
  auth?: boolean;
  /** Accept authenticated and unauthenticated clients alike while moving to auth (--transitionToAuth). */
  transitionToAuth?: boolean;
  /**
   * Users created at start (no localhost exception needed). The CLI's --initUser user:password and
   * the POCKETMONGO_INITDB_ROOT_USERNAME/_PASSWORD variables become a root user on admin.
   */
  users?: readonly InitialUser[];
  /** --setParameter name=value pairs (values as strings from the CLI, or typed values). */
  setParameter?: Readonly<Record<string, unknown>>;
  /** Less logging: no connection accepted/ended lines (--quiet). */
  quiet?: boolean;
  /** Log to this file instead of stdout (--logpath). */
  logpath?: string;
  /** Append to --logpath rather than rotating the old file away (--logappend). */
  logappend?: boolean;
  /** Where log lines go when no logpath is given: stdout (CLI default) or nowhere (embedded default). */
  logToStdout?: boolean;
  /** Operations slower than this many ms are logged (--slowms). Default 100. */
  slowms?: number;
  /**
   * Keep data in this directory across restarts (--dbpath). It must exist; one server at a time
   * holds it. Without it, data lives in memory only.
   */
  dbPath?: string;
  /**
   * Run as a one-member replica set of this name (--replSet), primary at once: hello names the
   * set, replies carry cluster time, writes go to the oplog, and retryable writes work.
   */
  replSet?: string;
  /** The oplog's size in megabytes (--oplogSize). Default: 5 % of memory, 50 MB at least. */
  oplogSize?: number;
  /** The time source; tests inject a VirtualClock. */
  clock?: Clock;
  /** The command line as given, reported by getCmdLineOpts. */
  argv?: readonly string[];
}

export interface InitialUser {
  user: string;
  pwd: string;
  /** Default 'admin'. */
  db?: string;
  /** Role names on `db`, or {role, db}. Default: root on admin. */
  roles?: ReadonlyArray<string | { role: string; db: string }>;
}

export const DEFAULT_PORT = 27017;
export const DEFAULT_MAX_CONNS = 1_000_000;
export const DEFAULT_SLOW_MS = 100;
