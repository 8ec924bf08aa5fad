import { Int32, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { missingField, wrongType } from '../bson/idlErrors.js';
import type { IndexSpec } from '../storage/catalog.js';
import { collectionArgument, isPlainObject, numberValue, trueValue } from '../bson/args.js';
import { onCollection } from './requirements.js';
import { compareDocuments } from '../bson/bsonOrder.js';
import { fullCollationSpec } from '../query/match/collation.js';
import { checkPartialFilter } from './partialFilter.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';
import { transactionOf, type Transaction } from './transactions.js';

/**
 * Index options stored as given and shown by listIndexes (index_key_validate.cpp's allowed fields)
 * that change nothing here beyond being kept: text and geo index settings, the storage engine's.
 */
const KEPT_OPTIONS = ['weights', 'default_language', 'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'wildcardProjection', 'storageEngine'] as const;

/** mongod's default index name: each field and direction joined by "_" (a_1_b_-1). */
function defaultName(key: Document): string {
  return Object.entries(key)
    .map(([field, dir]) => `${field}_${numberValue(dir) ?? String(dir)}`)
    .join('_');
}

function parseSpec(raw: unknown, i: number): IndexSpec {
  if (!isPlainObject(raw)) throw wrongType(`createIndexes.indexes.${i}`, raw, 'object');
  const key = raw.key;
  if (key === undefined) throw missingField('createIndexes.indexes.key');
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new MongoError(ErrorCodes.CannotCreateIndex, 'Index keys cannot be an empty field.');
  }
  const name = raw.name === undefined ? defaultName(key) : raw.name;
  if (typeof name !== 'string') throw wrongType('createIndexes.indexes.name', name, 'string');
  const spec: { -readonly [K in keyof IndexSpec]: IndexSpec[K] } = {
    name,
    key,
    unique: trueValue(raw.unique),
    sparse: trueValue(raw.sparse),
  };
  if (isPlainObject(raw.partialFilterExpression)) {
    checkPartialFilter(raw, raw.partialFilterExpression);
    spec.partialFilterExpression = raw.partialFilterExpression;
  }
  const options: Document = {};
  for (const option of KEPT_OPTIONS) if (raw[option] !== undefined) options[option] = raw[option];
  if (Object.keys(options).length > 0) spec.options = options;
  if (raw.hidden === true) {
    if (name === '_id_') throw new MongoError(ErrorCodes.BadValue, "can't hide _id index");
    spec.hidden = true;
  }
  if (raw.collation !== undefined) {
    if (!isPlainObject(raw.collation)) throw wrongType('createIndexes.indexes.collation', raw.collation, 'object');
    const collation = fullCollationSpec(raw.collation);
    if (collation !== undefined) spec.collation = collation;
  }
  const ttl = numberValue(raw.expireAfterSeconds);
  if (ttl !== undefined) spec.expireAfterSeconds = ttl;
  return spec;
}

function sameSpec(a: IndexSpec, b: IndexSpec): boolean {
  const sameCollation = a.collation === undefined || b.collation === undefined ? a.collation === b.collation : compareDocuments(a.collation, b.collation) === 0;
  return JSON.stringify(a.key) === JSON.stringify(b.key) && a.unique === b.unique && a.sparse === b.sparse && sameCollation;
}

/**
 * create_indexes_cmd.cpp in a transaction (4.4+): only on a collection the transaction created,
 * while it is empty.
 */
function checkIndexBuildInTransaction(transaction: Transaction, db: string, name: string): void {
  const collection = transaction.catalog.get(db, name);
  if (collection === undefined) return;
  if (!transaction.created(collection)) {
    throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, `Cannot create new indexes on existing collection ${db}.${name} in a multi-document transaction.`);
  }
  if (collection.size > 0) {
    throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, `Cannot create new indexes on non-empty collection ${db}.${name} in a multi-document transaction.`);
  }
}

/** createIndexes: new indexes (the collection is created if needed); unique ones are built and enforced. */
function createIndexes(ctx: CommandContext<'catalog' | 'namespaces'>): Document {
  const name = collectionArgument(ctx);
  const rawIndexes = ctx.body.indexes;
  if (rawIndexes === undefined) throw missingField('createIndexes.indexes');
  if (!Array.isArray(rawIndexes)) throw wrongType('createIndexes.indexes', rawIndexes, 'array');
  const specs = rawIndexes.map(parseSpec);
  const { namespaces } = ctx.services;
  const createdSessions = namespaces.ensureSessionsCollection(ctx.db, name);
  const existing = namespaces.indexTarget(ctx.db, name);
  const created = createdSessions || existing === undefined;
  const collection = existing ?? ctx.services.catalog.ensure(ctx.db, name);
  const transaction = transactionOf(ctx);
  const before = collection.indexes.length;
  for (const spec of specs) {
    const sameName = collection.indexes.find((s) => s.name === spec.name);
    if (sameName !== undefined) {
      if (sameSpec(sameName, spec)) continue;
      throw new MongoError(
        ErrorCodes.IndexKeySpecsConflict,
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`,
      );
    }
    if (collection.indexes.some((s) => sameSpec(s, spec))) continue;
    if (transaction !== undefined) checkIndexBuildInTransaction(transaction, ctx.db, name);
    collection.addIndex(spec);
  }
  const after = collection.indexes.length;
  const reply: Document = {
    numIndexesBefore: new Int32(before),
    numIndexesAfter: new Int32(after),
    createdCollectionAutomatically: created,
  };
  if (after === before) reply.note = 'all indexes already exist';
  return reply;
}

function describe(spec: IndexSpec): Document {
  const doc: Document = { v: new Int32(2), key: spec.key, name: spec.name };
  if (spec.unique && spec.name !== '_id_') doc.unique = true;
  if (spec.sparse) doc.sparse = true;
  if (spec.partialFilterExpression !== undefined) doc.partialFilterExpression = spec.partialFilterExpression;
  if (spec.expireAfterSeconds !== undefined) doc.expireAfterSeconds = new Int32(spec.expireAfterSeconds);
  if (spec.collation !== undefined) doc.collation = spec.collation;
  if (spec.hidden === true) doc.hidden = true;
  if (spec.options !== undefined) Object.assign(doc, spec.options);
  return doc;
}

/** listIndexes: the collection's indexes through a cursor; a missing collection is NamespaceNotFound (26). */
function listIndexes(ctx: CommandContext<'cursors' | 'namespaces'>): Document {
  const name = collectionArgument(ctx);
  const collection = ctx.services.namespaces.collection(ctx.db, name);
  if (collection === undefined) throw new MongoError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ctx.db}.${name}`);
  return {
    cursor: ctx.services.cursors.open(`${ctx.db}.$cmd.listIndexes.${name}`, collection.indexes.map(describe)[Symbol.iterator](), {
      session: ctx.session,
      batchSize: 101,
    }),
  };
}

/** dropIndexes: by name, by key pattern, a list of names, or "*" (every index but _id_). */
function dropIndexes(ctx: CommandContext<'namespaces'>): Document {
  const name = collectionArgument(ctx);
  const collection = ctx.services.namespaces.collection(ctx.db, name) === undefined ? undefined : ctx.services.namespaces.indexTarget(ctx.db, name);
  if (collection === undefined) throw new MongoError(ErrorCodes.NamespaceNotFound, `ns not found ${ctx.db}.${name}`);
  const was = collection.indexes.length;
  const target = ctx.body.index;
  const names =
    target === '*'
      ? collection.indexes.filter((s) => s.name !== '_id_').map((s) => s.name)
      : typeof target === 'string'
        ? [target]
        : Array.isArray(target)
          ? target.map((name, i) => {
              if (typeof name !== 'string') throw wrongType(`dropIndexes.index.${i}`, name, 'string');
              return name;
            })
          : isPlainObject(target)
            ? collection.indexes.filter((s) => JSON.stringify(s.key) === JSON.stringify(target)).map((s) => s.name)
            : [];
  if (isPlainObject(target) && names.length === 0) {
    throw new MongoError(ErrorCodes.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
  }
  for (const index of names) {
    if (index === '_id_') throw new MongoError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!collection.dropIndex(index)) throw new MongoError(ErrorCodes.IndexNotFound, `index not found with name [${index}]`);
  }
  return { nIndexesWas: new Int32(was) };
}

/** Indexes. */
export const indexCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'createIndexes', run: createIndexes, apiVersion1: true, supportsWriteConcern: true, allowedInTransaction: true, privileges: onCollection('createIndex'), help: 'create indexes' }),
  defineCommand({ name: 'listIndexes', run: listIndexes, apiVersion1: true, allowedInTransaction: true, privileges: onCollection('listIndexes'), help: 'list indexes for a collection' }),
  defineCommand({ name: 'dropIndexes', aliases: ['deleteIndexes'], run: dropIndexes, apiVersion1: true, supportsWriteConcern: true, privileges: onCollection('dropIndex'), help: 'drop indexes for a collection' }),
];
