// Issue 10: a collation applies where mongod applies it (distinct, unique indexes), unique indexes
// key every element of an array, and one NOW per command comes from the server's clock.
import type { Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { serverError, useDriver } from '../helpers/driver.js';

const t = useDriver('collation');
const clock = new VirtualClock(Date.UTC(2030, 4, 6, 7, 8, 9, 10));
const timed = useDriver('clocked', { clock });
const caseInsensitive = { locale: 'en', strength: 2 };

describe('distinct', () => {
  test('under a collation, values equal by it are one (the first met), ordered by it', async () => {
    const c = t.db.collection('d');
    await c.insertMany([{ x: 'b' }, { x: 'a' }, { x: 'B' }, { x: ['A', 'c'] }, { x: 2 }]);
    expect(await c.distinct('x', {}, { collation: caseInsensitive })).toEqual([2, 'a', 'b', 'c']);
    // Without one, binary order: capitals first, each spelling its own value.
    expect(await c.distinct('x')).toEqual([2, 'A', 'B', 'a', 'b', 'c']);
    // The query takes the collation too.
    expect(await c.distinct('x', { x: 'A' }, { collation: caseInsensitive })).toEqual(['a', 'c']);
  });
});

describe('unique indexes', () => {
  test('a collated unique index refuses a value equal by its collation, naming the collation', async () => {
    const c = t.db.collection<{ _id: number; name: string }>('u');
    await c.createIndex({ name: 1 }, { unique: true, collation: caseInsensitive });
    await c.insertOne({ _id: 1, name: 'ping' });
    const err = await serverError(c.insertOne({ _id: 2, name: 'PING' }));
    expect(err.code).toBe(11000);
    expect(err.message).toBe(
      'E11000 duplicate key error collection: collation.u index: name_1 collation: { locale: "en", caseLevel: false, caseFirst: "off", strength: 2, numericOrdering: false, alternate: "non-ignorable", maxVariable: "punct", normalization: false, backwards: false, version: "57.1" } dup key: { name: "0x50494e47" }',
    );
    expect(err.errorResponse.keyPattern).toEqual({ name: 1 });
    expect(err.errorResponse.keyValue).toEqual({ name: '50494e47' });
    expect(err.errorResponse.hexEncoded).toEqual([true]);
    expect(err.errorResponse.collation).toMatchObject({ locale: 'en', strength: 2 });
    // Another spelling of another word, and the same word under another index, are fine.
    await c.insertOne({ _id: 3, name: 'pong' });
    expect(await c.countDocuments()).toBe(2);
  });

  test('listIndexes shows the collation with every option; a simple collation is none', async () => {
    const c = t.db.collection('l');
    await c.createIndex({ a: 1 }, { collation: { locale: 'fr', numericOrdering: true } });
    await c.createIndex({ b: 1 }, { collation: { locale: 'simple' } });
    const indexes = await c.listIndexes().toArray();
    const a = indexes.find((i: Document) => i.name === 'a_1')!;
    expect(a.collation).toEqual({
      locale: 'fr',
      caseLevel: false,
      caseFirst: 'off',
      strength: 3,
      numericOrdering: true,
      alternate: 'non-ignorable',
      maxVariable: 'punct',
      normalization: false,
      backwards: false,
      version: '57.1',
    });
    expect(indexes.find((i: Document) => i.name === 'b_1')!.collation).toBeUndefined();
  });

  test('building a collated unique index over clashing documents fails', async () => {
    const c = t.db.collection('b');
    await c.insertMany([{ s: 'Straße' }, { s: 'STRASSE' }]);
    await c.createIndex({ s: 1 }, { unique: true });
    await c.dropIndex('s_1');
    const err = await serverError(c.createIndex({ s: 1 }, { unique: true, collation: { locale: 'de', strength: 1 } }));
    expect(err.code).toBe(11000);
  });

  test('an array field keys each element: {a: [1, 2]} clashes with {a: 2}; its own repeats do not', async () => {
    const c = t.db.collection<{ _id: number; a: number | number[] }>('m');
    await c.createIndex({ a: 1 }, { unique: true });
    await c.insertOne({ _id: 1, a: [1, 2] });
    await c.insertOne({ _id: 2, a: [3, 3] });
    const err = await serverError(c.insertOne({ _id: 3, a: 2 }));
    expect(err.code).toBe(11000);
    expect(err.message).toBe('E11000 duplicate key error collection: collation.m index: a_1 dup key: { a: 2 }');
    // An update that moves the clashing element away frees it.
    await c.updateOne({ _id: 1 }, { $set: { a: [1] } });
    await c.insertOne({ _id: 3, a: 2 });
    expect(await c.countDocuments()).toBe(3);
  });

  test('an invalid collation on an index is refused as on a query', async () => {
    const c = t.db.collection('bad');
    const err = await serverError(c.createIndex({ a: 1 }, { collation: { locale: 'xx_NOPE' } }));
    expect(err.code).toBe(2);
  });
});

describe('one NOW per command, from the server clock', () => {
  test('$$NOW in a find $expr, a let, a pipeline update and $currentDate read the injected clock', async () => {
    const c = timed.db.collection<{ _id: number; at: Date; seen?: Date }>('now');
    await c.insertMany([{ _id: 1, at: new Date(Date.UTC(2030, 0, 1)) }, { _id: 2, at: new Date(Date.UTC(2031, 0, 1)) }]);
    const past = await c.find({ $expr: { $lt: ['$at', '$$NOW'] } }).toArray();
    expect(past.map((d) => d._id)).toEqual([1]);
    const viaLet = await c.find({ $expr: { $lt: ['$at', '$$t'] } }, { let: { t: '$$NOW' } }).toArray();
    expect(viaLet.map((d) => d._id)).toEqual([1]);
    await c.updateOne({ _id: 1 }, [{ $set: { seen: '$$NOW' } }]);
    await c.updateOne({ _id: 2 }, { $currentDate: { seen: true } });
    const docs = await c.find({}, { sort: { _id: 1 } }).toArray();
    expect(docs.map((d) => (d.seen as Date).getTime())).toEqual([clock.now(), clock.now()]);
    expect(await c.countDocuments({ $expr: { $eq: ['$seen', '$$NOW'] } })).toBe(2);
    expect(await c.distinct('_id', { $expr: { $eq: ['$seen', '$$NOW'] } })).toEqual([1, 2]);
  });
});
