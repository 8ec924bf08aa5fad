import { ErrorCodes, MongoError } from '../errors.js';
import { isPlainObject } from '../bson/args.js';

// The shape of a pipeline as mongod's lite parser sees it: each stage's name, the pipelines nested
// in stages ($lookup, $unionWith, $facet), and their checks as parsePipelineFromBSON makes them.

/** The name of a stage (its one field), if it is a document. */
export function stageName(stage: unknown): string | undefined {
  return isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
}

/** Whether a sub-pipeline makes its own documents ($documents first), reading no collection. */
export function startsWithDocuments(pipeline: unknown): boolean {
  return Array.isArray(pipeline) && stageName(pipeline[0]) === '$documents';
}

/** parsePipelineFromBSON (aggregation_request_helper.cpp). */
export function checkSubPipeline(pipeline: unknown): unknown[] {
  if (!Array.isArray(pipeline)) throw new MongoError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    if (!isPlainObject(stage)) throw new MongoError(ErrorCodes.TypeMismatch, "Each element of the 'pipeline' array must be an object");
  }
  return pipeline;
}

/** A pipeline nested in a stage, and the stage nesting it (which forbids $out and $merge in it). */
export interface SubPipeline {
  readonly within: '$lookup' | '$unionWith' | '$facet';
  readonly stages: readonly unknown[];
}

/** The pipelines a stage nests. */
export function subPipelines(name: string, spec: unknown): SubPipeline[] {
  if (!isPlainObject(spec)) return [];
  if ((name === '$lookup' || name === '$unionWith') && Array.isArray(spec.pipeline)) return [{ within: name, stages: spec.pipeline }];
  if (name === '$facet') {
    return Object.values(spec).filter((p): p is unknown[] => Array.isArray(p)).map((stages) => ({ within: '$facet' as const, stages }));
  }
  return [];
}

