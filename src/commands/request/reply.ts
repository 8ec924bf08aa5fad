import { Double, type Document } from 'bson';
import { encodeDocument } from '../../bson/codec.js';
import { withFields } from '../../bson/fields.js';
import { errorReply, ErrorCodes, MongoError } from '../../errors.js';
import type { Log } from '../../log.js';
import type { WireRequest } from '../../wire/request.js';

/** The `ok: 1` of every successful reply (a double, as mongod sends it). */
export const OK = new Double(1);

/** The BSON a reply was made with (see withBson), and the reply it belongs to. */
interface ReplyBson {
  readonly of: Document;
  readonly bytes: Buffer;
}

/**
 * Where a reply made with its BSON keeps it: a symbol-keyed field, which no encoder, for-in or
 * withFields copies. (A WeakMap cost 150-200 ns per reply and ephemeron work in every GC.)
 */
const REPLY_BSON: unique symbol = Symbol('replyBson');

type WithReplyBson = Document & { [REPLY_BSON]?: ReplyBson };

/**
 * A reply made with its BSON (a constant one, or one filled in from a template), so sending it
 * serialises nothing. The reply must not change afterwards: one with fields added is a new
 * document (withFields), which is encoded as usual.
 */
export function withBson(reply: Document, bytes: Buffer): Document {
  (reply as WithReplyBson)[REPLY_BSON] = { of: reply, bytes };
  return reply;
}

/**
 * What a reply is sent as: its BSON when it was made with it, else the document, to encode. A
 * copy made by object spread carries the field along, so the BSON counts only for its own reply.
 */
export function replyBody(reply: Document): Document | Buffer {
  const bson = (reply as WithReplyBson)[REPLY_BSON];
  return bson !== undefined && bson.of === reply ? bson.bytes : reply;
}

/**
 * The reply of a command that answers success and nothing else (ping, endSessions ...): one
 * frozen document whose BSON is made once, so answering it serialises nothing.
 */
export const OK_REPLY_BSON: Buffer = encodeDocument({ ok: OK });
export const OK_REPLY: Document = Object.freeze(withBson({ ok: OK }, OK_REPLY_BSON));

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
