import { BSONRegExp, MongoBulkWriteError, type Collection, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectServerError, rejection, useDriver, type NumberedDoc } from '../helpers/driver.js';
import { rawCmd, RawClient } from '../helpers/rawClient.js';

const t = useDriver('rules');

function coll(name: string): Collection<NumberedDoc> {
  return t.db.collection<NumberedDoc>(name);
}

describe("mongod's rules for stored documents", () => {
  test('an array, regex or undefined _id is InvalidIdField (53) as a write error', async () => {
    const c = t.db.collection('ids');
    for (const [id, type] of [
      [[1], 'array'],
      [new BSONRegExp('a'), 'regex'],
    ] as const) {
      await expectServerError(c.insertOne({ _id: id as never }), 53, undefined, `The '_id' value cannot be of type ${type}`);
    }
    expect(await c.countDocuments()).toBe(0);
  });

  test('an unordered batch stores the good documents around a bad _id', async () => {
    const err = await rejection(coll('batch').insertMany([{ _id: 1 }, { _id: [2] as never }, { _id: 3 }], { ordered: false }));
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    expect((err as MongoBulkWriteError).writeErrors).toMatchObject([{ index: 1, code: 53 }]);
    expect(await coll('batch').find().toArray()).toEqual([{ _id: 1 }, { _id: 3 }]);
  });

  test('$-prefixed and dotted field names are stored, as mongod 5.0+ allows', async () => {
    await coll('names').insertOne({ _id: 1, $price: 5, 'a.b': 2, nested: { $x: 1 } });
    expect(await coll('names').findOne({ _id: 1 })).toEqual({ _id: 1, $price: 5, 'a.b': 2, nested: { $x: 1 } });
  });

  test('a document nested more than 180 levels below its top is Overflow (15); 180 levels is stored', async () => {
    const nest = (levels: number): Document => {
      let doc: Document = { leaf: 1 };
      for (let i = 1; i < levels; i++) doc = { d: doc };
      return doc;
    };
    await coll('deep').insertOne({ _id: 1, d: nest(180) });
    await expectServerError(coll('deep').insertOne({ _id: 2, d: nest(181) }), 15, undefined, 'cannot insert document because it exceeds 180 levels of nesting');
    expect(await coll('deep').countDocuments()).toBe(1);
  });

  test('a document over 16 MB is refused with its size; the connection carries on', async () => {
    const raw = await RawClient.connect(t.server.port);
    try {
      // 4 (length) + 9 (_id: int32) + 16777224 (s: 16 MiB string) + 1 (end) = 16777238 bytes.
      const big = { _id: 1, s: 'x'.repeat(16 * 1024 * 1024) };
      const reply = await rawCmd(raw, { insert: 'big', documents: [big] }, 'rules');
      expect(reply.n).toBe(0);
      expect(reply.writeErrors).toEqual([{ index: 0, code: 2, errmsg: 'object to insert too large. size in bytes: 16777238, max size: 16777216' }]);
      expect((await rawCmd(raw, { ping: 1 })).ok).toBe(1);
    } finally {
      await raw.close();
    }
    expect(await coll('big').countDocuments()).toBe(0);
  });

  test('an update whose result passes 16 MB fails with 17419 and leaves the document as it was', async () => {
    const half = 'y'.repeat(9 * 1024 * 1024);
    await coll('grow').insertOne({ _id: 1, a: half });
    await expectServerError(coll('grow').updateOne({ _id: 1 }, { $set: { b: half } }), 17419, undefined, 'Resulting document after update is larger than 16777216');
    expect(Object.keys((await coll('grow').findOne({ _id: 1 }))!)).toEqual(['_id', 'a']);
  });
});

describe('the positional $ update operator', () => {
  test('updates the array element the query matched, by value or through a field of an element', async () => {
    const c = coll('grades');
    await c.insertMany([
      { _id: 1, grades: [85, 80, 80] },
      { _id: 2, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }] },
    ]);
    await c.updateOne({ _id: 1, grades: 80 }, { $set: { 'grades.$': 82 } });
    await c.updateOne({ _id: 2, 'items.sku': 'b' }, { $inc: { 'items.$.qty': 10 } });
    await c.updateOne({ _id: 2, items: { $elemMatch: { sku: 'a', qty: 1 } } }, { $set: { 'items.$.sku': 'A' } });
    expect(await c.find().toArray()).toEqual([
      { _id: 1, grades: [85, 82, 80] },
      { _id: 2, items: [{ sku: 'A', qty: 1 }, { sku: 'b', qty: 12 }] },
    ]);
  });

  test("mongod's errors: no array in the query, two $ in a path, $ first", async () => {
    const c = coll('positional');
    await c.insertOne({ _id: 1, a: [1, 2] });
    const cases: Array<[Document, string]> = [
      [{ $set: { 'a.$': 5 } }, 'The positional operator did not find the match needed from the query.'],
      [{ $set: { 'a.$.$': 5 } }, "Too many positional (i.e. '$') elements found in path 'a.$.$'"],
      [{ $set: { '$.a': 5 } }, "Cannot have positional (i.e. '$') element in the first position in path '$.a'"],
    ];
    for (const [update, errmsg] of cases) {
      await expectServerError(c.updateOne({ _id: 1 }, update), 2, undefined, errmsg);
    }
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, a: [1, 2] });
  });
});
