/**
 * End-to-end: serverStatus' storage sections through the driver — storageEngine (what mongod's
 * in-memory engine reports) and metrics.cursor / metrics.document / metrics.operation /
 * metrics.queryExecutor, with mongod's BSON types (every metric a Counter64, i.e. a long) and its
 * metric-tree order (a node's own counters first, then its subtrees, each in name order).
 */
import { Long, Timestamp, type Db, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { openDriver, type Driver } from '../helpers/driver.js';

type Env = Driver & { clock: VirtualClock };

/** A server of the test's own on a virtual clock, stopped when the test finishes. */
async function setup(): Promise<Env> {
  const clock = new VirtualClock();
  return { clock, ...(await openDriver('status', { clock })) };
}

/** serverStatus with longs kept as Long (so their BSON type can be checked). */
async function status(admin: Db): Promise<Document> {
  return admin.command({ serverStatus: 1 }, { promoteLongs: false });
}

const n = (value: Long) => value.toNumber();

test('storageEngine: the in-memory engine, not persistent', async () => {
  const { admin } = await setup();
  const reply = await status(admin);
  expect(reply.storageEngine).toEqual({
    name: 'inMemory',
    supportsCommittedReads: true,
    oldestRequiredTimestampForCrashRecovery: new Timestamp({ t: 0, i: 0 }),
    supportsPendingDrops: true,
    dropPendingIdents: Long.fromNumber(0),
    supportsSnapshotReadConcern: true,
    readOnly: false,
    persistent: false,
    backupCursorOpen: false,
  });
  expect(Object.keys(reply.storageEngine)).toEqual([
    'name',
    'supportsCommittedReads',
    'oldestRequiredTimestampForCrashRecovery',
    'supportsPendingDrops',
    'dropPendingIdents',
    'supportsSnapshotReadConcern',
    'readOnly',
    'persistent',
    'backupCursorOpen',
  ]);
  // Sections stay in name order; either can be left out.
  const sections = Object.keys(reply).slice(8, -1);
  expect(sections).toEqual([...sections].sort());
  expect(sections).toEqual(expect.arrayContaining(['metrics', 'storageEngine']));
  const without = await admin.command({ serverStatus: 1, storageEngine: 0, metrics: 0 });
  expect(without).not.toHaveProperty('storageEngine');
  expect(without).not.toHaveProperty('metrics');
});

test('metrics: shape, order and BSON types', async () => {
  const { admin } = await setup();
  const { metrics } = await status(admin);
  expect(Object.keys(metrics)).toEqual(['cursor', 'document', 'operation', 'queryExecutor']);
  expect(Object.keys(metrics.cursor)).toEqual(['moreThanOneBatch', 'timedOut', 'totalOpened', 'lifespan', 'open']);
  expect(Object.keys(metrics.cursor.lifespan)).toEqual([
    'greaterThanOrEqual10Minutes',
    'lessThan10Minutes',
    'lessThan15Seconds',
    'lessThan1Minute',
    'lessThan1Second',
    'lessThan30Seconds',
    'lessThan5Seconds',
  ]);
  expect(Object.keys(metrics.cursor.open)).toEqual(['noTimeout', 'pinned', 'total']);
  expect(Object.keys(metrics.document)).toEqual(['deleted', 'inserted', 'returned', 'updated']);
  expect(Object.keys(metrics.operation)).toEqual(['scanAndOrder', 'writeConflicts']);
  expect(Object.keys(metrics.queryExecutor)).toEqual(['scanned', 'scannedObjects', 'collectionScans']);
  expect(Object.keys(metrics.queryExecutor.collectionScans)).toEqual(['nonTailable', 'total']);
  const leaves: unknown[] = [];
  const walk = (doc: Document) => {
    for (const value of Object.values(doc)) {
      if (value instanceof Long) leaves.push(value);
      else if (typeof value === 'object' && value !== null) walk(value as Document);
      else leaves.push(value);
    }
  };
  walk(metrics);
  expect(leaves.length).toBe(3 + 7 + 3 + 4 + 2 + 4);
  for (const leaf of leaves) expect(leaf).toBeInstanceOf(Long);
});

test('document.returned counts what find, getMore and aggregate return; catalog first batches do not count', async () => {
  const { db, admin } = await setup();
  await db.collection('c').insertMany([1, 2, 3, 4, 5].map((a) => ({ a })));
  const before = n((await status(admin)).metrics.document.returned);
  expect(await db.collection('c').find({}, { batchSize: 2 }).toArray()).toHaveLength(5);
  expect(n((await status(admin)).metrics.document.returned)).toBe(before + 5);
  expect(await db.collection('c').aggregate([{ $match: { a: { $gt: 2 } } }]).toArray()).toHaveLength(3);
  expect(n((await status(admin)).metrics.document.returned)).toBe(before + 8);
  await db.listCollections().toArray();
  await db.collection('c').indexes();
  expect(n((await status(admin)).metrics.document.returned)).toBe(before + 8);
});

describe('metrics.cursor', () => {
  test('totalOpened, open.total, moreThanOneBatch and lifespan follow a cursor through its batches', async () => {
    const { db, admin, clock } = await setup();
    await db.collection('c').insertMany([1, 2, 3, 4, 5].map((a) => ({ a })));
    const start = (await status(admin)).metrics.cursor;

    // A single batch opens no cursor at all.
    await db.collection('c').find({}).toArray();
    let now = (await status(admin)).metrics.cursor;
    expect(n(now.totalOpened)).toBe(n(start.totalOpened));

    const cursor = db.collection('c').find({}, { batchSize: 2 });
    expect(await cursor.next()).not.toBeNull();
    now = (await status(admin)).metrics.cursor;
    expect(n(now.totalOpened)).toBe(n(start.totalOpened) + 1);
    expect(n(now.open.total)).toBe(1);
    expect(n(now.open.noTimeout)).toBe(0);
    expect(n(now.open.pinned)).toBe(0);

    clock.advance(20_000);
    expect(await cursor.toArray()).toHaveLength(4);
    now = (await status(admin)).metrics.cursor;
    expect(n(now.open.total)).toBe(0);
    expect(n(now.moreThanOneBatch)).toBe(n(start.moreThanOneBatch) + 1);
    expect(n(now.lifespan.lessThan30Seconds)).toBe(n(start.lifespan.lessThan30Seconds) + 1);

    // Killed after its first batch only: closed, not "more than one batch", lived < 1 s.
    const killed = db.collection('c').find({}, { batchSize: 2 });
    await killed.next();
    await killed.close();
    const after = (await status(admin)).metrics.cursor;
    expect(n(after.moreThanOneBatch)).toBe(n(now.moreThanOneBatch));
    expect(n(after.lifespan.lessThan1Second)).toBe(n(now.lifespan.lessThan1Second) + 1);
    expect(n(after.open.total)).toBe(0);
  });

  test('an idle cursor times out (timedOut, lifespan >= 10 minutes); a noCursorTimeout one stays open', async () => {
    const { db, admin, clock } = await setup();
    await db.collection('c').insertMany([1, 2, 3, 4, 5].map((a) => ({ a })));
    const idle = db.collection('c').find({}, { batchSize: 1 });
    await idle.next();
    const kept = db.collection('c').find({}, { batchSize: 1, noCursorTimeout: true });
    await kept.next();
    let cursor = (await status(admin)).metrics.cursor;
    expect(n(cursor.open.total)).toBe(2);
    expect(n(cursor.open.noTimeout)).toBe(1);

    // cursorTimeoutMillis (10 minutes) plus one sweep (every minute).
    clock.advance(11 * 60_000);
    cursor = (await status(admin)).metrics.cursor;
    expect(n(cursor.timedOut)).toBe(1);
    expect(n(cursor.open.total)).toBe(1);
    expect(n(cursor.open.noTimeout)).toBe(1);
    expect(n(cursor.lifespan.greaterThanOrEqual10Minutes)).toBe(1);
    expect(await kept.toArray()).toHaveLength(4);
  });
});

test('document.inserted, updated and deleted count the documents written (needs the crud.ts hooks)', async () => {
  const { db, admin } = await setup();
  const before = (await status(admin)).metrics.document;
  const c = db.collection('w');
  await c.insertMany([1, 2, 3, 4].map((a) => ({ a })));
  await c.insertOne({ a: 5 });
  // updated counts matched documents, modified or not.
  await c.updateMany({ a: { $lte: 3 } }, { $set: { b: 1 } });
  await c.updateOne({ a: 1 }, { $set: { b: 1 } });
  await c.findOneAndUpdate({ a: 4 }, { $set: { b: 2 } });
  await c.deleteMany({ a: { $gte: 4 } });
  await c.findOneAndDelete({ a: 1 });
  const after = (await status(admin)).metrics.document;
  expect(n(after.inserted) - n(before.inserted)).toBe(5);
  expect(n(after.updated) - n(before.updated)).toBe(3 + 1 + 1);
  expect(n(after.deleted) - n(before.deleted)).toBe(2 + 1);
});

test('an unfiltered count reads the record count: nothing scanned (RECORD_STORE_FAST_COUNT); a filtered one scans', async () => {
  const { db, admin } = await setup();
  await db.collection('fast').insertMany([1, 2, 3, 4, 5].map((a) => ({ a })));
  const scans = async () => {
    const { queryExecutor } = (await status(admin)).metrics;
    return [n(queryExecutor.collectionScans.total), n(queryExecutor.scannedObjects)];
  };
  const before = await scans();
  expect(await db.command({ count: 'fast' })).toEqual({ n: 5, ok: 1 });
  expect(await db.command({ count: 'fast', query: {}, skip: 1, limit: 3 })).toEqual({ n: 3, ok: 1 });
  expect(await db.command({ count: 'fast', collation: { locale: 'en' } })).toEqual({ n: 5, ok: 1 });
  expect(await scans()).toEqual(before);
  expect(await db.command({ count: 'fast', query: { a: { $gt: 2 } } })).toEqual({ n: 3, ok: 1 });
  expect(await scans()).toEqual([before[0]! + 1, before[1]! + 5]);
});
