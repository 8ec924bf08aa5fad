import { Double, UUID, type Document } from 'bson';
import { numberValue } from '../../bson/args.js';
import { decodeDocument, encodeDocument } from '../../bson/codec.js';
import type { Collection, IndexSpec } from '../catalog.js';
import type { CappedOptions } from '../capped.js';
import type { ValidationLevel, ValidationAction, ValidationOptions } from '../validation.js';

/**
 * A collection's durable description, as mongod's catalog entry holds it (namespace, options with
 * the UUID, the index specs): everything but the documents. Values that came from clients (index
 * keys, partial filters, collations, validators) are kept with their BSON types; the few numbers
 * the server made itself are stored as doubles and read back as numbers.
 */
export interface CollectionDescriptor {
  readonly uuid: UUID;
  readonly db: string;
  readonly name: string;
  readonly capped?: CappedOptions;
  readonly validation: ValidationOptions;
  /** The secondary indexes (`_id_` is implied), in creation order. */
  readonly indexes: readonly IndexSpec[];
}

export function describe(collection: Collection): Buffer {
  const doc: Document = { uuid: collection.uuid, db: collection.db, name: collection.name };
  const capped = collection.capped?.options;
  if (capped !== undefined) doc.capped = { size: new Double(capped.size), max: new Double(capped.max) };
  doc.validation = { ...collection.validation };
  doc.indexes = collection.indexes.filter((spec) => spec.name !== '_id_').map(indexDocument);
  return encodeDocument(doc);
}

/** An index spec as stored (readIndexSpec reads it back). */
export function indexDocument(spec: IndexSpec): Document {
  const doc: Document = { name: spec.name, key: spec.key, unique: spec.unique, sparse: spec.sparse };
  if (spec.partialFilterExpression !== undefined) doc.partialFilterExpression = spec.partialFilterExpression;
  if (spec.expireAfterSeconds !== undefined) doc.expireAfterSeconds = new Double(spec.expireAfterSeconds);
  if (spec.collation !== undefined) doc.collation = spec.collation;
  if (spec.hidden !== undefined) doc.hidden = spec.hidden;
  if (spec.options !== undefined) doc.options = spec.options;
  return doc;
}

/** A descriptor made by describe(), decoded as the wire decodes, so client-given values keep their BSON types. */
export function readDescriptor(bytes: Uint8Array): CollectionDescriptor {
  const doc = decodeDocument(bytes);
  const uuid = (doc.uuid as { toUUID(): UUID }).toUUID();
  const cappedDoc = doc.capped as Document | undefined;
  const capped = cappedDoc === undefined ? undefined : { size: storedNumber(cappedDoc.size), max: storedNumber(cappedDoc.max) };
  const stored = doc.validation as Document;
  const validation: { -readonly [K in keyof ValidationOptions]: ValidationOptions[K] } = {};
  if (stored.validator !== undefined) validation.validator = stored.validator as Document;
  if (stored.validationLevel !== undefined) validation.validationLevel = String(stored.validationLevel) as ValidationLevel;
  if (stored.validationAction !== undefined) validation.validationAction = String(stored.validationAction) as ValidationAction;
  const indexes = (doc.indexes as Document[]).map(readIndexSpec);
  return { uuid, db: String(doc.db), name: String(doc.name), ...(capped === undefined ? {} : { capped }), validation, indexes };
}

/** An index spec stored by indexDocument, decoded with promoteValues: false. */
export function readIndexSpec(doc: Document): IndexSpec {
  const spec: { -readonly [K in keyof IndexSpec]: IndexSpec[K] } = {
    name: String(doc.name),
    key: doc.key as Document,
    unique: doc.unique === true,
    sparse: doc.sparse === true,
  };
  if (doc.partialFilterExpression !== undefined) spec.partialFilterExpression = doc.partialFilterExpression as Document;
  if (doc.expireAfterSeconds !== undefined) spec.expireAfterSeconds = storedNumber(doc.expireAfterSeconds);
  if (doc.collation !== undefined) spec.collation = doc.collation as Document;
  if (doc.hidden !== undefined) spec.hidden = doc.hidden === true;
  if (doc.options !== undefined) spec.options = doc.options as Document;
  return spec;
}

/** A number the server stored (as a double): back to a JavaScript number. */
function storedNumber(value: unknown): number {
  return numberValue(value) ?? Number.NaN;
}
