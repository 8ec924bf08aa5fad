import { BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, type Collection, type Document } from 'mongodb';
import { expect, test } from 'vitest';
import { useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('types');

function coll(name: string): Collection<NumberedDoc> {
  return t.db.collection<NumberedDoc>(name);
}

/** The stored document with its BSON number types visible (the driver would turn them into JS numbers). */
async function raw(c: Collection<NumberedDoc>, id: number): Promise<Document | null> {
  return c.findOne({ _id: id }, { promoteValues: false, promoteLongs: false });
}

test('regular expressions filter: a driver RegExp, a BSONRegExp with flags, $regex', async () => {
  const c = coll('regex');
  await c.insertMany([{ _id: 1, name: 'alice' }, { _id: 2, name: 'Albert' }, { _id: 3, name: 'bob' }]);
  expect((await c.find({ name: /^al/ }).toArray()).map((d) => d._id)).toEqual([1]);
  expect((await c.find({ name: new BSONRegExp('^al', 'i') }).toArray()).map((d) => d._id)).toEqual([1, 2]);
  expect((await c.find({ name: { $regex: 'B', $options: 'i' } }).toArray()).map((d) => d._id)).toEqual([2, 3]);
});

test('a long equals an int32 or double of the same value in filters, as in mongod', async () => {
  const c = coll('numbers');
  await c.insertMany([{ _id: 1, n: new Int32(5) }, { _id: 2, n: new Double(5) }, { _id: 3, n: Long.fromNumber(6) }]);
  expect((await c.find({ n: Long.fromNumber(5) }).toArray()).map((d) => d._id)).toEqual([1, 2]);
  expect((await c.find({ n: { $gt: Long.fromNumber(5) } }).toArray()).map((d) => d._id)).toEqual([3]);
  expect((await c.find({ n: 6 }).toArray()).map((d) => d._id)).toEqual([3]);
});

test('projections keep the stored numeric types', async () => {
  const c = coll('projected');
  await c.insertOne({ _id: 1, d: new Double(1), l: Long.fromNumber(2), i: new Int32(3), nested: { d: new Double(4) }, other: 'x' });
  const doc = await c.findOne({ _id: 1 }, { projection: { d: 1, l: 1, i: 1, nested: 1 }, promoteValues: false, promoteLongs: false });
  expect(doc!.d).toBeInstanceOf(Double);
  expect(doc!.l).toBeInstanceOf(Long);
  expect(doc!.i).toBeInstanceOf(Int32);
  expect(doc!.nested.d).toBeInstanceOf(Double);
  expect(doc!.other).toBeUndefined();
});

test('updates keep numeric types: $set of a double, $inc on a long, an int32 that outgrows int32 becomes a long', async () => {
  const c = coll('updated');
  await c.insertOne({ _id: 1, l: Long.fromNumber(10), i: new Int32(2147483647), d: new Double(1.5) });
  await c.updateOne({ _id: 1 }, { $set: { x: new Double(2) }, $inc: { l: 1, i: 1, d: 0.5 } });
  const doc = await raw(c, 1);
  expect(doc!.x).toEqual(new Double(2));
  expect(doc!.l).toEqual(Long.fromNumber(11));
  expect(doc!.i).toEqual(Long.fromNumber(2147483648));
  expect(doc!.d).toEqual(new Double(2));
});

test('an unknown query operator is BadValue "unknown operator: $x", as mongod answers', async () => {
  const err = await coll('regex').find({ name: { $nope: 1 } }).toArray().then(
    () => undefined,
    (e: unknown) => e as { code?: number; errmsg?: string },
  );
  expect(err?.code).toBe(2);
  expect(err?.errmsg).toBe('unknown operator: $nope');
});

test('a collation orders strings by locale rules in a sort; without one the order is binary', async () => {
  const c = coll('collated');
  await c.insertMany([{ _id: 1, s: 'b' }, { _id: 2, s: 'A' }, { _id: 3, s: 'a' }, { _id: 4, s: 'B' }]);
  expect((await c.find({}, { sort: { s: 1 } }).toArray()).map((d) => d.s)).toEqual(['A', 'B', 'a', 'b']);
  const collated = await c.find({}, { sort: { s: 1 }, collation: { locale: 'en', strength: 1 } }).toArray();
  expect(collated.map((d) => d.s.toLowerCase())).toEqual(['a', 'a', 'b', 'b']);
});

test('sorts follow mongod BSON order across types; decimals and longs compare as numbers', async () => {
  const c = coll('sorted');
  await c.insertMany([
    { _id: 1, v: 'text' },
    { _id: 2, v: Decimal128.fromString('10.5') },
    { _id: 3, v: new ObjectId('000000000000000000000001') },
    { _id: 4, v: Long.fromNumber(9) },
    { _id: 5, v: null },
    { _id: 6, v: new Double(2.5) },
    { _id: 7, v: [100, 1] },
  ]);
  expect((await c.find({}, { sort: { v: 1 } }).toArray()).map((d) => d._id)).toEqual([5, 7, 6, 4, 2, 1, 3]);
  expect((await c.find({}, { sort: { v: -1 } }).toArray()).map((d) => d._id)).toEqual([3, 1, 7, 2, 4, 6, 5]);
  expect((await c.find({ v: { $gt: 9 } }).toArray()).map((d) => d._id)).toEqual([2, 7]);
  expect((await c.find({ v: Decimal128.fromString('9.0') }).toArray()).map((d) => d._id)).toEqual([4]);
});

test('$inc on a decimal stays a decimal, without binary rounding', async () => {
  const c = coll('decimals');
  await c.insertOne({ _id: 1, price: Decimal128.fromString('0.1') });
  await c.updateOne({ _id: 1 }, { $inc: { price: Decimal128.fromString('0.2') } });
  expect((await raw(c, 1))!.price).toEqual(Decimal128.fromString('0.3'));
});
