import { Double } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { setField, withFields } from '../../../src/bson/fields.js';

describe('withFields', () => {
  test('the document\'s fields in order, then the new ones; a field already there keeps its place and takes the new value', () => {
    const doc = { n: 1, cursor: { id: 0 } };
    const out = withFields(doc, { ok: new Double(1), n: 2 });
    expect(Object.keys(out)).toEqual(['n', 'cursor', 'ok']);
    expect(out.n).toBe(2);
    expect(out.cursor).toBe(doc.cursor);
    expect(doc).toEqual({ n: 1, cursor: { id: 0 } });
  });

  test('a field named __proto__ stays a field (the prototype is untouched)', () => {
    const doc: Record<string, unknown> = {};
    setField(doc, '__proto__', { evil: true });
    const out = withFields(doc, { ok: 1 });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'ok']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ evil: true });
  });

  test('gives what object spread gives, for any plain documents', () => {
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', '0', '12', 'ok'));
    const document = fc.array(fc.tuple(key, fc.integer()), { maxLength: 6 }).map((pairs) => {
      const doc: Record<string, unknown> = {};
      for (const [k, v] of pairs) setField(doc, k, v);
      return doc;
    });
    fc.assert(
      fc.property(document, document, (doc, extra) => {
        const out = withFields(doc, extra);
        const spread = { ...doc, ...extra };
        expect(Reflect.ownKeys(out)).toEqual(Reflect.ownKeys(spread));
        for (const k of Reflect.ownKeys(spread)) expect(Object.getOwnPropertyDescriptor(out, k)).toEqual(Object.getOwnPropertyDescriptor(spread, k));
        expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      }),
    );
  });
});
