import { hostname } from 'node:os';
import { Int32, type Document } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { runFind } from '../query/find.js';
import type { Hint, QueryPlan } from '../storage/catalog.js';
import { parsedQuery, planStages, queryHashes, type QueryShape } from '../storage/planStages.js';
import { SERVER_VERSION } from '../version.js';
import type { CommandContext, Verbosity } from './command.js';
import { resolveHint } from './hint.js';

// What every explained query shares (explain.cpp): the plan and its stages, the reply's shape.
// Each command family explains its own commands with these.

/** What explaining a query reads: the catalog and namespaces for the plan, the port for serverInfo. */
export type ExplainContext = CommandContext<'catalog' | 'namespaces' | 'process'>;

/** explain's serverInfo: this host and port, and the version we answer as. */
export function serverInfo(ctx: ExplainContext): Document {
  return { host: hostname(), port: new Int32(ctx.services.process.listen.port), version: SERVER_VERSION, gitVersion: '0000000000000000000000000000000000000000' };
}

/** The query-knob values mongod 7.0 reports with every explain. */
export function serverParameters(): Document {
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
function planFor(ctx: ExplainContext, collection: string, shape: QueryShape, hint: Hint | undefined): { plan: QueryPlan | undefined; indexNames: string[] } {
  const stored = ctx.services.catalog.get(ctx.db, collection);
  const sort = shape.collation === undefined ? shape.sort : undefined;
  if (stored !== undefined) return { plan: stored.plan(shape.filter, hint, sort), indexNames: stored.indexes.map((i) => i.name) };
  const docs = ctx.services.namespaces.documents(ctx.db, collection);
  return { plan: docs === undefined ? undefined : { kind: 'scan', documents: docs, keysExamined: 0 }, indexNames: ['_id_'] };
}

/** A command's own stage (UPDATE, DELETE, COUNT) over the query's stages, given the documents the query returns. */
export type StageWrapper = (stages: ReturnType<typeof planStages>, results: Document[]) => ReturnType<typeof planStages>;

export interface Explained {
  readonly queryPlanner: Document;
  readonly executionStats: Document;
  /** The documents the query returns, for stages above it. */
  readonly results: Document[];
}

/**
 * queryPlanner and executionStats of a find-like query; `wrap` adds the command's own stage
 * (UPDATE, DELETE, COUNT) over it. Running the query only reads: explained writes write nothing.
 */
export function explainQuery(
  ctx: ExplainContext,
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
export function queryReply(ctx: ExplainContext, inner: CommandContext<never>, verbosity: Verbosity, explained: Explained): Document {
  const reply: Document = { explainVersion: '1', queryPlanner: explained.queryPlanner };
  if (verbosity !== 'queryPlanner') {
    reply.executionStats = verbosity === 'allPlansExecution' ? { ...explained.executionStats, allPlansExecution: [] } : explained.executionStats;
  }
  reply.command = { ...inner.body, $db: ctx.db };
  reply.serverInfo = serverInfo(ctx);
  reply.serverParameters = serverParameters();
  return reply;
}


/** Explained writes are batches of one statement (write_ops_exec: "explained write batches must be of size 1"). */
export function singleStatement(ctx: CommandContext<never>, field: string): Document {
  const statements = ctx.body[field];
  if (!Array.isArray(statements) || statements.length !== 1 || !isPlainObject(statements[0])) {
    throw new MongoError(ErrorCodes.InvalidLength, 'explained write batches must be of size 1');
  }
  return statements[0];
}
