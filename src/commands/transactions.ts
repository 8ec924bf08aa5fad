/**
 * Multi-document transactions on a replica set (replset-transactions-semantics.md §4): a
 * transaction reads and writes a snapshot of the whole catalog taken at its first statement (an
 * O(collections) set of copy-on-write clones, storage/catalog.ts), records its writes, and at
 * commit applies them to the live catalog at once, logged as one applyOps oplog entry.
 *
 * Conflicts are first-writer-wins, as in mongod: a transaction writing a document another open
 * transaction wrote, or one written by anyone after its snapshot (even if it then went back to
 * what the snapshot holds), fails at once with WriteConflict (112) + TransientTransactionError. A write outside any transaction is not made to
 * wait for a transaction holding the document (mongod retries it until the transaction ends): it
 * is applied, and the transaction then fails at commit with the same WriteConflict, which
 * withTransaction retries.
 */
import { Int32, Long, Timestamp, type Document, type UUID } from 'bson';
import { canonicalKey } from '../bson/bsonOrder.js';
import { isPlainObject } from '../bson/args.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Log } from '../log.js';
import { lsidDocument, lsidText } from '../sessions/logicalSessionId.js';
import type { SessionRecord } from '../sessions/sessionRegistry.js';
import type { OpenTransaction, TransactionRecord } from '../sessions/transactionRecord.js';
import type { Catalog, CatalogChanges, Collection } from '../storage/catalog.js';
import { deleteOperation, insertOperation, updateOperation } from '../storage/oplog.js';
import type { CommandSpec } from './command.js';
import { defineCommand, type CommandContext } from './command.js';
import type { Services } from './services.js';

const TRANSIENT = { errorLabels: ['TransientTransactionError'] };

function writeConflict(): MongoError {
  return new MongoError(ErrorCodes.WriteConflict, 'WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.', TRANSIENT);
}

/** One write of a transaction, replayed on the live catalog at commit. */
type TransactionWrite =
  | { readonly op: 'c'; readonly db: string; readonly name: string }
  | { readonly op: 'i'; readonly db: string; readonly name: string; readonly doc: Document }
  | { readonly op: 'u'; readonly db: string; readonly name: string; readonly old: Document; readonly next: Document; readonly replacement: boolean }
  | { readonly op: 'd'; readonly db: string; readonly name: string; readonly doc: Document };

/** A document a transaction wrote: its key among the live writes, and its collection. */
interface WrittenKey {
  readonly key: string;
  readonly db: string;
  readonly name: string;
  readonly uuid: UUID;
}

/** A document's key among transactions' holds and the live writes: its collection's UUID and its `_id`. */
function documentKey(collection: Collection, id: unknown): string {
  return `${collection.uuid.toHexString()}/${canonicalKey(id)}`;
}

/** An open transaction: its snapshot, the namespaces over it, and what it wrote. */
export class Transaction implements OpenTransaction {
  readonly catalog: Catalog;
  /** The services its statements run with: the live ones, reading and writing the snapshot. */
  readonly services: Services;
  private readonly writes: TransactionWrite[] = [];
  private readonly written = new Map<string, WrittenKey>();
  readonly startedAt: number;
  /** The live writes' sequence number when the snapshot was taken: later ones conflict. */
  private readonly snapshotSeq: number;
  /** The cluster time of the snapshot (the last write before it). */
  readonly readTimestamp: Timestamp;
  /** The UUIDs of the collections in the snapshot (the others are the transaction's own). */
  private readonly snapshotCollections = new Set<string>();
  private finished = false;
  /** What killSessions (and the session's end) releases: the transaction is aborted. */
  private readonly resource = { kind: 'transaction' as const, release: () => this.record.abortOpen() };

  constructor(
    private readonly coordinator: TransactionCoordinator,
    private readonly live: Services,
    readonly session: SessionRecord,
    readonly record: TransactionRecord,
    readonly lsid: Document,
    readonly txnNumber: Long,
    /** The first statement's readConcern, if any (currentOp shows it). */
    readonly readConcern: Document | undefined,
  ) {
    this.startedAt = live.clock.now();
    this.snapshotSeq = coordinator.writeSeq;
    this.readTimestamp = live.replication?.oplog.lastApplied.ts ?? new Timestamp({ t: 0, i: 0 });
    this.catalog = live.catalog.clone(this.recorder());
    for (const db of this.catalog.databaseNames()) for (const collection of this.catalog.collections(db)) this.snapshotCollections.add(collection.uuid.toHexString());
    this.services = { ...live, catalog: this.catalog, namespaces: live.namespaces.over(this.catalog) };
    live.sessions.attach(session, this.resource);
  }

  /** Whether the transaction created `collection` (create, or a write's implicit creation). */
  created(collection: Collection): boolean {
    return !this.snapshotCollections.has(collection.uuid.toHexString());
  }

  /** Hears the snapshot's writes: each is checked for a conflict, then kept for the commit. */
  private recorder(): CatalogChanges {
    return {
      written: (collection, _seq, doc, replaced) => {
        this.claim(collection, doc._id);
        const replacement = this.live.replication?.oplog.replacing === true;
        this.writes.push(
          replaced === undefined
            ? { op: 'i', db: collection.db, name: collection.name, doc }
            : { op: 'u', db: collection.db, name: collection.name, old: replaced, next: doc, replacement },
        );
      },
      removed: (collection, _seq, doc) => {
        this.claim(collection, doc._id);
        this.writes.push({ op: 'd', db: collection.db, name: collection.name, doc });
      },
      // A collection the transaction creates (create, or a write's implicit creation) is made at commit where it was made here.
      described: (collection) => {
        if (this.created(collection) && !this.writes.some((w) => w.op === 'c' && w.db === collection.db && w.name === collection.name)) {
          this.writes.push({ op: 'c', db: collection.db, name: collection.name });
        }
      },
      dropped: () => {},
    };
  }

  /**
   * Before a write to a document: first writer wins (another open transaction holds it: 112), and
   * a document changed by a commit since the snapshot conflicts too (112). The transaction then
   * holds it until it ends.
   */
  private claim(collection: Collection, id: unknown): void {
    if (collection.capped !== undefined) {
      throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, `Collection '${collection.ns}' is a capped collection. Writes in transactions are not allowed on capped collections.`);
    }
    const key = documentKey(collection, id);
    if (this.written.has(key)) return;
    const holder = this.coordinator.holder(key);
    if (holder !== undefined && holder !== this) throw writeConflict();
    const entry: WrittenKey = { key, db: collection.db, name: collection.name, uuid: collection.uuid };
    if (this.changedSinceSnapshot(entry)) throw writeConflict();
    this.written.set(key, entry);
    this.coordinator.hold(key, this);
  }

  /**
   * Whether a written document was written live since the snapshot, or its collection is no
   * longer the one the snapshot had (dropped, or made again under the same name).
   */
  private changedSinceSnapshot(entry: WrittenKey): boolean {
    if (this.coordinator.lastWrite(entry.key) > this.snapshotSeq) return true;
    const live = this.live.catalog.get(entry.db, entry.name);
    return live !== undefined && !live.uuid.equals(entry.uuid);
  }

  /**
   * Applies the writes to the live catalog, all or none: they are replayed first on clones of the
   * live collections (a unique key taken since the snapshot fails there, and nothing is applied),
   * then on the live ones, logged as one applyOps entry. A conflict aborts the transaction.
   */
  commit(): void {
    for (const entry of this.written.values()) {
      if (this.changedSinceSnapshot(entry)) {
        this.record.abortOpen();
        throw writeConflict();
      }
    }
    try {
      this.replay(this.live.catalog.clone());
    } catch (err) {
      this.record.abortOpen();
      if (err instanceof MongoError && err.code === ErrorCodes.DuplicateKey) throw writeConflict();
      throw err;
    }
    const oplog = this.live.replication?.oplog;
    if (oplog !== undefined) oplog.quiet += 1;
    let operations: Document[];
    try {
      operations = this.replay(this.live.catalog);
    } finally {
      if (oplog !== undefined) oplog.quiet -= 1;
    }
    if (oplog !== undefined && operations.length > 0) oplog.transaction(this.lsid, this.txnNumber, operations);
    this.end();
    this.record.open = undefined;
    this.record.kind = 'committed';
    this.coordinator.metrics.committed += 1;
    if (operations.length > 0) this.coordinator.metrics.sessionRecordWrites += 1;
  }

  /** The writes applied to `target` in order (collections the transaction created are created first); their applyOps operations. */
  private replay(target: Catalog): Document[] {
    const operations: Document[] = [];
    const targets = new Map<string, Collection>();
    const collectionFor = (db: string, name: string): Collection => {
      const ns = `${db}.${name}`;
      let collection = targets.get(ns);
      if (collection !== undefined) return collection;
      const mine = this.catalog.get(db, name)!;
      collection = target.get(db, name);
      if (collection !== undefined && !collection.uuid.equals(mine.uuid)) throw writeConflict();
      if (collection === undefined) {
        // Created in the transaction: it appears at commit, with its options and indexes.
        collection = target.create(db, name, { uuid: mine.uuid, capped: mine.capped?.options });
        collection.validation = mine.validation;
        for (const index of mine.indexes) if (index.name !== '_id_') collection.addIndex(index);
        operations.push({ op: 'c', ns: `${db}.$cmd`, ui: mine.uuid, o: { create: name, idIndex: { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' } } });
      }
      targets.set(ns, collection);
      return collection;
    };
    for (const write of this.writes) {
      const collection = collectionFor(write.db, write.name);
      if (write.op === 'c') continue;
      if (write.op === 'i') {
        collection.add(write.doc);
        operations.push(insertOperation(collection.ns, collection.uuid, write.doc));
      } else if (write.op === 'u') {
        collection.replace(write.old, write.next);
        operations.push(updateOperation(collection.ns, collection.uuid, write.old, write.next, write.replacement));
      } else {
        collection.remove(write.doc);
        operations.push(deleteOperation(collection.ns, collection.uuid, write.doc));
      }
    }
    return operations;
  }

  /** OpenTransaction.abort: the snapshot and writes are dropped, the held documents freed. */
  abort(): void {
    if (this.finished) return;
    this.end();
    this.coordinator.metrics.aborted += 1;
  }

  private end(): void {
    this.finished = true;
    this.live.sessions.detach(this.session, this.resource);
    for (const key of this.written.keys()) this.coordinator.release(key, this);
    this.coordinator.forget(this);
  }
}

/** What serverStatus().transactions counts (server_transactions_metrics.cpp). */
export class TransactionMetrics {
  retriedCommands = 0;
  retriedStatements = 0;
  /** Writes of session records (mongod's config.transactions): one per retryable write or transaction that wrote. */
  sessionRecordWrites = 0;
  started = 0;
  committed = 0;
  aborted = 0;
}

/**
 * The open transactions of a server: who holds which document, and the job that aborts those
 * older than transactionLifetimeLimitSeconds (mongod's abortExpiredTransactions). The job only
 * runs while a transaction is open.
 */
export class TransactionCoordinator {
  private readonly holders = new Map<string, Transaction>();
  private readonly open = new Set<Transaction>();
  /** While a transaction is open: the sequence number of each live write, by document (mongod's storage engine sees newer updates so). */
  private readonly liveWrites = new Map<string, number>();
  /** The number of the last live write seen while a transaction was open. */
  writeSeq = 0;
  private timer: TimerHandle | undefined;
  readonly metrics = new TransactionMetrics();

  constructor(
    private readonly clock: Clock,
    private readonly lifetimeSeconds: () => number,
    private readonly log: Log,
  ) {}

  /** Opens the transaction `record` just began (its first statement). */
  begin(live: Services, session: SessionRecord, record: TransactionRecord, txnNumber: Long, readConcern: Document | undefined): Transaction {
    const transaction = new Transaction(this, live, session, record, lsidDocument(session.lsid), txnNumber, readConcern);
    record.open = transaction;
    this.open.add(transaction);
    this.metrics.started += 1;
    this.schedule();
    return transaction;
  }

  /**
   * The live catalog's changes, seen on their way to `inner` (the oplog, the store): while a
   * transaction is open each written document's key gets a new sequence number. With none open
   * this costs one check per write.
   */
  observing(inner: CatalogChanges): CatalogChanges {
    const wrote = (collection: Collection, id: unknown): void => {
      if (this.open.size > 0) this.liveWrites.set(documentKey(collection, id), ++this.writeSeq);
    };
    return {
      written: (collection, seq, doc, replaced) => {
        wrote(collection, doc._id);
        inner.written(collection, seq, doc, replaced);
      },
      removed: (collection, seq, doc) => {
        wrote(collection, doc._id);
        inner.removed(collection, seq, doc);
      },
      described: (collection) => inner.described(collection),
      dropped: (collection) => inner.dropped(collection),
    };
  }

  /** The sequence number of the document's last live write while transactions were open (0: none). */
  lastWrite(key: string): number {
    return this.liveWrites.get(key) ?? 0;
  }

  holder(key: string): Transaction | undefined {
    return this.holders.get(key);
  }

  hold(key: string, transaction: Transaction): void {
    this.holders.set(key, transaction);
  }

  release(key: string, transaction: Transaction): void {
    if (this.holders.get(key) === transaction) this.holders.delete(key);
  }

  forget(transaction: Transaction): void {
    this.open.delete(transaction);
    if (this.open.size > 0) return;
    // No snapshot is left to compare with: the live writes' record starts again with the next transaction.
    this.liveWrites.clear();
    if (this.timer !== undefined) {
      this.clock.clearTimer(this.timer);
      this.timer = undefined;
    }
  }

  /** serverStatus().transactions, in mongod's field order; no statement of ours waits mid-transaction, so every open one is inactive between statements. */
  statusSection(): Document {
    const m = this.metrics;
    const long = (n: number) => Long.fromNumber(n);
    return {
      retriedCommandsCount: long(m.retriedCommands),
      retriedStatementsCount: long(m.retriedStatements),
      transactionsCollectionWriteCount: long(m.sessionRecordWrites),
      currentActive: long(0),
      currentInactive: long(this.open.size),
      currentOpen: long(this.open.size),
      totalAborted: long(m.aborted),
      totalCommitted: long(m.committed),
      totalStarted: long(m.started),
      totalPrepared: long(0),
      totalPreparedThenCommitted: long(0),
      totalPreparedThenAborted: long(0),
      currentPrepared: long(0),
    };
  }

  /** The open transactions, oldest first. */
  openTransactions(): Iterable<Transaction> {
    return this.open;
  }

  /** Aborts every open transaction (the data they read is being replaced). */
  abortAll(): void {
    for (const transaction of [...this.open]) transaction.record.abortOpen();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    // The check runs every second, so a transaction lives at most a second past its limit.
    this.timer = this.clock.setTimer(1000, () => {
      this.timer = undefined;
      this.abortExpired();
      if (this.open.size > 0) this.schedule();
    });
  }

  private abortExpired(): void {
    const limitMs = this.lifetimeSeconds() * 1000;
    const now = this.clock.now();
    for (const transaction of [...this.open]) {
      if (now - transaction.startedAt < limitMs) continue;
      this.log.info({
        c: 'TXN',
        id: 20707,
        ctx: 'AbortExpiredTransactions',
        msg: "Aborting transaction because it has been running for longer than 'transactionLifetimeLimitSeconds'",
        attr: { txnNumber: transaction.txnNumber.toNumber() },
      });
      transaction.record.abortOpen();
    }
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}

/** Commands that may not start a transaction (§4.1), with mongod's words. */
const START_REFUSALS: Readonly<Record<string, string>> = {
  commitTransaction: 'Cannot start a transaction with a commit',
  abortTransaction: 'Cannot start a transaction with an abort',
  killCursors: 'Cannot run killCursors as the first operation in a multi-document transaction.',
};

/** commitTransaction and abortTransaction, which end a transaction rather than run in it. */
export function finishesTransaction(commandName: string | undefined): boolean {
  return commandName === 'commitTransaction' || commandName === 'abortTransaction';
}

/**
 * validateSessionOptions and the transaction checks made before the session is checked out
 * (transaction_validation.cpp, service_entry_point_shard_role.cpp): none of these errors touches
 * an open transaction.
 */
export function checkTransactionStatement(spec: CommandSpec, body: Document, db: string): void {
  const { autocommit, startTransaction } = body;
  if (autocommit === true) throw new MongoError(ErrorCodes.InvalidOptions, 'Specifying autocommit=true is not allowed.');
  if (startTransaction === false) throw new MongoError(ErrorCodes.InvalidOptions, 'Specifying startTransaction=false is not allowed.');
  if (!spec.allowedInTransaction) {
    const suffix = spec.name === 'count' ? ' Please see http://dochub.mongodb.org/core/transaction-count for a recommended alternative.' : '';
    throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, `Cannot run '${spec.name}' in a multi-document transaction.${suffix}`);
  }
  if (startTransaction === true && START_REFUSALS[spec.name] !== undefined) {
    throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, START_REFUSALS[spec.name]!);
  }
  if (db === 'local') throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, "Cannot run command against the 'local' database in a transaction.");
  if (db === 'config') throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, 'Cannot run command against the config database in a transaction.');
  if (body.writeConcern !== undefined && !finishesTransaction(spec.name)) {
    throw new MongoError(ErrorCodes.InvalidOptions, 'writeConcern is not allowed within a multi-statement transaction');
  }
  const readConcern = body.readConcern;
  if (readConcern !== undefined) {
    if (startTransaction !== true) throw new MongoError(ErrorCodes.InvalidOptions, 'Only the first command in a transaction may specify a readConcern');
    if (isPlainObject(readConcern)) {
      if (readConcern.level !== undefined && !['local', 'majority', 'snapshot'].includes(readConcern.level as string)) {
        throw new MongoError(ErrorCodes.InvalidOptions, "The readConcern level must be either 'local' (default), 'majority' or 'snapshot' in order to run in a transaction");
      }
      if (readConcern.afterOpTime !== undefined) throw new MongoError(ErrorCodes.InvalidOptions, "The readConcern cannot specify 'afterOpTime' in a transaction");
    }
  }
}

/**
 * A statement with autocommit: false: begins the transaction (startTransaction) or continues it
 * (beginOrContinue's checks).
 */
export function beginOrContinue(services: Services, spec: CommandSpec, session: SessionRecord, record: TransactionRecord, txnNumber: Long, body: Document): void {
  const starts = record.beginOrContinueTransaction(txnNumber, body.startTransaction === true, lsidText(session.lsid), finishesTransaction(spec.name));
  if (starts) {
    const readConcern = isPlainObject(body.readConcern) ? body.readConcern : undefined;
    services.transactions.begin(services, session, record, txnNumber, readConcern);
  }
}

/** The open transaction a command with these arguments runs in, if any (commitTransaction and abortTransaction too). */
export function openTransaction(body: Document, session: SessionRecord | undefined): Transaction | undefined {
  return body.autocommit === undefined ? undefined : (session?.txn?.open as Transaction | undefined);
}

/** The open transaction a statement runs in, if any. */
export function transactionOf(ctx: CommandContext<never>): Transaction | undefined {
  return openTransaction(ctx.body, ctx.session);
}

type FinishContext = CommandContext<'transactions'>;

function recordOf(ctx: FinishContext): TransactionRecord {
  return ctx.session!.txn!;
}

/** commitTransaction (txn_cmds.cpp): commits; a commit of a committed transaction answers ok again. */
function commitTransaction(ctx: FinishContext): Document {
  const record = recordOf(ctx);
  if (record.kind === 'committed') return {};
  if (record.kind === 'aborted') throw record.abortedError();
  (record.open as Transaction).commit();
  return {};
}

/** abortTransaction: aborts; after a commit it is TransactionCommitted (256). */
function abortTransaction(ctx: FinishContext): Document {
  const record = recordOf(ctx);
  if (record.kind === 'committed') throw record.committedError();
  if (record.kind === 'aborted') throw record.abortedError();
  record.abortOpen();
  return {};
}

/** txn_cmds.cpp's traits of both: admin only, a write concern, recoveryToken accepted (mongos sends it). */
const FINISHING = { adminOnly: true, allowedInTransaction: true, supportsWriteConcern: true, apiVersion1: true, strict: true, fields: ['recoveryToken'] } as const;

/** commitTransaction, abortTransaction. */
export const transactionCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'commitTransaction', run: commitTransaction, ...FINISHING, help: 'Commits a transaction' }),
  defineCommand({ name: 'abortTransaction', run: abortTransaction, ...FINISHING, help: 'Aborts a transaction' }),
];
