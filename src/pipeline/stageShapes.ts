
import { bsonText } from '../bson/bsonText.js';
import { MongoError } from '../errors.js';
import { missingField, unknownField } from '../bson/idlErrors.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';
import { isGranularity } from '../query/aggregation/granularity.js';
import { cppDoubleText } from '../query/numeric.js';

// The shape checks mongod's stage parsers make (createFromBson) for the stages mingo runs without
// looking at their arguments: a spec of the wrong type there ends in a JavaScript error inside
// mingo. Codes and texts are mongod 7.0's (document_source_*.cpp).

function fail(code: number, message: string): never {
  throw new MongoError(code, message);
}

/** DocumentSourceFacet::createFromBson. */
function checkFacet(spec: unknown): void {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0) {
    fail(40169, `the $facet specification must be a non-empty object, but found: $facet: ${bsonText(spec)}`);
  }
  for (const [name, pipeline] of Object.entries(spec)) {
    if (!Array.isArray(pipeline)) fail(40170, `arguments to $facet must be arrays, ${name} is type ${typeName(pipeline)}`);
    for (const stage of pipeline) {
      if (!isPlainObject(stage) || Object.keys(stage).length === 0) {
        fail(40171, `elements of arrays in $facet spec must be non-empty objects, ${name} argument contained an element of type ${typeName(stage)}: ${bsonText(stage)}`);
      }
    }
  }
}

/** DocumentSourceSample::createFromBson. */
function checkSample(spec: unknown): void {
  if (!isPlainObject(spec)) fail(28745, 'the $sample stage specification must be an object');
  let sized = false;
  for (const [name, value] of Object.entries(spec)) {
    if (name !== 'size') fail(28748, `unrecognized option to $sample: ${name}`);
    const n = numberValue(value);
    if (n === undefined) fail(28746, 'size argument to $sample must be a number');
    if (n < 0) fail(28747, 'size argument to $sample must not be negative');
    sized = true;
  }
  if (!sized) fail(28749, '$sample stage must specify a size');
}

/** DocumentSourceReplaceRoot::createFromBson, then the ReplaceRootSpec IDL parser. */
function checkReplaceRoot(spec: unknown): void {
  if (!isPlainObject(spec)) fail(40229, `expected an object as specification for $replaceRoot stage, got ${typeName(spec)}`);
  for (const name of Object.keys(spec)) if (name !== 'newRoot') throw unknownField(`$replaceRoot.${name}`);
  if (!('newRoot' in spec)) throw missingField('$replaceRoot.newRoot');
}

/** DocumentSourceUnwind::createFromBson. */
function checkUnwind(spec: unknown): void {
  let path: string;
  if (typeof spec === 'string') path = spec;
  else if (isPlainObject(spec)) {
    path = '';
    for (const [name, value] of Object.entries(spec)) {
      if (name === 'path') {
        if (typeof value !== 'string') fail(28808, `expected a string as the path for $unwind stage, got ${typeName(value)}`);
        path = value;
      } else if (name === 'preserveNullAndEmptyArrays') {
        if (typeof value !== 'boolean') fail(28809, `expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage, got ${typeName(value)}`);
      } else if (name === 'includeArrayIndex') {
        if (typeof value !== 'string' || value.length === 0) {
          fail(28810, `expected a non-empty string for the includeArrayIndex  option to $unwind stage, got ${typeName(value)}`);
        }
        if (value.startsWith('$')) fail(28822, `includeArrayIndex option to $unwind stage should not be prefixed with a '$': ${value}`);
      } else {
        fail(28811, `unrecognized option to $unwind stage: ${name}`);
      }
    }
  } else {
    fail(15981, `expected either a string or an object as specification for $unwind stage, got ${typeName(spec)}`);
  }
  if (path.length === 0) fail(28812, 'no path specified to $unwind stage');
  if (!path.startsWith('$')) fail(28818, `path option to $unwind stage should be prefixed with a '$': ${path}`);
}

/** DocumentSourceGroupBase::initializeFromBson (the accumulators' names are mingo's to check). */
function checkGroup(spec: unknown): void {
  if (!isPlainObject(spec)) fail(15947, "a group's fields must be specified in an object");
  if (!('_id' in spec)) fail(15955, 'a group specification must include an _id');
  for (const [name, value] of Object.entries(spec)) {
    if (name === '_id') continue;
    if (!isPlainObject(value)) fail(40234, `The field '${name}' must be an accumulator object`);
    if (Object.keys(value).length !== 1) fail(40238, `The field '${name}' must specify one accumulator`);
  }
}

/** DocumentSourceBucket::createFromBson. */
function checkBucket(spec: unknown): void {
  if (!isPlainObject(spec)) fail(40201, `Argument to $bucket stage must be an object, but found type: ${typeName(spec)}.`);
  for (const [name, value] of Object.entries(spec)) {
    if (name === 'groupBy') {
      if (!(typeof value === 'string' && value.startsWith('$')) && !isPlainObject(value)) {
        fail(40202, `The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: ${bsonText(value)}.`);
      }
    } else if (name === 'boundaries') {
      if (!Array.isArray(value)) fail(40200, `The $bucket 'boundaries' field must be an array, but found type: ${typeName(value)}.`);
      if (value.length < 2) fail(40192, `The $bucket 'boundaries' field must have at least 2 values, but found ${value.length} value(s).`);
    } else if (name === 'output') {
      if (!isPlainObject(value)) fail(40196, `The $bucket 'output' field must be an object, but found type: ${typeName(value)}.`);
    } else if (name !== 'default') {
      fail(40197, `Unrecognized option to $bucket: ${name}.`);
    }
  }
  if (!('groupBy' in spec) || !('boundaries' in spec)) fail(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.");
}

/**
 * DocumentSourceBucketAuto::createFromBson: the fields in order, then 40246, then 40243 (the
 * groupBy and output expressions are parsed when the runner compiles the stage).
 */
function checkBucketAuto(spec: unknown): void {
  if (!isPlainObject(spec)) fail(40240, `The argument to $bucketAuto must be an object, but found type: ${typeName(spec)}`);
  let buckets: number | undefined;
  for (const [name, value] of Object.entries(spec)) {
    if (name === 'groupBy') {
      const isOperator = isPlainObject(value) && (Object.keys(value)[0] ?? '').startsWith('$');
      const isPath = typeof value === 'string' && value.length >= 2 && value.startsWith('$');
      if (!isOperator && !isPath) {
        fail(40239, `The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an expression object, but found: ${bsonText(value)}`);
      }
    } else if (name === 'buckets') {
      const n = numberValue(value);
      if (n === undefined) fail(40241, `The $bucketAuto 'buckets' field must be a numeric value, but found type: ${typeName(value)}`);
      if (!Number.isInteger(n) || n > 2147483647 || n < -2147483648) {
        fail(40242, `The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but found ${cppDoubleText(n)}`);
      }
      buckets = n;
    } else if (name === 'output') {
      if (!isPlainObject(value)) fail(40244, `The $bucketAuto 'output' field must be an object, but found type: ${typeName(value)}`);
    } else if (name === 'granularity') {
      if (typeof value !== 'string') fail(40261, `The $bucketAuto 'granularity' field must be a string, but found type: ${typeName(value)}`);
      if (!isGranularity(value)) fail(40257, `Unknown rounding granularity '${value}'`);
    } else {
      fail(40245, `Unrecognized option to $bucketAuto: ${name}`);
    }
  }
  if (!('groupBy' in spec) || buckets === undefined) fail(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
  if (buckets <= 0) fail(40243, `The $bucketAuto 'buckets' field must be greater than 0, but found: ${buckets}`);
}

const CHECKS: Readonly<Record<string, (spec: unknown) => void>> = {
  $facet: checkFacet,
  $sample: checkSample,
  $replaceRoot: checkReplaceRoot,
  $unwind: checkUnwind,
  $group: checkGroup,
  $bucket: checkBucket,
  $bucketAuto: checkBucketAuto,
};

/** Checks the spec of a stage mingo would run without checking it. */
export function checkStageShape(name: string, spec: unknown): void {
  CHECKS[name]?.(spec);
}


