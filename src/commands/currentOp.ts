import { hostname } from 'node:os';
import { Int32, Long, type Document } from 'bson';
import { isPlainObject, trueValue } from '../bson/args.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { runFind } from '../query/find.js';
import { Resource } from '../auth/privileges.js';
import type { Requirement } from '../auth/authorize.js';
import type { Client } from './client.js';
import { isGenericArgument } from './genericArguments.js';
import type { Services } from './services.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';
import { lsidDocument } from '../sessions/logicalSessionId.js';

/** The command a connection is running: set by dispatch for its duration. */
export interface RunningOperation {
  readonly opid: number;
  /** Server clock, milliseconds. */
  readonly startedAt: number;
  readonly db: string;
  readonly commandName: string;
  readonly body: Document;
}

/** What $currentOp and currentOp report. */
export interface CurrentOpOptions {
  /** Every user's operations (else only the caller's). */
  readonly allUsers: boolean;
  /** Connections running nothing too (active: false). */
  readonly idleConnections: boolean;
  /** Transactions open between statements (type idleSession); on by default. */
  readonly idleSessions: boolean;
}

/** CurOp's op type for a command (the legacy op names mongod still reports). */
function opType(commandName: string): string {
  switch (commandName) {
    case 'find':
      return 'query';
    case 'getMore':
      return 'getmore';
    case 'insert':
      return 'insert';
    case 'update':
      return 'update';
    case 'delete':
      return 'remove';
    default:
      return 'command';
  }
}

/** The namespace an operation reports: its collection's, else `<db>.$cmd`. */
function opNamespace(op: RunningOperation): string {
  const target = op.body[op.commandName];
  const collection = op.commandName === 'getMore' ? op.body.collection : target;
  return typeof collection === 'string' && collection !== '' ? `${op.db}.${collection}` : `${op.db}.$cmd`;
}

/** The ISO time with mongod's explicit offset (dateToISOStringLocal). */
function localIsoTime(millis: number): string {
  const d = new Date(millis);
  const offset = -d.getTimezoneOffset();
  const local = new Date(millis + offset * 60000).toISOString().slice(0, -1);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * The in-progress operations as mongod's CurOp::reportState and the client's reportState show
 * them: one document per connection running a command (and, with idleConnections, per idle one).
 */
export function currentOperations(services: Pick<Services, 'clients' | 'clock' | 'process' | 'transactions' | 'params'>, caller: Client, options: CurrentOpOptions): Document[] {
  const now = services.clock.now();
  const port = services.process.listen.port;
  const host = `${hostname()}:${port}`;
  const docs: Document[] = [];
  for (const client of services.clients.open.values()) {
    if (!options.allUsers && client.principal.userName !== caller.principal.userName) continue;
    const op = client.current;
    if (op === undefined && !options.idleConnections) continue;
    const doc: Document = { type: 'op', host, desc: `conn${client.id}`, connectionId: new Int32(client.id), client: client.remote };
    const appName = (client.metadata?.application as Document | undefined)?.name;
    if (typeof appName === 'string') doc.appName = appName;
    if (client.metadata !== undefined) doc.clientMetadata = client.metadata;
    doc.active = op !== undefined;
    doc.currentOpTime = localIsoTime(now);
    const user = client.principal.user;
    if (user !== undefined) doc.effectiveUsers = [{ user: user.user, db: user.db }];
    if (op === undefined) {
      docs.push(doc);
      continue;
    }
    const micros = Math.max(0, now - op.startedAt) * 1000;
    Object.assign(doc, { threaded: true, opid: new Int32(op.opid) });
    if (isPlainObject(op.body.lsid)) doc.lsid = op.body.lsid;
    Object.assign(doc, {
      secs_running: Long.fromNumber(Math.floor(micros / 1e6)),
      microsecs_running: Long.fromNumber(micros),
      op: opType(op.commandName),
      ns: opNamespace(op),
      redacted: false,
      command: op.body,
      numYields: new Int32(0),
      locks: {},
      waitingForLock: false,
      lockStats: {},
      waitingForFlowControl: false,
      flowControlStats: {},
    });
    docs.push(doc);
  }
  if (options.idleSessions) docs.push(...idleTransactions(services, caller, options, host, now));
  return docs;
}

/**
 * An open transaction between its statements, as TransactionParticipant's reportStashedState
 * shows it (replset-transactions-semantics.md §4.11); pocketmongo does not keep the client that
 * last used it, so its client fields are absent.
 */
function idleTransactions(services: Pick<Services, 'transactions' | 'params'>, caller: Client, options: CurrentOpOptions, host: string, now: number): Document[] {
  const docs: Document[] = [];
  const lifetimeMs = services.params.int('transactionLifetimeLimitSeconds') * 1000;
  for (const transaction of services.transactions.openTransactions()) {
    if (!options.allUsers && transaction.session.user !== caller.principal.userName) continue;
    const parameters: Document = { txnNumber: transaction.txnNumber, txnRetryCounter: new Int32(0), autocommit: false };
    if (transaction.readConcern !== undefined) parameters.readConcern = transaction.readConcern;
    const openMicros = Math.max(0, now - transaction.startedAt) * 1000;
    docs.push({
      type: 'idleSession',
      host,
      desc: 'inactive transaction',
      lsid: lsidDocument(transaction.session.lsid),
      transaction: {
        parameters,
        readTimestamp: transaction.readTimestamp,
        startWallClockTime: localIsoTime(transaction.startedAt),
        timeOpenMicros: Long.fromNumber(openMicros),
        timeActiveMicros: Long.fromNumber(0),
        timeInactiveMicros: Long.fromNumber(openMicros),
        expiryTime: localIsoTime(transaction.startedAt + lifetimeMs),
      },
      waitingForLock: false,
      active: false,
      locks: {},
      lockStats: {},
    });
  }
  return docs;
}

/** $currentOp's spec (document_source_current_op.cpp): boolean options; others refused as mongod does. */
export function parseCurrentOpSpec(spec: unknown): CurrentOpOptions {
  if (!isPlainObject(spec)) throw new MongoError(ErrorCodes.FailedToParse, `$currentOp options must be specified in an object, but found: ${typeof spec}`);
  const flags = ['allUsers', 'idleConnections', 'idleCursors', 'idleSessions', 'localOps', 'backtrace', 'truncateOps', 'targetAllNodes'];
  for (const [name, value] of Object.entries(spec)) {
    if (!flags.includes(name)) throw new MongoError(ErrorCodes.FailedToParse, `Unrecognized option '${name}' in $currentOp stage.`);
    if (typeof value !== 'boolean') throw new MongoError(ErrorCodes.FailedToParse, `The '${name}' parameter of the $currentOp stage must be a boolean value, but found: ${typeof value}`);
  }
  return { allUsers: spec.allUsers === true, idleConnections: spec.idleConnections === true, idleSessions: spec.idleSessions !== false };
}

/**
 * currentOp (current_op.cpp / current_op_common.cpp): `$all` adds idle connections, `$ownOps`
 * limits to the caller's; every other field is a filter on the operation documents.
 */
function currentOp(ctx: CommandContext<'clients' | 'clock' | 'process' | 'transactions' | 'params'>): Document {
  const filter: Document = {};
  for (const [name, value] of Object.entries(ctx.body)) {
    if (name === 'currentOp' || name === '$all' || name === '$ownOps' || isGenericArgument(name)) continue;
    filter[name] = value;
  }
  const ops = currentOperations(ctx.services, ctx.client, { allUsers: !trueValue(ctx.body.$ownOps), idleConnections: trueValue(ctx.body.$all), idleSessions: true });
  return { inprog: runFind({ filter }, ops) };
}

function currentOpPrivileges(ctx: CommandContext<never>): Requirement[] {
  return trueValue(ctx.body.$ownOps) ? [] : [{ resource: Resource.cluster(), actions: ['inprog'] }];
}

export const currentOpCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'currentOp', run: currentOp, adminOnly: true, privileges: currentOpPrivileges, help: "Returns information about operations in progress. Use the $currentOp aggregation stage for more options." }),
];
