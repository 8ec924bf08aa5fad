import { BSON, BSONRegExp, Binary, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { describe, expect, test } from 'vitest';
import { duplicateFieldIn } from '../../../src/wire/bson.js';

/** The document's bytes with the inner field name `from` renamed to `to` (same length). */
function renamed(doc: object, from: string, to: string): Uint8Array {
  const bytes = Buffer.from(BSON.serialize(doc));
  const at = bytes.indexOf(Buffer.from(`${from}\0`));
  bytes.write(to, at);
  return bytes;
}

describe('duplicateFieldIn', () => {
  test('finds a name repeated in the sub-document, past elements of every type', () => {
    const before = {
      d: new Double(1.5), s: 'str', o: { x: 1 }, a: [1, 2], b: new Binary(Buffer.from([1, 2, 3])), id: new ObjectId(), t: true, dt: new Date(0), n: null,
      re: new BSONRegExp('a.c', 'i'), js: new Code('f()'), i: new Int32(1), ts: new Timestamp({ t: 1, i: 2 }), l: Long.fromNumber(3), dec: Decimal128.fromString('1.10'),
      mn: new MinKey(), mx: new MaxKey(),
    };
    const bytes = renamed({ find: 'c', ...before, lsid: { id: new UUID(), iX: new UUID() }, $db: 'x' }, 'iX', 'id');
    expect(duplicateFieldIn(bytes, 'lsid')).toBe('id');
  });

  test('nothing repeated, no such field, or a field that is not a document: undefined', () => {
    expect(duplicateFieldIn(BSON.serialize({ find: 'c', lsid: { id: new UUID(), uid: new Binary(Buffer.alloc(32)) } }), 'lsid')).toBeUndefined();
    expect(duplicateFieldIn(BSON.serialize({ find: 'c' }), 'lsid')).toBeUndefined();
    expect(duplicateFieldIn(BSON.serialize({ lsid: 'x' }), 'lsid')).toBeUndefined();
    // A repeat outside the sub-document is not its business.
    expect(duplicateFieldIn(renamed({ aa: 1, aX: 2, lsid: { id: 1 } }, 'aX', 'aa'), 'lsid')).toBeUndefined();
  });
});
