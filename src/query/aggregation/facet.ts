/**
 * $facet (the spec's shape was checked: pipeline/stageShapes.ts): every sub-pipeline runs over the
 * same input documents; one output document holds each one's results, in spec order.
 *
 * Source: src/mongo/db/pipeline/document_source_facet.cpp (40600 for a stage not allowed inside a
 * $facet: StageConstraints::isAllowedInsideFacetStage, false for $facet itself, the source and
 * collection-statistics stages and the writing stages).
 */
import { LocationCodes } from '../../errors.js';
import type { Document } from 'bson';
import type { CompileContext, CompiledStage } from './context.js';
import { fail } from './errors.js';
import type { SubPipelineCompiler } from './joins.js';
import { setField, type Obj } from './values.js';

const NOT_IN_FACET = new Set([
  '$facet',
  '$collStats',
  '$indexStats',
  '$geoNear',
  '$out',
  '$merge',
  '$changeStream',
  '$planCacheStats',
  '$currentOp',
  '$listSessions',
  '$listLocalSessions',
  '$search',
  '$searchMeta',
  '$vectorSearch',
]);

export function compileFacet(spec: unknown, cc: CompileContext, compileSub: SubPipelineCompiler): CompiledStage {
  const obj = spec as Obj;
  const facets = Object.keys(obj).map((name) => {
    const stages = obj[name] as Document[];
    for (const stage of stages) {
      const stageName = Object.keys(stage)[0]!;
      if (NOT_IN_FACET.has(stageName)) fail(LocationCodes.FacetNestedStage, `${stageName} is not allowed to be used within a $facet stage`);
    }
    return [name, compileSub(stages, { ...cc, inFacet: true })] as const;
  });
  return {
    name: '$facet',
    fallback: false,
    *run(input, run) {
      const docs = [...input];
      const out: Obj = {};
      for (const [name, pipeline] of facets) setField(out, name, [...pipeline.run(docs, run)]);
      yield out;
    },
  };
}
