/**
 * $bucket (the spec's shape was checked: pipeline/stageShapes.ts). Each document goes to the bucket
 * whose [lower, upper) range holds its groupBy value (BSON order, the collation's for strings),
 * else to the default; the buckets are output sorted by _id (their lower boundary or the default).
 *
 * Source: src/mongo/db/pipeline/document_source_bucket.cpp (desugared there into a $group whose
 * _id is a $switch over the ranges, then $sort {_id: 1}): boundaries must be constants (40191) of
 * one canonical type (40193), strictly ascending (40194); the default a constant (40195), below
 * the lowest or at/above the highest boundary when of their type (40199); no output spec means
 * {count: {$sum: 1}}. A value in no range without a default is $switch's 40066.
 */
import { LocationCodes } from '../../errors.js';
import type { Document } from 'bson';
import { canonicalTypeOrder } from '../../bson/bsonOrder.js';
import { typeName } from '../../bson/typeName.js';
import { valueText as elementValueText } from '../match/values.js';
import { valueText } from '../expression/values.js';
import { accumulate, createGroupState, GroupTable, groupDocument, parseStatements, type GroupState } from './group.js';
import { compileExpr, constantValue, scopeOf, type CompileContext, type CompiledStage } from './context.js';
import { fail } from './errors.js';
import type { Obj } from './values.js';

export function compileBucket(spec: unknown, cc: CompileContext): CompiledStage {
  const obj = spec as Obj;
  const now = new Date();
  const groupBy = compileExpr(obj.groupBy, cc);
  const boundaries = (obj.boundaries as unknown[]).map((b) => {
    const e = compileExpr(b, cc);
    if (!e.constant) fail(LocationCodes.BucketBoundariesNotConstant, `The $bucket 'boundaries' field must be an array of constant values, but found value: ${elementValueText(b)}.`);
    return constantValue(e, now);
  });
  for (let i = 1; i < boundaries.length; i++) {
    const lower = boundaries[i - 1];
    const upper = boundaries[i];
    if (canonicalTypeOrder(lower) !== canonicalTypeOrder(upper)) {
      fail(
        LocationCodes.BucketBoundariesTypes,
        `All values in the the 'boundaries' option to $bucket must have the same type. Found conflicting types ${typeName(lower)} and ${typeName(upper)}.`,
      );
    }
    if (!(cc.compare(lower, upper) < 0)) {
      fail(
        LocationCodes.BucketBoundariesNotSorted,
        `The 'boundaries' option to $bucket must be sorted, but elements ${i - 1} and ${i} are not in ascending order (${valueText(lower)} is not less than ${valueText(upper)}).`,
      );
    }
  }
  let hasDefault = false;
  let defaultValue: unknown;
  if ('default' in obj) {
    const e = compileExpr(obj.default, cc);
    if (!e.constant) fail(LocationCodes.BucketDefaultNotConstant, `The $bucket 'default' field must be a constant expression, but found: ${elementValueText(obj.default)}.`);
    defaultValue = constantValue(e, now);
    hasDefault = defaultValue !== undefined;
    const lowest = boundaries[0];
    const highest = boundaries[boundaries.length - 1];
    if (hasDefault && canonicalTypeOrder(defaultValue) === canonicalTypeOrder(lowest)) {
      if (!(cc.compare(defaultValue, lowest) < 0 || cc.compare(defaultValue, highest) >= 0)) {
        fail(LocationCodes.BucketDefaultInRange, "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.");
      }
    }
  }
  const output = obj.output === undefined ? { count: { $sum: 1 } } : (obj.output as Obj);
  const statements = parseStatements(
    Object.keys(output).map((k) => [k, output[k]] as const),
    cc,
  );
  /** The bucket of a value: the lower boundary of its range, or the default. */
  const bucketOf = (v: unknown): unknown => {
    const value = v === undefined ? undefined : v;
    // Boundaries are ascending in one total order: the last one not above the value.
    let lo = 0;
    let hi = boundaries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cc.compare(boundaries[mid], value) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i >= 0 && i < boundaries.length - 1) return boundaries[i];
    if (hasDefault) return defaultValue;
    return fail(LocationCodes.SwitchNoMatch, '$switch could not find a matching branch for an input, and no default was specified.');
  };
  return {
    name: '$bucket',
    fallback: false,
    run(input, run) {
      const table = new GroupTable<GroupState>(cc);
      for (const doc of input) {
        const key = bucketOf(groupBy.evaluate(scopeOf(doc, run)));
        accumulate(statements, table.getOrCreate(key, (k) => createGroupState(statements, k, run)), doc, run);
      }
      const buckets: Document[] = table.entries().map(({ key, value }) => groupDocument(key, statements, value));
      return buckets.sort((a, b) => cc.compare(a._id, b._id));
    },
  };
}
