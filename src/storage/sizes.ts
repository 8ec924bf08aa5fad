import { BSON, type Document } from 'bson';
import { compileFilter } from '../query/match/compile.js';
import { valueAt, type IndexSpec } from './catalog.js';

// Sizes as mongod's statistics report them (dbStats, collStats, $collStats, listDatabases).

/** The data size of documents: the sum of their BSON sizes (mongod's dataSize). */
export function dataSize(documents: Iterable<Document>): number {
  let bytes = 0;
  for (const doc of documents) bytes += BSON.calculateObjectSize(doc);
  return bytes;
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
  const partial = index.partialFilterExpression === undefined ? undefined : compileFilter(index.partialFilterExpression);
  let bytes = 0;
  for (const doc of documents) {
    const values = fields.map((field) => valueAt(doc, field));
    if (index.sparse && values.every((v) => v === undefined)) continue;
    if (partial !== undefined && !partial.matches(doc)) continue;
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
