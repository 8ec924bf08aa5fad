/**
 * $lookup, $unionWith and $graphLookup (their specs were checked: pipeline/stageSpecs.ts). The
 * documents they read are the stored ones (the run reads each collection once); joined documents
 * are the foreign collection's own objects.
 *
 * Sources (mongodb/mongo):
 * - src/mongo/db/pipeline/document_source_lookup.cpp: makeMatchStageFromInput (the local values
 *   by visitAllValuesAtPath, arrays giving their elements; none is null; one value {$eq}, several
 *   {$in}, or an $or of {$eq} when one is a regular expression) placed before the user pipeline
 *   when both are given; `let` evaluated on the local document (variables.cpp
 *   validateNameForUserWrite for the names: FailedToParse); the results set at `as`
 *   (setNestedField).
 * - src/mongo/db/pipeline/document_source_union_with.cpp: the input, then the other collection
 *   through its pipeline.
 * - src/mongo/db/exec/agg/graph_lookup_stage.cpp (document_source_graph_lookup.cpp in 7.0):
 *   startWith (an array: each element) at depth 0; breadth first, each depth one
 *   {connectToField: {$in: values}} query (and restrictSearchWithMatch; {$exists: true} when null is
 *   queried, so null only matches null); documents de-duplicated by _id (40271 without one);
 *   connectFromField values (visitAllValuesAtPath) queued for the next depth while depth <
 *   maxDepth, each value queried once; depthField a NumberLong; results at `as`.
 */
import { Long, type Document } from 'bson';
import { canonicalKey } from '../../bson/bsonOrder.js';
import { numberValue } from '../../bson/args.js';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import type { CompiledExpression } from '../expression/compile.js';
import { compileFilter } from '../match/compile.js';
import { compilePath } from '../match/path.js';
import { bsonTypeOf, BSON_TYPE, objectKind } from '../match/values.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail } from './errors.js';
import { compileDocumentTest, type DocumentTest } from './match.js';
import { fieldPath, getOwn, MISSING, setNested, valuesAtPath, type Obj } from './values.js';

/** A compiled (sub-)pipeline. */
export interface CompiledPipeline {
  run(input: Iterable<Document>, run: RunContext): Iterable<Document>;
}

export type SubPipelineCompiler = (stages: readonly Document[], cc: CompileContext) => CompiledPipeline;

/** variableValidation::validateNameForUserWrite (variables.cpp). */
export function validateUserVariableName(name: string): void {
  if (name === 'CURRENT') return;
  if (name.length === 0) throw new MongoError(ErrorCodes.FailedToParse, 'empty variable names are not allowed');
  const first = name.charCodeAt(0);
  if (!((first >= 97 && first <= 122) || first >= 128)) {
    throw new MongoError(ErrorCodes.FailedToParse, `'${name}' starts with an invalid character for a user variable name`);
  }
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c >= 128;
    if (!ok) throw new MongoError(ErrorCodes.FailedToParse, `'${name}' contains an invalid character for a variable name: '${name[i]}'`);
  }
}

/** A run whose variables are the outer ones plus `extra` (a $lookup's `let`). */
function withVariables(run: RunContext, extra: ReadonlyArray<readonly [string, unknown]>): RunContext {
  if (extra.length === 0) return run;
  const variables = new Map(run.variables);
  const variablesDoc: Document = { ...run.variablesDoc };
  for (const [name, value] of extra) {
    variables.set(name, value);
    Object.defineProperty(variablesDoc, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return { ...run, variables, variablesDoc };
}

function isRegex(v: unknown): boolean {
  return bsonTypeOf(v) === BSON_TYPE.regex;
}

// ---------------------------------------------------------------------------------------------
// $lookup

/**
 * The foreign documents by the values their field offers an equality ({field: {$eq: v}}): every
 * value the matcher's path traversal offers (match/path.ts: leaf arrays and their elements,
 * arrays on the way), keyed by canonicalKey (equal keys iff mongod-equal values). Exact for a
 * value that is not null, undefined or a regular expression, without a collation.
 */
interface EqualityIndex {
  lookup(values: readonly unknown[]): Document[];
}

function indexable(v: unknown): boolean {
  return v !== null && v !== undefined && !isRegex(v);
}

function equalityIndex(foreign: readonly Document[], field: string): EqualityIndex {
  const traverse = compilePath(field, 'traverse');
  const positions = new Map<string, number[]>();
  foreign.forEach((doc, i) => {
    traverse(doc, (value) => {
      if (value === MISSING) return false;
      const k = canonicalKey(value);
      const list = positions.get(k);
      if (list === undefined) positions.set(k, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
      return false;
    });
  });
  return {
    lookup(values) {
      const found = new Set<number>();
      for (const v of values) for (const i of positions.get(canonicalKey(v)) ?? []) found.add(i);
      return [...found].sort((a, b) => a - b).map((i) => foreign[i]!);
    },
  };
}

export function compileLookup(spec: unknown, cc: CompileContext, compileSub: SubPipelineCompiler): CompiledStage {
  const obj = spec as Obj;
  const from = typeof obj.from === 'string' ? obj.from : undefined;
  const asParts = fieldPath(obj.as as string);
  const localParts = typeof obj.localField === 'string' && obj.localField !== '' ? fieldPath(obj.localField) : undefined;
  const foreignField = typeof obj.foreignField === 'string' && obj.foreignField !== '' ? obj.foreignField : undefined;
  if (foreignField !== undefined) fieldPath(foreignField);
  const lets: Array<readonly [string, CompiledExpression]> = [];
  if (objectKind(obj.let) === 1) {
    for (const [name, value] of Object.entries(obj.let as Obj)) {
      validateUserVariableName(name);
      lets.push([name, compileExpr(value, cc)]);
    }
  }
  const letNames = lets.map(([name]) => name);
  const subCc: CompileContext = {
    ...cc,
    variableNames: [...cc.variableNames.filter((n) => !letNames.includes(n)), ...letNames],
    variablesVaryPerRun: cc.variablesVaryPerRun || lets.length > 0,
    inFacet: false,
  };
  const pipeline = Array.isArray(obj.pipeline) ? compileSub(obj.pipeline as Document[], subCc) : undefined;
  const join = localParts !== undefined && foreignField !== undefined;
  return {
    name: '$lookup',
    fallback: false,
    *run(input, run) {
      const foreign = from === undefined ? [] : run.collection(from);
      // The foreign documents equal to a list of local values: by the list's key, once per run.
      const joined = new Map<string, Document[]>();
      let index: EqualityIndex | undefined;
      const matchFor = (values: unknown[]): Document[] => {
        const key = canonicalKey(values);
        let docs = joined.get(key);
        if (docs === undefined) {
          if (cc.collator === undefined && values.every(indexable)) {
            index ??= equalityIndex(foreign, foreignField!);
            docs = index.lookup(values);
          } else {
            let filter: Document;
            if (values.length === 1) filter = { [foreignField!]: { $eq: values[0] } };
            else if (values.some(isRegex)) filter = { $or: values.map((v) => ({ [foreignField!]: { $eq: v } })) };
            else filter = { [foreignField!]: { $in: values } };
            const f = compileFilter(filter, { collation: cc.collation });
            docs = foreign.filter((d) => f.matches(d));
          }
          joined.set(key, docs);
        }
        return docs;
      };
      for (const doc of input) {
        let docs: readonly Document[] = foreign;
        if (join) {
          const values = valuesAtPath(doc, localParts);
          docs = matchFor(values.length === 0 ? [null] : values);
        }
        let results: unknown[];
        if (pipeline === undefined) results = [...docs];
        else {
          const scope = scopeOf(doc, run);
          const subRun = withVariables(
            run,
            lets.map(([name, e]) => [name, e.evaluate(scope)] as const),
          );
          results = [...pipeline.run(docs, subRun)];
        }
        yield setNested(doc, asParts, results);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// $unionWith

export function compileUnionWith(spec: unknown, cc: CompileContext, compileSub: SubPipelineCompiler): CompiledStage {
  const coll = typeof spec === 'string' ? spec : typeof (spec as Obj).coll === 'string' ? ((spec as Obj).coll as string) : undefined;
  const stages = typeof spec === 'string' ? undefined : ((spec as Obj).pipeline as Document[] | undefined);
  const pipeline = stages === undefined ? undefined : compileSub(stages, { ...cc, inFacet: false });
  return {
    name: '$unionWith',
    fallback: false,
    *run(input, run) {
      yield* input;
      const docs = coll === undefined ? [] : run.collection(coll);
      yield* pipeline === undefined ? docs : pipeline.run(docs, run);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// $graphLookup

export function compileGraphLookup(spec: unknown, cc: CompileContext): CompiledStage {
  const obj = spec as Obj;
  const from = obj.from as string;
  const asParts = fieldPath(obj.as as string);
  const fromParts = fieldPath(obj.connectFromField as string);
  const connectTo = obj.connectToField as string;
  fieldPath(connectTo);
  const depthParts = typeof obj.depthField === 'string' ? fieldPath(obj.depthField) : undefined;
  const maxDepth = obj.maxDepth === undefined ? undefined : numberValue(obj.maxDepth);
  const startWith = compileExpr(obj.startWith, cc);
  const restrictSpec = objectKind(obj.restrictSearchWithMatch) === 1 ? (obj.restrictSearchWithMatch as Document) : undefined;
  const restrict: DocumentTest | undefined = restrictSpec === undefined ? undefined : compileDocumentTest(restrictSpec, cc);
  return {
    name: '$graphLookup',
    fallback: false,
    *run(input, run) {
      const foreign = run.collection(from);
      for (const doc of input) {
        const start = startWith.evaluate(scopeOf(doc, run));
        const visitedValues = new Set<string>();
        const visitedIds = new Set<string>();
        const results: Document[] = [];
        let frontier: unknown[] = [];
        const enqueue = (v: unknown, next: unknown[]): void => {
          if (v === undefined || v === MISSING) return;
          const k = canonicalKey(v);
          if (visitedValues.has(k)) return;
          visitedValues.add(k);
          next.push(v);
        };
        if (Array.isArray(start)) for (const v of start) enqueue(v, frontier);
        else enqueue(start, frontier);
        for (let depth = 0; frontier.length > 0; depth++) {
          const filter: Document[] = [{ [connectTo]: { $in: frontier } }];
          if (frontier.some((v) => v === null)) filter.push({ [connectTo]: { $exists: true } });
          const connect = compileFilter({ $and: filter }, { collation: cc.collation });
          const next: unknown[] = [];
          for (const found of foreign) {
            if (!connect.matches(found) || (restrict !== undefined && !restrict(found, run))) continue;
            const id = getOwn(found, '_id');
            if (id === MISSING) {
              fail(LocationCodes.GraphLookupNoId, `Documents in the '${from}' namespace must contain an _id for de-duplication in $graphLookup`);
            }
            const idKey = canonicalKey(id);
            if (visitedIds.has(idKey)) continue;
            visitedIds.add(idKey);
            results.push(depthParts === undefined ? found : setNested(found, depthParts, Long.fromNumber(depth)));
            if (maxDepth === undefined || depth < maxDepth) for (const v of valuesAtPath(found, fromParts)) enqueue(v, next);
          }
          frontier = next;
        }
        yield setNested(doc, asParts, results);
      }
    },
  };
}
