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
  /** OP_QUERY only: the collection part of the namespace (`$cmd` for commands). */
  queryCollection: string | undefined;
  exhaustAllowed: boolean;
  /** Size of the message on the wire. */
  byteLength: number;
}

export type DecodeResult =
  | { ok: true; request: WireRequest }
  | { ok: false; error: MongoError; target: ReplyTarget }
  /** An opcode mongod neither answers nor closes on: logged and dropped. */
  | { ok: false; error: undefined; unsupportedOpCode: number };

/** Opcodes removed in mongod 6.0 whose receipt closes the connection (7.0's makeOpRunner). */
const REMOVED_OPCODES = new Set<number>([OpCode.OP_INSERT, OpCode.OP_UPDATE, OpCode.OP_DELETE, OpCode.OP_KILL_CURSORS, OpCode.OP_GET_MORE]);

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
        ok: true,
        request: {
          ...target,
          body: msg.body,
          commandName: msg.commandName,
          db: typeof db === 'string' ? db : undefined,
          queryCollection: undefined,
          exhaustAllowed: msg.exhaustAllowed,
          byteLength: frame.length,
        },
      };
    }
    if (opCode === OpCode.OP_QUERY) {
      const query = decodeOpQuery(message);
      return {
        ok: true,
        request: {
          ...target,
          body: query.body,
          commandName: query.commandName,
          db: query.db,
          queryCollection: query.collection,
          exhaustAllowed: false,
          byteLength: frame.length,
        },
      };
    }
  } catch (err) {
    if (err instanceof MongoError) return { ok: false, error: err, target };
    throw err;
  }
  if (REMOVED_OPCODES.has(opCode)) throw new ProtocolViolation(`${opCodeName(opCode)} is no longer supported`);
  return { ok: false, error: undefined, unsupportedOpCode: opCode };
}

export interface EncodeReplyOptions {
  requestId: number;
  /** Exhaust streaming: the server will send another reply without a new request. */
  moreToCome?: boolean;
}

/** Encodes a reply for `target`: OP_MSG or OP_REPLY, checksummed and compressed as the request was. */
export function encodeReply(target: ReplyTarget, doc: Document, options: EncodeReplyOptions): Buffer {
  const message =
    target.protocol === 'OP_QUERY'
      ? encodeOpReply(doc, options.requestId, target.requestId)
      : encodeOpMsg(doc, {
          requestId: options.requestId,
          responseTo: target.requestId,
          moreToCome: options.moreToCome ?? false,
          checksum: target.checksumPresent,
        });
  return target.compressorId === undefined ? message : encodeOpCompressed(message, target.compressorId);
}
