// Issue 12, item 5: multi-document transactions on the replica set, through the driver's
// sessions (startTransaction/withTransaction), mongoose and mongosh, with mongod's replies.
import { Long, MongoClient, MongoServerError, Timestamp, UUID, type ClientSession, type Document } from 'mongodb';
import mongoose from 'mongoose';
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { serverError, useDriver } from '../helpers/driver.js';
import { withRawClient } from '../helpers/rawClient.js';
import { runMongosh, startServer } from '../helpers/server.js';

const t = useDriver('txn', { replSet: 'rs0', setParameter: { enableTestCommands: true } });

/** mongod's error fields, without the cluster time every reply of a set carries. */
async function expectTxnError(promise: Promise<unknown>, code: number, codeName: string, errmsg: string, labels: string[] = []): Promise<MongoServerError> {
  const err = await serverError(promise);
  const { $clusterTime, operationTime, errorLabels, ...rest } = err.errorResponse as Document;
  expect(rest).toEqual({ ok: 0, errmsg, code, codeName });
  expect(errorLabels ?? []).toEqual(labels);
  expect(operationTime).toBeInstanceOf(Timestamp);
  expect($clusterTime).toBeDefined();
  return err;
}

/**
 * Hand-numbered statements of one session over a raw connection (the driver would number
 * commitTransaction itself): `run(command)` sends it on `db` ('admin' for commit and abort) with
 * the session's lsid and `$db`, and resolves with the reply, failing on an error reply unless
 * `expectError` is used.
 */
interface RawSession {
  readonly lsid: Document;
  run(command: Document, db?: string): Promise<Document>;
  fails(command: Document, db?: string): Promise<Document>;
}

async function withRawSession<T>(fn: (session: RawSession) => Promise<T>): Promise<T> {
  const lsid = { id: new UUID() };
  return withRawClient(t.server.port, async (raw) => {
    const send = async (command: Document, db = 'txn') => (await raw.command({ ...command, lsid, $db: db })).doc;
    return fn({
      lsid,
      async run(command, db) {
        const reply = await send(command, db);
        if (reply.ok !== 1) throw new Error(`command failed: ${JSON.stringify(reply)}`);
        return reply;
      },
      async fails(command, db) {
        const reply = await send(command, db);
        expect(reply.ok).toBe(0);
        return reply;
      },
    });
  });
}

/** An error reply's mongod fields, its labels, and the cluster time a set adds. */
function expectReply(reply: Document, code: number, codeName: string, errmsg: string, labels: string[] = []): void {
  const { $clusterTime, operationTime, errorLabels, ...rest } = reply;
  expect(rest).toEqual({ ok: 0, errmsg, code, codeName });
  expect(errorLabels ?? []).toEqual(labels);
  // The raw connection decodes with the bson package, not the driver's copy of it.
  expect(operationTime._bsontype).toBe('Timestamp');
  expect($clusterTime).toBeDefined();
}

describe('isolation and atomicity', () => {
  test('withTransaction: writes are invisible outside until commit, then all there at once; the oplog holds one applyOps', async () => {
    const c = t.db.collection('accounts');
    await c.insertMany([{ _id: 'a', balance: 100 }, { _id: 'b', balance: 0 }] as Document[]);
    const session = t.client.startSession();
    try {
      await session.withTransaction(async () => {
        await c.updateOne({ _id: 'a' } as Document, { $inc: { balance: -30 } }, { session });
        await c.updateOne({ _id: 'b' } as Document, { $inc: { balance: 30 } }, { session });
        await t.db.collection('ledger').insertOne({ from: 'a', to: 'b', amount: 30 }, { session });
        // Inside: the transaction's own writes; outside: nothing yet (not even the new collection).
        expect(await c.find({}, { session }).sort({ _id: 1 }).toArray()).toEqual([{ _id: 'a', balance: 70 }, { _id: 'b', balance: 30 }]);
        expect(await c.find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 'a', balance: 100 }, { _id: 'b', balance: 0 }]);
        expect((await t.db.listCollections({ name: 'ledger' }).toArray()).length).toBe(0);
      });
    } finally {
      await session.endSession();
    }
    expect(await c.find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 'a', balance: 70 }, { _id: 'b', balance: 30 }]);
    expect(await t.db.collection('ledger').countDocuments()).toBe(1);
    const [entry] = await t.client.db('local').collection('oplog.rs').find({ op: 'c', ns: 'admin.$cmd', 'o.applyOps.ns': 'txn.ledger' }).toArray();
    expect(entry!.o.applyOps.map((op: Document) => op.op)).toEqual(['u', 'u', 'c', 'i']);
    expect(entry!.txnNumber).toBeGreaterThan(0);
    expect(entry!.lsid.id).toBeDefined();
  });

  test('a transaction reads one snapshot: a commit by someone else after its first statement is not seen', async () => {
    const c = t.db.collection('snap');
    await c.insertOne({ _id: 1, v: 'old' } as Document);
    const session = t.client.startSession();
    try {
      session.startTransaction();
      expect(await c.findOne({ _id: 1 } as Document, { session })).toEqual({ _id: 1, v: 'old' });
      await c.updateOne({ _id: 1 } as Document, { $set: { v: 'new' } });
      await c.insertOne({ _id: 2 } as Document);
      expect(await c.findOne({ _id: 1 } as Document, { session })).toEqual({ _id: 1, v: 'old' });
      expect(await c.countDocuments({}, { session })).toBe(1);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
  });

  test('abortTransaction leaves nothing behind, a new collection included', async () => {
    const session = t.client.startSession();
    try {
      session.startTransaction();
      await t.db.collection('neverMade').insertOne({ x: 1 }, { session });
      await t.db.collection('snap').deleteMany({}, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await t.db.listCollections({ name: 'neverMade' }).toArray()).toEqual([]);
    expect(await t.db.collection('snap').countDocuments()).toBe(2);
  });

  test('two conflicting transactions: the second writer gets WriteConflict + TransientTransactionError, and withTransaction retries it to success', async () => {
    const c = t.db.collection('counter');
    await c.insertOne({ _id: 'n', value: 0 } as Document);
    const s1 = t.client.startSession();
    const s2 = t.client.startSession();
    try {
      s1.startTransaction();
      s2.startTransaction();
      await c.updateOne({ _id: 'n' } as Document, { $inc: { value: 1 } }, { session: s1 });
      const err = await expectTxnError(
        c.updateOne({ _id: 'n' } as Document, { $inc: { value: 1 } }, { session: s2 }),
        112,
        'WriteConflict',
        'WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.',
        ['TransientTransactionError'],
      );
      expect(err.hasErrorLabel('TransientTransactionError')).toBe(true);
      await s1.commitTransaction();
      await s2.abortTransaction();

      // Two withTransaction callbacks racing on one document: both end up applied, one after a retry.
      let attempts = 0;
      const bump = (session: ClientSession) =>
        session.withTransaction(async () => {
          attempts += 1;
          const doc = await c.findOne({ _id: 'n' } as Document, { session });
          await new Promise((resolve) => setImmediate(resolve));
          await c.updateOne({ _id: 'n' } as Document, { $set: { value: doc!.value + 1 } }, { session });
        });
      await Promise.all([bump(s1), bump(s2)]);
      expect(attempts).toBeGreaterThan(2);
      expect(await c.findOne({ _id: 'n' } as Document)).toEqual({ _id: 'n', value: 3 });
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
  });

  test('a write outside any transaction to a document a transaction wrote makes that transaction fail at commit, transiently', async () => {
    const c = t.db.collection('outside');
    await c.insertOne({ _id: 1, v: 0 } as Document);
    const session = t.client.startSession();
    try {
      session.startTransaction();
      await c.updateOne({ _id: 1 } as Document, { $set: { v: 'txn' } }, { session });
      await c.updateOne({ _id: 1 } as Document, { $set: { v: 'plain' } });
      const err = await serverError(session.commitTransaction());
      expect(err.code).toBe(112);
      expect(err.hasErrorLabel('TransientTransactionError')).toBe(true);
    } finally {
      await session.endSession();
    }
    expect(await c.findOne({ _id: 1 } as Document)).toEqual({ _id: 1, v: 'plain' });
  });

  test('a duplicate key in a transaction is a write error (ok: 1, no label), stops even an unordered batch, and aborts it', async () => {
    await t.db.collection('dupes').insertOne({ _id: 1 } as Document);
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(1), autocommit: false };
      const reply = await session.run({ insert: 'dupes', documents: [{ _id: 2 }, { _id: 1 }, { _id: 3 }], ordered: false, ...base, startTransaction: true });
      expect(reply.n).toBe(1);
      expect(reply.writeErrors).toHaveLength(1);
      expect(reply.writeErrors[0].code).toBe(11000);
      expect(reply.errorLabels).toBeUndefined();
      expectReply(await session.fails({ commitTransaction: 1, ...base }, 'admin'), 251, 'NoSuchTransaction', 'Transaction with { txnNumber: 1 } has been aborted.', ['TransientTransactionError']);
    });
    expect(await t.db.collection('dupes').countDocuments()).toBe(1);
  });
});

describe("the transaction's state machine, as mongod answers it", () => {
  test('commit twice is ok; abort after commit is TransactionCommitted; statements after commit too', async () => {
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(5), autocommit: false };
      await session.run({ insert: 'states', documents: [{ a: 1 }], ...base, startTransaction: true });
      await session.run({ commitTransaction: 1, ...base }, 'admin');
      await session.run({ commitTransaction: 1, ...base }, 'admin');
      expectReply(await session.fails({ abortTransaction: 1, ...base }, 'admin'), 256, 'TransactionCommitted', 'Transaction with { txnNumber: 5 } has been committed.');
      expectReply(await session.fails({ find: 'states', ...base }), 256, 'TransactionCommitted', 'Transaction with { txnNumber: 5 } has been committed.');
      expectReply(
        await session.fails({ find: 'states', ...base, startTransaction: true }),
        117,
        'ConflictingOperationInProgress',
        'Only servers in a sharded cluster can start a new transaction at the active transaction number',
      );
      expectReply(
        await session.fails({ commitTransaction: 1, ...base, txnNumber: Long.fromNumber(6) }, 'admin'),
        251,
        'NoSuchTransaction',
        'Given transaction number 6 does not match any in-progress transactions. The active transaction number is 5',
        ['TransientTransactionError'],
      );
      const tooOld = await session.fails({ find: 'states', ...base, txnNumber: Long.fromNumber(4), startTransaction: true });
      expect(tooOld.code).toBe(225);
      expect(tooOld.errmsg).toMatch(
        /^Cannot start transaction with \{ txnNumber: 4 \} on session [0-9a-f-]{36} - [A-Za-z0-9+/=]+ - {2}- {2}because a newer transaction with txnNumberAndRetryCounter \{ txnNumber: 5, txnRetryCounter: 0 \} has already started on this session\.$/,
      );
      expectReply(
        await session.fails({ insert: 'states', documents: [{}], txnNumber: Long.fromNumber(5) }),
        217,
        'IncompleteTransactionHistory',
        'Cannot retry a retryable write that has been converted into a transaction',
      );
    });
  });

  test("refusals before the statement runs leave the transaction open: commands not allowed, a later readConcern, a statement's writeConcern", async () => {
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(1), autocommit: false };
      await session.run({ insert: 'refusals', documents: [{ _id: 1 }], ...base, startTransaction: true, readConcern: { level: 'snapshot' } });
      expectReply(
        await session.fails({ count: 'refusals', ...base }),
        263,
        'OperationNotSupportedInTransaction',
        "Cannot run 'count' in a multi-document transaction. Please see http://dochub.mongodb.org/core/transaction-count for a recommended alternative.",
      );
      expectReply(await session.fails({ drop: 'refusals', ...base }), 263, 'OperationNotSupportedInTransaction', "Cannot run 'drop' in a multi-document transaction.");
      expectReply(await session.fails({ find: 'refusals', ...base, readConcern: { level: 'local' } }), 72, 'InvalidOptions', 'Only the first command in a transaction may specify a readConcern');
      expectReply(
        await session.fails({ insert: 'refusals', documents: [{}], ...base, writeConcern: { w: 1 } }),
        72,
        'InvalidOptions',
        'writeConcern is not allowed within a multi-statement transaction',
      );
      expectReply(await session.fails({ find: 'refusals', ...base, autocommit: true }), 72, 'InvalidOptions', 'Specifying autocommit=true is not allowed.');
      expectReply(await session.fails({ find: 'refusals', txnNumber: Long.fromNumber(1) }), 50768, 'NotARetryableWriteCommand',
        'txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and find is not a retryable write command.');
      await session.run({ commitTransaction: 1, ...base }, 'admin');
      expect(await t.db.collection('refusals').countDocuments()).toBe(1);
      expectReply(
        await session.fails({ commitTransaction: 1, ...base, txnNumber: Long.fromNumber(2), startTransaction: true }, 'admin'),
        263,
        'OperationNotSupportedInTransaction',
        'Cannot start a transaction with a commit',
      );
    });
  });

  test('killSessions aborts the open transaction; endSessions does not', async () => {
    const session = t.client.startSession();
    try {
      session.startTransaction();
      await t.db.collection('killed').insertOne({ x: 1 }, { session });
      await t.client.db('admin').command({ killSessions: [{ id: session.id!.id }] });
      const err = await serverError(session.commitTransaction());
      expect(err.code).toBe(251);
      expect(err.hasErrorLabel('TransientTransactionError')).toBe(true);
    } finally {
      await session.endSession();
    }
    expect(await t.db.collection('killed').countDocuments()).toBe(0);

    await withRawSession(async (own) => {
      const base = { txnNumber: Long.fromNumber(1), autocommit: false };
      await own.run({ insert: 'ended', documents: [{ x: 1 }], ...base, startTransaction: true });
      await t.client.db('admin').command({ endSessions: [own.lsid] });
      await own.run({ commitTransaction: 1, ...base }, 'admin');
    });
    expect(await t.db.collection('ended').countDocuments()).toBe(1);
  });
});

describe('collections and indexes made in a transaction (4.4+)', () => {
  test('create and createIndexes on the new empty collection appear at commit, in the applyOps; existing or non-empty collections refuse an index build', async () => {
    await t.db.collection('existing').insertOne({ a: 1 });
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(1), autocommit: false };
      await session.run({ create: 'madeInTxn', ...base, startTransaction: true });
      const built = await session.run({ createIndexes: 'madeInTxn', indexes: [{ key: { b: 1 }, name: 'b_1', unique: true }], ...base });
      expect(built).toMatchObject({ numIndexesBefore: 1, numIndexesAfter: 2 });
      expect((await t.db.listCollections({ name: 'madeInTxn' }).toArray()).length).toBe(0);
      expectReply(
        await session.fails({ createIndexes: 'existing', indexes: [{ key: { a: 1 }, name: 'a_1' }], ...base }),
        263,
        'OperationNotSupportedInTransaction',
        'Cannot create new indexes on existing collection txn.existing in a multi-document transaction.',
      );
    });
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(1), autocommit: false };
      await session.run({ create: 'madeInTxn2', ...base, startTransaction: true });
      await session.run({ createIndexes: 'madeInTxn2', indexes: [{ key: { b: 1 }, name: 'b_1', unique: true }], ...base });
      await session.run({ insert: 'madeInTxn2', documents: [{ b: 1 }], ...base });
      expectReply(
        await session.fails({ createIndexes: 'madeInTxn2', indexes: [{ key: { c: 1 }, name: 'c_1' }], ...base }),
        263,
        'OperationNotSupportedInTransaction',
        'Cannot create new indexes on non-empty collection txn.madeInTxn2 in a multi-document transaction.',
      );
    });
    // The first transaction was aborted by its failed statement; the second by its own. Now one that commits:
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(1), autocommit: false };
      await session.run({ create: 'madeInTxn3', ...base, startTransaction: true });
      await session.run({ createIndexes: 'madeInTxn3', indexes: [{ key: { b: 1 }, name: 'b_1', unique: true }], ...base });
      await session.run({ commitTransaction: 1, ...base }, 'admin');
    });
    expect((await t.db.collection('madeInTxn3').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'b_1']);
    await t.db.collection('madeInTxn3').insertOne({ b: 1 });
    await expect(t.db.collection('madeInTxn3').insertOne({ b: 1 })).rejects.toThrow(/E11000/);
    const [entry] = await t.client.db('local').collection('oplog.rs').find({ 'o.applyOps.o.create': 'madeInTxn3' }).toArray();
    expect(entry!.o.applyOps[0]).toMatchObject({ op: 'c', ns: 'txn.$cmd', o: { create: 'madeInTxn3' } });
  });

  test('$currentOp and currentOp show an open transaction between its statements as an inactive transaction', async () => {
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(3), autocommit: false };
      await session.run({ insert: 'idle', documents: [{}], ...base, startTransaction: true, readConcern: { level: 'snapshot' } });
      const [op] = await t.client.db('admin').aggregate([{ $currentOp: {} }, { $match: { desc: 'inactive transaction', 'lsid.id': session.lsid.id } }]).toArray();
      expect(op).toMatchObject({ type: 'idleSession', desc: 'inactive transaction', active: false, waitingForLock: false });
      expect(op!.transaction.parameters).toEqual({ txnNumber: 3, txnRetryCounter: 0, autocommit: false, readConcern: { level: 'snapshot' } });
      expect(Object.keys(op!.transaction)).toEqual(['parameters', 'readTimestamp', 'startWallClockTime', 'timeOpenMicros', 'timeActiveMicros', 'timeInactiveMicros', 'expiryTime']);
      const { inprog } = await t.client.db('admin').command({ currentOp: 1, desc: 'inactive transaction' });
      expect(inprog.some((o: Document) => o.lsid.id.toString('hex') === session.lsid.id.toString('hex'))).toBe(true);
      const none = await t.client.db('admin').aggregate([{ $currentOp: { idleSessions: false } }, { $match: { desc: 'inactive transaction' } }]).toArray();
      expect(none).toEqual([]);
      await session.run({ abortTransaction: 1, ...base }, 'admin');
    });
  });

  test('serverStatus().transactions counts started, committed and aborted transactions and retried writes', async () => {
    const before = (await t.client.db('admin').command({ serverStatus: 1 })).transactions;
    expect(Object.keys(before).slice(0, 9)).toEqual([
      'retriedCommandsCount', 'retriedStatementsCount', 'transactionsCollectionWriteCount', 'currentActive', 'currentInactive', 'currentOpen', 'totalAborted', 'totalCommitted', 'totalStarted',
    ]);
    await withRawSession(async (session) => {
      await session.run({ insert: 'counted', documents: [{}], txnNumber: Long.fromNumber(1) });
      await session.run({ insert: 'counted', documents: [{}], txnNumber: Long.fromNumber(1) });
      await session.run({ insert: 'counted', documents: [{}], txnNumber: Long.fromNumber(2), autocommit: false, startTransaction: true });
      const open = (await t.client.db('admin').command({ serverStatus: 1 })).transactions;
      expect(open.currentOpen - before.currentOpen).toBe(1);
      await session.run({ abortTransaction: 1, txnNumber: Long.fromNumber(2), autocommit: false }, 'admin');
    });
    const after = (await t.client.db('admin').command({ serverStatus: 1 })).transactions;
    expect(after.retriedCommandsCount - before.retriedCommandsCount).toBe(1);
    expect(after.retriedStatementsCount - before.retriedStatementsCount).toBe(1);
    expect(after.totalStarted - before.totalStarted).toBe(1);
    expect(after.totalAborted - before.totalAborted).toBe(1);
    expect(after.currentOpen).toBe(before.currentOpen);
  });
});

describe('fail points in a transaction (issue 12 item 7)', () => {
  const failCommand = (data: Document, mode: Document | string = { times: 1 }) => t.client.db('admin').command({ configureFailPoint: 'failCommand', mode, data });

  test("withTransaction retries a statement that fails with TransientTransactionError, and a commit whose error is a RetryableWriteError", async () => {
    const session = t.client.startSession();
    try {
      let attempts = 0;
      await failCommand({ failCommands: ['insert'], errorCode: 112, errorLabels: ['TransientTransactionError'] });
      await session.withTransaction(async () => {
        attempts += 1;
        await t.db.collection('failing').insertOne({ attempt: attempts }, { session });
      });
      expect(attempts).toBe(2);
      await failCommand({ failCommands: ['commitTransaction'], errorCode: 189 });
      await session.withTransaction(async () => {
        await t.db.collection('failing').insertOne({ second: true }, { session });
      });
      expect(await t.db.collection('failing').countDocuments()).toBe(2);
    } finally {
      await session.endSession();
      await failCommand({}, 'off');
    }
  });

  test('commitTransaction: a retriable error is labelled RetryableWriteError (not transient); a writeConcernError comes on an ok reply', async () => {
    await withRawSession(async (session) => {
      const base = { txnNumber: Long.fromNumber(1), autocommit: false };
      await session.run({ insert: 'failing2', documents: [{}], ...base, startTransaction: true });
      await failCommand({ failCommands: ['commitTransaction'], errorCode: 189 });
      const failed = await session.fails({ commitTransaction: 1, ...base }, 'admin');
      expect(failed.code).toBe(189);
      expect(failed.errorLabels).toEqual(['RetryableWriteError', 'NoWritesPerformed']);
      const wce = { code: 64, codeName: 'WriteConcernFailed', errmsg: 'waiting for replication timed out', errInfo: { wtimeout: true } };
      await failCommand({ failCommands: ['commitTransaction'], writeConcernError: wce });
      const reply = await session.run({ commitTransaction: 1, ...base, writeConcern: { w: 'majority' } }, 'admin');
      expect(reply.writeConcernError).toEqual(wce);
      expect(reply.errorLabels).toBeUndefined();
    });
    await failCommand({}, 'off');
    expect(await t.db.collection('failing2').countDocuments()).toBe(1);
  });
});

describe('lifetime', () => {
  test('a transaction older than transactionLifetimeLimitSeconds is aborted; its commit is NoSuchTransaction', async () => {
    const clock = new VirtualClock();
    const server = await startServer({ replSet: 'rs0', clock, setParameter: { transactionLifetimeLimitSeconds: 5 } });
    const client = new MongoClient(server.uri);
    try {
      const session = client.startSession();
      session.startTransaction();
      await client.db('life').collection('c').insertOne({ x: 1 }, { session });
      clock.advance(6_000);
      const err = await serverError(session.commitTransaction());
      expect(err.code).toBe(251);
      expect(err.message).toBe('Transaction with { txnNumber: 1 } has been aborted.');
      expect(await client.db('life').collection('c').countDocuments()).toBe(0);
      await session.endSession();
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('users', () => {
  test('mongoose: a transaction with Model.create and updateOne in connection.transaction()', async () => {
    const connection = await mongoose.createConnection(`${t.server.uri.replace('/?', '/shop?')}`).asPromise();
    try {
      const Order = connection.model('Order', new mongoose.Schema({ item: String, qty: Number }));
      const Stock = connection.model('Stock', new mongoose.Schema({ _id: String, left: Number }));
      await Stock.create({ _id: 'apple', left: 5 });
      await connection.transaction(async (session) => {
        await Order.create([{ item: 'apple', qty: 2 }], { session });
        await Stock.updateOne({ _id: 'apple' }, { $inc: { left: -2 } }, { session });
      });
      expect((await Stock.findById('apple').lean())!.left).toBe(3);
      expect(await Order.countDocuments()).toBe(1);
      const failed = await connection
        .transaction(async (session) => {
          await Order.create([{ item: 'pear', qty: 1 }], { session });
          throw new Error('changed my mind');
        })
        .catch((e: Error) => e.message);
      expect(failed).toBe('changed my mind');
      expect(await Order.countDocuments()).toBe(1);
    } finally {
      await connection.close();
    }
  });

  test('mongosh: session.startTransaction(), a write, commitTransaction()', async () => {
    const script = [
      'const s = db.getMongo().startSession();',
      's.startTransaction();',
      "s.getDatabase('shell').items.insertOne({ name: 'in txn' });",
      "print('outside before commit: ' + db.getSiblingDB('shell').items.countDocuments());",
      's.commitTransaction();',
      "print('after commit: ' + db.getSiblingDB('shell').items.countDocuments());",
    ].join('\n');
    const result = await runMongosh(t.server.uri, script);
    expect(result.stdout.trim().split('\n')).toEqual(['outside before commit: 0', 'after commit: 1']);
  });
});
