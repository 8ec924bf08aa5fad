/**
 * String expressions (src/mongo/db/exec/expression/evaluate_string.cpp, evaluate_regex.cpp;
 * parsers and $replaceOne/$replaceAll in src/mongo/db/pipeline/expression.cpp): $concat $substr
 * $substrBytes $substrCP $toLower $toUpper $strLenBytes $strLenCP $split $trim $ltrim $rtrim
 * $indexOfBytes $indexOfCP $strcasecmp $regexMatch $regexFind $regexFindAll $replaceOne
 * $replaceAll $binarySize.
 *
 * mongod's strings are UTF-8: byte offsets and lengths are computed on the UTF-8 encoding, code
 * point offsets on code points (a surrogate pair is one). $toLower/$toUpper/$strcasecmp change
 * ASCII letters only (boost::to_lower/to_upper in the C locale).
 */
import { Int32 } from 'bson';
import { LocationCodes, MongoError } from '../../errors.js';
import { compareUtf8 } from '../../bson/bsonOrder.js';
import { compileRegex } from '../regex.js';
import { checkIndexArgument } from './array.js';
import {
  computed,
  fail,
  fixedArity,
  isArgumentObject,
  rangedArity,
  refuse,
  variadic,
  type Node,
  type OperatorTable,
  type ParseContext,
} from './node.js';
import { coerceToLong, integral } from '../numeric.js';
import { BSON_TYPE, coerceToString, coerceToInt, isNumber, nullish, typeName, typeOf, utf8, valueText } from './values.js';

const MINUS_ONE = new Int32(-1);
const ZERO = new Int32(0);
const ONE = new Int32(1);

/** The code points of a string (surrogate pairs joined). */
function codePoints(s: string): string[] {
  return Array.from(s);
}

function isContinuation(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

// ---------------------------------------------------------------------------------------------
// $concat

function parseConcat(arg: unknown, ctx: ParseContext): Node {
  const children = variadic(arg, ctx);
  const evals = children.map((c) => c.evaluate);
  return computed((s) => {
    let out = '';
    for (const e of evals) {
      const v = e(s);
      if (nullish(v)) return null;
      if (typeof v !== 'string') throw fail(LocationCodes.ConcatNotString, `$concat only supports strings, not ${typeName(v)}`);
      out += v;
    }
    return out;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $substrBytes $substrCP

function parseSubstrBytes(arg: unknown, ctx: ParseContext): Node {
  const op = '$substrBytes';
  const children = fixedArity(op, arg, 3, ctx);
  const [a, b, c] = children.map((n) => n.evaluate) as [Node['evaluate'], Node['evaluate'], Node['evaluate']];
  return computed((s) => {
    const strVal = a(s);
    const lowerVal = b(s);
    const lengthVal = c(s);
    const bytes = utf8(coerceToString(strVal));
    if (!isNumber(lowerVal)) {
      throw fail(LocationCodes.SubstrBytesStartNotNumeric, `${op}:  starting index must be a numeric type (is BSON type ${typeName(lowerVal)})`);
    }
    if (!isNumber(lengthVal)) {
      throw fail(LocationCodes.SubstrBytesLengthNotNumeric, `${op}:  length must be a numeric type (is BSON type ${typeName(lengthVal)})`);
    }
    const lower = coerceToLong(lowerVal);
    if (lower < 0n) throw fail(LocationCodes.SubstrBytesStartNegative, `${op}:  starting index must be non-negative (got: ${lower})`);
    const signedLength = coerceToLong(lengthVal);
    const size = BigInt(bytes.length);
    const length = signedLength < 0n ? size : signedLength;
    if (lower < size && isContinuation(bytes[Number(lower)])) {
      throw fail(LocationCodes.SubstrBytesStartContinuation, `${op}:  Invalid range, starting index is a UTF-8 continuation byte.`);
    }
    if (lower + length < size && isContinuation(bytes[Number(lower + length)])) {
      throw fail(LocationCodes.SubstrBytesEndContinuation, `${op}:  Invalid range, ending index is in the middle of a UTF-8 character.`);
    }
    if (lower >= size) return '';
    const end = lower + length < size ? Number(lower + length) : bytes.length;
    return bytes.subarray(Number(lower), end).toString('utf8');
  }, children);
}

function parseSubstrCP(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 3, ctx);
  const [a, b, c] = children.map((n) => n.evaluate) as [Node['evaluate'], Node['evaluate'], Node['evaluate']];
  return computed((s) => {
    const inputVal = a(s);
    const lowerVal = b(s);
    const lengthVal = c(s);
    const str = coerceToString(inputVal);
    if (!isNumber(lowerVal)) {
      throw fail(LocationCodes.SubstrCPStartNotNumeric, `${op}: starting index must be a numeric type (is BSON type ${typeName(lowerVal)})`);
    }
    if (!integral(lowerVal)) {
      throw fail(
        LocationCodes.SubstrCPStartNotIntegral,
        `${op}: starting index cannot be represented as a 32-bit integral value: ${valueText(lowerVal)}`,
      );
    }
    if (!isNumber(lengthVal)) {
      throw fail(LocationCodes.SubstrCPLengthNotNumeric, `${op}: length must be a numeric type (is BSON type ${typeName(lengthVal)})`);
    }
    if (!integral(lengthVal)) {
      throw fail(
        LocationCodes.SubstrCPLengthNotIntegral,
        `${op}: length cannot be represented as a 32-bit integral value: ${valueText(lengthVal)}`,
      );
    }
    const start = coerceToInt(lowerVal);
    const length = coerceToInt(lengthVal);
    if (length < 0) throw fail(LocationCodes.SubstrCPLengthNegative, `${op}: length must be a nonnegative integer.`);
    if (start < 0) throw fail(LocationCodes.SubstrCPStartNegative, `${op}: the starting index must be nonnegative integer.`);
    const cps = codePoints(str);
    return cps.slice(start, start + length).join('');
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $toLower $toUpper $strcasecmp

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

function parseCase(map: (s: string) => string) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = fixedArity(op, arg, 1, ctx);
    const a = children[0]!.evaluate;
    return computed((s) => map(coerceToString(a(s))), children);
  };
}

function parseStrcasecmp(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  return computed((s) => {
    const x = a(s);
    const y = b(s);
    const c = compareUtf8(asciiUpper(coerceToString(x)), asciiUpper(coerceToString(y)));
    return c === 0 ? ZERO : c > 0 ? ONE : MINUS_ONE;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $strLenBytes $strLenCP $binarySize

function parseStrLenBytes(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const v = a(s);
    if (typeof v !== 'string') throw fail(LocationCodes.StrLenBytesNotString, `$strLenBytes requires a string argument, found: ${typeName(v)}`);
    return new Int32(Buffer.byteLength(v, 'utf8'));
  }, children);
}

function parseStrLenCP(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const v = a(s);
    if (typeof v !== 'string') throw fail(LocationCodes.StrLenCPNotString, `$strLenCP requires a string argument, found: ${typeName(v)}`);
    let n = 0;
    for (const _ of v) n++;
    return new Int32(n);
  }, children);
}

function parseBinarySize(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const v = a(s);
    if (nullish(v)) return null;
    if (typeof v === 'string') return new Int32(Buffer.byteLength(v, 'utf8'));
    if (typeOf(v) === BSON_TYPE.binData) {
      const bin = v as { length?: unknown; position?: number; byteLength?: number };
      if (v instanceof Uint8Array) return new Int32(v.byteLength);
      return new Int32(typeof bin.position === 'number' ? bin.position : Number(bin.length));
    }
    throw fail(LocationCodes.BinarySizeBadType, `$binarySize requires a string or BinData argument, found: ${typeName(v)}`);
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $split

function parseSplit(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  return computed((s) => {
    const input = a(s);
    const sep = b(s);
    if (nullish(input) || nullish(sep)) return null;
    if (typeof input !== 'string') {
      throw fail(LocationCodes.SplitFirstNotString, `$split requires an expression that evaluates to a string as a first argument, found: ${typeName(input)}`);
    }
    if (typeof sep !== 'string') {
      throw fail(LocationCodes.SplitSecondNotString, `$split requires an expression that evaluates to a string as a second argument, found: ${typeName(sep)}`);
    }
    if (sep.length === 0) throw fail(LocationCodes.SplitEmptySeparator, '$split requires a non-empty separator');
    return input.split(sep);
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $trim $ltrim $rtrim

/** ExpressionTrim::kDefaultWhitespaceChars. */
const DEFAULT_TRIM = new Set([
  '\0', ' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '\u1680',
  '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
]);

function doTrim(input: string, chars: ReadonlySet<string>, left: boolean, right: boolean): string {
  const cps = codePoints(input);
  let start = 0;
  let end = cps.length;
  if (left) while (start < end && chars.has(cps[start]!)) start++;
  if (right) while (end > start && chars.has(cps[end - 1]!)) end--;
  return start === 0 && end === cps.length ? input : cps.slice(start, end).join('');
}

function parseTrim(arg: unknown, ctx: ParseContext, op: string): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.TrimNotObject, `${op} only supports an object as an argument, found ${typeName(arg)}`);
  let input: Node | undefined;
  let chars: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'input') input = ctx.parse(arg[k]);
    else if (k === 'chars') chars = ctx.parse(arg[k]);
    else throw fail(LocationCodes.TrimUnknownArgument, `${op} found an unknown argument: ${k}`);
  }
  if (input === undefined) throw fail(LocationCodes.TrimMissingInput, `${op} requires an 'input' field`);
  const left = op !== '$rtrim';
  const right = op !== '$ltrim';
  const inputEval = input.evaluate;
  const charsEval = chars?.evaluate;
  return computed((s) => {
    const v = inputEval(s);
    if (nullish(v)) return null;
    if (typeof v !== 'string') {
      throw fail(LocationCodes.TrimInputNotString, `${op} requires its input to be a string, got ${valueText(v)} (of type ${typeName(v)}) instead.`);
    }
    if (charsEval === undefined) return doTrim(v, DEFAULT_TRIM, left, right);
    const c = charsEval(s);
    if (nullish(c)) return null;
    if (typeof c !== 'string') {
      throw fail(LocationCodes.TrimCharsNotString, `${op} requires 'chars' to be a string, got ${valueText(c)} (of type ${typeName(c)}) instead.`);
    }
    return doTrim(v, new Set(codePoints(c)), left, right);
  }, [input, chars]);
}

// ---------------------------------------------------------------------------------------------
// $indexOfBytes $indexOfCP

function parseIndexOfBytes(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = rangedArity(op, arg, 2, 4, ctx);
  const evals = children.map((c) => c.evaluate);
  return computed((s) => {
    const str = evals[0]!(s);
    if (nullish(str)) return null;
    if (typeof str !== 'string') {
      throw fail(LocationCodes.IndexOfBytesNotString, `$indexOfBytes requires a string as the first argument, found: ${typeName(str)}`);
    }
    const token = evals[1]!(s);
    if (typeof token !== 'string') {
      throw fail(LocationCodes.IndexOfBytesTokenNotString, `$indexOfBytes requires a string as the second argument, found: ${typeName(token)}`);
    }
    const input = utf8(str);
    let start = 0;
    if (evals.length > 2) start = checkIndexArgument(evals[2]!(s), op, 'starting index');
    let end = input.length;
    if (evals.length > 3) end = Math.min(input.length, checkIndexArgument(evals[3]!(s), op, 'ending index'));
    if (start > input.length || end < start) return MINUS_ONE;
    const needle = utf8(token);
    const pos = input.subarray(0, end).indexOf(needle, start);
    if (pos < 0) return MINUS_ONE;
    return new Int32(needle.length === 0 ? start : pos);
  }, children);
}

function parseIndexOfCP(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = rangedArity(op, arg, 2, 4, ctx);
  const evals = children.map((c) => c.evaluate);
  return computed((s) => {
    const str = evals[0]!(s);
    if (nullish(str)) return null;
    if (typeof str !== 'string') {
      throw fail(LocationCodes.IndexOfCPNotString, `$indexOfCP requires a string as the first argument, found: ${typeName(str)}`);
    }
    const token = evals[1]!(s);
    if (typeof token !== 'string') {
      throw fail(LocationCodes.IndexOfCPTokenNotString, `$indexOfCP requires a string as the second argument, found: ${typeName(token)}`);
    }
    let start = 0;
    if (evals.length > 2) start = checkIndexArgument(evals[2]!(s), op, 'starting index');
    const cps = codePoints(str);
    let end = cps.length;
    if (evals.length > 3) end = Math.min(cps.length, checkIndexArgument(evals[3]!(s), op, 'ending index'));
    if (end < start) return MINUS_ONE;
    if (start === 0 && str.length === 0 && token.length === 0) return ZERO;
    const tokenCps = codePoints(token);
    for (let i = start; i < end; i++) {
      let match = true;
      for (let j = 0; j < tokenCps.length; j++) {
        if (cps[i + j] !== tokenCps[j]) {
          match = false;
          break;
        }
      }
      if (match) return new Int32(i);
    }
    return MINUS_ONE;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $regexMatch $regexFind $regexFindAll

interface RegexArgs {
  readonly input: Node;
  readonly regex: Node;
  readonly options: Node | undefined;
}

function parseRegexArgs(arg: unknown, ctx: ParseContext, op: string): RegexArgs {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.RegexNotObject, `${op} expects an object of named arguments but found: ${typeName(arg)}`);
  let input: Node | undefined;
  let regex: Node | undefined;
  let options: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'input') input = ctx.parse(arg[k]);
    else if (k === 'regex') regex = ctx.parse(arg[k]);
    else if (k === 'options') options = ctx.parse(arg[k]);
    else throw fail(LocationCodes.RegexUnknownArgument, `${op} found an unknown argument: ${k}`);
  }
  if (input === undefined) throw fail(LocationCodes.RegexMissingInput, `${op} requires 'input' parameter`);
  if (regex === undefined) throw fail(LocationCodes.RegexMissingRegex, `${op} requires 'regex' parameter`);
  return { input, regex, options };
}

/** The compiled pattern (with the global flag, for scanning), or undefined for a null pattern. */
function compilePattern(op: string, regexVal: unknown, optionsVal: unknown): RegExp | undefined {
  const t = typeOf(regexVal);
  if (!(nullish(regexVal) || t === BSON_TYPE.string || t === BSON_TYPE.regex)) {
    throw fail(LocationCodes.RegexRegexBadType, `${op} needs 'regex' to be of type string or regex`);
  }
  if (!(nullish(optionsVal) || typeof optionsVal === 'string')) {
    throw fail(LocationCodes.RegexOptionsNotString, `${op} needs 'options' to be of type string`);
  }
  let pattern: string | undefined;
  let options: string | undefined;
  if (t === BSON_TYPE.regex) {
    const r = regexVal as { pattern?: string; options?: string; source?: string; flags?: string };
    pattern = r.pattern ?? r.source ?? '';
    const flags = r.options ?? r.flags ?? '';
    if (!nullish(optionsVal) && flags.length > 0) {
      throw fail(LocationCodes.RegexOptionsTwice, `${op}: found regex option(s) specified in both 'regex' and 'option' fields`);
    }
    if (flags.length > 0) options = flags;
  } else if (typeof regexVal === 'string') {
    pattern = regexVal;
  }
  if (typeof optionsVal === 'string') options = optionsVal;
  if (pattern !== undefined && pattern.includes('\0')) {
    throw fail(LocationCodes.RegexPatternNullByte, `${op}: regular expression cannot contain an embedded null byte`);
  }
  if (options !== undefined && options.includes('\0')) {
    throw fail(LocationCodes.RegexOptionsNullByte, `${op}: regular expression options cannot contain an embedded null byte`);
  }
  if (pattern === undefined) return undefined;
  const opts = options ?? '';
  for (const flag of opts) {
    if (!'imsux'.includes(flag)) throw fail(LocationCodes.RegexBadFlag, `${op} invalid flag in regex options: ${flag}`);
  }
  let re: RegExp;
  try {
    re = compileRegex(pattern, opts.replace(/u/g, ''));
  } catch (err) {
    if (err instanceof MongoError) {
      throw fail(LocationCodes.RegexInvalid, `Invalid Regex in ${op}: ${err.message.replace(/^Regular expression is invalid: /, '')}`);
    }
    throw err;
  }
  return new RegExp(re.source, `${re.flags}g`);
}

/** The code point index of UTF-16 index `i` in `s`. */
function cpIndex(s: string, i: number): number {
  let n = 0;
  for (let k = 0; k < i; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdbff && k + 1 < i) {
      const d = s.charCodeAt(k + 1);
      if (d >= 0xdc00 && d <= 0xdfff) k++;
    }
    n++;
  }
  return n;
}

function matchDocument(input: string, m: RegExpExecArray): Record<string, unknown> {
  const captures: unknown[] = [];
  for (let i = 1; i < m.length; i++) captures.push(m[i] === undefined ? null : m[i]);
  return { match: m[0], idx: new Int32(cpIndex(input, m.index)), captures };
}

/** The length in UTF-16 units of the code point starting at `i`. */
function cpLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

function parseRegex(kind: 'match' | 'find' | 'findAll') {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const { input, regex, options } = parseRegexArgs(arg, ctx, op);
    const inputEval = input.evaluate;
    const regexEval = regex.evaluate;
    const optionsEval = options?.evaluate;
    // a constant pattern is compiled once, at parse time (ExpressionRegex::optimize)
    let fixed: { re: RegExp | undefined } | undefined;
    if (regex.constant && (options === undefined || options.constant)) {
      const none = { root: {}, current: {}, now: new Date(0), variables: new Map() };
      fixed = { re: compilePattern(op, regexEval(none), optionsEval === undefined ? null : optionsEval(none)) };
    }
    return computed(
      (s) => {
        const text = inputEval(s);
        const re = fixed !== undefined ? fixed.re : compilePattern(op, regexEval(s), optionsEval === undefined ? null : optionsEval(s));
        if (!(nullish(text) || typeof text === 'string')) throw fail(LocationCodes.RegexInputNotString, `${op} needs 'input' to be of type string`);
        if (re === undefined || typeof text !== 'string') return kind === 'match' ? false : kind === 'find' ? null : [];
        re.lastIndex = 0;
        if (kind === 'match') return re.exec(text) !== null;
        if (kind === 'find') {
          const m = re.exec(text);
          return m === null ? null : matchDocument(text, m);
        }
        const out: unknown[] = [];
        let pos = 0;
        do {
          re.lastIndex = pos;
          const m = re.exec(text);
          if (m === null) break;
          out.push(matchDocument(text, m));
          if (m[0].length === 0) {
            if (m.index >= text.length) break;
            pos = m.index + cpLength(text, m.index);
          } else {
            pos = m.index + m[0].length;
          }
        } while (pos < text.length);
        return out;
      },
      [input, regex, options],
    );
  };
}

// ---------------------------------------------------------------------------------------------
// $replaceOne $replaceAll

function parseReplace(all: boolean) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    if (!isArgumentObject(arg)) throw fail(LocationCodes.ReplaceNotObject, `${op} requires an object as an argument, found: ${typeName(arg)}`);
    let input: Node | undefined;
    let find: Node | undefined;
    let replacement: Node | undefined;
    for (const k of Object.keys(arg)) {
      if (k === 'input') input = ctx.parse(arg[k]);
      else if (k === 'find') find = ctx.parse(arg[k]);
      else if (k === 'replacement') replacement = ctx.parse(arg[k]);
      else throw fail(LocationCodes.ReplaceUnknownArgument, `${op} found an unknown argument: ${k}`);
    }
    if (input === undefined) throw fail(LocationCodes.ReplaceMissingInput, `${op} requires 'input' to be specified`);
    if (find === undefined) throw fail(LocationCodes.ReplaceMissingFind, `${op} requires 'find' to be specified`);
    if (replacement === undefined) throw fail(LocationCodes.ReplaceMissingReplacement, `${op} requires 'replacement' to be specified`);
    const [ie, fe, re] = [input.evaluate, find.evaluate, replacement.evaluate];
    return computed(
      (s) => {
        const i = ie(s);
        const f = fe(s);
        const r = re(s);
        if (!(typeof i === 'string' || nullish(i))) throw fail(LocationCodes.ReplaceInputNotString, `${op} requires that 'input' be a string, found: ${valueText(i)}`);
        if (!(typeof f === 'string' || nullish(f))) throw fail(LocationCodes.ReplaceFindNotString, `${op} requires that 'find' be a string, found: ${valueText(f)}`);
        if (!(typeof r === 'string' || nullish(r))) {
          throw fail(LocationCodes.ReplaceReplacementNotString, `${op} requires that 'replacement' be a string, found: ${valueText(r)}`);
        }
        if (nullish(i) || nullish(f) || nullish(r)) return null;
        if (!all) {
          const at = i.indexOf(f);
          return at < 0 ? i : i.slice(0, at) + r + i.slice(at + f.length);
        }
        if (f.length === 0) {
          // mongod inserts the replacement between every byte of the input
          if (!/^[\x00-\x7f]*$/.test(i)) throw refuse(`${op} with an empty 'find' on non-ASCII input (mongod splits UTF-8 characters)`);
          let out = r;
          for (const c of i) out += c + r;
          return out;
        }
        return i.split(f).join(r);
      },
      [input, find, replacement],
    );
  };
}

export const stringOperators: OperatorTable = {
  $concat: parseConcat,
  $substr: parseSubstrBytes,
  $substrBytes: parseSubstrBytes,
  $substrCP: parseSubstrCP,
  $toLower: parseCase(asciiLower),
  $toUpper: parseCase(asciiUpper),
  $strcasecmp: parseStrcasecmp,
  $strLenBytes: parseStrLenBytes,
  $strLenCP: parseStrLenCP,
  $binarySize: parseBinarySize,
  $split: parseSplit,
  $trim: parseTrim,
  $ltrim: parseTrim,
  $rtrim: parseTrim,
  $indexOfBytes: parseIndexOfBytes,
  $indexOfCP: parseIndexOfCP,
  $regexMatch: parseRegex('match'),
  $regexFind: parseRegex('find'),
  $regexFindAll: parseRegex('findAll'),
  $replaceOne: parseReplace(false),
  $replaceAll: parseReplace(true),
};
