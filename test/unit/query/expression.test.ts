import {
  Binary,
  BSON,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mongoError as failure } from '../../helpers/mongoErrors.js';
import { MongoError } from '../../../src/errors.js';
import { compileExpression, coerceToBool, scopeFor, type ExpressionOptions } from '../../../src/query/expression/compile.js';
import { abs, add, divide, mod, multiply, numericType, round, subtract, trunc, type BsonNumber } from '../../../src/query/numeric.js';

const D = (s: string): Decimal128 => Decimal128.fromString(s);
const I = (n: number): Int32 => new Int32(n);
const L = (n: bigint | number | string): Long => Long.fromBigInt(BigInt(n));
const F = (n: number): Double => new Double(n);
const NOW = new Date('2024-05-06T07:08:09.010Z');

/** A document as the server stores it: through BSON, decoded with the storage options. */
function stored(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), { promoteValues: false, bsonRegExp: true });
}

function ev(expr: unknown, doc: Document = {}, options?: ExpressionOptions, variables?: Map<string, unknown>): unknown {
  return compileExpression(expr, options).evaluate(scopeFor(doc, NOW, variables));
}


/** The error of compiling and evaluating. */
function err(expr: unknown, doc: Document = {}, options?: ExpressionOptions): { code: number; message: string } {
  return failure(() => ev(expr, doc, options));
}

/** A value as `type:value` (numbers with their BSON type; decimals with their digits). */
function show(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (v instanceof Date) return `date:${v.getTime()}`;
  const t = numericType(v);
  if (t === 'double') {
    const x = (v as Double).value;
    return `double:${Object.is(x, -0) ? '-0' : String(x)}`;
  }
  if (t !== undefined) return `${t}:${(v as BsonNumber).toString()}`;
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && (v as { _bsontype?: unknown })._bsontype === undefined) {
    return `{${Object.keys(v as object).map((k) => `${k}:${show((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return String(v);
}

function showEv(expr: unknown, doc: Document = {}, options?: ExpressionOptions): string {
  return show(ev(expr, doc, options));
}

// ---------------------------------------------------------------------------------------------

describe('parsing', () => {
  test('literals, arrays and documents of expressions', () => {
    expect(showEv('abc')).toBe('"abc"');
    expect(showEv([1, '$a', '$$REMOVE'], stored({ a: I(2) }))).toBe('[int:1,int:2,null]');
    expect(showEv({ x: '$a', y: { z: '$missing' } }, stored({ a: F(1.5) }))).toBe('{x:double:1.5,y:{}}');
    expect(showEv({})).toBe('{}');
    expect(showEv({ $literal: '$notAPath' })).toBe('"$notAPath"');
    expect(showEv({ $literal: { $add: [1, 2] } })).toBe('{$add:[int:1,int:2]}');
  });

  test('an operator document has exactly one field (15983)', () => {
    expect(err({ $add: [1], b: 1 })).toEqual({ code: 15983, message: 'An object representing an expression must have exactly one field: { $add: [ 1 ], b: 1 }' });
  });

  test("an unknown operator is InvalidPipelineOperator (168) and a refused one 115 at parse time", () => {
    expect(failure(() => compileExpression({ $foo: 1 }))).toEqual({ code: 168, message: "Unrecognized expression '$foo'" });
    expect(failure(() => compileExpression({ $toHashedIndexKey: '$a' }))).toEqual({ code: 115, message: 'pocketmongo does not support $toHashedIndexKey in aggregation expressions yet' });
    expect(failure(() => compileExpression({ $function: { body: 'f', args: [], lang: 'js' } }))).toEqual({ code: 115, message: 'pocketmongo does not support server-side JavaScript ($function) yet' });
    expect(failure(() => compileExpression({ $stdDevPop: [1] })).code).toBe(115);
  });

  test('field path errors', () => {
    expect(err('$')).toEqual({ code: 16872, message: "'$' by itself is not a valid FieldPath" });
    expect(err('$a.$b')).toEqual({ code: 16410, message: "FieldPath field names may not start with '$'. Consider using $getField or $setField." });
    expect(err('$a.')).toEqual({ code: 40353, message: "FieldPath must not end with a '.'." });
    expect(err('$a..b')).toEqual({ code: 15998, message: 'FieldPath field names may not be empty strings.' });
  });

  test('field names of an expression document', () => {
    expect(err({ a: 1, $b: 2 })).toEqual({ code: 16410, message: "FieldPath field names may not start with '$'. Consider using $getField or $setField." });
    expect(err({ 'a.b': 1 })).toEqual({ code: 16412, message: "FieldPath field names may not contain '.'. Consider using $getField or $setField." });
  });

  test('variable names', () => {
    expect(err('$$')).toEqual({ code: 16869, message: 'empty variable names are not allowed' });
    expect(err('$$_x')).toEqual({ code: 16870, message: "'_x' starts with an invalid character for a user variable name" });
    expect(err('$$x-y')).toEqual({ code: 16871, message: "'x-y' contains an invalid character for a variable name: '-'" });
    expect(err('$$nope')).toEqual({ code: 17276, message: 'Use of undefined variable: nope' });
    expect(err({ $let: { vars: { X: 1 }, in: 1 } })).toEqual({ code: 16867, message: "'X' starts with an invalid character for a user variable name" });
    expect(err({ $let: { vars: { '': 1 }, in: 1 } })).toEqual({ code: 16866, message: 'empty variable names are not allowed' });
    expect(err({ $let: { vars: { a$: 1 }, in: 1 } })).toEqual({ code: 16868, message: "'a$' contains an invalid character for a variable name: '$'" });
    expect(err({ $map: { input: [], as: 'Bad', in: 1 } }).code).toBe(16867);
  });

  test('$let', () => {
    expect(showEv({ $let: { vars: { x: 2, y: '$a' }, in: { $multiply: ['$$x', '$$y'] } } }, stored({ a: I(21) }))).toBe('int:42');
    // vars see the outer scope only; the inner binding shadows the outer one
    expect(
      showEv({ $let: { vars: { x: 1 }, in: { $let: { vars: { x: { $add: ['$$x', 10] } }, in: '$$x' } } } }),
    ).toBe('int:11');
    expect(showEv({ $let: { vars: { x: { a: { b: 5 } } }, in: '$$x.a.b' } })).toBe('int:5');
    expect(err({ $let: 1 })).toEqual({ code: 16874, message: '$let only supports an object as its argument' });
    expect(err({ $let: { vars: {}, in: 1, z: 1 } })).toEqual({ code: 16875, message: 'Unrecognized parameter to $let: z' });
    expect(err({ $let: { in: 1 } })).toEqual({ code: 16876, message: "Missing 'vars' parameter to $let" });
    expect(err({ $let: { vars: {} } })).toEqual({ code: 16877, message: "Missing 'in' parameter to $let" });
    expect(err({ $let: { vars: 1, in: 1 } })).toEqual({ code: 10065, message: 'invalid parameter: expected an object (vars)' });
  });

  test('system and user variables', () => {
    const doc = stored({ a: I(1), b: { c: I(2) } });
    expect(ev('$$ROOT', doc)).toBe(doc);
    expect(ev('$$CURRENT.b', doc)).toBe(doc.b);
    expect(ev('$$REMOVE', doc)).toBeUndefined();
    expect(ev('$$NOW')).toBe(NOW);
    expect(ev('$$v.x', {}, { variables: ['v'] }, new Map([['v', { x: 7 }]]))).toBe(7);
    expect(err('$$v', {}, {})).toEqual({ code: 17276, message: 'Use of undefined variable: v' });
    // CURRENT can be rebound: field paths then read from it
    expect(showEv({ $let: { vars: { CURRENT: '$b' }, in: '$c' } }, doc)).toBe('int:2');
    expect(failure(() => compileExpression('$$CLUSTER_TIME')).code).toBe(115);
    expect(compileExpression('$$NOW').constant).toBe(false);
    expect(compileExpression({ $add: [1, 2] }).constant).toBe(true);
    expect(compileExpression({ $add: [1, '$a'] }).constant).toBe(false);
  });

  test('arity errors (16020)', () => {
    expect(err({ $eq: [1] })).toEqual({ code: 16020, message: 'Expression $eq takes exactly 2 arguments. 1 were passed in.' });
    expect(err({ $size: [1, 2] })).toEqual({ code: 16020, message: 'Expression $size takes exactly 1 arguments. 2 were passed in.' });
    expect(err({ $round: [1, 2, 3] })).toEqual({ code: 16020, message: 'Expression $round takes at least 1 arguments, and at most 2. 3 were passed in.' });
    expect(err({ $substr: ['a', 1] })).toEqual({ code: 16020, message: 'Expression $substrBytes takes exactly 3 arguments. 2 were passed in.' });
  });
});

describe('field paths', () => {
  const doc = stored({
    a: [{ b: I(1) }, { c: I(2) }, { b: [I(3), { d: I(4) }] }, I(5), { b: { d: I(6) } }],
    n: { '0': 'zero' },
    arr: [I(10), I(20)],
  });

  test('arrays map the rest of the path, dropping elements without the field', () => {
    expect(showEv('$a.b', doc)).toBe('[int:1,[int:3,{d:int:4}],{d:int:6}]');
    expect(showEv('$a.b.d', doc)).toBe('[[int:4],int:6]');
    expect(showEv('$n.0', doc)).toBe('"zero"');
    // numeric components are field names, never array indexes
    expect(showEv('$arr.0', doc)).toBe('[]');
    expect(showEv('$missing.x', doc)).toBe('missing');
  });

  test('a field path returns the stored object itself (property)', () => {
    fc.assert(
      fc.property(bsonValue(), bsonValue(), (x, y) => {
        const d = stored({ a: x, b: { c: y } });
        return Object.is(ev('$a', d), d.a) && Object.is(ev('$b.c', d), (d.b as Document).c) && Object.is(ev('$$ROOT.a', d), d.a);
      }),
      { numRuns: 300 },
    );
  });

  test('a Decimal128 keeps its bytes', () => {
    const d = stored({ x: D('1.000') });
    expect(ev({ $ifNull: ['$x', 0] }, d)).toBe(d.x);
    expect((ev('$x', d) as Decimal128).toString()).toBe('1.000');
  });
});

describe('arithmetic', () => {
  test('results keep mongod types', () => {
    expect(showEv({ $add: [I(2147483647), I(1)] })).toBe('long:2147483648');
    expect(showEv({ $divide: [I(6), I(3)] })).toBe('double:2');
    expect(showEv({ $add: [D('1.10'), D('2.20')] })).toBe('decimal:3.30');
    expect(showEv({ $add: [L('9007199254740993'), I(1)] })).toBe('long:9007199254740994');
    expect(showEv({ $multiply: [L('4611686018427387904'), I(2)] })).toBe('double:9223372036854776000');
    expect(showEv({ $subtract: [F(0.5), I(1)] })).toBe('double:-0.5');
    expect(showEv({ $mod: [I(7), I(-3)] })).toBe('int:1');
    expect(showEv({ $mod: [L(7), F(2)] })).toBe('double:1');
    expect(showEv({ $abs: I(-2147483648) })).toBe('long:2147483648');
    expect(showEv({ $add: [] })).toBe('int:0');
    expect(showEv({ $multiply: [] })).toBe('int:1');
    expect(showEv({ $add: [new Date(1000), I(5)] })).toBe('date:1005');
    expect(showEv({ $subtract: [new Date(1000), new Date(400)] })).toBe('long:600');
    expect(showEv({ $add: [I(1), null, 'x'] })).toBe('null');
  });

  test('errors', () => {
    expect(err({ $add: [I(1), 'x'] })).toEqual({ code: 14, message: '$add only supports numeric or date types, not string' });
    expect(err({ $add: [new Date(0), new Date(0)] })).toEqual({ code: 16612, message: 'only one date allowed in an $add expression' });
    expect(err({ $divide: [I(1), I(0)] })).toEqual({ code: 2, message: "can't $divide by zero" });
    expect(err({ $mod: [I(1), I(0)] })).toEqual({ code: 16610, message: "can't $mod by zero" });
    expect(err({ $multiply: ['a'] })).toEqual({ code: 14, message: '$multiply only supports numeric types, not string' });
    expect(err({ $abs: 'a' })).toEqual({ code: 28765, message: '$abs only supports numeric types, not string' });
    expect(err({ $ceil: 'a' })).toEqual({ code: 28765, message: '$ceil only supports numeric types, not string' });
    // $add stops at the first null operand: later operands are not evaluated
    expect(showEv({ $add: [null, { $divide: [1, 0] }] })).toBe('null');
  });

  test('$ceil $floor $sqrt $exp $ln $log $log10', () => {
    expect(showEv({ $ceil: F(-0.5) })).toBe('double:-0');
    expect(showEv({ $floor: F(1.5) })).toBe('double:1');
    expect(showEv({ $ceil: I(3) })).toBe('int:3');
    expect(showEv({ $floor: L(3) })).toBe('long:3');
    expect(showEv({ $ceil: D('1.21') })).toBe('decimal:2');
    expect(showEv({ $floor: D('-1.21') })).toBe('decimal:-2');
    expect(showEv({ $sqrt: I(16) })).toBe('double:4');
    expect(err({ $sqrt: I(-1) })).toEqual({ code: 28714, message: "$sqrt's argument must be greater than or equal to 0" });
    expect(showEv({ $exp: I(0) })).toBe('double:1');
    expect(showEv({ $ln: I(1) })).toBe('double:0');
    expect(err({ $ln: I(0) })).toEqual({ code: 28766, message: "$ln's argument must be a positive number, but is 0" });
    expect(showEv({ $log10: I(1000) })).toBe('double:3');
    expect(err({ $log10: F(-1) })).toEqual({ code: 28761, message: "$log10's argument must be a positive number, but is -1" });
    expect(showEv({ $log: [I(8), I(2)] })).toBe('double:3');
    expect(err({ $log: [I(8), I(1)] })).toEqual({ code: 28759, message: "$log's base must be a positive number not equal to 1, but is 1" });
    expect(err({ $log: ['a', I(1)] })).toEqual({ code: 28756, message: "$log's argument must be numeric, not string" });
    expect(err({ $exp: D('1') }).code).toBe(115);
    expect(err({ $sqrt: D('4') }).code).toBe(115);
    expect(showEv({ $sqrt: null })).toBe('null');
  });

  test('$pow', () => {
    expect(showEv({ $pow: [I(2), I(10)] })).toBe('int:1024');
    expect(showEv({ $pow: [I(2), I(31)] })).toBe('long:2147483648');
    expect(showEv({ $pow: [L(2), I(3)] })).toBe('long:8');
    expect(showEv({ $pow: [I(3), I(39)] })).toBe('long:4052555153018976267');
    expect(showEv({ $pow: [I(3), I(40)] })).toBe('double:12157665459056929000');
    expect(showEv({ $pow: [I(2), I(-1)] })).toBe('double:0.5');
    expect(showEv({ $pow: [I(-1), I(5)] })).toBe('int:-1');
    expect(showEv({ $pow: [F(2), I(2)] })).toBe('double:4');
    expect(err({ $pow: [I(0), I(-1)] })).toEqual({ code: 28764, message: '$pow cannot take a base of 0 and a negative exponent' });
    expect(err({ $pow: ['a', I(1)] })).toEqual({ code: 28762, message: "$pow's base must be numeric, not string" });
    expect(err({ $pow: [D('2'), I(2)] }).code).toBe(115);
  });

  test('$round $trunc', () => {
    expect(showEv({ $round: [F(2.5)] })).toBe('double:2');
    expect(showEv({ $round: [D('1.25'), I(1)] })).toBe('decimal:1.2');
    expect(showEv({ $trunc: [F(-1.99), I(1)] })).toBe('double:-1.9');
    expect(showEv({ $round: [I(1234), I(-2)] })).toBe('int:1200');
    expect(showEv({ $round: [null, 'x'] })).toBe('null');
    expect(err({ $round: [F(1), F(1.5)] })).toEqual({ code: 51082, message: 'precision argument to  $round must be a integral value' });
  });

  test('$sum $avg $max $min', () => {
    expect(showEv({ $sum: [[I(1), I(2), 'x', L(3)]] })).toBe('long:6');
    expect(showEv({ $sum: [I(1), F(2.5)] })).toBe('double:3.5');
    expect(showEv({ $sum: 'x' })).toBe('int:0');
    expect(showEv({ $avg: [I(1), I(2)] })).toBe('double:1.5');
    expect(showEv({ $avg: [[]] })).toBe('null');
    expect(showEv({ $max: [I(1), 'a', null] })).toBe('"a"');
    expect(showEv({ $min: [[I(3), F(1.5), null]] })).toBe('double:1.5');
    expect(showEv({ $max: [] })).toBe('null');
    expect(showEv({ $max: ['a', 'B'] }, {}, { collation: { locale: 'en', strength: 1 } })).toBe('"B"');
  });

  test('bitwise', () => {
    expect(showEv({ $bitAnd: [I(12), I(10)] })).toBe('int:8');
    expect(showEv({ $bitOr: [I(12), L(3)] })).toBe('long:15');
    expect(showEv({ $bitXor: [] })).toBe('int:0');
    expect(showEv({ $bitNot: I(0) })).toBe('int:-1');
    expect(err({ $bitAnd: [F(1)] })).toEqual({ code: 14, message: '$bitAnd only supports int and long operands.' });
    expect(err({ $bitNot: F(1) })).toEqual({ code: 14, message: '$bitNot only supports int and long, not: double.' });
  });

  test('the operators go through numeric.ts (property)', () => {
    const ops: [string, (a: unknown, b: unknown) => unknown][] = [
      ['$add', (a, b) => add(a, b)],
      ['$subtract', subtract],
      ['$multiply', (a, b) => multiply(a, b)],
      ['$divide', divide],
      ['$mod', mod],
      ['$round', (a, b) => round(a, b)],
      ['$trunc', (a, b) => trunc(a, b)],
    ];
    const outcome = (f: () => unknown): string => {
      try {
        return show(f());
      } catch (e) {
        return `error ${(e as MongoError).code}`;
      }
    };
    fc.assert(
      fc.property(bsonNumber(), bsonNumber(), fc.constantFrom(...ops), (a, b, [op, fn]) => {
        const doc = stored({ a, b });
        const viaField = outcome(() => ev({ [op]: ['$a', '$b'] }, doc));
        const direct = outcome(() => fn(doc.a, doc.b));
        return viaField === direct;
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(bsonNumber(), (a) => {
        const doc = stored({ a });
        return outcome(() => ev({ $abs: '$a' }, doc)) === outcome(() => abs(doc.a));
      }),
    );
    // more than two operands, with nulls, dates and strings among them
    const operand = fc.oneof(bsonNumber(), fc.constantFrom(null, 'x', new Date(1000)));
    fc.assert(
      fc.property(fc.array(operand, { maxLength: 5 }), (xs) => {
        const doc = stored({ xs: Object.fromEntries(xs.map((x, i) => [`v${i}`, x])) });
        const values = xs.map((_, i) => (doc.xs as Document)[`v${i}`]);
        const paths = xs.map((_, i) => `$xs.v${i}`);
        return (
          outcome(() => ev({ $add: paths }, doc)) === outcome(() => add(...values)) &&
          outcome(() => ev({ $multiply: paths }, doc)) === outcome(() => multiply(...values))
        );
      }),
      { numRuns: 1000 },
    );
  });
});

describe('comparison', () => {
  test('BSON order across types, exact numbers', () => {
    expect(ev({ $eq: [D('0.1'), F(0.1)] })).toBe(false);
    expect(ev({ $gt: [F(0.1), D('0.1')] })).toBe(true);
    expect(ev({ $eq: [L('9007199254740993'), F(9007199254740992)] })).toBe(false);
    expect(ev({ $eq: [I(1), D('1.00')] })).toBe(true);
    expect(ev({ $lt: [I(5), 'a'] })).toBe(true);
    expect(ev({ $gt: [{}, 'a'] })).toBe(true);
    expect(ev({ $eq: [F(NaN), D('NaN')] })).toBe(true);
    expect(ev({ $lt: [F(NaN), F(-Infinity)] })).toBe(true);
    expect(ev({ $eq: ['$missing', null] })).toBe(false);
    expect(ev({ $lt: ['$missing', null] })).toBe(true);
    expect(ev({ $eq: ['$missing', '$alsoMissing'] })).toBe(true);
    expect(showEv({ $cmp: [I(1), I(2)] })).toBe('int:-1');
    expect(showEv({ $cmp: ['b', 'a'] })).toBe('int:1');
    expect(showEv({ $cmp: [F(2), L(2)] })).toBe('int:0');
  });

  test('strings by the collation', () => {
    expect(ev({ $eq: ['abc', 'ABC'] })).toBe(false);
    expect(ev({ $eq: ['abc', 'ABC'] }, {}, { collation: { locale: 'en', strength: 2 } })).toBe(true);
    expect(ev({ $in: ['ABC', ['x', 'abc']] }, {}, { collation: { locale: 'en', strength: 2 } })).toBe(true);
  });
});

describe('boolean and conditional', () => {
  test('coerceToBool', () => {
    expect(ev({ $cond: [I(0), 'y', 'n'] })).toBe('n');
    expect(ev({ $cond: [D('0.00E+5'), 'y', 'n'] })).toBe('n');
    expect(ev({ $cond: [D('-0'), 'y', 'n'] })).toBe('n');
    expect(ev({ $cond: [F(NaN), 'y', 'n'] })).toBe('y');
    expect(ev({ $cond: [L(0), 'y', 'n'] })).toBe('n');
    expect(ev({ $cond: ['', 'y', 'n'] })).toBe('y');
    expect(ev({ $cond: [[], 'y', 'n'] })).toBe('y');
    expect(ev({ $cond: ['$missing', 'y', 'n'] })).toBe('n');
    expect(ev({ $and: [] })).toBe(true);
    expect(ev({ $or: [] })).toBe(false);
    expect(ev({ $not: [I(0)] })).toBe(true);
    // $and / $or stop at the deciding operand
    expect(ev({ $and: [false, { $divide: [1, 0] }] })).toBe(false);
    expect(ev({ $or: [1, { $divide: [1, 0] }] })).toBe(true);
  });

  test('$cond forms and errors', () => {
    expect(ev({ $cond: { if: true, then: 1, else: 2 } })).toBe(1);
    expect(ev({ $cond: [true, 1, { $divide: [1, 0] }] })).toBe(1);
    expect(err({ $cond: [1, 2] })).toEqual({ code: 16020, message: 'Expression $cond takes exactly 3 arguments. 2 were passed in.' });
    expect(err({ $cond: { if: 1, then: 2 } })).toEqual({ code: 17082, message: "Missing 'else' parameter to $cond" });
    expect(err({ $cond: { then: 2, else: 3 } })).toEqual({ code: 17080, message: "Missing 'if' parameter to $cond" });
    expect(err({ $cond: { if: 1, else: 3 } })).toEqual({ code: 17081, message: "Missing 'then' parameter to $cond" });
    expect(err({ $cond: { if: 1, then: 2, else: 3, x: 1 } })).toEqual({ code: 17083, message: 'Unrecognized parameter to $cond: x' });
  });

  test('$ifNull', () => {
    expect(ev({ $ifNull: [null, '$missing', 3, 4] })).toBe(3);
    expect(ev({ $ifNull: [null, '$missing'] })).toBeUndefined();
    expect(err({ $ifNull: [1] })).toEqual({ code: 1257300, message: '$ifNull needs at least two arguments, had: 1' });
  });

  test('$switch', () => {
    const sw = { $switch: { branches: [{ case: { $gt: ['$x', 5] }, then: 'big' }, { case: '$x', then: 'some' }], default: 'none' } };
    expect(ev(sw, { x: I(9) })).toBe('big');
    expect(ev(sw, { x: I(1) })).toBe('some');
    expect(ev(sw, { x: I(0) })).toBe('none');
    expect(err({ $switch: { branches: [{ case: false, then: 1 }] } })).toEqual({
      code: 40066,
      message: '$switch could not find a matching branch for an input, and no default was specified.',
    });
    expect(err({ $switch: 1 })).toEqual({ code: 40060, message: '$switch requires an object as an argument, found: int' });
    expect(err({ $switch: { branches: 1 } })).toEqual({ code: 40061, message: "$switch expected an array for 'branches', found: int" });
    expect(err({ $switch: { branches: [1] } })).toEqual({ code: 40062, message: '$switch expected each branch to be an object, found: int' });
    expect(err({ $switch: { branches: [{ case: 1, then: 1, x: 1 }] } })).toEqual({ code: 40063, message: '$switch found an unknown argument to a branch: x' });
    expect(err({ $switch: { branches: [{ then: 1 }] } })).toEqual({ code: 40064, message: "$switch requires each branch have a 'case' expression" });
    expect(err({ $switch: { branches: [{ case: 1 }] } })).toEqual({ code: 40065, message: "$switch requires each branch have a 'then' expression." });
    expect(err({ $switch: { x: 1 } })).toEqual({ code: 40067, message: '$switch found an unknown argument: x' });
    expect(err({ $switch: { branches: [] } })).toEqual({ code: 40068, message: '$switch requires at least one branch.' });
  });

  test('$cond, $and, $or and $not agree with a coerceToBool reference (property)', () => {
    fc.assert(
      fc.property(bsonValue(), (v) => {
        const doc = stored({ v });
        const expected = referenceTruth(doc.v);
        return (
          coerceToBool(doc.v) === expected &&
          ev({ $cond: ['$v', 'T', 'F'] }, doc) === (expected ? 'T' : 'F') &&
          ev({ $and: ['$v'] }, doc) === expected &&
          ev({ $or: ['$v', false] }, doc) === expected &&
          ev({ $not: ['$v'] }, doc) === !expected &&
          ev({ $cond: { if: '$v', then: 1, else: 0 } }, doc) === (expected ? 1 : 0)
        );
      }),
      { numRuns: 1000 },
    );
  });
});

describe('arrays', () => {
  test('$arrayElemAt $first $last', () => {
    expect(showEv({ $arrayElemAt: [[1, 2, 3], -1] })).toBe('int:3');
    expect(showEv({ $arrayElemAt: [[1, 2, 3], 5] })).toBe('missing');
    expect(showEv({ $arrayElemAt: [[1, 2, 3], -4] })).toBe('missing');
    expect(showEv({ $arrayElemAt: [null, 1] })).toBe('null');
    expect(showEv({ $first: [[]] })).toBe('missing');
    expect(showEv({ $last: [[1, 2]] })).toBe('int:2');
    expect(err({ $arrayElemAt: [1, 0] })).toEqual({ code: 28689, message: "$arrayElemAt's first argument must be an array, but is int" });
    expect(err({ $first: 1 })).toEqual({ code: 28689, message: "$first's argument must be an array, but is int" });
    expect(err({ $arrayElemAt: [[1], 'x'] })).toEqual({ code: 28690, message: "$arrayElemAt's second argument must be a numeric value, but is string" });
    expect(err({ $arrayElemAt: [[1], F(1.5)] })).toEqual({ code: 28691, message: "$arrayElemAt's second argument must be representable as a 32-bit integer: 1.5" });
  });

  test('$concatArrays $isArray $size $reverseArray $slice', () => {
    expect(showEv({ $concatArrays: [[1], [2, [3]]] })).toBe('[int:1,int:2,[int:3]]');
    expect(showEv({ $concatArrays: [[1], null] })).toBe('null');
    expect(err({ $concatArrays: [[1], 2] })).toEqual({ code: 28664, message: '$concatArrays only supports arrays, not int' });
    expect(ev({ $isArray: [[1]] })).toBe(true);
    expect(showEv({ $size: [[1, 2]] })).toBe('int:2');
    expect(err({ $size: 'x' })).toEqual({ code: 17124, message: 'The argument to $size must be an array, but was of type: string' });
    expect(showEv({ $reverseArray: [[1, 2, 3]] })).toBe('[int:3,int:2,int:1]');
    expect(err({ $reverseArray: 1 })).toEqual({ code: 34435, message: 'The argument to $reverseArray must be an array, but was of type: int' });
    expect(showEv({ $slice: [[1, 2, 3, 4], 2] })).toBe('[int:1,int:2]');
    expect(showEv({ $slice: [[1, 2, 3, 4], -2] })).toBe('[int:3,int:4]');
    expect(showEv({ $slice: [[1, 2, 3, 4], 1, 2] })).toBe('[int:2,int:3]');
    expect(showEv({ $slice: [[1, 2, 3, 4], -10, 2] })).toBe('[int:1,int:2]');
    expect(err({ $slice: [[1], 0, 0] })).toEqual({ code: 28729, message: 'Third argument to $slice must be positive: 0' });
    expect(err({ $slice: [1, 0] })).toEqual({ code: 28724, message: 'First argument to $slice must be an array, but is of type: int' });
  });

  test('$in $indexOfArray', () => {
    expect(ev({ $in: [I(2), [F(2)]] })).toBe(true);
    expect(ev({ $in: [D('0.1'), [F(0.1)]] })).toBe(false);
    expect(err({ $in: [1, 'x'] })).toEqual({ code: 40081, message: '$in requires an array as a second argument, found: string' });
    expect(showEv({ $indexOfArray: [[1, 2, 1], 1, 1] })).toBe('int:2');
    expect(showEv({ $indexOfArray: [[1, 2, 1], 3] })).toBe('int:-1');
    expect(showEv({ $indexOfArray: [null, 3] })).toBe('null');
    expect(err({ $indexOfArray: ['x', 3] })).toEqual({ code: 40090, message: '$indexOfArray requires an array as a first argument, found: string' });
    expect(err({ $indexOfArray: [[1], 1, -1] })).toEqual({ code: 40097, message: '$indexOfArray requires a nonnegative starting index, found: -1' });
    expect(err({ $indexOfArray: [[1], 1, F(1.5)] })).toEqual({
      code: 40096,
      message: '$indexOfArrayrequires an integral starting index, found a value of type: double, with value: 1.5',
    });
  });

  test('$filter $map $reduce', () => {
    expect(showEv({ $filter: { input: [1, 2, 3, 4], as: 'n', cond: { $gte: ['$$n', 2] }, limit: 2 } })).toBe('[int:2,int:3]');
    expect(showEv({ $filter: { input: null, cond: true } })).toBe('null');
    expect(err({ $filter: { input: 1, cond: true } })).toEqual({ code: 28651, message: 'input to $filter must be an array not int' });
    expect(err({ $filter: { input: [1], cond: true, limit: 0 } })).toEqual({ code: 327392, message: '$filter: limit must be greater than 0: 0' });
    expect(err({ $filter: { input: [], x: 1 } })).toEqual({ code: 28647, message: 'Unrecognized parameter to $filter: x' });
    expect(err({ $filter: { cond: 1 } })).toEqual({ code: 28648, message: "Missing 'input' parameter to $filter" });
    expect(err({ $filter: { input: [] } })).toEqual({ code: 28650, message: "Missing 'cond' parameter to $filter" });
    expect(showEv({ $map: { input: [1, 2], in: { $add: ['$$this', 1] } } })).toBe('[int:2,int:3]');
    expect(showEv({ $map: { input: [1, 2], as: 'x', in: '$$REMOVE' } })).toBe('[null,null]');
    expect(err({ $map: { input: 'x', in: 1 } })).toEqual({ code: 16883, message: 'input to $map must be an array not string' });
    expect(err({ $map: { input: [] } })).toEqual({ code: 16882, message: "Missing 'in' parameter to $map" });
    expect(showEv({ $reduce: { input: ['a', 'b'], initialValue: '', in: { $concat: ['$$value', '$$this'] } } })).toBe('"ab"');
    expect(err({ $reduce: { input: 1, initialValue: 0, in: 1 } })).toEqual({ code: 40080, message: "$reduce requires that 'input' be an array, found: 1" });
    expect(err({ $reduce: { input: [], in: 1 } })).toEqual({ code: 40078, message: "$reduce requires 'initialValue' to be specified" });
    // nested: the inner $map's variable does not disturb the outer one
    expect(
      showEv({ $map: { input: [[1, 2], [3]], as: 'row', in: { $map: { input: '$$row', as: 'c', in: { $multiply: ['$$c', { $size: '$$row' }] } } } } }),
    ).toBe('[[int:2,int:4],[int:3]]');
  });

  test('$range $zip $sortArray', () => {
    expect(showEv({ $range: [0, 5, 2] })).toBe('[int:0,int:2,int:4]');
    expect(showEv({ $range: [5, 0, -2] })).toBe('[int:5,int:3,int:1]');
    expect(err({ $range: [0, 5, 0] })).toEqual({ code: 34449, message: '$range requires a non-zero step value' });
    expect(err({ $range: [F(0.5), 5] })).toEqual({
      code: 34444,
      message: '$range requires a starting value that can be represented as a 32-bit integer, found value: 0.5',
    });
    expect(showEv({ $zip: { inputs: [[1, 2], ['a']] } })).toBe('[[int:1,"a"]]');
    expect(showEv({ $zip: { inputs: [[1, 2], ['a']], useLongestLength: true, defaults: [0, 'z'] } })).toBe('[[int:1,"a"],[int:2,"z"]]');
    expect(err({ $zip: { inputs: [[1]], defaults: [1] } })).toEqual({ code: 34466, message: 'cannot specify defaults unless useLongestLength is true' });
    expect(showEv({ $sortArray: { input: [3, 'a', 1, null], sortBy: 1 } })).toBe('[null,int:1,int:3,"a"]');
    expect(showEv({ $sortArray: { input: [{ a: 2 }, { a: 1 }, { b: 0 }], sortBy: { a: -1 } } })).toBe('[{a:int:2},{a:int:1},{b:int:0}]');
    expect(err({ $sortArray: { input: [1], sortBy: 2 } })).toEqual({ code: 2942506, message: 'The $sort element value must be either 1 or -1' });
    expect(err({ $sortArray: { input: [1], sortBy: { a: 2 } } })).toEqual({ code: 2942505, message: 'BadValue: The $sort element value must be either 1 or -1' });
  });
});

describe('sets', () => {
  test('results are ordered sets', () => {
    expect(showEv({ $setUnion: [[3, 1, 2], [2, 4]] })).toBe('[int:1,int:2,int:3,int:4]');
    expect(showEv({ $setUnion: [[I(1)], [F(1)]] })).toBe('[int:1]');
    expect(showEv({ $setIntersection: [[F(1), 2, 3], [I(1)]] })).toBe('[int:1]');
    expect(showEv({ $setIntersection: [[1, 2, 3], [3, 2, 5]] })).toBe('[int:2,int:3]');
    expect(showEv({ $setIntersection: [] })).toBe('[]');
    expect(showEv({ $setDifference: [[3, 1, 3, 2], [2]] })).toBe('[int:3,int:1]');
    expect(ev({ $setEquals: [[1, 2], [2, 1, 1]] })).toBe(true);
    expect(ev({ $setIsSubset: [[1], [1, 2]] })).toBe(true);
    expect(ev({ $anyElementTrue: [[0, null, 2]] })).toBe(true);
    expect(ev({ $allElementsTrue: [[1, []]] })).toBe(true);
    expect(showEv({ $setUnion: [[1], null] })).toBe('null');
  });

  test('errors', () => {
    expect(err({ $setUnion: [[1], 1] })).toEqual({ code: 17043, message: 'All operands of $setUnion must be arrays. One argument is of type: int' });
    expect(err({ $setEquals: [[1], null] })).toEqual({ code: 17044, message: 'All operands of $setEquals must be arrays. 2-th argument is of type: null' });
    expect(err({ $setEquals: [[1]] })).toEqual({ code: 17045, message: '$setEquals needs at least two arguments had: 1' });
    expect(err({ $setIsSubset: [1, []] })).toEqual({ code: 17046, message: 'both operands of $setIsSubset must be arrays. First argument is of type: int' });
    expect(err({ $setDifference: [[], 1] })).toEqual({ code: 17049, message: 'both operands of $setDifference must be arrays. Second argument is of type: int' });
    expect(err({ $anyElementTrue: 1 })).toEqual({ code: 17041, message: "$anyElementTrue's argument must be an array, but is int" });
  });

  test('collation', () => {
    expect(showEv({ $setUnion: [['a', 'A', 'b']] }, {}, { collation: { locale: 'en', strength: 2 } })).toBe('["a","b"]');
  });
});

describe('strings', () => {
  test('byte and code point operators', () => {
    const s = 'héllo';
    expect(showEv({ $strLenBytes: s })).toBe('int:6');
    expect(showEv({ $strLenCP: s })).toBe('int:5');
    expect(showEv({ $substrBytes: [s, 0, 3] })).toBe('"hé"');
    expect(err({ $substrBytes: [s, 0, 2] })).toEqual({
      code: 28657,
      message: '$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character.',
    });
    expect(err({ $substr: [s, 2, 1] })).toEqual({ code: 28656, message: '$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.' });
    expect(showEv({ $substr: [I(12345), 1, -1] })).toBe('"2345"');
    expect(showEv({ $substrCP: [s, 1, 2] })).toBe('"él"');
    expect(showEv({ $substrCP: ['a😀b', 1, 1] })).toBe('"😀"');
    expect(showEv({ $indexOfBytes: [s, 'l'] })).toBe('int:3');
    expect(showEv({ $indexOfCP: [s, 'l'] })).toBe('int:2');
    expect(showEv({ $indexOfCP: ['', ''] })).toBe('int:0');
    expect(showEv({ $indexOfBytes: [null, 'l'] })).toBe('null');
    expect(err({ $indexOfBytes: [1, 'l'] })).toEqual({ code: 40091, message: '$indexOfBytes requires a string as the first argument, found: int' });
    expect(err({ $strLenCP: 1 })).toEqual({ code: 34471, message: '$strLenCP requires a string argument, found: int' });
  });

  test('$concat $toLower $toUpper $strcasecmp $split $trim', () => {
    expect(showEv({ $concat: ['a', 'b'] })).toBe('"ab"');
    expect(showEv({ $concat: ['a', null] })).toBe('null');
    expect(err({ $concat: ['a', 1] })).toEqual({ code: 16702, message: '$concat only supports strings, not int' });
    expect(showEv({ $toUpper: 'aÉé' })).toBe('"AÉé"');
    expect(showEv({ $toLower: I(12) })).toBe('"12"');
    expect(showEv({ $toLower: null })).toBe('""');
    expect(err({ $toLower: true })).toEqual({ code: 16007, message: "can't convert from BSON type bool to String" });
    expect(showEv({ $strcasecmp: ['abc', 'ABD'] })).toBe('int:-1');
    expect(showEv({ $split: ['a,b,,c', ','] })).toBe('["a","b","","c"]');
    expect(err({ $split: ['a', ''] })).toEqual({ code: 40087, message: '$split requires a non-empty separator' });
    expect(showEv({ $trim: { input: '\u2002 x \n' } })).toBe('"x"');
    expect(showEv({ $ltrim: { input: 'xxaxx', chars: 'x' } })).toBe('"axx"');
    expect(showEv({ $rtrim: { input: 'xxaxx', chars: 'x' } })).toBe('"xxa"');
    expect(err({ $trim: { input: 1 } })).toEqual({ code: 50699, message: '$trim requires its input to be a string, got 1 (of type int) instead.' });
    expect(err({ $trim: {} })).toEqual({ code: 50695, message: "$trim requires an 'input' field" });
  });

  test('regular expressions', () => {
    expect(ev({ $regexMatch: { input: 'Hello', regex: '^h', options: 'i' } })).toBe(true);
    expect(ev({ $regexMatch: { input: null, regex: 'a' } })).toBe(false);
    expect(showEv({ $regexFind: { input: 'xaby', regex: new BSONRegExp('(a)(c)?b') } })).toBe('{match:"ab",idx:int:1,captures:["a",null]}');
    expect(showEv({ $regexFindAll: { input: 'éaéa', regex: 'a' } })).toBe('[{match:"a",idx:int:1,captures:[]},{match:"a",idx:int:3,captures:[]}]');
    expect(showEv({ $regexFindAll: { input: 'ab', regex: '' } })).toBe('[{match:"",idx:int:0,captures:[]},{match:"",idx:int:1,captures:[]}]');
    expect(err({ $regexMatch: { input: 'a', regex: 'a', options: 'g' } })).toEqual({ code: 51108, message: '$regexMatch invalid flag in regex options: g' });
    expect(err({ $regexMatch: { input: 1, regex: 'a' } })).toEqual({ code: 51104, message: "$regexMatch needs 'input' to be of type string" });
    expect(err({ $regexMatch: { input: 'a', regex: new BSONRegExp('a', 'i'), options: 'm' } })).toEqual({
      code: 51107,
      message: "$regexMatch: found regex option(s) specified in both 'regex' and 'option' fields",
    });
    expect(err({ $regexMatch: { input: 'a', regex: '(' } }).code).toBe(51111);
    expect(err({ $regexFind: { regex: 'a' } })).toEqual({ code: 31022, message: "$regexFind requires 'input' parameter" });
  });

  test('$replaceOne $replaceAll', () => {
    expect(showEv({ $replaceOne: { input: 'aXbXc', find: 'X', replacement: '-' } })).toBe('"a-bXc"');
    expect(showEv({ $replaceAll: { input: 'aXbXc', find: 'X', replacement: '-' } })).toBe('"a-b-c"');
    expect(showEv({ $replaceAll: { input: 'abc', find: '', replacement: '-' } })).toBe('"-a-b-c-"');
    expect(showEv({ $replaceAll: { input: null, find: 'a', replacement: 'b' } })).toBe('null');
    expect(err({ $replaceOne: { input: 1, find: 'a', replacement: 'b' } })).toEqual({ code: 51746, message: "$replaceOne requires that 'input' be a string, found: 1" });
    expect(err({ $replaceAll: { input: 'é', find: '', replacement: '-' } }).code).toBe(115);
  });
});

describe('types and conversions', () => {
  test('$type and $isNumber', () => {
    const doc = stored({ i: I(1), l: L(1), d: F(1), m: D('1'), s: 'x', o: {}, a: [], n: null, b: true, t: new Date(0), oid: new ObjectId(), ts: new Timestamp({ t: 1, i: 1 }), r: new BSONRegExp('a'), bin: new Binary(Buffer.from('a')), min: new MinKey(), max: new MaxKey(), c: new Code('x') });
    const types = Object.keys(doc).map((k) => ev({ $type: `$${k}` }, doc));
    expect(types).toEqual(['int', 'long', 'double', 'decimal', 'string', 'object', 'array', 'null', 'bool', 'date', 'objectId', 'timestamp', 'regex', 'binData', 'minKey', 'maxKey', 'javascript']);
    expect(ev({ $type: '$nope' })).toBe('missing');
    expect(ev({ $isNumber: D('1') })).toBe(true);
    expect(ev({ $isNumber: '1' })).toBe(false);
  });

  test('numbers convert exactly', () => {
    expect(showEv({ $toDecimal: L('9223372036854775807') })).toBe('decimal:9223372036854775807');
    expect(showEv({ $toDecimal: F(0.1) })).toBe('decimal:0.100000000000000');
    expect(showEv({ $toLong: D('-9.9') })).toBe('long:-9');
    expect(showEv({ $toInt: F(-2.9) })).toBe('int:-2');
    expect(showEv({ $toDouble: L('9007199254740993') })).toBe('double:9007199254740992');
    expect(showEv({ $toDouble: true })).toBe('double:1');
    expect(showEv({ $toLong: new Date(-5) })).toBe('long:-5');
    expect(showEv({ $toDecimal: new Date(5) })).toBe('decimal:5');
    expect(showEv({ $toInt: '-42' })).toBe('int:-42');
    expect(showEv({ $toLong: '9223372036854775807' })).toBe('long:9223372036854775807');
    expect(showEv({ $toDouble: '1.5e3' })).toBe('double:1500');
    expect(showEv({ $toDecimal: '1.50' })).toBe('decimal:1.50');
    expect(showEv({ $toBool: D('0.0') })).toBe('false');
    expect(showEv({ $toBool: 'false' })).toBe('true');
    expect(showEv({ $toString: L(5) })).toBe('"5"');
    expect(showEv({ $toString: D('1.50') })).toBe('"1.50"');
    expect(showEv({ $toString: F(2.5) })).toBe('"2.5"');
    expect(showEv({ $toString: F(-0) })).toBe('"-0"');
    expect(showEv({ $toString: new Date(Date.UTC(2018, 2, 27, 16, 58, 51, 538)) })).toBe('"2018-03-27T16:58:51.538Z"');
    expect(showEv({ $toString: null })).toBe('null');
  });

  test('conversion failures (241) and onError / onNull', () => {
    expect(err({ $toInt: F(2147483648) })).toEqual({ code: 241, message: 'Conversion would overflow target type in $convert with no onError value: 2.14748e+09' });
    expect(err({ $toInt: L(2147483648) })).toEqual({ code: 241, message: 'Conversion would overflow target type in $convert with no onError value: ' });
    expect(err({ $toLong: D('1E+19') })).toEqual({ code: 241, message: 'Conversion would overflow target type in $convert with no onError value: 1E+19' });
    expect(err({ $toInt: F(NaN) })).toEqual({ code: 241, message: 'Attempt to convert NaN value to integer type in $convert with no onError value' });
    expect(err({ $toInt: D('-Infinity') })).toEqual({ code: 241, message: 'Attempt to convert infinity value to integer type in $convert with no onError value' });
    expect(err({ $toDouble: D('1E+400') })).toEqual({ code: 241, message: 'Conversion would overflow target type in $convert with no onError value: 1E+400' });
    expect(err({ $toDate: I(1) })).toEqual({ code: 241, message: 'Unsupported conversion from int to date in $convert with no onError value' });
    expect(err({ $toInt: '1.5' }).code).toBe(241);
    expect(err({ $toObjectId: 'abc' })).toEqual({
      code: 241,
      message: "Failed to parse objectId 'abc' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found 3",
    });
    expect(showEv({ $convert: { input: 'abc', to: 'int', onError: 'bad' } })).toBe('"bad"');
    expect(showEv({ $convert: { input: null, to: 'int', onNull: 'none' } })).toBe('"none"');
    expect(showEv({ $convert: { input: 1, to: null } })).toBe('null');
    expect(showEv({ $convert: { input: 1, to: I(18) } })).toBe('long:1');
    expect(err({ $convert: { input: 1, to: 'nope' } })).toEqual({ code: 2, message: 'Unknown type name: nope' });
    expect(err({ $convert: { input: 1, to: I(99) } })).toEqual({ code: 9, message: "In $convert, numeric value for 'to' does not correspond to a BSON type: 99" });
    expect(err({ $convert: { input: 1 } })).toEqual({ code: 9, message: "Missing 'to' parameter to $convert" });
    expect(err({ $convert: { input: 1, to: 'int', format: 'x' } })).toEqual({ code: 9, message: '$convert found an unknown argument: format' });
    expect(err({ $toInt: [1, 2] })).toEqual({ code: 50723, message: '$toInt requires a single argument, got 2' });
    expect(err({ $convert: { input: 1, to: 'missing' } })).toEqual({ code: 241, message: 'Unsupported conversion from int to missing in $convert with no onError value' });
  });

  test('strings, dates and ObjectIds', () => {
    const oid = new ObjectId('5ab9c3da31c2ab715d421285');
    expect(showEv({ $toString: oid })).toBe('"5ab9c3da31c2ab715d421285"');
    expect((ev({ $toObjectId: '5ab9c3da31c2ab715d421285' }) as ObjectId).equals(oid)).toBe(true);
    expect(showEv({ $toDate: oid })).toBe(`date:${oid.getTimestamp().getTime()}`);
    expect(showEv({ $toDate: '2018-03-27T16:58:51.538+01:00' })).toBe(`date:${Date.UTC(2018, 2, 27, 15, 58, 51, 538)}`);
    expect(showEv({ $toDate: L(1234) })).toBe('date:1234');
    expect(showEv({ $toDate: new Timestamp({ t: 5, i: 1 }) })).toBe('date:5000');
    expect(err({ $toDate: 'next tuesday' }).code).toBe(115);
    // doubles print the same in every mongod release here, or are refused
    expect(err({ $toString: F(1234567.5) }).code).toBe(115);
  });
});

describe('objects', () => {
  test('$mergeObjects', () => {
    expect(showEv({ $mergeObjects: [{ a: 1, b: 2 }, null, { a: 3, c: '$missing' }] })).toBe('{a:int:3,b:int:2}');
    expect(err({ $mergeObjects: [1] })).toEqual({ code: 40400, message: '$mergeObjects requires object inputs, but input 1 is of type int' });
  });

  test('$getField $setField $unsetField', () => {
    const doc = stored({ 'a.b': I(1), $x: I(2), a: { b: I(3) } });
    expect(showEv({ $getField: 'a.b' }, doc)).toBe('int:1');
    expect(showEv({ $getField: { $literal: '$x' } }, doc)).toBe('int:2');
    expect(showEv({ $getField: { field: 'b', input: '$a' } }, doc)).toBe('int:3');
    expect(showEv({ $getField: { field: 'b', input: null } })).toBe('null');
    expect(showEv({ $getField: { field: 'b', input: 5 } })).toBe('missing');
    expect(err({ $getField: '$a' })).toEqual({
      code: 5654600,
      message: "'$CURRENT.a' is a field path reference which is not allowed in this context. Did you mean {$literal: '$CURRENT.a'}?",
    });
    expect(err({ $getField: { field: { $concat: ['a'] }, input: {} } })).toEqual({
      code: 5654601,
      message: "$getField requires 'field' to evaluate to a constant, but got a non-constant argument",
    });
    expect(err({ $getField: 5 })).toEqual({ code: 5654602, message: "$getField requires 'field' to evaluate to type String, but got int" });
    expect(err({ $getField: { field: 'a', x: 1 } })).toEqual({ code: 3041701, message: '$getField found an unknown argument: x' });
    expect(showEv({ $setField: { field: 'a.b', input: { x: 1 }, value: 2 } })).toBe('{x:int:1,a.b:int:2}');
    expect(showEv({ $setField: { field: 'x', input: { x: 1, y: 2 }, value: 5 } })).toBe('{x:int:5,y:int:2}');
    expect(showEv({ $unsetField: { field: 'x', input: { x: 1, y: 2 } } })).toBe('{y:int:2}');
    expect(err({ $setField: { field: 'x', input: 1, value: 1 } })).toEqual({ code: 4161105, message: "$setField requires 'input' to evaluate to type Object" });
    expect(err({ $unsetField: { field: 'x', input: {}, value: 1 } })).toEqual({ code: 4161101, message: '$unsetField found an unknown argument: value' });
    expect(err({ $setField: { field: '$$x', input: {}, value: 1 } }, {}, {}).code).toBe(17276);
    expect(err({ $setField: { field: 1, input: {}, value: 1 } })).toEqual({ code: 4161107, message: "$setField requires 'field' to evaluate to type String, but got int" });
  });

  test('$objectToArray $arrayToObject', () => {
    expect(showEv({ $objectToArray: { a: 1, b: 'x' } })).toBe('[{k:"a",v:int:1},{k:"b",v:"x"}]');
    expect(showEv({ $arrayToObject: [[['a', 1], ['b', 2], ['a', 3]]] })).toBe('{a:int:3,b:int:2}');
    expect(showEv({ $arrayToObject: [[{ k: 'a', v: 1 }]] })).toBe('{a:int:1}');
    expect(err({ $arrayToObject: [[['a']]] })).toEqual({ code: 40397, message: '$arrayToObject requires an array of size 2 arrays,found array of size: 1' });
    expect(err({ $arrayToObject: [[1]] })).toEqual({ code: 40398, message: 'Unrecognised input type format for $arrayToObject: int' });
    expect(err({ $objectToArray: 1 })).toEqual({ code: 40390, message: '$objectToArray requires a document input, found: int' });
  });

  test('$bsonSize $tsSecond $tsIncrement', () => {
    expect(showEv({ $bsonSize: { $literal: { a: 1 } } })).toBe('int:12');
    expect(showEv({ $tsSecond: new Timestamp({ t: 4294967295, i: 2 }) })).toBe('long:4294967295');
    expect(showEv({ $tsIncrement: new Timestamp({ t: 1, i: 2 }) })).toBe('long:2');
    expect(err({ $tsSecond: 1 })).toEqual({ code: 5687301, message: ' Argument to $tsSecond must be a timestamp, but is int' });
  });
});

describe('dates (UTC and fixed offsets)', () => {
  const doc = stored({ d: new Date('2021-01-03T23:59:58.123Z') });
  test('extractors', () => {
    expect(showEv({ $year: '$d' }, doc)).toBe('int:2021');
    expect(showEv({ $month: '$d' }, doc)).toBe('int:1');
    expect(showEv({ $dayOfMonth: '$d' }, doc)).toBe('int:3');
    expect(showEv({ $hour: '$d' }, doc)).toBe('int:23');
    expect(showEv({ $millisecond: '$d' }, doc)).toBe('int:123');
    expect(showEv({ $dayOfWeek: '$d' }, doc)).toBe('int:1');
    expect(showEv({ $isoDayOfWeek: '$d' }, doc)).toBe('int:7');
    expect(showEv({ $isoWeek: '$d' }, doc)).toBe('int:53');
    expect(showEv({ $isoWeekYear: '$d' }, doc)).toBe('long:2020');
    expect(showEv({ $week: '$d' }, doc)).toBe('int:1');
    expect(showEv({ $dayOfYear: '$d' }, doc)).toBe('int:3');
    expect(showEv({ $hour: { date: '$d', timezone: '+01:00' } }, doc)).toBe('int:0');
    expect(showEv({ $dayOfMonth: { date: '$d', timezone: '-0130' } }, doc)).toBe('int:3');
    expect(showEv({ $year: [new Date(-1)] })).toBe('int:1969');
    expect(showEv({ $millisecond: new Date(-1) })).toBe('int:999');
    expect(showEv({ $year: null })).toBe('null');
    expect(showEv({ $year: { date: '$d', timezone: null } }, doc)).toBe('null');
    expect(showEv({ $second: new Timestamp({ t: 61, i: 0 }) })).toBe('int:1');
    expect(err({ $year: 'x' })).toEqual({ code: 16006, message: "can't convert from BSON type string to Date" });
    expect(err({ $year: { date: '$d', timezone: 5 } }, doc)).toEqual({ code: 40533, message: '$year requires a string for the timezone argument, but was given a int (5)' });
    expect(err({ $year: { date: '$d', x: 1 } })).toEqual({ code: 40535, message: 'unrecognized option to $year: "x"' });
    expect(err({ $year: [1, 2] })).toEqual({ code: 40536, message: '$year accepts exactly one argument if given an array, but was given 2' });
    expect(showEv({ $hour: { date: '$d', timezone: 'America/New_York' } }, doc)).toBe('int:18');
  });

  test('$dateToString and $dateToParts', () => {
    expect(showEv({ $dateToString: { date: '$d' } }, doc)).toBe('"2021-01-03T23:59:58.123Z"');
    expect(showEv({ $dateToString: { date: '$d', format: '%d/%m/%Y %H:%M:%S.%L %j %w %u %U %V %G %z %Z %%' } }, doc)).toBe(
      '"03/01/2021 23:59:58.123 003 1 7 01 53 2020 +0000 0 %"',
    );
    expect(showEv({ $dateToString: { date: '$d', format: '%H:%M %z %Z', timezone: '+05:30' } }, doc)).toBe('"05:29 +0530 330"');
    expect(showEv({ $dateToString: { date: '$missing', onNull: 'none' } })).toBe('"none"');
    expect(err({ $dateToString: { date: '$d', format: '%Q' } }, doc)).toEqual({ code: 18536, message: "Invalid format character '%Q' in format string" });
    expect(err({ $dateToString: { date: '$d', format: 'x%' } }, doc)).toEqual({ code: 18535, message: "Unmatched '%' at end of format string" });
    expect(err({ $dateToString: { format: '%Y' } })).toEqual({ code: 18628, message: "Missing 'date' parameter to $dateToString" });
    expect(showEv({ $dateToParts: { date: '$d' } }, doc)).toBe('{year:int:2021,month:int:1,day:int:3,hour:int:23,minute:int:59,second:int:58,millisecond:int:123}');
    expect(showEv({ $dateToParts: { date: '$d', iso8601: true } }, doc)).toBe(
      '{isoWeekYear:int:2020,isoWeek:int:53,isoDayOfWeek:int:7,hour:int:23,minute:int:59,second:int:58,millisecond:int:123}',
    );
  });
});

describe('evaluation does not re-parse', () => {
  test('a compiled expression evaluates many documents', () => {
    const c = compileExpression({ $map: { input: '$xs', in: { $multiply: ['$$this', '$k'] } } });
    const docs = [stored({ xs: [I(1), I(2)], k: I(3) }), stored({ xs: [L(4)], k: F(0.5) })];
    expect(docs.map((d) => show(c.evaluate(scopeFor(d, NOW))))).toEqual(['[int:3,int:6]', '[double:2]']);
  });
});

// ---------------------------------------------------------------------------------------------
// Arbitraries and references

function bsonNumber(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.integer({ min: -2147483648, max: 2147483647 }).map(I),
    fc.constantFrom(I(0), I(-1), I(2147483647), I(-2147483648)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(L),
    fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map(L),
    fc.double().map(F),
    fc.constantFrom(F(0), F(-0), F(NaN), F(Infinity), F(0.5), F(-2.5), F(1e300)),
    fc
      .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: -30, max: 30 }))
      .map(([c, e]) => D(`${c}E${e}`)),
    fc.constantFrom(D('0'), D('-0.00'), D('NaN'), D('Infinity'), D('1.10'), D('2')),
  );
}

function bsonValue(): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    bsonNumber(),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.integer({ min: -1e12, max: 1e12 }).map((n) => new Date(n)),
    fc.constant(new ObjectId('5ab9c3da31c2ab715d421285')),
    fc.constant(new Timestamp({ t: 1, i: 2 })),
    fc.constant(new Binary(Buffer.from('x'))),
    fc.constant(new BSONRegExp('a', 'i')),
    fc.constant(new MinKey()),
    fc.constant(new MaxKey()),
    fc.constant(new Code('f')),
  );
  return fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }).filter((k) => !k.startsWith('$') && !k.includes('.') && !k.includes('\0')), scalar, { maxKeys: 3 }));
}

/** Value::coerceToBool, written independently of the implementation. */
function referenceTruth(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v instanceof Int32 || v instanceof Double) return v.value !== 0;
  if (v instanceof Long) return v.toBigInt() !== 0n;
  if (v instanceof Decimal128) return !/^-?0(\.0*)?(E[+-]\d+)?$/.test(v.toString());
  return true;
}
