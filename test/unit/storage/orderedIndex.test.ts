import { Decimal128, Double, Int32, Long, ObjectId, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canonicalKey, canonicalTypeOrder, compareValues } from '../../../src/bson/bsonOrder.js';
import { runFind } from '../../../src/query/find.js';
import { Collection } from '../../../src/storage/catalog.js';
import { OrderedIndex, type FieldPredicate } from '../../../src/storage/orderedIndex.js';

const int32 = (n: number) => new Int32(n);

describe('OrderedIndex', () => {
  test('equality finds every numeric type of the same value, in index order', () => {
    const index = new OrderedIndex('a', false);
    const docs = [{ a: int32(2) }, { a: new Double(1) }, { a: Long.fromNumber(1) }, { a: '1' }, { b: 1 }];
    docs.forEach((d, seq) => index.add(d, seq));
    expect(index.lookup({ kind: 'in', values: [1] }).documents).toEqual([docs[1], docs[2]]);
    expect(index.lookup({ kind: 'in', values: [2, 1] }).documents).toEqual([docs[1], docs[2], docs[0]]);
  });

  test('ranges stay inside one type bracket, bounds inclusive or not', () => {
    const index = new OrderedIndex('a', false);
    const docs = [1, 2, 3, 4, 'x', new Date(5), null].map((a) => ({ a }));
    docs.forEach((d, seq) => index.add(d, seq));
    const values = (p: Parameters<OrderedIndex['lookup']>[0]) => index.lookup(p).documents.map((d) => d.a);
    expect(values({ kind: 'range', low: { value: 2, inclusive: false } })).toEqual([3, 4]);
    expect(values({ kind: 'range', low: { value: 2, inclusive: true }, high: { value: 3, inclusive: true } })).toEqual([2, 3]);
    expect(values({ kind: 'range', high: { value: 3, inclusive: false } })).toEqual([1, 2]);
    expect(values({ kind: 'range', high: { value: 'z', inclusive: false } })).toEqual(['x']);
    expect(values({ kind: 'range', low: { value: 1, inclusive: true }, high: { value: 'z', inclusive: true } })).toEqual([]);
  });

  test('multikey: one entry per element, a document found once, and only one bound narrows', () => {
    const index = new OrderedIndex('a', false);
    const doc = { a: [1, 10, 10] };
    index.add(doc, 0);
    expect(index.multikey).toBe(true);
    expect(index.size).toBe(2);
    // {$gt: 5, $lt: 8} matches [1, 10]: 10 > 5 and 1 < 8.
    expect(index.lookup({ kind: 'range', low: { value: 5, inclusive: false }, high: { value: 8, inclusive: false } }).documents).toEqual([doc]);
    index.remove(doc, 0);
    expect(index.size).toBe(0);
  });

  test('dotted paths descend arrays of documents; sparse skips documents without the field', () => {
    const index = new OrderedIndex('a.b', true);
    const docs = [{ a: [{ b: 1 }, { b: 2 }] }, { a: { b: 2 } }, { a: 1 }, {}];
    docs.forEach((d, seq) => index.add(d, seq));
    expect(index.size).toBe(3);
    expect(index.lookup({ kind: 'in', values: [2] }).documents).toEqual([docs[0], docs[1]]);
  });
});

/** Filters whose answers must not depend on whether an index exists. */
const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.integer({ min: -3, max: 3 }).map((n) => new Double(n + 0.5)),
  fc.integer({ min: -3, max: 3 }).map(int32),
  fc.constantFrom('a', 'b', 'c'),
  fc.constantFrom(new Date(0), new Date(1000)),
  fc.boolean(),
);
const fieldValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.record({ x: scalar }, { noNullPrototype: true }), fc.constant(null));
const documentArb = fc.record({ a: fieldValue, n: fc.array(fc.record({ x: scalar }, { noNullPrototype: true }), { maxLength: 2 }) }, { requiredKeys: [], noNullPrototype: true });
const condition = fc.oneof(
  scalar,
  scalar.map(($eq) => ({ $eq })),
  fc.array(scalar, { maxLength: 3 }).map(($in) => ({ $in })),
  fc.record({ $gt: scalar, $lt: scalar }, { requiredKeys: [], noNullPrototype: true }),
  fc.record({ $gte: scalar, $lte: scalar }, { requiredKeys: [], noNullPrototype: true }),
  fc.record({ $gt: scalar, $ne: scalar }, { noNullPrototype: true }),
);
const filterArb = fc.oneof(
  condition.map((c) => ({ a: c })),
  condition.map((c) => ({ 'n.x': c })),
  fc.tuple(condition, condition).map(([c, d]) => ({ $and: [{ a: c }, { 'n.x': d }] })),
);

const ids = (docs: Document[]) => docs.map((d) => (d._id as ObjectId).toHexString()).sort();

test('property: a query through an index returns the same documents as a collection scan', () => {
  fc.assert(
    fc.property(fc.array(documentArb, { maxLength: 25 }), fc.array(filterArb, { minLength: 1, maxLength: 5 }), (raw, filters) => {
      const plain = new Collection('db', 'plain');
      const indexed = new Collection('db', 'indexed');
      indexed.addIndex({ name: 'a_1', key: { a: int32(1) }, unique: false, sparse: false });
      indexed.addIndex({ name: 'n.x_1', key: { 'n.x': int32(1) }, unique: false, sparse: true });
      for (const r of raw) {
        const doc = { _id: new ObjectId(), ...r };
        plain.add(doc);
        indexed.add(doc);
      }
      for (const filter of filters) {
        const expected = ids(runFind({ filter }, plain.plan(filter).documents));
        expect(ids(runFind({ filter }, indexed.plan(filter).documents))).toEqual(expected);
      }
    }),
    { numRuns: 400 },
  );
});

test('property: a sort given by an index walk returns what an in-memory sort returns, in the same order', () => {
  const sortArb = fc.record({ a: fc.constantFrom(1, -1) }, { noNullPrototype: true });
  fc.assert(
    fc.property(
      // No arrays under `a` (a multikey index gives no sort order) and no condition on `a` (that
      // would pick a lookup instead of a walk).
      fc.array(fc.record({ a: fc.oneof(scalar, fc.record({ x: scalar }, { noNullPrototype: true }), fc.constant(null)), n: fc.array(fc.record({ x: scalar }, { noNullPrototype: true }), { maxLength: 2 }) }, { requiredKeys: [], noNullPrototype: true }), { maxLength: 25 }),
      fc.oneof(fc.constant({}), condition.map((c) => ({ 'n.x': c }))),
      sortArb,
      fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      (raw, filter, sort, limit, skip) => {
        const plain = new Collection('db', 'plain');
        const indexed = new Collection('db', 'indexed');
        indexed.addIndex({ name: 'a_1', key: { a: int32(1) }, unique: false, sparse: false });
        for (const r of raw) {
          const doc = { _id: new ObjectId(), ...r };
          plain.add(doc);
          indexed.add(doc);
        }
        const inMemory = runFind({ filter, sort, limit, skip }, plain.plan(filter).documents);
        const plan = indexed.plan(filter, undefined, sort);
        expect(plan.kind).toBe('ordered');
        const walked = runFind({ filter, limit, skip }, plan.documents);
        // Equal sort keys may come in either order (mongod orders ties by the plan it runs), so
        // the keys must match one for one, and the documents as a set when nothing is cut off.
        const keys = (docs: Document[]) => docs.map((d) => canonicalKey(d.a ?? null));
        expect(keys(walked)).toEqual(keys(inMemory));
        if (limit === undefined && skip === undefined) expect(ids(walked)).toEqual(ids(inMemory));
      },
    ),
    { numRuns: 400 },
  );
});

test('property: queries on _id (equality, $in, ranges, sorts) through the _id index equal a scan of the documents', () => {
  const idArb = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'b', 'c'), fc.constantFrom(new Date(0), new Date(1000)), fc.constant(new ObjectId('000000000000000000000001')));
  fc.assert(
    fc.property(fc.uniqueArray(idArb, { selector: (v) => canonicalKey(v), maxLength: 12 }), condition, fc.constantFrom(1, -1), (ids, idCondition, direction) => {
      const docs = ids.map((_id, i) => ({ _id, i }));
      const collection = new Collection('db', 'ids');
      for (const doc of docs) collection.add(doc);
      const filter = { _id: idCondition };
      const expected = runFind({ filter, sort: { _id: direction } }, docs).map((d) => d.i);
      expect(runFind({ filter, sort: { _id: direction } }, collection.plan(filter).documents).map((d) => d.i)).toEqual(expected);
      const walk = collection.plan({}, undefined, { _id: direction });
      expect(walk.kind).toBe('ordered');
      expect(runFind({ filter }, walk.documents).map((d) => d.i)).toEqual(expected);
    }),
    { numRuns: 400 },
  );
});

/**
 * The index against a model that keeps every (value, document) key in a sorted list: what each
 * lookup returns and examines, the walks, and the key count, through adds, removes and
 * replacements (a document put back under its insertion number), with equal values of other
 * numeric types, NaN, -0, multikey arrays and missing fields.
 */
describe('OrderedIndex against a sorted list of its keys', () => {
  const value = fc.oneof(
    fc.integer({ min: -2, max: 2 }),
    fc.integer({ min: -2, max: 2 }).map(int32),
    fc.integer({ min: -2, max: 2 }).map((n) => Long.fromNumber(n)),
    fc.integer({ min: -2, max: 2 }).map((n) => Decimal128.fromString(`${n}.0`)),
    fc.constantFrom(new Double(0.5), new Double(NaN), new Double(-0), Decimal128.fromString('NaN'), Long.fromString('9007199254740993'), 9007199254740992),
    fc.constantFrom('a', 'b', ''),
    fc.constantFrom(new Date(0), new Date(1)),
    fc.constantFrom(new ObjectId('000000000000000000000001'), new ObjectId('000000000000000000000002')),
    fc.boolean(),
    fc.constant(null),
  );
  const field = fc.option(fc.oneof(value, fc.array(value, { maxLength: 3 })), { nil: undefined });
  const op = fc.oneof(
    field.map((a) => ({ kind: 'add' as const, a })),
    fc.nat().map((pick) => ({ kind: 'remove' as const, pick })),
    fc.tuple(fc.nat(), field).map(([pick, a]) => ({ kind: 'replace' as const, pick, a })),
  );
  const bound = fc.record({ value, inclusive: fc.boolean() }, { noNullPrototype: true });
  const predicate = fc.oneof(
    fc.array(value, { minLength: 1, maxLength: 3 }).map((values) => ({ kind: 'in' as const, values })),
    fc.oneof(
      fc.record({ low: bound, high: bound }, { noNullPrototype: true }),
      bound.map((low) => ({ low })),
      bound.map((high) => ({ high })),
    ).map((r) => ({ kind: 'range' as const, ...r })),
  );

  interface Key {
    value: unknown;
    seq: number;
    doc: Document;
  }

  /** The keys a document gives: each distinct element of an array, null for a missing field (or an empty array). */
  function keysOf(doc: Document, seq: number): Key[] {
    const held: unknown[] = doc.a === undefined ? [] : Array.isArray(doc.a) ? doc.a : [doc.a];
    const values = held.length === 0 ? [null] : held;
    const distinct = values.filter((v, i) => values.findIndex((w) => compareValues(v, w) === 0) === i);
    return distinct.map((v) => ({ value: v, seq, doc }));
  }

  const sorted = (keys: Key[]) => [...keys].sort((x, y) => compareValues(x.value, y.value) || x.seq - y.seq);
  const unique = (docs: Document[]) => docs.filter((d, i) => docs.indexOf(d) === i);

  function expectedLookup(keys: Key[], p: FieldPredicate, multikey: boolean): { documents: Document[]; keysExamined: number } {
    if (p.kind === 'in') {
      const hits = [...p.values].sort(compareValues).flatMap((v) => keys.filter((k) => compareValues(k.value, v) === 0));
      return { documents: unique(hits.map((k) => k.doc)), keysExamined: hits.length };
    }
    const high = multikey && p.low !== undefined ? undefined : p.high;
    const low = p.low;
    if (low === undefined && high === undefined) return { documents: [], keysExamined: 0 };
    const rank = canonicalTypeOrder((low ?? high)!.value);
    if (high !== undefined && canonicalTypeOrder(high.value) !== rank) return { documents: [], keysExamined: 0 };
    const hits = keys.filter((k) => {
      if (canonicalTypeOrder(k.value) !== rank) return false;
      const lo = low === undefined ? 1 : compareValues(k.value, low.value);
      const hi = high === undefined ? -1 : compareValues(k.value, high.value);
      return (lo > 0 || (lo === 0 && low!.inclusive)) && (hi < 0 || (hi === 0 && high!.inclusive));
    });
    return { documents: unique(hits.map((k) => k.doc)), keysExamined: hits.length };
  }

  test('property: lookups, walks and key counts', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.array(predicate, { minLength: 1, maxLength: 4 }), (ops, predicates) => {
        const index = new OrderedIndex('a', false);
        const stored: Array<{ doc: Document; seq: number }> = [];
        let nextSeq = 0;
        let multikey = false;
        for (const o of ops) {
          if (o.kind === 'add') {
            const doc = o.a === undefined ? {} : { a: o.a };
            const seq = nextSeq++;
            index.add(doc, seq);
            stored.push({ doc, seq });
          } else if (stored.length > 0) {
            const i = o.pick % stored.length;
            const { doc, seq } = stored[i]!;
            index.remove(doc, seq);
            stored.splice(i, 1);
            if (o.kind === 'replace') {
              const next = o.a === undefined ? {} : { a: o.a };
              index.add(next, seq);
              stored.push({ doc: next, seq });
              if (Array.isArray(o.a)) multikey = true;
            }
          }
          if (o.kind === 'add' && Array.isArray(o.a)) multikey = true;
        }
        const keys = sorted(stored.flatMap(({ doc, seq }) => keysOf(doc, seq)));
        expect(index.size).toBe(keys.length);
        expect(index.multikey).toBe(multikey);
        expect([...index.inOrder(false)]).toEqual(keys.map((k) => k.doc));
        expect([...index.inOrder(true)]).toEqual(keys.map((k) => k.doc).reverse());
        expect(index.all()).toEqual({ documents: unique(keys.map((k) => k.doc)), keysExamined: keys.length });
        for (const p of predicates) {
          const got = index.lookup(p);
          const want = expectedLookup(keys, p, index.multikey);
          expect(got.keysExamined).toBe(want.keysExamined);
          // The same document objects, in the same order.
          expect(got.documents.length).toBe(want.documents.length);
          got.documents.forEach((d, i) => expect(d).toBe(want.documents[i]));
        }
        // Built at once over the same documents, it holds the same keys.
        const built = new OrderedIndex('a', false);
        built.build(stored.map(({ doc, seq }) => [seq, doc] as const));
        expect(built.size).toBe(keys.length);
        expect([...built.inOrder(false)]).toEqual(keys.map((k) => k.doc));
      }),
      { numRuns: 1000 },
    );
  });
});
