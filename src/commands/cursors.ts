import { Long, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { lsidKey, lsidText } from '../sessions/logicalSessionId.js';
import { typeName } from './args.js';
import { nonNegativeInt } from './cursorArgs.js';
import type { CommandContext } from './types.js';

function requireCollection(ctx: CommandContext, command: string, field: string): string {
  const value = ctx.body[field];
  if (value === undefined || value === null) {
    throw new MongoError(40414, `BSON field '${command}.${field}' is missing but a required field`);
  }
  if (typeof value !== 'string') {
    throw new MongoError(
      ErrorCodes.TypeMismatch,
      `BSON field '${command}.${field}' is the wrong type '${typeName(value)}', expected type 'string'`,
    );
  }
  return value;
}

/**
 * getMore (getmore_cmd.cpp): the next batch of a cursor, only from the namespace and the session
 * that opened it (validateLSID applies with auth off too, sessions-semantics.md §3.3).
 */
export function getMore(ctx: CommandContext): Document {
  const id = ctx.body.getMore;
  if (!(id instanceof Long)) {
    throw new MongoError(
      ErrorCodes.TypeMismatch,
      `BSON field 'getMore.getMore' is the wrong type '${typeName(id)}', expected type 'long'`,
    );
  }
  const collection = requireCollection(ctx, 'getMore', 'collection');
  const batchSize = nonNegativeInt(ctx.body.batchSize, 'batchSize', 'getMore') ?? 0;
  const cursor = ctx.server.cursors.get(id);
  if (cursor === undefined) throw new MongoError(ErrorCodes.CursorNotFound, `cursor id ${id.toString()} not found`);
  const ns = `${ctx.db}.${collection}`;
  if (cursor.ns !== ns) {
    throw new MongoError(
      ErrorCodes.Unauthorized,
      `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
    );
  }
  const mine = ctx.lsid;
  const theirs = cursor.lsid;
  if (theirs === undefined && mine !== undefined) {
    throw new MongoError(
      50736,
      `Cannot run getMore on cursor ${id.toString()}, which was not created in a session, in session ${lsidText(mine)}`,
    );
  }
  if (theirs !== undefined && mine === undefined) {
    throw new MongoError(
      50737,
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidText(theirs)}, without an lsid`,
    );
  }
  if (theirs !== undefined && mine !== undefined && lsidKey(theirs.id, theirs.uid) !== lsidKey(mine.id, mine.uid)) {
    throw new MongoError(
      50738,
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidText(theirs)}, in session ${lsidText(mine)}`,
    );
  }
  return { cursor: ctx.server.cursors.more(cursor, batchSize) };
}

/** killCursors: reports which ids it killed and which it did not find. */
export function killCursors(ctx: CommandContext): Document {
  const collection = requireCollection(ctx, 'killCursors', 'killCursors');
  const ids = ctx.body.cursors;
  if (ids === undefined || ids === null) {
    throw new MongoError(40414, "BSON field 'killCursors.cursors' is missing but a required field");
  }
  if (!Array.isArray(ids)) {
    throw new MongoError(
      ErrorCodes.TypeMismatch,
      `BSON field 'killCursors.cursors' is the wrong type '${typeName(ids)}', expected type 'array'`,
    );
  }
  const ns = `${ctx.db}.${collection}`;
  const cursorsKilled: Long[] = [];
  const cursorsNotFound: Long[] = [];
  ids.forEach((id, i) => {
    if (!(id instanceof Long)) {
      throw new MongoError(
        ErrorCodes.TypeMismatch,
        `BSON field 'killCursors.cursors.${i}' is the wrong type '${typeName(id)}', expected type 'long'`,
      );
    }
    const cursor = ctx.server.cursors.get(id);
    if (cursor !== undefined && cursor.ns === ns && ctx.server.cursors.kill(id)) cursorsKilled.push(id);
    else cursorsNotFound.push(id);
  });
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
}
