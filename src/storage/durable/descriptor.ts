import { BSON, Double, UUID, type Document } from 'bson';
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

/** Decoded as the wire decodes command documents, so stored values come back as they were given. */
const DECODE_OPTIONS = { promoteValues: false, bsonRegExp: true } as const;

export function describe(collection: Collection): Buffer {
  const doc: Document = { uuid: collection.uuid, db: collection.db, name: collection.name };
  const capped = collection.capped?.options;
  if (capped !== undefined) doc.capped = { size: new Double(capped.size), max: new Double(capped.max) };
  doc.validation = { ...collection.validation };
  doc.indexes = collection.indexes.filter((spec) => spec.name !== '_id_').map(indexDocument);
  return Buffer.from(BSON.serialize(doc));
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

export function readDescriptor(bytes: Uint8Array): CollectionDescriptor {
  const doc = BSON.deserialize(bytes, DECODE_OPTIONS);
  const uuid = (doc.uuid as { toUUID(): UUID }).toUUID();
  const cappedDoc = doc.capped as Document | undefined;
  const capped = cappedDoc === undefined ? undefined : { size: numberOf(cappedDoc.size), max: numberOf(cappedDoc.max) };
  const stored = doc.validation as Document;
  const validation: { -readonly [K in keyof ValidationOptions]: ValidationOptions[K] } = {};
  if (stored.validator !== undefined) validation.validator = stored.validator as Document;
  if (stored.validationLevel !== undefined) validation.validationLevel = stringOf(stored.validationLevel) as ValidationLevel;
  if (stored.validationAction !== undefined) validation.validationAction = stringOf(stored.validationAction) as ValidationAction;
  const indexes = (doc.indexes as Document[]).map(readIndexSpec);
  return { uuid, db: stringOf(doc.db), name: stringOf(doc.name), ...(capped === undefined ? {} : { capped }), validation, indexes };
}

/** An index spec stored by indexDocument, decoded with promoteValues: false. */
export function readIndexSpec(doc: Document): IndexSpec {
  const spec: { -readonly [K in keyof IndexSpec]: IndexSpec[K] } = {
    name: stringOf(doc.name),
    key: doc.key as Document,
    unique: doc.unique === true,
    sparse: doc.sparse === true,
  };
  if (doc.partialFilterExpression !== undefined) spec.partialFilterExpression = doc.partialFilterExpression as Document;
  if (doc.expireAfterSeconds !== undefined) spec.expireAfterSeconds = numberOf(doc.expireAfterSeconds);
  if (doc.collation !== undefined) spec.collation = doc.collation as Document;
  if (doc.hidden !== undefined) spec.hidden = doc.hidden === true;
  if (doc.options !== undefined) spec.options = doc.options as Document;
  return spec;
}

function numberOf(value: unknown): number {
  return Number((value as { valueOf(): unknown }).valueOf());
}

function stringOf(value: unknown): string {
  return String((value as { valueOf(): unknown }).valueOf());
}
