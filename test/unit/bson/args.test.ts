import { Binary, BSON, BSONRegExp, BSONSymbol, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { describe, expect, test } from 'vitest';
import { isPlainObject } from '../../../src/bson/args.js';
import { typeName } from '../../../src/bson/typeName.js';

/** A value of every BSON type, and some objects no decoder makes. */
const SAMPLES: Record<string, unknown> = {
  double: new Double(1.5),
  int: new Int32(1),
  long: Long.fromNumber(2),
  decimal: Decimal128.fromString('1.10'),
  timestamp: new Timestamp({ t: 1, i: 2 }),
  objectId: new ObjectId(),
  binData: new Binary(Buffer.from([1, 2])),
  uuid: new UUID(),
  date: new Date(0),
  regex: new BSONRegExp('a', 'i'),
  jsRegex: /a/,
  code: new Code('x'),
  codeWithScope: new Code('x', { y: 1 }),
  symbol: new BSONSymbol('s'),
  minKey: new MinKey(),
  maxKey: new MaxKey(),
  array: [1, { a: 1 }],
  document: { a: { b: 1 } },
  empty: {},
  string: 's',
  number: 1,
  bool: true,
  null: null,
  bigint: 1n,
};

describe('isPlainObject', () => {
  test('is exactly typeName(value) === "object", for values as built and as bson decodes them', () => {
    const decoded = BSON.deserialize(BSON.serialize(SAMPLES), { promoteValues: false, promoteBuffers: false, bsonRegExp: true });
    const nullPrototype = Object.create(null) as Record<string, unknown>;
    nullPrototype.a = 1;
    const others = [nullPrototype, new Map(), Buffer.from([1]), new (class Thing {})(), undefined];
    for (const value of [...Object.values(SAMPLES), ...Object.values(decoded), ...others]) {
      expect(isPlainObject(value), typeName(value)).toBe(typeName(value) === 'object');
    }
    expect(isPlainObject(decoded.document)).toBe(true);
    expect(isPlainObject(decoded.code)).toBe(false);
  });
});
