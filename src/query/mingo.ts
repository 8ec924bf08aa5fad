import { Double, Int32, type Document } from 'bson';
import { Aggregator, Query } from 'mingo';
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
