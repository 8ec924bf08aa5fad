// Issue 12 item 6: change streams on the one-member replica set, through the real driver over TCP
// (and mongoose and mongosh): the events of a collection, a database and the cluster with
// mongod's shapes, invalidation, resume tokens and resuming (after a dropped connection too), the
// postBatchResumeToken of every reply, and awaitData getMores that wait on the server's clock.
import { once } from 'node:events';
import mongoose from 'mongoose';
import {
  Binary,
  Long,
  MongoClient,
  MongoServerError,
  Timestamp,
  type ChangeStream,
  type ClientSession,
  type CommandStartedEvent,
  type Document,
} from 'mongodb';
import { describe, expect, test, vi } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { openDriver, serverError, useDriver } from '../helpers/driver.js';
import { runMongosh } from '../helpers/server.js';

const t = useDriver('cs', { replSet: 'rs0', setParameter: { enableTestCommands: true } });

/** A change stream's error reply: mongod's fields (and labels), then the cluster time a replica set adds. */
async function expectStreamError(promise: Promise<unknown>, code: number, codeName: string, errmsg: string | RegExp, errorLabels?: string[]): Promise<MongoServerError> {
  const err = await serverError(promise);
  const { $clusterTime, operationTime, ...rest } = err.errorResponse as Document;
  const expected: Document = { ok: 0, errmsg: typeof errmsg === 'string' ? errmsg : expect.stringMatching(errmsg), code, codeName };
  if (errorLabels !== undefined) expected.errorLabels = errorLabels;
  expect(rest).toEqual(expected);
  expect($clusterTime.clusterTime).toBeInstanceOf(Timestamp);
  expect(operationTime).toBeInstanceOf(Timestamp);
  return err;
}

/** The hex of a Timestamp as a token starts with it: 82, seconds, increment. */
function tsHex(ts: Timestamp): string {
  return `82${ts.t.toString(16).padStart(8, '0')}${ts.i.toString(16).padStart(8, '0')}`.toUpperCase();
}

/** A high-water-mark token at `ts` (v2: clusterTime, version 2, tokenType 0, txnOpIndex 0, false, null). */
function hwm(ts: Timestamp): string {
  return `${tsHex(ts)}2B0429296E1404`;
}

function tick(ts: Timestamp): Timestamp {
  return new Timestamp({ t: ts.t, i: ts.i + 1 });
}

/**
 * Opens a driver stream (the driver sends its aggregate on the first iteration) and waits for the
 * aggregate's answer, so that writes made next are after its start. Returns a reader of the next
 * `n` events.
 */
async function open(cs: ChangeStream<Document>): Promise<(n: number) => Promise<Document[]>> {
  let pending: Promise<Document> | undefined = cs.next();
  pending.catch(() => undefined);
  await Promise.race([once(cs, 'resumeTokenChanged'), pending]);
  return async (n) => {
    const events: Document[] = [];
    for (let i = 0; i < n; i++) {
      events.push(await (pending ?? cs.next()));
      pending = undefined;
    }
    return events;
  };
}

/** Runs `fn` with a session of the test client (a raw stream's getMores must come from the session that opened it). */
async function inSession<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
  const session = t.client.startSession();
  try {
    return await fn(session);
  } finally {
    await session.endSession();
  }
}

const EVENT_HEAD = ['_id', 'operationType', 'clusterTime', 'wallTime'];

describe('opening a stream', () => {
  test('aggregate and getMore replies: the batch, postBatchResumeToken, an int64 id, ns; a new stream starts one tick after the last write', async () => {
    await inSession(async (session) => {
      const write = await t.db.command({ insert: 'shapes', documents: [{ _id: 1 }] }, { session });
      const opened = await t.db.command({ aggregate: 'shapes', pipeline: [{ $changeStream: {} }], cursor: {} }, { session, promoteLongs: false });
      expect(Object.keys(opened.cursor)).toEqual(['firstBatch', 'postBatchResumeToken', 'id', 'ns']);
      expect(opened.cursor.firstBatch).toEqual([]);
      expect(opened.cursor.id).toBeInstanceOf(Long);
      expect(opened.cursor.id.isZero()).toBe(false);
      expect(opened.cursor.ns).toBe('cs.shapes');
      // The write the client just saw is not returned: the stream starts at its time plus one tick.
      expect(opened.cursor.postBatchResumeToken).toEqual({ _data: hwm(tick(write.operationTime)) });
      expect(opened.operationTime).toEqual(write.operationTime);
      const more = await t.db.command({ getMore: opened.cursor.id, collection: 'shapes', maxTimeMS: 1 }, { session, promoteLongs: false });
      expect(Object.keys(more.cursor)).toEqual(['nextBatch', 'postBatchResumeToken', 'id', 'ns']);
      expect(more.cursor).toEqual({ nextBatch: [], postBatchResumeToken: opened.cursor.postBatchResumeToken, id: opened.cursor.id, ns: 'cs.shapes' });
      const db = await t.db.command({ aggregate: 1, pipeline: [{ $changeStream: {} }], cursor: {} }, { session });
      expect(db.cursor.ns).toBe('cs.$cmd.aggregate');
      const cluster = await t.admin.command({ aggregate: 1, pipeline: [{ $changeStream: { allChangesForCluster: true } }], cursor: {} }, { session });
      expect(cluster.cursor.ns).toBe('admin.$cmd.aggregate');
      for (const [dbName, reply] of [['cs', opened], ['cs', db], ['admin', cluster]] as const) {
        await t.client.db(dbName).command({ killCursors: reply.cursor.ns.slice(dbName.length + 1), cursors: [Long.fromValue(reply.cursor.id)] }, { session });
      }
    });
  });

  test("refusals: mongod's checks of the spec, the namespace, the stages after it and the read concern", async () => {
    const open = (db: string, body: Document) => t.client.db(db).command({ ...body, cursor: {} });
    const stream = (spec: Document, ...rest: Document[]) => ({ aggregate: 'refused', pipeline: [{ $changeStream: spec }, ...rest] });
    await expectStreamError(open('cs', stream({ bogus: 1 })), 40415, 'Location40415', "BSON field '$changeStream.bogus' is an unknown field.");
    await expectStreamError(open('cs', stream({ fullDocument: 'sometimes' })), 2, 'BadValue', "Enumeration value 'sometimes' for field '$changeStream.fullDocument' is not a valid value.");
    await expectStreamError(open('cs', stream({ allChangesForCluster: 1 })), 14, 'TypeMismatch', "BSON field '$changeStream.allChangesForCluster' is the wrong type 'int', expected type 'bool'");
    await expectStreamError(open('cs', { aggregate: 'refused', pipeline: [{ $changeStream: 1 }] }), 50808, 'Location50808', '$changeStream stage expects a document as argument');
    await expectStreamError(
      open('cs', stream({ allChangesForCluster: true })),
      72,
      'InvalidOptions',
      "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name; found cs.refused",
    );
    await expectStreamError(open('admin', { aggregate: 1, pipeline: [{ $changeStream: {} }] }), 73, 'InvalidNamespace', '$changeStream may not be opened on the internal admin database');
    await expectStreamError(open('local', stream({})), 73, 'InvalidNamespace', '$changeStream may not be opened on the internal local database');
    await expectStreamError(open('cs', { aggregate: 'system.js', pipeline: [{ $changeStream: {} }] }), 73, 'InvalidNamespace', '$changeStream may not be opened on the internal cs.system.js collection');
    const token = { _data: hwm(new Timestamp({ t: 1, i: 1 })) };
    await expectStreamError(open('cs', stream({ resumeAfter: token, startAfter: token })), 50865, 'Location50865', "Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage");
    await expectStreamError(
      open('cs', stream({ resumeAfter: token, startAtOperationTime: new Timestamp({ t: 1, i: 1 }) })),
      40674,
      'Location40674',
      'Only one type of resume option is allowed, but multiple were found',
    );
    await expectStreamError(open('cs', stream({ resumeAfter: { _data: 'XYZ' } })), 9, 'FailedToParse', 'resume token string was not a valid hex string');
    await expectStreamError(open('cs', stream({ resumeAfter: { data: 1 } })), 40647, 'Location40647', 'Bad resume token: _data of missing or of wrong type. Expected string, got {data: 1}');
    await expectStreamError(open('cs', stream({}, { $group: { _id: null } })), 20, 'IllegalOperation', '$group is not permitted in a $changeStream pipeline');
    await expectStreamError(open('cs', { aggregate: 'refused', pipeline: [{ $match: {} }, { $changeStream: {} }] }), 40602, 'Location40602', '$changeStream is only valid as the first stage in a pipeline.');
    await expectStreamError(
      open('cs', { ...stream({}), readConcern: { level: 'local' } }),
      72,
      'InvalidOptions',
      "Aggregation stage $changeStream cannot run with a readConcern other than 'majority'. Current readConcern: local",
    );
    await t.db.command({ create: 'refusedView', viewOn: 'refused', pipeline: [] });
    await expectStreamError(open('cs', { aggregate: 'refusedView', pipeline: [{ $changeStream: {} }] }), 166, 'CommandNotSupportedOnView', 'Namespace cs.refusedView is a view, not a collection');
    await expectStreamError(open('cs', stream({ showExpandedEvents: true })), 115, 'CommandNotSupported', "$changeStream's 'showExpandedEvents' option is not supported by pocketmongo");
    // readConcern majority (what the driver may send) is fine.
    const majority = await open('cs', { ...stream({}), readConcern: { level: 'majority' } });
    await t.db.command({ killCursors: 'refused', cursors: [Long.fromValue(majority.cursor.id)] });
  });
});

describe('events', () => {
  test('collection.watch(): insert, update, replace and delete in order, with exact shapes and increasing tokens', async () => {
    const c = t.db.collection('events');
    const cs = c.watch();
    const read = await open(cs);
    await c.insertOne({ _id: 1, a: 1, b: { c: 1 }, d: 1, arr: [1, 2, 3, 4, 5] } as Document);
    await c.updateOne({ _id: 1 } as Document, { $set: { a: 2, 'b.c': 5, 'arr.0': 0 }, $unset: { d: '' } });
    await c.updateOne({ _id: 1 } as Document, [{ $set: { arr: { $slice: ['$arr', 2] } } }]);
    await c.replaceOne({ _id: 1 } as Document, { x: 1 });
    await c.deleteOne({ _id: 1 } as Document);
    const events = await read(5);
    await cs.close();
    const ns = { db: 'cs', coll: 'events' };
    const head = (operationType: string) => ({ _id: { _data: expect.any(String) }, operationType, clusterTime: expect.any(Timestamp), wallTime: expect.any(Date) });
    expect(events[0]).toEqual({ ...head('insert'), fullDocument: { _id: 1, a: 1, b: { c: 1 }, d: 1, arr: [1, 2, 3, 4, 5] }, ns, documentKey: { _id: 1 } });
    expect(Object.keys(events[0]!)).toEqual([...EVENT_HEAD, 'fullDocument', 'ns', 'documentKey']);
    expect(events[1]).toEqual({
      ...head('update'),
      ns,
      documentKey: { _id: 1 },
      updateDescription: { updatedFields: { a: 2, 'b.c': 5, 'arr.0': 0 }, removedFields: ['d'], truncatedArrays: [] },
    });
    expect(Object.keys(events[1]!)).toEqual([...EVENT_HEAD, 'ns', 'documentKey', 'updateDescription']);
    expect(Object.keys(events[1]!.updateDescription)).toEqual(['updatedFields', 'removedFields', 'truncatedArrays']);
    expect(events[2]!.updateDescription).toEqual({ updatedFields: {}, removedFields: [], truncatedArrays: [{ field: 'arr', newSize: 2 }] });
    expect(events[3]).toEqual({ ...head('replace'), fullDocument: { _id: 1, x: 1 }, ns, documentKey: { _id: 1 } });
    expect(Object.keys(events[3]!)).toEqual([...EVENT_HEAD, 'fullDocument', 'ns', 'documentKey']);
    expect(events[4]).toEqual({ ...head('delete'), ns, documentKey: { _id: 1 } });
    expect(Object.keys(events[4]!)).toEqual([...EVENT_HEAD, 'ns', 'documentKey']);
    // Each token starts with its event's clusterTime; tokens and times strictly increase.
    for (let i = 0; i < events.length; i++) {
      expect(events[i]!._id._data.slice(0, 18)).toBe(tsHex(events[i]!.clusterTime));
      if (i > 0) {
        expect(events[i]!._id._data > events[i - 1]!._id._data).toBe(true);
        expect((events[i]!.clusterTime as Timestamp).greaterThan(events[i - 1]!.clusterTime)).toBe(true);
      }
    }
  });

  test('a database stream: its collections but not system.*; dropDatabase drops each collection, then dropDatabase, invalidate, and the stream ends', async () => {
    const db = t.client.db('csdb');
    const cs = db.watch();
    const read = await open(cs);
    await db.collection('a').insertOne({ _id: 'a' } as Document);
    await db.collection('system.js').insertOne({ _id: 'f', value: 1 } as Document);
    await db.collection('b').insertOne({ _id: 'b' } as Document);
    await t.client.db('csother').collection('a').insertOne({ _id: 'elsewhere' } as Document);
    await db.dropDatabase();
    const events = await read(6);
    expect(events.map((e) => [e.operationType, e.ns?.coll])).toEqual([
      ['insert', 'a'],
      ['insert', 'b'],
      ['drop', 'a'],
      ['drop', 'b'],
      ['dropDatabase', undefined],
      ['invalidate', undefined],
    ]);
    expect(events[4]).toEqual({ _id: { _data: expect.any(String) }, operationType: 'dropDatabase', clusterTime: expect.any(Timestamp), wallTime: expect.any(Date), ns: { db: 'csdb' } });
    expect(events[5]).toEqual({ _id: { _data: expect.any(String) }, operationType: 'invalidate', clusterTime: events[4]!.clusterTime, wallTime: expect.any(Date) });
    expect(Object.keys(events[2]!)).toEqual([...EVENT_HEAD, 'ns']);
    // The invalidate's token sorts right after its dropDatabase's.
    expect(events[5]!._id._data > events[4]!._id._data).toBe(true);
    await expect(cs.next()).rejects.toThrow('ChangeStream is closed');
    expect(cs.closed).toBe(true);
  });

  test('a cluster stream (client.watch()): every database but admin, config and local; never invalidated', async () => {
    const cs = t.client.watch();
    const read = await open(cs);
    await t.client.db('csx').collection('c').insertOne({ _id: 'x' } as Document);
    await t.client.db('admin').collection('csadmin').insertOne({ _id: 'admin' } as Document);
    await t.client.db('csy').collection('c').insertOne({ _id: 'y' } as Document);
    await t.client.db('csy').dropDatabase();
    await t.client.db('csx').collection('c').insertOne({ _id: 'after' } as Document);
    const events = await read(5);
    await cs.close();
    expect(events.map((e) => [e.operationType, e.ns.db, e.documentKey?._id])).toEqual([
      ['insert', 'csx', 'x'],
      ['insert', 'csy', 'y'],
      ['drop', 'csy', undefined],
      ['dropDatabase', 'csy', undefined],
      ['insert', 'csx', 'after'],
    ]);
    await t.client.db('csx').dropDatabase();
    await t.client.db('admin').collection('csadmin').drop();
  });

  test('drop: drop then invalidate, and the cursor closes (id 0, invalidated, the invalidate token as PBRT)', async () => {
    await inSession(async (session) => {
      await t.db.collection('dropped').insertOne({ _id: 0 } as Document);
      const opened = await t.db.command({ aggregate: 'dropped', pipeline: [{ $changeStream: {} }], cursor: {} }, { session });
      await t.db.collection('dropped').drop();
      const more = await t.db.command({ getMore: Long.fromValue(opened.cursor.id), collection: 'dropped' }, { session });
      const [drop, invalidate] = more.cursor.nextBatch as Document[];
      expect(drop).toEqual({ _id: drop!._id, operationType: 'drop', clusterTime: expect.any(Timestamp), wallTime: expect.any(Date), ns: { db: 'cs', coll: 'dropped' } });
      expect(invalidate).toEqual({ _id: invalidate!._id, operationType: 'invalidate', clusterTime: drop!.clusterTime, wallTime: drop!.wallTime });
      expect(more.cursor).toEqual({ nextBatch: [drop, invalidate], postBatchResumeToken: invalidate!._id, invalidated: true, id: 0, ns: 'cs.dropped' });
      await expectStreamError(
        t.db.command({ getMore: Long.fromValue(opened.cursor.id), collection: 'dropped' }, { session }),
        43,
        'CursorNotFound',
        `cursor id ${Long.fromValue(opened.cursor.id).toString()} not found`,
      );
    });
    // The driver hands out the invalidate, then the stream is over.
    const c = t.db.collection('dropped2');
    await c.insertOne({ _id: 0 } as Document);
    const cs = c.watch();
    const read = await open(cs);
    await c.drop();
    expect((await read(2)).map((e) => e.operationType)).toEqual(['drop', 'invalidate']);
    await expect(cs.next()).rejects.toThrow('ChangeStream is closed');
  });

  test('rename: `to` first; the source and target streams are invalidated, a database stream is not', async () => {
    const c = t.db.collection('renameFrom');
    await c.insertOne({ _id: 1 } as Document);
    const source = c.watch();
    const target = t.db.collection('renameTo').watch();
    const db = t.db.watch([{ $match: { 'ns.coll': { $in: ['renameFrom', 'renameTo'] } } }]);
    const [readSource, readTarget, readDb] = [await open(source), await open(target), await open(db)];
    await c.rename('renameTo');
    await t.db.collection('renameTo').insertOne({ _id: 2 } as Document);
    const events = await readSource(2);
    expect(events[0]).toEqual({
      to: { db: 'cs', coll: 'renameTo' },
      _id: { _data: expect.any(String) },
      operationType: 'rename',
      clusterTime: expect.any(Timestamp),
      wallTime: expect.any(Date),
      ns: { db: 'cs', coll: 'renameFrom' },
    });
    expect(Object.keys(events[0]!)).toEqual(['to', ...EVENT_HEAD, 'ns']);
    expect(events[1]!.operationType).toBe('invalidate');
    expect((await readTarget(2)).map((e) => e.operationType)).toEqual(['rename', 'invalidate']);
    expect((await readDb(2)).map((e) => [e.operationType, e.ns.coll])).toEqual([
      ['rename', 'renameFrom'],
      ['insert', 'renameTo'],
    ]);
    await db.close();
  });

  test("fullDocument: 'updateLookup' reads the document as it is at getMore time (null once deleted); without images whenAvailable is null and required fails", async () => {
    const c = t.db.collection('lookup');
    const cs = c.watch([], { fullDocument: 'updateLookup' });
    const read = await open(cs);
    await c.insertOne({ _id: 1, n: 1 } as Document);
    await c.updateOne({ _id: 1 } as Document, { $inc: { n: 1 } });
    const [, updated] = await read(2);
    expect(updated!.fullDocument).toEqual({ _id: 1, n: 2 });
    expect(Object.keys(updated!)).toEqual([...EVENT_HEAD, 'ns', 'documentKey', 'updateDescription', 'fullDocument']);
    await c.updateOne({ _id: 1 } as Document, { $inc: { n: 1 } });
    await c.deleteOne({ _id: 1 } as Document);
    const [gone, deleted] = await read(2);
    expect(gone!.fullDocument).toBeNull();
    expect(deleted!.fullDocument).toBeUndefined();
    await cs.close();

    const whenAvailable = c.watch([], { fullDocument: 'whenAvailable', fullDocumentBeforeChange: 'whenAvailable' });
    const readAvailable = await open(whenAvailable);
    await c.insertOne({ _id: 2 } as Document);
    await c.updateOne({ _id: 2 } as Document, { $set: { a: 1 } });
    await c.deleteOne({ _id: 2 } as Document);
    const [inserted, update, removed] = await readAvailable(3);
    expect(inserted!.fullDocumentBeforeChange).toBeUndefined();
    expect(Object.keys(update!)).toEqual([...EVENT_HEAD, 'ns', 'documentKey', 'updateDescription', 'fullDocumentBeforeChange', 'fullDocument']);
    expect([update!.fullDocumentBeforeChange, update!.fullDocument]).toEqual([null, null]);
    expect(removed).toMatchObject({ operationType: 'delete', fullDocumentBeforeChange: null });
    await whenAvailable.close();

    const required = c.watch([], { fullDocument: 'required' });
    const readRequired = await open(required);
    await c.insertOne({ _id: 3 } as Document);
    await c.updateOne({ _id: 3 } as Document, { $set: { a: 1 } });
    expect((await readRequired(1))[0]!.operationType).toBe('insert');
    const err = await serverError(readRequired(1));
    expect(err.code).toBe(47);
    expect(err.codeName).toBe('NoMatchingDocument');
    expect(err.errmsg).toMatch(
      /^Executor error during getMore :: caused by :: Change stream was configured to require a post-image for all update events, but the post-image was not found for event: \{operationType: "update", ns: \{db: "cs", coll: "lookup"\}, clusterTime: Timestamp\(\d+, \d+\)\}$/,
    );
    await required.close();
  });

  test('stages after $changeStream run on the events; changing _id fails the stream (280, not resumable)', async () => {
    const c = t.db.collection('staged');
    const cs = c.watch([{ $match: { operationType: 'insert', 'fullDocument.keep': true } }, { $project: { operationType: 1, 'fullDocument.a': 1 } }]);
    const read = await open(cs);
    await c.insertMany([{ _id: 1, a: 'no', keep: false }, { _id: 2, a: 'yes', keep: true }] as Document[]);
    await c.deleteOne({ _id: 2 } as Document);
    await c.insertOne({ _id: 3, a: 'again', keep: true } as Document);
    const events = await read(2);
    expect(events).toEqual([
      { _id: { _data: expect.any(String) }, operationType: 'insert', fullDocument: { a: 'yes' } },
      { _id: { _data: expect.any(String) }, operationType: 'insert', fullDocument: { a: 'again' } },
    ]);
    await cs.close();
    await inSession(async (session) => {
      const opened = await t.db.command({ aggregate: 'staged', pipeline: [{ $changeStream: {} }, { $project: { _id: 0 } }], cursor: {} }, { session });
      await c.insertOne({ _id: 4 } as Document);
      await expectStreamError(
        t.db.command({ getMore: Long.fromValue(opened.cursor.id), collection: 'staged' }, { session }),
        280,
        'ChangeStreamFatalError',
        'Executor error during getMore :: caused by :: Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
        ['NonResumableChangeStreamError'],
      );
    });
  });
});

describe("a transaction's events", () => {
  test('come at its commit, in operation order, sharing its clusterTime, with lsid and txnNumber; an aborted one gives none', async () => {
    const c = t.db.collection('txnEvents');
    await c.insertOne({ _id: 0 } as Document);
    const cs = c.watch();
    try {
      const read = await open(cs);
      const session = t.client.startSession();
      try {
        session.startTransaction();
        await c.insertOne({ _id: 'aborted' } as Document, { session });
        await session.abortTransaction();
        await session.withTransaction(async () => {
          await c.insertOne({ _id: 1 } as Document, { session });
          await c.updateOne({ _id: 0 } as Document, { $set: { x: 1 } }, { session });
          await c.deleteOne({ _id: 1 } as Document, { session });
        });
      } finally {
        await session.endSession();
      }
      const events = await read(3);
      expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'delete']);
      expect(events.map((e) => e.documentKey)).toEqual([{ _id: 1 }, { _id: 0 }, { _id: 1 }]);
      expect(events[1]!.clusterTime).toEqual(events[0]!.clusterTime);
      expect(events[2]!.clusterTime).toEqual(events[0]!.clusterTime);
      expect(events[0]!.txnNumber).toBeDefined();
      expect(events[0]!.lsid.id).toBeDefined();
      // Each event has its own resume token, in order.
      expect(events[0]!._id._data < events[1]!._id._data && events[1]!._id._data < events[2]!._id._data).toBe(true);
    } finally {
      await cs.close();
    }
  });
});

describe('resuming', () => {
  /** Three inserts into a fresh collection, read from a stream: their events. */
  async function threeEvents(name: string): Promise<Document[]> {
    const c = t.db.collection(name);
    const cs = c.watch();
    const read = await open(cs);
    await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }] as Document[]);
    const events = await read(3);
    await cs.close();
    return events;
  }

  /** What a new stream with these options returns, up to and without waiting past its last event. */
  async function resumed(name: string, options: Document, n: number): Promise<Document[]> {
    const cs = t.db.collection(name).watch([], { ...options, maxAwaitTimeMS: 10 });
    const events: Document[] = [];
    for (let i = 0; i < n; i++) events.push(await cs.next());
    expect(await cs.tryNext()).toBeNull();
    await cs.close();
    return events;
  }

  test('resumeAfter, startAfter and startAtOperationTime pick up exactly where they say: no event lost or repeated', async () => {
    const [e1, e2, e3] = await threeEvents('resume');
    expect(await resumed('resume', { resumeAfter: e1!._id }, 2)).toEqual([e2, e3]);
    expect(await resumed('resume', { startAfter: e2!._id }, 1)).toEqual([e3]);
    expect(await resumed('resume', { startAtOperationTime: e2!.clusterTime }, 2)).toEqual([e2, e3]);
    // A high-water mark is a point in time: resuming after the one at e2's time gives e2 onwards.
    expect(await resumed('resume', { resumeAfter: { _data: hwm(e2!.clusterTime) } }, 2)).toEqual([e2, e3]);
  });

  test('startAfter an invalidate continues past the drop; resumeAfter one is refused (260)', async () => {
    const c = t.db.collection('reborn');
    await c.insertOne({ _id: 0 } as Document);
    const cs = c.watch();
    const read = await open(cs);
    await c.drop();
    const [, invalidate] = await read(2);
    await c.insertOne({ _id: 'again' } as Document);
    const after = c.watch([], { startAfter: invalidate!._id });
    expect(await after.next()).toMatchObject({ operationType: 'insert', documentKey: { _id: 'again' } });
    await after.close();
    await expectStreamError(
      t.db.command({ aggregate: 'reborn', pipeline: [{ $changeStream: { resumeAfter: invalidate!._id } }], cursor: {} }),
      260,
      'InvalidResumeToken',
      "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification",
    );
  });

  test("a token whose event the stream does not have: 280 once the stream passes it", async () => {
    const [e1] = await threeEvents('tokenOwner');
    await inSession(async (session) => {
      const opened = await t.db.command({ aggregate: 'tokenOther', pipeline: [{ $changeStream: { resumeAfter: e1!._id } }], cursor: {} }, { session });
      expect(opened.cursor.postBatchResumeToken).toEqual(e1!._id);
      await t.db.collection('tokenOther').insertOne({ _id: 1 } as Document);
      const err = await expectStreamError(
        t.db.command({ getMore: Long.fromValue(opened.cursor.id), collection: 'tokenOther' }, { session }),
        280,
        'ChangeStreamFatalError',
        /^Executor error during getMore :: caused by :: cannot resume stream; the resume token was not found\. \{_data: "82[0-9A-F]+"\}$/,
        ['NonResumableChangeStreamError'],
      );
      expect(err.errorLabels).toEqual(['NonResumableChangeStreamError']);
    });
  });

  test('a start older than the oplog: ChangeStreamHistoryLost (286), not resumable', async () => {
    await expectStreamError(
      t.db.command({ aggregate: 'old', pipeline: [{ $changeStream: { startAtOperationTime: new Timestamp({ t: 1, i: 1 }) } }], cursor: {} }),
      286,
      'ChangeStreamHistoryLost',
      'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
      ['NonResumableChangeStreamError'],
    );
  });

  test('a resume point the capped oplog dropped, and a stream that fell behind it: 286', async () => {
    const small = await openDriver('cs', { replSet: 'rs0', oplogSize: 1 });
    const c = small.db.collection('big');
    const session = small.client.startSession();
    try {
      const behind = await small.db.command({ aggregate: 'big', pipeline: [{ $changeStream: {} }], cursor: {} }, { session });
      const first = await small.db.command({ insert: 'big', documents: [{ _id: 0 }] });
      // Over a megabyte of writes pushes the first insert out of the oplog.
      for (let i = 1; i <= 5; i++) await c.insertOne({ _id: i, pad: 'x'.repeat(300_000) } as Document);
      await expectStreamError(
        small.db.command({ aggregate: 'big', pipeline: [{ $changeStream: { startAtOperationTime: first.operationTime } }], cursor: {} }),
        286,
        'ChangeStreamHistoryLost',
        'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
        ['NonResumableChangeStreamError'],
      );
      await expectStreamError(
        small.db.command({ getMore: Long.fromValue(behind.cursor.id), collection: 'big' }, { session }),
        286,
        'ChangeStreamHistoryLost',
        'Executor error during getMore :: caused by :: Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
        ['NonResumableChangeStreamError'],
      );
    } finally {
      await session.endSession();
    }
  });

  /** A client of its own (its commands seen, its name scoping the fail point), and the aggregates it sent. */
  async function watchedClient(appName: string): Promise<{ client: MongoClient; aggregates: Document[] }> {
    const client = new MongoClient(`mongodb://127.0.0.1:${t.server.port}/?replicaSet=rs0&appName=${appName}`, { monitorCommands: true });
    const aggregates: Document[] = [];
    client.on('commandStarted', (e: CommandStartedEvent) => {
      if (e.commandName === 'aggregate') aggregates.push(e.command);
    });
    await client.connect();
    return { client, aggregates };
  }

  async function failGetMore(appName: string, data: Document): Promise<void> {
    await t.admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['getMore'], appName, ...data } });
  }

  test.each([
    ['a dropped connection', 'csNetwork', { closeConnection: true }],
    ['an error labelled ResumableChangeStreamError', 'csLabelled', { errorCode: 6 }],
  ])('the driver resumes after %s, with no event lost or repeated', async (_name, appName, failure) => {
    const { client, aggregates } = await watchedClient(appName);
    try {
      const c = client.db('cs').collection(`resume_${appName}`);
      const cs = c.watch();
      const read = await open(cs);
      await c.insertOne({ _id: 1 } as Document);
      const [e1] = await read(1);
      await failGetMore(appName, failure);
      await c.insertMany([{ _id: 2 }, { _id: 3 }] as Document[]);
      const events = await read(2);
      expect(events.map((e) => e.documentKey._id)).toEqual([2, 3]);
      expect(aggregates).toHaveLength(2);
      expect(aggregates[1]!.pipeline[0].$changeStream.resumeAfter).toEqual(e1!._id);
      await c.insertOne({ _id: 4 } as Document);
      expect((await read(1))[0]!.documentKey._id).toBe(4);
      await cs.close();
    } finally {
      await t.admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
      await client.close();
    }
  });

  test('a resumable error is labelled ResumableChangeStreamError; the driver also resumes after CursorNotFound', async () => {
    await inSession(async (session) => {
      const opened = await t.db.command({ aggregate: 'labels', pipeline: [{ $changeStream: {} }], cursor: {} }, { session });
      await failGetMore('', { errorCode: 189 });
      try {
        await expectStreamError(
          t.db.command({ getMore: Long.fromValue(opened.cursor.id), collection: 'labels', maxTimeMS: 1 }, { session }),
          189,
          'PrimarySteppedDown',
          'Failing command via \'failCommand\' failpoint',
          ['ResumableChangeStreamError'],
        );
      } finally {
        await t.admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
      }
      await t.db.command({ killCursors: 'labels', cursors: [Long.fromValue(opened.cursor.id)] }, { session });
    });
    const { client, aggregates } = await watchedClient('csKilled');
    try {
      const c = client.db('cs').collection('killedStream');
      const cs = c.watch();
      const read = await open(cs);
      await c.insertOne({ _id: 1 } as Document);
      await read(1);
      // Killing every session kills the stream's cursor: its next getMore finds none (43).
      await t.admin.command({ killAllSessions: [] });
      await c.insertOne({ _id: 2 } as Document);
      expect((await read(1))[0]!.documentKey._id).toBe(2);
      expect(aggregates).toHaveLength(2);
      await cs.close();
    } finally {
      await client.close();
    }
  });
});

describe('postBatchResumeToken', () => {
  test('empty batches carry a high-water mark that moves with unrelated writes; a batch ending in an event carries its _id; it never goes back', async () => {
    await inSession(async (session) => {
      const opened = await t.db.command({ aggregate: 'pbrt', pipeline: [{ $changeStream: {} }], cursor: {} }, { session });
      const id = Long.fromValue(opened.cursor.id);
      const more = () => t.db.command({ getMore: id, collection: 'pbrt', maxTimeMS: 1 }, { session });
      const start = opened.cursor.postBatchResumeToken._data as string;
      // The first write after the start is at the start's time; the next one is later.
      await t.db.command({ insert: 'pbrtOther', documents: [{}] }, { session });
      const unrelated = await t.db.command({ insert: 'pbrtOther', documents: [{}] }, { session });
      const empty = await more();
      expect(empty.cursor.nextBatch).toEqual([]);
      expect(empty.cursor.id).toEqual(opened.cursor.id);
      expect(empty.cursor.postBatchResumeToken).toEqual({ _data: hwm(unrelated.operationTime) });
      expect(empty.cursor.postBatchResumeToken._data > start).toBe(true);
      await t.db.collection('pbrt').insertOne({ _id: 1 } as Document);
      const withEvent = await more();
      expect(withEvent.cursor.nextBatch).toHaveLength(1);
      expect(withEvent.cursor.postBatchResumeToken).toEqual(withEvent.cursor.nextBatch[0]._id);
      const again = await more();
      expect(again.cursor.postBatchResumeToken).toEqual(withEvent.cursor.postBatchResumeToken);
      // With batchSize 1, a batch ends at its event even when more are there.
      await t.db.collection('pbrt').insertMany([{ _id: 2 }, { _id: 3 }] as Document[]);
      const one = await t.db.command({ getMore: id, collection: 'pbrt', batchSize: 1 }, { session });
      expect(one.cursor.nextBatch.map((e: Document) => e.documentKey._id)).toEqual([2]);
      expect(one.cursor.postBatchResumeToken).toEqual(one.cursor.nextBatch[0]._id);
      const rest = await more();
      expect(rest.cursor.nextBatch.map((e: Document) => e.documentKey._id)).toEqual([3]);
      await t.db.command({ killCursors: 'pbrt', cursors: [id] }, { session });
    });
  });
});

describe('awaitData getMores wait on the server clock', () => {
  const clock = new VirtualClock();
  const v = useDriver('csclock', { replSet: 'rs0', clock });

  /** Resolves once the server holds one more timer than `before` (a getMore waiting for an event). */
  async function waiting(before: number): Promise<void> {
    await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(before));
  }

  test('a getMore answers on the first event, long before maxAwaitTimeMS; with none it answers an empty batch after maxTimeMS (default 1000 ms), the cursor still open', async () => {
    const session = v.client.startSession();
    try {
      const opened = await v.db.command({ aggregate: 'await', pipeline: [{ $changeStream: {} }], cursor: {} }, { session });
      const id = Long.fromValue(opened.cursor.id);
      let before = clock.pendingTimers;
      const pending = v.db.command({ getMore: id, collection: 'await', maxTimeMS: 600_000 }, { session });
      await waiting(before);
      await v.db.collection('await').insertOne({ _id: 1 } as Document);
      const reply = await pending;
      expect(reply.cursor.nextBatch.map((e: Document) => e.documentKey)).toEqual([{ _id: 1 }]);
      expect(clock.pendingTimers).toBe(before);
      // An unrelated write does not end the wait.
      before = clock.pendingTimers;
      const quiet = v.db.command({ getMore: id, collection: 'await' }, { session });
      await waiting(before);
      await v.db.collection('elsewhere').insertOne({ _id: 1 } as Document);
      clock.advance(1000);
      const empty = await quiet;
      expect(empty.cursor.nextBatch).toEqual([]);
      expect(empty.cursor.id).toEqual(opened.cursor.id);
      await v.db.command({ killCursors: 'await', cursors: [id] }, { session });
    } finally {
      await session.endSession();
    }
  });

  test("the driver's stream gets an event while its getMore waits; killing the stream's session kills its cursor", async () => {
    const c = v.db.collection('awaitDriver');
    const cs = c.watch<Document, Document>([], { maxAwaitTimeMS: 600_000 });
    const before = clock.pendingTimers;
    const first = cs.next();
    await waiting(before);
    await c.insertOne({ _id: 'now' } as Document);
    expect((await first).documentKey).toEqual({ _id: 'now' });
    await cs.close();

    const session = v.client.startSession();
    try {
      const opened = await v.db.command({ aggregate: 'awaitDriver', pipeline: [{ $changeStream: {} }], cursor: {} }, { session });
      const id = Long.fromValue(opened.cursor.id);
      await v.admin.command({ killSessions: [{ id: new Binary(session.id!.id.buffer, 4) }] });
      await expectStreamError(v.db.command({ getMore: id, collection: 'awaitDriver' }, { session }), 43, 'CursorNotFound', `cursor id ${id.toString()} not found`);
    } finally {
      await session.endSession();
    }
  });
});

describe('mongoose and mongosh', () => {
  test('mongoose: Model.watch() emits the changes', async () => {
    const connection = await mongoose.createConnection(`mongodb://127.0.0.1:${t.server.port}/csmongoose?replicaSet=rs0`).asPromise();
    try {
      const Item = connection.model('Item', new mongoose.Schema({ name: String, n: Number }));
      await Item.init();
      const { operationTime } = await connection.db!.command({ ping: 1 });
      const stream = Item.watch([], { startAtOperationTime: operationTime, fullDocument: 'updateLookup' });
      const changes: Document[] = [];
      const two = new Promise<void>((resolve) =>
        stream.on('change', (change: Document) => {
          changes.push(change);
          if (changes.length === 2) resolve();
        }),
      );
      const item = await Item.create({ name: 'first', n: 1 });
      await Item.updateOne({ _id: item._id }, { $inc: { n: 1 } });
      await two;
      await stream.close();
      expect(changes.map((c) => c.operationType)).toEqual(['insert', 'update']);
      expect(changes[0]!.fullDocument).toMatchObject({ name: 'first', n: 1 });
      expect(changes[1]!.updateDescription.updatedFields).toEqual({ n: 2 });
      expect(changes[1]!.fullDocument).toMatchObject({ name: 'first', n: 2 });
    } finally {
      await connection.close();
    }
  });

  test('mongosh: db.c.watch() and tryNext()', async () => {
    const script = [
      "const c = db.getSiblingDB('csmongosh').c",
      'const cs = c.watch()',
      "c.insertOne({ _id: 1, a: 'shell' })",
      'let e = cs.tryNext()',
      'while (e === null) e = cs.tryNext()',
      'print(e.operationType, e.ns.coll, e.fullDocument.a, typeof e._id._data)',
      'cs.close()',
    ].join('; ');
    const result = await runMongosh(t.server.uri, script);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('insert c shell string');
  });
});
