import { Decimal128 } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  DECIMAL_MAX_EXPONENT,
  DECIMAL_MIN_EXPONENT,
  decimalAbs,
  decimalAdd,
  decimalCompare,
  decimalDivide,
  decimalEquals,
  decimalFromBigInt,
  decimalFromDouble,
  decimalMultiply,
  decimalNormalize,
  decimalQuantize,
  decimalQuantizeLikeMongod,
  decimalRemainder,
  decimalSubtract,
  decimalToDouble,
  decimalToInt32,
  decimalToInt64,
  decodeDecimal,
  encodeDecimal,
  type DecimalParts,
} from '../../../src/query/decimal128.js';

const D = (s: string): Decimal128 => Decimal128.fromString(s);
const hex = (d: Decimal128): string => Buffer.from(d.bytes).toString('hex');
/** Bit-identical (same cohort, same sign), not just numerically equal. */
const expectSame = (actual: Decimal128, expected: string): void => {
  expect(actual.toString()).toBe(D(expected).toString());
  expect(hex(actual)).toBe(hex(D(expected)));
};
const finite = (neg: boolean, coefficient: bigint, exponent: number): DecimalParts => ({ kind: 'finite', neg, coefficient, exponent });

const MAX_COEF = 10n ** 34n - 1n;

// ---------------------------------------------------------------------------------------------
// An independent reference model: exact BigInt arithmetic, rounded to 34 digits half-even by
// comparing digit strings (no shared code with the implementation).

interface Exact {
  neg: boolean;
  coef: bigint;
  exp: number;
}

function refRound(e: Exact): Exact {
  const s = e.coef.toString();
  if (s.length <= 34) return e;
  const k = s.length - 34;
  let head = BigInt(s.slice(0, 34));
  const tail = s.slice(34);
  const half = `5${'0'.repeat(k - 1)}`;
  if (tail > half || (tail === half && head % 2n === 1n)) head += 1n;
  let exp = e.exp + k;
  if (head === 10n ** 34n) {
    head = 10n ** 33n;
    exp += 1;
  }
  return { neg: e.neg, coef: head, exp };
}

function parts(d: Decimal128): Exact {
  const p = decodeDecimal(d);
  if (p.kind !== 'finite') throw new Error('not finite');
  return { neg: p.neg, coef: p.coefficient, exp: p.exponent };
}

/** Finite decimals with exponents well inside the range (no overflow or subnormal results). */
const arbMidDecimal = fc
  .record({
    neg: fc.boolean(),
    coef: fc.oneof(fc.bigInt(0n, 1000n), fc.bigInt(0n, 10n ** 17n), fc.bigInt(0n, MAX_COEF)),
    exp: fc.integer({ min: -40, max: 40 }),
  })
  .map(({ neg, coef, exp }) => encodeDecimal(finite(neg, coef, exp)));

/** Any finite decimal, any cohort. */
const arbAnyFinite = fc
  .record({
    neg: fc.boolean(),
    coef: fc.oneof(fc.constantFrom(0n, 1n, MAX_COEF), fc.bigInt(0n, MAX_COEF)),
    exp: fc.oneof(
      fc.constantFrom(DECIMAL_MIN_EXPONENT, DECIMAL_MAX_EXPONENT, 0),
      fc.integer({ min: DECIMAL_MIN_EXPONENT, max: DECIMAL_MAX_EXPONENT }),
    ),
  })
  .map(({ neg, coef, exp }) => finite(neg, coef, exp));

const EDGE_STRINGS = [
  '1.10',
  '-0',
  '0',
  'NaN',
  'Infinity',
  '-Infinity',
  '1E-6176',
  '-1E-6176',
  '0E-6176',
  '0E+6111',
  '9.999999999999999999999999999999999E+6144',
  '-9.999999999999999999999999999999999E+6144',
  '9999999999999999999999999999999999E6111',
  '1E+6144',
  '0.00',
  '1.000000000000000000000000000000000',
  '12345678901234567890',
  '-2147483648',
  '9223372036854775807',
  '-9223372036854775808',
];

describe('decimal128 BID encoding', () => {
  test('decode(encode(x)) is x for random coefficient/exponent pairs, and the bytes match bson', () => {
    fc.assert(
      fc.property(arbAnyFinite, (p) => {
        const d = encodeDecimal(p);
        expect(decodeDecimal(d)).toEqual(p);
        // bson's own parser produces the identical 16 bytes for the canonical string
        expect(hex(Decimal128.fromString(d.toString()))).toBe(hex(d));
        expect(hex(encodeDecimal(decodeDecimal(d)))).toBe(hex(d));
      }),
      { numRuns: 2000 },
    );
  });

  test('edge values round-trip bit-identically', () => {
    for (const s of EDGE_STRINGS) {
      const d = D(s);
      expect(hex(encodeDecimal(decodeDecimal(d))), s).toBe(hex(d));
    }
    expect(decodeDecimal(D('NaN')).kind).toBe('nan');
    expect(decodeDecimal(D('-Infinity'))).toMatchObject({ kind: 'infinity', neg: true });
    expect(decodeDecimal(D('-0'))).toEqual(finite(true, 0n, 0));
    expect(decodeDecimal(D('0E-6176'))).toEqual(finite(false, 0n, -6176));
    expect(decodeDecimal(D('9999999999999999999999999999999999E6111'))).toEqual(finite(false, MAX_COEF, 6111));
    expect(decodeDecimal(D('1.10'))).toEqual(finite(false, 110n, -2));
  });

  test('mongod constants have the bytes of decimal128_test.cpp', () => {
    // src/mongo/platform/decimal128_test.cpp: TestDecimal128GetLargestPositive etc. (high64, low64)
    const bytes = (high: bigint, low: bigint): string => {
      const b = Buffer.alloc(16);
      b.writeBigUInt64LE(low, 0);
      b.writeBigUInt64LE(high, 8);
      return b.toString('hex');
    };
    expect(hex(D('9999999999999999999999999999999999E6111'))).toBe(bytes(6917508178773903296n, 4003012203950112767n));
    expect(hex(encodeDecimal(finite(true, MAX_COEF, 6111)))).toBe(bytes(16140880215628679104n, 4003012203950112767n));
    expect(hex(encodeDecimal(finite(false, 1n, -6176)))).toBe(bytes(0n, 1n));
    expect(hex(encodeDecimal({ kind: 'infinity', neg: false, coefficient: 0n, exponent: 0 }))).toBe(bytes(8646911284551352320n, 0n));
    expect(hex(encodeDecimal({ kind: 'nan', neg: false, coefficient: 0n, exponent: 0 }))).toBe(bytes(8935141660703064064n, 0n));
    expect(hex(encodeDecimal({ kind: 'nan', neg: true, coefficient: 0n, exponent: 0 }))).toBe(bytes(18158513697557839872n, 0n));
    // TestStringConstructorInRange: "+2.010" is 0x303a000000000000 00000000000007da
    expect(hex(D('2.010'))).toBe(bytes(0x303a000000000000n, 0x7dan));
    // TestInt64ConstructorMin: 0xb040000000000000 8000000000000000
    expect(hex(decimalFromBigInt(-9223372036854775808n))).toBe(bytes(0xb040000000000000n, 0x8000000000000000n));
  });

  test('non-canonical coefficients decode as zero', () => {
    const b = new Uint8Array(16).fill(0xff);
    b[15] = 0x30; // sign 0, "00" form: exponent bits 0x1800.., coefficient 2^113 - 1 > 10^34 - 1
    b[14] = 0x41;
    const p = decodeDecimal(new Decimal128(b));
    expect(p.kind).toBe('finite');
    expect(p.coefficient).toBe(0n);
  });

  test('random bytes decode to parts that re-encode stably', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const p = decodeDecimal(new Decimal128(bytes));
        const again = encodeDecimal(p);
        expect(decodeDecimal(again)).toEqual(p);
        expect(hex(encodeDecimal(decodeDecimal(again)))).toBe(hex(again));
      }),
      { numRuns: 500 },
    );
  });
});

describe('decimal128 arithmetic: preferred exponents (IEEE 754-2008)', () => {
  test('cohorts are kept', () => {
    expectSame(decimalAdd(D('1.10'), D('2.20')), '3.30');
    expectSame(decimalMultiply(D('1.0'), D('2')), '2.0');
    expectSame(decimalSubtract(D('1.00'), D('1.00')), '0.00');
    expectSame(decimalAdd(D('-0'), D('-0')), '-0');
    expectSame(decimalAdd(D('-0'), D('0')), '0');
    expectSame(decimalAdd(D('-0.0'), D('0E+3')), '0.0');
    expectSame(decimalSubtract(D('-0'), D('0')), '-0');
    expectSame(decimalMultiply(D('-0'), D('5')), '-0');
    expectSame(decimalMultiply(D('0.00'), D('1.5')), '0.000');
    expectSame(decimalAdd(D('1E+2'), D('0.0')), '100.0');
    expectSame(decimalAdd(D('1E+40'), D('0E-40')), '1.000000000000000000000000000000000E+40');
    expectSame(decimalDivide(D('6.0'), D('2')), '3.0');
    expectSame(decimalDivide(D('1'), D('8')), '0.125');
    expectSame(decimalDivide(D('100'), D('4')), '25');
    expectSame(decimalDivide(D('1E+3'), D('1')), '1E+3');
    expectSame(decimalDivide(D('0.00'), D('5')), '0.00');
    expectSame(decimalDivide(D('1'), D('3')), '0.3333333333333333333333333333333333');
    expectSame(decimalDivide(D('2'), D('3')), '0.6666666666666666666666666666666667');
  });

  test('examples from src/mongo/platform/decimal128_test.cpp', () => {
    // TestDecimal128AdditionCase1/2, SubtractionCase1/2, MultiplicationCase1/2, DivisionCase1/2, Quantize
    expectSame(decimalAdd(D('25.05E20'), D('-50.5218E19')), '1.999782E21');
    expectSame(decimalAdd(D('1.00'), D('2.000')), '3.000');
    expectSame(decimalSubtract(D('25.05E20'), D('-50.5218E19')), '3.010218E21');
    expectSame(decimalSubtract(D('1.00'), D('2.000')), '-1.000');
    expectSame(decimalMultiply(D('25.05E20'), D('-50.5218E19')), '-1.265571090E42');
    expectSame(decimalMultiply(D('1.00'), D('2.000')), '2.00000');
    expectSame(decimalDivide(D('25.05E20'), D('-50.5218E19')), '-4.958255644098191275845278671781290');
    expectSame(decimalDivide(D('1.00'), D('2.000')), '0.5');
    expectSame(decimalQuantize(D('1.000008'), -5), '1.00001');
    // TestDecimal128NormalizeSmallVals / LargeVals
    expect(hex(decimalNormalize(D('500E-2')))).toBe(hex(decimalNormalize(D('5'))));
    expect(hex(decimalNormalize(D('5E-6174')))).toBe(hex(decimalNormalize(D('500E-6176'))));
    expectSame(decimalNormalize(D('5')), '5.000000000000000000000000000000000');
    // TestDecimal128SubtractSignaling: largest negative - 1 stays largest negative (inexact)
    expectSame(decimalSubtract(D('-9999999999999999999999999999999999E6111'), D('1')), '-9999999999999999999999999999999999E6111');
    // TestDecimal128MultiplySignaling: 2 * largest positive overflows to +Infinity
    expectSame(decimalMultiply(D('2'), D('9999999999999999999999999999999999E6111')), 'Infinity');
    // TestDecimal128DivideSignaling: 2 / 0 is +Infinity
    expectSame(decimalDivide(D('2'), D('0')), 'Infinity');
  });

  test('specials', () => {
    expect(decimalAdd(D('Infinity'), D('-Infinity')).toString()).toBe('NaN');
    expectSame(decimalAdd(D('Infinity'), D('-1E6000')), 'Infinity');
    expect(decimalMultiply(D('Infinity'), D('0')).toString()).toBe('NaN');
    expectSame(decimalMultiply(D('-Infinity'), D('-2')), 'Infinity');
    expect(decimalDivide(D('0'), D('0')).toString()).toBe('NaN');
    expect(decimalDivide(D('Infinity'), D('Infinity')).toString()).toBe('NaN');
    expectSame(decimalDivide(D('-1'), D('0')), '-Infinity');
    expectSame(decimalDivide(D('5'), D('-Infinity')), '-0E-6176');
    expect(decimalAdd(D('NaN'), D('1')).toString()).toBe('NaN');
    expect(decimalMultiply(D('1'), D('NaN')).toString()).toBe('NaN');
    expect(decimalRemainder(D('Infinity'), D('1')).toString()).toBe('NaN');
    expect(decimalRemainder(D('1'), D('0')).toString()).toBe('NaN');
    expectSame(decimalRemainder(D('1.5'), D('Infinity')), '1.5');
  });

  test('overflow, clamping and subnormals', () => {
    expectSame(decimalMultiply(D('9.999999999999999999999999999999999E+6144'), D('10')), 'Infinity');
    expectSame(decimalMultiply(D('-9.999999999999999999999999999999999E+6144'), D('10')), '-Infinity');
    expectSame(decimalMultiply(D('1E6111'), D('10')), '1.0E+6112'); // folded down: 10E6111
    expectSame(decimalMultiply(D('0E6111'), D('1E100')), '0E+6111'); // zero exponent clamped
    expectSame(decimalMultiply(D('1E-6176'), D('1E-10')), '0E-6176'); // underflows to zero
    expectSame(decimalDivide(D('1E-6176'), D('2')), '0E-6176'); // 0.5 ulp: ties to even (0)
    expectSame(decimalDivide(D('3E-6176'), D('2')), '2E-6176'); // 1.5 ulp: ties to even (2)
    expectSame(decimalDivide(D('-1E-6176'), D('3')), '-0E-6176');
    expectSame(decimalMultiply(D('1.234567E-6170'), D('1E-3')), '1.235E-6173'); // subnormal: rounded at 1E-6176
    expectSame(decimalAdd(D('1E-6176'), D('-1E-6176')), '0E-6176');
    expectSame(decimalSubtract(D('1E100'), D('1E-100')), '1.000000000000000000000000000000000E+100');
    expectSame(decimalSubtract(D('1E34'), D('1E-100')), '1.000000000000000000000000000000000E+34');
    expectSame(decimalSubtract(D('1E34'), D('0.6')), '9999999999999999999999999999999999');
    expectSame(decimalAdd(D('9999999999999999999999999999999999'), D('0.5')), '1.000000000000000000000000000000000E+34');
    expectSame(decimalAdd(D('9999999999999999999999999999999998'), D('0.5')), '9999999999999999999999999999999998');
  });

  test('add, subtract and multiply agree with exact BigInt arithmetic rounded half-even', () => {
    fc.assert(
      fc.property(arbMidDecimal, arbMidDecimal, (a, b) => {
        const x = parts(a);
        const y = parts(b);
        // add
        const e = Math.min(x.exp, y.exp);
        const vx = (x.neg ? -1n : 1n) * x.coef * 10n ** BigInt(x.exp - e);
        const vy = (y.neg ? -1n : 1n) * y.coef * 10n ** BigInt(y.exp - e);
        const sum = vx + vy;
        const sumNeg = sum < 0n || (sum === 0n && x.neg && y.neg);
        const expectedSum = refRound({ neg: sumNeg, coef: sum < 0n ? -sum : sum, exp: e });
        expect(parts(decimalAdd(a, b))).toEqual(expectedSum);
        // subtract = add the negation
        const diff = vx - vy;
        const diffNeg = diff < 0n || (diff === 0n && x.neg && !y.neg);
        expect(parts(decimalSubtract(a, b))).toEqual(refRound({ neg: diffNeg, coef: diff < 0n ? -diff : diff, exp: e }));
        // multiply
        expect(parts(decimalMultiply(a, b))).toEqual(refRound({ neg: x.neg !== y.neg, coef: x.coef * y.coef, exp: x.exp + y.exp }));
        // commutative to the bit
        expect(hex(decimalAdd(b, a))).toBe(hex(decimalAdd(a, b)));
        expect(hex(decimalMultiply(b, a))).toBe(hex(decimalMultiply(a, b)));
      }),
      { numRuns: 3000 },
    );
  });

  test('add and multiply near the exponent limits (subnormals, overflow, clamping) match the reference', () => {
    // reference rounding with the exponent limits: round once at max(precision, -6176), then
    // overflow to infinity or fold the exponent down by padding zeros
    const refClamped = (neg: boolean, n: bigint, e: number): string => {
      if (n === 0n) return `${neg ? '-' : ''}0E${Math.min(Math.max(e, DECIMAL_MIN_EXPONENT), DECIMAL_MAX_EXPONENT)}`;
      const d = n.toString().length;
      let target = d > 34 ? e + d - 34 : e;
      if (target < DECIMAL_MIN_EXPONENT) target = DECIMAL_MIN_EXPONENT;
      let coef = n;
      let exp = e;
      if (target > e) {
        const p = 10n ** BigInt(target - e);
        coef = n / p;
        const r = n % p;
        if (2n * r > p || (2n * r === p && coef % 2n === 1n)) coef += 1n;
        exp = target;
        if (coef === 10n ** 34n) {
          coef = 10n ** 33n;
          exp += 1;
        }
      }
      if (exp > DECIMAL_MAX_EXPONENT && coef !== 0n) {
        const pad = exp - DECIMAL_MAX_EXPONENT;
        if (coef.toString().length + pad > 34) return `${neg ? '-' : ''}Infinity`;
        coef *= 10n ** BigInt(pad);
        exp = DECIMAL_MAX_EXPONENT;
      }
      if (exp > DECIMAL_MAX_EXPONENT) exp = DECIMAL_MAX_EXPONENT;
      return `${neg ? '-' : ''}${coef}E${exp}`;
    };
    const arbExp = fc.oneof(
      fc.integer({ min: DECIMAL_MIN_EXPONENT, max: DECIMAL_MIN_EXPONENT + 80 }),
      fc.integer({ min: DECIMAL_MAX_EXPONENT - 80, max: DECIMAL_MAX_EXPONENT }),
      fc.integer({ min: -3100, max: -3000 }),
      fc.integer({ min: 3000, max: 3100 }),
    );
    const arbExtreme = fc
      .record({ neg: fc.boolean(), coef: fc.oneof(fc.bigInt(0n, 999n), fc.bigInt(0n, MAX_COEF)), exp: arbExp })
      .map(({ neg, coef, exp }) => encodeDecimal(finite(neg, coef, exp)));
    const text = (d: Decimal128): string => {
      const p = decodeDecimal(d);
      if (p.kind === 'infinity') return `${p.neg ? '-' : ''}Infinity`;
      return `${p.neg ? '-' : ''}${p.coefficient}E${p.exponent}`;
    };
    fc.assert(
      fc.property(arbExtreme, arbExtreme, (a, b) => {
        const x = parts(a);
        const y = parts(b);
        expect(text(decimalMultiply(a, b))).toBe(refClamped(x.neg !== y.neg, x.coef * y.coef, x.exp + y.exp));
        fc.pre(Math.abs(x.exp - y.exp) < 400);
        const e = Math.min(x.exp, y.exp);
        const s = (x.neg ? -1n : 1n) * x.coef * 10n ** BigInt(x.exp - e) + (y.neg ? -1n : 1n) * y.coef * 10n ** BigInt(y.exp - e);
        expect(text(decimalAdd(a, b))).toBe(refClamped(s < 0n || (s === 0n && x.neg && y.neg), s < 0n ? -s : s, e));
      }),
      { numRuns: 2000 },
    );
  });

  test('add with far-apart exponents (the sticky shortcut) matches exact arithmetic', () => {
    fc.assert(
      fc.property(
        fc.bigInt(1n, MAX_COEF),
        fc.bigInt(1n, MAX_COEF),
        fc.integer({ min: 60, max: 200 }),
        fc.boolean(),
        fc.boolean(),
        (ca, cb, gap, na, nb) => {
          const a = encodeDecimal(finite(na, ca, 0));
          const b = encodeDecimal(finite(nb, cb, -gap));
          const va = (na ? -1n : 1n) * ca * 10n ** BigInt(gap);
          const vb = (nb ? -1n : 1n) * cb;
          const s = va + vb;
          expect(parts(decimalAdd(a, b))).toEqual(refRound({ neg: s < 0n, coef: s < 0n ? -s : s, exp: -gap }));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('divide: correctly rounded, exact quotients take the exponent closest to Q(a) - Q(b)', () => {
    fc.assert(
      fc.property(arbMidDecimal, arbMidDecimal, (a, b) => {
        const x = parts(a);
        const y = parts(b);
        fc.pre(y.coef !== 0n && x.coef !== 0n);
        const q = parts(decimalDivide(a, b));
        expect(q.neg).toBe(x.neg !== y.neg);
        expect(q.coef <= MAX_COEF).toBe(true);
        // compare a with q*b on a common exponent: a = x.coef*10^x.exp, q*b = q.coef*y.coef*10^(q.exp+y.exp)
        const e = Math.min(x.exp, q.exp + y.exp);
        const A = x.coef * 10n ** BigInt(x.exp - e);
        const QB = q.coef * y.coef * 10n ** BigInt(q.exp + y.exp - e);
        const preferred = x.exp - y.exp;
        if (A === QB) {
          // exact: the exponent is as close to the preferred exponent as 34 digits allow
          if (q.exp < preferred) expect(q.coef % 10n).not.toBe(0n);
          if (q.exp > preferred) expect(q.coef.toString().length).toBe(34);
        } else {
          expect(q.coef.toString().length).toBe(34);
          // |A - QB| <= ulp * |b| / 2, with ulp = 10^q.exp; ties go to the even coefficient
          const ULPB = y.coef * 10n ** BigInt(q.exp + y.exp - e);
          const err = A > QB ? A - QB : QB - A;
          expect(2n * err <= ULPB).toBe(true);
          if (2n * err === ULPB) expect(q.coef % 2n).toBe(0n);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('remainder (fmod): exact, sign of the dividend, exponent min(Q(a), Q(b))', () => {
    fc.assert(
      fc.property(arbMidDecimal, arbMidDecimal, (a, b) => {
        const x = parts(a);
        const y = parts(b);
        fc.pre(y.coef !== 0n);
        const r = parts(decimalRemainder(a, b));
        const e = Math.min(x.exp, y.exp);
        if (!(y.exp > x.exp && y.exp - x.exp >= x.coef.toString().length)) expect(r.exp).toBe(e);
        const X = x.coef * 10n ** BigInt(x.exp - e);
        const Y = y.coef * 10n ** BigInt(y.exp - e);
        const R = r.coef * 10n ** BigInt(r.exp - e);
        expect(R).toBe(X % Y);
        expect(r.neg).toBe(x.neg);
      }),
      { numRuns: 2000 },
    );
    expectSame(decimalRemainder(D('10.5'), D('3')), '1.5');
    expectSame(decimalRemainder(D('-4'), D('2')), '-0');
    expectSame(decimalRemainder(D('10'), D('0.3')), '0.1');
    expectSame(decimalRemainder(D('1E+6000'), D('7')), '1'); // 10^6000 mod 7 = 1 (10^6 ≡ 1 mod 7)
    expectSame(decimalRemainder(D('1E-30'), D('1E+30')), '1E-30');
  });

  test('quantize', () => {
    expectSame(decimalQuantize(D('2.5'), 0), '2');
    expectSame(decimalQuantize(D('3.5'), 0), '4');
    expectSame(decimalQuantize(D('-2.5'), 0, 'halfAway'), '-3');
    expectSame(decimalQuantize(D('-2.9'), 0, 'towardZero'), '-2');
    expectSame(decimalQuantize(D('-2.1'), 0, 'floor'), '-3');
    expectSame(decimalQuantize(D('2.1'), 0, 'ceiling'), '3');
    expectSame(decimalQuantize(D('-0.4'), 0), '-0');
    expectSame(decimalQuantize(D('1'), -33), '1.000000000000000000000000000000000');
    expect(decimalQuantize(D('1'), -34).toString()).toBe('NaN'); // 35 digits: invalid
    expect(decimalQuantize(D('Infinity'), 0).toString()).toBe('NaN');
    expectSame(decimalQuantize(D('0'), -5), '0.00000');
    // Decimal128::quantize (mongod's wrapper) returns the 34-digit form instead of NaN
    expectSame(decimalQuantizeLikeMongod(D('1.298'), -100, 'towardZero'), '1.298000000000000000000000000000000');
    expectSame(decimalQuantizeLikeMongod(D('1.298'), -1), '1.3');
    expectSame(decimalQuantizeLikeMongod(D('0E+10'), -2), '0.00');
    expect(decimalQuantizeLikeMongod(D('NaN'), 0).toString()).toBe('NaN');
  });
});

describe('decimal128 conversions', () => {
  test('Decimal128(double) with 15 digits: examples from decimal128_test.cpp', () => {
    // TestDoubleConstructorQuant1..9, QuantFailPoorLog10Of2Estimate, Pos, Neg, MaxRoundDown/Up
    // (value checks: mongod's newer toString switches to E notation only below 1E-6)
    const cases: Array<[number, string]> = [
      [0.1 / 10, '0.0100000000000000'],
      [0.1 / 10000, '1.00000000000000E-5'],
      [0.1 / 1000 / 1000 / 1000 / 1000 / 1000 / 1000, '1.00000000000000E-19'],
      [0.01 * 1000 * 1000 * 1000 * 1000 * 1000 * 1000, '1.00000000000000E+16'],
      [0.0127, '0.0127000000000000'],
      [1234567890.12709, '1234567890.12709'],
      [0.1129857 / 1000 / 1000 / 1000 / 1000 / 1000 / 1000, '1.12985700000000E-19'],
      [724.8799725651578000906738452613353729248046875, '724.879972565158'],
      [-0.09645061728395000478, '-0.0964506172839500'],
      [2 ** 1000, '1.07150860718627E+301'],
      [1.0, '1.00000000000000'],
      [-1.0, '-1.00000000000000'],
      [-Number.MAX_VALUE, '-1.79769313486232E+308'],
      [Number.MAX_VALUE, '1.79769313486232E+308'],
      [2.2250738585072014e-308, '2.22507385850720E-308'], // DBL_MIN
      [-2.2250738585072014e-308, '-2.22507385850720E-308'],
      [100000, '100000.000000000'], // the "retry" rows of the comment table in decimal128.cpp
      [0.00001, '0.0000100000000000000'],
      [0.9999999999999994, '0.999999999999999'],
      [20490514566860.25, '20490514566860.2'], // an exact tie: half to even
    ];
    for (const [x, s] of cases) expectSame(decimalFromDouble(x), s);
    expectSame(decimalFromDouble(0), '0');
    expectSame(decimalFromDouble(-0), '-0');
    expect(decimalFromDouble(Infinity).toString()).toBe('Infinity');
    expect(decimalFromDouble(NaN).toString()).toBe('NaN');
    expectSame(decimalFromDouble(5e-324), '4.94065645841247E-324');
  });

  test('Decimal128(double) with 15 digits: always 15 significant digits, within half a unit', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        fc.pre(x !== 0);
        const p = parts(decimalFromDouble(x));
        expect(p.coef.toString().length).toBe(15);
        // agrees with JS's correctly rounded 15-digit rendering except at near-ties (double rounding)
        const js = D(x.toPrecision(15).replace('e', 'E'));
        if (!decimalEquals(js, decimalFromDouble(x))) {
          // only at a tie (JS rounds half up, mongod half to even) or a near-tie (34-digit
          // rounding first, then 15-digit rounding)
          const exact = parts(decimalFromDouble(x, 34));
          expect(exact.coef.toString().slice(15)).toMatch(/^(5|49)/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('Decimal128(double) with 34 digits is binary64_to_bid128: exact when it fits, else 34 digits', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        fc.pre(x !== 0);
        const d = decimalFromDouble(x, 34);
        const p = parts(d);
        // the exact value of x: m * 2^e2
        const buf = Buffer.alloc(8);
        buf.writeDoubleBE(Math.abs(x));
        const bits = buf.readBigUInt64BE();
        const biased = Number(bits >> 52n);
        let m = bits & ((1n << 52n) - 1n);
        let e2 = biased === 0 ? -1074 : biased - 1075;
        if (biased !== 0) m |= 1n << 52n;
        while (m % 2n === 0n) {
          m /= 2n;
          e2 += 1;
        }
        const exact: Exact = e2 >= 0 ? { neg: x < 0, coef: m << BigInt(e2), exp: 0 } : { neg: x < 0, coef: m * 5n ** BigInt(-e2), exp: e2 };
        expect(p).toEqual(refRound(exact));
        // and it converts back to the same double
        expect(decimalToDouble(d)).toBe(x);
      }),
      { numRuns: 3000 },
    );
    expectSame(decimalFromDouble(0.1, 34), '0.1000000000000000055511151231257827');
    expectSame(decimalFromDouble(1.5, 34), '1.5');
    expectSame(decimalFromDouble(2 ** 60, 34), '1152921504606846976');
    expectSame(decimalFromDouble(1e300, 34), '1.000000000000000052504760255204420E+300');
  });

  test('decimalToDouble is correctly rounded (checked against JS parsing for <= 17 digits)', () => {
    fc.assert(
      fc.property(fc.bigInt(0n, 10n ** 17n), fc.integer({ min: -360, max: 330 }), fc.boolean(), (c, e, neg) => {
        const d = encodeDecimal(finite(neg, c, e));
        const expected = Number(`${neg ? '-' : ''}${c}e${e}`);
        expect(Object.is(decimalToDouble(d), expected)).toBe(true);
      }),
      { numRuns: 5000 },
    );
    // TestDecimal128ToDouble*: 2.015, 0.000, 300E2000, -300E2000, 1E-5900, -1E-5900
    expect(decimalToDouble(D('2.015'))).toBe(2.015);
    expect(decimalToDouble(D('0.000'))).toBe(0);
    expect(decimalToDouble(D('300E2000'))).toBe(Infinity);
    expect(decimalToDouble(D('-300E2000'))).toBe(-Infinity);
    expect(decimalToDouble(D('1E-5900'))).toBe(0);
    expect(Object.is(decimalToDouble(D('-1E-5900')), -0)).toBe(true);
    expect(decimalToDouble(D('9.999999999999999999999999999999999E+6144'))).toBe(Infinity);
    expect(decimalToDouble(D('1E-6176'))).toBe(0);
    expect(decimalToDouble(D('2.4703282292062327E-324'))).toBe(0); // just below half the smallest subnormal
    expect(decimalToDouble(D('2.4703282292062328E-324'))).toBe(5e-324);
    // the midpoint between DBL_MAX and 2^1024 is 1.7976931348623158079372897140530341507...E+308
    expect(decimalToDouble(D('1.797693134862315807937289714053035E+308'))).toBe(Infinity);
    expect(decimalToDouble(D('1.797693134862315807937289714053034E+308'))).toBe(Number.MAX_VALUE);
    expect(decimalToDouble(D('NaN'))).toBeNaN();
  });

  test('integer conversions (TestDecimal128ToInt32*/ToInt64* of decimal128_test.cpp)', () => {
    const ins = ['-2.7', '-2.5', '-2.2', '2.2', '2.5', '2.7'];
    const modes = [
      ['halfEven', [-3, -2, -2, 2, 2, 3]],
      ['floor', [-3, -3, -3, 2, 2, 2]],
      ['ceiling', [-2, -2, -2, 3, 3, 3]],
      ['towardZero', [-2, -2, -2, 2, 2, 2]],
      ['halfAway', [-3, -3, -2, 2, 3, 3]],
    ] as const;
    for (const [mode, outs] of modes) {
      ins.forEach((s, i) => expect(decimalToInt32(D(s), mode).value, `${s} ${mode}`).toBe(BigInt(outs[i]!)));
      ins.forEach((s, i) => {
        const big = D(s.replace('2.', '4294967296.'));
        const expected = BigInt(outs[i]!) + (outs[i]! < 0 ? -4294967294n : 4294967294n);
        expect(decimalToInt64(big, mode).value, `${s} ${mode}`).toBe(expected);
      });
    }
    expect(decimalToInt32(D('NaN'))).toEqual({ value: -2147483648n, invalid: true, inexact: false });
    expect(decimalToInt64(D('Infinity'))).toEqual({ value: -9223372036854775808n, invalid: true, inexact: false });
    expect(decimalToInt32(D('10000000000000000')).invalid).toBe(true);
    expect(decimalToInt64(D('100000000000000000000000000')).invalid).toBe(true);
    expect(decimalToInt64(D('9223372036854775807'))).toEqual({ value: 9223372036854775807n, invalid: false, inexact: false });
    expect(decimalToInt64(D('9223372036854775807.5')).invalid).toBe(true);
    expect(decimalToInt32(D('1.4')).inexact).toBe(true);
    expect(decimalToInt32(D('-0')).value).toBe(0n);
    expect(decimalToInt32(D('1E-6176'))).toEqual({ value: 0n, invalid: false, inexact: true });
  });

  test('comparison and abs', () => {
    expect(decimalEquals(D('1.00'), D('1.000000000'))).toBe(true); // TestDecimal128EqualCase2
    expect(decimalEquals(D('0.1'), D('0.100000000000000005'))).toBe(false); // EqualCase3
    expect(decimalEquals(D('-25.0001E20'), D('-25.00010E20'))).toBe(true); // NotEqualCase2
    expect(decimalEquals(D('NaN'), D('NaN'))).toBe(false);
    expect(decimalEquals(D('0'), D('-0E+10'))).toBe(true);
    expect(decimalCompare(D('-Infinity'), D('Infinity'))).toBe(-1);
    expect(decimalCompare(D('25.05E20'), D('-25.05E20'))).toBe(1);
    expect(decimalCompare(D('1E+5'), D('99999.9999'))).toBe(1);
    expectSame(decimalAbs(D('-1.50')), '1.50');
    expectSame(decimalAbs(D('-0E-6176')), '0E-6176');
    expect(decimalAbs(D('-Infinity')).toString()).toBe('Infinity');
  });
});
