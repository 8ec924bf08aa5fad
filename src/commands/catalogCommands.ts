import { Double, Int32, Long, UUID, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import type { Requirement } from '../auth/authorize.js';
import { isAuthorizedForAnyAction, matchTypeOf, Resource } from '../auth/privileges.js';
import { wrongType } from '../bson/idlErrors.js';
import { runFind } from '../query/find.js';
import { collectionArgument, numberValue, optionalObject, trueValue } from '../bson/args.js';
import { nonNegativeInt } from './cursorArgs.js';
import { onCollection, onDatabase } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';
import { dataSize, estimatedIndexSize } from '../storage/sizes.js';
import { cappedCollectionOptions, cappedStorageStats } from '../storage/capped.js';
import { createCappedOptions } from './capped.js';
import { checkValidatorNamespace, parseValidator, validationCollectionOptions } from '../storage/validation.js';
import { validationArguments } from './documentValidation.js';
import { bsonText } from '../bson/bsonText.js';
import { viewDefinitionPrivileges } from './aggregate.js';
import { createView, listedView, viewArguments } from './views.js';
import type { Collection } from '../storage/catalog.js';

/** create: an empty collection; an existing one is NamespaceExists (48). */
/** The fields of create.idl (7.0), besides the generic arguments. */
export const CREATE_OPTIONS: readonly string[] = [
  'capped',
  'autoIndexId',
  'idIndex',
  'size',
  'max',
  'storageEngine',
  'validator',
  'validationLevel',
  'validationAction',
  'indexOptionDefaults',
  'viewOn',
  'pipeline',
  'collation',
  'changeStreamPreAndPostImages',
  'timeseries',
  'clusteredIndex',
  'expireAfterSeconds',
  'encryptedFields',
  'temp',
  'flags',
  'recordIdsReplicated',
];

/**
 * Options that change what a collection is or does, which pocketmongo's plain in-memory
 * collections do not do yet: refused rather than ignored, so nobody believes they hold. The
 * others (storage engine and index defaults, change-stream pre-images) change nothing here and
 * are accepted. A view's collation is its own (views.ts).
 */
const UNSUPPORTED_CREATE_OPTIONS: Readonly<Record<string, string>> = {
  collation: 'collection default collations',
  timeseries: 'time-series collections',
  clusteredIndex: 'clustered collections',
  expireAfterSeconds: 'clustered and time-series collections',
  encryptedFields: 'queryable encryption',
};

function create(ctx: CommandContext<'auth' | 'catalog' | 'namespaces' | 'replication'>): Document {
  const name = collectionArgument(ctx);
  const validation = validationArguments(ctx.body, 'create');
  const view = viewArguments(ctx.body, 'create');
  // CollectionOptions::isView: a non-empty viewOn makes a view (an empty one, a collection).
  const viewOn = view.viewOn === '' ? undefined : view.viewOn;
  for (const [option, feature] of Object.entries(UNSUPPORTED_CREATE_OPTIONS)) {
    const value = ctx.body[option];
    if (value === undefined || value === null || value === false || (option === 'collation' && viewOn !== undefined)) continue;
    throw new MongoError(ErrorCodes.CommandNotSupported, `pocketmongo does not support ${feature} yet (create option '${option}')`);
  }
  const capped = createCappedOptions(ctx.body);
  if (view.pipeline !== undefined && view.viewOn === undefined) throw new MongoError(ErrorCodes.InvalidOptions, "'pipeline' requires 'viewOn' to also be specified");
  if (view.viewOn !== undefined && ctx.body.idIndex !== undefined && ctx.body.idIndex !== null) {
    throw new MongoError(ErrorCodes.InvalidOptions, `'idIndex' is not allowed with 'viewOn': ${bsonText(ctx.body.idIndex)}`);
  }
  // catalog::checkIfNamespaceExists: a collection or a view of that name.
  if (ctx.services.catalog.get(ctx.db, name) !== undefined) {
    throw new MongoError(ErrorCodes.NamespaceExists, `Collection ${ctx.db}.${name} already exists.`);
  }
  if (ctx.services.namespaces.views.lookup(ctx.db, name) !== undefined) {
    throw new MongoError(ErrorCodes.NamespaceExists, `A view already exists. NS: ${ctx.db}.${name}`);
  }
  // userCreateNS parses the validator (a view's too); the new collection then refuses one where none may be.
  parseValidator(validation);
  if (viewOn !== undefined) {
    createView(ctx, name, { ...view, viewOn });
    return {};
  }
  checkValidatorNamespace(validation, ctx.db, name, new UUID());
  const created = ctx.services.catalog.create(ctx.db, name, { capped });
  created.validation = validation;
  // In a transaction the create is logged with its commit.
  if (ctx.body.autocommit === undefined) ctx.services.replication?.oplog.command(ctx.db, { create: name, ...(capped === undefined ? {} : cappedCollectionOptions(capped)), idIndex: { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' } }, created.uuid);
  return {};
}

/**
 * drop: since 7.0 dropping a collection that does not exist succeeds. A view leaves system.views
 * (drop_collection.cpp _dropView: the reply names it, without an index count); dropping
 * system.views drops every view of the database.
 */
function drop(ctx: CommandContext<'catalog' | 'namespaces' | 'replication'>): Document {
  const name = collectionArgument(ctx);
  if (ctx.services.namespaces.views.drop(ctx.db, name)) return { ns: `${ctx.db}.${name}` };
  const dropped = ctx.services.catalog.drop(ctx.db, name);
  if (dropped !== undefined) logDrop(ctx, dropped);
  return dropped === undefined ? {} : { nIndexesWas: new Int32(1), ns: dropped.ns };
}

/** A replica set logs a dropped collection as {drop: name} with its record count (o2). */
function logDrop(ctx: CommandContext<'replication'>, dropped: Collection): void {
  ctx.services.replication?.oplog.command(dropped.db, { drop: dropped.name }, dropped.uuid, { numRecords: Long.fromNumber(dropped.size) });
}

/** dropDatabase: on a replica set each collection's drop is logged first, then the database's. */
function dropDatabase(ctx: CommandContext<'catalog' | 'replication'>): Document {
  if (ctx.services.replication !== undefined) for (const collection of ctx.services.catalog.collections(ctx.db)) logDrop(ctx, collection);
  ctx.services.catalog.dropDatabase(ctx.db);
  ctx.services.replication?.oplog.command(ctx.db, { dropDatabase: new Int32(1) });
  return { dropped: ctx.db };
}


function sizeOf(ctx: CommandContext<'namespaces'>, db: string): number {
  let bytes = 0;
  for (const c of ctx.services.namespaces.collections(db)) bytes += dataSize(c.documents());
  return bytes;
}

/**
 * `AuthorizationSession::isAuthorizedForAnyActionOnAnyResourceInDB`: whether the caller holds any
 * privilege that could reach something in `db` — a privilege on the database itself, on any
 * resource, on any normal resource (not in local/config), on a collection name in every database,
 * on any time-series buckets collection (in any database or in `db`), or on an exact namespace in
 * `db`. Always true when auth is not enforced.
 */
export function mayActInDatabase(ctx: CommandContext<'auth'>, db: string): boolean {
  if (!ctx.services.auth.enforced) return true;
  if (ctx.client.principal.user === undefined) return false;
  return ctx.services.auth.privilegesOf(ctx.client.principal).some((privilege) => {
    if (privilege.actions.length === 0) return false;
    const resource = privilege.resource;
    switch (matchTypeOf(resource)) {
      case 'any':
      case 'collection':
      case 'any_system_buckets':
      case 'system_buckets_in_any_db':
        return true;
      case 'any_normal':
        return db !== 'local' && db !== 'config';
      case 'database':
      case 'exact_namespace':
      case 'any_system_buckets_in_db':
      case 'system_buckets':
        return (resource as { db?: string }).db === db;
      case 'cluster':
        return false;
    }
  });
}

/** `isAuthorizedForAnyActionOnResource(forExactNamespace(db.coll))`: any action at all on the namespace. */
function mayActOnCollection(ctx: CommandContext<'auth'>, db: string, collection: string): boolean {
  if (!ctx.services.auth.enforced) return true;
  if (ctx.client.principal.user === undefined) return false;
  return isAuthorizedForAnyAction(ctx.services.auth.privilegesOf(ctx.client.principal), Resource.namespace(db, collection));
}

/** The documents among `items` that `filter` matches (evaluated on `views`, the same items as the matcher sees them). */
function matching<T>(filter: Document | undefined, items: readonly T[], views: readonly Document[]): T[] {
  if (filter === undefined) return [...items];
  const byView = new Map<Document, T>(views.map((view, i) => [view, items[i]!]));
  return runFind({ filter }, views).map((view) => byView.get(view)!);
}

/**
 * listDatabases (admin only, list_databases.cpp). No privilege is checked up front: a caller
 * without the cluster-wide listDatabases action gets only the databases it holds some privilege
 * in (`authorizedDatabases` defaults to that case), and asking for every database
 * (`authorizedDatabases: false`) without that action is refused. `filter` matches the reply items
 * (`{name}` with nameOnly, else `{name, sizeOnDisk, empty}`); totalSize sums the matched ones.
 */
function listDatabases(ctx: CommandContext<'auth' | 'namespaces'>): Document {
  const nameOnly = trueValue(ctx.body.nameOnly);
  const filter = optionalObject(ctx, 'filter');
  const mayListAll = ctx.services.auth.mayDo(ctx.client.principal, Resource.cluster(), 'listDatabases');
  let authorizedOnly = !mayListAll;
  if (ctx.body.authorizedDatabases !== undefined && ctx.body.authorizedDatabases !== null) {
    authorizedOnly = trueValue(ctx.body.authorizedDatabases);
    if (!authorizedOnly && !mayListAll) throw new MongoError(ErrorCodes.Unauthorized, 'Insufficient permissions to list all databases');
  }
  const names = ctx.services.namespaces.databases().filter((name) => !authorizedOnly || mayActInDatabase(ctx, name));
  const sizes = names.map((name) => (nameOnly ? 0 : sizeOf(ctx, name)));
  const items: Document[] = names.map((name, i) =>
    nameOnly ? { name } : { name, sizeOnDisk: Long.fromNumber(sizes[i]!), empty: ctx.services.namespaces.collections(name).length === 0 },
  );
  // The matcher sees sizeOnDisk as a plain number so that numeric comparisons work.
  const views = items.map((item, i) => (nameOnly ? { name: item.name } : { ...item, sizeOnDisk: sizes[i] }));
  const selected = matching(filter, items.map((item, i) => ({ item, size: sizes[i]! })), views);
  const databases = selected.map((s) => s.item);
  if (nameOnly) return { databases };
  const total = selected.reduce((sum, s) => sum + s.size, 0);
  return { databases, totalSize: Long.fromNumber(total), totalSizeMb: Long.fromNumber(Math.floor(total / (1024 * 1024))) };
}

/**
 * listCollections' privilege check (`checkAuthorizedToListCollections`): listCollections on the
 * database, except that `authorizedCollections: true, nameOnly: true` needs only some privilege
 * in the database. Refusals carry mongod's own message.
 */
export function listCollectionsPrivileges(ctx: CommandContext<'auth'>): Requirement[] {
  if (trueValue(ctx.body.authorizedCollections) && trueValue(ctx.body.nameOnly) && mayActInDatabase(ctx, ctx.db)) return [];
  if (ctx.services.auth.mayDo(ctx.client.principal, Resource.database(ctx.db), 'listCollections')) return [];
  throw new MongoError(ErrorCodes.Unauthorized, `Not authorized to list collections on db: ${ctx.db}`);
}

/**
 * listCollections (list_collections.cpp): mongod's collection documents through a cursor on
 * `<db>.$cmd.listCollections`; with `authorizedCollections` only the collections the caller may
 * do something on. The first batch is unbounded unless `cursor.batchSize` says otherwise.
 */
function listCollections(ctx: CommandContext<'auth' | 'catalog' | 'cursors' | 'namespaces'>): Document {
  const nameOnly = trueValue(ctx.body.nameOnly);
  const authorizedOnly = trueValue(ctx.body.authorizedCollections);
  const filter = optionalObject(ctx, 'filter');
  const cursorSpec = optionalObject(ctx, 'cursor');
  const batchSize = nonNegativeInt(cursorSpec?.batchSize, 'batchSize', 'listCollections') ?? 0;
  const collections = ctx.services.namespaces.collections(ctx.db).filter((c) => !authorizedOnly || mayActOnCollection(ctx, ctx.db, c.name));
  const entries: Document[] = collections.map((c) =>
    nameOnly
      ? { name: c.name, type: 'collection' }
      : {
          name: c.name,
          type: 'collection',
          options: { ...cappedOptionsOf(ctx, c.name), ...validationCollectionOptions(ctx.services.catalog.get(ctx.db, c.name)?.validation ?? {}) },
          info: { readOnly: false, uuid: c.uuid },
          idIndex: { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' },
        },
  );
  // Views come after the collections, as mongod lists them (buildViewBson).
  const views = ctx.services.namespaces.views.list(ctx.db).filter((v) => !authorizedOnly || mayActOnCollection(ctx, ctx.db, v.name));
  for (const view of views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) entries.push(listedView(view, nameOnly));
  const selected = filter === undefined ? entries : runFind({ filter }, entries);
  return {
    cursor: ctx.services.cursors.open(`${ctx.db}.$cmd.listCollections`, selected[Symbol.iterator](), {
      session: ctx.session,
      batchSize,
      owner: ctx.client.principal.userName,
    }),
  };
}

/** A collection's options as listCollections shows them: a capped one's limits. */
function cappedOptionsOf(ctx: CommandContext<'catalog'>, name: string): Document {
  const capped = ctx.services.catalog.get(ctx.db, name)?.capped;
  return capped === undefined ? {} : cappedCollectionOptions(capped.options);
}

/** renameCollection (admin only): `from` and `to` are full namespaces; dropTarget replaces an existing target. A view is neither. */
function renameCollection(ctx: CommandContext<'catalog' | 'namespaces' | 'replication'>): Document {
  const from = ctx.body.renameCollection;
  const to = ctx.body.to;
  // rename_collection.idl: both are `namespacestring`, strings on the wire.
  if (typeof from !== 'string') throw wrongType('renameCollection.renameCollection', from, 'string');
  if (typeof to !== 'string') throw wrongType('renameCollection.to', to, 'string');
  const split = (ns: string) => {
    const dot = ns.indexOf('.');
    if (dot <= 0 || dot === ns.length - 1) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ns}'`);
    return [ns.slice(0, dot), ns.slice(dot + 1)] as const;
  };
  const [fromDb, fromColl] = split(from);
  const [toDb, toColl] = split(to);
  const catalog = ctx.services.catalog;
  const views = ctx.services.namespaces.views;
  if (catalog.get(fromDb, fromColl) === undefined) {
    if (views.lookup(fromDb, fromColl) !== undefined) throw new MongoError(ErrorCodes.CommandNotSupportedOnView, `cannot rename view: ${from}`);
    throw new MongoError(ErrorCodes.NamespaceNotFound, 'Source collection does not exist');
  }
  if (views.lookup(toDb, toColl) !== undefined) throw new MongoError(ErrorCodes.NamespaceExists, `a view already exists with that name: ${to}`);
  const target = catalog.get(toDb, toColl);
  if (target !== undefined && !trueValue(ctx.body.dropTarget)) throw new MongoError(ErrorCodes.NamespaceExists, 'target namespace exists');
  const oplog = ctx.services.replication?.oplog;
  if (oplog === undefined) {
    if (target !== undefined) catalog.drop(toDb, toColl);
    catalog.rename(fromDb, fromColl, toDb, toColl);
    return {};
  }
  // One renameCollection entry stands for the move (the documents are not logged again).
  const source = catalog.get(fromDb, fromColl)!;
  oplog.quiet += 1;
  try {
    if (target !== undefined) catalog.drop(toDb, toColl);
    catalog.rename(fromDb, fromColl, toDb, toColl);
  } finally {
    oplog.quiet -= 1;
  }
  oplog.command(fromDb, { renameCollection: from, to, stayTemp: false, dropTarget: target === undefined ? false : target.uuid }, source.uuid);
  return {};
}

/** dbStats: counts and sizes of the database's collections (scale divides the byte figures). */
function dbStats(ctx: CommandContext<'namespaces'>): Document {
  const scale = Math.max(1, numberValue(ctx.body.scale) ?? 1);
  let objects = 0;
  let bytes = 0;
  let indexes = 0;
  const collections = ctx.services.namespaces.collections(ctx.db);
  for (const c of collections) {
    objects += [...c.documents()].length;
    indexes += c.indexes.length;
    bytes += dataSize(c.documents());
  }
  return {
    db: ctx.db,
    collections: new Int32(collections.length),
    views: new Int32(ctx.services.namespaces.views.list(ctx.db).length),
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
function collStats(ctx: CommandContext<'catalog' | 'namespaces'>): Document {
  const name = collectionArgument(ctx);
  const scale = Math.max(1, numberValue(ctx.body.scale) ?? 1);
  const collection = ctx.services.namespaces.collection(ctx.db, name);
  if (collection === undefined) {
    throw new MongoError(ErrorCodes.NamespaceNotFound, `Collection [${ctx.db}.${name}] not found.`);
  }
  const count = [...collection.documents()].length;
  const bytes = dataSize(collection.documents());
  const indexSizes: Document = {};
  let totalIndexSize = 0;
  for (const index of collection.indexes) {
    const size = estimatedIndexSize(index, collection.documents());
    totalIndexSize += size;
    indexSizes[index.name] = new Int32(Math.floor(size / scale));
  }
  return {
    ns: `${ctx.db}.${name}`,
    size: new Int32(Math.floor(bytes / scale)),
    count: new Int32(count),
    avgObjSize: new Int32(count === 0 ? 0 : Math.floor(bytes / count)),
    storageSize: new Int32(Math.floor(bytes / scale)),
    ...cappedStorageStats(ctx.services.catalog.get(ctx.db, name)?.capped?.options, scale),
    nindexes: new Int32(collection.indexes.length),
    totalIndexSize: new Int32(Math.floor(totalIndexSize / scale)),
    totalSize: new Int32(Math.floor((bytes + totalIndexSize) / scale)),
    indexSizes,
    scaleFactor: new Int32(scale),
  };
}

/** The catalog: databases and collections, their listings and statistics. */
export const catalogCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'renameCollection',
    run: renameCollection,
    adminOnly: true,
    supportsWriteConcern: true,
    privileges: (ctx) => {
      const [from, to] = [ctx.body.renameCollection, ctx.body.to];
      if (typeof from !== 'string' || typeof to !== 'string' || !from.includes('.') || !to.includes('.')) return [];
      return [
        { resource: Resource.ns(from), actions: ['renameCollectionSameDB', 'find', 'dropCollection'] },
        { resource: Resource.ns(to), actions: ['insert', 'createIndex'] },
      ];
    },
    help: ' example: { renameCollection: foo.a, to: bar.b }',
  }),
  defineCommand({ name: 'dbStats', aliases: ['dbstats'], run: dbStats, privileges: onDatabase('dbStats'), help: 'Get stats on a database. Not instantaneous. Slower for databases with large .ns files.' }),
  defineCommand({ name: 'collStats', aliases: ['collstats'], run: collStats, privileges: onCollection('collStats'), help: '{ collStats:"blog.posts" , scale : 1 } scale divides sizes e.g. for KB use 1024' }),
  defineCommand({
    name: 'create',
    run: create,
    apiVersion1: true,
    supportsWriteConcern: true,
    // 4.4+: the collection appears when the transaction commits (in its applyOps entry).
    allowedInTransaction: true,
    // create.idl is strict: another field is 40415.
    strict: true,
    fields: CREATE_OPTIONS,
    // checkAuthForCreate: a view also needs what reading its definition reads, when the caller may read the view.
    privileges: (ctx) => {
      const { create: view, viewOn, pipeline } = ctx.body;
      const definition = typeof view === 'string' && typeof viewOn === 'string' && viewOn !== '' ? viewDefinitionPrivileges(ctx, view, viewOn, Array.isArray(pipeline) ? pipeline : []) : [];
      return [...onCollection('createCollection')(ctx), ...definition];
    },
    help: 'explicitly creates a collection or view',
  }),
  defineCommand({ name: 'drop', run: drop, apiVersion1: true, supportsWriteConcern: true, privileges: onCollection('dropCollection'), help: 'drop a collection' }),
  defineCommand({ name: 'dropDatabase', run: dropDatabase, apiVersion1: true, supportsWriteConcern: true, privileges: onDatabase('dropDatabase'), help: 'drop (delete) this database' }),
  defineCommand({ name: 'listDatabases', run: listDatabases, adminOnly: true, apiVersion1: true, privileges: () => [], help: 'list databases on this server' }),
  defineCommand({ name: 'listCollections', run: listCollections, apiVersion1: true, privileges: listCollectionsPrivileges, help: 'list collections for this db' }),
];
