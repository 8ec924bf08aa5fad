import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId } from 'bson';
import { expect, test } from 'vitest';
import { runPipeline } from '../../../src/query/mingo.js';
import { runFind } from '../../../src/query/find.js';
import { naturalDirection, sortDocuments, sortFields } from '../../../src/query/sort.js';

const by = (spec: Record<string, number>) => sortFields(spec)!;

test('types sort in mongod canonical order: MinKey, null/missing, numbers, strings, objects, arrays, binary, ObjectId, bool, date, MaxKey', () => {
  const docs = [
    { v: new MaxKey() },
    { v: new Date(0) },
    { v: true },
    { v: new ObjectId('000000000000000000000001') },
    { v: new Binary(Buffer.from([1])) },
    { v: { x: 1 } },
    { v: 'a' },
    { v: new Int32(1) },
    {},
    { v: new MinKey() },
  ];
  const sorted = sortDocuments(docs, by({ v: 1 }));
  expect(sorted).toEqual([...docs].reverse());
});

test('numbers compare by value across int32, long, double and decimal', () => {
  const docs = [{ v: Long.fromNumber(10) }, { v: new Decimal128('2.5') }, { v: new Double(3) }, { v: new Int32(9) }, { v: Long.fromString('9007199254740993') }];
  expect(sortDocuments(docs, by({ v: 1 })).map((d) => d.v.toString())).toEqual(['2.5', '3', '9', '10', '9007199254740993']);
});

test('an array sorts by its smallest element ascending and its largest descending; ties keep their order', () => {
  const a = { _id: 1, v: [5, 1] };
  const b = { _id: 2, v: 3 };
  const c = { _id: 3, v: [2, 9] };
  const d = { _id: 4, v: 3 };
  expect(sortDocuments([a, b, c, d], by({ v: 1 })).map((x) => x._id)).toEqual([1, 3, 2, 4]);
  expect(sortDocuments([a, b, c, d], by({ v: -1 })).map((x) => x._id)).toEqual([3, 1, 2, 4]);
});

test('dotted paths reach into arrays of documents; several fields break ties in turn', () => {
  const docs = [
    { _id: 1, a: [{ b: 4 }, { b: 2 }], c: 1 },
    { _id: 2, a: { b: 2 }, c: 0 },
    { _id: 3, a: { b: 1 }, c: 5 },
  ];
  expect(sortDocuments(docs, by({ 'a.b': 1, c: 1 })).map((x) => x._id)).toEqual([3, 2, 1]);
});

test('a collation orders strings by locale; a non-direction sort value is not ours', () => {
  const docs = [{ s: 'b' }, { s: 'B' }, { s: 'a' }];
  expect(sortDocuments(docs, by({ s: 1 })).map((d) => d.s)).toEqual(['B', 'a', 'b']);
  expect(sortDocuments(docs, by({ s: 1 }), { locale: 'en' }).map((d) => d.s)).toEqual(['a', 'b', 'B']);
  expect(sortFields({ score: { $meta: 'textScore' } } as never)).toBeUndefined();
});

test('{$natural: -1} reverses the stored order; {$natural: 1} keeps it', () => {
  const docs = [{ _id: 1 }, { _id: 3 }, { _id: 2 }];
  expect(runFind({ sort: { $natural: -1 } }, docs).map((d) => d._id)).toEqual([2, 3, 1]);
  expect(runFind({ sort: { $natural: 1 }, skip: 1 }, docs).map((d) => d._id)).toEqual([3, 2]);
  expect(naturalDirection({ a: 1 })).toBeUndefined();
});

test('aggregate $sort follows the same BSON order', () => {
  const docs = [{ _id: 1, v: 'x' }, { _id: 2, v: Long.fromString('9007199254740993') }, { _id: 3, v: 5 }, { _id: 4, v: new ObjectId() }, { _id: 5, v: new Decimal128('1.00000000000000000001') }];
  expect(runPipeline([{ $sort: { v: 1 } }], docs).map((d) => d._id)).toEqual([5, 3, 2, 1, 4]);
  expect(runPipeline([{ $sort: { v: -1 } }, { $limit: 2 }], docs).map((d) => d._id)).toEqual([4, 1]);
});
