import { hostname } from 'node:os';
import { Int32, Long, type Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { wrongType } from '../bson/idlErrors.js';
import { collectionReader } from '../pipeline/collectionReader.js';
import { compareDocuments } from '../bson/bsonOrder.js';
import { runFind, runPipeline } from '../query/mingo.js';
import { parsedQuery, planStages, queryHashes, wrapStages, type QueryShape } from '../storage/planStages.js';
import type { Hint, QueryPlan } from '../storage/catalog.js';
import { checkPipelineArgument } from './aggregate.js';
import { resolveHint } from './hint.js';
import { SERVER_VERSION } from '../version.js';
import { collectionArgument, isPlainObject, numberValue, trueValue } from '../bson/args.js';
import { findShape, updated } from './crud.js';
import type { CommandContext, CommandSpec } from './types.js';

export type Verbosity = 'queryPlanner' | 'executionStats' | 'allPlansExecution';
const VERBOSITIES: readonly string[] = ['queryPlanner', 'executionStats', 'allPlansExecution'];

/** The explained command seen as a command of its own: its body and name, the rest from explain's context. */
class ExplainedCommand implements CommandContext {
  readonly name: string;
  constructor(
    private readonly outer: CommandContext,
    readonly body: Document,
  ) {
    this.name = Object.keys(body)[0] ?? '';
  }
  get server() {
    return this.outer.server;
  }
  get connection() {
    return this.outer.connection;
  }
  get request() {
    return this.outer.request;
  }
  get db() {
    return this.outer.db;
  }
  get lsid() {
    return this.outer.lsid;
  }
  get signal() {
    return this.outer.signal;
  }
}

/**
 * The explained command and its spec (explain.idl: `explain` an object, `verbosity` one of three
 * strings, default allPlansExecution; explain_cmd.cpp: unknown commands are 59, commands without
 * explain support IllegalOperation).
 */
function parseExplain(ctx: CommandContext): { inner: ExplainedCommand; spec: CommandSpec; verbosity: Verbosity } {
  const body = ctx.body.explain;
  if (!isPlainObject(body)) throw wrongType('explain.explain', body, 'object');
  const verbosity = ctx.body.verbosity ?? 'allPlansExecution';
  if (typeof verbosity !== 'string') throw wrongType('explain.verbosity', verbosity, 'string');
  if (!VERBOSITIES.includes(verbosity)) {
    throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${verbosity}' for field 'explain.verbosity' is not a valid value.`);
  }
  const inner = new ExplainedCommand(ctx, body);
  const spec = ctx.server.commands.find(inner.name);
  if (spec === undefined) throw new MongoError(ErrorCodes.CommandNotFound, `Explain failed due to unknown command: ${inner.name}`);
  if (spec.name === 'explain') throw new MongoError(ErrorCodes.IllegalOperation, 'Explain cannot explain itself.');
  if (spec.explain === undefined) throw new MongoError(ErrorCodes.IllegalOperation, `Cannot explain cmd: ${spec.name}`);
  return { inner, spec, verbosity: verbosity as Verbosity };
}

/** explain needs what the explained command needs. */
export function explainPrivileges(ctx: CommandContext): Requirement[] {
  const body = ctx.body.explain;
  if (!isPlainObject(body)) return [];
  const inner = new ExplainedCommand(ctx, body);
  return [...(ctx.server.commands.find(inner.name)?.privileges?.(inner) ?? [])];
}

export function explain(ctx: CommandContext): Document {
  const { inner, spec, verbosity } = parseExplain(ctx);
  return spec.explain!(inner, verbosity);
}

function serverInfo(ctx: CommandContext): Document {
  return { host: hostname(), port: new Int32(ctx.server.listen.port), version: SERVER_VERSION, gitVersion: '0000000000000000000000000000000000000000' };
}

/** The query-knob values mongod 7.0 reports with every explain. */
function serverParameters(): Document {
  const limit = new Int32(104857600);
  return {
    internalQueryFacetBufferSizeBytes: limit,
    internalQueryFacetMaxOutputDocSizeBytes: limit,
    internalLookupStageIntermediateDocumentMaxSizeBytes: limit,
    internalDocumentSourceGroupMaxMemoryBytes: limit,
    internalQueryMaxBlockingSortMemoryUsageBytes: limit,
    internalQueryProhibitBlockingMergeOnMongoS: new Int32(0),
    internalQueryMaxAddToSetBytes: limit,
    internalDocumentSourceSetWindowFieldsMaxMemoryBytes: limit,
    internalQueryFrameworkControl: 'trySbeRestricted',
  };
}

/** How the query over a namespace runs: its plan (undefined when the collection does not exist) and the documents it examines. */
function planFor(ctx: CommandContext, collection: string, shape: QueryShape, hint: Hint | undefined): { plan: QueryPlan | undefined; indexNames: string[] } {
  const stored = ctx.server.catalog.get(ctx.db, collection);
  const sort = shape.collation === undefined ? shape.sort : undefined;
  if (stored !== undefined) return { plan: stored.plan(shape.filter, hint, sort), indexNames: stored.indexes.map((i) => i.name) };
  const docs = ctx.server.namespaces.documents(ctx.db, collection);
  return { plan: docs === undefined ? undefined : { kind: 'scan', documents: docs, keysExamined: 0 }, indexNames: ['_id_'] };
}

/** A command's own stage (UPDATE, DELETE, COUNT) over the query's stages, given the documents the query returns. */
type StageWrapper = (stages: ReturnType<typeof planStages>, results: Document[]) => ReturnType<typeof planStages>;

interface Explained {
  readonly queryPlanner: Document;
  readonly executionStats: Document;
  /** The documents the query returns, for stages above it. */
  readonly results: Document[];
}

/**
 * queryPlanner and executionStats of a find-like query; `wrap` adds the command's own stage
 * (UPDATE, DELETE, COUNT) over it. Running the query only reads: explained writes write nothing.
 */
function explainQuery(
  ctx: CommandContext,
  collection: string,
  shape: QueryShape,
  wrap?: StageWrapper,
  hintArgument?: unknown,
): Explained {
  const { plan, indexNames } = planFor(ctx, collection, shape, resolveHint(ctx, collection, hintArgument, shape));
  // An index walk for a sort is read only as far as skip + limit need (as the query runs it);
  // other plans' documents are read whole.
  const walk = plan?.kind === 'ordered';
  const needed = walk && shape.limit !== undefined && shape.limit > 0 ? (shape.skip ?? 0) + shape.limit : undefined;
  let docsExamined = 0;
  const examined = {
    *[Symbol.iterator]() {
      for (const doc of plan?.documents ?? []) {
        docsExamined += 1;
        yield doc;
      }
    },
  };
  const matched = runFind({ filter: shape.filter, limit: needed }, examined);
  const results = runFind({ sort: walk ? undefined : shape.sort, skip: shape.skip, limit: shape.limit, projection: shape.projection }, matched);
  let stages = planStages(plan, shape, { docsExamined, matched: matched.length });
  if (wrap !== undefined) stages = wrap(stages, results);
  const queryPlanner: Document = {
    namespace: `${ctx.db}.${collection}`,
    indexFilterSet: false,
    parsedQuery: parsedQuery(shape.filter),
    ...(plan === undefined ? {} : queryHashes(shape, indexNames)),
    maxIndexedOrSolutionsReached: false,
    maxIndexedAndSolutionsReached: false,
    maxScansToExplodeReached: false,
    winningPlan: stages.winningPlan,
    rejectedPlans: [],
  };
  const executionStats: Document = {
    executionSuccess: true,
    nReturned: new Int32(stages.nReturned),
    executionTimeMillis: new Int32(0),
    totalKeysExamined: new Int32(plan === undefined ? 0 : plan.kind === 'ordered' ? docsExamined : plan.keysExamined),
    totalDocsExamined: new Int32(docsExamined),
    executionStages: stages.executionStages,
  };
  return { queryPlanner, executionStats, results };
}

/** explain's reply for a find-like command (explain.cpp explainStages). */
function queryReply(ctx: CommandContext, inner: CommandContext, verbosity: Verbosity, explained: Explained): Document {
  const reply: Document = { explainVersion: '1', queryPlanner: explained.queryPlanner };
  if (verbosity !== 'queryPlanner') {
    reply.executionStats = verbosity === 'allPlansExecution' ? { ...explained.executionStats, allPlansExecution: [] } : explained.executionStats;
  }
  reply.command = { ...inner.body, $db: ctx.db };
  reply.serverInfo = serverInfo(ctx);
  reply.serverParameters = serverParameters();
  return reply;
}

export function explainFind(ctx: CommandContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  return queryReply(ctx, ctx, verbosity, explainQuery(ctx, collection, findShape(ctx), undefined, ctx.body.hint));
}

export function explainCount(ctx: CommandContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  const filter = isPlainObject(ctx.body.query) ? ctx.body.query : {};
  const skip = numberValue(ctx.body.skip) ?? 0;
  const limit = Math.abs(numberValue(ctx.body.limit) ?? 0);
  const explained = explainQuery(ctx, collection, { filter }, (stages, results) => {
    const counted = Math.max(0, results.length - skip);
    const stats = { nCounted: new Int32(limit > 0 ? Math.min(counted, limit) : counted), nSkipped: new Int32(Math.min(skip, results.length)) };
    if (Object.keys(filter).length === 0 && stages.winningPlan.stage !== 'EOF') {
      // An unfiltered count reads the collection's record count (RECORD_STORE_FAST_COUNT).
      return { winningPlan: { stage: 'RECORD_STORE_FAST_COUNT' }, executionStages: { stage: 'RECORD_STORE_FAST_COUNT', ...stats }, nReturned: 0 };
    }
    return wrapStages(stages, 'COUNT', stats, 0);
  }, ctx.body.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

export function explainDistinct(ctx: CommandContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  const filter = isPlainObject(ctx.body.query) ? ctx.body.query : {};
  return queryReply(ctx, ctx, verbosity, explainQuery(ctx, collection, { filter }, undefined, ctx.body.hint));
}

/** Explained writes are batches of one statement (write_ops_exec: "explained write batches must be of size 1"). */
function singleStatement(ctx: CommandContext, field: string): Document {
  const statements = ctx.body[field];
  if (!Array.isArray(statements) || statements.length !== 1 || !isPlainObject(statements[0])) {
    throw new MongoError(ErrorCodes.InvalidLength, 'explained write batches must be of size 1');
  }
  return statements[0];
}

export function explainDelete(ctx: CommandContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  const statement = singleStatement(ctx, 'deletes');
  const filter = isPlainObject(statement.q) ? statement.q : {};
  const limit = numberValue(statement.limit) === 1 ? 1 : 0;
  const wrap: StageWrapper = (stages, results) => wrapStages(stages, 'DELETE', { nWouldDelete: new Int32(results.length) }, 0);
  const explained = explainQuery(ctx, collection, { filter, limit }, wrap, statement.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

/** UPDATE's counters: what the statement would match, change and insert, computed without writing. */
function updateStats(results: Document[], query: Document, u: unknown, arrayFilters: unknown, upsert: boolean): Document {
  const filters = Array.isArray(arrayFilters) ? (arrayFilters as Document[]) : undefined;
  const wouldModify = results.filter((doc) => {
    try {
      return compareDocuments(updated(doc, u as Document | Document[], filters, query), doc) !== 0;
    } catch {
      return false;
    }
  }).length;
  return { nMatched: new Int32(results.length), nWouldModify: new Int32(wouldModify), nWouldUpsert: new Int32(upsert && results.length === 0 ? 1 : 0) };
}

export function explainUpdate(ctx: CommandContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  const statement = singleStatement(ctx, 'updates');
  const filter = isPlainObject(statement.q) ? statement.q : {};
  const wrap: StageWrapper = (stages, results) =>
    wrapStages(stages, 'UPDATE', updateStats(results, filter, statement.u, statement.arrayFilters, trueValue(statement.upsert)), 0);
  const explained = explainQuery(ctx, collection, { filter, limit: trueValue(statement.multi) ? 0 : 1 }, wrap, statement.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

export function explainFindAndModify(ctx: CommandContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  const filter = isPlainObject(ctx.body.query) ? ctx.body.query : {};
  const sort = isPlainObject(ctx.body.sort) ? ctx.body.sort : undefined;
  const remove = trueValue(ctx.body.remove);
  const wrap: StageWrapper = (stages, results) =>
    remove
      ? wrapStages(stages, 'DELETE', { nWouldDelete: new Int32(results.length) }, 0)
      : wrapStages(stages, 'UPDATE', updateStats(results, filter, ctx.body.update, ctx.body.arrayFilters, trueValue(ctx.body.upsert)), 0);
  const explained = explainQuery(ctx, collection, { filter, sort, limit: 1 }, wrap, ctx.body.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

/**
 * aggregate: the leading $match stages become the query under `$cursor`, the other stages follow
 * as written, each with the documents it passed on at executionStats (explain.cpp explainPipeline).
 */
export function explainAggregate(ctx: CommandContext, verbosity: Verbosity): Document {
  const pipeline = checkPipelineArgument(ctx);
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
  const read = collectionReader(ctx.server.namespaces, ctx.db);
  for (const stage of pipeline.slice(first)) {
    // $out and $merge are explained, not run: explain writes nothing.
    if (detailed && !('$out' in stage) && !('$merge' in stage)) docs = runPipeline([stage], docs, { collection: read });
    stages.push(detailed ? { ...stage, nReturned: Long.fromNumber(docs.length), executionTimeMillisEstimate: Long.fromNumber(0) } : stage);
  }
  return { explainVersion: '1', stages, ...tail };
}
