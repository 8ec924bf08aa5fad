import { BSON, Int32, type Document } from 'bson';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { RetryableStatements } from './retryableWrites.js';
import type { StatementOutcome } from '../sessions/transactionRecord.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { evaluateLetVariables, runPipeline } from '../query/aggregation/run.js';
import { compileQuery, runFind } from '../query/find.js';
import { compileUpdate } from '../query/update/compile.js';
import { valuesEqual } from '../bson/bsonOrder.js';
import { collatorFor, comparatorFor } from '../query/match/collation.js';
import { withIdFirst, type Collection, type Hint } from '../storage/catalog.js';
import type { CompiledFilter } from '../query/match/compile.js';
import { findProjection } from '../query/projection/findProjection.js';
import { checkInsertable, checkUpdated } from '../storage/documentRules.js';
import { missingField, unknownField, wrongType } from '../bson/idlErrors.js';
import { bsonText } from '../bson/bsonText.js';
import { checkSubPipeline } from '../pipeline/pipelineShape.js';
import { collectionArgument, isPlainObject, numberValue, optionalObject, trueValue } from '../bson/args.js';
import { nonNegativeInt } from './cursorArgs.js';
import { resolveHint } from './hint.js';
import { withBypass, writeValidation } from './documentValidation.js';
import { validateWrite } from '../storage/validation.js';
import { findOnCapped } from './capped.js';
import { pointFind } from './pointFind.js';
import { Resource } from '../auth/privileges.js';
import { onCollection } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec, type Verbosity } from './command.js';
import { explainQuery, queryReply, singleStatement, type ExplainContext, type StageWrapper } from './queryExplain.js';
import { wrapStages } from '../storage/planStages.js';
import { viewIsNotACollection } from '../storage/viewCatalog.js';
import { aggregate, explainAggregate, type AggregateContext } from './aggregate.js';
import { countAsAggregate, countReply, distinctAsAggregate, distinctReply, findAsAggregate, inViewPipeline, isView, withBody, writeRefusal } from './views.js';

/** A `collation` argument (an object); undefined for none and for the "simple" locale (binary comparison, the default). */
function collationArgument(collation: Record<string, unknown> | undefined): Document | undefined {
  return collation !== undefined && collation.locale !== 'simple' ? collation : undefined;
}

/**
 * The hint a query runs with: under a collation, strings compare by locale, which no (binary)
 * index gives, so without an explicit hint the query scans (mongod's planner uses only indexes
 * whose collation matches the query's; ours all have the simple one).
 */
function planHint(hint: Hint | undefined, collation: Document | undefined): Hint | undefined {
  return collation !== undefined && hint === undefined ? 'natural' : hint;
}

/** The command's one NOW: `let`, $$NOW in $expr and pipeline updates, and $currentDate all read it (from the server's clock). */
function commandNow(ctx: CommandContext<'clock'>): Date {
  return new Date(ctx.services.clock.now());
}

/**
 * A command's `let` (find, update, delete, findAndModify): its expressions evaluated once, with the
 * command's NOW, into the values `$$name` reads (mongod evaluates them before running anything).
 */
function letVariables(ctx: CommandContext<never>, now: Date, idl: { body: Document; name: string } = ctx): Document | undefined {
  const spec = optionalObject(idl, 'let', true);
  return spec === undefined ? undefined : evaluateLetVariables(spec, { now });
}

/** What a find asks: filter, projection, sort, skip and limit (find_command.idl types), its collation and `let`. */
export function findShape(ctx: CommandContext<never>): {
  filter: Document;
  projection?: Document;
  sort?: Document;
  skip?: number;
  limit?: number;
  collation?: Document;
  variables?: Document;
} {
  return {
    collation: collationArgument(optionalObject(ctx, 'collation', true)),
    variables: optionalObject(ctx, 'let', true),
    filter: optionalObject(ctx, 'filter', true) ?? {},
    projection: optionalObject(ctx, 'projection', true),
    sort: optionalObject(ctx, 'sort', true),
    skip: nonNegativeInt(ctx.body.skip, 'skip', 'find'),
    limit: nonNegativeInt(ctx.body.limit, 'limit', 'find'),
  };
}

/** What the reads need: on a view they run (or explain) the aggregate they turn into. */
type ReadContext = AggregateContext & CommandContext<'counters'>;

/** find: filter, projection, sort, skip, limit, batchSize and singleBatch over the collection's documents. */
function find(ctx: ReadContext): Document {
  // A point lookup ({field: scalar}, nothing else to apply) skips the general machinery.
  const point = pointFind(ctx);
  if (point !== undefined) return point;
  const collection = collectionArgument(ctx);
  const now = commandNow(ctx);
  const shape = { ...findShape(ctx), variables: letVariables(ctx, now), now };
  const batchSize = nonNegativeInt(ctx.body.batchSize, 'batchSize', 'find') ?? DEFAULT_FIRST_BATCH_SIZE;
  // On a view: the find runs as an aggregate (its filter and projection parsed as a find's first).
  if (isView(ctx, collection)) {
    runFind(shape, []);
    const body = findAsAggregate(ctx, collection, shape);
    return inViewPipeline(() => aggregate(withBody(ctx, body)));
  }
  // Tailable finds, and natural-order scans of capped collections, keep their position (capped.ts).
  const capped = findOnCapped(ctx, collection, shape, batchSize);
  if (capped !== undefined) return { cursor: capped };
  const hint = planHint(resolveHint(ctx, collection, ctx.body.hint, shape), shape.collation);
  // Under a collation strings sort by locale, which no (binary) index order gives.
  const source = ctx.services.namespaces.query(ctx.db, collection, shape.filter, hint, shape.collation === undefined ? shape.sort : undefined);
  // A missing collection still parses the filter and projection (mongod refuses a bad one either way).
  const docs = runFind(source?.sorted === true ? { ...shape, sort: undefined } : shape, source?.documents ?? []);
  const sortedInMemory = source !== undefined && !source.sorted && shape.sort !== undefined && Object.keys(shape.sort).length > 0;
  if (sortedInMemory) ctx.services.counters.sortedInMemory();
  // mongod's plan knows its end early only after a blocking sort, a reached limit, or with no collection (EOF plan).
  const limitReached = shape.limit !== undefined && shape.limit > 0 && docs.length >= shape.limit;
  const cursor = ctx.services.cursors.openResult(`${ctx.db}.${collection}`, docs, {
    endKnown: source === undefined || sortedInMemory || limitReached,
    session: ctx.session,
    owner: ctx.client.principal.userName,
    batchSize,
    singleBatch: trueValue(ctx.body.singleBatch),
    noTimeout: trueValue(ctx.body.noCursorTimeout),
  });
  return { cursor };
}

/** An `arrayFilters` argument (write_ops.idl: array<object>), at `path`; undefined when absent. */
function arrayFiltersArgument(value: unknown, path: string): Document[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType(path, value, 'array');
  value.forEach((filter, i) => {
    if (!isPlainObject(filter)) throw wrongType(`${path}.${i}`, filter, 'object');
  });
  return value as Document[];
}

/** An update argument: an operator or replacement document, or a pipeline (UpdateModification::parseFromBSON). */
function updateArgument(value: unknown): Document | Document[] {
  if (Array.isArray(value)) return checkSubPipeline(value) as Document[];
  if (!isPlainObject(value)) throw new MongoError(ErrorCodes.FailedToParse, 'Update argument must be either an object or an array');
  return value;
}

/**
 * Whether an error is one statement's (a write error in the reply): a WriteConflict is not, it
 * fails the whole command, as a transaction's transient errors do (write_ops_exec.cpp handleError).
 */
function isStatementError(err: unknown): err is MongoError {
  return err instanceof MongoError && err.code !== ErrorCodes.WriteConflict;
}

/** ordered (default true); in a transaction a batch always stops at its first error (handleError). */
function stopsAtFirstError(body: Document): boolean {
  return body.ordered === undefined || body.autocommit !== undefined ? true : trueValue(body.ordered);
}

/**
 * One entry of `writeErrors`. Past the first two errors of a command, a message over 1 MiB is
 * sent empty (write_commands.cpp generateError: kMaxErrorSizeToReportAfterMaxReasonsReached), so
 * many long DuplicateKey keys cannot overflow the reply.
 */
function writeError(index: number, err: MongoError, earlierErrors: number): Document {
  const errmsg = earlierErrors > 1 && Buffer.byteLength(err.message) > MAX_REPORTED_ERROR_BYTES ? '' : err.message;
  return { index: new Int32(index), code: err.code, ...err.extra, errmsg };
}

const MAX_REPORTED_ERROR_BYTES = 1024 * 1024;

function requireArrayField(ctx: CommandContext<never>, field: string): unknown[] {
  const value = ctx.body[field];
  if (value === undefined || value === null) throw missingField(`${ctx.name}.${field}`);
  if (!Array.isArray(value)) throw wrongType(`${ctx.name}.${field}`, value, 'array');
  return value;
}

/**
 * insert (write_ops.idl): documents get an `_id` (first) when they lack one; a taken `_id` is a
 * DuplicateKey write error; ordered inserts stop at the first error, unordered ones go on.
 */
function insert(ctx: CommandContext<'catalog' | 'clock' | 'counters' | 'log' | 'replication' | 'transactions'>): Document {
  const name = collectionArgument(ctx);
  const documents = requireArrayField(ctx, 'documents');
  const ordered = stopsAtFirstError(ctx.body);
  // A view (or system.views) refuses each document: no collection is made for it.
  const refusal = writeRefusal(ctx.services.catalog, ctx.db, name);
  const collection = refusal === undefined ? ctx.services.catalog.ensure(ctx.db, name) : undefined;
  const validation = writeValidation(ctx, commandNow(ctx));
  const retryable = RetryableStatements.of(ctx);
  const writeErrors: Document[] = [];
  let n = 0;
  for (let i = 0; i < documents.length; i++) {
    const raw = documents[i];
    const stmtId = retryable?.stmtId(i) ?? i;
    if (retryable?.executed(stmtId) !== undefined) {
      n += 1;
      continue;
    }
    try {
      if (!isPlainObject(raw)) throw wrongType(`insert.documents.${i}`, raw, 'object');
      checkInsertable(raw, ctx.request.messageLength);
      const doc = withIdFirst(raw);
      if (collection === undefined) throw refusal!;
      validateWrite(collection, doc, validation);
      if (retryable === undefined) collection.add(doc);
      else {
        retryable.run(stmtId, () => collection.add(doc));
        retryable.wrote(stmtId, { op: 'i' });
      }
      n += 1;
    } catch (err) {
      if (!isStatementError(err)) throw err;
      writeErrors.push(writeError(i, err, writeErrors.length));
      if (ordered) break;
    }
  }
  ctx.services.counters.opcounters.insert += n;
  ctx.services.counters.documentsInserted(n);
  const reply = writeErrors.length === 0 ? { n: new Int32(n) } : { n: new Int32(n), writeErrors };
  return retryable === undefined ? reply : retryable.reply(reply);
}

/** write_ops.idl's DeleteOpEntry and UpdateOpEntry fields in 7.0 (update's `sort` came in 8.0). */
const DELETE_STATEMENT_FIELDS = new Set(['q', 'limit', 'hint', 'collation', 'sampleId']);
const UPDATE_STATEMENT_FIELDS = new Set(['q', 'u', 'c', 'arrayFilters', 'hint', 'multi', 'upsert', 'upsertSupplied', 'collation', 'sampleId', '$_allowShardKeyUpdatesWithoutFullShardKeyInQuery']);

/** The statements are parsed with the command (strict IDL structs): an unknown field fails the whole command (40415). */
function checkStatementFields(statements: readonly unknown[], fields: ReadonlySet<string>, path: string): void {
  for (const statement of statements) {
    if (!isPlainObject(statement)) continue;
    for (const field of Object.keys(statement)) if (!fields.has(field)) throw unknownField(`${path}.${field}`);
  }
}

/** delete: each statement removes the first match (limit 1) or every match (limit 0). */
function deleteCommand(ctx: CommandContext<'catalog' | 'clock' | 'counters' | 'replication' | 'transactions'>): Document {
  const name = collectionArgument(ctx);
  const deletes = requireArrayField(ctx, 'deletes');
  checkStatementFields(deletes, DELETE_STATEMENT_FIELDS, 'delete.deletes');
  const ordered = stopsAtFirstError(ctx.body);
  const now = commandNow(ctx);
  const variables = letVariables(ctx, now);
  const collection = ctx.services.catalog.get(ctx.db, name);
  const refusal = writeRefusal(ctx.services.catalog, ctx.db, name);
  const retryable = RetryableStatements.of(ctx);
  const writeErrors: Document[] = [];
  let n = 0;
  let statementsRun = 0;
  for (let i = 0; i < deletes.length; i++) {
    const statement = deletes[i];
    statementsRun += 1;
    const stmtId = retryable?.stmtId(i) ?? i;
    if (retryable?.executed(stmtId) !== undefined) {
      n += 1;
      continue;
    }
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
      if (retryable !== undefined && limit === 0) {
        throw new MongoError(ErrorCodes.InvalidOptions, 'Cannot use (or request) retryable writes with limit=0');
      }
      if (refusal !== undefined) throw refusal;
      const collation = collationArgument(optionalObject({ body: statement, name: 'delete.deletes' }, 'collation', true));
      const hint = planHint(resolveHint(ctx, name, statement.hint, { filter: statement.q }), collation);
      const matches = runFind({ filter: statement.q, limit: limit === 1 ? 1 : undefined, collation, variables, now }, collection?.plan(statement.q, hint).documents ?? []);
      if (retryable === undefined) {
        for (const doc of matches) if (collection?.remove(doc) === true) n += 1;
      } else if (matches.length > 0 && retryable.run(stmtId, () => collection!.remove(matches[0]!))) {
        n += 1;
        retryable.wrote(stmtId, { op: 'd' });
      }
    } catch (err) {
      if (!isStatementError(err)) throw err;
      writeErrors.push(writeError(i, err, writeErrors.length));
      if (ordered) break;
    }
  }
  // One delete per statement, whatever it matched (write_ops_exec.cpp: gotDelete per DeleteOpEntry).
  ctx.services.counters.opcounters.delete += statementsRun;
  ctx.services.counters.documentsDeleted(n);
  const reply = writeErrors.length === 0 ? { n: new Int32(n) } : { n: new Int32(n), writeErrors };
  return retryable === undefined ? reply : retryable.reply(reply);
}

function isOperatorUpdate(u: Document): boolean {
  const keys = Object.keys(u);
  return keys.length > 0 && keys[0]!.startsWith('$');
}

/** The equality fields of a filter, the seed of an upserted document (mongod's upsert rules, simplified). */
function upsertSeed(q: Document): Document {
  const seed: Document = {};
  for (const [k, v] of Object.entries(q)) {
    if (k.startsWith('$') || k.includes('.')) continue;
    if (isPlainObject(v) && Object.keys(v).some((op) => op.startsWith('$'))) {
      if ('$eq' in v) seed[k] = v.$eq;
      continue;
    }
    seed[k] = v;
  }
  return seed;
}

/** Whether an operator update names the positional `$` in one of its paths ("a.$.b"). */
function hasPositional(u: Document): boolean {
  for (const fields of Object.values(u)) {
    if (isPlainObject(fields) && Object.keys(fields).some((path) => path === '$' || path.startsWith('$.') || path.includes('.$.') || path.endsWith('.$'))) return true;
  }
  return false;
}

/** mongod's check that an update left `_id` as it was. */
function checkIdUnchanged(before: Document, after: Document): Document {
  if (before._id !== undefined && !valuesEqual(after._id, before._id)) {
    throw new MongoError(ErrorCodes.ImmutableField, `Performing an update on the path '_id' would modify the immutable field '_id'`);
  }
  return after;
}

/**
 * What an update statement does to one document: the new document, and whether it differs from
 * the old one as mongod decides (the update engine's no-op rules for operators; identical bytes
 * for a replacement or a pipeline), so an equal value of another type is a change.
 */
export type Updater = (doc: Document) => { doc: Document; modified: boolean };

/** Whether two documents have the same bytes (ObjectReplaceExecutor's binaryEqual). */
function sameBytes(a: Document, b: Document): boolean {
  return Buffer.from(BSON.serialize(a)).equals(Buffer.from(BSON.serialize(b)));
}

/**
 * The document an update statement produces from each document it applies to: operators run on
 * the stored BSON values (query/update: untouched values stay the very same, numbers keep mongod's
 * types), a replacement replaces, and a pipeline runs on mingo (its reshaped values retyped).
 * Parsed once, before any document is touched; `inserting` is an upsert's insert ($setOnInsert).
 */
export function makeUpdater(
  u: Document | Document[],
  arrayFilters: Document[] | undefined,
  query: CompiledFilter,
  options: { inserting?: boolean; collation?: Document; variables?: Document; now?: Date } = {},
): Updater {
  if (Array.isArray(u)) {
    // A pipeline-style update: its stages run on the stored values (query/aggregation).
    const context = { collation: options.collation, variables: options.variables, now: options.now };
    return (doc) => {
      const next = checkIdUnchanged(doc, runPipeline(u, [doc], context)[0] ?? {});
      return { doc: next, modified: !sameBytes(next, doc) };
    };
  }
  if (isOperatorUpdate(u)) {
    const now = options.now;
    const compiled = compileUpdate(u, { arrayFilters, upsert: options.inserting === true, collation: options.collation, now: now === undefined ? undefined : () => now });
    // The positional `$` takes the array position the query's match recorded in each document.
    const positional = hasPositional(u);
    return (doc) => {
      const position = positional ? query.matchWithPosition(doc).arrayPosition : undefined;
      const result = compiled.apply(doc, position === undefined ? undefined : { matchedField: String(position) });
      checkIdUnchanged(doc, result.doc);
      return result;
    };
  }
  for (const key of Object.keys(u)) {
    if (key.startsWith('$')) throw new MongoError(ErrorCodes.DollarPrefixedFieldName, `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
  }
  return (doc) => {
    if (u._id !== undefined && doc._id !== undefined && !valuesEqual(u._id, doc._id)) {
      throw new MongoError(
        ErrorCodes.ImmutableField,
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${bsonText(u._id)}`,
      );
    }
    const next = withIdFirst({ ...u, _id: doc._id ?? u._id });
    return { doc: next, modified: !sameBytes(next, doc) };
  };
}

/** "update retry request is not compatible with previous write" (write_ops_retryability.cpp). */
const RETRY_MISMATCH_UPDATE = 40638;

/** A statement's write, recorded for retries when the command is a retryable write. */
function writeStatement(retryable: RetryableStatements | undefined, stmtId: number, outcome: StatementOutcome, write: () => void): void {
  if (retryable === undefined) return write();
  retryable.run(stmtId, write);
  retryable.wrote(stmtId, outcome);
}

/**
 * Replaces a stored document by its update; on a replica set a replacement-style update is
 * logged as the whole new document, an operator or pipeline update as a diff (oplog.ts).
 */
function replaceDocument(ctx: CommandContext<'catalog' | 'replication'>, collection: Collection, old: Document, next: Document, replacement: boolean): void {
  const oplog = ctx.services.replication?.oplog;
  if (oplog === undefined || !replacement) return collection.replace(old, next);
  oplog.replacing = true;
  try {
    collection.replace(old, next);
  } finally {
    oplog.replacing = false;
  }
}

/**
 * update (write_ops.idl): each statement {q, u, upsert, multi, arrayFilters} updates the first
 * match (or every match with multi), or inserts one with upsert; replies n, nModified, upserted.
 */
function update(ctx: CommandContext<'catalog' | 'clock' | 'counters' | 'log' | 'replication' | 'transactions'>): Document {
  const name = collectionArgument(ctx);
  const statements = requireArrayField(ctx, 'updates');
  checkStatementFields(statements, UPDATE_STATEMENT_FIELDS, 'update.updates');
  const ordered = stopsAtFirstError(ctx.body);
  const now = commandNow(ctx);
  const variables = letVariables(ctx, now);
  const validation = writeValidation(ctx, now);
  const refusal = writeRefusal(ctx.services.catalog, ctx.db, name);
  const retryable = RetryableStatements.of(ctx);
  const writeErrors: Document[] = [];
  const upserted: Document[] = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < statements.length; i++) {
    const statement = statements[i];
    const stmtId = retryable?.stmtId(i) ?? i;
    try {
      const done = retryable?.executed(stmtId);
      if (done !== undefined) {
        // write_ops_retryability.cpp parseOplogEntryForUpdate: an update counts as one modified
        // document, an upsert as its insert.
        if (done.op === 'd') {
          throw new MongoError(RETRY_MISMATCH_UPDATE, `update retry request is not compatible with previous write in the transaction of type: ${done.op}`);
        }
        n += 1;
        if (done.op === 'u') nModified += 1;
        else upserted.push({ index: new Int32(i), _id: done.upsertedId });
        continue;
      }
      if (!isPlainObject(statement)) throw wrongType(`update.updates.${i}`, statement, 'object');
      const { q, u } = statement;
      if (!isPlainObject(q)) throw q === undefined ? missingField('update.updates.q') : wrongType('update.updates.q', q, 'object');
      if (!isPlainObject(u) && !Array.isArray(u)) throw u === undefined ? missingField('update.updates.u') : wrongType('update.updates.u', u, 'object');
      if (Array.isArray(u)) checkSubPipeline(u);
      if (refusal !== undefined) throw refusal;
      const multi = trueValue(statement.multi);
      if (multi && isPlainObject(u) && !isOperatorUpdate(u)) {
        throw new MongoError(ErrorCodes.InvalidOptions, 'multi update is not supported for replacement-style update');
      }
      if (multi && retryable !== undefined) throw new MongoError(ErrorCodes.InvalidOptions, 'Cannot use (or request) retryable writes with multi=true');
      const arrayFilters = arrayFiltersArgument(statement.arrayFilters, 'update.updates.arrayFilters');
      const collation = collationArgument(optionalObject({ body: statement, name: 'update.updates' }, 'collation', true));
      const collection = ctx.services.catalog.get(ctx.db, name);
      const hint = planHint(resolveHint(ctx, name, statement.hint, { filter: q }), collation);
      const matcher = compileQuery(q, { collation, variables, now });
      // The update is parsed before anything matches (its errors come whether or not a document does).
      const update = makeUpdater(u as Document | Document[], arrayFilters, matcher, { collation, variables, now });
      const targets = collection === undefined ? [] : runFind({ matcher, limit: multi ? undefined : 1 }, collection.plan(q, hint).documents);
      if (targets.length === 0) {
        if (!trueValue(statement.upsert)) continue;
        const doc = makeUpdater(u as Document | Document[], arrayFilters, matcher, { inserting: true, collation, variables, now })(upsertSeed(q)).doc;
        const inserted = withIdFirst(doc);
        checkUpdated(inserted);
        validateWrite(ctx.services.catalog.ensure(ctx.db, name), inserted, validation);
        writeStatement(retryable, stmtId, { op: 'i', upsertedId: inserted._id }, () => ctx.services.catalog.ensure(ctx.db, name).add(inserted));
        upserted.push({ index: new Int32(i), _id: inserted._id });
        n += 1;
        continue;
      }
      const replacement = isPlainObject(u) && !isOperatorUpdate(u);
      for (const doc of targets) {
        const next = update(doc);
        checkUpdated(next.doc);
        if (next.modified) validateWrite(collection!, next.doc, validation, doc);
        n += 1;
        if (!next.modified) continue;
        writeStatement(retryable, stmtId, { op: 'u' }, () => replaceDocument(ctx, collection!, doc, next.doc, replacement));
        nModified += 1;
      }
    } catch (err) {
      if (!isStatementError(err)) throw err;
      writeErrors.push(writeError(i, err, writeErrors.length));
      if (ordered) break;
    }
  }
  ctx.services.counters.opcounters.update += statements.length;
  ctx.services.counters.documentsUpdated(n - upserted.length);
  const reply: Document = { n: new Int32(n) };
  if (upserted.length > 0) reply.upserted = upserted;
  reply.nModified = new Int32(nModified);
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return retryable === undefined ? reply : retryable.reply(reply);
}

/** count: documents matching `query`, after skip and limit. */
function count(ctx: ReadContext): Document {
  const name = collectionArgument(ctx);
  const query = optionalObject(ctx, 'query', true) ?? {};
  const skip = nonNegativeInt(ctx.body.skip, 'skip', 'count') ?? 0;
  const limit = Math.abs(numberValue(ctx.body.limit) ?? 0);
  const collation = collationArgument(optionalObject(ctx, 'collation', true));
  if (isView(ctx, name)) return countReply(aggregate(withBody(ctx, countAsAggregate(ctx, name, query, skip, limit))));
  const hint = planHint(resolveHint(ctx, name, ctx.body.hint, { filter: query }), collation);
  const stored = ctx.services.catalog.get(ctx.db, name);
  // An unfiltered, unhinted count reads the collection's record count (mongod's
  // RECORD_STORE_FAST_COUNT, as explain shows): nothing is scanned or counted as examined.
  const fast = stored !== undefined && ctx.body.hint === undefined && Object.keys(query).length === 0;
  const source = fast ? [] : (ctx.services.namespaces.candidates(ctx.db, name, query, hint) ?? []);
  let n = Math.max(0, (fast ? stored.size : runFind({ filter: query, collation, now: commandNow(ctx) }, source).length) - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n: new Int32(n) };
}

/** distinct.cpp: the values must fit in one reply, a user document (16 MB). */
const MAX_DISTINCT_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * distinct: the distinct values of `key` (array elements counted one by one), in the order of the
 * collation's comparison (mongod collects them in a BSONElementSet ordered by the collator: under
 * strength 2, "a" and "A" are one value, the first one met).
 */
function distinct(ctx: ReadContext): Document {
  const name = collectionArgument(ctx);
  const key = ctx.body.key;
  if (typeof key !== 'string') throw key === undefined ? missingField('distinct.key') : wrongType('distinct.key', key, 'string');
  const query = optionalObject(ctx, 'query', true) ?? {};
  const collation = collationArgument(optionalObject(ctx, 'collation', true));
  if (isView(ctx, name)) return distinctReply(aggregate(withBody(ctx, distinctAsAggregate(ctx, name, key, query))));
  const compare = comparatorFor(collatorFor(collation));
  const hint = planHint(resolveHint(ctx, name, ctx.body.hint, { filter: query }), collation);
  const found: unknown[] = [];
  for (const doc of runFind({ filter: query, collation, now: commandNow(ctx) }, ctx.services.namespaces.candidates(ctx.db, name, query, hint) ?? [])) {
    let values: unknown[] = [doc];
    for (const part of key.split('.')) {
      values = values.flatMap((v) => (Array.isArray(v) ? v : [v])).flatMap((v) => (isPlainObject(v) && Object.hasOwn(v, part) ? [v[part]] : []));
    }
    for (const v of values) {
      if (Array.isArray(v)) found.push(...(v as unknown[]));
      else found.push(v);
    }
  }
  // A stable sort keeps equal values in the order met: the first of each run is the one kept.
  found.sort(compare);
  const values = found.filter((v, i) => i === 0 || compare(found[i - 1], v) !== 0);
  // distinct.cpp: the values must fit in one reply.
  if (BSON.calculateObjectSize({ values }) >= MAX_DISTINCT_RESPONSE_BYTES) throw new MongoError(LocationCodes.DistinctTooBig, 'distinct too big, 16mb cap');
  return { values };
}

/**
 * findAndModify: the first document by `query` and `sort` is removed or updated (or one is
 * upserted); `value` is the old document, or the new one with `new: true`, projected by `fields`.
 */
function findAndModify(ctx: CommandContext<'catalog' | 'clock' | 'counters' | 'log' | 'replication' | 'transactions'>): Document {
  const name = collectionArgument(ctx);
  // findAndModify.idl: query, fields and sort are objects; a query of another type (a bare
  // ObjectId, as findOneAndDelete(id) sends) is TypeMismatch, never "match everything".
  const idl = { body: ctx.body, name: 'findAndModify' };
  const filter = optionalObject(idl, 'query', true) ?? {};
  const fields = optionalObject(idl, 'fields', true);
  const sort = optionalObject(idl, 'sort', true);
  const collation = collationArgument(optionalObject(idl, 'collation', true));
  const now = commandNow(ctx);
  const variables = letVariables(ctx, now, idl);
  const remove = trueValue(ctx.body.remove);
  const u = ctx.body.update === undefined ? undefined : updateArgument(ctx.body.update);
  if (remove && u !== undefined) throw new MongoError(ErrorCodes.FailedToParse, 'Cannot specify both an update and remove=true');
  if (!remove && u === undefined) throw new MongoError(ErrorCodes.FailedToParse, 'Either an update or remove=true must be specified');
  const upsert = trueValue(ctx.body.upsert);
  if (remove && upsert) throw new MongoError(ErrorCodes.FailedToParse, 'Cannot specify both upsert=true and remove=true');
  const arrayFilters = arrayFiltersArgument(ctx.body.arrayFilters, 'findAndModify.arrayFilters');
  const refusal = writeRefusal(ctx.services.catalog, ctx.db, name);
  if (refusal !== undefined) throw refusal;
  const collection = ctx.services.catalog.get(ctx.db, name);
  const matcher = compileQuery(filter, { collation, variables, now });
  const retryable = RetryableStatements.of(ctx);
  const stmtId = retryable?.stmtId(0) ?? 0;
  // The update is parsed before anything matches.
  const update = u === undefined ? undefined : makeUpdater(u, arrayFilters, matcher, { collation, variables, now });
  const [target] =
    collection === undefined
      ? []
      : runFind(
          { matcher, sort, limit: 1, collation, variables },
          collection.plan(filter, planHint(resolveHint(ctx, name, ctx.body.hint, { filter, sort }), collation)).documents,
        );
  // The projection sees the query's match on the document (a positional `a.$` takes its position).
  const projection = fields === undefined ? undefined : findProjection(fields, matcher, { collation, variables });
  const done = retryable?.executed(stmtId);
  if (done !== undefined) return retriedFindAndModify(done, { remove, upsert, returnNew: trueValue(ctx.body.new) }, projection);
  if (remove) {
    if (target !== undefined) {
      writeStatement(retryable, stmtId, { op: 'd', preImage: target }, () => collection!.remove(target));
      ctx.services.counters.documentsDeleted(1);
    }
    ctx.services.counters.opcounters.delete += target === undefined ? 0 : 1;
    return { lastErrorObject: { n: new Int32(target === undefined ? 0 : 1) }, value: projected(target, projection) };
  }
  ctx.services.counters.opcounters.update += 1;
  if (target === undefined) {
    if (!upsert) return { lastErrorObject: { n: new Int32(0), updatedExisting: false }, value: null };
    const inserted = withIdFirst(makeUpdater(u!, arrayFilters, matcher, { inserting: true, collation, variables })(upsertSeed(filter)).doc);
    checkUpdated(inserted);
    validateWrite(ctx.services.catalog.ensure(ctx.db, name), inserted, writeValidation(ctx, now));
    writeStatement(retryable, stmtId, { op: 'i', upsertedId: inserted._id, postImage: inserted }, () => ctx.services.catalog.ensure(ctx.db, name).add(inserted));
    return {
      lastErrorObject: { n: new Int32(1), updatedExisting: false, upserted: inserted._id },
      value: trueValue(ctx.body.new) ? projected(inserted, projection) : null,
    };
  }
  const next = update!(target);
  checkUpdated(next.doc);
  if (next.modified) validateWrite(collection!, next.doc, writeValidation(ctx, now), target);
  ctx.services.counters.documentsUpdated(1);
  if (next.modified) {
    const replacement = u !== undefined && isPlainObject(u) && !isOperatorUpdate(u);
    writeStatement(retryable, stmtId, { op: 'u', preImage: target, postImage: next.doc }, () => replaceDocument(ctx, collection!, target, next.doc, replacement));
  }
  return {
    lastErrorObject: { n: new Int32(1), updatedExisting: true },
    value: projected(trueValue(ctx.body.new) ? next.doc : target, projection),
  };
}

/** findAndModify's `value`: the document through the projection, or null when there is none. */
function projected(doc: Document | undefined, projection: ((doc: Document) => Document) | undefined): Document | null {
  if (doc === undefined) return null;
  return projection === undefined ? doc : projection(doc);
}

/**
 * A findAndModify retry answered from what its first run wrote, after mongod's compatibility
 * checks of the request against that write (write_ops_retryability.cpp validateFindAndModifyRetryability).
 */
function retriedFindAndModify(
  done: StatementOutcome,
  request: { remove: boolean; upsert: boolean; returnNew: boolean },
  projection: ((doc: Document) => Document) | undefined,
): Document {
  const incompatible = (code: number): MongoError =>
    new MongoError(code, `findAndModify retry request is not compatible with previous write in the transaction of type: ${done.op}`);
  if (done.op === 'd') {
    if (!request.remove) throw incompatible(40606);
    return { lastErrorObject: { n: new Int32(1) }, value: projected(done.preImage, projection) };
  }
  if (request.remove) throw incompatible(done.op === 'i' ? 40608 : 40609);
  if (done.op === 'i') {
    if (!request.upsert) throw incompatible(40608);
    return { lastErrorObject: { n: new Int32(1), updatedExisting: false, upserted: done.upsertedId }, value: request.returnNew ? projected(done.postImage, projection) : null };
  }
  return { lastErrorObject: { n: new Int32(1), updatedExisting: true }, value: projected(request.returnNew ? done.postImage : done.preImage, projection) };
}

// Explain (explain.cpp): the query each command would run, and its own stage above it. On a
// view, reads explain the aggregate they run as; writes are refused (166).

/** An explained write names a collection, never a view. */
function explainedWriteTarget(ctx: ExplainContext): string {
  const collection = collectionArgument(ctx);
  if (isView(ctx, collection)) throw viewIsNotACollection(ctx.db, collection);
  return collection;
}

export function explainFind(ctx: ReadContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  if (isView(ctx, collection)) {
    const shape = findShape(ctx);
    runFind(shape, []);
    const body = findAsAggregate(ctx, collection, shape);
    return inViewPipeline(() => explainAggregate(withBody(ctx, body), verbosity));
  }
  return queryReply(ctx, ctx, verbosity, explainQuery(ctx, collection, findShape(ctx), undefined, ctx.body.hint));
}

export function explainCount(ctx: ReadContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  const filter = optionalObject(ctx, 'query', true) ?? {};
  const skip = numberValue(ctx.body.skip) ?? 0;
  const limit = Math.abs(numberValue(ctx.body.limit) ?? 0);
  if (isView(ctx, collection)) return explainAggregate(withBody(ctx, countAsAggregate(ctx, collection, filter, skip, limit)), verbosity);
  const explained = explainQuery(ctx, collection, { filter }, (stages, results) => {
    const counted = Math.max(0, results.length - skip);
    const stats = { nCounted: new Int32(limit > 0 ? Math.min(counted, limit) : counted), nSkipped: new Int32(Math.min(skip, results.length)) };
    if (Object.keys(filter).length === 0 && stages.winningPlan.stage !== 'EOF') {
      // An unfiltered count reads the collection's record count (RECORD_STORE_FAST_COUNT).
      return { winningPlan: { stage: 'RECORD_STORE_FAST_COUNT' }, executionStages: { stage: 'RECORD_STORE_FAST_COUNT', ...stats }, nReturned: 0 };
    }
    return wrapStages(stages, 'COUNT', stats, 0);
  }, ctx.body.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

export function explainDistinct(ctx: ReadContext, verbosity: Verbosity): Document {
  const collection = collectionArgument(ctx);
  const filter = optionalObject(ctx, 'query', true) ?? {};
  if (isView(ctx, collection) && typeof ctx.body.key === 'string') {
    return explainAggregate(withBody(ctx, distinctAsAggregate(ctx, collection, ctx.body.key, filter)), verbosity);
  }
  return queryReply(ctx, ctx, verbosity, explainQuery(ctx, collection, { filter }, undefined, ctx.body.hint));
}


export function explainDelete(ctx: ExplainContext, verbosity: Verbosity): Document {
  const collection = explainedWriteTarget(ctx);
  const statement = singleStatement(ctx, 'deletes');
  const filter = isPlainObject(statement.q) ? statement.q : {};
  const limit = numberValue(statement.limit) === 1 ? 1 : 0;
  const wrap: StageWrapper = (stages, results) => wrapStages(stages, 'DELETE', { nWouldDelete: new Int32(results.length) }, 0);
  const explained = explainQuery(ctx, collection, { filter, limit }, wrap, statement.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

/** UPDATE's counters: what the statement would match, change and insert, computed without writing. */
function updateStats(results: Document[], query: Document, u: unknown, arrayFilters: unknown, upsert: boolean): Document {
  const filters = Array.isArray(arrayFilters) ? (arrayFilters as Document[]) : undefined;
  let update: Updater;
  try {
    update = makeUpdater(u as Document | Document[], filters, compileQuery(query));
  } catch {
    return { nMatched: new Int32(results.length), nWouldModify: new Int32(0), nWouldUpsert: new Int32(upsert && results.length === 0 ? 1 : 0) };
  }
  const wouldModify = results.filter((doc) => {
    try {
      return update(doc).modified;
    } catch {
      return false;
    }
  }).length;
  return { nMatched: new Int32(results.length), nWouldModify: new Int32(wouldModify), nWouldUpsert: new Int32(upsert && results.length === 0 ? 1 : 0) };
}

export function explainUpdate(ctx: ExplainContext, verbosity: Verbosity): Document {
  const collection = explainedWriteTarget(ctx);
  const statement = singleStatement(ctx, 'updates');
  const filter = isPlainObject(statement.q) ? statement.q : {};
  const wrap: StageWrapper = (stages, results) =>
    wrapStages(stages, 'UPDATE', updateStats(results, filter, statement.u, statement.arrayFilters, trueValue(statement.upsert)), 0);
  const explained = explainQuery(ctx, collection, { filter, limit: trueValue(statement.multi) ? 0 : 1 }, wrap, statement.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

export function explainFindAndModify(ctx: ExplainContext, verbosity: Verbosity): Document {
  const collection = explainedWriteTarget(ctx);
  const idl = { body: ctx.body, name: 'findAndModify' };
  const filter = optionalObject(idl, 'query', true) ?? {};
  const sort = optionalObject(idl, 'sort', true);
  const remove = trueValue(ctx.body.remove);
  const wrap: StageWrapper = (stages, results) =>
    remove
      ? wrapStages(stages, 'DELETE', { nWouldDelete: new Int32(results.length) }, 0)
      : wrapStages(stages, 'UPDATE', updateStats(results, filter, ctx.body.update, ctx.body.arrayFilters, trueValue(ctx.body.upsert)), 0);
  const explained = explainQuery(ctx, collection, { filter, sort, limit: 1 }, wrap, ctx.body.hint);
  return queryReply(ctx, ctx, verbosity, explained);
}

/** Reads and writes: find, insert, update, delete, findAndModify, count, distinct. */
export const crudCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'find', run: find, explain: explainFind, privileges: onCollection('find'), apiVersion1: true, allowedInTransaction: true, opcounter: 'query', help: 'query for documents' }),
  defineCommand({ name: 'insert', run: insert, apiVersion1: true, retryableWrite: true, allowedInTransaction: true, supportsWriteConcern: true, opcounter: 'self', privileges: withBypass(onCollection('insert')), help: 'insert documents' }),
  defineCommand({ name: 'delete', run: deleteCommand, explain: explainDelete, apiVersion1: true, retryableWrite: true, allowedInTransaction: true, supportsWriteConcern: true, opcounter: 'self', privileges: onCollection('remove'), help: 'delete documents' }),
  defineCommand({ name: 'update', run: update, explain: explainUpdate, apiVersion1: true, retryableWrite: true, allowedInTransaction: true, supportsWriteConcern: true, opcounter: 'self', privileges: withBypass(onCollection('update')), help: 'update documents' }),
  defineCommand({
    name: 'findAndModify',
    explain: explainFindAndModify,
    aliases: ['findandmodify'],
    run: findAndModify,
    apiVersion1: true,
    retryableWrite: true,
    allowedInTransaction: true,
    supportsWriteConcern: true,
    opcounter: 'self',
    privileges: withBypass((ctx) => {
      const c = ctx.body[ctx.name];
      if (typeof c !== 'string') return [];
      const ns = Resource.namespace(ctx.db, c);
      return [{ resource: ns, actions: ctx.body.remove ? ['find', 'remove'] : ['find', 'update', ...(ctx.body.upsert ? (['insert'] as const) : [])] }];
    }),
    help: '{ findAndModify: "collection", query: {processed:false}, update: {$set: {processed:true}}, new: true}',
  }),
  defineCommand({ name: 'count', run: count, explain: explainCount, apiVersion1: true, opcounter: 'command', privileges: onCollection('find'), help: 'count objects in collection' }),
  defineCommand({ name: 'distinct', run: distinct, explain: explainDistinct, allowedInTransaction: true, privileges: onCollection('find'), help: '{ distinct : \'collection name\' , key : \'a.b\' , query : {} }' }),
];
