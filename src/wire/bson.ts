import { BSON, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';

/**
 * How every command document is decoded: values keep their BSON types (Int32, Double, Long,
 * BSONRegExp ...) so replies and stored documents round-trip as mongod's do.
 */
const DECODE_OPTIONS = { promoteValues: false, bsonRegExp: true } as const;

/** Decodes exactly one BSON document occupying the whole of `bytes`. */
export function decodeDocument(bytes: Uint8Array): Document {
  try {
    return BSON.deserialize(bytes, DECODE_OPTIONS);
  } catch (err) {
    throw new MongoError(ErrorCodes.InvalidBSON, `invalid bson: ${(err as Error).message}`);
  }
}

export function encodeDocument(doc: Document): Buffer {
  const bytes = BSON.serialize(doc);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Name of a document's first field, read from the bytes (a JS object may reorder integer-like keys). */
export function firstFieldName(bytes: Uint8Array): string | undefined {
  if (bytes.length < 6 || bytes[4] === 0) return undefined;
  const end = bytes.indexOf(0, 5);
  if (end < 0) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset + 5, end - 5).toString('utf8');
}
