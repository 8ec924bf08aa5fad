import type { Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { isPlainObject } from '../bson/args.js';
import { runPipeline } from '../query/aggregation/run.js';
import { parseCollStats } from './collStats.js';
import { stageName, startsWithDocuments, subPipelines } from './pipelineShape.js';
import { checkStages } from './stageSpecs.js';

// A view's pipeline, checked as mongod checks it when a view is created or modified
// (view_catalog_helpers.cpp validatePipeline, called by views_for_database.cpp _upsertIntoGraph):
// the lite parse first (an unknown or malformed stage, its error as is), then the full parse and
// the view rules, whose errors say "Invalid pipeline for view <ns> :: caused by :: ...".

/** The stages that make their own documents, and where mongod's parser refuses them on a collection. */
const SOURCE_STAGE_ERRORS: Readonly<Record<string, (db: string, viewOn: string) => MongoError | undefined>> = {
  $changeStream: () => new MongoError(LocationCodes.ChangeStreamNotReplicaSet, 'The $changeStream stage is only supported on replica sets'),
  $currentOp: () => new MongoError(ErrorCodes.InvalidNamespace, "$currentOp must be run against the 'admin' database with {aggregate: 1}"),
  $listLocalSessions: () =>
    new MongoError(ErrorCodes.InvalidNamespace, '$listLocalSessions must be run against the database with {aggregate: 1}, not a collection'),
  $listSessions: (db, viewOn) =>
    db === 'config' && viewOn === 'system.sessions' ? undefined : new MongoError(ErrorCodes.InvalidNamespace, '$listSessions may only be run against config.system.sessions'),
};

/** Stages only valid first in a pipeline (Pipeline::validateCommon, 40602). */
const FIRST_STAGES = new Set(['$changeStream', '$collStats', '$currentOp', '$documents', '$listLocalSessions', '$listSessions']);

/** Stages whose spec parses into several stages (their desugared form): what a stage's location counts. */
const DESUGARED_LENGTH: Readonly<Record<string, number>> = { $bucket: 2, $count: 2, $sortByCount: 2, $documents: 4 };

/**
 * The collections a pipeline reads besides its own input, at any depth: $lookup's and
 * $graphLookup's `from`, $unionWith's collection (LiteParsedPipeline::getInvolvedNamespaces), in
 * the order they appear.
 */
export function involvedCollections(stages: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const stage of stages) {
    const name = stageName(stage);
    if (name === undefined) continue;
    const spec = (stage as Document)[name];
    if (name === '$lookup' && isPlainObject(spec)) addName(names, spec.from);
    else if (name === '$graphLookup' && isPlainObject(spec)) addName(names, spec.from);
    else if (name === '$unionWith') addName(names, isPlainObject(spec) ? (startsWithDocuments(spec.pipeline) ? undefined : spec.coll) : spec);
    for (const sub of subPipelines(name, spec)) for (const nested of involvedCollections(sub.stages)) addName(names, nested);
  }
  return names;
}

/** A collection name into the list, once (a function, not a closure made per aggregate). */
function addName(names: string[], name: unknown): void {
  if (typeof name === 'string' && !names.includes(name)) names.push(name);
}

/**
 * Checks `pipeline` as the definition of view `db.view` over `viewOn`, as mongod does before it
 * stores one. Throws mongod's errors: the lite parser's as they are (40323, 40324), the parser's
 * and the view rules' in the view's context ($out and $merge write to disk: 167; $documents
 * reads no collection: 73).
 */
export function checkViewPipeline(db: string, view: string, viewOn: string, pipeline: readonly Document[]): void {
  const ns = `${db}.${view}`;
  const inContext = (err: unknown): unknown =>
    // pocketmongo's own refusals (115) stay as they are: they are not mongod's errors.
    err instanceof MongoError && err.code !== ErrorCodes.CommandNotSupported ? new MongoError(err.code, `Invalid pipeline for view ${ns} :: caused by :: ${err.message}`, { ...err.extra }) : err;
  // LiteParsedPipeline: every stage one field, and a stage mongod knows.
  for (const stage of pipeline) {
    if (Object.keys(stage).length !== 1) {
      throw new MongoError(LocationCodes.StageNotSingleField, 'A pipeline stage specification object must contain exactly one field.');
    }
  }
  for (const stage of pipeline) {
    try {
      runPipeline([stage], []);
    } catch (err) {
      if (err instanceof MongoError && err.code === LocationCodes.UnrecognizedStage) throw err;
    }
  }
  try {
    // Pipeline::parse: each stage's parser, in order.
    for (const stage of pipeline) {
      const name = stageName(stage)!;
      const refusal = SOURCE_STAGE_ERRORS[name]?.(db, viewOn);
      if (refusal !== undefined) throw refusal;
      if (name === '$collStats') parseCollStats(stage[name], {});
    }
    checkSpecs(db, pipeline);
    runPipeline(
      pipeline.filter((stage) => !FIRST_STAGES.has(stageName(stage)!) && stageName(stage) !== '$out' && stageName(stage) !== '$merge'),
      [],
    );
    checkViewRules(ns, pipeline);
    pipeline.forEach((stage, i) => {
      const name = stageName(stage)!;
      if (i > 0 && FIRST_STAGES.has(name)) throw new MongoError(LocationCodes.StageNotFirst, `${name} is only valid as the first stage in a pipeline.`);
    });
  } catch (err) {
    throw inContext(err);
  }
}

/** The stage specs' checks (stageSpecs.ts); where $out and $merge stand is the view rules' concern. */
function checkSpecs(db: string, pipeline: readonly Document[]): void {
  try {
    checkStages(db, pipeline);
  } catch (err) {
    if (!(err instanceof MongoError && err.code === LocationCodes.StageNotLast)) throw err;
  }
}

/**
 * The validator validatePipeline gives Pipeline::parse: no stage that writes, no collection-less
 * stage (a change stream, also refused there, fails earlier on a standalone server).
 */
function checkViewRules(ns: string, pipeline: readonly Document[]): void {
  let location = 0;
  for (const stage of pipeline) {
    const name = stageName(stage)!;
    if (name === '$out' || name === '$merge') {
      throw new MongoError(
        ErrorCodes.OptionNotSupportedOnView,
        `The aggregation stage ${name} in location ${location} of the pipeline cannot be used in the view definition of ${ns} because it writes to disk`,
      );
    }
    location += DESUGARED_LENGTH[name] ?? 1;
  }
  const independent = pipeline.find((stage) => stageName(stage) === '$documents');
  if (independent !== undefined) throw new MongoError(ErrorCodes.InvalidNamespace, "'$documents' cannot be used in a view definition");
}
