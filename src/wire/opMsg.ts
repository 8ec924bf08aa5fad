import type { Document } from 'bson';
import { ErrorCodes, MongoError, ProtocolViolation, LocationCodes } from '../errors.js';
import { decodeDocument, encodeDocument } from '../bson/codec.js';
import { setField } from '../bson/fields.js';
import { duplicateFieldIn, firstFieldName } from './bson.js';
import { crc32c } from './crc32c.js';
import { HEADER_SIZE, writeHeader } from './header.js';
import { OpCode } from './opcodes.js';

/** OP_MSG flag bits. Bits 0-15 are "required": a receiver must reject ones it does not know. */
export const OpMsgFlags = {
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const;

const KNOWN_REQUIRED_BITS = OpMsgFlags.checksumPresent | OpMsgFlags.moreToCome;
/** mongod accepts at most two kind-1 sections (TooManyDocumentSequences, 233, closes the connection). */
const MAX_DOCUMENT_SEQUENCES = 2;

export interface OpMsgRequest {
  flagBits: number;
  /** The kind-0 body with each kind-1 document sequence merged in as an array field. */
  body: Document;
  /** First field of the body as sent: the command name. */
  commandName: string;
  checksumPresent: boolean;
  moreToCome: boolean;
  exhaustAllowed: boolean;
  /** A field name repeated inside the body's lsid (the IDL refuses it: 40413). */
  lsidDuplicateField: string | undefined;
}

/** Reads the flag bits alone, so even a malformed message can be answered (or not) correctly. */
export function readOpMsgFlags(frame: Buffer): number {
  return frame.length >= HEADER_SIZE + 4 ? frame.readUInt32LE(HEADER_SIZE) : 0;
}

/**
 * Decodes an OP_MSG (mongod's OpMsg::parse rules): only known required flag bits, a verified
 * CRC-32C when one is present, exactly one body section, kind-1 sequences whose names do not
 * collide with body fields or each other.
 */
export function decodeOpMsg(frame: Buffer): OpMsgRequest {
  if (frame.length < HEADER_SIZE + 4) throw new MongoError(ErrorCodes.InvalidBSON, 'OP_MSG message is too short');
  const flagBits = frame.readUInt32LE(HEADER_SIZE);
  const checksumPresent = (flagBits & OpMsgFlags.checksumPresent) !== 0;
  const unknownRequired = flagBits & 0xffff & ~KNOWN_REQUIRED_BITS;
  if (unknownRequired !== 0) {
    // mongod: IllegalOpMsgFlag (223), a connection-fatal parse error.
    throw new ProtocolViolation(`Message contains illegal flags value: Ob${flagBits.toString(2).padStart(32, '0')}`);
  }
  let end = frame.length;
  let checksumOk = true;
  if (checksumPresent) {
    if (frame.length <= HEADER_SIZE + 4 + 4) {
      throw new MongoError(LocationCodes.ChecksumMessageTooShort, 'Invalid message size for an OpMsg containing a checksum');
    }
    end -= 4;
    const expected = frame.readUInt32LE(end);
    // mongod checks the sum last, after the sections parsed; ChecksumMismatch (288) closes the connection.
    checksumOk = crc32c(frame.subarray(0, end)) === expected;
  }

  let offset = HEADER_SIZE + 4;
  let bodyBytes: Buffer | undefined;
  const sequences: Array<{ name: string; docs: Document[] }> = [];
  while (offset < end) {
    const kind = frame[offset]!;
    offset += 1;
    if (kind === 0) {
      if (bodyBytes !== undefined) throw new MongoError(LocationCodes.MultipleBodySections, 'Multiple body sections in message');
      const size = readSize(frame, offset, end, 'body');
      bodyBytes = frame.subarray(offset, offset + size);
      offset += size;
    } else if (kind === 1) {
      const size = readSize(frame, offset, end, 'document sequence');
      if (size < 5) throw new MongoError(ErrorCodes.InvalidBSON, 'Invalid document sequence size');
      const seqEnd = offset + size;
      const nameEnd = frame.indexOf(0, offset + 4);
      if (nameEnd < 0 || nameEnd >= seqEnd) {
        throw new MongoError(ErrorCodes.InvalidBSON, 'Document sequence identifier is not null-terminated');
      }
      const name = frame.toString('utf8', offset + 4, nameEnd);
      if (sequences.length === MAX_DOCUMENT_SEQUENCES) {
        throw new ProtocolViolation('Too many document sequences in OP_MSG');
      }
      if (sequences.some((s) => s.name === name)) {
        throw new MongoError(LocationCodes.DuplicateDocumentSequence, `Duplicate document sequence: ${name}`);
      }
      const docs: Document[] = [];
      let p = nameEnd + 1;
      while (p < seqEnd) {
        const docSize = readSize(frame, p, seqEnd, 'document in sequence');
        docs.push(decodeDocument(frame.subarray(p, p + docSize)));
        p += docSize;
      }
      sequences.push({ name, docs });
      offset = seqEnd;
    } else if (kind === 2) {
      // A security token section: only for multitenant deployments (op_msg.cpp).
      throw new MongoError(ErrorCodes.Unauthorized, 'Unsupported Security Token provided');
    } else {
      throw new MongoError(LocationCodes.UnknownSectionKind, `Unknown section kind ${kind}`);
    }
  }
  if (bodyBytes === undefined) throw new MongoError(LocationCodes.OpMsgWithoutBody, 'OP_MSG messages must have a body');

  const body = decodeDocument(bodyBytes);
  for (const { name, docs } of sequences) {
    if (hasPath(body, name)) {
      throw new MongoError(LocationCodes.BodyAndSequenceDuplicate, `Duplicate field between body and document sequence ${name}`);
    }
    // A sequence named "__proto__" becomes a field, not the body's prototype.
    setField(body, name, docs);
  }
  if (!checksumOk) throw new ProtocolViolation('OP_MSG checksum does not match contents');
  return {
    flagBits,
    body,
    commandName: firstFieldName(bodyBytes) ?? '',
    checksumPresent,
    moreToCome: (flagBits & OpMsgFlags.moreToCome) !== 0,
    exhaustAllowed: (flagBits & OpMsgFlags.exhaustAllowed) !== 0,
    lsidDuplicateField: typeof body.lsid === 'object' && body.lsid !== null ? duplicateFieldIn(bodyBytes, 'lsid') : undefined,
  };
}

/** Whether a dotted path names something in the body (mongod looks sequences up as paths). */
function hasPath(body: Document, path: string): boolean {
  let values: unknown[] = [body];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const v of values) {
      if (Array.isArray(v)) {
        for (const e of v) if (isObject(e) && Object.prototype.hasOwnProperty.call(e, part)) next.push(e[part]);
        if (/^\d+$/.test(part) && Number(part) < v.length) next.push(v[Number(part)]);
      } else if (isObject(v) && Object.prototype.hasOwnProperty.call(v, part)) {
        next.push(v[part]);
      }
    }
    if (next.length === 0) return false;
    values = next;
  }
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function readSize(frame: Buffer, offset: number, end: number, what: string): number {
  if (offset + 4 > end) throw new MongoError(ErrorCodes.InvalidBSON, `Truncated ${what}`);
  const size = frame.readInt32LE(offset);
  if (size < 5 || offset + size > end) {
    throw new MongoError(ErrorCodes.InvalidBSON, `Invalid ${what} size ${size}`);
  }
  return size;
}

export interface OpMsgReplyOptions {
  requestId: number;
  responseTo: number;
  moreToCome?: boolean;
  checksum?: boolean;
}

/** Encodes a reply body (or pre-encoded BSON) as an OP_MSG with one kind-0 section. */
export function encodeOpMsg(body: Document | Buffer, options: OpMsgReplyOptions): Buffer {
  const bson = Buffer.isBuffer(body) ? body : encodeDocument(body);
  const checksumSize = options.checksum ? 4 : 0;
  const length = HEADER_SIZE + 4 + 1 + bson.length + checksumSize;
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, options.requestId, options.responseTo, OpCode.OP_MSG);
  let flags = 0;
  if (options.moreToCome) flags |= OpMsgFlags.moreToCome;
  if (options.checksum) flags |= OpMsgFlags.checksumPresent;
  out.writeUInt32LE(flags, HEADER_SIZE);
  out[HEADER_SIZE + 4] = 0;
  bson.copy(out, HEADER_SIZE + 5);
  if (options.checksum) out.writeUInt32LE(crc32c(out.subarray(0, length - 4)), length - 4);
  return out;
}
