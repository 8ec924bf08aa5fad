import { BSONRegExp } from 'bson';
import { expect, test } from 'vitest';
import { runFind } from '../../../src/query/find.js';
import { compileRegex } from '../../../src/query/regex.js';

const names = [{ _id: 1, s: 'Alice' }, { _id: 2, s: 'bob\n' }, { _id: 3, s: 'carol' }, { _id: 4, s: 'a1' }];
const ids = (filter: Record<string, unknown>) => runFind({ filter }, names).map((d) => d._id);

test('PCRE forms clients send: leading inline flags, \\A \\z \\Z, POSIX classes, the x option', () => {
  expect(ids({ s: { $regex: '(?i)^a' } })).toEqual([1, 4]);
  expect(ids({ s: new BSONRegExp('(?i)^A', '') })).toEqual([1, 4]);
  expect(ids({ s: { $regex: '\\Abob\\Z' } })).toEqual([2]);
  expect(ids({ s: { $regex: '\\Abob\\z' } })).toEqual([]);
  expect(ids({ s: { $regex: '^[[:alpha:]]+$' } })).toEqual([1, 3]);
  expect(ids({ s: { $regex: '^ c a r  # a comment\n o l $', $options: 'x' } })).toEqual([3]);
  expect(ids({ s: { $regex: 'ALICE', $options: 'i' } })).toEqual([1]);
});

test('escaped forms stay escaped, and classes keep their literal brackets', () => {
  expect(compileRegex('\\\\A', '').source).toBe('\\\\A');
  expect(compileRegex('[]a]', '').test(']')).toBe(true);
  expect(compileRegex('[\\A]', '').test('A')).toBe(true);
});

test('a pattern neither syntax takes is 51091 with PCRE2 wording; a bad option is 51108', () => {
  expect(() => compileRegex('(', '')).toThrow(expect.objectContaining({ code: 51091, message: 'Regular expression is invalid: missing closing parenthesis' }));
  expect(() => compileRegex('a', 'q')).toThrow(expect.objectContaining({ code: 51108, message: 'invalid flag in regex options: q' }));
});
