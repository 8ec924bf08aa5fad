import { Binary, type Document } from 'bson';
import { notAuthorized } from '../auth/authorize.js';
import { Resource, type ActionType } from '../auth/privileges.js';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { missingField, unknownField, wrongType } from '../bson/idlErrors.js';
import { collectionReader } from '../pipeline/collectionReader.js';
import { collStatsDocument, parseCollStats } from '../pipeline/collStats.js';
import { checkStages } from '../pipeline/stageSpecs.js';
import { writerOf } from '../pipeline/writeStages.js';
import { writeValidation } from './documentValidation.js';
import { evaluateLetVariables, runPipeline, type PipelineContext } from '../query/aggregation/run.js';
import { lsidDocument, NO_AUTH_UID, userDigest } from '../sessions/logicalSessionId.js';
import { collectionArgument, isPlainObject, numberValue, optionalObject, trueValue } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';
import { nonNegativeInt } from './cursorArgs.js';
import type { Requirement } from '../auth/authorize.js';
import { stageName, startsWithDocuments, subPipelines } from '../pipeline/pipelineShape.js';
import { mergeActions, parseMerge, parseOut } from '../pipeline/writeStageSpecs.js';
import { Long } from 'bson';
import { explainQuery, serverInfo, serverParameters } from './queryExplain.js';
import { currentOperations, parseCurrentOpSpec } from './currentOp.js';
import { defineCommand, type CommandContext, type CommandSpec, type Verbosity } from './command.js';
import { checkInvolvedViews, expandViewAggregate, withBody } from './views.js';
import { changeStreamAggregate, changeStreamPrivileges, isChangeStreamPipeline } from './changeStreams.js';

// The aggregate command: its source stages (the session stages, $collStats), its privileges and
// its explain are here; the checks of the other stages' specs are in pipeline/stageSpecs, $out and
// $merge in pipeline/writeStages.

/** Stages that must come first and produce the documents themselves. */
const SOURCE_STAGES = new Set(['$listLocalSessions', '$listSessions', '$documents', '$currentOp', '$changeStream']);

/** Stages that are only valid first (Pipeline::validateCommon, 40602): the source stages and $collStats. */
const FIRST_STAGES = new Set([...SOURCE_STAGES, '$collStats']);

/**
 * ListSessionsSpec (document_source_list_sessions.idl), shared by $listLocalSessions and
 * $listSessions: which uids to list. `{}` means the caller's own sessions.
 */
function parseListSessionsSpec(stage: string, spec: unknown, ctx: CommandContext<'auth' | 'owners'>): ((uid: Buffer) => boolean) {
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
  const owner = ctx.owner;
  const others =
    allUsers || (users ?? []).some((u) => owner.user === undefined || `${u.user}@${u.db}` !== owner.user);
  if (ctx.services.auth.enforced && others && !ctx.services.auth.mayDo(ctx.client.principal, Resource.cluster(), 'listSessions')) throw notAuthorized(ctx.db, ctx.body);
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

/**
 * What an aggregate's stages read besides their input: the database's collections ($lookup,
 * $unionWith, $graphLookup), the command's `let` (evaluated once, with one NOW), its collation.
 */
function pipelineContext(ctx: CommandContext<'clock' | 'namespaces'>): PipelineContext {
  const now = new Date(ctx.services.clock.now());
  const collationArg = optionalObject(ctx, 'collation', true);
  const collation = collationArg === undefined || collationArg.locale === 'simple' ? undefined : collationArg;
  const letArg = optionalObject(ctx, 'let', true);
  const variables = letArg === undefined ? undefined : evaluateLetVariables(letArg, { now, collation });
  checkInvolvedViews(ctx.services.namespaces, ctx.db, ctx.body.pipeline, collation);
  return { collection: collectionReader(ctx.services.namespaces, ctx.db, ctx.services.namespaces.views, now), variables, collation, now };
}

/** The documents the first stage produces, or the collection's when it is not a source stage. */
function source(
  ctx: CommandContext<'auth' | 'owners' | 'catalog' | 'clients' | 'clock' | 'namespaces' | 'process' | 'sessions' | 'transactions' | 'params'>,
  collection: string | undefined,
  first: Document | undefined,
  context: PipelineContext,
): { docs: Iterable<Document>; rest: number } {
  const stage = first === undefined ? undefined : Object.keys(first)[0];
  if (stage === '$listLocalSessions') {
    if (collection !== undefined) {
      throw new MongoError(ErrorCodes.InvalidNamespace, '$listLocalSessions must be run against the database with {aggregate: 1}, not a collection');
    }
    const wanted = parseListSessionsSpec(stage, first![stage], ctx);
    const docs: Document[] = [];
    for (const record of ctx.services.sessions.localSessions()) {
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
    const docs = [...(ctx.services.namespaces.documents(ctx.db, collection) ?? [])].filter((d) => wanted(uidOf(d)));
    return { docs, rest: 1 };
  }
  if (stage === '$currentOp') {
    if (ctx.db !== 'admin' || collection !== undefined) {
      throw new MongoError(ErrorCodes.InvalidNamespace, "$currentOp must be run against the 'admin' database with {aggregate: 1}");
    }
    return { docs: currentOperations(ctx.services, ctx.client, parseCurrentOpSpec(first![stage])), rest: 1 };
  }
  if (stage === '$changeStream') {
    // document_source_change_stream.cpp: change streams need the oplog of a replica set.
    throw new MongoError(LocationCodes.ChangeStreamNotReplicaSet, 'The $changeStream stage is only supported on replica sets');
  }
  // {aggregate: 1, pipeline: [{$documents: [...]}, ...]}: the stage itself produces the documents (mingo's $documents).
  if (stage === '$documents' && collection === undefined) return { docs: [], rest: 0 };
  if (stage === '$collStats' && collection !== undefined) {
    return { docs: [collStatsDocument({ namespaces: ctx.services.namespaces, catalog: ctx.services.catalog, port: ctx.services.process.listen.port, now: ctx.services.clock.now() }, ctx.db, collection, parseCollStats(first![stage], ctx.body))], rest: 1 };
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
  // A leading $match is pushed down to the query layer, as mongod's pipeline does: it picks the
  // documents through an index where one applies and matches them on their stored BSON values
  // (with the command's collation and `let`); the rest of the pipeline runs on what it keeps.
  const match = first?.$match;
  if (!isPlainObject(match)) return { docs: ctx.services.namespaces.candidates(ctx.db, collection, {}) ?? [], rest: 0 };
  // Under a collation the query scans (no index has one), and the $match stage itself filters.
  const candidates = ctx.services.namespaces.candidates(ctx.db, collection, match, context.collation === undefined ? undefined : 'natural') ?? [];
  return { docs: candidates, rest: 0 };
}

/**
 * The `pipeline` argument of an aggregate, checked as mongod parses it before running anything
 * (aggregate and explain alike): an array of one-field stage documents, each stage where it may
 * stand, and the specs mongod's stage parsers check.
 */
export function checkPipelineArgument(ctx: CommandContext<never>): Document[] {
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

/** What running an aggregate reads and opens (the reads a view turns into run it too). */
export type AggregateContext = CommandContext<'auth' | 'owners' | 'catalog' | 'clients' | 'clock' | 'cursors' | 'log' | 'namespaces' | 'process' | 'replication' | 'sessions' | 'transactions' | 'params'>;

/**
 * aggregate: the source stages, then mingo for the rest of the pipeline; results through a cursor.
 * On a view it runs on the collection under the view (views.ts), its cursor still named by the
 * view (`cursorNs`).
 */
export function aggregate(ctx: AggregateContext, cursorNs?: string): Document {
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
  if (ctx.body.apiStrict === true) checkStagesInApiVersion1(pipeline);
  const explain = trueValue(ctx.body.explain);
  const cursorSpec = ctx.body.cursor;
  if (!explain && !isPlainObject(cursorSpec)) {
    throw new MongoError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  // A replica set opens change streams (changeStreams.ts); a standalone refuses them (source, 40573).
  if (ctx.services.replication !== undefined && !explain && isChangeStreamPipeline(pipeline)) {
    const batchSize = nonNegativeInt(cursorSpec.batchSize, 'batchSize', 'aggregate') ?? DEFAULT_FIRST_BATCH_SIZE;
    return changeStreamAggregate(ctx, collection, pipeline, batchSize, pipelineContext(ctx));
  }
  const onView = collection === undefined ? undefined : expandViewAggregate(ctx, collection, pipeline);
  if (onView !== undefined) return aggregate(withBody(ctx, onView), cursorNs ?? `${ctx.db}.${collection}`);
  // The legacy `explain: true` form answers as the explain command does at queryPlanner verbosity.
  if (explain) return explainAggregate(ctx, 'queryPlanner');
  const batchSize = nonNegativeInt(cursorSpec.batchSize, 'batchSize', 'aggregate') ?? DEFAULT_FIRST_BATCH_SIZE;
  const stages = pipeline as Document[];
  const context = pipelineContext(ctx);
  const { docs, rest } = source(ctx, collection, stages[0], context);
  const write = writerOf(ctx.services, ctx.db, stages[stages.length - 1], writeValidation(ctx, new Date(ctx.services.clock.now())));
  const results = runPipeline(stages.slice(rest, write === undefined ? undefined : -1), docs, context);
  const ns = cursorNs ?? (collection === undefined ? `${ctx.db}.$cmd.aggregate` : `${ctx.db}.${collection}`);
  // $out and $merge answer an empty batch, the cursor closed (id 0).
  if (write !== undefined) write(results);
  const items = write === undefined ? results[Symbol.iterator]() : [][Symbol.iterator]();
  // A pipeline knows its end only once it has read past it (PlanExecutorPipeline::isEOF).
  return { cursor: ctx.services.cursors.open(ns, items, { session: ctx.session, batchSize, owner: ctx.client.principal.userName, endKnown: false }) };
}

/**
 * The stages outside Stable API Version 1 (their LiteParsed allowedWithApiStrict is
 * kNeverInVersion1): refused under apiStrict with APIStrictError. ($collStats is in it with
 * `count` only: checked with its spec.)
 */
const NOT_IN_API_VERSION_1 = new Set([
  '$currentOp',
  '$indexStats',
  '$listLocalSessions',
  '$listSessions',
  '$listSampledQueries',
  '$listSearchIndexes',
  '$planCacheStats',
  '$search',
  '$searchMeta',
  '$shardedDataDistribution',
  '$vectorSearch',
]);

function checkStagesInApiVersion1(pipeline: readonly unknown[]): void {
  for (const stage of pipeline) {
    const name = stageName(stage);
    if (name !== undefined && NOT_IN_API_VERSION_1.has(name)) {
      throw new MongoError(ErrorCodes.APIStrictError, `${name} is not allowed with 'apiStrict: true' in API Version 1`);
    }
  }
}

// Privileges (each stage's LiteParsed::requiredPrivileges).

/** find on a collection a stage reads (no privilege when it names none). */
function readPrivilege(requirements: Requirement[], db: string, coll: unknown): void {
  if (typeof coll === 'string') requirements.push({ resource: Resource.namespace(db, coll), actions: ['find'] });
}

/** A write stage's actions, with bypassDocumentValidation when the command bypasses validation. */
function withBypassAction(actions: readonly ActionType[], bypass: boolean): ActionType[] {
  return bypass ? [...actions, 'bypassDocumentValidation'] : [...actions];
}

/**
 * The privileges a pipeline's stages need beyond reading the aggregated collection, at any depth
 * (`bypass`: bypassDocumentValidation on the targets of $out and $merge).
 */
function stagePrivileges(db: string, stages: readonly unknown[], bypass: boolean): Requirement[] {
  const requirements: Requirement[] = [];
  for (const stage of stages) {
    const name = stageName(stage);
    if (name === undefined) continue;
    const spec = (stage as Document)[name];
    // A $lookup or $unionWith whose pipeline starts with $documents reads no collection.
    if (name === '$lookup' && isPlainObject(spec) && !startsWithDocuments(spec.pipeline)) readPrivilege(requirements, db, spec.from);
    else if (name === '$graphLookup' && isPlainObject(spec)) readPrivilege(requirements, db, spec.from);
    else if (name === '$unionWith') readPrivilege(requirements, db, isPlainObject(spec) ? (startsWithDocuments(spec.pipeline) ? undefined : spec.coll) : spec);
    else if (name === '$out') {
      const target = parseOut(db, spec);
      requirements.push({ resource: Resource.namespace(target.db, target.coll), actions: withBypassAction(['insert', 'remove'], bypass) });
    } else if (name === '$merge') {
      const merge = parseMerge(db, spec);
      const actions = mergeActions(merge.whenMatched, merge.whenNotMatched)!;
      requirements.push({ resource: Resource.namespace(merge.target.db, merge.target.coll), actions: withBypassAction(actions, bypass) });
    }
    for (const sub of subPipelines(name, spec)) requirements.push(...stagePrivileges(db, sub.stages, bypass));
  }
  return requirements;
}

/**
 * find on the collection read, plus what the stages need: find on the collections $lookup,
 * $graphLookup and $unionWith read, insert and remove on $out's target, and on $merge's the
 * actions of its modes. A session stage instead declares its own needs (listSessions for other
 * users' sessions, checked while parsing its spec). $collStats makes its own document (an initial
 * source: no find on the collection) and needs collStats on the namespace
 * (DocumentSourceCollStats::LiteParsed::requiredPrivileges).
 */
function aggregatePrivileges(ctx: CommandContext<never>): Requirement[] {
  const pipeline: unknown[] = Array.isArray(ctx.body.pipeline) ? ctx.body.pipeline : [];
  const stage = stageName(pipeline[0]);
  // DocumentSourceCurrentOp::LiteParsed: other users' operations need inprog on the cluster.
  if (stage === '$currentOp') {
    const spec = (pipeline[0] as Document).$currentOp;
    return isPlainObject(spec) && spec.allUsers === true ? [{ resource: Resource.cluster(), actions: ['inprog'] }] : [];
  }
  if (stage === '$changeStream') return changeStreamPrivileges(ctx);
  if (stage === '$listLocalSessions' || stage === '$listSessions' || typeof ctx.body.aggregate !== 'string') return [];
  const ns = Resource.namespace(ctx.db, ctx.body.aggregate);
  const first: Requirement = { resource: ns, actions: [stage === '$collStats' ? 'collStats' : 'find'] };
  return [first, ...stagePrivileges(ctx.db, pipeline, trueValue(ctx.body.bypassDocumentValidation))];
}

/**
 * checkAuthForCreateOrModifyView (authorization_checks.cpp): a caller who may read the view
 * needs what reading its definition reads, the privileges of {aggregate: viewOn, pipeline}; one
 * who cannot read the view learns nothing from defining it.
 */
export function viewDefinitionPrivileges(ctx: CommandContext<'auth'>, view: string, viewOn: string, pipeline: readonly unknown[]): Requirement[] {
  if (!ctx.services.auth.mayDo(ctx.client.principal, Resource.namespace(ctx.db, view), 'find')) return [];
  return aggregatePrivileges(withBody(ctx, { aggregate: viewOn, pipeline }));
}

/**
 * aggregate: the leading $match stages become the query under `$cursor`, the other stages follow
 * as written, each with the documents it passed on at executionStats (explain.cpp explainPipeline).
 */
export function explainAggregate(ctx: CommandContext<'catalog' | 'clock' | 'namespaces' | 'process'>, verbosity: Verbosity): Document {
  // aggregation_request_helper.cpp validate (the missing space is mongod's).
  if (ctx.body.writeConcern !== undefined) throw new MongoError(ErrorCodes.FailedToParse, "Aggregation explain does not support the'writeConcern' option");
  const pipeline = checkPipelineArgument(ctx);
  // On a view: the explain of the aggregate it runs as, on the collection under it.
  const onView = typeof ctx.body.aggregate === 'string' ? expandViewAggregate(ctx, ctx.body.aggregate, pipeline) : undefined;
  if (onView !== undefined) return explainAggregate(withBody(ctx, onView), verbosity);
  const tail = { serverInfo: serverInfo(ctx), serverParameters: serverParameters(), command: { ...ctx.body, $db: ctx.db } };
  // {aggregate: 1} pipelines start with a stage that makes its own documents: no query to plan.
  if (typeof ctx.body.aggregate !== 'string') return { explainVersion: '1', stages: pipeline, ...tail };
  const collection = collectionArgument(ctx);
  const filters: Document[] = [];
  let first = 0;
  while (first < pipeline.length && isPlainObject(pipeline[first]!.$match)) filters.push(pipeline[first++]!.$match as Document);
  const filter = filters.length === 0 ? {} : filters.length === 1 ? filters[0]! : { $and: filters };
  const explained = explainQuery(ctx, collection, { filter });
  const detailed = verbosity !== 'queryPlanner';
  const cursor: Document = { queryPlanner: explained.queryPlanner };
  if (detailed) cursor.executionStats = explained.executionStats;
  const stages: Document[] = [
    { $cursor: cursor, ...(detailed ? { nReturned: Long.fromNumber(explained.results.length), executionTimeMillisEstimate: Long.fromNumber(0) } : {}) },
  ];
  let docs = explained.results;
  // $lookup, $graphLookup and $unionWith read the database's collections, as aggregate's do.
  const context = pipelineContext(ctx);
  for (const stage of pipeline.slice(first)) {
    // $out and $merge are explained, not run: explain writes nothing.
    if (detailed && !('$out' in stage) && !('$merge' in stage)) docs = runPipeline([stage], docs, context);
    stages.push(detailed ? { ...stage, nReturned: Long.fromNumber(docs.length), executionTimeMillisEstimate: Long.fromNumber(0) } : stage);
  }
  return { explainVersion: '1', stages, ...tail };
}

/** Aggregation. */
export const aggregateCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'aggregate', run: aggregate, explain: explainAggregate, privileges: aggregatePrivileges, apiVersion1: true, allowedInTransaction: true, supportsWriteConcern: true, help: 'Runs the aggregation command. See http://dochub.mongodb.org/core/aggregation for more details.' }),
];
