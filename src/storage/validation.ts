/**
 * Document validation (collection_impl.cpp checkValidation / parseValidator /
 * checkValidatorCanBeUsedOnNs, collection_write_path.cpp updateDocument): a collection's
 * validator, validationLevel and validationAction, and the check each stored document passes.
 *
 * - validationLevel "off" checks nothing; "strict" (the default) checks every insert and update;
 *   "moderate" lets an update through when the document it replaces already failed.
 * - validationAction "error" (the default) refuses the write with DocumentValidationFailure (121)
 *   "Document failed validation" and errInfo {failingDocumentId, details}; "warn" writes and logs
 *   mongod's warning (20294) with the same errInfo.
 * - bypassDocumentValidation on the command skips the check.
 */
import { UUID, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import type { LogEntry } from '../log.js';
import { compileValidator, type CompiledValidator } from '../query/validator.js';

export type ValidationLevel = 'off' | 'strict' | 'moderate';
export type ValidationAction = 'error' | 'warn';

/** The validation options of a collection, as given (an option never given is absent). */
export interface ValidationOptions {
  /** The validator; an empty one validates nothing. */
  readonly validator?: Document;
  readonly validationLevel?: ValidationLevel;
  readonly validationAction?: ValidationAction;
}

/** A validation warning's log line, without the component and context the command adds. */
export type ValidationWarning = Omit<LogEntry, 'c' | 'ctx'>;

/** What a writing command brings to the check: its bypass flag, its NOW, where warnings go. */
export interface WriteValidation {
  readonly bypass: boolean;
  readonly now: Date;
  /** Logs a warning line (mongod's log component STORAGE). */
  warn(entry: ValidationWarning): void;
  /** The validators compiled for this command (once per collection, with the command's NOW). */
  readonly compiled: Map<Document, CompiledValidator>;
}

/** A collection that can be validated: its namespace and options. */
export interface ValidatedCollection {
  readonly ns: string;
  readonly validation: ValidationOptions;
}

const INTERNAL_DATABASES = new Set(['admin', 'local', 'config']);

/** Whether a validator is set (mongod stores an empty one as none). */
export function hasValidator(options: ValidationOptions): boolean {
  return options.validator !== undefined && Object.keys(options.validator).length > 0;
}

/**
 * mongod bans the encryption keywords from validators that could log or keep plaintext
 * (validationAction warn, validationLevel moderate).
 */
function encryptKeywordsAllowed(options: ValidationOptions): boolean {
  return options.validationAction !== 'warn' && options.validationLevel !== 'moderate';
}

/** Parses a validator for these options, throwing mongod's parse error (MatchExpressionParser's). */
export function parseValidator(options: ValidationOptions): void {
  if (hasValidator(options)) compileValidator(options.validator!, { encryptKeywordsAllowed: encryptKeywordsAllowed(options) });
}

/** checkValidatorCanBeUsedOnNs: no validators on system collections nor in admin, local and config. */
export function checkValidatorNamespace(options: ValidationOptions, db: string, name: string, uuid: UUID): void {
  if (!hasValidator(options)) return;
  const ns = `${db}.${name}`;
  const id = uuid.toHexString(true);
  if (name.startsWith('system.')) {
    throw new MongoError(ErrorCodes.InvalidOptions, `Document validators not allowed on system collection ${ns} with UUID ${id}`);
  }
  if (INTERNAL_DATABASES.has(db)) {
    throw new MongoError(ErrorCodes.InvalidOptions, `Document validators are not allowed on collection ${ns} with UUID ${id} in the ${db} internal database`);
  }
}

/** The errInfo of a document that fails the collection's checks, or undefined when it passes (or only warns). */
function failure(collection: ValidatedCollection, doc: Document, write: WriteValidation): Document | undefined {
  const options = collection.validation;
  const validator = options.validator!;
  let compiled = write.compiled.get(validator);
  if (compiled === undefined) {
    compiled = compileValidator(validator, { encryptKeywordsAllowed: encryptKeywordsAllowed(options), now: write.now });
    write.compiled.set(validator, compiled);
  }
  if (compiled.matches(doc)) return undefined;
  const errInfo = compiled.errorInfo(doc);
  if (options.validationAction === 'warn') {
    write.warn({ id: 20294, msg: 'Document would fail validation', attr: { namespace: collection.ns, document: doc, errInfo } });
    return undefined;
  }
  return errInfo;
}

/**
 * Checks a document about to be stored in the collection: an insert, or an update of `previous`.
 * Throws DocumentValidationFailure (121) with mongod's errInfo.
 */
export function validateWrite(collection: ValidatedCollection, doc: Document, write: WriteValidation, previous?: Document): void {
  const options = collection.validation;
  if (!hasValidator(options) || options.validationLevel === 'off' || write.bypass) return;
  const errInfo = failure(collection, doc, write);
  if (errInfo === undefined) return;
  // moderate: an update of a document that already failed may leave it failing.
  if (previous !== undefined && options.validationLevel === 'moderate' && failure(collection, previous, write) !== undefined) return;
  throw new MongoError(ErrorCodes.DocumentValidationFailure, 'Document failed validation', { errInfo });
}

/** CollectionOptions::appendBSON's validation part: what listCollections shows in `options`. */
export function validationCollectionOptions(options: ValidationOptions): Document {
  const shown: Document = {};
  if (hasValidator(options)) shown.validator = options.validator;
  if (options.validationLevel !== undefined) shown.validationLevel = options.validationLevel;
  if (options.validationAction !== undefined) shown.validationAction = options.validationAction;
  return shown;
}
