import { unknownField, wrongType } from '../bson/idlErrors.js';
import { Double, type Document } from 'bson';
import { checkAuthenticated, checkPrivileges } from '../auth/authorize.js';
import { errorReply, ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import type { ConnectionState } from '../net/connectionState.js';
import type { ServerContext } from '../serverContext.js';
import type { WireRequest } from '../wire/request.js';
import { initializeOperationSessionInfo } from '../sessions/operationSessionInfo.js';
import { isGenericArgument } from './genericArguments.js';
import { SessionOperation } from './operation.js';
import { redactForLog } from '../bson/redact.js';
import type { LogicalSessionId } from '../sessions/logicalSessionId.js';
import type { CommandContext, CommandSpec } from './types.js';

/** The commands a 7.0 server still takes over OP_QUERY (check_allowed_op_query_cmd.cpp). */
const OP_QUERY_COMMANDS = new Set([
  'hello',
  'isMaster',
  'ismaster',
  '_isSelf',
  'authenticate',
  'buildinfo',
  'buildInfo',
  'saslStart',
  'saslContinue',
]);

export interface DispatchResult {
  reply: Document;
  /** The next request body to answer without a request (exhaust streaming), if any. */
  exhaustNext?: Document;
}

const OK = new Double(1);

/** The CommandContext of one command (a class: its shape stays the same for every command). */
class Invocation implements CommandContext {
  readonly body: Document;
  readonly db: string;
  readonly name: string;
  exhaust?: { next: Document };

  constructor(
    readonly server: ServerContext,
    readonly connection: ConnectionState,
    readonly request: WireRequest,
    readonly lsid: LogicalSessionId | undefined,
    private readonly connectionSignal: AbortSignal,
    private readonly operation: SessionOperation | undefined,
  ) {
    this.body = request.body;
    this.db = request.db!;
    this.name = request.commandName;
  }

  get signal(): AbortSignal {
    return this.operation === undefined ? this.connectionSignal : this.operation.signal;
  }
}

/** Database names mongod refuses (NamespaceString::validDBName, DollarInDbNameBehavior::Allow). */
function checkDbName(db: string): void {
  if (db.length === 0 || db.length >= 64 || /[/\\. "\0$]/.test(db)) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid database name: '${db}'`);
  }
}

/**
 * The one path every command takes: find the handler, check where it may run, run it, shape the
 * reply. Handler exceptions become error replies; nothing here touches sockets.
 */
export async function dispatch(
  server: ServerContext,
  connection: ConnectionState,
  request: WireRequest,
  signal: AbortSignal,
): Promise<DispatchResult> {
  const started = server.clock.now();
  let spec: CommandSpec | undefined;
  let operation: SessionOperation | undefined;
  try {
    spec = resolve(server, request);
    checkAuthenticated(server, connection, spec, request.db!);
    const lsid = initializeOperationSessionInfo(server, connection, spec, request.body);
    if (lsid !== undefined) {
      // Killing the session interrupts this operation (kill_sessions_local.cpp).
      operation = new SessionOperation(lsid, signal);
      server.sessionOperations.add(operation);
    }
    const ctx = new Invocation(server, connection, request, lsid, signal, operation);
    checkPrivileges(ctx, spec);
    const result = await spec.run(ctx);
    if (operation?.killed) throw new MongoError(ErrorCodes.Interrupted, 'operation was interrupted');
    const reply = 'ok' in result ? result : { ...result, ok: OK };
    return ctx.exhaust === undefined ? { reply } : { reply, exhaustNext: ctx.exhaust.next };
  } catch (err) {
    if (err instanceof MongoError) return { reply: errorReply(err) };
    server.log.error({
      c: 'COMMAND',
      id: 21966,
      ctx: `conn${connection.id}`,
      msg: 'Assertion while executing command',
      attr: { command: request.commandName, db: request.db, error: String((err as Error)?.stack ?? err) },
    });
    return { reply: errorReply(new MongoError(ErrorCodes.InternalError, String((err as Error)?.message ?? err))) };
  } finally {
    if (operation !== undefined) {
      server.sessionOperations.delete(operation);
      operation.done();
    }
    const opcounter = spec?.opcounter ?? 'command';
    if (opcounter !== 'self') server.counters.opcounters[opcounter] += 1;
    const millis = server.clock.now() - started;
    if (millis > server.slowms && spec?.neverSlow !== true) {
      server.log.info({
        c: 'COMMAND',
        id: 51803,
        ctx: `conn${connection.id}`,
        msg: 'Slow query',
        attr: { type: 'command', ns: `${request.db}.$cmd`, command: redactForLog(request.body), durationMillis: millis },
      });
    }
  }
}

/** Stable API parameters (api_parameters.idl, APIParameters::fromClient). */
function checkApiParameters(spec: CommandSpec, request: WireRequest): void {
  const { apiVersion, apiStrict, apiDeprecationErrors } = request.body;
  if (apiVersion === undefined) {
    if (apiStrict !== undefined || apiDeprecationErrors !== undefined) {
      throw new MongoError(LocationCodes.ApiStrictWithoutVersion, 'Provided apiStrict and/or apiDeprecationErrors without passing apiVersion');
    }
    return;
  }
  if (typeof apiVersion !== 'string') {
    throw wrongType(`apiVersion`, apiVersion, 'string');
  }
  if (apiVersion !== '1') throw new MongoError(ErrorCodes.APIVersionError, 'API version must be "1"');
  if (apiStrict === true && !spec.apiVersion1) {
    throw new MongoError(
      ErrorCodes.APIStrictError,
      `Provided apiStrict:true, but the command ${spec.name} is not in API Version 1. Information on supported commands and migrations in API Version 1 can be found at https://dochub.mongodb.org/core/manual-versioned-api.`,
    );
  }
}

function resolve(server: ServerContext, request: WireRequest): CommandSpec {
  if (request.protocol === 'OP_QUERY') {
    if (!OP_QUERY_COMMANDS.has(request.commandName)) {
      throw new MongoError(
        ErrorCodes.UnsupportedOpQueryCommand,
        `Unsupported OP_QUERY command: ${request.commandName}. The client driver may require an upgrade. ` +
          'For more details see https://dochub.mongodb.org/core/legacy-opcode-removal',
      );
    }
  } else if (request.body.$db === undefined) {
    throw new MongoError(LocationCodes.MissingDollarDb, 'OP_MSG requests require a $db argument');
  } else if (typeof request.body.$db !== 'string') {
    throw new MongoError(ErrorCodes.TypeMismatch, `BSON field '$db' is the wrong type, expected type 'string'`);
  }
  const db = request.db!;
  checkDbName(db);
  const spec = server.commands.find(request.commandName);
  if (spec === undefined) {
    throw new MongoError(ErrorCodes.CommandNotFound, `no such command: '${request.commandName}'`);
  }
  if (spec.adminOnly && db !== 'admin') {
    throw new MongoError(ErrorCodes.Unauthorized, `${spec.name} may only be run against the admin database.`);
  }
  checkApiParameters(spec, request);
  if (spec.strict) {
    for (const field of Object.keys(request.body)) {
      if (field === request.commandName || isGenericArgument(field) || spec.fields?.includes(field)) continue;
      throw unknownField(`${spec.name}.${field}`);
    }
  }
  if (request.body.writeConcern !== undefined && !spec.supportsWriteConcern) {
    throw new MongoError(ErrorCodes.InvalidOptions, 'Command does not support writeConcern');
  }
  if (server.shuttingDown) {
    throw new MongoError(ErrorCodes.ShutdownInProgress, 'The server is in quiesce mode and will shut down');
  }
  return spec;
}
