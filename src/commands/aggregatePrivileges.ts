import type { Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import { Resource } from '../auth/privileges.js';
import { stageName, startsWithDocuments, subPipelines } from '../pipeline/pipelineShape.js';
import { mergeActions, parseMerge, parseOut } from '../pipeline/writeStageSpecs.js';
import { isPlainObject } from '../bson/args.js';
import type { CommandContext } from './types.js';

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
 * users' sessions, checked while parsing its spec). $collStats makes its own document (an initial
 * source: no find on the collection) and needs collStats on the namespace
 * (DocumentSourceCollStats::LiteParsed::requiredPrivileges).
 */
export function aggregatePrivileges(ctx: CommandContext): Requirement[] {
  const pipeline: unknown[] = Array.isArray(ctx.body.pipeline) ? ctx.body.pipeline : [];
  const stage = stageName(pipeline[0]);
  if (stage === '$listLocalSessions' || stage === '$listSessions' || typeof ctx.body.aggregate !== 'string') return [];
  const ns = Resource.namespace(ctx.db, ctx.body.aggregate);
  const first: Requirement = { resource: ns, actions: [stage === '$collStats' ? 'collStats' : 'find'] };
  return [first, ...stagePrivileges(ctx.db, pipeline)];
}
