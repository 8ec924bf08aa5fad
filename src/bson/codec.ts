import { BSON, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';

/**
 * How every command document (and every document stored with --dbpath) is decoded: values keep
 * their BSON types (Int32, Double, Long, BSONRegExp ...) so replies and stored documents
 * round-trip as mongod's do.
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
