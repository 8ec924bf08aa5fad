/**
 * A collection's records in natural order (src/storage/records.ts) against a sorted map: through
 * inserts (in RecordId order and out of it), replacements, removals and clones interleaved, every
 * list keeps what it held when it was made plus its own writes, in order; a scan shows the list
 * as it was when the scan began.
 */
import type { Document } from 'bson';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Records } from '../../../src/storage/records.js';

type Op =
  | { readonly kind: 'append' | 'insert'; readonly list: number; readonly seq: number }
  | { readonly kind: 'replace' | 'delete'; readonly list: number; readonly pick: number }
  | { readonly kind: 'clone'; readonly list: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), list: fc.nat(), seq: fc.constant(0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), list: fc.nat(), seq: fc.nat({ max: 400 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replace' as const), list: fc.nat(), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), list: fc.nat(), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clone' as const), list: fc.nat() }) },
);

/** One list and what it must hold: RecordId → document, and the next RecordId for an append. */
interface Version {
  readonly records: Records;
  readonly model: Map<number, Document>;
  nextSeq: number;
}

const inOrder = (model: Map<number, Document>) => [...model].sort(([a], [b]) => a - b);

function check(version: Version): void {
  const want = inOrder(version.model);
  expect(version.records.size).toBe(want.length);
  expect([...version.records.values()]).toEqual(want.map(([, doc]) => doc));
  expect([...version.records.entries()]).toEqual(want);
}

test('property: clones and the original keep their own records, in RecordId order', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 400, size: 'max' }), (ops) => {
      const versions: Version[] = [{ records: new Records(), model: new Map(), nextSeq: 0 }];
      let made = 0;
      for (const op of ops) {
        const version = versions[op.list % versions.length]!;
        const held = inOrder(version.model);
        switch (op.kind) {
          case 'append':
          case 'insert': {
            const seq = op.kind === 'append' ? version.nextSeq : op.seq;
            const doc = { made: made++ };
            version.records.set(seq, doc);
            version.model.set(seq, doc);
            version.nextSeq = Math.max(version.nextSeq, seq + 1);
            break;
          }
          case 'replace': {
            if (held.length === 0) break;
            const [seq] = held[op.pick % held.length]!;
            const doc = { made: made++ };
            version.records.set(seq, doc);
            version.model.set(seq, doc);
            break;
          }
          case 'delete': {
            const seq = held.length === 0 ? op.pick : held[op.pick % held.length]![0];
            expect(version.records.delete(seq)).toBe(version.model.delete(seq));
            break;
          }
          case 'clone':
            versions.push({ records: version.records.clone(), model: new Map(version.model), nextSeq: version.nextSeq });
            break;
        }
      }
      versions.forEach(check);
    }),
    { numRuns: 300 },
  );
});

test('a scan reads the records as they were when it began, whatever is written meanwhile', () => {
  const records = new Records();
  const docs = Array.from({ length: 300 }, (_, i) => ({ i }));
  docs.forEach((doc, seq) => records.set(seq, doc));
  const scan = records.values();
  const seen: Document[] = [];
  for (let step = 0; step < 300; step++) {
    const next = scan.next();
    expect(next.done).toBe(false);
    seen.push(next.value as Document);
    // Every kind of write, all over the list: none shows in the scan.
    records.set(300 + step, { i: 300 + step });
    records.set((step * 7) % 300, { replaced: step });
    records.delete((step * 13 + 5) % 300);
  }
  expect(scan.next().done).toBe(true);
  expect(seen).toEqual(docs);
});

test('removals merge small chunks, and emptied ones go', () => {
  const records = new Records();
  for (let seq = 0; seq < 1000; seq++) records.set(seq, { seq });
  for (let seq = 0; seq < 1000; seq++) if (seq % 50 !== 0) records.delete(seq);
  expect([...records.entries()].map(([seq]) => seq)).toEqual(Array.from({ length: 20 }, (_, i) => i * 50));
  for (let seq = 0; seq < 1000; seq += 50) expect(records.delete(seq)).toBe(true);
  expect(records.size).toBe(0);
  expect([...records.values()]).toEqual([]);
  expect(records.delete(0)).toBe(false);
});
