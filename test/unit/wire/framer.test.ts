import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ProtocolViolation } from '../../../src/errors.js';
import { Framer } from '../../../src/wire/framer.js';
import { MAX_MESSAGE_SIZE_BYTES } from '../../../src/wire/opcodes.js';
import { header, opMsgBody, opQuery } from './builders.js';

function frames(): Buffer[] {
  return [
    opMsgBody({ ping: 1, $db: 'admin' }, 0, 1),
    opQuery({ ns: 'admin.$cmd', query: { ismaster: 1 }, requestId: 2 }),
    opMsgBody({ hello: 1, client: { application: { name: 'x'.repeat(300) } }, $db: 'admin' }, 0, 3),
    header(16, 4, 0, 2013),
  ];
}

describe('Framer', () => {
  test('a partial frame waits for its remaining bytes', () => {
    const framer = new Framer();
    const frame = opMsgBody({ ping: 1, $db: 'admin' });
    expect(framer.push(frame.subarray(0, 2))).toEqual([]);
    expect(framer.bufferedBytes).toBe(2);
    expect(framer.push(frame.subarray(2, 10))).toEqual([]);
    expect(framer.push(frame.subarray(10, frame.length - 1))).toEqual([]);
    expect(framer.bufferedBytes).toBe(frame.length - 1);
    const out = framer.push(frame.subarray(frame.length - 1));
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(frame)).toBe(true);
    expect(framer.bufferedBytes).toBe(0);
  });

  test('several frames in one chunk come out whole and in order', () => {
    const framer = new Framer();
    const all = frames();
    const out = framer.push(Buffer.concat(all));
    expect(out.map((f) => f.toString('hex'))).toEqual(all.map((f) => f.toString('hex')));
    expect(framer.bufferedBytes).toBe(0);
  });

  test('a chunk ending mid-frame yields the whole frames and keeps the tail', () => {
    const framer = new Framer();
    const all = frames();
    const stream = Buffer.concat(all);
    const cut = all[0]!.length + all[1]!.length + 5;
    const first = framer.push(stream.subarray(0, cut));
    expect(first).toHaveLength(2);
    expect(framer.bufferedBytes).toBe(5);
    const second = framer.push(stream.subarray(cut));
    expect([...first, ...second].map((f) => f.toString('hex'))).toEqual(all.map((f) => f.toString('hex')));
  });

  test('a stream pushed one byte at a time yields every frame exactly once', () => {
    const framer = new Framer();
    const all = frames();
    const stream = Buffer.concat(all);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      // A fresh one-byte buffer each time: the framer must not rely on chunks sharing memory.
      out.push(...framer.push(Buffer.from([stream[i]!])));
    }
    expect(out.map((f) => f.toString('hex'))).toEqual(all.map((f) => f.toString('hex')));
    expect(framer.bufferedBytes).toBe(0);
  });

  test('any chunking of a stream yields the same frames (property)', () => {
    const all = frames();
    const stream = Buffer.concat(all);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 20 }), (cuts) => {
        const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), stream.length];
        const framer = new Framer();
        const out: Buffer[] = [];
        for (let i = 1; i < points.length; i++) out.push(...framer.push(stream.subarray(points[i - 1], points[i])));
        expect(out.map((f) => f.toString('hex'))).toEqual(all.map((f) => f.toString('hex')));
        expect(framer.bufferedBytes).toBe(0);
      }),
      { seed: 4242, numRuns: 300 },
    );
  });

  test('a length of exactly 16 (header only) is a frame', () => {
    const out = new Framer().push(header(16, 9, 0, 2013));
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBe(16);
  });

  test.each([-1, 0, 4, 15, -2147483648])('a length of %d is a protocol violation', (length) => {
    const framer = new Framer();
    const bytes = Buffer.alloc(16);
    bytes.writeInt32LE(length, 0);
    expect(() => framer.push(bytes)).toThrow(ProtocolViolation);
  });

  test('a length under 16 is noticed as soon as the 4 length bytes arrive', () => {
    const framer = new Framer();
    expect(framer.push(Buffer.from([15, 0]))).toEqual([]);
    expect(() => framer.push(Buffer.from([0, 0]))).toThrow(/msgLen 15 is invalid\. Min 16 Max: 48000000/);
  });

  test('lengths over 48,000,000 are protocol violations; 48,000,000 itself waits for its bytes', () => {
    expect(MAX_MESSAGE_SIZE_BYTES).toBe(48_000_000);
    for (const length of [48_000_001, 2_147_483_647, 0x20544547 /* "GET " */]) {
      const framer = new Framer();
      const bytes = Buffer.alloc(4);
      bytes.writeInt32LE(length, 0);
      expect(() => framer.push(bytes)).toThrow(ProtocolViolation);
    }
    const framer = new Framer();
    const bytes = Buffer.alloc(16);
    bytes.writeInt32LE(48_000_000, 0);
    expect(framer.push(bytes)).toEqual([]);
    expect(framer.bufferedBytes).toBe(16);
  });

  test('the error message is mongod\'s', () => {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32LE(48_000_001, 0);
    expect(() => new Framer().push(bytes)).toThrow('recv(): message msgLen 48000001 is invalid. Min 16 Max: 48000000');
  });

  test('a smaller configured maximum is honoured', () => {
    const framer = new Framer(100);
    const bytes = Buffer.alloc(4);
    bytes.writeInt32LE(101, 0);
    expect(() => framer.push(bytes)).toThrow(ProtocolViolation);
  });

  test('a bad length after whole frames in the same chunk still throws', () => {
    const framer = new Framer();
    const bad = Buffer.alloc(4);
    bad.writeInt32LE(3, 0);
    expect(() => framer.push(Buffer.concat([opMsgBody({ ping: 1, $db: 'admin' }), bad]))).toThrow(ProtocolViolation);
  });
});
