import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Int32 } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compress, CompressorId, compressorName, decompress, negotiateCompressors, SUPPORTED_COMPRESSORS } from '../../../src/wire/compression.js';
import { crc32c } from '../../../src/wire/crc32c.js';
import { decodeOpCompressed, encodeOpCompressed } from '../../../src/wire/opCompressed.js';
import { decodeOpMsg } from '../../../src/wire/opMsg.js';
import { decodeOpQuery } from '../../../src/wire/opQuery.js';
import { compressPayload, header, message, OP, opCompressed, opMsg, opMsgBody, opQuery, refCrc32c } from './builders.js';
import { expectMongoError } from './expect.js';

const IDS = [0, 1, 2] as const;

describe('crc32c', () => {
  test('the CRC-32C check value: crc32c("123456789") = 0xE3069283', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
    expect(refCrc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  test('empty input and unsigned results', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of 0xff
  });

  test('agrees with a reference implementation on any bytes, including Uint8Array views (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        const value = crc32c(view);
        expect(value).toBe(refCrc32c(view));
        expect(value).toBeGreaterThanOrEqual(0);
      }),
      { seed: 32, numRuns: 300 },
    );
  });
});

describe('compress / decompress', () => {
  test('compressor ids and names are the wire protocol\'s', () => {
    expect(CompressorId).toEqual({ noop: 0, snappy: 1, zlib: 2 });
    expect([0, 1, 2, 3, 255].map(compressorName)).toEqual(['noop', 'snappy', 'zlib', undefined, undefined]);
    expect([...SUPPORTED_COMPRESSORS].sort()).toEqual(['noop', 'snappy', 'zlib']);
  });

  test.each(IDS)('compressor %d round-trips any bytes (property)', (id) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const data = Buffer.from(bytes);
        const packed = compress(id, data);
        expect(decompress(id, packed, data.length).equals(data)).toBe(true);
      }),
      { seed: id + 1, numRuns: 100 },
    );
  });

  test.each(IDS)('compressor %d decodes what an independent encoder produced', (id) => {
    const data = Buffer.from('a'.repeat(500) + 'bcdefg'.repeat(40));
    expect(decompress(id, compressPayload(id, data), data.length).equals(data)).toBe(true);
  });

  test.each(IDS)('compressor %d: an uncompressedSize that is too large or too small is an error', (id) => {
    const data = Buffer.from('hello hello hello hello');
    const packed = compress(id, data);
    expectMongoError(() => decompress(id, packed, data.length + 1), 2);
    expectMongoError(() => decompress(id, packed, data.length - 1), 2);
    expectMongoError(() => decompress(id, packed, 0), 2);
  });

  test('corrupt zlib payloads are errors', () => {
    const packed = compress(2, Buffer.from('x'.repeat(100)));
    expectMongoError(() => decompress(2, Buffer.from('not zlib at all'), 100), 2, /Could not decompress message/);
    expectMongoError(() => decompress(2, packed.subarray(0, packed.length - 5), 100), 2);
    const flipped = Buffer.from(packed);
    flipped[flipped.length - 1] ^= 0xff; // adler32 trailer
    expectMongoError(() => decompress(2, flipped, 100), 2);
  });

  test('corrupt snappy payloads are errors', () => {
    expectMongoError(() => decompress(1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 10), 2); // bad length varint
    expectMongoError(() => decompress(1, Buffer.from([10, (20 - 1) << 2, 0x61]), 10), 2); // literal past the end
    expectMongoError(() => decompress(1, Buffer.from([10, 0x01 | (0 << 2), 0x05]), 10), 2); // copy before any output
    expectMongoError(() => decompress(1, Buffer.alloc(0), 0), 2); // no length at all
  });

  // snappyjs writes into a buffer of the preamble's length and never checks it filled (or did not
  // overflow) it; src/wire/compression.ts:64 only compares that preamble length with uncompressedSize.
  // Real snappy (mongod's snappy::RawUncompress) rejects both.
  test('a snappy stream that produces fewer bytes than its preamble declares is rejected', () => {
    const shortStream = Buffer.from([10, (3 - 1) << 2, 0x61, 0x62, 0x63]); // says 10, holds 3
    expectMongoError(() => decompress(1, shortStream, 10), 2);
  });

  test('a snappy stream that produces more bytes than its preamble declares is rejected', () => {
    const longStream = Buffer.from([2, (3 - 1) << 2, 0x61, 0x62, 0x63]); // says 2, holds 3
    expectMongoError(() => decompress(1, longStream, 2), 2);
  });

  // snappyjs 0.7.0 (snappy_decompressor.js, the 4-byte literal length) computes
  // `(len & 0xffffffff) + 1` as a signed 32-bit value: a literal tag 0xfc followed by 00 00 00 80
  // gives a length of -2147483647, the bounds check `pos + len > arrayLength` passes, and `pos`
  // goes ~2^31 back, so the decode loop then walks ~2^31 undefined bytes one at a time.
  // src/wire/compression.ts decompress() hands client bytes straight to snappy.uncompress, so a
  // 31-byte OP_COMPRESSED frame (compressor 1, this 6-byte payload) freezes the whole server for
  // over a minute of CPU (measured: > 60 s; found by test/fuzz as a 12.5 s event-loop stall).
  // Run in a child process so the hang can be cut short.
  test('(control for the next test: a valid snappy payload decompresses promptly in the child)', async () => {
    const payload = compressPayload(1, Buffer.from('x'.repeat(100))).toString('hex');
    expect(await timeDecompressInChild(payload, 1, 100, 4000)).toBeLessThan(4000);
  }, 30_000);

  test('a snappy literal with a negative 32-bit length is rejected promptly (not a > 60 s CPU hang)', async () => {
    const elapsed = await timeDecompressInChild('0afc00000080', 1, 10, 4000);
    expect(elapsed, 'decompress did not return within 4 s').toBeLessThan(4000);
  }, 30_000);

  test('an unknown compressor id is an error both ways', () => {
    expectMongoError(() => decompress(3, Buffer.alloc(4), 4), 2, 'Cannot decompress message with unknown compressor id 3');
    expectMongoError(() => compress(7, Buffer.alloc(4)), 1);
  });
});

describe('OP_COMPRESSED', () => {
  const ping = { ping: new Int32(1), $db: 'admin' };

  test.each(IDS)('compressor %d: OP_MSG round trip keeps the header and the body', (id) => {
    const inner = opMsg({ requestId: 1234, responseTo: 99, sections: [{ kind: 0, doc: ping }] });
    const wrapped = encodeOpCompressed(inner, id);
    expect(wrapped.readInt32LE(0)).toBe(wrapped.length);
    expect(wrapped.readInt32LE(4)).toBe(1234);
    expect(wrapped.readInt32LE(8)).toBe(99);
    expect(wrapped.readInt32LE(12)).toBe(OP.COMPRESSED);
    expect(wrapped.readInt32LE(16)).toBe(OP.MSG);
    expect(wrapped.readInt32LE(20)).toBe(inner.length - 16);
    expect(wrapped[24]).toBe(id);
    const { inner: back, compressorId } = decodeOpCompressed(wrapped);
    expect(compressorId).toBe(id);
    expect(back.equals(inner)).toBe(true);
    expect(decodeOpMsg(back).body).toEqual(ping);
  });

  test.each(IDS)('compressor %d: OP_QUERY round trip', (id) => {
    const inner = opQuery({ ns: 'admin.$cmd', query: { ismaster: new Int32(1), pad: 'p'.repeat(200) }, requestId: 5 });
    const { inner: back } = decodeOpCompressed(encodeOpCompressed(inner, id));
    expect(back.equals(inner)).toBe(true);
    expect(decodeOpQuery(back).commandName).toBe('ismaster');
  });

  test.each(IDS)('compressor %d: frames from an independent encoder decode', (id) => {
    const inner = opMsg({
      requestId: 8,
      sections: [
        { kind: 0, doc: { insert: 'c', $db: 'test' } },
        { kind: 1, name: 'documents', docs: [{ a: new Int32(1) }, { a: new Int32(2) }] },
      ],
    });
    const { inner: back, compressorId } = decodeOpCompressed(opCompressed(inner, id));
    expect(compressorId).toBe(id);
    expect(decodeOpMsg(back).body.documents).toEqual([{ a: new Int32(1) }, { a: new Int32(2) }]);
  });

  test('round-trips arbitrary messages with every compressor (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...IDS), fc.uint8Array({ maxLength: 500 }), fc.integer(), (id, payload, requestId) => {
        const inner = message(OP.MSG, Buffer.from(payload), requestId, 3);
        const { inner: back } = decodeOpCompressed(encodeOpCompressed(inner, id));
        expect(back.equals(inner)).toBe(true);
      }),
      { seed: 12, numRuns: 200 },
    );
  });

  test('a message too short for the OP_COMPRESSED prefix is an error', () => {
    expectMongoError(() => decodeOpCompressed(header(16, 1, 0, OP.COMPRESSED)), 2);
    expectMongoError(() => decodeOpCompressed(message(OP.COMPRESSED, Buffer.alloc(8))), 2);
  });

  test.each([3, 4, 200, 255])('compressor id %d => error', (id) => {
    const frame = opCompressed(opMsgBody(ping), id, { payload: Buffer.alloc(10) });
    expectMongoError(() => decodeOpCompressed(frame), 2, `Cannot decompress message with unknown compressor id ${id}`);
  });

  test('an OP_COMPRESSED inside OP_COMPRESSED is refused', () => {
    const frame = opCompressed(opMsgBody(ping), 0, { originalOpCode: OP.COMPRESSED });
    expectMongoError(() => decodeOpCompressed(frame), 2);
  });

  test.each(IDS)('compressor %d: a wrong uncompressedSize is an error', (id) => {
    const inner = opMsgBody({ ...ping, pad: 'z'.repeat(64) });
    const size = inner.length - 16;
    for (const wrong of [0, 1, size - 1, size + 1, size * 2]) {
      expectMongoError(() => decodeOpCompressed(opCompressed(inner, id, { uncompressedSize: wrong })), 2);
    }
  });

  test('a negative or oversized uncompressedSize is refused before decompressing', () => {
    const inner = opMsgBody(ping);
    for (const size of [-1, -2147483648, 48_000_000 - 15, 2_147_483_647]) {
      expectMongoError(() => decodeOpCompressed(opCompressed(inner, 2, { uncompressedSize: size })), 2);
    }
  });

  test.each(IDS)('compressor %d: corrupt payloads are errors, never crashes', (id) => {
    const inner = opMsgBody({ ...ping, pad: 'q'.repeat(100) });
    const good = opCompressed(inner, id);
    fc.assert(
      fc.property(fc.integer({ min: 25, max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, xor) => {
        const bad = Buffer.from(good);
        bad[pos]! ^= xor;
        try {
          decodeOpCompressed(bad);
        } catch (err) {
          expect((err as Error).name).toBe('MongoError');
        }
      }),
      { seed: 100 + id, numRuns: 200 },
    );
    // Truncations of the payload.
    for (let cut = 25; cut < good.length; cut += 3) {
      const bad = Buffer.from(good.subarray(0, cut));
      bad.writeInt32LE(cut, 0);
      if (id === 0) {
        expectMongoError(() => decodeOpCompressed(bad), 2);
      } else {
        try {
          decodeOpCompressed(bad);
        } catch (err) {
          expect((err as Error).name).toBe('MongoError');
        }
      }
    }
  });

  test('a zlib bomb cannot exceed the declared size', () => {
    const bomb = compressPayload(2, Buffer.alloc(10_000_000));
    expect(bomb.length).toBeLessThan(20_000);
    const inner = Buffer.concat([header(16 + 100, 1, 0, OP.MSG), Buffer.alloc(100)]);
    const frame = opCompressed(inner, 2, { payload: bomb, uncompressedSize: 100 });
    expectMongoError(() => decodeOpCompressed(frame), 2);
  });
});

describe('negotiateCompressors', () => {
  test('keeps the client\'s order', () => {
    expect(negotiateCompressors(['snappy', 'zlib'])).toEqual(['snappy', 'zlib']);
    expect(negotiateCompressors(['zlib', 'snappy'])).toEqual(['zlib', 'snappy']);
    expect(negotiateCompressors(['zlib', 'noop', 'snappy'])).toEqual(['zlib', 'noop', 'snappy']);
  });

  test('drops unknown names, non-strings and duplicates', () => {
    expect(negotiateCompressors(['zstd', 'zlib', 'lz4', 'snappy'])).toEqual(['zlib', 'snappy']);
    expect(negotiateCompressors(['none'])).toEqual([]);
    expect(negotiateCompressors([])).toEqual([]);
    expect(negotiateCompressors([1, null, { zlib: 1 }, 'ZLIB', 'zlib', 'zlib'])).toEqual(['zlib']);
  });

  test('the answer is always an order-preserving subsequence of the supported names (property)', () => {
    const names = fc.constantFrom('snappy', 'zlib', 'zstd', 'noop', 'none', 'lz4', '');
    fc.assert(
      fc.property(fc.array(fc.oneof(names, fc.string(), fc.integer())), (requested) => {
        const chosen = negotiateCompressors(requested);
        expect(new Set(chosen).size).toBe(chosen.length);
        for (const name of chosen) expect(SUPPORTED_COMPRESSORS).toContain(name);
        const firstIndex = chosen.map((name) => requested.indexOf(name));
        expect([...firstIndex].sort((a, b) => a - b)).toEqual(firstIndex);
        for (const name of requested) {
          if (typeof name === 'string' && (SUPPORTED_COMPRESSORS as readonly string[]).includes(name)) expect(chosen).toContain(name);
        }
      }),
      { seed: 5, numRuns: 200 },
    );
  });
});

/**
 * Runs src/wire/compression.ts decompress(id, payload, size) in a child process (tsx) and returns
 * how long the call took in ms, or `limitMs` if it had not returned by then (the child is killed).
 */
function timeDecompressInChild(payloadHex: string, id: number, size: number, limitMs: number): Promise<number> {
  const moduleUrl = pathToFileURL(fileURLToPath(new URL('../../../src/wire/compression.ts', import.meta.url))).href;
  const code =
    `import { decompress } from ${JSON.stringify(moduleUrl)};` +
    `process.stdout.write('ready\\n');` +
    `try { decompress(${id}, Buffer.from(${JSON.stringify(payloadHex)}, 'hex'), ${size}); } catch {}` +
    `process.stdout.write('done\\n');`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    child.on('error', reject);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (started === 0 && out.includes('ready')) {
        started = Date.now();
        timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
      }
      if (out.includes('done')) {
        clearTimeout(timer);
        resolve(Date.now() - started);
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (!out.includes('done')) {
        if (started === 0) reject(new Error(`child failed to start: ${out}`));
        else resolve(limitMs);
      }
    });
  });
}
