import { Binary, Double, Int32, UUID } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodeDocument } from '../../../src/bson/codec.js';
import { BinaryTemplate } from '../../../src/bson/template.js';

const MARKER = Buffer.alloc(16, 0xab);

describe('BinaryTemplate', () => {
  test('a filled copy is byte for byte what bson makes of the document with that value', () => {
    const template = new BinaryTemplate({ id: { id: new UUID(MARKER) }, timeoutMinutes: new Int32(30), ok: new Double(1) }, MARKER);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const value = Buffer.from(bytes);
        expect(template.fill(value).equals(encodeDocument({ id: { id: new UUID(value) }, timeoutMinutes: new Int32(30), ok: new Double(1) }))).toBe(true);
      }),
    );
  });

  test('copies are independent of each other and of the template', () => {
    const template = new BinaryTemplate({ b: new Binary(MARKER, 0) }, MARKER);
    const first = template.fill(Buffer.alloc(16, 1));
    const second = template.fill(Buffer.alloc(16, 2));
    expect(first.equals(encodeDocument({ b: new Binary(Buffer.alloc(16, 1), 0) }))).toBe(true);
    expect(second.equals(encodeDocument({ b: new Binary(Buffer.alloc(16, 2), 0) }))).toBe(true);
  });

  test('a marker that is not in the document exactly once, or a value of another length, is refused', () => {
    expect(() => new BinaryTemplate({ a: new Binary(Buffer.alloc(16, 1), 0) }, MARKER)).toThrow(RangeError);
    expect(() => new BinaryTemplate({ a: new Binary(MARKER, 0), b: new Binary(MARKER, 0) }, MARKER)).toThrow(RangeError);
    expect(() => new BinaryTemplate({ a: new Binary(MARKER, 0) }, MARKER).fill(Buffer.alloc(15))).toThrow(RangeError);
  });
});
