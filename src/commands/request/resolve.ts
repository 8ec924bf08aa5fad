import { unknownField, wrongType } from '../../bson/idlErrors.js';
import { isPlainObject, numberValue } from '../../bson/args.js';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import type { WireRequest } from '../../wire/request.js';
import type { CommandSpec } from '../command.js';
import type { CommandRegistry } from '../commandTable.js';
import { isGenericArgument } from '../genericArguments.js';

/**
 * Commands mongod 7.0 takes over OP_QUERY (check_allowed_op_query_cmd.cpp) that pocketmongo does
 * not implement: they pass the OP_QUERY check and then answer CommandNotFound, as mongod's order
 * of checks gives. The ones we implement say so with their `opQuery` trait.
 */
const UNIMPLEMENTED_OP_QUERY_COMMANDS: ReadonlySet<string> = new Set(['authenticate', '_isSelf']);

/** Database names mongod refuses (NamespaceString::validDBName, DollarInDbNameBehavior::Allow). */
function checkDbName(db: string): void {
  if (db.length === 0 || db.length >= 64 || /[/\\. "\0$]/.test(db)) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid database name: '${db}'`);
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
  if (typeof apiVersion !== 'string') throw wrongType('apiVersion', apiVersion, 'string');
  if (apiVersion !== '1') throw new MongoError(ErrorCodes.APIVersionError, 'API version must be "1"');
  if (apiStrict === true && !spec.apiVersion1) {
    throw new MongoError(
      ErrorCodes.APIStrictError,
      `Provided apiStrict:true, but the command ${spec.name} is not in API Version 1. Information on supported commands and migrations in API Version 1 can be found at https://dochub.mongodb.org/core/manual-versioned-api.`,
    );
  }
}

/** write_concern_options.cpp validateWriteConcern on a standalone: no w > 1 and no tag-set modes. */
function checkStandaloneWriteConcern(writeConcern: unknown): void {
  if (!isPlainObject(writeConcern)) return;
  const w = writeConcern.w;
  const n = numberValue(w);
  if (n !== undefined && n > 1) throw new MongoError(ErrorCodes.BadValue, "cannot use 'w' > 1 when a host is not replicated");
  if (typeof w === 'string' && w !== 'majority') {
    throw new MongoError(ErrorCodes.BadValue, `cannot use non-majority 'w' mode "${w}" when a host is not a member of a replica set`);
  }
}

/**
 * read_concern_mongod.cpp on a standalone: snapshot and linearizable reads, and reads after an
 * optime or a cluster time, need a replica set.
 */
function checkStandaloneReadConcern(readConcern: unknown): void {
  if (!isPlainObject(readConcern)) return;
  if (readConcern.level === 'linearizable') throw new MongoError(ErrorCodes.NotAReplicaSet, 'node needs to be a replica set member to use read concern');
  if (readConcern.level === 'snapshot') throw new MongoError(ErrorCodes.NotAReplicaSet, 'node needs to be a replica set member to use readConcern: snapshot');
  for (const name of ['afterClusterTime', 'atClusterTime']) {
    if (readConcern[name] !== undefined) throw new MongoError(ErrorCodes.IllegalOperation, `Cannot specify ${name} readConcern without replication enabled`);
  }
  if (readConcern.afterOpTime !== undefined) throw new MongoError(ErrorCodes.NotAReplicaSet, 'node needs to be a replica set member to use read concern');
}

/**
 * Stage 1, resolve: the command's spec from the table, and every check its traits make before
 * anyone's identity matters: the protocol it came on, `$db`, adminOnly, the Stable API, strict
 * fields, writeConcern support, a standalone's read and write concerns, and shutdown.
 */
export function resolveCommand(commands: CommandRegistry, request: WireRequest, shuttingDown: boolean, replicated = false): CommandSpec {
  const spec = commands.find(request.commandName);
  if (request.protocol === 'OP_QUERY') {
    if (spec?.opQuery !== true && !UNIMPLEMENTED_OP_QUERY_COMMANDS.has(request.commandName)) {
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
  if (spec === undefined) throw new MongoError(ErrorCodes.CommandNotFound, `no such command: '${request.commandName}'`);
  if (spec.adminOnly && db !== 'admin') {
    throw new MongoError(ErrorCodes.Unauthorized, `${spec.name} may only be run against the admin database.`);
  }
  checkApiParameters(spec, request);
  if (spec.strict) {
    for (const field of Object.keys(request.body)) {
      if (field === request.commandName || isGenericArgument(field) || spec.fields.includes(field)) continue;
      throw unknownField(`${spec.name}.${field}`);
    }
  }
  if (request.body.writeConcern !== undefined && !spec.supportsWriteConcern) {
    throw new MongoError(ErrorCodes.InvalidOptions, 'Command does not support writeConcern');
  }
  // A replica set checks its concerns after gossip (request/replication.ts).
  if (!replicated) {
    checkStandaloneWriteConcern(request.body.writeConcern);
    checkStandaloneReadConcern(request.body.readConcern);
  }
  if (shuttingDown) throw new MongoError(ErrorCodes.ShutdownInProgress, 'The server is in quiesce mode and will shut down');
  return spec;
}
