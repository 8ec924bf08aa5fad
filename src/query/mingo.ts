import { Double, Int32, type Document } from 'bson';
import { Aggregator, Query, update as mingoUpdate } from 'mingo';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';

/**
 * The values mingo evaluates: BSON's Int32/Double wrappers become plain numbers (mingo compares
 * JS numbers; see mingo-bson-notes.md). Other BSON values (ObjectId, UUID, Date, Long ...) pass
 * through, since mingo handles their equality and ordering itself.
 */
export function toQueryValue(value: unknown): unknown {
  if (value instanceof Int32 || value instanceof Double) return value.value;
  if (Array.isArray(value)) return value.map(toQueryValue);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toQueryValue(v);
    return out;
  }
  return value;
}

/** Maps mingo's errors onto mongod's codes. */
function translate(err: unknown): MongoError {
  if (err instanceof MongoError) return err;
  const message = (err as Error)?.message ?? String(err);
  const stage = /unregistered pipeline operator (\$\w+)/.exec(message);
  if (stage) return new MongoError(LocationCodes.UnrecognizedStage, `Unrecognized pipeline stage name: '${stage[1]}'`);
  if (/would modify the immutable field/.test(message)) {
    return new MongoError(ErrorCodes.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  const operator = /unregistered (?:query|expression|projection|accumulator) operator (\$\w+)/i.exec(message);
  if (operator) return new MongoError(ErrorCodes.BadValue, `unknown operator: ${operator[1]}`);
  return new MongoError(ErrorCodes.BadValue, message);
}

export function runPipeline(stages: readonly Document[], docs: Iterable<Document>): Document[] {
  if (stages.length === 0) return [...docs];
  try {
    const views = [...docs].map((d) => toQueryValue(d) as Document);
    return new Aggregator(stages.map((s) => toQueryValue(s) as Document), {}).run(views) as Document[];
  } catch (err) {
    throw translate(err);
  }
}

export interface FindSpec {
  filter?: Document;
  projection?: Document;
  sort?: Document;
  skip?: number;
  limit?: number;
}

/**
 * find over documents: mingo evaluates a numeric view of each document (toQueryValue); without a
 * projection the stored documents themselves come back, so every value keeps its BSON type.
 */
export function runFind(spec: FindSpec, docs: Iterable<Document>): Document[] {
  try {
    const originals = new Map<Document, Document>();
    const views: Document[] = [];
    for (const doc of docs) {
      const view = toQueryValue(doc) as Document;
      originals.set(view, doc);
      views.push(view);
    }
    let cursor = new Query(toQueryValue(spec.filter ?? {}) as Document).find<Document>(
      views,
      spec.projection === undefined ? undefined : (toQueryValue(spec.projection) as Document),
    );
    if (spec.sort !== undefined && Object.keys(spec.sort).length > 0) cursor = cursor.sort(toQueryValue(spec.sort) as Record<string, 1 | -1>);
    if (spec.skip !== undefined && spec.skip > 0) cursor = cursor.skip(spec.skip);
    if (spec.limit !== undefined && spec.limit > 0) cursor = cursor.limit(spec.limit);
    return cursor.all().map((view) => originals.get(view) ?? view);
  } catch (err) {
    throw translate(err);
  }
}

/** Whether a document matches a filter (mongod's query language, on the numeric view). */
export function matches(filter: Document, doc: Document): boolean {
  try {
    return new Query(toQueryValue(filter) as Document).test(toQueryValue(doc) as Document);
  } catch (err) {
    throw translate(err);
  }
}

/**
 * Applies an update (operators or a pipeline) to a copy of `doc`. Fields the update did not
 * touch keep their stored BSON values; touched ones come from mingo's numeric view.
 */
export function applyUpdate(doc: Document, update: Document | readonly Document[], arrayFilters?: readonly Document[]): Document {
  try {
    const view = toQueryValue(doc) as Document;
    let result: Document;
    let touched: Set<string>;
    if (Array.isArray(update)) {
      result = (new Aggregator((update as Document[]).map((s) => toQueryValue(s) as Document), {}).run([view]) as Document[])[0] ?? {};
      touched = new Set(Object.keys(result).filter((k) => !(k in doc) || result[k] !== view[k]));
      for (const k of Object.keys(doc)) if (!(k in result)) touched.add(k);
    } else {
      const paths = mingoUpdate(view, toQueryValue(update) as Document, arrayFilters?.map((f) => toQueryValue(f) as Document), undefined, {
        cloneMode: 'deep',
      });
      result = view;
      touched = new Set(paths.map((p) => p.split('.')[0]!));
    }
    const out: Document = {};
    for (const [k, v] of Object.entries(result)) out[k] = touched.has(k) ? v : doc[k];
    return out;
  } catch (err) {
    throw translate(err);
  }
}
