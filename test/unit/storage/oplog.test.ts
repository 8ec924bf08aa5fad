// The oplog's cluster time, size limit and update diffs (src/storage/oplog.ts, oplogDiff.ts).
import { BSON, Timestamp, UUID, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ClusterClock, Oplog } from '../../../src/storage/oplog.js';
import { documentDiff } from '../../../src/storage/oplogDiff.js';

/** Applies a $v: 2 diff as doc_diff's applier does: deletes, updates in place, inserts at the end, sub-diffs. */
function applyDiff(doc: Document, diff: Document): Document {
  const out: Document = {};
  const deleted = (diff.d ?? {}) as Document;
  const updated = (diff.u ?? {}) as Document;
  for (const [key, value] of Object.entries(doc)) {
    if (key in deleted) continue;
    if (key in updated) out[key] = updated[key];
    else if (`s${key}` in diff) out[key] = applySub(value, diff[`s${key}`] as Document);
    else out[key] = value;
  }
  for (const [key, value] of Object.entries((diff.i ?? {}) as Document)) out[key] = value;
  return out;
}

function applySub(value: unknown, diff: Document): unknown {
  if (diff.a !== true) return applyDiff(value as Document, diff);
  const array = [...(value as unknown[])];
  if (typeof diff.l === 'number') array.length = diff.l;
  for (const [key, element] of Object.entries(diff)) {
    if (key === 'a' || key === 'l') continue;
    const index = Number(key.slice(1));
    array[index] = key[0] === 'u' ? element : applySub(array[index], element as Document);
  }
  return array;
}

const bytes = (doc: Document): string => Buffer.from(BSON.serialize(doc)).toString('hex');

describe('update diffs', () => {
  test('a field set, one removed, one added, a nested change: d, u, i and s<field>', () => {
    const old = { _id: 1, a: 1, b: { c: 1, d: 2 }, arr: [1, 2, 3], gone: true };
    const next = { _id: 1, a: 2, b: { c: 1, d: 3 }, arr: [1, 5], added: 'x' };
    const diff = documentDiff(old, next);
    expect(diff).toEqual({ d: { gone: false }, u: { a: 2 }, i: { added: 'x' }, sb: { u: { d: 3 } }, sarr: { a: true, l: 2, u1: 5 } });
    expect(bytes(applyDiff(old, diff))).toBe(bytes(next));
  });

  test('property: applying the diff to the old document gives the new one byte for byte (field order, types)', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null)),
      doc: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), tie('any'), { maxKeys: 4 }),
      arr: fc.array(tie('any'), { maxLength: 4 }),
      any: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('doc'), tie('arr')),
    }));
    const doc = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), value.any, { maxKeys: 6 });
    fc.assert(
      fc.property(doc, doc, (old, next) => {
        const before = { _id: 1, ...old };
        const after = { _id: 1, ...next };
        expect(bytes(applyDiff(before, documentDiff(before, after)))).toBe(bytes(after));
      }),
      { numRuns: 500 },
    );
  });
});

describe('the oplog', () => {
  test('timestamps only grow, within a second by the increment; a later gossiped time moves the clock', () => {
    let now = 5_000;
    const clock = new ClusterClock(() => now);
    const first = clock.tick();
    const second = clock.tick();
    expect([first.t, first.i, second.t, second.i]).toEqual([5, 1, 5, 2]);
    now = 7_000;
    expect(clock.tick()).toEqual(new Timestamp({ t: 7, i: 1 }));
    clock.advanceTo(new Timestamp({ t: 9, i: 4 }), 60);
    expect(clock.tick()).toEqual(new Timestamp({ t: 9, i: 5 }));
    expect(() => clock.advanceTo(new Timestamp({ t: 1000, i: 1 }), 60)).toThrow(/too far from this node's wall clock time/);
  });

  test('past its size the oldest entries go, the newest always stays, and the size counts what is kept', () => {
    let now = 1_000;
    const clock = new ClusterClock(() => now);
    const oplog = new Oplog(clock, () => now, 2_000);
    const ui = new UUID();
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      now += 1;
      oplog.insert('db.c', ui, { _id: i, pad: 'x'.repeat(i % 7) });
      const entries = [...oplog.documents()];
      sizes.push(entries.length);
      expect(oplog.dataSize).toBe(entries.reduce((sum, e) => sum + BSON.calculateObjectSize(e), 0));
      expect(oplog.dataSize <= 2_000 || entries.length === 1).toBe(true);
      expect((entries.at(-1)!.o as Document)._id).toBe(i);
    }
    expect(Math.max(...sizes)).toBeLessThan(200);
    expect(oplog.truncatedThrough).toBeDefined();
    expect(oplog.oldest!.ts.compare(oplog.truncatedThrough!)).toBeGreaterThan(0);
    expect(oplog.appended).toBe(200);
  });
});
