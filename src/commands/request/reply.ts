import { Double, type Document } from 'bson';
import { encodeDocument } from '../../bson/codec.js';
import { withFields } from '../../bson/fields.js';
import { errorReply, ErrorCodes, MongoError } from '../../errors.js';
import type { Log } from '../../log.js';
import type { WireRequest } from '../../wire/request.js';

/** The `ok: 1` of every successful reply (a double, as mongod sends it). */
export const OK = new Double(1);

/** Replies made with their BSON (see withBson): the bytes the reply is sent as. */
const replyBson = new WeakMap<Document, Buffer>();

/**
 * A reply made with its BSON (a constant one, or one filled in from a template), so sending it
 * serialises nothing. The reply must not change afterwards: one with fields added is a new
 * document (withFields), which is encoded as usual.
 */
export function withBson(reply: Document, bson: Buffer): Document {
  replyBson.set(reply, bson);
  return reply;
}

/** What a reply is sent as: its BSON when it was made with it, else the document, to encode. */
export function replyBody(reply: Document): Document | Buffer {
  return replyBson.get(reply) ?? reply;
}

/**
 * The reply of a command that answers success and nothing else (ping, endSessions ...): one
 * frozen document whose BSON is made once, so answering it serialises nothing.
 */
export const OK_REPLY: Document = Object.freeze({ ok: OK });
export const OK_REPLY_BSON: Buffer = encodeDocument(OK_REPLY);
withBson(OK_REPLY, OK_REPLY_BSON);

/** Stage 6, reply: a handler's result with `ok: 1` (unless it set `ok` itself). */
export function okReply(result: Document): Document {
  if ('ok' in result) return result;
  for (const _field in result) return withFields(result, OK_REPLY);
  return OK_REPLY;
}

/**
 * Stage 6, reply, for a failure: a MongoError is mongod's error document; anything else is a bug,
 * logged as mongod logs an assertion (21966) and answered as InternalError.
 */
export function failureReply(err: unknown, log: Log, clientId: number, request: WireRequest): Document {
  if (err instanceof MongoError) return errorReply(err);
  log.error({
    c: 'COMMAND',
    id: 21966,
    ctx: `conn${clientId}`,
    msg: 'Assertion while executing command',
    attr: { command: request.commandName, db: request.db, error: String((err as Error)?.stack ?? err) },
  });
  return errorReply(new MongoError(ErrorCodes.InternalError, String((err as Error)?.message ?? err)));
}
