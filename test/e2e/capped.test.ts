// Capped collections and tailable cursors (issue 11) through the real driver, on a server whose
// clock is virtual: an awaitData getMore waits until an insert wakes it or the clock is advanced.
import { Int32, Long, MongoClient, type Document } from 'mongodb';
import { describe, expect, test, vi } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { expectExactError, useDriver, type NumberedDoc } from '../helpers/driver.js';
import { runMongosh } from '../helpers/server.js';

const clock = new VirtualClock();
const t = useDriver('capped', { clock });

const raw = { promoteValues: false } as const;

/** A fresh capped collection (dropped first) holding `docs`. */
async function capped(name: string, options: { size: number; max?: number }, docs: NumberedDoc[] = []) {
  await t.db.collection(name).drop();
  await t.db.createCollection(name, { capped: true, ...options });
  const c = t.db.collection<NumberedDoc>(name);
  for (const doc of docs) await c.insertOne(doc);
  return c;
}

const range = (from: number, to: number): NumberedDoc[] => Array.from({ length: to - from }, (_, i) => ({ _id: from + i }));

/** listCollections' document for one collection. */
async function info(name: string): Promise<Document> {
  const [found] = (await t.db.listCollections({ name }).toArray()) as Document[];
  return found!;
}

/** Resolves once the server holds one more timer than `before` (a getMore waiting for inserts). */
async function waiting(before: number): Promise<void> {
  await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(before));
}

describe('create {capped: true}', () => {
  test('the size is rounded up to a multiple of 256; listCollections, collStats and $collStats show the limits', async () => {
    await capped('limits', { size: 1000, max: 5 });
    expect((await info('limits')).options).toEqual({ capped: true, size: 1024, max: 5 });
    const stats = await t.db.command({ collStats: 'limits', scale: 1000 });
    expect(stats).toMatchObject({ capped: true, max: 5, maxSize: 1 });
    const [doc] = await t.db.collection('limits').aggregate([{ $collStats: { storageStats: {} } }], raw).toArray();
    const storage = doc!.storageStats as Document;
    const keys = Object.keys(storage);
    expect(keys.slice(keys.indexOf('freeStorageSize'), keys.indexOf('nindexes') + 1)).toEqual(['freeStorageSize', 'capped', 'max', 'maxSize', 'nindexes']);
    expect([storage.capped, storage.max, storage.maxSize]).toEqual([true, new Int32(5), new Int32(1024)]);
    // Without max: 0 in the stats, absent from the options; max 0 means 2^31 - 1.
    await capped('nomax', { size: 4096 });
    expect((await info('nomax')).options).toEqual({ capped: true, size: 4096 });
    expect(await t.db.command({ collStats: 'nomax' })).toMatchObject({ capped: true, max: 0, maxSize: 4096 });
    await capped('zeromax', { size: 1, max: 0 });
    expect((await info('zeromax')).options).toEqual({ capped: true, size: 256, max: 2147483647 });
    expect((await t.db.command({ collStats: 'limits' })).capped).toBe(true);
    await t.db.collection('plain').insertOne({});
    expect((await t.db.command({ collStats: 'plain' })).capped).toBe(false);
  });

  test("the options are checked as create.idl and mongod's create do", async () => {
    const db = t.client.db('cappedcreate');
    await expectExactError(db.command({ create: 'c', capped: true }), 72, 'InvalidOptions', "the 'size' field is required when 'capped' is true");
    await expectExactError(db.command({ create: 'c', capped: true, max: 5 }), 72, 'InvalidOptions', "the 'size' field is required when 'capped' is true");
    await expectExactError(db.command({ create: 'c', capped: true, size: 0 }), 51024, 'Location51024', "BSON field 'size' value must be >= 1, actual value '0'");
    await expectExactError(db.command({ create: 'c', capped: true, size: -500 }), 51024, 'Location51024', "BSON field 'size' value must be >= 1, actual value '-500'");
    await expectExactError(
      db.command({ create: 'c', capped: true, size: 'foo' }),
      14,
      'TypeMismatch',
      "BSON field 'create.size' is the wrong type 'string', expected types '[long, int, decimal, double']",
    );
    await expectExactError(
      db.command({ create: 'c', capped: 'foo' }),
      14,
      'TypeMismatch',
      "BSON field 'create.capped' is the wrong type 'string', expected types '[bool, long, int, decimal, double']",
    );
    await expectExactError(
      db.command({ create: 'c', capped: true, size: 4096, max: 2 ** 31 }),
      51024,
      'Location51024',
      "BSON field 'max' value must be < 2147483648, actual value '2147483648'",
    );
    await expectExactError(
      db.command({ create: 'c', size: 4096 }),
      72,
      'InvalidOptions',
      "the 'capped' field needs to be true when either the 'size' or 'max' fields are present",
    );
    expect(await db.listCollections().toArray()).toEqual([]);
  });
});

describe('the oldest documents go', () => {
  test('past the size or max; natural order is insertion order and {$natural: -1} is newest first', async () => {
    const c = await capped('evict', { size: 4096, max: 3 }, range(0, 5));
    expect(await c.find().toArray()).toEqual(range(2, 5));
    expect(await c.find().sort({ $natural: -1 }).toArray()).toEqual(range(2, 5).reverse());
    await c.insertMany(range(5, 7));
    expect(await c.find().toArray()).toEqual(range(4, 7));
    const bySize = await capped('bysize', { size: 256 });
    for (let i = 0; i < 10; i++) await bySize.insertOne({ _id: i, s: 'x'.repeat(60) });
    const left = await bySize.find().toArray();
    expect(left.map((d) => d._id)).toEqual([7, 8, 9]);
    expect((await t.db.command({ collStats: 'bysize' })).size).toBeLessThanOrEqual(256);
  });

  test('7.0 allows deletes and updates that change a document size; a TTL index is refused', async () => {
    const c = await capped('writes', { size: 4096 }, range(0, 3));
    expect((await c.deleteOne({ _id: 1 })).deletedCount).toBe(1);
    expect((await c.updateOne({ _id: 2 }, { $set: { grown: 'x'.repeat(100) } })).modifiedCount).toBe(1);
    expect(await c.find().toArray()).toEqual([{ _id: 0 }, { _id: 2, grown: 'x'.repeat(100) }]);
    await expectExactError(c.createIndex({ t: 1 }, { expireAfterSeconds: 60 }), 67, 'CannotCreateIndex', 'Cannot create TTL index on a capped collection');
  });
});

describe('convertToCapped and cloneCollectionAsCapped', () => {
  test('convertToCapped keeps the newest documents that fit, a new UUID and only the _id index', async () => {
    const c = t.db.collection<NumberedDoc>('convert');
    await c.drop();
    await c.insertMany(range(0, 20).map((d) => ({ ...d, s: 'x'.repeat(40) })));
    await c.createIndex({ s: 1 });
    const before = (await info('convert')).info.uuid;
    expect(await t.db.command({ convertToCapped: 'convert', size: 300 })).toEqual({ ok: 1 });
    const converted = await info('convert');
    expect(converted.options).toEqual({ capped: true, size: 512 });
    expect(converted.info.uuid).not.toEqual(before);
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_']);
    // 62-byte documents: 8 of them fit in 512 bytes.
    expect((await c.find().toArray()).map((d) => d._id)).toEqual(range(12, 20).map((d) => d._id));
  });

  test('errors: no size, a missing source, an existing target', async () => {
    await t.db.collection<NumberedDoc>('src').insertOne({ _id: 1 });
    await expectExactError(t.db.command({ convertToCapped: 'src' }), 72, 'InvalidOptions', 'invalid command spec');
    await expectExactError(t.db.command({ convertToCapped: 'nothere', size: 1000 }), 26, 'NamespaceNotFound', 'source collection capped.nothere does not exist');
    await expectExactError(t.client.db('nodb').command({ convertToCapped: 'x', size: 1000 }), 26, 'NamespaceNotFound', 'database nodb not found');
    await expectExactError(
      t.db.command({ cloneCollectionAsCapped: 'nothere', toCollection: 'x', size: 1000 }),
      26,
      'NamespaceNotFound',
      'source collection capped.nothere does not exist',
    );
    await t.db.collection('dest').insertOne({});
    await expectExactError(
      t.db.command({ cloneCollectionAsCapped: 'src', toCollection: 'dest', size: 1000 }),
      48,
      'NamespaceExists',
      'cloneCollectionAsCapped failed - destination collection capped.dest already exists. source collection: capped.src',
    );
    await expectExactError(t.db.command({ cloneCollectionAsCapped: 'src', toCollection: 5, size: 1000 }), 14, 'TypeMismatch', "'toCollection' must be of type String");
    await expectExactError(t.db.command({ cloneCollectionAsCapped: 'src', toCollection: 'a$b', size: 1000 }), 73, 'InvalidNamespace', 'Invalid target collection name: a$b');
  });

  test('cloneCollectionAsCapped leaves the source and makes a capped copy', async () => {
    const src = t.db.collection<NumberedDoc>('clonesrc');
    await src.drop();
    await src.insertMany(range(0, 5));
    await t.db.collection('clonedst').drop();
    expect(await t.db.command({ cloneCollectionAsCapped: 'clonesrc', toCollection: 'clonedst', size: 4096 })).toEqual({ ok: 1 });
    expect(await t.db.collection('clonedst').find().toArray()).toEqual(range(0, 5));
    expect((await info('clonedst')).options).toEqual({ capped: true, size: 4096 });
    expect(await src.countDocuments()).toBe(5);
  });
});

describe('tailable cursors', () => {
  test('refusals: a collection that is not capped, awaitData alone, a sort, singleBatch, maxTimeMS on getMore', async () => {
    await t.db.collection('notcapped').insertOne({ a: 1 });
    await expectExactError(
      t.db.command({ find: 'notcapped', filter: { a: 1 }, tailable: true }),
      2,
      'BadValue',
      'error processing query: ns=capped.notcappedTree: a $eq 1\nSort: {}\nProj: {}\n tailable cursor requested on non capped collection',
    );
    await expectExactError(
      t.db.command({ find: 'notcapped', tailable: true, batchSize: 2, limit: 3 }),
      2,
      'BadValue',
      'error processing query: ns=capped.notcapped batchSize=2 limit=3Tree: $and\nSort: {}\nProj: {}\n tailable cursor requested on non capped collection',
    );
    await expectExactError(t.db.command({ find: 'notcapped', awaitData: true }), 9, 'FailedToParse', "Cannot set 'awaitData' without also setting 'tailable'");
    await capped('tailrules', { size: 4096 }, range(0, 3));
    await expectExactError(
      t.db.command({ find: 'tailrules', tailable: true, sort: { _id: 1 } }),
      2,
      'BadValue',
      'cannot use tailable option with a sort other than {$natural: 1}',
    );
    await expectExactError(t.db.command({ find: 'tailrules', tailable: true, singleBatch: true }), 2, 'BadValue', "cannot use tailable option with the 'singleBatch' option");
    const { cursor } = await t.db.command({ find: 'tailrules', tailable: true, batchSize: 1 });
    await expectExactError(
      t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'tailrules', maxTimeMS: 10 }),
      2,
      'BadValue',
      'cannot set maxTimeMS on getMore command for a non-awaitData cursor',
    );
    // A missing collection answers a closed, empty cursor.
    expect((await t.db.command({ find: 'missing', tailable: true })).cursor).toMatchObject({ firstBatch: [], id: 0 });
  });

  test('a tailable cursor stays open at the end; a getMore returns what was inserted since', async () => {
    const c = await capped('tail', { size: 4096 }, range(0, 2));
    const first = await t.db.command({ find: 'tail', tailable: true, filter: { _id: { $ne: 3 } } });
    expect(first.cursor.firstBatch).toEqual(range(0, 2));
    expect(first.cursor.id).not.toEqual(0);
    const empty = await t.db.command({ getMore: Long.fromValue(first.cursor.id), collection: 'tail' });
    expect(empty.cursor).toMatchObject({ nextBatch: [], id: first.cursor.id });
    await c.insertMany(range(2, 5));
    const more = await t.db.command({ getMore: Long.fromValue(first.cursor.id), collection: 'tail' });
    // The filter still applies to what arrives.
    expect(more.cursor.nextBatch).toEqual([{ _id: 2 }, { _id: 4 }]);
    await t.db.command({ killCursors: 'tail', cursors: [first.cursor.id] });
    // On an empty capped collection the cursor is not kept (find.cpp shouldSaveCursor).
    await capped('tailempty', { size: 4096 });
    expect((await t.db.command({ find: 'tailempty', tailable: true })).cursor.id).toEqual(0);
  });

  test("the driver's tailable awaitData cursor gets a document another client inserts, woken by the insert", async () => {
    await capped('await', { size: 4096 }, [{ _id: 1 }]);
    const cursor = t.db.collection<NumberedDoc>('await').find({}, { tailable: true, awaitData: true });
    expect(await cursor.next()).toEqual({ _id: 1 });
    const before = clock.pendingTimers;
    const next = cursor.next();
    await waiting(before);
    const other = new MongoClient(t.server.uri);
    try {
      await other.db('capped').collection<NumberedDoc>('await').insertOne({ _id: 2 });
    } finally {
      await other.close();
    }
    expect(await next).toEqual({ _id: 2 });
    expect(clock.pendingTimers).toBe(before);
    await cursor.close();
  });

  test('an awaitData getMore answers an empty batch after maxTimeMS (default 1000 ms) of the server clock', async () => {
    await capped('awaittime', { size: 4096 }, [{ _id: 1 }]);
    const { cursor } = await t.db.command({ find: 'awaittime', tailable: true, awaitData: true });
    let before = clock.pendingTimers;
    const timed = t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'awaittime', maxTimeMS: 500 });
    await waiting(before);
    clock.advance(499);
    clock.advance(1);
    expect((await timed).cursor).toMatchObject({ nextBatch: [], id: cursor.id });
    before = clock.pendingTimers;
    const byDefault = t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'awaittime' });
    await waiting(before);
    clock.advance(1000);
    expect((await byDefault).cursor).toMatchObject({ nextBatch: [], id: cursor.id });
    // An insert the filter does not want does not end the wait.
    const filtered = await t.db.command({ find: 'awaittime', tailable: true, awaitData: true, filter: { want: true } });
    before = clock.pendingTimers;
    const wanted = t.db.command({ getMore: Long.fromValue(filtered.cursor.id), collection: 'awaittime', maxTimeMS: 60_000 });
    await waiting(before);
    await t.db.collection<NumberedDoc>('awaittime').insertOne({ _id: 2 });
    await t.db.collection<NumberedDoc>('awaittime').insertOne({ _id: 3, want: true });
    expect((await wanted).cursor.nextBatch).toEqual([{ _id: 3, want: true }]);
  });

  test('killCursors on a cursor whose getMore is waiting ends that getMore with CursorKilled', async () => {
    await capped('killwait', { size: 4096 }, [{ _id: 1 }]);
    const { cursor } = await t.db.command({ find: 'killwait', tailable: true, awaitData: true });
    const before = clock.pendingTimers;
    const pending = t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'killwait', maxTimeMS: 60_000 });
    await waiting(before);
    expect(await t.db.command({ killCursors: 'killwait', cursors: [cursor.id] })).toMatchObject({ cursorsKilled: [cursor.id] });
    await expectExactError(pending, 237, 'CursorKilled', 'Executor error during getMore :: caused by :: operation was interrupted');
  });
});

describe('a cursor whose position was deleted dies (CappedPositionLost)', () => {
  test('a plain scan: the getMore fails and the cursor is gone', async () => {
    const c = await capped('lost', { size: 4096, max: 10 }, range(0, 10));
    const { cursor } = await t.db.command({ find: 'lost', batchSize: 4 });
    expect(cursor.firstBatch).toEqual(range(0, 4));
    await c.insertMany(range(10, 30));
    await expectExactError(
      t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'lost' }),
      136,
      'CappedPositionLost',
      'CollectionScan died due to position in capped collection being deleted. Last seen record id: RecordId(4)',
    );
    await expectExactError(t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'lost' }), 43, 'CursorNotFound', `cursor id ${cursor.id} not found`);
  });

  test('such a scan is not read ahead: a first batch that takes every document leaves the cursor open until a getMore finds the end', async () => {
    await capped('exact', { size: 4096 }, range(0, 2));
    const { cursor } = await t.db.command({ find: 'exact', batchSize: 2 });
    expect(cursor.firstBatch).toEqual(range(0, 2));
    expect(cursor.id).not.toEqual(0);
    expect((await t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'exact' })).cursor).toMatchObject({ nextBatch: [], id: 0 });
  });

  test('a tailable cursor at its end whose last document went', async () => {
    const c = await capped('losttail', { size: 4096, max: 2 }, range(0, 2));
    const { cursor } = await t.db.command({ find: 'losttail', tailable: true });
    await c.insertMany(range(2, 5));
    await expectExactError(
      t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'losttail' }),
      136,
      'CappedPositionLost',
      'Executor error during getMore :: caused by :: CollectionScan died due to failure to restore tailable cursor position. Last seen record id: RecordId(2)',
    );
  });

  test('a query served by an index keeps going (only collection scans hold a position)', async () => {
    const c = await capped('indexed', { size: 4096, max: 5 }, range(0, 5));
    const { cursor } = await t.db.command({ find: 'indexed', filter: { _id: { $gte: 0 } }, batchSize: 2 });
    await c.insertMany(range(5, 10));
    const more = await t.db.command({ getMore: Long.fromValue(cursor.id), collection: 'indexed' });
    expect(more.cursor.nextBatch).toEqual(range(2, 5));
  });
});

test('queryExecStats counts tailable scans apart', async () => {
  await capped('scans', { size: 4096 }, [{ _id: 1 }]);
  await t.db.collection('scans').find().toArray();
  const { cursor } = await t.db.command({ find: 'scans', tailable: true });
  await t.db.command({ killCursors: 'scans', cursors: [cursor.id] });
  const [doc] = await t.db.collection('scans').aggregate([{ $collStats: { queryExecStats: {} } }]).toArray();
  expect(doc!.queryExecStats).toEqual({ collectionScans: { total: 2, nonTailable: 1 } });
});

test('mongosh: createCollection, isCapped, stats', async () => {
  const result = await runMongosh(
    t.server.uri,
    "db = db.getSiblingDB('cappedsh'); db.createCollection('log', {capped: true, size: 5000, max: 2}); " +
      "for (let i = 0; i < 4; i++) db.log.insertOne({i}); const s = db.log.stats(); " +
      "print(JSON.stringify([db.log.isCapped(), s.capped, s.max, s.maxSize, db.log.find().sort({$natural: -1}).toArray().map(d => d.i)]))",
  );
  expect(result.stdout.trim().split('\n').at(-1)).toBe(JSON.stringify([true, true, 2, 5120, [3, 2]]));
});
