// Issue 10: $setWindowFields and $fill evaluated on the stored BSON values through the real
// driver: numeric types kept (Longs, decimals), mongod's windows, and mongod's error replies.
import { Decimal128, Double, Int32, Long } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('exactWindow');
const raw = { promoteValues: false, promoteLongs: false } as const;

/** `type:value` of a value read with promoteValues: false. */
function typed(v: unknown): string {
  if (v instanceof Long) return `long:${v.toString()}`;
  if (v instanceof Int32) return `int:${v.value}`;
  if (v instanceof Double) return `double:${v.value}`;
  if (v instanceof Decimal128) return `decimal:${v.toString()}`;
  return JSON.stringify(v);
}

describe('$setWindowFields', () => {
  test('running sums and sliding averages keep mongod numeric types', async () => {
    const c = t.db.collection<NumberedDoc>('ticks');
    await c.insertMany([
      { _id: 1, g: 'a', t: 1, v: Long.fromString('9007199254740993') },
      { _id: 2, g: 'a', t: 2, v: Long.fromNumber(1) },
      { _id: 3, g: 'b', t: 1, v: Decimal128.fromString('1.10') },
      { _id: 4, g: 'b', t: 2, v: Decimal128.fromString('2.20') },
      { _id: 5, g: 'b', t: 3, v: new Int32(3) },
    ]);
    const out = await c
      .aggregate(
        [
          {
            $setWindowFields: {
              partitionBy: '$g',
              sortBy: { t: 1 },
              output: {
                run: { $sum: '$v', window: { documents: ['unbounded', 'current'] } },
                pair: { $sum: '$v', window: { documents: [-1, 0] } },
                avg: { $avg: '$v', window: { range: [-1, 0] } },
                rank: { $rank: {} },
              },
            },
          },
        ],
        raw,
      )
      .toArray();
    expect(out.map((d) => [d._id.valueOf(), typed(d.run), typed(d.pair), typed(d.avg), typed(d.rank)])).toEqual([
      [1, 'long:9007199254740993', 'long:9007199254740993', 'double:9007199254740992', 'int:1'],
      [2, 'long:9007199254740994', 'long:9007199254740994', 'double:4503599627370497', 'int:2'],
      [3, 'decimal:1.10', 'decimal:1.10', 'decimal:1.10', 'int:1'],
      [4, 'decimal:3.30', 'decimal:3.30', 'decimal:1.65', 'int:2'],
      [5, 'decimal:6.30', 'decimal:5.20', 'decimal:2.60', 'int:3'],
    ]);
  });

  test("mongod's parse and run errors", async () => {
    const c = t.db.collection<NumberedDoc>('errs');
    await c.insertMany([{ _id: 1, t: 'x' }]);
    await expectExactError(
      c.aggregate([{ $setWindowFields: { output: { s: { $sum: 1, window: { documents: ['unbounded', 'current'] } } } } }]).toArray(),
      5339901,
      'Location5339901',
      'Document-based bounds require a sortBy',
    );
    await expectExactError(c.aggregate([{ $setWindowFields: { output: { s: { $summ: 1 } } } }]).toArray(), 9, 'FailedToParse', 'Unrecognized window function, $summ');
    await expectExactError(
      c.aggregate([{ $setWindowFields: { sortBy: { t: 1 }, output: { s: { $sum: 1, window: { range: [-1, 0] } } } } }]).toArray(),
      5429414,
      'Location5429414',
      'Invalid range: Expected the sortBy field to be a number, but it was string',
    );
  });
});

describe('$fill', () => {
  test('linear interpolation and last observation carried forward, per partition', async () => {
    const c = t.db.collection<NumberedDoc>('gaps');
    await c.insertMany([
      { _id: 1, g: 1, t: 1, v: new Int32(10), s: 'on' },
      { _id: 2, g: 1, t: 2, v: null },
      { _id: 3, g: 1, t: 4, v: new Int32(40) },
      { _id: 4, g: 2, t: 1 },
      { _id: 5, g: 2, t: 2, v: Decimal128.fromString('1.5'), s: 'off' },
    ]);
    const out = await c
      .aggregate([{ $fill: { sortBy: { t: 1 }, partitionByFields: ['g'], output: { v: { method: 'linear' }, s: { method: 'locf' }, k: { value: 'x' } } } }], raw)
      .toArray();
    expect(out.map((d) => [d._id.valueOf(), typed(d.v), d.s, d.k])).toEqual([
      [1, 'int:10', 'on', 'x'],
      [2, 'double:20', 'on', 'x'],
      [3, 'int:40', 'on', 'x'],
      [4, 'null', null, 'x'],
      [5, 'decimal:1.5', 'off', 'x'],
    ]);
    await expectExactError(c.aggregate([{ $fill: { output: { v: { method: 'mean' } } } }]).toArray(), 6050202, 'Location6050202', 'Method must be either locf or linear');
  });
});
