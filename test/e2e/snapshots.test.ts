// Issue 12, item 8: the embedded server.snapshot() / server.restore(snapshot) put a whole
// server's data back between tests, through the same copy-on-write clones transactions read.
import type { Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { useDriver } from '../helpers/driver.js';

const t = useDriver('snap', { replSet: 'rs0' });

describe('snapshot and restore', () => {
  test('documents, indexes, collections, views and other databases come back as they were; a snapshot restores again', async () => {
    const c = t.db.collection('items');
    await c.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }] as Document[]);
    await c.createIndex({ a: 1 }, { unique: true });
    await t.db.createCollection('small', { capped: true, size: 4096 });
    await t.db.createCollection('bigItems', { viewOn: 'items', pipeline: [{ $match: { a: { $gt: 1 } } }] });
    const snapshot = t.server.snapshot();

    await c.insertOne({ _id: 3, a: 3 } as Document);
    await c.updateOne({ _id: 1 } as Document, { $set: { a: 10 } });
    await c.dropIndex('a_1');
    await t.db.collection('small').drop();
    await t.db.collection('bigItems').drop();
    await t.client.db('other').collection('x').insertOne({ y: 1 });

    t.server.restore(snapshot);
    expect(await c.find().toArray()).toEqual([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
    expect((await c.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'a_1']);
    await expect(c.insertOne({ _id: 4, a: 1 } as Document)).rejects.toThrow(/E11000/);
    const names = (await t.db.listCollections().toArray()).map((info) => `${info.name}:${info.type}`).sort();
    expect(names).toEqual(['bigItems:view', 'items:collection', 'small:collection', 'system.views:collection']);
    expect(await t.db.collection('bigItems').find().toArray()).toEqual([{ _id: 2, a: 2 }]);
    expect((await t.client.db('admin').admin().listDatabases()).databases.map((d) => d.name)).not.toContain('other');

    // The restored data changes freely; the snapshot stays as taken.
    await c.deleteMany({});
    t.server.restore(snapshot);
    expect(await c.countDocuments()).toBe(2);
  });

  test('an open transaction is aborted by a restore', async () => {
    const snapshot = t.server.snapshot();
    const session = t.client.startSession();
    try {
      session.startTransaction();
      await t.db.collection('items').insertOne({ _id: 'txn' } as Document, { session });
      t.server.restore(snapshot);
      await expect(session.commitTransaction()).rejects.toMatchObject({ code: 251 });
    } finally {
      await session.endSession();
    }
  });
});
