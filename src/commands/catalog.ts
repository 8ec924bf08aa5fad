import { BSON, Int32, Long, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { runFind } from '../query/mingo.js';
import { trueValue, typeName, isPlainObject } from './args.js';
import type { CommandContext } from './types.js';

function collectionArg(ctx: CommandContext): string {
  const name = ctx.body[ctx.name];
  if (typeof name !== 'string') throw new MongoError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeName(name)}`);
  if (name.length === 0) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ctx.db}.'`);
  return name;
}

/** create: an empty collection; an existing one is NamespaceExists (48). */
export function create(ctx: CommandContext): Document {
  const name = collectionArg(ctx);
  if (ctx.server.catalog.get(ctx.db, name) !== undefined) {
    throw new MongoError(ErrorCodes.NamespaceExists, `Collection ${ctx.db}.${name} already exists.`);
  }
  ctx.server.catalog.ensure(ctx.db, name);
  return {};
}

/** drop: since 7.0 dropping a collection that does not exist succeeds. */
export function drop(ctx: CommandContext): Document {
  const name = collectionArg(ctx);
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
