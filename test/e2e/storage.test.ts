import { Binary, Decimal128, Double, Int32, Long, MongoBulkWriteError, MongoServerError, ObjectId, Timestamp, UUID } from 'mongodb';
import { expect, test } from 'vitest';
import { expectServerError, useDriver } from '../helpers/driver.js';
import { runMongosh } from '../helpers/server.js';

const t = useDriver('storage');

test('documents round-trip with their BSON types, _id generated first when missing', async () => {
  const c = t.db.collection('types');
  const doc = {
    int: new Int32(5),
    long: Long.fromString('9007199254740993'),
    double: new Double(1),
    decimal: Decimal128.fromString('1.10'),
    date: new Date(0),
    oid: new ObjectId(),
    bin: new Binary(Buffer.from('abc'), 0),
    uuid: new UUID(),
    ts: new Timestamp({ t: 1, i: 2 }),
    nested: { a: [1, 'x', null] },
  };
  const { insertedId } = await c.insertOne({ ...doc });
  expect(insertedId).toBeInstanceOf(ObjectId);
  const raw = t.client.db('storage').collection('types');
  const found = await raw.findOne({ _id: insertedId }, { promoteValues: false, promoteLongs: false });
  expect(Object.keys(found!)[0]).toBe('_id');
  expect(found!.int).toBeInstanceOf(Int32);
  expect(found!.long).toEqual(doc.long);
  expect(found!.double).toBeInstanceOf(Double);
  expect(found!.decimal.toString()).toBe('1.10');
  expect(found!.date).toEqual(doc.date);
  expect(found!.oid).toEqual(doc.oid);
  expect(found!.ts).toEqual(doc.ts);
});

test('a duplicate _id is DuplicateKey with mongod text; ordered stops, unordered goes on', async () => {
  const c = t.db.collection('dups');
  await c.insertOne({ _id: 1 as never, a: 1 });
  await expectServerError(c.insertOne({ _id: 1 as never }), 11000, undefined, 'E11000 duplicate key error collection: storage.dups index: _id_ dup key: { _id: 1 }');
  const ordered = await c.insertMany([{ _id: 2 }, { _id: 1 }, { _id: 3 }] as never[]).catch((e: unknown) => e);
  expect(ordered).toBeInstanceOf(MongoBulkWriteError);
  expect((ordered as MongoBulkWriteError).result.insertedCount).toBe(1);
  const unordered = await c.insertMany([{ _id: 4 }, { _id: 1 }, { _id: 5 }] as never[], { ordered: false }).catch((e: unknown) => e);
  expect((unordered as MongoBulkWriteError).result.insertedCount).toBe(2);
  expect((unordered as MongoBulkWriteError).writeErrors).toHaveLength(1);
  expect(await c.countDocuments({})).toBe(4);
});

test('an _id of a numeric type equals the same number of another type (Int32 1 = Double 1.0)', async () => {
  const c = t.db.collection('numericIds');
  await c.insertOne({ _id: new Int32(7) as never });
  await expectServerError(c.insertOne({ _id: new Double(7) as never }), 11000);
});

test('find with filter, sort, skip, limit and a small batch size pages through getMore', async () => {
  const c = t.db.collection('paging');
  await c.insertMany(Array.from({ length: 25 }, (_, i) => ({ i, even: i % 2 === 0 })));
  const evens = await c.find({ even: true }, { batchSize: 3 }).sort({ i: -1 }).skip(1).limit(5).toArray();
  expect(evens.map((d) => d.i)).toEqual([22, 20, 18, 16, 14]);
  const all = await c.find({}, { batchSize: 2 }).toArray();
  expect(all).toHaveLength(25);
  expect(await c.find({ i: { $gte: 20 } }).project({ _id: 0, i: 1 }).toArray()).toEqual([{ i: 20 }, { i: 21 }, { i: 22 }, { i: 23 }, { i: 24 }]);
});

test('deleteOne and deleteMany', async () => {
  const c = t.db.collection('deleting');
  await c.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }]);
  expect((await c.deleteOne({ k: 1 })).deletedCount).toBe(1);
  expect((await c.deleteMany({})).deletedCount).toBe(2);
  expect(await c.countDocuments({})).toBe(0);
});

test("create: unknown fields are 40415; options pocketmongo cannot honour are refused, not ignored", async () => {
  const db = t.client.db('createopts');
  await expectServerError(db.command({ create: 'x', bogus: 1 }), 40415, 'Location40415', "BSON field 'create.bogus' is an unknown field.");
  await expectServerError(db.createCollection('ts', { timeseries: { timeField: 't' } }), 115, 'CommandNotSupported', "pocketmongo does not support time-series collections yet (create option 'timeseries')");
  await expectServerError(db.createCollection('collated', { collation: { locale: 'fr' } }), 115, 'CommandNotSupported', "pocketmongo does not support collection default collations yet (create option 'collation')");
  expect((await db.listCollections().toArray()).length).toBe(0);
  // Options that change nothing for an in-memory collection are accepted.
  await db.createCollection('plain', { storageEngine: { wiredTiger: {} }, indexOptionDefaults: {}, validationLevel: 'strict' });
  expect((await db.listCollections().toArray()).map((c) => c.name)).toEqual(['plain']);
});

test('create, listCollections, drop, listDatabases, dropDatabase', async () => {
  const other = t.client.db('catalogtest');
  await other.createCollection('a');
  await expectServerError(other.createCollection('a'), 48, undefined, 'Collection catalogtest.a already exists.');
  await other.collection('b').insertOne({ x: 1 });
  expect((await other.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['a', 'b']);
  const full = await other.listCollections({ name: 'b' }).toArray();
  expect(full[0]).toMatchObject({ name: 'b', type: 'collection', options: {}, idIndex: { key: { _id: 1 }, name: '_id_' } });
  const dbs = await t.client.db('admin').admin().listDatabases();
  expect(dbs.databases.map((d) => d.name)).toContain('catalogtest');
  expect(await other.collection('a').drop()).toBe(true);
  expect(await other.dropDatabase()).toBe(true);
  const after = await t.client.db('admin').admin().listDatabases({ nameOnly: true });
  expect(after.databases.map((d) => d.name)).not.toContain('catalogtest');
});

test('mongosh: insertOne, find and show dbs', async () => {
  const result = await runMongosh(
    t.server.uri,
    "db.getSiblingDB('shell').c.insertOne({a: 1}); print(JSON.stringify(db.getSiblingDB('shell').c.find({}, {_id: 0}).toArray())); print(db.adminCommand({listDatabases: 1, nameOnly: true}).databases.map(d => d.name).includes('shell'))",
  );
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain('[{"a":1}]');
  expect(result.stdout).toContain('true');
});

test('updateOne/updateMany with operators, replaceOne, upsert with $setOnInsert, and _id immutability', async () => {
  const c = t.db.collection('updating');
  await c.insertMany([{ _id: 1, n: new Int32(1), tags: ['a'], kept: new Double(2) }, { _id: 2, n: new Int32(5) }] as never[]);
  const one = await c.updateOne({ _id: 1 } as never, { $inc: { n: 2 }, $push: { tags: 'b' } } as never);
  expect([one.matchedCount, one.modifiedCount]).toEqual([1, 1]);
  const raw = await c.findOne({ _id: 1 } as never, { promoteValues: false });
  expect(raw!.kept).toBeInstanceOf(Double);
  expect(await c.findOne({ _id: 1 } as never)).toEqual({ _id: 1, n: 3, tags: ['a', 'b'], kept: 2 });
  const many = await c.updateMany({}, { $set: { flag: true } });
  expect([many.matchedCount, many.modifiedCount]).toEqual([2, 2]);
  const same = await c.updateOne({ _id: 2 } as never, { $set: { flag: true } });
  expect([same.matchedCount, same.modifiedCount]).toEqual([1, 0]);
  await c.replaceOne({ _id: 2 } as never, { replaced: 1 });
  expect(await c.findOne({ _id: 2 } as never)).toEqual({ _id: 2, replaced: 1 });
  const up = await c.updateOne({ name: 'x' }, { $set: { v: 1 }, $setOnInsert: { created: true } }, { upsert: true });
  expect(up.upsertedCount).toBe(1);
  expect(await c.findOne({ name: 'x' }, { projection: { _id: 0 } })).toEqual({ name: 'x', v: 1, created: true });
  const again = await c.updateOne({ name: 'x' }, { $set: { v: 2 }, $setOnInsert: { created: false } }, { upsert: true });
  expect([again.matchedCount, again.upsertedCount]).toEqual([1, 0]);
  expect(await c.findOne({ name: 'x' }, { projection: { _id: 0 } })).toEqual({ name: 'x', v: 2, created: true });
  await expectServerError(c.updateOne({ _id: 1 } as never, { $set: { _id: 9 } }), 66);
});

test('count and distinct', async () => {
  const c = t.db.collection('counting');
  await c.insertMany([{ k: 'a', t: [1, 2] }, { k: 'b', t: [2, 3] }, { k: 'a' }]);
  expect(await t.db.command({ count: 'counting', query: { k: 'a' } })).toEqual({ n: 2, ok: 1 });
  expect(await c.estimatedDocumentCount()).toBe(3);
  expect(await c.distinct('k')).toEqual(['a', 'b']);
  expect(await c.distinct('t')).toEqual([1, 2, 3]);
});

test('unique indexes: DuplicateKey with mongod errmsg on insert, update and index build; listIndexes; dropIndexes', async () => {
  const c = t.db.collection('indexed');
  await c.insertMany([{ a: 1 }, { a: 2 }, { b: 1 }]);
  expect(await c.createIndex({ a: 1 }, { unique: true })).toBe('a_1');
  expect((await c.listIndexes().toArray()).map((i) => [i.name, i.unique ?? false])).toEqual([
    ['_id_', false],
    ['a_1', true],
  ]);
  const dup = await expectServerError(c.insertOne({ a: 1 }), 11000, undefined, 'E11000 duplicate key error collection: storage.indexed index: a_1 dup key: { a: 1 }');
  expect(dup.errorResponse).toMatchObject({ keyPattern: { a: 1 }, keyValue: { a: 1 } });
  // A second document without `a` indexes as null and clashes with { b: 1 } (not sparse).
  const nullDup = await c.insertOne({ c: 1 }).catch((e: unknown) => e);
  expect((nullDup as MongoServerError).message).toBe('E11000 duplicate key error collection: storage.indexed index: a_1 dup key: { a: null }');
  await expectServerError(c.updateOne({ a: 2 }, { $set: { a: 1 } }), 11000);
  expect(await c.countDocuments({ a: 2 })).toBe(1);
  await c.insertMany([{ u: 5, a: 10 }, { u: 5, a: 11 }]);
  await expectServerError(c.createIndex({ u: 1 }, { unique: true, sparse: true }), 11000);
  expect(await t.db.command({ dropIndexes: 'indexed', index: 'a_1' })).toEqual({ nIndexesWas: 2, ok: 1 });
  await c.insertOne({ a: 1 });
  await expectServerError(t.db.command({ dropIndexes: 'indexed', index: 'nope' }), 27);
});

test('findOneAndUpdate, findOneAndDelete and findOneAndReplace (findAndModify)', async () => {
  const c = t.db.collection('fam');
  await c.insertMany([{ k: 1, v: 'a' }, { k: 2, v: 'b' }]);
  const before = await c.findOneAndUpdate({ k: 1 }, { $set: { v: 'A' } }, { projection: { _id: 0 } });
  expect(before).toEqual({ k: 1, v: 'a' });
  const after = await c.findOneAndUpdate({ k: 1 }, { $set: { v: 'AA' } }, { returnDocument: 'after', projection: { _id: 0 } });
  expect(after).toEqual({ k: 1, v: 'AA' });
  const up = await c.findOneAndUpdate({ k: 3 }, { $set: { v: 'c' } }, { upsert: true, returnDocument: 'after', projection: { _id: 0 } });
  expect(up).toEqual({ k: 3, v: 'c' });
  const none = await c.findOneAndUpdate({ k: 99 }, { $set: { v: 'x' } });
  expect(none).toBeNull();
  const last = await c.findOneAndDelete({}, { sort: { k: -1 }, projection: { _id: 0 } });
  expect(last).toEqual({ k: 3, v: 'c' });
  await c.findOneAndReplace({ k: 2 }, { k: 2, replaced: true });
  expect(await c.findOne({ k: 2 }, { projection: { _id: 0 } })).toEqual({ k: 2, replaced: true });
  expect(await c.countDocuments({})).toBe(2);
});

test('renameCollection, dbStats and collStats', async () => {
  const c = t.db.collection('renameme');
  await c.insertMany([{ a: 1 }, { a: 2 }]);
  await c.createIndex({ a: 1 }, { unique: true });
  await c.rename('renamed');
  const moved = t.db.collection('renamed');
  expect(await moved.countDocuments({})).toBe(2);
  expect((await moved.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'a_1']);
  const err = await expectServerError(t.client.db('admin').command({ renameCollection: 'storage.nothere', to: 'storage.x' }), 26, 'NamespaceNotFound');
  expect(err.errorResponse).toMatchObject({ code: 26, codeName: 'NamespaceNotFound', errmsg: 'Source collection does not exist' });
  const wrongDb = await t.db.command({ renameCollection: 'storage.renamed', to: 'storage.x' }).catch((e: unknown) => e);
  expect((wrongDb as MongoServerError).message).toBe('renameCollection may only be run against the admin database.');
  const stats = await t.db.command({ dbStats: 1 });
  expect(stats).toMatchObject({ db: 'storage', ok: 1 });
  expect(Number(stats.objects)).toBeGreaterThan(0);
  const coll = await t.db.command({ collStats: 'renamed' });
  expect(coll).toMatchObject({ ns: 'storage.renamed', count: 2, nindexes: 2, ok: 1 });
});

test('an _id lookup finds the document whatever the numeric type asked for, and only that one', async () => {
  const c = t.db.collection('byid');
  await c.insertMany([{ _id: new Int32(1), v: 'one' }, { _id: 'x', v: 'x' }, { _id: new ObjectId('0123456789abcdef01234567'), v: 'oid' }] as never[]);
  expect(await c.findOne({ _id: new Double(1) } as never)).toEqual({ _id: 1, v: 'one' });
  expect(await c.findOne({ _id: new Int32(1), v: 'one' } as never)).toEqual({ _id: 1, v: 'one' });
  expect(await c.findOne({ _id: 1, v: 'other' } as never)).toBeNull();
  expect((await c.findOne({ _id: new ObjectId('0123456789abcdef01234567') } as never))?.v).toBe('oid');
  expect(await c.countDocuments({ _id: { $in: [1, 'x'] } } as never)).toBe(2);
  expect((await c.updateOne({ _id: 'x' } as never, { $set: { v: 'X' } })).modifiedCount).toBe(1);
  expect((await c.deleteOne({ _id: new Double(1) } as never)).deletedCount).toBe(1);
});
