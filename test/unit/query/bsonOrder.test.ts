import {
  Binary,
  BSON,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  canonicalKey,
  canonicalTypeOrder,
  compareDocuments,
  compareValues,
  valuesEqual,
} from '../../../src/bson/bsonOrder.js';

const dec = (s: string): Decimal128 => Decimal128.fromString(s);
const long = (s: string | bigint): Long => Long.fromBigInt(BigInt(s));
const oid = (hex: string): ObjectId => new ObjectId(hex);
const bin = (bytes: number[], subtype = 0): Binary => new Binary(new Uint8Array(bytes), subtype);
const ts = (t: number, i: number): Timestamp => new Timestamp({ t, i });

/** Asserts a < b, and the antisymmetric and canonicalKey counterparts. */
function expectLess(a: unknown, b: unknown): void {
  expect(compareValues(a, b), `${String(a)} < ${String(b)}`).toBe(-1);
  expect(compareValues(b, a), `${String(b)} > ${String(a)}`).toBe(1);
  expect(canonicalKey(a)).not.toBe(canonicalKey(b));
}

function expectEqual(a: unknown, b: unknown): void {
  expect(compareValues(a, b), `${String(a)} == ${String(b)}`).toBe(0);
  expect(compareValues(b, a)).toBe(0);
  expect(valuesEqual(a, b)).toBe(true);
  expect(canonicalKey(a)).toBe(canonicalKey(b));
}

describe('canonical type order', () => {
  // one value of each type, lowest to highest (mongod canonicalizeBSONType)
  const ordered: Array<[string, unknown, number]> = [
    ['minKey', new MinKey(), -1],
    ['undefined', undefined, 0],
    ['null', null, 5],
    ['number', new Int32(7), 10],
    ['string', 'abc', 15],
    ['object', { a: 1 }, 20],
    ['array', [1], 25],
    ['binData', bin([1, 2]), 30],
    ['objectId', oid('0123456789abcdef01234567'), 35],
    ['bool', false, 40],
    ['date', new Date(0), 45],
    ['timestamp', ts(1, 1), 47],
    ['regex', new BSONRegExp('a', 'i'), 50],
    ['javascript', new Code('f()'), 60],
    ['javascriptWithScope', new Code('f()', { x: 1 }), 65],
    ['maxKey', new MaxKey(), 127],
  ];

  test('ranks are mongod canonical types', () => {
    for (const [name, value, rank] of ordered) expect(canonicalTypeOrder(value), name).toBe(rank);
  });

  test('sorting one value of each type gives the documented order', () => {
    const shuffled = [...ordered].reverse();
    shuffled.push(shuffled.shift()!);
    const sorted = shuffled.sort((x, y) => compareValues(x[1], y[1])).map((x) => x[0]);
    expect(sorted).toEqual(ordered.map((x) => x[0]));
  });

  test('extreme values of a lower type sort below any value of a higher type', () => {
    expectLess(new MinKey(), undefined);
    expectLess(undefined, null);
    expectLess(null, dec('-Infinity'));
    expectLess(dec('NaN'), '');
    expectLess(Infinity, '');
    expectLess('\u{10FFFF}'.repeat(3), {});
    expectLess({ z: new MaxKey() }, []);
    expectLess([new MaxKey()], bin([]));
    expectLess(bin(new Array<number>(100).fill(255), 255), oid('000000000000000000000000'));
    expectLess(oid('ffffffffffffffffffffffff'), false);
    expectLess(true, new Date(-8.64e15));
    expectLess(new Date(8.64e15), ts(0, 0));
    expectLess(ts(0xffffffff, 0xffffffff), new BSONRegExp('', ''));
    expectLess(new BSONRegExp('\u{10FFFF}', 'imsux'), new Code(''));
    expectLess(new Code('\u{10FFFF}'), new Code('', {}));
    expectLess(new Code('zzz', { a: new MaxKey() }), new MaxKey());
  });

  test('every number type has the number rank; symbol sorts with string', () => {
    for (const v of [1, 1.5, new Int32(1), new Double(1), long('1'), 1n, dec('1')]) expect(canonicalTypeOrder(v)).toBe(10);
    expect(canonicalTypeOrder(new BSONSymbol('s'))).toBe(15);
    expect(canonicalTypeOrder(/a/)).toBe(50);
    expect(canonicalTypeOrder(new UUID())).toBe(30);
    expect(canonicalTypeOrder(new Uint8Array([1]))).toBe(30);
    expect(canonicalTypeOrder(new DBRef('c', oid('0123456789abcdef01234567')))).toBe(20);
  });

  test('values that are not BSON throw', () => {
    expect(() => compareValues(() => 1, 1)).toThrow(TypeError);
    expect(() => canonicalKey(Symbol('x'))).toThrow(TypeError);
  });
});

describe('numbers', () => {
  test('equal across int32, long, double, decimal and plain numbers', () => {
    const fives = [5, new Int32(5), long('5'), new Double(5), dec('5.00'), dec('5'), dec('0.5E1'), 5n];
    for (const a of fives) for (const b of fives) expectEqual(a, b);
    expectLess(new Int32(5), new Double(5.000000000000001));
    expectLess(dec('4.99999999999999999999999999999999'), long('5'));
    expectLess(long('5'), dec('5.000000000000000000000000000000001'));
  });

  test('long against double is exact beyond 2^53', () => {
    // 2^53 + 1 is not a double: mongod compares exactly (compare_numbers.h compareLongToDouble)
    expectLess(new Double(9007199254740992), long('9007199254740993'));
    expectLess(long('9007199254740993'), new Double(9007199254740994));
    expectEqual(long('9007199254740992'), new Double(9007199254740992));
    expectEqual(long(2n ** 60n), new Double(2 ** 60));
    expectEqual(long(-(2n ** 63n)), new Double(-(2 ** 63)));
    expectLess(long(2n ** 63n - 1n), new Double(2 ** 63));
    expectLess(new Double(-(2 ** 64)), long(-(2n ** 63n)));
    expectLess(long('9007199254740993'), long('9007199254740994'));
    expectLess(long(-(2n ** 63n)), long(2n ** 63n - 1n));
    expectEqual(long('9007199254740993'), dec('9007199254740993'));
    expectEqual(long('9007199254740993'), dec('9.007199254740993E+15'));
    expectLess(new Double(1.5), long('2'));
    expectLess(long('1'), new Double(1.5));
  });

  test('NaN equals NaN and sorts below every other number', () => {
    const nans = [NaN, new Double(NaN), dec('NaN'), dec('-NaN')];
    for (const a of nans) for (const b of nans) expectEqual(a, b);
    for (const n of nans) {
      expectLess(n, -Infinity);
      expectLess(n, dec('-Infinity'));
      expectLess(n, long(-(2n ** 63n)));
      expectLess(n, new Int32(-2147483648));
      expectLess(n, dec('-9.999999999999999999999999999999999E+6144'));
      expectLess(null, n);
    }
  });

  test('-0 equals 0', () => {
    const zeros = [0, -0, new Double(-0), new Double(0), new Int32(0), long('0'), dec('-0'), dec('0E-6176'), dec('-0.000'), 0n];
    for (const a of zeros) for (const b of zeros) expectEqual(a, b);
    expectLess(-Number.MIN_VALUE, -0);
    expectLess(-0, Number.MIN_VALUE);
    expectLess(dec('-1E-6176'), 0);
    expectLess(0, dec('1E-6176'));
  });

  test('infinities', () => {
    expectEqual(Infinity, dec('Infinity'));
    expectEqual(-Infinity, dec('-Infinity'));
    expectLess(long(2n ** 63n - 1n), Infinity);
    expectLess(Number.MAX_VALUE, dec('1E+400'));
    expectLess(dec('1E+400'), Infinity);
    expectLess(-Infinity, dec('-1E+400'));
    expectLess(dec('-1E+400'), -Number.MAX_VALUE);
    expectLess(dec('9.999999999999999999999999999999999E+6144'), dec('Infinity'));
  });

  test('decimal against double compares exact values (compareDecimalToDouble)', () => {
    // mongod rounds the decimal toward negative and calls an inexact conversion greater: the
    // double 0.1 is 0.1000000000000000055511151231257827..., so Decimal128("0.1") is smaller.
    expectLess(dec('0.1'), new Double(0.1));
    expectLess(dec('0.1'), 0.1);
    expectLess(new Double(0.1), dec('0.1000000000000000055511151231257828'));
    expectLess(dec('0.1000000000000000055511151231257827'), new Double(0.1));
    expectEqual(dec('0.5'), 0.5);
    expectEqual(dec('0.125000'), new Double(0.125));
    expectEqual(dec('-2.5E-1'), -0.25);
    expectLess(dec('0.3'), 0.30000000000000004);
    expectLess(0.3, dec('0.3')); // the double 0.3 is 0.299999999999999988897769753748...
    expectEqual(dec('1E+300'), dec('1.000E+300'));
    expectLess(dec('1E+300'), 1e300); // the double 1e300 is just above 10^300
    expectLess(1e23, dec('1E+23')); // the double 1e23 is 99999999999999991611392
    expectEqual(1e22, dec('1E+22')); // 10^22 is exactly a double
    expectEqual(new Double(1e23), dec('99999999999999991611392'));
    expectLess(dec('4.940656458412465441765687928682213E-324'), Number.MIN_VALUE);
    expectLess(Number.MIN_VALUE, dec('4.940656458412465441765687928682214E-324'));
  });

  test('numeric order across types', () => {
    const sorted = [
      dec('NaN'),
      -Infinity,
      long(-(2n ** 63n)),
      new Double(-1e18),
      new Int32(-2147483648),
      dec('-1.5'),
      -1,
      dec('-1E-6000'),
      0,
      dec('1E-6000'),
      Number.MIN_VALUE,
      dec('0.1'),
      0.1,
      new Int32(1),
      dec('1.0000000000000000000000000000001'),
      1.0000000000000002,
      new Int32(2147483647),
      long('9007199254740993'),
      new Double(2 ** 63),
      dec('1E+19'),
      Number.MAX_VALUE,
      dec('1E+6144'),
      Infinity,
    ];
    const shuffled = [...sorted].reverse();
    expect(shuffled.sort(compareValues)).toEqual(sorted);
    for (let i = 0; i + 1 < sorted.length; i++) expectLess(sorted[i], sorted[i + 1]);
  });
});

describe('strings', () => {
  test('UTF-8 byte order, then length', () => {
    expectLess('Z', 'a');
    expectLess('a', 'b');
    expectLess('ab', 'abc');
    expectLess('', 'a');
    expectLess('z', 'é'); // 0x7A < 0xC3 0xA9
    expectLess('a', 'a\u0000');
    expectLess('a\u0000', 'a\u0001');
    // UTF-16 puts U+FFFF above the surrogate pair of U+1F600; UTF-8 bytes (EF.. < F0..) do not
    expectLess('\uFFFF', '😀');
    expectLess('\uE000', '\u{10000}');
    expectLess('😀', '😁');
    expectLess('😀', '😀a');
    expectEqual('é', 'é');
  });

  test('a symbol compares as its string', () => {
    expectEqual(new BSONSymbol('abc'), 'abc');
    expectLess(new BSONSymbol('abc'), 'abd');
    expectLess('abc', new BSONSymbol('abd'));
  });

  test('lone surrogates compare as U+FFFD, as they go on the wire', () => {
    expectEqual('\uD800', '\uFFFD');
    expectEqual('a\uDC00b', 'a\uFFFDb');
    expectLess('\uD800', '😀');
  });
});

describe('objects', () => {
  test('a shorter object with an equal prefix sorts first', () => {
    expectLess({}, { a: 1 });
    expectLess({ a: 1 }, { a: 1, b: 1 });
    expectLess({ a: 1 }, { a: 1, b: new MinKey() });
    expectLess({ a: 1, b: new MaxKey() }, { a: 1, c: new MaxKey() });
  });

  test('field type rank, then field name, then value', () => {
    expectLess({ a: 1 }, { b: 0 }); // same type: by field name
    expectLess({ a: 9 }, { b: 0 });
    expectLess({ b: 1 }, { a: 'x' }); // type before field name
    expectLess({ a: 1 }, { a: 'x' });
    expectLess({ a: null }, { a: 0 });
    expectLess({ a: 1 }, { a: 2 });
    expectLess({ a: 1 }, { aa: 1 });
    expectLess({ B: 1 }, { a: 1 });
    expectLess({ a: { b: 1 } }, { a: { b: 1, c: 0 } });
    expectLess({ a: {} }, { a: [] });
  });

  test('equality is by value across number types, and field order matters', () => {
    expectEqual({ a: new Int32(1), b: 'x' }, { a: dec('1.0'), b: new BSONSymbol('x') });
    expectEqual({ a: { b: [long('2')] } }, { a: { b: [2.0] } });
    expect(compareValues({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(-1);
    expect(canonicalKey({ a: 1, b: 2 })).not.toBe(canonicalKey({ b: 2, a: 1 }));
  });

  test('compareDocuments is woCompare of whole documents', () => {
    expect(compareDocuments({ _id: 1, x: 'a' }, { _id: new Int32(1), x: 'a' })).toBe(0);
    expect(compareDocuments({ _id: 1 }, { _id: 1, x: null })).toBe(-1);
    expect(compareDocuments({ a: 'x' }, { b: 1 })).toBe(1);
    expect(compareDocuments({ a: 1 }, { b: 1 })).toBe(-1);
    expect(compareDocuments({}, {})).toBe(0);
  });

  test('a DBRef compares as {$ref, $id, $db, ...fields}', () => {
    const id = oid('0123456789abcdef01234567');
    expectEqual(new DBRef('coll', id), { $ref: 'coll', $id: id });
    expectEqual(new DBRef('coll', id, 'db', { x: 1 }), { $ref: 'coll', $id: id, $db: 'db', x: long('1') });
    expectLess(new DBRef('a', id), new DBRef('b', id));
  });
});

describe('arrays', () => {
  test('element-wise, shorter first', () => {
    expectLess([], [new MinKey()]);
    expectLess([1, 2], [1, 3]);
    expectLess([1], [1, 0]);
    expectLess([5], ['a']);
    expectLess([[1]], [[1, 2]]);
    expectLess([[1, 2]], [[2]]);
    expectLess([null], [1]);
    expectLess([{ a: 1 }], [[]]);
    expectEqual([new Int32(1), 'a'], [long('1'), new BSONSymbol('a')]);
    expectLess({ a: 1 }, [1]);
  });
});

describe('other types', () => {
  test('binData by length, then subtype, then bytes', () => {
    expectLess(bin([255], 128), bin([0, 0], 0));
    expectLess(bin([9], 0), bin([0], 5));
    expectLess(bin([1, 2], 0), bin([1, 3], 0));
    expectLess(bin([], 0), bin([], 1));
    expectEqual(bin([1, 2, 3]), new Uint8Array([1, 2, 3]));
    const uuid = new UUID('0123456789abcdef0123456789abcdef');
    expectEqual(uuid, bin([...uuid.buffer], 4));
    expectLess(bin(new Array<number>(16).fill(0), 3), uuid);
    // subtype 2 carries an inner length: on the wire it is 4 bytes longer than its data
    expectLess(bin([0, 0, 0, 0, 0], 0), bin([0, 0], 2));
    expectLess(bin([0, 0], 2), bin([0, 0, 0, 0, 0, 0], 3));
    expectLess(bin([0, 0, 0, 0, 0, 0], 1), bin([0, 0], 2));
    expectLess(bin([0, 0], 2), bin([0, 0, 0, 0, 0, 0, 0], 0));
  });

  test('ObjectId by bytes', () => {
    expectLess(oid('000000000000000000000001'), oid('000000000000000000000002'));
    expectLess(oid('0fffffffffffffffffffffff'), oid('100000000000000000000000'));
    expectLess(oid('7fffffffffffffffffffffff'), oid('800000000000000000000000'));
    expectEqual(oid('0123456789abcdef01234567'), oid('0123456789ABCDEF01234567'));
  });

  test('bool', () => {
    expectLess(false, true);
    expectEqual(true, true);
  });

  test('dates are signed milliseconds, including before 1970', () => {
    expectLess(new Date(-8.64e15), new Date(-86400000));
    expectLess(new Date('1969-12-31T23:59:59.999Z'), new Date(0));
    expectLess(new Date(0), new Date(1));
    expectLess(new Date('1900-01-01'), new Date('2024-01-01'));
    expectEqual(new Date(1234), new Date(1234));
  });

  test('timestamps are unsigned (t, then i)', () => {
    expectLess(ts(1, 0), ts(0x80000000, 0));
    expectLess(ts(0x7fffffff, 0xffffffff), ts(0x80000000, 0));
    expectLess(ts(1, 1), ts(1, 0xffffffff));
    expectLess(ts(1, 0xffffffff), ts(2, 0));
    expectLess(ts(0, 0), ts(0, 1));
    expectEqual(ts(5, 6), new Timestamp({ t: 5, i: 6 }));
  });

  test('regex by pattern, then flags', () => {
    expectLess(new BSONRegExp('a', 'm'), new BSONRegExp('b', ''));
    expectLess(new BSONRegExp('a', ''), new BSONRegExp('a', 'i'));
    expectLess(new BSONRegExp('a', 'i'), new BSONRegExp('a', 'm'));
    expectLess(new BSONRegExp('a', 'i'), new BSONRegExp('a', 'im'));
    expectLess(new BSONRegExp('ab', ''), new BSONRegExp('b', ''));
    expectEqual(/ab+c/i, new BSONRegExp('ab+c', 'i'));
  });

  test('javascript by code; with scope by code, then scope', () => {
    expectLess(new Code('a'), new Code('b'));
    expectEqual(new Code('x = 1'), new Code('x = 1'));
    expectLess(new Code('a', { z: 1 }), new Code('b', {}));
    expectLess(new Code('a', { x: 1 }), new Code('a', { x: 2 }));
    expectEqual(new Code('a', { x: new Int32(1) }), new Code('a', { x: 1.0 }));
    expectLess(new Code('z'), new Code('a', {}));
  });

  test('MinKey, MaxKey, null and undefined equal themselves', () => {
    expectEqual(new MinKey(), new MinKey());
    expectEqual(new MaxKey(), new MaxKey());
    expectEqual(null, null);
    expectEqual(undefined, undefined);
  });
});

describe('canonicalKey', () => {
  test('numbers share keys by value', () => {
    const one = canonicalKey(new Int32(1));
    for (const v of [1, long('1'), new Double(1), dec('1.0'), dec('1'), dec('100E-2'), 1n]) expect(canonicalKey(v)).toBe(one);
    expect(canonicalKey(-0)).toBe(canonicalKey(0));
    expect(canonicalKey(dec('-0E+10'))).toBe(canonicalKey(0));
    expect(canonicalKey(dec('NaN'))).toBe(canonicalKey(NaN));
    expect(canonicalKey(long(2n ** 60n))).toBe(canonicalKey(2 ** 60));
    expect(canonicalKey(long('9007199254740993'))).toBe(canonicalKey(dec('9007199254740993.000')));
    expect(canonicalKey(long('9007199254740993'))).not.toBe(canonicalKey(9007199254740992));
    expect(canonicalKey(dec('0.1'))).not.toBe(canonicalKey(0.1));
    expect(canonicalKey(dec('0.5'))).toBe(canonicalKey(0.5));
    expect(canonicalKey(dec('1E+400'))).toBe(canonicalKey(dec('10E+399')));
  });

  test('distinguishes types and structure', () => {
    const keys = [
      1,
      '1',
      [1],
      { 1: 1 },
      ['a', 'b'],
      ['ab'],
      ['a', ['b']],
      [['a'], 'b'],
      { a: 'b' },
      { ab: '' },
      { a: { b: 1 } },
      { a: {}, b: 1 },
      new Code('1'),
      new Code('1', {}),
      new BSONRegExp('a', 'i'),
      new BSONRegExp('ai', ''),
      true,
      false,
      null,
      undefined,
      new MinKey(),
      new MaxKey(),
      new Date(1),
      ts(0, 1),
      bin([1]),
      bin([1], 1),
      oid('000000000000000000000001'),
    ].map(canonicalKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('cheap keys for ObjectId and strings', () => {
    expect(canonicalKey(oid('0123456789abcdef01234567'))).toBe('i0123456789abcdef01234567');
    expect(canonicalKey('abc')).toBe('s3:abc');
    expect(canonicalKey(new BSONSymbol('abc'))).toBe('s3:abc');
  });
});

// -----------------------------------------------------------------------------------------------
// Properties on random BSON values

const NUMBER_SEEDS = [0, -0, 1, -1, 2.5, 0.1, 0.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 1e300, Number.MIN_VALUE, NaN, Infinity, -Infinity];
const DECIMAL_STRINGS = ['0.1', '5.00', '-0', '1E-6176', '1E+6144', '9007199254740993', '-2.5', '0.50', 'NaN', '-Infinity', '2147483648', '1.0'];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A value of the same number, as another BSON number type when that type can hold it exactly. */
function numberVariants(d: number): unknown[] {
  const out: unknown[] = [d, new Double(d)];
  if (Number.isInteger(d) && !Object.is(d, -0)) {
    if (d >= -2147483648 && d <= 2147483647) out.push(new Int32(d));
    const b = BigInt(d);
    if (b >= INT64_MIN && b <= INT64_MAX) out.push(Long.fromBigInt(b), b);
  }
  // toString is the shortest round trip, not always the exact value: only use it where it is exact
  // (integers via BigInt, and multiples of 1/8 below 2^40)
  if ((Number.isInteger(d) && Math.abs(d) < 1e21) || (Number.isInteger(d * 8) && Math.abs(d) < 2 ** 40)) {
    out.push(dec(Object.is(d, -0) ? '-0' : Number.isInteger(d) ? BigInt(d).toString() : d.toString()));
  }
  return out;
}

const numberArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.constantFrom(...NUMBER_SEEDS), fc.nat()).map(([d, i]) => {
    const v = numberVariants(d);
    return v[i % v.length];
  }),
  fc.tuple(fc.integer({ min: -3, max: 3 }), fc.nat()).map(([d, i]) => {
    const v = numberVariants(d);
    return v[i % v.length];
  }),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).chain((b) =>
    fc.constantFrom<unknown>(Long.fromBigInt(b), dec(b.toString()), Number(b)),
  ),
  fc.constantFrom(...DECIMAL_STRINGS).map(dec),
);

const stringArb = fc.string({ unit: fc.constantFrom('a', 'b', 'Z', 'é', '\u0000', '\uFFFF', '😀'), maxLength: 3 });
const keyArb = fc.constantFrom('a', 'b', 'c');
const byteArb = fc.constantFrom(0, 1, 255);
const u32Arb = fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff);

const leafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(new MinKey(), new MaxKey(), null, undefined, true, false),
  numberArb,
  numberArb,
  stringArb,
  stringArb.map((s) => new BSONSymbol(s)),
  fc
    .tuple(fc.array(byteArb, { maxLength: 3 }), fc.constantFrom(0, 2, 5, 128))
    .map(([bytes, subtype]) => bin(bytes, subtype)),
  fc.array(byteArb, { minLength: 12, maxLength: 12 }).map((bytes) => new ObjectId(new Uint8Array(bytes))),
  fc.constantFrom(-8.64e15, -1, 0, 1, 1.7e12).map((ms) => new Date(ms)),
  fc.tuple(u32Arb, u32Arb).map(([t, i]) => ts(t, i)),
  fc.tuple(stringArb, fc.constantFrom('', 'i', 'im', 'm')).map(([p, o]) => new BSONRegExp(p.replace(/\0/g, ''), o)),
  stringArb.map((s) => new Code(s)),
);

const { value: bsonValueArb } = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown>; scoped: Code }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('array'), tie('object'), tie('scoped')),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(keyArb, tie('value'), { maxKeys: 3, noNullPrototype: true }),
    scoped: fc.tuple(stringArb, tie('object')).map(([code, scope]) => new Code(code, scope)),
  }),
);

/** A value mongod considers equal to v, built from other types where possible. */
function equivalent(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => equivalent(x, seed + i));
  if (typeof v === 'string') return seed % 2 === 0 ? new BSONSymbol(v) : v;
  if (v instanceof BSONSymbol) return seed % 2 === 0 ? String(v.value) : v;
  if (typeof v === 'number' || v instanceof Int32 || v instanceof Double) {
    const variants = numberVariants(Number(v instanceof Int32 || v instanceof Double ? v.value : v));
    return variants[seed % variants.length];
  }
  if (v instanceof Long && !(v instanceof Timestamp)) {
    const b = v.toBigInt();
    const variants: unknown[] = [v, dec(b.toString()), b];
    if (BigInt(Number(b)) === b) variants.push(Number(b));
    return variants[seed % variants.length];
  }
  if (v instanceof Code && v.scope != null) return new Code(v.code, equivalent(v.scope, seed) as Record<string, unknown>);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    let i = 0;
    for (const [k, x] of Object.entries(v)) out[k] = equivalent(x, seed + i++);
    return out;
  }
  return v;
}

function roundTrip(v: unknown): unknown {
  const bytes = BSON.serialize({ v });
  return BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true }).v;
}

function containsUndefined(v: unknown): boolean {
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.some(containsUndefined);
  if (v instanceof Code) return v.scope != null && containsUndefined(v.scope);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).some(containsUndefined);
  return false;
}

describe('properties', () => {
  test('compareValues is a total order', () => {
    fc.assert(
      fc.property(bsonValueArb, bsonValueArb, bsonValueArb, (a, b, c) => {
        const ab = compareValues(a, b);
        expect([-1, 0, 1]).toContain(ab);
        expect(compareValues(a, a)).toBe(0);
        expect(compareValues(b, a)).toBe(0 - ab);
        const bc = compareValues(b, c);
        const ac = compareValues(a, c);
        if (ab <= 0 && bc <= 0) expect(ac).toBeLessThanOrEqual(0);
        if (ab === 0 && bc === 0) expect(ac).toBe(0);
        if (ab === 0) expect(compareValues(b, c)).toBe(ac);
      }),
      { numRuns: 2000 },
    );
  });

  test('sorting a sample is consistent pairwise', () => {
    fc.assert(
      fc.property(fc.array(bsonValueArb, { maxLength: 12 }), (values) => {
        // sort indices: Array.prototype.sort moves undefined to the end without asking the comparator
        const sorted = values
          .map((_, i) => i)
          .sort((i, j) => compareValues(values[i], values[j]))
          .map((i) => values[i]);
        for (let i = 0; i < sorted.length; i++)
          for (let j = i + 1; j < sorted.length; j++) expect(compareValues(sorted[i], sorted[j])).toBeLessThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  test('canonicalKey equality matches compareValues equality', () => {
    fc.assert(
      fc.property(bsonValueArb, bsonValueArb, (a, b) => {
        expect(canonicalKey(a) === canonicalKey(b)).toBe(compareValues(a, b) === 0);
      }),
      { numRuns: 3000 },
    );
  });

  test('numbers: canonicalKey equality matches compareValues equality', () => {
    fc.assert(
      fc.property(numberArb, numberArb, (a, b) => {
        expect(canonicalKey(a) === canonicalKey(b)).toBe(compareValues(a, b) === 0);
      }),
      { numRuns: 5000 },
    );
  });

  test('equivalent values (other number types, symbols) are equal and share keys', () => {
    fc.assert(
      fc.property(bsonValueArb, fc.nat(), (v, seed) => {
        const w = equivalent(v, seed);
        expect(compareValues(v, w)).toBe(0);
        expect(canonicalKey(w)).toBe(canonicalKey(v));
      }),
      { numRuns: 2000 },
    );
  });

  test('a BSON round trip keeps values equal', () => {
    fc.assert(
      fc.property(
        bsonValueArb.filter((v) => !containsUndefined(v)),
        (v) => {
          const w = roundTrip(v);
          expect(compareValues(v, w)).toBe(0);
          expect(canonicalKey(w)).toBe(canonicalKey(v));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('int64 and decimal integers order like bigints; doubles like exact values', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (x, y) => {
        const expected = x < y ? -1 : x > y ? 1 : 0;
        expect(compareValues(Long.fromBigInt(x), Long.fromBigInt(y))).toBe(expected);
        expect(compareValues(Long.fromBigInt(x), dec(y.toString()))).toBe(expected);
        expect(compareValues(dec(x.toString()), dec(y.toString()))).toBe(expected);
        const dy = Number(y); // an integer double, exactly BigInt(dy)
        const by = BigInt(dy);
        const expectedD = x < by ? -1 : x > by ? 1 : 0;
        expect(compareValues(Long.fromBigInt(x), new Double(dy))).toBe(expectedD);
        expect(compareValues(dec(x.toString()), dy)).toBe(expectedD);
      }),
      { numRuns: 2000 },
    );
  });

  test('doubles order as JS numbers (NaN lowest)', () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), (x, y) => {
        const expected = Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : Number.isNaN(y) ? 1 : x < y ? -1 : x > y ? 1 : 0;
        expect(compareValues(new Double(x), y)).toBe(expected);
        expect(canonicalKey(x) === canonicalKey(new Double(y))).toBe(expected === 0);
      }),
      { numRuns: 2000 },
    );
  });
});
