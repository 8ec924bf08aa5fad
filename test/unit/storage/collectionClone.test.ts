/**
 * Copy-on-write clones of collections and of the catalog (Collection.clone, Catalog.clone,
 * Catalog.replaceWith): a clone holds what the original held when it was cloned, and from then on
 * each holds its own writes only, whichever side writes and however many clones of clones there
 * are — documents in natural order, `_id` lookups, index lookups, unique indexes, capped records.
 */
import { BSON, Int32, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ErrorCodes, MongoError } from '../../../src/errors.js';
import { runFind } from '../../../src/query/find.js';
import { CappedScan } from '../../../src/storage/capped.js';
import { Catalog, Collection, type CatalogChanges, type IndexSpec } from '../../../src/storage/catalog.js';

const A_INDEX: IndexSpec = { name: 'a_1', key: { a: new Int32(1) }, unique: false, sparse: false };
const U_INDEX: IndexSpec = { name: 'u_1', key: { u: new Int32(1) }, unique: true, sparse: false };
const SPECS: Record<string, IndexSpec> = { a_1: A_INDEX, u_1: U_INDEX };

/** The error `fn` throws, or undefined. */
function errorOf(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoError && err.code === ErrorCodes.DuplicateKey;
}

const idsOf = (docs: Iterable<Document>) => [...docs].map((d) => d._id as unknown);

describe('Collection.clone', () => {
  test('the clone has the same name, UUID, documents in natural order, RecordIds, indexes and options, and no sink', () => {
    const changes: string[] = [];
    const catalog = new Catalog(recordingSink(changes));
    const original = catalog.create('db', 'c');
    original.validation = { validator: { a: { $exists: true } }, validationLevel: 'moderate' };
    original.addIndex(A_INDEX);
    original.addIndex(U_INDEX);
    const docs = Array.from({ length: 100 }, (_, i) => ({ _id: i, a: i % 3, u: i }));
    for (const doc of docs) original.add(doc);
    // A replacement keeps its place in natural order.
    const replaced = { _id: 5, a: 7, u: 5 };
    original.replace(docs[5]!, replaced);
    docs[5] = replaced;
    original.collectionScans = 3;
    changes.length = 0;

    const copy = original.clone();
    expect([copy.db, copy.name, copy.ns, copy.uuid]).toEqual([original.db, original.name, original.ns, original.uuid]);
    expect(copy.changes).toBeUndefined();
    expect(copy.collectionScans).toBe(0);
    expect(copy.validation).toEqual(original.validation);
    expect(copy.indexes).toEqual(original.indexes);
    expect(copy.size).toBe(100);
    expect([...copy.documents()]).toEqual(docs);
    expect(copy.findById(5)).toBe(replaced);
    expect(copy.plan({ a: 7 })).toMatchObject({ kind: 'index', documents: [replaced] });
    // RecordIds go on from the original's: the next insert comes last in both.
    copy.add({ _id: 'new', a: 0, u: -1 });
    expect(idsOf(copy.documents()).at(-1)).toBe('new');
    expect(changes).toEqual([]);
  });

  test('writes on either side do not show in the other', () => {
    const original = new Collection('db', 'c');
    original.addIndex(A_INDEX);
    for (let i = 0; i < 10; i++) original.add({ _id: i, a: 1, u: i });
    const copy = original.clone();

    original.add({ _id: 'o', a: 1, u: 'o' });
    original.remove(original.findById(0)!);
    original.replace(original.findById(1)!, { _id: 1, a: 2, u: 1 });
    original.dropIndex('a_1');
    copy.add({ _id: 'c', a: 1, u: 'c' });
    copy.remove(copy.findById(9)!);
    copy.addIndex(U_INDEX);
    copy.validation = { validator: { a: 1 } };

    expect(idsOf(original.documents())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 'o']);
    expect(idsOf(copy.documents())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 'c']);
    expect(original.findById('c')).toBeUndefined();
    expect(copy.findById('o')).toBeUndefined();
    expect(copy.findById(1)).toEqual({ _id: 1, a: 1, u: 1 });
    expect(original.indexes.map((i) => i.name)).toEqual(['_id_']);
    expect(copy.indexes.map((i) => i.name)).toEqual(['_id_', 'a_1', 'u_1']);
    expect(original.validation).toEqual({});
    expect(idsOf(copy.plan({ a: 1 }).documents)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 'c']);
    // A document of one side is not the other's to remove.
    expect(copy.remove(original.findById(1)!)).toBe(false);
  });

  test('a unique index is enforced on each side on its own', () => {
    const original = new Collection('db', 'c');
    original.addIndex(U_INDEX);
    original.add({ _id: 1, u: 'x' });
    const copy = original.clone();
    original.add({ _id: 2, u: 'y' });
    copy.add({ _id: 3, u: 'y' });
    expect(isDuplicateKey(errorOf(() => original.add({ _id: 4, u: 'y' })))).toBe(true);
    expect(isDuplicateKey(errorOf(() => copy.add({ _id: 5, u: 'y' })))).toBe(true);
    // The same _id on both sides: each side's own _id_ index.
    copy.add({ _id: 2, u: 'z' });
    expect(isDuplicateKey(errorOf(() => copy.add({ _id: 2, u: 'w' })))).toBe(true);
    expect(original.findById(2)).toEqual({ _id: 2, u: 'y' });
    // A clone's unique values freed on one side stay taken on the other.
    copy.remove(copy.findById(1)!);
    copy.add({ _id: 6, u: 'x' });
    expect(isDuplicateKey(errorOf(() => original.add({ _id: 7, u: 'x' })))).toBe(true);
  });

  test('shared index keys with many documents (posting arrays and trees) change on one side only', () => {
    const original = new Collection('db', 'c');
    original.addIndex(A_INDEX);
    // 100 documents under a: 0 (a posting tree), 10 under a: 1 (an array).
    for (let i = 0; i < 110; i++) original.add({ _id: i, a: i < 100 ? 0 : 1 });
    const all = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    // Each side writes first once: the other side still holds the keys' postings then.
    const copy = original.clone();
    copy.add({ _id: 'c0', a: 0 });
    copy.add({ _id: 'c1', a: 1 });
    expect(idsOf(original.plan({ a: 0 }).documents)).toEqual(all(0, 100));
    expect(idsOf(original.plan({ a: 1 }).documents)).toEqual(all(100, 110));
    const second = copy.clone();
    for (let i = 0; i < 90; i++) copy.remove(copy.findById(i)!);
    copy.remove(copy.findById(105)!);
    expect(idsOf(second.plan({ a: 0 }).documents)).toEqual([...all(0, 100), 'c0']);
    expect(idsOf(second.plan({ a: 1 }).documents)).toEqual([...all(100, 110), 'c1']);
    expect(idsOf(copy.plan({ a: 0 }).documents)).toEqual([...all(90, 100), 'c0']);
    expect(idsOf(copy.plan({ a: 1 }).documents)).toEqual([100, 101, 102, 103, 104, 106, 107, 108, 109, 'c1']);
    expect(idsOf(original.plan({ a: 0 }).documents)).toEqual(all(0, 100));
    expect(idsOf(original.plan({ a: 1 }).documents)).toEqual(all(100, 110));
  });

  test('documents() reads the collection as it was when called', () => {
    const c = new Collection('db', 'c');
    for (let i = 0; i < 200; i++) c.add({ _id: i });
    const seen: unknown[] = [];
    for (const doc of c.documents()) {
      seen.push(doc._id);
      if (doc._id === 10) for (let i = 0; i < 100; i++) c.remove(c.findById(i)!);
      if (doc._id === 20) c.add({ _id: 'late' });
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(c.size).toBe(101);
  });
});

describe('capped collections', () => {
  /** A document of `bytes` BSON bytes. */
  const sized = (id: number, bytes: number): Document => {
    const doc = { _id: id, s: '' };
    doc.s = 'x'.repeat(bytes - BSON.calculateObjectSize(doc));
    return doc;
  };

  test('each side evicts its own oldest documents; waiters stay with the original', () => {
    const original = new Collection('db', 'c', { size: 1000, max: 3 });
    for (let i = 0; i < 3; i++) original.add(sized(i, 100));
    const scan = new CappedScan(original.capped!, false);
    expect((scan.next().value as Document)._id).toBe(0);
    let woken = 0;
    original.capped!.onInsert(() => (woken += 1));

    const copy = original.clone();
    expect(copy.capped!.options).toEqual(original.capped!.options);
    copy.add(sized(10, 100));
    copy.add(sized(11, 100));
    expect(woken).toBe(0);
    expect(idsOf(copy.documents())).toEqual([2, 10, 11]);
    expect(idsOf(original.documents())).toEqual([0, 1, 2]);
    // The original's scan goes on over the original.
    scan.restore();
    expect((scan.next().value as Document)._id).toBe(1);

    original.add(sized(20, 990));
    expect(woken).toBe(1);
    expect(idsOf(original.documents())).toEqual([20]);
    expect(original.capped!.dataSize).toBe(990);
    expect(copy.capped!.dataSize).toBe(300);
    expect(() => scan.restore()).toThrow(MongoError);
  });

  test('property: clones of a capped collection each keep the newest documents within the limits', () => {
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), list: fc.nat(), bytes: fc.integer({ min: 30, max: 200 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), list: fc.nat(), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('clone' as const), list: fc.nat() }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 120, size: 'max' }), (max, ops) => {
        const versions = [{ collection: new Collection('db', 'c', { size: 1024, max }), model: [] as Document[] }];
        let nextId = 0;
        for (const o of ops) {
          const version = versions[o.list % versions.length]!;
          if (o.kind === 'add') {
            const doc = sized(nextId++, o.bytes);
            version.collection.add(doc);
            version.model.push(doc);
            const bytes = () => version.model.reduce((n, d) => n + BSON.calculateObjectSize(d), 0);
            while (version.model.length > 1 && (version.model.length > max || bytes() > 1024)) version.model.shift();
          } else if (o.kind === 'remove') {
            if (version.model.length === 0) continue;
            const [doc] = version.model.splice(o.pick % version.model.length, 1);
            expect(version.collection.remove(doc!)).toBe(true);
          } else {
            versions.push({ collection: version.collection.clone(), model: [...version.model] });
          }
        }
        for (const { collection, model } of versions) {
          expect([...collection.documents()]).toEqual(model);
          const scanned: Document[] = [];
          for (const scan = new CappedScan(collection.capped!, false); ; ) {
            const next = scan.next();
            if (next.done === true) break;
            scanned.push(next.value);
          }
          expect(scanned).toEqual(model);
          expect(collection.capped!.count).toBe(model.length);
          expect(collection.capped!.dataSize).toBe(model.reduce((n, d) => n + BSON.calculateObjectSize(d), 0));
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** What a collection must hold: its documents in natural order and its secondary indexes. */
interface Model {
  docs: Document[];
  indexes: string[];
}

type Op =
  | { readonly kind: 'add'; readonly list: number; readonly id: number | string; readonly a: unknown; readonly u: number }
  | { readonly kind: 'replace'; readonly list: number; readonly pick: number; readonly a: unknown; readonly u: number }
  | { readonly kind: 'remove'; readonly list: number; readonly pick: number }
  | { readonly kind: 'addIndex' | 'dropIndex'; readonly list: number; readonly name: string }
  | { readonly kind: 'clone'; readonly list: number };

// Few values of `a`, so that keys gather enough documents for posting arrays and trees; arrays
// now and then (a multikey index).
const aArb = fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 0, max: 1 }) }, { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) });
const uArb = fc.nat({ max: 150 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('add' as const), list: fc.nat(), id: fc.oneof(fc.nat({ max: 200 }), fc.constantFrom('x', 'y')), a: aArb, u: uArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), list: fc.nat(), pick: fc.nat(), a: aArb, u: uArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), list: fc.nat(), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('addIndex' as const, 'dropIndex' as const), list: fc.nat(), name: fc.constantFrom('a_1', 'u_1') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clone' as const), list: fc.nat() }) },
);

const FILTERS: Document[] = [
  { a: 0 },
  { a: 1 },
  { a: 3 },
  { a: { $in: [0, 2] } },
  { a: { $gte: 1 } },
  { a: { $lt: 1 } },
  { u: 7 },
  { u: { $gt: 100 } },
  { _id: { $in: [1, 2, 'x'] } },
  { _id: { $gte: 100 } },
];

/** The collection holds exactly what the model says, through every way of reading it. */
function checkAgainst(collection: Collection, model: Model): void {
  expect(collection.size).toBe(model.docs.length);
  const docs = [...collection.documents()];
  expect(docs.length).toBe(model.docs.length);
  docs.forEach((doc, i) => expect(doc).toBe(model.docs[i]));
  for (const doc of model.docs) expect(collection.findById(doc._id)).toBe(doc);
  for (const id of [-1, 201, 'z']) expect(collection.findById(id)).toBeUndefined();
  expect(collection.indexes.map((i) => i.name)).toEqual(['_id_', ...model.indexes]);
  if (model.indexes.includes('a_1')) expect(collection.plan({ a: 1 }).kind).toBe('index');
  const sorted = (found: Document[]) => found.map((d) => JSON.stringify(d._id)).sort();
  for (const filter of FILTERS) {
    expect(sorted(runFind({ filter }, collection.plan(filter).documents))).toEqual(sorted(runFind({ filter }, model.docs)));
  }
}

test('property: interleaved writes on a collection and its clones (and theirs) each keep their own state', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 400, size: 'max' }), (ops) => {
      const versions: Array<{ collection: Collection; model: Model }> = [{ collection: new Collection('db', 'c'), model: { docs: [], indexes: [] } }];
      for (const op of ops) {
        const { collection, model } = versions[op.list % versions.length]!;
        const uniqueU = model.indexes.includes('u_1');
        switch (op.kind) {
          case 'add': {
            const doc = { _id: op.id, a: op.a, u: op.u };
            const clash = model.docs.some((d) => d._id === op.id || (uniqueU && d.u === op.u));
            const err = errorOf(() => collection.add(doc));
            expect(err === undefined ? false : isDuplicateKey(err) || err).toBe(clash);
            if (!clash) model.docs.push(doc);
            break;
          }
          case 'replace': {
            if (model.docs.length === 0) break;
            const i = op.pick % model.docs.length;
            const old = model.docs[i]!;
            const next = { _id: old._id, a: op.a, u: op.u };
            const clash = uniqueU && model.docs.some((d) => d !== old && d.u === op.u);
            const err = errorOf(() => collection.replace(old, next));
            expect(err === undefined ? false : isDuplicateKey(err) || err).toBe(clash);
            if (!clash) model.docs[i] = next;
            break;
          }
          case 'remove': {
            if (model.docs.length === 0) {
              expect(collection.remove({ _id: op.pick })).toBe(false);
              break;
            }
            const [doc] = model.docs.splice(op.pick % model.docs.length, 1);
            // An equal document that is not the stored one is not removed.
            expect(collection.remove({ ...doc })).toBe(false);
            expect(collection.remove(doc!)).toBe(true);
            break;
          }
          case 'addIndex': {
            if (model.indexes.includes(op.name)) break;
            const clash = op.name === 'u_1' && new Set(model.docs.map((d) => d.u)).size < model.docs.length;
            const err = errorOf(() => collection.addIndex(SPECS[op.name]!));
            expect(err === undefined ? false : isDuplicateKey(err) || err).toBe(clash);
            if (!clash) model.indexes.push(op.name);
            break;
          }
          case 'dropIndex': {
            const at = model.indexes.indexOf(op.name);
            expect(collection.dropIndex(op.name)).toBe(at >= 0);
            if (at >= 0) model.indexes.splice(at, 1);
            break;
          }
          case 'clone':
            versions.push({ collection: collection.clone(), model: { docs: [...model.docs], indexes: [...model.indexes] } });
            break;
        }
      }
      for (const { collection, model } of versions) checkAgainst(collection, model);
    }),
    { numRuns: 150 },
  );
});

/** A sink that records what it hears, one line per call. */
function recordingSink(heard: string[]): CatalogChanges {
  return {
    written: (collection, seq, doc) => void heard.push(`written ${collection.name} ${seq} ${JSON.stringify(doc._id)}`),
    removed: (collection, seq) => void heard.push(`removed ${collection.name} ${seq}`),
    described: (collection) => void heard.push(`described ${collection.name}`),
    dropped: (collection) => void heard.push(`dropped ${collection.name}`),
  };
}

describe('Catalog', () => {
  test('clone: every collection cloned, no sink, independent of the original', () => {
    const heard: string[] = [];
    const catalog = new Catalog(recordingSink(heard));
    catalog.create('a', 'one').add({ _id: 1 });
    catalog.create('b', 'two', { capped: { size: 4096, max: 2 } }).add({ _id: 2 });
    heard.length = 0;
    const copy = catalog.clone();
    expect(copy.databaseNames()).toEqual(['a', 'b']);
    expect(copy.get('a', 'one')).not.toBe(catalog.get('a', 'one'));
    expect(copy.get('a', 'one')!.uuid).toEqual(catalog.get('a', 'one')!.uuid);
    expect(copy.get('b', 'two')!.capped!.options).toEqual({ size: 4096, max: 2 });
    copy.get('a', 'one')!.add({ _id: 3 });
    copy.create('a', 'three');
    copy.drop('b', 'two');
    expect(heard).toEqual([]);
    expect(idsOf(catalog.get('a', 'one')!.documents())).toEqual([1]);
    expect(catalog.collections('a').map((c) => c.name)).toEqual(['one']);
    expect(catalog.get('b', 'two')).toBeDefined();
  });

  test('replaceWith: the same catalog object takes clones of the source, telling its sink of the change', () => {
    const heard: string[] = [];
    const live = new Catalog(recordingSink(heard));
    live.create('db', 'kept').add({ _id: 1 });
    const snapshot = live.clone();
    live.get('db', 'kept')!.add({ _id: 2 });
    const gone = live.create('db', 'gone');
    heard.length = 0;

    live.replaceWith(snapshot);
    expect(heard).toEqual(['dropped kept', 'dropped gone', 'described kept', 'written kept 0 1']);
    expect(gone.changes).toBeUndefined();
    expect(live.collections('db').map((c) => c.name)).toEqual(['kept']);
    const kept = live.get('db', 'kept')!;
    expect(idsOf(kept.documents())).toEqual([1]);
    expect(kept).not.toBe(snapshot.get('db', 'kept'));
    heard.length = 0;
    kept.add({ _id: 3 });
    expect(heard).toEqual(['written kept 1 3']);

    // The snapshot is untouched, so it restores again.
    expect(idsOf(snapshot.get('db', 'kept')!.documents())).toEqual([1]);
    live.replaceWith(snapshot);
    expect(idsOf(live.get('db', 'kept')!.documents())).toEqual([1]);
  });

  test('replaceWith without a sink, and from itself', () => {
    const catalog = new Catalog();
    catalog.create('db', 'c').add({ _id: 1 });
    const before = catalog.get('db', 'c')!;
    catalog.replaceWith(catalog);
    const after = catalog.get('db', 'c')!;
    expect(after).not.toBe(before);
    expect(after.changes).toBeUndefined();
    expect(idsOf(after.documents())).toEqual([1]);
    catalog.replaceWith(new Catalog());
    expect(catalog.databaseNames()).toEqual([]);
  });
});
