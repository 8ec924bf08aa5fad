import { Binary, type Document } from 'bson';
import { mayDo, notAuthorized, userName } from '../auth/authorize.js';
import { Resource } from '../auth/privileges.js';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { missingField, unknownField, wrongType } from '../bson/idlErrors.js';
import { collectionReader } from '../pipeline/collectionReader.js';
import { collStatsDocument, parseCollStats } from '../pipeline/collStats.js';
import { checkStages } from '../pipeline/stageSpecs.js';
import { writerOf } from '../pipeline/writeStages.js';
import { runPipeline } from '../query/mingo.js';
import { lsidDocument, NO_AUTH_UID, userDigest } from '../sessions/logicalSessionId.js';
import { resolveOwner } from '../sessions/owner.js';
import { isPlainObject, numberValue, trueValue } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';
import { nonNegativeInt } from './cursorArgs.js';
import { explainAggregate } from './explain.js';
import type { CommandContext } from './types.js';

// The aggregate command: its source stages (the session stages, $collStats) are here; the checks
// of the other stages' specs are in pipeline/stageSpecs, $out and $merge in pipeline/writeStages,
// the privileges in aggregatePrivileges.
export { aggregatePrivileges } from './aggregatePrivileges.js';

/** Stages that must come first and produce the documents themselves. */
const SOURCE_STAGES = new Set(['$listLocalSessions', '$listSessions', '$documents', '$currentOp', '$changeStream']);

/** Stages that are only valid first (Pipeline::validateCommon, 40602): the source stages and $collStats. */
const FIRST_STAGES = new Set([...SOURCE_STAGES, '$collStats']);

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
    const docs = [...(ctx.server.namespaces.documents(ctx.db, collection) ?? [])].filter((d) => wanted(uidOf(d)));
    return { docs, rest: 1 };
  }
  if (stage === '$changeStream') {
    // document_source_change_stream.cpp: change streams need the oplog of a replica set.
    throw new MongoError(LocationCodes.ChangeStreamNotReplicaSet, 'The $changeStream stage is only supported on replica sets');
  }
  // {aggregate: 1, pipeline: [{$documents: [...]}, ...]}: the stage itself produces the documents (mingo's $documents).
  if (stage === '$documents' && collection === undefined) return { docs: [], rest: 0 };
  if (stage === '$collStats' && collection !== undefined) {
    return { docs: [collStatsDocument({ namespaces: ctx.server.namespaces, catalog: ctx.server.catalog, port: ctx.server.listen.port, now: ctx.server.clock.now() }, ctx.db, collection, parseCollStats(first![stage], ctx.body))], rest: 1 };
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
  // A leading $match picks the documents through an index where one applies, as mongod's
  // pipeline pushes it down to the query layer; it still runs on them.
  const match = first?.$match;
  const filter = match !== null && typeof match === 'object' && !Array.isArray(match) && !(match instanceof RegExp) ? (match as Document) : {};
  return { docs: ctx.server.namespaces.candidates(ctx.db, collection, filter) ?? [], rest: 0 };
}

/**
 * The `pipeline` argument of an aggregate, checked as mongod parses it before running anything
 * (aggregate and explain alike): an array of one-field stage documents, each stage where it may
 * stand, and the specs mongod's stage parsers check.
 */
export function checkPipelineArgument(ctx: CommandContext): Document[] {
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
    // The lite parser checks a $collStats spec before the pipeline checks where its stages stand.
    if (name === '$collStats') parseCollStats(stage[name], ctx.body);
    if (i > 0 && FIRST_STAGES.has(name)) {
      throw new MongoError(LocationCodes.StageNotFirst, `${name} is only valid as the first stage in a pipeline.`);
    }
  });
  checkStages(ctx.db, pipeline);
  return pipeline as Document[];
}

/** aggregate: the source stages, then mingo for the rest of the pipeline; results through a cursor. */
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
  const pipeline = checkPipelineArgument(ctx);
  const explain = trueValue(ctx.body.explain);
  const cursorSpec = ctx.body.cursor;
  if (!explain && !isPlainObject(cursorSpec)) {
    throw new MongoError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  // The legacy `explain: true` form answers as the explain command does at queryPlanner verbosity.
  if (explain) return explainAggregate(ctx, 'queryPlanner');
  const batchSize = nonNegativeInt(cursorSpec.batchSize, 'batchSize', 'aggregate') ?? DEFAULT_FIRST_BATCH_SIZE;
  const stages = pipeline as Document[];
  const { docs, rest } = source(ctx, collection, stages[0]);
  const write = writerOf(ctx.server, ctx.db, stages[stages.length - 1]);
  const results = runPipeline(stages.slice(rest, write === undefined ? undefined : -1), docs, { collection: collectionReader(ctx.server.namespaces, ctx.db) });
  const ns = collection === undefined ? `${ctx.db}.$cmd.aggregate` : `${ctx.db}.${collection}`;
  const open = (items: Iterator<Document>): Document =>
    ctx.server.cursors.open(ns, items, { lsid: ctx.lsid, batchSize, owner: userName(ctx.connection) });
  if (write === undefined) return { cursor: open(results[Symbol.iterator]()) };
  // $out and $merge answer an empty batch, the cursor closed (id 0).
  write(results);
  return { cursor: open([][Symbol.iterator]()) };
}
