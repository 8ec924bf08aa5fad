/**
 * The aggregation pipeline runner on stored BSON values.
 *
 *   runPipeline(stages, docs, context?) -> Document[]
 *
 * Every stage is compiled first (mongod parses the whole pipeline before reading a document: its
 * errors come before any document is read), then the documents stream through the stages
 * (generators: a $limit stops reading its input). The stages of this folder compute on the
 * stored values themselves: numbers keep their BSON types exactly ($sum of Longs is a Long,
 * Decimal128 "1.10" + "2.20" is "3.30"), $group groups by mongod's equality, and values passed
 * through are the input's own objects. A stage this folder does not evaluate (fallback.ts: a
 * stage it lacks, or a 115 from the expression module or an accumulator while compiling it) runs
 * alone in mingo; the stages after it keep what it gives them.
 *
 * Stages here: $match, $project, $unset, $addFields, $set, $replaceRoot, $replaceWith, $group,
 * $unwind, $sort, $limit, $skip, $sample, $count, $sortByCount, $bucket, $facet, $lookup,
 * $unionWith, $graphLookup, $documents, $setWindowFields, $fill, $redact, $bucketAuto, $densify
 * ($sort by {$meta} included). Through mingo: only a stage whose expressions or accumulators this
 * folder refuses (115).
 */
import type { Document } from 'bson';
import { MongoError } from '../../errors.js';
import { compileBucket } from './bucket.js';
import { compileBucketAuto } from './bucketAuto.js';
import { scopeFor } from '../expression/compile.js';
import { compileExpr, isNotSupported, makeCompileContext, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { compileDensify } from './densify.js';
import { compileDocuments } from './documents.js';
import { compileFacet } from './facet.js';
import { compileFill } from './fill.js';
import { fallbackStage } from './fallback.js';
import { isFinalRefusal } from '../queryErrors.js';
import { compileGroup } from './group.js';
import { compileGraphLookup, compileLookup, compileUnionWith, type CompiledPipeline } from './joins.js';
import { compileMatch } from './match.js';
import { compileRedact } from './redact.js';
import { compileAddFields, compileProject, compileReplaceRoot, compileUnset } from './reshape.js';
import { compileCount, compileLimit, compileSample, compileSkip, compileSort, compileSortByCount } from './sortLimit.js';
import { compileUnwind } from './unwind.js';
import { compileSetWindowFields } from './window.js';

export interface PipelineContext {
  /** Documents of a collection of the pipeline's database ($lookup, $graphLookup, $unionWith); a missing one reads as empty. */
  readonly collection?: (name: string) => Iterable<Document>;
  /** `let` variables of the command ($$name): their values (see evaluateLetVariables). */
  readonly variables?: Document;
  readonly collation?: Document;
  /** One NOW per command. */
  readonly now?: Date;
}

/** Compiles one stage: ours when we evaluate it, else mingo's (fallback.ts). */
function compileStage(stage: Document, cc: CompileContext): CompiledStage {
  const name = Object.keys(stage)[0]!;
  const spec = stage[name];
  try {
    const ours = compileOurs(name, spec, cc);
    if (ours !== undefined) return ours;
  } catch (err) {
    // A spec the command layer's checks would have refused (runPipeline called directly) can end
    // in a JavaScript error here: mingo then answers for it, as before this runner.
    if (err instanceof MongoError && (!isNotSupported(err) || isFinalRefusal(err))) throw err;
  }
  return fallbackStage(name, stage);
}

function compileOurs(name: string, spec: unknown, cc: CompileContext): CompiledStage | undefined {
  switch (name) {
    case '$match':
      return compileMatch(spec, cc);
    case '$project':
      return compileProject(spec, cc);
    case '$unset':
      return compileUnset(spec, cc);
    case '$addFields':
    case '$set':
      return compileAddFields(name, spec, cc);
    case '$replaceRoot':
    case '$replaceWith':
      return compileReplaceRoot(name, spec, cc);
    case '$group':
      return compileGroup(spec, cc);
    case '$unwind':
      return compileUnwind(spec);
    case '$sort':
      return compileSort(spec, cc);
    case '$limit':
      return compileLimit(spec);
    case '$skip':
      return compileSkip(spec);
    case '$sample':
      return compileSample(spec);
    case '$count':
      return compileCount(spec);
    case '$sortByCount':
      return compileSortByCount(spec, cc);
    case '$bucket':
      return compileBucket(spec, cc);
    case '$facet':
      return compileFacet(spec, cc, compilePipeline);
    case '$lookup':
      return compileLookup(spec, cc, compilePipeline);
    case '$unionWith':
      return compileUnionWith(spec, cc, compilePipeline);
    case '$graphLookup':
      return compileGraphLookup(spec, cc);
    case '$documents':
      return compileDocuments(spec, cc);
    case '$setWindowFields':
      return compileSetWindowFields(spec, cc);
    case '$fill':
      return compileFill(spec, cc);
    case '$redact':
      return compileRedact(spec, cc);
    case '$bucketAuto':
      return compileBucketAuto(spec, cc);
    case '$densify':
      return compileDensify(spec, cc);
    default:
      return undefined;
  }
}

/** Compiles a pipeline (its stages in order, each checked before any runs). */
export function compilePipeline(stages: readonly Document[], cc: CompileContext): CompiledPipeline & { readonly stages: readonly CompiledStage[] } {
  const compiled = stages.map((stage) => compileStage(stage, cc));
  return {
    stages: compiled,
    run(input, run) {
      let docs: Iterable<Document> = input;
      for (const stage of compiled) docs = stage.run(docs, run);
      return docs;
    },
  };
}

/** The run-time context of a top-level run: each collection read once. */
function makeRunContext(context: PipelineContext, now: Date, variables: Document): RunContext {
  const read = new Map<string, Document[]>();
  return {
    now,
    variables: new Map(Object.entries(variables)),
    variablesDoc: variables,
    collection(name) {
      let docs = read.get(name);
      if (docs === undefined) {
        docs = [...(context.collection?.(name) ?? [])];
        read.set(name, docs);
      }
      return docs;
    },
  };
}

/** Runs the stages (already spec-checked) over the documents; returns the output documents. Throws MongoError with mongod's codes. */
export function runPipeline(stages: readonly Document[], docs: Iterable<Document>, context: PipelineContext = {}): Document[] {
  return compiledPipeline(stages, context)(docs);
}

/**
 * The stages compiled once (their spec errors thrown now), as a function that runs them over some
 * documents each time it is called: a change stream runs its stages on each event as it comes.
 */
export function compiledPipeline(stages: readonly Document[], context: PipelineContext = {}): (docs: Iterable<Document>) => Document[] {
  const variables = context.variables ?? {};
  const cc = makeCompileContext(context.collation, variables);
  const pipeline = compilePipeline(stages, cc);
  return (docs) => {
    if (stages.length === 0) return [...docs];
    const run = makeRunContext(context, context.now ?? new Date(), variables);
    return [...pipeline.run(docs, run)];
  };
}

/**
 * The values of a command's `let` (aggregate's `let` holds expressions, evaluated once before any
 * document is read, each seeing the ones before it): for the integrator, to pass as
 * PipelineContext.variables.
 */
export function evaluateLetVariables(spec: Document, context: { readonly now?: Date; readonly collation?: Document } = {}): Document {
  const values: Document = {};
  const now = context.now ?? new Date();
  for (const [name, expr] of Object.entries(spec)) {
    const cc = makeCompileContext(context.collation, values);
    const compiled = compileExpr(expr, cc);
    const v = compiled.evaluate(scopeFor({}, now, new Map(Object.entries(values))));
    Object.defineProperty(values, name, { value: v === undefined ? null : v, enumerable: true, writable: true, configurable: true });
  }
  return values;
}

