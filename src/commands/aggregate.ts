import { missingField, unknownField, wrongType } from '../idlErrors.js';
import { Binary, ObjectId, UUID, type Document } from 'bson';
import { mayDo, notAuthorized, userName, type Requirement } from '../auth/authorize.js';
import { Resource, type ActionType } from '../auth/privileges.js';
import { bsonText } from '../bsonText.js';
import { DEFAULT_FIRST_BATCH_SIZE } from '../cursors/cursorManager.js';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { canonicalKey } from '../query/bsonOrder.js';
import { matches, runPipeline } from '../query/mingo.js';
import { lsidDocument, NO_AUTH_UID, userDigest } from '../sessions/logicalSessionId.js';
import { resolveOwner } from '../sessions/owner.js';
import { candidateDocuments, Collection, collectionDocuments, withIdFirst } from '../storage/catalog.js';
import { isPlainObject, numberValue, trueValue, typeName } from './args.js';
import { nonNegativeInt } from './cursorArgs.js';
import type { CommandContext } from './types.js';

/** Stages that must come first and produce the documents themselves. */
const SOURCE_STAGES = new Set(['$listLocalSessions', '$listSessions', '$documents', '$currentOp', '$changeStream']);

/**
 * ListSessionsSpec (document_source_list_sessions.idl), shared by $listLocalSessions and
 * $listSessions: which uids to list. `{}` means the caller's own sessions.
 */
function parseListSessionsSpec(stage: string, spec: unknown, ctx: CommandContext): ((uid: Buffer) => boolean) {
  if (!isPlainObject(spec)) {
    throw new MongoError(ErrorCodes.TypeMismatch, `${stage} options must be specified in an object, but found: ${typeName(spec)}`);
  }
  let allUsers = false;
  let users: Array<{ user: string; db: string }> | undefined;
  for (const [field, value] of Object.entries(spec)) {
    if (field === 'allUsers') {
      if (typeof value !== 'boolean') {
        throw wrongType(`${stage}.allUsers`, value, 'bool');
      }
      allUsers = value;
    } else if (field === 'users') {
      if (!Array.isArray(value)) {
        throw wrongType(`${stage}.users`, value, 'array');
      }
      users = value.map((u, i) => {
        if (!isPlainObject(u)) {
          throw wrongType(`${stage}.users.${i}`, u, 'object');
        }
        for (const f of ['user', 'db'] as const) {
          if (typeof u[f] !== 'string') {
            throw u[f] === undefined
              ? missingField(`${stage}.users.${f}`)
              : wrongType(`${stage}.users.${f}`, u[f], 'string');
          }
        }
        return { user: u.user as string, db: u.db as string };
      });
    } else if (field !== '$_internalPredicate') {
      throw unknownField(`${stage}.${field}`);
    }
  }
  if (allUsers && users !== undefined && users.length > 0) {
    throw new MongoError(ErrorCodes.UnsupportedFormat, `${stage} may not specify {allUsers:true} and {users:[...]} at the same time`);
  }
  const owner = resolveOwner(ctx.connection, ctx.server.auth);
  const others =
    allUsers || (users ?? []).some((u) => owner.user === undefined || `${u.user}@${u.db}` !== owner.user);
  if (ctx.server.auth.enforced && others && !mayDo(ctx, Resource.cluster(), 'listSessions')) throw notAuthorized(ctx);
  if (allUsers) return () => true;
  // getLogicalSessionUserDigestFor: the empty user in the empty db is the no-auth digest.
  const uids =
    users !== undefined && users.length > 0
      ? users.map((u) => (u.user === '' && u.db === '' ? NO_AUTH_UID : userDigest(`${u.user}@${u.db}`)))
      : [owner.uid];
  const wanted = new Set(uids.map((u) => u.toString('hex')));
  return (uid) => wanted.has(uid.toString('hex'));
}

function uidOf(doc: Document): Buffer {
  const uid = (doc._id as Document).uid as Binary;
  return Buffer.from(uid.buffer.buffer, uid.buffer.byteOffset, uid.position);
}

/** The documents the first stage produces, or the collection's when it is not a source stage. */
function source(ctx: CommandContext, collection: string | undefined, first: Document | undefined): { docs: Iterable<Document>; rest: number } {
  const stage = first === undefined ? undefined : Object.keys(first)[0];
  if (stage === '$listLocalSessions') {
    if (collection !== undefined) {
      throw new MongoError(ErrorCodes.InvalidNamespace, '$listLocalSessions must be run against the database with {aggregate: 1}, not a collection');
    }
    const wanted = parseListSessionsSpec(stage, first![stage], ctx);
    const docs: Document[] = [];
    for (const record of ctx.server.sessions.localSessions()) {
      if (!wanted(record.lsid.uid)) continue;
      const doc: Document = { _id: lsidDocument(record.lsid), lastUse: new Date(record.lastUse) };
      if (record.user !== undefined) doc.user = record.user;
      docs.push(doc);
    }
    return { docs, rest: 1 };
  }
  if (stage === '$listSessions') {
    if (ctx.db !== 'config' || collection !== 'system.sessions') {
      throw new MongoError(ErrorCodes.InvalidNamespace, '$listSessions may only be run against config.system.sessions');
    }
    const wanted = parseListSessionsSpec(stage, first![stage], ctx);
    const docs = [...(collectionDocuments(ctx.server, ctx.db, collection) ?? [])].filter((d) => wanted(uidOf(d)));
    return { docs, rest: 1 };
  }
  if (collection === undefined) {
    if (stage !== undefined && SOURCE_STAGES.has(stage)) {
      throw new MongoError(LocationCodes.UnrecognizedStage, `Unrecognized pipeline stage name: '${stage}'`);
    }
    throw new MongoError(
      ErrorCodes.InvalidNamespace,
      `{aggregate: 1} is not valid for '${stage ?? '(empty pipeline)'}'; a collection is required.`,
    );
  }
  return { docs: collectionDocuments(ctx.server, ctx.db, collection) ?? [], rest: 0 };
}

// ---------------------------------------------------------------------------------------------
// Stages that read other collections ($lookup, $graphLookup, $unionWith): their specs are checked
// here, as mongod's parsers do, before mingo sees them (mingo would read an array `from` as inline
// documents, and ignores unknown arguments).

/** The two stages that write a collection; both must be the last stage of the pipeline. */
const WRITE_STAGES = new Set(['$out', '$merge']);

/** Where a stage reads or writes: a namespace. */
interface Namespace {
  readonly db: string;
  readonly coll: string;
}

function stageName(stage: unknown): string | undefined {
  return isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
}

/** Whether a sub-pipeline makes its own documents ($documents first), reading no collection. */
function startsWithDocuments(pipeline: unknown): boolean {
  return Array.isArray(pipeline) && stageName(pipeline[0]) === '$documents';
}

/** parsePipelineFromBSON (aggregation_request_helper.cpp). */
function checkSubPipeline(pipeline: unknown): unknown[] {
  if (!Array.isArray(pipeline)) throw new MongoError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    if (!isPlainObject(stage)) throw new MongoError(ErrorCodes.TypeMismatch, "Each element of the 'pipeline' array must be an object");
  }
  return pipeline;
}

function lookupError(message: string): MongoError {
  return new MongoError(ErrorCodes.FailedToParse, message);
}

/** `from` of a $lookup: a collection name; mongod's object form only names internal collections. */
function checkLookupFrom(from: unknown): void {
  if (typeof from === 'string') return;
  if (!isPlainObject(from)) throw lookupError(`$lookup 'from' field must be a string, but found ${typeName(from)}`);
  throw lookupError(
    `$lookup with syntax {from: {db:<>, coll:<>},..} is not supported for db: ${String(from.db ?? '')} and coll: ${String(from.coll ?? '')}`,
  );
}

/** DocumentSourceLookUp::LiteParsed::parse and createFromBson (document_source_lookup.cpp). */
function checkLookup(spec: unknown): void {
  if (!isPlainObject(spec)) throw lookupError(`the $lookup stage specification must be an object, but found ${typeName(spec)}`);
  if (spec.from === undefined) {
    if (spec.pipeline === undefined) throw lookupError("must specify 'pipeline' when 'from' is empty");
    if (!startsWithDocuments(checkSubPipeline(spec.pipeline))) {
      throw lookupError('$lookup stage without explicit collection must have a pipeline with $documents as first stage');
    }
  }
  for (const [name, value] of Object.entries(spec)) {
    if (name === 'pipeline') checkSubPipeline(value);
    else if (name === 'from') checkLookupFrom(value);
    else if (name === 'let') {
      if (!isPlainObject(value)) throw lookupError(`$lookup argument 'let: ${bsonText(value)}' must be an object, is type ${typeName(value)}`);
    } else if (name !== '_internalCollation') {
      if (typeof value !== 'string') {
        throw lookupError(`$lookup argument '${name}' must be a string, found ${name}: ${bsonText(value)}: ${typeName(value)}`);
      }
      if (name !== 'as' && name !== 'localField' && name !== 'foreignField') throw lookupError(`unknown argument to $lookup: ${name}`);
    }
  }
  if (!spec.as) throw lookupError("must specify 'as' field for a $lookup");
  const joins = Boolean(spec.localField) && Boolean(spec.foreignField);
  if (spec.pipeline !== undefined) {
    if (!joins && (spec.localField || spec.foreignField)) {
      throw lookupError("$lookup requires both or neither of 'localField' and 'foreignField' to be specified");
    }
  } else {
    if (!joins) throw lookupError("$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified");
    if (spec.let !== undefined) throw lookupError("$lookup with a 'let' argument must also specify 'pipeline'");
  }
}

/** The maxDepth of a $graphLookup: a non-negative integral number. */
function checkMaxDepth(value: unknown): void {
  const n = numberValue(value);
  if (n === undefined) throw new MongoError(LocationCodes.GraphLookupMaxDepthNotNumeric, `maxDepth must be numeric, found type: ${typeName(value)}`);
  if (n < 0) throw new MongoError(LocationCodes.GraphLookupMaxDepthNegative, `maxDepth requires a nonnegative argument, found: ${Math.trunc(n)}`);
  if (!Number.isInteger(n)) throw new MongoError(LocationCodes.GraphLookupMaxDepthNotIntegral, `maxDepth could not be represented as a long long: ${Math.trunc(n)}`);
}

const GRAPH_LOOKUP_STRINGS = new Set(['from', 'as', 'connectFromField', 'connectToField', 'depthField']);

/** DocumentSourceGraphLookUp::createFromBson (document_source_graph_lookup.cpp). */
function checkGraphLookup(spec: unknown): void {
  if (!isPlainObject(spec)) throw lookupError(`the $graphLookup stage specification must be an object, but found ${typeName(spec)}`);
  if (spec.from === undefined) throw lookupError(`missing 'from' option to $graphLookup stage specification: ${bsonText(spec)}`);
  if (typeof spec.from !== 'string') throw lookupError(`$graphLookup 'from' field must be a string, but found ${typeName(spec.from)}`);
  for (const [name, value] of Object.entries(spec)) {
    if (name === 'startWith') continue;
    if (name === 'maxDepth') checkMaxDepth(value);
    else if (name === 'restrictSearchWithMatch') {
      if (!isPlainObject(value)) {
        throw new MongoError(LocationCodes.GraphLookupRestrictNotObject, `restrictSearchWithMatch must be an object, found ${typeName(value)}`);
      }
    } else if (!GRAPH_LOOKUP_STRINGS.has(name)) {
      throw new MongoError(LocationCodes.GraphLookupUnknownArgument, `Unknown argument to $graphLookup: ${name}`);
    } else if (typeof value !== 'string') {
      throw new MongoError(LocationCodes.GraphLookupExpectedString, `expected string as argument for ${name}, found: ${typeName(value)}`);
    }
  }
  if (!spec.as || spec.startWith === undefined || !spec.connectFromField || !spec.connectToField) {
    throw new MongoError(
      LocationCodes.GraphLookupMissingArgument,
      "$graphLookup requires 'from', 'as', 'startWith', 'connectFromField', and 'connectToField' to be specified.",
    );
  }
}

/** DocumentSourceUnionWith::LiteParsed::parse (document_source_union_with.cpp, UnionWithSpec IDL). */
function checkUnionWith(spec: unknown): void {
  if (typeof spec === 'string') return;
  if (!isPlainObject(spec)) throw lookupError(`the $unionWith stage specification must be an object or string, but found ${typeName(spec)}`);
  for (const [name, value] of Object.entries(spec)) {
    if (name === 'coll') {
      if (typeof value !== 'string') throw wrongType('$unionWith.coll', value, 'string');
    } else if (name === 'pipeline') {
      if (!Array.isArray(value)) throw wrongType('$unionWith.pipeline', value, 'array');
      checkSubPipeline(value);
    } else {
      throw unknownField(`$unionWith.${name}`);
    }
  }
  if (spec.coll === undefined && !startsWithDocuments(spec.pipeline)) {
    throw lookupError('$unionWith stage without explicit collection must have a pipeline with $documents as first stage');
  }
}

/** A pipeline nested in a stage, and the stage nesting it (which forbids $out and $merge in it). */
interface SubPipeline {
  readonly within: '$lookup' | '$unionWith' | '$facet';
  readonly stages: readonly unknown[];
}

function subPipelines(name: string, spec: unknown): SubPipeline[] {
  if (!isPlainObject(spec)) return [];
  if ((name === '$lookup' || name === '$unionWith') && Array.isArray(spec.pipeline)) return [{ within: name, stages: spec.pipeline }];
  if (name === '$facet') {
    return Object.values(spec).filter((p): p is unknown[] => Array.isArray(p)).map((stages) => ({ within: '$facet' as const, stages }));
  }
  return [];
}

/** A writing stage inside a sub-pipeline: each nesting stage refuses it with its own code. */
function nestedWriteError(stage: string, within: SubPipeline['within']): MongoError {
  if (within === '$lookup') return new MongoError(LocationCodes.NotAllowedInLookup, `${stage} is not allowed within a $lookup's sub-pipeline`);
  if (within === '$unionWith') return new MongoError(LocationCodes.NotAllowedInUnionWith, `${stage} is not allowed within a $unionWith's sub-pipeline`);
  return new MongoError(LocationCodes.NotAllowedInFacet, `${stage} is not allowed to be used within a $facet stage`);
}

/**
 * Checks the stages mongod parses before running anything: the specs of the stages that read or
 * write other collections, at any depth, then that a writing stage is last (Pipeline::validateCommon,
 * 40601, for $out and $merge alike).
 */
function checkStages(db: string, stages: readonly unknown[], within?: SubPipeline['within']): void {
  for (const stage of stages) {
    const name = stageName(stage);
    if (name === undefined) continue;
    const spec = (stage as Document)[name];
    if (within !== undefined && WRITE_STAGES.has(name)) throw nestedWriteError(name, within);
    if (name === '$lookup') checkLookup(spec);
    else if (name === '$graphLookup') checkGraphLookup(spec);
    else if (name === '$unionWith') checkUnionWith(spec);
    else if (name === '$out') parseOut(db, spec);
    else if (name === '$merge') parseMerge(db, spec);
    for (const sub of subPipelines(name, spec)) checkStages(db, sub.stages, sub.within);
  }
  if (within !== undefined) return;
  stages.forEach((stage, i) => {
    const name = stageName(stage);
    if (name !== undefined && WRITE_STAGES.has(name) && i < stages.length - 1) {
      throw new MongoError(LocationCodes.StageNotLast, `${name} can only be the final stage in the pipeline`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// $out and $merge specs (document_source_out.cpp, document_source_merge.cpp, merge_processor.cpp).

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
function parseOut(db: string, spec: unknown): Namespace {
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

type WhenMatched = 'replace' | 'keepExisting' | 'merge' | 'fail' | readonly Document[];
type WhenNotMatched = 'insert' | 'discard' | 'fail';

interface MergeSpec {
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
function mergeActions(whenMatched: WhenMatched, whenNotMatched: WhenNotMatched): ActionType[] | undefined {
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
function parseMerge(db: string, spec: unknown): MergeSpec {
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

// ---------------------------------------------------------------------------------------------
// Privileges (each stage's LiteParsed::requiredPrivileges).

/** The privileges a pipeline's stages need beyond reading the aggregated collection, at any depth. */
function stagePrivileges(db: string, stages: readonly unknown[]): Requirement[] {
  const requirements: Requirement[] = [];
  const read = (coll: unknown): void => {
    if (typeof coll === 'string') requirements.push({ resource: Resource.namespace(db, coll), actions: ['find'] });
  };
  for (const stage of stages) {
    const name = stageName(stage);
    if (name === undefined) continue;
    const spec = (stage as Document)[name];
    // A $lookup or $unionWith whose pipeline starts with $documents reads no collection.
    if (name === '$lookup' && isPlainObject(spec) && !startsWithDocuments(spec.pipeline)) read(spec.from);
    else if (name === '$graphLookup' && isPlainObject(spec)) read(spec.from);
    else if (name === '$unionWith') read(isPlainObject(spec) ? (startsWithDocuments(spec.pipeline) ? undefined : spec.coll) : spec);
    else if (name === '$out') {
      const target = parseOut(db, spec);
      requirements.push({ resource: Resource.namespace(target.db, target.coll), actions: ['insert', 'remove'] });
    } else if (name === '$merge') {
      const merge = parseMerge(db, spec);
      const actions = mergeActions(merge.whenMatched, merge.whenNotMatched)!;
      requirements.push({ resource: Resource.namespace(merge.target.db, merge.target.coll), actions });
    }
    for (const sub of subPipelines(name, spec)) requirements.push(...stagePrivileges(db, sub.stages));
  }
  return requirements;
}

/**
 * find on the collection read, plus what the stages need: find on the collections $lookup,
 * $graphLookup and $unionWith read, insert and remove on $out's target, and on $merge's the
 * actions of its modes. A session stage instead declares its own needs (listSessions for other
 * users' sessions, checked while parsing its spec).
 */
export function aggregatePrivileges(ctx: CommandContext): Requirement[] {
  const pipeline: unknown[] = Array.isArray(ctx.body.pipeline) ? ctx.body.pipeline : [];
  const stage = stageName(pipeline[0]);
  if (stage === '$listLocalSessions' || stage === '$listSessions' || typeof ctx.body.aggregate !== 'string') return [];
  return [{ resource: Resource.namespace(ctx.db, ctx.body.aggregate), actions: ['find'] }, ...stagePrivileges(ctx.db, pipeline)];
}

// ---------------------------------------------------------------------------------------------
// Writing: $out and $merge are run by pocketmongo on the pipeline's output, not by mingo.

/**
 * $out: the output replaces the target's documents at once, keeping its indexes. As mongod, the
 * documents go first into a temporary collection built with the target's indexes (DuplicateKey
 * there fails the whole $out, naming the temporary namespace, and leaves the target as it was),
 * which then takes the target's place. The target is created even when the output is empty.
 */
function writeOut(ctx: CommandContext, target: Namespace, docs: readonly Document[]): void {
  const existing = ctx.server.catalog.get(target.db, target.coll);
  const temp = new Collection(target.db, `tmp.agg_out.${new UUID().toHexString(true)}`);
  for (const index of existing?.indexes ?? []) if (index.name !== '_id_') temp.addIndex(index);
  for (const doc of docs) temp.add(withIdFirst(doc));
  const collection = ctx.server.catalog.ensure(target.db, target.coll);
  for (const doc of [...collection.documents()]) collection.remove(doc);
  for (const doc of temp.documents()) collection.add(doc);
}

/** The `on` values of a document as a filter; mongod refuses missing, null and array values. */
function onFilter(doc: Document, on: readonly string[]): Document {
  const filter: Document = {};
  for (const field of on) {
    let value: unknown = doc;
    for (const part of field.split('.')) value = isPlainObject(value) ? value[part] : undefined;
    if (value === undefined || value === null || Array.isArray(value)) {
      throw new MongoError(LocationCodes.MergeOnValueInvalid, "$merge write error: 'on' field cannot be missing, null, undefined or an array");
    }
    filter[field] = value;
  }
  return filter;
}

/**
 * ensureFieldsUniqueOrResolveDocumentKey: `on` other than `_id` needs a unique index on exactly
 * those fields (not partial), so that at most one document matches.
 */
function checkOnIndex(ctx: CommandContext, spec: MergeSpec): void {
  if (spec.on.length === 1 && spec.on[0] === '_id') return;
  const wanted = [...spec.on].sort().join('\0');
  const indexes = ctx.server.catalog.get(spec.target.db, spec.target.coll)?.indexes ?? [];
  const supported = indexes.some(
    (index) => index.unique && index.partialFilterExpression === undefined && Object.keys(index.key).sort().join('\0') === wanted,
  );
  if (!supported) throw new MongoError(LocationCodes.MergeOnNoUniqueIndex, 'Cannot find index to verify that join fields will be unique');
}

function sameId(a: unknown, b: unknown): boolean {
  return canonicalKey(a) === canonicalKey(b);
}

/** The version of a matched document that $merge writes, per its whenMatched mode. */
function mergedDocument(spec: MergeSpec, existing: Document, incoming: Document): Document | undefined {
  const { whenMatched } = spec;
  if (whenMatched === 'keepExisting') return undefined;
  if (whenMatched === 'replace') {
    // A replacement (update with a whole document): the _id may not change.
    if (incoming._id !== undefined && !sameId(incoming._id, existing._id)) {
      throw new MongoError(ErrorCodes.ImmutableField, `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${bsonText(incoming._id)}`);
    }
    return withIdFirst({ ...incoming, _id: existing._id });
  }
  if (whenMatched === 'merge') {
    // {$set: incoming}: top-level fields replaced or appended.
    if (incoming._id !== undefined && !sameId(incoming._id, existing._id)) {
      throw new MongoError(ErrorCodes.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    return { ...existing, ...incoming, _id: existing._id };
  }
  return pipelineMerged(spec, whenMatched as readonly Document[], existing, incoming);
}

/** whenMatched: [pipeline]: an update pipeline on the target document, `$$new` being the incoming one. */
function pipelineMerged(spec: MergeSpec, pipeline: readonly Document[], existing: Document, incoming: Document): Document {
  const letSpec = spec.let ?? { new: '$$ROOT' };
  // The let expressions are evaluated against the incoming document (resolveLetVariablesIfNeeded).
  const variables = runPipeline([{ $replaceWith: letSpec }], [incoming])[0] ?? {};
  variables.new = incoming;
  const next = runPipeline(pipeline, [existing], { variables })[0] ?? {};
  if (next._id !== undefined && !sameId(next._id, existing._id)) {
    throw new MongoError(ErrorCodes.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return withIdFirst({ ...next, _id: existing._id });
}

/** mongod adds context to a DuplicateKey from $merge (DocumentSourceMerge::flush). */
function mergeDuplicateKey(err: MongoError, spec: MergeSpec): MongoError {
  const keyPattern = err.extra.keyPattern as Document | undefined;
  const fromOn = keyPattern !== undefined && spec.on.every((field) => field in keyPattern);
  const context =
    spec.whenMatched === 'fail' && fromOn
      ? "$merge with whenMatched: fail found an existing document with the same values for the 'on' fields"
      : '$merge failed due to a DuplicateKey error';
  return new MongoError(err.code, `${context} :: caused by :: ${err.message}`, { ...err.extra });
}

/** $merge of one output document into the target. */
function mergeOne(ctx: CommandContext, spec: MergeSpec, doc: Document): void {
  const { db, coll } = spec.target;
  // makeBatchObject: an `_id` is generated when `on` includes it and the document has none.
  const incoming = doc._id === undefined && spec.on.includes('_id') ? { ...doc, _id: new ObjectId() } : doc;
  if (spec.whenMatched === 'fail') {
    // fail + insert is a plain insert: a matching document is a DuplicateKey.
    ctx.server.catalog.ensure(db, coll).add(withIdFirst(incoming));
    return;
  }
  const filter = onFilter(incoming, spec.on);
  const collection = ctx.server.catalog.get(db, coll);
  let existing: Document | undefined;
  for (const candidate of collection === undefined ? [] : candidateDocuments(ctx.server, db, coll, filter) ?? []) {
    if (matches(filter, candidate)) {
      existing = candidate;
      break;
    }
  }
  if (existing === undefined) {
    if (spec.whenNotMatched === 'insert') ctx.server.catalog.ensure(db, coll).add(withIdFirst(incoming));
    else if (spec.whenNotMatched === 'fail') {
      throw new MongoError(
        ErrorCodes.MergeStageNoMatchingDocument,
        '$merge could not find a matching document in the target collection for at least one document in the source collection',
      );
    }
    return;
  }
  const next = mergedDocument(spec, existing, incoming);
  if (next !== undefined) collection!.replace(existing, next);
}

/** $merge: document by document, as mongod's batches apply them (earlier writes stay on an error). */
function writeMerge(ctx: CommandContext, spec: MergeSpec, docs: readonly Document[]): void {
  for (const doc of docs) {
    try {
      mergeOne(ctx, spec, doc);
    } catch (err) {
      throw err instanceof MongoError && err.code === ErrorCodes.DuplicateKey ? mergeDuplicateKey(err, spec) : err;
    }
  }
}

/** The write a pipeline's last stage asks for, if it is $out or $merge. */
function writerOf(ctx: CommandContext, last: Document | undefined): ((docs: readonly Document[]) => void) | undefined {
  const name = stageName(last);
  if (name === '$out') {
    const target = parseOut(ctx.db, last![name]);
    return (docs) => writeOut(ctx, target, docs);
  }
  if (name === '$merge') {
    const spec = parseMerge(ctx.db, last![name]);
    checkOnIndex(ctx, spec);
    return (docs) => writeMerge(ctx, spec, docs);
  }
  return undefined;
}

/** aggregate: the session stages, then mingo for the rest of the pipeline; results through a cursor. */
export function aggregate(ctx: CommandContext): Document {
  const target = ctx.body.aggregate;
  let collection: string | undefined;
  if (typeof target === 'string') collection = target;
  else if (numberValue(target) !== 1) {
    throw new MongoError(
      ErrorCodes.InvalidNamespace,
      `Invalid {aggregate: ...} value: must be a collection name or 1, found ${typeName(target)}`,
    );
  }
  const pipeline = ctx.body.pipeline;
  if (pipeline === undefined || pipeline === null) {
    throw missingField('aggregate.pipeline');
  }
  if (!Array.isArray(pipeline)) {
    throw wrongType(`aggregate.pipeline`, pipeline, 'array');
  }
  pipeline.forEach((stage: unknown, i: number) => {
    if (!isPlainObject(stage)) throw new MongoError(ErrorCodes.TypeMismatch, "Each element of the 'pipeline' array must be an object");
    if (Object.keys(stage).length !== 1) {
      throw new MongoError(LocationCodes.StageNotSingleField, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0]!;
    if (i > 0 && SOURCE_STAGES.has(name)) {
      throw new MongoError(LocationCodes.StageNotFirst, `${name} is only valid as the first stage in a pipeline.`);
    }
  });
  checkStages(ctx.db, pipeline);
  const explain = trueValue(ctx.body.explain);
  const cursorSpec = ctx.body.cursor;
  if (!explain && !isPlainObject(cursorSpec)) {
    throw new MongoError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  if (explain) throw new MongoError(ErrorCodes.CommandNotSupported, 'explain is not supported by pocketmongo yet');
  const batchSize = nonNegativeInt(cursorSpec.batchSize, 'batchSize', 'aggregate') ?? DEFAULT_FIRST_BATCH_SIZE;
  const stages = pipeline as Document[];
  const { docs, rest } = source(ctx, collection, stages[0]);
  const write = writerOf(ctx, stages[stages.length - 1]);
  // A missing foreign collection reads as an empty one, as in mongod.
  const read = (name: string): Iterable<Document> => collectionDocuments(ctx.server, ctx.db, name) ?? [];
  const results = runPipeline(stages.slice(rest, write === undefined ? undefined : -1), docs, { collection: read });
  const ns = collection === undefined ? `${ctx.db}.$cmd.aggregate` : `${ctx.db}.${collection}`;
  const open = (items: Iterator<Document>): Document =>
    ctx.server.cursors.open(ns, items, { lsid: ctx.lsid, batchSize, owner: userName(ctx.connection) });
  if (write === undefined) return { cursor: open(results[Symbol.iterator]()) };
  // $out and $merge answer an empty batch, the cursor closed (id 0).
  write(results);
  return { cursor: open([][Symbol.iterator]()) };
}
