import {
  Binary,
  BSON,
  BSONRegExp,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MongoError } from '../../../src/errors.js';
import { compileUpdate, type UpdateOptions } from '../../../src/query/update/compile.js';
import { comparePathNames } from '../../../src/query/update/paths.js';

const int = (n: number): Int32 => new Int32(n);
const dbl = (n: number): Double => new Double(n);
const long = (s: string | number | bigint): Long => Long.fromBigInt(BigInt(s));
const dec = (s: string): Decimal128 => Decimal128.fromString(s);

/** A document as the storage layer holds it: serialized and decoded as src/wire/bson.ts decodes. */
function stored(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), { promoteValues: false, bsonRegExp: true });
}

function bytes(doc: Document): Buffer {
  return Buffer.from(BSON.serialize(doc));
}

function run(update: Document, doc: Document, options?: UpdateOptions): { doc: Document; modified: boolean } {
  return compileUpdate(update, options).apply(stored(doc));
}

/** The result of an update, re-read from its bytes (so types are what would be stored). */
function result(update: Document, doc: Document, options?: UpdateOptions): Document {
  return stored(run(update, doc, options).doc);
}

function expectMongoError(fn: () => unknown, code: number, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a MongoError').toBeInstanceOf(MongoError);
  const err = caught as MongoError;
  if (typeof message === 'string') expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
  expect(err.code).toBe(code);
}

function typeOf(v: unknown): string {
  return (v as { _bsontype?: string })._bsontype ?? typeof v;
}

describe('numeric types are kept (the bugs of the mingo-based update)', () => {
  test('$set Decimal128("2.50") stores exactly that decimal at the top level and nested', () => {
    const value = dec('2.50');
    const r = run({ $set: { price: value, 'a.price': value } }, { _id: 1, price: dec('1.00'), a: { x: 1 } });
    expect(r.doc.price).toBe(value);
    expect(r.doc.a.price).toBe(value);
    const back = stored(r.doc);
    expect(typeOf(back.price)).toBe('Decimal128');
    expect(back.price.toString()).toBe('2.50');
    expect(typeOf(back.a.price)).toBe('Decimal128');
    expect(back.a.price.toString()).toBe('2.50');
    expect(bytes({ v: back.price })).toEqual(bytes({ v: value }));
  });

  test('$inc Long + Long is a Long sum, not a no-op', () => {
    const r = run({ $inc: { n: long(3) } }, { _id: 1, n: long(5) });
    expect(r.modified).toBe(true);
    expect(typeOf(r.doc.n)).toBe('Long');
    expect(r.doc.n.toString()).toBe('8');
  });

  test('$mul Long × Int32 is a Long', () => {
    const r = result({ $mul: { n: int(3) } }, { _id: 1, n: long('3000000000') });
    expect(typeOf(r.n)).toBe('Long');
    expect(r.n.toString()).toBe('9000000000');
  });

  test('$inc past the int64 range is BadValue, naming the stored value and the _id', () => {
    expectMongoError(
      () => run({ $inc: { n: long(1) } }, { _id: 1, n: long('9223372036854775807') }),
      2,
      'Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}',
    );
    expectMongoError(
      () => run({ $mul: { n: int(2) } }, { _id: 'x', n: long('9223372036854775807') }),
      2,
      'Failed to apply $mul operations to current value ((NumberLong)9223372036854775807) for document {_id: "x"}',
    );
  });

  test('$inc on a string is TypeMismatch', () => {
    expectMongoError(
      () => run({ $inc: { a: int(1) } }, { _id: 1, a: 'x' }),
      14,
      "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
    );
    expectMongoError(
      () => run({ $mul: { 'a.b': int(1) } }, { a: { b: null } }),
      14,
      "Cannot apply $mul to a value of non-numeric type. {no id} has the field 'b' of non-numeric type null",
    );
  });

  test('Int32 overflow widens to Long; int + double is a double; decimals stay decimals', () => {
    const r = result({ $inc: { a: int(1), b: dbl(0.5), c: int(1) } }, { a: int(2147483647), b: int(1), c: dec('1.10') });
    expect(typeOf(r.a)).toBe('Long');
    expect(r.a.toString()).toBe('2147483648');
    expect(typeOf(r.b)).toBe('Double');
    expect(r.b.value).toBe(1.5);
    expect(typeOf(r.c)).toBe('Decimal128');
    expect(r.c.toString()).toBe('2.10');
  });

  test('$inc creates a missing field with the argument as given; $mul with a zero of its type', () => {
    const r = result({ $inc: { a: long(7) }, $mul: { b: dec('2.5'), c: dbl(-3), d: int(4) } }, { _id: 1 });
    expect(typeOf(r.a)).toBe('Long');
    expect(r.a.toString()).toBe('7');
    expect(typeOf(r.b)).toBe('Decimal128');
    expect(r.b.toString()).toBe('0.0');
    expect(typeOf(r.c)).toBe('Double');
    expect(Object.is(r.c.value, -0)).toBe(true);
    expect(typeOf(r.d)).toBe('Int32');
    expect(r.d.value).toBe(0);
  });

  test('$inc by 0 is a no-op that keeps the stored bytes', () => {
    const doc = stored({ _id: 1, n: dec('1.50') });
    const r = compileUpdate({ $inc: { n: int(0) } }).apply(doc);
    expect(r.modified).toBe(false);
    expect(r.doc).toBe(doc);
  });

  test('$inc with a non-numeric argument fails to parse (TypeMismatch)', () => {
    expectMongoError(() => compileUpdate({ $inc: { 'a.b': 'x' } }), 14, 'Cannot increment with non-numeric argument: {a.b: "x"}');
    expectMongoError(() => compileUpdate({ $mul: { a: null } }), 14, 'Cannot multiply with non-numeric argument: {a: null}');
  });
});

describe('parse errors', () => {
  test('unknown modifiers and operands that are not documents', () => {
    expectMongoError(
      () => compileUpdate({ $foo: { a: 1 } }),
      9,
      'Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array',
    );
    expectMongoError(
      () => compileUpdate({ $set: { a: 1 }, b: 1 }),
      9,
      'Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array',
    );
    expectMongoError(
      () => compileUpdate({ $set: int(1) }),
      9,
      'Modifiers operate on fields but we found type int instead. For example: {$mod: {<field>: ...}} not {$set: 1}',
    );
    expectMongoError(
      () => compileUpdate({ $unset: [] }),
      9,
      'Modifiers operate on fields but we found type array instead. For example: {$mod: {<field>: ...}} not {$unset: []}',
    );
    expectMongoError(() => compileUpdate({ $v: int(2), $set: { a: 1 } }), 9, 'The $v update field is only recognized internally');
  });

  test('an empty operand is allowed since mongod 5.0 and changes nothing', () => {
    const doc = stored({ _id: 1 });
    const r = compileUpdate({ $set: {}, $unset: {} }).apply(doc);
    expect(r.modified).toBe(false);
    expect(r.doc).toBe(doc);
  });

  test('empty paths and empty path components (EmptyFieldName)', () => {
    expectMongoError(() => compileUpdate({ $set: { '': 1 } }), 56, 'An empty update path is not valid.');
    expectMongoError(() => compileUpdate({ $set: { 'a..b': 1 } }), 56, "The update path 'a..b' contains an empty field name, which is not allowed.");
    expectMongoError(() => compileUpdate({ $unset: { 'a.': 1 } }), 56, "The update path 'a.' contains an empty field name, which is not allowed.");
  });

  test('conflicting paths (ConflictingUpdateOperators), in both orders and across operators', () => {
    expectMongoError(() => compileUpdate({ $set: { a: 1, 'a.b': 1 } }), 40, "Updating the path 'a.b' would create a conflict at 'a'");
    expectMongoError(() => compileUpdate({ $set: { 'a.b': 1 }, $inc: { a: int(1) } }), 40, "Updating the path 'a' would create a conflict at 'a'");
    expectMongoError(() => compileUpdate({ $set: { 'a.b.c': 1 }, $unset: { 'a.b': 1 } }), 40, "Updating the path 'a.b' would create a conflict at 'a.b'");
    // $setOnInsert is in the tree even when the update does not insert.
    expectMongoError(() => compileUpdate({ $set: { a: 1 }, $setOnInsert: { a: 2 } }), 40, "Updating the path 'a' would create a conflict at 'a'");
    // $rename claims its source and its destination.
    expectMongoError(() => compileUpdate({ $rename: { a: 'b' }, $set: { 'a.x': 1 } }), 40, "Updating the path 'a.x' would create a conflict at 'a'");
    expectMongoError(() => compileUpdate({ $rename: { a: 'b' }, $set: { b: 1 } }), 40, "Updating the path 'b' would create a conflict at 'b'");
    expect(() => compileUpdate({ $set: { 'a.b': 1, 'a.c': 1, ab: 1 } })).not.toThrow();
  });

  test('the positional $ operator: at most one, not first, and resolved by the caller', () => {
    expectMongoError(() => compileUpdate({ $set: { 'a.$.b.$': 1 } }), 2, "Too many positional (i.e. '$') elements found in path 'a.$.b.$'");
    expectMongoError(() => compileUpdate({ $set: { '$.a': 1 } }), 2, "Cannot have positional (i.e. '$') element in the first position in path '$.a'");
    const update = compileUpdate({ $set: { 'a.$': 1 } });
    expectMongoError(() => update.apply(stored({ a: [1] })), 2, 'The positional operator did not find the match needed from the query.');
  });

  test('array filter identifiers: known, used, not first', () => {
    expectMongoError(() => compileUpdate({ $set: { 'a.$[x]': 1 } }), 2, "No array filter found for identifier 'x' in path 'a.$[x]'");
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[i]': 1 } }, { arrayFilters: [{ j: 0 }] }),
      2,
      "No array filter found for identifier 'i' in path 'a.$[i]'",
    );
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[i]': dbl(5) } }, { arrayFilters: [{ i: 0 }, { j: 0 }] }),
      9,
      "The array filter for identifier 'j' was not used in the update { $set: { a.$[i]: 5.0 } }",
    );
    expectMongoError(
      () => compileUpdate({ $set: { '$[i]': 1 } }, { arrayFilters: [{ i: 0 }] }),
      2,
      "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '$[i]'",
    );
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[i]': 1 } }, { arrayFilters: [{ i: 0, j: 0 }] }),
      9,
      "Error parsing array filter :: caused by :: Expected a single top-level field name, found 'i' and 'j'",
    );
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[i]': 1 } }, { arrayFilters: [{ i: 0 }, { i: 1 }] }),
      9,
      'Found multiple array filters with the same top-level field name i',
    );
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[I]': 1 } }, { arrayFilters: [{ I: 0 }] }),
      2,
      "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found 'I'",
    );
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[i]': 1 } }, { arrayFilters: [{}] }),
      9,
      'Cannot use an expression without a top-level field name in arrayFilters',
    );
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[i]': 1 } }, { arrayFilters: [{ $expr: { $eq: ['$i', 1] } }] }),
      224,
      'Error parsing array filter :: caused by :: $expr is not allowed in this context',
    );
    expectMongoError(
      () => compileUpdate({ $set: { 'a.$[i]': 1 } }, { arrayFilters: [{ i: { $foo: 1 } }] }),
      2,
      'Error parsing array filter :: caused by :: unknown operator: $foo',
    );
  });

  test('$rename: the destination must be a string, differ, not overlap, not be dynamic', () => {
    expectMongoError(() => compileUpdate({ $rename: { a: int(1) } }), 2, "The 'to' field for $rename must be a string: a: 1");
    expectMongoError(() => compileUpdate({ $rename: { a: 'a' } }), 2, 'The source and target field for $rename must differ: a: "a"');
    expectMongoError(() => compileUpdate({ $rename: { a: 'a.b' } }), 2, 'The source and target field for $rename must not be on the same path: a: "a.b"');
    expectMongoError(() => compileUpdate({ $rename: { 'a.b': 'a' } }), 2, 'The source and target field for $rename must not be on the same path: a.b: "a"');
    expectMongoError(() => compileUpdate({ $rename: { 'a.$': 'b' } }), 2, 'The source field for $rename may not be dynamic: a.$');
    expectMongoError(() => compileUpdate({ $rename: { a: 'b.$[]' } }), 2, 'The destination field for $rename may not be dynamic: b.$[]');
    expectMongoError(() => compileUpdate({ $rename: { a: 'b\0c' } }), 2, "The 'to' field for $rename cannot contain an embedded null byte");
    expectMongoError(() => compileUpdate({ $rename: { a: '' } }), 56, 'An empty update path is not valid.');
  });

  test('$push clauses', () => {
    expectMongoError(() => compileUpdate({ $push: { a: { $each: [1], $foo: 1 } } }), 2, 'Unrecognized clause in $push: $foo');
    expectMongoError(() => compileUpdate({ $push: { a: { $each: int(1) } } }), 2, 'The argument to $each in $push must be an array but it was of type: int');
    expectMongoError(
      () => compileUpdate({ $push: { a: { $each: [], $slice: dbl(1.5) } } }),
      2,
      'The value for $slice must be an integer value but was given type: double',
    );
    expectMongoError(
      () => compileUpdate({ $push: { a: { $each: [], $slice: 'x' } } }),
      2,
      'The value for $slice must be an integer value but was given type: string',
    );
    expectMongoError(
      () => compileUpdate({ $push: { a: { $each: [], $position: 'x' } } }),
      2,
      'The value for $position must be an integer value, not of type: string',
    );
    expectMongoError(() => compileUpdate({ $push: { a: { $each: [], $sort: int(2) } } }), 2, 'The $sort element value must be either 1 or -1');
    expectMongoError(
      () => compileUpdate({ $push: { a: { $each: [], $sort: 'x' } } }),
      2,
      'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields',
    );
    expectMongoError(() => compileUpdate({ $push: { a: { $each: [], $sort: {} } } }), 2, 'The sort pattern is empty when it should be a set of fields.');
    expectMongoError(() => compileUpdate({ $push: { a: { $each: [], $sort: { b: int(0) } } } }), 2, 'The sort element value must be either 1 or -1');
    expectMongoError(() => compileUpdate({ $push: { a: { $each: [], $sort: { '': int(1) } } } }), 2, 'The sort field cannot be empty');
    expectMongoError(
      () => compileUpdate({ $push: { a: { $each: [], $sort: { 'b..c': int(1) } } } }),
      2,
      'The sort field is a dotted field but has an empty part: b..c',
    );
  });

  test('$addToSet, $pullAll, $pop, $bit, $currentDate arguments', () => {
    expectMongoError(
      () => compileUpdate({ $addToSet: { a: { $each: int(1) } } }),
      14,
      'The argument to $each in $addToSet must be an array but it was of type int',
    );
    expectMongoError(
      () => compileUpdate({ $addToSet: { a: { $each: [int(1)], b: int(2) } } }),
      2,
      'Found unexpected fields after $each in $addToSet: { $each: [ 1 ], b: 2 }',
    );
    expectMongoError(() => compileUpdate({ $pullAll: { a: int(1) } }), 2, '$pullAll requires an array argument but was given a int');
    expectMongoError(() => compileUpdate({ $pop: { a: int(5) } }), 9, '$pop expects 1 or -1, found: 5');
    expectMongoError(() => compileUpdate({ $pop: { a: 'x' } }), 9, 'Expected a number in: a: "x"');
    expectMongoError(() => compileUpdate({ $pop: { a: dbl(1.5) } }), 9, 'Expected an integer: a: 1.5');
    expectMongoError(
      () => compileUpdate({ $bit: { a: int(1) } }),
      2,
      'The $bit modifier is not compatible with a int. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}',
    );
    expectMongoError(
      () => compileUpdate({ $bit: { a: { nand: int(1) } } }),
      2,
      "The $bit modifier only supports 'and', 'or', and 'xor', not 'nand' which is an unknown operator: {nand: 1}",
    );
    expectMongoError(
      () => compileUpdate({ $bit: { a: { and: dbl(1) } } }),
      2,
      "The $bit modifier field must be an Integer(32/64 bit); a 'double' is not supported here: {and: 1.0}",
    );
    expectMongoError(
      () => compileUpdate({ $bit: { a: {} } }),
      2,
      'You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}',
    );
    expectMongoError(
      () => compileUpdate({ $currentDate: { a: int(1) } }),
      2,
      "int is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).",
    );
    expectMongoError(() => compileUpdate({ $currentDate: { a: { $type: 'date', x: 1 } } }), 2, 'Unrecognized $currentDate option: x');
    expectMongoError(
      () => compileUpdate({ $currentDate: { a: { $type: 'string' } } }),
      2,
      "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
    );
  });

  test('$pull conditions are parsed as queries', () => {
    expectMongoError(() => compileUpdate({ $pull: { a: { $foo: 1 } } }), 2, /^unknown top level operator: \$foo/);
    expectMongoError(() => compileUpdate({ $pull: { a: { $gt: 1, b: 1 } } }), 2, 'unknown operator: b');
    expectMongoError(() => compileUpdate({ $pull: { a: { $expr: { $eq: ['$b', 1] } } } }), 224, '$expr is not allowed in this context');
  });
});

describe('paths', () => {
  test('fields are applied in path order: created fields are appended sorted by byte order', () => {
    const r = run({ $set: { b: 1, a: 1, B: 1, c: 1, x: 2 } }, { x: 1, y: 1 });
    expect(Object.keys(r.doc)).toEqual(['x', 'y', 'B', 'a', 'b', 'c']);
    const nested = run({ $set: { 'n.z': 1, 'n.m': 1 }, $inc: { 'n.a': int(1) } }, { _id: 1 });
    expect(Object.keys(nested.doc.n)).toEqual(['a', 'm', 'z']);
  });

  test('the path order compares names that start with digits as numbers (cmpPathsAndArrayIndexes)', () => {
    const sorted = ['b', '10', '9', 'a', '1', '09', '100', '0', '', 'B', '2x'].sort(comparePathNames);
    // Equal lengths compare digit by digit: '10' < '2x'; the shorter comes first: '2x' < '100'.
    expect(sorted).toEqual(['', '0', '09', '1', '9', '10', '2x', '100', 'B', 'a', 'b']);
  });

  test('missing documents along the path are created; a missing field named by digits is a field', () => {
    expect(result({ $set: { 'a.b.c': int(1) } }, { _id: 1 })).toEqual({ _id: int(1), a: { b: { c: int(1) } } });
    expect(result({ $set: { 'a.0.b': int(1) } }, { _id: 1 })).toEqual({ _id: int(1), a: { '0': { b: int(1) } } });
  });

  test('numeric parts index arrays; past the end the array is padded with nulls', () => {
    expect(result({ $set: { 'a.1': int(9) } }, { a: [int(1), int(2), int(3)] })).toEqual({ a: [int(1), int(9), int(3)] });
    expect(result({ $set: { 'a.4': int(9) } }, { a: [int(1)] })).toEqual({ a: [int(1), null, null, null, int(9)] });
    expect(result({ $set: { 'a.2.b': int(9) } }, { a: [] })).toEqual({ a: [null, null, { b: int(9) }] });
    expect(result({ $set: { 'a.01': int(9) } }, { a: [int(1), int(2)] })).toEqual({ a: [int(1), int(9)] });
    expect(result({ $set: { 'a.0.b': int(9) } }, { a: [{ b: int(1), c: int(2) }] })).toEqual({ a: [{ b: int(9), c: int(2) }] });
    expectMongoError(() => run({ $set: { 'a.1500001': 1 } }, { a: [] }), 34, "can't backfill more than 1500000 elements");
    expect(() => run({ $set: { 'a.1500000': 1 } }, { a: [] })).not.toThrow();
  });

  test('a path through a value that is not a document or an array is PathNotViable', () => {
    expectMongoError(() => run({ $set: { 'a.b': 1 } }, { _id: 1, a: int(1) }), 28, "Cannot create field 'b' in element {a: 1}");
    expectMongoError(() => run({ $set: { 'a.b.c': 1 } }, { a: { b: 'x' } }), 28, 'Cannot create field \'c\' in element {b: "x"}');
    expectMongoError(
      () => run({ $set: { 'a.b': 1 } }, { a: [{ b: int(1) }, dbl(2)] }),
      28,
      "Cannot create field 'b' in element {a: [ { b: 1 }, 2.0 ]}",
    );
    expectMongoError(() => run({ $inc: { 'a.b': int(1) } }, { a: null }), 28, "Cannot create field 'b' in element {a: null}");
  });

  test('DBRefs are documents on the path', () => {
    const r = result({ $set: { 'r.x': int(1), 'r.$id': int(7) } }, { r: new DBRef('c', int(5) as never) });
    expect(bytes(r)).toEqual(bytes({ r: { $ref: 'c', $id: int(7), x: int(1) } }));
  });
});

describe('$set, $unset, $setOnInsert', () => {
  test('$set to the same bytes is no change; to an equal value of another type it is one', () => {
    const doc = stored({ _id: 1, a: int(1), b: { c: [int(1), 'x'] }, d: dec('2.50') });
    const same = compileUpdate({ $set: { a: int(1), b: { c: [int(1), 'x'] }, d: dec('2.50') } }).apply(doc);
    expect(same.modified).toBe(false);
    expect(same.doc).toBe(doc);
    expect(compileUpdate({ $set: { a: dbl(1) } }).apply(doc).modified).toBe(true);
    expect(compileUpdate({ $set: { a: long(1) } }).apply(doc).modified).toBe(true);
    expect(compileUpdate({ $set: { d: dec('2.5') } }).apply(doc).modified).toBe(true);
    expect(compileUpdate({ $set: { b: { c: [int(1), 'x'], e: null } } }).apply(doc).modified).toBe(true);
    const zero = stored({ z: dbl(0) });
    expect(compileUpdate({ $set: { z: dbl(-0) } }).apply(zero).modified).toBe(true);
  });

  test('$set replaces a value in place (field order kept)', () => {
    const r = run({ $set: { b: 'new' } }, { a: 1, b: 2, c: 3 });
    expect(Object.keys(r.doc)).toEqual(['a', 'b', 'c']);
    expect(r.doc.b).toBe('new');
  });

  test('$unset removes fields, sets array elements to null, ignores missing paths', () => {
    expect(result({ $unset: { a: '', 'b.c': 1 } }, { a: 1, b: { c: 1, d: 2 }, e: 3 })).toEqual({ b: { d: int(2) }, e: int(3) });
    expect(result({ $unset: { 'a.1': 1 } }, { a: [int(1), int(2), int(3)] })).toEqual({ a: [int(1), null, int(3)] });
    const doc = stored({ a: int(1), b: [int(1)] });
    const r = compileUpdate({ $unset: { x: 1, 'a.b': 1, 'b.5': 1, 'b.x': 1 } }).apply(doc);
    expect(r.modified).toBe(false);
    expect(r.doc).toBe(doc);
  });

  test('$setOnInsert applies only when the update inserts', () => {
    const doc = stored({ _id: 1 });
    const update = { $set: { a: int(1) }, $setOnInsert: { b: int(2) } };
    expect(compileUpdate(update).apply(doc).doc).toEqual({ _id: int(1), a: int(1) });
    expect(compileUpdate(update, { upsert: true }).apply(doc).doc).toEqual({ _id: int(1), a: int(1), b: int(2) });
    const onlyInsert = compileUpdate({ $setOnInsert: { b: int(2) } }).apply(doc);
    expect(onlyInsert.modified).toBe(false);
    expect(onlyInsert.doc).toBe(doc);
  });

  test('only top-level fields may not start with $ (storage validation since 5.0)', () => {
    expectMongoError(
      () => run({ $set: { $x: 1 } }, { _id: 1 }),
      52,
      "The dollar ($) prefixed field '$x' in '$x' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.",
    );
    expectMongoError(() => run({ $set: { '$x.y': 1 } }, { _id: 1 }), 52, /^The dollar \(\$\) prefixed field '\$x' in '\$x'/);
    expect(result({ $set: { a: { $x: int(1) }, 'b.$y': int(2) } }, { _id: 1 })).toEqual({ _id: int(1), a: { $x: int(1) }, b: { $y: int(2) } });
    expectMongoError(() => run({ $set: { $ref: 'c' } }, { _id: 1 }), 55, 'The DBRef $ref field must be followed by a $id field');
  });

  test('values nested deeper than 180 levels are refused', () => {
    let deep: Document = { x: 1 };
    for (let i = 0; i < 180; i++) deep = { d: deep };
    expectMongoError(() => run({ $set: { a: deep } }, { _id: 1 }), 15, 'Document exceeds maximum nesting depth of 180');
    let ok: Document = { x: 1 };
    for (let i = 0; i < 178; i++) ok = { d: ok };
    expect(() => run({ $set: { a: ok } }, { _id: 1 })).not.toThrow();
  });
});

describe('$min, $max, $currentDate, $rename', () => {
  test('$min/$max compare in BSON order, across types; equal values are no change', () => {
    expect(result({ $max: { a: int(5) }, $min: { b: dbl(1.5) } }, { a: dbl(3), b: long(2) })).toEqual({ a: int(5), b: dbl(1.5) });
    const doc = stored({ a: int(5), b: 'x' });
    const same = compileUpdate({ $max: { a: dbl(5) }, $min: { b: 'x' } }).apply(doc);
    expect(same.modified).toBe(false);
    expect(same.doc).toBe(doc);
    // Numbers sort before strings.
    expect(result({ $min: { b: int(1) } }, { b: 'x' })).toEqual({ b: int(1) });
    expect(result({ $max: { b: int(1) } }, { b: 'x' })).toEqual({ b: 'x' });
    expect(result({ $min: { c: null } }, {})).toEqual({ c: null });
  });

  test('$min/$max use the collation for strings', () => {
    const doc = stored({ s: 'b' });
    expect(compileUpdate({ $max: { s: 'B' } }).apply(doc).doc.s).toBe('b');
    expect(compileUpdate({ $max: { s: 'B' } }, { collation: { locale: 'en', strength: 2 } }).apply(doc).modified).toBe(false);
  });

  test('$currentDate sets a Date or a Timestamp, always a change', () => {
    const now = new Date('2024-05-06T07:08:09.010Z');
    const r = run({ $currentDate: { a: true, b: { $type: 'date' }, c: { $type: 'timestamp' }, d: false } }, { a: now }, { now: () => now });
    expect(r.modified).toBe(true);
    expect(r.doc.a).toEqual(now);
    expect(r.doc.b).toEqual(now);
    expect(r.doc.d).toEqual(now);
    expect(r.doc.c).toBeInstanceOf(Timestamp);
    expect((r.doc.c as Timestamp).high).toBe(Math.floor(now.getTime() / 1000));
  });

  test('$rename moves the value (the same object) to its destination', () => {
    const sub = { x: dec('1.10') };
    const doc = stored({ _id: 1, a: sub, b: 2 });
    const r = compileUpdate({ $rename: { a: 'c.d' } }).apply(doc);
    expect(Object.keys(r.doc)).toEqual(['_id', 'b', 'c']);
    expect(r.doc.c.d).toBe(doc.a);
    expect(result({ $rename: { 'a.b': 'x' } }, { a: { b: int(1), c: int(2) }, x: 'old' })).toEqual({ a: { c: int(2) }, x: int(1) });
  });

  test('$rename of a missing source is a no-op; through arrays it is refused', () => {
    const doc = stored({ _id: 1, a: { b: 1 } });
    const r = compileUpdate({ $rename: { x: 'y', 'a.c': 'z' } }).apply(doc);
    expect(r.modified).toBe(false);
    expect(r.doc).toBe(doc);
    expectMongoError(
      () => run({ $rename: { 'a.0': 'b' } }, { _id: 1, a: [int(1)] }),
      2,
      "The source field cannot be an array element, 'a.0' in doc with _id: 1 has an array field called 'a'",
    );
    expectMongoError(
      () => run({ $rename: { b: 'a.0' } }, { _id: 1, a: [int(1)], b: 1 }),
      2,
      "The destination field cannot be an array element, 'a.0' in doc with _id: 1 has an array field called 'a'",
    );
    expectMongoError(
      () => run({ $rename: { 'a.b': 'c' } }, { _id: 1, a: int(5) }),
      28,
      'cannot use the part (a of a.b) to traverse the element ({a: 5})',
    );
  });
});

describe('$bit', () => {
  test('and/or/xor on ints and longs', () => {
    const r = result({ $bit: { a: { and: int(6) }, b: { or: long(1) }, c: { xor: int(5) }, d: { or: int(3) } } }, { a: int(3), b: int(4), c: long(1) });
    expect(r).toEqual({ a: int(2), b: long(5), c: long(4), d: int(3) });
    const doc = stored({ a: int(3) });
    expect(compileUpdate({ $bit: { a: { and: int(3) } } }).apply(doc).modified).toBe(false);
  });

  test('on a value that is not an int or a long', () => {
    expectMongoError(
      () => run({ $bit: { a: { and: int(1) } } }, { _id: 1, a: dbl(1) }),
      2,
      'Cannot apply $bit to a value of non-integral type._id: 1 has the field a of non-integer type double',
    );
  });
});

describe('$push', () => {
  test('appends to an array, creates a missing one, refuses other types', () => {
    expect(result({ $push: { a: int(3) } }, { a: [int(1)] })).toEqual({ a: [int(1), int(3)] });
    expect(result({ $push: { 'x.y': { b: int(1) } } }, {})).toEqual({ x: { y: [{ b: int(1) }] } });
    expect(result({ $push: { a: [int(1)] } }, { a: [] })).toEqual({ a: [[int(1)]] });
    expectMongoError(
      () => run({ $push: { 'a.b': int(1) } }, { _id: new ObjectId('62821b15dcbc92924d9dc49a'), a: { b: dbl(1) } }),
      2,
      "The field 'a.b' must be an array but is of type double in document {_id: ObjectId('62821b15dcbc92924d9dc49a')}",
    );
  });

  test('$each with $position', () => {
    const a = [int(1), int(2), int(3)];
    const push = (position: unknown): unknown => result({ $push: { a: { $each: [int(8), int(9)], $position: position } } }, { a }).a;
    expect(push(int(0))).toEqual([int(8), int(9), int(1), int(2), int(3)]);
    expect(push(int(1))).toEqual([int(1), int(8), int(9), int(2), int(3)]);
    expect(push(int(10))).toEqual([int(1), int(2), int(3), int(8), int(9)]);
    expect(push(int(-1))).toEqual([int(1), int(2), int(8), int(9), int(3)]);
    expect(push(int(-3))).toEqual([int(8), int(9), int(1), int(2), int(3)]);
    expect(push(dec('1'))).toEqual([int(1), int(8), int(9), int(2), int(3)]);
  });

  test('$each with $sort and $slice', () => {
    const docs = [{ s: int(3) }, { s: int(1) }, { t: int(1) }, { s: int(2) }];
    expect(result({ $push: { a: { $each: [{ s: int(0) }], $sort: { s: int(1) }, $slice: int(3) } } }, { a: docs }).a).toEqual([
      { t: int(1) },
      { s: int(0) },
      { s: int(1) },
    ]);
    expect(result({ $push: { a: { $each: [int(5), 'x', int(-1)], $sort: int(-1), $slice: int(-2) } } }, { a: [int(2)] }).a).toEqual([
      int(2),
      int(-1),
    ]);
    expect(result({ $push: { a: { $each: [], $slice: int(0) } } }, { a: [int(1)] }).a).toEqual([]);
    // Sort keys through dotted paths; non-documents sort as null.
    expect(
      result({ $push: { a: { $each: [], $sort: { 'b.c': int(-1) } } } }, { a: [{ b: { c: int(1) } }, int(7), { b: { c: int(2) } }] }).a,
    ).toEqual([{ b: { c: int(2) } }, { b: { c: int(1) } }, int(7)]);
  });

  test('an empty $each changes nothing unless it sorts or slices', () => {
    const doc = stored({ a: [int(1)] });
    const r = compileUpdate({ $push: { a: { $each: [] } } }).apply(doc);
    expect(r.modified).toBe(false);
    expect(r.doc).toBe(doc);
  });
});

describe('$addToSet, $pop, $pull, $pullAll', () => {
  test('$addToSet adds what is not there (BSON equality)', () => {
    expect(result({ $addToSet: { a: dbl(1) } }, { a: [int(1)] }).a).toEqual([int(1)]);
    expect(result({ $addToSet: { a: { $each: [int(2), int(2), long(3), int(1)] } } }, { a: [int(1)] }).a).toEqual([int(1), int(2), long(3)]);
    expect(result({ $addToSet: { a: { b: int(1) } } }, {})).toEqual({ a: [{ b: int(1) }] });
    // An object without $each first is a value.
    expect(result({ $addToSet: { a: { x: int(1), $each: [] } } }, { a: [] }).a).toEqual([{ x: int(1), $each: [] }]);
    expectMongoError(
      () => run({ $addToSet: { a: int(1) } }, { a: int(1) }),
      2,
      "Cannot apply $addToSet to non-array field. Field named 'a' has non-array type int",
    );
    const doc = stored({ a: ['x', int(1)] });
    expect(compileUpdate({ $addToSet: { a: { $each: [dbl(1), 'x'] } } }).apply(doc).modified).toBe(false);
  });

  test('$addToSet with a collation', () => {
    const collation = { locale: 'en', strength: 2 };
    expect(result({ $addToSet: { a: 'ABC' } }, { a: ['abc'] }, { collation }).a).toEqual(['abc']);
    expect(result({ $addToSet: { a: 'ABC' } }, { a: ['abc'] }).a).toEqual(['abc', 'ABC']);
  });

  test('$pop', () => {
    expect(result({ $pop: { a: int(1) } }, { a: [int(1), int(2)] }).a).toEqual([int(1)]);
    expect(result({ $pop: { a: int(-1) } }, { a: [int(1), int(2)] }).a).toEqual([int(2)]);
    const doc = stored({ a: [], b: { c: 1 } });
    const noop = compileUpdate({ $pop: { a: int(1), x: int(1), 'b.d': int(1) } }).apply(doc);
    expect(noop.modified).toBe(false);
    expectMongoError(() => run({ $pop: { 'b.c': int(1) } }, { b: { c: int(1) } }), 14, "Path 'b.c' contains an element of non-array type 'int'");
    expectMongoError(
      () => run({ $pop: { 'a.b.c': int(1) } }, { a: { b: int(1) } }),
      28,
      'Cannot use the part (c) of (a.b.c) to traverse the element ({b: 1})',
    );
  });

  test('$pull by value, by document condition, by operator condition, by regex', () => {
    expect(result({ $pull: { a: dbl(2) } }, { a: [int(1), int(2), long(2), [int(2)]] }).a).toEqual([int(1), [int(2)]]);
    expect(result({ $pull: { a: [int(2)] } }, { a: [int(2), [int(2)]] }).a).toEqual([int(2)]);
    // A condition without operators is a query on document elements (not an equality).
    expect(result({ $pull: { a: { b: int(1) } } }, { a: [{ b: int(1), c: int(2) }, { b: int(2) }, int(1)] }).a).toEqual([{ b: int(2) }, int(1)]);
    expect(result({ $pull: { a: { b: { $gt: int(1) } } } }, { a: [{ b: int(1) }, { b: int(5) }] }).a).toEqual([{ b: int(1) }]);
    expect(result({ $pull: { a: {} } }, { a: [{ b: int(1) }, int(2), []] }).a).toEqual([int(2), []]);
    expect(result({ $pull: { a: { $gte: int(2) } } }, { a: [int(1), int(2), int(3), [int(0), int(5)]] }).a).toEqual([int(1)]);
    expect(result({ $pull: { a: new BSONRegExp('^x') } }, { a: ['xa', 'ya', int(1)] }).a).toEqual(['ya', int(1)]);
    expect(result({ $pull: { a: { $in: ['A', 'b'] } } }, { a: ['a', 'b', 'c'] }, { collation: { locale: 'en', strength: 1 } }).a).toEqual(['c']);
    expectMongoError(() => run({ $pull: { a: int(1) } }, { a: int(1) }), 2, 'Cannot apply $pull to a non-array value');
    const doc = stored({ a: [int(1)] });
    expect(compileUpdate({ $pull: { a: int(2), x: int(1) } }).apply(doc).doc).toBe(doc);
  });

  test('$pullAll', () => {
    expect(result({ $pullAll: { a: [int(1), 'x'] } }, { a: [dbl(1), 'x', 'y', long(1)] }).a).toEqual(['y']);
    expectMongoError(() => run({ $pullAll: { a: [int(1)] } }, { a: 'x' }), 2, 'Cannot apply $pull to a non-array value');
  });
});

describe('$[] and $[identifier]', () => {
  test('update every element, or the elements an array filter matches', () => {
    expect(result({ $inc: { 'a.$[]': int(1) } }, { a: [int(1), long(2), dbl(3)] }).a).toEqual([int(2), long(3), dbl(4)]);
    expect(
      result({ $set: { 'a.$[e].b': 'hit' } }, { a: [{ n: int(1) }, { n: int(5) }, int(7)] }, { arrayFilters: [{ 'e.n': { $gt: int(2) } }] }).a,
    ).toEqual([{ n: int(1) }, { n: int(5), b: 'hit' }, int(7)]);
    expect(
      result({ $set: { 'a.$[x]': 'y' } }, { a: ['abc', 'ABC', 'z'] }, { arrayFilters: [{ x: 'abc' }], collation: { locale: 'en', strength: 2 } }).a,
    ).toEqual(['y', 'y', 'z']);
  });

  test('nested array updates and merges of children that reach the same element', () => {
    const doc = { a: [{ b: [int(1), int(2)] }, { b: [int(3)] }] };
    expect(result({ $mul: { 'a.$[].b.$[v]': int(10) } }, doc, { arrayFilters: [{ v: { $gte: int(2) } }] }).a).toEqual([
      { b: [int(1), int(20)] },
      { b: [int(30)] },
    ]);
    expect(
      result({ $set: { 'a.$[i].x': int(1), 'a.$[j].y': int(2) } }, { a: [{ n: int(0) }, { n: int(1) }] }, { arrayFilters: [{ 'i.n': int(0) }, { 'j.n': { $gte: int(0) } }] }).a,
    ).toEqual([
      { n: int(0), x: int(1), y: int(2) },
      { n: int(1), y: int(2) },
    ]);
    expectMongoError(
      () => run({ $set: { 'a.$[i]': int(2), 'a.$[j]': int(3) } }, { a: [int(0)] }, { arrayFilters: [{ i: int(0) }, { j: int(0) }] }),
      40,
      "Update created a conflict at 'a.0'",
    );
    expectMongoError(
      () =>
        run(
          { $set: { 'a.$[i].b.$[k].c': int(1), 'a.$[j].b.$[k].c': int(2) } },
          { a: [{ x: int(0), b: [{ y: int(0), c: int(0) }] }] },
          { arrayFilters: [{ 'i.x': int(0) }, { 'j.x': int(0) }, { 'k.y': int(0) }] },
        ),
      40,
      "Update created a conflict at 'a.0.b.$[k].c'",
    );
  });

  test('the array must exist and be an array', () => {
    expectMongoError(() => run({ $set: { 'a.b.$[]': 1 } }, { a: {} }), 2, "The path 'a.b' must exist in the document in order to apply array updates.");
    expectMongoError(() => run({ $set: { 'a.$[]': 1 } }, { a: int(5) }), 2, 'Cannot apply array updates to non-array element a: 5');
    expectMongoError(() => run({ $set: { 'a.$[].b': 1 } }, { a: [int(0)] }), 28, "Cannot create field 'b' in element {0: 0}");
  });
});

describe('positional $ resolved at apply time (matchedField)', () => {
  test('the $ part takes the matched position; one compiled update serves every document', () => {
    const update = compileUpdate({ $set: { 'a.$.b': int(1) }, $inc: { 'c.$': int(1) } });
    const r = update.apply(stored({ a: [{ b: int(0) }, { b: int(0) }], c: [int(5), int(6)] }), { matchedField: '1' });
    expect(r.doc).toEqual({ a: [{ b: int(0) }, { b: int(1) }], c: [int(5), int(7)] });
    const r0 = update.apply(stored({ a: [{}], c: [int(5)] }), { matchedField: '0' });
    expect(r0.doc).toEqual({ a: [{ b: int(1) }], c: [int(6)] });
  });

  test('the $ child merges with the child of the same name: two leaves conflict', () => {
    const update = compileUpdate({ $set: { 'a.$': int(1), 'a.0': int(2) } });
    expectMongoError(() => update.apply(stored({ a: [int(0), int(0)] }), { matchedField: '0' }), 40, "Update created a conflict at 'a.0'");
    expect(update.apply(stored({ a: [int(0), int(0)] }), { matchedField: '1' }).doc).toEqual({ a: [int(2), int(1)] });
    const merged = compileUpdate({ $set: { 'a.$.x': int(1), 'a.0.y': int(2) } });
    expect(merged.apply(stored({ a: [{}] }), { matchedField: '0' }).doc).toEqual({ a: [{ x: int(1), y: int(2) }] });
  });

  test('without a matched position the $ is an error', () => {
    expectMongoError(() => compileUpdate({ $set: { 'a.$': 1 } }).apply(stored({ a: [1] }), {}), 2, 'The positional operator did not find the match needed from the query.');
  });
});

describe('copy-on-write', () => {
  test('untouched values are the same objects; the input is not changed', () => {
    const doc = stored({
      _id: new ObjectId(),
      keep: { deep: { d: dec('1.000') }, list: [int(1), { x: long(2) }] },
      path: { sibling: { s: 'x' }, target: int(1), other: [int(1)] },
      arr: [{ a: int(1) }, { a: int(2) }],
    });
    const before = bytes(doc);
    const r = compileUpdate({ $inc: { 'path.target': int(1) }, $set: { 'arr.1.b': int(3) } }).apply(doc);
    expect(bytes(doc)).toEqual(before);
    expect(r.doc).not.toBe(doc);
    expect(r.doc._id).toBe(doc._id);
    expect(r.doc.keep).toBe(doc.keep);
    expect(r.doc.path).not.toBe(doc.path);
    expect(r.doc.path.sibling).toBe(doc.path.sibling);
    expect(r.doc.path.other).toBe(doc.path.other);
    expect(r.doc.arr).not.toBe(doc.arr);
    expect(r.doc.arr[0]).toBe(doc.arr[0]);
    expect(r.doc.arr[1]).not.toBe(doc.arr[1]);
    expect(r.doc.arr[1].a).toBe(doc.arr[1].a);
    expect(Object.keys(r.doc)).toEqual(['_id', 'keep', 'path', 'arr']);
  });

  test('one compiled update applies to many documents', () => {
    const update = compileUpdate({ $inc: { n: int(1) }, $push: { log: 'x' } });
    const a = update.apply(stored({ n: int(1), log: [] }));
    const b = update.apply(stored({ n: long(1) }));
    expect(a.doc).toEqual({ n: int(2), log: ['x'] });
    expect(b.doc).toEqual({ n: long(2), log: ['x'] });
  });
});

// ---------------------------------------------------------------------------------------------
// Property: $set of any BSON value at any path holds exactly that value, everything else untouched.

const NAMES = ['a', 'b', 'c', 'd', 'xy'];

const leafValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -2147483648, max: 2147483647 }).map(int),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.double().map(dbl),
  fc
    .oneof(
      fc.constantFrom('2.50', '-0', '0E-10', 'NaN', 'Infinity', '-Infinity', '1E+6144', '9.999999999999999999999999999999999E+6144'),
      fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: -40, max: 40 })).map(([c, e]) => `${c}E${e}`),
    )
    .map(dec),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 16 }).map((b) => new ObjectId(Buffer.from([...b, ...new Array(12).fill(0)].slice(0, 12)))),
  fc.integer({ min: -8640000000000000, max: 8640000000000000 }).map((ms) => new Date(ms)),
  fc.tuple(fc.uint8Array({ maxLength: 8 }), fc.constantFrom(0, 4, 128)).map(([b, t]) => new Binary(b, t)),
  fc.tuple(fc.nat(), fc.nat()).map(([t, i]) => new Timestamp({ t, i })),
  fc.constantFrom(new BSONRegExp('a.b', 'i'), new MinKey(), new MaxKey(), new Code('x = 1')),
);

const bsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; doc: Document; arr: unknown[] }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafValue, tie('doc'), tie('arr')),
  doc: fc.dictionary(fc.constantFrom(...NAMES), tie('value'), { maxKeys: 4 }),
  arr: fc.array(tie('value'), { maxLength: 4 }),
})).value;

const topDoc: fc.Arbitrary<Document> = fc.dictionary(fc.constantFrom(...NAMES), bsonValue, { maxKeys: 5 });

function isDoc(v: unknown): v is Document {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** A path walking the document: existing fields or positions, new names, positions past the end. */
function pathFor(doc: Document, choices: readonly number[]): string[] {
  const parts: string[] = [];
  let cur: unknown = doc;
  for (const c of choices) {
    if (Array.isArray(cur)) {
      const i = c % (cur.length + 3);
      parts.push(String(i));
      cur = cur[i];
    } else if (isDoc(cur)) {
      const keys = Object.keys(cur);
      const name = c % 2 === 0 && keys.length > 0 ? keys[c % keys.length]! : NAMES[c % NAMES.length]!;
      parts.push(name);
      cur = cur[name];
    } else {
      parts.push(NAMES[c % NAMES.length]!);
      cur = undefined;
    }
  }
  return parts;
}

/** The expected result of setting `value` at `parts`, built naively; 'notViable' when the path crosses a scalar. */
function expectedSet(node: unknown, parts: readonly string[], i: number, value: unknown): unknown {
  if (i === parts.length) return value;
  const part = parts[i]!;
  const chain = (j: number): unknown => (j === parts.length ? value : { [parts[j]!]: chain(j + 1) });
  if (Array.isArray(node)) {
    const idx = Number(part);
    const copy = node.slice();
    if (idx < node.length) copy[idx] = expectedSet(node[idx], parts, i + 1, value);
    else {
      while (copy.length < idx) copy.push(null);
      copy.push(chain(i + 1));
    }
    return copy;
  }
  if (isDoc(node)) {
    const copy: Document = { ...node };
    copy[part] = Object.hasOwn(node, part) ? expectedSet(node[part], parts, i + 1, value) : chain(i + 1);
    return copy;
  }
  throw new Error('notViable');
}

/** Every value off the path is the same object in the result (and keys keep their order). */
function expectUntouched(orig: unknown, res: unknown, parts: readonly string[], i: number): void {
  if (i === parts.length) return;
  if (Array.isArray(orig)) {
    const idx = Number(parts[i]);
    const out = res as unknown[];
    orig.forEach((v, j) => {
      if (j !== idx) expect(out[j]).toBe(v);
    });
    if (idx < orig.length) expectUntouched(orig[idx], out[idx], parts, i + 1);
    return;
  }
  if (isDoc(orig)) {
    const out = res as Document;
    const keys = Object.keys(orig);
    expect(Object.keys(out)).toEqual(Object.hasOwn(orig, parts[i]!) ? keys : [...keys, parts[i]]);
    for (const k of keys) if (k !== parts[i]) expect(out[k]).toBe(orig[k]);
    if (Object.hasOwn(orig, parts[i]!)) expectUntouched(orig[parts[i]!], out[parts[i]!], parts, i + 1);
  }
}

function valueAt(doc: unknown, parts: readonly string[]): unknown {
  let cur = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isDoc(cur)) cur = Object.hasOwn(cur, p) ? cur[p] : undefined;
    else return undefined;
  }
  return cur;
}

describe('property: $set holds exactly the value set, every other path unchanged', () => {
  test('random documents, paths and values of every BSON type', () => {
    fc.assert(
      fc.property(topDoc, fc.array(fc.nat(1000), { minLength: 1, maxLength: 4 }), bsonValue, (raw, choices, rawValue) => {
        const doc = stored(raw);
        const value = stored({ v: rawValue }).v;
        const parts = pathFor(doc, choices);
        const before = bytes(doc);
        let expected: Document;
        try {
          expected = expectedSet(doc, parts, 0, value) as Document;
        } catch {
          expectMongoError(() => compileUpdate({ $set: { [parts.join('.')]: value } }).apply(doc), 28, /^Cannot create field/);
          return;
        }
        const r = compileUpdate({ $set: { [parts.join('.')]: value } }).apply(doc);
        expect(bytes(doc)).toEqual(before);
        expect(bytes(r.doc)).toEqual(bytes(expected));
        expect(bytes({ v: valueAt(r.doc, parts) })).toEqual(bytes({ v: value }));
        expectUntouched(doc, r.doc, parts, 0);
        const old = stored({ v: valueAt(doc, parts) });
        const wasSame = old.v !== undefined && Buffer.from(BSON.serialize(old)).equals(bytes({ v: value }));
        expect(r.modified).toBe(!wasSame);
        if (!r.modified) expect(r.doc).toBe(doc);
      }),
      { numRuns: 400 },
    );
  });
});
