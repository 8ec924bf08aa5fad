import { wrongType } from '../idlErrors.js';
import type { Document } from 'bson';
import { userName } from '../auth/authorize.js';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { runFind } from '../query/mingo.js';
import { collectionDocuments } from '../storage/catalog.js';
import { isPlainObject, trueValue, typeName } from './args.js';
import { nonNegativeInt } from './cursorArgs.js';
import type { CommandContext } from './types.js';

function optionalObject(ctx: CommandContext, field: string): Document | undefined {
  const value = ctx.body[field];
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    throw wrongType(`find.${field}`, value, 'object');
  }
  return value;
}

/** find: filter, projection, sort, skip, limit, batchSize and singleBatch over the collection's documents. */
export function find(ctx: CommandContext): Document {
  const collection = ctx.body.find;
  if (typeof collection !== 'string') {
    throw new MongoError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeName(collection)}`);
  }
  const filter = optionalObject(ctx, 'filter');
  const projection = optionalObject(ctx, 'projection');
  const sort = optionalObject(ctx, 'sort');
  const skip = nonNegativeInt(ctx.body.skip, 'skip', 'find');
  const limit = nonNegativeInt(ctx.body.limit, 'limit', 'find');
  const batchSize = nonNegativeInt(ctx.body.batchSize, 'batchSize', 'find') ?? DEFAULT_FIRST_BATCH_SIZE;
  const source = collectionDocuments(ctx.server, ctx.db, collection) ?? [];
  const docs = runFind({ filter, projection, sort, skip, limit }, source);
  const cursor = ctx.server.cursors.open(`${ctx.db}.${collection}`, docs[Symbol.iterator](), {
    lsid: ctx.lsid,
    owner: userName(ctx.connection),
    batchSize,
    singleBatch: trueValue(ctx.body.singleBatch),
    noTimeout: trueValue(ctx.body.noCursorTimeout),
  });
  return { cursor };
}
