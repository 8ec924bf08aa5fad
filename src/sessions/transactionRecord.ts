/**
 * A session's transaction record (mongod's TransactionParticipant and its config.transactions
 * entry): the active txnNumber and, for a retryable write, the statements it has executed and
 * what each did, so a retry answers without writing again (replset-transactions-semantics.md
 * §3.3–3.4). It lives and dies with its session record: expiry and endSessions drop it with the
 * session; killSessions leaves the retry history alone, as mongod does.
 */
import { Long, type Document, type Timestamp } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';

/** What an executed statement wrote: mongod rebuilds a retry's answer from it (write_ops_retryability.cpp). */
export interface StatementOutcome {
  /** The oplog entry's kind: an insert (or upsert), an update, a delete. */
  readonly op: 'i' | 'u' | 'd';
  /** An upsert's `_id`. */
  readonly upsertedId?: unknown;
  /** findAndModify's images: the document before and after. */
  readonly preImage?: Document;
  readonly postImage?: Document;
}

/** An optime as the oplog writes it ({ts, t}). */
export interface RecordedOpTime {
  readonly ts: Timestamp;
  readonly t: Long;
}

export class TransactionRecord {
  /** The active txnNumber; -1 before the first. */
  txnNumber = Long.fromNumber(-1);
  /** The statements of the active retryable write that wrote, by stmtId. */
  readonly executed = new Map<number, StatementOutcome>();
  /** The optime of the active write's last oplog entry (its next entry's prevOpTime); undefined before the first. */
  lastWriteOpTime: RecordedOpTime | undefined = undefined;

  /**
   * beginOrContinue for a retryable write: a higher txnNumber starts a new one (its history
   * cleared), the same one is a retry, a lower one is TransactionTooOld (225).
   */
  beginRetryableWrite(txnNumber: Long, sessionText: string): void {
    const order = txnNumber.compare(this.txnNumber);
    if (order > 0) {
      this.txnNumber = txnNumber;
      this.executed.clear();
      this.lastWriteOpTime = undefined;
      return;
    }
    if (order < 0) {
      throw new MongoError(
        ErrorCodes.TransactionTooOld,
        `Retryable write with txnNumber ${txnNumber.toString()} is prohibited on session ${sessionText} because a newer retryable write with txnNumber ${this.txnNumber.toString()} has already started on this session.`,
      );
    }
  }
}
