// Issue 11, item 8: a batch that ends exactly at the last result leaves the cursor open when
// mongod's plan cannot know its end yet (a scan, a pipeline); one more getMore answers an empty
// batch and closes it. A blocking sort or a reached limit knows its end: the cursor closes at once.
import { Long, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { useDriver } from '../helpers/driver.js';

const t = useDriver('batches');

async function firstBatch(command: Document): Promise<{ ids: unknown[]; id: Long }> {
  const reply = await t.db.command(command);
  return { ids: (reply.cursor.firstBatch as Document[]).map((d) => d._id), id: Long.fromValue(reply.cursor.id) };
}

describe('the batch that ends at the last result', () => {
  test('a scan: the cursor stays open; the next getMore is empty and closes it', async () => {
    await t.db.collection('c').insertMany([{ _id: 1 }, { _id: 2 }] as Document[]);
    const { ids, id } = await firstBatch({ find: 'c', batchSize: 2 });
    expect(ids).toEqual([1, 2]);
    expect(id.isZero()).toBe(false);
    const more = await t.db.command({ getMore: id, collection: 'c' });
    expect(more.cursor.nextBatch).toEqual([]);
    expect(Long.fromValue(more.cursor.id).isZero()).toBe(true);
    // Fewer results than the batch: the scan read past its end, the cursor closes.
    expect((await firstBatch({ find: 'c', batchSize: 3 })).id.isZero()).toBe(true);
  });

  test('a blocking sort or a reached limit knows its end: closed at once', async () => {
    await t.db.collection('s').insertMany([{ _id: 1, k: 2 }, { _id: 2, k: 1 }] as Document[]);
    expect((await firstBatch({ find: 's', sort: { k: 1 }, batchSize: 2 })).id.isZero()).toBe(true);
    expect((await firstBatch({ find: 's', limit: 2, batchSize: 2 })).id.isZero()).toBe(true);
    expect((await firstBatch({ find: 'missing', batchSize: 0 })).id.isZero()).toBe(true);
  });

  test('an aggregate: open after an exact batch, as a pipeline knows its end only past it', async () => {
    await t.db.collection('a').insertMany([{ _id: 1 }, { _id: 2 }] as Document[]);
    const reply = await t.db.command({ aggregate: 'a', pipeline: [{ $sort: { _id: 1 } }], cursor: { batchSize: 2 } });
    expect(reply.cursor.firstBatch).toHaveLength(2);
    expect(Long.fromValue(reply.cursor.id).isZero()).toBe(false);
    // The driver sees every document once.
    expect(await t.db.collection('a').aggregate([], { batchSize: 2 }).toArray()).toHaveLength(2);
  });
});
