import { BSONRegExp, Int32, type Document } from 'bson';
import { userName } from '../auth/authorize.js';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { runFind } from '../query/mingo.js';
import { collectionDocuments, withIdFirst } from '../storage/catalog.js';
import { missingField, wrongType } from '../idlErrors.js';
import { bsonText } from './bsonText.js';
import { isPlainObject, numberValue, trueValue, typeName } from './args.js';
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

/** One entry of a write reply's `writeErrors`. */
function writeError(index: number, err: MongoError): Document {
  return { index: new Int32(index), code: err.code, ...err.extra, errmsg: err.message };
}

/** mongod's duplicate key error for the `_id_` index. */
function duplicateId(ns: string, id: unknown): MongoError {
  return new MongoError(ErrorCodes.DuplicateKey, `E11000 duplicate key error collection: ${ns} index: _id_ dup key: ${bsonText({ _id: id })}`, {
    keyPattern: { _id: new Int32(1) },
    keyValue: { _id: id },
  });
}

function checkId(id: unknown): void {
  if (Array.isArray(id)) throw new MongoError(ErrorCodes.BadValue, "can't use an array for _id");
  if (id instanceof BSONRegExp) throw new MongoError(ErrorCodes.BadValue, "can't use a regex for _id");
  if (id === undefined) throw new MongoError(ErrorCodes.BadValue, "can't use a undefined for _id");
}

function requireArrayField(ctx: CommandContext, field: string): unknown[] {
  const value = ctx.body[field];
  if (value === undefined || value === null) throw missingField(`${ctx.name}.${field}`);
  if (!Array.isArray(value)) throw wrongType(`${ctx.name}.${field}`, value, 'array');
  return value;
}

function collectionName(ctx: CommandContext): string {
  const name = ctx.body[ctx.name];
  if (typeof name !== 'string') throw new MongoError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeName(name)}`);
  if (name.length === 0) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ctx.db}.'`);
  return name;
}

/**
 * insert (write_ops.idl): documents get an `_id` (first) when they lack one; a taken `_id` is a
 * DuplicateKey write error; ordered inserts stop at the first error, unordered ones go on.
 */
export function insert(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const documents = requireArrayField(ctx, 'documents');
  const ordered = ctx.body.ordered === undefined ? true : trueValue(ctx.body.ordered);
  const collection = ctx.server.catalog.ensure(ctx.db, name);
  const writeErrors: Document[] = [];
  let n = 0;
  for (let i = 0; i < documents.length; i++) {
    const raw = documents[i];
    try {
      if (!isPlainObject(raw)) throw wrongType(`insert.documents.${i}`, raw, 'object');
      const doc = withIdFirst(raw);
      checkId(doc._id);
      if (collection.findById(doc._id) !== undefined) throw duplicateId(collection.ns, doc._id);
      collection.add(doc);
      n += 1;
    } catch (err) {
      if (!(err instanceof MongoError)) throw err;
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  ctx.server.counters.opcounters.insert += n;
  return writeErrors.length === 0 ? { n: new Int32(n) } : { n: new Int32(n), writeErrors };
}

/** delete: each statement removes the first match (limit 1) or every match (limit 0). */
export function deleteCommand(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const deletes = requireArrayField(ctx, 'deletes');
  const ordered = ctx.body.ordered === undefined ? true : trueValue(ctx.body.ordered);
  const collection = ctx.server.catalog.get(ctx.db, name);
  const writeErrors: Document[] = [];
  let n = 0;
  for (let i = 0; i < deletes.length; i++) {
    const statement = deletes[i];
    try {
      if (!isPlainObject(statement)) throw wrongType(`delete.deletes.${i}`, statement, 'object');
      if (!isPlainObject(statement.q)) {
        throw statement.q === undefined ? missingField('delete.deletes.q') : wrongType('delete.deletes.q', statement.q, 'object');
      }
      const limit = numberValue(statement.limit);
      if (limit === undefined) throw missingField('delete.deletes.limit');
      if (limit !== 0 && limit !== 1) {
        throw new MongoError(ErrorCodes.FailedToParse, `The limit field in delete objects must be 0 or 1. Got ${limit}`);
      }
      if (collection === undefined) continue;
      const matches = runFind({ filter: statement.q, limit: limit === 1 ? 1 : undefined }, collection.documents());
      for (const doc of matches) if (collection.remove(doc)) n += 1;
    } catch (err) {
      if (!(err instanceof MongoError)) throw err;
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  ctx.server.counters.opcounters.delete += n;
  return writeErrors.length === 0 ? { n: new Int32(n) } : { n: new Int32(n), writeErrors };
}
