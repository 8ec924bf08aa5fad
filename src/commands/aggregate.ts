import { missingField, unknownField, wrongType } from '../idlErrors.js';
import { Binary, type Document } from 'bson';
import { mayDo, notAuthorized, userName, type Requirement } from '../auth/authorize.js';
import { Resource } from '../auth/privileges.js';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { runPipeline } from '../query/mingo.js';
import { lsidDocument, NO_AUTH_UID, userDigest } from '../sessions/logicalSessionId.js';
import { resolveOwner } from '../sessions/owner.js';
import { collectionDocuments } from '../storage/catalog.js';
import { isPlainObject, numberValue, trueValue, typeName } from './args.js';
import { nonNegativeInt } from './cursorArgs.js';
import type { CommandContext } from './types.js';

/** Stages that must come first and produce the documents themselves. */
const SOURCE_STAGES = new Set(['$listLocalSessions', '$listSessions', '$documents', '$currentOp', '$changeStream']);

/**
 * ListSessionsSpec (document_source_list_sessions.idl), shared by $listLocalSessions and
 * $listSessions: which uids to list. `{}` means the caller's own sessions.
 */
function parseListSessionsSpec(stage: string, spec: unknown, ctx: CommandContext): ((uid: Buffer) => boolean) {
  if (!isPlainObject(spec)) {
    throw new MongoError(ErrorCodes.TypeMismatch, `${stage} options must be specified in an object, but found: ${typeName(spec)}`);
  }
  let allUsers = false;
  let users: Array<{ user: string; db: string }> | undefined;
  for (const [field, value] of Object.entries(spec)) {
    if (field === 'allUsers') {
      if (typeof value !== 'boolean') {
        throw wrongType(`${stage}.allUsers`, value, 'bool');
      }
      allUsers = value;
    } else if (field === 'users') {
      if (!Array.isArray(value)) {
        throw wrongType(`${stage}.users`, value, 'array');
      }
      users = value.map((u, i) => {
        if (!isPlainObject(u)) {
          throw wrongType(`${stage}.users.${i}`, u, 'object');
        }
        for (const f of ['user', 'db'] as const) {
          if (typeof u[f] !== 'string') {
            throw u[f] === undefined
              ? missingField(`${stage}.users.${f}`)
              : wrongType(`${stage}.users.${f}`, u[f], 'string');
          }
        }
        return { user: u.user as string, db: u.db as string };
      });
    } else if (field !== '$_internalPredicate') {
      throw unknownField(`${stage}.${field}`);
    }
  }
  if (allUsers && users !== undefined && users.length > 0) {
    throw new MongoError(ErrorCodes.UnsupportedFormat, `${stage} may not specify {allUsers:true} and {users:[...]} at the same time`);
  }
  const owner = resolveOwner(ctx.connection, ctx.server.auth);
  const others =
    allUsers || (users ?? []).some((u) => owner.user === undefined || `${u.user}@${u.db}` !== owner.user);
  if (ctx.server.auth.enforced && others && !mayDo(ctx, Resource.cluster(), 'listSessions')) throw notAuthorized(ctx);
  if (allUsers) return () => true;
  // getLogicalSessionUserDigestFor: the empty user in the empty db is the no-auth digest.
  const uids =
    users !== undefined && users.length > 0
      ? users.map((u) => (u.user === '' && u.db === '' ? NO_AUTH_UID : userDigest(`${u.user}@${u.db}`)))
      : [owner.uid];
  const wanted = new Set(uids.map((u) => u.toString('hex')));
  return (uid) => wanted.has(uid.toString('hex'));
}

function uidOf(doc: Document): Buffer {
  const uid = (doc._id as Document).uid as Binary;
  return Buffer.from(uid.buffer.buffer, uid.buffer.byteOffset, uid.position);
}

/** The documents the first stage produces, or the collection's when it is not a source stage. */
function source(ctx: CommandContext, collection: string | undefined, first: Document | undefined): { docs: Iterable<Document>; rest: number } {
  const stage = first === undefined ? undefined : Object.keys(first)[0];
  if (stage === '$listLocalSessions') {
    if (collection !== undefined) {
      throw new MongoError(ErrorCodes.InvalidNamespace, '$listLocalSessions must be run against the database with {aggregate: 1}, not a collection');
    }
    const wanted = parseListSessionsSpec(stage, first![stage], ctx);
    const docs: Document[] = [];
    for (const record of ctx.server.sessions.localSessions()) {
      if (!wanted(record.lsid.uid)) continue;
      const doc: Document = { _id: lsidDocument(record.lsid), lastUse: new Date(record.lastUse) };
      if (record.user !== undefined) doc.user = record.user;
      docs.push(doc);
    }
    return { docs, rest: 1 };
  }
  if (stage === '$listSessions') {
    if (ctx.db !== 'config' || collection !== 'system.sessions') {
      throw new MongoError(ErrorCodes.InvalidNamespace, '$listSessions may only be run against config.system.sessions');
    }
    const wanted = parseListSessionsSpec(stage, first![stage], ctx);
    const docs = [...(collectionDocuments(ctx.server, ctx.db, collection) ?? [])].filter((d) => wanted(uidOf(d)));
    return { docs, rest: 1 };
  }
  if (collection === undefined) {
    if (stage !== undefined && SOURCE_STAGES.has(stage)) {
      throw new MongoError(LocationCodes.UnrecognizedStage, `Unrecognized pipeline stage name: '${stage}'`);
    }
    throw new MongoError(
      ErrorCodes.InvalidNamespace,
      `{aggregate: 1} is not valid for '${stage ?? '(empty pipeline)'}'; a collection is required.`,
    );
  }
  return { docs: collectionDocuments(ctx.server, ctx.db, collection) ?? [], rest: 0 };
}

/**
 * find on the collection read; a session stage instead declares its own needs (listSessions
 * for other users' sessions, checked while parsing its spec).
 */
export function aggregatePrivileges(ctx: CommandContext): Requirement[] {
  const first = Array.isArray(ctx.body.pipeline) ? (ctx.body.pipeline[0] as unknown) : undefined;
  const stage = isPlainObject(first) ? Object.keys(first)[0] : undefined;
  if (stage === '$listLocalSessions' || stage === '$listSessions' || typeof ctx.body.aggregate !== 'string') return [];
  return [{ resource: Resource.namespace(ctx.db, ctx.body.aggregate), actions: ['find'] }];
}

/** aggregate: the session stages, then mingo for the rest of the pipeline; results through a cursor. */
export function aggregate(ctx: CommandContext): Document {
  const target = ctx.body.aggregate;
  let collection: string | undefined;
  if (typeof target === 'string') collection = target;
  else if (numberValue(target) !== 1) {
    throw new MongoError(
      ErrorCodes.InvalidNamespace,
      `Invalid {aggregate: ...} value: must be a collection name or 1, found ${typeName(target)}`,
    );
  }
  const pipeline = ctx.body.pipeline;
  if (pipeline === undefined || pipeline === null) {
    throw missingField('aggregate.pipeline');
  }
  if (!Array.isArray(pipeline)) {
    throw wrongType(`aggregate.pipeline`, pipeline, 'array');
  }
  pipeline.forEach((stage: unknown, i: number) => {
    if (!isPlainObject(stage)) throw new MongoError(ErrorCodes.TypeMismatch, "Each element of the 'pipeline' array must be an object");
    if (Object.keys(stage).length !== 1) {
      throw new MongoError(LocationCodes.StageNotSingleField, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0]!;
    if (i > 0 && SOURCE_STAGES.has(name)) {
      throw new MongoError(LocationCodes.StageNotFirst, `${name} is only valid as the first stage in a pipeline.`);
    }
  });
  const explain = trueValue(ctx.body.explain);
  const cursorSpec = ctx.body.cursor;
  if (!explain && !isPlainObject(cursorSpec)) {
    throw new MongoError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  if (explain) throw new MongoError(ErrorCodes.CommandNotSupported, 'explain is not supported by pocketmongo yet');
  const batchSize = nonNegativeInt(cursorSpec.batchSize, 'batchSize', 'aggregate') ?? DEFAULT_FIRST_BATCH_SIZE;
  const stages = pipeline as Document[];
  const { docs, rest } = source(ctx, collection, stages[0]);
  const results = runPipeline(stages.slice(rest), docs);
  const ns = collection === undefined ? `${ctx.db}.$cmd.aggregate` : `${ctx.db}.${collection}`;
  return { cursor: ctx.server.cursors.open(ns, results[Symbol.iterator](), { lsid: ctx.lsid, batchSize, owner: userName(ctx.connection) }) };
}
