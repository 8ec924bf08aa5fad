/**
 * $fill, desugared as mongod desugars it: the 'method' fields become a $setWindowFields
 * ({$locf: "$f"} or {$linearFill: "$f"}, with the $fill's sortBy and partition), the 'value'
 * fields an $addFields of {f: {$ifNull: ["$f", <value>]}} after it.
 *
 * Sources (mongodb/mongo 7.0, src/mongo/db/pipeline/document_source_fill.cpp, .idl): the spec
 * must be an object (FailedToParse); the FillSpec IDL (sortBy an object, partitionByFields an
 * array of strings, partitionBy an object or a string, output a required object; null reads as
 * absent but for partitionBy, an unknown field 40415); 6050203 for an empty output; each output field an object
 * (6050200) read by the FillOutputSpec IDL (value any, method a string; context "$fill"), not
 * both (6050201), method 'locf' or 'linear' (6050202); 6050204 for partitionBy with
 * partitionByFields ({f: "$f", ...} is the partitionBy of the latter). The $setWindowFields
 * (its own errors, e.g. 605001 for $linearFill without a one-field sortBy) is parsed before
 * the $addFields.
 */
import type { Document } from 'bson';
import { missingField, unknownField, wrongType } from '../../bson/idlErrors.js';
import { typeName } from '../../bson/typeName.js';
import { ErrorCodes, LocationCodes } from '../../errors.js';
import { objectKind } from '../match/values.js';
import type { CompileContext, CompiledStage } from './context.js';
import { fail } from './errors.js';
import { compileAddFields } from './reshape.js';
import { setField, type Obj } from './values.js';
import { compileSetWindowFields } from './window.js';

/** An IDL object field: null and undefined are absent. */
function idlObject(path: string, v: unknown): Obj | undefined {
  if (v === null || v === undefined) return undefined;
  if (objectKind(v) === 0) throw wrongType(path, v, 'object');
  return v as Obj;
}

/** The FillSpec IDL. */
function parseFillSpec(spec: Obj): { sortBy: Obj | undefined; partitionByFields: string[] | undefined; partitionBy: { value: unknown } | undefined; output: Obj } {
  let sortBy: Obj | undefined;
  let partitionByFields: string[] | undefined;
  let partitionBy: { value: unknown } | undefined;
  let output: Obj | undefined;
  let hasOutput = false;
  for (const [name, v] of Object.entries(spec)) {
    if (name === 'sortBy') {
      sortBy = idlObject('$fill.sortBy', v);
    } else if (name === 'partitionByFields') {
      if (v === null || v === undefined) continue;
      if (!Array.isArray(v)) throw wrongType('$fill.partitionByFields', v, 'array');
      v.forEach((el: unknown, i) => {
        if (typeof el !== 'string') throw wrongType(`$fill.partitionByFields.${i}`, el, 'string');
      });
      partitionByFields = v as string[];
    } else if (name === 'partitionBy') {
      if (typeof v !== 'string' && objectKind(v) === 0) {
        fail(ErrorCodes.TypeMismatch, `BSON field '$fill.partitionBy' is the wrong type '${typeName(v)}', expected types '[object, string']`);
      }
      partitionBy = { value: v };
    } else if (name === 'output') {
      hasOutput = true;
      output = idlObject('$fill.output', v);
    } else {
      throw unknownField(`$fill.${name}`);
    }
  }
  if (!hasOutput) throw missingField('$fill.output');
  return { sortBy, partitionByFields, partitionBy, output: output ?? {} };
}

/** $fill (document_source_fill::createFromBson). */
export function compileFill(spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(ErrorCodes.FailedToParse, `The $fill stage specification must be an object, found ${typeName(spec)}`);
  const fill = parseFillSpec(spec as Obj);
  const fields = Object.entries(fill.output);
  if (fields.length === 0) fail(LocationCodes.FillEmptyOutput, "The output field in '$fill' must contain an object with at least one element");
  const windowOutput: Obj = {};
  const addFields: Obj = {};
  for (const [field, fieldSpec] of fields) {
    if (objectKind(fieldSpec) !== 1) fail(LocationCodes.FillOutputNotObject, 'Each fill output specification must be an object with exactly one field');
    let method: string | undefined;
    let value: { value: unknown } | undefined;
    for (const [k, v] of Object.entries(fieldSpec as Obj)) {
      if (k === 'value') value = { value: v };
      else if (k === 'method') {
        if (v === null || v === undefined) continue;
        if (typeof v !== 'string') throw wrongType('$fill.method', v, 'string');
        method = v;
      } else throw unknownField(`$fill.${k}`);
    }
    if (method !== undefined) {
      if (value !== undefined) fail(LocationCodes.FillMethodAndValue, "Each fill output specification must have exactly one of 'method' or 'value' fields, not both");
      if (method !== 'locf' && method !== 'linear') fail(LocationCodes.FillBadMethod, 'Method must be either locf or linear');
      setField(windowOutput, field, { [method === 'linear' ? '$linearFill' : '$locf']: `$${field}` });
    }
    if (value !== undefined) setField(addFields, field, { $ifNull: [`$${field}`, value.value] });
  }
  const windowSpec: Obj = { output: windowOutput };
  if (fill.sortBy !== undefined) windowSpec.sortBy = fill.sortBy;
  if (fill.partitionBy !== undefined) {
    if (fill.partitionByFields !== undefined) fail(LocationCodes.FillBothPartitions, "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'");
    windowSpec.partitionBy = fill.partitionBy.value;
  }
  if (fill.partitionByFields !== undefined) {
    const partition: Obj = {};
    for (const f of fill.partitionByFields) setField(partition, f, `$${f}`);
    windowSpec.partitionBy = partition;
  }
  const stages: CompiledStage[] = [];
  if (Object.keys(windowOutput).length > 0) stages.push(compileSetWindowFields(windowSpec, cc));
  if (Object.keys(addFields).length > 0) stages.push(compileAddFields('$addFields', addFields, cc));
  return {
    name: '$fill',
    fallback: false,
    run(input, run) {
      let docs: Iterable<Document> = input;
      for (const stage of stages) docs = stage.run(docs, run);
      return docs;
    },
  };
}
