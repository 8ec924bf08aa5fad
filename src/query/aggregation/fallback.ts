/**
 * The mingo bridge: a stage this folder does not evaluate (a stage it lacks, or one using an
 * expression operator or accumulator the expression module does not evaluate yet: a 115 while
 * compiling it) runs alone in mingo, through query/mingo.ts runPipeline: its input documents are
 * converted to mingo's numeric view (toQueryValue), and its results come back as mingo makes them
 * (documents passed through unchanged are the input's; reshaped ones are retyped by a guess).
 * That stage is approximate for numbers beyond a double's precision and for the numeric types
 * of the values it computes; the stages after it keep what they get.
 */
import type { Document } from 'bson';
import { LocationCodes, MongoError } from '../../errors.js';
import { mingo, runPipeline as runMingoPipeline } from '../mingo.js';
import { finalRefusal } from '../queryErrors.js';
import type { CompiledStage } from './context.js';

/** The stages mongod 7.0 knows (to tell "not supported here" from an unknown stage name). */
const MONGOD_STAGES = new Set([
  '$addFields', '$bucket', '$bucketAuto', '$changeStream', '$changeStreamSplitLargeEvent', '$collStats', '$count',
  '$currentOp', '$densify', '$documents', '$facet', '$fill', '$geoNear', '$graphLookup', '$group', '$indexStats',
  '$limit', '$listLocalSessions', '$listSampledQueries', '$listSearchIndexes', '$listSessions', '$lookup', '$match',
  '$merge', '$out', '$planCacheStats', '$project', '$redact', '$replaceRoot', '$replaceWith', '$sample', '$search',
  '$searchMeta', '$set', '$setWindowFields', '$shardedDataDistribution', '$skip', '$sort', '$sortByCount',
  '$unionWith', '$unset', '$unwind', '$vectorSearch',
]);

/** Whether mingo has the stage. */
export function mingoHasStage(name: string): boolean {
  return Object.hasOwn(mingo().operators.pipeline, name);
}

/**
 * The stage, run by mingo. Throws at compile time when neither mingo nor this folder has the stage:
 * 40324 for a name mongod does not know either, 115 for one it knows.
 */
export function fallbackStage(name: string, stage: Document): CompiledStage {
  if (!mingoHasStage(name)) {
    if (MONGOD_STAGES.has(name)) throw finalRefusal(`the ${name} stage`);
    throw new MongoError(LocationCodes.UnrecognizedStage, `Unrecognized pipeline stage name: '${name}'`);
  }
  return {
    name,
    fallback: true,
    run: (input, run) => runMingoPipeline([stage], input, { collection: run.collection, variables: run.variablesDoc }),
  };
}
