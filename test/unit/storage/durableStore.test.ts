// The durable store under the catalog (issue 13): what a catalog did is what a new catalog loads
// from the store, for random sequences of writes, and every collection option and index spec
// comes back as it was.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BSON, Decimal128, Double, Int32, Long, type Document } from 'bson';
import { afterAll, describe, expect, test } from 'vitest';
import { Catalog, type IndexSpec } from '../../../src/storage/catalog.js';
import { DurableStore } from '../../../src/storage/durable/durableStore.js';

const root = mkdtempSync(join(tmpdir(), 'pocketmongo-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let stores = 0;

/** A fresh store and a catalog writing to it. */
function fresh(): { path: string; store: DurableStore; catalog: Catalog } {
  const path = join(root, `store${stores++}.mdb`);
  const store = DurableStore.open(path);
  return { path, store, catalog: new Catalog(store) };
}

/** Syncs and closes `store`, then loads what is on disk into a new catalog. */
async function reopen(path: string, store: DurableStore): Promise<Catalog> {
  await store.close();
  const again = DurableStore.open(path);
  const catalog = new Catalog(again);
  again.load(catalog);
  await again.close();
  return catalog;
}

const bytes = (doc: Document) => Buffer.from(BSON.serialize(doc));

describe('DurableStore', () => {
  test('collection options, validation and every index option come back as they were', async () => {
    const { path, store, catalog } = fresh();
    const capped = catalog.create('db', 'capped', { capped: { size: 4096, max: 3 } });
    capped.validation = { validator: { n: { $gte: new Int32(0) } }, validationLevel: 'moderate', validationAction: 'warn' };
    const specs: IndexSpec[] = [
      { name: 'a_1', key: { a: new Int32(1) }, unique: true, sparse: false, collation: { locale: 'fr', strength: new Int32(2) } },
      { name: 'ttl', key: { at: new Double(1) }, unique: false, sparse: true, expireAfterSeconds: 3600.5, hidden: true },
      { name: 'partial', key: { p: new Int32(-1) }, unique: false, sparse: false, partialFilterExpression: { p: { $gt: Long.fromNumber(5) } } },
      { name: 'text', key: { _fts: 'text', _ftsx: new Int32(1) }, unique: false, sparse: false, options: { weights: { t: new Int32(2) }, default_language: 'english' } },
    ];
    const plain = catalog.create('db', 'plain');
    for (const spec of specs) plain.addIndex(spec);
    const loaded = await reopen(path, store);
    const [cappedAgain, plainAgain] = [loaded.get('db', 'capped')!, loaded.get('db', 'plain')!];
    expect(cappedAgain.uuid.toHexString()).toBe(capped.uuid.toHexString());
    expect(cappedAgain.capped?.options).toEqual({ size: 4096, max: 3 });
    expect(cappedAgain.validation).toEqual(capped.validation);
    expect(plainAgain.indexes).toEqual(plain.indexes);
  });

  test('random inserts, replacements, removals, drops and renames: the reloaded catalog is the same', async () => {
    const value = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }).map((n) => new Int32(n)),
      fc.double({ noNaN: true }).map((n) => new Double(n)),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
      fc.constantFrom('1.10', '-0', '1E-6176', '9.999999999999999999999999999999999E+6144').map((s) => Decimal128.fromString(s)),
      fc.string({ maxLength: 20 }),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), coll: fc.constantFrom('a', 'b'), id: fc.integer({ min: 0, max: 15 }), v: value }),
      fc.record({ kind: fc.constant('replace' as const), coll: fc.constantFrom('a', 'b'), id: fc.integer({ min: 0, max: 15 }), v: value }),
      fc.record({ kind: fc.constant('remove' as const), coll: fc.constantFrom('a', 'b'), id: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ kind: fc.constant('drop' as const), coll: fc.constantFrom('a', 'b') }),
      fc.record({ kind: fc.constant('rename' as const), coll: fc.constantFrom('a', 'b') }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const { path, store, catalog } = fresh();
        for (const [i, o] of ops.entries()) {
          const collection = catalog.ensure('db', o.coll);
          const current = collection.findById(new Int32('id' in o ? o.id : 0));
          if (o.kind === 'insert' && current === undefined) collection.add({ _id: new Int32(o.id), v: o.v });
          if (o.kind === 'replace' && current !== undefined) collection.replace(current, { _id: new Int32(o.id), v: o.v, replaced: true });
          if (o.kind === 'remove' && current !== undefined) collection.remove(current);
          if (o.kind === 'drop') catalog.drop('db', o.coll);
          if (o.kind === 'rename') {
            const other = o.coll === 'a' ? 'b' : 'a';
            catalog.drop('db', other);
            catalog.rename('db', o.coll, 'db', other);
          }
          // Commits of every size: some changes share one, some do not.
          if (i % 7 === 0) await store.sync();
        }
        const loaded = await reopen(path, store);
        const shape = (c: Catalog) => c.collections('db').map((x) => ({ name: x.name, uuid: x.uuid.toHexString(), docs: [...x.documents()].map(bytes) }));
        expect(shape(loaded)).toEqual(shape(catalog));
      }),
      { numRuns: 40 },
    );
  });
});
