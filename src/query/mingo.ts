import { createRequire } from 'node:module';
import { BSONRegExp, Decimal128, Double, Int32, Long, type Document } from 'bson';
import type { Context } from 'mingo';
import type { Query } from 'mingo/query';
import type { Iterator } from 'mingo/lazy';
import type * as AccumulatorOperators from 'mingo/operators/accumulator';
import type * as ExpressionOperators from 'mingo/operators/expression';
import type * as PipelineOperators from 'mingo/operators/pipeline';
import type * as ProjectionOperators from 'mingo/operators/projection';
import type * as QueryOperators from 'mingo/operators/query';
import type * as WindowOperators from 'mingo/operators/window';
import type { Options } from 'mingo/types';
import type { CompiledFilter } from './match/compile.js';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { checkFilter, withoutComments } from './filterCheck.js';
import { compileRegex, withCompiledRegexes } from './regex.js';
import { retype } from './retype.js';
import { sortDocuments, sortFields } from './sort.js';

/**
 * The values mingo evaluates: BSON's Int32/Double wrappers, and longs and decimals that a double
 * holds exactly, become plain numbers (mingo compares JS numbers, so an int32 1 and a long 1 are equal
 * as in mongod); BSON regular expressions become RegExp (mingo matches only those; the flags JS
 * lacks, x and l, are dropped). Other BSON values (ObjectId, UUID, Date ...) pass through: mingo
 * compares them itself.
 */
export function toQueryValue(value: unknown): unknown {
  // Hot: every document of a query passes here. Primitives first, then one look at the bson tag.
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(toQueryValue);
  switch ((value as { _bsontype?: string })._bsontype) {
    case undefined:
      break;
    case 'Int32':
    case 'Double':
      return (value as Int32 | Double).value;
    case 'Long': {
      const n = (value as Long).toNumber();
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'BSONRegExp':
      try {
        return compileRegex((value as BSONRegExp).pattern, (value as BSONRegExp).options);
      } catch {
        // A stored pattern that cannot be compiled stays a value (filters are checked first: checkFilter).
        return value;
      }
    case 'Decimal128':
      return decimalAsNumber(value as Decimal128);
    default:
      return value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const k in value) {
    const v = toQueryValue((value as Record<string, unknown>)[k]);
    // A `__proto__` field stays a field (an assignment would replace the view's prototype).
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

/** mingo's operator tables, by kind (as Context.init takes them). */
interface MingoOperators {
  readonly accumulator: typeof AccumulatorOperators;
  readonly expression: typeof ExpressionOperators;
  readonly pipeline: typeof PipelineOperators;
  readonly projection: typeof ProjectionOperators;
  readonly query: typeof QueryOperators;
  readonly window: typeof WindowOperators;
}

/** What this bridge uses of mingo, loaded and set up on first use (mingo()). */
interface Mingo {
  readonly Context: typeof Context;
  readonly Query: typeof Query;
  readonly Aggregator: typeof import('mingo/aggregator').Aggregator;
  readonly Lazy: typeof import('mingo/lazy').Lazy;
  readonly operators: MingoOperators;
  /** Compiled query options with every operator; with `variables` when given (queryOptions). */
  readonly queryOptions: (variables?: Document) => Options;
  readonly defaultQueryOptions: Options;
}

// In the CLI bundle these require() calls are bundled (scripts/bundle.mjs); either way mingo's
// modules run their top level at the first call of mingo().
const require = createRequire(import.meta.url);

let loaded: Mingo | undefined;

/**
 * mingo, loaded on first use: building its operator tables was the largest part of the CLI's
 * start-up (~19 ms with the garbage it leaves), and most commands never reach mingo.
 */
export function mingo(): Mingo {
  if (loaded !== undefined) return loaded;
  const { Context: MingoContext } = require('mingo') as typeof import('mingo');
  const { Query: MingoQuery } = require('mingo/query') as typeof import('mingo/query');
  const { Aggregator } = require('mingo/aggregator') as typeof import('mingo/aggregator');
  const { Lazy } = require('mingo/lazy') as typeof import('mingo/lazy');
  const operators: MingoOperators = {
    accumulator: require('mingo/operators/accumulator'),
    expression: require('mingo/operators/expression'),
    pipeline: require('mingo/operators/pipeline'),
    projection: require('mingo/operators/projection'),
    query: require('mingo/operators/query'),
    window: require('mingo/operators/window'),
  };
  const queryOptions = queryOptionsMaker(MingoContext, MingoQuery, MingoContext.init(operators));
  loaded = { Context: MingoContext, Query: MingoQuery, Aggregator, Lazy, operators, queryOptions, defaultQueryOptions: queryOptions() };
  return loaded;
}

/**
 * mingo's compiled options for queries, made once. Given plain options, mingo copies every
 * operator table on each `new Query` (18 µs, most of a point lookup); given its own options
 * object (ComputeOptions, which it does not export) it reuses them. One is caught from a probe
 * operator's arguments, and its class makes the ones used from then on, with the full context.
 */
function queryOptionsMaker(MingoContext: typeof Context, MingoQuery: typeof Query, fullContext: Context): (variables?: Document) => Options {
  let caught: { constructor: new (options: object) => Options; options: object } | undefined;
  const probe = MingoContext.init({
    query: {
      $probe: (_field: string, _value: unknown, options: unknown) => {
        caught = options as typeof caught;
        return () => true;
      },
    },
  });
  new MingoQuery({ x: { $probe: 1 } }, { context: probe });
  const { constructor: Make, options } = caught!;
  return (variables?: Document): Options => new Make({ ...options, context: fullContext, ...(variables === undefined ? {} : { variables }) });
}

/**
 * A decimal as a JS number when a double carries all its digits (at most 15 significant ones), so
 * mingo compares it with other numbers by value; longer or non-finite decimals stay Decimal128.
 */
function decimalAsNumber(value: Decimal128): number | Decimal128 {
  const text = value.toString();
  const mantissa = text.replace(/^[-+]/, '').split(/[eE]/)[0]!;
  const digits = mantissa.replace('.', '').replace(/^0+/, '');
  const n = Number(text);
  return digits.length <= 15 && Number.isFinite(n) ? n : value;
}

/** Maps mingo's errors onto mongod's codes. */
function translate(err: unknown): MongoError {
  if (err instanceof MongoError) return err;
  const message = (err as Error)?.message ?? String(err);
  const stage = /unregistered pipeline operator (\$\w+)/.exec(message);
  if (stage) return new MongoError(LocationCodes.UnrecognizedStage, `Unrecognized pipeline stage name: '${stage[1]}'`);
  if (/would modify the immutable field/.test(message)) {
    return new MongoError(ErrorCodes.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  const operator = /(?:unregistered|unknown) (?:query|expression|projection|accumulator) operator (\$\w+)/i.exec(message);
  if (operator) return new MongoError(ErrorCodes.BadValue, `unknown operator: ${operator[1]}`);
  // $convert/$toDate ... (ExpressionConvert: ConversionFailure 241); mingo's text names no type.
  const conversion = /^cannot convert '.*' to (\w+)$/s.exec(message);
  if (conversion) return new MongoError(ErrorCodes.ConversionFailure, `Unsupported conversion to ${conversion[1]} in $convert with no onError value`);
  // A JavaScript error from inside mingo: an operator took an argument of a type or shape it
  // cannot handle, which mongod's parsers would have refused. Never answer with its JavaScript text.
  if (err instanceof RangeError && /call stack/.test(message)) {
    return new MongoError(ErrorCodes.Overflow, 'the expression or document is nested too deeply to evaluate');
  }
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError) {
    return new MongoError(ErrorCodes.BadValue, 'an operator argument is of a type or shape the operator does not take');
  }
  return new MongoError(ErrorCodes.BadValue, message);
}

/** What a pipeline reads besides its input documents. */
export interface PipelineOptions {
  /**
   * The documents of a collection of the pipeline's database, for $lookup, $graphLookup and
   * $unionWith (none for a missing collection: mongod reads it as an empty one).
   */
  readonly collection?: (name: string) => Iterable<Document>;
  /** Variables the stages read as `$$name` ($merge's whenMatched pipeline reads `$$new`). */
  readonly variables?: Document;
}

/**
 * Runs an aggregation pipeline over numeric views of the documents (toQueryValue). Documents that
 * come out unchanged (as $match, $sort, $limit or $unionWith pass them on) are returned as the
 * stored ones, so they keep their BSON types; reshaped ones come from mingo's view.
 */
export function runPipeline(stages: readonly Document[], docs: Iterable<Document>, options: PipelineOptions = {}): Document[] {
  if (stages.length === 0) return [...docs];
  const originals = new Map<Document, Document>();
  // Input documents by `_id` (the view's value: the same primitive or object all through the run).
  const byId = new Map<unknown, Document>();
  const view = (doc: Document): Document => {
    const v = toQueryValue(doc) as Document;
    originals.set(v, doc);
    if ('_id' in v) byId.set(v._id, doc);
    return v;
  };
  // Each foreign collection is read and converted once per run, however many stages or input
  // documents read it (a $lookup sub-pipeline re-resolves its collections for every document).
  const read = new Map<string, Document[]>();
  const collectionResolver = (name: string): Document[] => {
    let views = read.get(name);
    if (views === undefined) {
      views = [...(options.collection?.(name) ?? [])].map(view);
      read.set(name, views);
    }
    return views;
  };
  // mongod runs the pipeline of a $lookup that also has localField/foreignField over the foreign
  // documents that match (document_source_lookup.cpp prepends the equality $match); mingo runs it
  // over the whole foreign collection. Join first, then run the pipeline over the joined array.
  const { Aggregator, Context: MingoContext, Lazy, operators } = mingo();
  const pipelineOperators = operators.pipeline;
  const { $lookup } = pipelineOperators;
  const lookup = (coll: Iterator, expr: Parameters<typeof $lookup>[1], opts: Options): Iterator => {
    const { pipeline, let: vars, ...join } = expr;
    if (join.localField === undefined || join.foreignField === undefined || pipeline === undefined || pipeline.length === 0) {
      return $lookup(coll, expr, opts);
    }
    return $lookup(coll, join, opts).map((doc: Document) => {
      const joined = { from: doc[join.as] as Document[], let: vars, pipeline, as: join.as };
      return $lookup(Lazy([doc]), joined, opts).collect()[0];
    });
  };
  // mongod's $sample returns distinct documents (a random sort, or a random cursor without
  // repeats); mingo draws with replacement. Draw without: a partial Fisher-Yates shuffle.
  const sample: typeof PipelineOperators.$sample = (coll, expr) =>
    coll.transform((xs: unknown[]) => {
      const pool = [...xs];
      const n = Math.min(Math.max(0, Math.trunc(expr.size)), pool.length);
      for (let i = 0; i < n; i += 1) {
        const j = i + Math.floor(Math.random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j], pool[i]];
      }
      return Lazy(pool.slice(0, n));
    });
  // mongod's $project puts _id first (inclusion projections start with it); mingo appends it.
  // mongod's $sort orders by BSON type rank and exact numeric value (sort.ts); mingo ranks types
  // its own way. Computed sorts ({$meta: ...}) stay mingo's.
  const sort: typeof PipelineOperators.$sort = (coll, expr, opts) => {
    const fields = sortFields(expr as Document);
    if (fields === undefined) return pipelineOperators.$sort(coll, expr, opts);
    return coll.transform((xs: unknown[]) => Lazy(sortDocuments(xs as Document[], fields)));
  };
  // mongod parses a $match filter before running anything; mingo fails on malformed arguments.
  const match: typeof PipelineOperators.$match = (coll, expr, opts) => {
    if (expr === null || typeof expr !== 'object' || Array.isArray(expr) || expr instanceof RegExp) {
      throw new MongoError(LocationCodes.MatchNotObject, 'the match filter must be an expression in an object');
    }
    checkFilter(expr as Document);
    return pipelineOperators.$match(coll, withCompiledRegexes(withoutComments(expr as Document)) as Document, opts);
  };
  const project: typeof PipelineOperators.$project = (coll, expr, opts) =>
    pipelineOperators.$project(coll, expr, opts).map((doc: Document) => {
      if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
      const { _id, ...rest } = doc;
      return { _id, ...rest };
    });
  try {
    // mingo's own context, with those stages replaced (its Aggregator would let the
    // built-in ones win over an options.context).
    const context = MingoContext.init({
      ...operators,
      pipeline: { ...pipelineOperators, $lookup: lookup, $match: match, $sample: sample, $project: project, $sort: sort },
    });
    const aggregator = new Aggregator(stages.map((s) => toQueryValue(s) as Document), {
      collectionResolver,
      context,
      variables: options.variables === undefined ? undefined : (toQueryValue(options.variables) as Document),
    });
    const results = aggregator.run([...docs].map(view)) as Document[];
    // Reshaped documents that kept their `_id` ($project, $addFields ...) get back the numeric
    // types of the values they carried over unchanged.
    return results.map((doc) => originals.get(doc) ?? (byId.has(doc._id) ? (retype(doc, byId.get(doc._id), true) as Document) : doc));
  } catch (err) {
    throw translate(err);
  }
}

/**
 * A sort mongod computes ({$meta: ...}), by mingo over numeric views of the documents; the stored
 * documents come back in that order.
 */
export function sortByMingo(docs: readonly Document[], sort: Document): Document[] {
  try {
    const originals = new Map<Document, Document>();
    const views = docs.map((doc) => {
      const view = toQueryValue(doc) as Document;
      originals.set(view, doc);
      return view;
    });
    const { Query: MingoQuery, defaultQueryOptions } = mingo();
    return new MingoQuery({}, defaultQueryOptions).find<Document>(views).sort(toQueryValue(sort) as Record<string, 1 | -1>).all().map((view) => originals.get(view)!);
  } catch (err) {
    throw translate(err);
  }
}

/**
 * A filter evaluated by mingo over the numeric view of each document: only for what the BSON
 * matcher (match/) does not evaluate yet (aggregation operators inside $expr). No array position
 * is recorded.
 */
export function mingoFilter(filter: Document, variables?: Document): CompiledFilter {
  try {
    checkFilter(filter);
    const { Query: MingoQuery, defaultQueryOptions, queryOptions } = mingo();
    const query = new MingoQuery(toQueryValue(withCompiledRegexes(withoutComments(filter))) as Document, variables === undefined ? defaultQueryOptions : queryOptions(toQueryValue(variables) as Document));
    const matches = (doc: Document): boolean => {
      try {
        return query.test(toQueryValue(doc) as Document);
      } catch (err) {
        throw translate(err);
      }
    };
    return { matches, matchWithPosition: (doc) => ({ matched: matches(doc), arrayPosition: undefined }), hasExpr: true };
  } catch (err) {
    throw translate(err);
  }
}

