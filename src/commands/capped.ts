import { Int32, type Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { collectionArgument, isPlainObject, numberValue, trueValue } from '../bson/args.js';
import { bsonText } from '../bson/bsonText.js';
import { compareDocuments } from '../bson/bsonOrder.js';
import { notAtLeast } from '../bson/idlErrors.js';
import { typeName } from '../bson/typeName.js';
import { Resource } from '../auth/privileges.js';
import { onCollection } from './requirements.js';
import type { CursorSource } from '../cursors/cursorManager.js';
import { compileQuery } from '../query/find.js';
import type { CompiledFilter } from '../query/match/compile.js';
import { findProjection } from '../query/projection/findProjection.js';
import { CappedScan, cappedMaxDocs, cappedSize, type CappedOptions } from '../storage/capped.js';
import type { Collection } from '../storage/catalog.js';
import { treeText } from './hint.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

// Capped collections in the commands (the engine's part is storage/capped.ts): create's capped
// options (create.idl, create_command.cpp), convertToCapped and cloneCollectionAsCapped
// (collection_to_capped.cpp, capped_utils.cpp), and find on a capped collection: tailable cursors
// (find_command.idl, query_request_helper.cpp validateFindCommandRequest, get_executor.cpp) and
// natural-order scans that keep their position between batches.

/** The largest capped size create takes (create.idl: 1 PB). */
const MAX_CAPPED_SIZE = 1024 ** 5;

/** The IDL's type error for a field of several types (mongod's misplaced quote included). */
function wrongTypes(path: string, value: unknown, types: string): MongoError {
  return new MongoError(ErrorCodes.TypeMismatch, `BSON field '${path}' is the wrong type '${typeName(value)}', expected types '[${types}']`);
}

const NUMBER_TYPES = new Set(['int', 'long', 'double', 'decimal']);

/** An IDL `safeBool`: a bool or a number, read as its truth. */
function safeBool(path: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean' && !NUMBER_TYPES.has(typeName(value))) throw wrongTypes(path, value, 'bool, long, int, decimal, double');
  return trueValue(value);
}

/** BSONElement::safeNumberLong: a number truncated to an integer (NaN is 0); anything else is 0. */
function safeNumberLong(value: unknown): number {
  const n = NUMBER_TYPES.has(typeName(value)) ? numberValue(value) : undefined;
  return n === undefined || Number.isNaN(n) ? 0 : Math.trunc(n);
}

/** An IDL `safeInt64` field (long, int, decimal or double, read with safeNumberLong). */
function safeInt64(path: string, value: unknown): number {
  if (!NUMBER_TYPES.has(typeName(value))) throw wrongTypes(path, value, 'long, int, decimal, double');
  return safeNumberLong(value);
}

/**
 * create's capped options (create.idl, then create_command.cpp's checks), undefined for a plain
 * collection: `size` is required with `capped` and rounded up to a multiple of 256; `max` of 0 or
 * less means 2^31 - 1. Fields are read in the command's order, as the IDL parser reads them.
 */
export function createCappedOptions(body: Document): CappedOptions | undefined {
  let capped = false;
  let size: number | undefined;
  let max: number | undefined;
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    if (field === 'capped') capped = safeBool('create.capped', value);
    else if (field === 'size') {
      size = safeInt64('create.size', value);
      if (size < 1) throw notAtLeast('size', 1, size);
      if (size > MAX_CAPPED_SIZE) {
        throw new MongoError(LocationCodes.IdlValidatorFailed, `BSON field 'size' value must be <= ${MAX_CAPPED_SIZE}, actual value '${size}'`);
      }
    } else if (field === 'max') {
      max = safeInt64('create.max', value);
      if (max >= 2 ** 31) throw new MongoError(LocationCodes.IdlValidatorFailed, `BSON field 'max' value must be < 2147483648, actual value '${max}'`);
    }
  }
  if (capped && size === undefined) throw new MongoError(ErrorCodes.InvalidOptions, "the 'size' field is required when 'capped' is true");
  if ((size !== undefined || max !== undefined) && !capped) {
    throw new MongoError(ErrorCodes.InvalidOptions, "the 'capped' field needs to be true when either the 'size' or 'max' fields are present");
  }
  return capped ? { size: cappedSize(size!), max: max === undefined ? 0 : cappedMaxDocs(max) } : undefined;
}

// convertToCapped and cloneCollectionAsCapped.

/** NamespaceString::validCollectionName. */
function validCollectionName(name: string): boolean {
  return name.length > 0 && !name.startsWith('.') && !/[\0$]/.test(name);
}

/**
 * The size cloneCollectionAsCapped gives the new collection goes through CollectionOptions::parse
 * (negative and over 1 PB refused) and is rounded as create rounds it.
 */
function cloneSize(size: number): number {
  if (size < 0) throw new MongoError(ErrorCodes.BadValue, 'size has to be >= 0');
  if (size > MAX_CAPPED_SIZE) throw new MongoError(ErrorCodes.BadValue, 'size cannot exceed 1 PB');
  return cappedSize(size);
}

/** The database must exist (mongod looks it up before the collection). */
function checkDatabase(ctx: CommandContext<'catalog'>): void {
  if (!ctx.services.catalog.databaseNames().includes(ctx.db)) {
    throw new MongoError(ErrorCodes.NamespaceNotFound, `database ${ctx.db} not found`);
  }
}

function sourceCollection(ctx: CommandContext<'catalog'>, name: string): Collection {
  const source = ctx.services.catalog.get(ctx.db, name);
  if (source === undefined) throw new MongoError(ErrorCodes.NamespaceNotFound, `source collection ${ctx.db}.${name} does not exist`);
  return source;
}

/**
 * capped_utils.cpp cloneCollectionAsCapped: a new capped collection of the source's documents in
 * natural order (not validated), each insert deleting the oldest past the limits, so the newest
 * that fit remain. It takes the source's options (its validation, and its `max` when capped) and
 * only the `_id` index.
 */
function cloneAsCapped(ctx: CommandContext<'catalog'>, source: Collection, target: string, size: number): void {
  const capped = { size: cloneSize(size), max: source.capped?.options.max ?? 0 };
  const clone = ctx.services.catalog.create(ctx.db, target, { capped });
  clone.validation = source.validation;
  for (const doc of source.documents()) clone.add(doc);
}

/**
 * cloneCollectionAsCapped (collection_to_capped.cpp): `toCollection` is checked first (its type
 * and namespace, in the privilege check), then the names, the size (0 is "invalid command spec"),
 * the source and the target (NamespaceExists).
 */
function cloneCollectionAsCapped(ctx: CommandContext<'catalog'>): Document {
  const from = ctx.body.cloneCollectionAsCapped;
  const to = ctx.body.toCollection;
  if (typeof to !== 'string') throw new MongoError(ErrorCodes.TypeMismatch, "'toCollection' must be of type String");
  if (to === '') throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid target namespace: ${ctx.db}.`);
  if (typeof from !== 'string') throw new MongoError(ErrorCodes.TypeMismatch, "'cloneCollectionAsCapped' must be of type String");
  if (!validCollectionName(from)) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid source collection name: ${from}`);
  if (!validCollectionName(to)) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid target collection name: ${to}`);
  const size = safeNumberLong(ctx.body.size);
  if (size === 0) throw new MongoError(ErrorCodes.InvalidOptions, 'invalid command spec');
  checkDatabase(ctx);
  const source = sourceCollection(ctx, from);
  if (ctx.services.catalog.get(ctx.db, to) !== undefined) {
    throw new MongoError(
      ErrorCodes.NamespaceExists,
      `cloneCollectionAsCapped failed - destination collection ${ctx.db}.${to} already exists. source collection: ${ctx.db}.${from}`,
    );
  }
  cloneAsCapped(ctx, source, to, size);
  return {};
}

/**
 * convertToCapped (capped_utils.cpp convertToCapped): the collection is cloned as capped under a
 * temporary name that then replaces it, so it gets a new UUID and keeps only its `_id` index.
 */
function convertToCapped(ctx: CommandContext<'catalog'>): Document {
  const name = collectionArgument(ctx);
  const size = safeNumberLong(ctx.body.size);
  if (size === 0) throw new MongoError(ErrorCodes.InvalidOptions, 'invalid command spec');
  checkDatabase(ctx);
  const source = sourceCollection(ctx, name);
  // A size the clone refuses leaves the collection as it was.
  cloneSize(size);
  ctx.services.catalog.drop(ctx.db, name);
  cloneAsCapped(ctx, source, name, size);
  return {};
}

// find on a capped collection.

/** What find asks, as crud.ts's find has parsed it (with its `let` values and NOW). */
export interface FindOnCapped {
  readonly filter: Document;
  readonly projection?: Document;
  readonly sort?: Document;
  readonly skip?: number;
  readonly limit?: number;
  readonly collation?: Document;
  readonly variables?: Document;
  readonly now?: Date;
}

const NATURAL_FORWARD: Document = { $natural: new Int32(1) };

/** No sort, or {$natural: 1}: the collection's own order. */
function naturalOrder(sort: Document | undefined): boolean {
  return sort === undefined || Object.keys(sort).length === 0 || compareDocuments(sort, NATURAL_FORWARD) === 0;
}

/**
 * Whether a find that is not tailable is a forward collection scan (then it keeps its position
 * like mongod's): a {$natural: 1} hint, or no hint and no index the filter can use (under a
 * collation every find scans, see crud.ts planHint). Other hints are left to the ordinary find.
 */
function forwardScan(collection: Collection, find: FindOnCapped, hint: unknown): boolean {
  if (hint !== undefined && hint !== null && hint !== '' && !(isPlainObject(hint) && Object.keys(hint).length === 0)) {
    return isPlainObject(hint) && Object.keys(hint).length === 1 && (numberValue(hint.$natural) ?? 0) > 0;
  }
  return find.collation !== undefined || collection.plan(find.filter, undefined, find.sort).kind === 'scan';
}

/** The scan's documents one by one, with the filter, skip, limit and projection runFind applies. */
function lazyFind(scan: CappedScan, matcher: CompiledFilter, project: ((doc: Document) => Document) | undefined, find: FindOnCapped): CursorSource {
  const skip = find.skip ?? 0;
  const limit = find.limit !== undefined && find.limit > 0 ? find.limit : Infinity;
  let skipped = 0;
  let returned = 0;
  return {
    restore: () => scan.restore(),
    next: () => {
      while (returned < limit) {
        const read = scan.next();
        if (read.done === true) return read;
        if (!matcher.matches(read.value)) continue;
        if (skipped < skip) {
          skipped += 1;
          continue;
        }
        returned += 1;
        return { done: false, value: project === undefined ? read.value : project(read.value) };
      }
      return { done: true, value: undefined };
    },
  };
}

/** get_executor.cpp's refusal, with CanonicalQuery::toString's text of the query. */
function notCapped(ctx: CommandContext<never>, collection: string, find: FindOnCapped): MongoError {
  let query = `ns=${ctx.db}.${collection}`;
  const batchSize = numberValue(ctx.body.batchSize);
  if (batchSize !== undefined) query += ` batchSize=${Math.trunc(batchSize)}`;
  if (find.limit !== undefined && find.limit > 0) query += ` limit=${find.limit}`;
  if (find.skip !== undefined && find.skip > 0) query += ` skip=${find.skip}`;
  query += `Tree: ${treeText(find.filter)}Sort: ${bsonText(find.sort ?? {})}\nProj: ${bsonText(find.projection ?? {})}\n`;
  if (isPlainObject(ctx.body.collation) && Object.keys(ctx.body.collation).length > 0) query += `Collation: ${bsonText(ctx.body.collation)}\n`;
  return new MongoError(ErrorCodes.BadValue, `error processing query: ${query} tailable cursor requested on non capped collection`);
}

/**
 * find on a capped collection, or a tailable find: the reply's `cursor`, or undefined for an
 * ordinary find (crud.ts runs it). The tailable options are checked first
 * (validateFindCommandRequest), then the filter and projection are parsed, then the collection:
 * a missing one answers an empty, closed cursor; one that is not capped is refused. A tailable
 * cursor scans in natural order whatever the hint, and stays open at its end unless the
 * collection was empty (find.cpp shouldSaveCursor); a forward scan of a capped collection keeps
 * its position between batches, so a getMore after its position was deleted fails
 * (CappedPositionLost) rather than skip documents.
 */
export function findOnCapped(
  ctx: CommandContext<'catalog' | 'counters' | 'cursors' | 'namespaces'>,
  collection: string,
  find: FindOnCapped,
  batchSize: number,
): Document | undefined {
  const tailable = safeBool('find.tailable', ctx.body.tailable);
  const awaitData = safeBool('find.awaitData', ctx.body.awaitData);
  if (awaitData && !tailable) throw new MongoError(ErrorCodes.FailedToParse, "Cannot set 'awaitData' without also setting 'tailable'");
  if (tailable && !naturalOrder(find.sort)) throw new MongoError(ErrorCodes.BadValue, 'cannot use tailable option with a sort other than {$natural: 1}');
  if (tailable && trueValue(ctx.body.singleBatch)) throw new MongoError(ErrorCodes.BadValue, "cannot use tailable option with the 'singleBatch' option");
  const stored = ctx.services.catalog.get(ctx.db, collection);
  if (!tailable && (stored?.capped === undefined || !naturalOrder(find.sort) || !forwardScan(stored, find, ctx.body.hint))) return undefined;
  const options = { collation: find.collation, variables: find.variables, now: find.now };
  const matcher = compileQuery(find.filter, options);
  const project = find.projection === undefined ? undefined : findProjection(find.projection, matcher, options);
  const ns = `${ctx.db}.${collection}`;
  const cursorOptions = { session: ctx.session, owner: ctx.client.principal.userName, batchSize, noTimeout: trueValue(ctx.body.noCursorTimeout) };
  if (stored === undefined) {
    if (ctx.services.namespaces.documents(ctx.db, collection) !== undefined) throw notCapped(ctx, collection, find);
    return ctx.services.cursors.open(ns, [][Symbol.iterator](), cursorOptions);
  }
  const records = stored.capped;
  if (records === undefined) throw notCapped(ctx, collection, find);
  ctx.services.counters.queryExamined(0, stored.size, true, tailable);
  stored.collectionScans += 1;
  if (tailable) stored.tailableScans += 1;
  const source = lazyFind(new CappedScan(records, tailable), matcher, project, find);
  if (!tailable) return ctx.services.cursors.open(ns, source, { ...cursorOptions, singleBatch: trueValue(ctx.body.singleBatch) });
  const tail = { awaitData, onInsert: (wake: () => void) => records.onInsert(wake) };
  return ctx.services.cursors.open(ns, source, { ...cursorOptions, tail: stored.size === 0 ? undefined : tail });
}

/** convertToCapped and cloneCollectionAsCapped. */
export const cappedCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'convertToCapped',
    run: convertToCapped,
    supportsWriteConcern: true,
    privileges: onCollection('convertToCapped'),
    help: '{ convertToCapped:<fromCollectionName>, size:<sizeInBytes> }',
  }),
  defineCommand({
    name: 'cloneCollectionAsCapped',
    run: cloneCollectionAsCapped,
    supportsWriteConcern: true,
    privileges: (ctx) => {
      const [from, to] = [ctx.body.cloneCollectionAsCapped, ctx.body.toCollection];
      if (typeof from !== 'string' || typeof to !== 'string') return [];
      return [
        { resource: Resource.namespace(ctx.db, from), actions: ['find'] },
        { resource: Resource.namespace(ctx.db, to), actions: ['insert', 'createIndex', 'convertToCapped'] },
      ];
    },
    help: '{ cloneCollectionAsCapped:<fromName>, toCollection:<toName>, size:<sizeInBytes> }',
  }),
];
