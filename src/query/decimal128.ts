/**
 * IEEE 754-2008 decimal128 arithmetic on bson `Decimal128` values, exact to the bit.
 *
 * mongod does all of its decimal arithmetic through the Intel Decimal Floating-Point Math Library
 * (src/mongo/platform/decimal128.cpp wraps bid128_add/sub/mul/div/fmod/quantize and
 * binary64_to_bid128 / bid128_to_binary64), which follows IEEE 754-2008: 34 significant digits,
 * exponents -6176..6111, round-half-even by default, and the *preferred exponent* rules, so the
 * cohort (the trailing zeros) of a result is part of the result:
 *   1.10 + 2.20 = 3.30    1.0 * 2 = 2.0    1.00 - 1.00 = 0.00    -0 + -0 = -0    1.00 / 2.000 = 0.5
 * No npm package does that (decimal.js, decimal128, proposal-decimal normalize away the cohort;
 * bigdecimal.js keeps scales but has no NaN, infinities, -0 or exponent limits), so this module
 * does it with BigInt coefficients: every operation is computed exactly and rounded once.
 *
 * Values cross the API as bson `Decimal128` objects; their 16 bytes (BID encoding, little-endian)
 * are decoded and encoded here, never parsed from strings.
 */
import { Decimal128 } from 'bson';

/** Largest coefficient: 10^34 - 1. */
const MAX_COEFFICIENT = 9999999999999999999999999999999999n;
const TEN_POW_34 = 10000000000000000000000000000000000n;
const TEN_POW_33 = 1000000000000000000000000000000000n;
/** Exponent range of decimal128 (of the coefficient's unit digit). */
export const DECIMAL_MIN_EXPONENT = -6176;
export const DECIMAL_MAX_EXPONENT = 6111;
const EXPONENT_BIAS = 6176;
export const DECIMAL_PRECISION = 34;

/** IEEE 754 rounding-direction attributes (mongod's Decimal128::RoundingMode). */
export type RoundingMode =
  | 'halfEven' // kRoundTiesToEven (the default everywhere)
  | 'towardZero' // kRoundTowardZero
  | 'floor' // kRoundTowardNegative
  | 'ceiling' // kRoundTowardPositive
  | 'halfAway'; // kRoundTiesToAway

/** A decoded decimal128: finite `(-1)^neg * coefficient * 10^exponent`, an infinity or a NaN. */
export interface DecimalParts {
  readonly kind: 'finite' | 'infinity' | 'nan';
  readonly neg: boolean;
  /** 0 .. 10^34-1 for finite values; the (canonical) payload for NaNs; 0 for infinities. */
  readonly coefficient: bigint;
  /** DECIMAL_MIN_EXPONENT .. DECIMAL_MAX_EXPONENT for finite values; 0 otherwise. */
  readonly exponent: number;
  /** A signaling NaN (only meaningful when kind === 'nan'). */
  readonly signaling?: boolean;
}

type Parts = DecimalParts;

// ---------------------------------------------------------------------------------------------
// Powers and digit counts

const POW10: bigint[] = [1n];
function pow10(k: number): bigint {
  if (k < POW10.length) return POW10[k]!;
  if (k <= 8192) {
    for (let i = POW10.length; i <= k; i++) POW10.push(POW10[i - 1]! * 10n);
    return POW10[k]!;
  }
  return 10n ** BigInt(k);
}

const POW5: bigint[] = [1n];
function pow5(k: number): bigint {
  for (let i = POW5.length; i <= k; i++) POW5.push(POW5[i - 1]! * 5n);
  return POW5[k]!;
}

/** Number of decimal digits of c >= 0 (0 has 1 digit). */
function digitCount(c: bigint): number {
  if (c < 1000000000000000n) return String(Number(c)).length;
  return c.toString().length;
}

function bitLength(c: bigint): number {
  return c === 0n ? 0 : c.toString(2).length;
}

// ---------------------------------------------------------------------------------------------
// BID encoding <-> parts

const NAN_PARTS: Parts = { kind: 'nan', neg: false, coefficient: 0n, exponent: 0 };
const POS_INF: Parts = { kind: 'infinity', neg: false, coefficient: 0n, exponent: 0 };
const NEG_INF: Parts = { kind: 'infinity', neg: true, coefficient: 0n, exponent: 0 };
/** NaN payloads are canonical below 10^33. */
const MAX_NAN_PAYLOAD = TEN_POW_33 - 1n;

function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** Decodes the BID encoding of a bson Decimal128 (non-canonical coefficients decode as 0). */
export function decodeDecimal(d: Decimal128): DecimalParts {
  const b = d.bytes;
  const w0 = u32(b, 0);
  const w1 = u32(b, 4);
  const w2 = u32(b, 8);
  const w3 = u32(b, 12);
  const neg = w3 >>> 31 === 1;
  const combo = (w3 >>> 26) & 0x1f;
  if (combo === 0x1f) {
    // NaN: payload in the trailing 110 bits
    let payload = (BigInt(w3 & 0x3fff) << 96n) | (BigInt(w2) << 64n) | (BigInt(w1) << 32n) | BigInt(w0);
    if (payload > MAX_NAN_PAYLOAD) payload = 0n;
    return { kind: 'nan', neg, coefficient: payload, exponent: 0, signaling: ((w3 >>> 25) & 1) === 1 };
  }
  if (combo === 0x1e) return neg ? NEG_INF : POS_INF;
  if (((w3 >>> 29) & 3) === 3) {
    // "11" form: the implied coefficient is >= 2^113 > 10^34 - 1, so it is non-canonical: zero
    const e = ((w3 >>> 15) & 0x3fff) - EXPONENT_BIAS;
    return { kind: 'finite', neg, coefficient: 0n, exponent: e > DECIMAL_MAX_EXPONENT ? DECIMAL_MAX_EXPONENT : e };
  }
  const exponent = ((w3 >>> 17) & 0x3fff) - EXPONENT_BIAS;
  const high = w3 & 0x1ffff;
  let coefficient: bigint;
  if (high === 0 && w2 === 0 && w1 < 0x200000) coefficient = BigInt(w1 * 4294967296 + w0);
  else {
    coefficient = (BigInt(high) << 96n) | (BigInt(w2) << 64n) | (BigInt(w1) << 32n) | BigInt(w0);
    if (coefficient > MAX_COEFFICIENT) coefficient = 0n;
  }
  return { kind: 'finite', neg, coefficient, exponent };
}

function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

/**
 * Encodes parts as a bson Decimal128. Finite parts must already be in range (coefficient <= 10^34-1,
 * exponent in -6176..6111); throws a RangeError otherwise.
 */
export function encodeDecimal(p: DecimalParts): Decimal128 {
  const b = new Uint8Array(16);
  const sign = p.neg ? 0x80000000 : 0;
  if (p.kind === 'infinity') {
    put32(b, 12, (sign | 0x78000000) >>> 0);
    return new Decimal128(b);
  }
  let coefficient = p.coefficient;
  let top: number;
  if (p.kind === 'nan') {
    if (coefficient < 0n || coefficient > MAX_NAN_PAYLOAD) coefficient = 0n;
    top = (sign | (p.signaling === true ? 0x7e000000 : 0x7c000000)) >>> 0;
  } else {
    if (coefficient < 0n || coefficient > MAX_COEFFICIENT) throw new RangeError(`decimal128 coefficient out of range: ${coefficient}`);
    if (!Number.isInteger(p.exponent) || p.exponent < DECIMAL_MIN_EXPONENT || p.exponent > DECIMAL_MAX_EXPONENT) {
      throw new RangeError(`decimal128 exponent out of range: ${p.exponent}`);
    }
    top = (sign | ((p.exponent + EXPONENT_BIAS) << 17)) >>> 0;
  }
  if (coefficient < 9007199254740992n) {
    const n = Number(coefficient);
    put32(b, 0, n >>> 0);
    put32(b, 4, Math.floor(n / 4294967296));
    put32(b, 12, top);
  } else {
    put32(b, 0, Number(coefficient & 0xffffffffn));
    put32(b, 4, Number((coefficient >> 32n) & 0xffffffffn));
    put32(b, 8, Number((coefficient >> 64n) & 0xffffffffn));
    put32(b, 12, (top | Number(coefficient >> 96n)) >>> 0);
  }
  return new Decimal128(b);
}

// ---------------------------------------------------------------------------------------------
// Rounding: every operation computes an exact result and rounds it once, here.

/** round(coef / 10^k) in the given mode; `sticky` says the true value is a little above coef. */
function divRound(coef: bigint, k: number, neg: boolean, mode: RoundingMode, sticky: boolean): bigint {
  let q: bigint;
  let r: bigint;
  let p: bigint;
  if (k === 0) {
    q = coef;
    r = 0n;
    p = 1n;
  } else if (k > digitCount(coef) + 1) {
    // coef < 10^(k-1): the quotient is 0 and the remainder is below half
    q = 0n;
    r = coef;
    p = 0n; // marker: "r is nonzero and below half"
  } else {
    p = pow10(k);
    q = coef / p;
    r = coef % p;
  }
  if (r === 0n && !sticky) return q;
  switch (mode) {
    case 'towardZero':
      return q;
    case 'floor':
      return neg ? q + 1n : q;
    case 'ceiling':
      return neg ? q : q + 1n;
    default: {
      if (p === 0n) return q; // below half
      const twice = r * 2n;
      if (twice < p) return q;
      if (twice > p || sticky) return q + 1n;
      // an exact tie
      if (mode === 'halfAway') return q + 1n;
      return (q & 1n) === 1n ? q + 1n : q;
    }
  }
}

function largestFinite(neg: boolean): Parts {
  return { kind: 'finite', neg, coefficient: MAX_COEFFICIENT, exponent: DECIMAL_MAX_EXPONENT };
}

function overflowResult(neg: boolean, mode: RoundingMode): Parts {
  switch (mode) {
    case 'towardZero':
      return largestFinite(neg);
    case 'floor':
      return neg ? NEG_INF : largestFinite(false);
    case 'ceiling':
      return neg ? largestFinite(true) : POS_INF;
    default:
      return neg ? NEG_INF : POS_INF;
  }
}

/**
 * Rounds an exact result `(-1)^neg * (coef [+ sticky]) * 10^exp` to the format: at most 34 digits
 * (rounding once, at the position set by the precision or by the subnormal exponent limit,
 * whichever is higher), zeros' exponents clamped into range, overflow to infinity (or the largest
 * finite number, by mode) and large exponents folded down by padding the coefficient with zeros
 * when it fits (IEEE 754 "clamping").
 */
function finish(neg: boolean, coef: bigint, exp: number, mode: RoundingMode, sticky = false): Parts {
  if (coef === 0n && !sticky) {
    const e = exp < DECIMAL_MIN_EXPONENT ? DECIMAL_MIN_EXPONENT : exp > DECIMAL_MAX_EXPONENT ? DECIMAL_MAX_EXPONENT : exp;
    return { kind: 'finite', neg, coefficient: 0n, exponent: e };
  }
  const digits = digitCount(coef);
  let target = digits > DECIMAL_PRECISION ? exp + (digits - DECIMAL_PRECISION) : exp;
  if (target < DECIMAL_MIN_EXPONENT) target = DECIMAL_MIN_EXPONENT;
  if (target > exp || sticky) {
    const k = target - exp;
    coef = divRound(coef, k, neg, mode, sticky);
    exp = target;
    if (coef === TEN_POW_34) {
      coef = TEN_POW_33;
      exp += 1;
    }
  }
  if (exp > DECIMAL_MAX_EXPONENT) {
    if (coef === 0n) return { kind: 'finite', neg, coefficient: 0n, exponent: DECIMAL_MAX_EXPONENT };
    const pad = exp - DECIMAL_MAX_EXPONENT;
    if (digitCount(coef) + pad > DECIMAL_PRECISION) return overflowResult(neg, mode);
    coef *= pow10(pad);
    exp = DECIMAL_MAX_EXPONENT;
  }
  return { kind: 'finite', neg, coefficient: coef, exponent: exp };
}

function quietNaN(p: Parts): Parts {
  return p.signaling === true ? { kind: 'nan', neg: p.neg, coefficient: p.coefficient, exponent: 0 } : p;
}

/** The NaN an operation with a NaN operand returns (the first NaN operand, quieted). */
function propagateNaN(a: Parts, b: Parts): Parts {
  return quietNaN(a.kind === 'nan' ? a : b);
}

// ---------------------------------------------------------------------------------------------
// Operations on parts

function addParts(a: Parts, b: Parts, mode: RoundingMode): Parts {
  if (a.kind === 'nan' || b.kind === 'nan') return propagateNaN(a, b);
  if (a.kind === 'infinity') {
    if (b.kind === 'infinity' && b.neg !== a.neg) return NAN_PARTS; // invalid
    return a;
  }
  if (b.kind === 'infinity') return b;
  const exp = a.exponent < b.exponent ? a.exponent : b.exponent;
  if (a.coefficient === 0n && b.coefficient === 0n) {
    // exact zero sum: the common sign, else +0 (-0 when rounding toward negative)
    const neg = a.neg === b.neg ? a.neg : mode === 'floor';
    return { kind: 'finite', neg, coefficient: 0n, exponent: exp };
  }
  if (a.coefficient === 0n) return rescaleToward(b, exp);
  if (b.coefficient === 0n) return rescaleToward(a, exp);
  let hi = a;
  let lo = b;
  if (hi.exponent < lo.exponent) {
    hi = b;
    lo = a;
  }
  let loCoef = lo.coefficient;
  let loExp = lo.exponent;
  if (hi.exponent - loExp > 71) {
    // lo is far below hi's last kept digit: replace it by a tiny stand-in of the same sign that
    // sits strictly between the same rounding breakpoints (the exact sum has > 34 digits either way)
    loCoef = 1n;
    loExp = hi.exponent - 36;
  }
  const ca = hi.coefficient * pow10(hi.exponent - loExp);
  const va = hi.neg ? -ca : ca;
  const vb = lo.neg ? -loCoef : loCoef;
  const sum = va + vb;
  if (sum === 0n) return { kind: 'finite', neg: mode === 'floor', coefficient: 0n, exponent: loExp };
  return sum < 0n ? finish(true, -sum, loExp, mode) : finish(false, sum, loExp, mode);
}

/** x (nonzero, exact) with an exponent as close to `exp` (< x.exponent) as 34 digits allow. */
function rescaleToward(x: Parts, exp: number): Parts {
  if (x.exponent <= exp) return x;
  let shift = x.exponent - exp;
  const room = DECIMAL_PRECISION - digitCount(x.coefficient);
  if (shift > room) shift = room;
  if (shift <= 0) return x;
  return { kind: 'finite', neg: x.neg, coefficient: x.coefficient * pow10(shift), exponent: x.exponent - shift };
}

function negateParts(p: Parts): Parts {
  return { kind: p.kind, neg: !p.neg, coefficient: p.coefficient, exponent: p.exponent, signaling: p.signaling === true };
}

function multiplyParts(a: Parts, b: Parts, mode: RoundingMode): Parts {
  if (a.kind === 'nan' || b.kind === 'nan') return propagateNaN(a, b);
  const neg = a.neg !== b.neg;
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    const other = a.kind === 'infinity' ? b : a;
    if (other.kind === 'finite' && other.coefficient === 0n) return NAN_PARTS; // inf * 0
    return neg ? NEG_INF : POS_INF;
  }
  return finish(neg, a.coefficient * b.coefficient, a.exponent + b.exponent, mode);
}

function divideParts(a: Parts, b: Parts, mode: RoundingMode): Parts {
  if (a.kind === 'nan' || b.kind === 'nan') return propagateNaN(a, b);
  const neg = a.neg !== b.neg;
  if (a.kind === 'infinity') {
    if (b.kind === 'infinity') return NAN_PARTS;
    return neg ? NEG_INF : POS_INF;
  }
  if (b.kind === 'infinity') return { kind: 'finite', neg, coefficient: 0n, exponent: DECIMAL_MIN_EXPONENT };
  if (b.coefficient === 0n) {
    if (a.coefficient === 0n) return NAN_PARTS; // 0 / 0
    return neg ? NEG_INF : POS_INF; // division by zero
  }
  const preferred = a.exponent - b.exponent;
  if (a.coefficient === 0n) return finish(neg, 0n, preferred, mode);
  // scale so that the quotient has at least 35 digits
  let shift = DECIMAL_PRECISION + 1 + digitCount(b.coefficient) - digitCount(a.coefficient);
  if (shift < 0) shift = 0;
  const n = a.coefficient * pow10(shift);
  let q = n / b.coefficient;
  const r = n % b.coefficient;
  let exp = preferred - shift;
  if (r === 0n) {
    // exact: the representation whose exponent is closest to the preferred one
    while (exp < preferred && q % 10n === 0n) {
      q /= 10n;
      exp += 1;
    }
    return finish(neg, q, exp, mode);
  }
  return finish(neg, q, exp, mode, true);
}

/**
 * bid128_fmod: x - trunc(x / y) * y, exact, with the sign of x and the exponent min(Q(x), Q(y)).
 * fmod(x, ±inf) = x; fmod(±inf, y), fmod(x, 0) = NaN.
 */
function remainderParts(a: Parts, b: Parts): Parts {
  if (a.kind === 'nan' || b.kind === 'nan') return propagateNaN(a, b);
  if (a.kind === 'infinity') return NAN_PARTS;
  if (b.kind === 'infinity') return a;
  if (b.coefficient === 0n) return NAN_PARTS;
  const exp = a.exponent < b.exponent ? a.exponent : b.exponent;
  if (a.coefficient === 0n) return { kind: 'finite', neg: a.neg, coefficient: 0n, exponent: exp };
  let r: bigint;
  if (a.exponent <= b.exponent) {
    const d = b.exponent - a.exponent;
    // |x| < 10^Q(y) <= |y|: the remainder is x itself
    if (d >= digitCount(a.coefficient)) return a;
    r = a.coefficient % (b.coefficient * pow10(d));
  } else {
    r = (a.coefficient * modPow10(a.exponent - b.exponent, b.coefficient)) % b.coefficient;
  }
  return { kind: 'finite', neg: a.neg, coefficient: r, exponent: exp };
}

/** 10^k mod m. */
function modPow10(k: number, m: bigint): bigint {
  let result = 1n % m;
  let base = 10n % m;
  let e = k;
  while (e > 0) {
    if ((e & 1) === 1) result = (result * base) % m;
    base = (base * base) % m;
    e >>>= 1;
  }
  return result;
}

/**
 * IEEE quantize: x with exponent `exp`, rounded by `mode`; NaN (invalid) when the coefficient
 * would need more than 34 digits or the exponent is out of range. quantize(±inf) = NaN.
 */
function quantizeParts(x: Parts, exp: number, mode: RoundingMode): Parts {
  if (x.kind === 'nan') return quietNaN(x);
  if (x.kind === 'infinity') return NAN_PARTS;
  if (exp < DECIMAL_MIN_EXPONENT || exp > DECIMAL_MAX_EXPONENT) return NAN_PARTS;
  if (x.coefficient === 0n) return { kind: 'finite', neg: x.neg, coefficient: 0n, exponent: exp };
  if (x.exponent >= exp) {
    const shift = x.exponent - exp;
    if (digitCount(x.coefficient) + shift > DECIMAL_PRECISION) return NAN_PARTS;
    return { kind: 'finite', neg: x.neg, coefficient: x.coefficient * pow10(shift), exponent: exp };
  }
  const coef = divRound(x.coefficient, exp - x.exponent, x.neg, mode, false);
  if (coef > MAX_COEFFICIENT) return NAN_PARTS;
  return { kind: 'finite', neg: x.neg, coefficient: coef, exponent: exp };
}

// ---------------------------------------------------------------------------------------------
// Public operations on bson Decimal128 values

/** a + b (bid128_add). */
export function decimalAdd(a: Decimal128, b: Decimal128, mode: RoundingMode = 'halfEven'): Decimal128 {
  return encodeDecimal(addParts(decodeDecimal(a), decodeDecimal(b), mode));
}

/** a - b (bid128_sub: a + (-b)). */
export function decimalSubtract(a: Decimal128, b: Decimal128, mode: RoundingMode = 'halfEven'): Decimal128 {
  const pb = decodeDecimal(b);
  return encodeDecimal(addParts(decodeDecimal(a), pb.kind === 'nan' ? pb : negateParts(pb), mode));
}

/** a * b (bid128_mul). */
export function decimalMultiply(a: Decimal128, b: Decimal128, mode: RoundingMode = 'halfEven'): Decimal128 {
  return encodeDecimal(multiplyParts(decodeDecimal(a), decodeDecimal(b), mode));
}

/** a / b (bid128_div): ideal exponent Q(a) - Q(b), exact results shortened toward it. */
export function decimalDivide(a: Decimal128, b: Decimal128, mode: RoundingMode = 'halfEven'): Decimal128 {
  return encodeDecimal(divideParts(decodeDecimal(a), decodeDecimal(b), mode));
}

/** fmod(a, b) (bid128_fmod, what mongod's Decimal128::modulo calls). */
export function decimalRemainder(a: Decimal128, b: Decimal128): Decimal128 {
  return encodeDecimal(remainderParts(decodeDecimal(a), decodeDecimal(b)));
}

/** IEEE quantize of x to the exponent `exponent` (bid128_quantize). */
export function decimalQuantize(x: Decimal128, exponent: number, mode: RoundingMode = 'halfEven'): Decimal128 {
  return encodeDecimal(quantizeParts(decodeDecimal(x), exponent, mode));
}

/**
 * mongod's Decimal128::quantize(reference = 1E`exponent`): when the value has too many digits to
 * be quantized that far (its 34-digit normalized form ends above the quantum), it returns the
 * normalized (34-digit) form instead of NaN; otherwise bid128_quantize. NaN returns NaN.
 * (src/mongo/platform/decimal128.cpp, Decimal128::quantize.)
 */
export function decimalQuantizeLikeMongod(x: Decimal128, exponent: number, mode: RoundingMode = 'halfEven'): Decimal128 {
  const p = decodeDecimal(x);
  const normalized = addParts(p, ZERO_MIN_EXPONENT, 'halfEven');
  // normalize(1E`exponent`) is 10^33 E(exponent - 33); its biased exponent is never 0 here
  const refBiased = Math.max(exponent - 33, DECIMAL_MIN_EXPONENT) + EXPONENT_BIAS;
  const thisBiased = normalized.kind === 'finite' ? normalized.exponent + EXPONENT_BIAS : 12288;
  if (refBiased !== 0 && thisBiased - refBiased > 33) return encodeDecimal(normalized);
  return encodeDecimal(quantizeParts(p, exponent, mode));
}

const ZERO_MIN_EXPONENT: Parts = { kind: 'finite', neg: false, coefficient: 0n, exponent: DECIMAL_MIN_EXPONENT };

/** x + 0E-6176: the same value with 34 digits (or the smallest exponent) (Decimal128::normalize). */
export function decimalNormalize(x: Decimal128): Decimal128 {
  return encodeDecimal(addParts(decodeDecimal(x), ZERO_MIN_EXPONENT, 'halfEven'));
}

/** |x| (bid128_abs: clears the sign bit, keeps the cohort and NaN payloads). */
export function decimalAbs(x: Decimal128): Decimal128 {
  const b = new Uint8Array(x.bytes);
  b[15] = b[15]! & 0x7f;
  return new Decimal128(b);
}

/** -x (flips the sign bit). */
export function decimalNegate(x: Decimal128): Decimal128 {
  const b = new Uint8Array(x.bytes);
  b[15] = b[15]! ^ 0x80;
  return new Decimal128(b);
}

export function decimalIsNaN(x: Decimal128): boolean {
  return ((x.bytes[15]! >>> 2) & 0x1f) === 0x1f;
}

export function decimalIsInfinite(x: Decimal128): boolean {
  return ((x.bytes[15]! >>> 2) & 0x1f) === 0x1e;
}

export function decimalIsFinite(x: Decimal128): boolean {
  return ((x.bytes[15]! >>> 2) & 0x1e) !== 0x1e;
}

export function decimalIsNegative(x: Decimal128): boolean {
  return (x.bytes[15]! & 0x80) !== 0;
}

export function decimalIsZero(x: Decimal128): boolean {
  const p = decodeDecimal(x);
  return p.kind === 'finite' && p.coefficient === 0n;
}

/** IEEE quiet equality: numerically equal (any cohort, 0 == -0); NaN equals nothing. */
export function decimalEquals(a: Decimal128, b: Decimal128): boolean {
  return compareParts(decodeDecimal(a), decodeDecimal(b)) === 0;
}

/** -1/0/1 numeric comparison, or NaN when either is NaN. */
export function decimalCompare(a: Decimal128, b: Decimal128): number {
  return compareParts(decodeDecimal(a), decodeDecimal(b));
}

function compareParts(a: Parts, b: Parts): number {
  if (a.kind === 'nan' || b.kind === 'nan') return NaN;
  const sa = signum(a);
  const sb = signum(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    if (a.kind === b.kind) return 0;
    return (a.kind === 'infinity' ? 1 : -1) * sa;
  }
  // same sign, both finite nonzero: compare magnitudes
  const ma = digitCount(a.coefficient) + a.exponent;
  const mb = digitCount(b.coefficient) + b.exponent;
  let c: number;
  if (ma !== mb) c = ma < mb ? -1 : 1;
  else {
    const e = a.exponent < b.exponent ? a.exponent : b.exponent;
    const x = a.coefficient * pow10(a.exponent - e);
    const y = b.coefficient * pow10(b.exponent - e);
    c = x === y ? 0 : x < y ? -1 : 1;
  }
  return c * sa;
}

function signum(p: Parts): number {
  if (p.kind === 'finite' && p.coefficient === 0n) return 0;
  return p.neg ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// Conversions

/** A decimal from an integer (exact when |n| < 10^34, else rounded half-even), exponent 0. */
export function decimalFromBigInt(n: bigint): Decimal128 {
  return encodeDecimal(n < 0n ? finish(true, -n, 0, 'halfEven') : finish(false, n, 0, 'halfEven'));
}

const f64 = new Float64Array(1);
const f64words = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A finite nonzero double as (neg, odd mantissa, binary exponent): |x| = mantissa * 2^exp2. */
function splitDouble(x: number): { neg: boolean; mantissa: bigint; exp2: number } {
  f64[0] = x;
  const hi = f64words[LITTLE_ENDIAN ? 1 : 0]!;
  const lo = f64words[LITTLE_ENDIAN ? 0 : 1]!;
  const biased = (hi >>> 20) & 0x7ff;
  let m = (hi & 0xfffff) * 4294967296 + lo;
  let exp2: number;
  if (biased === 0) exp2 = -1074;
  else {
    m += 4503599627370496; // hidden bit 2^52
    exp2 = biased - 1075;
  }
  // strip trailing zero bits (exactly, on a safe integer)
  while (m % 2 === 0) {
    m /= 2;
    exp2 += 1;
  }
  return { neg: hi >>> 31 === 1, mantissa: BigInt(m), exp2 };
}

/**
 * binary64_to_bid128 (round to nearest even): exact integers below 10^34 get exponent 0, other
 * exactly representable values get the exponent of their last nonzero decimal digit, all other
 * values are rounded to exactly 34 significant digits. ±0 → ±0E+0.
 */
function doubleToParts34(x: number, mode: RoundingMode): Parts {
  if (x !== x) return NAN_PARTS;
  if (x === Infinity) return POS_INF;
  if (x === -Infinity) return NEG_INF;
  if (x === 0) return { kind: 'finite', neg: Object.is(x, -0), coefficient: 0n, exponent: 0 };
  const { neg, mantissa, exp2 } = splitDouble(x);
  if (exp2 >= 0) return finish(neg, mantissa << BigInt(exp2), 0, mode);
  const a = -exp2;
  // |x| = mantissa * 5^a * 10^-a exactly; rounded (once) to 34 digits when it has more
  return finish(neg, mantissa * pow5(a), -a, mode);
}

/**
 * mongod's Decimal128(double, precision): with 34 digits, binary64_to_bid128 (see above); with 15
 * digits (the default, what Value::coerceToDecimal and SafeNum use), that value quantized to 15
 * significant digits: Q = 10^(floor(log10(2^base2Exp)) - 14), retried one decade up when the
 * coefficient came out with 16 digits (src/mongo/platform/decimal128.cpp).
 */
export function decimalFromDouble(x: number, precision: 15 | 34 = 15, mode: RoundingMode = 'halfEven'): Decimal128 {
  const converted = doubleToParts34(x, mode);
  if (precision === 34 || converted.kind !== 'finite' || converted.coefficient === 0n) return encodeDecimal(converted);
  const base2Exp = floorLog2(Math.abs(x));
  let base10Exp = Math.trunc((base2Exp * 30103) / 100000);
  if (base2Exp < 0) base10Exp -= 1;
  let q = quantizeParts(converted, base10Exp - 14, mode);
  if (q.coefficient > 999999999999999n) q = quantizeParts(converted, base10Exp - 13, mode);
  return encodeDecimal(q);
}

/** floor(log2(|x|)) of a finite nonzero double, exactly (frexp's exponent - 1). */
function floorLog2(x: number): number {
  f64[0] = x;
  const hi = f64words[LITTLE_ENDIAN ? 1 : 0]!;
  const lo = f64words[LITTLE_ENDIAN ? 0 : 1]!;
  const biased = (hi >>> 20) & 0x7ff;
  if (biased !== 0) return biased - 1023;
  const frac = (hi & 0xfffff) * 4294967296 + lo; // subnormal: |x| = frac * 2^-1074, frac < 2^52
  let bits = 0;
  while (2 ** (bits + 1) <= frac) bits++;
  return bits - 1074;
}

/** bid128_to_binary64: the double nearest the decimal (ties to even); NaN → NaN, ±inf → ±inf. */
export function decimalToDouble(x: Decimal128): number {
  return partsToDouble(decodeDecimal(x));
}

function partsToDouble(p: Parts): number {
  if (p.kind === 'nan') return NaN;
  if (p.kind === 'infinity') return p.neg ? -Infinity : Infinity;
  const sign = p.neg ? -1 : 1;
  const c = p.coefficient;
  if (c === 0n) return p.neg ? -0 : 0;
  const digits = digitCount(c);
  // fast exact paths: both the coefficient and the power of ten are exact doubles
  if (c <= 9007199254740992n) {
    if (p.exponent === 0) return sign * Number(c);
    if (p.exponent > 0 && p.exponent <= 22 && digits + p.exponent <= 15) return sign * Number(c) * 10 ** p.exponent;
    if (p.exponent < 0 && p.exponent >= -22) return (sign * Number(c)) / 10 ** -p.exponent;
  }
  const magnitude = digits - 1 + p.exponent; // floor(log10(|x|))
  if (magnitude >= 309) return sign * Infinity;
  if (magnitude < -325) return sign * 0;
  const num = p.exponent >= 0 ? c * pow10(p.exponent) : c;
  const den = p.exponent >= 0 ? 1n : pow10(-p.exponent);
  return sign * ratioToDouble(num, den);
}

/** The double nearest num/den (num, den > 0), ties to even, with subnormals and overflow. */
function ratioToDouble(num: bigint, den: bigint): number {
  let e = bitLength(num) - bitLength(den); // floor(log2(num/den)) is e or e - 1
  if (e >= 0 ? num < den << BigInt(e) : num << BigInt(-e) < den) e -= 1;
  if (e > 1023) return Infinity;
  let lsb = e - 52;
  if (lsb < -1074) lsb = -1074;
  // m = num / (den * 2^lsb), rounded half to even
  let n = num;
  let d = den;
  if (lsb >= 0) d <<= BigInt(lsb);
  else n <<= BigInt(-lsb);
  let m = n / d;
  const r = n % d;
  const twice = r * 2n;
  if (twice > d || (twice === d && (m & 1n) === 1n)) m += 1n;
  return Number(m) * 2 ** lsb;
}

/** Integer conversion flags (Decimal128::SignalingFlag). */
export interface IntegerConversion {
  readonly value: bigint;
  /** NaN, infinity or out of range: value is the integer type's minimum (as the library returns). */
  readonly invalid: boolean;
  /** The value had a fractional part that was rounded away. */
  readonly inexact: boolean;
}

function toInteger(x: Decimal128, mode: RoundingMode, min: bigint, max: bigint): IntegerConversion {
  const p = decodeDecimal(x);
  if (p.kind !== 'finite') return { value: min, invalid: true, inexact: false };
  let v: bigint;
  let inexact = false;
  if (p.exponent >= 0) {
    if (p.coefficient !== 0n && digitCount(p.coefficient) + p.exponent > 40) return { value: min, invalid: true, inexact: false };
    v = p.coefficient * pow10(p.exponent);
  } else {
    const k = -p.exponent;
    v = divRound(p.coefficient, k, p.neg, mode, false);
    inexact = k > digitCount(p.coefficient) + 1 ? p.coefficient !== 0n : p.coefficient % pow10(k) !== 0n;
  }
  if (p.neg) v = -v;
  if (v < min || v > max) return { value: min, invalid: true, inexact: false };
  return { value: v, invalid: false, inexact };
}

const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/** bid128_to_int64_* (Decimal128::toLong / toLongExact). */
export function decimalToInt64(x: Decimal128, mode: RoundingMode = 'halfEven'): IntegerConversion {
  return toInteger(x, mode, INT64_MIN, INT64_MAX);
}

/** bid128_to_int32_* (Decimal128::toInt / toIntExact). */
export function decimalToInt32(x: Decimal128, mode: RoundingMode = 'halfEven'): IntegerConversion {
  return toInteger(x, mode, -2147483648n, 2147483647n);
}
