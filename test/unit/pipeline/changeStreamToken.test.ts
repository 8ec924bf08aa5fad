// Change stream resume tokens (pipeline/changeStreamToken.ts): the KeyString bytes MongoDB's own
// decoder reads (its real tokens reproduced byte for byte), and the order of `_data` strings,
// which must be the stream's order.
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp, UUID, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mongoError } from '../../helpers/mongoErrors.js';
import {
  compareTokens,
  encodeResumeToken,
  EVENT_TOKEN,
  HIGH_WATER_MARK_TOKEN,
  highWaterMark,
  keyStringHex,
  nextTick,
  parseClientToken,
  type ResumeTokenData,
} from '../../../src/pipeline/changeStreamToken.js';

const UUID_A = new UUID('bffdb617-400e-4860-9900-7c0e0048b305');

function event(ts: Timestamp, overrides: Partial<ResumeTokenData> = {}): string {
  return encodeResumeToken({ clusterTime: ts, tokenType: EVENT_TOKEN, txnOpIndex: 0, fromInvalidate: false, uuid: UUID_A, eventIdentifier: { operationType: 'insert', documentKey: { _id: 1 } }, ...overrides });
}

describe("MongoDB's token bytes", () => {
  test('a v2 insert token, as mongodb-resumetoken-decoder\'s test captured it from a server', () => {
    const data = encodeResumeToken({
      clusterTime: new Timestamp({ t: 1651836794, i: 1 }),
      tokenType: EVENT_TOKEN,
      txnOpIndex: 0,
      fromInvalidate: false,
      uuid: UUID_A,
      eventIdentifier: { operationType: 'insert', documentKey: { _id: new ObjectId('6275077a2f3159f971e405c6') } },
    });
    expect(data).toBe(
      '826275077A000000012B042C0100296E5A1004BFFDB617400E486099007C0E0048B305463C6F7065726174696F6E54797065003C696E736572740046646F63756D656E744B65790046645F696400646275077A2F3159F971E405C6000004',
    );
  });

  test('large and tiny doubles of both signs (the decoder\'s v1 token with a documentKey of doubles)', () => {
    const data = keyStringHex([
      new Timestamp({ t: 0x65523992, i: 1 }),
      new Int32(1),
      new Int32(128),
      new Int32(0),
      false,
      new UUID('754b35d3-06b3-42e8-ba0a-3de71005b664'),
      { _id: { foo: [2e307, new Double(-2e307), 2e-307, -2e-307] } },
    ]);
    expect(data).toBe(
      '8265523992000000012B022C0100296E5A1004754B35D306B342E8BA0A3DE71005B66446465F6964004650666F6F0050337F78F63E7958E8661F808709C186A717992A6083F43058818C1A289F7C0BCFA77E73E500000004',
    );
  });

  test('a high-water mark: clusterTime, version 2, tokenType 0, txnOpIndex 0, false, null UUID, nothing more', () => {
    expect(highWaterMark(new Timestamp({ t: 0x612f653e, i: 2 }))).toBe('82612F653E000000022B0429296E1404');
  });

  test('numbers: int32, long and an integral double encode alike; a fraction takes 8 bytes; strings escape NUL', () => {
    expect(keyStringHex([new Int32(1)])).toBe(keyStringHex([Long.fromNumber(1)]));
    expect(keyStringHex([new Double(1)])).toBe('2B0204');
    expect(keyStringHex([1.5])).toBe('2B038000000000000004');
    expect(keyStringHex([-1])).toBe('27FD04');
    expect(keyStringHex([0])).toBe('2904');
    expect(keyStringHex(['a\0b'])).toBe('3C6100FF620004');
    expect(keyStringHex([Decimal128.fromString('42')])).toBe(keyStringHex([42]));
  });
});

describe('token order is stream order', () => {
  const ts = new Timestamp({ t: 1700000000, i: 5 });

  test('at one time: the high-water mark, then events by txnOpIndex, an invalidate right after its event; then the next time', () => {
    const ordered = [
      highWaterMark(ts),
      event(ts),
      event(ts, { fromInvalidate: true }),
      event(ts, { txnOpIndex: 1 }),
      event(ts, { txnOpIndex: 200 }),
      highWaterMark(nextTick(ts)),
      event(nextTick(ts)),
      event(new Timestamp({ t: 1700000001, i: 0 })),
    ];
    const sorted = [...ordered].sort(compareTokens);
    expect(sorted).toEqual(ordered);
    expect(new Set(ordered).size).toBe(ordered.length);
  });

  test('any two cluster times order their tokens, events and high-water marks alike', () => {
    const time = fc.record({ t: fc.integer({ min: 0, max: 0xffffffff }), i: fc.integer({ min: 0, max: 0xffffffff }) });
    fc.assert(
      fc.property(time, time, (a, b) => {
        const ta = new Timestamp(a);
        const tb = new Timestamp(b);
        const expected = Math.sign(ta.compare(tb));
        expect(Math.sign(compareTokens(highWaterMark(ta), highWaterMark(tb)))).toBe(expected);
        expect(Math.sign(compareTokens(event(ta), event(tb)))).toBe(expected);
      }),
    );
  });

  test('KeyString keeps numeric order across int32, long and double', () => {
    const number = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => ({ value: new Int32(n) as unknown, n })),
      fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map((n) => ({ value: Long.fromBigInt(n) as unknown, n: Number(n) })),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }).map((n) => ({ value: new Double(n) as unknown, n })),
    );
    fc.assert(
      fc.property(number, number, (a, b) => {
        if (a.n === b.n) return;
        expect(Math.sign(compareTokens(keyStringHex([a.value]), keyStringHex([b.value])))).toBe(Math.sign(a.n - b.n));
      }),
    );
  });

  test('tokens are deterministic: the same event gives the same token', () => {
    const id = (): Document => ({ _id: { a: [1, 'x', new ObjectId('6275077a2f3159f971e405c6')], when: new Date(0) } });
    const one = event(ts, { eventIdentifier: { operationType: 'update', documentKey: id() } });
    const two = event(ts, { eventIdentifier: { operationType: 'update', documentKey: id() } });
    expect(one).toBe(two);
  });
});

describe('reading a client token back', () => {
  test('its clusterTime, type, invalidate flag and UUID', () => {
    const ts = new Timestamp({ t: 1700000000, i: 7 });
    expect(parseClientToken({ _data: event(ts) })).toEqual({ data: event(ts), clusterTime: ts, version: 2, tokenType: EVENT_TOKEN, fromInvalidate: false, hasUuid: true });
    expect(parseClientToken({ _data: event(ts, { fromInvalidate: true, uuid: undefined }).toLowerCase() })).toMatchObject({ fromInvalidate: true, hasUuid: false, data: event(ts, { fromInvalidate: true, uuid: undefined }) });
    expect(parseClientToken({ _data: highWaterMark(ts) })).toMatchObject({ tokenType: HIGH_WATER_MARK_TOKEN, clusterTime: ts });
    // A v1 high-water mark from a 5.0 server is read too.
    expect(parseClientToken({ _data: '82612F653E000000022B0229296E04' })).toMatchObject({ version: 1, tokenType: 0, clusterTime: new Timestamp({ t: 0x612f653e, i: 2 }) });
  });

  test("malformed tokens get mongod's errors", () => {
    expect(mongoError(() => parseClientToken({ _data: 1 }))).toMatchObject({ code: 40647, message: 'Bad resume token: _data of missing or of wrong type. Expected string, got {_data: 1}' });
    expect(mongoError(() => parseClientToken({ _data: 'zz' }))).toMatchObject({ code: 9, message: 'resume token string was not a valid hex string' });
    expect(mongoError(() => parseClientToken({ _data: '' }))).toMatchObject({ code: 40649, message: 'invalid empty resume token' });
    expect(mongoError(() => parseClientToken({ _data: '82612F653E0000000204' }))).toMatchObject({ code: 50796 });
    expect(mongoError(() => parseClientToken({ _data: '82612F653E000000022B0604' }))).toMatchObject({ code: 50795, message: 'Invalid Resume Token: only supports version 0, 1 and 2' });
    expect(mongoError(() => parseClientToken({ _data: '82612F653E000000022B042B0604' }))).toMatchObject({ code: 51057, message: 'Token type 3 not recognized' });
    expect(mongoError(() => parseClientToken({ _data: '82612F653E000000022B0429296E04' }))).toMatchObject({ code: 6189500, message: 'Expected UUID or null' });
    expect(mongoError(() => parseClientToken({ _data: '82612F653E000000022B042C0100296E1404' }))).toMatchObject({ code: 6189501 });
  });

  test('nextTick adds one to the increment, or moves to the next second', () => {
    expect(nextTick(new Timestamp({ t: 5, i: 9 }))).toEqual(new Timestamp({ t: 5, i: 10 }));
    expect(nextTick(new Timestamp({ t: 5, i: 0xffffffff }))).toEqual(new Timestamp({ t: 6, i: 0 }));
  });
});
