import {
  Binary,
  BSON,
  BSONRegExp,
  BSONSymbol,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  type Document,
} from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canonicalTypeOrder, compareValues } from '../../../src/bson/bsonOrder.js';
import { compileFilter } from '../../../src/query/match/compile.js';
import { MongoError } from '../../../src/errors.js';

const dec = (s: string): Decimal128 => Decimal128.fromString(s);
const long = (s: string | number | bigint): Long => Long.fromBigInt(BigInt(s));
const int = (n: number): Int32 => new Int32(n);
const dbl = (n: number): Double => new Double(n);

/** A document as the server stores it: round-tripped through BSON with the storage decode options. */
function stored(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc, { ignoreUndefined: false }), { promoteValues: false, bsonRegExp: true });
}

function matches(filter: Document, doc: Document): boolean {
  return compileFilter(filter).matches(doc);
}

/** The documents of `docs` (by index) that match. */
function which(filter: Document, docs: readonly Document[], options?: Document): number[] {
  const f = compileFilter(filter, options);
  return docs.flatMap((d, i) => (f.matches(d) ? [i] : []));
}

function errorOf(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof MongoError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a MongoError');
}

describe('the bug list (numeric view) is fixed', () => {
  test('Decimal128("1.10") does not equal Double 1.1 (the double is not exactly 1.1)', () => {
    expect(matches({ a: dec('1.10') }, { a: dbl(1.1) })).toBe(false);
    expect(matches({ a: dbl(1.1) }, { a: dec('1.10') })).toBe(false);
    expect(matches({ a: dec('1.10') }, { a: dec('1.1') })).toBe(true);
    expect(matches({ a: dec('1.5') }, { a: dbl(1.5) })).toBe(true);
    expect(matches({ a: { $in: [dec('1.10')] } }, { a: dbl(1.1) })).toBe(false);
  });

  test('Longs and Decimals beyond 2^53 match each other exactly', () => {
    expect(matches({ a: long('9007199254740993') }, { a: dec('9007199254740993') })).toBe(true);
    expect(matches({ a: dec('9007199254740993') }, { a: long('9007199254740993') })).toBe(true);
    expect(matches({ a: long('9007199254740993') }, { a: dec('9007199254740992') })).toBe(false);
    expect(matches({ a: long('9007199254740993') }, { a: dbl(2 ** 53) })).toBe(false);
    expect(matches({ a: long('-9223372036854775808') }, { a: dec('-9223372036854775808') })).toBe(true);
    expect(matches({ a: { $in: [1, 2, 3, 4, 5, 6, 7, 8, 9, long('9007199254740993')] } }, { a: dec('9007199254740993.000') })).toBe(true);
  });

  test('{$gt: 2^53} finds the larger longs and decimals', () => {
    const docs = [{ a: long('9007199254740993') }, { a: dec('9007199254740992.5') }, { a: dbl(2 ** 53) }, { a: long('9007199254740992') }];
    expect(which({ a: { $gt: dbl(2 ** 53) } }, docs)).toEqual([0, 1]);
    expect(which({ a: { $gte: long('9007199254740992') } }, docs)).toEqual([0, 1, 2, 3]);
  });

  test('$type tells int, long, double and decimal apart', () => {
    const docs = [{ a: int(1) }, { a: long(1) }, { a: dbl(1) }, { a: dec('1') }];
    expect(which({ a: { $type: 'int' } }, docs)).toEqual([0]);
    expect(which({ a: { $type: 'long' } }, docs)).toEqual([1]);
    expect(which({ a: { $type: 'double' } }, docs)).toEqual([2]);
    expect(which({ a: { $type: 'decimal' } }, docs)).toEqual([3]);
    expect(which({ a: { $type: 'number' } }, docs)).toEqual([0, 1, 2, 3]);
    expect(which({ a: { $type: [16, 18] } }, docs)).toEqual([0, 1]);
  });

  test('a query on a stored regular-expression value matches it', () => {
    const doc = stored({ a: new BSONRegExp('^ab', 'i') });
    expect(matches({ a: new BSONRegExp('^ab', 'i') }, doc)).toBe(true);
    expect(matches({ a: { $eq: new BSONRegExp('^ab', 'i') } }, doc)).toBe(true);
    expect(matches({ a: { $eq: new BSONRegExp('^ab', '') } }, doc)).toBe(false);
    expect(matches({ a: { $in: [new BSONRegExp('^ab', 'i')] } }, doc)).toBe(true);
  });

  test('embedded-document equality compares fields in order', () => {
    const doc = stored({ a: { x: 1, y: 2 } });
    expect(matches({ a: { x: 1, y: 2 } }, doc)).toBe(true);
    expect(matches({ a: { y: 2, x: 1 } }, doc)).toBe(false);
    expect(matches({ a: { x: dbl(1), y: dec('2.0') } }, doc)).toBe(true);
    expect(matches({ a: { x: 1 } }, doc)).toBe(false);
  });
});

describe('path traversal', () => {
  test('through arrays of documents, and numeric components as indexes and as field names', () => {
    expect(matches({ 'a.b': 1 }, { a: [{ b: 1 }] })).toBe(true);
    expect(matches({ 'a.b': 1 }, { a: [{ b: [0, 1] }] })).toBe(true);
    expect(matches({ 'a.b': 1 }, { a: { b: 1 } })).toBe(true);
    expect(matches({ 'a.b': 1 }, { a: [[{ b: 1 }]] })).toBe(false); // nested arrays are not entered
    expect(matches({ 'a.0': 5 }, { a: [5, 6] })).toBe(true);
    expect(matches({ 'a.1': 5 }, { a: [5, 6] })).toBe(false);
    expect(matches({ 'a.0': 5 }, { a: { 0: 5 } })).toBe(true);
    expect(matches({ 'a.0.b': 2 }, { a: [{ b: 2 }, { b: 3 }] })).toBe(true);
    expect(matches({ 'a.1.b': 2 }, { a: [{ b: 2 }, { b: 3 }] })).toBe(false);
    expect(matches({ 'a.0.b': 2 }, { a: [{ 0: { b: 2 } }] })).toBe(true);
    expect(matches({ 'a.0.0': 7 }, { a: [[7]] })).toBe(true);
    expect(matches({ 'a.01': 5 }, { a: [5, 5] })).toBe(false);
    expect(matches({ 'a.b.c': 1 }, { a: [{ b: [{ c: 1 }] }] })).toBe(true);
  });

  test('a leaf array matches through its elements and as a whole', () => {
    expect(matches({ a: 5 }, { a: [1, 5] })).toBe(true);
    expect(matches({ a: [1, 5] }, { a: [1, 5] })).toBe(true);
    expect(matches({ a: [1, 5] }, { a: [[1, 5], 2] })).toBe(true);
    expect(matches({ a: [5, 1] }, { a: [1, 5] })).toBe(false);
    expect(matches({ a: 1 }, { a: [[1]] })).toBe(false);
    expect(matches({ a: { $gt: 3 } }, { a: [1, 5] })).toBe(true);
    expect(matches({ a: { $gt: 3, $lt: 2 } }, { a: [1, 5] })).toBe(true); // each operator on its own
    expect(matches({ a: { $elemMatch: { $gt: 3, $lt: 2 } } }, { a: [1, 5] })).toBe(false);
  });

  test('null matches missing, null and undefined; not empty arrays or non-documents on the way (jstests null2.js)', () => {
    const docs = [{ a: [{ b: 5 }] }, { a: [{}] }, { a: [] }, { a: [{}, { b: 5 }] }, { a: [5, { b: 5 }] }];
    expect(which({ 'a.b': null }, docs)).toEqual([1, 3]);
    expect(which({ 'a.b': { $in: [null] } }, docs)).toEqual([1, 3]);
    const flat = [{ a: null }, {}, { a: undefined }, { a: 0 }, { a: [null] }, { a: [] }, { a: {} }];
    expect(which({ a: null }, flat)).toEqual([0, 1, 2, 4]);
    expect(which({ a: { $ne: null } }, flat)).toEqual([3, 5, 6]);
    expect(which({ a: { $exists: false } }, flat)).toEqual([1]);
    expect(which({ 'a.b': null }, [{ a: 4 }, { a: {} }, { a: { b: null } }, { a: { b: 'x' } }])).toEqual([0, 1, 2]);
    expect(which({ a: { $gte: null } }, flat)).toEqual([0, 1, 2, 4]);
    expect(which({ a: { $gt: null } }, flat)).toEqual([]);
  });

  test('fields named like Object.prototype members are fields, never inherited values', () => {
    expect(matches({ constructor: { $exists: true } }, {})).toBe(false);
    expect(matches({ toString: null }, {})).toBe(true);
    const withProto = stored(JSON.parse('{"__proto__": 5}'));
    expect(matches({ __proto__: 5 } as Document, withProto)).toBe(Object.hasOwn(withProto, '__proto__'));
  });

  test('DBRefs are documents with $ref, $id, $db fields', () => {
    const doc = stored({ r: new DBRef('coll', new Int32(7) as unknown as ObjectId, 'db') });
    expect(matches({ 'r.$id': 7 }, doc)).toBe(true);
    expect(matches({ 'r.$ref': 'coll' }, doc)).toBe(true);
    expect(matches({ r: { $ref: 'coll', $id: 7, $db: 'db' } }, doc)).toBe(true);
    expect(matches({ r: { $elemMatch: { $id: 7 } } }, { r: [{ $ref: 'c', $id: 7 }] })).toBe(true);
  });
});

describe('comparison operators', () => {
  test('are type-bracketed', () => {
    const docs = [{ a: 5 }, { a: '6' }, { a: null }, {}, { a: true }, { a: new Date(0) }, { a: new MinKey() }, { a: new MaxKey() }];
    expect(which({ a: { $gt: 1 } }, docs)).toEqual([0]);
    expect(which({ a: { $lt: 'z' } }, docs)).toEqual([1]);
    expect(which({ a: { $gte: false } }, docs)).toEqual([4]);
    expect(which({ a: { $lt: new MaxKey() } }, docs)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(which({ a: { $gt: new MinKey() } }, docs)).toEqual([0, 1, 2, 3, 4, 5, 7]);
    expect(which({ a: new MinKey() }, docs)).toEqual([6]);
    expect(which({ a: { $lte: new MinKey() } }, docs)).toEqual([6]);
  });

  test('numbers compare by exact value across int32, long, double and decimal', () => {
    const docs = [{ a: int(1) }, { a: long(1) }, { a: dbl(1) }, { a: dec('1.000') }, { a: dbl(1.5) }, { a: dec('0.99999999999999999999') }];
    expect(which({ a: 1 }, docs)).toEqual([0, 1, 2, 3]);
    expect(which({ a: { $lt: dbl(1) } }, docs)).toEqual([5]);
    expect(which({ a: { $gt: dec('1') } }, docs)).toEqual([4]);
    expect(which({ a: dbl(-0) }, [{ a: int(0) }, { a: dec('-0') }, { a: dec('0E-20') }])).toEqual([0, 1, 2]);
    expect(which({ a: dec('1E-6176') }, [{ a: 0 }, { a: dbl(5e-324) }, { a: dec('1E-6176') }])).toEqual([2]);
    expect(which({ a: { $gt: 0 } }, [{ a: dec('1E-6176') }, { a: dbl(5e-324) }, { a: dec('-0') }])).toEqual([0, 1]);
    expect(which({ a: long('9223372036854775807') }, [{ a: dbl(2 ** 63) }, { a: long('9223372036854775807') }])).toEqual([1]);
  });

  test('NaN: $eq NaN matches NaN; ranges match only $gte/$lte of two NaNs', () => {
    const docs = [{ a: dbl(NaN) }, { a: dec('NaN') }, { a: 1 }, { a: dbl(-Infinity) }];
    expect(which({ a: NaN }, docs)).toEqual([0, 1]);
    expect(which({ a: dec('NaN') }, docs)).toEqual([0, 1]);
    expect(which({ a: { $gte: NaN } }, docs)).toEqual([0, 1]);
    expect(which({ a: { $gt: NaN } }, docs)).toEqual([]);
    expect(which({ a: { $lt: 5 } }, docs)).toEqual([2, 3]);
    expect(which({ a: { $ne: NaN } }, docs)).toEqual([2, 3]);
  });

  test('strings by UTF-8 bytes, and symbols as strings', () => {
    const docs = [{ a: 'abc' }, { a: 'abd' }, { a: new BSONSymbol('abc') }, { a: '\u{1F600}' }, { a: '\uFFFF' }];
    expect(which({ a: 'abc' }, docs)).toEqual([0, 2]);
    expect(which({ a: { $gt: 'abc' } }, docs)).toEqual([1, 3, 4]);
    expect(which({ a: { $gt: '\uFFFF' } }, docs)).toEqual([3]); // 4-byte UTF-8 sorts after U+FFFF
  });

  test('$in: values, null, regexes; $nin and $ne are negations over the whole path', () => {
    const docs = [{ a: 1 }, { a: [2, 3] }, { a: 'abc' }, {}, { a: null }, { a: [null] }, { a: dec('2') }];
    expect(which({ a: { $in: [2, /^ab/] } }, docs)).toEqual([1, 2, 6]);
    expect(which({ a: { $in: [null] } }, docs)).toEqual([3, 4, 5]);
    expect(which({ a: { $nin: [2, /^ab/] } }, docs)).toEqual([0, 3, 4, 5]);
    expect(which({ a: { $ne: 2 } }, docs)).toEqual([0, 2, 3, 4, 5]);
    expect(which({ a: { $in: [] } }, docs)).toEqual([]);
    expect(which({ a: { $nin: [] } }, docs)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const many = Array.from({ length: 20 }, (_, i) => i + 100);
    expect(which({ a: { $in: [...many, 2] } }, docs)).toEqual([1, 6]);
    expect(which({ a: { $in: [...many, null] } }, docs)).toEqual([3, 4, 5]);
  });

  test('$eq of a regex compares regex values; {a: /re/} matches strings too', () => {
    const docs = [{ a: 'abc' }, { a: new BSONRegExp('^a', '') }, { a: new BSONSymbol('abc') }];
    expect(which({ a: /^a/ }, docs)).toEqual([0, 1, 2]);
    expect(which({ a: { $eq: /^a/ } }, docs)).toEqual([1]);
    expect(which({ a: { $regex: '^a' } }, docs)).toEqual([0, 1, 2]);
  });

  test('errors', () => {
    expect(errorOf(() => compileFilter({ a: { $gt: /x/ } }))).toEqual({ code: 2, message: "Can't have RegEx as arg to predicate over field 'a'." });
    expect(errorOf(() => compileFilter({ a: { $ne: /x/ } }))).toEqual({ code: 2, message: "Can't have regex as arg to $ne." });
    expect(errorOf(() => compileFilter({ a: undefined }))).toEqual({ code: 2, message: 'cannot compare to undefined' });
    expect(errorOf(() => compileFilter({ a: { $in: [undefined] } }))).toEqual({ code: 2, message: 'InMatchExpression equality cannot be undefined' });
    expect(errorOf(() => compileFilter({ a: { $in: 5 } }))).toMatchObject({ code: 2, message: '$in needs an array' });
    expect(errorOf(() => compileFilter({ a: { $in: [{ $gt: 1 }] } }))).toMatchObject({ code: 2, message: 'cannot nest $ under $in' });
    expect(errorOf(() => compileFilter({ a: { $foo: 1 } }))).toEqual({ code: 2, message: 'unknown operator: $foo' });
    expect(errorOf(() => compileFilter({ a: { $gt: 1, b: 1 } }))).toEqual({ code: 2, message: 'unknown operator: b' });
  });
});

describe('collation', () => {
  const docs = [{ a: 'abc' }, { a: 'ABC' }, { a: 'abd' }, { a: ['x', 'Abc'] }, { a: { s: 'ABC' } }];
  const ci = { collation: { locale: 'en', strength: 2 } };
  test('equality, ranges and $in compare strings with the collation', () => {
    expect(which({ a: 'abc' }, docs, ci)).toEqual([0, 1, 3]);
    expect(which({ a: 'abc' }, docs)).toEqual([0]);
    expect(which({ a: { $in: ['ABD', 'zzz'] } }, docs, ci)).toEqual([2]);
    expect(which({ a: { $ne: 'abc' } }, docs, ci)).toEqual([2, 4]);
    expect(which({ a: { $lt: 'ABD' } }, docs, ci)).toEqual([0, 1, 3]);
    expect(which({ a: { s: 'abc' } }, docs, ci)).toEqual([4]);
    expect(which({ a: { $all: ['X', 'abc'] } }, docs, ci)).toEqual([3]);
  });
  test('regexes ignore the collation; {locale: "simple"} is binary', () => {
    expect(which({ a: /^abc$/ }, docs, ci)).toEqual([0]);
    expect(which({ a: 'abc' }, docs, { collation: { locale: 'simple' } })).toEqual([0]);
  });
  test('numericOrdering', () => {
    const n = [{ a: '10' }, { a: '9' }];
    expect(which({ a: { $gt: '9' } }, n, { collation: { locale: 'en', numericOrdering: true } })).toEqual([0]);
    expect(which({ a: { $gt: '9' } }, n)).toEqual([]);
  });
  test('options Intl cannot reproduce are refused', () => {
    expect(errorOf(() => compileFilter({}, { collation: { locale: 'en', alternate: 'shifted' } })).code).toBe(115);
    expect(errorOf(() => compileFilter({}, { collation: { locale: 'en', strength: 5 } })).code).toBe(115);
  });
});

describe('$exists and $type', () => {
  test('$exists', () => {
    const docs = [{ a: 1 }, { a: null }, {}, { a: [] }, { a: [{ b: 1 }] }, { a: [{ c: 1 }] }, { a: [1] }];
    expect(which({ a: { $exists: true } }, docs)).toEqual([0, 1, 3, 4, 5, 6]);
    expect(which({ a: { $exists: 0 } }, docs)).toEqual([2]);
    expect(which({ 'a.b': { $exists: true } }, docs)).toEqual([4]);
    expect(which({ 'a.b': { $exists: false } }, docs)).toEqual([0, 1, 2, 3, 5, 6]);
  });

  test('$type: arrays, elements, aliases and numbers', () => {
    const docs = stored({ x: 0 }) && [
      stored({ a: [] }),
      stored({ a: [int(1)] }),
      stored({ a: 'x' }),
      stored({ a: null }),
      {},
      stored({ a: new ObjectId() }),
      stored({ a: new Binary(new Uint8Array([1])) }),
      stored({ a: { b: 1 } }),
      stored({ a: new MinKey() }),
    ];
    expect(which({ a: { $type: 'array' } }, docs)).toEqual([0, 1]);
    expect(which({ a: { $type: 4 } }, docs)).toEqual([0, 1]);
    expect(which({ a: { $type: 'int' } }, docs)).toEqual([1]);
    expect(which({ a: { $type: ['string', 'null'] } }, docs)).toEqual([2, 3]);
    expect(which({ a: { $type: 'objectId' } }, docs)).toEqual([5]);
    expect(which({ a: { $type: 5 } }, docs)).toEqual([6]);
    expect(which({ a: { $type: 'object' } }, docs)).toEqual([7]);
    expect(which({ a: { $type: -1 } }, docs)).toEqual([8]);
    expect(which({ a: { $type: dbl(2) } }, docs)).toEqual([2]);
  });

  test('$type errors', () => {
    expect(errorOf(() => compileFilter({ a: { $type: 'foo' } }))).toEqual({ code: 2, message: 'Unknown type name alias: foo' });
    expect(errorOf(() => compileFilter({ a: { $type: 'missing' } })).message).toContain("'missing' is not a legal type name");
    expect(errorOf(() => compileFilter({ a: { $type: 0 } }))).toEqual({ code: 2, message: 'Invalid numerical type code: 0. Instead use {$exists:false}.' });
    expect(errorOf(() => compileFilter({ a: { $type: 100 } }))).toEqual({ code: 2, message: 'Invalid numerical type code: 100' });
    expect(errorOf(() => compileFilter({ a: { $type: 1.5 } }))).toEqual({ code: 2, message: 'Invalid numerical type code: 1.5' });
    expect(errorOf(() => compileFilter({ a: { $type: true } }))).toEqual({ code: 14, message: 'type must be represented as a number or a string' });
    expect(errorOf(() => compileFilter({ a: { $type: [] } }))).toEqual({ code: 9, message: 'a must match at least one type' });
  });
});

describe('array operators', () => {
  test('$size', () => {
    const docs = [{ a: [] }, { a: [1, 2] }, { a: [[1, 2]] }, { a: 2 }, { a: [{ b: [1, 2] }] }];
    expect(which({ a: { $size: 2 } }, docs)).toEqual([1]);
    expect(which({ a: { $size: 0 } }, docs)).toEqual([0]);
    expect(which({ 'a.b': { $size: 2 } }, docs)).toEqual([4]);
    expect(which({ a: { $size: dbl(1) } }, docs)).toEqual([2, 4]);
  });

  test('$all (values, regexes, arrays, $elemMatch)', () => {
    const docs = [{ a: [1, 2, 3] }, { a: [1, 3] }, { a: 2 }, { a: [[1, 2]] }, { a: ['ab', 'cd'] }, { a: [{ b: 1, c: 2 }, { b: 2, c: 1 }] }];
    expect(which({ a: { $all: [1, 2] } }, docs)).toEqual([0]);
    expect(which({ a: { $all: [2] } }, docs)).toEqual([0, 2]);
    expect(which({ a: { $all: [[1, 2]] } }, docs)).toEqual([3]);
    expect(which({ a: { $all: [/^a/, /d$/] } }, docs)).toEqual([4]);
    expect(which({ a: { $all: [] } }, docs)).toEqual([]);
    expect(which({ a: { $all: [{ $elemMatch: { b: 1, c: 2 } }, { $elemMatch: { b: 2 } }] } }, docs)).toEqual([5]);
    expect(errorOf(() => compileFilter({ a: { $all: [{ $elemMatch: { b: 1 } }, 5] } }))).toEqual({ code: 2, message: '$all/$elemMatch has to be consistent' });
    expect(errorOf(() => compileFilter({ a: { $all: [1, { $gt: 5 }] } }))).toEqual({ code: 2, message: 'no $ expressions in $all' });
  });

  test('$elemMatch, object and value forms', () => {
    const docs = [{ a: [{ b: 1, c: 5 }, { b: 2, c: 1 }] }, { a: [{ b: 1, c: 1 }] }, { a: [1, 5, 10] }, { a: [[1, 2], [3]] }, { a: { b: 1, c: 5 } }];
    expect(which({ a: { $elemMatch: { b: 1, c: { $gt: 2 } } } }, docs)).toEqual([0]);
    expect(which({ 'a.b': 1, 'a.c': { $gt: 2 } }, docs)).toEqual([0, 4]);
    expect(which({ a: { $elemMatch: { $gt: 3, $lt: 8 } } }, docs)).toEqual([2]);
    expect(which({ a: { $elemMatch: { $size: 1 } } }, docs)).toEqual([3]);
    expect(which({ a: { $elemMatch: { 0: 3 } } }, docs)).toEqual([3]); // an array element read as a document
    expect(which({ a: { $elemMatch: { $or: [{ b: 2 }, { c: 1 }] } } }, docs)).toEqual([0, 1]);
    expect(which({ a: { $elemMatch: { $not: { $gt: 3 } } } }, docs)).toEqual([0, 1, 2, 3]);
    expect(which({ a: { $elemMatch: {} } }, docs)).toEqual([0, 1, 3]);
    expect(errorOf(() => compileFilter({ a: { $elemMatch: 1 } }))).toEqual({ code: 2, message: '$elemMatch needs an Object' });
    expect(errorOf(() => compileFilter({ a: { $elemMatch: { $expr: { $eq: ['$b', 1] } } } }))).toEqual({
      code: 2,
      message: '$expr can only be applied to the top-level document',
    });
  });
});

describe('$regex, $not, $mod', () => {
  test('$regex with $options, on strings and symbols', () => {
    const docs = [{ a: 'Hello' }, { a: 'hello\nworld' }, { a: new BSONSymbol('HELLO') }, { a: 5 }];
    expect(which({ a: { $regex: '^hello', $options: 'i' } }, docs)).toEqual([0, 1, 2]);
    expect(which({ a: { $regex: '^world', $options: 'm' } }, docs)).toEqual([1]);
    expect(which({ a: { $regex: /^world/m } }, docs)).toEqual([1]);
    expect(which({ a: { $options: 'i', $regex: 'h' } }, docs)).toEqual([0, 1, 2]);
    expect(errorOf(() => compileFilter({ a: { $regex: /x/i, $options: 'm' } }))).toEqual({ code: 51075, message: 'options set in both $regex and $options' });
    expect(errorOf(() => compileFilter({ a: { $options: 'm', $regex: /x/i } }))).toEqual({ code: 51074, message: 'options set in both $regex and $options' });
    expect(which({ a: { $regex: /^HEL/, $options: 'i' } }, docs)).toEqual([0, 1, 2]);
  });

  test('$not with a regex or operators', () => {
    const docs = [{ a: 'abc' }, { a: 5 }, {}, { a: [1, 10] }];
    expect(which({ a: { $not: /^a/ } }, docs)).toEqual([1, 2, 3]);
    expect(which({ a: { $not: { $gt: 3 } } }, docs)).toEqual([0, 2]);
    expect(which({ a: { $not: { $gt: 3, $lt: 20 } } }, docs)).toEqual([0, 2]);
    expect(errorOf(() => compileFilter({ a: { $not: 5 } }))).toEqual({ code: 2, message: '$not needs a regex or a document' });
    expect(errorOf(() => compileFilter({ a: { $not: { b: 1 } } }))).toEqual({ code: 2, message: 'unknown operator: b' });
  });

  test('$mod truncates doubles and decimals; NaN, Infinity and out-of-range values never match', () => {
    const docs = [{ a: 5 }, { a: dbl(5.9) }, { a: dbl(-5.9) }, { a: dec('5.99') }, { a: dbl(NaN) }, { a: dbl(Infinity) }, { a: long('9223372036854775807') }, { a: dbl(1e19) }, { a: 'x' }];
    expect(which({ a: { $mod: [4, 1] } }, docs)).toEqual([0, 1, 3]);
    expect(which({ a: { $mod: [4, -1] } }, docs)).toEqual([2]);
    expect(which({ a: { $mod: [dbl(4.7), dbl(1.2)] } }, docs)).toEqual([0, 1, 3]);
    expect(which({ a: { $mod: [long('9223372036854775807'), 0] } }, docs)).toEqual([6]);
    expect(which({ a: { $mod: [-1, 0] } }, docs)).toEqual([0, 1, 2, 3, 6]);
    expect(errorOf(() => compileFilter({ a: { $mod: [NaN, 1] } }))).toEqual({
      code: 2,
      message: 'malformed mod, divisor value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type',
    });
    expect(errorOf(() => compileFilter({ a: { $mod: [1, 1e19] } }))).toEqual({
      code: 2,
      message: 'malformed mod, remainder value is invalid :: caused by :: Out of bounds coercing to integral value',
    });
    expect(errorOf(() => compileFilter({ a: { $mod: [0.5, 0] } }))).toEqual({ code: 2, message: 'divisor cannot be 0' });
  });
});

describe('bitwise operators', () => {
  test('numbers, positions, BinData', () => {
    const docs = [{ a: 54 }, { a: dbl(54) }, { a: dbl(54.5) }, { a: long(-1) }, { a: new Binary(new Uint8Array([0x36])) }, { a: 'x' }, { a: dec('54') }];
    // 54 = 0b110110
    expect(which({ a: { $bitsAllSet: [1, 2, 4, 5] } }, docs)).toEqual([0, 1, 3, 4, 6]);
    expect(which({ a: { $bitsAllSet: 54 } }, docs)).toEqual([0, 1, 3, 4, 6]);
    expect(which({ a: { $bitsAllClear: [0, 3] } }, docs)).toEqual([0, 1, 4, 6]);
    expect(which({ a: { $bitsAnySet: [0, 3] } }, docs)).toEqual([3]);
    expect(which({ a: { $bitsAnyClear: [1, 100] } }, docs)).toEqual([0, 1, 4, 6]);
    expect(which({ a: { $bitsAllSet: [100] } }, docs)).toEqual([3]); // positions past 63 read the sign
    expect(which({ a: { $bitsAllSet: new Binary(new Uint8Array([0x06])) } }, docs)).toEqual([0, 1, 3, 4, 6]);
  });
  test('errors', () => {
    expect(errorOf(() => compileFilter({ a: { $bitsAllSet: -1 } }))).toEqual({ code: 9, message: 'Expected a non-negative number in: $bitsAllSet: -1' });
    expect(errorOf(() => compileFilter({ a: { $bitsAllSet: [1.5] } }))).toEqual({ code: 2, message: 'Failed to parse bit position. Expected an integer: 0: 1.5' });
    expect(errorOf(() => compileFilter({ a: { $bitsAllSet: 'x' } }))).toEqual({
      code: 2,
      message: 'a takes an Array, a number, or a BinData but received: $bitsAllSet: "x"',
    });
  });
});

describe('logical operators', () => {
  const docs = [{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 2 }, {}];
  test('$and $or $nor, $alwaysTrue/$alwaysFalse, $comment', () => {
    expect(which({ $and: [{ a: 1 }, { b: 2 }] }, docs)).toEqual([1]);
    expect(which({ $or: [{ a: 2 }, { b: 1 }] }, docs)).toEqual([0, 2]);
    expect(which({ $nor: [{ a: 2 }, { b: 1 }] }, docs)).toEqual([1, 3]);
    expect(which({ $nor: [{ a: 1 }] }, docs)).toEqual([2, 3]);
    expect(which({ $alwaysTrue: 1 }, docs)).toEqual([0, 1, 2, 3]);
    expect(which({ $alwaysFalse: 1 }, docs)).toEqual([]);
    expect(which({ $or: [{ $alwaysFalse: 1 }, { a: 2 }] }, docs)).toEqual([2]);
    expect(which({ a: 1, $comment: 'hi' }, docs)).toEqual([0, 1]);
    expect(which({ $and: [{ $comment: 'x', b: 2 }] }, docs)).toEqual([1, 2]);
    expect(which({}, docs)).toEqual([0, 1, 2, 3]);
    expect(errorOf(() => compileFilter({ $alwaysTrue: 2 }))).toEqual({ code: 9, message: '$alwaysTrue must be an integer value of 1' });
    expect(errorOf(() => compileFilter({ $foo: 1 })).code).toBe(2);
  });
  test('unsupported features are refused with 115', () => {
    expect(errorOf(() => compileFilter({ $where: 'true' })).code).toBe(115);
    expect(errorOf(() => compileFilter({ $text: { $search: 'x' } })).code).toBe(115);
    expect(errorOf(() => compileFilter({ $jsonSchema: { encrypt: {} } })).code).toBe(115);
    expect(errorOf(() => compileFilter({ a: { $near: [0, 0] } })).code).toBe(115);
  });
});

describe('$expr', () => {
  const docs = [stored({ a: 3, b: 2.5 }), stored({ a: 1, b: 2 }), stored({ a: 'x', b: 2 }), stored({ b: null }), stored({ a: [1, 2], b: 2 })];
  test('comparisons of field paths, constants and variables, exact across numeric types', () => {
    expect(which({ $expr: { $gt: ['$a', '$b'] } }, docs)).toEqual([0, 2, 4]); // string and array sort above numbers
    expect(which({ $expr: { $eq: ['$a', 1] } }, docs)).toEqual([1]);
    expect(which({ $expr: { $eq: ['$a', null] } }, docs)).toEqual([]); // missing is not null in $expr
    expect(which({ $expr: { $lt: ['$a', null] } }, docs)).toEqual([3]); // missing sorts below null
    expect(which({ $expr: { $eq: ['$a', '$$limit'] } }, docs, { variables: { limit: dec('3.0') } })).toEqual([0]);
    expect(which({ $expr: { $and: [{ $gte: ['$b', 2] }, { $not: [{ $eq: ['$a', 'x'] }] }] } }, docs)).toEqual([0, 1, 4]);
    expect(which({ $expr: { $or: [{ $eq: ['$a', 'x'] }, { $eq: ['$b', null] }] } }, docs)).toEqual([2, 3]);
    expect(which({ $expr: '$a' }, docs)).toEqual([0, 1, 2, 4]);
    expect(which({ $expr: { $eq: ['$a', [1, 2]] } }, docs)).toEqual([4]);
    expect(which({ $expr: { $eq: [{ $literal: '$a' }, '$a'] } }, [{ a: '$a' }, { a: 1 }])).toEqual([0]);
  });
  test('field paths through arrays (aggregation semantics)', () => {
    const d = [{ a: [{ b: 1 }, { b: 2 }, 5, { c: 1 }] }];
    expect(which({ $expr: { $eq: ['$a.b', [1, 2]] } }, d)).toEqual([0]);
  });
  test('errors and refusals', () => {
    expect(errorOf(() => compileFilter({ $expr: { $eq: ['$a'] } }))).toEqual({ code: 16020, message: 'Expression $eq takes exactly 2 arguments. 1 were passed in.' });
    expect(errorOf(() => compileFilter({ $expr: { $eq: ['$$nope', 1] } }))).toEqual({ code: 17276, message: 'Use of undefined variable: nope' });
    expect(errorOf(() => compileFilter({ $expr: { $add: ['$a', 1] } }))).toEqual({ code: 115, message: 'pocketmongo does not support $add inside $expr yet' });
    expect(compileFilter({ $expr: { $eq: ['$a', 1] } }).hasExpr).toBe(true);
  });
});

describe('matchWithPosition (the positional $)', () => {
  test('records the first matching position of the array on the path', () => {
    const f = compileFilter({ 'grades.score': { $gt: 80 } });
    expect(f.matchWithPosition({ grades: [{ score: 70 }, { score: 90 }, { score: 95 }] })).toEqual({ matched: true, arrayPosition: 1 });
    expect(f.matchWithPosition({ grades: { score: 90 } })).toEqual({ matched: true, arrayPosition: undefined });
    expect(f.matchWithPosition({ grades: [{ score: 10 }] })).toEqual({ matched: false, arrayPosition: undefined });
  });
  test('a leaf array, $elemMatch, nested arrays (the outer position wins), $and, $or', () => {
    expect(compileFilter({ a: 5 }).matchWithPosition({ a: [1, 5, 5] }).arrayPosition).toBe(1);
    expect(compileFilter({ a: { $elemMatch: { b: 2 } } }).matchWithPosition({ a: [{ b: 1 }, { b: 2 }] }).arrayPosition).toBe(1);
    expect(compileFilter({ 'a.b': 2 }).matchWithPosition({ a: [{ b: [0] }, { b: [1, 2] }] }).arrayPosition).toBe(1);
    expect(compileFilter({ 'a.0.b': 2 }).matchWithPosition({ a: [{ b: [1, 2] }] }).arrayPosition).toBe(1);
    expect(compileFilter({ x: 1, a: 2 }).matchWithPosition({ x: 1, a: [1, 2] }).arrayPosition).toBe(1);
    expect(compileFilter({ $or: [{ a: 2 }, { b: 1 }] }).matchWithPosition({ a: [1, 2] }).arrayPosition).toBe(undefined);
    expect(compileFilter({ $or: [{ a: 2 }] }).matchWithPosition({ a: [1, 2] }).arrayPosition).toBe(1);
    expect(compileFilter({ a: { $ne: 7 } }).matchWithPosition({ a: [1, 2] }).arrayPosition).toBe(undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// Property test: single-field comparison filters against a reference model of mongod's rules

const MISSING = Symbol('missing');
type Op = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte' | '$in' | '$nin';

function isNaNish(v: unknown): boolean {
  return (v instanceof Double && Number.isNaN(v.value)) || (v instanceof Decimal128 && v.toString() === 'NaN') || (typeof v === 'number' && Number.isNaN(v));
}

/** ComparisonMatchExpression::matchesSingleElement, written out plainly from expression_leaf.cpp. */
function refCompare(op: '$eq' | '$gt' | '$gte' | '$lt' | '$lte', e: unknown, rhs: unknown): boolean {
  const re = e === MISSING ? 0 : canonicalTypeOrder(e);
  const rr = canonicalTypeOrder(rhs);
  if (re !== rr) {
    if (re + rr === 5) return op === '$eq' || op === '$lte' || op === '$gte';
    if (rhs instanceof MaxKey) return op === '$lt' || op === '$lte';
    if (rhs instanceof MinKey) return op === '$gt' || op === '$gte';
    return false;
  }
  if (op !== '$eq' && (isNaNish(e) || isNaNish(rhs))) return isNaNish(e) && isNaNish(rhs) && (op === '$lte' || op === '$gte');
  const c = compareValues(e, rhs);
  return op === '$eq' ? c === 0 : op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0;
}

function refIn(e: unknown, values: readonly unknown[]): boolean {
  return values.some((v) => (v === null && (e === MISSING || e === undefined)) || (e !== MISSING && canonicalTypeOrder(e) === canonicalTypeOrder(v) && compareValues(e, v) === 0));
}

/** The values a one-component path yields: a leaf array's elements, then the array. */
function candidates(doc: Document): unknown[] {
  if (!Object.hasOwn(doc, 'a')) return [MISSING];
  const v = doc.a;
  return Array.isArray(v) ? [...v, v] : [v];
}

/** The values "a.b" yields for {a: [docs and scalars]} or {a: doc}. */
function dottedCandidates(doc: Document): unknown[] {
  const fromDoc = (d: Document): unknown[] => candidates(Object.hasOwn(d, 'b') ? { a: d.b } : {});
  const isDoc = (v: unknown): v is Document => v !== null && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v));
  if (!Object.hasOwn(doc, 'a')) return [MISSING];
  const a = doc.a;
  if (Array.isArray(a)) return a.flatMap((el) => (isDoc(el) ? fromDoc(el) : []));
  if (isDoc(a)) return fromDoc(a);
  return [MISSING];
}

function refMatches(op: Op, rhs: unknown, cands: readonly unknown[]): boolean {
  switch (op) {
    case '$ne':
      return !cands.some((e) => refCompare('$eq', e, rhs));
    case '$in':
      return cands.some((e) => refIn(e, rhs as unknown[]));
    case '$nin':
      return !cands.some((e) => refIn(e, rhs as unknown[]));
    default:
      return cands.some((e) => refCompare(op, e, rhs));
  }
}

const DECIMALS = ['1.10', '1.1', '-0', '0', '0E-10', 'NaN', '-NaN', 'Infinity', '-Infinity', '1E-6176', '9007199254740993', '9.999999999999999999999999999999999E+6144', '-1E+400', '1.5', '2', '0.1', '-9223372036854775808', '9223372036854775807', '9223372036854775808'];

const numberArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 3 }).map(int),
  fc.integer().map(int),
  fc.constantFrom(0, -0, 1.1, 1.5, 2, NaN, Infinity, -Infinity, 5e-324, -5e-324, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 0.1).map(dbl),
  fc.double().map(dbl),
  fc.constantFrom(0n, 1n, -1n, 2n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 9007199254740993n).map((b) => long(b)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => long(b)),
  fc.constantFrom(...DECIMALS).map(dec),
  fc.integer({ min: -3, max: 3 }).map((n) => dec(String(n))),
);

const scalarArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: numberArb },
  { weight: 2, arbitrary: fc.constantFrom('a', 'ab', 'b', '', 'A', '\u00e9', '\u{1F600}', '\uFFFF') },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, new MinKey(), new MaxKey(), new Date(0), new ObjectId('000000000000000000000001')) },
);

const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { weight: 6, arbitrary: scalarArb },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.record({ x: tie('value') }, { requiredKeys: [] }) },
  ),
})).value;

const opArb = fc.constantFrom<Op>('$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin');

const rhsFor = (op: Op): fc.Arbitrary<unknown> =>
  op === '$in' || op === '$nin' ? fc.array(valueArb, { maxLength: 12 }) : valueArb;

describe('property: agrees with a reference model of mongod rules (compareValues)', () => {
  test('single-field comparisons on random documents', () => {
    fc.assert(
      fc.property(
        opArb.chain((op) => fc.tuple(fc.constant(op), rhsFor(op))),
        fc.oneof(fc.constant({}), valueArb.map((a) => ({ a })), fc.array(valueArb, { maxLength: 4 }).map((a) => ({ a }))),
        ([op, rhs], doc) => {
          const f = compileFilter({ a: { [op]: rhs } });
          expect(f.matches(doc)).toBe(refMatches(op, rhs, candidates(doc)));
          // the same document as stored (through BSON)
          const s = stored(doc);
          expect(compileFilter({ a: { [op]: rhs } }).matches(s)).toBe(refMatches(op, rhs, candidates(s)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('dotted paths through arrays of documents', () => {
    const elementArb = fc.oneof(valueArb, fc.record({ b: valueArb }, { requiredKeys: [] }));
    fc.assert(
      fc.property(
        opArb.chain((op) => fc.tuple(fc.constant(op), rhsFor(op))),
        fc.oneof(fc.constant({}), elementArb.map((a) => ({ a })), fc.array(elementArb, { maxLength: 4 }).map((a) => ({ a }))),
        ([op, rhs], doc) => {
          expect(compileFilter({ 'a.b': { [op]: rhs } }).matches(doc)).toBe(refMatches(op, rhs, dottedCandidates(doc)));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('sanity benchmark (prints, never asserts timing)', () => {
  test('a scan of 20k documents', () => {
    const docs = Array.from({ length: 20000 }, (_, i) => stored({ _id: i, a: i % 100, s: `name${i}`, tags: ['x', 'y', String(i % 7)], sub: { v: dbl(i / 3) } }));
    const filters: Document[] = [{ a: 42 }, { 'sub.v': { $gt: 100, $lt: 200 } }, { tags: '3' }, { $or: [{ a: 1 }, { s: 'name5' }] }, { a: { $in: [1, 2, 3, 50, 60, 70, 80, 90, 91, 92] } }];
    for (const filter of filters) {
      const f = compileFilter(filter);
      let n = 0;
      const t0 = performance.now();
      for (const d of docs) if (f.matches(d)) n++;
      const ns = ((performance.now() - t0) * 1e6) / docs.length;
      console.log(`${JSON.stringify(filter)}: ${n} matches, ~${ns.toFixed(0)} ns/document`);
      expect(n).toBeGreaterThan(0);
    }
  });
});
