import { missingField, unknownField, wrongType } from '../bson/idlErrors.js';
import { Int32, UUID, type Document } from 'bson';
import { Resource } from '../auth/privileges.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { matcherFor, type KillPattern } from '../sessions/killer.js';
import { randomUuidBytes } from '../sessions/randomUuid.js';
import {
  isChildSession,
  lsidText,
  parseLsidFromClient,
  parseSha256Field,
  userDigest,
  type LogicalSessionId,
} from '../sessions/logicalSessionId.js';
import { makeLogicalSessionId } from '../sessions/owner.js';
import { isPlainObject } from '../bson/args.js';
import { onCluster } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';
import { OK, withBson } from './request/reply.js';
import { BinaryTemplate } from '../bson/template.js';


function requireArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw wrongType(path, value, 'array');
  return value;
}

/**
 * An array of LogicalSessionFromClient resolved to server lsids. `arrayPath` names the array in
 * type errors, `elementPath` its elements (mongod's IDL contexts differ per command, §3.2).
 */
function resolveSessionArray(
  ctx: CommandContext<'owners'>,
  arrayPath: string,
  elementPath: string,
  mayImpersonate: boolean,
): LogicalSessionId[] {
  const owner = ctx.owner;
  return requireArray(ctx.body[ctx.name], arrayPath).map((element, i) =>
    makeLogicalSessionId(parseLsidFromClient(element, elementPath, `${elementPath}.${i}`), owner, mayImpersonate),
  );
}

/** A byte pattern no field name or small number of startSession's reply holds. */
const ID_MARKER = Buffer.from('5e5510d15e5510d15e5510d15e5510d1', 'hex');
/** startSession's reply as BSON, by session timeout, the id left to fill (answering it serialises nothing). */
const startSessionReplies = new Map<number, BinaryTemplate>();

/** startSession's reply, made with its BSON: `{id: {id: UUID}, timeoutMinutes, ok: 1.0}`. */
function startSessionReply(id: Buffer, timeoutMinutes: number): Document {
  const reply = { id: { id: new UUID(id) }, timeoutMinutes: new Int32(timeoutMinutes), ok: OK };
  let template = startSessionReplies.get(timeoutMinutes);
  if (template === undefined) {
    template = new BinaryTemplate({ id: { id: new UUID(ID_MARKER) }, timeoutMinutes: new Int32(timeoutMinutes), ok: OK }, ID_MARKER);
    startSessionReplies.set(timeoutMinutes, template);
  }
  return withBson(reply, template.fill(id));
}

/** startSession (start_session_command.cpp): a new session owned by the caller. */
function startSession(ctx: CommandContext<'owners' | 'params' | 'sessions'>): Document {
  const owner = ctx.owner;
  const id = randomUuidBytes();
  ctx.services.sessions.vivify({ id, uid: owner.uid }, owner.user);
  return startSessionReply(id, ctx.services.params.int('localLogicalSessionTimeoutMinutes'));
}

/** refreshSessions: vivifies each session (unknown ones are created). */
function refreshSessions(ctx: CommandContext<'owners' | 'sessions'>): Document {
  const owner = ctx.owner;
  const lsids = resolveSessionArray(ctx, 'refreshSessions.refreshSessions', 'refreshSessions.refreshSessionsFromClient', false);
  for (const lsid of lsids) ctx.services.sessions.vivify(lsid, owner.user);
  return {};
}

/** endSessions: takes effect at the next refresh, as in mongod; unknown and repeated ids are fine. */
function endSessions(ctx: CommandContext<'owners' | 'sessions'>): Document {
  const lsids = resolveSessionArray(ctx, 'endSessions.endSessions', 'endSessions.endSessionsFromClient', false);
  for (const lsid of lsids) {
    if (isChildSession(lsid)) {
      throw new MongoError(ErrorCodes.InvalidOptions, `Cannot specify a child session id ${lsidText(lsid)}`);
    }
  }
  ctx.services.sessions.end(lsids);
  return {};
}

function logKill(ctx: CommandContext<'log'>): void {
  ctx.services.log.info({ c: 'ACCESS', id: 558701, ctx: `conn${ctx.client.id}`, msg: 'Success: kill session' });
}

/**
 * killSessions: `[]` kills the caller's sessions (with auth off: every session); otherwise the
 * listed ones, each resolved as the caller's own unless a uid is given.
 */
function killSessions(ctx: CommandContext<'auth' | 'log' | 'owners' | 'sessions'>): Document {
  // Another user's uid may be named by whoever may kill any session (or impersonate).
  const mayKillAny = ctx.services.auth.mayDo(ctx.client.principal, Resource.cluster(), 'killAnySession') || ctx.services.auth.mayDo(ctx.client.principal, Resource.cluster(), 'impersonate');
  const lsids = resolveSessionArray(ctx, 'KillSessionsCmd.killSessions', 'KillSessionsCmd.killSessions', mayKillAny);
  let patterns: KillPattern[];
  if (lsids.length > 0) {
    patterns = lsids.map((lsid) => ({ lsid }));
  } else {
    const owner = ctx.owner;
    // patternsForLoggedInUser: nobody logged in (auth off) means a pattern that matches everything.
    patterns = owner.user === undefined ? [{}] : [{ uid: owner.uid }];
  }
  ctx.services.sessions.kill(matcherFor(patterns));
  logKill(ctx);
  return {};
}

/** A {user, db} (KillAllSessionsUser) or {role, db} element, strict. */
function parseNameAndDb(value: unknown, prefix: string, index: number, nameField: 'user' | 'role'): { name: string; db: string } {
  if (!isPlainObject(value)) throw wrongType(`${prefix}.${index}`, value, 'object');
  for (const field of Object.keys(value)) {
    if (field !== nameField && field !== 'db') throw unknownField(`${prefix}.${field}`);
  }
  for (const field of [nameField, 'db'] as const) {
    const v = value[field];
    if (v === undefined || v === null) throw missingField(`${prefix}.${field}`);
    if (typeof v !== 'string') throw wrongType(`${prefix}.${field}`, v, 'string');
  }
  return { name: value[nameField] as string, db: value.db as string };
}

/** killAllSessions: `[]` kills every session; otherwise every session of each listed user. */
function killAllSessions(ctx: CommandContext<'log' | 'sessions'>): Document {
  const prefix = 'KillAllSessionsCmd.killAllSessions';
  const users = requireArray(ctx.body.killAllSessions, prefix).map((u, i) => parseNameAndDb(u, prefix, i, 'user'));
  const patterns: KillPattern[] = users.length === 0 ? [{}] : users.map((u) => ({ uid: userDigest(`${u.name}@${u.db}`) }));
  ctx.services.sessions.kill(matcherFor(patterns));
  logKill(ctx);
  return {};
}

/** One KillAllSessionsByPattern (kill_sessions.idl, strict). */
function parsePattern(value: unknown, prefix: string, index: number): KillPattern {
  if (!isPlainObject(value)) throw wrongType(`${prefix}.${index}`, value, 'object');
  const pattern: KillPattern = {};
  for (const [field, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    switch (field) {
      case 'lsid': {
        const path = `${prefix}.lsid`;
        const parsed = parseLsidFromClient(v, path);
        // LogicalSessionId (not FromClient): the uid is required here.
        if (parsed.uid === undefined) throw missingField(`${path}.uid`);
        if (isChildSession(parsed)) throw new MongoError(ErrorCodes.InvalidOptions, 'Cannot kill a child session');
        pattern.lsid = { id: parsed.id, uid: parsed.uid };
        break;
      }
      case 'uid':
        pattern.uid = parseSha256Field(v, `${prefix}.uid`);
        break;
      case 'users':
        requireArray(v, `${prefix}.users`).forEach((u, i) => parseNameAndDb(u, `${prefix}.users`, i, 'user'));
        break;
      case 'roles':
        requireArray(v, `${prefix}.roles`).forEach((r, i) => parseNameAndDb(r, `${prefix}.roles`, i, 'role'));
        break;
      default:
        throw unknownField(`${prefix}.${field}`);
    }
  }
  return pattern;
}

/** killAllSessionsByPattern: uid beats lsid; a pattern with neither (users/roles only) matches all. */
function killAllSessionsByPattern(ctx: CommandContext<'auth' | 'log' | 'sessions'>): Document {
  const prefix = 'KillAllSessionsByPatternCmd.killAllSessionsByPattern';
  const raw = requireArray(ctx.body.killAllSessionsByPattern, prefix);
  const patterns = raw.map((p, i) => parsePattern(p, prefix, i));
  const impersonating = raw.some((p) => isPlainObject(p) && (p.users !== undefined || p.roles !== undefined));
  if (impersonating && !ctx.services.auth.mayDo(ctx.client.principal, Resource.cluster(), 'impersonate')) {
    throw new MongoError(ErrorCodes.Unauthorized, 'Not authorized to impersonate in killAllSessionsByPattern');
  }
  ctx.services.sessions.kill(matcherFor(patterns.length === 0 ? [{}] : patterns));
  logKill(ctx);
  return {};
}

/** Test command: runs the refresh job now (refresh_logical_session_cache_now.cpp). */
function refreshLogicalSessionCacheNow(ctx: CommandContext<'sessions'>): Document {
  ctx.services.sessions.refresh();
  return {};
}

/** Test command: runs the transaction reaper now. */
function reapLogicalSessionCacheNow(ctx: CommandContext<'sessions'>): Document {
  ctx.services.sessions.reap();
  return {};
}

/** Logical sessions (sessions-semantics.md §2). */
export const sessionCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'startSession', run: startSession, help: 'start a logical session' }),
  defineCommand({ name: 'refreshSessions', run: refreshSessions, strict: true, apiVersion1: true, help: 'renew a set of logical sessions' }),
  defineCommand({
    name: 'endSessions',
    run: endSessions,
    strict: true,
    apiVersion1: true,
    // Drivers send it on close with writeConcern {w: 0} and moreToCome.
    supportsWriteConcern: true,
    help: 'end a set of logical sessions',
  }),
  defineCommand({ name: 'killSessions', run: killSessions, attachesSession: false, help: 'kill a logical session and its operations' }),
  defineCommand({ name: 'killAllSessions', run: killAllSessions, attachesSession: false, privileges: onCluster('killAnySession'), help: 'kill all logical sessions, for a user, and their operations' }),
  defineCommand({
    name: 'killAllSessionsByPattern',
    run: killAllSessionsByPattern,
    attachesSession: false,
    privileges: onCluster('killAnySession'),
    help: 'kill logical sessions by pattern',
  }),
  defineCommand({ name: 'refreshLogicalSessionCacheNow', run: refreshLogicalSessionCacheNow, testOnly: true, help: 'force the logical session cache to refresh' }),
  defineCommand({ name: 'reapLogicalSessionCacheNow', run: reapLogicalSessionCacheNow, testOnly: true, help: 'force a reap of the logical session transaction table' }),
];
