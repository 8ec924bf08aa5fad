import { Decimal128, Double, Int32, Long, ObjectId, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mongoError, unreadable } from '../../helpers/mongoErrors.js';
import { compareValues } from '../../../src/bson/bsonOrder.js';
import { MongoError } from '../../../src/errors.js';
import { compileFilter } from '../../../src/query/match/compile.js';
import { valuesAtPath } from '../../../src/query/aggregation/values.js';
import { numericType, SumAccumulator, type BsonNumber } from '../../../src/query/numeric.js';
import { evaluateLetVariables, runPipeline, type PipelineContext } from '../../../src/query/aggregation/run.js';

const D = (s: string): Decimal128 => Decimal128.fromString(s);
const I = (n: number): Int32 => new Int32(n);
const L = (n: bigint | number): Long => (typeof n === 'bigint' ? Long.fromBigInt(n) : Long.fromNumber(n));
const F = (n: number): Double => new Double(n);

/** A value as `type:value` (decimals by their digits, doubles with the sign of zero). */
function show(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  const t = numericType(v);
  if (t === undefined) return JSON.stringify(v);
  if (t === 'double') {
    const x = v instanceof Double ? v.value : (v as number);
    return `double:${Object.is(x, -0) ? '-0' : String(x)}`;
  }
  return `${t}:${(v as BsonNumber).toString()}`;
}

function run(stages: Document[], docs: Document[], context?: PipelineContext): Document[] {
  return runPipeline(stages, docs, context);
}



describe('the bugs of the mingo runner', () => {
  test('$group/$first keep Long 5 and Double 2.0 (the very objects)', () => {
    const five = L(5);
    const two = F(2);
    const [out] = run([{ $group: { _id: null, a: { $first: '$a' }, b: { $first: '$b' } } }], [{ _id: 1, a: five, b: two }]);
    expect(out!.a).toBe(five);
    expect(out!.b).toBe(two);
    expect(out!.a).toBeInstanceOf(Long);
    expect(out!.b).toBeInstanceOf(Double);
  });

  test('$sum of doubles is a double, of longs a long, of ints an int', () => {
    const docs = [
      { _id: 1, d: F(1), l: L(2), i: I(3) },
      { _id: 2, d: F(2), l: L(3), i: I(4) },
    ];
    const [out] = run([{ $group: { _id: null, d: { $sum: '$d' }, l: { $sum: '$l' }, i: { $sum: '$i' } } }], docs);
    expect(out!.d).toBeInstanceOf(Double);
    expect(show(out!.d)).toBe('double:3');
    expect(out!.l).toBeInstanceOf(Long);
    expect(show(out!.l)).toBe('long:5');
    expect(out!.i).toBeInstanceOf(Int32);
    expect(show(out!.i)).toBe('int:7');
  });

  test('Decimal128 "1.10" + "2.20" sums to "3.30"', () => {
    const [out] = run([{ $group: { _id: null, s: { $sum: '$v' } } }], [{ v: D('1.10') }, { v: D('2.20') }]);
    expect(out!.s).toBeInstanceOf(Decimal128);
    expect((out!.s as Decimal128).toString()).toBe('3.30');
  });

  test('$project and $addFields keep a decimal\'s digits (the stored object)', () => {
    const d = D('1.10');
    const [p] = run([{ $project: { v: 1 } }], [{ _id: 1, v: d }]);
    expect(p!.v).toBe(d);
    const [a] = run([{ $addFields: { w: '$v' } }], [{ _id: 1, v: d }]);
    expect(a!.v).toBe(d);
    expect(a!.w).toBe(d);
    expect((a!.w as Decimal128).toString()).toBe('1.10');
  });

  test('$group keeps Decimal "1.10" and Double 1.1 apart, and merges 1, 1L, 1.0 and "1.00"', () => {
    const out = run([{ $group: { _id: '$v', n: { $sum: 1 } } }], [{ v: D('1.10') }, { v: F(1.1) }, { v: I(1) }, { v: L(1) }, { v: F(1) }, { v: D('1.00') }]);
    expect(out.map((d) => [show(d._id), show(d.n)])).toEqual([
      ['decimal:1.10', 'int:1'],
      ['double:1.1', 'int:1'],
      ['int:1', 'int:4'],
    ]);
  });
});

describe('$match', () => {
  test('passes the documents themselves, with the collation and let variables', () => {
    const docs = [{ _id: 1, s: 'abc' }, { _id: 2, s: 'ABC' }, { _id: 3, s: 'x' }];
    const out = run([{ $match: { s: 'abc' } }], docs, { collation: { locale: 'en', strength: 2 } });
    expect(out).toEqual([docs[0], docs[1]]);
    expect(out[0]).toBe(docs[0]);
    const byLet = run([{ $match: { $expr: { $eq: ['$s', '$$want'] } } }], docs, { variables: { want: 'x' } });
    expect(byLet).toEqual([docs[2]]);
  });

  test('$expr with operators the matcher lacks is evaluated exactly (the expression module), at any depth of $and/$or', () => {
    const docs = [{ a: D('0.1'), b: D('0.2') }, { a: F(0.1), b: F(0.2) }, { a: I(1), b: I(2) }];
    // Decimal 0.1 + 0.2 is exactly 0.3; the doubles' sum is 0.30000000000000004.
    const out = run([{ $match: { $or: [{ $expr: { $eq: [{ $add: ['$a', '$b'] }, D('0.3')] } }, { a: I(1) }] } }], docs);
    expect(out).toEqual([docs[0], docs[2]]);
    expect(run([{ $match: { b: { $exists: true }, $expr: { $gt: [{ $add: ['$a', '$b'] }, 2] } } }], docs)).toEqual([docs[2]]);
  });

  test('an operator the expression module refuses sends the stage to mingo', () => {
    const docs = [{ a: 0 }, { a: 1 }];
    expect(run([{ $match: { $expr: { $eq: [{ $sin: '$a' }, 0] } } }], docs)).toEqual([docs[0]]);
    // A $expr the split cannot reach (an $and with a non-object entry) is the matcher's and mingo's.
    expect(() => run([{ $match: { $and: [{ $expr: { $eq: [{ $add: ['$a', 1] }, 1] } }, 5] } }], docs)).toThrow(MongoError);
  });

  test('15959 for a filter that is not an object, before any document is read', () => {
    expect(mongoError(() => runPipeline([{ $match: 1 }], unreadable())).code).toBe(15959);
  });
});

describe('$project', () => {
  const doc = { _id: I(1), a: I(1), b: { c: I(2), d: I(3) }, e: [{ c: I(4), d: I(5) }, I(6)], f: 'x' };

  test('inclusion: the input order, _id included by default, nested and array sub-documents', () => {
    const [out] = run([{ $project: { 'b.c': 1, a: 1, 'e.c': 1 } }], [doc]);
    expect(out).toEqual({ _id: I(1), a: I(1), b: { c: I(2) }, e: [{ c: I(4) }] });
    expect(Object.keys(out!)).toEqual(['_id', 'a', 'b', 'e']);
    expect(out!.a).toBe(doc.a);
  });

  test('computed fields come after the included ones, in spec order; missing and $$REMOVE leave them out', () => {
    const [out] = run([{ $project: { z: '$f', a: 1, gone: '$nope', removed: '$$REMOVE', lit: { $literal: 5 } } }], [doc]);
    expect(Object.keys(out!)).toEqual(['_id', 'a', 'z', 'lit']);
    expect(out!.lit).toEqual(5);
  });

  test('exclusion and _id: 0', () => {
    const [out] = run([{ $project: { b: 0, e: 0 } }], [doc]);
    expect(out).toEqual({ _id: I(1), a: I(1), f: 'x' });
    const [noId] = run([{ $project: { _id: 0, a: 1 } }], [doc]);
    expect(noId).toEqual({ a: I(1) });
    const [onlyId] = run([{ $project: { _id: 0 } }], [doc]);
    expect(Object.keys(onlyId!)).toEqual(['a', 'b', 'e', 'f']);
    const [nested] = run([{ $project: { 'e.d': 0 } }], [doc]);
    expect(nested!.e).toEqual([{ c: I(4) }, I(6)]);
  });

  test('the input is never modified', () => {
    const input = { _id: 1, a: { b: 1, c: 2 } };
    run([{ $project: { 'a.b': 0 } }, { $addFields: { 'a.x': 1 } }], [input]);
    expect(input).toEqual({ _id: 1, a: { b: 1, c: 2 } });
  });

  test("mongod's errors, in the stage's context", () => {
    expect(mongoError(() => run([{ $project: {} }], []))).toEqual({
      code: 51272,
      message: 'Invalid $project :: caused by :: projection specification must have at least one field',
    });
    expect(mongoError(() => run([{ $project: 5 }], []))).toEqual({ code: 15969, message: '$project specification must be an object' });
    expect(mongoError(() => run([{ $project: { foo: false, bar: true } }], [])).code).toBe(31253);
    expect(mongoError(() => run([{ $project: { foo: true, bar: false } }], []))).toEqual({
      code: 31254,
      message: 'Invalid $project :: caused by :: Cannot do exclusion on field bar in inclusion projection',
    });
    expect(mongoError(() => run([{ $project: { 'v.$': true } }], [])).code).toBe(31324);
    expect(mongoError(() => run([{ $project: { 'v.$.foo': true } }], [])).code).toBe(31394);
    expect(mongoError(() => run([{ $project: { v: {} } }], [])).code).toBe(51270);
    expect(mongoError(() => run([{ $project: { v: { $nonExistent: 1 } } }], []))).toEqual({
      code: 31325,
      message: 'Invalid $project :: caused by :: Unknown expression $nonExistent',
    });
    expect(mongoError(() => run([{ $project: { v: { $elemMatch: { a: 1 } } } }], [])).code).toBe(168);
    expect(mongoError(() => run([{ $project: { v: { $type: 42, $op: 42 } } }], [])).code).toBe(16410);
    expect(mongoError(() => run([{ $project: { '': true } }], [])).code).toBe(40352);
    expect(mongoError(() => run([{ $project: { a: 1, 'a.b': 1 } }], [])).code).toBe(31249);
  });
});

describe('$addFields / $set / $unset / $replaceRoot', () => {
  test('new fields appended, existing ones replaced in place, nested paths through arrays', () => {
    const doc = { _id: 1, a: I(1), b: [{ c: 1 }, 2], d: I(4) };
    const [out] = run([{ $addFields: { z: 1, a: 'x', 'b.e': 7, 'n.m': '$d' } }], [doc]);
    expect(Object.keys(out!)).toEqual(['_id', 'a', 'b', 'd', 'z', 'n']);
    expect(out!.a).toBe('x');
    expect(out!.b).toEqual([{ c: 1, e: 7 }, { e: 7 }]);
    expect(out!.n).toEqual({ m: I(4) });
    expect((out!.n as Document).m).toBe(doc.d);
  });

  test('a nested object is a sub-spec; {} is the literal {}; $$REMOVE removes', () => {
    const [out] = run([{ $set: { a: { b: 2 }, e: {}, c: '$$REMOVE' } }], [{ _id: 1, a: { x: 1 }, c: 3 }]);
    expect(out).toEqual({ _id: 1, a: { x: 1, b: 2 }, e: {} });
  });

  test('errors', () => {
    expect(mongoError(() => run([{ $set: 'x' }], []))).toEqual({ code: 40272, message: '$set specification stage must be an object, got string' });
    expect(mongoError(() => run([{ $addFields: { $foo: 'v' } }], []))).toEqual({
      code: 16410,
      message: "Invalid $addFields :: caused by :: FieldPath field names may not start with '$'. Consider using $getField or $setField.",
    });
    expect(mongoError(() => run([{ $addFields: { a: 1, 'a.b': 1 } }], [])).code).toBe(40176);
  });

  test('$unset', () => {
    const [out] = run([{ $unset: ['a', 'b.c'] }], [{ _id: 1, a: 1, b: { c: 1, d: 2 }, e: 3 }]);
    expect(out).toEqual({ _id: 1, b: { d: 2 }, e: 3 });
    expect(run([{ $unset: '_id' }], [{ _id: 1, a: 1 }])).toEqual([{ a: 1 }]);
    expect(mongoError(() => run([{ $unset: {} }], [])).code).toBe(31002);
    expect(mongoError(() => run([{ $unset: [] }], [])).code).toBe(31119);
    expect(mongoError(() => run([{ $unset: ['a', 1] }], [])).code).toBe(31120);
    expect(mongoError(() => run([{ $unset: ['v', 'v'] }], []))).toEqual({ code: 31250, message: 'Invalid $unset :: caused by :: Path collision at v' });
    expect(mongoError(() => run([{ $unset: ['v', 'v.foo'] }], []))).toEqual({
      code: 31249,
      message: 'Invalid $unset :: caused by :: Path collision at v.foo remaining portion foo',
    });
  });

  test('$replaceRoot / $replaceWith: the sub-document itself; 40228 for a non-object', () => {
    const inner = { x: D('1.10') };
    const [out] = run([{ $replaceRoot: { newRoot: '$a' } }], [{ _id: 1, a: inner }]);
    expect(out).toBe(inner);
    expect(run([{ $replaceWith: { b: '$a.x' } }], [{ _id: 1, a: inner }])[0]!.b).toBe(inner.x);
    expect(mongoError(() => run([{ $replaceRoot: { newRoot: '$a.b' } }], [{ _id: I(1), a: { b: I(10) }, c: I(123) }]))).toEqual({
      code: 40228,
      message: "'newRoot' expression  must evaluate to an object, but resulting value was: 10. Type of resulting value: 'int'. Input document: {_id: 1, a: {b: 10}, c: 123}",
    });
    expect(mongoError(() => run([{ $replaceWith: '$nope' }], [{ _id: I(1) }])).message).toBe(
      "'replacement document'  must evaluate to an object, but resulting value was: MISSING. Type of resulting value: 'missing'. Input document: {_id: 1}",
    );
  });
});

describe('$group', () => {
  test('_id expressions: a document of fields, one field, null; output _id first', () => {
    const docs = [{ a: 1, b: 1 }, { a: 1 }, { a: 1, b: null }, {}];
    const multi = run([{ $group: { n: { $sum: 1 }, _id: { a: '$a', b: '$b' } } }], docs);
    expect(multi).toEqual([
      { _id: { a: 1, b: 1 }, n: I(1) },
      { _id: { a: 1 }, n: I(1) },
      { _id: { a: 1, b: null }, n: I(1) },
      { _id: {}, n: I(1) },
    ]);
    expect(Object.keys(multi[0]!)).toEqual(['_id', 'n']);
    // One field: a missing value is null, so missing and null group together.
    const single = run([{ $group: { _id: { b: '$b' }, n: { $sum: 1 } } }], docs);
    expect(single).toEqual([
      { _id: { b: 1 }, n: I(1) },
      { _id: { b: null }, n: I(3) },
    ]);
    expect(run([{ $group: { _id: '$nope', n: { $count: {} } } }], docs)).toEqual([{ _id: null, n: I(4) }]);
    expect(run([{ $group: { _id: {}, n: { $sum: 1 } } }], docs)).toEqual([{ _id: {}, n: I(4) }]);
  });

  test('the accumulators', () => {
    const docs = [
      { k: 'a', v: I(3), o: { x: 1 }, s: 'p' },
      { k: 'a', v: null, o: null, s: 'q' },
      { k: 'a', o: { y: 2, x: 3 }, s: 'p' },
      { k: 'a', v: F(1.5), s: 'r' },
    ];
    const [out] = run(
      [
        {
          $group: {
            _id: '$k',
            sum: { $sum: '$v' },
            avg: { $avg: '$v' },
            min: { $min: '$v' },
            max: { $max: '$v' },
            first: { $first: '$v' },
            last: { $last: '$v' },
            push: { $push: '$v' },
            set: { $addToSet: '$s' },
            merged: { $mergeObjects: '$o' },
            pop: { $stdDevPop: '$v' },
            samp: { $stdDevSamp: '$v' },
            firstN: { $firstN: { input: '$v', n: 2 } },
            lastN: { $lastN: { input: '$s', n: 2 } },
            minN: { $minN: { input: '$v', n: 5 } },
            maxN: { $maxN: { input: '$s', n: 2 } },
          },
        },
      ],
      docs,
    );
    expect(show(out!.sum)).toBe('double:4.5');
    expect(show(out!.avg)).toBe('double:2.25');
    expect(out!.min).toBe(docs[3]!.v);
    expect(out!.max).toBe(docs[0]!.v);
    expect(out!.first).toBe(docs[0]!.v);
    expect(out!.last).toBe(docs[3]!.v);
    expect(out!.push).toEqual([I(3), null, F(1.5)]);
    expect(out!.set).toEqual(['p', 'q', 'r']);
    expect(out!.merged).toEqual({ x: 3, y: 2 });
    expect(show(out!.pop)).toBe('double:0.75');
    expect(show(out!.samp)).toBe(`double:${Math.sqrt(1.125)}`);
    expect(out!.firstN).toEqual([I(3), null]);
    expect(out!.lastN).toEqual(['p', 'r']);
    expect(out!.minN).toEqual([F(1.5), I(3)]);
    expect(out!.maxN).toEqual(['r', 'q']);
  });

  test('missing results are null; $last of a missing value is null; an empty group sum is int 0', () => {
    const [out] = run([{ $group: { _id: null, f: { $first: '$x' }, l: { $last: '$x' }, m: { $max: '$x' }, s: { $sum: '$x' }, a: { $avg: '$x' } } }], [{ x: 1 }, {}]);
    expect(out).toEqual({ _id: null, f: 1, l: null, m: 1, s: I(1), a: F(1) });
    const [none] = run([{ $group: { _id: null, s: { $sum: '$x' }, p: { $stdDevPop: '$x' } } }], [{}]);
    expect(show(none!.s)).toBe('int:0');
    expect(none!.p).toBeNull();
  });

  test('{$sum: 1} counts in an int that becomes a long; $sum of a long that fits stays a long', () => {
    const [out] = run([{ $group: { _id: null, n: { $sum: 1 }, big: { $sum: '$v' } } }], [{ v: I(2147483647) }, { v: I(1) }]);
    expect(show(out!.n)).toBe('int:2');
    expect(show(out!.big)).toBe('long:2147483648');
  });

  test('$mergeObjects refuses non-objects (40400)', () => {
    expect(mongoError(() => run([{ $group: { _id: null, m: { $mergeObjects: '$v' } } }], [{ v: 5 }]))).toEqual({
      code: 40400,
      message: '$mergeObjects requires object inputs, but input 5 is of type int',
    });
  });

  test('groups strings by the collation', () => {
    const out = run([{ $group: { _id: '$s', n: { $sum: 1 } } }], [{ s: 'a' }, { s: 'A' }, { s: 'b' }], { collation: { locale: 'en', strength: 2 } });
    expect(out).toEqual([
      { _id: 'a', n: I(2) },
      { _id: 'b', n: I(1) },
    ]);
  });

  test('errors', () => {
    expect(mongoError(() => run([{ $group: { _id: null, s: { $sum: [] } } }], []))).toEqual({ code: 40237, message: 'The $sum accumulator is a unary operator' });
    expect(mongoError(() => run([{ $group: { _id: null, s: { $bogus: 1 } } }], []))).toEqual({ code: 15952, message: "unknown group operator '$bogus'" });
    expect(mongoError(() => run([{ $group: { _id: null, v: {} } }], [])).code).toBe(40234);
    expect(mongoError(() => run([{ $group: { _id: null, 'a.b': { $sum: 1 } } }], [])).code).toBe(40235);
    expect(mongoError(() => run([{ $group: { _id: { a: 1 } } }], [])).code).toBe(17390);
    expect(mongoError(() => run([{ $group: { n: { $sum: 1 } } }], [])).code).toBe(15955);
    expect(mongoError(() => run([{ $group: { _id: { $nonExistent: 'foo' } } }], []))).toEqual({ code: 168, message: "Unrecognized expression '$nonExistent'" });
    expect(mongoError(() => run([{ $group: { _id: null, c: { $count: 1 } } }], [])).code).toBe(14);
    expect(mongoError(() => run([{ $group: { _id: null, f: { $firstN: { input: '$a', n: 0 } } } }], [{ a: 1 }])).code).toBe(5787908);
  });

  test('$top, $bottom, $topN, $bottomN (the accumulator_multi.cpp rules)', () => {
    const docs = [
      { p: 'A', s: I(31) },
      { p: 'B', s: I(33) },
      { p: 'C', s: I(99) },
      { p: 'D', s: I(1) },
      { p: 'E', s: I(33) },
      { p: 'F' },
    ];
    const [out] = run(
      [
        {
          $group: {
            _id: null,
            top: { $top: { output: ['$p', '$s'], sortBy: { s: -1 } } },
            bottom: { $bottom: { output: '$p', sortBy: { s: -1 } } },
            topN: { $topN: { n: 3, output: '$p', sortBy: { s: -1 } } },
            bottomN: { $bottomN: { n: 2, output: '$s', sortBy: { s: -1, p: 1 } } },
          },
        },
      ],
      docs,
    );
    expect(out!.top).toEqual(['C', I(99)]);
    expect(out!.bottom).toBe('F');
    expect(out!.topN).toEqual(['C', 'B', 'E']);
    expect(out!.bottomN).toEqual([I(1), null]);
    expect(mongoError(() => run([{ $group: { _id: null, t: { $top: { n: 2, output: '$p', sortBy: { s: 1 } } } } }], [])).code).toBe(5788002);
    expect(mongoError(() => run([{ $group: { _id: null, t: { $topN: { output: '$p', sortBy: { s: 1 } } } } }], [])).code).toBe(5788003);
  });

  test('an accumulator it lacks sends the stage to mingo', () => {
    const out = run([{ $group: { _id: null, m: { $median: { input: '$a', method: 'approximate' } } } }], [{ a: 1 }, { a: 3 }, { a: 2 }]);
    expect(out).toHaveLength(1);
    expect(Number(out[0]!.m)).toBe(2);
  });
});

describe('$unwind (jstests/aggregation/bugs/server4588.js)', () => {
  const docs = [{ _id: 0 }, { _id: 1, x: null }, { _id: 2, x: [] }, { _id: 3, x: [1, 2, 3] }, { _id: 4, x: 5 }];
  test('the path', () => {
    expect(run([{ $unwind: '$x' }], docs)).toEqual([
      { _id: 3, x: 1 },
      { _id: 3, x: 2 },
      { _id: 3, x: 3 },
      { _id: 4, x: 5 },
    ]);
  });
  test('includeArrayIndex and preserveNullAndEmptyArrays', () => {
    const out = run([{ $unwind: { path: '$x', includeArrayIndex: 'index', preserveNullAndEmptyArrays: true } }], docs);
    expect(out).toEqual([
      { _id: 0, index: null },
      { _id: 1, x: null, index: null },
      { _id: 2, index: null },
      { _id: 3, x: 1, index: L(0) },
      { _id: 3, x: 2, index: L(1) },
      { _id: 3, x: 3, index: L(2) },
      { _id: 4, x: 5, index: null },
    ]);
    expect(out[3]!.index).toBeInstanceOf(Long);
  });
  test('nested paths copy the documents on the way; an array on the way is no path', () => {
    const doc = { _id: 1, a: { b: [D('1.10'), 2], c: 1 } };
    const out = run([{ $unwind: '$a.b' }], [doc]);
    expect(out).toEqual([{ _id: 1, a: { b: D('1.10'), c: 1 } }, { _id: 1, a: { b: 2, c: 1 } }]);
    expect((out[0]!.a as Document).b).toBe(doc.a.b[0]);
    expect(doc.a.b).toHaveLength(2);
    expect(run([{ $unwind: '$a.b' }], [{ a: [{ b: [1] }] }])).toEqual([]);
  });
});

describe('$sort, $limit, $skip, $count, $sortByCount, $sample', () => {
  test('mongod order across numeric types; ties keep their order', () => {
    const docs = [{ v: D('1.10') }, { v: F(1.1) }, { v: L(1) }, { v: 'a' }, { v: null }, {}, { v: I(2) }];
    const out = run([{ $sort: { v: 1 } }], docs);
    expect(out.map((d) => show(d.v))).toEqual(['null', 'missing', 'long:1', 'decimal:1.10', 'double:1.1', 'int:2', '"a"']);
    expect(run([{ $sort: { v: -1 } }, { $limit: 1 }], docs)[0]).toBe(docs[3]);
  });

  test('$limit stops reading its input', () => {
    function* endless(): Generator<Document> {
      for (let i = 0; ; i++) yield { i };
    }
    expect(runPipeline([{ $skip: 2 }, { $limit: 2 }], endless())).toEqual([{ i: 2 }, { i: 3 }]);
  });

  test('errors', () => {
    expect(mongoError(() => run([{ $sort: { a: 'desc' } }], []))).toEqual({ code: 15974, message: 'Illegal key in $sort specification: a: "desc"' });
    expect(mongoError(() => run([{ $sort: { a: 2 } }], [])).code).toBe(15975);
    expect(mongoError(() => run([{ $sort: {} }], [])).code).toBe(15976);
    expect(mongoError(() => run([{ $sort: { 'v..foo': 1 } }], []))).toEqual({ code: 15998, message: 'FieldPath field names may not be empty strings.' });
    expect(mongoError(() => run([{ $limit: 0 }], []))).toEqual({ code: 15958, message: 'the limit must be positive' });
    expect(mongoError(() => run([{ $limit: -1 }], []))).toEqual({ code: 5107201, message: 'invalid argument to $limit stage: Expected a non-negative number in: $limit: -1' });
    expect(mongoError(() => run([{ $skip: 1.5 }], [])).code).toBe(5107200);
    expect(mongoError(() => run([{ $count: '$a' }], [])).code).toBe(40158);
    expect(mongoError(() => run([{ $count: 'a.b' }], [])).code).toBe(40160);
    expect(mongoError(() => run([{ $sortByCount: 'a' }], [])).code).toBe(40148);
  });

  test('$count and $sortByCount', () => {
    expect(run([{ $count: 'n' }], [{}, {}, {}])).toEqual([{ n: I(3) }]);
    expect(run([{ $count: 'n' }], [])).toEqual([]);
    expect(run([{ $sortByCount: '$k' }], [{ k: 'a' }, { k: 'b' }, { k: 'b' }])).toEqual([
      { _id: 'b', count: I(2) },
      { _id: 'a', count: I(1) },
    ]);
  });

  test('$sample draws distinct documents', () => {
    const docs = Array.from({ length: 10 }, (_, i) => ({ _id: i }));
    const out = run([{ $sample: { size: 10 } }], docs);
    expect(new Set(out).size).toBe(10);
    expect(run([{ $sample: { size: 3 } }], docs)).toHaveLength(3);
  });
});

describe('$bucket', () => {
  const docs = [{ p: I(5) }, { p: F(15.5) }, { p: D('25') }, { p: 'x' }, {}, { p: L(10) }];
  test('boundaries, default, output', () => {
    expect(run([{ $bucket: { groupBy: '$p', boundaries: [0, 10, 20], default: 'other' } }], docs)).toEqual([
      { _id: 0, count: I(1) },
      { _id: 10, count: I(2) },
      { _id: 'other', count: I(3) },
    ]);
    const [first] = run([{ $bucket: { groupBy: '$p', boundaries: [0, 100], default: 'o', output: { total: { $sum: '$p' }, ps: { $push: '$p' } } } }], docs);
    const expected = new SumAccumulator();
    for (const p of [I(5), F(15.5), D('25'), L(10)]) expected.add(p);
    expect(show(first!.total)).toBe(show(expected.result()));
    expect(first!.total).toBeInstanceOf(Decimal128);
    expect(first!.ps).toHaveLength(4);
  });
  test('errors', () => {
    expect(mongoError(() => run([{ $bucket: { groupBy: '$p', boundaries: [0, 'a'] } }], [])).code).toBe(40193);
    expect(mongoError(() => run([{ $bucket: { groupBy: '$p', boundaries: [10, 0] } }], []))).toEqual({
      code: 40194,
      message: "The 'boundaries' option to $bucket must be sorted, but elements 0 and 1 are not in ascending order (10 is not less than 0).",
    });
    expect(mongoError(() => run([{ $bucket: { groupBy: '$p', boundaries: [0, 10], default: 5 } }], [])).code).toBe(40199);
    expect(mongoError(() => run([{ $bucket: { groupBy: '$p', boundaries: ['$a', 10] } }], [])).code).toBe(40191);
    expect(mongoError(() => run([{ $bucket: { groupBy: '$p', boundaries: [0, 10] } }], [{ p: 50 }])).code).toBe(40066);
  });
});

describe('$facet', () => {
  test('each sub-pipeline over the same input', () => {
    const docs = [{ a: I(1) }, { a: I(2) }, { a: I(3) }];
    const [out] = run([{ $facet: { small: [{ $match: { a: { $lt: 3 } } }], total: [{ $group: { _id: null, s: { $sum: '$a' } } }] } }], docs);
    expect(out).toEqual({ small: [docs[0], docs[1]], total: [{ _id: null, s: I(6) }] });
    expect((out!.small as Document[])[0]).toBe(docs[0]);
    expect(run([{ $facet: { a: [{ $limit: 1 }] } }], [])).toEqual([{ a: [] }]);
    expect(mongoError(() => run([{ $facet: { a: [{ $facet: { b: [] } }] } }], [])).code).toBe(40600);
  });
});

describe('$lookup, $unionWith, $graphLookup, $documents', () => {
  const orders = [
    { _id: 1, item: 'almonds', price: D('12.10'), quantity: I(2) },
    { _id: 2, item: 'pecans', price: D('20.00'), quantity: I(1) },
    { _id: 3 },
  ];
  const inventory = [
    { _id: 1, sku: 'almonds', instock: I(120) },
    { _id: 2, sku: 'bread', instock: I(80) },
    { _id: 3, sku: ['cashews', 'pecans'], instock: I(60) },
    { _id: 5, sku: null },
    { _id: 6 },
  ];
  const collections: Record<string, Document[]> = { inventory, orders };
  const context: PipelineContext = { collection: (name) => collections[name] ?? [] };

  test('localField / foreignField: array semantics, missing matches null and missing', () => {
    const out = run([{ $lookup: { from: 'inventory', localField: 'item', foreignField: 'sku', as: 'docs' } }], orders, context);
    expect(out.map((d) => (d.docs as Document[]).map((x) => x._id))).toEqual([[1], [3], [5, 6]]);
    expect((out[0]!.docs as Document[])[0]).toBe(inventory[0]);
    expect(out[0]!.price).toBe(orders[0]!.price);
    const byArray = run([{ $lookup: { from: 'orders', localField: 'sku', foreignField: 'item', as: 'o' } }], [inventory[2]!], context);
    expect((byArray[0]!.o as Document[]).map((x) => x._id)).toEqual([2]);
  });

  test('pipeline with let, and both forms together (the equality first)', () => {
    const out = run(
      [
        {
          $lookup: {
            from: 'inventory',
            let: { want: '$quantity' },
            pipeline: [{ $match: { $expr: { $gt: ['$instock', { $multiply: ['$$want', 50] }] } } }, { $project: { _id: 1 } }],
            as: 'stock',
          },
        },
      ],
      orders.slice(0, 2),
      context,
    );
    expect(out.map((d) => d.stock)).toEqual([[{ _id: 1 }], [{ _id: 1 }, { _id: 2 }, { _id: 3 }]]);
    const both = run(
      [{ $lookup: { from: 'inventory', localField: 'item', foreignField: 'sku', let: { q: '$quantity' }, pipeline: [{ $addFields: { q: '$$q' } }], as: 'x' } }],
      orders.slice(0, 1),
      context,
    );
    expect(both[0]!.x).toEqual([{ _id: 1, sku: 'almonds', instock: I(120), q: I(2) }]);
    expect(mongoError(() => run([{ $lookup: { from: 'inventory', let: { Bad: 1 }, pipeline: [], as: 'x' } }], [], context)).code).toBe(9);
  });

  test('$unionWith', () => {
    const out = run([{ $unionWith: { coll: 'inventory', pipeline: [{ $match: { instock: { $gt: 70 } } }] } }], [{ _id: 'mine' }], context);
    expect(out.map((d) => d._id)).toEqual(['mine', 1, 2]);
    expect(run([{ $unionWith: 'nothing' }], [{ a: 1 }], context)).toEqual([{ a: 1 }]);
  });

  test('$graphLookup (the reportsTo example)', () => {
    const employees = [
      { _id: 1, name: 'Dev' },
      { _id: 2, name: 'Eliot', reportsTo: 'Dev' },
      { _id: 3, name: 'Ron', reportsTo: 'Eliot' },
      { _id: 4, name: 'Andrew', reportsTo: 'Eliot' },
      { _id: 5, name: 'Asya', reportsTo: 'Ron' },
      { _id: 6, name: 'Dan', reportsTo: 'Andrew' },
    ];
    const ctx: PipelineContext = { collection: (name) => (name === 'employees' ? employees : []) };
    const out = run(
      [{ $graphLookup: { from: 'employees', startWith: '$reportsTo', connectFromField: 'reportsTo', connectToField: 'name', as: 'chain', depthField: 'depth' } }],
      [employees[5]!],
      ctx,
    );
    expect((out[0]!.chain as Document[]).map((d) => [d.name, show(d.depth)])).toEqual([
      ['Andrew', 'long:0'],
      ['Eliot', 'long:1'],
      ['Dev', 'long:2'],
    ]);
    const limited = run(
      [{ $graphLookup: { from: 'employees', startWith: '$reportsTo', connectFromField: 'reportsTo', connectToField: 'name', as: 'chain', maxDepth: 0 } }],
      [employees[5]!],
      ctx,
    );
    expect((limited[0]!.chain as Document[]).map((d) => d.name)).toEqual(['Andrew']);
  });

  test('$lookup and $unionWith over $documents', () => {
    const out = run(
      [
        { $lookup: { pipeline: [{ $documents: [{ x: 1 }, { x: 2 }] }, { $match: { $expr: { $eq: ['$x', '$$v'] } } }], let: { v: '$v' }, as: 'm' } },
        { $unionWith: { pipeline: [{ $documents: [{ extra: true }] }] } },
      ],
      [{ v: 2 }],
      context,
    );
    expect(out).toEqual([{ v: 2, m: [{ x: 2 }] }, { extra: true }]);
  });

  test('a stage neither mingo nor this runner has is refused (115), not sent to mingo', () => {
    expect(mongoError(() => run([{ $lookup: { from: 'inventory', pipeline: [{ $search: {} }], as: 'x' } }], [], context)).code).toBe(115);
  });

  test('$documents', () => {
    const out = run([{ $documents: [{ a: I(1) }, { a: D('2.0') }] }, { $match: { a: { $gte: 2 } } }], []);
    expect(out.map((d) => show(d.a))).toEqual(['decimal:2.0']);
    expect(mongoError(() => run([{ $documents: [1] }], [])).code).toBe(40228);
  });
});

describe('the runner', () => {
  test('every stage is compiled before a document is read', () => {
    expect(mongoError(() => runPipeline([{ $match: {} }, { $limit: 0 }], unreadable())).code).toBe(15958);
    expect(mongoError(() => runPipeline([{ $bogus: 1 }], unreadable()))).toEqual({ code: 40324, message: "Unrecognized pipeline stage name: '$bogus'" });
  });

  test('stages it lacks go to mingo, and the stages after keep what they get', () => {
    const docs = [{ _id: 1, v: I(1) }, { _id: 2, v: I(5) }, { _id: 3, v: I(9) }];
    const out = run([{ $bucketAuto: { groupBy: '$v', buckets: 3 } }, { $project: { count: 1 } }], docs);
    expect(out).toHaveLength(3);
    // mingo's stage is approximate: its numbers come back retyped by a guess (here an int again).
    const sin = run([{ $addFields: { s: { $sin: 0 } } }, { $project: { v: 1, s: 1 } }], docs);
    expect(show(sin[0]!.v)).toBe('int:1');
    expect(Number(sin[0]!.s)).toBe(0);
  });

  test('$$NOW is one value per run; let values are evaluated with evaluateLetVariables', () => {
    const now = new Date(0);
    const out = run([{ $addFields: { t: '$$NOW' } }], [{}, {}], { now });
    expect(out[0]!.t).toBe(now);
    expect(out[1]!.t).toBe(now);
    const vars = evaluateLetVariables({ x: { $add: [I(1), I(2)] } }, { now });
    expect(show(vars.x)).toBe('int:3');
    expect(run([{ $project: { _id: 0, x: '$$x' } }], [{}], { variables: vars })).toEqual([{ x: I(3) }]);
  });

  test('an empty pipeline returns the documents themselves', () => {
    const docs = [{ a: 1 }];
    expect(runPipeline([], docs)[0]).toBe(docs[0]);
  });
});

describe('property: $group and $project on every numeric type', () => {
  const values: unknown[] = [
    I(0),
    I(1),
    I(-2147483648),
    I(2147483647),
    L(0),
    L(5),
    Long.MIN_VALUE,
    Long.MAX_VALUE,
    F(0),
    F(-0),
    F(2),
    F(1.1),
    F(5e-324),
    F(Number.NaN),
    F(Infinity),
    F(-Infinity),
    D('1.10'),
    D('-0'),
    D('NaN'),
    D('1E-6176'),
    D('-Infinity'),
    D('9.999999999999999999999999999999999E+6144'),
    null,
    'str',
  ];
  const arbDoc = fc.record({ _id: fc.integer(), v: fc.constantFrom(...values) }, { requiredKeys: ['_id'] });

  test('$sum, $first and $max match numeric.ts and compareValues; $project passes every value by reference', () => {
    fc.assert(
      fc.property(fc.array(arbDoc, { minLength: 1, maxLength: 12 }), (docs) => {
        const sum = new SumAccumulator();
        let max: unknown;
        for (const d of docs) {
          if (!('v' in d)) continue;
          sum.add(d.v);
          if (d.v !== null && (max === undefined || compareValues(d.v, max) > 0)) max = d.v;
        }
        const first = 'v' in docs[0]! ? docs[0]!.v : null;
        const [out] = runPipeline([{ $group: { _id: null, s: { $sum: '$v' }, f: { $first: '$v' }, mx: { $max: '$v' } } }], docs);
        expect(show(out!.s)).toBe(show(sum.result()));
        expect(out!.s!.constructor).toBe(sum.result().constructor);
        expect(out!.f).toBe(first);
        expect(out!.mx).toBe(max === undefined ? null : max);
        const projected = runPipeline([{ $project: { v: 1 } }], docs);
        projected.forEach((p, i) => {
          expect(p._id).toBe(docs[i]!._id);
          if ('v' in docs[i]!) expect(p.v).toBe(docs[i]!.v);
          else expect('v' in p).toBe(false);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('visitAllValuesAtPath', () => {
  test('the examples of document_path_support.h/.cpp', () => {
    expect(valuesAtPath({ x: [{ y: 1 }, { y: 1 }, { y: { a: 1 } }, { y: [2, 3] }, 3, 4] }, ['x', 'y'])).toEqual([1, 1, { a: 1 }, 2, 3]);
    expect(valuesAtPath({ a: [[{ b: 1 }]] }, ['a', 'b'])).toEqual([]);
    expect(valuesAtPath({ a: [[1, 2], [{ b: 3 }]] }, ['a', '1', '0', 'b'])).toEqual([3]);
    expect(valuesAtPath({ a: [5, 6] }, ['a', '1'])).toEqual([6]);
    expect(valuesAtPath({ '0': { a: 1 } }, ['0', 'a'])).toEqual([1]);
  });
});

describe('property: $lookup equality joins', () => {
  const scalar = fc.constantFrom<unknown>(I(1), L(1), F(1), D('1.0'), I(2), F(2.5), 'a', 'b', null, D('NaN'), F(Number.NaN), new ObjectId('0123456789abcdef01234567'));
  const value = fc.oneof(
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    fc.record({ g: fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })) }, { requiredKeys: [] }),
    fc.array(fc.record({ g: scalar }, { requiredKeys: [] }), { maxLength: 2 }),
  );
  const doc = fc.record({ f: value }, { requiredKeys: [] });

  test('the same documents as the equality $match mongod builds (makeMatchStageFromInput)', () => {
    fc.assert(
      fc.property(fc.array(doc, { maxLength: 6 }), fc.array(doc, { maxLength: 8 }), fc.constantFrom('f', 'f.g', 'f.0'), (locals, foreign, path) => {
        const out = runPipeline([{ $lookup: { from: 'x', localField: path, foreignField: path, as: 'j' } }], locals, { collection: () => foreign });
        out.forEach((o, i) => {
          const values = valuesAtPath(locals[i], path.split('.'));
          const list = values.length === 0 ? [null] : values;
          const filter = list.length === 1 ? { [path]: { $eq: list[0] } } : { [path]: { $in: list } };
          const f = compileFilter(filter);
          expect(o.j).toEqual(foreign.filter((d) => f.matches(d)));
          (o.j as Document[]).forEach((d) => expect(foreign).toContain(d));
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('fixtures are plain values', () => {
  test('ObjectIds pass through', () => {
    const id = new ObjectId();
    expect(run([{ $project: { _id: 1 } }], [{ _id: id, a: 1 }])[0]!._id).toBe(id);
  });
});
