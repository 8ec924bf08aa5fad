/**
 * A small wire-protocol client over a raw TCP socket, for the cases the official driver cannot
 * express: OP_QUERY/OP_REPLY, OP_COMPRESSED, checksums, moreToCome, exhaust streaming, malformed
 * frames. It encodes its own messages and decodes every reply independently of the server's codec
 * (its own CRC-32C, zlib from node, snappy from snappyjs).
 */
import { connect, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { deflateSync, inflateSync } from 'node:zlib';
import { BSON, type Document } from 'bson';

const require = createRequire(import.meta.url);
const snappy = require('snappyjs') as {
  compress(data: Uint8Array): Uint8Array;
  uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
};

export const OP_REPLY = 1;
export const OP_INSERT = 2002;
export const OP_QUERY = 2004;
export const OP_GET_MORE = 2005;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const FLAG_CHECKSUM_PRESENT = 1 << 0;
export const FLAG_MORE_TO_COME = 1 << 1;
export const FLAG_EXHAUST_ALLOWED = 1 << 16;

export const COMPRESSOR = { noop: 0, snappy: 1, zlib: 2 } as const;

// ---------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78: the OP_MSG checksum.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Encoding requests.

let lastRequestId = 1000;
export function nextRequestId(): number {
  lastRequestId += 1;
  return lastRequestId;
}

function bson(doc: Document): Buffer {
  const bytes = BSON.serialize(doc);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
  return out;
}

/** Builds a whole message from an opcode and its body bytes (after the header). */
export function frame(opCode: number, body: Buffer, requestId = nextRequestId(), responseTo = 0): Buffer {
  return Buffer.concat([header(16 + body.length, requestId, responseTo, opCode), body]);
}

export type Section = { kind: 0; doc: Document } | { kind: 1; name: string; docs: Document[] } | { kind: number; raw: Buffer };

export interface OpMsgOptions {
  requestId?: number;
  flags?: number;
  /** Append a correct CRC-32C (sets checksumPresent). */
  checksum?: boolean;
  /** Append this value as the checksum instead of the correct one (sets checksumPresent). */
  badChecksum?: number;
  /** Sections instead of a single kind-0 body. */
  sections?: Section[];
}

function encodeSection(section: Section): Buffer {
  if ('doc' in section) return Buffer.concat([Buffer.from([0]), bson(section.doc)]);
  if ('docs' in section) {
    const name = Buffer.from(`${section.name}\0`, 'utf8');
    const docs = section.docs.map(bson);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + name.length + docs.reduce((n, d) => n + d.length, 0));
    return Buffer.concat([Buffer.from([1]), size, name, ...docs]);
  }
  return Buffer.concat([Buffer.from([section.kind]), section.raw]);
}

export function encodeOpMsg(doc: Document | undefined, options: OpMsgOptions = {}): Buffer {
  const requestId = options.requestId ?? nextRequestId();
  const withChecksum = options.checksum === true || options.badChecksum !== undefined;
  let flags = options.flags ?? 0;
  if (withChecksum) flags |= FLAG_CHECKSUM_PRESENT;
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(flags >>> 0);
  const sections = options.sections ?? (doc === undefined ? [] : [{ kind: 0 as const, doc }]);
  const body = Buffer.concat([flagBytes, ...sections.map(encodeSection)]);
  const length = 16 + body.length + (withChecksum ? 4 : 0);
  const message = Buffer.concat([header(length, requestId, 0, OP_MSG), body, Buffer.alloc(withChecksum ? 4 : 0)]);
  if (withChecksum) {
    const sum = options.badChecksum ?? crc32c(message.subarray(0, length - 4));
    message.writeUInt32LE(sum >>> 0, length - 4);
  }
  return message;
}

export interface OpQueryOptions {
  requestId?: number;
  flags?: number;
  numberToSkip?: number;
  numberToReturn?: number;
}

export function encodeOpQuery(ns: string, doc: Document, options: OpQueryOptions = {}): Buffer {
  const fixed = Buffer.alloc(4);
  fixed.writeInt32LE(options.flags ?? 0);
  const counts = Buffer.alloc(8);
  counts.writeInt32LE(options.numberToSkip ?? 0, 0);
  counts.writeInt32LE(options.numberToReturn ?? -1, 4);
  return frame(OP_QUERY, Buffer.concat([fixed, Buffer.from(`${ns}\0`, 'utf8'), counts, bson(doc)]), options.requestId);
}

export function compressPayload(compressorId: number, data: Buffer): Buffer {
  if (compressorId === COMPRESSOR.noop) return data;
  if (compressorId === COMPRESSOR.zlib) return deflateSync(data);
  if (compressorId === COMPRESSOR.snappy) return Buffer.from(snappy.compress(data));
  throw new Error(`no compressor ${compressorId}`);
}

function decompressPayload(compressorId: number, data: Buffer, size: number): Buffer {
  if (compressorId === COMPRESSOR.noop) return data;
  if (compressorId === COMPRESSOR.zlib) return inflateSync(data);
  if (compressorId === COMPRESSOR.snappy) return Buffer.from(snappy.uncompress(data, size));
  throw new Error(`no compressor ${compressorId}`);
}

/** Wraps a whole message in OP_COMPRESSED (same requestId/responseTo). */
export function compressMessage(message: Buffer, compressorId: number): Buffer {
  const prefix = Buffer.alloc(9);
  prefix.writeInt32LE(message.readInt32LE(12), 0);
  prefix.writeInt32LE(message.length - 16, 4);
  prefix[8] = compressorId;
  const payload = compressPayload(compressorId, message.subarray(16));
  return frame(OP_COMPRESSED, Buffer.concat([prefix, payload]), message.readInt32LE(4), message.readInt32LE(8));
}

// ---------------------------------------------------------------------------------------------
// Decoding replies.

export interface Reply {
  /** The bytes as received. */
  raw: Buffer;
  messageLength: number;
  requestId: number;
  responseTo: number;
  /** The opcode on the wire (2012 when compressed). */
  wireOpCode: number;
  /** The opcode of the (decompressed) message: 1 or 2013. */
  opCode: number;
  /** Set when the reply came in OP_COMPRESSED. */
  compressorId?: number;
  /** OP_MSG flag bits. */
  flags?: number;
  /** OP_MSG trailing checksum as sent. */
  checksum?: number;
  /** OP_MSG: whether the checksum matches the bytes. */
  checksumValid?: boolean;
  /** OP_REPLY fields. */
  responseFlags?: number;
  cursorId?: bigint;
  startingFrom?: number;
  numberReturned?: number;
  /** OP_MSG body, or the first OP_REPLY document. */
  doc: Document;
  /** Every OP_REPLY document. */
  docs: Document[];
}

export function decodeReply(raw: Buffer): Reply {
  const wireOpCode = raw.readInt32LE(12);
  let message = raw;
  let compressorId: number | undefined;
  if (wireOpCode === OP_COMPRESSED) {
    const originalOpCode = raw.readInt32LE(16);
    const size = raw.readInt32LE(20);
    compressorId = raw[24]!;
    const inner = decompressPayload(compressorId, raw.subarray(25), size);
    if (inner.length !== size) throw new Error(`decompressed ${inner.length} bytes, header says ${size}`);
    message = Buffer.concat([header(16 + size, raw.readInt32LE(4), raw.readInt32LE(8), originalOpCode), inner]);
  }
  const opCode = message.readInt32LE(12);
  const base = {
    raw,
    messageLength: raw.readInt32LE(0),
    requestId: raw.readInt32LE(4),
    responseTo: raw.readInt32LE(8),
    wireOpCode,
    opCode,
    ...(compressorId === undefined ? {} : { compressorId }),
  };
  if (opCode === OP_REPLY) {
    const numberReturned = message.readInt32LE(32);
    const docs: Document[] = [];
    let p = 36;
    for (let i = 0; i < numberReturned; i++) {
      const size = message.readInt32LE(p);
      docs.push(BSON.deserialize(message.subarray(p, p + size), { bsonRegExp: true }));
      p += size;
    }
    return {
      ...base,
      responseFlags: message.readInt32LE(16),
      cursorId: message.readBigInt64LE(20),
      startingFrom: message.readInt32LE(28),
      numberReturned,
      doc: docs[0] ?? {},
      docs,
    };
  }
  if (opCode === OP_MSG) {
    const flags = message.readUInt32LE(16);
    let end = message.length;
    let checksum: number | undefined;
    let checksumValid: boolean | undefined;
    if (flags & FLAG_CHECKSUM_PRESENT) {
      end -= 4;
      checksum = message.readUInt32LE(end);
      checksumValid = crc32c(message.subarray(0, end)) === checksum;
    }
    let p = 20;
    let doc: Document | undefined;
    while (p < end) {
      const kind = message[p]!;
      p += 1;
      const size = message.readInt32LE(p);
      if (kind === 0) doc = BSON.deserialize(message.subarray(p, p + size), { bsonRegExp: true });
      p += size;
    }
    return { ...base, flags, checksum, checksumValid, doc: doc ?? {}, docs: doc === undefined ? [] : [doc] };
  }
  throw new Error(`unexpected reply opcode ${opCode}`);
}

// ---------------------------------------------------------------------------------------------
// The connection.

export class RawClient {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly replies: Reply[] = [];
  private readonly waiters: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private isClosed = false;
  /** Every reply received, in order, including ones already consumed by next(). */
  readonly received: Reply[] = [];
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A reset by the server is an expected outcome in several tests; 'close' follows.
    socket.on('error', () => {});
    socket.once('close', () => {
      this.isClosed = true;
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('connection closed'));
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Replies received but not yet taken by next(). */
  get pending(): number {
    return this.replies.length;
  }

  /** `host:port` of this client's end, as the server sees it. */
  get localAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readInt32LE(0);
      if (this.buffer.length < length) break;
      const reply = decodeReply(Buffer.from(this.buffer.subarray(0, length)));
      this.buffer = this.buffer.subarray(length);
      this.received.push(reply);
      const waiter = this.waiters.shift();
      if (waiter !== undefined) waiter.resolve(reply);
      else this.replies.push(reply);
    }
  }

  /** Writes raw bytes. */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** Writes bytes one at a time, each flushed before the next. */
  async writeByteByByte(bytes: Buffer): Promise<void> {
    for (let i = 0; i < bytes.length; i++) await this.write(bytes.subarray(i, i + 1));
  }

  /** The next reply (rejects if the connection closes first, or after timeoutMs). */
  next(timeoutMs = 10_000): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.isClosed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (r: Reply) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends an OP_MSG and returns its requestId. */
  async sendMsg(doc: Document | undefined, options: OpMsgOptions & { compressor?: number } = {}): Promise<number> {
    const requestId = options.requestId ?? nextRequestId();
    let message = encodeOpMsg(doc, { ...options, requestId });
    if (options.compressor !== undefined) message = compressMessage(message, options.compressor);
    await this.write(message);
    return requestId;
  }

  /** Sends an OP_MSG command and waits for its reply (which must answer it). */
  async command(doc: Document | undefined, options: OpMsgOptions & { compressor?: number } = {}): Promise<Reply> {
    const requestId = await this.sendMsg(doc, options);
    const reply = await this.next();
    if (reply.responseTo !== requestId) {
      throw new Error(`reply answers ${reply.responseTo}, expected ${requestId}`);
    }
    return reply;
  }

  /** Sends an OP_QUERY command on `<db>.$cmd` (or any namespace) and waits for the reply. */
  async query(ns: string, doc: Document, options: OpQueryOptions = {}): Promise<Reply> {
    const message = encodeOpQuery(ns, doc, options);
    await this.write(message);
    const reply = await this.next();
    if (reply.responseTo !== message.readInt32LE(4)) throw new Error('OP_REPLY answers another request');
    return reply;
  }

  /** Closes our end and waits for the socket to go. */
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

/** Runs `fn` against a fresh raw connection, always closing it. */
export async function withRawClient<T>(port: number, fn: (client: RawClient) => Promise<T>): Promise<T> {
  const client = await RawClient.connect(port);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/**
 * Polls `condition` once per event-loop turn (no sleeping) until it holds; for waiting on
 * server-side state such as a waiting awaitable hello. Throws if it has not held within `limitMs`.
 */
export async function until(condition: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${limitMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The first (kind 0) body of an OP_MSG reply, decoded with Int64 kept as Long (cursor ids). */
export function replyBody(raw: Buffer): Document {
  const size = raw.readInt32LE(21);
  return BSON.deserialize(raw.subarray(21, 21 + size), { promoteLongs: false, bsonRegExp: true });
}

/** A command over the raw socket (no lsid unless the document carries one); its reply body. */
export async function rawCmd(raw: RawClient, doc: Document, db = 'admin'): Promise<Document> {
  return replyBody((await raw.command({ ...doc, $db: db })).raw);
}
