// Change events from oplog entries (pipeline/changeStreamEvents.ts): the updateDescription a
// `$v: 2` diff parses into (change_stream_document_diff_parser.cpp), which namespaces each kind of
// stream sees, invalidation, and a transaction's applyOps unwound into one event per operation.
import { Int32, Long, Timestamp, UUID, type Document } from 'bson';
import { describe, expect, test } from 'vitest';
import { eventsOf, updateDescriptionOf, type StreamScope } from '../../../src/pipeline/changeStreamEvents.js';
import { documentDiff } from '../../../src/storage/oplogDiff.js';

const ts = new Timestamp({ t: 1700000000, i: 3 });
const wall = new Date(1700000000000);
const ui = new UUID('bffdb617-400e-4860-9900-7c0e0048b305');

function entry(fields: Document): Document {
  return { ...fields, ts, t: Long.fromNumber(1), v: Long.fromNumber(2), wall };
}

const insert = (ns: string, id: unknown) => entry({ op: 'i', ns, ui, o: { _id: id }, o2: { _id: id } });

describe('updateDescription from a diff', () => {
  test('updates and inserts are updatedFields, deletes removedFields, sub-diffs dotted paths', () => {
    expect(updateDescriptionOf({ d: { gone: false }, u: { a: 1 }, i: { added: 'x' }, sb: { u: { c: 2 }, sdeep: { i: { z: true } } } })).toEqual({
      updatedFields: { a: 1, added: 'x', 'b.c': 2, 'b.deep.z': true },
      removedFields: ['gone'],
      truncatedArrays: [],
    });
  });

  test("the reader's order: updates, inserts, deletes, then sub-diffs, whatever the diff's own order", () => {
    const description = updateDescriptionOf({ sx: { u: { y: 1 } }, i: { b: 2 }, d: { c: false }, u: { a: 1 } });
    expect(Object.keys(description.updatedFields)).toEqual(['a', 'b', 'x.y']);
    expect(Object.keys(description)).toEqual(['updatedFields', 'removedFields', 'truncatedArrays']);
  });

  test('arrays: a new length is a truncation, u<i> an element, s<i> a change inside one', () => {
    expect(updateDescriptionOf({ sarr: { a: true, l: 2, u1: 'new', s0: { u: { k: 9 } } } })).toEqual({
      updatedFields: { 'arr.1': 'new', 'arr.0.k': 9 },
      removedFields: [],
      truncatedArrays: [{ field: 'arr', newSize: new Int32(2) }],
    });
    expect(updateDescriptionOf({ so: { sin: { a: true, u3: 4, s1: { a: true, u0: 'x' } } } }).updatedFields).toEqual({ 'o.in.3': 4, 'o.in.1.0': 'x' });
  });

  test('diffs the oplog writes for real updates', () => {
    const old = { _id: 1, a: 1, b: { c: 1, d: 1 }, arr: [1, 2, 3, 4], gone: true };
    const next = { _id: 1, a: 2, b: { c: 1, d: 5 }, arr: [1, 7], added: [1] };
    expect(updateDescriptionOf(documentDiff(old, next))).toEqual({
      updatedFields: { a: 2, added: [1], 'b.d': 5, 'arr.1': 7 },
      removedFields: ['gone'],
      truncatedArrays: [{ field: 'arr', newSize: new Int32(2) }],
    });
  });
});

describe('events of an entry', () => {
  const collection: StreamScope = { kind: 'collection', db: 'd', coll: 'c' };
  const database: StreamScope = { kind: 'database', db: 'd' };
  const cluster: StreamScope = { kind: 'cluster' };
  const types = (entryDoc: Document, scope: StreamScope) => eventsOf(entryDoc, scope).map((e) => e.doc.operationType as string);

  test('each stream sees its namespaces: no system.* or $ collections, a cluster stream no admin, config or local', () => {
    expect(types(insert('d.c', 1), collection)).toEqual(['insert']);
    expect(types(insert('d.other', 1), collection)).toEqual([]);
    expect(types(insert('d.other', 1), database)).toEqual(['insert']);
    expect(types(insert('e.c', 1), database)).toEqual([]);
    expect(types(insert('d.system.js', 1), database)).toEqual([]);
    expect(types(insert('e.c', 1), cluster)).toEqual(['insert']);
    for (const ns of ['admin.c', 'config.c', 'local.c', 'e.system.views']) expect(types(insert(ns, 1), cluster)).toEqual([]);
    expect(types(entry({ op: 'n', ns: '', o: { msg: 'periodic noop' } }), cluster)).toEqual([]);
    // create and the other expanded events are not classic events.
    expect(types(entry({ op: 'c', ns: 'd.$cmd', ui, o: { create: 'c' } }), collection)).toEqual([]);
  });

  test('update vs replace follows the entry: a diff is an update, a whole document a replace', () => {
    const update = eventsOf(entry({ op: 'u', ns: 'd.c', ui, o: { $v: 2, diff: { u: { a: 1 } } }, o2: { _id: 1 } }), collection)[0]!;
    expect(Object.keys(update.doc)).toEqual(['_id', 'operationType', 'clusterTime', 'wallTime', 'ns', 'documentKey', 'updateDescription']);
    expect(update.doc).toMatchObject({ operationType: 'update', clusterTime: ts, wallTime: wall, documentKey: { _id: 1 } });
    const replace = eventsOf(entry({ op: 'u', ns: 'd.c', ui, o: { _id: 1, x: 1 }, o2: { _id: 1 } }), collection)[0]!;
    expect(replace.doc).toMatchObject({ operationType: 'replace', fullDocument: { _id: 1, x: 1 } });
    expect(() => eventsOf(entry({ op: 'u', ns: 'd.c', ui, o: { $set: { a: 1 } }, o2: { _id: 1 } }), collection)).toThrow(/Expected _id field, or \$v field missing/);
  });

  test('drop and rename invalidate a collection stream; dropDatabase a database stream; nothing a cluster stream', () => {
    const drop = entry({ op: 'c', ns: 'd.$cmd', ui, o: { drop: 'c' }, o2: { numRecords: Long.fromNumber(0) } });
    expect(types(drop, collection)).toEqual(['drop', 'invalidate']);
    expect(types(drop, database)).toEqual(['drop']);
    expect(types(drop, cluster)).toEqual(['drop']);
    const [dropEvent, invalidate] = eventsOf(drop, collection);
    expect(invalidate!.token > dropEvent!.token).toBe(true);
    expect(invalidate!.token.slice(0, 30)).toBe(dropEvent!.token.slice(0, 30));
    expect(invalidate!.invalidate).toBe(true);
    const rename = entry({ op: 'c', ns: 'd.$cmd', ui, o: { renameCollection: 'd.c', to: 'd.c2', stayTemp: false, dropTarget: false } });
    expect(types(rename, collection)).toEqual(['rename', 'invalidate']);
    expect(types(rename, { kind: 'collection', db: 'd', coll: 'c2' })).toEqual(['rename', 'invalidate']);
    expect(types(rename, database)).toEqual(['rename']);
    expect(eventsOf(rename, database)[0]!.doc).toMatchObject({ to: { db: 'd', coll: 'c2' }, ns: { db: 'd', coll: 'c' } });
    const dropDatabase = entry({ op: 'c', ns: 'd.$cmd', o: { dropDatabase: new Int32(1) } });
    expect(types(dropDatabase, database)).toEqual(['dropDatabase', 'invalidate']);
    expect(types(dropDatabase, cluster)).toEqual(['dropDatabase']);
    expect(eventsOf(dropDatabase, cluster)[0]!.doc.ns).toEqual({ db: 'd' });
  });

  test("a transaction's applyOps: one event per watched operation at the commit's time, txnNumber and lsid first, tokens by txnOpIndex", () => {
    const lsid = { id: new UUID(), uid: new Uint8Array(32) };
    const txn = entry({
      lsid,
      txnNumber: Long.fromNumber(4),
      op: 'c',
      ns: 'admin.$cmd',
      o: {
        applyOps: [
          { op: 'i', ns: 'd.c', ui, o: { _id: 1 }, o2: { _id: 1 } },
          { op: 'i', ns: 'd.unwatched', ui, o: { _id: 2 }, o2: { _id: 2 } },
          { op: 'd', ns: 'd.c', ui, o: { _id: 1 } },
        ],
      },
      prevOpTime: { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) },
    });
    const events = eventsOf(txn, collection);
    expect(events.map((e) => e.doc.operationType)).toEqual(['insert', 'delete']);
    expect(Object.keys(events[0]!.doc)).toEqual(['txnNumber', 'lsid', '_id', 'operationType', 'clusterTime', 'wallTime', 'fullDocument', 'ns', 'documentKey']);
    expect(events.every((e) => e.doc.clusterTime === ts && e.doc.txnNumber.equals(4))).toBe(true);
    expect(events[1]!.token > events[0]!.token).toBe(true);
    // txnOpIndex counts the unwatched operation too: the delete is operation 2.
    expect(events[1]!.token.slice(18, 30)).toBe('2B042C01002B');
  });
});
