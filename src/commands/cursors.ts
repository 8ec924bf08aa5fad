import { missingField, wrongType } from '../bson/idlErrors.js';
import { Long, type Document } from 'bson';
import { mayDo, notAuthorized, userName } from '../auth/authorize.js';
import { Resource } from '../auth/privileges.js';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { lsidKey, lsidText } from '../sessions/logicalSessionId.js';
import { nonNegativeInt } from './cursorArgs.js';
import type { CommandContext } from './types.js';

function requireCollection(ctx: CommandContext, command: string, field: string): string {
  const value = ctx.body[field];
  if (value === undefined || value === null) {
    throw missingField(`${command}.${field}`);
  }
  if (typeof value !== 'string') {
    throw wrongType(`${command}.${field}`, value, 'string');
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
    throw wrongType(`getMore.getMore`, id, 'long');
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
  const sameSession = mine !== undefined && theirs !== undefined && lsidKey(theirs.id, theirs.uid) === lsidKey(mine.id, mine.uid);
  // With auth enforced only the session that opened a cursor may continue it, unless the caller
  // may impersonate (AuthorizationSessionImpl::checkCursorSessionPrivilege).
  if (ctx.server.auth.enforced && !sameSession && !mayDo(ctx, Resource.cluster(), 'impersonate')) {
    if (mine === undefined && theirs === undefined) {
      if (cursor.owner !== userName(ctx.connection)) {
        throw new MongoError(ErrorCodes.Unauthorized, `cursor id ${id.toString()} was not created by the authenticated user`);
      }
    } else {
      throw new MongoError(
        ErrorCodes.Unauthorized,
        `Cursor session id (${theirs === undefined ? 'none' : lsidText(theirs)}) is not the same as the operation context's session id (${mine === undefined ? 'none' : lsidText(mine)})`,
      );
    }
  }
  if (theirs === undefined && mine !== undefined) {
    throw new MongoError(
      LocationCodes.GetMoreCursorNotInSession,
      `Cannot run getMore on cursor ${id.toString()}, which was not created in a session, in session ${lsidText(mine)}`,
    );
  }
  if (theirs !== undefined && mine === undefined) {
    throw new MongoError(
      LocationCodes.GetMoreWithoutSession,
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidText(theirs)}, without an lsid`,
    );
  }
  if (theirs !== undefined && mine !== undefined && !sameSession) {
    throw new MongoError(
      LocationCodes.GetMoreOtherSession,
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
    throw missingField('killCursors.cursors');
  }
  if (!Array.isArray(ids)) {
    throw wrongType(`killCursors.cursors`, ids, 'array');
  }
  const ns = `${ctx.db}.${collection}`;
  const cursorsKilled: Long[] = [];
  const cursorsNotFound: Long[] = [];
  ids.forEach((id, i) => {
    if (!(id instanceof Long)) {
      throw wrongType(`killCursors.cursors.${i}`, id, 'long');
    }
    const cursor = ctx.server.cursors.get(id);
    // Under auth another user's cursor may only be killed with killAnyCursor (mongod's checkAuthForKillCursors).
    if (cursor !== undefined && ctx.server.auth.enforced && cursor.owner !== userName(ctx.connection) && !mayDo(ctx, Resource.namespace(ctx.db, collection), 'killAnyCursor')) {
      throw notAuthorized(ctx);
    }
    if (cursor !== undefined && cursor.ns === ns && ctx.server.cursors.kill(id)) cursorsKilled.push(id);
    else cursorsNotFound.push(id);
  });
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
}
