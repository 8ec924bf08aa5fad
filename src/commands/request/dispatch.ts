import type { Document } from 'bson';
import { withFields } from '../../bson/fields.js';
import { redactForLog } from '../../bson/redact.js';
import type { SessionRecord } from '../../sessions/sessionRegistry.js';
import type { WireRequest } from '../../wire/request.js';
import type { Client } from '../client.js';
import type { CommandSpec } from '../command.js';
import { SessionOperation } from '../operation.js';
import type { Services } from '../services.js';
import { saveAuthIfChanged } from '../authStorage.js';
import { saveSessionsCollectionIfChanged } from '../sessionsStorage.js';
import { attachSession } from './attachSession.js';
import { checkAuthenticated } from './authenticate.js';
import { checkPrivileges } from './authorize.js';
import { Invocation } from './invocation.js';
import { failPointsAfter, failPointsBefore } from './failCommand.js';
import { failureReply, okReply } from './reply.js';
import { resolveCommand } from './resolve.js';
import { runCommand } from './run.js';
import { checkReadConcern, checkWriteConcern, gossipIn, replicaSetReply, unsatisfiableWriteConcern, withErrorLabels } from './replication.js';
import type { ReplicaSet } from '../replicaSet.js';
import { withChangeStreamLabels } from '../changeStreams.js';
import { finishesTransaction, openTransaction, type Transaction } from '../transactions.js';
import { withAtClusterTime, type SnapshotRead } from '../snapshotReads.js';

/** A replica set's reply: the retryable-write labels, then the write's optime and the cluster time. */
function replicatedReply(services: Services, rs: ReplicaSet, client: Client, spec: CommandSpec | undefined, request: WireRequest, reply: Document, appendedBefore: number): Document {
  const labelled = withErrorLabels(reply, request.body, spec?.name, services.process.shuttingDown, rs.oplog.appended !== appendedBefore);
  return replicaSetReply(services, rs, client, spec, labelled);
}

/** A write concern one member cannot meet: the command ran, and its reply says so. */
function withWriteConcernError(spec: CommandSpec, request: WireRequest, reply: Document): Document {
  if (!spec.supportsWriteConcern) return reply;
  const writeConcernError = unsatisfiableWriteConcern(request.body.writeConcern);
  if (writeConcernError === undefined) return reply;
  const { ok, ...rest } = reply;
  return withFields(rest, { writeConcernError, ok });
}

export interface DispatchResult {
  reply: Document;
  /** The next request body to answer without a request (exhaust streaming), if any. */
  exhaustNext?: Document;
  /** End the connection without replying (the failCommand fail point's closeConnection). */
  closeConnection?: true;
}

/**
 * write_concern.cpp waitForWriteConcern on a standalone: `j: true` waits for the journal, and so
 * does `w: "majority"` unless `j: false` (durability-semantics.md §1.2).
 */
function waitsForJournal(writeConcern: unknown): boolean {
  if (writeConcern === null || typeof writeConcern !== 'object') return false;
  const { j, w } = writeConcern as Document;
  if (j !== undefined) return typeof j === 'boolean' ? j : Number((j as { valueOf(): unknown }).valueOf()) !== 0;
  return w === 'majority';
}

/**
 * The one path every command takes (design.md, "Data flow"): resolve -> authenticate -> attach
 * session -> authorize -> run -> reply, then the command's opcounter and the slow-operation log.
 * A command in a session is one of the session's resources while it runs, so killing the
 * session interrupts it. Nothing here touches sockets. A command whose handler answers at once
 * is answered at once (no promise): a promise only where something waits (a fail point's block,
 * an asynchronous handler, a journal sync).
 */
export function dispatch(services: Services, client: Client, request: WireRequest, signal: AbortSignal): DispatchResult | Promise<DispatchResult> {
  const command = new CommandDispatch(services, client, request, signal);
  let outcome: DispatchResult | Promise<DispatchResult> | undefined;
  try {
    try {
      const result = command.start();
      if (result instanceof Promise) outcome = result.then((ran) => command.answer(ran)).catch((err: unknown) => command.fail(err));
      else {
        outcome = command.answer(result);
        if (outcome instanceof Promise) outcome = outcome.catch((err: unknown) => command.fail(err));
      }
    } catch (err) {
      outcome = command.fail(err);
    }
  } finally {
    // The end stage runs once the reply is made, however it was made (or failed to be).
    if (!(outcome instanceof Promise)) command.end();
  }
  return outcome instanceof Promise ? settle(command, outcome) : outcome;
}

/** The end stage of a command answered asynchronously, once its reply (or failure) is made. */
async function settle(command: CommandDispatch, outcome: Promise<DispatchResult>): Promise<DispatchResult> {
  try {
    return await outcome;
  } finally {
    command.end();
  }
}

/** What closes the connection without a reply (failCommand's closeConnection). */
const CLOSE: DispatchResult = { reply: {}, closeConnection: true };

/** One command on its way through the stages; what it learns on the way, the failure and end stages need. */
class CommandDispatch {
  private readonly started: number;
  private spec: CommandSpec | undefined;
  private session: SessionRecord | undefined;
  private operation: SessionOperation | undefined;
  private ran = false;
  private appendedBefore = 0;
  private transaction: Transaction | undefined;
  private snapshotRead: SnapshotRead | undefined;
  private ctx: Invocation | undefined;

  constructor(
    private readonly services: Services,
    private readonly client: Client,
    private readonly request: WireRequest,
    private readonly signal: AbortSignal,
  ) {
    this.started = services.clock.now();
  }

  /** Resolve, then fail points (which may wait or close the connection), then the rest up to the handler's result. */
  start(): Document | typeof CLOSE | Promise<Document | typeof CLOSE> {
    const { services, client, request } = this;
    const rs = services.replication;
    if (rs !== undefined) {
      this.appendedBefore = rs.oplog.appended;
      gossipIn(services, rs, client, request.body);
    }
    const spec = resolveCommand(services.commands, request, services.process.shuttingDown, rs !== undefined);
    this.spec = spec;
    client.current = { opid: services.clients.nextOpId++, startedAt: this.started, db: request.db!, commandName: request.commandName, body: request.body };
    if (services.failPoints.anyActive) {
      return failPointsBefore(services, spec, client, request).then((verdict) => (verdict === 'close' ? CLOSE : this.run(spec)));
    }
    return this.run(spec);
  }

  private run(spec: CommandSpec): Document | Promise<Document> {
    const { services, client, request } = this;
    checkAuthenticated(services.auth, client, spec, request.db!);
    const rs = services.replication;
    if (rs !== undefined) {
      checkWriteConcern(request.body.writeConcern);
      checkReadConcern(rs, request.body.readConcern);
    }
    const session = attachSession(services, client, spec, request.body, request.lsidDuplicateField);
    if (session !== undefined) {
      this.session = session;
      this.operation = new SessionOperation(this.signal);
      services.sessions.attach(session, this.operation);
    }
    // A statement (not the commit or abort) sees its transaction's snapshot.
    const transaction = finishesTransaction(spec.name) ? undefined : openTransaction(request.body, session);
    this.transaction = transaction;
    const snapshotRead = transaction === undefined && rs !== undefined ? services.snapshotReads.resolve(services, spec.name, request.body) : undefined;
    this.snapshotRead = snapshotRead;
    const ctx = new Invocation(transaction?.services ?? snapshotRead?.services ?? services, client, request, session, this.signal, this.operation);
    this.ctx = ctx;
    checkPrivileges(services.auth, ctx, spec);
    this.ran = true;
    return runCommand(spec, ctx, this.operation);
  }

  /** Stage 6, reply, for a handler's result (or the close a fail point asked for). */
  answer(result: Document | typeof CLOSE): DispatchResult | Promise<DispatchResult> {
    if (result === CLOSE) return CLOSE;
    const { services, request } = this;
    let reply = okReply(result);
    if (this.snapshotRead !== undefined) reply = withAtClusterTime(reply, this.snapshotRead.atClusterTime);
    // A write error in a transaction aborts it (write_ops_exec.cpp handleError).
    if (this.transaction !== undefined && reply.writeErrors !== undefined) this.transaction.record.abortOpen();
    if (services.durable !== undefined) {
      saveAuthIfChanged(services);
      saveSessionsCollectionIfChanged(services);
      if (waitsForJournal(request.body.writeConcern)) {
        const journaled = reply;
        return services.durable.sync().then(() => this.finish(journaled));
      }
    }
    return this.finish(reply);
  }

  private finish(ran: Document): DispatchResult {
    const { services, request } = this;
    const spec = this.spec!;
    let reply = ran;
    if (services.failPoints.anyActive) reply = failPointsAfter(services, spec, this.client, request, reply);
    if (services.replication !== undefined) reply = replicatedReply(services, services.replication, this.client, spec, request, withWriteConcernError(spec, request, reply), this.appendedBefore);
    const exhaust = this.ctx!.exhaust;
    return exhaust === undefined ? { reply } : { reply, exhaustNext: exhaust.next };
  }

  /** Stage 6 for a failure at any stage. */
  fail(err: unknown): DispatchResult {
    const { services, client, request } = this;
    // Any error once a transaction's statement runs aborts the transaction (abortOnError).
    if (this.transaction !== undefined && this.ran) this.transaction.record.abortOpen();
    let reply = failureReply(err, services.log, client.id, request);
    // A command that ran and failed still gets the writeConcernError (mongod waits for write concern on errors too).
    if (this.ran && services.failPoints.anyActive) reply = failPointsAfter(services, this.spec!, client, request, reply);
    if (services.replication !== undefined) {
      reply = withChangeStreamLabels(services, this.spec?.name, request.body, reply);
      reply = replicatedReply(services, services.replication, client, this.spec, request, reply, this.appendedBefore);
    }
    return { reply };
  }

  /** After the reply (or the failure): the session lets go, the opcounter, the slow-operation log. */
  end(): void {
    const { services, client, request, spec } = this;
    client.current = undefined;
    if (this.operation !== undefined) {
      services.sessions.detach(this.session!, this.operation);
      this.operation.done();
    }
    // A command mongod does not find is not counted (ExecCommandDatabase counts found commands).
    if (spec !== undefined && spec.opcounter !== 'self') services.counters.opcounters[spec.opcounter] += 1;
    const millis = services.clock.now() - this.started;
    if (millis > services.process.slowms && spec?.neverSlow !== true) {
      services.log.info({
        c: 'COMMAND',
        id: 51803,
        ctx: `conn${client.id}`,
        msg: 'Slow query',
        attr: { type: 'command', ns: `${request.db}.$cmd`, command: redactForLog(request.body), durationMillis: millis },
      });
    }
  }
}
