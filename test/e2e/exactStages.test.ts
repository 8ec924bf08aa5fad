// Issue 10: $redact, $bucketAuto, $densify and {$meta} sorts run on the stored BSON values through
// the real driver: mongod 7.0's numeric types, boundaries and errors.
import { Decimal128, Double, Int32, Long, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('exactStages');
const raw = { promoteValues: false, promoteLongs: false } as const;

describe('$bucketAuto', () => {
  test('granularity boundaries are doubles (R5) or 15-digit decimals (E6); counts are ints', async () => {
    const c = t.db.collection('ba');
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ v: new Int32(i + 1), d: Decimal128.fromString(`${i + 1}.5`) })));
    const r5 = await c.aggregate([{ $bucketAuto: { groupBy: '$v', buckets: 3, granularity: 'R5' } }], raw).toArray();
    expect(r5.map((b) => [b._id.min, b._id.max, b.count])).toEqual([
      [new Double(0.63), new Double(4), new Int32(3)],
      [new Double(4), new Double(6.300000000000001), new Int32(3)],
      [new Double(6.300000000000001), new Double(16), new Int32(4)],
    ]);
    const e6 = await c.aggregate([{ $bucketAuto: { groupBy: '$d', buckets: 2, granularity: 'E6', output: { sum: { $sum: '$d' } } } }], raw).toArray();
    expect(e6.map((b) => [String(b._id.min), String(b._id.max), String(b.sum)])).toEqual([
      ['1.00000000000000', '6.80000000000000', '24.0'],
      ['6.80000000000000', '15.0000000000000', '36.0'],
    ]);
  });

  test('spec errors come with mongod\'s codes and texts', async () => {
    const c = t.db.collection('ba');
    await expectExactError(
      c.aggregate([{ $bucketAuto: { groupBy: '$v', buckets: Long.fromNumber(3000000000) } }]).toArray(),
      40242,
      'Location40242',
      "The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but found 3e+09",
    );
    await expectExactError(
      c.aggregate([{ $bucketAuto: { buckets: 0, groupBy: '$v', granularity: 'R3' } }]).toArray(),
      40257,
      'Location40257',
      "Unknown rounding granularity 'R3'",
    );
    await expectExactError(c.aggregate([{ $bucketAuto: { buckets: 0, groupBy: '$v' } }]).toArray(), 40243, 'Location40243', "The $bucketAuto 'buckets' field must be greater than 0, but found: 0");
  });
});

describe('$densify', () => {
  test('numbers keep $add\'s types; dates step by calendar months in UTC', async () => {
    const c = t.db.collection('dn');
    await c.insertMany([{ v: new Int32(2147483646) }, { v: Long.fromNumber(2147483649) }]);
    const out = await c.aggregate([{ $densify: { field: 'v', range: { step: 1, bounds: 'full' } } }, { $project: { _id: 0, v: 1 } }], raw).toArray();
    expect(out.map((d) => d.v)).toEqual([new Int32(2147483646), new Int32(2147483647), Long.fromNumber(2147483648), Long.fromNumber(2147483649)]);

    const dates = t.db.collection('dd');
    await dates.insertMany([{ d: new Date('2021-01-31T00:00:00Z'), k: 'a' }, { d: new Date('2021-04-15T00:00:00Z'), k: 'a' }]);
    const months = await dates.aggregate([{ $densify: { field: 'd', partitionByFields: ['k'], range: { step: 1, unit: 'month', bounds: 'partition' } } }, { $project: { _id: 0 } }]).toArray();
    expect(months).toEqual([
      { d: new Date('2021-01-31T00:00:00Z'), k: 'a' },
      { k: 'a', d: new Date('2021-02-28T00:00:00Z') },
      { k: 'a', d: new Date('2021-03-28T00:00:00Z') },
      { d: new Date('2021-04-15T00:00:00Z'), k: 'a' },
    ]);
  });

  test('parse errors', async () => {
    const c = t.db.collection('dn');
    await expectExactError(
      c.aggregate([{ $densify: { field: 'v', range: { step: 0, bounds: 'full' } } }]).toArray(),
      5733401,
      'Location5733401',
      'The step parameter in a range statement must be a strictly positive numeric value',
    );
    await expectExactError(
      c.aggregate([{ $densify: { field: 'v', range: { step: 1, bounds: [1, 2], unit: 'hour' } } }]).toArray(),
      5733409,
      'Location5733409',
      'Numeric bounds may not have unit parameter',
    );
    await expectExactError(
      c.aggregate([{ $densify: { field: 'v', range: { step: 1 } } }]).toArray(),
      40414,
      'Location40414',
      "BSON field '$densify.range.bounds' is missing but a required field",
    );
  });
});

describe('$redact and {$meta}', () => {
  test('$redact prunes by level, in subdocuments and arrays', async () => {
    const c = t.db.collection<NumberedDoc>('rd');
    await c.insertOne({ _id: 1, level: 1, a: { level: 2, x: 1 }, list: [{ level: 1, y: Decimal128.fromString('1.10') }, { level: 3 }] });
    const stage: Document = { $redact: { $cond: [{ $lte: ['$level', 1] }, '$$DESCEND', '$$PRUNE'] } };
    const [doc] = await c.aggregate([stage], raw).toArray();
    expect(doc).toEqual({ _id: new Int32(1), level: new Int32(1), list: [{ level: new Int32(1), y: Decimal128.fromString('1.10') }] });
    await expectExactError(
      c.aggregate([{ $redact: 'nope' }]).toArray(),
      17053,
      'Location17053',
      '$redact\'s expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned "nope"',
    );
  });

  test('{$meta: "textScore"} without $text is 40218; randVal after $sample is a double', async () => {
    const c = t.db.collection<NumberedDoc>('meta');
    await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    await expectExactError(
      c.aggregate([{ $sort: { score: { $meta: 'textScore' } } }]).toArray(),
      40218,
      'Location40218',
      'query requires text score metadata, but it is not available',
    );
    await expectExactError(c.aggregate([{ $sort: { s: { $meta: 'bogus' } } }]).toArray(), 31138, 'Location31138', 'Illegal $meta sort: $meta: "bogus"');
    const sampled = await c.aggregate([{ $sample: { size: 2 } }, { $sort: { r: { $meta: 'randVal' } } }, { $project: { r: { $meta: 'randVal' } } }], raw).toArray();
    expect(sampled).toHaveLength(2);
    for (const d of sampled) expect(d.r).toBeInstanceOf(Double);
    expect((sampled[0]!.r as Double).value).toBeGreaterThanOrEqual((sampled[1]!.r as Double).value);
  });
});
