import { Decimal128, Double, Int32, Long } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mongoError } from '../../helpers/mongoErrors.js';
import {
  decimalAdd,
  decimalDivide,
  decimalFromBigInt,
  decimalFromDouble,
  decimalMultiply,
  decimalSubtract,
} from '../../../src/query/decimal128.js';
import {
  abs,
  add,
  AvgAccumulator,
  compareNumbers,
  cppDoubleText,
  divide,
  incValue,
  isBsonNumber,
  mod,
  mulValue,
  multiply,
  numberEquals,
  numericType,
  round,
  subtract,
  SumAccumulator,
  toBsonNumber,
  toDecimal,
  toDouble,
  trunc,
  type BsonNumber,
} from '../../../src/query/numeric.js';

const D = (s: string): Decimal128 => Decimal128.fromString(s);
const I = (n: number): Int32 => new Int32(n);
const L = (n: bigint | number | string): Long =>
  typeof n === 'bigint' ? Long.fromBigInt(n) : typeof n === 'string' ? Long.fromString(n) : Long.fromNumber(n);
const F = (n: number): Double => new Double(n);
const hex = (d: Decimal128): string => Buffer.from(d.bytes).toString('hex');

/** A result as `type:value` (decimals with their exact cohort, doubles with the sign of zero). */
function show(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Date) return `date:${v.getTime()}`;
  const t = numericType(v);
  if (t === undefined) throw new Error(`not a number: ${String(v)}`);
  if (t === 'double') {
    const x = (v as Double).value;
    return `double:${Object.is(x, -0) ? '-0' : String(x)}`;
  }
  return `${t}:${(v as BsonNumber).toString()}`;
}


const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const arbInt32 = fc.oneof(fc.constantFrom(0, 1, -1, INT32_MIN, INT32_MAX), fc.integer({ min: INT32_MIN, max: INT32_MAX }));
const arbInt64 = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, INT64_MIN, INT64_MAX, 2n ** 53n, -(2n ** 53n) - 1n),
  fc.bigInt(INT64_MIN, INT64_MAX),
  fc.bigInt(-(2n ** 40n), 2n ** 40n),
);
const arbDouble = fc.oneof(
  fc.constantFrom(0, -0, 0.5, -1.5, 5e-324, Number.MAX_VALUE, Infinity, -Infinity, NaN),
  fc.double(),
);

const inInt32 = (x: bigint): boolean => x >= BigInt(INT32_MIN) && x <= BigInt(INT32_MAX);
const inInt64 = (x: bigint): boolean => x >= INT64_MIN && x <= INT64_MAX;
const intOrLongShow = (x: bigint): string => (inInt32(x) ? `int:${x}` : `long:${x}`);

describe('types and conversions', () => {
  test('plain JS numbers are typed as the bson serializer types them', () => {
    expect(numericType(1)).toBe('int');
    expect(numericType(-0)).toBe('double');
    expect(numericType(2 ** 31)).toBe('double');
    expect(numericType(1.5)).toBe('double');
    expect(numericType(NaN)).toBe('double');
    expect(numericType(5n)).toBe('long');
    expect(numericType(2n ** 63n)).toBeUndefined();
    expect(numericType('1')).toBeUndefined();
    expect(numericType(null)).toBeUndefined();
    expect(show(toBsonNumber(INT32_MIN))).toBe('int:-2147483648');
    expect(show(toBsonNumber(-0))).toBe('double:-0');
    expect(show(toBsonNumber(-(2n ** 63n)))).toBe('long:-9223372036854775808');
    expect(toBsonNumber(true)).toBeUndefined();
    expect(isBsonNumber(I(1))).toBe(true);
    expect(isBsonNumber(1)).toBe(false);
  });

  test('toDecimal: ints/longs exactly, doubles with 15 digits (Value::coerceToDecimal)', () => {
    expect(toDecimal(I(-5)).toString()).toBe('-5');
    expect(toDecimal(L(INT64_MIN)).toString()).toBe('-9223372036854775808');
    expect(toDecimal(0.1).toString()).toBe('0.100000000000000');
    expect(toDecimal(F(1)).toString()).toBe('1.00000000000000');
    expect(toDouble(L(INT64_MAX))).toBe(9223372036854775807);
    expect(toDouble(L(2n ** 53n + 1n))).toBe(2 ** 53); // ties to even
    expect(toDouble(L(2n ** 53n + 3n))).toBe(2 ** 53 + 4);
    expect(toDouble(D('0.1'))).toBe(0.1);
  });

  test('compareNumbers / numberEquals compare exactly across types (bsonOrder)', () => {
    expect(numberEquals(I(1), D('1.000'))).toBe(true);
    expect(numberEquals(L(2n ** 53n + 1n), F(2 ** 53))).toBe(false);
    expect(compareNumbers(L(2n ** 53n + 1n), F(2 ** 53))).toBe(1);
    expect(compareNumbers(F(NaN), D('-Infinity'))).toBe(-1);
    expect(numberEquals(F(-0), D('0E+5'))).toBe(true);
  });

  test('cppDoubleText prints like std::ostream << double', () => {
    expect(cppDoubleText(0.1)).toBe('0.1');
    expect(cppDoubleText(1e300)).toBe('1e+300');
    expect(cppDoubleText(123456.7)).toBe('123457');
    expect(cppDoubleText(1e-5)).toBe('1e-05');
    expect(cppDoubleText(100000)).toBe('100000');
    expect(cppDoubleText(1e6)).toBe('1e+06');
    expect(cppDoubleText(-2.5)).toBe('-2.5');
    expect(cppDoubleText(NaN)).toBe('nan');
    expect(cppDoubleText(-Infinity)).toBe('-inf');
  });
});

// ---------------------------------------------------------------------------------------------

const SAMPLES: Record<'int' | 'long' | 'double' | 'decimal', unknown> = {
  int: I(7),
  long: L(7),
  double: F(2),
  decimal: D('2'),
};
const KINDS = ['int', 'long', 'double', 'decimal'] as const;
const widest = (a: (typeof KINDS)[number], b: (typeof KINDS)[number]) => KINDS[Math.max(KINDS.indexOf(a), KINDS.indexOf(b))]!;

describe('result types (Value::getWidestNumeric and the per-operator rules of evaluate_math.cpp)', () => {
  test('every pair of numeric types', () => {
    for (const a of KINDS) {
      for (const b of KINDS) {
        const x = SAMPLES[a];
        const y = SAMPLES[b];
        const w = widest(a, b);
        expect(numericType(add(x, y)), `${a} + ${b}`).toBe(w);
        expect(numericType(subtract(x, y)), `${a} - ${b}`).toBe(w);
        expect(numericType(multiply(x, y)), `${a} * ${b}`).toBe(w);
        expect(numericType(divide(x, y)), `${a} / ${b}`).toBe(w === 'decimal' ? 'decimal' : 'double');
        expect(numericType(mod(x, y)), `${a} % ${b}`).toBe(w);
      }
    }
  });

  test('jstests/aggregation/expressions/expression_mod.js: types and values', () => {
    expect(show(mod(138.5, 3.0))).toBe('double:0.5');
    expect(show(mod(138.5, L(3)))).toBe('double:0.5');
    expect(show(mod(138.5, I(3)))).toBe('double:0.5');
    expect(show(mod(I(8), 3.25))).toBe('double:1.5');
    expect(show(mod(I(8), F(3.0)))).toBe('double:2');
    expect(show(mod(I(8), I(3)))).toBe('int:2');
    expect(show(mod(I(8), L(3)))).toBe('long:2');
    expect(show(mod(L(8), 3.25))).toBe('double:1.5');
    expect(show(mod(L(8), F(3.0)))).toBe('double:2');
    expect(show(mod(L(500000000000), 450000000000.0))).toBe('double:50000000000');
    expect(show(mod(L(8), I(3)))).toBe('long:2');
    expect(show(mod(L(8), L(3)))).toBe('long:2');
    expect(show(mod(L(800000000000), L(300000000000)))).toBe('long:200000000000');
    expect(mongoError(() => mod(10, 0.0)).code).toBe(16610);
    expect(mongoError(() => mod(I(10), I(0))).code).toBe(16610);
    expect(mongoError(() => mod(L(10), L(0))).code).toBe(16610);
    expect(show(mod(10, NaN))).toBe('double:NaN');
    expect(show(mod(10, Infinity))).toBe('double:10');
    expect(show(mod(10, -Infinity))).toBe('double:10');
    expect(show(mod(NaN, 10))).toBe('double:NaN');
  });
});

describe('$add / $subtract / $multiply on integers (int64 checked with BigInt)', () => {
  test('jstests/aggregation/expressions/arith_overflow.js', () => {
    expect(show(add(I(2e9), I(2e9)))).toBe('long:4000000000');
    expect(show(add(L(9e18), L(9e18)))).toBe('double:18000000000000000000');
    expect(show(subtract(I(2e9), I(-2e9)))).toBe('long:4000000000');
    expect(show(subtract(L(9e18), L(-9e18)))).toBe('double:18000000000000000000');
    expect(show(multiply(I(2e9), I(-2e9)))).toBe('long:-4000000000000000000');
    expect(show(multiply(L(9e18), L(-9e18)))).toBe('double:-8.1e+37');
  });

  test('int32 op int32 is exact: int, or long when it leaves int32', () => {
    fc.assert(
      fc.property(arbInt32, arbInt32, (a, b) => {
        const x = BigInt(a);
        const y = BigInt(b);
        expect(show(add(I(a), I(b)))).toBe(intOrLongShow(x + y));
        expect(show(add(a, b))).toBe(intOrLongShow(x + y)); // plain JS numbers too
        expect(show(subtract(I(a), I(b)))).toBe(intOrLongShow(x - y));
        expect(show(multiply(I(a), I(b)))).toBe(intOrLongShow(x * y));
        expect(show(multiply(I(a), I(b), I(1)))).toBe(intOrLongShow(x * y)); // the n-ary path
      }),
      { numRuns: 2000 },
    );
  });

  test('long op long: exact long, or the double result when int64 overflows', () => {
    fc.assert(
      fc.property(arbInt64, arbInt64, fc.boolean(), (a, b, firstIsInt) => {
        const x = firstIsInt ? BigInt.asIntN(32, a) : a;
        const lhs = firstIsInt ? I(Number(x)) : L(x);
        const rhs = L(b);
        const sum = x + b;
        expect(show(add(lhs, rhs))).toBe(inInt64(sum) ? `long:${sum}` : `double:${Number(x) + Number(b)}`);
        const diff = x - b;
        expect(show(subtract(lhs, rhs))).toBe(inInt64(diff) ? `long:${diff}` : `double:${Number(x) - Number(b)}`);
        const prod = x * b;
        expect(show(multiply(lhs, rhs))).toBe(inInt64(prod) ? `long:${prod}` : `double:${Number(x) * Number(b)}`);
      }),
      { numRuns: 3000 },
    );
  });

  test('n-ary $add keeps an int64 total and widens once (AddState)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(arbInt32.map(I), arbInt64.map(L)), { maxLength: 6 }), (values) => {
        // model: int64 total until the first overflow, then a double total
        let total = 0n;
        let dbl: number | undefined;
        let isLong = false;
        for (const v of values) {
          if (v instanceof Long) isLong = true;
          const n = v instanceof Long ? v.toBigInt() : BigInt(v.value);
          if (dbl !== undefined) dbl += Number(n);
          else if (!inInt64(total + n)) dbl = Number(total) + Number(n);
          else total += n;
        }
        const expected = dbl !== undefined ? `double:${dbl}` : isLong ? `long:${total}` : intOrLongShow(total);
        expect(show(add(...values))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    expect(show(add())).toBe('int:0');
    expect(show(multiply())).toBe('int:1');
  });

  test('n-ary $multiply keeps the double product from the start (MultiplyState)', () => {
    // int64 product overflows at the third factor: the result is ((1 * 2^62) * 4) * 3 in doubles
    expect(show(multiply(L(2n ** 62n), I(4), I(3)))).toBe(`double:${2 ** 62 * 4 * 3}`);
    // the double product accumulates rounding from the start: 3^39 fits int64, * 2^30 does not
    const big = 3n ** 39n;
    const expected = 1 * Number(big) * 2 ** 30;
    expect(show(multiply(L(big), I(2 ** 30)))).toBe(`double:${expected}`);
  });
});

describe('doubles and decimals in arithmetic', () => {
  test('double op double is IEEE double arithmetic', () => {
    fc.assert(
      fc.property(arbDouble, arbDouble, (a, b) => {
        expect(show(add(F(a), F(b)))).toBe(show(F(0 + a + b)));
        expect(show(subtract(F(a), F(b)))).toBe(show(F(a - b)));
        expect(show(multiply(F(a), F(b)))).toBe(show(F(1 * a * b)));
        if (b !== 0) expect(show(divide(F(a), F(b)))).toBe(show(F(a / b)));
        if (b !== 0) expect(show(mod(F(a), F(b)))).toBe(show(F(a % b)));
      }),
      { numRuns: 2000 },
    );
    // $add starts from an int 0 total, so a lone -0.0 comes back as 0.0
    expect(show(add(F(-0)))).toBe('double:0');
    expect(show(subtract(F(-0), F(0)))).toBe('double:-0');
  });

  test('with a decimal, the other operand is converted (ints exactly, doubles to 15 digits)', () => {
    const arbDec = fc
      .tuple(fc.bigInt(-(10n ** 20n), 10n ** 20n), fc.integer({ min: -10, max: 10 }))
      .map(([c, e]) => D(`${c}E${e}`));
    fc.assert(
      fc.property(arbDec, arbInt32, arbDouble, (x, i, d) => {
        const zero = decimalFromBigInt(0n);
        // AddState: an int total converted exactly, then decimal additions (from 0E+0)
        expect(hex(add(I(i), x) as Decimal128)).toBe(hex(decimalAdd(decimalFromBigInt(BigInt(i)), x)));
        expect(hex(add(x, I(i)) as Decimal128)).toBe(hex(decimalAdd(decimalAdd(zero, x), decimalFromBigInt(BigInt(i)))));
        expect(hex(add(F(d), x) as Decimal128)).toBe(hex(decimalAdd(decimalFromDouble(0 + d, 15), x)));
        expect(hex(subtract(x, F(d)) as Decimal128)).toBe(hex(decimalSubtract(x, decimalFromDouble(d, 15))));
        expect(hex(multiply(I(i), x) as Decimal128)).toBe(hex(decimalMultiply(decimalFromBigInt(BigInt(i)), x)));
        expect(hex(multiply(F(d), x) as Decimal128)).toBe(hex(decimalMultiply(decimalFromDouble(1 * d, 15), x)));
        if (i !== 0) expect(hex(divide(x, I(i)) as Decimal128)).toBe(hex(decimalDivide(x, decimalFromBigInt(BigInt(i)))));
      }),
      { numRuns: 1000 },
    );
  });

  test('decimal results keep their cohort', () => {
    expect(show(add(D('1.10'), D('2.20')))).toBe('decimal:3.30');
    expect(show(subtract(D('1.00'), D('1.00')))).toBe('decimal:0.00');
    expect(show(multiply(D('1.0'), I(2)))).toBe('decimal:2.0');
    expect(show(multiply(D('2.50')))).toBe('decimal:2.50');
    expect(show(add(D('-0'), D('-0')))).toBe('decimal:0'); // 0E+0 (the initial total) + -0 + -0
    expect(show(subtract(D('-0'), D('0')))).toBe('decimal:-0');
    expect(show(add(D('1E+5')))).toBe('decimal:100000'); // 0E+0 + 1E+5 takes exponent 0
    expect(show(add(1.5, D('1')))).toBe('decimal:2.50000000000000');
    expect(show(divide(D('1.00'), D('2.000')))).toBe('decimal:0.5');
    expect(show(divide(I(1), D('3')))).toBe('decimal:0.3333333333333333333333333333333333');
    expect(show(mod(D('10.5'), I(3)))).toBe('decimal:1.5');
    expect(show(mod(D('-4'), D('2')))).toBe('decimal:-0');
    expect(show(add(D('9.999999999999999999999999999999999E+6144'), D('9.999999999999999999999999999999999E+6144')))).toBe(
      'decimal:Infinity',
    );
    expect(show(add(D('NaN'), I(1)))).toBe('decimal:NaN');
    expect(show(multiply(D('Infinity'), I(0)))).toBe('decimal:NaN');
    expect(show(add(D('1E-6176'), 5e-324))).toBe('decimal:4.940656458412470000000000000000000E-324');
  });
});

describe('$add and $subtract with dates', () => {
  const t = Date.UTC(2020, 0, 1);
  test('date + numbers is a date; doubles round half away from zero; decimals half to even', () => {
    expect(show(add(new Date(t), I(1), L(2)))).toBe(`date:${t + 3}`);
    expect(show(add(new Date(t), 1.5))).toBe(`date:${t + 2}`);
    expect(show(add(new Date(t), -1.5))).toBe(`date:${t - 2}`);
    expect(show(add(new Date(t), D('2.5')))).toBe(`date:${t + 2}`);
    expect(show(add(new Date(t), D('3.5')))).toBe(`date:${t + 4}`);
    // the total before the date is converted once: 0.6 + 0.6 = 1.2 → 1
    expect(show(add(0.6, 0.6, new Date(t)))).toBe(`date:${t + 1}`);
    // after the date every operand is converted on its own: 0.6 → 1, 0.6 → 1
    expect(show(add(new Date(t), 0.6, 0.6))).toBe(`date:${t + 2}`);
    expect(add(new Date(t), null)).toBeNull();
  });

  test('errors', () => {
    expect(mongoError(() => add(new Date(t), new Date(t)))).toEqual({ code: 16612, message: 'only one date allowed in an $add expression' });
    expect(mongoError(() => add(new Date(t), NaN))).toEqual({ code: 15, message: 'date overflow' });
    expect(mongoError(() => add(new Date(t), L(INT64_MAX)))).toEqual({ code: 15, message: 'date overflow' });
    expect(mongoError(() => add(new Date(t), D('NaN')))).toEqual({ code: 15, message: 'date overflow' });
    expect(mongoError(() => add(new Date(t), 2 ** 63))).toEqual({ code: 15, message: 'date overflow' });
  });

  test('$subtract: date - date is a long; date - number is a date', () => {
    expect(show(subtract(new Date(t + 5), new Date(t)))).toBe('long:5');
    expect(show(subtract(new Date(t), new Date(t + 5)))).toBe('long:-5');
    expect(show(subtract(new Date(t), I(5)))).toBe(`date:${t - 5}`);
    expect(show(subtract(new Date(t), 2.5))).toBe(`date:${t - 3}`);
    expect(show(subtract(new Date(t), D('2.5')))).toBe(`date:${t - 2}`);
    expect(subtract(new Date(t), undefined)).toBeNull();
    expect(mongoError(() => subtract(new Date(t), 'x'))).toEqual({ code: 14, message: "can't $subtract string from Date" });
    expect(mongoError(() => subtract(I(1), new Date(t)))).toEqual({ code: 14, message: "can't $subtract date from int" });
    expect(mongoError(() => subtract(new Date(t), L(INT64_MIN)))).toEqual({ code: 15, message: 'date overflow' });
  });
});

describe('null, missing and type errors', () => {
  test('null or missing operands give null, left to right', () => {
    expect(add(I(1), null)).toBeNull();
    expect(add(undefined, 'x')).toBeNull(); // the null comes first
    expect(subtract(null, 'x')).toBeNull();
    expect(multiply(I(2), undefined, 'x')).toBeNull();
    expect(divide('x', null)).toBeNull();
    expect(mod(null, 'x')).toBeNull();
    expect(abs(undefined)).toBeNull();
    expect(round(null)).toBeNull();
    expect(round(1.5, null)).toBeNull();
    expect(round(1.5, undefined)).toBeNull(); // a precision that evaluated to missing
    expect(trunc(undefined, 'x')).toBeNull();
  });

  test('messages and codes', () => {
    expect(mongoError(() => add(I(1), 'x'))).toEqual({ code: 14, message: '$add only supports numeric or date types, not string' });
    expect(mongoError(() => add(true))).toEqual({ code: 14, message: '$add only supports numeric or date types, not bool' });
    expect(mongoError(() => multiply(I(1), [1]))).toEqual({ code: 14, message: '$multiply only supports numeric types, not array' });
    expect(mongoError(() => subtract('a', I(1)))).toEqual({ code: 14, message: "can't $subtract int from string" });
    expect(mongoError(() => divide(I(1), 'x'))).toEqual({ code: 14, message: '$divide only supports numeric types, not int and string' });
    expect(mongoError(() => divide(I(1), I(0)))).toEqual({ code: 2, message: "can't $divide by zero" });
    expect(mongoError(() => divide(1.5, -0))).toEqual({ code: 2, message: "can't $divide by zero" });
    expect(mongoError(() => divide(D('1'), D('0E+10')))).toEqual({ code: 2, message: "can't $divide by zero" });
    expect(mongoError(() => mod(I(1), {}))).toEqual({ code: 16611, message: '$mod only supports numeric types, not int and object' });
    expect(mongoError(() => mod(D('1'), I(0)))).toEqual({ code: 5733415, message: "can't $mod by zero" });
    expect(mongoError(() => mod(I(1), I(0)))).toEqual({ code: 16610, message: "can't $mod by zero" });
    expect(mongoError(() => abs('x'))).toEqual({ code: 28765, message: '$abs only supports numeric types, not string' });
    expect(mongoError(() => abs(L(INT64_MIN)))).toEqual({ code: 28680, message: "can't take $abs of long long min" });
  });
});

describe('$divide, $mod, $abs values', () => {
  test('$divide is a double unless a decimal is involved', () => {
    expect(show(divide(I(1), I(2)))).toBe('double:0.5');
    expect(show(divide(L(INT64_MAX), I(1)))).toBe(`double:${2 ** 63}`);
    expect(show(divide(NaN, NaN))).toBe('double:NaN');
    expect(show(divide(5e-324, 2))).toBe('double:0');
  });

  test('integer $mod: truncated remainder with the sign of the dividend; x mod -1 = 0', () => {
    fc.assert(
      fc.property(arbInt64, arbInt64, (a, b) => {
        fc.pre(b !== 0n);
        const expected = b === -1n ? 0n : a % b;
        expect(show(mod(L(a), L(b)))).toBe(`long:${expected}`);
      }),
      { numRuns: 2000 },
    );
    expect(show(mod(I(INT32_MIN), I(-1)))).toBe('int:0');
    expect(show(mod(L(INT64_MIN), I(-1)))).toBe('long:0');
    expect(show(mod(I(-7), I(2)))).toBe('int:-1');
  });

  test('$abs keeps types (int min widens to long)', () => {
    expect(show(abs(I(INT32_MIN)))).toBe('long:2147483648');
    expect(show(abs(I(-5)))).toBe('int:5');
    expect(show(abs(L(INT64_MIN + 1n)))).toBe('long:9223372036854775807');
    expect(show(abs(L(-5)))).toBe('long:5');
    expect(show(abs(F(-0)))).toBe('double:0');
    expect(show(abs(-Infinity))).toBe('double:Infinity');
    expect(show(abs(D('-1.50')))).toBe('decimal:1.50');
    expect(show(abs(D('-0')))).toBe('decimal:0');
    expect(show(abs(D('-NaN')))).toBe('decimal:NaN');
  });
});

describe('$round and $trunc', () => {
  test('jstests/aggregation/expressions/round_trunc.js', () => {
    expect(show(trunc(L(4)))).toBe('long:4');
    expect(show(trunc(NaN))).toBe('double:NaN');
    expect(show(trunc(Infinity))).toBe('double:Infinity');
    expect(show(trunc(-Infinity))).toBe('double:-Infinity');
    expect(show(trunc(F(-2.0)))).toBe('double:-2');
    expect(show(trunc(0.9))).toBe('double:0');
    expect(show(trunc(-1.2))).toBe('double:-1');
    expect(show(trunc(D('-1.6')))).toBe('decimal:-1');
    expect(show(round(L(4)))).toBe('long:4');
    expect(show(round(NaN))).toBe('double:NaN');
    expect(show(round(F(-2.0)))).toBe('double:-2');
    expect(show(round(0.9))).toBe('double:1');
    expect(show(round(-1.2))).toBe('double:-1');
    expect(show(round(D('-1.6')))).toBe('decimal:-2');

    expect(show(trunc(1.298, 0))).toBe('double:1');
    expect(show(trunc(1.298, 1))).toBe('double:1.2');
    expect(show(trunc(23.298, -1))).toBe('double:20');
    expect(show(trunc(D('1.298'), 0))).toBe('decimal:1');
    expect(show(trunc(D('1.298'), 1))).toBe('decimal:1.2');
    expect(show(trunc(D('23.298'), -1))).toBe('decimal:2E+1');
    expect(show(trunc(1.298, 100))).toBe('double:1.298');
    expect(show(trunc(D('1.298912343250054252245154325'), L(20)))).toBe('decimal:1.29891234325005425224');
    expect(show(trunc(D('1.298'), D('100')))).toBe('decimal:1.298000000000000000000000000000000');
    expect(show(round(1.298, 0))).toBe('double:1');
    expect(show(round(1.298, 1))).toBe('double:1.3');
    expect(show(round(23.298, -1))).toBe('double:20');
    expect(show(round(D('1.298'), 0))).toBe('decimal:1');
    expect(show(round(D('1.298'), 1))).toBe('decimal:1.3');
    expect(show(round(D('23.298'), -1))).toBe('decimal:2E+1');
    expect(show(round(1.298, 100))).toBe('double:1.298');
    expect(show(round(D('1.298912343250054252245154325'), L(20)))).toBe('decimal:1.29891234325005425225');
    expect(show(round(D('1.298'), D('100')))).toBe('decimal:1.298000000000000000000000000000000');

    expect(show(round(I(INT32_MAX), -1))).toBe('long:2147483650');
    expect(mongoError(() => round(L('9223372036854775806'), -1)).code).toBe(51080);
    expect(mongoError(() => round('string')).code).toBe(51081);
    expect(mongoError(() => trunc('string')).code).toBe(51081);

    for (const op of [round, trunc]) {
      expect(show(op(Infinity, 0))).toBe('double:Infinity');
      expect(show(op(-Infinity, 0))).toBe('double:-Infinity');
      expect(show(op(NaN, 0))).toBe('double:NaN');
      expect(show(op(D('Infinity'), 0))).toBe('decimal:Infinity');
      expect(show(op(D('-Infinity'), 0))).toBe('decimal:-Infinity');
      expect(show(op(D('NaN'), 0))).toBe('decimal:NaN');
      for (const p of [L(101), L(-21), D('101'), D('-21'), I(101), I(-21), 101, -21]) {
        expect(mongoError(() => op(1, p)).code).toBe(51083);
      }
    }
    expect(mongoError(() => round(1, D('1.4')))).toEqual({ code: 51082, message: 'precision argument to  $round must be a integral value' });
    expect(mongoError(() => trunc(1, 10.5))).toEqual({ code: 51082, message: 'precision argument to  $trunc must be a integral value' });
  });

  test('precision argument checks (Value::coerceToLong, Value::integral)', () => {
    expect(mongoError(() => round(1, 101))).toEqual({ code: 51083, message: 'cannot apply $round with precision value 101 value must be in [-20, 100]' });
    expect(mongoError(() => round(1, 'x'))).toEqual({ code: 16004, message: "can't convert from BSON type string to long" });
    expect(mongoError(() => round(1, NaN))).toEqual({ code: 31109, message: "Can't coerce out of range value nan to long" });
    expect(mongoError(() => round(1, 1e300))).toEqual({ code: 31109, message: "Can't coerce out of range value 1e+300 to long" });
    expect(mongoError(() => round(1, L(2n ** 40n))).code).toBe(51082);
    expect(mongoError(() => round(1, D('NaN'))).code).toBe(51082);
    expect(show(round(1.25, F(1)))).toBe('double:1.2');
    expect(show(round(1.25, D('1.0')))).toBe('double:1.2');
    expect(show(round(1.35, 1))).toBe('double:1.4');
  });

  test('doubles: round half to even and trunc toward zero on the exact value, sign of zero kept', () => {
    const roundHalfEven = (x: number): number => {
      const f = Math.floor(x);
      const d = x - f;
      const r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
      return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
    };
    fc.assert(
      fc.property(fc.double({ min: -(2 ** 52), max: 2 ** 52, noNaN: true }), (x) => {
        expect(show(trunc(F(x)))).toBe(show(F(Math.trunc(x))));
        expect(show(round(F(x)))).toBe(show(F(roundHalfEven(x))));
      }),
      { numRuns: 3000 },
    );
    expect(show(round(-0.4))).toBe('double:-0');
    expect(show(round(2.5))).toBe('double:2');
    expect(show(round(3.5))).toBe('double:4');
    expect(show(round(0.5, 0))).toBe('double:0');
    expect(show(round(5e-324, 2))).toBe('double:0');
  });

  test('integers with negative places: decimal quantize, half to even', () => {
    fc.assert(
      fc.property(arbInt64, fc.integer({ min: -20, max: -1 }), (a, place) => {
        const q = 10n ** BigInt(-place);
        const t = a / q; // toward zero
        const r = a - t * q;
        const twice = 2n * (r < 0n ? -r : r);
        const up = twice > q || (twice === q && t % 2n !== 0n);
        const rounded = (up ? t + (a < 0n ? -1n : 1n) : t) * q;
        const truncated = t * q;
        if (inInt64(rounded)) expect(show(round(L(a), place))).toBe(`long:${rounded}`);
        else expect(mongoError(() => round(L(a), place)).code).toBe(51080);
        expect(show(trunc(L(a), place))).toBe(`long:${truncated}`);
      }),
      { numRuns: 2000 },
    );
    expect(show(round(I(25), -1))).toBe('int:20');
    expect(show(round(I(35), -1))).toBe('int:40');
    expect(show(trunc(I(-19), -1))).toBe('int:-10');
    expect(show(round(I(5), 0))).toBe('int:5');
    // mongod converts back with static_cast<int> when the result is not above int32 max:
    // a result below int32 min wraps around (reproduced, see evaluateRoundOrTrunc)
    expect(show(round(I(INT32_MIN), -1))).toBe('int:2147483646');
  });
});

describe('$inc and $mul (SafeNum, arithmetic_node.cpp)', () => {
  const ctx = { idText: '_id: 1', fieldName: 'a' };

  test('int + int → int or long; int/long + long → long or BadValue on overflow', () => {
    fc.assert(
      fc.property(fc.oneof(arbInt32.map(I), arbInt64.map(L)), fc.oneof(arbInt32.map(I), arbInt64.map(L)), (cur, by) => {
        const c = cur instanceof Long ? cur.toBigInt() : BigInt(cur.value);
        const b = by instanceof Long ? by.toBigInt() : BigInt(by.value);
        const bothInt = cur instanceof Int32 && by instanceof Int32;
        const debug = cur instanceof Long ? `(NumberLong)${c}` : `(NumberInt)${c}`;
        for (const [op, f, exact] of [
          ['$inc', incValue, c + b],
          ['$mul', mulValue, c * b],
        ] as const) {
          if (bothInt) {
            expect(show(f(cur, by, ctx).value)).toBe(intOrLongShow(exact));
          } else if (inInt64(exact)) {
            const r = f(cur, by, ctx);
            expect(show(r.value)).toBe(r.noop ? show(cur) : `long:${exact}`);
            expect(r.noop).toBe(cur instanceof Long && exact === c);
          } else {
            expect(mongoError(() => f(cur, by, ctx))).toEqual({
              code: 2,
              message: `Failed to apply ${op} operations to current value (${debug}) for document {_id: 1}`,
            });
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('messages', () => {
    expect(mongoError(() => incValue(L(INT64_MAX), I(1), ctx)).message).toBe(
      'Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}',
    );
    expect(mongoError(() => incValue(L(INT64_MIN), I(-1), ctx)).message).toBe(
      'Failed to apply $inc operations to current value ((NumberLong)-9223372036854775808) for document {_id: 1}',
    );
    expect(mongoError(() => mulValue(L(2n ** 62n), I(4), ctx)).message).toBe(
      'Failed to apply $mul operations to current value ((NumberLong)4611686018427387904) for document {_id: 1}',
    );
    expect(mongoError(() => incValue(I(42), L(INT64_MAX), { idText: '_id: "int32"', fieldName: 'v' })).message).toBe(
      'Failed to apply $inc operations to current value ((NumberInt)42) for document {_id: "int32"}',
    );
    expect(mongoError(() => incValue('x', I(1), ctx))).toEqual({
      code: 14,
      message: "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
    });
    expect(mongoError(() => mulValue(null, I(1), ctx)).message).toBe(
      "Cannot apply $mul to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type null",
    );
    expect(mongoError(() => incValue(I(1), 'x', ctx))).toEqual({ code: 14, message: 'Cannot increment with non-numeric argument: {a: "x"}' });
    expect(mongoError(() => mulValue(I(1), 'x', ctx)).message).toBe('Cannot multiply with non-numeric argument: {a: "x"}');
  });

  test('doubles and decimals', () => {
    expect(show(incValue(L(2n ** 53n + 1n), F(1), ctx).value)).toBe(`double:${2 ** 53 + 1 + 1}`);
    expect(show(incValue(I(1), 0.5, ctx).value)).toBe('double:1.5');
    expect(show(incValue(D('1.10'), D('2.20'), ctx).value)).toBe('decimal:3.30');
    expect(show(incValue(D('1.0'), 0.1, ctx).value)).toBe('decimal:1.100000000000000');
    expect(show(mulValue(D('1.0'), I(2), ctx).value)).toBe('decimal:2.0');
    expect(show(incValue(L(INT64_MAX), D('1'), ctx).value)).toBe('decimal:9223372036854775808');
    expect(show(incValue(F(Infinity), F(-Infinity), ctx).value)).toBe('double:NaN');
  });

  test('a missing field is created: $inc with the argument, $mul with a zero of its type', () => {
    expect(show(incValue(undefined, I(5), ctx).value)).toBe('int:5');
    expect(show(incValue(undefined, 2.5, ctx).value)).toBe('double:2.5');
    expect(show(mulValue(undefined, I(5), ctx).value)).toBe('int:0');
    expect(show(mulValue(undefined, L(5), ctx).value)).toBe('long:0');
    expect(show(mulValue(undefined, F(-2.5), ctx).value)).toBe('double:-0');
    expect(show(mulValue(undefined, D('-2.50'), ctx).value)).toBe('decimal:-0.00');
    expect(show(mulValue(undefined, D('1E+3'), ctx).value)).toBe('decimal:0E+3');
  });

  test('no-ops: the same type and an equal value (SafeNum::isIdentical)', () => {
    expect(incValue(I(5), I(0), ctx).noop).toBe(true);
    expect(incValue(L(5), I(0), ctx).noop).toBe(true);
    expect(incValue(I(5), L(0), ctx).noop).toBe(false); // int + long is a long: a type change
    expect(incValue(F(0), F(-0), ctx).noop).toBe(true);
    const negZero = mulValue(F(0), F(-1), ctx); // -0.0 == 0.0: kept as 0.0
    expect(negZero.noop).toBe(true);
    expect(show(negZero.value)).toBe('double:0');
    expect(incValue(F(NaN), F(0), ctx).noop).toBe(false);
    const cohort = incValue(D('1.0'), D('0.00'), ctx); // 1.00 == 1.0: the stored 1.0 stays
    expect(cohort.noop).toBe(true);
    expect(show(cohort.value)).toBe('decimal:1.0');
    expect(incValue(D('NaN'), D('0'), ctx).noop).toBe(false);
    expect(incValue(I(1), I(1), ctx).noop).toBe(false);
  });

  test('jstests/decimal/decimal_update.js: $inc / $mul by decimals make every number a decimal', () => {
    const docs = [D('1.0'), D('0.0'), D('1.00'), L(1), I(1)];
    const inced = docs.map((v) => incValue(v, D('10'), ctx).value);
    expect(inced.map(show)).toEqual(['decimal:11.0', 'decimal:10.0', 'decimal:11.00', 'decimal:11', 'decimal:11']);
    expect(inced.filter((v) => numberEquals(v, I(11))).length).toBe(4);
    const mul = docs.map((v) => mulValue(v, D('2'), ctx).value);
    expect(mul.filter((v) => numberEquals(v, I(2))).length).toBe(4);
    const zero = mul.map((v) => mulValue(v, D('0'), ctx).value);
    expect(zero.filter((v) => numberEquals(v, I(0))).length).toBe(5);
  });
});

describe('$sum and $avg accumulators', () => {
  const sum = (...vs: unknown[]): BsonNumber => {
    const s = new SumAccumulator();
    for (const v of vs) s.add(v);
    return s.result();
  };
  const avg = (...vs: unknown[]): BsonNumber | null => {
    const a = new AvgAccumulator();
    for (const v of vs) a.add(v);
    return a.result();
  };

  test('jstests/aggregation/expressions/avg_and_sum.js', () => {
    expect(avg()).toBeNull();
    expect(avg(null, 'hello world')).toBeNull();
    expect(show(avg(I(-1)))).toBe('double:-1');
    expect(show(avg(13.4))).toBe('double:13.4');
    expect(show(sum())).toBe('int:0');
    expect(show(sum(null))).toBe('int:0');
    expect(show(sum('hello world'))).toBe('int:0');
    expect(show(sum(I(-1)))).toBe('int:-1');
    expect(show(sum(13.4))).toBe('double:13.4');
    expect(show(avg(I(1), I(2), I(3)))).toBe('double:2');
    expect(show(avg(I(1), I(2), I(3), 'string'))).toBe('double:2');
    expect(show(avg(12.4, 5.6, 9.805))).toBe('double:9.268333333333333');
    expect(show(sum(I(1), I(2), I(3)))).toBe('int:6');
    expect(show(sum(12.4, 5.6, 9.805))).toBe('double:27.805');
    expect(show(sum([1, 2, 3], I(4), null))).toBe('int:4');
  });

  test('integer sums are exact: int, then long, then double past int64', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(arbInt32.map(I), arbInt64.map(L)), { maxLength: 8 }), (values) => {
        const total = values.reduce((t, v) => t + (v instanceof Long ? v.toBigInt() : BigInt(v.value)), 0n);
        const anyLong = values.some((v) => v instanceof Long);
        const r = sum(...values);
        if (!inInt64(total)) {
          expect(numericType(r)).toBe('double');
          expect(Math.abs((r as Double).value - Number(total))).toBeLessThanOrEqual(Math.abs(Number(total)) * 2 ** -52);
        } else {
          expect(show(r)).toBe(anyLong ? `long:${total}` : intOrLongShow(total));
        }
        // with every value and partial sum exact in a double, the double sum is exact too
        let partial = 0n;
        const exactInDouble = values.every((v) => {
          partial += v instanceof Long ? v.toBigInt() : BigInt(v.value);
          return partial >= -(2n ** 53n) && partial <= 2n ** 53n && Math.abs(Number(partial)) <= 2 ** 53;
        }) && values.every((v) => Math.abs(v instanceof Long ? Number(v.toBigInt()) : v.value) < 2 ** 52);
        if (values.length > 0 && exactInDouble) {
          expect(show(avg(...values))).toBe(`double:${Number(total) / values.length}`);
        }
      }),
      { numRuns: 3000 },
    );
    expect(show(sum(L(INT64_MAX), I(1), I(-1)))).toBe('long:9223372036854775807');
    expect(show(sum(L(INT64_MAX), L(INT64_MAX)))).toBe('double:18446744073709552000');
    expect(show(sum(I(INT32_MAX), I(1)))).toBe('long:2147483648');
  });

  test('doubles use compensated (double-double) summation', () => {
    expect(show(sum(...Array.from({ length: 10 }, () => 0.1)))).toBe('double:1');
    expect(show(sum(0.1, 0.2, 0.3))).toBe('double:0.6');
    // getDouble() returns the head of the (head, tail) pair without folding the tail in:
    // after 1e16 + 1 - 1e16 the head is 0 and the tail 1 (summation.h), so the result is 0
    expect(show(sum(1e16, 1, -1e16))).toBe('double:0');
    // likewise $avg of the longs max and min: head 0, tail -1 → 0 / 2 (while $sum, a long,
    // reads both parts through getLong(): -1)
    expect(show(avg(L(INT64_MAX), L(INT64_MIN)))).toBe('double:0');
    expect(show(sum(L(INT64_MAX), L(INT64_MIN)))).toBe('long:-1');
    expect(show(sum(1e308, 1e308, -1e308))).toBe('double:Infinity');
    expect(show(sum(Infinity, -Infinity))).toBe('double:NaN');
    expect(show(sum(Infinity, 1))).toBe('double:Infinity');
    expect(show(sum(NaN, 1))).toBe('double:NaN');
    expect(show(avg(0.1, 0.2))).toBe(`double:${0.30000000000000004 / 2}`);
  });

  test('decimals: a decimal total plus the other numbers with 34 digits', () => {
    expect(show(sum(D('1.10'), D('2.20')))).toBe('decimal:3.30');
    expect(show(sum(1.5, D('1')))).toBe('decimal:2.5');
    expect(show(sum(0.1, D('0')))).toBe('decimal:0.1000000000000000055511151231257827');
    expect(show(sum(I(1), D('1E+5')))).toBe('decimal:100001');
    expect(show(avg(D('1'), D('2')))).toBe('decimal:1.5');
    expect(show(avg(D('1.00'), I(2)))).toBe('decimal:1.50');
    expect(show(avg(D('1'), I(2), 'x'))).toBe('decimal:1.5');
    expect(show(avg(D('10'), D('20'), D('0')))).toBe('decimal:10');
    expect(show(avg(D('1'), D('0'), D('0')))).toBe('decimal:0.3333333333333333333333333333333333');
  });
});

describe('edge values never throw where mongod does not', () => {
  const edges: unknown[] = [
    D('1.10'),
    D('-0'),
    D('NaN'),
    D('Infinity'),
    D('-Infinity'),
    D('1E-6176'),
    D('9.999999999999999999999999999999999E+6144'),
    L(INT64_MIN),
    L(INT64_MAX),
    I(INT32_MIN),
    I(INT32_MAX),
    F(-0),
    F(5e-324),
    F(NaN),
    F(Infinity),
    F(Number.MAX_VALUE),
    -0,
    7,
  ];
  test('add, subtract, multiply on every pair give a number', () => {
    for (const a of edges) {
      for (const b of edges) {
        expect(numericType(add(a, b))).toBeDefined();
        expect(numericType(subtract(a, b))).toBeDefined();
        expect(numericType(multiply(a, b))).toBeDefined();
        const s = new SumAccumulator();
        s.add(a);
        s.add(b);
        expect(numericType(s.result())).toBeDefined();
      }
      expect(numericType(round(a))).toBeDefined();
      expect(numericType(trunc(a, 2))).toBeDefined();
    }
  });
});
