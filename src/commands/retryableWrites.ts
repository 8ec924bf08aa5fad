/**
 * The statements of a retryable write (insert, update, delete, findAndModify with a txnNumber on
 * a replica set): each one's stmtId (write_ops.cpp getStmtIdForWriteAt), whether it already ran
 * (then it is skipped and reported as done, and listed in retriedStmtIds), and the record of what
 * it wrote (replset-transactions-semantics.md §3.2–3.4). Its oplog entries carry the session.
 */
import { Int32, type Document } from 'bson';
import { numberValue } from '../bson/args.js';
import { lsidDocument } from '../sessions/logicalSessionId.js';
import type { StatementOutcome, TransactionRecord } from '../sessions/transactionRecord.js';
import { NULL_OPTIME, type Oplog } from '../storage/oplog.js';
import type { CommandContext } from './command.js';
import type { TransactionMetrics } from './transactions.js';

export class RetryableStatements {
  private readonly retried: Int32[] = [];
  private wroteAny = false;

  private constructor(
    private readonly record: TransactionRecord,
    private readonly oplog: Oplog,
    private readonly lsid: Document,
    private readonly body: Document,
    private readonly metrics: TransactionMetrics,
  ) {}

  /** The command's retryable-write statements, or undefined when it is not a retryable write. */
  static of(ctx: CommandContext<'replication' | 'transactions'>): RetryableStatements | undefined {
    const record = ctx.session?.txn;
    const rs = ctx.services.replication;
    if (record === undefined || rs === undefined || ctx.body.txnNumber === undefined || ctx.body.autocommit !== undefined) return undefined;
    return new RetryableStatements(record, rs.oplog, lsidDocument(ctx.session!.lsid), ctx.body, ctx.services.transactions.metrics);
  }

  /** The stmtId of the statement at `index`: stmtIds[index], else stmtId + index, else index. */
  stmtId(index: number): number {
    const { stmtIds, stmtId } = this.body;
    if (Array.isArray(stmtIds)) return numberValue(stmtIds[index]) ?? index;
    const first = numberValue(stmtId);
    return first === undefined ? index : first + index;
  }

  /** What the statement wrote when it ran before (it is then reported, not run again). */
  executed(stmtId: number): StatementOutcome | undefined {
    const outcome = this.record.executed.get(stmtId);
    if (outcome !== undefined) this.retried.push(new Int32(stmtId));
    return outcome;
  }

  /** Runs the statement's writes with the session on their oplog entries. */
  run<T>(stmtId: number, write: () => T): T {
    const stamp = { lsid: this.lsid, txnNumber: this.record.txnNumber, stmtId, prevOpTime: this.record.lastWriteOpTime ?? NULL_OPTIME };
    this.oplog.session = stamp;
    try {
      return write();
    } finally {
      this.oplog.session = undefined;
      if (stamp.prevOpTime !== NULL_OPTIME) this.record.lastWriteOpTime = stamp.prevOpTime;
    }
  }

  /** The statement wrote: a retry will find it executed. */
  wrote(stmtId: number, outcome: StatementOutcome): void {
    this.wroteAny = true;
    this.record.executed.set(stmtId, outcome);
  }

  /** The reply with retriedStmtIds when statements were skipped (write_commands.cpp populateReply). */
  reply(reply: Document): Document {
    // serverStatus().transactions: the retries answered, and the session records written (config.transactions in mongod).
    if (this.retried.length > 0) {
      this.metrics.retriedCommands += 1;
      this.metrics.retriedStatements += this.retried.length;
    }
    if (this.wroteAny) this.metrics.sessionRecordWrites += 1;
    return this.retried.length === 0 ? reply : { ...reply, retriedStmtIds: this.retried };
  }
}
