import type { Document } from 'bson';
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
import type { Transaction } from '../transactions.js';
import { withAtClusterTime } from '../snapshotReads.js';

/** The open transaction a statement (not its commit or abort) runs in: its snapshot is what the statement sees. */
function statementTransaction(spec: CommandSpec, session: SessionRecord | undefined, body: Document): Transaction | undefined {
  if (body.autocommit === undefined || spec.name === 'commitTransaction' || spec.name === 'abortTransaction') return undefined;
  return session?.txn?.open as Transaction | undefined;
}

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
  return { ...rest, writeConcernError, ok };
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
 * session interrupts it. Nothing here touches sockets.
 */
export async function dispatch(services: Services, client: Client, request: WireRequest, signal: AbortSignal): Promise<DispatchResult> {
  const started = services.clock.now();
  let spec: CommandSpec | undefined;
  let session: SessionRecord | undefined;
  let operation: SessionOperation | undefined;
  let ran = false;
  let appendedBefore = 0;
  let transaction: Transaction | undefined;
  try {
    const rs = services.replication;
    if (rs !== undefined) {
      appendedBefore = rs.oplog.appended;
      gossipIn(services, rs, client, request.body);
    }
    spec = resolveCommand(services.commands, request, services.process.shuttingDown, rs !== undefined);
    client.current = { opid: services.clients.nextOpId++, startedAt: started, db: request.db!, commandName: request.commandName, body: request.body };
    if (services.failPoints.anyActive && (await failPointsBefore(services, spec, client, request)) === 'close') {
      return { reply: {}, closeConnection: true };
    }
    checkAuthenticated(services.auth, client, spec, request.db!);
    if (rs !== undefined) {
      checkWriteConcern(request.body.writeConcern);
      checkReadConcern(rs, request.body.readConcern);
    }
    session = attachSession(services, client, spec, request.body, request.lsidDuplicateField);
    if (session !== undefined) {
      operation = new SessionOperation(signal);
      services.sessions.attach(session, operation);
    }
    transaction = statementTransaction(spec, session, request.body);
    const snapshotRead = transaction === undefined && services.replication !== undefined ? services.snapshotReads.resolve(services, spec.name, request.body) : undefined;
    const ctx = new Invocation(transaction?.services ?? snapshotRead?.services ?? services, client, request, session, signal, operation);
    checkPrivileges(services.auth, ctx, spec);
    ran = true;
    let reply = okReply(await runCommand(spec, ctx, operation));
    if (snapshotRead !== undefined) reply = withAtClusterTime(reply, snapshotRead.atClusterTime);
    // A write error in a transaction aborts it (write_ops_exec.cpp handleError).
    if (transaction !== undefined && reply.writeErrors !== undefined) transaction.record.abortOpen();
    if (services.durable !== undefined) {
      saveAuthIfChanged(services);
      saveSessionsCollectionIfChanged(services);
      if (waitsForJournal(request.body.writeConcern)) await services.durable.sync();
    }
    if (services.failPoints.anyActive) reply = failPointsAfter(services, spec, client, request, reply);
    if (services.replication !== undefined) reply = replicatedReply(services, services.replication, client, spec, request, withWriteConcernError(spec, request, reply), appendedBefore);
    return ctx.exhaust === undefined ? { reply } : { reply, exhaustNext: ctx.exhaust.next };
  } catch (err) {
    // Any error once a transaction's statement runs aborts the transaction (abortOnError).
    if (transaction !== undefined && ran) transaction.record.abortOpen();
    let reply = failureReply(err, services.log, client.id, request);
    // A command that ran and failed still gets the writeConcernError (mongod waits for write concern on errors too).
    if (ran && services.failPoints.anyActive) reply = failPointsAfter(services, spec!, client, request, reply);
    if (services.replication !== undefined) {
      reply = withChangeStreamLabels(services, spec?.name, request.body, reply);
      reply = replicatedReply(services, services.replication, client, spec, request, reply, appendedBefore);
    }
    return { reply };
  } finally {
    client.current = undefined;
    if (operation !== undefined) {
      services.sessions.detach(session!, operation);
      operation.done();
    }
    // A command mongod does not find is not counted (ExecCommandDatabase counts found commands).
    if (spec !== undefined && spec.opcounter !== 'self') services.counters.opcounters[spec.opcounter] += 1;
    const millis = services.clock.now() - started;
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
