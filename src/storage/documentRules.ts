import { BSON, BSONRegExp, type Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';

/** BSONObjMaxUserSize: the largest document a user may store. */
const MAX_USER_DOCUMENT_SIZE = 16 * 1024 * 1024;

/**
 * The deepest nesting below the top level a stored document may have (maxBSONDepth 200 less
 * kExtraSystemDepthLevels 20); the top-level document itself is not a level of nesting.
 */
const MAX_STORED_DEPTH = 180;

/**
 * Nesting depth, counting only non-empty objects and arrays (bson_depth: an empty sub-document
 * adds no level), stopping early once past `limit`.
 */
function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  const isContainer = Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
  if (!isContainer) return 0;
  const children = Array.isArray(value) ? value : Object.values(value as Document);
  if (children.length === 0) return 0;
  let deepest = 0;
  for (const child of children) {
    deepest = Math.max(deepest, depthOf(child, limit - 1));
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

function isPlainDocument(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * The first `$`-prefixed field name below `value` that is not part of a DBRef ($ref first, then
 * $id, then an optional $db), as storage_validation.cpp storageValidEmbedded finds them.
 */
function invalidDollarField(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const element of value) {
      const found = invalidDollarField(element);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isPlainDocument(value)) return undefined;
  const names = Object.keys(value);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const inDbRef = (name === '$ref' && i === 0) || (name === '$id' && i === 1 && names[0] === '$ref') || (name === '$db' && i === 2 && names[0] === '$ref' && names[1] === '$id');
    if (name.startsWith('$') && !inDbRef) return name;
    const found = invalidDollarField(value[name]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The `_id` values mongod refuses to store (storage_validation storageValidIdField): a regex, an
 * array or undefined (53), and a document holding a `$`-prefixed field (52). A missing `_id` is
 * generated later.
 */
function checkIdType(doc: Document): void {
  if (!Object.hasOwn(doc, '_id')) return;
  const id: unknown = doc._id;
  const type = id instanceof BSONRegExp || id instanceof RegExp ? 'regex' : Array.isArray(id) ? 'array' : id === undefined ? 'undefined' : undefined;
  if (type !== undefined) throw new MongoError(ErrorCodes.InvalidIdField, `The '_id' value cannot be of type ${type}`);
  const dollar = invalidDollarField(id);
  if (dollar !== undefined) {
    throw new MongoError(ErrorCodes.DollarPrefixedFieldName, `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`);
  }
}

/**
 * mongod's checks on a document about to be inserted (insert.cpp fixDocumentForInsert), in its
 * order: size, nesting depth, `_id` type. `messageLength` is the size of the request it came in. `$`-prefixed and dotted field names are allowed since 5.0.
 */
export function checkInsertable(doc: Document, messageLength: number): void {
  // A document is never larger than the message that carried it: only big messages need measuring.
  const size = messageLength <= MAX_USER_DOCUMENT_SIZE ? 0 : BSON.calculateObjectSize(doc);
  if (size > MAX_USER_DOCUMENT_SIZE) {
    throw new MongoError(ErrorCodes.BadValue, `object to insert too large. size in bytes: ${size}, max size: ${MAX_USER_DOCUMENT_SIZE}`);
  }
  if (depthOf(doc, MAX_STORED_DEPTH + 2) > MAX_STORED_DEPTH + 1) {
    throw new MongoError(ErrorCodes.Overflow, `cannot insert document because it exceeds ${MAX_STORED_DEPTH} levels of nesting`);
  }
  checkIdType(doc);
}

/** mongod's checks on the document an update produced (update_stage.cpp, storage_validation.cpp). */
export function checkUpdated(doc: Document): void {
  if (BSON.calculateObjectSize(doc) > MAX_USER_DOCUMENT_SIZE) {
    throw new MongoError(LocationCodes.UpdateResultTooLarge, `Resulting document after update is larger than ${MAX_USER_DOCUMENT_SIZE}`);
  }
  if (depthOf(doc, MAX_STORED_DEPTH + 2) > MAX_STORED_DEPTH + 1) {
    throw new MongoError(ErrorCodes.Overflow, `Document exceeds maximum nesting depth of ${MAX_STORED_DEPTH}`);
  }
  checkIdType(doc);
}
