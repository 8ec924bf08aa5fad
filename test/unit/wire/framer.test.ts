import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ProtocolViolation } from '../../../src/errors.js';
import { Framer } from '../../../src/wire/framer.js';
import { MAX_MESSAGE_SIZE_BYTES } from '../../../src/bson/limits.js';
import { header, opMsgBody, opQuery } from './builders.js';

/**
 * Pushes a chunk and reports the frames and the protocol violation, if any. The Framer marks a
 * broken stream with `violation` (the frames cut before it are still returned); an older design
 * threw instead, which this also accepts.
 */
function feed(framer: Framer, chunk: Buffer): { frames: Buffer[]; violation: ProtocolViolation | undefined } {
  try {
    const frames = framer.push(chunk);
    return { frames, violation: (framer as { violation?: ProtocolViolation }).violation };
  } catch (err) {
    if (err instanceof ProtocolViolation) return { frames: [], violation: err };
    throw err;
  }
}

function lengthBytes(length: number, total = 4): Buffer {
  const bytes = Buffer.alloc(total);
  bytes.writeInt32LE(length, 0);
  return bytes;
}

function frames(): Buffer[] {
  return [
    opMsgBody({ ping: 1, $db: 'admin' }, 0, 1),
    opQuery({ ns: 'admin.$cmd', query: { ismaster: 1 }, requestId: 2 }),
    opMsgBody({ hello: 1, client: { application: { name: 'x'.repeat(300) } }, $db: 'admin' }, 0, 3),
    header(16, 4, 0, 2013),
  ];
}

describe('Framer', () => {
  test('a chunk that is exactly one frame, with nothing buffered, is that frame as it came', () => {
    const framer = new Framer();
    const [ping] = frames();
    const { frames: out, violation } = feed(framer, ping!);
    expect(violation).toBeUndefined();
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(ping);
    expect(framer.bufferedBytes).toBe(0);
    // With bytes buffered, a chunk the length of a frame is a continuation, not a frame.
    const [, query] = frames();
    expect(feed(framer, query!.subarray(0, 10)).frames).toEqual([]);
    const rest = Buffer.concat([query!.subarray(10), ping!.subarray(0, query!.length - 10)]);
    const joined = feed(framer, rest.subarray(0, query!.length - 10));
    expect(joined.frames.map((f) => f.equals(query!))).toEqual([true]);
  });

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
    const { frames: out, violation } = feed(new Framer(), lengthBytes(length, 16));
    expect(out).toEqual([]);
    expect(violation).toBeInstanceOf(ProtocolViolation);
    expect(violation!.message).toBe(`recv(): message msgLen ${length} is invalid. Min 16 Max: 48000000`);
  });

  test('a length under 16 is noticed as soon as the 4 length bytes arrive', () => {
    const framer = new Framer();
    expect(feed(framer, Buffer.from([15, 0])).violation).toBeUndefined();
    const { violation } = feed(framer, Buffer.from([0, 0]));
    expect(violation?.message).toBe('recv(): message msgLen 15 is invalid. Min 16 Max: 48000000');
  });

  test('lengths over 48,000,000 are protocol violations; 48,000,000 itself waits for its bytes', () => {
    expect(MAX_MESSAGE_SIZE_BYTES).toBe(48_000_000);
    for (const length of [48_000_001, 2_147_483_647]) {
      const { violation } = feed(new Framer(), lengthBytes(length));
      expect(violation).toBeInstanceOf(ProtocolViolation);
      expect(violation!.message).toBe(`recv(): message msgLen ${length} is invalid. Min 16 Max: 48000000`);
    }
    const framer = new Framer();
    const { frames: out, violation } = feed(framer, lengthBytes(48_000_000, 16));
    expect(out).toEqual([]);
    expect(violation).toBeUndefined();
    expect(framer.bufferedBytes).toBe(16);
  });

  test('"GET " where a length should be is a protocol violation (an HTTP client)', () => {
    const { violation } = feed(new Framer(), Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(violation).toBeInstanceOf(ProtocolViolation);
    expect(violation!.message).toMatch(/HTTP|msgLen 542393671/);
  });

  test('a smaller configured maximum is honoured', () => {
    expect(feed(new Framer(100), lengthBytes(101)).violation).toBeInstanceOf(ProtocolViolation);
    expect(feed(new Framer(100), lengthBytes(100)).violation).toBeUndefined();
  });

  // mongod reads one message at a time: whole frames before a bad length are still served.
  test('whole frames before a bad length in the same chunk are returned, then the violation', () => {
    const framer = new Framer();
    const ping = opMsgBody({ ping: 1, $db: 'admin' });
    const hello = opMsgBody({ hello: 1, $db: 'admin' }, 0, 2);
    const { frames: out, violation } = feed(framer, Buffer.concat([ping, hello, lengthBytes(3)]));
    expect(out.map((f) => f.toString('hex'))).toEqual([ping.toString('hex'), hello.toString('hex')]);
    expect(violation).toBeInstanceOf(ProtocolViolation);
  });

  test('a bad length in a later chunk after a partial frame completes it first', () => {
    const framer = new Framer();
    const ping = opMsgBody({ ping: 1, $db: 'admin' });
    expect(feed(framer, ping.subarray(0, 10)).frames).toEqual([]);
    const { frames: out, violation } = feed(framer, Buffer.concat([ping.subarray(10), lengthBytes(-7)]));
    expect(out.map((f) => f.toString('hex'))).toEqual([ping.toString('hex')]);
    expect(violation).toBeInstanceOf(ProtocolViolation);
  });

  test('nothing is cut after a violation', () => {
    const framer = new Framer();
    const first = feed(framer, lengthBytes(2));
    expect(first.violation).toBeInstanceOf(ProtocolViolation);
    if ((framer as { violation?: ProtocolViolation }).violation === undefined) return; // the throwing design keeps no state
    expect(framer.push(opMsgBody({ ping: 1, $db: 'admin' }))).toEqual([]);
  });
});
