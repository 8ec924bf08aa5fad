/**
 * End-to-end at the byte level, through a raw TCP client: OP_QUERY/OP_REPLY, OP_MSG parsing
 * (sections, flags, checksums), framing (lengths, pipelining, split writes), legacy and unknown
 * opcodes, and that a protocol violation ends only the offending connection.
 */
import { BSON } from 'bson';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import {
  crc32c,
  encodeOpMsg,
  encodeOpQuery,
  FLAG_CHECKSUM_PRESENT,
  FLAG_EXHAUST_ALLOWED,
  frame,
  OP_GET_MORE,
  OP_INSERT,
  OP_MSG,
  RawClient,
  withRawClient,
} from '../helpers/rawClient.js';
import { startServer } from '../helpers/server.js';

let server: PocketMongo;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

const LEGACY_REMOVAL = 'The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal';

/** Sends `bytes` on a fresh connection and expects the server to close it without replying. */
async function expectClosedWithoutReply(bytes: Buffer): Promise<void> {
  const raw = await RawClient.connect(server.port);
  try {
    await raw.write(bytes).catch(() => {});
    await raw.closed;
    expect(raw.received).toHaveLength(0);
  } finally {
    await raw.close();
  }
}

/** The server still serves a fresh connection. */
async function expectServerHealthy(): Promise<void> {
  await withRawClient(server.port, async (raw) => {
    expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
  });
}

describe('self-checks of the raw client', () => {
  test('CRC-32C test vector', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});

describe('OP_QUERY', () => {
  test('{ismaster: 1} on admin.$cmd is answered with one OP_REPLY document, responseFlags 8', async () => {
    await withRawClient(server.port, async (raw) => {
      const request = encodeOpQuery('admin.$cmd', { ismaster: 1 });
      await raw.write(request);
      const reply = await raw.next();
      expect(reply.wireOpCode).toBe(1);
      expect(reply.opCode).toBe(1);
      expect(reply.responseTo).toBe(request.readInt32LE(4));
      expect(reply.responseFlags).toBe(8);
      expect(reply.cursorId).toBe(0n);
      expect(reply.startingFrom).toBe(0);
      expect(reply.numberReturned).toBe(1);
      expect(reply.docs).toHaveLength(1);
      expect(reply.messageLength).toBe(reply.raw.length);
      expect(reply.doc.ismaster).toBe(true);
      expect(reply.doc.ok).toBe(1);
    });
  });

  test('isMaster with the secondaryOk flag (libmongoc) and hello work', async () => {
    await withRawClient(server.port, async (raw) => {
      expect((await raw.query('admin.$cmd', { isMaster: 1, helloOk: true }, { flags: 4 })).doc.ismaster).toBe(true);
    });
    await withRawClient(server.port, async (raw) => {
      expect((await raw.query('admin.$cmd', { hello: 1 })).doc.isWritablePrimary).toBe(true);
    });
  });

  test('a legacy {$query: ...} envelope is unwrapped', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('admin.$cmd', { $query: { ismaster: 1 }, $readPreference: { mode: 'primaryPreferred' } });
      expect(reply.doc.ismaster).toBe(true);
    });
  });

  test('{ping: 1} is UnsupportedOpQueryCommand (352), answered in an OP_REPLY', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('admin.$cmd', { ping: 1 });
      expect(reply.opCode).toBe(1);
      expect(reply.numberReturned).toBe(1);
      expect(reply.doc).toEqual({
        ok: 0,
        errmsg: `Unsupported OP_QUERY command: ping. ${LEGACY_REMOVAL}`,
        code: 352,
        codeName: 'UnsupportedOpQueryCommand',
      });
      // Not fatal.
      expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
    });
  });

  // DIVERGENCE: mongod 7.0 still takes buildinfo/buildInfo over OP_QUERY ("temporarily allowed",
  // src/mongo/rpc/check_allowed_op_query_cmd.cpp); OP_QUERY_COMMANDS in src/commands/dispatcher.ts
  // lacks them, so the server answers 352.
  test('buildinfo is still allowed over OP_QUERY', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('admin.$cmd', { buildinfo: 1 });
      expect(reply.doc.version).toBe('7.0.14');
      expect(reply.doc.ok).toBe(1);
    });
  });

  // DIVERGENCE: getnonce is not on mongod 7.0's OP_QUERY allow list, so it is 352 there; the
  // dispatcher lets it through and then answers 59 CommandNotFound.
  test('getnonce over OP_QUERY is 352', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('admin.$cmd', { getnonce: 1 });
      expect(reply.doc).toMatchObject({ ok: 0, code: 352, errmsg: `Unsupported OP_QUERY command: getnonce. ${LEGACY_REMOVAL}` });
    });
  });

  test('an OP_QUERY on a collection (not $cmd) is answered with an error, not a close', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('test.coll', { a: 1 });
      expect(reply.opCode).toBe(1);
      expect(reply.doc.ok).toBe(0);
      expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
    });
  });

  // DIVERGENCE: mongod answers an OP_QUERY on a non-$cmd namespace with QueryFailure (flags 2) and
  // {$err, code: 5739101, ok: 0} (dbmessage.cpp makeErrorResponseToUnsupportedOpQuery); we answer
  // a 352 command error with flags 8.
  test('an OP_QUERY find is 5739101 with QueryFailure', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('test.coll', { a: 1 });
      expect(reply.responseFlags).toBe(2);
      expect(reply.doc).toEqual({ $err: `OP_QUERY is no longer supported. ${LEGACY_REMOVAL}`, code: 5739101, ok: 0 });
    });
  });
});

describe('OP_MSG', () => {
  test('without $db is 40571', async () => {
    await withRawClient(server.port, async (raw) => {
      expect((await raw.command({ ping: 1 })).doc).toEqual({
        ok: 0,
        errmsg: 'OP_MSG requests require a $db argument',
        code: 40571,
        codeName: 'Location40571',
      });
      expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
    });
  });

  test('the reply answers the request id and has no flags', async () => {
    await withRawClient(server.port, async (raw) => {
      const id = await raw.sendMsg({ ping: 1, $db: 'admin' }, { requestId: 123_456 });
      const reply = await raw.next();
      expect(id).toBe(123_456);
      expect(reply.responseTo).toBe(123_456);
      expect(reply.flags).toBe(0);
      expect(reply.messageLength).toBe(reply.raw.length);
    });
  });

  test('a kind-1 document sequence is merged into the body (strict ping refuses it as a field)', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.command(undefined, {
        sections: [
          { kind: 0, doc: { ping: 1, $db: 'admin' } },
          { kind: 1, name: 'foo', docs: [{ a: 1 }, { a: 2 }] },
        ],
      });
      expect(reply.doc).toEqual({ ok: 0, errmsg: "BSON field 'ping.foo' is an unknown field.", code: 40415, codeName: 'Location40415' });
    });
  });

  test('section errors are answered, not fatal', async () => {
    await withRawClient(server.port, async (raw) => {
      const twoBodies = await raw.command(undefined, {
        sections: [
          { kind: 0, doc: { ping: 1, $db: 'admin' } },
          { kind: 0, doc: { ping: 1, $db: 'admin' } },
        ],
      });
      expect(twoBodies.doc).toEqual({ ok: 0, errmsg: 'Multiple body sections in message', code: 40430, codeName: 'Location40430' });

      const noBody = await raw.command(undefined, { sections: [{ kind: 1, name: 'documents', docs: [{ a: 1 }] }] });
      expect(noBody.doc).toEqual({ ok: 0, errmsg: 'OP_MSG messages must have a body', code: 40587, codeName: 'Location40587' });

      const duplicate = await raw.command(undefined, {
        sections: [
          { kind: 0, doc: { insert: 'c', $db: 'test' } },
          { kind: 1, name: 'documents', docs: [{ a: 1 }] },
          { kind: 1, name: 'documents', docs: [{ a: 2 }] },
        ],
      });
      expect(duplicate.doc).toEqual({ ok: 0, errmsg: 'Duplicate document sequence: documents', code: 40431, codeName: 'Location40431' });

      const clash = await raw.command(undefined, {
        sections: [
          { kind: 0, doc: { insert: 'c', documents: [], $db: 'test' } },
          { kind: 1, name: 'documents', docs: [{ a: 1 }] },
        ],
      });
      expect(clash.doc).toEqual({
        ok: 0,
        errmsg: 'Duplicate field between body and document sequence documents',
        code: 40433,
        codeName: 'Location40433',
      });

      const unknownKind = await raw.command(undefined, {
        sections: [
          { kind: 0, doc: { ping: 1, $db: 'admin' } },
          { kind: 7, raw: BSON.serialize({ a: 1 }) as Buffer },
        ],
      });
      expect(unknownKind.doc).toEqual({ ok: 0, errmsg: 'Unknown section kind 7', code: 40432, codeName: 'Location40432' });

      expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
    });
  });

  test('a third document sequence closes the connection', async () => {
    await expectClosedWithoutReply(
      encodeOpMsg(undefined, {
        sections: [
          { kind: 0, doc: { insert: 'c', $db: 'test' } },
          { kind: 1, name: 'a', docs: [{ x: 1 }] },
          { kind: 1, name: 'b', docs: [{ x: 1 }] },
          { kind: 1, name: 'c', docs: [{ x: 1 }] },
        ],
      }),
    );
  });

  test('invalid BSON in the body is answered with an error', async () => {
    await withRawClient(server.port, async (raw) => {
      const body = Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' }));
      body[4] = 0x7f; // not a BSON type
      const reply = await raw.command(undefined, { sections: [{ kind: 0, raw: body }] });
      expect(reply.doc).toMatchObject({ ok: 0, code: 22, codeName: 'InvalidBSON' });
      expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
    });
  });

  test('checksumPresent with a correct CRC-32C: the reply carries a valid checksum too', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.command({ ping: 1, $db: 'admin' }, { checksum: true });
      expect(reply.flags! & FLAG_CHECKSUM_PRESENT).toBe(FLAG_CHECKSUM_PRESENT);
      expect(reply.checksumValid).toBe(true);
      expect(reply.checksum).toBe(crc32c(reply.raw.subarray(0, reply.raw.length - 4)));
      expect(reply.doc).toEqual({ ok: 1 });
      const error = await raw.command({ fooBar: 1, $db: 'admin' }, { checksum: true });
      expect(error.checksumValid).toBe(true);
      expect(error.doc.code).toBe(59);
      // Without the flag, no checksum.
      const plain = await raw.command({ ping: 1, $db: 'admin' });
      expect(plain.flags).toBe(0);
      expect(plain.checksum).toBeUndefined();
    });
  });

  test('a wrong checksum closes the connection without a reply', async () => {
    const good = encodeOpMsg({ ping: 1, $db: 'admin' }, { checksum: true });
    const bad = encodeOpMsg({ ping: 1, $db: 'admin' }, { badChecksum: (good.readUInt32LE(good.length - 4) ^ 1) >>> 0 });
    await expectClosedWithoutReply(bad);
  });

  test('a checksum flag on a message too short to hold one is 51252', async () => {
    await withRawClient(server.port, async (raw) => {
      const flags = Buffer.alloc(4);
      flags.writeUInt32LE(FLAG_CHECKSUM_PRESENT);
      await raw.write(frame(OP_MSG, Buffer.concat([flags, Buffer.alloc(4)])));
      const reply = await raw.next();
      expect(reply.doc).toMatchObject({ ok: 0, code: 51252, errmsg: 'Invalid message size for an OpMsg containing a checksum' });
    });
  });

  test.each([1 << 2, 1 << 3, 1 << 15])('an unknown required flag bit (%i) closes the connection', async (bit) => {
    await expectClosedWithoutReply(encodeOpMsg({ ping: 1, $db: 'admin' }, { flags: bit }));
  });

  test('unknown optional flag bits (16-31) are ignored', async () => {
    await withRawClient(server.port, async (raw) => {
      expect((await raw.command({ ping: 1, $db: 'admin' }, { flags: 1 << 20 })).doc).toEqual({ ok: 1 });
      expect((await raw.command({ ping: 1, $db: 'admin' }, { flags: FLAG_EXHAUST_ALLOWED })).doc).toEqual({ ok: 1 });
    });
  });
});

describe('framing', () => {
  test('messageLength 8 closes the connection', async () => {
    const bytes = Buffer.alloc(16);
    bytes.writeInt32LE(8, 0);
    bytes.writeInt32LE(OP_MSG, 12);
    await expectClosedWithoutReply(bytes);
  });

  test('messageLength 50,000,000 closes the connection', async () => {
    const bytes = Buffer.alloc(16);
    bytes.writeInt32LE(50_000_000, 0);
    bytes.writeInt32LE(OP_MSG, 12);
    await expectClosedWithoutReply(bytes);
  });

  test('a negative messageLength closes the connection', async () => {
    const bytes = Buffer.alloc(16);
    bytes.writeInt32LE(-1, 0);
    await expectClosedWithoutReply(bytes);
  });

  test('several frames in one TCP write are all answered, in order', async () => {
    await withRawClient(server.port, async (raw) => {
      const requests = [
        encodeOpMsg({ ping: 1, $db: 'admin' }),
        encodeOpMsg({ buildInfo: 1, $db: 'admin' }),
        encodeOpMsg({ fooBar: 1, $db: 'admin' }),
        encodeOpQuery('admin.$cmd', { ping: 1 }),
        encodeOpMsg({ hello: 1, $db: 'admin' }),
        encodeOpMsg({ ping: 1, $db: 'admin' }),
      ];
      await raw.write(Buffer.concat(requests));
      const replies = [];
      for (let i = 0; i < requests.length; i++) replies.push(await raw.next());
      expect(replies.map((r) => r.responseTo)).toEqual(requests.map((r) => r.readInt32LE(4)));
      expect(replies[0]!.doc).toEqual({ ok: 1 });
      expect(replies[1]!.doc.version).toBe('7.0.14');
      expect(replies[2]!.doc.code).toBe(59);
      expect(replies[3]!.opCode).toBe(1);
      expect(replies[3]!.doc.code).toBe(352);
      expect(replies[4]!.doc.isWritablePrimary).toBe(true);
      expect(replies[5]!.doc).toEqual({ ok: 1 });
    });
  });

  test('many pipelined requests (more than the server queues at once) are all answered', async () => {
    await withRawClient(server.port, async (raw) => {
      const requests = Array.from({ length: 500 }, (_, i) => encodeOpMsg({ ping: 1, $db: 'admin', comment: `#${i}` }));
      await raw.write(Buffer.concat(requests));
      for (const request of requests) {
        const reply = await raw.next();
        expect(reply.responseTo).toBe(request.readInt32LE(4));
        expect(reply.doc).toEqual({ ok: 1 });
      }
    });
  });

  test('a frame split into 1-byte writes is answered', async () => {
    await withRawClient(server.port, async (raw) => {
      const request = encodeOpMsg({ ping: 1, $db: 'admin' });
      await raw.writeByteByByte(request);
      const reply = await raw.next();
      expect(reply.responseTo).toBe(request.readInt32LE(4));
      expect(reply.doc).toEqual({ ok: 1 });
      // A frame straddling two writes together with the start of the next one.
      const a = encodeOpMsg({ ping: 1, $db: 'admin' });
      const b = encodeOpMsg({ buildInfo: 1, $db: 'admin' });
      const both = Buffer.concat([a, b]);
      await raw.write(both.subarray(0, a.length + 3));
      await raw.write(both.subarray(a.length + 3));
      expect((await raw.next()).responseTo).toBe(a.readInt32LE(4));
      expect((await raw.next()).doc.version).toBe('7.0.14');
    });
  });
});

describe('legacy and unknown opcodes', () => {
  function legacyInsert(): Buffer {
    const flags = Buffer.alloc(4);
    return frame(OP_INSERT, Buffer.concat([flags, Buffer.from('test.c\0'), Buffer.from(BSON.serialize({ a: 1 }))]));
  }

  function legacyGetMore(): Buffer {
    const zero = Buffer.alloc(4);
    const counts = Buffer.alloc(12);
    counts.writeInt32LE(10, 0);
    counts.writeBigInt64LE(1234n, 4);
    return frame(OP_GET_MORE, Buffer.concat([zero, Buffer.from('test.c\0'), counts]));
  }

  test('OP_INSERT (2002) closes the connection', async () => {
    await expectClosedWithoutReply(legacyInsert());
  });

  test.each([
    ['OP_UPDATE', 2001],
    ['OP_DELETE', 2006],
    ['OP_KILL_CURSORS', 2007],
  ])('%s closes the connection', async (_name, opCode) => {
    await expectClosedWithoutReply(frame(opCode, Buffer.alloc(32)));
  });

  // DIVERGENCE: mongod 7.0 answers OP_GET_MORE with an OP_REPLY (QueryFailure, {$err: 'OP_GET_MORE
  // is no longer supported. ...', code: 5739101, ok: 0}) and keeps the connection; REMOVED_OPCODES in
  // src/wire/request.ts closes it instead.
  test('OP_GET_MORE (2005) is answered with 5739101', async () => {
    await withRawClient(server.port, async (raw) => {
      await raw.write(legacyGetMore());
      const reply = await raw.next();
      expect(reply.opCode).toBe(1);
      expect(reply.responseFlags).toBe(2);
      expect(reply.doc).toEqual({ $err: `OP_GET_MORE is no longer supported. ${LEGACY_REMOVAL}`, code: 5739101, ok: 0 });
    });
  });

  test('an unknown opcode (9999) gets no reply and the connection stays usable', async () => {
    await withRawClient(server.port, async (raw) => {
      await raw.write(frame(9999, Buffer.from('whatever')));
      const id = await raw.sendMsg({ ping: 1, $db: 'admin' });
      const reply = await raw.next();
      expect(reply.responseTo).toBe(id);
      expect(reply.doc).toEqual({ ok: 1 });
      expect(raw.received).toHaveLength(1);
      expect(raw.isOpen).toBe(true);
    });
  });

  test('a header-only OP_REPLY sent to the server is dropped like an unknown opcode', async () => {
    await withRawClient(server.port, async (raw) => {
      await raw.write(frame(1, Buffer.alloc(0)));
      expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      expect(raw.received).toHaveLength(1);
    });
  });
});

describe('isolation', () => {
  test('a bad frame on one connection does not affect another open connection', async () => {
    const good = await RawClient.connect(server.port);
    const bad = await RawClient.connect(server.port);
    try {
      expect((await good.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      // Half a message on the good connection, then the bad one misbehaves.
      const pending = encodeOpMsg({ ping: 1, $db: 'admin' });
      await good.write(pending.subarray(0, 10));
      await bad.write(encodeOpMsg({ ping: 1, $db: 'admin' }, { flags: 1 << 5 }));
      await bad.closed;
      expect(bad.received).toHaveLength(0);
      await good.write(pending.subarray(10));
      const reply = await good.next();
      expect(reply.responseTo).toBe(pending.readInt32LE(4));
      expect(reply.doc).toEqual({ ok: 1 });
      expect((await good.command({ hello: 1, $db: 'admin' })).doc.isWritablePrimary).toBe(true);
    } finally {
      await good.close();
      await bad.close();
    }
    await expectServerHealthy();
  });

  test('a client that disconnects mid-frame does not disturb the server', async () => {
    const raw = await RawClient.connect(server.port);
    await raw.write(encodeOpMsg({ ping: 1, $db: 'admin' }).subarray(0, 7));
    await raw.close();
    await expectServerHealthy();
  });
});
