import { BSON, Double, Int32 } from 'bson';
import { describe, expect, test } from 'vitest';
import { MongoError } from '../../../src/errors.js';
import { decodeOpCompressed } from '../../../src/wire/opCompressed.js';
import { decodeOpMsg } from '../../../src/wire/opMsg.js';
import { decodeRequest, encodeReply, type ReplyTarget } from '../../../src/wire/request.js';
import { bson, FLAG, header, message, OP, opCompressed, opMsg, opMsgBody, opQuery, refCrc32c } from './builders.js';
import { expectViolation } from './expect.js';

const ping = { ping: new Int32(1), $db: 'admin' };

function ok(frame: Buffer) {
  const result = decodeRequest(frame);
  if (result.kind !== 'request') throw new Error(`expected a request, got ${JSON.stringify(result)}`);
  return result.request;
}

function failed(frame: Buffer): { error: MongoError; target: ReplyTarget } {
  const result = decodeRequest(frame);
  if (result.kind !== 'error') throw new Error(`expected a decode error, got ${JSON.stringify(result)}`);
  return { error: result.error, target: result.target };
}

const LEGACY_SUFFIX =
  'is no longer supported. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal';

describe('decodeRequest', () => {
  test('OP_MSG', () => {
    const frame = opMsgBody(ping, FLAG.exhaustAllowed, 321);
    expect(ok(frame)).toEqual({
      protocol: 'OP_MSG',
      requestId: 321,
      moreToCome: false,
      checksumPresent: false,
      compressorId: undefined,
      body: ping,
      commandName: 'ping',
      db: 'admin',
      exhaustAllowed: true,
      byteLength: frame.length,
      messageLength: frame.length,
    });
  });

  test('OP_MSG with moreToCome and a checksum', () => {
    const frame = opMsg({ flags: FLAG.moreToCome, sections: [{ kind: 0, doc: ping }], checksum: true });
    expect(ok(frame)).toMatchObject({ moreToCome: true, checksumPresent: true, exhaustAllowed: false });
  });

  test('OP_MSG: $db that is missing or not a string gives db undefined', () => {
    expect(ok(opMsgBody({ ping: 1 })).db).toBeUndefined();
    expect(ok(opMsgBody({ ping: 1, $db: 5 })).db).toBeUndefined();
  });

  test('OP_QUERY', () => {
    const frame = opQuery({ ns: 'admin.$cmd', query: { isMaster: new Int32(1) }, requestId: 9 });
    expect(ok(frame)).toEqual({
      protocol: 'OP_QUERY',
      requestId: 9,
      moreToCome: false,
      checksumPresent: false,
      compressorId: undefined,
      body: { isMaster: new Int32(1) },
      commandName: 'isMaster',
      db: 'admin',
      exhaustAllowed: false,
      byteLength: frame.length,
      messageLength: frame.length,
    });
  });

  test.each([0, 1, 2])('OP_COMPRESSED (compressor %d) of OP_MSG and OP_QUERY', (id) => {
    const inner = opMsg({ flags: FLAG.moreToCome, requestId: 4, sections: [{ kind: 0, doc: ping }] });
    const msgFrame = opCompressed(inner, id);
    // byteLength is what came over the wire; messageLength the message once decompressed.
    expect(ok(msgFrame)).toMatchObject({ protocol: 'OP_MSG', compressorId: id, requestId: 4, moreToCome: true, body: ping, byteLength: msgFrame.length, messageLength: inner.length });
    const queryFrame = opCompressed(opQuery({ ns: 'test.$cmd', query: { hello: 1 }, requestId: 6 }), id);
    expect(ok(queryFrame)).toMatchObject({ protocol: 'OP_QUERY', compressorId: id, requestId: 6, db: 'test', commandName: 'hello' });
  });

  test('a decode error comes back with where to send the error reply', () => {
    const bad = opMsg({ flags: FLAG.moreToCome | FLAG.checksumPresent, requestId: 17, sections: [{ kind: 0, doc: ping }, { kind: 0, doc: ping }] });
    const { error, target } = failed(bad);
    expect(error.code).toBe(40430);
    expect(target).toEqual({ protocol: 'OP_MSG', requestId: 17, moreToCome: true, checksumPresent: true, compressorId: undefined });
  });

  test('a bad OP_QUERY is answered as OP_QUERY', () => {
    const frame = message(OP.QUERY, Buffer.from([0, 0, 0, 0, 0x61]), 23);
    const { error, target } = failed(frame);
    expect(error.code).toBe(22);
    expect(target).toMatchObject({ protocol: 'OP_QUERY', requestId: 23 });
  });

  test('a failed decompression is answered uncompressed', () => {
    const frame = opCompressed(opMsgBody(ping), 2, { payload: Buffer.from('garbage') });
    const { error, target } = failed(frame);
    expect(error.code).toBe(2);
    expect(target.compressorId).toBeUndefined();
  });

  test('a body error inside OP_COMPRESSED is answered compressed, the same way', () => {
    const inner = opMsg({ requestId: 3, sections: [{ kind: 0, doc: ping }, { kind: 0, doc: ping }] });
    const { error, target } = failed(opCompressed(inner, 1));
    expect(error.code).toBe(40430);
    expect(target).toMatchObject({ protocol: 'OP_MSG', compressorId: 1, requestId: 3 });
  });

  test('connection-fatal OP_MSG errors throw, compressed or not', () => {
    expectViolation(() => decodeRequest(opMsgBody(ping, 1 << 5)), /^Message contains illegal flags value: Ob/);
    expectViolation(() => decodeRequest(opMsg({ sections: [{ kind: 0, doc: ping }], checksum: 'corrupt' })), 'OP_MSG checksum does not match contents');
    expectViolation(() => decodeRequest(opCompressed(opMsgBody(ping, 1 << 5), 2)));
  });

  test.each([
    [2001, 'OP_UPDATE'],
    [2002, 'OP_INSERT'],
    [2006, 'OP_DELETE'],
    [2007, 'OP_KILL_CURSORS'],
  ])('removed opcode %d (%s) closes the connection', (opCode, name) => {
    expectViolation(() => decodeRequest(message(opCode, Buffer.alloc(20))), `${name} is no longer supported`);
    expectViolation(() => decodeRequest(header(16, 1, 0, opCode)));
    expectViolation(() => decodeRequest(opCompressed(message(opCode, Buffer.alloc(20)), 0)));
  });

  // mongod 7.0 (research notes §2) answers the removed reads instead of closing: OP_GET_MORE, and
  // OP_QUERY on anything but <db>.$cmd, get an OP_REPLY {$err, code: 5739101, ok: 0}.
  test('OP_GET_MORE (2005) is a legacy failure answered as OP_QUERY, not a close', () => {
    const result = decodeRequest(message(OP.GET_MORE, Buffer.concat([Buffer.alloc(4), Buffer.from('test.c\0'), Buffer.alloc(12)]), 31));
    expect(result).toEqual({
      kind: 'legacyFailure',
      errmsg: `OP_GET_MORE ${LEGACY_SUFFIX}`,
      target: { protocol: 'OP_QUERY', requestId: 31, moreToCome: false, checksumPresent: false, compressorId: undefined },
    });
  });

  test('OP_QUERY on a collection is a legacy failure; on <db>.$cmd it is a command', () => {
    const result = decodeRequest(opQuery({ ns: 'test.coll', query: { a: 1 }, requestId: 32 }));
    expect(result).toMatchObject({ kind: 'legacyFailure', errmsg: `OP_QUERY ${LEGACY_SUFFIX}`, target: { protocol: 'OP_QUERY', requestId: 32 } });
    expect(decodeRequest(opQuery({ ns: 'test.$cmd', query: { hello: 1 } })).kind).toBe('request');
  });

  test.each([0, 1, -1, 2003, 2008, 2010, 2011, 2014, 9999, 2147483647])('unknown opcode %d is dropped, not answered', (opCode) => {
    const result = decodeRequest(message(opCode, bson(ping)));
    expect(result).toEqual({ kind: 'unsupported', opCode });
  });

  test('an unknown opcode inside OP_COMPRESSED is dropped too', () => {
    const result = decodeRequest(opCompressed(message(2010, bson(ping)), 2));
    expect(result).toEqual({ kind: 'unsupported', opCode: 2010 });
  });

  test('a header-only frame of every interesting opcode never throws anything but a ProtocolViolation', () => {
    for (const opCode of [1, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2012, 2013, 0, -5]) {
      try {
        decodeRequest(header(16, 1, 0, opCode));
      } catch (err) {
        expect((err as Error).name).toBe('ProtocolViolation');
      }
    }
  });
});

describe('encodeReply', () => {
  const reply = { ok: new Double(1), n: new Int32(2) };
  const base: ReplyTarget = { protocol: 'OP_MSG', requestId: 50, moreToCome: false, checksumPresent: false, compressorId: undefined };

  test('OP_MSG reply answers the request id', () => {
    const frame = encodeReply(base, reply, { requestId: 51 });
    expect(frame.readInt32LE(4)).toBe(51);
    expect(frame.readInt32LE(8)).toBe(50);
    expect(frame.readInt32LE(12)).toBe(OP.MSG);
    expect(decodeOpMsg(frame)).toMatchObject({ body: reply, moreToCome: false, checksumPresent: false });
  });

  test('exhaust replies carry moreToCome', () => {
    expect(decodeOpMsg(encodeReply(base, reply, { requestId: 1, moreToCome: true })).moreToCome).toBe(true);
  });

  test('a checksummed request gets a checksummed reply', () => {
    const frame = encodeReply({ ...base, checksumPresent: true }, reply, { requestId: 1 });
    expect(frame.readUInt32LE(16) & FLAG.checksumPresent).toBe(1);
    expect(frame.readUInt32LE(frame.length - 4)).toBe(refCrc32c(frame.subarray(0, frame.length - 4)));
  });

  test('an OP_QUERY request gets an OP_REPLY (AwaitCapable, or QueryFailure for a legacy failure)', () => {
    const frame = encodeReply({ ...base, protocol: 'OP_QUERY' }, reply, { requestId: 52 });
    expect(frame.readInt32LE(12)).toBe(OP.REPLY);
    expect(frame.readInt32LE(16)).toBe(8);
    expect(encodeReply({ ...base, protocol: 'OP_QUERY' }, reply, { requestId: 52, queryFailure: true }).readInt32LE(16)).toBe(2);
    expect(frame.readInt32LE(8)).toBe(50);
    expect(BSON.deserialize(frame.subarray(36), { promoteValues: false })).toEqual(reply);
  });

  test.each([0, 1, 2])('a compressed request (compressor %d) gets a reply compressed the same way', (id) => {
    const frame = encodeReply({ ...base, compressorId: id }, reply, { requestId: 53 });
    expect(frame.readInt32LE(12)).toBe(OP.COMPRESSED);
    expect(frame.readInt32LE(8)).toBe(50);
    const { inner, compressorId } = decodeOpCompressed(frame);
    expect(compressorId).toBe(id);
    expect(decodeOpMsg(inner).body).toEqual(reply);
    const queryReply = decodeOpCompressed(encodeReply({ ...base, protocol: 'OP_QUERY', compressorId: id }, reply, { requestId: 54 }));
    expect(queryReply.inner.readInt32LE(12)).toBe(OP.REPLY);
  });
});
