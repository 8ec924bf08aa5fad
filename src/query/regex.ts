import { MongoError, LocationCodes } from '../errors.js';

/**
 * mongod matches regular expressions with PCRE2; queries here run on JavaScript's RegExp. This
 * module compiles a PCRE pattern and its options into a RegExp: the syntax the two share passes
 * as is, the PCRE forms clients commonly send are rewritten (leading inline flags such as `(?i)`,
 * the `x` option, `\A`, `\z`, `\Z`, POSIX classes such as `[[:alpha:]]`), and a pattern neither
 * takes is mongod's 51091 with PCRE2's wording.
 */

/** PCRE2's texts for the errors V8 reports in its own words (mongod 7.0 compiles with PCRE2). */
const PCRE_TEXTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/Unterminated group/, 'missing closing parenthesis'],
  [/Unterminated character class/, 'missing terminating ] for character class'],
  [/\\ at end of pattern/, '\\ at end of pattern'],
  [/Nothing to repeat|Lone quantifier brackets/, 'quantifier does not follow a repeatable item'],
  [/numbers out of order in \{\} quantifier/, 'numbers out of order in {} quantifier'],
  [/Unmatched '\)'/, 'unmatched closing parenthesis'],
  [/Invalid group/, 'unrecognized character after (? or (?-'],
  [/Invalid named capture referenced|Invalid named reference/, 'reference to non-existent subpattern'],
  [/Invalid escape|Invalid Unicode escape|Invalid property name/, 'unrecognized character follows \\'],
  [/Range out of order in character class/, 'range out of order in character class'],
];

/** POSIX bracket classes, as JavaScript class contents. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

/** PCRE's anchors outside a class: start of subject, end of subject, end before a final newline. */
const ANCHORS: Readonly<Record<string, string>> = { A: '(?<![\\s\\S])', z: '(?![\\s\\S])', Z: '(?=\\n?(?![\\s\\S]))' };

/** The pattern in JavaScript's syntax; `extended` drops whitespace and #-comments outside classes (PCRE's x). */
function translate(pattern: string, extended: boolean): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      out += !inClass && next in ANCHORS ? ANCHORS[next] : ch + next;
      i += 1;
    } else if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
      if (posix !== null && posix[2]! in POSIX_CLASSES && posix[1] === '') {
        out += POSIX_CLASSES[posix[2]!];
        i += posix[0].length - 1;
      } else {
        if (ch === ']') inClass = false;
        out += ch;
      }
    } else if (ch === '[') {
      inClass = true;
      out += ch;
      // A ']' first in a class (after an optional '^') is a literal.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += `\\${pattern[++i]}`;
    } else if (extended && /\s/.test(ch)) {
      continue;
    } else if (extended && ch === '#') {
      while (i < pattern.length && pattern[i] !== '\n') i += 1;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * A query's regular expression ({$regex, $options} or a BSON regex) as a RegExp. Options i, m, s
 * and x apply (also as a leading inline group, `(?i)`); l and u change nothing here; any other
 * option is mongod's 51108.
 */
export function compileRegex(pattern: string, options: string): RegExp {
  for (const flag of options) {
    if (!'imsxlu'.includes(flag)) throw new MongoError(LocationCodes.InvalidRegexFlag, `invalid flag in regex options: ${flag}`);
  }
  let flags = options;
  let source = pattern;
  const inline = /^\(\?([imsx]+)\)/.exec(source);
  if (inline !== null) {
    flags += inline[1];
    source = source.slice(inline[0].length);
  }
  try {
    return new RegExp(translate(source, flags.includes('x')), [...new Set(flags.replace(/[^ims]/g, ''))].join(''));
  } catch (err) {
    const text = (err as Error).message;
    const pcre = PCRE_TEXTS.find(([js]) => js.test(text))?.[1] ?? text.replace(/^.*: /, '').toLowerCase();
    throw new MongoError(LocationCodes.InvalidRegex, `Regular expression is invalid: ${pcre}`);
  }
}

/**
 * The filter with each `{$regex: '<pattern>', $options: '<options>'}` compiled here, so mingo
 * gets a RegExp (it would compile the PCRE text as JavaScript itself). BSON regexes are compiled
 * where filters become query values (toQueryValue).
 */
export function withCompiledRegexes(filter: unknown): unknown {
  if (Array.isArray(filter)) return filter.map(withCompiledRegexes);
  if (filter === null || typeof filter !== 'object' || Object.getPrototypeOf(filter) !== Object.prototype) return filter;
  const source = filter as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (key === '$options' && typeof source.$regex === 'string') continue;
    if (key === '$regex' && typeof source.$regex === 'string') {
      out.$regex = compileRegex(source.$regex, typeof source.$options === 'string' ? source.$options : '');
    } else {
      Object.defineProperty(out, key, { value: withCompiledRegexes(source[key]), enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}
