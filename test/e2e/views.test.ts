/**
 * End-to-end: views through the official driver and mongosh (mongod 7.0's non-materialized
 * views): createCollection with viewOn and db.createView, reads through a view (find, cursors,
 * countDocuments, estimatedDocumentCount, distinct, aggregate, $lookup), listCollections and
 * system.views, collMod and drop of a view, the refusals of writes (166) and of other
 * collations (167), and the privileges a view needs under auth (find on the view, not its source).
 */
import { Int32, MongoBulkWriteError, MongoServerError, type Document, type MongoClient } from 'mongodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectErrorReply, expectExactError, useDriver, type NumberedDoc } from '../helpers/driver.js';
import { runMongosh } from '../helpers/server.js';

const t = useDriver('views');

beforeAll(async () => {
  await t.db.collection<NumberedDoc>('orders').insertMany(
    Array.from({ length: 6 }, (_, i) => ({ _id: i, customer: i % 2 === 0 ? 'ann' : 'bob', total: (i + 1) * 10, tags: i < 2 ? ['a', 'b'] : ['b'] })),
  );
  await t.db.collection<NumberedDoc>('customers').insertMany([
    { _id: 1, name: 'ann' },
    { _id: 2, name: 'bob' },
  ]);
  await t.db.createCollection('big', { viewOn: 'orders', pipeline: [{ $match: { total: { $gte: 30 } } }] });
});

describe('reading through a view with the driver', () => {
  test('find with filter, sort, skip, limit and projection; a cursor in batches', async () => {
    const big = t.db.collection<NumberedDoc>('big');
    expect(await big.find({}, { sort: { _id: 1 } }).toArray()).toHaveLength(4);
    expect(await big.find({ customer: 'ann' }).sort({ total: -1 }).skip(1).limit(1).project({ _id: 1 }).toArray()).toEqual([{ _id: 2 }]);
    expect((await big.find({}).batchSize(1).toArray()).map((d) => d._id)).toEqual([2, 3, 4, 5]);
    expect(await big.findOne({ _id: 3 })).toEqual({ _id: 3, customer: 'bob', total: 40, tags: ['b'] });
  });

  test('countDocuments, estimatedDocumentCount and distinct', async () => {
    const big = t.db.collection('big');
    expect(await big.countDocuments({ customer: 'bob' })).toBe(2);
    expect(await big.estimatedDocumentCount()).toBe(4);
    expect((await big.distinct('customer')).sort()).toEqual(['ann', 'bob']);
    // The reply of count and distinct on a view carries an int32 ok (ViewResponseFormatter).
    const raw = await t.db.command({ count: 'big' }, { promoteValues: false });
    expect(raw).toEqual({ n: new Int32(4), ok: new Int32(1) });
  });

  test('aggregate runs the view pipeline first; $lookup and $unionWith read views', async () => {
    const totals = await t.db
      .collection('big')
      .aggregate([{ $group: { _id: '$customer', sum: { $sum: '$total' } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(totals).toEqual([
      { _id: 'ann', sum: 80 },
      { _id: 'bob', sum: 100 },
    ]);
    const joined = await t.db
      .collection('customers')
      .aggregate([{ $lookup: { from: 'big', localField: 'name', foreignField: 'customer', as: 'o' } }, { $project: { n: { $size: '$o' } } }])
      .toArray();
    expect(joined).toEqual([
      { _id: 1, n: 2 },
      { _id: 2, n: 2 },
    ]);
    expect(await t.db.collection('customers').aggregate([{ $unionWith: 'big' }, { $count: 'n' }]).toArray()).toEqual([{ n: 6 }]);
  });

  test('explain of a find on a view is the aggregate explain on the source collection', async () => {
    const explained = await t.db.collection('big').find({ customer: 'bob' }).explain('queryPlanner');
    expect(explained.stages[0].$cursor.queryPlanner.namespace).toBe('views.orders');
  });
});

describe('the catalog', () => {
  test('listCollections shows the view and system.views; collMod redefines it; drop removes it', async () => {
    await t.db.createCollection('cheap', { viewOn: 'orders', pipeline: [{ $match: { total: { $lt: 30 } } }] });
    const listed = await t.db.listCollections({ name: { $in: ['cheap', 'system.views'] } }).toArray();
    expect(listed).toEqual([
      expect.objectContaining({ name: 'system.views', type: 'collection' }),
      { name: 'cheap', type: 'view', options: { viewOn: 'orders', pipeline: [{ $match: { total: { $lt: 30 } } }] }, info: { readOnly: true } },
    ]);
    expect(await t.db.collection('system.views').findOne({ _id: 'views.cheap' as unknown as never })).toEqual({
      _id: 'views.cheap',
      viewOn: 'orders',
      pipeline: [{ $match: { total: { $lt: 30 } } }],
    });
    expect(await t.db.command({ collMod: 'cheap', pipeline: [{ $match: { total: { $lt: 20 } } }] })).toEqual({ ok: 1 });
    expect(await t.db.collection('cheap').countDocuments()).toBe(1);
    expect(await t.db.collection('cheap').drop()).toBe(true);
    expect(await t.db.listCollections({ name: 'cheap' }).toArray()).toEqual([]);
  });

  test("a view's definition is checked as mongod checks it", async () => {
    await expectErrorReply(
      t.db.createCollection('bad', { viewOn: 'orders', pipeline: [{ $out: 'x' }] }),
      167,
      'OptionNotSupportedOnView',
      'Invalid pipeline for view views.bad :: caused by :: The aggregation stage $out in location 0 of the pipeline cannot be used in the view definition of views.bad because it writes to disk',
    );
    await expectErrorReply(t.db.createCollection('big', { viewOn: 'orders' }), 48, 'NamespaceExists', 'A view already exists. NS: views.big');
    await t.db.createCollection('loop1', { viewOn: 'loop2' });
    await expectErrorReply(
      t.db.createCollection('loop2', { viewOn: 'loop1' }),
      5,
      'GraphContainsCycle',
      'View cycle detected: views.loop2 => views.loop2 => views.loop1 => views.loop2',
    );
  });
});

describe('refusals', () => {
  test('writes to a view: CommandNotSupportedOnView (166), nothing written', async () => {
    const big = t.db.collection<NumberedDoc>('big');
    const insert = await big.insertOne({ _id: 100 }).catch((e: unknown) => e);
    expect(insert).toBeInstanceOf(MongoServerError);
    expect((insert as MongoServerError).code).toBe(166);
    expect((insert as MongoServerError).errmsg).toBe('Namespace views.big is a view, not a collection');
    const many = await big.insertMany([{ _id: 101 }, { _id: 102 }], { ordered: false }).catch((e: unknown) => e);
    expect(many).toBeInstanceOf(MongoBulkWriteError);
    expect((many as MongoBulkWriteError).writeErrors).toHaveLength(2);
    await expectExactError(big.findOneAndDelete({}), 166, 'CommandNotSupportedOnView', 'Namespace views.big is a view, not a collection');
    await expectExactError(big.createIndex({ total: 1 }), 166, 'CommandNotSupportedOnView', 'Namespace views.big is a view, not a collection');
    expect(await t.db.collection('orders').countDocuments()).toBe(6);
  });

  test("another collation than the view's is refused (167)", async () => {
    await expectExactError(
      t.db.collection('big').find({}, { collation: { locale: 'fr' } }).toArray(),
      167,
      'OptionNotSupportedOnView',
      "Cannot override a view's default collation",
    );
  });
});

describe('mongosh', () => {
  test('db.createView, show collections, and a find on the view', async () => {
    const uri = `${t.server.uri}shell`;
    const create = await runMongosh(uri, "db.src.insertMany([{_id: 1, a: 1}, {_id: 2, a: 2}]); printjson(db.createView('v', 'src', [{$match: {a: 2}}]))");
    expect(create).toMatchObject({ code: 0, stderr: '' });
    expect(create.stdout.replace(/\s+/g, ' ')).toBe('{ ok: 1 } ');
    const shown = await runMongosh(uri, 'show collections');
    // mongosh marks views and lists system collections last.
    expect(shown.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/\s+/g, ' '))).toEqual(['src', 'v [view]', 'system.views']);
    const found = await runMongosh(uri, 'print(JSON.stringify(db.v.find().toArray()))');
    expect(found.stdout).toBe('[{"_id":2,"a":2}]\n');
  });
});

describe('privileges', () => {
  const auth = useDriver('secured', { auth: true, users: [{ user: 'admin', pwd: 'secret' }], setParameter: { scramIterationCount: '5000', scramSHA256IterationCount: '5000' } });
  let root: MongoClient;

  beforeAll(async () => {
    root = await auth.login('admin', 'secret', 'admin');
    const db = root.db('secured');
    await db.collection<NumberedDoc>('salaries').insertMany([
      { _id: 1, name: 'ann', pay: 10 },
      { _id: 2, name: 'bob', pay: 20 },
    ]);
    await db.createCollection('names', { viewOn: 'salaries', pipeline: [{ $project: { pay: 0 } }] });
    await db.command({ createRole: 'namesReader', privileges: [{ resource: { db: 'secured', collection: 'names' }, actions: ['find'] }], roles: [] });
    await db.command({ createUser: 'viewer', pwd: 'viewer-pw', roles: ['namesReader'] });
  });

  test('reading a view needs find on the view, not on its source', async () => {
    const viewer = await auth.login('viewer', 'viewer-pw', 'secured');
    expect(await viewer.db('secured').collection('names').find({}).toArray()).toEqual([
      { _id: 1, name: 'ann' },
      { _id: 2, name: 'bob' },
    ]);
    const denied = await viewer.db('secured').collection('salaries').find({}).toArray().catch((e: unknown) => e);
    expect((denied as MongoServerError).code).toBe(13);
  });

  test('creating a view one may read needs read on what its definition reads', async () => {
    const db = root.db('secured');
    await db.command({
      createRole: 'viewMaker',
      privileges: [{ resource: { db: 'secured', collection: '' }, actions: ['createCollection', 'find'] }],
      roles: [],
    });
    await db.command({ createUser: 'maker', pwd: 'maker-pw', roles: ['viewMaker'] });
    const maker = await auth.login('maker', 'maker-pw', 'secured');
    await maker.db('secured').createCollection('mine', { viewOn: 'salaries', pipeline: [] });
    const other = await maker
      .db('other')
      .command({ create: 'v', viewOn: 'x', pipeline: [] })
      .catch((e: unknown) => e);
    expect((other as MongoServerError).code).toBe(13);
    // collMod needs its own action first; then, under auth, viewOn and pipeline go together.
    const modified = await maker
      .db('secured')
      .command({ collMod: 'mine', viewOn: 'salaries' } as Document)
      .catch((e: unknown) => e);
    expect((modified as MongoServerError).code).toBe(13);
    await root.db('secured').command({ grantPrivilegesToRole: 'viewMaker', privileges: [{ resource: { db: 'secured', collection: '' }, actions: ['collMod'] }] });
    await expectExactError(
      maker.db('secured').command({ collMod: 'mine', viewOn: 'salaries' }),
      72,
      'InvalidOptions',
      "Must specify both 'viewOn' and 'pipeline' when modifying a view and auth is enabled",
    );
    expect(await maker.db('secured').command({ collMod: 'mine', viewOn: 'salaries', pipeline: [{ $match: { pay: 10 } }] })).toEqual({ ok: 1 });
  });
});
