import { ObjectId, UUID, type Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { canonicalKey } from '../bson/bsonOrder.js';
import { compileFilter } from '../query/match/compile.js';
import { runPipeline } from '../query/aggregation/run.js';
import { Collection, withIdFirst, type Catalog } from '../storage/catalog.js';
import type { NamespaceReader } from '../storage/namespaceReader.js';
import { validateWrite, type WriteValidation } from '../storage/validation.js';
import { ViewCatalog, viewIsNotACollection } from '../storage/viewCatalog.js';
import { isPlainObject } from '../bson/args.js';
import { stageName } from './pipelineShape.js';
import { parseMerge, parseOut, type MergeSpec, type Namespace } from './writeStageSpecs.js';

// Writing: $out and $merge are run by pocketmongo on the pipeline's output, not by mingo.

/** What the write stages write to: the catalog, and the namespaces $merge matches against. */
export interface WriteTarget {
  readonly catalog: Catalog;
  readonly namespaces: NamespaceReader;
}

/**
 * $out: the output replaces the target's documents at once, keeping its indexes. As mongod, the
 * documents go first into a temporary collection built with the target's indexes (DuplicateKey
 * there fails the whole $out, naming the temporary namespace, and leaves the target as it was),
 * which then takes the target's place. The target is created even when the output is empty. The
 * temporary collection has the target's validator too, so the documents pass it first.
 */
function writeOut(store: WriteTarget, target: Namespace, docs: readonly Document[], validation: WriteValidation): void {
  const existing = store.catalog.get(target.db, target.coll);
  const temp = new Collection(target.db, `tmp.agg_out.${new UUID().toHexString(true)}`);
  for (const index of existing?.indexes ?? []) if (index.name !== '_id_') temp.addIndex(index);
  temp.validation = existing?.validation ?? {};
  for (const doc of docs) {
    const stored = withIdFirst(doc);
    validateWrite(temp, stored, validation);
    temp.add(stored);
  }
  const collection = store.catalog.ensure(target.db, target.coll);
  for (const doc of [...collection.documents()]) collection.remove(doc);
  for (const doc of temp.documents()) collection.add(doc);
}

/** The `on` values of a document as a filter; mongod refuses missing, null and array values. */
function onFilter(doc: Document, on: readonly string[]): Document {
  const filter: Document = {};
  for (const field of on) {
    let value: unknown = doc;
    for (const part of field.split('.')) value = isPlainObject(value) ? value[part] : undefined;
    if (value === undefined || value === null || Array.isArray(value)) {
      throw new MongoError(LocationCodes.MergeOnValueInvalid, "$merge write error: 'on' field cannot be missing, null, undefined or an array");
    }
    filter[field] = value;
  }
  return filter;
}

/**
 * ensureFieldsUniqueOrResolveDocumentKey: `on` other than `_id` needs a unique index on exactly
 * those fields (not partial), so that at most one document matches.
 */
function checkOnIndex(store: WriteTarget, spec: MergeSpec): void {
  if (spec.on.length === 1 && spec.on[0] === '_id') return;
  const wanted = [...spec.on].sort().join('\0');
  const indexes = store.catalog.get(spec.target.db, spec.target.coll)?.indexes ?? [];
  const supported = indexes.some(
    (index) => index.unique && index.partialFilterExpression === undefined && Object.keys(index.key).sort().join('\0') === wanted,
  );
  if (!supported) throw new MongoError(LocationCodes.MergeOnNoUniqueIndex, 'Cannot find index to verify that join fields will be unique');
}

function sameId(a: unknown, b: unknown): boolean {
  return canonicalKey(a) === canonicalKey(b);
}

/** The version of a matched document that $merge writes, per its whenMatched mode. */
function mergedDocument(spec: MergeSpec, existing: Document, incoming: Document): Document | undefined {
  const { whenMatched } = spec;
  if (whenMatched === 'keepExisting') return undefined;
  if (whenMatched === 'replace') {
    // A replacement (update with a whole document): the _id may not change.
    if (incoming._id !== undefined && !sameId(incoming._id, existing._id)) {
      throw new MongoError(ErrorCodes.ImmutableField, `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${bsonText(incoming._id)}`);
    }
    return withIdFirst({ ...incoming, _id: existing._id });
  }
  if (whenMatched === 'merge') {
    // {$set: incoming}: top-level fields replaced or appended.
    if (incoming._id !== undefined && !sameId(incoming._id, existing._id)) {
      throw new MongoError(ErrorCodes.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    return { ...existing, ...incoming, _id: existing._id };
  }
  return pipelineMerged(spec, whenMatched as readonly Document[], existing, incoming);
}

/** whenMatched: [pipeline]: an update pipeline on the target document, `$$new` being the incoming one. */
function pipelineMerged(spec: MergeSpec, pipeline: readonly Document[], existing: Document, incoming: Document): Document {
  const letSpec = spec.let ?? { new: '$$ROOT' };
  // The let expressions are evaluated against the incoming document (resolveLetVariablesIfNeeded).
  const variables = runPipeline([{ $replaceWith: letSpec }], [incoming])[0] ?? {};
  variables.new = incoming;
  const next = runPipeline(pipeline, [existing], { variables })[0] ?? {};
  if (next._id !== undefined && !sameId(next._id, existing._id)) {
    throw new MongoError(ErrorCodes.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return withIdFirst({ ...next, _id: existing._id });
}

/** mongod adds context to a DuplicateKey from $merge (DocumentSourceMerge::flush). */
function mergeDuplicateKey(err: MongoError, spec: MergeSpec): MongoError {
  const keyPattern = err.extra.keyPattern as Document | undefined;
  const fromOn = keyPattern !== undefined && spec.on.every((field) => field in keyPattern);
  const context =
    spec.whenMatched === 'fail' && fromOn
      ? "$merge with whenMatched: fail found an existing document with the same values for the 'on' fields"
      : '$merge failed due to a DuplicateKey error';
  return new MongoError(err.code, `${context} :: caused by :: ${err.message}`, { ...err.extra });
}

/** An insert into $merge's target (validated as inserts are). */
function mergeInsert(store: WriteTarget, spec: MergeSpec, doc: Document, validation: WriteValidation): void {
  const collection = store.catalog.ensure(spec.target.db, spec.target.coll);
  const stored = withIdFirst(doc);
  validateWrite(collection, stored, validation);
  collection.add(stored);
}

/** $merge of one output document into the target. */
function mergeOne(store: WriteTarget, spec: MergeSpec, doc: Document, validation: WriteValidation): void {
  const { db, coll } = spec.target;
  // makeBatchObject: an `_id` is generated when `on` includes it and the document has none.
  const incoming = doc._id === undefined && spec.on.includes('_id') ? { ...doc, _id: new ObjectId() } : doc;
  if (spec.whenMatched === 'fail') {
    // fail + insert is a plain insert: a matching document is a DuplicateKey.
    mergeInsert(store, spec, incoming, validation);
    return;
  }
  const filter = onFilter(incoming, spec.on);
  const matcher = compileFilter(filter);
  const collection = store.catalog.get(db, coll);
  let existing: Document | undefined;
  for (const candidate of collection === undefined ? [] : store.namespaces.candidates(db, coll, filter) ?? []) {
    if (matcher.matches(candidate)) {
      existing = candidate;
      break;
    }
  }
  if (existing === undefined) {
    if (spec.whenNotMatched === 'insert') mergeInsert(store, spec, incoming, validation);
    else if (spec.whenNotMatched === 'fail') {
      throw new MongoError(
        ErrorCodes.MergeStageNoMatchingDocument,
        '$merge could not find a matching document in the target collection for at least one document in the source collection',
      );
    }
    return;
  }
  const next = mergedDocument(spec, existing, incoming);
  if (next === undefined) return;
  validateWrite(collection!, next, validation, existing);
  collection!.replace(existing, next);
}

/** $merge: document by document, as mongod's batches apply them (earlier writes stay on an error). */
function writeMerge(store: WriteTarget, spec: MergeSpec, docs: readonly Document[], validation: WriteValidation): void {
  for (const doc of docs) {
    try {
      mergeOne(store, spec, doc, validation);
    } catch (err) {
      throw err instanceof MongoError && err.code === ErrorCodes.DuplicateKey ? mergeDuplicateKey(err, spec) : err;
    }
  }
}

/** A view is no target: the write fails when the pipeline's output reaches it, with the executor's context. */
function viewTargetRefusal(store: WriteTarget, target: Namespace): MongoError | undefined {
  if (new ViewCatalog(store.catalog).lookup(target.db, target.coll) === undefined) return undefined;
  return new MongoError(ErrorCodes.CommandNotSupportedOnView, `PlanExecutor error during aggregation :: caused by :: ${viewIsNotACollection(target.db, target.coll).message}`);
}

/** The write a pipeline's last stage asks for, if it is $out or $merge; what it stores passes the target's validator. */
export function writerOf(
  store: WriteTarget,
  db: string,
  last: Document | undefined,
  validation: WriteValidation,
): ((docs: readonly Document[]) => void) | undefined {
  const name = stageName(last);
  if (name === '$out') {
    const target = parseOut(db, last![name]);
    const refusal = viewTargetRefusal(store, target);
    return (docs) => {
      if (refusal !== undefined) throw refusal;
      writeOut(store, target, docs, validation);
    };
  }
  if (name === '$merge') {
    const spec = parseMerge(db, last![name]);
    const refusal = viewTargetRefusal(store, spec.target);
    if (refusal !== undefined) {
      return () => {
        throw refusal;
      };
    }
    checkOnIndex(store, spec);
    return (docs) => writeMerge(store, spec, docs, validation);
  }
  return undefined;
}
