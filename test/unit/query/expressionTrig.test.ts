// Trigonometry, $firstN/$lastN/$maxN/$minN and $percentile/$median (expressions and $group
// accumulators) on stored BSON values, with mongod 7.0's types, codes and messages.
import { Decimal128, Double, Int32, Long, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mongoError as failure } from '../../helpers/mongoErrors.js';
import { runPipeline } from '../../../src/query/aggregation/run.js';
import { compileExpression, scopeFor, type ExpressionOptions } from '../../../src/query/expression/compile.js';
import { numericType, type BsonNumber } from '../../../src/query/numeric.js';

const D = (s: string): Decimal128 => Decimal128.fromString(s);
const I = (n: number): Int32 => new Int32(n);
const L = (n: bigint | number): Long => Long.fromBigInt(BigInt(n));
const F = (n: number): Double => new Double(n);
const NOW = new Date('2024-05-06T07:08:09.010Z');

function ev(expr: unknown, doc: Document = {}, options?: ExpressionOptions): unknown {
  return compileExpression(expr, options).evaluate(scopeFor(doc, NOW));
}


function err(expr: unknown, doc: Document = {}, options?: ExpressionOptions): { code: number; message: string } {
  return failure(() => ev(expr, doc, options));
}

/** A value as `type:value` (decimals by their digits, doubles with the sign of zero); arrays element-wise. */
function show(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(show);
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  const t = numericType(v);
  if (t === undefined) return v;
  if (t === 'double') {
    const x = (v as Double).value;
    return `double:${Object.is(x, -0) ? '-0' : String(x)}`;
  }
  return `${t}:${(v as BsonNumber).toString()}`;
}

const refused = { code: 115 };

describe('trigonometry', () => {
  test('int, long and double operands compute as doubles and give a Double', () => {
    expect(show(ev({ $sin: I(1) }))).toBe(`double:${Math.sin(1)}`);
    expect(show(ev({ $cos: L(2) }))).toBe(`double:${Math.cos(2)}`);
    expect(show(ev({ $tan: F(0.5) }))).toBe(`double:${Math.tan(0.5)}`);
    expect(show(ev({ $asin: F(0.5) }))).toBe(`double:${Math.asin(0.5)}`);
    expect(show(ev({ $acos: I(-1) }))).toBe(`double:${Math.PI}`);
    expect(show(ev({ $atan: I(1) }))).toBe(`double:${Math.atan(1)}`);
    expect(show(ev({ $sinh: I(1) }))).toBe(`double:${Math.sinh(1)}`);
    expect(show(ev({ $cosh: I(1) }))).toBe(`double:${Math.cosh(1)}`);
    expect(show(ev({ $tanh: I(1) }))).toBe(`double:${Math.tanh(1)}`);
    expect(show(ev({ $asinh: I(1) }))).toBe(`double:${Math.asinh(1)}`);
    expect(show(ev({ $acosh: I(1) }))).toBe('double:0');
    expect(show(ev({ $acosh: F(Infinity) }))).toBe('double:Infinity');
    expect(show(ev({ $atanh: F(1) }))).toBe('double:Infinity');
    expect(show(ev({ $atanh: [F(-0)] }))).toBe('double:-0');
    expect(show(ev({ $sin: '$a' }, { a: L(3) }))).toBe(`double:${Math.sin(3)}`);
  });

  test('null and missing give null; other types are 28765; the arity is 16020', () => {
    expect(ev({ $sin: null })).toBeNull();
    expect(ev({ $acos: '$missing' })).toBeNull();
    expect(ev({ $atan2: [null, I(1)] })).toBeNull();
    expect(ev({ $atan2: [I(1), '$missing'] })).toBeNull();
    expect(err({ $sin: 'x' })).toEqual({ code: 28765, message: '$sin only supports numeric types, not string' });
    expect(err({ $acosh: [true] })).toEqual({ code: 28765, message: '$acosh only supports numeric types, not bool' });
    expect(err({ $radiansToDegrees: [[1]] })).toEqual({ code: 28765, message: '$radiansToDegrees only supports numeric types, not array' });
    expect(err({ $cos: [1, 2] })).toEqual({ code: 16020, message: 'Expression $cos takes exactly 1 arguments. 2 were passed in.' });
    expect(err({ $atan2: [1] })).toEqual({ code: 16020, message: 'Expression $atan2 takes exactly 2 arguments. 1 were passed in.' });
  });

  test('out of bounds is 50989, the numbers printed as "%g" and decimals by their digits', () => {
    expect(err({ $acos: I(2) })).toEqual({ code: 50989, message: 'cannot apply $acos to 2, value must in [-1,1]' });
    expect(err({ $asin: F(-1.0000001) })).toEqual({ code: 50989, message: 'cannot apply $asin to -1, value must in [-1,1]' });
    expect(err({ $atanh: F(1.5) })).toEqual({ code: 50989, message: 'cannot apply $atanh to 1.5, value must in [-1,1]' });
    expect(err({ $acosh: F(0.5) })).toEqual({ code: 50989, message: 'cannot apply $acosh to 0.5, value must in [1,inf]' });
    expect(err({ $sin: F(Infinity) })).toEqual({ code: 50989, message: 'cannot apply $sin to inf, value must in (-inf,inf)' });
    expect(err({ $tan: F(-Infinity) })).toEqual({ code: 50989, message: 'cannot apply $tan to -inf, value must in (-inf,inf)' });
    expect(show(ev({ $cos: L(123456789) }))).toBe(`double:${Math.cos(123456789)}`);
    expect(err({ $acos: D('1.0000000000000000000000000000001') })).toEqual({
      code: 50989,
      message: 'cannot apply $acos to 1.0000000000000000000000000000001, value must in [-1,1]',
    });
    expect(err({ $sin: D('-Infinity') })).toEqual({ code: 50989, message: 'cannot apply $sin to -Infinity, value must in (-inf,inf)' });
  });

  test('a NaN operand of a bounded function is returned itself', () => {
    const nan = F(NaN);
    expect(ev({ $acos: '$a' }, { a: nan })).toBe(nan);
    const dnan = D('NaN');
    expect(ev({ $sin: '$a' }, { a: dnan })).toBe(dnan);
    expect(show(ev({ $atan: F(NaN) }))).toBe('double:NaN');
  });

  test('decimal operands are refused (115) after the bounds check', () => {
    expect(err({ $sin: D('0.5') })).toMatchObject(refused);
    expect(err({ $acos: D('1') })).toMatchObject(refused);
    expect(err({ $sinh: D('1') })).toMatchObject(refused);
    expect(err({ $atan2: [D('1'), I(1)] })).toMatchObject(refused);
    expect(err({ $atan2: [I(1), D('1')] })).toMatchObject(refused);
    expect(err({ $sin: D('0.5') }).message).toBe("pocketmongo does not support $sin of a decimal value (Decimal128's trigonometric functions) yet");
  });

  test('$atan2 checks the first operand before evaluating the second (51044, 51045)', () => {
    expect(show(ev({ $atan2: [I(1), L(2)] }))).toBe(`double:${Math.atan2(1, 2)}`);
    expect(show(ev({ $atan2: [F(-0), F(-1)] }))).toBe(`double:${-Math.PI}`);
    expect(ev({ $atan2: [null, { $divide: [1, 0] }] })).toBeNull();
    expect(err({ $atan2: ['a', { $divide: [1, 0] }] })).toEqual({ code: 51044, message: '$atan2 only supports numeric types, not string' });
    expect(err({ $atan2: [I(1), 'a'] })).toEqual({ code: 51045, message: '$atan2 only supports numeric types, not string' });
  });

  test('$degreesToRadians / $radiansToDegrees: doubles by pi/180, decimals by Decimal128::kPiOver180 exactly', () => {
    expect(show(ev({ $degreesToRadians: I(180) }))).toBe(`double:${180 * (Math.PI / 180)}`);
    expect(show(ev({ $radiansToDegrees: F(Math.PI) }))).toBe(`double:${Math.PI * (180 / Math.PI)}`);
    expect(show(ev({ $degreesToRadians: F(Infinity) }))).toBe('double:Infinity');
    expect(ev({ $radiansToDegrees: null })).toBeNull();
    // the example of mongod's documentation (its stored angle_a is the input's ...0659)
    expect(show(ev({ $degreesToRadians: D('53.13010235415597870314438744090659') }))).toBe('decimal:0.9272952180016122324285124629224290');
    expect(show(ev({ $degreesToRadians: D('36.86989764584402129685561255909341') }))).toBe('decimal:0.6435011087932843868028092287173227');
    expect(show(ev({ $degreesToRadians: D('90') }))).toBe('decimal:1.570796326794896619231321691639752');
    expect(show(ev({ $degreesToRadians: D('180') }))).toBe('decimal:3.141592653589793238462643383279503');
    expect(show(ev({ $radiansToDegrees: D('1') }))).toBe('decimal:57.29577951308232087679815481410517');
    expect(show(ev({ $radiansToDegrees: D('NaN') }))).toBe('decimal:NaN');
  });
});

describe('$firstN $lastN $maxN $minN', () => {
  test('$firstN and $lastN take the ends of the array, missing as null', () => {
    const a = I(1);
    const out = ev({ $firstN: { n: 2, input: '$x' } }, { x: [a, 'b', 3] }) as unknown[];
    expect(out).toEqual([a, 'b']);
    expect(out[0]).toBe(a);
    expect(ev({ $lastN: { input: [1, 2, 3], n: L(2) } })).toEqual([2, 3]);
    expect(ev({ $lastN: { input: [1, 2, 3], n: F(10) } })).toEqual([1, 2, 3]);
    expect(ev({ $firstN: { input: [], n: D('1') } })).toEqual([]);
    expect(ev({ $firstN: { input: ['$nothing', 1], n: 1 } })).toEqual([null]);
  });

  test('$maxN / $minN ignore nullish values and order by BSON order', () => {
    expect(ev({ $maxN: { n: 3, input: [1, 5, null, 3, 5, 2] } })).toEqual([5, 5, 3]);
    expect(ev({ $minN: { n: 3, input: [3, 'x', null, 1, '$nothing'] } })).toEqual([1, 3, 'x']);
    expect(ev({ $minN: { n: 5, input: [null] } })).toEqual([]);
    // Decimal 2.0 and Long 2 are equal: $maxN lists the later one first
    expect(show(ev({ $maxN: { n: 2, input: [I(1), D('2.0'), L(2)] } }))).toEqual(['long:2', 'decimal:2.0']);
  });

  test('equal elements: the earliest are kept; $maxN lists them latest first (the multiset read backwards)', () => {
    const ci: ExpressionOptions = { collation: { locale: 'en', strength: 2 } };
    expect(ev({ $maxN: { n: 3, input: ['a', 'B', 'A'] } }, {}, ci)).toEqual(['B', 'A', 'a']);
    expect(ev({ $minN: { n: 3, input: ['a', 'B', 'A'] } }, {}, ci)).toEqual(['a', 'A', 'B']);
    expect(ev({ $maxN: { n: 1, input: ['a', 'A'] } }, {}, ci)).toEqual(['a']);
    expect(ev({ $minN: { n: 1, input: ['A', 'a'] } }, {}, ci)).toEqual(['A']);
    expect(ev({ $maxN: { n: 2, input: ['a', 'A', 'a'] } }, {}, ci)).toEqual(['A', 'a']);
  });

  test('the spec errors (5787801, 5787900, 5787901, 5787906, 5787907)', () => {
    expect(err({ $firstN: 1 })).toEqual({ code: 5787801, message: 'specification must be an object; found $firstN: 1' });
    expect(err({ $lastN: 'x' })).toEqual({ code: 5787801, message: 'specification must be an object; found $lastN: "x"' });
    expect(err({ $minN: [1, 2] })).toEqual({ code: 5787900, message: 'specification must be an object; found $minN: [ 1, 2 ]' });
    expect(err({ $maxN: { n: 1, input: [], k: 1 } })).toEqual({ code: 5787901, message: "Unknown argument for 'n' operator: k" });
    expect(err({ $maxN: { input: [] } })).toEqual({ code: 5787906, message: "Missing value for 'n'" });
    expect(err({ $firstN: { n: 1 } })).toEqual({ code: 5787907, message: "Missing value for 'input'" });
    // the arguments parse in order: the input's error before the unknown field
    expect(err({ $firstN: { input: { $nope: 1 }, k: 1 } })).toEqual({ code: 168, message: "Unrecognized expression '$nope'" });
  });

  test("'n' is checked before the input is evaluated (5787902, 5787903, 5787908, 5788200)", () => {
    const m = "Value for 'n' must be of integral type, but found ";
    expect(err({ $firstN: { n: 'a', input: 'x' } })).toEqual({ code: 5787902, message: `${m}"a"` });
    expect(err({ $firstN: { n: '$nothing', input: [] } })).toEqual({ code: 5787902, message: `${m}MISSING` });
    expect(err({ $lastN: { n: F(2.5), input: 'x' } })).toEqual({ code: 5787903, message: `${m}2.5` });
    expect(err({ $lastN: { n: D('1.5'), input: [] } })).toEqual({ code: 5787903, message: `${m}1.5` });
    expect(err({ $maxN: { n: 0, input: 'x' } })).toEqual({ code: 5787908, message: "'n' must be greater than 0, found 0" });
    expect(err({ $minN: { n: L(-3), input: [] } })).toEqual({ code: 5787908, message: "'n' must be greater than 0, found -3" });
    expect(err({ $minN: { n: 1, input: 'x' } })).toEqual({ code: 5788200, message: 'Input must be an array' });
    expect(err({ $minN: { n: 1, input: null } })).toEqual({ code: 5788200, message: 'Input must be an array' });
  });

  test('the expressions agree with the $group accumulators of accumulators.ts (property)', () => {
    const value = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', null));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 12 }), fc.integer({ min: 1, max: 6 }), (values, n) => {
        const docs = values.map((v, i) => ({ _id: i, v }));
        const [grouped] = runPipeline(
          [
            {
              $group: {
                _id: null,
                firstN: { $firstN: { n, input: '$v' } },
                lastN: { $lastN: { n, input: '$v' } },
                maxN: { $maxN: { n, input: '$v' } },
                minN: { $minN: { n, input: '$v' } },
              },
            },
          ],
          docs,
        );
        for (const op of ['firstN', 'lastN', 'maxN', 'minN']) {
          const expr = ev({ [`$${op}`]: { n, input: values } });
          expect(show(expr)).toEqual(show(grouped === undefined ? [] : grouped[op]));
        }
      }),
    );
  });
});

describe('$percentile and $median expressions', () => {
  const P = (input: unknown, p: unknown): unknown => ({ $percentile: { input, p, method: 'approximate' } });
  const M = (input: unknown): unknown => ({ $median: { input, method: 'approximate' } });

  test('the discrete percentile of the numbers: rank max(0, ceil(n*p) - 1), results Doubles', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(show(ev(P(ten, [0.1, 0.5, 0.95, 1, 0])))).toEqual(['double:1', 'double:5', 'double:10', 'double:10', 'double:1']);
    expect(show(ev(M([I(3), L(1), D('2.5'), 'x', null, F(10)])))).toBe('double:2.5');
    expect(show(ev(M([4, 1, 3, 2])))).toBe('double:2');
    expect(show(ev(P('$a', [0.25, 0.75]), { a: [F(NaN), 7, 5] }))).toEqual(['double:5', 'double:7']);
    expect(show(ev(P([F(-Infinity), 1, 2, F(Infinity)], [0, 0.5, 0.6, 1])))).toEqual([
      'double:-Infinity',
      'double:1',
      'double:2',
      'double:Infinity',
    ]);
  });

  test('a number gives itself for every p; other values and empty arrays give nulls', () => {
    expect(show(ev(P(I(7), [0.2, 0.9])))).toEqual(['double:7', 'double:7']);
    expect(show(ev(M(D('2.50'))))).toBe('double:2.5');
    expect(show(ev(M(F(NaN))))).toBe('double:NaN');
    expect(ev(P('x', [0.5, 1]))).toEqual([null, null]);
    expect(ev(P([], [0.5]))).toEqual([null]);
    expect(ev(M(['a', null]))).toBeNull();
    expect(ev(M('$missing'))).toBeNull();
  });

  test('a zero of numbers holding both 0 and -0 is refused; one sign is kept', () => {
    expect(err(M([F(-0), 0, 1]))).toMatchObject(refused);
    expect(show(ev(M([F(-0), 5])))).toBe('double:-0');
    expect(show(ev(M([F(-0), 0, 5, 6, 7])))).toBe('double:5');
  });

  test('the spec: IDL errors in field order, then input, then p', () => {
    expect(err({ $percentile: 1 })).toEqual({ code: 7436200, message: 'specification must be an object; found $percentile: 1' });
    expect(err({ $median: [1] })).toEqual({ code: 7436201, message: 'specification must be an object; found $median: [ 1 ]' });
    expect(err({ $percentile: { input: 1, foo: 1, method: 'x' } })).toEqual({ code: 40415, message: "BSON field '$percentile.foo' is an unknown field." });
    expect(err({ $median: { input: 1, p: [0.5], method: 'approximate' } })).toEqual({ code: 40415, message: "BSON field '$median.p' is an unknown field." });
    expect(err({ $percentile: { method: 'discrete', foo: 1 } })).toEqual({ code: 2, message: "Currently only 'approximate' can be used as percentile 'method'." });
    expect(err({ $median: { input: 1, method: 1 } })).toEqual({ code: 14, message: "BSON field '$median.method' is the wrong type 'int', expected type 'string'" });
    expect(err({ $percentile: { method: 'approximate' } })).toEqual({ code: 40414, message: "BSON field '$percentile.input' is missing but a required field" });
    expect(err({ $percentile: { input: 1, method: 'approximate' } })).toEqual({ code: 40414, message: "BSON field '$percentile.p' is missing but a required field" });
    expect(err({ $median: { input: 1 } })).toEqual({ code: 40414, message: "BSON field '$median.method' is missing but a required field" });
    expect(err(P({ $nope: 1 }, 'x'))).toEqual({ code: 168, message: "Unrecognized expression '$nope'" });
  });

  test("'p' must be a constant non-empty array of numbers in [0, 1] (7750300-7750303)", () => {
    const m = "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: ";
    expect(err(P(1, '$a'))).toEqual({ code: 7750300, message: `The $percentile 'p' field must be an array of constant values, but found value: "$a".` });
    expect(err(P(1, [0.5, '$a']))).toMatchObject({ code: 7750300 });
    expect(err(P(1, []))).toEqual({ code: 7750301, message: `${m}[]` });
    expect(err(P(1, F(0.5)))).toEqual({ code: 7750301, message: `${m}0.5` });
    expect(err(P(1, [0.5, 'a']))).toEqual({ code: 7750302, message: `${m}"a"` });
    expect(err(P(1, [F(1.5)]))).toEqual({ code: 7750303, message: `${m}1.5` });
    expect(err(P(1, [F(-0.1)]))).toEqual({ code: 7750303, message: `${m}-0.1` });
    expect(show(ev(P([1, 2], [{ $add: [0.25, 0.25] }, { $literal: 1 }])))).toEqual(['double:1', 'double:2']);
    expect(err(P(1, '$$ps'), {}, { variables: ['ps'] })).toMatchObject(refused);
  });
});

describe('$percentile and $median accumulators', () => {
  const docs = (values: unknown[]): Document[] => values.map((v, i) => ({ _id: i, v }));
  const group = (acc: Document, values: unknown[]): unknown => runPipeline([{ $group: { _id: null, r: acc } }], docs(values))[0]?.r;
  const P = (p: unknown[]): Document => ({ $percentile: { input: '$v', p, method: 'approximate' } });
  const M: Document = { $median: { input: '$v', method: 'approximate' } };

  test('the numbers as doubles, non-numbers ignored: the discrete percentiles while no centroid merges', () => {
    expect(show(group(P([0.1, 0.5, 0.95, 1, 0]), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 'x', null, [1]]))).toEqual([
      'double:1',
      'double:5',
      'double:10',
      'double:10',
      'double:1',
    ]);
    expect(show(group(M, [L(5), D('1.5'), I(3)]))).toBe('double:3');
    expect(show(group(P([0.5, 1]), ['a', null]))).toEqual(['null', 'null']);
    expect(group(M, ['a'])).toBeNull();
    expect(show(group(P([0, 1]), [F(Infinity), 1, F(-Infinity)]))).toEqual(['double:-Infinity', 'double:Infinity']);
  });

  test('exact up to 1000 numbers; more are refused (mongod interpolates in its t-digest)', () => {
    const thousand = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    expect(show(group(P([0.5, 0.999, 0.001]), thousand))).toEqual(['double:500', 'double:999', 'double:1']);
    expect(failure(() => group(M, [...thousand, 0]))).toMatchObject(refused);
  });

  test("the maximum / minimum mongod reads from its digest's initial values are refused", () => {
    expect(failure(() => group(P([1]), [-3, -1]))).toMatchObject(refused);
    expect(show(group(P([0.99, 0]), [-3, -1]))).toEqual(['double:-1', 'double:-3']);
    expect(failure(() => group(P([0]), [F(Infinity)]))).toMatchObject(refused);
    expect(show(group(P([1]), [F(Infinity)]))).toEqual(['double:Infinity']);
  });

  test('the spec errors of the accumulators (7429703, 7436100, 40237) and the shared IDL ones', () => {
    const fails = (acc: Document): { code: number; message: string } => failure(() => runPipeline([{ $group: { _id: null, r: acc } }], []));
    expect(fails({ $percentile: 1 })).toEqual({ code: 7429703, message: 'specification must be an object; found $percentile: 1' });
    expect(fails({ $median: 'x' })).toEqual({ code: 7436100, message: 'specification must be an object; found $median: "x"' });
    expect(fails({ $median: [] })).toEqual({ code: 40237, message: 'The $median accumulator is a unary operator' });
    expect(fails({ $median: { input: 1, method: 'continuous' } })).toEqual({
      code: 2,
      message: "Currently only 'approximate' can be used as percentile 'method'.",
    });
    expect(fails({ $percentile: { input: '$v', p: [2], method: 'approximate' } })).toEqual({
      code: 7750303,
      message: "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: 2",
    });
  });

  test('$accumulator is server-side JavaScript: refused with 115 when the stage is parsed, never run elsewhere', () => {
    const spec = { $accumulator: { init: 'function() { return 0 }', accumulate: 'function(s) { return s }', accumulateArgs: [], merge: 'function(a) { return a }', lang: 'js' } };
    expect(failure(() => runPipeline([{ $group: { _id: null, r: spec } }], docs([1])))).toEqual({
      code: 115,
      message: 'pocketmongo does not support server-side JavaScript ($accumulator) yet',
    });
    expect(failure(() => runPipeline([{ $group: { _id: null, r: spec } }], []))).toEqual({
      code: 115,
      message: 'pocketmongo does not support server-side JavaScript ($accumulator) yet',
    });
  });
});
