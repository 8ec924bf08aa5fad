/**
 * $bucketAuto: the documents sorted by their groupBy value, then cut into `buckets` buckets of
 * about the same number of documents, equal values never split across two buckets.
 *
 * Source: src/mongo/db/pipeline/document_source_bucket_auto.cpp. createFromBson reads the fields
 * in order: groupBy (an expression object whose first field starts with "$", or a "$path" of two
 * characters or more: 40239), buckets (numeric 40241, an int32 40242), output (an object 40244 of
 * accumulation statements whose initializers are constants: 4544714), granularity (a string 40261
 * naming a rounder: granularity.ts); anything else 40245; then 40246 without groupBy or buckets,
 * 40243 for buckets below 1. No output means {count: {$sum: 1}}.
 *
 * Running: each document's key is its groupBy value (missing as null; with a granularity a
 * number 40258, not NaN 40259, not negative 40260), the documents sorted by key (the collation's
 * order, ties in input order). Each bucket takes round(n / buckets) documents (at least one; the
 * last bucket all that remain), then the following documents whose key equals its last key. The
 * bucket's _id is {min, max}: min its first key, max the next bucket's first key (its own last key
 * for the last bucket). With a granularity, max is its last key rounded up, documents below that
 * boundary join the bucket too, min is the previous bucket's max (the first key rounded down for
 * the first bucket), and a boundary that rounds to 0 becomes the next key rounded down. The
 * accumulators see the bucket's documents in key order; a missing result is null.
 */
import { Int32, type Document } from 'bson';
import { typeName } from '../../bson/typeName.js';
import { LocationCodes } from '../../errors.js';
import type { CompiledExpression } from '../expression/compile.js';
import { typeName as valueTypeName } from '../expression/values.js';
import { objectKind, valueText as elementValueText } from '../match/values.js';
import { cppDoubleText, integral, isNumeric, toDouble, type BsonNumber } from '../numeric.js';
import { parseAccumulationStatement, type AccumulationStatement } from './accumulators.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail } from './errors.js';
import { granularityRounder, type GranularityRounder } from './granularity.js';
import { accumulate, createGroupState, exactKeyFunction, groupDocument, type GroupState } from './group.js';
import type { Obj } from './values.js';

/** parseGroupByExpression: an operator object, or a field path / variable of two characters or more. */
function parseGroupBy(value: unknown, cc: CompileContext): CompiledExpression {
  const isOperator = objectKind(value) === 1 && (Object.keys(value as Obj)[0] ?? '').startsWith('$');
  const isPath = typeof value === 'string' && value.length >= 2 && value.startsWith('$');
  if (!isOperator && !isPath) {
    fail(
      LocationCodes.BucketAutoGroupByNotExpression,
      `The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an expression object, but found: ${elementValueText(value)}`,
    );
  }
  return compileExpr(value, cc);
}

/** The number of buckets: a numeric value an int32 holds exactly (Value::integral). */
function parseBuckets(value: unknown): number {
  if (!isNumeric(value)) fail(LocationCodes.BucketAutoBucketsNotNumeric, `The $bucketAuto 'buckets' field must be a numeric value, but found type: ${typeName(value)}`);
  const x = toDouble(value as BsonNumber);
  if (!integral(value)) fail(LocationCodes.BucketAutoBucketsNotInt32, `The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but found ${cppDoubleText(x)}`);
  return Math.trunc(x);
}

interface Entry {
  readonly key: unknown;
  readonly doc: Document;
}

interface Bucket {
  min: unknown;
  max: unknown;
  readonly state: GroupState;
}

export function compileBucketAuto(spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(LocationCodes.BucketAutoNotObject, `The argument to $bucketAuto must be an object, but found type: ${typeName(spec)}`);
  const obj = spec as Obj;
  let groupBy: CompiledExpression | undefined;
  let buckets: number | undefined;
  let rounder: GranularityRounder | undefined;
  const statements: AccumulationStatement[] = [];
  const keyOf = exactKeyFunction(cc);
  for (const name of Object.keys(obj)) {
    const value = obj[name];
    if (name === 'groupBy') groupBy = parseGroupBy(value, cc);
    else if (name === 'buckets') buckets = parseBuckets(value);
    else if (name === 'output') {
      if (objectKind(value) !== 1) fail(LocationCodes.BucketAutoOutputNotObject, `The $bucketAuto 'output' field must be an object, but found type: ${typeName(value)}`);
      const output = value as Obj;
      for (const field of Object.keys(output)) {
        const statement = parseAccumulationStatement(field, output[field], cc, keyOf);
        if (statement.initializer !== undefined && !statement.initializer.constant) {
          fail(LocationCodes.BucketAutoInitializerNotConstant, "Can't refer to the group key in $bucketAuto");
        }
        statements.push(statement);
      }
    } else if (name === 'granularity') {
      if (typeof value !== 'string') fail(LocationCodes.BucketAutoGranularityNotString, `The $bucketAuto 'granularity' field must be a string, but found type: ${typeName(value)}`);
      rounder = granularityRounder(value);
    } else {
      fail(LocationCodes.BucketAutoUnknownOption, `Unrecognized option to $bucketAuto: ${name}`);
    }
  }
  if (groupBy === undefined || buckets === undefined) fail(LocationCodes.BucketAutoMissingArgument, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
  if (buckets <= 0) fail(LocationCodes.BucketAutoBucketsNotPositive, `The $bucketAuto 'buckets' field must be greater than 0, but found: ${buckets}`);
  if (statements.length === 0) statements.push(parseAccumulationStatement('count', { $sum: new Int32(1) }, cc, keyOf));
  const keyExpr = groupBy;
  const nBuckets = buckets;

  /** extractKey: the groupBy value (missing as null), checked for a granularity. */
  const keyOfDoc = (doc: Document, run: RunContext): unknown => {
    const key = keyExpr.evaluate(scopeOf(doc, run));
    if (rounder !== undefined) {
      if (!isNumeric(key)) {
        fail(
          LocationCodes.BucketAutoGranularityNotNumeric,
          `$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a value with type: ${valueTypeName(key)}`,
        );
      }
      const x = toDouble(key as BsonNumber);
      if (x !== x) fail(LocationCodes.BucketAutoGranularityNaN, "$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a NaN");
      if (!(x >= 0)) fail(LocationCodes.BucketAutoGranularityNegative, "$bucketAuto can specify a 'granularity' with non-negative numbers only, but found a negative number");
    }
    return key === undefined ? null : key;
  };

  return {
    name: '$bucketAuto',
    fallback: false,
    *run(input, run) {
      const entries: Entry[] = [];
      for (const doc of input) entries.push({ key: keyOfDoc(doc, run), doc });
      // Array.prototype.sort is stable: equal keys keep their input order.
      entries.sort((a, b) => cc.compare(a.key, b.key));
      const approxBucketSize = Math.max(1, Math.round(entries.length / nBuckets));
      let next = 0;
      const add = (bucket: Bucket, entry: Entry): void => {
        bucket.max = entry.key;
        accumulate(statements, bucket.state, entry.doc, run);
      };
      let previousMax: unknown;
      let hasPreviousMax = false;
      for (let number = 1; number <= nBuckets && next < entries.length; number++) {
        const first = entries[next++]!;
        const bucket: Bucket = { min: first.key, max: first.key, state: createGroupState(statements, null, run) };
        if (rounder !== undefined) bucket.min = hasPreviousMax ? previousMax : rounder.roundDown(first.key);
        add(bucket, first);
        const isLast = number === nBuckets;
        for (let i = 1; next < entries.length && (i < approxBucketSize || isLast); i++) add(bucket, entries[next++]!);
        // adjustBoundariesAndGetMinForNextBucket
        if (rounder !== undefined) {
          const boundary = rounder.roundUp(bucket.max);
          while (next < entries.length && (cc.compare(boundary, entries[next]!.key) > 0 || cc.compare(bucket.max, entries[next]!.key) === 0)) {
            add(bucket, entries[next++]!);
          }
          // A boundary of 0 (the largest key of the first buckets is 0): the next key rounded
          // down, so that this bucket's max stays exclusive and the next one's min inclusive.
          bucket.max = toDouble(boundary as BsonNumber) === 0 && next < entries.length ? rounder.roundDown(entries[next]!.key) : boundary;
        } else {
          while (next < entries.length && cc.compare(bucket.max, entries[next]!.key) === 0) add(bucket, entries[next++]!);
          if (next < entries.length) bucket.max = entries[next]!.key;
        }
        previousMax = bucket.max;
        hasPreviousMax = true;
        yield groupDocument({ min: bucket.min, max: bucket.max }, statements, bucket.state);
      }
    },
  };
}
