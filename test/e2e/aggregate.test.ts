/**
 * End-to-end: the aggregate command through the official driver over TCP. The stages that read
 * other collections ($lookup, $graphLookup, $unionWith) and write them ($out, $merge), with
 * mongod 7.0's errors (document_source_lookup.cpp, document_source_out.cpp,
 * document_source_merge.cpp, pipeline.cpp), their privileges, and the common stages.
 */
import { Double, Long, ObjectId, type Db, type Document } from 'mongodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectServerError, serverError, useDriver } from '../helpers/driver.js';

const t = useDriver('agg');

beforeAll(async () => {
  await t.db.collection('customers').insertMany([
    { _id: 1, name: 'Ada', country: 'UK' },
    { _id: 2, name: 'Linus', country: 'FI' },
    { _id: 3, name: 'Grace', country: 'US' },
  ] as Document[]);
  await t.db.collection('orders').insertMany([
    { _id: 10, customerId: 1, item: 'pen', qty: 2, amount: 5 },
    { _id: 11, customerId: 1, item: 'ink', qty: 1, amount: 20 },
    { _id: 12, customerId: 2, item: 'pen', qty: 10, amount: 25 },
    { _id: 13, customerId: 3, item: 'pad', qty: 4, amount: 12 },
    { _id: 14, customerId: 9, item: 'pen', qty: 1, amount: 3 },
  ] as Document[]);
  await t.db.collection('inventory').insertMany([
    { _id: 1, sku: 'pen', warehouse: 'A', instock: 5 },
    { _id: 2, sku: 'pen', warehouse: 'B', instock: 50 },
    { _id: 3, sku: 'ink', warehouse: 'A', instock: 1 },
    { _id: 4, sku: 'pad', warehouse: 'C', instock: 0 },
  ] as Document[]);
});

async function expectError(pipeline: Document[], code: number, errmsg: string, coll = 'orders'): Promise<void> {
  await expectServerError(t.db.collection(coll).aggregate(pipeline).toArray(), code, undefined, errmsg);
}

/** Runs a pipeline with the raw command, to see the reply itself. */
function runAggregate(coll: string, pipeline: Document[]): Promise<Document> {
  return t.db.command({ aggregate: coll, pipeline, cursor: {} });
}

async function seed(name: string, docs: Document[]): Promise<void> {
  await t.db.collection(name).drop().catch(() => undefined);
  if (docs.length > 0) await t.db.collection(name).insertMany(docs);
}

async function contents(name: string): Promise<Document[]> {
  return t.db.collection(name).find().sort({ _id: 1 }).toArray();
}

describe('$lookup', () => {
  test('with $group: revenue per country of the customers who ordered', async () => {
    const result = await t.db
      .collection('orders')
      .aggregate([
        { $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } },
        { $unwind: '$customer' },
        { $group: { _id: '$customer.country', revenue: { $sum: '$amount' }, orders: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { _id: 'FI', revenue: 25, orders: 1 },
      { _id: 'UK', revenue: 25, orders: 2 },
      { _id: 'US', revenue: 12, orders: 1 },
    ]);
  });

  test('an order without a customer joins an empty array; a missing collection is an empty one', async () => {
    const [order] = await t.db
      .collection('orders')
      .aggregate([
        { $match: { _id: 14 } },
        { $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } },
        { $lookup: { from: 'noSuchCollection', localField: 'customerId', foreignField: '_id', as: 'nothing' } },
      ])
      .toArray();
    expect(order).toMatchObject({ _id: 14, customer: [], nothing: [] });
  });

  test('let/pipeline: the warehouses that have enough stock for each order line', async () => {
    const result = await t.db
      .collection('orders')
      .aggregate([
        { $match: { _id: { $in: [10, 12, 13] } } },
        {
          $lookup: {
            from: 'inventory',
            let: { item: '$item', qty: '$qty' },
            pipeline: [
              { $match: { $expr: { $and: [{ $eq: ['$sku', '$$item'] }, { $gte: ['$instock', '$$qty'] }] } } },
              { $project: { _id: 0, warehouse: 1 } },
            ],
            as: 'stock',
          },
        },
        { $project: { stock: 1 } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { _id: 10, stock: [{ warehouse: 'A' }, { warehouse: 'B' }] },
      { _id: 12, stock: [{ warehouse: 'B' }] },
      { _id: 13, stock: [] },
    ]);
  });

  test('localField/foreignField with a pipeline runs the pipeline over the matching documents only', async () => {
    const result = await t.db
      .collection('orders')
      .aggregate([
        { $match: { _id: { $in: [11, 13] } } },
        { $lookup: { from: 'inventory', localField: 'item', foreignField: 'sku', pipeline: [{ $project: { _id: 0, warehouse: 1 } }], as: 'at' } },
        { $project: { at: 1 } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { _id: 11, at: [{ warehouse: 'A' }] },
      { _id: 13, at: [{ warehouse: 'C' }] },
    ]);
  });

  test('joins on ObjectId values and keeps the joined values BSON types', async () => {
    const authorId = new ObjectId();
    await seed('authors', [{ _id: authorId, name: 'Knuth', born: new Date('1938-01-10T00:00:00Z') }]);
    await seed('books', [{ _id: 1, author: new ObjectId(authorId.toHexString()), title: 'TAOCP' }]);
    const [book] = await t.db
      .collection('books')
      .aggregate([{ $lookup: { from: 'authors', localField: 'author', foreignField: '_id', as: 'by' } }])
      .toArray();
    expect(book!.by).toEqual([{ _id: authorId, name: 'Knuth', born: new Date('1938-01-10T00:00:00Z') }]);
  });

  test("mongod's errors for a bad spec", async () => {
    await expectError([{ $lookup: 'customers' }], 9, 'the $lookup stage specification must be an object, but found string');
    await expectError([{ $lookup: { from: ['x'], localField: 'a', foreignField: 'b', as: 'c' } }], 9, "$lookup 'from' field must be a string, but found array");
    await expectError([{ $lookup: { from: 'customers', localField: 'a', as: 'c' } }], 9, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified");
    await expectError([{ $lookup: { from: 'customers', localField: 'a', foreignField: 'b' } }], 9, "must specify 'as' field for a $lookup");
    await expectError([{ $lookup: { from: 'customers', localField: 'a', foreignField: 'b', as: 'c', bogus: 'x' } }], 9, 'unknown argument to $lookup: bogus');
    await expectError(
      [{ $lookup: { from: 'customers', pipeline: [{ $out: 'x' }], as: 'c' } }],
      51047,
      "$out is not allowed within a $lookup's sub-pipeline",
    );
  });
});

describe('$graphLookup', () => {
  beforeAll(async () => {
    await seed('employees', [
      { _id: 1, name: 'Dev', reportsTo: 'Eliot' },
      { _id: 2, name: 'Eliot', reportsTo: 'Ron' },
      { _id: 3, name: 'Ron', reportsTo: 'Andrew' },
      { _id: 4, name: 'Andrew', reportsTo: null },
      { _id: 5, name: 'Asya', reportsTo: 'Ron' },
    ]);
  });

  test('walks the reporting chain, with depths and a maximum depth', async () => {
    const [dev] = await t.db
      .collection('employees')
      .aggregate([
        { $match: { name: 'Dev' } },
        { $graphLookup: { from: 'employees', startWith: '$reportsTo', connectFromField: 'reportsTo', connectToField: 'name', as: 'chain', depthField: 'depth' } },
      ])
      .toArray();
    const chain = (dev!.chain as Document[]).map((e) => [e.name, Number(e.depth)]).sort((a, b) => (a[1] as number) - (b[1] as number));
    expect(chain).toEqual([
      ['Eliot', 0],
      ['Ron', 1],
      ['Andrew', 2],
    ]);
    const [limited] = await t.db
      .collection('employees')
      .aggregate([
        { $match: { name: 'Dev' } },
        { $graphLookup: { from: 'employees', startWith: '$reportsTo', connectFromField: 'reportsTo', connectToField: 'name', as: 'chain', maxDepth: 1 } },
      ])
      .toArray();
    expect((limited!.chain as Document[]).map((e) => e.name).sort()).toEqual(['Eliot', 'Ron']);
  });

  test('restrictSearchWithMatch, and a missing collection is an empty one', async () => {
    const [eliot] = await t.db
      .collection('employees')
      .aggregate([
        { $match: { name: 'Eliot' } },
        {
          $graphLookup: {
            from: 'employees',
            startWith: '$name',
            connectFromField: 'name',
            connectToField: 'reportsTo',
            as: 'reports',
            restrictSearchWithMatch: { name: { $ne: 'Asya' } },
          },
        },
        { $graphLookup: { from: 'nobody', startWith: '$name', connectFromField: 'name', connectToField: 'x', as: 'none' } },
      ])
      .toArray();
    expect((eliot!.reports as Document[]).map((e) => e.name)).toEqual(['Dev']);
    expect(eliot!.none).toEqual([]);
  });

  test("mongod's errors for a bad spec", async () => {
    await expectError(
      [{ $graphLookup: { from: 'employees', startWith: '$a', connectFromField: 'a', as: 'b' } }],
      40105,
      "$graphLookup requires 'from', 'as', 'startWith', 'connectFromField', and 'connectToField' to be specified.",
    );
    await expectError(
      [{ $graphLookup: { from: 'employees', startWith: '$a', connectFromField: 'a', connectToField: 'b', as: 'c', maxDepth: -1 } }],
      40101,
      'maxDepth requires a nonnegative argument, found: -1',
    );
    await expectError([{ $graphLookup: { from: 1, startWith: '$a' } }], 9, "$graphLookup 'from' field must be a string, but found int");
  });
});

describe('$unionWith', () => {
  test('a collection name, or {coll, pipeline}; a missing collection adds nothing', async () => {
    const names = await t.db
      .collection('customers')
      .aggregate([
        { $project: { _id: 0, name: 1 } },
        { $unionWith: { coll: 'employees', pipeline: [{ $match: { reportsTo: 'Ron' } }, { $project: { _id: 0, name: 1 } }] } },
        { $unionWith: 'noSuchCollection' },
        { $sort: { name: 1 } },
      ])
      .toArray();
    expect(names.map((d) => d.name)).toEqual(['Ada', 'Asya', 'Eliot', 'Grace', 'Linus']);
    const count = await t.db.collection('customers').aggregate([{ $unionWith: 'orders' }, { $count: 'n' }]).toArray();
    expect(count).toEqual([{ n: 8 }]);
  });

  test("mongod's errors", async () => {
    await expectError([{ $unionWith: 5 }], 9, 'the $unionWith stage specification must be an object or string, but found int');
    await expectError([{ $unionWith: { coll: 'customers', pipeline: [{ $merge: 'x' }] } }], 31441, "$merge is not allowed within a $unionWith's sub-pipeline");
    await expectError([{ $facet: { a: [{ $out: 'x' }] } }], 40600, '$out is not allowed to be used within a $facet stage');
  });
});

describe('$out', () => {
  test('replaces the target with the output; an empty first batch and cursor id 0', async () => {
    await seed('report', [{ _id: 'stale', old: true }]);
    const reply = await runAggregate('orders', [
      { $group: { _id: '$item', qty: { $sum: '$qty' } } },
      { $sort: { _id: 1 } },
      { $out: 'report' },
    ]);
    expect(reply.cursor.firstBatch).toEqual([]);
    expect(Number(reply.cursor.id)).toBe(0);
    expect(reply.cursor.ns).toBe('agg.orders');
    expect(await contents('report')).toEqual([
      { _id: 'ink', qty: 1 },
      { _id: 'pad', qty: 4 },
      { _id: 'pen', qty: 13 },
    ]);
  });

  test('generates _id when the output has none, puts it first, and keeps the BSON types of passed-on documents', async () => {
    await seed('typed', [{ _id: 1, long: Long.fromNumber(7), double: new Double(2) }]);
    await t.db.collection('typed').aggregate([{ $match: {} }, { $out: 'typedCopy' }]).toArray();
    const [copy] = await t.db.collection('typedCopy').find({}, { promoteLongs: false, promoteValues: false }).toArray();
    expect(copy!.long).toBeInstanceOf(Long);
    expect(copy!.double).toBeInstanceOf(Double);
    await t.db.collection('customers').aggregate([{ $project: { _id: 0, name: 1 } }, { $out: 'names' }]).toArray();
    const names = await t.db.collection('names').find().toArray();
    expect(names).toHaveLength(3);
    for (const doc of names) {
      expect(doc._id).toBeInstanceOf(ObjectId);
      expect(Object.keys(doc)).toEqual(['_id', 'name']);
    }
  });

  test('{db, coll} writes to another database; an empty output still creates the target', async () => {
    await t.db.collection('customers').aggregate([{ $match: { country: 'UK' } }, { $out: { db: 'aggOther', coll: 'uk' } }]).toArray();
    expect(await t.client.db('aggOther').collection('uk').find().toArray()).toEqual([{ _id: 1, name: 'Ada', country: 'UK' }]);
    await t.db.collection('customers').aggregate([{ $match: { country: 'XX' } }, { $out: 'emptyOut' }]).toArray();
    const names = (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).toContain('emptyOut');
  });

  test('keeps the target indexes; a duplicate key fails the whole $out and leaves the target unchanged', async () => {
    await seed('uniq', [{ _id: 1, sku: 'old' }]);
    await t.db.collection('uniq').createIndex({ sku: 1 }, { unique: true, name: 'sku_1' });
    await t.db.collection('inventory').aggregate([{ $match: { warehouse: 'A' } }, { $out: 'uniq' }]).toArray();
    expect(await contents('uniq')).toEqual([
      { _id: 1, sku: 'pen', warehouse: 'A', instock: 5 },
      { _id: 3, sku: 'ink', warehouse: 'A', instock: 1 },
    ]);
    expect((await t.db.collection('uniq').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'sku_1']);
    const err = await serverError(t.db.collection('inventory').aggregate([{ $out: 'uniq' }]).toArray());
    expect(err.code).toBe(11000);
    expect(err.codeName).toBe('DuplicateKey');
    expect(err.errmsg).toMatch(/^E11000 duplicate key error collection: agg\.tmp\.agg_out\.[0-9a-f-]{36} index: sku_1 dup key: \{ sku: "pen" \}$/);
    expect(await contents('uniq')).toEqual([
      { _id: 1, sku: 'pen', warehouse: 'A', instock: 5 },
      { _id: 3, sku: 'ink', warehouse: 'A', instock: 1 },
    ]);
  });

  test('must be the last stage, and names a valid target', async () => {
    await expectError([{ $out: 'x' }, { $match: {} }], 40601, '$out can only be the final stage in the pipeline');
    await expectError([{ $merge: 'x' }, { $match: {} }], 40601, '$merge can only be the final stage in the pipeline');
    await expectError([{ $out: 5 }], 16990, '$out only supports a string or object argument, but found int');
    await expectError([{ $out: 'system.x' }], 17385, "Can't $out to special collection: system.x");
    await expectError([{ $out: { db: 'admin', coll: 'x' } }], 31321, "Can't $out to internal database: admin");
    await expectError([{ $out: { coll: 'x' } }], 40414, "BSON field '$out.db' is missing but a required field");
  });
});

describe('$merge', () => {
  const source = [
    { _id: 1, a: 10, c: 1 },
    { _id: 3, a: 3 },
  ];

  beforeAll(async () => {
    await seed('mergeSource', source);
  });

  async function mergeInto(spec: Document, target: Document[] = [{ _id: 1, a: 1, b: 1 }, { _id: 2, a: 2 }]): Promise<Document[]> {
    await seed('mergeTarget', target);
    const reply = await runAggregate('mergeSource', [{ $merge: { into: 'mergeTarget', ...spec } }]);
    expect(reply.cursor.firstBatch).toEqual([]);
    return contents('mergeTarget');
  }

  test('default (whenMatched: merge, whenNotMatched: insert), also as a plain string', async () => {
    expect(await mergeInto({})).toEqual([{ _id: 1, a: 10, b: 1, c: 1 }, { _id: 2, a: 2 }, { _id: 3, a: 3 }]);
    await seed('mergeTarget', [{ _id: 1, b: 1 }]);
    await t.db.collection('mergeSource').aggregate([{ $merge: 'mergeTarget' }]).toArray();
    expect(await contents('mergeTarget')).toEqual([{ _id: 1, b: 1, a: 10, c: 1 }, { _id: 3, a: 3 }]);
  });

  test('whenMatched: replace', async () => {
    expect(await mergeInto({ whenMatched: 'replace' })).toEqual([{ _id: 1, a: 10, c: 1 }, { _id: 2, a: 2 }, { _id: 3, a: 3 }]);
  });

  test('whenMatched: keepExisting', async () => {
    expect(await mergeInto({ whenMatched: 'keepExisting' })).toEqual([{ _id: 1, a: 1, b: 1 }, { _id: 2, a: 2 }, { _id: 3, a: 3 }]);
  });

  test('whenMatched: fail is an insert: a match is a DuplicateKey, with the documents before it written', async () => {
    await seed('mergeTarget', [{ _id: 3, a: 0 }]);
    const err = await serverError(
      t.db.collection('mergeSource').aggregate([{ $sort: { _id: 1 } }, { $merge: { into: 'mergeTarget', whenMatched: 'fail' } }]).toArray(),
    );
    expect(err.code).toBe(11000);
    expect(err.errmsg).toBe(
      "$merge with whenMatched: fail found an existing document with the same values for the 'on' fields :: caused by :: " +
        'E11000 duplicate key error collection: agg.mergeTarget index: _id_ dup key: { _id: 3 }',
    );
    expect(await contents('mergeTarget')).toEqual([{ _id: 1, a: 10, c: 1 }, { _id: 3, a: 0 }]);
  });

  test('whenMatched: a pipeline, reading $$new and let variables', async () => {
    expect(await mergeInto({ whenMatched: [{ $set: { a: { $add: ['$a', '$$new.a'] } } }] })).toEqual([
      { _id: 1, a: 11, b: 1 },
      { _id: 2, a: 2 },
      { _id: 3, a: 3 },
    ]);
    expect(
      await mergeInto({ let: { bonus: { $multiply: ['$a', 2] } }, whenMatched: [{ $set: { bonus: '$$bonus' } }], whenNotMatched: 'discard' }),
    ).toEqual([{ _id: 1, a: 1, b: 1, bonus: 20 }, { _id: 2, a: 2 }]);
  });

  test('whenNotMatched: discard and fail', async () => {
    expect(await mergeInto({ whenMatched: 'replace', whenNotMatched: 'discard' })).toEqual([{ _id: 1, a: 10, c: 1 }, { _id: 2, a: 2 }]);
    await seed('mergeTarget', [{ _id: 1 }]);
    const err = await serverError(runAggregate('mergeSource', [{ $sort: { _id: 1 } }, { $merge: { into: 'mergeTarget', whenNotMatched: 'fail' } }]));
    expect({ code: err.code, codeName: err.codeName, errmsg: err.errmsg }).toEqual({
      code: 13113,
      codeName: 'MergeStageNoMatchingDocument',
      errmsg: '$merge could not find a matching document in the target collection for at least one document in the source collection',
    });
  });

  test('on other fields needs a unique index on them; missing targets are created; _id generated', async () => {
    await seed('bySku', [{ _id: 100, sku: 'pen', seen: 1 }]);
    await expectError(
      [{ $merge: { into: 'bySku', on: 'sku' } }],
      51183,
      'Cannot find index to verify that join fields will be unique',
      'inventory',
    );
    await t.db.collection('bySku').createIndex({ sku: 1 }, { unique: true });
    await t.db
      .collection('inventory')
      .aggregate([{ $group: { _id: '$sku', total: { $sum: '$instock' } } }, { $project: { _id: 0, sku: '$_id', total: 1 } }, { $merge: { into: 'bySku', on: 'sku' } }])
      .toArray();
    const docs = await t.db.collection('bySku').find().sort({ sku: 1 }).toArray();
    expect(docs.map(({ _id, ...rest }) => rest)).toEqual([
      { total: 1, sku: 'ink' },
      { total: 0, sku: 'pad' },
      { sku: 'pen', seen: 1, total: 55 },
    ]);
    expect(docs.every((d) => (d._id as unknown) === 100 || d._id instanceof ObjectId)).toBe(true);
    await t.db.collection('customers').aggregate([{ $merge: { into: { db: 'aggOther', coll: 'fresh' } } }]).toArray();
    expect(await t.client.db('aggOther').collection('fresh').countDocuments()).toBe(3);
  });

  test("mongod's errors for a bad spec", async () => {
    await expectError(
      [{ $merge: { into: 'x', whenMatched: 'keepExisting', whenNotMatched: 'fail' } }],
      51181,
      "Combination of $merge modes 'whenMatched: keepExisting' and 'whenNotMatched: fail' is not supported",
    );
    await expectError([{ $merge: { into: 'x', whenMatched: 'upsert' } }], 2, "Enumeration value 'upsert' for field 'whenMatched' is not a valid value.");
    await expectError([{ $merge: 5 }], 14, '$merge requires a string or object argument, but found int');
    await expectError([{ $merge: { whenMatched: 'merge' } }], 40414, "BSON field '$merge.into' is missing but a required field");
    await expectError([{ $merge: { into: 'x', let: { v: 1 } } }], 51199, "Cannot use 'let' variables with 'whenMatched: merge' mode");
    await expectError([{ $merge: { into: { db: 'config', coll: 'x' } } }], 31320, 'Cannot $merge to internal database: config');
  });
});

describe('common stages', () => {
  const orders = () => t.db.collection('orders');

  test('$match, $project, $sort, $skip, $limit', async () => {
    const result = await orders()
      .aggregate([{ $match: { item: 'pen' } }, { $project: { _id: 1, qty: 1 } }, { $sort: { qty: -1 } }, { $skip: 1 }, { $limit: 1 }])
      .toArray();
    expect(result).toEqual([{ _id: 10, qty: 2 }]);
    // As mongod: _id first, then the included fields in the document's order.
    const [shaped] = await orders().aggregate([{ $match: { _id: 10 } }, { $project: { qty: 1, item: 1 } }]).toArray();
    expect(Object.keys(shaped!)).toEqual(['_id', 'item', 'qty']);
  });

  test('$addFields, $set and $unset', async () => {
    const [doc] = await orders()
      .aggregate([
        { $match: { _id: 12 } },
        { $addFields: { unit: { $divide: ['$amount', '$qty'] } } },
        { $set: { big: { $gt: ['$qty', 5] } } },
        { $unset: ['customerId', 'item'] },
      ])
      .toArray();
    expect(doc).toEqual({ _id: 12, qty: 10, amount: 25, unit: 2.5, big: true });
  });

  test('$group with accumulators, $count', async () => {
    const groups = await orders()
      .aggregate([{ $group: { _id: '$item', total: { $sum: '$amount' }, max: { $max: '$qty' }, ids: { $push: '$_id' } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(groups).toEqual([
      { _id: 'ink', total: 20, max: 1, ids: [11] },
      { _id: 'pad', total: 12, max: 4, ids: [13] },
      { _id: 'pen', total: 33, max: 10, ids: [10, 12, 14] },
    ]);
    expect(await orders().aggregate([{ $match: { amount: { $gte: 10 } } }, { $count: 'expensive' }]).toArray()).toEqual([{ expensive: 3 }]);
  });

  test('$unwind and $replaceRoot', async () => {
    await seed('baskets', [
      { _id: 1, items: [{ sku: 'a', n: 1 }, { sku: 'b', n: 2 }] },
      { _id: 2, items: [] },
    ]);
    const items = await t.db.collection('baskets').aggregate([{ $unwind: '$items' }, { $replaceRoot: { newRoot: '$items' } }]).toArray();
    expect(items).toEqual([{ sku: 'a', n: 1 }, { sku: 'b', n: 2 }]);
    const kept = await t.db.collection('baskets').aggregate([{ $unwind: { path: '$items', preserveNullAndEmptyArrays: true } }, { $count: 'n' }]).toArray();
    expect(kept).toEqual([{ n: 3 }]);
  });

  test('$facet, $sortByCount and $bucket', async () => {
    const [facets] = await orders()
      .aggregate([
        {
          $facet: {
            byItem: [{ $sortByCount: '$item' }, { $limit: 1 }],
            byAmount: [{ $bucket: { groupBy: '$amount', boundaries: [0, 10, 100], default: 'other', output: { n: { $sum: 1 } } } }],
          },
        },
      ])
      .toArray();
    expect(facets).toEqual({
      byItem: [{ _id: 'pen', count: 3 }],
      byAmount: [
        { _id: 0, n: 2 },
        { _id: 10, n: 3 },
      ],
    });
  });

  test('$sample: the asked number of distinct documents of the collection', async () => {
    const sample = await orders().aggregate([{ $sample: { size: 3 } }]).toArray();
    expect(sample).toHaveLength(3);
    expect(new Set(sample.map((d) => d._id)).size).toBe(3);
    for (const doc of sample) expect([10, 11, 12, 13, 14]).toContain(doc._id);
  });
});

describe('explain', () => {
  const pipeline: Document[] = [
    { $match: { qty: { $gte: 1 } } },
    { $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } },
    { $match: { 'customer.0': { $exists: true } } },
  ];
  /** An explain reply without the fields that differ between two runs or two forms. */
  const comparable = ({ command: _command, serverInfo: _serverInfo, ...rest }: Document): Document => rest;

  test('explain: true (the legacy form, no cursor) answers as explain at queryPlanner verbosity', async () => {
    const legacy = await t.db.command({ aggregate: 'orders', pipeline, explain: true });
    const explained = await t.db.command({ explain: { aggregate: 'orders', pipeline, cursor: {} }, verbosity: 'queryPlanner' });
    expect(legacy.ok).toBe(1);
    expect(comparable(legacy)).toEqual(comparable(explained));
    expect(legacy.stages[0].$cursor.queryPlanner.namespace).toBe('agg.orders');
    expect(legacy.stages.slice(1)).toEqual(pipeline.slice(1));
    expect('executionStats' in legacy.stages[0].$cursor).toBe(false);
  });

  test('the explained $lookup reads the foreign collection', async () => {
    const explained = await t.db.command({ explain: { aggregate: 'orders', pipeline, cursor: {} }, verbosity: 'executionStats' });
    // Orders 10 to 13 have a customer; order 14 (customer 9) has none.
    expect(explained.stages.map((stage: Document) => Number(stage.nReturned))).toEqual([5, 5, 4]);
  });
});

describe('privileges', () => {
  const auth = useDriver('shop', {
    auth: true,
    setParameter: { scramIterationCount: '5000', scramSHA256IterationCount: '5000' },
    users: [
      { user: 'admin', pwd: 'pw', db: 'shop', roles: [{ role: 'root', db: 'admin' }] },
      { user: 'reader', pwd: 'pw', db: 'shop', roles: ['read'] },
      { user: 'writer', pwd: 'pw', db: 'shop', roles: ['readWrite'] },
    ],
  });

  async function login(user: string): Promise<Db> {
    return (await auth.login(user, 'pw', 'shop')).db('shop');
  }

  beforeAll(async () => {
    const admin = await login('admin');
    await admin.collection('a').insertOne({ _id: 1, k: 1 } as Document);
    await admin.collection('b').insertOne({ _id: 1, k: 1 } as Document);
  });

  test('read may $lookup and $unionWith, but neither $out nor $merge; readWrite may', async () => {
    const reader = await login('reader');
    const joined = await reader
      .collection('a')
      .aggregate([{ $lookup: { from: 'b', localField: 'k', foreignField: 'k', as: 'b' } }, { $unionWith: 'b' }])
      .toArray();
    expect(joined).toHaveLength(2);
    for (const stage of [{ $out: 'c' }, { $merge: 'c' }]) {
      const err = await serverError(reader.collection('a').aggregate([stage]).toArray());
      expect(err.code).toBe(13);
      expect(err.errmsg).toMatch(/^not authorized on shop to execute command \{ aggregate: "a"/);
    }
    const writer = await login('writer');
    await writer.collection('a').aggregate([{ $out: 'c' }]).toArray();
    await writer.collection('b').aggregate([{ $merge: 'c' }]).toArray();
    expect(await writer.collection('c').countDocuments()).toBe(1);
  });
});

describe('source stages of a database-level aggregate', () => {
  test('$documents produces its documents for the stages after it', async () => {
    const rows = await t.client.db('agg').aggregate([{ $documents: [{ x: 1 }, { x: 2 }, { x: 3 }] }, { $match: { x: { $gte: 2 } } }]).toArray();
    expect(rows).toEqual([{ x: 2 }, { x: 3 }]);
  });

  test('$changeStream (collection.watch) is refused as on a standalone mongod: 40573', async () => {
    await expectServerError(
      t.client.db('agg').command({ aggregate: 'c', pipeline: [{ $changeStream: {} }], cursor: {} }),
      40573,
      undefined,
      'The $changeStream stage is only supported on replica sets',
    );
  });
});
