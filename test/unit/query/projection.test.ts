import { BSON, DBRef, Decimal128, Double, EJSON, Int32, Long, type ObjectId, type Document } from 'bson';
import { describe, expect, test } from 'vitest';
import { MongoError } from '../../../src/errors.js';
import { compileFilter } from '../../../src/query/match/compile.js';
import { findProjection } from '../../../src/query/projection/findProjection.js';

const dec = (s: string): Decimal128 => Decimal128.fromString(s);

function stored(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), { promoteValues: false, bsonRegExp: true });
}

function project(projection: Document, doc: Document, filter?: Document): Document {
  return findProjection(projection, filter === undefined ? undefined : compileFilter(filter))(doc);
}

/** Relaxed EJSON: numbers of every type as JS numbers, for comparisons where the types are not the subject. */
function j(v: unknown): unknown {
  return EJSON.serialize(v as Document, { relaxed: true });
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

/** Field names at every level, to check order (toEqual ignores key order). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.entries(v as Document).map(([k, x]) => [k, shape(x)]);
  }
  return (EJSON.serialize({ v } as Document, { relaxed: true }) as Document).v;
}

const doc = stored({
  _id: 1,
  z: dec('1.10'),
  neg: dec('-0'),
  i: new Int32(7),
  l: Long.fromString('9007199254740993'),
  a: { y: 1, x: 2 },
  b: [{ c: 1, d: 2 }, 5, { c: 3 }, [{ c: 4, d: 5 }]],
});

describe('inclusion and exclusion', () => {
  test('inclusion returns fields in the stored document order, _id first, values untouched', () => {
    const out = project({ l: 1, z: 1, neg: 1, i: 1 }, doc);
    expect(Object.keys(out)).toEqual(['_id', 'z', 'neg', 'i', 'l']);
    expect(out.z).toBe(doc.z); // the same Decimal128: its digits ("1.10") kept
    expect((out.z as Decimal128).toString()).toBe('1.10');
    expect((out.neg as Decimal128).toString()).toBe('-0');
    expect(out.i).toBeInstanceOf(Int32);
    expect(out.l).toBe(doc.l);
  });

  test('_id is included unless excluded', () => {
    expect(Object.keys(project({ _id: 0, i: 1 }, doc))).toEqual(['i']);
    expect(Object.keys(project({ _id: 1 }, doc))).toEqual(['_id']);
    expect(Object.keys(project({ _id: 0 }, doc))).toEqual(['z', 'neg', 'i', 'l', 'a', 'b']);
    expect(Object.keys(project({ _id: 1, z: 0 }, doc))).toEqual(['_id', 'neg', 'i', 'l', 'a', 'b']);
  });

  test('an empty projection returns the whole document', () => {
    const out = project({}, doc);
    expect(shape(out)).toEqual(shape(doc));
    expect(out.b).toBe(doc.b);
  });

  test('nested paths: sub-documents keep their order, arrays are projected element by element', () => {
    expect(shape(project({ 'a.x': 1, 'a.y': 1 }, doc))).toEqual([
      ['_id', 1],
      ['a', [['y', 1], ['x', 2]]],
    ]);
    // inclusion drops the scalars of an array, recurses into nested arrays
    expect(j(project({ _id: 0, 'b.c': 1 }, doc))).toEqual(j({ b: [{ c: 1 }, { c: 3 }, [{ c: 4 }]] }));
    expect(j(project({ _id: 0, b: { c: 1 } }, doc))).toEqual(j({ b: [{ c: 1 }, { c: 3 }, [{ c: 4 }]] }));
    // exclusion keeps them
    expect(j(project({ _id: 0, z: 0, neg: 0, i: 0, l: 0, a: 0, 'b.c': 0 }, doc))).toEqual(j({ b: [{ d: 2 }, 5, {}, [{ d: 5 }]] }));
    expect(j(project({ 'a.q': 1 }, doc))).toEqual(j({ _id: 1, a: {} }));
    expect(j(project({ 'i.q': 1 }, doc))).toEqual(j({ _id: 1 }));
    expect(j(project({ 'i.q': 0, _id: 0, z: 0, neg: 0, l: 0, a: 0, b: 0 }, doc))).toEqual(j({ i: new Int32(7) }));
  });

  test('DBRefs are projected as documents', () => {
    const d = stored({ _id: 1, r: new DBRef('c', new Int32(5) as unknown as ObjectId) });
    expect(j(project({ 'r.$id': 1 }, d))).toEqual(j({ _id: 1, r: { $id: new Int32(5) } }));
  });
});

describe('computed fields', () => {
  test('field paths, literals and $literal; placed after the included fields', () => {
    const out = project({ x: '$a.x', i: 1, s: 'text', n: null, lit: { $literal: 1 }, arr: [1, '$z', '$nope'] }, doc);
    expect(Object.keys(out)).toEqual(['_id', 'i', 'x', 's', 'n', 'lit', 'arr']);
    expect(out.x).toBe(doc.a.x);
    expect(j(out.x)).toBe(2);
    expect(out.s).toBe('text');
    expect(out.n).toBe(null);
    expect(out.lit).toBe(1);
    expect(out.arr).toEqual([1, doc.z, null]);
    expect((out.arr as unknown[])[1]).toBe(doc.z);
  });

  test('a missing result leaves the field out; field paths map over arrays of documents', () => {
    expect(j(project({ _id: 0, x: '$nope', y: '$b.c' }, doc))).toEqual(j({ y: [1, 3] }));
  });

  test('a computed field with the name of a document field comes after the included ones', () => {
    expect(Object.keys(project({ a: '$i', z: 1 }, doc))).toEqual(['_id', 'z', 'a']);
  });

  test('dotted computed fields build documents (scalars in arrays become documents)', () => {
    const d = { _id: 1, a: [{ c: 1 }, 5], k: 'v' };
    expect(j(project({ _id: 0, 'a.b': '$k' }, d))).toEqual(j({ a: [{ b: 'v' }, { b: 'v' }] }));
    expect(j(project({ _id: 0, 'q.r': '$k' }, d))).toEqual(j({ q: { r: 'v' } }));
    expect(j(project({ _id: 0, 'a.c': 1, 'a.b': '$k' }, d))).toEqual(j({ a: [{ c: 1, b: 'v' }, { b: 'v' }] }));
  });

  test('$expr comparisons are evaluated; other expressions are refused with 115', () => {
    expect(j(project({ _id: 0, big: { $gt: ['$l', new Double(2 ** 53)] } }, doc))).toEqual(j({ big: true }));
    expect(errorOf(() => findProjection({ x: { $add: [1, 2] } }))).toEqual({ code: 115, message: 'pocketmongo does not support $add in a find projection yet' });
    expect(errorOf(() => findProjection({ x: { $meta: 'textScore' } })).code).toBe(115);
    expect(errorOf(() => findProjection({ x: { $foo: 1 } }))).toEqual({ code: 31325, message: 'Unknown expression $foo' });
  });
});

describe('positional $', () => {
  const grades = stored({ _id: 1, name: 'n', grades: [{ s: 70 }, { s: 90 }, { s: 95 }], other: [1, 2] });
  test('projects the element the filter matched, in place', () => {
    expect(j(project({ 'grades.$': 1 }, grades, { 'grades.s': { $gt: 80 } }))).toEqual(j({ _id: 1, grades: [{ s: 90 }] }));
    expect(Object.keys(project({ name: 1, 'grades.$': 1 }, grades, { 'grades.s': { $gte: 95 } }))).toEqual(['_id', 'name', 'grades']);
    expect(j(project({ 'other.$': 1 }, grades, { other: 2 }))).toEqual(j({ _id: 1, other: [2] }));
    // the array of the projected path may differ from the filter's array: mongod uses the position anyway
    expect(j(project({ 'other.$': 1 }, grades, { 'grades.s': 90 }))).toEqual(j({ _id: 1, other: [2] }));
  });

  test('indexes into the projected array, whose dropped scalars keep their places', () => {
    const d = { _id: 1, a: [1, { b: 2 }] };
    expect(j(project({ 'a.b.$': 1 }, d, { 'a.b': 2 }))).toEqual(j({ _id: 1, a: [{ b: 2 }] }));
  });

  test('no array on the path leaves the document as projected', () => {
    expect(j(project({ 'name.$': 1 }, grades, { name: 'n' }))).toEqual(j({ _id: 1, name: 'n' }));
  });

  test('errors', () => {
    expect(errorOf(() => project({ 'grades.$': 1 }, grades, { name: 'n' }))).toEqual({
      code: 51246,
      message: "positional operator '.$' couldn't find a matching element in the array",
    });
    expect(errorOf(() => project({ 'other.$': 1 }, grades, { 'grades.s': 95 }))).toEqual({ code: 51247, message: "positional operator '.$' element mismatch" });
    expect(errorOf(() => findProjection({ 'a.$': 1 }))).toEqual({ code: 51050, message: 'Projections with a positional operator require a matcher' });
    const f = compileFilter({ a: 1 });
    expect(errorOf(() => findProjection({ 'a.$': 1, 'b.$': 1 }, f))).toEqual({ code: 31276, message: 'Cannot specify more than one positional projection per query.' });
    expect(errorOf(() => findProjection({ 'a.$': 0 }, f))).toEqual({ code: 31395, message: 'positional projection cannot be used with exclusion' });
    expect(errorOf(() => findProjection({ 'a.$': 'x' }, f))).toEqual({ code: 31308, message: 'positional projection cannot be used with a literal' });
    expect(errorOf(() => findProjection({ 'a.$': { b: 1 } }, f))).toEqual({ code: 31271, message: 'positional projection cannot be used with an expression or sub object' });
    expect(errorOf(() => findProjection({ 'a.$.b': 1 }, f)).code).toBe(31394);
    expect(errorOf(() => findProjection({ '.$': 1 }, f))).toEqual({ code: 5392900, message: 'Projection on field .$ is invalid' });
    expect(errorOf(() => findProjection({ b: 0, 'a.$': 1 }, f))).toEqual({ code: 31253, message: 'Cannot do inclusion on field a.$ in exclusion projection' });
    expect(errorOf(() => findProjection({ 'a.$': 1 }, compileFilter({ $expr: { $eq: ['$a', 1] } })))).toEqual({
      code: 224,
      message: '$expr is not allowed in this context',
    });
  });
});

describe('$elemMatch', () => {
  const d = stored({ _id: 1, games: [{ g: 'a', s: 8 }, { g: 'b', s: 5 }, { g: 'c', s: 9 }], joined: 1, last: 2 });
  test('the first matching element, after the other fields; left out when none matches', () => {
    const out = project({ games: { $elemMatch: { s: { $gt: 5 } } }, joined: 1, last: 1 }, d);
    expect(shape(out)).toEqual(shape({ _id: 1, joined: 1, last: 2, games: [{ g: 'a', s: 8 }] }));
    expect(j(project({ games: { $elemMatch: { s: { $gt: 50 } } } }, d))).toEqual(j({ _id: 1 }));
    expect(j(project({ _id: 0, games: { $elemMatch: { g: 'c' } } }, d))).toEqual(j({ games: [{ g: 'c', s: 9 }] }));
  });
  test('with an exclusion, the field keeps its place', () => {
    expect(Object.keys(project({ joined: 0, games: { $elemMatch: { g: 'c' } } }, d))).toEqual(['_id', 'games', 'last']);
  });
  test('errors', () => {
    expect(errorOf(() => findProjection({ 'a.b': { $elemMatch: { x: 1 } } }))).toEqual({ code: 31275, message: 'Cannot use $elemMatch projection on a nested field.' });
    expect(errorOf(() => findProjection({ a: { $elemMatch: 1 } }))).toEqual({ code: 31274, message: 'elemMatch: Invalid argument, object required, but got int' });
    const f = compileFilter({ a: 1 });
    expect(errorOf(() => findProjection({ 'a.$': 1, b: { $elemMatch: { x: 1 } } }, f))).toEqual({ code: 31255, message: 'Cannot specify positional operator and $elemMatch.' });
    expect(errorOf(() => findProjection({ b: { $elemMatch: { x: 1 } }, 'a.$': 1 }, f))).toEqual({ code: 31256, message: 'Cannot specify positional operator and $elemMatch.' });
  });
});

describe('$slice', () => {
  const d = stored({ _id: 1, a: [1, 2, 3, 4, 5], b: 'x', n: { arr: [1, 2, 3] }, m: [{ arr: [1, 2] }, 7, { arr: [3, 4] }] });
  test('numbers and [skip, limit]', () => {
    expect(j(project({ a: { $slice: 2 } }, d).a)).toEqual(j([1, 2]));
    expect(j(project({ a: { $slice: -2 } }, d).a)).toEqual(j([4, 5]));
    expect(j(project({ a: { $slice: [1, 2] } }, d).a)).toEqual(j([2, 3]));
    expect(j(project({ a: { $slice: [-2, 1] } }, d).a)).toEqual(j([4]));
    expect(j(project({ a: { $slice: [10, 1] } }, d).a)).toEqual(j([]));
    expect(j(project({ a: { $slice: [-10, 2] } }, d).a)).toEqual(j([1, 2]));
  });
  test('alone it is an exclusion projection; with an inclusion (or _id: 1) an inclusion', () => {
    expect(Object.keys(project({ a: { $slice: 1 } }, d))).toEqual(['_id', 'a', 'b', 'n', 'm']);
    expect(Object.keys(project({ _id: 0, a: { $slice: 1 } }, d))).toEqual(['a', 'b', 'n', 'm']);
    expect(j(project({ a: { $slice: 1 }, b: 1 }, d))).toEqual(j({ _id: 1, a: [1], b: 'x' }));
    expect(j(project({ _id: 1, a: { $slice: 1 } }, d))).toEqual(j({ _id: 1, a: [1] }));
  });
  test('through documents and arrays of documents; other values untouched', () => {
    expect(j(project({ _id: 0, 'n.arr': { $slice: 1 }, b: 1 }, d))).toEqual(j({ b: 'x', n: { arr: [1] } }));
    expect(j(project({ 'm.arr': { $slice: -1 } }, d).m)).toEqual(j([{ arr: [2] }, 7, { arr: [4] }]));
    expect(project({ b: { $slice: 1 } }, d).b).toBe('x');
  });
  test('the aggregation form is refused; find-form errors', () => {
    expect(errorOf(() => findProjection({ a: { $slice: ['$a', 1] } })).code).toBe(115);
    expect(errorOf(() => findProjection({ a: { $slice: 'x' } })).code).toBe(115);
  });
});

describe('projection errors (projection_parser.cpp)', () => {
  test('inclusion/exclusion mixing, collisions, expressions in exclusions', () => {
    expect(errorOf(() => findProjection({ a: 1, b: 0 }))).toEqual({ code: 31254, message: 'Cannot do exclusion on field b in inclusion projection' });
    expect(errorOf(() => findProjection({ a: 0, b: 1 }))).toEqual({ code: 31253, message: 'Cannot do inclusion on field b in exclusion projection' });
    expect(errorOf(() => findProjection({ a: 1, 'a.b': 1 }))).toEqual({ code: 31249, message: 'Path collision at a.b remaining portion b' });
    expect(errorOf(() => findProjection({ 'a.b': 1, a: 1 }))).toEqual({ code: 31250, message: 'Path collision at a' });
    expect(errorOf(() => findProjection({ a: 0, b: { $eq: [1, 1] } }))).toEqual({ code: 31252, message: 'Cannot use expression other than $meta in exclusion projection' });
    expect(errorOf(() => findProjection({ a: 0, b: 'x' }))).toEqual({ code: 31310, message: 'Cannot use an expression b: "x" in an exclusion projection' });
    expect(errorOf(() => findProjection({ a: {} }))).toEqual({ code: 51270, message: 'An empty sub-projection is not a valid value. Found empty object at path' });
  });
  test('field paths', () => {
    expect(errorOf(() => findProjection({ '': 1 })).code).toBe(40352);
    expect(errorOf(() => findProjection({ 'a.': 1 })).code).toBe(40353);
    expect(errorOf(() => findProjection({ 'a..b': 1 })).code).toBe(15998);
    expect(errorOf(() => findProjection({ $a: 1 })).code).toBe(16410);
  });
});
