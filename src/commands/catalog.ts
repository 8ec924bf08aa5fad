import { BSON, Double, Int32, Long, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { runFind } from '../query/mingo.js';
import { collectionArgument, isPlainObject, numberValue, trueValue } from './args.js';
import type { CommandContext } from './types.js';

/** create: an empty collection; an existing one is NamespaceExists (48). */
export function create(ctx: CommandContext): Document {
  const name = collectionArgument(ctx);
  if (ctx.server.catalog.get(ctx.db, name) !== undefined) {
    throw new MongoError(ErrorCodes.NamespaceExists, `Collection ${ctx.db}.${name} already exists.`);
  }
  ctx.server.catalog.ensure(ctx.db, name);
  return {};
}

/** drop: since 7.0 dropping a collection that does not exist succeeds. */
export function drop(ctx: CommandContext): Document {
  const name = collectionArgument(ctx);
  const dropped = ctx.server.catalog.drop(ctx.db, name);
  return dropped === undefined ? {} : { nIndexesWas: new Int32(1), ns: dropped.ns };
}

export function dropDatabase(ctx: CommandContext): Document {
  ctx.server.catalog.dropDatabase(ctx.db);
  return { dropped: ctx.db };
}

function sizeOf(ctx: CommandContext, db: string): number {
  let bytes = 0;
  for (const c of ctx.server.catalog.collections(db)) for (const doc of c.documents()) bytes += BSON.calculateObjectSize(doc);
  return bytes;
}

/** listDatabases (admin only): every database with a collection; nameOnly and filter as mongod. */
export function listDatabases(ctx: CommandContext): Document {
  const nameOnly = trueValue(ctx.body.nameOnly);
  const filter = isPlainObject(ctx.body.filter) ? ctx.body.filter : undefined;
  let total = 0;
  const all = ctx.server.catalog.databaseNames().map((name) => {
    if (nameOnly) return { name };
    const size = sizeOf(ctx, name);
    total += size;
    return { name, sizeOnDisk: Long.fromNumber(size), empty: size === 0 };
  });
  const databases = filter === undefined ? all : runFind({ filter }, all);
  if (nameOnly) return { databases };
  return { databases, totalSize: Long.fromNumber(total), totalSizeMb: Long.fromNumber(Math.floor(total / (1024 * 1024))) };
}

/** listCollections: mongod's collection documents through a cursor on `<db>.$cmd.listCollections`. */
export function listCollections(ctx: CommandContext): Document {
  const nameOnly = trueValue(ctx.body.nameOnly);
  const filter = isPlainObject(ctx.body.filter) ? ctx.body.filter : undefined;
  const entries: Document[] = ctx.server.catalog.collections(ctx.db).map((c) =>
    nameOnly
      ? { name: c.name, type: 'collection' }
      : {
          name: c.name,
          type: 'collection',
          options: {},
          info: { readOnly: false, uuid: c.uuid },
          idIndex: { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' },
        },
  );
  const selected = filter === undefined ? entries : runFind({ filter }, entries);
  const batchSize = isPlainObject(ctx.body.cursor) && ctx.body.cursor.batchSize !== undefined ? Number(ctx.body.cursor.batchSize) : 101;
  return {
    cursor: ctx.server.cursors.open(`${ctx.db}.$cmd.listCollections`, selected[Symbol.iterator](), {
      lsid: ctx.lsid,
      batchSize: Number.isFinite(batchSize) ? batchSize : 101,
    }),
  };
}

/** renameCollection (admin only): `from` and `to` are full namespaces; dropTarget replaces an existing target. */
export function renameCollection(ctx: CommandContext): Document {
  const from = ctx.body.renameCollection;
  const to = ctx.body.to;
  if (typeof from !== 'string') throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid source namespace: ${String(from)}`);
  if (typeof to !== 'string') throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid target namespace: ${String(to)}`);
  const split = (ns: string) => {
    const dot = ns.indexOf('.');
    if (dot <= 0 || dot === ns.length - 1) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ns}'`);
    return [ns.slice(0, dot), ns.slice(dot + 1)] as const;
  };
  const [fromDb, fromColl] = split(from);
  const [toDb, toColl] = split(to);
  const catalog = ctx.server.catalog;
  if (catalog.get(fromDb, fromColl) === undefined) throw new MongoError(ErrorCodes.NamespaceNotFound, 'Source collection does not exist');
  if (catalog.get(toDb, toColl) !== undefined) {
    if (!trueValue(ctx.body.dropTarget)) throw new MongoError(ErrorCodes.NamespaceExists, 'target namespace exists');
    catalog.drop(toDb, toColl);
  }
  catalog.rename(fromDb, fromColl, toDb, toColl);
  return {};
}

/** dbStats: counts and sizes of the database's collections (scale divides the byte figures). */
export function dbStats(ctx: CommandContext): Document {
  const scale = Math.max(1, numberValue(ctx.body.scale) ?? 1);
  let objects = 0;
  let bytes = 0;
  let indexes = 0;
  const collections = ctx.server.catalog.collections(ctx.db);
  for (const c of collections) {
    objects += c.size;
    indexes += c.indexes.length;
    for (const doc of c.documents()) bytes += BSON.calculateObjectSize(doc);
  }
  return {
    db: ctx.db,
    collections: new Int32(collections.length),
    views: new Int32(0),
    objects: Long.fromNumber(objects),
    avgObjSize: new Double(objects === 0 ? 0 : bytes / objects),
    dataSize: new Double(bytes / scale),
    storageSize: new Double(bytes / scale),
    indexes: Long.fromNumber(indexes),
    indexSize: new Double(0),
    totalSize: new Double(bytes / scale),
    scaleFactor: Long.fromNumber(scale),
    fsUsedSize: new Double(0),
    fsTotalSize: new Double(0),
  };
}

/** collStats: a collection's document count and sizes (mongod's legacy shape). */
export function collStats(ctx: CommandContext): Document {
  const name = collectionArgument(ctx);
  const scale = Math.max(1, numberValue(ctx.body.scale) ?? 1);
  const collection = ctx.server.catalog.get(ctx.db, name);
  if (collection === undefined) {
    throw new MongoError(ErrorCodes.NamespaceNotFound, `Collection [${ctx.db}.${name}] not found.`);
  }
  let bytes = 0;
  for (const doc of collection.documents()) bytes += BSON.calculateObjectSize(doc);
  const indexSizes: Document = {};
  for (const index of collection.indexes) indexSizes[index.name] = new Int32(0);
  return {
    ns: collection.ns,
    size: new Int32(Math.floor(bytes / scale)),
    count: new Int32(collection.size),
    avgObjSize: new Int32(collection.size === 0 ? 0 : Math.floor(bytes / collection.size)),
    storageSize: new Int32(Math.floor(bytes / scale)),
    nindexes: new Int32(collection.indexes.length),
    totalIndexSize: new Int32(0),
    totalSize: new Int32(Math.floor(bytes / scale)),
    indexSizes,
    scaleFactor: new Int32(scale),
  };
}
