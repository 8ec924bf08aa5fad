/**
 * $regex/$options and $mod (expression_leaf.cpp: RegexMatchExpression, ModMatchExpression;
 * expression_parser.cpp: parseRegexDocument, parseMOD).
 *
 * RegexMatchExpression::matchesSingleElement: a string or a symbol matches when the pattern finds
 * it; a stored regular expression matches when its pattern and its flags are the same strings;
 * nothing else matches. Collation does not apply.
 *
 * ModMatchExpression: divisor and remainder are taken as 64-bit integers when the filter is parsed
 * (BSONElement::tryCoerce: doubles/decimals truncated toward zero; NaN/Infinity "Unable to coerce
 * NaN/Inf to integral type", out of range "Out of bounds coercing to integral value", both under
 * "malformed mod, divisor|remainder value is invalid :: caused by :: "); the divisor may not be 0.
 * A value matches when it is a number whose truncation toward zero fits 64 bits (NaN and infinities
 * never match) and dividend % divisor (C++ remainder, sign of the dividend; % -1 is 0) equals
 * the remainder.
 */
import { compileRegex } from '../regex.js';
import { LocationCodes } from '../../errors.js';
import { badValue, located } from '../queryErrors.js';
import type { Test } from './node.js';
import { bsonTypeOf, BSON_TYPE, decimalToInteger, fitsInt64, isNumberType, truncatedInt64 } from './values.js';

interface RegexValue {
  readonly pattern: string;
  readonly options: string;
}

/** The pattern and flags of a regular expression value (BSONRegExp, or a JS RegExp as bson writes it). */
export function regexParts(v: unknown): RegexValue | undefined {
  if (v instanceof RegExp) return { pattern: v.source, options: (v.ignoreCase ? 'i' : '') + (v.global ? 's' : '') + (v.multiline ? 'm' : '') };
  if (typeof v === 'object' && v !== null && (v as { _bsontype?: unknown })._bsontype === 'BSONRegExp') return v as RegexValue;
  return undefined;
}

/** RegexMatchExpression's test for a pattern and flags (compiled once; mongod's errors for bad ones). */
export function regexTest(pattern: string, options: string): Test {
  if (pattern.includes('\0')) throw badValue('Regular expression cannot contain an embedded null byte');
  const re = compileRegex(pattern, options);
  return (e) => {
    if (typeof e === 'string') return re.test(e);
    if (typeof e !== 'object' || e === null) return false;
    switch ((e as { _bsontype?: unknown })._bsontype) {
      case 'BSONSymbol':
        return re.test(String((e as { value: unknown }).value));
      case 'BSONRegExp':
        return (e as RegexValue).pattern === pattern && (e as RegexValue).options === options;
      case undefined: {
        const r = e instanceof RegExp ? regexParts(e)! : undefined;
        return r !== undefined && r.pattern === pattern && r.options === options;
      }
      default:
        return false;
    }
  };
}

/** The test of a regular expression value ({a: /x/}, a regex in $in, $all or $not). */
export function regexValueTest(v: unknown): Test {
  const r = regexParts(v)!;
  return regexTest(r.pattern, r.options);
}

/**
 * {$regex, $options} of a field's operator document (parseRegexDocument): the pattern from a string
 * or a regex value, the options from $options or the regex value's flags (not both).
 */
export function regexDocumentTest(operators: Record<string, unknown>): Test {
  let pattern = '';
  let options = '';
  for (const key of Object.keys(operators)) {
    const v = operators[key];
    if (key === '$regex') {
      if (typeof v === 'string') pattern = v;
      else {
        const r = regexParts(v);
        if (r === undefined) throw badValue('$regex has to be a string');
        pattern = r.pattern;
        if (r.options !== '') {
          if (options !== '') throw located(LocationCodes.RegexOptionsTwiceRegexFirst, 'options set in both $regex and $options');
          options = r.options;
        }
      }
    } else if (key === '$options') {
      if (typeof v !== 'string') throw badValue('$options has to be a string');
      if (options !== '') throw located(LocationCodes.RegexOptionsTwiceOptionsFirst, 'options set in both $regex and $options');
      options = v;
    }
  }
  return regexTest(pattern, options);
}

/** BSONElement::tryCoerce to a 64-bit integer, with mongod's reasons. */
function coerceInt64(v: unknown): bigint | string {
  const t = bsonTypeOf(v);
  if (t === BSON_TYPE.double) {
    const d = typeof v === 'number' ? v : +(v as { value: number }).value;
    if (!Number.isFinite(d)) return 'Unable to coerce NaN/Inf to integral type';
    if (d >= 9223372036854775808 || d < -9223372036854775808) return 'Out of bounds coercing to integral value';
    return BigInt(Math.trunc(d));
  }
  if (t === BSON_TYPE.decimal) {
    const i = decimalToInteger(v, 'zero');
    if (i === undefined) return 'Unable to coerce NaN/Inf to integral type';
    if (!fitsInt64(i)) return 'Out of bounds coercing to integral value';
    return i;
  }
  return truncatedInt64(v)!;
}

function isNumber(v: unknown): boolean {
  return isNumberType(bsonTypeOf(v));
}

/** $mod's test, its argument checked as parseMOD does. */
export function modTest(arg: unknown): Test {
  if (!Array.isArray(arg)) throw badValue('malformed mod, needs to be an array');
  if (arg.length === 0) throw badValue('malformed mod, not enough elements');
  if (!isNumber(arg[0])) throw badValue('malformed mod, divisor not a number');
  if (arg.length < 2) throw badValue('malformed mod, not enough elements');
  if (!isNumber(arg[1])) throw badValue('malformed mod, remainder not a number');
  if (arg.length > 2) throw badValue('malformed mod, too many elements');
  const divisor = coerceInt64(arg[0]);
  if (typeof divisor === 'string') throw badValue(`malformed mod, divisor value is invalid :: caused by :: ${divisor}`);
  const remainder = coerceInt64(arg[1]);
  if (typeof remainder === 'string') throw badValue(`malformed mod, remainder value is invalid :: caused by :: ${remainder}`);
  if (divisor === 0n) throw badValue('divisor cannot be 0');
  const smallD = divisor >= -9007199254740991n && divisor <= 9007199254740991n ? Number(divisor) : undefined;
  const smallR = remainder >= -9007199254740991n && remainder <= 9007199254740991n ? Number(remainder) : undefined;
  return (e) => {
    // Fast path: an int32/double dividend, everything within doubles' exact integers.
    if (smallD !== undefined && smallR !== undefined) {
      let x: number | undefined;
      if (typeof e === 'number') x = e;
      else if (typeof e === 'object' && e !== null) {
        const tag = (e as { _bsontype?: unknown })._bsontype;
        if (tag === 'Int32' || tag === 'Double') x = +(e as { value: number }).value;
      }
      if (x !== undefined) {
        if (!Number.isFinite(x)) return false;
        const t = Math.trunc(x);
        if (Number.isSafeInteger(t)) return (smallD === -1 ? 0 : t % smallD) === smallR;
      }
    }
    const dividend = truncatedInt64(e);
    if (dividend === undefined) return false;
    const r = divisor === -1n ? 0n : dividend % divisor;
    return r === remainder;
  };
}

