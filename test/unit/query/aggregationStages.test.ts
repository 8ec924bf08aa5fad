// $redact, $bucketAuto (with its granularity rounders), $densify and the {$meta} sorts and
// expressions, evaluated by the aggregation runner on BSON values (issue 10).
import { Decimal128, Double, Int32, Long, Timestamp, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mongoError, unreadable } from '../../helpers/mongoErrors.js';
import { granularityRounder } from '../../../src/query/aggregation/granularity.js';
import { runPipeline, type PipelineContext } from '../../../src/query/aggregation/run.js';
import { numericType, type BsonNumber } from '../../../src/query/numeric.js';

const D = (s: string): Decimal128 => Decimal128.fromString(s);
const I = (n: number): Int32 => new Int32(n);
const L = (n: bigint | number): Long => (typeof n === 'bigint' ? Long.fromBigInt(n) : Long.fromNumber(n));
const F = (n: number): Double => new Double(n);

/** A value as `type:value` (decimals by their digits). */
function show(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (v instanceof Date) return `date:${v.toISOString()}`;
  const t = numericType(v);
  if (t === undefined) return JSON.stringify(v);
  if (t === 'double') return `double:${String(v instanceof Double ? v.value : v)}`;
  return `${t}:${(v as BsonNumber).toString()}`;
}

function run(stages: Document[], docs: Document[], context?: PipelineContext): Document[] {
  return runPipeline(stages, docs, context);
}



describe('$redact', () => {
  const byLevel = { $cond: { if: { $lte: ['$level', 1] }, then: '$$DESCEND', else: '$$PRUNE' } };

  test('descends into subdocuments and arrays of documents, pruning and keeping', () => {
    const kept = D('1.10');
    const doc = {
      _id: 1,
      level: I(1),
      price: kept,
      a: { level: I(1), b: I(2), hidden: { level: I(2), x: 1 } },
      c: { level: I(3) },
      arr: [{ level: I(1), x: I(1) }, { level: I(2) }, I(3), [{ level: I(5) }, { level: I(0) }]],
    };
    const [out] = run([{ $redact: byLevel }], [doc]);
    expect(out).toEqual({ _id: 1, level: I(1), price: kept, a: { level: I(1), b: I(2) }, arr: [{ level: I(1), x: I(1) }, I(3), [{ level: I(0) }]] });
    expect(out!.price).toBe(kept);
    expect(run([{ $redact: byLevel }], [{ level: I(2) }])).toEqual([]);
  });

  test('$$KEEP outputs the document itself; $$ROOT is the input document, field paths read the current one', () => {
    const doc = { _id: 1, keep: true, sub: { keep: false } };
    expect(run([{ $redact: '$$KEEP' }], [doc])[0]).toBe(doc);
    expect(run([{ $redact: 'keep' }], [doc])[0]).toBe(doc);
    const rootDecides = { $cond: [{ $eq: ['$$ROOT.keep', true] }, '$$DESCEND', '$$PRUNE'] };
    expect(run([{ $redact: rootDecides }], [doc])).toEqual([{ _id: 1, keep: true, sub: { keep: false } }]);
    const currentDecides = { $cond: [{ $eq: ['$keep', false] }, '$$PRUNE', '$$DESCEND'] };
    expect(run([{ $redact: currentDecides }], [doc])).toEqual([{ _id: 1, keep: true }]);
  });

  test('anything but the three values is 17053', () => {
    const prefix = "$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned ";
    expect(mongoError(() => run([{ $redact: '$x' }], [{ x: 'foo' }]))).toEqual({ code: 17053, message: `${prefix}"foo"` });
    expect(mongoError(() => run([{ $redact: '$x' }], [{}]))).toEqual({ code: 17053, message: `${prefix}MISSING` });
    expect(mongoError(() => run([{ $redact: '$x' }], [{ x: F(1.5) }]))).toEqual({ code: 17053, message: `${prefix}1.5` });
    // A subdocument's decision is checked too.
    const sub = { $cond: [{ $eq: ['$$CURRENT', '$$ROOT'] }, '$$DESCEND', 'nope'] };
    expect(mongoError(() => run([{ $redact: sub }], [{ a: { b: 1 } }])).message).toBe(`${prefix}"nope"`);
    expect(run([{ $redact: sub }], [{ a: 1 }])).toEqual([{ a: 1 }]);
  });

  test('parse errors come before any document is read', () => {
    expect(mongoError(() => runPipeline([{ $redact: { $bogus: 1 } }], unreadable())).code).toBe(168);
    expect(mongoError(() => runPipeline([{ $redact: '$$UNDEFINED_X' }], unreadable())).code).toBe(17276);
  });
});

describe('$bucketAuto', () => {
  const ten = Array.from({ length: 10 }, (_, i) => ({ _id: i, v: I(i + 1) }));

  test('buckets of about n / buckets documents; _id {min, max}: max is the next bucket\'s min, the last bucket\'s own max', () => {
    const out = run([{ $bucketAuto: { groupBy: '$v', buckets: I(3) } }], ten);
    expect(out.map((b) => [show(b._id.min), show(b._id.max), show(b.count)])).toEqual([
      ['int:1', 'int:4', 'int:3'],
      ['int:4', 'int:7', 'int:3'],
      ['int:7', 'int:10', 'int:4'],
    ]);
    expect(out[0]!._id.min).toBe(ten[0]!.v);
  });

  test('equal values stay in one bucket; missing and null keys are null and sort first', () => {
    const docs = [{ v: I(1) }, { v: I(1) }, { v: I(1) }, { v: I(2) }, {}, { v: null }];
    const out = run([{ $bucketAuto: { groupBy: '$v', buckets: I(3), output: { n: { $sum: I(1) }, vs: { $push: '$v' } } } }], docs);
    expect(out).toEqual([
      { _id: { min: null, max: I(1) }, n: I(2), vs: [null] },
      { _id: { min: I(1), max: I(2) }, n: I(3), vs: [I(1), I(1), I(1)] },
      { _id: { min: I(2), max: I(2) }, n: I(1), vs: [I(2)] },
    ]);
  });

  test('more buckets than documents: one document (and its equals) per bucket', () => {
    const out = run([{ $bucketAuto: { groupBy: '$v', buckets: I(10) } }], [{ v: I(3) }, { v: I(1) }, { v: I(2) }]);
    expect(out.map((b) => [show(b._id.min), show(b._id.max)])).toEqual([
      ['int:1', 'int:2'],
      ['int:2', 'int:3'],
      ['int:3', 'int:3'],
    ]);
  });

  test('keys sorted in the collation\'s order; accumulators see the documents in key order', () => {
    const docs = [{ s: 'b' }, { s: 'B' }, { s: 'a' }, { s: 'C' }];
    const out = run([{ $bucketAuto: { groupBy: '$s', buckets: I(2), output: { all: { $push: '$s' } } } }], docs, { collation: { locale: 'en', strength: 2 } });
    expect(out).toEqual([
      { _id: { min: 'a', max: 'C' }, all: ['a', 'b', 'B'] },
      { _id: { min: 'C', max: 'C' }, all: ['C'] },
    ]);
  });

  test('granularity R5 rounds boundaries in doubles, as mongod does', () => {
    const out = run([{ $bucketAuto: { groupBy: '$v', buckets: I(3), granularity: 'R5' } }], ten);
    expect(out.map((b) => [show(b._id.min), show(b._id.max), show(b.count)])).toEqual([
      ['double:0.63', 'double:4', 'int:3'],
      ['double:4', 'double:6.300000000000001', 'int:3'],
      ['double:6.300000000000001', 'double:16', 'int:4'],
    ]);
    expect(show(granularityRounder('R5').roundUp(F(1.3)))).toBe('double:1.6');
    expect(show(granularityRounder('R10').roundUp(F(0.13)))).toBe('double:0.16');
    // Between a decade's last value and the next one's first: to the next decade's first (0.8 in E6).
    expect(show(granularityRounder('E6').roundUp(F(0.8)))).toBe('double:1');
    expect(show(granularityRounder('E6').roundDown(F(0.8)))).toBe('double:0.68');
    expect(show(granularityRounder('1-2-5').roundUp(I(20)))).toBe('double:50');
    expect(show(granularityRounder('1-2-5').roundDown(I(20)))).toBe('double:10');
  });

  test('a decimal is rounded in Decimal128 from the series\' 15-digit values', () => {
    const e6 = granularityRounder('E6');
    expect(show(e6.roundUp(D('1.3')))).toBe('decimal:1.50000000000000');
    expect(show(e6.roundDown(D('1.3')))).toBe('decimal:1.00000000000000');
    expect(show(e6.roundUp(D('0.8')))).toBe('decimal:1.00000000000000');
    const out = run([{ $bucketAuto: { groupBy: '$v', buckets: I(2), granularity: 'E6', output: { s: { $sum: '$v' } } } }], [{ v: D('1.3') }, { v: D('0.8') }, { v: D('7') }]);
    expect(out.map((b) => [show(b._id.min), show(b._id.max), show(b.s)])).toEqual([
      ['decimal:0.680000000000000', 'decimal:1.50000000000000', 'decimal:2.1'],
      ['decimal:1.50000000000000', 'decimal:10.0000000000000', 'decimal:7'],
    ]);
  });

  test('POWERSOF2 keeps $pow\'s types: an int for whole powers, a double below 1, a long past int32', () => {
    const p = granularityRounder('POWERSOF2');
    expect(show(p.roundUp(F(5)))).toBe('int:8');
    expect(show(p.roundUp(I(4)))).toBe('int:8');
    expect(show(p.roundDown(I(4)))).toBe('int:2');
    expect(show(p.roundDown(L(5)))).toBe('int:4');
    expect(show(p.roundUp(F(0.3)))).toBe('double:0.5');
    expect(show(p.roundUp(L(3000000000)))).toBe('long:4294967296');
    expect(show(p.roundUp(L(2n ** 62n)))).toBe('double:9223372036854776000');
    const zero = L(0);
    expect(p.roundUp(zero)).toBe(zero);
    expect(mongoError(() => p.roundUp(D('3'))).code).toBe(115);
  });

  test('a boundary that rounds to 0 becomes the next key rounded down', () => {
    const docs = [{ v: I(0) }, { v: I(0) }, { v: I(5) }, { v: I(10) }];
    const out = run([{ $bucketAuto: { groupBy: '$v', buckets: I(3), granularity: 'POWERSOF2' } }], docs);
    expect(out.map((b) => [show(b._id.min), show(b._id.max), show(b.count)])).toEqual([
      ['int:0', 'int:4', 'int:2'],
      ['int:4', 'int:8', 'int:1'],
      ['int:8', 'int:16', 'int:1'],
    ]);
  });

  test('the rounders\' own errors', () => {
    expect(mongoError(() => granularityRounder('R5').roundUp('x'))).toEqual({ code: 40262, message: 'A granularity rounder can only round numeric values, but found type: string' });
    expect(mongoError(() => granularityRounder('R5').roundUp(F(NaN)))).toEqual({ code: 40263, message: 'A granularity rounder cannot round NaN' });
    expect(mongoError(() => granularityRounder('R5').roundDown(F(-1)))).toEqual({ code: 40268, message: 'A granularity rounder can only round non-negative numbers' });
    expect(mongoError(() => granularityRounder('POWERSOF2').roundUp(null)).code).toBe(40265);
    expect(mongoError(() => granularityRounder('POWERSOF2').roundUp(D('NaN'))).code).toBe(40266);
    expect(mongoError(() => granularityRounder('POWERSOF2').roundUp(L(-1))).code).toBe(40267);
    // mongod 7.0 loops forever rounding infinity up to a preferred number.
    expect(mongoError(() => granularityRounder('E12').roundUp(F(Infinity))).code).toBe(115);
  });

  test('run-time errors with a granularity', () => {
    const spec = { groupBy: '$v', buckets: I(2), granularity: 'R20' };
    expect(mongoError(() => run([{ $bucketAuto: spec }], [{ v: I(1) }, { v: 'x' }]))).toEqual({
      code: 40258,
      message: "$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a value with type: string",
    });
    expect(mongoError(() => run([{ $bucketAuto: spec }], [{}])).message).toBe(
      "$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a value with type: missing",
    );
    expect(mongoError(() => run([{ $bucketAuto: spec }], [{ v: D('NaN') }]))).toEqual({
      code: 40259,
      message: "$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a NaN",
    });
    expect(mongoError(() => run([{ $bucketAuto: spec }], [{ v: L(-3) }]))).toEqual({
      code: 40260,
      message: "$bucketAuto can specify a 'granularity' with non-negative numbers only, but found a negative number",
    });
  });

  test('parse errors in field order, before any document is read', () => {
    const err = (spec: unknown): { code: number; message: string } => mongoError(() => runPipeline([{ $bucketAuto: spec }], unreadable()));
    expect(err([])).toEqual({ code: 40240, message: 'The argument to $bucketAuto must be an object, but found type: array' });
    expect(err({ groupBy: 'v', buckets: I(1) })).toEqual({
      code: 40239,
      message: "The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an expression object, but found: \"v\"",
    });
    expect(err({ groupBy: '$', buckets: I(1) }).code).toBe(40239);
    expect(err({ groupBy: { a: '$v' }, buckets: I(1) }).code).toBe(40239);
    expect(err({ groupBy: '$v', buckets: 'x' })).toEqual({ code: 40241, message: "The $bucketAuto 'buckets' field must be a numeric value, but found type: string" });
    expect(err({ groupBy: '$v', buckets: L(3000000000) })).toEqual({
      code: 40242,
      message: "The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but found 3e+09",
    });
    expect(err({ groupBy: '$v', buckets: F(2.5) }).message).toBe("The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but found 2.5");
    expect(err({ groupBy: '$v', buckets: I(1), output: 1 })).toEqual({ code: 40244, message: "The $bucketAuto 'output' field must be an object, but found type: int" });
    expect(err({ groupBy: '$v', buckets: I(1), output: { n: { $firstN: { n: '$k', input: '$v' } } } })).toEqual({
      code: 4544714,
      message: "Can't refer to the group key in $bucketAuto",
    });
    expect(err({ groupBy: '$v', buckets: I(1), granularity: I(5) })).toEqual({ code: 40261, message: "The $bucketAuto 'granularity' field must be a string, but found type: int" });
    expect(err({ groupBy: '$v', buckets: I(1), granularity: 'R7' })).toEqual({ code: 40257, message: "Unknown rounding granularity 'R7'" });
    expect(err({ groupBy: '$v', buckets: I(1), extra: 1 })).toEqual({ code: 40245, message: 'Unrecognized option to $bucketAuto: extra' });
    // 40246 is checked once every field is read, 40243 after it.
    expect(err({ buckets: I(0) })).toEqual({ code: 40246, message: "$bucketAuto requires 'groupBy' and 'buckets' to be specified" });
    expect(err({ buckets: I(0), groupBy: '$v' })).toEqual({ code: 40243, message: "The $bucketAuto 'buckets' field must be greater than 0, but found: 0" });
    expect(err({ groupBy: { $bogus: 1 }, buckets: 'x' }).code).toBe(168);
  });

  test('property: buckets cover the sorted documents in order, equal keys together, at most `buckets` of them', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (values, buckets) => {
        const docs = values.map((v, i) => ({ _id: i, v: I(v) }));
        const out = run([{ $bucketAuto: { groupBy: '$v', buckets: I(buckets), output: { vs: { $push: '$v' } } } }], docs);
        expect(out.length).toBeLessThanOrEqual(buckets);
        const flat = out.flatMap((b) => (b.vs as Int32[]).map((x) => x.value));
        expect(flat).toEqual([...values].sort((a, b) => a - b));
        for (let i = 0; i < out.length; i++) {
          const vs = (out[i]!.vs as Int32[]).map((x) => x.value);
          expect(out[i]!._id.min.value).toBe(vs[0]);
          if (i + 1 < out.length) {
            expect(out[i]!._id.max.value).toBe((out[i + 1]!.vs as Int32[])[0]!.value);
            expect(vs[vs.length - 1]).toBeLessThan(out[i]!._id.max.value as number);
          } else {
            expect(out[i]!._id.max.value).toBe(vs[vs.length - 1]);
          }
        }
      }),
    );
  });
});

describe('$densify', () => {
  const values = (docs: Document[], field = 'v'): string[] => docs.map((d) => show(d[field]));

  test('"full": every step from the smallest value to the largest, documents sorted by the field', () => {
    const out = run([{ $densify: { field: 'v', range: { step: I(1), bounds: 'full' } } }], [{ v: I(1) }, { v: I(4) }, { v: I(2) }, { x: 1 }]);
    expect(out).toEqual([{ x: 1 }, { v: I(1) }, { v: I(2) }, { v: I(3) }, { v: I(4) }]);
  });

  test('numbers step with $add\'s types: an int overflows to a long, a double step makes doubles, decimals keep digits', () => {
    const full = (step: unknown, docs: Document[]): Document[] => run([{ $densify: { field: 'v', range: { step, bounds: 'full' } } }], docs);
    expect(values(full(I(1), [{ v: I(2147483646) }, { v: L(2147483649) }]))).toEqual(['int:2147483646', 'int:2147483647', 'long:2147483648', 'long:2147483649']);
    expect(values(full(F(0.5), [{ v: I(1) }, { v: I(2) }]))).toEqual(['int:1', 'double:1.5', 'int:2']);
    expect(values(full(D('0.10'), [{ v: D('1.0') }, { v: D('1.3') }]))).toEqual(['decimal:1.0', 'decimal:1.10', 'decimal:1.20', 'decimal:1.3']);
  });

  test('explicit bounds: generated from the lower bound, below the upper one; documents outside pass through', () => {
    const spec = { field: 'v', range: { step: I(2), bounds: [I(0), I(7)] } };
    expect(values(run([{ $densify: spec }], [{ v: I(3) }, { v: I(-1) }, { v: I(9) }]))).toEqual(['int:-1', 'int:0', 'int:2', 'int:3', 'int:4', 'int:6', 'int:9']);
    expect(values(run([{ $densify: spec }], []))).toEqual(['int:0', 'int:2', 'int:4', 'int:6']);
  });

  test('"partition": each partition from its own first value, with its partition fields', () => {
    const docs = [{ p: 'b', v: I(8) }, { p: 'a', v: I(1) }, { p: 'b', v: I(5) }, { p: 'a', v: I(3) }];
    const out = run([{ $densify: { field: 'v', partitionByFields: ['p'], range: { step: I(1), bounds: 'partition' } } }], docs);
    expect(out.map((d) => `${String(d.p)}${show(d.v)}`)).toEqual(['aint:1', 'aint:2', 'aint:3', 'bint:5', 'bint:6', 'bint:7', 'bint:8']);
  });

  test('"full" with partitions: every partition over the whole range, finished after the input', () => {
    const docs = [{ p: { k: 'a' }, v: I(1) }, { p: { k: 'a' }, v: I(3) }, { p: { k: 'b' }, v: I(5) }, { p: { k: 'b' }, v: I(6) }];
    const out = run([{ $densify: { field: 'v', partitionByFields: ['p.k'], range: { step: I(1), bounds: 'full' } } }], docs);
    expect(out.map((d) => `${String(d.p.k)}${(d.v as Int32).value}`)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'a4', 'a5', 'a6']);
    expect(out[1]).toEqual({ p: { k: 'a' }, v: I(2) });
  });

  test('explicit bounds with partitions', () => {
    const docs = [{ p: 'a', v: I(1) }, { p: 'b', v: I(4) }];
    const out = run([{ $densify: { field: 'v', partitionByFields: ['p'], range: { step: I(2), bounds: [I(0), I(6)] } } }], docs);
    expect(out.map((d) => `${String(d.p)}${(d.v as Int32).value}`)).toEqual(['a0', 'a1', 'b0', 'b2', 'b4', 'a2', 'a4']);
  });

  test('dates step with units in UTC; a month from the 31st lands on the month\'s last day', () => {
    const out = run(
      [{ $densify: { field: 'd', range: { step: I(1), unit: 'month', bounds: 'full' } } }],
      [{ d: new Date('2021-01-31T10:00:00Z') }, { d: new Date('2021-05-01T00:00:00Z') }],
    );
    expect(values(out, 'd')).toEqual([
      'date:2021-01-31T10:00:00.000Z',
      'date:2021-02-28T10:00:00.000Z',
      'date:2021-03-28T10:00:00.000Z',
      'date:2021-04-28T10:00:00.000Z',
      'date:2021-05-01T00:00:00.000Z',
    ]);
    const hours = run(
      [{ $densify: { field: 'd', range: { step: L(6), unit: 'hour', bounds: [new Date('2020-01-01T00:00:00Z'), new Date('2020-01-02T00:00:00Z')] } } }],
      [],
    );
    expect(values(hours, 'd')).toEqual(['date:2020-01-01T00:00:00.000Z', 'date:2020-01-01T06:00:00.000Z', 'date:2020-01-01T12:00:00.000Z', 'date:2020-01-01T18:00:00.000Z']);
  });

  test('run-time errors', () => {
    const full = { $densify: { field: 'v', range: { step: I(1), bounds: 'full' } } };
    expect(mongoError(() => run([full], [{ v: 'x' }]))).toEqual({ code: 5733201, message: 'Densify field type must be numeric or a date' });
    expect(mongoError(() => run([full], [{ v: new Date(0) }]))).toEqual({
      code: 6053600,
      message: 'Encountered date densify value in collection when step does not have a date unit.',
    });
    const byDay = { $densify: { field: 'v', range: { step: I(1), unit: 'day', bounds: 'full' } } };
    expect(mongoError(() => run([byDay], [{ v: I(1) }])).message).toBe('Encountered numeric densify value in collection when step has a date unit.');
    // A value under a path that is not a document is missing: the document passes through.
    const nested = { $densify: { field: 'p.v', range: { step: I(1), bounds: [I(0), I(2)] } } };
    expect(run([nested], [{ p: I(1) }])).toEqual([{ p: I(1) }, { p: { v: I(0) } }, { p: { v: I(1) } }]);
    const overwrite = { $densify: { field: 'p.v', partitionByFields: ['p'], range: { step: I(1), bounds: [I(0), I(2)] } } };
    expect(mongoError(() => run([overwrite], [{ p: { v: I(1) } }]))).toEqual({ code: 5733306, message: 'DocGenerator cannot include field that is being densified' });
  });

  test('more than 500000 generated documents is 5897900', () => {
    const e = mongoError(() => run([{ $densify: { field: 'v', range: { step: I(1), bounds: [I(0), I(600000)] } } }], []));
    expect(e).toEqual({
      code: 5897900,
      message:
        "Generated 500001 documents in $densify, which is over the limit of 500000. Increase the 'internalQueryMaxAllowedDensifyDocs' parameter to allow more generated documents",
    });
  });

  test('parse errors (the IDL\'s, then the range\'s), before any document is read', () => {
    const err = (spec: unknown): { code: number; message: string } => mongoError(() => runPipeline([{ $densify: spec }], unreadable()));
    const range = (r: Document): Document => ({ field: 'v', range: r });
    expect(err(5)).toEqual({ code: 9, message: 'The $densify stage specification must be an object, found int' });
    expect(err({ field: 'v', extra: 1, range: {} })).toEqual({ code: 40415, message: "BSON field '$densify.extra' is an unknown field." });
    expect(err({ range: { step: I(1), bounds: 'full' } })).toEqual({ code: 40414, message: "BSON field '$densify.field' is missing but a required field" });
    expect(err({ field: 'v', range: null })).toEqual({ code: 40414, message: "BSON field '$densify.range' is missing but a required field" });
    expect(err({ field: I(1), range: {} })).toEqual({ code: 14, message: "BSON field '$densify.field' is the wrong type 'int', expected type 'string'" });
    expect(err({ field: 'v', partitionByFields: ['a', I(2)], range: {} })).toEqual({
      code: 14,
      message: "BSON field '$densify.partitionByFields.1' is the wrong type 'int', expected type 'string'",
    });
    expect(err(range({ step: 'x', bounds: 'full' })).message).toBe("BSON field '$densify.range.step' is the wrong type 'string', expected types '[long, double, int, decimal']");
    expect(err(range({ bounds: 'full' }))).toEqual({ code: 40414, message: "BSON field '$densify.range.step' is missing but a required field" });
    expect(err(range({ step: I(1) })).message).toBe("BSON field '$densify.range.bounds' is missing but a required field");
    expect(err(range({ step: I(1), unit: I(1), bounds: 'full' })).message).toBe("BSON field '$densify.range.unit' is the wrong type 'int', expected type 'string'");
    expect(err(range({ step: I(1), bounds: 'full', x: 1 })).message).toBe("BSON field '$densify.range.x' is an unknown field.");
    expect(err(range({ step: I(0), bounds: 'full' }))).toEqual({ code: 5733401, message: 'The step parameter in a range statement must be a strictly positive numeric value' });
    expect(err(range({ step: F(NaN), bounds: 'full' })).code).toBe(5733401);
    expect(err(range({ step: F(1.5), unit: 'day', bounds: 'full' }))).toEqual({
      code: 6586400,
      message: 'The step parameter in a range statement must be a whole number when densifying a date range',
    });
    expect(err(range({ step: I(1), unit: 'days', bounds: 'full' }))).toEqual({ code: 9, message: 'unknown time unit value: days' });
    expect(err(range({ step: I(1), bounds: [I(1)] }))).toEqual({ code: 5733403, message: 'A bounding array in a range statement must have exactly two elements' });
    expect(err(range({ step: I(1), bounds: [I(2), I(1)] }))).toEqual({ code: 5733402, message: 'A bounding array must be an ascending array of either two dates or two numbers' });
    expect(err(range({ step: I(1), unit: 'day', bounds: [I(1), I(2)] }))).toEqual({ code: 5733409, message: 'Numeric bounds may not have unit parameter' });
    expect(err(range({ step: I(1), bounds: [I(1), new Date(0)] }))).toEqual({ code: 5733406, message: 'A bounding array must contain either both dates or both numeric types' });
    expect(err(range({ step: I(1), bounds: [I(1), F(2)] }))).toEqual({ code: 5876900, message: 'Upper bound, lower bound, and step must all have the same type' });
    expect(err(range({ step: L(1), bounds: [I(1), I(2)] })).code).toBe(5876900);
    expect(err(range({ step: I(1), unit: 'day', bounds: [new Date(0), new Timestamp({ t: 1, i: 1 })] })).code).toBe(5733405);
    expect(err(range({ step: I(1), bounds: [new Date(0), new Date(1)] }))).toEqual({ code: 5733410, message: 'A bounding array of dates must specify a unit' });
    expect(err(range({ step: I(1), bounds: ['a', 'b'] }))).toEqual({ code: 5946800, message: 'Explicit bounds must be numeric or dates' });
    expect(err(range({ step: I(1), bounds: 'all' }))).toEqual({ code: 5946802, message: "Bounds string must either be 'full' or 'partition'" });
    expect(err(range({ step: I(1), bounds: null })).code).toBe(5733404);
    expect(err({ field: '', range: { step: I(1), bounds: 'full' } }).code).toBe(40352);
    expect(err({ field: 'v', partitionByFields: ['$p'], range: { step: I(1), bounds: 'full' } }).code).toBe(16410);
    expect(err(range({ step: I(1), bounds: 'partition' }))).toEqual({
      code: 5733408,
      message: "One cannot specify the bounds as 'partition' without specifying a non-empty array of partitionByFields. You may have meant to specify 'full' bounds.",
    });
  });

  test('property: "full" over ints outputs every value between the smallest and largest once, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 4 }), (input, step) => {
        const out = run([{ $densify: { field: 'v', range: { step: I(step), bounds: 'full' } } }], input.map((v) => ({ v: I(v) })));
        const got = out.map((d) => (d.v as Int32).value);
        const min = Math.min(...input);
        const max = Math.max(...input);
        const expected = [...input];
        for (let v = min; v < max; v += step) if (!input.includes(v)) expected.push(v);
        expect(got).toEqual(expected.sort((a, b) => a - b));
      }),
    );
  });
});

describe('{$meta} sorts and expressions', () => {
  const docs = [{ _id: 1 }, { _id: 2 }, { _id: 3 }];

  test('$sort key errors: 17312, FailedToParse, 31138, 31218, 31219', () => {
    const err = (key: unknown): { code: number; message: string } => mongoError(() => runPipeline([{ $sort: { s: key } }], unreadable()));
    expect(err({ $x: 'randVal' })).toEqual({ code: 17312, message: '$meta is the only expression supported by $sort right now' });
    expect(err({})).toEqual({ code: 17312, message: '$meta is the only expression supported by $sort right now' });
    expect(err({ $meta: 'randVal', a: 1 })).toEqual({ code: 9, message: 'Cannot have additional keys in a $meta sort specification' });
    expect(err({ $meta: 'unknown' })).toEqual({ code: 31138, message: 'Illegal $meta sort: $meta: "unknown"' });
    expect(err({ $meta: F(0.1) })).toEqual({ code: 31138, message: 'Illegal $meta sort: $meta: 0.1' });
    expect(err({ $meta: 'indexKey' }).code).toBe(31138);
    expect(err({ $meta: 'searchScore' })).toEqual({ code: 31218, message: "$meta sort by 'searchScore' metadata is not supported" });
    expect(err({ $meta: 'searchHighlights' })).toEqual({ code: 31219, message: "$meta sort by 'searchHighlights' metadata is not supported" });
  });

  test('text score and $geoNear distance are not available (40218), after the whole pattern is parsed', () => {
    const err = (sort: Document): { code: number; message: string } => mongoError(() => runPipeline([{ $sort: sort }], unreadable()));
    expect(err({ s: { $meta: 'textScore' } })).toEqual({ code: 40218, message: 'query requires text score metadata, but it is not available' });
    expect(err({ s: { $meta: 'geoNearDistance' } })).toEqual({ code: 40218, message: 'query requires $geoNear distance metadata, but it is not available' });
    expect(err({ s: { $meta: 'textScore' }, b: 'x' }).code).toBe(15974);
  });

  test('randVal: documents without one sort as null (input order kept); after $sample, by its values', () => {
    expect(run([{ $sort: { r: { $meta: 'randVal' } } }], docs)).toEqual(docs);
    expect(run([{ $sort: { a: I(-1), r: { $meta: 'randVal' } } }], [{ a: I(1) }, { a: I(2) }])).toEqual([{ a: I(2) }, { a: I(1) }]);
    const many = Array.from({ length: 20 }, (_, i) => ({ _id: i }));
    const sampled = run([{ $sample: { size: I(10) } }, { $addFields: { r: { $meta: 'randVal' } } }], many);
    const rs = sampled.map((d) => d.r as Double);
    expect(rs.every((r) => r instanceof Double && r.value >= 0 && r.value < 1)).toBe(true);
    // $sample outputs the largest values first; a randVal sort keeps that order.
    expect(rs.map((r) => r.value)).toEqual([...rs.map((r) => r.value)].sort((a, b) => b - a));
    const resorted = run([{ $sample: { size: I(10) } }, { $sort: { _id: I(1) } }, { $sort: { r: { $meta: 'randVal' } } }, { $project: { r: { $meta: 'randVal' } } }], many);
    const values = resorted.map((d) => (d.r as Double).value);
    expect(values).toEqual([...values].sort((a, b) => b - a));
  });

  test('$sample outputs copies holding the very field values', () => {
    const d = D('1.10');
    const [out] = run([{ $sample: { size: I(1) } }], [{ _id: 1, d }]);
    expect(out!.d).toBe(d);
    expect(run([{ $project: { r: { $meta: 'randVal' } } }], docs)).toEqual(docs);
  });

  test('the $meta expression', () => {
    expect(run([{ $project: { _id: 0, s: { $meta: 'searchScore' }, h: { $meta: 'searchHighlights' }, k: { $meta: 'indexKey' }, a: { $literal: I(1) } } }], docs)).toEqual([{ a: I(1) }, { a: I(1) }, { a: I(1) }]);
    expect(mongoError(() => runPipeline([{ $project: { s: { $meta: I(1) } } }], unreadable()))).toEqual({
      code: 17307,
      message: 'Invalid $project :: caused by :: $meta only supports string arguments',
    });
    expect(mongoError(() => runPipeline([{ $addFields: { s: { $meta: 'bogus' } } }], unreadable())).code).toBe(17308);
    expect(mongoError(() => runPipeline([{ $group: { _id: { $meta: 'textScore' } } }], unreadable()))).toEqual({
      code: 40218,
      message: 'query requires text score metadata, but it is not available',
    });
    expect(mongoError(() => runPipeline([{ $match: { $expr: { $eq: [{ $meta: 'geoNearPoint' }, 1] } } }], unreadable())).message).toBe(
      'query requires $geoNear point metadata, but it is not available',
    );
    // recordId and sortKey are refused when a document needs them.
    expect(run([{ $addFields: { r: { $meta: 'recordId' } } }], [])).toEqual([]);
    expect(mongoError(() => run([{ $addFields: { r: { $meta: 'recordId' } } }], docs)).code).toBe(115);
    expect(mongoError(() => run([{ $sort: { _id: I(1) } }, { $addFields: { k: { $meta: 'sortKey' } } }], docs)).code).toBe(115);
  });

  test('$redact keeps a descended document\'s metadata', () => {
    const out = run([{ $sample: { size: I(2) } }, { $redact: '$$DESCEND' }, { $project: { r: { $meta: 'randVal' } } }], docs);
    expect(out.every((d) => d.r instanceof Double)).toBe(true);
  });
});
