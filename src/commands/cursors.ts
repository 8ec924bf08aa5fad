import { missingField, wrongType } from '../bson/idlErrors.js';
import { Long, type Document } from 'bson';
import { notAuthorized } from '../auth/authorize.js';
import { Resource } from '../auth/privileges.js';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { numberValue } from '../bson/args.js';
import { lsidText } from '../sessions/logicalSessionId.js';
import { nonNegativeInt } from './cursorArgs.js';
import { onCollection } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

function requireCollection(ctx: CommandContext<never>, command: string, field: string): string {
  const value = ctx.body[field];
  if (value === undefined || value === null) {
    throw missingField(`${command}.${field}`);
  }
  if (typeof value !== 'string') {
    throw wrongType(`${command}.${field}`, value, 'string');
  }
  return value;
}

/** An awaitData getMore without maxTimeMS waits this long (getmore_cmd.cpp setUpOperationDeadline). */
const DEFAULT_AWAIT_DATA_MS = 1000;

/**
 * getMore (getmore_cmd.cpp): the next batch of a cursor, only from the namespace and the session
 * that opened it (validateLSID applies with auth off too, sessions-semantics.md §3.3). On a
 * tailable awaitData cursor, `maxTimeMS` is how long it may wait for an insert (the drivers'
 * maxAwaitTimeMS); any other cursor refuses it.
 */
function getMore(ctx: CommandContext<'auth' | 'cursors'>): Document | Promise<Document> {
  const id = ctx.body.getMore;
  if (!(id instanceof Long)) {
    throw wrongType(`getMore.getMore`, id, 'long');
  }
  const collection = requireCollection(ctx, 'getMore', 'collection');
  const batchSize = nonNegativeInt(ctx.body.batchSize, 'batchSize', 'getMore') ?? 0;
  const cursor = ctx.services.cursors.get(id);
  if (cursor === undefined) throw new MongoError(ErrorCodes.CursorNotFound, `cursor id ${id.toString()} not found`);
  const ns = `${ctx.db}.${collection}`;
  if (cursor.ns !== ns) {
    throw new MongoError(
      ErrorCodes.Unauthorized,
      `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
    );
  }
  const mine = ctx.session;
  const theirs = cursor.session;
  const sameSession = mine !== undefined && theirs !== undefined && theirs.key === mine.key;
  // With auth enforced only the session that opened a cursor may continue it, unless the caller
  // may impersonate (AuthorizationSessionImpl::checkCursorSessionPrivilege).
  if (ctx.services.auth.enforced && !sameSession && !ctx.services.auth.mayDo(ctx.client.principal, Resource.cluster(), 'impersonate')) {
    if (mine === undefined && theirs === undefined) {
      if (cursor.owner !== ctx.client.principal.userName) {
        throw new MongoError(ErrorCodes.Unauthorized, `cursor id ${id.toString()} was not created by the authenticated user`);
      }
    } else {
      throw new MongoError(
        ErrorCodes.Unauthorized,
        `Cursor session id (${theirs === undefined ? 'none' : lsidText(theirs.lsid)}) is not the same as the operation context's session id (${mine === undefined ? 'none' : lsidText(mine.lsid)})`,
      );
    }
  }
  if (theirs === undefined && mine !== undefined) {
    throw new MongoError(
      LocationCodes.GetMoreCursorNotInSession,
      `Cannot run getMore on cursor ${id.toString()}, which was not created in a session, in session ${lsidText(mine.lsid)}`,
    );
  }
  if (theirs !== undefined && mine === undefined) {
    throw new MongoError(
      LocationCodes.GetMoreWithoutSession,
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidText(theirs.lsid)}, without an lsid`,
    );
  }
  if (theirs !== undefined && mine !== undefined && !sameSession) {
    throw new MongoError(
      LocationCodes.GetMoreOtherSession,
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidText(theirs.lsid)}, in session ${lsidText(mine.lsid)}`,
    );
  }
  const maxTimeMS = ctx.body.maxTimeMS;
  const hasMaxTime = maxTimeMS !== undefined && maxTimeMS !== null;
  if (hasMaxTime && !cursor.awaitData) {
    throw new MongoError(ErrorCodes.BadValue, 'cannot set maxTimeMS on getMore command for a non-awaitData cursor');
  }
  if (!cursor.awaitData) return { cursor: ctx.services.cursors.more(cursor, batchSize) };
  const waitMs = hasMaxTime ? Math.max(0, Math.trunc(numberValue(maxTimeMS) ?? 0)) : DEFAULT_AWAIT_DATA_MS;
  return ctx.services.cursors.moreAwaiting(cursor, batchSize, waitMs, ctx.signal).then((reply) => ({ cursor: reply }));
}

/** killCursors: reports which ids it killed and which it did not find. */
function killCursors(ctx: CommandContext<'auth' | 'cursors'>): Document {
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
    const cursor = ctx.services.cursors.get(id);
    // Under auth another user's cursor may only be killed with killAnyCursor (mongod's checkAuthForKillCursors).
    if (cursor !== undefined && ctx.services.auth.enforced && cursor.owner !== ctx.client.principal.userName && !ctx.services.auth.mayDo(ctx.client.principal, Resource.namespace(ctx.db, collection), 'killAnyCursor')) {
      throw notAuthorized(ctx.db, ctx.body);
    }
    if (cursor !== undefined && cursor.ns === ns && ctx.services.cursors.kill(id)) cursorsKilled.push(id);
    else cursorsNotFound.push(id);
  });
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
}

/** Cursors: the next batch, and killing them. */
export const cursorCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'getMore', run: getMore, apiVersion1: true, allowedInTransaction: true, opcounter: 'getmore', help: 'retrieve more results from an existing cursor' }),
  defineCommand({ name: 'killCursors', run: killCursors, privileges: onCollection('killCursors'), apiVersion1: true, allowedInTransaction: true, help: 'Kill a list of cursor ids' }),
];
