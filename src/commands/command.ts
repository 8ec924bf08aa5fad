import type { Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import type { SessionOwner } from '../sessions/owner.js';
import type { SessionRecord } from '../sessions/sessionRegistry.js';
import type { WireRequest } from '../wire/request.js';
import type { Client } from './client.js';
import type { Services } from './services.js';

/**
 * What a handler gets: the command, the client it came from, the session it runs in, and the
 * services it names (`S`). Never sockets or bytes.
 */
export interface CommandContext<S extends keyof Services = keyof Services> {
  readonly services: Pick<Services, S>;
  readonly client: Client;
  readonly request: WireRequest;
  /** The command document (kind-1 sequences merged in). */
  readonly body: Document;
  /** The database the command runs against (`$db`). */
  readonly db: string;
  /** The command's name as sent (its first field), e.g. `isMaster` rather than `hello`. */
  readonly name: string;
  /** The session the command runs in, if it carried an lsid (attached by the pipeline). */
  readonly session: SessionRecord | undefined;
  /**
   * Who owns the sessions this client uses (its uid), resolved once per command; throws mongod's
   * "Logical sessions require authentication" under --auth with nobody logged in.
   */
  readonly owner: SessionOwner;
  /** Aborted when the connection closes or the operation is killed. */
  readonly signal: AbortSignal;
  /**
   * Exhaust: after this reply, the server keeps answering `next` without new requests, each reply
   * flagged moreToCome (awaitable hello streaming, as mongod does for exhaustAllowed requests).
   */
  exhaust?: { next: Document };
}

export type Verbosity = 'queryPlanner' | 'executionStats' | 'allPlansExecution';

/** A command as its family file defines it: the handler and the traits that differ from mongod's defaults. */
export interface CommandDefinition<S extends keyof Services> {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly run: (ctx: CommandContext<S>) => Document | Promise<Document>;
  /** Only runs against the `admin` database (default false). */
  readonly adminOnly?: boolean;
  /** Refused before login when auth is on (default true). */
  readonly requiresAuth?: boolean;
  /** Only registered with enableTestCommands=1 (mongod's testOnly commands). */
  readonly testOnly?: boolean;
  /** An lsid on this command is validated but not attached (the kill commands; default true). */
  readonly attachesSession?: boolean;
  /** May run inside a multi-document transaction (default false). */
  readonly allowedInTransaction?: boolean;
  /** A retryable write: takes a txnNumber without autocommit (supportsRetryableWrite; default false). */
  readonly retryableWrite?: boolean;
  /** Part of Stable API version 1 (apiStrict rejects the others; default false). */
  readonly apiVersion1?: boolean;
  /** IDL `strict: true`: non-generic fields other than `fields` are refused (40415; default false). */
  readonly strict?: boolean;
  /** The command's own fields, for strict commands (besides the command name itself). */
  readonly fields?: readonly string[];
  /** Accepts a writeConcern argument (default false). */
  readonly supportsWriteConcern?: boolean;
  /** Not logged as a slow operation however long it takes (awaitable hello waits by design). */
  readonly neverSlow?: boolean;
  /**
   * Which serverStatus opcounter the command bumps (mongod counts find as a query). Default
   * 'command'; 'self' when the handler counts per document (insert, delete).
   */
  readonly opcounter?: 'query' | 'getmore' | 'command' | 'self';
  /** What the command needs when auth is enforced; none = login only. */
  readonly privileges?: (ctx: CommandContext<S>) => readonly Requirement[];
  /** Allowed before any user exists, from localhost, on admin (mongod's localhost exception). */
  readonly localhostException?: boolean;
  /** Taken over OP_QUERY too (check_allowed_op_query_cmd.cpp: the legacy handshake and auth). */
  readonly opQuery?: boolean;
  /** Answers `explain` of this command; none = "Cannot explain cmd". */
  readonly explain?: (ctx: CommandContext<S>, verbosity: Verbosity) => Document;
  /** listCommands help text. */
  readonly help: string;
}

/** A command with every trait resolved: what the table holds and the pipeline reads. */
export interface CommandSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly run: (ctx: CommandContext) => Document | Promise<Document>;
  readonly adminOnly: boolean;
  readonly requiresAuth: boolean;
  readonly testOnly: boolean;
  readonly attachesSession: boolean;
  readonly allowedInTransaction: boolean;
  readonly retryableWrite: boolean;
  readonly apiVersion1: boolean;
  readonly strict: boolean;
  readonly fields: readonly string[];
  readonly supportsWriteConcern: boolean;
  readonly neverSlow: boolean;
  readonly opcounter: 'query' | 'getmore' | 'command' | 'self';
  readonly privileges: ((ctx: CommandContext) => readonly Requirement[]) | undefined;
  readonly localhostException: boolean;
  readonly opQuery: boolean;
  readonly explain: ((ctx: CommandContext, verbosity: Verbosity) => Document) | undefined;
  readonly help: string;
}

/** A family's command with mongod's defaults filled in (the one place they are written). */
export function defineCommand<S extends keyof Services>(definition: CommandDefinition<S>): CommandSpec {
  return {
    name: definition.name,
    aliases: definition.aliases ?? [],
    run: definition.run,
    adminOnly: definition.adminOnly ?? false,
    requiresAuth: definition.requiresAuth ?? true,
    testOnly: definition.testOnly ?? false,
    attachesSession: definition.attachesSession ?? true,
    allowedInTransaction: definition.allowedInTransaction ?? false,
    retryableWrite: definition.retryableWrite ?? false,
    apiVersion1: definition.apiVersion1 ?? false,
    strict: definition.strict ?? false,
    fields: definition.fields ?? [],
    supportsWriteConcern: definition.supportsWriteConcern ?? false,
    neverSlow: definition.neverSlow ?? false,
    opcounter: definition.opcounter ?? 'command',
    privileges: definition.privileges,
    localhostException: definition.localhostException ?? false,
    opQuery: definition.opQuery ?? false,
    explain: definition.explain,
    help: definition.help,
  };
}
