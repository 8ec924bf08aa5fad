import { hostname } from 'node:os';
import { BSON, Int32, Long, type Document } from 'bson';
import { bsonText } from '../bsonText.js';
import { dataSize } from '../commands/catalog.js';
import { isPlainObject, numberValue, trueValue, typeName } from '../commands/args.js';
import type { CommandContext } from '../commands/types.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { notAtLeast, unknownField, wrongType } from '../idlErrors.js';
import { matches } from '../query/mingo.js';
import { collectionDocuments, ID_INDEX, type IndexSpec } from '../storage/catalog.js';

// $collStats (document_source_coll_stats.cpp, storage_stats.cpp): one document about the
// aggregated collection, with the sections the spec asks for.

/** DocumentSourceCollStatsSpec, as parsed. */
export interface CollStatsSpec {
  readonly latencyStats?: { readonly histograms: boolean };
  readonly storageStats?: { readonly scale: number };
  readonly count: boolean;
  readonly queryExecStats: boolean;
}

/** StorageStatsSpec (strict: false, so other fields are ignored): `scale` a safeInt, at least 1. */
function parseStorageStats(spec: unknown): { scale: number } {
  if (!isPlainObject(spec)) throw wrongType('$collStats.storageStats', spec, 'object');
  if (spec.scale === undefined) return { scale: 1 };
  const n = numberValue(spec.scale);
  if (n === undefined) {
    // mongod's text for a safeInt field, its misplaced quote included.
    throw new MongoError(
      ErrorCodes.TypeMismatch,
      `BSON field '$collStats.storageStats.scale' is the wrong type '${typeName(spec.scale)}', expected types '[long, int, decimal, double']`,
    );
  }
  // A fractional scale is truncated (42.42 -> 42) before the `gte: 1` validator sees it.
  const scale = Math.trunc(n);
  if (scale < 1) throw notAtLeast('scale', 1, scale);
  return { scale };
}

/** `count` and `queryExecStats` are IDL objects (7.0 takes any object; nothing in it is read). */
function parseEmptyObject(field: string, spec: unknown): true {
  if (!isPlainObject(spec)) throw wrongType(`$collStats.${field}`, spec, 'object');
  return true;
}

/**
 * A $collStats spec (LiteParsed::parse, then the IDL parser, then assertPermittedInAPIVersion).
 * `command` is the aggregate command, for its apiVersion and apiStrict. The boolean options
 * (histograms, verbose, waitForLock, numericOnly) are read as truthy values.
 */
export function parseCollStats(spec: unknown, command: Document): CollStatsSpec {
  if (!isPlainObject(spec)) {
    throw new MongoError(LocationCodes.CollStatsSpecNotObject, `$collStats must take a nested object but found: $collStats: ${bsonText(spec)}`);
  }
  let latencyStats: CollStatsSpec['latencyStats'];
  let storageStats: CollStatsSpec['storageStats'];
  let count = false;
  let queryExecStats = false;
  for (const [field, value] of Object.entries(spec)) {
    if (field === 'latencyStats') {
      if (!isPlainObject(value)) throw wrongType('$collStats.latencyStats', value, 'object');
      for (const name of Object.keys(value)) if (name !== 'histograms') throw unknownField(`$collStats.latencyStats.${name}`);
      latencyStats = { histograms: trueValue(value.histograms) };
    } else if (field === 'storageStats') storageStats = parseStorageStats(value);
    else if (field === 'count') count = parseEmptyObject(field, value);
    else if (field === 'queryExecStats') queryExecStats = parseEmptyObject(field, value);
    else if (field !== '$_requestOnTimeseriesView') throw unknownField(`$collStats.${field}`);
  }
  const strictV1 = command.apiVersion === '1' && command.apiStrict === true;
  if (strictV1 && (latencyStats !== undefined || storageStats !== undefined || queryExecStats)) {
    throw new MongoError(ErrorCodes.APIStrictError, "only the 'count' option to $collStats is supported in API Version 1");
  }
  return { latencyStats, storageStats, count, queryExecStats };
}

/** appendNumber: an int32 when the value fits, else an int64. */
function appendNumber(n: number): Int32 | Long {
  return n <= 0x7fffffff && n >= -0x80000000 ? new Int32(n) : Long.fromNumber(n);
}

/**
 * latencyStats (Top::appendLatencyStats): reads, writes, commands and transactions, each with its
 * histogram (when asked; buckets without operations are left out), total latency in micros and
 * operation count. pocketmongo does not time operations per collection, so every count is an
 * honest 0 and every histogram empty.
 */
function latencyStats(histograms: boolean): Document {
  const section = (): Document => ({
    ...(histograms ? { histogram: [] } : {}),
    latency: Long.fromNumber(0),
    ops: Long.fromNumber(0),
    queryableEncryptionLatencyMicros: Long.fromNumber(0),
  });
  return { reads: section(), writes: section(), commands: section(), transactions: section() };
}

/** The value at a dotted path (undefined when missing). */
function valueAt(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) value = isPlainObject(value) ? value[part] : undefined;
  return value;
}

/** Each index entry is counted as its key's BSON size plus a RecordId (an int64). */
const RECORD_ID_BYTES = 8;

/**
 * An estimate of an index's size: its entries' keys. pocketmongo keeps indexes as in-memory maps
 * and trees, whose real footprint JavaScript does not expose; what an index holds is one entry per
 * document it covers (sparse and partial indexes skip some; an array value makes one entry per
 * element), each a key and a record id, and that is what is counted.
 */
export function estimatedIndexSize(index: IndexSpec, documents: Iterable<Document>): number {
  const fields = Object.keys(index.key);
  let bytes = 0;
  for (const doc of documents) {
    const values = fields.map((field) => valueAt(doc, field));
    if (index.sparse && values.every((v) => v === undefined)) continue;
    if (index.partialFilterExpression !== undefined && !matches(index.partialFilterExpression, doc)) continue;
    let keys: Document[] = [{}];
    fields.forEach((field, i) => {
      const value = values[i];
      const elements = Array.isArray(value) && value.length > 0 ? value : [value ?? null];
      keys = keys.flatMap((key) => elements.map((element: unknown) => ({ ...key, [field]: element })));
    });
    for (const key of keys) bytes += BSON.calculateObjectSize(key) + RECORD_ID_BYTES;
  }
  return bytes;
}

/**
 * storageStats (appendCollectionStorageStats), fields in mongod's order and sizes divided by the
 * scale. Storage is in memory: the data takes its documents' BSON size (no compression, no free
 * pages, so freeStorageSize is 0), the indexes their estimated size (estimatedIndexSize). There is
 * no WiredTiger, so no wiredTiger or indexDetails sections.
 */
function storageStats(documents: readonly Document[], indexes: readonly IndexSpec[], scale: number): Document {
  const size = dataSize(documents);
  const count = documents.length;
  const storageSize = size;
  const indexSizes: Document = {};
  let totalIndexSize = 0;
  for (const index of indexes) {
    const bytes = estimatedIndexSize(index, documents);
    indexSizes[index.name] = appendNumber(Math.floor(bytes / scale));
    totalIndexSize += bytes;
  }
  return {
    size: appendNumber(Math.floor(size / scale)),
    count: appendNumber(count),
    ...(count > 0 ? { avgObjSize: new Int32(Math.floor(size / count)) } : {}),
    numOrphanDocs: appendNumber(0),
    storageSize: appendNumber(Math.floor(storageSize / scale)),
    freeStorageSize: appendNumber(0),
    capped: false,
    nindexes: new Int32(indexes.length),
    indexBuilds: [],
    totalIndexSize: appendNumber(Math.floor(totalIndexSize / scale)),
    indexSizes,
    totalSize: appendNumber(Math.floor((storageSize + totalIndexSize) / scale)),
    scaleFactor: new Int32(scale),
  };
}

/**
 * queryExecStats (appendQueryExecStats): the collection's collection scans. pocketmongo counts
 * collection scans server-wide only (serverStatus metrics.queryExecutor), not per collection, so
 * both counts are 0 here rather than another collection's scans.
 */
function queryExecStats(): Document {
  return { collectionScans: { total: Long.fromNumber(0), nonTailable: Long.fromNumber(0) } };
}

/** A section that needs the collection, asked of a collection that does not exist. */
function notFound(section: string, ns: string): MongoError {
  return new MongoError(
    ErrorCodes.NamespaceNotFound,
    `PlanExecutor error during aggregation :: caused by :: Unable to retrieve ${section} in $collStats stage :: caused by :: Collection [${ns}] not found.`,
  );
}

/**
 * The $collStats document for `db.collection` (makeStatsForNs): ns, host and localTime, then each
 * section asked for, in mongod's order. A missing collection still answers ns, host, localTime and
 * latencyStats; storageStats, count and queryExecStats fail with NamespaceNotFound.
 */
export function collStatsDocument(ctx: CommandContext, collection: string, spec: CollStatsSpec): Document {
  const ns = `${ctx.db}.${collection}`;
  // getHostNameCachedAndPort: the port is always there.
  const doc: Document = { ns, host: `${hostname()}:${ctx.server.listen.port}`, localTime: new Date(ctx.server.clock.now()) };
  if (spec.latencyStats !== undefined) doc.latencyStats = latencyStats(spec.latencyStats.histograms);
  const stored = collectionDocuments(ctx.server, ctx.db, collection);
  const documents = stored === undefined ? undefined : [...stored];
  if (spec.storageStats !== undefined) {
    if (documents === undefined) throw notFound('storageStats', ns);
    // config.system.sessions is served by the session registry, with mongod's _id index.
    const indexes = ctx.server.catalog.get(ctx.db, collection)?.indexes ?? [ID_INDEX];
    doc.storageStats = storageStats(documents, indexes, spec.storageStats.scale);
  }
  if (spec.count) {
    if (documents === undefined) throw notFound('count', ns);
    doc.count = appendNumber(documents.length);
  }
  if (spec.queryExecStats) {
    if (documents === undefined) throw notFound('queryExecStats', ns);
    doc.queryExecStats = queryExecStats();
  }
  return doc;
}
