import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { decodeDocument, encodeDocument } from '../bson/codec.js';
import { firstFieldName } from './bson.js';
import { HEADER_SIZE, writeHeader } from './header.js';
import { OpCode } from './opcodes.js';

export interface OpQueryRequest {
  flags: number;
  fullCollectionName: string;
  /** The database part of fullCollectionName. */
  db: string;
  /** The collection part: `$cmd` for a command. */
  collection: string;
  numberToSkip: number;
  numberToReturn: number;
  /** The command document, unwrapped from a legacy `{$query: ...}` / `{query: ...}` envelope. */
  body: Document;
  commandName: string;
}

/** Decodes an OP_QUERY; only its command form (`<db>.$cmd`) is meaningful to a 7.0 server. */
export function decodeOpQuery(frame: Buffer): OpQueryRequest {
  let offset = HEADER_SIZE;
  if (frame.length < offset + 4 + 1 + 8 + 5) throw new MongoError(ErrorCodes.InvalidBSON, 'OP_QUERY message is too short');
  const flags = frame.readInt32LE(offset);
  offset += 4;
  const nameEnd = frame.indexOf(0, offset);
  if (nameEnd < 0) throw new MongoError(ErrorCodes.InvalidBSON, 'OP_QUERY namespace is not null-terminated');
  const fullCollectionName = frame.toString('utf8', offset, nameEnd);
  offset = nameEnd + 1;
  if (offset + 8 + 5 > frame.length) throw new MongoError(ErrorCodes.InvalidBSON, 'OP_QUERY message is too short');
  const numberToSkip = frame.readInt32LE(offset);
  const numberToReturn = frame.readInt32LE(offset + 4);
  offset += 8;
  const querySize = frame.readInt32LE(offset);
  if (querySize < 5 || offset + querySize > frame.length) {
    throw new MongoError(ErrorCodes.InvalidBSON, `Invalid OP_QUERY document size ${querySize}`);
  }
  const queryBytes = frame.subarray(offset, offset + querySize);
  let body = decodeDocument(queryBytes);
  let commandName = firstFieldName(queryBytes) ?? '';
  // Legacy clients wrap the command with read preference: {$query: {...}, $readPreference: {...}}.
  const wrapped = commandName === '$query' || commandName === 'query' ? body[commandName] : undefined;
  if (wrapped !== undefined && typeof wrapped === 'object' && wrapped !== null && Object.getPrototypeOf(wrapped) === Object.prototype) {
    const inner = wrapped as Document;
    body = { ...inner, ...(body.$readPreference !== undefined ? { $readPreference: body.$readPreference } : {}) };
    commandName = Object.keys(inner)[0] ?? '';
  }
  const dot = fullCollectionName.indexOf('.');
  return {
    flags,
    fullCollectionName,
    db: dot < 0 ? fullCollectionName : fullCollectionName.slice(0, dot),
    collection: dot < 0 ? '' : fullCollectionName.slice(dot + 1),
    numberToSkip,
    numberToReturn,
    body,
    commandName,
  };
}

/** OP_REPLY responseFlags: AwaitCapable on command replies, QueryFailure on a legacy read's error. */
const AWAIT_CAPABLE = 8;
const QUERY_FAILURE = 2;

/** Encodes a single-document OP_REPLY (how a server answers an OP_QUERY command), from a document or its BSON. */
export function encodeOpReply(doc: Document | Buffer, requestId: number, responseTo: number, queryFailure = false): Buffer {
  const bson = Buffer.isBuffer(doc) ? doc : encodeDocument(doc);
  const length = HEADER_SIZE + 20 + bson.length;
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, requestId, responseTo, OpCode.OP_REPLY);
  out.writeInt32LE(queryFailure ? QUERY_FAILURE : AWAIT_CAPABLE, HEADER_SIZE);
  out.writeBigInt64LE(0n, HEADER_SIZE + 4);
  out.writeInt32LE(0, HEADER_SIZE + 12);
  out.writeInt32LE(1, HEADER_SIZE + 16);
  bson.copy(out, HEADER_SIZE + 20);
  return out;
}
