/**
 * The pipeline's replica-set steps (replset-transactions-semantics.md §1.3, §1.4, §2, §3.5):
 * gossip a client's $clusterTime in before the command, check its read and write concerns, and
 * stamp every reply with $clusterTime and operationTime (and a write's electionId and opTime).
 */
import { Int32, Timestamp, type Document } from 'bson';
import { setField, withFields } from '../../bson/fields.js';
import { isPlainObject, numberValue } from '../../bson/args.js';
import { logicalTimeText } from '../../bson/bsonText.js';
import { ErrorCodes, MongoError } from '../../errors.js';
import type { Client } from '../client.js';
import type { CommandSpec } from '../command.js';
import { gossipedTime, opTimeDocument, type ReplicaSet } from '../replicaSet.js';
import type { Services } from '../services.js';
import { finishesTransaction } from '../transactions.js';

/** maxAcceptableLogicalClockDriftSecs' default: one year. */
const MAX_CLOCK_DRIFT_SECS = 365 * 24 * 60 * 60;

/** Whether the client may see and move the cluster time: auth off, or someone logged in. */
function seesClusterTime(services: Pick<Services, 'auth'>, client: Client): boolean {
  return !services.auth.enforced || client.principal.user !== undefined;
}

/**
 * Gossip in (VectorClock::gossipIn): a later $clusterTime from the client moves ours. Under auth
 * an unauthenticated client's time is ignored (logical_time_validator.cpp); signatures are not
 * checked because we sign with none (a zero hash, as for auth off).
 */
export function gossipIn(services: Pick<Services, 'auth'>, rs: ReplicaSet, client: Client, body: Document): void {
  const time = gossipedTime(body.$clusterTime);
  if (time === undefined || !seesClusterTime(services, client)) return;
  rs.clock.advanceTo(time, MAX_CLOCK_DRIFT_SECS);
}

function isNullTimestamp(ts: Timestamp): boolean {
  return ts.t === 0 && ts.i === 0;
}

/**
 * read_concern_args.cpp and read_concern_mongod.cpp on a primary: the level, afterClusterTime
 * (never greater than our cluster time, which gossip has already moved), atClusterTime with
 * snapshot only. A primary has every write it acknowledged, so a valid wait ends at once.
 */
export function checkReadConcern(rs: ReplicaSet, readConcern: unknown): void {
  if (!isPlainObject(readConcern)) return;
  const { level, afterClusterTime, atClusterTime, afterOpTime } = readConcern;
  if (level !== undefined && !['local', 'majority', 'linearizable', 'available', 'snapshot'].includes(level as string)) {
    throw new MongoError(ErrorCodes.FailedToParse, "readConcern.level must be either 'local', 'majority', 'linearizable', 'available', or 'snapshot'");
  }
  if (afterClusterTime !== undefined) {
    if (!(afterClusterTime instanceof Timestamp)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'afterClusterTime' is the wrong type, expected type 'timestamp'");
    if (afterOpTime !== undefined) throw new MongoError(ErrorCodes.InvalidOptions, 'Can not specify both afterClusterTime and afterOpTime');
    if (atClusterTime !== undefined) {
      throw new MongoError(
        ErrorCodes.InvalidOptions,
        'Specifying a timestamp for readConcern snapshot in a causally consistent session is not allowed. See https://docs.mongodb.com/manual/core/read-isolation-consistency-recency/#causal-consistency',
      );
    }
    if (level === 'available' || level === 'linearizable') {
      throw new MongoError(ErrorCodes.InvalidOptions, 'afterClusterTime field can be set only if level is equal to majority, local, or snapshot');
    }
    if (isNullTimestamp(afterClusterTime)) throw new MongoError(ErrorCodes.InvalidOptions, 'afterClusterTime cannot be a null timestamp');
    const current = rs.clock.time;
    if (afterClusterTime.compare(current) > 0) {
      throw new MongoError(
        ErrorCodes.InvalidOptions,
        `readConcern afterClusterTime value must not be greater than the current clusterTime. Requested clusterTime: ${logicalTimeText(afterClusterTime)}; current clusterTime: ${logicalTimeText(current)}`,
      );
    }
  }
  if (atClusterTime !== undefined) {
    if (!(atClusterTime instanceof Timestamp)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'atClusterTime' is the wrong type, expected type 'timestamp'");
    if (level !== 'snapshot') throw new MongoError(ErrorCodes.InvalidOptions, 'atClusterTime field can be set only if level is equal to snapshot');
    if (isNullTimestamp(atClusterTime)) throw new MongoError(ErrorCodes.InvalidOptions, 'atClusterTime cannot be a null timestamp');
  }
}

/**
 * write_concern_options.cpp on a replica set: a tag-set mode must be one the config defines (this
 * set has none). A numeric w above 1 is taken and answered with a writeConcernError (below).
 */
export function checkWriteConcern(writeConcern: unknown): void {
  if (!isPlainObject(writeConcern)) return;
  const w = writeConcern.w;
  if (typeof w === 'string' && w !== 'majority') {
    throw new MongoError(ErrorCodes.UnknownReplWriteConcern, `No write concern mode named '${w}' found in replica set configuration`);
  }
}

/**
 * A write concern one member cannot satisfy (w > 1): the write is applied, then the reply carries
 * writeConcernError 100 (repl_set_config.cpp checkIfWriteConcernCanBeSatisfied).
 */
export function unsatisfiableWriteConcern(writeConcern: unknown): Document | undefined {
  if (!isPlainObject(writeConcern)) return undefined;
  const w = numberValue(writeConcern.w);
  if (w === undefined || w <= 1) return undefined;
  const wtimeout = numberValue(writeConcern.wtimeout) ?? 0;
  return {
    code: ErrorCodes.UnsatisfiableWriteConcern,
    codeName: 'UnsatisfiableWriteConcern',
    errmsg: 'Not enough data-bearing nodes',
    errInfo: { writeConcern: { w: writeConcern.w, wtimeout: new Int32(wtimeout), provenance: 'clientSupplied' } },
  };
}

/**
 * The RetriableError category (error_codes.yml); the shutdown ones (91, 11600) count only while
 * the server is really shutting down (error_labels.cpp isRetryableWriteError).
 */
const RETRIABLE_CODES: ReadonlySet<number> = new Set([6, 7, 89, 134, 189, 262, 358, 402, 406, 407, 412, 453, 462, 9001, 10107, 11602, 13435, 13436, 50915, 91331, 10045600]);
const SHUTDOWN_CODES: ReadonlySet<number> = new Set([ErrorCodes.ShutdownInProgress, ErrorCodes.InterruptedAtShutdown]);

/** A retriable error code (error_labels.cpp isRetryableWriteError); shutdown's codes only while shutting down. */
function isRetriable(code: unknown, shuttingDown: boolean): boolean {
  return typeof code === 'number' && (RETRIABLE_CODES.has(code) || (shuttingDown && SHUTDOWN_CODES.has(code)));
}

/** Codes that make a transaction's error transient, whatever the statement (error_labels.cpp isTransientTransactionError). */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([112, 24, 267, 343, 249, 239, 246, 250, 272, 150, 13388]);

/**
 * ErrorLabelBuilder: in a transaction (txnNumber and autocommit) a transient error gets
 * TransientTransactionError — any retriable code or NoSuchTransaction on a statement, and on
 * commit or abort NoSuchTransaction without a writeConcernError; otherwise a retryable write, or
 * a commit or abort, whose error or writeConcernError is retriable gets RetryableWriteError, then
 * NoWritesPerformed when it wrote nothing. The two are exclusive; labels already set (a fail
 * point's, an error's own) are kept.
 */
export function withErrorLabels(reply: Document, body: Document, commandName: string | undefined, shuttingDown: boolean, wrote: boolean): Document {
  if (body.txnNumber === undefined || reply.errorLabels !== undefined) return reply;
  const failed = reply.ok === 0 || Number(reply.ok) === 0;
  const wce = reply.writeConcernError as Document | undefined;
  const inTransaction = body.autocommit !== undefined;
  const finishing = finishesTransaction(commandName);
  if (inTransaction && failed && typeof reply.code === 'number') {
    const code = reply.code;
    const transient = TRANSIENT_CODES.has(code) || (finishing ? code === ErrorCodes.NoSuchTransaction && wce === undefined : code === ErrorCodes.NoSuchTransaction || isRetriable(code, shuttingDown));
    if (transient) return withFields(reply, { errorLabels: ['TransientTransactionError'] });
  }
  if (inTransaction && !finishing) return reply;
  if (!isRetriable(failed ? reply.code : wce?.code, shuttingDown)) return reply;
  return withFields(reply, { errorLabels: wrote ? ['RetryableWriteError'] : ['RetryableWriteError', 'NoWritesPerformed'] });
}

/** The write commands whose replies carry electionId and opTime after `n` (write_commands.cpp populateReply). */
const WRITE_COMMANDS: ReadonlySet<string> = new Set(['insert', 'update', 'delete']);

/**
 * The reply as a primary sends it: a write's electionId and opTime after `n`, then $clusterTime
 * and operationTime after `ok` (appendClusterAndOperationTime), which unauthenticated clients of
 * an auth-enabled set do not get.
 */
export function replicaSetReply(services: Pick<Services, 'auth'>, rs: ReplicaSet, client: Client, spec: CommandSpec | undefined, reply: Document): Document {
  let out = reply;
  if (spec !== undefined && WRITE_COMMANDS.has(spec.name) && 'n' in reply) {
    out = {};
    for (const key in reply) {
      setField(out, key, reply[key]);
      if (key === 'n') {
        out.electionId = rs.electionId;
        out.opTime = opTimeDocument(rs.oplog.lastApplied);
      }
    }
  }
  if (!seesClusterTime(services, client)) return out;
  const times = { $clusterTime: rs.clusterTimeDocument(), operationTime: rs.oplog.lastApplied.ts };
  // A write's reply was copied above and is ours to extend; any other is the caller's.
  if (out === reply) return withFields(reply, times);
  out.$clusterTime = times.$clusterTime;
  out.operationTime = times.operationTime;
  return out;
}
