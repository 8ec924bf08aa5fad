/**
 * A session's transaction record (mongod's TransactionParticipant and its config.transactions
 * entry): the active txnNumber and what it is — a retryable write, with the statements it has
 * executed and what each did (so a retry answers without writing again), or a multi-document
 * transaction and its state (replset-transactions-semantics.md §3.3–3.4, §4.2). It lives and
 * dies with its session record: expiry and endSessions drop it with the session; killSessions
 * aborts an open transaction and leaves the retry history alone, as mongod does.
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

/** An open transaction's storage side (its snapshot and writes), held by the commands layer. */
export interface OpenTransaction {
  /** Drops the snapshot and the writes, and frees what the transaction locked. */
  abort(): void;
}

/** TransactionState: a retryable write, or a transaction in progress, committed or aborted. */
export type TransactionKind = 'retryableWrite' | 'inProgress' | 'committed' | 'aborted';

const TRANSIENT = { errorLabels: ['TransientTransactionError'] };

/** "{ txnNumber: N }" as mongod prints a transaction's number (TxnNumberAndRetryCounter without a counter). */
function txnText(txnNumber: Long): string {
  return `{ txnNumber: ${txnNumber.toString()} }`;
}

export class TransactionRecord {
  /** The active txnNumber; -1 before the first. */
  txnNumber = Long.fromNumber(-1);
  kind: TransactionKind = 'retryableWrite';
  /** The statements of the active retryable write that wrote, by stmtId. */
  readonly executed = new Map<number, StatementOutcome>();
  /** The optime of the active write's last oplog entry (its next entry's prevOpTime); undefined before the first. */
  lastWriteOpTime: RecordedOpTime | undefined = undefined;
  /** The open transaction's storage side while in progress. */
  open: OpenTransaction | undefined = undefined;

  /** Whether the active txnNumber is a transaction (in any state). */
  get isTransaction(): boolean {
    return this.kind !== 'retryableWrite';
  }

  private tooOld(txnNumber: Long, sessionText: string, transaction: boolean): MongoError {
    if (transaction) {
      const newer = this.isTransaction ? 'transaction' : 'retryable write';
      return new MongoError(
        ErrorCodes.TransactionTooOld,
        `Cannot start transaction with ${txnText(txnNumber)} on session ${sessionText} because a newer ${newer} with txnNumberAndRetryCounter { txnNumber: ${this.txnNumber.toString()}, txnRetryCounter: ${this.isTransaction ? 0 : -1} } has already started on this session.`,
      );
    }
    return new MongoError(
      ErrorCodes.TransactionTooOld,
      `Retryable write with txnNumber ${txnNumber.toString()} is prohibited on session ${sessionText} because a newer ${this.isTransaction ? 'transaction' : 'retryable write'} with txnNumber ${this.txnNumber.toString()} has already started on this session.`,
    );
  }

  /** Starts a new txnNumber: an open transaction of an older one is aborted (beginOrContinue). */
  private advance(txnNumber: Long, kind: TransactionKind): void {
    this.abortOpen();
    this.txnNumber = txnNumber;
    this.kind = kind;
    this.executed.clear();
    this.lastWriteOpTime = undefined;
  }

  /**
   * beginOrContinue for a retryable write: a higher txnNumber starts a new one (its history
   * cleared), the same one is a retry, a lower one is TransactionTooOld (225).
   */
  beginRetryableWrite(txnNumber: Long, sessionText: string): void {
    const order = txnNumber.compare(this.txnNumber);
    if (order > 0) return this.advance(txnNumber, 'retryableWrite');
    if (order < 0) throw this.tooOld(txnNumber, sessionText, false);
    if (this.isTransaction) {
      throw new MongoError(ErrorCodes.IncompleteTransactionHistory, 'Cannot retry a retryable write that has been converted into a transaction');
    }
  }

  /**
   * beginOrContinue for a statement with autocommit: false (§4.2): startTransaction with a higher
   * number begins one (true is returned: the caller opens it); otherwise the statement must
   * continue the active transaction, whose state decides (committed 256 for other commands,
   * aborted 251). `finishing` is commitTransaction or abortTransaction, which check the state
   * themselves.
   */
  beginOrContinueTransaction(txnNumber: Long, start: boolean, sessionText: string, finishing: boolean): boolean {
    const order = txnNumber.compare(this.txnNumber);
    if (order < 0) throw this.tooOld(txnNumber, sessionText, true);
    if (start) {
      if (order === 0) {
        throw new MongoError(ErrorCodes.ConflictingOperationInProgress, 'Only servers in a sharded cluster can start a new transaction at the active transaction number');
      }
      this.advance(txnNumber, 'inProgress');
      return true;
    }
    if (order > 0 || !this.isTransaction) {
      throw new MongoError(
        ErrorCodes.NoSuchTransaction,
        `Given transaction number ${txnNumber.toString()} does not match any in-progress transactions. The active transaction number is ${this.txnNumber.toString()}`,
        TRANSIENT,
      );
    }
    if (finishing) return false;
    if (this.kind === 'committed') throw this.committedError();
    if (this.kind === 'aborted') throw this.abortedError();
    return false;
  }

  committedError(): MongoError {
    return new MongoError(ErrorCodes.TransactionCommitted, `Transaction with ${txnText(this.txnNumber)} has been committed.`);
  }

  abortedError(): MongoError {
    return new MongoError(ErrorCodes.NoSuchTransaction, `Transaction with ${txnText(this.txnNumber)} has been aborted.`, TRANSIENT);
  }

  /** Aborts the open transaction, if any (an error in it, abortTransaction, killSessions, expiry of its lifetime). */
  abortOpen(): void {
    const open = this.open;
    this.open = undefined;
    if (this.kind === 'inProgress') this.kind = 'aborted';
    open?.abort();
  }
}
