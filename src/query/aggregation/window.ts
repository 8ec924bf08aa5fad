/**
 * $setWindowFields on stored BSON values: the documents sorted by the partition key then the
 * sortBy, cut into partitions of equal keys, and each output field set on each document (as
 * $addFields sets a computed field, dotted paths included) to its window function's value over
 * the document's window (windowFunctions.ts, windowExec.ts, windowBounds.ts, windowStates.ts).
 *
 * Sources (mongodb/mongo 7.0, src/mongo/db/pipeline/):
 * - document_source_set_window_fields.cpp createFromBson: the spec must be an object
 *   (FailedToParse), then the SetWindowFieldsSpec IDL (partitionBy any, sortBy an object, output
 *   a required object; null or undefined reads as absent, an unknown field 40415), partitionBy
 *   parsed as an expression, sortBy as a SortPattern, each output field checked against the
 *   others (6307900) and parsed (window_function_statement.cpp: "The field '<f>' must be an
 *   object"). create(): a constant partitionBy that is an array is TypeMismatch (its evaluation
 *   errors get "Failed to optimize partitionBy expression"), any other constant is one partition;
 *   the documents are sorted by {<partition key>: 1, ...sortBy} (no sort without either).
 * - partition_iterator.cpp getNextDocument: a partition key is the partitionBy value, missing read
 *   as null, compared with the value comparator (the collation); an array is TypeMismatch.
 * - DocumentSourceInternalSetWindowFields::doGetNext: the functions are initialized when the
 *   stage starts (even with no input), each output FieldPath is made when a document is output.
 * Not reproduced: the memory limit (5414201, spilling); mongod keeps its executors in a hash map,
 * so the order in which the new fields are appended may differ from the spec order used here.
 */
import type { Document } from 'bson';
import { missingField, unknownField, wrongType } from '../../bson/idlErrors.js';
import { typeName } from '../../bson/typeName.js';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import type { CompiledExpression } from '../expression/compile.js';
import { objectKind } from '../match/values.js';
import { copyMade, ProjectionNode, removeHoles, type Made } from '../projection/projectionTree.js';
import { sortDocuments, sortFields } from '../sort.js';
import { compileExpr, constantValue, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail, withContext } from './errors.js';
import { parseSortSpec } from './sortLimit.js';
import { fieldPath, MISSING, type Obj } from './values.js';
import type { SortBy } from './windowBounds.js';
import type { Partition } from './windowExec.js';
import { parseWindowFunction, type WindowFunction } from './windowFunctions.js';

/** The SetWindowFieldsSpec IDL: the fields as given (null and undefined read as absent). */
interface SetWindowFieldsSpec {
  readonly partitionBy: { readonly value: unknown } | undefined;
  readonly sortBy: Obj | undefined;
  readonly output: Obj;
}

function parseSpec(spec: Obj): SetWindowFieldsSpec {
  let partitionBy: { readonly value: unknown } | undefined;
  let sortBy: Obj | undefined;
  let output: Obj | undefined;
  let hasOutput = false;
  const objectField = (name: string, v: unknown): Obj | undefined => {
    if (v === null || v === undefined) return undefined;
    if (objectKind(v) === 0) throw wrongType(`$setWindowFields.${name}`, v, 'object');
    return v as Obj;
  };
  for (const [name, v] of Object.entries(spec)) {
    if (name === 'partitionBy') partitionBy = { value: v };
    else if (name === 'sortBy') sortBy = objectField(name, v);
    else if (name === 'output') {
      hasOutput = true;
      output = objectField(name, v);
    } else throw unknownField(`$setWindowFields.${name}`);
  }
  if (!hasOutput) throw missingField('$setWindowFields.output');
  return { partitionBy, sortBy, output: output ?? {} };
}

/** SortPattern of the sortBy ({} is a sortBy without parts). */
function parseWindowSort(spec: Obj | undefined): SortBy {
  if (spec === undefined) return undefined;
  const keys = Object.keys(spec);
  if (keys.length === 0) return [];
  return parseSortSpec(spec).map((f, i) => ({ path: keys[i]!, descending: f.descending }));
}

/** A document of the input and its partition key. */
interface Keyed {
  readonly doc: Document;
  readonly key: unknown;
}

/** FieldRefSet::insert: two paths conflict when one is (a prefix of) the other. */
function conflicts(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The partitionBy: none (a constant) or an expression of each document. */
function partitionExpression(expr: CompiledExpression): CompiledExpression | undefined {
  if (!expr.constant) return expr;
  const value = withContext('Failed to optimize partitionBy expression', () => constantValue(expr, new Date()));
  if (Array.isArray(value)) fail(ErrorCodes.TypeMismatch, 'An expression used to partition cannot evaluate to value of type array');
  return undefined;
}

/** The output fields set on a document ($addFields' computed fields), made when the first document is output. */
function outputTree(fields: readonly string[]): ProjectionNode<number> {
  const tree = new ProjectionNode<number>(true);
  fields.forEach((f, i) => tree.addExpressionForPath(fieldPath(f), i));
  return tree;
}

/** $setWindowFields (document_source_set_window_fields::createFromBson and create). */
export function compileSetWindowFields(spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(ErrorCodes.FailedToParse, `the $setWindowFields stage specification must be an object, found ${typeName(spec)}`);
  const parsed = parseSpec(spec as Obj);
  const partitionSpec = parsed.partitionBy === undefined ? undefined : compileExpr(parsed.partitionBy.value, cc);
  const sortBy = parseWindowSort(parsed.sortBy);
  const fields: string[] = [];
  const functions: WindowFunction[] = [];
  for (const [field, value] of Object.entries(parsed.output)) {
    if (fields.some((f) => conflicts(f, field))) fail(LocationCodes.WindowOutputConflict, "$setWindowFields 'output' specification contains two conflicting paths");
    fields.push(field);
    if (objectKind(value) !== 1) fail(ErrorCodes.FailedToParse, `The field '${field}' must be an object`);
    functions.push(parseWindowFunction(value as Obj, sortBy, cc));
  }
  const partitionBy = partitionSpec === undefined ? undefined : partitionExpression(partitionSpec);
  const sortExpr = sortBy !== undefined && sortBy.length > 0 ? compileExpr(`$${sortBy[0]!.path}`, cc) : undefined;
  const rangeSortDescending = sortBy !== undefined && sortBy.length > 0 && sortBy[0]!.descending;

  /** The input in partition order: sorted by the partition key then the sortBy; the keys alongside. */
  const order = (docs: Document[], run: RunContext): Keyed[] => {
    const keyed = docs.map((doc): Keyed => {
      const k = partitionBy === undefined ? null : partitionBy.evaluate(scopeOf(doc, run));
      return { doc, key: k === undefined ? null : k };
    });
    const pattern: Obj = {};
    if (partitionBy !== undefined) pattern.key = 1;
    for (const part of sortBy ?? []) pattern[`doc.${part.path}`] = part.descending ? -1 : 1;
    if (Object.keys(pattern).length === 0) return keyed;
    return sortDocuments(keyed as unknown as Document[], sortFields(pattern)!, cc.collation) as unknown as Keyed[];
  };

  const partitionOf = (docs: readonly Document[], run: RunContext): Partition => {
    const values = new Map<number, unknown>();
    const sortValue = (i: number): unknown => {
      if (!values.has(i)) values.set(i, sortExpr!.evaluate(scopeOf(docs[i]!, run)));
      return values.get(i);
    };
    return {
      docs,
      run,
      size: docs.length,
      compare: cc.compare,
      sortValue,
      rangeKey: (i) => {
        if (rangeSortDescending) throw new MongoError(LocationCodes.WindowRangeDescending, 'Missing _sortExpr with range-based bounds');
        return sortValue(i);
      },
    };
  };

  const checkedKey = (key: unknown): unknown => {
    if (Array.isArray(key)) fail(ErrorCodes.TypeMismatch, "Cannot 'partitionBy' an expression of type array");
    return key;
  };

  return {
    name: '$setWindowFields',
    fallback: false,
    *run(input, run) {
      const executors = functions.map((f) => f.prepare(run));
      const ordered = order([...input], run);
      let tree: ProjectionNode<number> | undefined;
      for (let start = 0; start < ordered.length; ) {
        let end = ordered.length;
        if (partitionBy !== undefined) {
          const first = checkedKey(ordered[start]!.key);
          end = start + 1;
          while (end < ordered.length && cc.compare(checkedKey(ordered[end]!.key), first) === 0) end++;
        }
        const partition = partitionOf(
          ordered.slice(start, end).map((e) => e.doc),
          run,
        );
        const execs = executors.map((make) => make(partition));
        for (let i = 0; i < partition.size; i++) {
          const values = execs.map((e) => e.next(i));
          tree ??= outputTree(fields);
          const doc = partition.docs[i]!;
          const made: Made = [];
          const out = copyMade(doc, made);
          tree.applyExpressions(doc, out, made, (index) => {
            const v = values[index];
            return v === undefined ? MISSING : v;
          });
          removeHoles(made);
          yield out as Document;
        }
        start = end;
      }
    },
  };
}
