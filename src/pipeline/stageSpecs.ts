import type { Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { unknownField, wrongType } from '../bson/idlErrors.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';
import { checkSubPipeline, stageName, startsWithDocuments, subPipelines, type SubPipeline } from './pipelineShape.js';
import { checkStageShape } from './stageShapes.js';
import { parseMerge, parseOut, WRITE_STAGES } from './writeStageSpecs.js';

// Stages that read other collections ($lookup, $graphLookup, $unionWith): their specs are checked
// here, as mongod's parsers do, before mingo sees them (mingo would read an array `from` as inline
// documents, and ignores unknown arguments). The specs of $out and $merge are checked too (their
// parsers are in writeStageSpecs), where they stand, and that no sub-pipeline holds one.

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
export function checkStages(db: string, stages: readonly unknown[], within?: SubPipeline['within']): void {
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
    else checkStageShape(name, spec);
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
