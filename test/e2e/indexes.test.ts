import { type Document } from 'mongodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectServerError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('indexes');

beforeAll(async () => {
  const docs = Array.from({ length: 2000 }, (_, i) => ({ _id: i, a: i % 500, b: i, tags: [`t${i % 7}`, `u${i % 3}`], s: `s${i}` }));
  await t.db.collection<NumberedDoc>('c').insertMany(docs);
  await t.db.collection<NumberedDoc>('c').createIndexes([{ key: { a: 1 } }, { key: { tags: 1 } }, { key: { s: 1, b: -1 } }]);
});

async function explainFind(filter: Document, options: Document = {}): Promise<Document> {
  return t.db.collection<NumberedDoc>('c').find(filter, options).explain('executionStats');
}

/** The leaf stage of a winning plan (IXSCAN, COLLSCAN, IDHACK). */
function leaf(stage: Document): Document {
  return stage.inputStage === undefined ? stage : leaf(stage.inputStage);
}

describe('lookups through secondary indexes', () => {
  test('an equality on an indexed field examines only the matching keys, whatever the collection size', async () => {
    const explained = await explainFind({ a: 7 });
    const { executionStats, queryPlanner } = explained;
    // The bounds answer {a: 7} exactly: FETCH has nothing left to filter.
    expect(queryPlanner.winningPlan.stage).toBe('FETCH');
    expect(queryPlanner.winningPlan.filter).toBeUndefined();
    expect(leaf(queryPlanner.winningPlan)).toMatchObject({ stage: 'IXSCAN', indexName: 'a_1', keyPattern: { a: 1 }, indexBounds: { a: ['[7, 7]'] }, isMultiKey: false });
    const residual = await explainFind({ a: 7, b: { $gt: 600 } });
    expect(residual.queryPlanner.winningPlan.filter).toEqual({ b: { $gt: 600 } });
    expect(executionStats).toMatchObject({ nReturned: 4, totalKeysExamined: 4, totalDocsExamined: 4 });
    expect((await t.db.collection<NumberedDoc>('c').find({ a: 7 }).toArray()).map((d) => d._id)).toEqual([7, 507, 1007, 1507]);
  });

  test('a range on an indexed field scans its bounds only, in index order', async () => {
    const explained = await explainFind({ a: { $gte: 10, $lt: 12 } });
    expect(leaf(explained.queryPlanner.winningPlan).indexBounds).toEqual({ a: ['[10, 12)'] });
    expect(explained.executionStats).toMatchObject({ nReturned: 8, totalKeysExamined: 8, totalDocsExamined: 8 });
    const found = await t.db.collection<NumberedDoc>('c').find({ a: { $gt: 498 } }).toArray();
    expect(found.map((d) => d._id)).toEqual([499, 999, 1499, 1999]);
    const open = await explainFind({ a: { $gt: 498 } });
    expect(leaf(open.queryPlanner.winningPlan).indexBounds).toEqual({ a: ['(498, inf.0]'] });
  });

  test('a multikey index finds documents through any element, each once', async () => {
    const explained = await explainFind({ tags: 't3', b: { $lt: 100 } });
    expect(leaf(explained.queryPlanner.winningPlan)).toMatchObject({ indexName: 'tags_1', isMultiKey: true, multiKeyPaths: { tags: ['tags'] } });
    const viaIndex = await t.db.collection<NumberedDoc>('c').find({ tags: { $in: ['t3', 'u1'] } }).toArray();
    const viaScan = await t.db.collection<NumberedDoc>('c').find({ $expr: { $gt: [{ $size: { $setIntersection: ['$tags', ['t3', 'u1']] } }, 0] } }).toArray();
    expect(viaIndex.map((d) => d._id).sort((x, y) => x - y)).toEqual(viaScan.map((d) => d._id).sort((x, y) => x - y));
    expect(new Set(viaIndex.map((d) => d._id)).size).toBe(viaIndex.length);
  });

  test('a compound index answers a condition on its first field', async () => {
    const explained = await explainFind({ s: 's42' });
    expect(leaf(explained.queryPlanner.winningPlan)).toMatchObject({ indexName: 's_1_b_-1', indexBounds: { s: ['["s42", "s42"]'], b: ['[MinKey, MaxKey]'] } });
    expect(explained.executionStats.nReturned).toBe(1);
  });

  test('an unindexed condition is a collection scan over every document', async () => {
    const explained = await explainFind({ b: 42 });
    expect(explained.queryPlanner.winningPlan).toEqual({ stage: 'COLLSCAN', filter: { b: { $eq: 42 } }, direction: 'forward' });
    expect(explained.executionStats).toMatchObject({ nReturned: 1, totalKeysExamined: 0, totalDocsExamined: 2000 });
  });

  test('an _id equality is IDHACK; sort, skip, limit and projection stack over the leaf', async () => {
    expect((await explainFind({ _id: 5 })).queryPlanner.winningPlan).toEqual({ stage: 'IDHACK' });
    const stacked = await explainFind({ a: { $lt: 3 } }, { sort: { b: -1 }, skip: 1, limit: 2, projection: { b: 1 } });
    const plan = stacked.queryPlanner.winningPlan;
    expect([plan.stage, plan.inputStage.stage, plan.inputStage.inputStage.stage]).toEqual(['PROJECTION_SIMPLE', 'SKIP', 'SORT']);
    expect(plan.inputStage.inputStage.limitAmount).toBe(3);
    expect(stacked.executionStats.nReturned).toBe(2);
    expect(await t.db.collection<NumberedDoc>('c').find({ a: { $lt: 3 } }, { sort: { b: -1 }, skip: 1, limit: 2, projection: { b: 1 } }).toArray()).toEqual([
      { _id: 1501, b: 1501 },
      { _id: 1500, b: 1500 },
    ]);
  });

  test('updates and deletes keep indexes in step with the documents', async () => {
    const c = t.db.collection<NumberedDoc>('moving');
    await c.createIndex({ k: 1 });
    await c.insertMany([{ _id: 1, k: 1 }, { _id: 2, k: 2 }, { _id: 3, k: [1, 3] }]);
    await c.updateOne({ _id: 1 }, { $set: { k: 9 } });
    await c.deleteOne({ _id: 3 });
    expect(await c.find({ k: 1 }).toArray()).toEqual([]);
    expect(await c.find({ k: 9 }).toArray()).toEqual([{ _id: 1, k: 9 }]);
    await c.dropIndex('k_1');
    expect((await c.find({ k: 2 }).explain('queryPlanner')).queryPlanner.winningPlan.stage).toBe('COLLSCAN');
  });
});

describe('the explain command', () => {
  test('reply shape: explainVersion, queryPlanner, executionStats, command, serverInfo, serverParameters', async () => {
    const reply = await t.db.command({ explain: { find: 'c', filter: { a: 1 } }, verbosity: 'allPlansExecution' });
    expect(Object.keys(reply)).toEqual(['explainVersion', 'queryPlanner', 'executionStats', 'command', 'serverInfo', 'serverParameters', 'ok']);
    expect(Object.keys(reply.queryPlanner)).toEqual([
      'namespace',
      'indexFilterSet',
      'parsedQuery',
      'queryHash',
      'planCacheKey',
      'maxIndexedOrSolutionsReached',
      'maxIndexedAndSolutionsReached',
      'maxScansToExplodeReached',
      'winningPlan',
      'rejectedPlans',
    ]);
    expect(reply.queryPlanner).toMatchObject({ namespace: 'indexes.c', parsedQuery: { a: { $eq: 1 } }, rejectedPlans: [] });
    expect(reply.queryPlanner.queryHash).toMatch(/^[0-9A-F]{8}$/);
    expect(reply.executionStats.allPlansExecution).toEqual([]);
    expect(reply.command).toEqual({ find: 'c', filter: { a: 1 }, $db: 'indexes' });
    expect(reply.serverInfo.version).toBe('7.0.14');
    const planner = await t.db.command({ explain: { find: 'c' }, verbosity: 'queryPlanner' });
    expect(planner.executionStats).toBeUndefined();
  });

  test('a missing collection is EOF, without queryHash', async () => {
    const reply = await t.db.command({ explain: { find: 'nothing', filter: { a: 1 } }, verbosity: 'queryPlanner' });
    expect(reply.queryPlanner.winningPlan).toEqual({ stage: 'EOF' });
    expect(reply.queryPlanner.queryHash).toBeUndefined();
  });

  test('explained writes write nothing and say what they would do', async () => {
    const del = await t.db.command({ explain: { delete: 'c', deletes: [{ q: { a: 1 }, limit: 0 }] }, verbosity: 'executionStats' });
    expect(del.queryPlanner.winningPlan.stage).toBe('DELETE');
    expect(del.executionStats.executionStages.nWouldDelete).toBe(4);
    const upd = await t.db.command({ explain: { update: 'c', updates: [{ q: { a: 2 }, u: { $set: { x: 1 } }, multi: true }] }, verbosity: 'executionStats' });
    expect(upd.executionStats.executionStages).toMatchObject({ stage: 'UPDATE', nMatched: 4, nWouldModify: 4, nWouldUpsert: 0 });
    expect(await t.db.collection<NumberedDoc>('c').countDocuments({ a: { $in: [1, 2] } })).toBe(8);
    expect(await t.db.collection<NumberedDoc>('c').countDocuments({ x: 1 })).toBe(0);
    const fam = await t.db.command({ explain: { findAndModify: 'c', query: { a: 3 }, remove: true }, verbosity: 'executionStats' });
    expect(fam.executionStats.executionStages.nWouldDelete).toBe(1);
    expect(await t.db.collection<NumberedDoc>('c').countDocuments({ a: 3 })).toBe(4);
  });

  test('count and distinct explain; aggregate explain puts the leading $match under $cursor', async () => {
    const count = await t.db.command({ explain: { count: 'c', query: { a: 4 } }, verbosity: 'executionStats' });
    expect(count.executionStats.executionStages).toMatchObject({ stage: 'COUNT', nCounted: 4 });
    const fast = await t.db.command({ explain: { count: 'c' }, verbosity: 'queryPlanner' });
    expect(fast.queryPlanner.winningPlan).toEqual({ stage: 'RECORD_STORE_FAST_COUNT' });
    const distinct = await t.db.command({ explain: { distinct: 'c', key: 'b', query: { a: 5 } }, verbosity: 'queryPlanner' });
    expect(leaf(distinct.queryPlanner.winningPlan).indexName).toBe('a_1');
    const agg = await t.db.collection<NumberedDoc>('c').aggregate([{ $match: { a: 6 } }, { $group: { _id: null, n: { $sum: 1 } } }]).explain('executionStats');
    expect(agg.stages[0].$cursor.queryPlanner.winningPlan.stage).toBe('FETCH');
    expect(agg.stages[0].nReturned).toBe(4);
    expect(agg.stages[1]).toMatchObject({ $group: { _id: null, n: { $sum: 1 } }, nReturned: 1 });
  });

  test("mongod's errors: verbosity, unknown and unexplainable commands, batches of more than one", async () => {
    await expectServerError(t.db.command({ explain: { find: 'c' }, verbosity: 'nope' }), 2, 'BadValue', "Enumeration value 'nope' for field 'explain.verbosity' is not a valid value.");
    await expectServerError(t.db.command({ explain: { find: 'c' }, verbosity: 5 }), 14, 'TypeMismatch', "BSON field 'explain.verbosity' is the wrong type 'int', expected type 'string'");
    await expectServerError(t.db.command({ explain: 5 }), 14, 'TypeMismatch', "BSON field 'explain.explain' is the wrong type 'int', expected type 'object'");
    await expectServerError(t.db.command({ explain: { query: 'c' } }), 59, 'CommandNotFound', 'Explain failed due to unknown command: query');
    await expectServerError(t.db.command({ explain: { insert: 'c', documents: [{}] } }), 20, 'IllegalOperation', 'Cannot explain cmd: insert');
    await expectServerError(t.db.command({ explain: { explain: { find: 'c' } } }), 20, 'IllegalOperation', 'Explain cannot explain itself.');
    await expectServerError(
      t.db.command({ explain: { delete: 'c', deletes: [{ q: {}, limit: 0 }, { q: {}, limit: 0 }] } }),
      16,
      'InvalidLength',
      'explained write batches must be of size 1',
    );
    expect(await t.db.collection<NumberedDoc>('c').countDocuments()).toBe(2000);
  });
});

describe('hint', () => {
  test('an index named or keyed by the hint is used, with or without a condition on its field; $natural scans', async () => {
    const byName = await t.db.collection<NumberedDoc>('c').find({ a: 3, b: { $lt: 600 } }).hint('a_1').explain('executionStats');
    expect(leaf(byName.queryPlanner.winningPlan)).toMatchObject({ stage: 'IXSCAN', indexName: 'a_1' });
    const unconstrained = await t.db.collection<NumberedDoc>('c').find({ b: 1999 }).hint({ a: 1 }).explain('executionStats');
    expect(leaf(unconstrained.queryPlanner.winningPlan).indexName).toBe('a_1');
    expect(unconstrained.executionStats).toMatchObject({ nReturned: 1, totalKeysExamined: 2000 });
    const natural = await t.db.collection<NumberedDoc>('c').find({ a: 3 }).hint({ $natural: 1 }).explain('queryPlanner');
    expect(natural.queryPlanner.winningPlan.stage).toBe('COLLSCAN');
    expect(await t.db.collection<NumberedDoc>('c').countDocuments({ a: 3 }, { hint: 'a_1' })).toBe(4);
  });

  test('a hinted sparse index returns only the documents it holds, as mongod does', async () => {
    const c = t.db.collection<NumberedDoc>('sparse');
    await c.insertMany([{ _id: 1, s: 1 }, { _id: 2 }, { _id: 3, s: 3 }]);
    await c.createIndex({ s: 1 }, { sparse: true });
    expect((await c.find({}).hint('s_1').toArray()).map((d) => d._id)).toEqual([1, 3]);
    expect((await c.find({}).toArray()).map((d) => d._id)).toEqual([1, 2, 3]);
  });

  test("a hint naming no index is mongod's BadValue, in find and as a write error in delete", async () => {
    await expectServerError(
      t.db.collection<NumberedDoc>('c').find({ a: 1 }).hint('nope').toArray(),
      2,
      undefined,
      'error processing query: ns=indexes.c: a $eq 1\nSort: {}\nProj: {}\n planner returned error :: caused by :: hint provided does not correspond to an existing index',
    );
    const reply = await t.db.command({ delete: 'c', deletes: [{ q: { a: 1, b: 2 }, limit: 1, hint: { zz: 1 } }] });
    expect(reply.n).toBe(0);
    expect(reply.writeErrors[0]).toMatchObject({ index: 0, code: 2 });
    expect(reply.writeErrors[0].errmsg).toMatch(/^error processing query: ns=indexes\.c: \$and\n {4}a \$eq 1\n {4}b \$eq 2\nSort: \{\}\nProj: \{\}\n planner returned error :: caused by :: hint provided does not correspond to an existing index$/);
    expect(await t.db.collection('c').countDocuments()).toBe(2000);
  });
});

describe('sorts an index gives', () => {
  test('a sort on an indexed field walks the index (backward for descending) and stops at the limit', async () => {
    const c = t.db.collection<NumberedDoc>('c');
    const found = await c.find({}).sort({ a: -1 }).limit(3).toArray();
    expect(found.map((d) => d.a)).toEqual([499, 499, 499]);
    const explained = await c.find({ b: { $gte: 0 } }).sort({ a: -1 }).limit(3).explain('executionStats');
    const plan = explained.queryPlanner.winningPlan;
    expect([plan.stage, plan.inputStage.stage, plan.inputStage.inputStage.stage]).toEqual(['LIMIT', 'FETCH', 'IXSCAN']);
    expect(plan.inputStage.inputStage).toMatchObject({ indexName: 'a_1', direction: 'backward', indexBounds: { a: ['[MaxKey, MinKey]'] } });
    expect(explained.executionStats).toMatchObject({ nReturned: 3, totalKeysExamined: 3, totalDocsExamined: 3 });
  });

  test('a multikey index, or a collation, leaves the sort in memory', async () => {
    const multikey = await t.db.collection<NumberedDoc>('c').find({}).sort({ tags: 1 }).limit(2).explain('queryPlanner');
    expect(multikey.queryPlanner.winningPlan.stage).toBe('SORT');
    const collated = await t.db.command({ explain: { find: 'c', sort: { a: 1 }, limit: 1, collation: { locale: 'en' } }, verbosity: 'queryPlanner' });
    expect(collated.queryPlanner.winningPlan.stage).toBe('SORT');
  });
});

describe('the _id index', () => {
  test('$in and ranges on _id, and sorts by _id, go through the _id index', async () => {
    const c = t.db.collection<NumberedDoc>('c');
    const inList = await c.find({ _id: { $in: [5, 7, 1999] } }).explain('executionStats');
    expect(leaf(inList.queryPlanner.winningPlan)).toMatchObject({ stage: 'IXSCAN', indexName: '_id_', indexBounds: { _id: ['[5, 5]', '[7, 7]', '[1999, 1999]'] } });
    expect(inList.executionStats).toMatchObject({ nReturned: 3, totalDocsExamined: 3 });
    expect((await c.find({ _id: { $gt: 1996 } }).toArray()).map((d) => d._id)).toEqual([1997, 1998, 1999]);
    const latest = await c.find({}).sort({ _id: -1 }).limit(2).explain('executionStats');
    expect(leaf(latest.queryPlanner.winningPlan)).toMatchObject({ indexName: '_id_', direction: 'backward' });
    expect(latest.executionStats.totalDocsExamined).toBe(2);
    expect((await c.find({}).sort({ _id: -1 }).limit(2).toArray()).map((d) => d._id)).toEqual([1999, 1998]);
  });
});
