import { Int32, type Document } from 'bson';
import { isPlainObject, numberValue, trueValue } from '../bson/args.js';
import { wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { collatorFor, fullCollationSpec } from '../query/match/collation.js';
import { stageName } from '../pipeline/pipelineShape.js';
import { checkViewPipeline, involvedCollections } from '../pipeline/viewDefinition.js';
import type { Catalog } from '../storage/catalog.js';
import { sameCollation, SYSTEM_VIEWS, ViewCatalog, viewIsNotACollection, type ViewDefinition } from '../storage/viewCatalog.js';
import type { CommandContext } from './command.js';
import type { NamespaceView } from './namespaces.js';

// Views in the commands (mongod 7.0, non-materialized views): create with viewOn
// (create_collection.cpp _createView, DatabaseImpl::userCreateNS, CollectionCatalog::createView),
// collMod of a view (coll_mod.cpp), and reads through a view: an aggregate runs the view's
// pipeline then its own on the collection under it (run_aggregate.cpp,
// ResolvedView::asExpandedViewAggregate); find, count and distinct run as that aggregate
// (query_request_conversion.cpp, count_cmd.cpp, distinct.cpp, view_response_formatter.cpp).
// The definitions are kept by storage/viewCatalog.ts; writes to a view are refused (166).

/** The arguments that define a view, as create.idl and coll_mod.idl type them. */
export interface ViewArguments {
  readonly viewOn?: string;
  readonly pipeline?: Document[];
  readonly collation?: Document;
}

/** viewOn (string), pipeline (array of objects) and collation (object) of `command`'s body; null is absent. */
export function viewArguments(body: Document, command: 'create' | 'collMod'): ViewArguments {
  const { viewOn, pipeline, collation } = body;
  if (viewOn !== undefined && viewOn !== null && typeof viewOn !== 'string') throw wrongType(`${command}.viewOn`, viewOn, 'string');
  if (pipeline !== undefined && pipeline !== null) {
    if (!Array.isArray(pipeline)) throw wrongType(`${command}.pipeline`, pipeline, 'array');
    pipeline.forEach((stage: unknown, i: number) => {
      if (!isPlainObject(stage)) throw wrongType(`${command}.pipeline.${i}`, stage, 'object');
    });
  }
  if (command === 'create' && collation !== undefined && collation !== null && !isPlainObject(collation)) throw wrongType('create.collation', collation, 'object');
  return {
    ...(typeof viewOn === 'string' ? { viewOn } : {}),
    ...(Array.isArray(pipeline) ? { pipeline: pipeline as Document[] } : {}),
    ...(command === 'create' && isPlainObject(collation) ? { collation } : {}),
  };
}

/** NamespaceString::validCollectionName: not empty, no leading dot, no '$' and no NUL. */
function checkViewOn(viewOn: string): void {
  if (viewOn.length === 0 || viewOn.startsWith('.') || /[$\0]/.test(viewOn)) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `invalid name for 'viewOn': ${viewOn}`);
  }
}

/** The view's pipeline checked, then the graph with the other views; stored by `store`. */
function storeView(ctx: CommandContext<'namespaces'>, view: ViewDefinition, store: 'create' | 'modify'): void {
  checkViewOn(view.viewOn);
  checkViewPipeline(view.db, view.name, view.viewOn, view.pipeline);
  const views = ctx.services.namespaces.views;
  if (store === 'create') views.create(view, involvedCollections);
  else views.modify(view, involvedCollections);
}

/**
 * create with `viewOn` (the name is free: create checked it): pre- and post-images are refused
 * on a view, the collation is parsed (simple is no collation), a view may not be a system
 * namespace, then its definition is checked and stored in the database's system.views.
 */
export function createView(ctx: CommandContext<'namespaces'>, name: string, args: ViewArguments & { readonly viewOn: string }): void {
  const images = ctx.body.changeStreamPreAndPostImages;
  if (isPlainObject(images) && trueValue(images.enabled)) {
    throw new MongoError(ErrorCodes.InvalidOptions, 'option not supported on a view: changeStreamPreAndPostImages');
  }
  collatorFor(args.collation);
  const collation = fullCollationSpec(args.collation);
  if (name.startsWith('system.')) {
    throw new MongoError(ErrorCodes.InvalidNamespace, "View name cannot start with 'system.', which is reserved for system namespaces");
  }
  const view: ViewDefinition = { db: ctx.db, name, viewOn: args.viewOn, pipeline: args.pipeline ?? [], ...(collation === undefined ? {} : { collation }) };
  storeView(ctx, view, 'create');
}

/**
 * collMod of a view: `pipeline` and `viewOn` each replace their half (an empty viewOn keeps the
 * old one, as coll_mod.cpp does), the collation stays, and the new definition is checked as
 * create checks one.
 */
export function modifyView(ctx: CommandContext<'namespaces'>, current: ViewDefinition, args: ViewArguments): void {
  const viewOn = args.viewOn === undefined || args.viewOn === '' ? current.viewOn : args.viewOn;
  storeView(ctx, { ...current, viewOn, pipeline: args.pipeline ?? current.pipeline }, 'modify');
}

/** A context for the command a read on a view turns into: `body` (and its name) instead of ctx's, everything else as ctx has it. */
export function withBody<C extends CommandContext<never>>(ctx: C, body: Document): C {
  return Object.create(ctx, {
    body: { value: body, enumerable: true },
    name: { value: Object.keys(body)[0] ?? '', enumerable: true },
  }) as C;
}

/** Whether `db.name` is a view. */
export function isView(ctx: CommandContext<'namespaces'>, name: string): boolean {
  return ctx.services.namespaces.views.lookup(ctx.db, name) !== undefined;
}

/**
 * Why a write to `db.name` is refused before it touches anything: a view is not a collection
 * (CommandNotSupportedOnView), and system.views changes through create, collMod and drop only
 * (mongod takes direct writes there and reloads its views from them; pocketmongo refuses them).
 */
export function writeRefusal(catalog: Catalog, db: string, name: string): MongoError | undefined {
  if (name === SYSTEM_VIEWS) {
    return new MongoError(ErrorCodes.CommandNotSupported, `pocketmongo does not support writing to ${SYSTEM_VIEWS} directly yet (create, collMod and drop change views)`);
  }
  return new ViewCatalog(catalog).lookup(db, name) === undefined ? undefined : viewIsNotACollection(db, name);
}

/** A collation argument as a full spec (undefined for none, {} and simple), parsed with mongod's errors. */
function collationSpec(value: unknown): Document | undefined {
  if (!isPlainObject(value) || Object.keys(value).length === 0) return undefined;
  collatorFor(value);
  return fullCollationSpec(value);
}

/** An aggregate's `collation` may only name the view's own (run_aggregate.cpp). */
function checkViewCollation(requested: unknown, view: Document | undefined): void {
  if (isPlainObject(requested) && Object.keys(requested).length > 0 && !sameCollation(collationSpec(requested), view)) {
    throw new MongoError(ErrorCodes.OptionNotSupportedOnView, "Cannot override a view's default collation");
  }
}

/** The executor's context on errors raised while the pipeline runs (run_aggregate.cpp). */
function planExecutorError(err: MongoError): MongoError {
  return new MongoError(err.code, `PlanExecutor error during aggregation :: caused by :: ${err.message}`);
}

/**
 * The aggregate an aggregate on a view becomes: on the collection under the view, the views'
 * pipelines then its own, with the view's collation (another collation is refused: 167).
 * Undefined when `name` is not a view, and for $collStats, which reports on the view's namespace
 * itself: its record count and query stats need a collection (166); its storage stats find none.
 */
export function expandViewAggregate(ctx: CommandContext<'namespaces'>, name: string, pipeline: readonly Document[]): Document | undefined {
  const resolved = ctx.services.namespaces.views.resolve(ctx.db, name);
  if (resolved === undefined) return undefined;
  if (stageName(pipeline[0]) === '$collStats') {
    const spec = pipeline[0]!.$collStats as Document;
    if (spec.storageStats === undefined && (spec.count !== undefined || spec.queryExecStats !== undefined)) {
      throw planExecutorError(viewIsNotACollection(ctx.db, name));
    }
    return undefined;
  }
  checkViewCollation(ctx.body.collation, resolved.collation);
  const body: Document = { ...ctx.body, aggregate: resolved.collection, pipeline: [...resolved.pipeline, ...pipeline] };
  delete body.collation;
  if (resolved.collation !== undefined) body.collation = resolved.collation;
  return body;
}

/**
 * collatorCompatibleWithPipeline (run_aggregate.cpp): each view a pipeline reads ($lookup,
 * $graphLookup, $unionWith, at any depth) must have the aggregate's collation; a collection of
 * that name comes first.
 */
export function checkInvolvedViews(namespaces: NamespaceView, db: string, pipeline: unknown, collation: Document | undefined): void {
  if (!Array.isArray(pipeline)) return;
  const spec = collationSpec(collation);
  for (const name of involvedCollections(pipeline)) {
    if (namespaces.documents(db, name) !== undefined) continue;
    const view = namespaces.views.lookup(db, name);
    if (view !== undefined && !sameCollation(view.collation, spec)) {
      throw new MongoError(ErrorCodes.OptionNotSupportedOnView, `Cannot override a view's default collation${db}.${name}`);
    }
  }
}

/** A find option aggregation has no equivalent for (query_request_conversion.cpp): InvalidPipelineOperator. */
function notInAggregation(message: string): MongoError {
  return new MongoError(ErrorCodes.InvalidPipelineOperator, message);
}

/** What a find asks, parsed by the find command first (crud.ts findShape). */
export interface FindShape {
  readonly filter: Document;
  readonly projection?: Document;
  readonly sort?: Document;
  readonly skip?: number;
  readonly limit?: number;
}

/** The generic options a read passes on to the aggregate it runs as. */
function passedOn(body: Document, aggregate: Document, fields: readonly string[]): Document {
  for (const field of fields) {
    const value = body[field];
    if (value === undefined || value === null || (isPlainObject(value) && Object.keys(value).length === 0)) continue;
    if (field === 'maxTimeMS' && !((numberValue(value) ?? 0) > 0)) continue;
    aggregate[field] = value;
  }
  return aggregate;
}

/**
 * The aggregate a find on a view runs as (find_cmd.cpp, query_request_conversion.cpp
 * asAggregationCommand): the options aggregation lacks are refused (168), then filter, sort,
 * skip, limit and projection become $match, $sort, $skip, $limit and $project after the view's
 * pipeline.
 */
export function findAsAggregate(ctx: CommandContext<never>, name: string, shape: FindShape): Document {
  const body = ctx.body;
  const nonEmpty = (field: string): boolean => isPlainObject(body[field]) && Object.keys(body[field] as Document).length > 0;
  if (nonEmpty('min')) throw notInAggregation('Option min not supported in aggregation.');
  if (nonEmpty('max')) throw notInAggregation('Option max not supported in aggregation.');
  if (trueValue(body.returnKey)) throw notInAggregation('Option returnKey not supported in aggregation.');
  if (trueValue(body.showRecordId)) throw notInAggregation('Option showRecordId not supported in aggregation.');
  if (trueValue(body.tailable)) throw notInAggregation('Tailable cursors are not supported in aggregation.');
  if (trueValue(body.noCursorTimeout)) throw notInAggregation('Option noCursorTimeout not supported in aggregation.');
  if (trueValue(body.allowPartialResults)) throw notInAggregation('Option allowPartialResults not supported in aggregation.');
  if (shape.sort !== undefined && Object.hasOwn(shape.sort, '$natural')) throw notInAggregation('Sort option $natural not supported in aggregation.');
  if (trueValue(body.singleBatch) && shape.limit !== 1) throw notInAggregation('Option singleBatch not supported in aggregation.');
  if (trueValue(body.readOnce)) throw notInAggregation('Option readOnce not supported in aggregation.');
  const pipeline: Document[] = [];
  if (Object.keys(shape.filter).length > 0) pipeline.push({ $match: shape.filter });
  if (shape.sort !== undefined && Object.keys(shape.sort).length > 0) pipeline.push({ $sort: shape.sort });
  if (shape.skip !== undefined && shape.skip > 0) pipeline.push({ $skip: body.skip });
  if (shape.limit !== undefined && shape.limit > 0) pipeline.push({ $limit: body.limit });
  if (shape.projection !== undefined && Object.keys(shape.projection).length > 0) pipeline.push({ $project: shape.projection });
  const cursor: Document = body.batchSize === undefined || body.batchSize === null ? {} : { batchSize: body.batchSize };
  return passedOn(body, { aggregate: name, pipeline, cursor }, ['collation', 'maxTimeMS', 'hint', 'readConcern', 'allowDiskUse', 'let']);
}

/**
 * A find on a view answers what its aggregate answers; the aggregate's InvalidPipelineOperator
 * errors say they come from the view's pipeline (find_cmd.cpp).
 */
export function inViewPipeline(run: () => Document): Document {
  try {
    return run();
  } catch (err) {
    if (err instanceof MongoError && err.code === ErrorCodes.InvalidPipelineOperator) {
      throw new MongoError(err.code, `Unsupported in view pipeline: ${err.message}`, { ...err.extra });
    }
    throw err;
  }
}

/** The aggregate a count on a view runs as (count_cmd.cpp, countCommandAsAggregationCommand): $match, $skip, $limit, then $count. */
export function countAsAggregate(ctx: CommandContext<never>, name: string, query: Document, skip: number, limit: number): Document {
  const pipeline: Document[] = [];
  if (Object.keys(query).length > 0) pipeline.push({ $match: query });
  if (skip > 0) pipeline.push({ $skip: ctx.body.skip });
  if (limit > 0) pipeline.push({ $limit: limit });
  pipeline.push({ $count: 'count' });
  return passedOn(ctx.body, { aggregate: name, pipeline, cursor: {} }, ['collation', 'maxTimeMS', 'hint', 'readConcern']);
}

/** The first result of an aggregate's first batch. */
function firstResult(reply: Document): Document | undefined {
  return ((reply.cursor as Document).firstBatch as Document[])[0];
}

/** ViewResponseFormatter::appendAsCountResponse: `n` (0 when nothing matched) and an int32 `ok`. */
export function countReply(reply: Document): Document {
  return { n: new Int32(numberValue(firstResult(reply)?.count) ?? 0), ok: new Int32(1) };
}

/**
 * The aggregate a distinct on a view runs as (ParsedDistinct::asAggregationCommand): $match,
 * $unwind the key (keeping documents without it), then one $group that gathers the values with
 * $addToSet.
 */
export function distinctAsAggregate(ctx: CommandContext<never>, name: string, key: string, query: Document): Document {
  const pipeline: Document[] = [];
  if (Object.keys(query).length > 0) pipeline.push({ $match: query });
  pipeline.push({ $unwind: { path: `$${key}`, preserveNullAndEmptyArrays: true } });
  pipeline.push({ $group: { _id: null, distinct: { $addToSet: `$${key}` } } });
  return passedOn(ctx.body, { aggregate: name, pipeline, cursor: {} }, ['collation', 'maxTimeMS', 'readConcern']);
}

/** ViewResponseFormatter::appendAsDistinctResponse: the values (none when nothing matched) and an int32 `ok`. */
export function distinctReply(reply: Document): Document {
  return { values: (firstResult(reply)?.distinct as unknown[] | undefined) ?? [], ok: new Int32(1) };
}

/** A view as listCollections lists it (list_collections.cpp buildViewBson). */
export function listedView(view: ViewDefinition, nameOnly: boolean): Document {
  if (nameOnly) return { name: view.name, type: 'view' };
  const options: Document = { viewOn: view.viewOn, pipeline: [...view.pipeline] };
  if (view.collation !== undefined) options.collation = view.collation;
  return { name: view.name, type: 'view', options, info: { readOnly: true } };
}
