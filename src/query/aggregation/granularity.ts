/**
 * The granularity rounders of $bucketAuto: a value rounded up (to the smallest boundary of the
 * series above it) or down (to the largest boundary below it).
 *
 * Sources (mongodb/mongo, src/mongo/db/pipeline/): granularity_rounder.cpp (40257 "Unknown
 * rounding granularity '<name>'"), granularity_rounder_preferred_numbers.cpp (the Renard series
 * R5 R10 R20 R40 R80, 1-2-5, the E series E6 ... E192; 40262 not numeric, 40263 NaN, 40268
 * negative), granularity_rounder_powers_of_two.cpp (POWERSOF2; 40265, 40266, 40267).
 *
 * Zero rounds to itself (the input value). Preferred numbers: the series is scaled by powers of
 * ten (a multiplier multiplied or divided by 10) until it spans the value, in doubles (the result
 * a double, e.g. 1.6000000000000001 for 1.3 in R5) or, for a decimal, in Decimal128 from the
 * series' Decimal128(double) values (15 digits: 1.3 rounds up to 1.60000000000000). Powers of two:
 * 2 to an exponent computed from the value ($pow's result type: 8 for 5.0 is an int).
 *
 * mongod 7.0 never returns when rounding an infinite value up to a preferred number (its
 * multiplier grows forever); a decimal rounded to a power of two goes through
 * Decimal128::logarithm and ::power (the Intel library), which pocketmongo does not reproduce:
 * both are refused with 115 when they happen.
 */
import { Decimal128, Double, Int32 } from 'bson';
import { LocationCodes } from '../../errors.js';
import { compileExpression, scopeFor } from '../expression/compile.js';
import { typeName } from '../expression/values.js';
import { decimalCompare, decimalDivide, decimalFromBigInt, decimalFromDouble, decimalIsInfinite, decimalMultiply } from '../decimal128.js';
import { coerceToLong, numericType, toDouble, type BsonNumber } from '../numeric.js';
import { notSupported } from '../queryErrors.js';
import { fail } from './errors.js';

export interface GranularityRounder {
  readonly name: string;
  /** The smallest boundary above the value (the value itself when zero). */
  roundUp(value: unknown): unknown;
  /** The largest boundary below the value (the value itself when zero). */
  roundDown(value: unknown): unknown;
}

// ---------------------------------------------------------------------------------------------
// Preferred numbers

/** The series, as granularity_rounder_preferred_numbers.cpp lists them (scaled to whole numbers). */
const SERIES: Readonly<Record<string, readonly number[]>> = {
  R5: [10, 16, 25, 40, 63],
  R10: [100, 125, 160, 200, 250, 315, 400, 500, 630, 800],
  R20: [100, 112, 125, 140, 160, 180, 200, 224, 250, 280, 315, 355, 400, 450, 500, 560, 630, 710, 800, 900],
  R40: [
    100, 106, 112, 118, 125, 132, 140, 150, 160, 170, 180, 190, 200, 212, 224, 236, 250, 265, 280, 300, 315, 355, 375, 400, 425, 450, 475, 500, 530,
    560, 600, 630, 670, 710, 750, 800, 850, 900, 950,
  ],
  R80: [
    103, 109, 115, 122, 128, 136, 145, 155, 165, 175, 185, 195, 206, 218, 230, 243, 258, 272, 290, 307, 325, 345, 365, 387, 412, 437, 462, 487, 515,
    545, 575, 615, 650, 690, 730, 775, 825, 875, 925, 975,
  ],
  '1-2-5': [10, 20, 50],
  E6: [10, 15, 22, 33, 47, 68],
  E12: [10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82],
  E24: [10, 11, 12, 13, 15, 16, 18, 20, 22, 24, 27, 30, 33, 36, 39, 43, 47, 51, 56, 62, 68, 75, 82, 91],
  E48: [
    100, 105, 110, 115, 121, 127, 133, 140, 147, 154, 162, 169, 178, 187, 196, 205, 215, 226, 237, 249, 261, 274, 287, 301, 316, 332, 348, 365, 383,
    402, 422, 442, 464, 487, 511, 536, 562, 590, 619, 649, 681, 715, 750, 787, 825, 866, 909, 953,
  ],
  E96: [
    100, 102, 105, 107, 110, 113, 115, 118, 121, 124, 127, 130, 133, 137, 140, 143, 147, 150, 154, 158, 162, 165, 169, 174, 178, 182, 187, 191, 196,
    200, 205, 210, 215, 221, 226, 232, 237, 243, 249, 255, 261, 267, 274, 280, 287, 294, 301, 309, 316, 324, 332, 340, 348, 357, 365, 374, 383, 392,
    402, 412, 422, 432, 442, 453, 464, 475, 487, 499, 511, 523, 536, 549, 562, 576, 590, 604, 619, 634, 649, 665, 681, 698, 715, 732, 750, 768, 787,
    806, 825, 845, 866, 887, 909, 931, 953, 976,
  ],
  E192: [
    100, 101, 102, 104, 105, 106, 107, 109, 110, 111, 113, 114, 115, 117, 118, 120, 121, 123, 124, 126, 127, 129, 130, 132, 133, 135, 137, 138, 140,
    142, 143, 145, 147, 149, 150, 152, 154, 156, 158, 160, 162, 164, 165, 167, 169, 172, 174, 176, 178, 180, 182, 184, 187, 189, 191, 193, 196, 198,
    200, 203, 205, 208, 210, 213, 215, 218, 221, 223, 226, 229, 232, 234, 237, 240, 243, 246, 249, 252, 255, 258, 261, 264, 267, 271, 274, 277, 280,
    284, 287, 291, 294, 298, 301, 305, 309, 312, 316, 320, 324, 328, 332, 336, 340, 344, 348, 352, 357, 361, 365, 370, 374, 379, 383, 388, 392, 397,
    402, 407, 412, 417, 422, 427, 432, 437, 442, 448, 453, 459, 464, 470, 475, 481, 487, 493, 499, 505, 511, 517, 523, 530, 536, 542, 549, 556, 562,
    569, 576, 583, 590, 597, 604, 612, 619, 626, 634, 642, 649, 657, 665, 673, 681, 690, 698, 706, 715, 723, 732, 741, 750, 759, 768, 777, 787, 796,
    806, 816, 825, 835, 845, 856, 866, 876, 887, 898, 909, 920, 931, 942, 953, 965, 976, 988,
  ],
};

interface Codes {
  readonly notNumeric: number;
  readonly nan: number;
  readonly negative: number;
}

/** uassertNonNegativeNumber: the value as a double, once checked. */
function checkedDouble(value: unknown, codes: Codes): number {
  if (numericType(value) === undefined) fail(codes.notNumeric, `A granularity rounder can only round numeric values, but found type: ${typeName(value)}`);
  const x = toDouble(value as BsonNumber);
  if (x !== x) fail(codes.nan, 'A granularity rounder cannot round NaN');
  if (!(x >= 0)) fail(codes.negative, 'A granularity rounder can only round non-negative numbers');
  return x;
}

const PREFERRED_CODES: Codes = {
  notNumeric: LocationCodes.PreferredNumbersNotNumeric,
  nan: LocationCodes.PreferredNumbersNaN,
  negative: LocationCodes.PreferredNumbersNegative,
};

function refuseInfinite(name: string): never {
  throw notSupported(`rounding an infinite value up to the ${name} series (mongod never returns)`);
}

/** The arithmetic the preferred-numbers search runs in: doubles, or Decimal128 for a decimal. */
interface Arithmetic<T> {
  readonly series: readonly T[];
  readonly one: T;
  times10(x: T): T;
  over10(x: T): T;
  times(a: T, b: T): T;
  compare(a: T, b: T): number;
}

const TEN = decimalFromBigInt(10n);

function doubleArithmetic(series: readonly number[]): Arithmetic<number> {
  return {
    series,
    one: 1,
    times10: (x) => x * 10,
    over10: (x) => x / 10,
    times: (a, b) => a * b,
    compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  };
}

function decimalArithmetic(series: readonly number[]): Arithmetic<Decimal128> {
  return {
    series: series.map((x) => decimalFromDouble(x)),
    one: decimalFromBigInt(1n),
    times10: (x) => decimalMultiply(x, TEN),
    over10: (x) => decimalDivide(x, TEN),
    times: decimalMultiply,
    compare: decimalCompare,
  };
}

function preferredUp<T>(n: T, a: Arithmetic<T>): T {
  const front = a.series[0]!;
  const back = a.series[a.series.length - 1]!;
  let multiplier = a.one;
  while (a.compare(n, a.times(back, multiplier)) >= 0) multiplier = a.times10(multiplier);
  while (a.compare(n, a.times(front, multiplier)) < 0) {
    const previousMin = a.times(front, multiplier);
    multiplier = a.over10(multiplier);
    // Between the previous minimum and this maximum (0.8 in E6): up to the previous minimum.
    if (a.compare(n, a.times(back, multiplier)) >= 0) return previousMin;
  }
  const above = a.series.find((s) => a.compare(n, a.times(s, multiplier)) < 0)!;
  return a.times(above, multiplier);
}

function preferredDown<T>(n: T, a: Arithmetic<T>): T {
  const front = a.series[0]!;
  const back = a.series[a.series.length - 1]!;
  let multiplier = a.one;
  while (a.compare(n, a.times(front, multiplier)) <= 0) multiplier = a.over10(multiplier);
  while (a.compare(n, a.times(back, multiplier)) > 0) {
    const previousMax = a.times(back, multiplier);
    multiplier = a.times10(multiplier);
    if (a.compare(n, a.times(front, multiplier)) <= 0) return previousMax;
  }
  const atOrAbove = a.series.findIndex((s) => a.compare(a.times(s, multiplier), n) >= 0);
  return a.times(a.series[atOrAbove - 1]!, multiplier);
}

function preferredNumbers(name: string, series: readonly number[]): GranularityRounder {
  const doubles = doubleArithmetic(series);
  const decimals = decimalArithmetic(series);
  return {
    name,
    roundUp(value) {
      const x = checkedDouble(value, PREFERRED_CODES);
      if (x === 0) return value;
      if (value instanceof Decimal128) {
        if (decimalIsInfinite(value)) refuseInfinite(name);
        return preferredUp(value, decimals);
      }
      if (x === Infinity) refuseInfinite(name);
      return new Double(preferredUp(x, doubles));
    },
    roundDown(value) {
      const x = checkedDouble(value, PREFERRED_CODES);
      if (x === 0) return value;
      if (value instanceof Decimal128) return preferredDown(value, decimals);
      return new Double(preferredDown(x, doubles));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Powers of two

const POWERS_OF_TWO_CODES: Codes = {
  notNumeric: LocationCodes.PowersOfTwoNotNumeric,
  nan: LocationCodes.PowersOfTwoNaN,
  negative: LocationCodes.PowersOfTwoNegative,
};

/** static_cast<int> of a double as x86-64 does it (cvttsd2si): NaN and out-of-range give INT_MIN. */
function toInt32Truncated(x: number): number {
  return x >= -2147483648 && x < 2147483648 ? Math.trunc(x) : -2147483648;
}

/** ExpressionPow of the int 2 and an int exponent. */
function twoToThe(exponent: number): unknown {
  return compileExpression({ $pow: [new Int32(2), new Int32(exponent)] }).evaluate(scopeFor({}, new Date(0)));
}

/** The bit length of a positive int64 (64 minus its leading zeros). */
function bitLength(n: bigint): number {
  return n.toString(2).length;
}

function powersOfTwo(): GranularityRounder {
  /** The exponent of the power of two above (up) or below (down) a positive value. */
  const exponent = (value: unknown, x: number, up: boolean): number => {
    const type = numericType(value);
    if (type === 'decimal') throw notSupported('rounding a decimal to a power of two (Decimal128::logarithm and ::power)');
    if (type === 'double') {
      const log = Math.log2(x);
      return toInt32Truncated(up ? Math.floor(log) + 1 : Math.ceil(log) - 1);
    }
    const n = coerceToLong(value);
    const bits = bitLength(n);
    if (up) return bits;
    // A power of two rounds down to the one below it.
    return (n & (n - 1n)) === 0n ? bits - 2 : bits - 1;
  };
  return {
    name: 'POWERSOF2',
    roundUp(value) {
      const x = checkedDouble(value, POWERS_OF_TWO_CODES);
      return x === 0 ? value : twoToThe(exponent(value, x, true));
    },
    roundDown(value) {
      const x = checkedDouble(value, POWERS_OF_TWO_CODES);
      return x === 0 ? value : twoToThe(exponent(value, x, false));
    },
  };
}

/** Whether a granularity rounder has this name. */
export function isGranularity(name: string): boolean {
  return name === 'POWERSOF2' || Object.hasOwn(SERIES, name);
}

/** GranularityRounder::getGranularityRounder. */
export function granularityRounder(name: string): GranularityRounder {
  if (!isGranularity(name)) fail(LocationCodes.GranularityUnknown, `Unknown rounding granularity '${name}'`);
  return name === 'POWERSOF2' ? powersOfTwo() : preferredNumbers(name, SERIES[name]!);
}
