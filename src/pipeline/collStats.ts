import { hostname } from 'node:os';
import { Int32, Long, type Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { isPlainObject, numberValue, trueValue } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { notAtLeast, unknownField, wrongType } from '../bson/idlErrors.js';
import { ID_INDEX, type Catalog, type IndexSpec } from '../storage/catalog.js';
import type { NamespaceReader } from '../storage/namespaceReader.js';
import { dataSize, estimatedIndexSize } from '../storage/sizes.js';
import { cappedStorageStats, type CappedOptions } from '../storage/capped.js';

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

/**
 * storageStats (appendCollectionStorageStats), fields in mongod's order and sizes divided by the
 * scale. Storage is in memory: the data takes its documents' BSON size (no compression, no free
 * pages, so freeStorageSize is 0), the indexes their estimated size (estimatedIndexSize). There is
 * no WiredTiger, so no wiredTiger or indexDetails sections.
 */
function storageStats(documents: readonly Document[], indexes: readonly IndexSpec[], capped: CappedOptions | undefined, scale: number): Document {
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
    ...cappedStorageStats(capped, scale),
    nindexes: new Int32(indexes.length),
    indexBuilds: [],
    totalIndexSize: appendNumber(Math.floor(totalIndexSize / scale)),
    indexSizes,
    totalSize: appendNumber(Math.floor((storageSize + totalIndexSize) / scale)),
    scaleFactor: new Int32(scale),
  };
}

/** queryExecStats (appendQueryExecStats): the collection scans run on the collection, and those not tailable. */
function queryExecStats(scans: number, tailable: number): Document {
  return { collectionScans: { total: Long.fromNumber(scans), nonTailable: Long.fromNumber(scans - tailable) } };
}

/** A section that needs the collection, asked of a collection that does not exist. */
function notFound(section: string, ns: string): MongoError {
  return new MongoError(
    ErrorCodes.NamespaceNotFound,
    `PlanExecutor error during aggregation :: caused by :: Unable to retrieve ${section} in $collStats stage :: caused by :: Collection [${ns}] not found.`,
  );
}

/** What $collStats reads: the namespaces, the catalog's indexes and scan counts, the port and the time. */
export interface CollStatsSource {
  readonly namespaces: NamespaceReader;
  readonly catalog: Catalog;
  readonly port: number;
  readonly now: number;
}

/**
 * The $collStats document for `db.collection` (makeStatsForNs): ns, host and localTime, then each
 * section asked for, in mongod's order. A missing collection still answers ns, host, localTime and
 * latencyStats; storageStats, count and queryExecStats fail with NamespaceNotFound.
 */
export function collStatsDocument(source: CollStatsSource, db: string, collection: string, spec: CollStatsSpec): Document {
  const ns = `${db}.${collection}`;
  // getHostNameCachedAndPort: the port is always there.
  const doc: Document = { ns, host: `${hostname()}:${source.port}`, localTime: new Date(source.now) };
  if (spec.latencyStats !== undefined) doc.latencyStats = latencyStats(spec.latencyStats.histograms);
  const stored = source.namespaces.documents(db, collection);
  const documents = stored === undefined ? undefined : [...stored];
  if (spec.storageStats !== undefined) {
    if (documents === undefined) throw notFound('storageStats', ns);
    // config.system.sessions is served by the session registry, with mongod's _id index.
    const indexes = source.catalog.get(db, collection)?.indexes ?? [ID_INDEX];
    doc.storageStats = storageStats(documents, indexes, source.catalog.get(db, collection)?.capped?.options, spec.storageStats.scale);
  }
  if (spec.count) {
    if (documents === undefined) throw notFound('count', ns);
    doc.count = appendNumber(documents.length);
  }
  if (spec.queryExecStats) {
    if (documents === undefined) throw notFound('queryExecStats', ns);
    const stored = source.catalog.get(db, collection);
    doc.queryExecStats = queryExecStats(stored?.collectionScans ?? 0, stored?.tailableScans ?? 0);
  }
  return doc;
}
