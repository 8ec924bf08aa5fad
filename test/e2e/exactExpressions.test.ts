// Issue 10: trigonometry, $firstN/$lastN/$maxN/$minN and $percentile/$median evaluated by
// pocketmongo's own expression code on the stored values, through the official driver.
import { Decimal128, Double, Int32, Long, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('exactExpressions');
const raw = { promoteValues: false, promoteLongs: false } as const;

describe('expressions on the stored values', () => {
  test('trigonometry gives Doubles, decimals convert exactly, out-of-bounds is 50989', async () => {
    const c = t.db.collection<NumberedDoc>('trig');
    await c.insertOne({ _id: 1, i: new Int32(1), l: Long.fromNumber(2), deg: Decimal128.fromString('90') });
    const [out] = await c
      .aggregate<Document>(
        [
          {
            $project: {
              _id: 0,
              sin: { $sin: '$i' },
              atan2: { $atan2: ['$i', '$l'] },
              rad: { $degreesToRadians: '$deg' },
              dbl: { $degreesToRadians: '$l' },
              none: { $cos: '$missing' },
            },
          },
        ],
        raw,
      )
      .toArray();
    expect(out!.sin).toBeInstanceOf(Double);
    expect((out!.sin as Double).value).toBe(Math.sin(1));
    expect((out!.atan2 as Double).value).toBe(Math.atan2(1, 2));
    expect(out!.rad).toBeInstanceOf(Decimal128);
    expect((out!.rad as Decimal128).toString()).toBe('1.570796326794896619231321691639752');
    expect((out!.dbl as Double).value).toBe(2 * (Math.PI / 180));
    expect(out!.none).toBeNull();
    await expectExactError(
      c.aggregate([{ $project: { a: { $acos: { $add: ['$i', 1] } } } }]).toArray(),
      50989,
      'Location50989',
      'cannot apply $acos to 2, value must in [-1,1]',
    );
    await expectExactError(
      c.aggregate([{ $project: { a: { $sin: '$deg' } } }]).toArray(),
      115,
      'CommandNotSupported',
      "pocketmongo does not support $sin of a decimal value (Decimal128's trigonometric functions) yet",
    );
  });

  test('$maxN / $firstN keep the stored values; their errors are mongod\'s', async () => {
    const c = t.db.collection<NumberedDoc>('nfamily');
    await c.insertOne({ _id: 1, a: [new Int32(3), null, Long.fromString('9007199254740993'), Decimal128.fromString('2.50')] });
    const [out] = await c
      .aggregate<Document>([{ $project: { _id: 0, max: { $maxN: { n: 2, input: '$a' } }, first: { $firstN: { n: 2, input: '$a' } } } }], raw)
      .toArray();
    expect((out!.max as Long[])[0]).toBeInstanceOf(Long);
    expect((out!.max as Long[])[0]!.toString()).toBe('9007199254740993');
    expect((out!.max as Int32[])[1]).toBeInstanceOf(Int32);
    expect(out!.first).toEqual([new Int32(3), null]);
    await expectExactError(
      c.aggregate([{ $project: { m: { $minN: { n: 0, input: '$a' } } } }]).toArray(),
      5787908,
      'Location5787908',
      "'n' must be greater than 0, found 0",
    );
  });

  test('$percentile / $median: Doubles, the same as an expression and as a $group accumulator', async () => {
    const c = t.db.collection<NumberedDoc>('pct');
    await c.insertMany([
      { _id: 1, v: new Int32(10), a: [new Int32(1), Long.fromNumber(4), Decimal128.fromString('2.5'), 'x'] },
      { _id: 2, v: Decimal128.fromString('30') },
      { _id: 3, v: Long.fromNumber(20) },
      { _id: 4, v: 'not a number' },
    ]);
    const [expr] = await c
      .aggregate<Document>(
        [
          { $match: { _id: 1 } },
          { $project: { _id: 0, p: { $percentile: { input: '$a', p: [0.5, 1], method: 'approximate' } }, m: { $median: { input: '$a', method: 'approximate' } } } },
        ],
        raw,
      )
      .toArray();
    expect((expr!.p as Double[]).map((d) => d.value)).toEqual([2.5, 4]);
    expect(expr!.p[0]).toBeInstanceOf(Double);
    expect((expr!.m as Double).value).toBe(2.5);
    const [grouped] = await c
      .aggregate<Document>([{ $group: { _id: null, m: { $median: { input: '$v', method: 'approximate' } }, p: { $percentile: { input: '$v', p: [0, 0.9], method: 'approximate' } } } }], raw)
      .toArray();
    expect(grouped!.m).toBeInstanceOf(Double);
    expect((grouped!.m as Double).value).toBe(20);
    expect((grouped!.p as Double[]).map((d) => d.value)).toEqual([10, 30]);
    await expectExactError(
      c.aggregate([{ $group: { _id: null, m: { $median: { input: '$v', method: 'discrete' } } } }]).toArray(),
      2,
      'BadValue',
      "Currently only 'approximate' can be used as percentile 'method'.",
    );
    await expectExactError(
      c.aggregate([{ $project: { p: { $percentile: { input: '$v', p: '$v', method: 'approximate' } } } }]).toArray(),
      7750300,
      'Location7750300',
      `Invalid $project :: caused by :: The $percentile 'p' field must be an array of constant values, but found value: "$v".`,
    );
  });

  test('$accumulator (server-side JavaScript) is refused with 115 CommandNotSupported', async () => {
    const c = t.db.collection<NumberedDoc>('js');
    await c.insertOne({ _id: 1, v: 1 });
    const accumulator = {
      init: 'function() { return 0; }',
      accumulate: 'function(state, v) { return state + v; }',
      accumulateArgs: ['$v'],
      merge: 'function(a, b) { return a + b; }',
      lang: 'js',
    };
    await expectExactError(
      c.aggregate([{ $group: { _id: null, s: { $accumulator: accumulator } } }]).toArray(),
      115,
      'CommandNotSupported',
      'pocketmongo does not support server-side JavaScript ($accumulator) yet',
    );
    // Refused even with no document to run on, and $function alike (no fallback runs JavaScript).
    await expectExactError(
      t.db.collection('nojs').aggregate([{ $group: { _id: null, s: { $accumulator: accumulator } } }]).toArray(),
      115,
      'CommandNotSupported',
      'pocketmongo does not support server-side JavaScript ($accumulator) yet',
    );
    await expectExactError(
      c.aggregate([{ $addFields: { f: { $function: { body: 'function() { return 1; }', args: [], lang: 'js' } } } }]).toArray(),
      115,
      'CommandNotSupported',
      'pocketmongo does not support server-side JavaScript ($function) yet',
    );
  });
});
