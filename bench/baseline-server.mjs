// @ts-check
/**
 * The baseline: a bare node:net server that speaks just enough of the wire protocol for the
 * benchmark clients. Every OP_MSG is answered with one pre-encoded OP_MSG {ok: 1.0} whose
 * responseTo is the request's id; every OP_QUERY (the driver's legacy-hello handshake) with a
 * pre-encoded OP_REPLY hello document. No BSON decoding, no dispatch: the ceiling for any Node
 * server answering one reply per request.
 *
 * Plain JavaScript with no imports beyond node:net, so that starting it measures bare Node.
 * Usage: node bench/baseline-server.mjs [--port <n>]   (0, the default, picks a free port)
 * It prints mongod's 'Waiting for connections' line (id 23016, attr.port) once listening, and
 * exits when its stdin closes (the benchmark runner holds the other end) or on SIGTERM/SIGINT.
 */
import { createServer } from 'node:net';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const HEADER_SIZE = 16;
/** Refuse absurd lengths rather than buffering forever (mongod's maxMessageSizeBytes). */
const MAX_MESSAGE_SIZE = 48_000_000;

/**
 * A tiny BSON encoder for flat documents of doubles, int32s and booleans.
 * @param {Array<[string, 'double' | 'int32' | 'bool', number | boolean]>} fields
 * @returns {Buffer}
 */
function bsonDocument(fields) {
  /** @type {Buffer[]} */
  const parts = [];
  for (const [name, type, value] of fields) {
    const key = Buffer.from(`${name}\0`, 'utf8');
    if (type === 'double') {
      const v = Buffer.allocUnsafe(8);
      v.writeDoubleLE(Number(value));
      parts.push(Buffer.from([0x01]), key, v);
    } else if (type === 'int32') {
      const v = Buffer.allocUnsafe(4);
      v.writeInt32LE(Number(value));
      parts.push(Buffer.from([0x10]), key, v);
    } else {
      parts.push(Buffer.from([0x08]), key, Buffer.from([value ? 1 : 0]));
    }
  }
  const body = Buffer.concat(parts);
  const doc = Buffer.allocUnsafe(4 + body.length + 1);
  doc.writeInt32LE(doc.length, 0);
  body.copy(doc, 4);
  doc[doc.length - 1] = 0;
  return doc;
}

/**
 * @param {number} length
 * @param {number} opCode
 * @returns {Buffer}
 */
function withHeader(length, opCode) {
  const out = Buffer.alloc(length);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(0, 4); // requestId
  out.writeInt32LE(0, 8); // responseTo, patched per reply
  out.writeInt32LE(opCode, 12);
  return out;
}

/** OP_MSG, flags 0, one kind-0 section: {ok: 1.0}. */
const OK_REPLY = (() => {
  const doc = bsonDocument([['ok', 'double', 1]]);
  const out = withHeader(HEADER_SIZE + 4 + 1 + doc.length, OP_MSG);
  out[HEADER_SIZE + 4] = 0;
  doc.copy(out, HEADER_SIZE + 5);
  return out;
})();

/** OP_REPLY (AwaitCapable, cursorId 0, startingFrom 0, numberReturned 1) carrying a standalone hello. */
const HELLO_REPLY = (() => {
  const doc = bsonDocument([
    ['ismaster', 'bool', true],
    ['maxBsonObjectSize', 'int32', 16 * 1024 * 1024],
    ['maxMessageSizeBytes', 'int32', MAX_MESSAGE_SIZE],
    ['maxWriteBatchSize', 'int32', 100_000],
    ['logicalSessionTimeoutMinutes', 'int32', 30],
    ['connectionId', 'int32', 1],
    ['minWireVersion', 'int32', 0],
    ['maxWireVersion', 'int32', 21],
    ['readOnly', 'bool', false],
    ['ok', 'double', 1],
  ]);
  const out = withHeader(HEADER_SIZE + 20 + doc.length, OP_REPLY);
  out.writeInt32LE(8, HEADER_SIZE); // responseFlags: AwaitCapable
  out.writeBigInt64LE(0n, HEADER_SIZE + 4); // cursorId
  out.writeInt32LE(0, HEADER_SIZE + 12); // startingFrom
  out.writeInt32LE(1, HEADER_SIZE + 16); // numberReturned
  doc.copy(out, HEADER_SIZE + 20);
  return out;
})();

/**
 * @param {Buffer} template
 * @param {number} responseTo
 * @returns {Buffer}
 */
function replyTo(template, responseTo) {
  const out = Buffer.allocUnsafe(template.length);
  template.copy(out);
  out.writeInt32LE(responseTo, 8);
  return out;
}

const server = createServer({ noDelay: true }, (socket) => {
  /** @type {Buffer | undefined} Bytes of an incomplete frame carried over from the last read. */
  let pending;
  socket.on('data', (chunk) => {
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    /** @type {Buffer[]} */
    const replies = [];
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readInt32LE(offset);
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
        socket.destroy();
        return;
      }
      if (buf.length - offset < length) break;
      const requestId = buf.readInt32LE(offset + 4);
      const opCode = buf.readInt32LE(offset + 12);
      if (opCode === OP_MSG) replies.push(replyTo(OK_REPLY, requestId));
      else if (opCode === OP_QUERY) replies.push(replyTo(HELLO_REPLY, requestId));
      offset += length;
    }
    if (offset < buf.length) pending = Buffer.from(buf.subarray(offset));
    if (replies.length === 1) socket.write(/** @type {Buffer} */ (replies[0]));
    else if (replies.length > 1) socket.write(Buffer.concat(replies));
  });
  socket.on('error', () => socket.destroy());
});

const portFlag = process.argv.indexOf('--port');
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;

server.listen({ port, host: '127.0.0.1' }, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  process.stdout.write(
    `${JSON.stringify({ s: 'I', c: 'NETWORK', id: 23016, ctx: 'listener', attr: { port: bound, ssl: 'off' }, msg: 'Waiting for connections' })}\n`,
  );
});

const shutdown = () => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The runner keeps our stdin open; when it goes away (even killed), so do we.
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
