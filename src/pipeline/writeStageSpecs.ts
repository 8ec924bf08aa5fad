import type { Document } from 'bson';
import type { ActionType } from '../auth/privileges.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { missingField, unknownField, wrongType } from '../bson/idlErrors.js';
import { isPlainObject } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';
import { checkSubPipeline } from './pipelineShape.js';

// $out and $merge specs (document_source_out.cpp, document_source_merge.cpp, merge_processor.cpp):
// where each may write and how, checked as mongod's parsers check them.
/** The two stages that write a collection; both must be the last stage of the pipeline. */
export const WRITE_STAGES = new Set(['$out', '$merge']);

/** Where a stage reads or writes: a namespace. */
export interface Namespace {
  readonly db: string;
  readonly coll: string;
}

/** admin, local and config: mongod refuses to $out or $merge into them (NamespaceString::isOnInternalDb). */
const INTERNAL_DATABASES = new Set(['admin', 'local', 'config']);

/** NamespaceString::isValid: a valid database name and a non-empty collection name without `$` or NUL. */
function isValidNamespace(ns: Namespace): boolean {
  if (ns.db.length === 0 || /[/\\. "$\0]/.test(ns.db)) return false;
  return ns.coll.length > 0 && !ns.coll.startsWith('.') && !/[$\0]/.test(ns.coll);
}

/** DocumentSourceOut::create: where $out may write. */
function checkOutTarget(ns: Namespace): Namespace {
  if (!isValidNamespace(ns)) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid $out target namespace, ${ns.db}.${ns.coll}`);
  if (ns.coll.startsWith('system.')) throw new MongoError(LocationCodes.OutToSpecialCollection, `Can't $out to special collection: ${ns.coll}`);
  if (INTERNAL_DATABASES.has(ns.db)) throw new MongoError(LocationCodes.OutToInternalDatabase, `Can't $out to internal database: ${ns.db}`);
  return ns;
}

/** `$out: "coll"` or `$out: {db, coll}` (DocumentSourceOutSpec IDL: both fields required). */
export function parseOut(db: string, spec: unknown): Namespace {
  if (typeof spec === 'string') return checkOutTarget({ db, coll: spec });
  if (!isPlainObject(spec)) {
    throw new MongoError(LocationCodes.OutSpecWrongType, `$out only supports a string or object argument, but found ${typeName(spec)}`);
  }
  for (const [name, value] of Object.entries(spec)) {
    if (name === 'timeseries') {
      throw new MongoError(ErrorCodes.CommandNotSupported, '$out to a time-series collection is not supported by pocketmongo');
    }
    if (name !== 'db' && name !== 'coll') throw unknownField(`$out.${name}`);
    if (typeof value !== 'string') throw wrongType(`$out.${name}`, value, 'string');
  }
  if (spec.db === undefined) throw missingField('$out.db');
  if (spec.coll === undefined) throw missingField('$out.coll');
  return checkOutTarget({ db: spec.db as string, coll: spec.coll as string });
}

export type WhenMatched = 'replace' | 'keepExisting' | 'merge' | 'fail' | readonly Document[];
export type WhenNotMatched = 'insert' | 'discard' | 'fail';

export interface MergeSpec {
  readonly target: Namespace;
  /** The fields that identify a target document; `_id` unless `on` says otherwise. */
  readonly on: readonly string[];
  readonly let: Document | undefined;
  readonly whenMatched: WhenMatched;
  readonly whenNotMatched: WhenNotMatched;
}

/** mergeTargetNssParseFromBSON (document_source_merge_spec.cpp). */
function parseMergeInto(db: string, into: unknown): Namespace {
  if (typeof into === 'string') {
    if (into.length === 0) throw new MongoError(LocationCodes.MergeIntoEmptyString, "$merge 'into' field cannot be an empty string");
    return { db, coll: into };
  }
  if (!isPlainObject(into)) {
    throw new MongoError(LocationCodes.MergeIntoWrongType, `$merge 'into' field  must be either a string or an object, but found ${typeName(into)}`);
  }
  for (const [name, value] of Object.entries(into)) {
    if (name !== 'db' && name !== 'coll') throw unknownField(`into.${name}`);
    if (typeof value !== 'string') throw wrongType(`into.${name}`, value, 'string');
  }
  if (!into.coll) {
    throw new MongoError(LocationCodes.MergeIntoEmptyColl, "$merge 'into' field must specify a 'coll' that is not empty, null or undefined");
  }
  return { db: (into.db as string | undefined) || db, coll: into.coll as string };
}

/** mergeOnFieldsParseFromBSON and convertToFieldPaths. */
function parseMergeOn(on: unknown): string[] {
  if (typeof on !== 'string' && !Array.isArray(on)) {
    throw new MongoError(LocationCodes.MergeOnWrongType, `$merge 'on' field  must be either a string or an array of strings, but found ${typeName(on)}`);
  }
  const fields: unknown[] = typeof on === 'string' ? [on] : on;
  for (const field of fields) {
    if (typeof field !== 'string') {
      throw new MongoError(LocationCodes.MergeOnElementNotString, `$merge 'on' array elements must be strings, but found ${typeName(field)}`);
    }
  }
  if (fields.length === 0) throw new MongoError(LocationCodes.MergeOnEmpty, "If explicitly specifying $merge 'on', must include at least one field");
  const seen = new Set<string>();
  for (const field of fields as string[]) {
    if (seen.has(field)) throw new MongoError(LocationCodes.MergeOnDuplicateField, `Found a duplicate field '${field}'`);
    seen.add(field);
  }
  return [...seen];
}

const WHEN_MATCHED_MODES = new Set(['replace', 'keepExisting', 'merge', 'fail']);
const WHEN_NOT_MATCHED_MODES = new Set(['insert', 'discard', 'fail']);

function badEnum(value: string, field: string): MongoError {
  return new MongoError(ErrorCodes.BadValue, `Enumeration value '${value}' for field '${field}' is not a valid value.`);
}

/** mergeWhenMatchedParseFromBSON: a mode name, or an update pipeline. */
function parseWhenMatched(value: unknown): WhenMatched {
  if (Array.isArray(value)) return checkSubPipeline(value) as Document[];
  if (typeof value !== 'string') {
    throw new MongoError(LocationCodes.MergeWhenMatchedWrongType, `$merge 'whenMatched' field  must be either a string or an array, but found ${typeName(value)}`);
  }
  if (!WHEN_MATCHED_MODES.has(value)) throw badEnum(value, 'whenMatched');
  return value as WhenMatched;
}

function parseWhenNotMatched(value: unknown): WhenNotMatched {
  if (typeof value !== 'string') throw wrongType('$merge.whenNotMatched', value, 'string');
  if (!WHEN_NOT_MATCHED_MODES.has(value)) throw badEnum(value, '$merge.whenNotMatched');
  return value as WhenNotMatched;
}

function modeName(whenMatched: WhenMatched): string {
  return typeof whenMatched === 'string' ? whenMatched : 'pipeline';
}

/** The mode pairs mongod supports (getMergeStrategyDescriptors) and the actions each requires. */
export function mergeActions(whenMatched: WhenMatched, whenNotMatched: WhenNotMatched): ActionType[] | undefined {
  const matched = modeName(whenMatched);
  if (matched === 'fail' || matched === 'keepExisting') return whenNotMatched === 'insert' ? (matched === 'fail' ? ['insert'] : ['insert', 'update']) : undefined;
  return whenNotMatched === 'insert' ? ['insert', 'update'] : ['update'];
}

/** DocumentSourceMerge::create: where $merge may write, and with which `let`. */
function checkMerge(spec: MergeSpec): MergeSpec {
  const { target, whenMatched, whenNotMatched } = spec;
  if (mergeActions(whenMatched, whenNotMatched) === undefined) {
    throw new MongoError(
      LocationCodes.MergeModesUnsupported,
      `Combination of $merge modes 'whenMatched: ${modeName(whenMatched)}' and 'whenNotMatched: ${whenNotMatched}' is not supported`,
    );
  }
  if (!isValidNamespace(target)) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid $merge target namespace: '${target.db}.${target.coll}'`);
  if (target.coll.startsWith('system.')) throw new MongoError(LocationCodes.MergeToSpecialCollection, `Cannot $merge to special collection: ${target.coll}`);
  if (INTERNAL_DATABASES.has(target.db)) throw new MongoError(LocationCodes.MergeToInternalDatabase, `Cannot $merge to internal database: ${target.db}`);
  if (typeof whenMatched === 'string' && spec.let !== undefined) {
    throw new MongoError(LocationCodes.MergeLetWithoutPipeline, `Cannot use 'let' variables with 'whenMatched: ${whenMatched}' mode`);
  }
  if (spec.let !== undefined && spec.let.new !== undefined && spec.let.new !== '$$ROOT') {
    throw new MongoError(LocationCodes.MergeLetRedefinesNew, "'let' may not define a value for the reserved 'new' variable other than '$$ROOT'");
  }
  return spec;
}

/** `$merge: "coll"` or `$merge: {into, on, let, whenMatched, whenNotMatched}` (defaults: _id, merge, insert). */
export function parseMerge(db: string, spec: unknown): MergeSpec {
  if (typeof spec === 'string') return checkMerge({ target: parseMergeInto(db, spec), on: ['_id'], let: undefined, whenMatched: 'merge', whenNotMatched: 'insert' });
  if (!isPlainObject(spec)) throw new MongoError(ErrorCodes.TypeMismatch, `$merge requires a string or object argument, but found ${typeName(spec)}`);
  for (const name of Object.keys(spec)) {
    if (!['into', 'on', 'let', 'whenMatched', 'whenNotMatched', 'targetCollectionVersion'].includes(name)) throw unknownField(`$merge.${name}`);
  }
  if (spec.into === undefined) throw missingField('$merge.into');
  if (spec.let !== undefined && !isPlainObject(spec.let)) throw wrongType('$merge.let', spec.let, 'object');
  return checkMerge({
    target: parseMergeInto(db, spec.into),
    on: spec.on === undefined ? ['_id'] : parseMergeOn(spec.on),
    let: spec.let as Document | undefined,
    whenMatched: spec.whenMatched === undefined ? 'merge' : parseWhenMatched(spec.whenMatched),
    whenNotMatched: spec.whenNotMatched === undefined ? 'insert' : parseWhenNotMatched(spec.whenNotMatched),
  });
}
