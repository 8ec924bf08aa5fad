// Issue 10, "never change a user's data": command arguments that must be documents are refused
// with mongod's IDL TypeMismatch (14) instead of being read as an empty filter.
import { BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('exact');

describe('document arguments', () => {
  test('findOneAndDelete(ObjectId) is TypeMismatch and deletes nothing (findAndModify.idl: query is an object)', async () => {
    const c = t.db.collection('fam');
    await c.insertMany([{ _id: new ObjectId(), a: 1 }, { _id: new ObjectId(), a: 2 }]);
    const id = new ObjectId();
    await expectExactError(
      t.db.command({ findAndModify: 'fam', query: id, remove: true }),
      14,
      'TypeMismatch',
      "BSON field 'findAndModify.query' is the wrong type 'objectId', expected type 'object'",
    );
    await expectExactError(
      t.db.command({ findAndModify: 'fam', query: {}, sort: 'a', remove: true }),
      14,
      'TypeMismatch',
      "BSON field 'findAndModify.sort' is the wrong type 'string', expected type 'object'",
    );
    await expectExactError(
      t.db.command({ findAndModify: 'fam', query: {}, fields: [1], remove: true }),
      14,
      'TypeMismatch',
      "BSON field 'findAndModify.fields' is the wrong type 'array', expected type 'object'",
    );
    expect(await c.countDocuments()).toBe(2);
    // null is absent for the IDL: the whole collection is the query, as mongod does.
    const removed = await t.db.command({ findAndModify: 'fam', query: null, sort: { a: 1 }, remove: true });
    expect(removed.value.a).toBe(1);
    expect(await c.countDocuments()).toBe(1);
  });

  test('count and distinct refuse a query that is not a document', async () => {
    await t.db.collection('cd').insertMany([{ a: 1 }, { a: 2 }]);
    await expectExactError(t.db.command({ count: 'cd', query: 5 }), 14, 'TypeMismatch', "BSON field 'count.query' is the wrong type 'int', expected type 'object'");
    await expectExactError(
      t.db.command({ distinct: 'cd', key: 'a', query: 'x' }),
      14,
      'TypeMismatch',
      "BSON field 'distinct.query' is the wrong type 'string', expected type 'object'",
    );
    await expectExactError(
      t.db.command({ explain: { count: 'cd', query: [] } }),
      14,
      'TypeMismatch',
      "BSON field 'count.query' is the wrong type 'array', expected type 'object'",
    );
  });
});

// The query layer on stored BSON values (issue 10): filters, projections and update operators
// never go through a JavaScript number.
describe('values come back exactly as stored', () => {
  const raw = { promoteValues: false, promoteLongs: false } as const;
  const decimals = ['1.10', '-0', '1.0E+5', '1E-6176', 'NaN', '2.50'];

  test('a find projection keeps Decimal128 digits, numeric types and document order, _id first', async () => {
    const c = t.db.collection<NumberedDoc>('proj');
    await c.insertOne({ z: Decimal128.fromString('1.10'), _id: 1, a: new Double(2), l: Long.fromString('9007199254740993'), d: decimals.map((s) => Decimal128.fromString(s)) });
    const [doc] = await c.find({}, { projection: { d: 1, z: 1, l: 1, a: 1 }, ...raw }).toArray();
    expect(Object.keys(doc!)).toEqual(['_id', 'z', 'a', 'l', 'd']);
    expect((doc!.z as Decimal128).toString()).toBe('1.10');
    expect(doc!.a).toBeInstanceOf(Double);
    expect((doc!.l as Long).toString()).toBe('9007199254740993');
    expect((doc!.d as Decimal128[]).map((d) => d.toString())).toEqual(decimals);
  });

  test('$set stores exactly the value given, at the top level and nested', async () => {
    const c = t.db.collection<NumberedDoc>('set');
    await c.insertOne({ _id: 1 });
    await c.updateOne({ _id: 1 }, { $set: { price: Decimal128.fromString('2.50'), 'n.price': Decimal128.fromString('2.50'), d: new Double(3) } });
    const doc = (await c.findOne({ _id: 1 }, raw))!;
    expect(doc.price).toBeInstanceOf(Decimal128);
    expect(doc.price.toString()).toBe('2.50');
    expect(doc.n.price).toBeInstanceOf(Decimal128);
    expect(doc.n.price.toString()).toBe('2.50');
    expect(doc.d).toBeInstanceOf(Double);
  });

  test('$inc and $mul follow mongod: Long + Long stays Long, Long × Int32 is a Long, int32 overflow becomes a Long', async () => {
    const c = t.db.collection<NumberedDoc>('arith');
    await c.insertOne({ _id: 1, l: Long.fromString('9007199254740993'), m: Long.fromNumber(3), i: new Int32(2147483647), dec: Decimal128.fromString('1.10') });
    await c.updateOne({ _id: 1 }, { $inc: { l: Long.fromNumber(2), i: new Int32(1), dec: Decimal128.fromString('2.20') }, $mul: { m: new Int32(5) } });
    const doc = (await c.findOne({ _id: 1 }, raw))!;
    expect(doc.l).toBeInstanceOf(Long);
    expect(doc.l.toString()).toBe('9007199254740995');
    expect(doc.m).toBeInstanceOf(Long);
    expect(doc.m.toString()).toBe('15');
    expect(doc.i).toBeInstanceOf(Long);
    expect(doc.i.toString()).toBe('2147483648');
    expect(doc.dec.toString()).toBe('3.30');
  });

  test('$inc overflowing a Long is BadValue and $inc on a string is TypeMismatch; nothing changes', async () => {
    const c = t.db.collection<NumberedDoc>('arithErr');
    await c.insertOne({ _id: 1, l: Long.MAX_VALUE, s: 'x' });
    await expectExactError(
      t.db.command({ findAndModify: 'arithErr', query: { _id: 1 }, update: { $inc: { l: new Int32(1) } } }),
      2,
      'BadValue',
      'Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}',
    );
    await expectExactError(
      t.db.command({ findAndModify: 'arithErr', query: { _id: 1 }, update: { $inc: { s: new Int32(1) } } }),
      14,
      'TypeMismatch',
      "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 's' of non-numeric type string",
    );
    const doc = (await c.findOne({ _id: 1 }, raw))!;
    expect(doc.l.toString()).toBe(Long.MAX_VALUE.toString());
    expect(doc.s).toBe('x');
  });
});

describe('filters compare BSON values as mongod does', () => {
  test('Decimal128("1.10") is not the double 1.1; Long and Decimal beyond 2^53 match each other; $gt 2^53', async () => {
    const c = t.db.collection<NumberedDoc>('cmp');
    await c.insertMany([
      { _id: 1, v: Decimal128.fromString('1.10') },
      { _id: 2, v: new Double(1.1) },
      { _id: 3, v: Long.fromString('9007199254740993') },
      { _id: 4, v: Decimal128.fromString('9007199254740993') },
    ]);
    const ids = async (filter: Document): Promise<unknown[]> => (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ v: new Double(1.1) })).toEqual([2]);
    expect(await ids({ v: Decimal128.fromString('1.1') })).toEqual([1]);
    expect(await ids({ v: Long.fromString('9007199254740993') })).toEqual([3, 4]);
    expect(await ids({ v: { $gt: Long.fromString('9007199254740992') } })).toEqual([3, 4]);
  });

  test('$type tells int, long, double and decimal apart', async () => {
    const c = t.db.collection<NumberedDoc>('types');
    await c.insertMany([{ _id: 1, v: new Int32(1) }, { _id: 2, v: Long.fromNumber(1) }, { _id: 3, v: new Double(1) }, { _id: 4, v: Decimal128.fromString('1') }]);
    for (const [type, id] of [['int', 1], ['long', 2], ['double', 3], ['decimal', 4]] as const) {
      expect((await c.find({ v: { $type: type } }).toArray()).map((d) => d._id)).toEqual([id]);
    }
  });

  test('embedded documents are equal only with their fields in the same order; a stored regex matches itself', async () => {
    const c = t.db.collection<NumberedDoc>('embedded');
    await c.insertMany([{ _id: 1, e: { a: 1, b: 2 } }, { _id: 2, r: new BSONRegExp('^ab', 'i') }]);
    expect(await c.countDocuments({ e: { a: 1, b: 2 } })).toBe(1);
    expect(await c.countDocuments({ e: { b: 2, a: 1 } })).toBe(0);
    expect(await c.find({ e: { b: 2, a: 1 } }).toArray()).toEqual([]);
    expect((await c.find({ r: { $eq: new BSONRegExp('^ab', 'i') } }).toArray()).map((d) => d._id)).toEqual([2]);
  });

  test('a collation applies to matching (strength 2 finds "ping" for "PING"), and let variables reach $expr', async () => {
    const c = t.db.collection<NumberedDoc>('coll');
    await c.insertMany([{ _id: 1, x: 'ping' }, { _id: 2, x: 'pong' }]);
    expect((await c.find({ x: 'PING' }, { collation: { locale: 'en', strength: 2 } }).toArray()).map((d) => d._id)).toEqual([1]);
    expect(await c.countDocuments({ x: 'PING' })).toBe(0);
    const found = await t.db.command({ find: 'coll', filter: { $expr: { $eq: ['$_id', '$$id'] } }, let: { id: 2 } });
    expect(found.cursor.firstBatch.map((d: Document) => d._id)).toEqual([2]);
  });
});

describe('$expr and aggregation compute exactly', () => {
  test('a find $expr with arithmetic on longs beyond 2^53 and on decimals is exact', async () => {
    const c = t.db.collection<NumberedDoc>('expr');
    await c.insertMany([
      { _id: 1, a: Long.fromString('4503599627370497'), p: Decimal128.fromString('1.10'), q: Decimal128.fromString('2.20') },
      // Doubles: 1.1 + 2.2 is 3.3000000000000003, not the decimal 3.30.
      { _id: 2, a: Long.fromString('4503599627370496'), p: new Double(1.1), q: new Double(2.2) },
    ]);
    const big = await t.db.command({ find: 'expr', filter: { $expr: { $gt: [{ $multiply: ['$a', new Int32(2)] }, '$$x'] } }, let: { x: Long.fromString('9007199254740993') } });
    expect(big.cursor.firstBatch.map((d: Document) => d._id)).toEqual([1]);
    const sum = await c.find({ $expr: { $eq: [{ $add: ['$p', '$q'] }, Decimal128.fromString('3.30')] } }).toArray();
    expect(sum.map((d) => d._id)).toEqual([1]);
  });

  test('$group sums decimals exactly and keeps types; $first keeps the stored value', async () => {
    const c = t.db.collection<NumberedDoc>('grp');
    await c.insertMany([
      { _id: 1, g: 'a', v: Decimal128.fromString('1.10'), l: Long.fromNumber(5) },
      { _id: 2, g: 'a', v: Decimal128.fromString('2.20'), l: new Double(2) },
    ]);
    const [out] = await c.aggregate([{ $group: { _id: '$g', s: { $sum: '$v' }, f: { $first: '$l' }, d: { $sum: new Double(1) } } }], { promoteValues: false, promoteLongs: false }).toArray();
    expect(out!.s).toBeInstanceOf(Decimal128);
    expect(out!.s.toString()).toBe('3.30');
    expect(out!.f).toBeInstanceOf(Long);
    expect(out!.d).toBeInstanceOf(Double);
  });
});

