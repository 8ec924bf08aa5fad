// Issue 12: --replSet. A one-member replica set, primary at once: the driver discovers it with
// ?replicaSet=, every reply carries cluster time, writes go to local.oplog.rs, and retryable
// writes answer a retry without writing twice.
import { Binary, Int32, Long, MongoClient, MongoServerError, type Db, ObjectId, Timestamp, UUID, type ClientSession, type Document } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { serverError, useDriver } from '../helpers/driver.js';
import { withRawClient } from '../helpers/rawClient.js';
import { runMongosh } from '../helpers/server.js';

const t = useDriver('rs', { replSet: 'rs0', setParameter: { enableTestCommands: true } });

/** A server error with mongod's fields, and the cluster time a replica set adds to every reply. */
async function expectReplicaSetError(promise: Promise<unknown>, code: number, codeName: string, errmsg: string): Promise<MongoServerError> {
  const err = await serverError(promise);
  const { $clusterTime, operationTime, ...rest } = err.errorResponse as Document;
  expect(rest).toEqual({ ok: 0, errmsg, code, codeName });
  expect($clusterTime.clusterTime).toBeInstanceOf(Timestamp);
  expect(operationTime).toBeInstanceOf(Timestamp);
  return err;
}

function oplog(filter: Document = {}): Promise<Document[]> {
  return t.client.db('local').collection('oplog.rs').find(filter).toArray();
}

afterEach(async () => {
  await t.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
});

describe('looking like a primary', () => {
  test('the driver sees a replica set with a primary, named as the uri says', async () => {
    expect(t.server.uri).toMatch(/\?replicaSet=rs0$/);
    await t.db.command({ ping: 1 });
    // The driver's topology (not in its public typings).
    const description = (t.client as unknown as { topology: { description: { type: string; setName: string } } }).topology.description;
    expect(description.type).toBe('ReplicaSetWithPrimary');
    expect(description.setName).toBe('rs0');
  });

  test('hello: the set fields in mongod order, then the standalone ones, then cluster time', async () => {
    const reply = await t.db.command({ hello: 1 });
    const me = `127.0.0.1:${t.server.port}`;
    expect(Object.keys(reply)).toEqual([
      'topologyVersion', 'hosts', 'setName', 'setVersion', 'isWritablePrimary', 'secondary', 'primary', 'me', 'electionId', 'lastWrite',
      'maxBsonObjectSize', 'maxMessageSizeBytes', 'maxWriteBatchSize', 'localTime', 'logicalSessionTimeoutMinutes', 'connectionId',
      'minWireVersion', 'maxWireVersion', 'readOnly', 'ok', '$clusterTime', 'operationTime',
    ]);
    expect(reply).toMatchObject({ hosts: [me], setName: 'rs0', setVersion: 1, isWritablePrimary: true, secondary: false, primary: me, me });
    expect(reply.electionId).toEqual(new ObjectId('7fffffff0000000000000001'));
    expect(reply.lastWrite.opTime.ts).toBeInstanceOf(Timestamp);
    expect(reply.lastWrite.lastWriteDate.getTime() % 1000).toBe(0);
    expect(reply.$clusterTime.signature).toEqual({ hash: expect.anything(), keyId: 0 });
    expect(Buffer.from(reply.$clusterTime.signature.hash.buffer).equals(Buffer.alloc(20))).toBe(true);
    const legacy = await t.db.command({ isMaster: 1 });
    expect(legacy.ismaster).toBe(true);
    expect(legacy.isWritablePrimary).toBeUndefined();
  });

  test('replSetGetStatus and replSetGetConfig describe the one member; replSetInitiate finds it initiated', async () => {
    const admin = t.client.db('admin');
    const status = await admin.command({ replSetGetStatus: 1 });
    expect(status).toMatchObject({ set: 'rs0', myState: 1, majorityVoteCount: 1, writeMajorityCount: 1 });
    expect(status.members).toHaveLength(1);
    expect(status.members[0]).toMatchObject({ _id: 0, name: `127.0.0.1:${t.server.port}`, health: 1, state: 1, stateStr: 'PRIMARY', self: true });
    const { config } = await admin.command({ replSetGetConfig: 1 });
    expect(config).toMatchObject({ _id: 'rs0', version: 1, term: 1, members: [{ _id: 0, host: `127.0.0.1:${t.server.port}`, priority: 1, votes: 1 }] });
    expect(await t.client.db('local').collection('system.replset').findOne()).toEqual(config);
    await expectReplicaSetError(admin.command({ replSetInitiate: {} }), 23, 'AlreadyInitialized', 'already initialized');
  });

  test('mongosh: rs.status(), rs.conf() and the prompt of a primary', async () => {
    const result = await runMongosh(t.server.uri, "print(rs.status().members[0].stateStr); print(rs.conf()._id); print(db.hello().setName)");
    expect(result.stdout.trim().split('\n')).toEqual(['PRIMARY', 'rs0', 'rs0']);
  });
});

describe('cluster time', () => {
  test('every reply, errors too, carries $clusterTime and operationTime; a write moves both', async () => {
    const before = await t.db.command({ ping: 1 });
    expect(before.operationTime.lessThanOrEqual(before.$clusterTime.clusterTime)).toBe(true);
    const write = await t.db.command({ insert: 'times', documents: [{ a: 1 }] });
    expect(write.operationTime.greaterThan(before.operationTime)).toBe(true);
    expect(write.$clusterTime.clusterTime.equals(write.operationTime)).toBe(true);
    await expectReplicaSetError(t.db.command({ noSuchCommand: 1 }), 59, 'CommandNotFound', "no such command: 'noSuchCommand'");
  });

  test('a write reply has electionId and opTime after n', async () => {
    const reply = await t.db.command({ insert: 'times', documents: [{ a: 2 }] });
    expect(Object.keys(reply)).toEqual(['n', 'electionId', 'opTime', 'ok', '$clusterTime', 'operationTime']);
    expect(reply.opTime).toEqual({ ts: reply.operationTime, t: 1 });
  });

  test('a client gossips a later cluster time in; afterClusterTime beyond it is refused, at or before it is served', async () => {
    const now = (await t.db.command({ ping: 1 })).$clusterTime.clusterTime as Timestamp;
    const later = new Timestamp({ t: now.t + 100, i: 1 });
    // The driver sends the cluster time it last saw; a raw connection sends ours (Int32 keyId, as Node sends it back).
    const reply = await withRawClient(t.server.port, (raw) =>
      raw.command({ ping: 1, $db: 'rs', $clusterTime: { clusterTime: later, signature: { hash: new Binary(Buffer.alloc(20)), keyId: 0 } } }),
    );
    expect(reply.doc.$clusterTime.clusterTime).toEqual(later);
    expect(reply.doc.operationTime.lessThan(later)).toBe(true);
    await t.db.command({ find: 'times', readConcern: { afterClusterTime: later } });
    const beyond = new Timestamp({ t: now.t + 200, i: 1 });
    await expectReplicaSetError(
      t.db.command({ find: 'times', readConcern: { afterClusterTime: beyond } }),
      72,
      'InvalidOptions',
      `readConcern afterClusterTime value must not be greater than the current clusterTime. Requested clusterTime: { ts: Timestamp(${beyond.t}, 1) }; current clusterTime: { ts: Timestamp(${later.t}, 1) }`,
    );
    await expectReplicaSetError(t.db.command({ find: 'times', readConcern: { afterClusterTime: new Timestamp({ t: 0, i: 0 }) } }), 72, 'InvalidOptions', 'afterClusterTime cannot be a null timestamp');
  });

  test('a causally consistent session reads its own writes', async () => {
    const session = t.client.startSession({ causalConsistency: true });
    try {
      const c = t.db.collection('causal');
      await c.insertOne({ _id: 'x' } as Document, { session });
      expect(session.operationTime).toBeInstanceOf(Timestamp);
      expect(await c.findOne({ _id: 'x' } as Document, { session })).toEqual({ _id: 'x' });
    } finally {
      await session.endSession();
    }
  });

  test('write concerns: w: "majority" is met by the one member; w: 2 writes and says it cannot be met; an unknown tag is refused', async () => {
    await t.db.collection('wc').insertOne({ a: 1 }, { writeConcern: { w: 'majority' } });
    const err = await serverError(t.db.command({ insert: 'wc', documents: [{ a: 2 }], writeConcern: { w: 2 } }));
    const reply = err.errorResponse as Document;
    expect(reply.n).toBe(1);
    expect(reply.writeConcernError).toEqual({
      code: 100,
      codeName: 'UnsatisfiableWriteConcern',
      errmsg: 'Not enough data-bearing nodes',
      errInfo: { writeConcern: { w: 2, wtimeout: 0, provenance: 'clientSupplied' } },
    });
    expect(await t.db.collection('wc').countDocuments({ a: 2 })).toBe(1);
    await expectReplicaSetError(
      t.db.command({ insert: 'wc', documents: [{ a: 3 }], writeConcern: { w: 'dc1' } }),
      79,
      'UnknownReplWriteConcern',
      "No write concern mode named 'dc1' found in replica set configuration",
    );
  });
});

describe('snapshot reads outside transactions', () => {
  test("a snapshot session's reads all see the data as of its first read; the reply names that time", async () => {
    const c = t.db.collection('snapReads');
    await c.insertMany([{ _id: 1, v: 'a' }, { _id: 2, v: 'b' }] as Document[]);
    const session = t.client.startSession({ snapshot: true });
    try {
      expect(await c.find({}, { session }).toArray()).toHaveLength(2);
      await c.insertOne({ _id: 3, v: 'c' } as Document);
      await c.updateOne({ _id: 1 } as Document, { $set: { v: 'changed' } });
      expect(await c.find({}, { session }).sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, v: 'a' }, { _id: 2, v: 'b' }]);
      expect(await c.aggregate([{ $count: 'n' }], { session }).toArray()).toEqual([{ n: 2 }]);
      expect((await c.distinct('v', {}, { session })).sort()).toEqual(['a', 'b']);
    } finally {
      await session.endSession();
    }
    const reply = await t.db.command({ find: 'snapReads', readConcern: { level: 'snapshot' } });
    expect(reply.cursor.atClusterTime).toBeInstanceOf(Timestamp);
    expect(reply.cursor.firstBatch).toHaveLength(3);
    const distinct = await t.db.command({ distinct: 'snapReads', key: 'v', readConcern: { level: 'snapshot', atClusterTime: reply.cursor.atClusterTime } });
    expect(distinct.atClusterTime).toEqual(reply.cursor.atClusterTime);
  });

  test('a time in the future is refused (72); one older than every snapshot kept is SnapshotTooOld (239)', async () => {
    const now = (await t.db.command({ ping: 1 })).$clusterTime.clusterTime as Timestamp;
    const future = new Timestamp({ t: now.t + 1000, i: 1 });
    await expectReplicaSetError(
      t.db.command({ find: 'snapReads', readConcern: { level: 'snapshot', atClusterTime: future } }),
      72,
      'InvalidOptions',
      `readConcern atClusterTime value must not be greater than the current clusterTime. Requested clusterTime: { ts: Timestamp(${future.t}, 1) }; current clusterTime: { ts: Timestamp(${now.t}, ${now.i}) }`,
    );
    const old = new Timestamp({ t: now.t - 1000, i: 1 });
    await expectReplicaSetError(
      t.db.command({ find: 'snapReads', readConcern: { level: 'snapshot', atClusterTime: old } }),
      239,
      'SnapshotTooOld',
      `Read timestamp Timestamp(${old.t}, 1) is older than the oldest available timestamp.`,
    );
  });
});

describe('the oplog', () => {
  test('inserts, updates (a diff), replacements (the document), deletes and their namespace and UUID', async () => {
    const c = t.db.collection('ops');
    await c.insertOne({ _id: 1, a: 1, b: { c: 1 }, arr: [1, 2, 3] } as Document);
    await c.updateOne({ _id: 1 } as Document, { $set: { a: 2, 'b.c': 2, n: 'new' }, $unset: { arr: '' } });
    await c.replaceOne({ _id: 1 } as Document, { x: 1 });
    await c.deleteOne({ _id: 1 } as Document);
    const [info] = await t.db.listCollections({ name: 'ops' }).toArray();
    const entries = await oplog({ ns: 'rs.ops' });
    expect(entries.map((e) => e.op)).toEqual(['i', 'u', 'u', 'd']);
    for (const entry of entries) {
      expect(entry.ui).toEqual((info as Document).info.uuid);
      expect(entry.t).toBe(1);
      expect(entry.v).toBe(2);
      expect(entry.wall).toBeInstanceOf(Date);
    }
    expect(entries[0]).toMatchObject({ o: { _id: 1, a: 1, b: { c: 1 }, arr: [1, 2, 3] }, o2: { _id: 1 } });
    expect(entries[1]!.o).toEqual({ $v: 2, diff: { d: { arr: false }, u: { a: 2 }, i: { n: 'new' }, sb: { u: { c: 2 } } } });
    expect(entries[1]!.o2).toEqual({ _id: 1 });
    expect(entries[2]!.o).toEqual({ _id: 1, x: 1 });
    expect(entries[3]!.o).toEqual({ _id: 1 });
    const times = entries.map((e) => e.ts as Timestamp);
    for (let i = 1; i < times.length; i++) expect(times[i]!.greaterThan(times[i - 1]!)).toBe(true);
  });

  test('create, drop, renameCollection and dropDatabase are command entries', async () => {
    const db = t.client.db('ddl');
    await db.createCollection('made');
    await db.collection('moving').insertOne({ _id: 1 } as Document);
    await db.collection('moving').rename('moved');
    await db.collection('made').drop();
    await db.dropDatabase();
    const entries = await oplog({ ns: 'ddl.$cmd' });
    expect(entries.map((e) => Object.keys(e.o)[0])).toEqual(['create', 'renameCollection', 'drop', 'drop', 'dropDatabase']);
    expect(entries[1]!.o).toMatchObject({ renameCollection: 'ddl.moving', to: 'ddl.moved', stayTemp: false, dropTarget: false });
    expect(entries[2]!.o2).toEqual({ numRecords: 0 });
    // The move itself logged no documents again.
    expect(await oplog({ ns: 'ddl.moved' })).toEqual([]);
  });

  test('listCollections on local shows the oplog as capped, without an _id index', async () => {
    const names = (await t.client.db('local').listCollections().toArray()).map((c) => c.name);
    expect(names).toEqual(['oplog.rs', 'system.replset']);
    expect(await t.client.db('local').collection('oplog.rs').listIndexes().toArray()).toEqual([]);
  });
});

describe('retryable writes', () => {
  /**
   * A session of a client of its own: the txnNumbers these tests send by hand must not meet the
   * driver's own numbering of a pooled server session (the server would rightly answer 225).
   */
  async function inSession<T>(run: (session: ClientSession, lsid: Document, db: Db) => Promise<T>): Promise<T> {
    const client = new MongoClient(t.server.uri);
    const session = client.startSession();
    try {
      return await run(session, { id: session.id!.id }, client.db('rs'));
    } finally {
      await session.endSession();
      await client.close();
    }
  }

  test('the driver retries an insert whose connection closed: exactly one document', async () => {
    await t.client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], closeConnection: true } });
    // closeConnection happens before the command runs; then the retry runs it.
    await t.db.collection('retry').insertOne({ _id: 'once' } as Document);
    expect(await t.db.collection('retry').countDocuments({ _id: 'once' } as Document)).toBe(1);
  });

  test('a retried insert is answered from the record: n counts it, nothing is written twice, retriedStmtIds names it', async () => {
    await inSession(async (session, _lsid, db) => {
      const command = { insert: 'retry', documents: [{ _id: 'r1' }, { _id: 'r2' }], txnNumber: Long.fromNumber(5) };
      const first = await db.command(command, { session });
      expect(first.n).toBe(1 + 1);
      expect(first.retriedStmtIds).toBeUndefined();
      const again = await db.command(command, { session });
      expect(again.n).toBe(2);
      expect(again.retriedStmtIds).toEqual([0, 1]);
      expect(again.writeErrors).toBeUndefined();
      expect(await t.db.collection('retry').countDocuments({ _id: { $in: ['r1', 'r2'] } } as Document)).toBe(2);
      // Both entries carry the session and chain by prevOpTime.
      const entries = await oplog({ ns: 'rs.retry', 'o._id': { $in: ['r1', 'r2'] } });
      expect(entries.map((e) => e.stmtId)).toEqual([0, 1]);
      expect(entries[0]!.txnNumber).toEqual(5);
      expect(entries[0]!.lsid.id).toEqual(session.id!.id);
      expect(entries[0]!.prevOpTime).toEqual({ ts: new Timestamp({ t: 0, i: 0 }), t: -1 });
      expect(entries[1]!.prevOpTime).toEqual({ ts: entries[0]!.ts, t: 1 });
    });
  });

  test('a failed statement is not recorded: its retry runs again', async () => {
    await inSession(async (session, _lsid, db) => {
      await t.db.collection('retryDup').insertOne({ _id: 1 } as Document);
      const command = { insert: 'retryDup', documents: [{ _id: 2 }, { _id: 1 }, { _id: 3 }], ordered: true, txnNumber: Long.fromNumber(1) };
      const first = await db.command(command, { session });
      expect(first.n).toBe(1);
      expect(first.writeErrors[0].code).toBe(11000);
      await t.db.collection('retryDup').deleteOne({ _id: 1 } as Document);
      const retry = await db.command(command, { session });
      expect(retry.n).toBe(3);
      expect(retry.retriedStmtIds).toEqual([0]);
      expect(await t.db.collection('retryDup').countDocuments()).toBe(3);
    });
  });

  test('updates, upserts and deletes are answered as they were', async () => {
    await inSession(async (session, _lsid, db) => {
      await t.db.collection('retryU').insertMany([{ _id: 1, n: 0 }, { _id: 2, n: 0 }] as Document[]);
      const update = { update: 'retryU', updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }, { q: { _id: 9 }, u: { $inc: { n: 1 } }, upsert: true }], txnNumber: Long.fromNumber(1) };
      const first = await db.command(update, { session });
      const again = await db.command(update, { session });
      expect(first.n).toBe(2);
      expect(first.nModified).toBe(1);
      expect(first.upserted).toEqual([{ index: 1, _id: 9 }]);
      expect(again).toMatchObject({ n: 2, nModified: 1, upserted: [{ index: 1, _id: 9 }], retriedStmtIds: [0, 1] });
      expect(await t.db.collection('retryU').findOne({ _id: 1 } as Document)).toEqual({ _id: 1, n: 1 });
      const del = { delete: 'retryU', deletes: [{ q: { _id: 2 }, limit: 1 }], txnNumber: Long.fromNumber(2) };
      expect((await db.command(del, { session })).n).toBe(1);
      await t.db.collection('retryU').insertOne({ _id: 2, n: 'back' } as Document);
      expect((await db.command(del, { session })).n).toBe(1);
      expect(await t.db.collection('retryU').findOne({ _id: 2 } as Document)).toEqual({ _id: 2, n: 'back' });
    });
  });

  test('findAndModify returns the recorded images on a retry', async () => {
    await inSession(async (session, _lsid, db) => {
      await t.db.collection('retryF').insertOne({ _id: 1, n: 0 } as Document);
      const command = { findAndModify: 'retryF', query: { _id: 1 }, update: { $inc: { n: 1 } }, new: true, txnNumber: Long.fromNumber(1) };
      const first = await db.command(command, { session });
      const again = await db.command(command, { session });
      expect(first.value).toEqual({ _id: 1, n: 1 });
      expect(again.value).toEqual({ _id: 1, n: 1 });
      expect(again.lastErrorObject).toEqual({ n: 1, updatedExisting: true });
      expect(await t.db.collection('retryF').findOne({ _id: 1 } as Document)).toEqual({ _id: 1, n: 1 });
      await expectReplicaSetError(
        db.command({ findAndModify: 'retryF', query: { _id: 1 }, remove: true, txnNumber: Long.fromNumber(1) }, { session }),
        40609,
        'Location40609',
        'findAndModify retry request is not compatible with previous write in the transaction of type: u',
      );
    });
  });

  test('an older txnNumber is TransactionTooOld; multi-document statements and other commands are refused', async () => {
    await inSession(async (session, lsid, db) => {
      await db.command({ insert: 'retryOld', documents: [{}], txnNumber: Long.fromNumber(7) }, { session });
      const err = await expectReplicaSetError(
        db.command({ insert: 'retryOld', documents: [{}], txnNumber: Long.fromNumber(6) }, { session }),
        225,
        'TransactionTooOld',
        `Retryable write with txnNumber 6 is prohibited on session ${new UUID(lsid.id.buffer).toHexString()} - 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= -  -  because a newer retryable write with txnNumber 7 has already started on this session.`,
      );
      expect(err.errorLabels).toEqual([]);
      const multi = await db.command({ update: 'retryOld', updates: [{ q: {}, u: { $set: { a: 1 } }, multi: true }], txnNumber: Long.fromNumber(8) }, { session });
      expect(multi.writeErrors).toEqual([{ index: 0, code: 72, errmsg: 'Cannot use (or request) retryable writes with multi=true' }]);
      const many = await db.command({ delete: 'retryOld', deletes: [{ q: {}, limit: 0 }], txnNumber: Long.fromNumber(9) }, { session });
      expect(many.writeErrors).toEqual([{ index: 0, code: 72, errmsg: 'Cannot use (or request) retryable writes with limit=0' }]);
      await expectReplicaSetError(
        db.command({ find: 'retryOld', txnNumber: Long.fromNumber(10) }, { session }),
        50768,
        'NotARetryableWriteCommand',
        'txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and find is not a retryable write command.',
      );
      await expectReplicaSetError(
        db.command({ insert: 'retryOld', documents: [{}], txnNumber: Long.fromNumber(-1) }, { session }),
        72,
        'InvalidOptions',
        'Transaction number cannot be negative',
      );
    });
  });

  test('a txnNumber sent as an int32 is the same number as the Long (not 0)', async () => {
    const lsid = { id: new UUID() };
    await withRawClient(t.server.port, async (raw) => {
      const send = (txnNumber: unknown) => raw.command({ insert: 'retryInt', documents: [{}], lsid, txnNumber, $db: 'rs' });
      expect((await send(Long.fromNumber(3))).doc.n).toBe(1);
      const again = (await send(new Int32(3))).doc;
      expect(again.retriedStmtIds).toEqual([0]);
      const older = (await send(new Int32(2))).doc;
      expect(older.code).toBe(225);
    });
    expect(await t.db.collection('retryInt').countDocuments()).toBe(1);
  });

  test('a retriable error on a retryable write is labelled, and the driver retries it', async () => {
    await t.client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: 189 } });
    await t.db.collection('retryLabel').insertOne({ _id: 'labelled' } as Document);
    expect(await t.db.collection('retryLabel').countDocuments()).toBe(1);
    await inSession(async (session, _lsid, db) => {
      await t.client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: 189 } });
      const err = await serverError(db.command({ insert: 'retryLabel', documents: [{}], txnNumber: Long.fromNumber(1) }, { session }));
      expect(err.errorResponse.errorLabels).toEqual(['RetryableWriteError', 'NoWritesPerformed']);
    });
  });
});
