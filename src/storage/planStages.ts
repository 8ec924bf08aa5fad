import { Double, Int32, Long, type Document } from 'bson';
import crc32 from 'crc-32';
import { bsonText } from '../bson/bsonText.js';
import { ID_INDEX, type QueryPlan } from './catalog.js';
import type { FieldPredicate } from './orderedIndex.js';
import { fieldPredicates, isOperatorObject } from './queryPlan.js';
import { CANONICAL_TYPE, canonicalTypeOrder } from '../bson/bsonOrder.js';

/**
 * explain's description of how a query runs, in mongod 7.0's classic-engine shapes
 * (plan_explainer_impl.cpp): a leaf (COLLSCAN, IXSCAN under FETCH, IDHACK), then SORT, SKIP,
 * LIMIT and projection stages, each with execution counters at executionStats verbosity.
 */

/** What the query asks besides the filter. */
export interface QueryShape {
  readonly filter: Document;
  readonly sort?: Document;
  readonly skip?: number;
  readonly limit?: number;
  readonly projection?: Document;
  /** A collation orders strings its own way: then no index gives the sort. */
  readonly collation?: Document;
}

/** What running the query saw: documents examined, matched, and returned after skip and limit. */
export interface QueryCounts {
  readonly docsExamined: number;
  readonly matched: number;
}

const MEM_LIMIT = 104857600;

/** parsedQuery: mongod's normalized filter, each condition one operator ({a: 1} → {a: {$eq: 1}}), several under $and. */
export function parsedQuery(filter: Document): Document {
  const clauses: Document[] = [];
  const collect = (clause: Document): void => {
    for (const [field, condition] of Object.entries(clause)) {
      if (field === '$and' && Array.isArray(condition)) {
        for (const sub of condition) collect(sub as Document);
      } else if (field.startsWith('$')) {
        clauses.push({ [field]: condition });
      } else if (isOperatorObject(condition)) {
        for (const [op, value] of Object.entries(condition)) clauses.push({ [field]: { [op]: value } });
      } else {
        clauses.push({ [field]: { $eq: condition } });
      }
    }
  };
  collect(filter);
  if (clauses.length === 1) return clauses[0]!;
  return clauses.length === 0 ? {} : { $and: clauses };
}

/**
 * The query's shape with its values left out (what mongod's queryHash identifies), as eight
 * uppercase hex digits; planCacheKey adds the indexes that could answer it.
 */
function shapeHash(text: string): string {
  return (crc32.str(text) >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  }
  return '?';
}

export function queryHashes(shape: QueryShape, indexNames: readonly string[]): { queryHash: string; planCacheKey: string } {
  const text = JSON.stringify([shapeOf(shape.filter), shape.sort ?? {}, shape.projection ?? {}]);
  return { queryHash: shapeHash(text), planCacheKey: shapeHash(`${text}|${indexNames.join(',')}`) };
}

/** The first and last bound text of one canonical type's bracket (mongod's index bound strings). */
function bracketEdges(value: unknown): [string, string] {
  switch (canonicalTypeOrder(value)) {
    case CANONICAL_TYPE.number:
      return ['-inf.0', 'inf.0'];
    case CANONICAL_TYPE.string:
      return ['""', '{}'];
    case CANONICAL_TYPE.objectId:
      return ["ObjectId('000000000000000000000000')", "ObjectId('ffffffffffffffffffffffff')"];
    case CANONICAL_TYPE.date:
      return ['new Date(-9223372036854775808)', 'new Date(9223372036854775807)'];
    case CANONICAL_TYPE.bool:
      return ['false', 'true'];
    default:
      return ['MinKey', 'MaxKey'];
  }
}

/** indexBounds strings for one field's predicate ("[1, 1]", "(5, inf.0]"). */
function boundsText(predicate: FieldPredicate | undefined, multikey: boolean): string[] {
  if (predicate === undefined) return ['[MinKey, MaxKey]'];
  if (predicate.kind === 'in') return predicate.values.map((v) => `[${bsonText(v)}, ${bsonText(v)}]`);
  const high = multikey && predicate.low !== undefined ? undefined : predicate.high;
  const anchor = predicate.low?.value ?? high?.value;
  const [first, last] = bracketEdges(anchor);
  const low = predicate.low === undefined ? `[${first}` : `${predicate.low.inclusive ? '[' : '('}${bsonText(predicate.low.value)}`;
  const up = high === undefined ? `${last}]` : `${bsonText(high.value)}${high.inclusive ? ']' : ')'}`;
  return [`${low}, ${up}`];
}

/** Operators whose condition index bounds answer exactly on a field that holds no arrays. */
const EXACT_BOUNDS = new Set(['$eq', '$in', '$gt', '$gte', '$lt', '$lte']);

/**
 * What FETCH still has to check after the index scan: the normalized filter less the conditions
 * the bounds on the index's first field already answer (none are answered on a multikey field,
 * where bounds are loosened). Undefined when nothing is left.
 */
function residualFilter(filter: Document, field: string, multikey: boolean): Document | undefined {
  const clauses = Array.isArray(filter.$and) ? (filter.$and as Document[]) : Object.keys(filter).length === 0 ? [] : [filter];
  const left = clauses.filter((clause) => {
    if (multikey) return true;
    const condition = clause[field] as Document | undefined;
    return condition === undefined || Object.keys(clause).length !== 1 || !Object.keys(condition).every((op) => EXACT_BOUNDS.has(op));
  });
  if (left.length === 0) return undefined;
  return left.length === 1 ? left[0] : { $and: left };
}

/** A stage with execution counters, and the number of documents it passes up. */
interface Stage {
  readonly planner: Document;
  readonly stats: Document;
  readonly nReturned: number;
}

function counters(nReturned: number, works: number): Document {
  return {
    nReturned: new Int32(nReturned),
    executionTimeMillisEstimate: new Int32(0),
    works: new Int32(works),
    advanced: new Int32(nReturned),
    needTime: new Int32(Math.max(0, works - nReturned - 1)),
    needYield: new Int32(0),
    saveState: new Int32(0),
    restoreState: new Int32(0),
    isEOF: new Int32(1),
  };
}

/** The leaf of the plan: how documents are found. */
function leafStage(plan: QueryPlan, shape: QueryShape, counts: QueryCounts): Stage {
  const filter = parsedQuery(shape.filter);
  const hasFilter = Object.keys(filter).length > 0;
  if (plan.kind === 'scan') {
    const planner: Document = { stage: 'COLLSCAN', ...(hasFilter ? { filter } : {}), direction: 'forward' };
    const stats = { stage: 'COLLSCAN', ...(hasFilter ? { filter } : {}), ...counters(counts.matched, counts.docsExamined + 1), direction: 'forward', docsExamined: new Int32(counts.docsExamined) };
    return { planner, stats, nReturned: counts.matched };
  }
  const idOnly = plan.kind === 'id' && Object.keys(shape.filter).length === 1;
  if (idOnly) {
    const planner = { stage: 'IDHACK' };
    const stats = { stage: 'IDHACK', ...counters(counts.matched, plan.keysExamined + 1), keysExamined: new Int32(plan.keysExamined), docsExamined: new Int32(counts.docsExamined) };
    return { planner, stats, nReturned: counts.matched };
  }
  const index = plan.kind === 'id' ? ID_INDEX : plan.index;
  const multikey = plan.kind === 'index' && plan.multikey;
  // An index walk for a sort reads every key it passes over: one per document examined.
  const keysExamined = plan.kind === 'ordered' ? counts.docsExamined : plan.keysExamined;
  const direction = plan.kind === 'ordered' && plan.direction === -1 ? 'backward' : 'forward';
  const predicates = fieldPredicates(shape.filter);
  const fields = Object.keys(index.key);
  const ixscan: Document = {
    stage: 'IXSCAN',
    keyPattern: index.key,
    indexName: index.name,
    isMultiKey: multikey,
    multiKeyPaths: Object.fromEntries(fields.map((f, i) => [f, multikey && i === 0 ? [f] : []])),
    isUnique: index.unique,
    isSparse: index.sparse,
    isPartial: index.partialFilterExpression !== undefined,
    indexVersion: new Int32(2),
    direction,
    indexBounds: Object.fromEntries(
      fields.map((f, i) => [f, i === 0 && plan.kind !== 'ordered' ? boundsText(predicates.get(f), multikey) : [direction === 'backward' ? '[MaxKey, MinKey]' : '[MinKey, MaxKey]']]),
    ),
  };
  const { stage, ...ixRest } = ixscan;
  const works = keysExamined + 1;
  const ixStats = {
    stage,
    ...counters(counts.docsExamined, works),
    ...ixRest,
    keysExamined: new Int32(keysExamined),
    seeks: new Int32(1),
    dupsTested: new Int32(multikey ? keysExamined : 0),
    dupsDropped: new Int32(multikey ? keysExamined - counts.docsExamined : 0),
  };
  // A walk for a sort has no bounds: every condition is left to FETCH.
  const residual = plan.kind === 'ordered' ? (hasFilter ? filter : undefined) : residualFilter(filter, fields[0]!, multikey);
  const fetchFilter = residual === undefined ? {} : { filter: residual };
  return {
    planner: { stage: 'FETCH', ...fetchFilter, inputStage: ixscan },
    stats: {
      stage: 'FETCH',
      ...fetchFilter,
      ...counters(counts.matched, works),
      docsExamined: new Int32(counts.docsExamined),
      alreadyHasObj: new Int32(0),
      inputStage: ixStats,
    },
    nReturned: counts.matched,
  };
}

/** A stage over `input` that passes up `nReturned` documents; `fields` go before inputStage. */
function over(input: Stage, name: string, fields: Document, nReturned: number): Stage {
  const works = (input.stats.works as Int32).value;
  return {
    planner: { stage: name, ...fields, inputStage: input.planner },
    stats: { stage: name, ...counters(nReturned, works), ...fields, inputStage: input.stats },
    nReturned,
  };
}

/** The winning plan and its execution stages for a find-like query. */
export function planStages(plan: QueryPlan | undefined, shape: QueryShape, counts: QueryCounts): { winningPlan: Document; executionStages: Document; nReturned: number } {
  if (plan === undefined) {
    const eof = { stage: 'EOF' };
    return { winningPlan: eof, executionStages: { stage: 'EOF', ...counters(0, 1) }, nReturned: 0 };
  }
  let stage = leafStage(plan, shape, counts);
  const skip = shape.skip ?? 0;
  const limit = shape.limit ?? 0;
  const sortsInMemory = shape.sort !== undefined && Object.keys(shape.sort).length > 0 && plan.kind !== 'ordered';
  if (sortsInMemory) {
    const kept = limit > 0 ? Math.min(stage.nReturned, skip + limit) : stage.nReturned;
    stage = over(stage, 'SORT', { sortPattern: shape.sort, memLimit: new Int32(MEM_LIMIT), ...(limit > 0 ? { limitAmount: new Int32(skip + limit) } : {}), type: 'simple' }, kept);
  }
  if (skip > 0) stage = over(stage, 'SKIP', { skipAmount: new Int32(skip) }, Math.max(0, stage.nReturned - skip));
  // A limit under an in-memory sort is the SORT stage's limitAmount, not a stage of its own.
  if (limit > 0 && !sortsInMemory) stage = over(stage, 'LIMIT', { limitAmount: new Int32(limit) }, Math.min(stage.nReturned, limit));
  if (shape.projection !== undefined && Object.keys(shape.projection).length > 0) {
    // Inclusions and exclusions of top-level fields are PROJECTION_SIMPLE; anything else (paths, expressions) DEFAULT.
    const simple = Object.entries(shape.projection).every(
      ([k, v]) => !k.includes('.') && (typeof v === 'boolean' || typeof v === 'number' || v instanceof Int32 || v instanceof Double || v instanceof Long),
    );
    stage = over(stage, simple ? 'PROJECTION_SIMPLE' : 'PROJECTION_DEFAULT', { transformBy: shape.projection }, stage.nReturned);
  }
  return { winningPlan: stage.planner, executionStages: stage.stats, nReturned: stage.nReturned };
}

/** A write stage (UPDATE, DELETE, COUNT) over a query plan; `stats` are its own counters. */
export function wrapStages(
  inner: { winningPlan: Document; executionStages: Document; nReturned: number },
  name: string,
  stats: Document,
  nReturned: number,
): { winningPlan: Document; executionStages: Document; nReturned: number } {
  const works = ((inner.executionStages.works as Int32 | undefined)?.value ?? 0) + 1;
  return {
    winningPlan: { stage: name, inputStage: inner.winningPlan },
    executionStages: { stage: name, ...counters(nReturned, works), ...stats, inputStage: inner.executionStages },
    nReturned,
  };
}
