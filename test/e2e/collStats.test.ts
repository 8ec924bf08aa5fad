/**
 * End-to-end: the $collStats aggregation stage through the official driver, as mongod 7.0 answers
 * it (document_source_coll_stats.cpp, storage_stats.cpp): one document, its sections in mongod's
 * order, int32-when-it-fits numbers, the scale, the errors, and the collStats privilege.
 */
import { hostname } from 'node:os';
import { BSON, Int32, Long, MongoClient, type Db, type Document } from 'mongodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectServerError, serverError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('stats');

const DOCS: Document[] = [
  { _id: 1, a: 1, tags: ['x', 'y'], name: 'one' },
  { _id: 2, a: 2, tags: ['z'], name: 'two' },
  { _id: 3, name: 'three' },
];

beforeAll(async () => {
  await t.db.collection('c').insertMany(DOCS.map((d) => ({ ...d })));
  await t.db.collection('c').createIndex({ a: 1 }, { sparse: true });
  await t.db.collection('c').createIndex({ tags: 1 });
});

/** The one $collStats document, numbers as their BSON types (Int32, Long). */
async function collStats(spec: Document, coll = 'c', more: Document[] = []): Promise<Document> {
  const docs = await t.db
    .collection(coll)
    .aggregate([{ $collStats: spec }, ...more], { promoteValues: false, promoteLongs: false })
    .toArray();
  expect(docs).toHaveLength(1);
  return docs[0]!;
}

async function expectError(pipeline: Document[], code: number, errmsg: string, coll = 'c'): Promise<void> {
  await expectServerError(t.db.collection(coll).aggregate(pipeline).toArray(), code, undefined, errmsg);
}

test('{} answers ns, host ("hostname:port") and localTime only', async () => {
  const before = Date.now();
  const doc = await collStats({});
  expect(Object.keys(doc)).toEqual(['ns', 'host', 'localTime']);
  expect(doc.ns).toBe('stats.c');
  expect(doc.host).toBe(`${hostname()}:${t.server.port}`);
  expect(doc.localTime).toBeInstanceOf(Date);
  expect((doc.localTime as Date).getTime()).toBeGreaterThanOrEqual(before - 1000);
});

test('the sections come in mongod order whatever the spec order', async () => {
  const doc = await collStats({ queryExecStats: {}, count: {}, storageStats: {}, latencyStats: {} });
  expect(Object.keys(doc)).toEqual(['ns', 'host', 'localTime', 'latencyStats', 'storageStats', 'count', 'queryExecStats']);
  expect(doc.count).toEqual(new Int32(3));
  expect(doc.queryExecStats).toEqual({ collectionScans: { total: Long.fromNumber(0), nonTailable: Long.fromNumber(0) } });
});

test('queryExecStats counts the collection scans run on the collection, not index lookups', async () => {
  const c = t.db.collection<NumberedDoc>('scanned');
  await c.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
  await c.find({ a: 1 }).toArray();
  await c.find({ _id: 2 }).toArray();
  await c.aggregate([{ $match: { a: 2 } }]).toArray();
  const [doc] = await c.aggregate([{ $collStats: { queryExecStats: {} } }]).toArray();
  expect(doc!.queryExecStats).toEqual({ collectionScans: { total: 2, nonTailable: 2 } });
});

test('latencyStats: reads, writes, commands, transactions as Longs; histograms adds an empty histogram first', async () => {
  const zero = Long.fromNumber(0);
  const section = { latency: zero, ops: zero, queryableEncryptionLatencyMicros: zero };
  const plain = await collStats({ latencyStats: {} });
  expect(plain.latencyStats).toEqual({ reads: section, writes: section, commands: section, transactions: section });
  expect(Object.keys(plain.latencyStats.reads)).toEqual(['latency', 'ops', 'queryableEncryptionLatencyMicros']);
  const withHistograms = await collStats({ latencyStats: { histograms: true } });
  expect(Object.keys(withHistograms.latencyStats.writes)).toEqual(['histogram', 'latency', 'ops', 'queryableEncryptionLatencyMicros']);
  expect(withHistograms.latencyStats.writes.histogram).toEqual([]);
});

describe('storageStats', () => {
  const dataSize = DOCS.reduce((n, d) => n + BSON.calculateObjectSize(d), 0);

  test("mongod's fields in order, int32 numbers, size the documents' BSON size", async () => {
    const stats = (await collStats({ storageStats: {} })).storageStats as Document;
    expect(Object.keys(stats)).toEqual([
      'size',
      'count',
      'avgObjSize',
      'numOrphanDocs',
      'storageSize',
      'freeStorageSize',
      'capped',
      'nindexes',
      'indexBuilds',
      'totalIndexSize',
      'indexSizes',
      'totalSize',
      'scaleFactor',
    ]);
    expect(stats.size).toEqual(new Int32(dataSize));
    expect(stats.count).toEqual(new Int32(3));
    expect(stats.avgObjSize).toEqual(new Int32(Math.floor(dataSize / 3)));
    expect(stats.numOrphanDocs).toEqual(new Int32(0));
    expect(stats.storageSize).toEqual(new Int32(dataSize));
    expect(stats.freeStorageSize).toEqual(new Int32(0));
    expect(stats.capped).toBe(false);
    expect(stats.nindexes).toEqual(new Int32(3));
    expect(stats.indexBuilds).toEqual([]);
    expect(Object.keys(stats.indexSizes)).toEqual(['_id_', 'a_1', 'tags_1']);
    const sizes = Object.values(stats.indexSizes as Record<string, Int32>).map((s) => s.value);
    for (const size of sizes) expect(size).toBeGreaterThan(0);
    // The sparse index skips the document without `a`; the multikey one holds one entry per tag.
    expect(stats.indexSizes.a_1.value).toBeLessThan(stats.indexSizes._id_.value);
    expect(stats.indexSizes.tags_1.value).toBeGreaterThan(stats.indexSizes._id_.value);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(stats.totalIndexSize).toEqual(new Int32(total));
    expect(stats.totalSize).toEqual(new Int32(dataSize + total));
    expect(stats.scaleFactor).toEqual(new Int32(1));
  });

  test('scale divides every size (integer division); a fractional scale is truncated', async () => {
    const plain = (await collStats({ storageStats: {} })).storageStats as Document;
    const scaled = (await collStats({ storageStats: { scale: 42.42 } })).storageStats as Document;
    expect(scaled.scaleFactor).toEqual(new Int32(42));
    expect(scaled.size).toEqual(new Int32(Math.floor(dataSize / 42)));
    expect(scaled.storageSize).toEqual(new Int32(Math.floor(dataSize / 42)));
    expect(scaled.indexSizes._id_).toEqual(new Int32(Math.floor(plain.indexSizes._id_.value / 42)));
    expect(scaled.totalIndexSize).toEqual(new Int32(Math.floor(plain.totalIndexSize.value / 42)));
    expect(scaled.totalSize).toEqual(new Int32(Math.floor(plain.totalSize.value / 42)));
    // Not scaled: the count and the average document size.
    expect(scaled.count).toEqual(new Int32(3));
    expect(scaled.avgObjSize).toEqual(plain.avgObjSize);
  });

  test('an empty collection has no avgObjSize', async () => {
    await t.db.createCollection('empty');
    const stats = (await collStats({ storageStats: {} }, 'empty')).storageStats as Document;
    expect(stats.count).toEqual(new Int32(0));
    expect('avgObjSize' in stats).toBe(false);
    expect(stats.size).toEqual(new Int32(0));
    expect(stats.nindexes).toEqual(new Int32(1));
  });
});

test('the stages after $collStats run on its document', async () => {
  const docs = await t.db
    .collection('c')
    .aggregate([{ $collStats: { count: {} } }, { $project: { _id: 0, n: '$count' } }])
    .toArray();
  expect(docs).toEqual([{ n: 3 }]);
});

describe('errors', () => {
  test('only valid first (40602)', async () => {
    await expectError([{ $match: {} }, { $collStats: {} }], 40602, '$collStats is only valid as the first stage in a pipeline.');
  });

  test('the spec must be an object (5447000)', async () => {
    await expectError([{ $collStats: null }], 5447000, '$collStats must take a nested object but found: $collStats: null');
    await expectError([{ $collStats: 1 }], 5447000, '$collStats must take a nested object but found: $collStats: 1');
  });

  test('unknown fields and wrong types are IDL errors', async () => {
    await expectError([{ $collStats: { bogus: 1 } }], 40415, "BSON field '$collStats.bogus' is an unknown field.");
    await expectError([{ $collStats: { count: 1 } }], 14, "BSON field '$collStats.count' is the wrong type 'int', expected type 'object'");
    await expectError(
      [{ $collStats: { latencyStats: { other: true } } }],
      40415,
      "BSON field '$collStats.latencyStats.other' is an unknown field.",
    );
  });

  test('scale must be a number >= 1', async () => {
    await expectError([{ $collStats: { storageStats: { scale: -1000 } } }], 51024, "BSON field 'scale' value must be >= 1, actual value '-1000'");
    await expectError([{ $collStats: { storageStats: { scale: 0 } } }], 51024, "BSON field 'scale' value must be >= 1, actual value '0'");
    await expectError(
      [{ $collStats: { storageStats: { scale: 'x' } } }],
      14,
      "BSON field '$collStats.storageStats.scale' is the wrong type 'string', expected types '[long, int, decimal, double']",
    );
  });

  test('storageStats, count and queryExecStats of a missing collection are NamespaceNotFound', async () => {
    for (const section of ['storageStats', 'count', 'queryExecStats']) {
      await expectError(
        [{ $collStats: { [section]: {} } }],
        26,
        `PlanExecutor error during aggregation :: caused by :: Unable to retrieve ${section} in $collStats stage :: caused by :: Collection [stats.missing] not found.`,
        'missing',
      );
    }
    const err = await serverError(t.client.db('nodb').collection('x').aggregate([{ $collStats: { storageStats: {} } }]).toArray());
    expect(err.codeName).toBe('NamespaceNotFound');
  });

  test('latencyStats of a missing collection succeeds with zeros', async () => {
    const doc = await collStats({ latencyStats: {} }, 'missing');
    expect(doc.ns).toBe('stats.missing');
    expect(doc.latencyStats.reads.ops).toEqual(Long.fromNumber(0));
  });

  test('API version 1 strict allows only count', async () => {
    const strict = new MongoClient(t.server.uri, { serverApi: { version: '1', strict: true } });
    try {
      const c = strict.db('stats').collection('c');
      expect(await c.aggregate([{ $collStats: { count: {} } }]).toArray()).toEqual([expect.objectContaining({ count: 3 })]);
      for (const section of ['latencyStats', 'storageStats', 'queryExecStats']) {
        const err = await serverError(c.aggregate([{ $collStats: { [section]: {} } }]).toArray());
        expect({ code: err.code, errmsg: err.errmsg }).toEqual({
          code: 323,
          errmsg: "only the 'count' option to $collStats is supported in API Version 1",
        });
      }
    } finally {
      await strict.close();
    }
  });
});

describe('privileges', () => {
  const auth = useDriver('shop', {
    auth: true,
    setParameter: { scramIterationCount: '5000', scramSHA256IterationCount: '5000' },
    users: [
      { user: 'admin', pwd: 'pw', db: 'admin', roles: [{ role: 'root', db: 'admin' }] },
      { user: 'monitor', pwd: 'pw', db: 'admin', roles: [{ role: 'clusterMonitor', db: 'admin' }] },
      { user: 'elsewhere', pwd: 'pw', db: 'admin', roles: [{ role: 'read', db: 'other' }] },
    ],
  });

  async function login(user: string, source: string): Promise<Db> {
    return (await auth.login(user, 'pw', source)).db('shop');
  }

  beforeAll(async () => {
    const admin = await login('admin', 'admin');
    await admin.collection('a').insertOne({ _id: 1 } as Document);
  });

  test('$collStats needs collStats on the namespace, not find', async () => {
    const monitor = await login('monitor', 'admin');
    const [doc] = await monitor.collection('a').aggregate([{ $collStats: { count: {} } }]).toArray();
    expect(doc!.count).toBe(1);
    // clusterMonitor holds collStats but not find: a plain aggregate is refused.
    expect((await serverError(monitor.collection('a').aggregate([]).toArray())).code).toBe(13);
    const other = await login('elsewhere', 'admin');
    const err = await serverError(other.collection('a').aggregate([{ $collStats: {} }]).toArray());
    expect(err.code).toBe(13);
    expect(err.errmsg).toMatch(/^not authorized on shop to execute command \{ aggregate: "a"/);
  });
});
