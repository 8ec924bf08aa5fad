import type { Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import type { ConnectionState } from '../net/connectionState.js';
import type { ServerContext } from '../serverContext.js';
import type { LogicalSessionId } from '../sessions/logicalSessionId.js';
import type { WireRequest } from '../wire/request.js';

/** What a handler gets: the command, where it came from, and the server. Never sockets or bytes. */
export interface CommandContext {
  readonly server: ServerContext;
  readonly connection: ConnectionState;
  readonly request: WireRequest;
  /** The command document (kind-1 sequences merged in). */
  readonly body: Document;
  /** The database the command runs against (`$db`). */
  readonly db: string;
  /** The command's name as sent (its first field), e.g. `isMaster` rather than `hello`. */
  readonly name: string;
  /** The session the command runs in (its lsid, owner resolved), if it carried one. */
  readonly lsid: LogicalSessionId | undefined;
  /** Aborted when the connection closes or the operation is killed. */
  readonly signal: AbortSignal;
  /**
   * Exhaust: after this reply, the server keeps answering `next` without new requests, each reply
   * flagged moreToCome (awaitable hello streaming, as mongod does for exhaustAllowed requests).
   */
  exhaust?: { next: Document };
}

export type CommandHandler = (ctx: CommandContext) => Document | Promise<Document>;

/** A command's traits, as data: the dispatcher reads these instead of handlers checking for themselves. */
export interface CommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly run: CommandHandler;
  /** Only runs against the `admin` database. */
  readonly adminOnly?: boolean;
  /** Refused before login when auth is on (mongod's default is true). */
  readonly requiresAuth?: boolean;
  /** Only registered with enableTestCommands=1 (mongod's testOnly commands). */
  readonly testOnly?: boolean;
  /** An lsid on this command is validated but not attached (the kill commands). */
  readonly attachesSession?: boolean;
  /** May run inside a multi-document transaction. */
  readonly allowedInTransaction?: boolean;
  /** Part of Stable API version 1 (apiStrict rejects the others). */
  readonly apiVersion1?: boolean;
  /** IDL `strict: true`: non-generic fields other than the command's own are refused (40415). */
  readonly strict?: boolean;
  /** The command's own fields, for strict commands (besides the command name itself). */
  readonly fields?: readonly string[];
  /** Accepts a writeConcern argument. */
  readonly supportsWriteConcern?: boolean;
  /** Not logged as a slow operation however long it takes (awaitable hello waits by design). */
  readonly neverSlow?: boolean;
  /**
   * Which serverStatus opcounter the command bumps (mongod counts find as a query). Default
   * 'command'; 'self' when the handler counts per document (insert, delete).
   */
  readonly opcounter?: 'query' | 'getmore' | 'command' | 'self';
  /** What the command needs when auth is enforced (checked by the dispatcher); none = login only. */
  readonly privileges?: (ctx: CommandContext) => readonly Requirement[];
  /** Allowed before any user exists, from localhost, on admin (mongod's localhost exception). */
  readonly localhostException?: boolean;
  /** Answers `explain` of this command (find, aggregate, update ...); none = "Cannot explain cmd". */
  readonly explain?: (ctx: CommandContext, verbosity: 'queryPlanner' | 'executionStats' | 'allPlansExecution') => Document;
  /** listCommands help text. */
  readonly help: string;
}
