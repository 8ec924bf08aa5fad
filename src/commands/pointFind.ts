import type { Document } from 'bson';
import { collectionArgument, trueValue } from '../bson/args.js';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { equalityMatcher } from '../query/match/compile.js';
import type { CommandContext } from './command.js';
import { nonNegativeInt } from './cursorArgs.js';
import { OK } from './request/reply.js';
import { isView } from './views.js';

/**
 * The fields a point find may carry: find's own that it answers here, and the generic arguments
 * find itself never reads (the pipeline checks them). Any other field takes the general path.
 */
const POINT_FIND_FIELDS: ReadonlySet<string> = new Set([
  'find',
  'filter',
  'limit',
  'batchSize',
  'singleBatch',
  '$db',
  'lsid',
  '$clusterTime',
  '$readPreference',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'comment',
  'maxTimeMS',
  'readConcern',
]);

/** BSON classes whose values a filter compares as they are: never a document, array or regex. */
const SCALAR_BSON_TYPES: ReadonlySet<unknown> = new Set(['Int32', 'Double', 'Long', 'Decimal128', 'ObjectId', 'Binary', 'Timestamp']);

/** A value `{field: value}` means equality to, and that the plan can look up (isPlainValue). */
function isScalar(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
      return true;
    case 'object':
      return value !== null && (value instanceof Date || SCALAR_BSON_TYPES.has((value as { _bsontype?: unknown })._bsontype));
    default:
      return false;
  }
}

type PointFindContext = CommandContext<'catalog' | 'cursors' | 'namespaces'>;

/**
 * find's fast path for a point lookup, `{find, filter: {<field>: <scalar>}}` with at most limit,
 * batchSize and singleBatch, on a collection that is neither capped nor a view: the general
 * path's own plan (namespaces.query: the `_id` lookup or an index, counted as examined), matcher
 * (equalityMatcher, what compileFilter makes of that filter) and cursor (openResult), without
 * parsing the arguments and the filter for everything a find may carry. Undefined when the
 * command is anything else, for `find` to answer; the reply is the one `find` would give.
 */
export function pointFind(ctx: PointFindContext): Document | undefined {
  const body = ctx.body;
  for (const field in body) if (!POINT_FIND_FIELDS.has(field)) return undefined;
  const filter: unknown = body.filter;
  if (typeof filter !== 'object' || filter === null || Object.getPrototypeOf(filter) !== Object.prototype) return undefined;
  let path: string | undefined;
  for (const field in filter) {
    if (path !== undefined) return undefined;
    path = field;
  }
  if (path === undefined || path.startsWith('$')) return undefined;
  const value = (filter as Document)[path];
  if (!isScalar(value)) return undefined;
  // The general path's checks, in its order (the filter, which it checks in between, is valid).
  const collection = collectionArgument(ctx);
  const limit = nonNegativeInt(body.limit, 'limit', 'find');
  const batchSize = nonNegativeInt(body.batchSize, 'batchSize', 'find') ?? DEFAULT_FIRST_BATCH_SIZE;
  const stored = ctx.services.catalog.get(ctx.db, collection);
  if (stored === undefined || stored.capped !== undefined || isView(ctx, collection)) return undefined;
  const source = ctx.services.namespaces.query(ctx.db, collection, filter as Document);
  if (source === undefined) return undefined;
  const matches = equalityMatcher(path, value);
  const wanted = limit !== undefined && limit > 0 ? limit : Infinity;
  const documents: Document[] = [];
  for (const doc of source.documents) {
    if (matches(doc) && documents.push(doc) >= wanted) break;
  }
  const cursor = ctx.services.cursors.openResult(`${ctx.db}.${collection}`, documents, {
    // A reached limit ends the plan (as in find); without a sort nothing else does.
    endKnown: documents.length >= wanted,
    session: ctx.session,
    owner: ctx.client.principal.userName,
    batchSize,
    singleBatch: trueValue(body.singleBatch),
    noTimeout: false,
  });
  return { cursor, ok: OK };
}
