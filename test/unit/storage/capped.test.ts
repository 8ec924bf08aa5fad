import { BSON, Int32, Long, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MongoError } from '../../../src/errors.js';
import { CappedScan, cappedCollectionOptions, cappedMaxDocs, cappedSize, cappedStorageStats } from '../../../src/storage/capped.js';
import { Catalog, Collection } from '../../../src/storage/catalog.js';

/** A document of exactly `bytes` BSON bytes (at least 22). */
function sized(id: number, bytes: number): Document {
  const doc = { _id: new Int32(id), s: '' };
  doc.s = 'x'.repeat(bytes - BSON.calculateObjectSize(doc));
  return doc;
}

const ids = (c: Collection) => [...c.documents()].map((d) => (d._id as Int32).value);

function thrown(fn: () => unknown): MongoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MongoError);
    return err as MongoError;
  }
  throw new Error('expected an error');
}

describe('limits (collection_options.cpp)', () => {
  test('the size is rounded up to a multiple of 256 bytes, with no 4096 floor', () => {
    expect([1, 255, 256, 257, 1000, 4096, 4097].map(cappedSize)).toEqual([256, 256, 256, 512, 1024, 4096, 4352]);
    expect(cappedSize(1024 ** 5)).toBe(1024 ** 5);
  });

  test('a max of 0 or less stands for 2^31 - 1 documents', () => {
    expect([0, -3, 1, 10].map(cappedMaxDocs)).toEqual([0x7fffffff, 0x7fffffff, 1, 10]);
  });

  test('listCollections options and storage stats, numbers as appendNumber makes them', () => {
    expect(cappedCollectionOptions({ size: 4096, max: 0 })).toEqual({ capped: true, size: new Int32(4096) });
    expect(cappedCollectionOptions({ size: 1024 ** 4, max: 5 })).toEqual({ capped: true, size: Long.fromNumber(1024 ** 4), max: new Int32(5) });
    expect(cappedStorageStats(undefined, 1)).toEqual({ capped: false });
    expect(cappedStorageStats({ size: 4096, max: 0 }, 1000)).toEqual({ capped: true, max: new Int32(0), maxSize: new Int32(4) });
  });
});

describe('deletion of the oldest documents (cappedDeleteUntilBelowConfiguredMaximum)', () => {
  test('an insert past the size deletes the oldest until the data fits, and keeps natural order', () => {
    const c = new Collection('db', 'c', { size: 512, max: 0 });
    for (let i = 0; i < 5; i++) c.add(sized(i, 100));
    expect(ids(c)).toEqual([0, 1, 2, 3, 4]);
    c.add(sized(5, 100));
    expect(ids(c)).toEqual([1, 2, 3, 4, 5]);
    c.add(sized(6, 250));
    expect(ids(c)).toEqual([4, 5, 6]);
    expect(c.capped!.dataSize).toBe(450);
  });

  test('max counts documents; the size still applies', () => {
    const c = new Collection('db', 'c', { size: 1024, max: 3 });
    for (let i = 0; i < 6; i++) c.add(sized(i, 50));
    expect(ids(c)).toEqual([3, 4, 5]);
    c.add(sized(6, 1000));
    expect(ids(c)).toEqual([6]);
  });

  test('a document larger than the size is kept, alone (7.0 never deletes what it just inserted)', () => {
    const c = new Collection('db', 'c', { size: 256, max: 0 });
    c.add(sized(1, 100));
    c.add(sized(2, 1000));
    expect(ids(c)).toEqual([2]);
    c.add(sized(3, 30));
    expect(ids(c)).toEqual([3]);
  });

  test('deleted documents leave the indexes too', () => {
    const c = new Collection('db', 'c', { size: 256, max: 2 });
    c.addIndex({ name: 'k_1', key: { k: new Int32(1) }, unique: false, sparse: false });
    for (let i = 0; i < 4; i++) c.add({ _id: new Int32(i), k: new Int32(i % 2) });
    expect(ids(c)).toEqual([2, 3]);
    expect(c.findById(new Int32(0))).toBeUndefined();
    const plan = c.plan({ k: new Int32(0) });
    expect(plan.kind).toBe('index');
    expect([...plan.documents].map((d) => (d._id as Int32).value)).toEqual([2]);
  });

  test('a unique index is checked before the oldest go: a clash with a document about to go is DuplicateKey', () => {
    const c = new Collection('db', 'c', { size: 256, max: 1 });
    c.addIndex({ name: 'k_1', key: { k: new Int32(1) }, unique: true, sparse: false });
    c.add({ _id: new Int32(0), k: new Int32(7) });
    expect(thrown(() => c.add({ _id: new Int32(1), k: new Int32(7) })).code).toBe(11000);
    expect(ids(c)).toEqual([0]);
  });

  test('deletes and size-changing updates are allowed; the limits apply at the next insert', () => {
    const c = new Collection('db', 'c', { size: 512, max: 0 });
    for (let i = 0; i < 4; i++) c.add(sized(i, 100));
    expect(c.remove(c.findById(new Int32(1))!)).toBe(true);
    expect(ids(c)).toEqual([0, 2, 3]);
    c.replace(c.findById(new Int32(2))!, sized(2, 400));
    expect(c.capped!.dataSize).toBe(600);
    expect(ids(c)).toEqual([0, 2, 3]);
    c.add(sized(4, 30));
    expect(ids(c)).toEqual([3, 4]);
  });

  test('a TTL index is refused (CannotCreateIndex)', () => {
    const c = new Collection('db', 'c', { size: 4096, max: 0 });
    const err = thrown(() => c.addIndex({ name: 't_1', key: { t: new Int32(1) }, unique: false, sparse: false, expireAfterSeconds: 60 }));
    expect([err.code, err.message]).toEqual([67, 'Cannot create TTL index on a capped collection']);
  });

  test('renaming keeps a collection capped', () => {
    const catalog = new Catalog();
    catalog.create('db', 'a', { capped: { size: 256, max: 2 } }).add(sized(1, 50));
    catalog.rename('db', 'a', 'db', 'b');
    const b = catalog.get('db', 'b')!;
    expect(b.capped?.options).toEqual({ size: 256, max: 2 });
    b.add(sized(2, 50));
    b.add(sized(3, 50));
    expect(ids(b)).toEqual([2, 3]);
  });

  test('matches a model of mongod: after each insert the oldest go while a limit is passed', () => {
    const op = fc.oneof(fc.record({ insert: fc.integer({ min: 22, max: 400 }) }), fc.record({ remove: fc.nat() }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }).map((n) => n * 256), fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 60 }), (size, max, ops) => {
        const c = new Collection('db', 'c', { size, max });
        const model: Array<{ id: number; bytes: number }> = [];
        ops.forEach((o, id) => {
          if ('insert' in o) {
            c.add(sized(id, o.insert));
            model.push({ id, bytes: o.insert });
            const total = () => model.reduce((n, d) => n + d.bytes, 0);
            const over = () => total() > size || (max !== 0 && model.length > max);
            while (over() && model[0]!.id !== id) model.shift();
          } else if (model.length > 0) {
            const victim = model.splice(o.remove % model.length, 1)[0]!;
            c.remove(c.findById(new Int32(victim.id))!);
          }
          expect(ids(c)).toEqual(model.map((d) => d.id));
          expect(c.capped!.dataSize).toBe(model.reduce((n, d) => n + d.bytes, 0));
        });
      }),
    );
  });
});

describe('scans that keep their position (collection_scan.cpp)', () => {
  test('a scan reads in natural order and goes on from where it was', () => {
    const c = new Collection('db', 'c', { size: 4096, max: 0 });
    for (let i = 0; i < 3; i++) c.add(sized(i, 40));
    const scan = new CappedScan(c.capped!, false);
    expect((scan.next().value as Document)._id).toEqual(new Int32(0));
    scan.restore();
    expect((scan.next().value as Document)._id).toEqual(new Int32(1));
    c.remove(c.findById(new Int32(2))!);
    expect(scan.next().done).toBe(true);
  });

  test('a getMore after the position was deleted is CappedPositionLost (record ids count from 1)', () => {
    const c = new Collection('db', 'c', { size: 4096, max: 3 });
    for (let i = 0; i < 3; i++) c.add(sized(i, 40));
    const scan = new CappedScan(c.capped!, false);
    scan.next();
    scan.next();
    scan.restore();
    for (let i = 3; i < 5; i++) c.add(sized(i, 40));
    const err = thrown(() => scan.restore());
    expect([err.code, err.codeName, err.message]).toEqual([
      136,
      'CappedPositionLost',
      'CollectionScan died due to position in capped collection being deleted. Last seen record id: RecordId(2)',
    ]);
  });

  test('a tailable scan at its end reads what arrives later, and dies when its last record goes', () => {
    const c = new Collection('db', 'c', { size: 4096, max: 2 });
    c.add(sized(0, 40));
    const scan = new CappedScan(c.capped!, true);
    expect(scan.next().done).toBe(false);
    expect(scan.next().done).toBe(true);
    scan.restore();
    expect(scan.next().done).toBe(true);
    c.add(sized(1, 40));
    expect((scan.next().value as Document)._id).toEqual(new Int32(1));
    expect(scan.next().done).toBe(true);
    c.add(sized(2, 40));
    c.add(sized(3, 40));
    scan.restore();
    const err = thrown(() => scan.next());
    expect([err.code, err.message]).toEqual([136, 'CollectionScan died due to failure to restore tailable cursor position. Last seen record id: RecordId(2)']);
  });

  test('the insert notifier wakes each waiter once, after the deletions; a cancelled wait is not woken', () => {
    const c = new Collection('db', 'c', { size: 4096, max: 1 });
    const seen: number[][] = [];
    c.capped!.onInsert(() => seen.push(ids(c)));
    const cancel = c.capped!.onInsert(() => seen.push([-1]));
    cancel();
    c.add(sized(0, 40));
    c.add(sized(1, 40));
    expect(seen).toEqual([[0]]);
  });
});
