/**
 * Hand-rolled wire-message builders for the codec tests and the fuzzer. They are deliberately
 * independent of src/wire (their own CRC-32C, zlib and snappy calls), so a test that decodes what
 * these build checks the codec against the wire protocol, not against itself.
 */
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import { BSON, type Document } from 'bson';

const require = createRequire(import.meta.url);
const snappy = require('snappyjs') as { compress(data: Uint8Array): Uint8Array };

export const OP = {
  REPLY: 1,
  UPDATE: 2001,
  INSERT: 2002,
  RESERVED: 2003,
  QUERY: 2004,
  GET_MORE: 2005,
  DELETE: 2006,
  KILL_CURSORS: 2007,
  COMPRESSED: 2012,
  MSG: 2013,
} as const;

export const FLAG = {
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const;

export function bson(doc: Document): Buffer {
  const bytes = BSON.serialize(doc);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function docBytes(doc: Document | Buffer): Buffer {
  return Buffer.isBuffer(doc) ? doc : bson(doc);
}

export function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeInt32LE(length | 0, 0);
  out.writeInt32LE(requestId | 0, 4);
  out.writeInt32LE(responseTo | 0, 8);
  out.writeInt32LE(opCode | 0, 12);
  return out;
}

/** A whole message: header (length computed) + payload. */
export function message(opCode: number, payload: Buffer, requestId = 1, responseTo = 0): Buffer {
  return Buffer.concat([header(16 + payload.length, requestId, responseTo, opCode), payload]);
}

let crcTable: Uint32Array | undefined;
/** Reference CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). */
export function refCrc32c(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export type Section =
  | { kind: 0; doc: Document | Buffer }
  | { kind: 1; name: string; docs: ReadonlyArray<Document | Buffer> }
  /** Any bytes after a kind byte: unknown kinds, truncated sections, garbage. */
  | { kind: number; raw: Buffer };

export function sectionBytes(section: Section): Buffer {
  if ('raw' in section) return Buffer.concat([Buffer.from([section.kind & 0xff]), section.raw]);
  if (section.kind === 0) return Buffer.concat([Buffer.from([0]), docBytes(section.doc)]);
  const name = Buffer.from(`${section.name}\0`, 'utf8');
  const docs = section.docs.map(docBytes);
  const size = 4 + name.length + docs.reduce((n, d) => n + d.length, 0);
  const sizeBytes = Buffer.alloc(4);
  sizeBytes.writeInt32LE(size, 0);
  return Buffer.concat([Buffer.from([1]), sizeBytes, name, ...docs]);
}

export interface OpMsgSpec {
  flags?: number;
  sections: readonly Section[];
  requestId?: number;
  responseTo?: number;
  /** Append a CRC-32C (and set checksumPresent): true = correct, 'corrupt' = wrong by one bit. */
  checksum?: boolean | 'corrupt';
}

export function opMsg(spec: OpMsgSpec): Buffer {
  let flags = spec.flags ?? 0;
  if (spec.checksum) flags |= FLAG.checksumPresent;
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(flags >>> 0, 0);
  const payload = Buffer.concat([flagBytes, ...spec.sections.map(sectionBytes)]);
  const length = 16 + payload.length + (spec.checksum ? 4 : 0);
  const out = Buffer.concat([header(length, spec.requestId ?? 1, spec.responseTo ?? 0, OP.MSG), payload, Buffer.alloc(spec.checksum ? 4 : 0)]);
  if (spec.checksum) {
    let sum = refCrc32c(out.subarray(0, length - 4));
    if (spec.checksum === 'corrupt') sum = (sum ^ 1) >>> 0;
    out.writeUInt32LE(sum, length - 4);
  }
  return out;
}

/** The usual single-body OP_MSG. */
export function opMsgBody(body: Document | Buffer, flags = 0, requestId = 1): Buffer {
  return opMsg({ flags, requestId, sections: [{ kind: 0, doc: body }] });
}

export interface OpQuerySpec {
  flags?: number;
  ns: string;
  skip?: number;
  limit?: number;
  query: Document | Buffer;
  fields?: Document | Buffer;
  requestId?: number;
}

export function opQuery(spec: OpQuerySpec): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32LE(spec.flags ?? 0, 0);
  const ns = Buffer.from(`${spec.ns}\0`, 'utf8');
  const nums = Buffer.alloc(8);
  nums.writeInt32LE(spec.skip ?? 0, 0);
  nums.writeInt32LE(spec.limit ?? -1, 4);
  const parts = [head, ns, nums, docBytes(spec.query)];
  if (spec.fields !== undefined) parts.push(docBytes(spec.fields));
  return message(OP.QUERY, Buffer.concat(parts), spec.requestId ?? 1);
}

export function compressPayload(compressorId: number, data: Buffer): Buffer {
  switch (compressorId) {
    case 0:
      return data;
    case 1: {
      const out = snappy.compress(data);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    case 2:
      return deflateSync(data);
    default:
      return data;
  }
}

export interface CompressedSpec {
  /** Override the recorded original opcode (default: the inner message's). */
  originalOpCode?: number;
  /** Override uncompressedSize (default: the inner message's length minus its header). */
  uncompressedSize?: number;
  /** Use these bytes as the compressed payload instead of compressing. */
  payload?: Buffer;
}

/** Wraps a whole message in OP_COMPRESSED. */
export function opCompressed(inner: Buffer, compressorId: number, spec: CompressedSpec = {}): Buffer {
  const body = inner.subarray(16);
  const payload = spec.payload ?? compressPayload(compressorId, body);
  const prefix = Buffer.alloc(9);
  prefix.writeInt32LE(spec.originalOpCode ?? inner.readInt32LE(12), 0);
  prefix.writeInt32LE(spec.uncompressedSize ?? body.length, 4);
  prefix[8] = compressorId & 0xff;
  return message(OP.COMPRESSED, Buffer.concat([prefix, payload]), inner.readInt32LE(4), inner.readInt32LE(8));
}

/** Splits a stream of whole frames by their length fields (for reading replies). */
export function splitFrames(stream: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let offset = 0;
  while (stream.length - offset >= 4) {
    const length = stream.readInt32LE(offset);
    if (length < 16 || stream.length - offset < length) break;
    frames.push(stream.subarray(offset, offset + length));
    offset += length;
  }
  return { frames, rest: stream.subarray(offset) };
}
