/**
 * The documents under one index key (src/storage/postings.ts) against a sorted list: through
 * adds and removes in any order, across the single, array and tree forms.
 */
import type { Document } from 'bson';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { addPosting, postingCount, postingDocs, postingsInOrder, removePosting, type Postings } from '../../../src/storage/postings.js';

test('property: adds and removes keep the documents in insertion-number order, each once', () => {
  const op = fc.oneof(fc.nat({ max: 120 }).map((seq) => ({ add: true, seq })), fc.nat({ max: 120 }).map((seq) => ({ add: false, seq })));
  fc.assert(
    fc.property(fc.nat({ max: 120 }), fc.array(op, { maxLength: 300 }), (first, ops) => {
      const docs = new Map<number, Document>();
      const docOf = (seq: number): Document => {
        let doc = docs.get(seq);
        if (doc === undefined) docs.set(seq, (doc = { seq }));
        return doc;
      };
      // The index that owns the postings: one owner throughout, so trees change in place.
      const owner = {};
      let held: Postings | null = { seq: first, doc: docOf(first) };
      const model = new Set([first]);
      for (const { add, seq } of ops) {
        if (add) {
          const next: Postings | undefined = held === null ? { seq, doc: docOf(seq) } : addPosting(held, { seq, doc: docOf(seq) }, owner);
          // undefined: the document was there already.
          expect(next === undefined).toBe(model.has(seq));
          if (next !== undefined) held = next;
          model.add(seq);
        } else if (held !== null) {
          const next = removePosting(held, seq, owner);
          expect(next === undefined).toBe(!model.has(seq));
          if (next !== undefined) held = next;
          model.delete(seq);
          expect(held === null).toBe(model.size === 0);
        }
        if (held === null) continue;
        const want = [...model].sort((a, b) => a - b).map(docOf);
        expect(postingCount(held)).toBe(want.length);
        expect(postingDocs(held)).toEqual(want);
        expect([...postingsInOrder(held, false)]).toEqual(want);
        expect([...postingsInOrder(held, true)]).toEqual([...want].reverse());
      }
    }),
    { numRuns: 300 },
  );
});
