import type { Document } from 'bson';
import { MongoError, ProtocolViolation } from '../errors.js';
import { readHeader } from './header.js';
import { decodeOpCompressed, encodeOpCompressed } from './opCompressed.js';
import { OpCode, opCodeName } from './opcodes.js';
import { decodeOpMsg, encodeOpMsg, OpMsgFlags, readOpMsgFlags } from './opMsg.js';
import { decodeOpQuery, encodeOpReply } from './opQuery.js';

/** Where and how a reply goes: enough to answer even a request that failed to decode. */
export interface ReplyTarget {
  protocol: 'OP_MSG' | 'OP_QUERY';
  requestId: number;
  /** The client asked for no reply (OP_MSG moreToCome). */
  moreToCome: boolean;
  /** The request carried a CRC-32C, so the reply carries one too. */
  checksumPresent: boolean;
  /** The request came in OP_COMPRESSED with this compressor; the reply goes back the same way. */
  compressorId: number | undefined;
}

/** A command as the dispatcher sees it: no bytes, no opcodes. */
export interface WireRequest extends ReplyTarget {
  body: Document;
  commandName: string;
  /** `$db` for OP_MSG (undefined when absent or not a string), the namespace's db for OP_QUERY. */
  db: string | undefined;
  exhaustAllowed: boolean;
  /** Size of the message on the wire. */
  byteLength: number;
  /** Size of the message once decompressed: no document in it can be larger. */
  messageLength: number;
  /** A field name repeated inside the body's lsid (decoding kept only the last; the IDL refuses it). */
  lsidDuplicateField?: string | undefined;
}

export type DecodeResult =
  | { kind: 'request'; request: WireRequest }
  /** A malformed request: answered with this error. */
  | { kind: 'error'; error: MongoError; target: ReplyTarget }
  /**
   * A removed legacy read (OP_QUERY on a collection, OP_GET_MORE): mongod 7.0 answers with an
   * OP_REPLY flagged QueryFailure holding `{$err, code: 5739101, ok: 0}` and keeps the connection.
   */
  | { kind: 'legacyFailure'; errmsg: string; target: ReplyTarget }
  /** An opcode mongod neither answers nor closes on: logged and dropped. */
  | { kind: 'unsupported'; opCode: number };

/** Removed legacy writes: mongod 7.0 closes the connection on them (makeOpRunner). */
const REMOVED_OPCODES = new Set<number>([OpCode.OP_INSERT, OpCode.OP_UPDATE, OpCode.OP_DELETE, OpCode.OP_KILL_CURSORS]);

const LEGACY_SUFFIX =
  'is no longer supported. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal';

/**
 * Turns one frame into a request. A ProtocolViolation (thrown) means: close the connection, as
 * mongod does; a MongoError in the result means: answer with that error.
 */
export function decodeRequest(frame: Buffer): DecodeResult {
  const header = readHeader(frame);
  let message = frame;
  let opCode = header.opCode;
  let compressorId: number | undefined;
  const target: ReplyTarget = {
    protocol: opCode === OpCode.OP_QUERY ? 'OP_QUERY' : 'OP_MSG',
    requestId: header.requestId,
    moreToCome: false,
    checksumPresent: false,
    compressorId: undefined,
  };
  try {
    if (opCode === OpCode.OP_COMPRESSED) {
      const unwrapped = decodeOpCompressed(frame);
      message = unwrapped.inner;
      compressorId = unwrapped.compressorId;
      opCode = readHeader(message).opCode;
      target.protocol = opCode === OpCode.OP_QUERY ? 'OP_QUERY' : 'OP_MSG';
      target.compressorId = compressorId;
    }
    if (opCode === OpCode.OP_MSG) {
      const flags = readOpMsgFlags(message);
      target.moreToCome = (flags & OpMsgFlags.moreToCome) !== 0;
      target.checksumPresent = (flags & OpMsgFlags.checksumPresent) !== 0;
      const msg = decodeOpMsg(message);
      const db = msg.body.$db;
      return {
        kind: 'request',
        // Fields spelled out: spreading `target` here made decoding five times slower (V8).
        request: {
          protocol: target.protocol,
          requestId: target.requestId,
          moreToCome: target.moreToCome,
          checksumPresent: target.checksumPresent,
          compressorId: target.compressorId,
          body: msg.body,
          commandName: msg.commandName,
          db: typeof db === 'string' ? db : undefined,
          exhaustAllowed: msg.exhaustAllowed,
          byteLength: frame.length,
          messageLength: message.length,
          lsidDuplicateField: msg.lsidDuplicateField,
        },
      };
    }
    if (opCode === OpCode.OP_QUERY) {
      const query = decodeOpQuery(message);
      if (query.collection !== '$cmd') return { kind: 'legacyFailure', errmsg: `OP_QUERY ${LEGACY_SUFFIX}`, target };
      return {
        kind: 'request',
        request: {
          protocol: target.protocol,
          requestId: target.requestId,
          moreToCome: false,
          checksumPresent: false,
          compressorId: target.compressorId,
          body: query.body,
          commandName: query.commandName,
          db: query.db,
          exhaustAllowed: false,
          byteLength: frame.length,
          messageLength: message.length,
          lsidDuplicateField: undefined,
        },
      };
    }
  } catch (err) {
    if (err instanceof MongoError) return { kind: 'error', error: err, target };
    throw err;
  }
  if (opCode === OpCode.OP_GET_MORE) {
    return { kind: 'legacyFailure', errmsg: `OP_GET_MORE ${LEGACY_SUFFIX}`, target: { ...target, protocol: 'OP_QUERY' } };
  }
  if (REMOVED_OPCODES.has(opCode)) throw new ProtocolViolation(`${opCodeName(opCode)} is no longer supported`);
  return { kind: 'unsupported', opCode };
}

export interface EncodeReplyOptions {
  requestId: number;
  /** Exhaust streaming: the server will send another reply without a new request. */
  moreToCome?: boolean;
  /** OP_REPLY only: flag the reply QueryFailure (a legacy read's `$err` document). */
  queryFailure?: boolean;
}

/** Encodes a reply (a document or its BSON) for `target`: OP_MSG or OP_REPLY, checksummed and compressed as the request was. */
export function encodeReply(target: ReplyTarget, doc: Document | Buffer, options: EncodeReplyOptions): Buffer {
  const message =
    target.protocol === 'OP_QUERY'
      ? encodeOpReply(doc, options.requestId, target.requestId, options.queryFailure ?? false)
      : encodeOpMsg(doc, {
          requestId: options.requestId,
          responseTo: target.requestId,
          moreToCome: options.moreToCome ?? false,
          checksum: target.checksumPresent,
        });
  return target.compressorId === undefined ? message : encodeOpCompressed(message, target.compressorId);
}
