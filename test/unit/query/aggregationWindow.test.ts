import { Decimal128, Double, Int32, Long, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mongoError } from '../../helpers/mongoErrors.js';
import { compareValues } from '../../../src/bson/bsonOrder.js';
import { numericType, type BsonNumber } from '../../../src/query/numeric.js';
import { runPipeline, type PipelineContext } from '../../../src/query/aggregation/run.js';

const D = (s: string): Decimal128 => Decimal128.fromString(s);
const I = (n: number): Int32 => new Int32(n);
const L = (n: number): Long => Long.fromNumber(n);
const F = (n: number): Double => new Double(n);
const T = (s: string): Date => new Date(s);

/** A value as `type:value` (arrays and documents recursively; missing as `missing`). */
function show(v: unknown): unknown {
  if (v === undefined) return 'missing';
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(show);
  if (v instanceof Date) return `date:${v.toISOString()}`;
  const t = numericType(v);
  if (t === 'double') {
    const x = v instanceof Double ? v.value : (v as number);
    return `double:${Object.is(x, -0) ? '-0' : String(x)}`;
  }
  if (t !== undefined) return `${t}:${(v as BsonNumber).toString()}`;
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Document).map(([k, x]) => [k, show(x)]));
  return v;
}

function run(stages: Document[], docs: Document[], context?: PipelineContext): Document[] {
  return runPipeline(stages, docs, context);
}

/** The output field `field` of each output document, shown. */
function column(stages: Document[], docs: Document[], field: string): unknown[] {
  return run(stages, docs).map((d) => show(d[field]));
}

/** A $setWindowFields stage; `null` for no sortBy. */
function window(output: Document, sortBy: Document | null = { x: 1 }, extra: Document = {}): Document {
  return { $setWindowFields: { ...(sortBy === null ? {} : { sortBy }), ...extra, output } };
}


const xs = (...values: unknown[]): Document[] => values.map((y, i) => ({ _id: I(i), x: I(i), y }));

describe('$setWindowFields: parse errors (codes and texts of mongod 7.0)', () => {
  const cases: Array<[string, Document, number, string]> = [
    ['spec not an object', { $setWindowFields: 5 }, 9, 'the $setWindowFields stage specification must be an object, found int'],
    ['sortBy not an object', { $setWindowFields: { sortBy: 'a', output: {} } }, 14, "BSON field '$setWindowFields.sortBy' is the wrong type 'string', expected type 'object'"],
    ['output not an object', { $setWindowFields: { output: [1] } }, 14, "BSON field '$setWindowFields.output' is the wrong type 'array', expected type 'object'"],
    ['unknown field', { $setWindowFields: { what: 1, output: {} } }, 40415, "BSON field '$setWindowFields.what' is an unknown field."],
    ['no output', { $setWindowFields: { sortBy: { a: 1 } } }, 40414, "BSON field '$setWindowFields.output' is missing but a required field"],
    ['bad sort direction', { $setWindowFields: { sortBy: { a: 2 }, output: {} } }, 15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)'],
    ['conflicting outputs', window({ a: { $sum: 1 }, 'a.b': { $sum: 1 } }), 6307900, "$setWindowFields 'output' specification contains two conflicting paths"],
    ['output field not an object', window({ a: 1 }), 9, "The field 'a' must be an object"],
    ['no $ function', window({ a: { b: { $sum: 1 } } }), 9, 'Expected a $-prefixed window function, b'],
    ['empty function', window({ a: {} }), 9, 'Expected a $-prefixed window function'],
    ['unknown function', window({ a: { $summ: 1 } }), 9, 'Unrecognized window function, $summ'],
    ['not a window function', window({ a: { $mergeObjects: '$a' } }), 9, 'Unrecognized window function, $mergeObjects'],
    ['two functions', window({ a: { $sum: 1, $avg: 1 } }), 9, 'Cannot specify two functions in window function spec'],
    ['unknown argument', window({ a: { $sum: 1, foo: 1 } }), 9, 'Window function found an unknown argument: foo'],
    ['$count argument', window({ a: { $count: 1 } }), 9, '$count only accepts an empty object as input'],
    ['window not an object', window({ a: { $sum: 1, window: 1 } }), 9, "'window' field must be an object"],
    ['documents and range', window({ a: { $sum: 1, window: { documents: [0, 1], range: [0, 1] } } }), 9, "Window bounds can specify either 'documents' or 'unit', not both."],
    ['unit without range', window({ a: { $sum: 1, window: { documents: [0, 1], unit: 'day' } } }), 9, "Window bounds can only specify 'unit' with range-based bounds."],
    ['other window field', window({ a: { $sum: 1, window: { foo: 1 } } }), 9, "'window' field can only contain 'documents' as the only argument or 'range' with an optional 'unit' field"],
    ['documents and more', window({ a: { $sum: 1, window: { documents: [0, 1], foo: 1 } } }), 9, "'window' field that specifies documents cannot have other fields"],
    ['range and more', window({ a: { $sum: 1, window: { range: [0, 1], foo: 1 } } }), 9, "'window' field that specifies range cannot have other fields besides 'unit'"],
    ['not a pair', window({ a: { $sum: 1, window: { documents: [1] } } }), 9, 'Window bounds must be a 2-element array: documents: [ 1 ]'],
    ['bad keyword', window({ a: { $sum: 1, window: { documents: ['now', 1] } } }), 9, "Window bounds must be 'unbounded', 'current', or a number."],
    ['not constant', window({ a: { $sum: 1, window: { documents: ['$x', 1] } } }), 9, "Window bounds must be 'unbounded', 'current', or a number."],
    ['not a constant expression', window({ a: { $sum: 1, window: { documents: [{ $add: ['$x', 1] }, 1] } } }), 9, 'Window bounds expression must be a constant.'],
    ['fractional documents', window({ a: { $sum: 1, window: { documents: [1.5, 2] } } }), 9, 'Numeric document-based bounds must be an integer'],
    ['range not a number', window({ a: { $sum: 1, window: { range: [{ $const: 'current' }, 3] } } }), 9, 'Range-based bounds expression must be a number'],
    ['fractional time range', window({ a: { $sum: 1, window: { range: [1.5, 3], unit: 'day' } } }), 9, "With 'unit', range-based bounds must be an integer"],
    ['unit not a string', window({ a: { $sum: 1, window: { range: [1, 3], unit: 1 } } }), 9, "'unit' must be a string"],
    ['unknown unit', window({ a: { $sum: 1, window: { range: [1, 3], unit: 'days' } } }), 9, 'unknown time unit value: days'],
    ['backwards documents', window({ a: { $sum: 1, window: { documents: ['current', -1] } } }), 5339900, 'Lower bound must not exceed upper bound: [0, -1]'],
    ['backwards range', window({ a: { $sum: 1, window: { range: [D('1.5'), 1] } } }), 5339900, 'Lower bound must not exceed upper bound: [1.5, 1]'],
    ['documents without sortBy', window({ a: { $sum: 1, window: { documents: ['unbounded', 'current'] } } }, null), 5339901, 'Document-based bounds require a sortBy'],
    ['range without sortBy', window({ a: { $sum: 1, window: { range: ['unbounded', 'unbounded'] } } }, null), 5339902, 'Range-based bounds require sortBy a single field'],
    ['range with two sort fields', window({ a: { $sum: 1, window: { range: [0, 1] } } }, { x: 1, y: 1 }), 5339902, 'Range-based bounds require sortBy a single field'],
    ['$rank with window', window({ a: { $rank: {}, window: {} } }), 5371601, 'Rank style window functions take no other arguments'],
    ['$rank argument', window({ a: { $rank: 1 } }), 5371603, "$rank must be specified with '{}' as the value"],
    ['$denseRank without sortBy', window({ a: { $denseRank: {} } }, null), 5371602, '$denseRank must be specified with a top level sortBy expression with exactly one element'],
    ['$shift without sortBy', window({ a: { $shift: { output: 1, by: 1 } } }, null), 9, "'$shift' requires a sortBy"],
    ['$shift window', window({ a: { $shift: { output: 1, by: 1 }, window: {} } }), 9, "$shift does not accept a 'window' field"],
    ['$shift argument', window({ a: { $shift: 1 } }), 9, 'Argument to $shift must be an object'],
    ['$shift by', window({ a: { $shift: { output: 1, by: 1.5 } } }), 9, "'$shift:by' field must be an integer, but found  by: 1.5"],
    ['$shift default', window({ a: { $shift: { output: 1, by: 1, default: '$x' } } }), 9, "'$shift:default' expression must yield a constant value."],
    ['$shift output', window({ a: { $shift: { by: 1 } } }), 9, "$shift requires an 'output' expression."],
    ['$shift unknown', window({ a: { $shift: { by: 1, foo: 1 } } }), 9, 'Unknown argument in $shift'],
    ['$expMovingAvg extra', window({ a: { $expMovingAvg: { input: 1, N: 2 }, window: {} } }), 9, '$expMovingAvg must have exactly one argument that is an object'],
    [
      '$expMovingAvg fields',
      window({ a: { $expMovingAvg: { input: 1 } } }),
      9,
      "$expMovingAvg sub object must have exactly two fields: An 'input' field, and either an 'N' field or an 'alpha' field",
    ],
    ['$expMovingAvg sortBy', window({ a: { $expMovingAvg: { input: 1, N: 2 } } }, null), 9, "$expMovingAvg requires an explicit 'sortBy'"],
    ['$expMovingAvg N type', window({ a: { $expMovingAvg: { input: 1, N: 'x' } } }), 9, "'N' field must be an integer, but found type string"],
    [
      '$expMovingAvg N fraction',
      window({ a: { $expMovingAvg: { input: 1, N: 2.5 } } }),
      9,
      "'N' field must be an integer, but found  N: 2.5. To use a non-integer, use the 'alpha' argument instead",
    ],
    ['$expMovingAvg N zero', window({ a: { $expMovingAvg: { input: 1, N: 0 } } }), 9, "'N' must be greater than zero. Got 0"],
    ['$expMovingAvg alpha', window({ a: { $expMovingAvg: { input: 1, alpha: 1 } } }), 9, "'alpha' must be between 0 and 1 (exclusive), found alpha: 1"],
    ['$derivative without sortBy', window({ a: { $derivative: { input: 1 } } }, null), 9, '$derivative requires a sortBy'],
    ['$integral compound sortBy', window({ a: { $integral: { input: 1 } } }, { x: 1, y: 1 }), 9, '$integral requires a non-compound sortBy'],
    ['$derivative argument', window({ a: { $derivative: 5 } }), 9, '$derivative expects an object, but got a int: $derivative: 5'],
    ['$derivative input', window({ a: { $derivative: {}, window: { documents: [-1, 0] } } }), 9, "$derivative requires an 'input' expression"],
    ['$derivative bounds', window({ a: { $derivative: { input: 1 } } }), 9, '$derivative requires explicit window bounds'],
    ['$integral unit type', window({ a: { $integral: { input: 1, unit: 1 } } }), 9, "unit' must be a string, but got int"],
    ['$integral month', window({ a: { $integral: { input: 1, unit: 'month' } } }), 5490710, "unit must be 'week' or smaller"],
    ['$locf window', window({ a: { $locf: 1, window: {} } }), 9, "'window' field is not allowed in $locf"],
    ['$linearFill sortBy', window({ a: { $linearFill: 1 } }, { x: 1, y: 1 }), 605001, '$linearFill must be specified with a top level sortBy expression with exactly one element'],
    ['$first argument', window({ a: { $first: 1, foo: 1 } }), 9, '$first got unexpected argument: foo'],
    ['$firstN not an object', window({ a: { $firstN: 1 } }), 5787801, 'specification must be an object; found $firstN: 1'],
    ['$maxN not an object', window({ a: { $maxN: [1] } }), 5787900, 'specification must be an object; found $maxN: [ 1 ]'],
    ['$topN not an object', window({ a: { $topN: 1 } }), 5788001, 'specification must be an object; found $topN: 1'],
    ['$topN argument', window({ a: { $topN: { n: 1, output: 1, sortBy: { a: 1 } }, foo: 1 } }), 9, '$topN got unexpected argument: foo'],
    ['partitionBy constant array', { $setWindowFields: { partitionBy: [1], output: {} } }, 14, 'An expression used to partition cannot evaluate to value of type array'],
  ];
  test.each(cases)('%s', (_name, stage, code, message) => {
    expect(mongoError(() => run([stage], []))).toEqual({ code, message });
  });

  test("'n' is checked when the stage starts, even with no document", () => {
    expect(mongoError(() => run([window({ a: { $firstN: { input: '$x', n: 0 } } })], []))).toEqual({ code: 5787908, message: "'n' must be greater than 0, found 0" });
  });

  test('an output path is checked when a document is output', () => {
    expect(run([window({ $a: { $sum: 1 } })], [])).toEqual([]);
    expect(mongoError(() => run([window({ $a: { $sum: 1 } })], xs(1))).code).toBe(16410);
  });
});

describe('$setWindowFields: partitions, order and output', () => {
  test('partitions in partition-key order, each sorted by sortBy; missing and null are one partition; 1 and 1.0 are one', () => {
    const docs = [{ p: 'b', x: I(2) }, { p: I(1), x: I(3) }, { x: I(5) }, { p: null, x: I(4) }, { p: F(1), x: I(1) }, { p: 'b', x: I(1) }];
    const out = run([window({ n: { $documentNumber: {} }, c: { $count: {} } }, { x: 1 }, { partitionBy: '$p' })], docs);
    expect(out.map((d) => [show(d.p), show(d.x), show(d.n), show(d.c)])).toEqual([
      [null, 'int:4', 'int:1', 'int:2'],
      ['missing', 'int:5', 'int:2', 'int:2'],
      ['double:1', 'int:1', 'int:1', 'int:2'],
      ['int:1', 'int:3', 'int:2', 'int:2'],
      ['b', 'int:1', 'int:1', 'int:2'],
      ['b', 'int:2', 'int:2', 'int:2'],
    ]);
  });

  test('a partition key that is an array is TypeMismatch', () => {
    expect(mongoError(() => run([window({ c: { $count: {} } }, null, { partitionBy: '$a' })], [{ a: [1] }]))).toEqual({
      code: 14,
      message: "Cannot 'partitionBy' an expression of type array",
    });
  });

  test('partitions compare strings by the collation', () => {
    const out = run([window({ c: { $count: {} } }, null, { partitionBy: '$s' })], [{ s: 'a' }, { s: 'A' }, { s: 'b' }], { collation: { locale: 'en', strength: 2 } });
    expect(out.map((d) => show(d.c))).toEqual(['int:2', 'int:2', 'int:1']);
  });

  test('no sortBy and no partitionBy keeps the input order; a constant partitionBy is one partition', () => {
    const docs = [{ x: I(3) }, { x: I(1) }, { x: I(2) }];
    expect(column([window({ p: { $push: '$x' } }, null)], docs, 'x')).toEqual(['int:3', 'int:1', 'int:2']);
    expect(column([window({ c: { $count: {} } }, null, { partitionBy: { $add: [1, 2] } })], docs, 'c')).toEqual(['int:3', 'int:3', 'int:3']);
  });

  test('outputs are set as $addFields sets them: dotted paths, existing fields in place, a missing value removes the field', () => {
    const docs = [{ _id: I(1), a: { b: I(1) }, f: I(9), x: I(1) }];
    const [out] = run([window({ 'a.c': { $sum: 1 }, f: { $first: '$nothing' }, g: { $max: '$x' } })], docs);
    expect(Object.keys(out!)).toEqual(['_id', 'a', 'x', 'g']);
    expect(show(out!.a)).toEqual({ b: 'int:1', c: 'int:1' });
  });

  test('values are the input objects themselves', () => {
    const big = L(2 ** 40);
    const dec = D('1.10');
    const [first, second] = run([window({ f: { $first: '$y' }, l: { $shift: { output: '$y', by: -1 } }, m: { $max: '$y', window: { documents: [-1, 0] } } })], xs(big, dec));
    expect(first!.f).toBe(big);
    expect(second!.l).toBe(big);
    expect(second!.m).toBe(big);
  });

  test('the key after a partition is read before the partition is output', () => {
    expect(mongoError(() => run([window({ c: { $count: {} } }, null, { partitionBy: '$p' }), { $limit: 1 }], [{ p: I(1) }, { p: [2] }])).code).toBe(14);
  });
});

describe('$setWindowFields: windows', () => {
  test('document windows clamp to the partition; empty windows give the function of nothing', () => {
    const docs = xs(I(1), I(2), I(3), I(4));
    expect(column([window({ s: { $push: '$y', window: { documents: [-1, 1] } } })], docs, 's')).toEqual([
      ['int:1', 'int:2'],
      ['int:1', 'int:2', 'int:3'],
      ['int:2', 'int:3', 'int:4'],
      ['int:3', 'int:4'],
    ]);
    expect(column([window({ s: { $sum: '$y', window: { documents: [2, 3] } } })], docs, 's')).toEqual(['int:7', 'int:4', 'int:0', 'int:0']);
    expect(column([window({ s: { $avg: '$y', window: { documents: ['unbounded', -2] } } })], docs, 's')).toEqual([null, null, 'double:1', 'double:1.5']);
    expect(column([window({ s: { $min: '$y', window: { documents: [-3, -2] } } })], docs, 's')).toEqual([null, null, 'int:1', 'int:1']);
  });

  test('range windows include every document whose sortBy value is within the bounds', () => {
    const docs = [0, 1, 1.5, 2, 3, 100, 100, 101].map((x, i) => ({ _id: I(i), x: F(x) }));
    const push = (lower: unknown, upper: unknown): unknown[] => column([window({ y: { $push: '$x', window: { range: [lower, upper] } } })], docs, 'y');
    expect(push(-1, 0)).toEqual([
      ['double:0'],
      ['double:0', 'double:1'],
      ['double:1', 'double:1.5'],
      ['double:1', 'double:1.5', 'double:2'],
      ['double:2', 'double:3'],
      ['double:100', 'double:100'],
      ['double:100', 'double:100'],
      ['double:100', 'double:100', 'double:101'],
    ]);
    expect(push(0, 0)[5]).toEqual(['double:100', 'double:100']);
    expect(push('current', 'current')[5]).toEqual(['double:100']);
    expect(push(D('0.5'), 'unbounded')[4]).toEqual(['double:100', 'double:100', 'double:101']);
    expect(push(-100, -5)[0]).toEqual([]);
  });

  test('time ranges add calendar units in UTC (a month later than Jan 31 is Feb 28)', () => {
    const docs = ['2021-01-31', '2021-02-28', '2021-03-30', '2021-03-31'].map((d, i) => ({ n: I(i), t: T(`${d}T00:00:00Z`) }));
    expect(column([window({ c: { $push: '$n', window: { range: [-1, 0], unit: 'month' } } }, { t: 1 })], docs, 'c')).toEqual([
      ['int:0'],
      ['int:0', 'int:1'],
      ['int:1', 'int:2'],
      ['int:1', 'int:2', 'int:3'],
    ]);
    expect(column([window({ c: { $count: {}, window: { range: [-36, 0], unit: 'hour' } } }, { t: 1 })], docs, 'c')).toEqual(['int:1', 'int:1', 'int:1', 'int:2']);
  });

  test('range windows and the sortBy value of the current document', () => {
    const range = window({ c: { $count: {}, window: { range: [-1, 0] } } });
    expect(mongoError(() => run([range], [{ x: 'a' }]))).toEqual({ code: 5429414, message: 'Invalid range: Expected the sortBy field to be a number, but it was string' });
    expect(mongoError(() => run([range], [{ x: T('2021-01-01') }]))).toEqual({
      code: 5429413,
      message: 'Invalid range: For windows that involve date or time ranges, a unit must be provided.',
    });
    const timed = window({ c: { $count: {}, window: { range: [-1, 0], unit: 'day' } } });
    expect(mongoError(() => run([timed], [{ x: I(1) }]))).toEqual({ code: 5429513, message: 'Invalid range: Expected the sortBy field to be a Date, but it was int' });
    expect(mongoError(() => run([window({ c: { $count: {}, window: { range: [-1, 0] } } }, { x: -1 })], [{ x: I(1) }]))).toEqual({
      code: 5429404,
      message: 'Missing _sortExpr with range-based bounds',
    });
    // A window shifted past the last document is empty.
    expect(column([window({ c: { $push: '$x', window: { range: [3, 'unbounded'] } } })], [{ x: I(2) }, { x: I(9) }], 'c')).toEqual([['int:9'], []]);
  });

  test('sliding windows give what recomputing each window gives (documents and ranges)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: -6, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        (values, lower, width, byRange) => {
          const docs = values.map((v, i) => ({ _id: I(i), x: I(v), y: I(v * 3 + i) }));
          const upper = lower + width;
          const bounds = byRange ? { range: [lower, upper] } : { documents: [lower, upper] };
          const out = run([window({ p: { $push: '$y', window: bounds }, s: { $sum: '$y', window: bounds }, m: { $max: '$y', window: bounds }, a: { $addToSet: '$y', window: bounds } })], docs);
          const sorted = [...docs].sort((a, b) => a.x.value - b.x.value);
          out.forEach((d, i) => {
            const inWindow = sorted.filter((e, k) => (byRange ? e.x.value >= sorted[i]!.x.value + lower && e.x.value <= sorted[i]!.x.value + upper : k >= i + lower && k <= i + upper));
            const ys = inWindow.map((e) => e.y.value);
            expect((d.p as Int32[]).map((v) => v.value)).toEqual(ys);
            expect(show(d.s)).toBe(`int:${ys.reduce((x, y) => x + y, 0)}`);
            expect(d.m === null ? null : (d.m as Int32).value).toBe(ys.length === 0 ? null : Math.max(...ys));
            expect((d.a as Int32[]).map((v) => v.value)).toEqual([...new Set(ys)].sort((x, y) => x - y));
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('$setWindowFields: numeric types', () => {
  test('a sliding $sum narrows as mongod does once the doubles or decimals leave the window', () => {
    const docs = xs(I(10), F(2.5), D('1.10'), I(7), I(8), L(2 ** 40));
    expect(column([window({ s: { $sum: '$y', window: { documents: [-1, 0] } } })], docs, 's')).toEqual([
      'int:10',
      'double:12.5',
      'decimal:3.60',
      'decimal:8.10',
      'int:15',
      'long:1099511627784',
    ]);
  });

  test('each document of a left-unbounded window has its own array', () => {
    expect(column([window({ p: { $push: '$y', window: { documents: ['unbounded', 'current'] } } })], xs(I(1), I(2)), 'p')).toEqual([['int:1'], ['int:1', 'int:2']]);
    expect(column([window({ p: { $addToSet: '$y', window: { range: ['unbounded', 0] } } })], xs(I(1), I(2)), 'p')).toEqual([['int:1'], ['int:1', 'int:2']]);
  });

  test('a cumulative $sum is the $group sum (Longs stay Longs, decimals exact)', () => {
    expect(column([window({ s: { $sum: '$y', window: { documents: ['unbounded', 'current'] } } })], xs(L(1), L(2), D('0.1')), 's')).toEqual(['long:1', 'long:3', 'decimal:3.1']);
  });

  test('a sliding $avg: doubles, a decimal quotient with a decimal, null for no number', () => {
    expect(column([window({ a: { $avg: '$y', window: { documents: [-1, 0] } } })], xs(I(1), I(2), D('3'), 'x', null), 'a')).toEqual([
      'double:1',
      'double:1.5',
      'decimal:2.5',
      'decimal:3',
      null,
    ]);
  });

  test('NaN and infinities in a sliding $sum', () => {
    expect(column([window({ s: { $sum: '$y', window: { documents: [-1, 0] } } })], xs(F(Infinity), F(-Infinity), I(1), D('NaN'), I(2)), 's')).toEqual([
      'double:Infinity',
      'double:NaN',
      'double:-Infinity',
      'decimal:NaN',
      'decimal:NaN',
    ]);
  });

  test('$stdDevPop / $stdDevSamp over a sliding window', () => {
    const docs = xs(I(1), I(3), I(5), F(Infinity), I(7));
    expect(column([window({ s: { $stdDevPop: '$y', window: { documents: [-1, 0] } } })], docs, 's')).toEqual(['int:0', 'double:1', 'double:1', null, null]);
    expect(column([window({ s: { $stdDevSamp: '$y', window: { documents: [-1, 0] } } })], docs.slice(0, 3), 's')).toEqual([null, 'double:1.4142135623730951', 'double:1.4142135623730951']);
  });

  test('$covariancePop / $covarianceSamp', () => {
    const docs = [{ x: I(1), y: I(2) }, { x: I(2), y: I(4) }, { x: I(3), y: I(6) }];
    expect(column([window({ c: { $covariancePop: ['$x', '$y'] } })], docs, 'c')).toEqual(['double:1.3333333333333333', 'double:1.3333333333333333', 'double:1.3333333333333333']);
    expect(column([window({ c: { $covarianceSamp: ['$x', '$y'], window: { documents: [-1, 0] } } })], docs, 'c')).toEqual([null, 'double:1', 'double:1']);
  });

  test('$expMovingAvg in decimal arithmetic: a double, or a decimal once a decimal is seen', () => {
    expect(column([window({ e: { $expMovingAvg: { input: '$y', N: 2 } } })], xs(I(10), I(20), 'x', I(30)), 'e')).toEqual([
      'double:10',
      'double:16.666666666666668',
      'double:16.666666666666668',
      'double:25.555555555555557',
    ]);
    // alpha is the decimal of the double 0.5 with 15 digits (BSONElement::numberDecimal).
    expect(column([window({ e: { $expMovingAvg: { input: '$y', alpha: 0.5 } } })], xs(D('1'), I(2)), 'e')).toEqual(['decimal:1', 'decimal:1.500000000000000']);
  });
});

describe('$setWindowFields: window functions', () => {
  test('$rank, $denseRank and $documentNumber (nullish values rank together)', () => {
    const docs = [{ x: null }, {}, { x: I(1) }, { x: F(1) }, { x: I(2) }];
    const out = run([window({ r: { $rank: {} }, d: { $denseRank: {} }, n: { $documentNumber: {} } })], docs);
    expect(out.map((o) => [show(o.r), show(o.d), show(o.n)])).toEqual([
      ['int:1', 'int:1', 'int:1'],
      ['int:1', 'int:1', 'int:2'],
      ['int:3', 'int:2', 'int:3'],
      ['int:3', 'int:2', 'int:4'],
      ['int:5', 'int:3', 'int:5'],
    ]);
  });

  test('$first, $last and $shift: null for an empty window, the default for $shift, missing stays missing', () => {
    const docs = [{ x: I(1), y: I(5) }, { x: I(2) }, { x: I(3), y: I(6) }];
    expect(column([window({ f: { $first: '$y', window: { documents: [-1, -1] } } })], docs, 'f')).toEqual([null, 'int:5', 'missing']);
    expect(column([window({ l: { $last: '$y' } })], docs, 'l')).toEqual(['int:6', 'int:6', 'int:6']);
    expect(column([window({ s: { $shift: { output: '$y', by: 1, default: 'end' } } })], docs, 's')).toEqual(['missing', 'int:6', 'end']);
    expect(column([window({ s: { $shift: { output: '$y', by: -1 } } })], docs, 's')).toEqual([null, 'int:5', 'missing']);
  });

  test('$locf and $linearFill', () => {
    const docs = [{ x: I(1) }, { x: I(2), y: I(10) }, { x: I(3), y: null }, { x: I(5) }, { x: I(6), y: I(40) }, { x: I(7) }];
    expect(column([window({ l: { $locf: '$y' } })], docs, 'l')).toEqual([null, 'int:10', 'int:10', 'int:10', 'int:40', 'int:40']);
    expect(column([window({ l: { $linearFill: '$y' } })], docs, 'l')).toEqual([null, 'int:10', 'double:17.5', 'double:32.5', 'int:40', null]);
    const dates = [{ t: T('2021-01-01T00:00:00Z'), y: I(0) }, { t: T('2021-01-01T00:00:01Z') }, { t: T('2021-01-01T00:00:04Z'), y: I(8) }];
    expect(column([window({ l: { $linearFill: '$y' } }, { t: 1 })], dates, 'l')).toEqual(['int:0', 'double:2', 'int:8']);
  });

  test('$linearFill refuses repeated and mixed sortBy values and values that are not numbers', () => {
    const lf = window({ l: { $linearFill: '$y' } });
    expect(mongoError(() => run([lf], [{ x: I(1) }, { x: F(1) }]))).toEqual({ code: 6050106, message: 'There can be no repeated values in the sort field' });
    expect(mongoError(() => run([lf], [{ x: I(1), y: 'a' }]))).toEqual({ code: 14, message: 'Value to be filled must be numeric or nullish, but found string' });
    expect(mongoError(() => run([lf], [{ x: 'a' }]))).toEqual({ code: 14, message: 'Value of the sortBy field must be numeric or a date, but found string' });
    expect(mongoError(() => run([lf], [{ x: I(1) }, { x: T('2021-01-01') }]))).toEqual({
      code: 14,
      message: 'Conflicting sort value types, previously received type int, but found date',
    });
  });

  test('$derivative and $integral, with and without a unit', () => {
    const docs = [{ x: I(0), y: I(0) }, { x: I(2), y: I(10) }, { x: I(4), y: I(30) }];
    expect(column([window({ d: { $derivative: { input: '$y' }, window: { documents: [-1, 0] } } })], docs, 'd')).toEqual([null, 'double:5', 'double:10']);
    expect(column([window({ i: { $integral: { input: '$y' }, window: { documents: ['unbounded', 'current'] } } })], docs, 'i')).toEqual(['int:0', 'double:10', 'double:50']);
    const timed = [{ t: T('2021-01-01T00:00:00Z'), y: I(0) }, { t: T('2021-01-01T00:30:00Z'), y: I(10) }];
    expect(column([window({ d: { $derivative: { input: '$y', unit: 'hour' }, window: { documents: [-1, 0] } } }, { t: 1 })], timed, 'd')).toEqual([null, 'double:20']);
    expect(column([window({ i: { $integral: { input: '$y', unit: 'hour' } } }, { t: 1 })], timed, 'i')).toEqual(['double:2.5', 'double:2.5']);
    expect(mongoError(() => run([window({ d: { $derivative: { input: '$y' }, window: { documents: [-1, 0] } } }, { t: 1 })], timed))).toEqual({
      code: 5624901,
      message: "$derivative where the sortBy is a Date requires an 'unit'",
    });
    expect(mongoError(() => run([window({ i: { $integral: { input: '$y' } } })], [{ x: I(1), y: 'a' }])).code).toBe(5423900);
    expect(mongoError(() => run([window({ d: { $derivative: { input: '$y' }, window: { documents: [-1, 0] } } })], [{ x: I(1) }, { x: I(2) }])).code).toBe(5624903);
  });

  test('$firstN, $lastN, $minN, $maxN, $topN and $bottom over sliding and whole windows', () => {
    const docs = xs(I(5), I(7), I(1), I(7));
    const slide = { documents: [-1, 1] };
    expect(column([window({ f: { $firstN: { input: '$y', n: 2 }, window: slide } })], docs, 'f')).toEqual([['int:5', 'int:7'], ['int:5', 'int:7'], ['int:7', 'int:1'], ['int:1', 'int:7']]);
    expect(column([window({ f: { $lastN: { input: '$y', n: 1 }, window: slide } })], docs, 'f')).toEqual([['int:7'], ['int:1'], ['int:7'], ['int:7']]);
    expect(column([window({ f: { $minN: { input: '$y', n: 2 }, window: slide } })], docs, 'f')).toEqual([['int:5', 'int:7'], ['int:1', 'int:5'], ['int:1', 'int:7'], ['int:1', 'int:7']]);
    expect(column([window({ f: { $maxN: { input: '$y', n: 2 } } })], docs, 'f')[0]).toEqual(['int:7', 'int:7']);
    expect(column([window({ t: { $topN: { n: 2, output: '$x', sortBy: { y: -1 } }, window: slide } })], docs, 't')).toEqual([['int:1', 'int:0'], ['int:1', 'int:0'], ['int:1', 'int:3'], ['int:3', 'int:2']]);
    expect(column([window({ b: { $bottom: { output: '$x', sortBy: { y: 1 } }, window: slide } })], docs, 'b')).toEqual(['int:1', 'int:1', 'int:3', 'int:3']);
    expect(column([window({ f: { $firstN: { input: '$z', n: 2 } } })], docs.slice(0, 1), 'f')).toEqual([[null]]);
  });

  test('$median and $percentile: exact over a sliding window', () => {
    const docs = xs(I(1), I(4), I(2), I(8));
    expect(column([window({ m: { $median: { input: '$y', method: 'approximate' }, window: { documents: [-1, 1] } } })], docs, 'm')).toEqual([
      'double:1',
      'double:2',
      'double:4',
      'double:2',
    ]);
    expect(column([window({ p: { $percentile: { input: '$y', p: [0, 1], method: 'approximate' }, window: { documents: [0, 0] } } })], docs.slice(0, 1), 'p')).toEqual([
      ['double:1', 'double:1'],
    ]);
  });
});

describe('$fill', () => {
  test('value, locf and linear, by partition', () => {
    const docs = [
      { g: 'a', x: I(1), v: I(10) },
      { g: 'a', x: I(2) },
      { g: 'a', x: I(3), v: I(30) },
      { g: 'b', x: I(1) },
      { g: 'b', x: I(2), v: I(5) },
    ];
    const out = run([{ $fill: { sortBy: { x: 1 }, partitionByFields: ['g'], output: { l: { method: 'linear' }, v: { method: 'locf' }, z: { value: 'none' } } } }], docs.map((d) => ({ ...d, l: d.v })));
    expect(out.map((d) => [d.g, show(d.x), show(d.v), show(d.l), d.z])).toEqual([
      ['a', 'int:1', 'int:10', 'int:10', 'none'],
      ['a', 'int:2', 'int:10', 'double:20', 'none'],
      ['a', 'int:3', 'int:30', 'int:30', 'none'],
      ['b', 'int:1', null, null, 'none'],
      ['b', 'int:2', 'int:5', 'int:5', 'none'],
    ]);
  });

  test('a value fill alone keeps the input order and the existing values', () => {
    const out = run([{ $fill: { output: { a: { value: { $literal: 0 } } } } }], [{ a: I(3) }, {}, { a: null }]);
    expect(out.map((d) => show(d.a))).toEqual(['int:3', 'int:0', 'int:0']);
  });

  const cases: Array<[string, unknown, number, string]> = [
    ['spec not an object', 1, 9, 'The $fill stage specification must be an object, found int'],
    ['no output', { sortBy: { a: 1 } }, 40414, "BSON field '$fill.output' is missing but a required field"],
    ['unknown field', { output: { a: { value: 1 } }, foo: 1 }, 40415, "BSON field '$fill.foo' is an unknown field."],
    ['sortBy type', { sortBy: 1, output: { a: { value: 1 } } }, 14, "BSON field '$fill.sortBy' is the wrong type 'int', expected type 'object'"],
    ['partitionByFields type', { partitionByFields: 'a', output: { a: { value: 1 } } }, 14, "BSON field '$fill.partitionByFields' is the wrong type 'string', expected type 'array'"],
    ['partitionByFields element', { partitionByFields: [1], output: { a: { value: 1 } } }, 14, "BSON field '$fill.partitionByFields.0' is the wrong type 'int', expected type 'string'"],
    ['partitionBy type', { partitionBy: 1, output: { a: { value: 1 } } }, 14, "BSON field '$fill.partitionBy' is the wrong type 'int', expected types '[object, string']"],
    ['empty output', { output: {} }, 6050203, "The output field in '$fill' must contain an object with at least one element"],
    ['output field not an object', { output: { a: 1 } }, 6050200, 'Each fill output specification must be an object with exactly one field'],
    ['unknown output option', { output: { a: { foo: 1 } } }, 40415, "BSON field '$fill.foo' is an unknown field."],
    ['method type', { output: { a: { method: 1 } } }, 14, "BSON field '$fill.method' is the wrong type 'int', expected type 'string'"],
    ['method and value', { output: { a: { method: 'locf', value: 1 } } }, 6050201, "Each fill output specification must have exactly one of 'method' or 'value' fields, not both"],
    ['unknown method', { output: { a: { method: 'mean' } } }, 6050202, 'Method must be either locf or linear'],
    ['both partitions', { partitionBy: '$a', partitionByFields: ['a'], output: { a: { value: 1 } } }, 6050204, "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'"],
    ['linear without sortBy', { output: { a: { method: 'linear' } } }, 605001, '$linearFill must be specified with a top level sortBy expression with exactly one element'],
  ];
  test.each(cases)('%s', (_name, spec, code, message) => {
    expect(mongoError(() => run([{ $fill: spec }], []))).toEqual({ code, message });
  });
});

describe('$setWindowFields: determinism of equal values', () => {
  test('a removable $min keeps the oldest of equal least values and $max the newest of equal greatest ones', () => {
    const out = run([window({ mn: { $min: '$y', window: { documents: [-1, 0] } }, mx: { $max: '$y', window: { documents: [-1, 0] } } })], xs(I(1), F(1)));
    expect(show(out[1]!.mn)).toBe('int:1');
    expect(show(out[1]!.mx)).toBe('double:1');
    expect(compareValues(out[1]!.mn, out[1]!.mx)).toBe(0);
  });
});
