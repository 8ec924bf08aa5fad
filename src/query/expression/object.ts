/**
 * Object expressions (src/mongo/db/pipeline/expression.cpp, evaluate_array.cpp, evaluate_bson.cpp):
 * $mergeObjects $getField $setField $unsetField $objectToArray $arrayToObject $bsonSize $tsSecond
 * $tsIncrement.
 *
 * In 7.0 the 'field' of $getField/$setField/$unsetField must be a constant string, checked at parse
 * time (a field path: 5654600/4161108; another non-constant: 5654601/4161106; not a string:
 * 5654602/4161107). New documents keep field order; replacing a field keeps its position.
 */
import { LocationCodes } from '../../errors.js';
import { BSON, Int32, Long } from 'bson';
import { getField, isPrototypeName, MISSING } from '../match/values.js';
import { computed, fail, fixedArity, isArgumentObject, variadic, type Node, type OperatorTable, type ParseContext } from './node.js';
import { BSON_TYPE, copyDocument, documentOf, isObject, nullish, setField, typeName, typeOf, valueText } from './values.js';

// ---------------------------------------------------------------------------------------------
// $mergeObjects

function parseMergeObjects(arg: unknown, ctx: ParseContext): Node {
  const children = variadic(arg, ctx);
  const evals = children.map((c) => c.evaluate);
  return computed((s) => {
    const out: Record<string, unknown> = {};
    for (const e of evals) {
      const v = e(s);
      if (nullish(v)) continue;
      if (!isObject(v)) {
        throw fail(LocationCodes.MergeObjectsNotObject, `$mergeObjects requires object inputs, but input ${valueText(v)} is of type ${typeName(v)}`);
      }
      const doc = documentOf(v);
      for (const k of Object.keys(doc)) {
        const x = doc[k];
        if (x !== undefined) setField(out, k, x);
      }
    }
    return out;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $getField $setField $unsetField

/** The constant field name of $getField (codes 5654600..2) or $setField/$unsetField (4161106..8). */
function constantFieldName(field: Node, getField: boolean): string {
  if (field.fieldPath !== undefined) {
    const fp = field.fieldPath;
    throw fail(
      getField ? LocationCodes.GetFieldFieldPath : LocationCodes.SetFieldFieldPath,
      `'${fp}' is a field path reference which is not allowed in this context. Did you mean {$literal: '${fp}'}?`,
    );
  }
  const name = getField ? '$getField' : '$setField';
  if (field.literal === undefined) {
    throw fail(
      getField ? LocationCodes.GetFieldNotConstant : LocationCodes.SetFieldNotConstant,
      `${name} requires 'field' to evaluate to a constant, but got a non-constant argument`,
    );
  }
  const value = field.literal.value;
  if (typeof value !== 'string') {
    throw fail(
      getField ? LocationCodes.GetFieldNotString : LocationCodes.SetFieldNotString,
      `${name} requires 'field' to evaluate to type String, but got ${typeName(value)}`,
    );
  }
  return value;
}

function parseGetField(arg: unknown, ctx: ParseContext): Node {
  let field: Node | undefined;
  let input: Node | undefined;
  if (isArgumentObject(arg)) {
    for (const k of Object.keys(arg)) {
      if (field === undefined && input === undefined && k.startsWith('$')) {
        // an expression given as the field, e.g. {$getField: {$literal: "a"}}
        field = ctx.parse(arg);
        input = ctx.parse('$$CURRENT');
        break;
      } else if (k === 'field') {
        field = ctx.parse(arg[k]);
      } else if (k === 'input') {
        input = ctx.parse(arg[k]);
      } else {
        throw fail(LocationCodes.GetFieldUnknownArgument, `$getField found an unknown argument: ${k}`);
      }
    }
  } else {
    field = ctx.parse(arg);
    input = ctx.parse('$$CURRENT');
  }
  if (field === undefined) throw fail(LocationCodes.GetFieldMissingField, "$getField requires 'field' to be specified");
  if (input === undefined) throw fail(LocationCodes.GetFieldMissingInput, "$getField requires 'input' to be specified");
  const name = constantFieldName(field, true);
  const proto = isPrototypeName(name);
  const inputEval = input.evaluate;
  return computed((s) => {
    const v = inputEval(s);
    if (v === undefined) return undefined;
    if (v === null) return null;
    if (!isObject(v)) return undefined;
    const x = getField(v, name, proto);
    return x === MISSING ? undefined : x;
  }, [input]);
}

function parseSetField(arg: unknown, ctx: ParseContext, op: string): Node {
  const unset = op === '$unsetField';
  if (!isArgumentObject(arg)) throw fail(LocationCodes.SetFieldNotObject, `${op} only supports an object as its argument`);
  let field: Node | undefined;
  let input: Node | undefined;
  let value: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'field') field = ctx.parse(arg[k]);
    else if (k === 'input') input = ctx.parse(arg[k]);
    else if (!unset && k === 'value') value = ctx.parse(arg[k]);
    else throw fail(LocationCodes.SetFieldUnknownArgument, `${op} found an unknown argument: ${k}`);
  }
  if (unset) value = ctx.parse('$$REMOVE');
  if (field === undefined) throw fail(LocationCodes.SetFieldMissingField, `${op} requires 'field' to be specified`);
  if (value === undefined) throw fail(LocationCodes.SetFieldMissingValue, `${op} requires 'value' to be specified`);
  if (input === undefined) throw fail(LocationCodes.SetFieldMissingInput, `${op} requires 'input' to be specified`);
  const name = constantFieldName(field, false);
  const inputEval = input.evaluate;
  const valueEval = value.evaluate;
  return computed(
    (s) => {
      const v = inputEval(s);
      if (nullish(v)) return null;
      if (!isObject(v)) throw fail(LocationCodes.SetFieldInputNotObject, "$setField requires 'input' to evaluate to type Object");
      const x = valueEval(s);
      const out = copyDocument(v);
      setField(out, name, x);
      return out;
    },
    [input, value],
  );
}

// ---------------------------------------------------------------------------------------------
// $objectToArray $arrayToObject

function parseObjectToArray(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const v = a(s);
    if (nullish(v)) return null;
    if (!isObject(v)) throw fail(LocationCodes.ObjectToArrayNotObject, `$objectToArray requires a document input, found: ${typeName(v)}`);
    const doc = documentOf(v);
    const out: unknown[] = [];
    for (const k of Object.keys(doc)) {
      const x = doc[k];
      if (x !== undefined) out.push({ k, v: x });
    }
    return out;
  }, children);
}

function parseArrayToObject(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const input = a(s);
    if (nullish(input)) return null;
    if (!Array.isArray(input)) throw fail(LocationCodes.ArrayToObjectNotArray, `$arrayToObject requires an array input, found: ${typeName(input)}`);
    const out: Record<string, unknown> = {};
    if (input.length === 0) return out;
    const first = input[0];
    let arrayFormat: boolean;
    if (Array.isArray(first)) arrayFormat = true;
    else if (isObject(first)) arrayFormat = false;
    else throw fail(LocationCodes.ArrayToObjectBadFormat, `Unrecognised input type format for $arrayToObject: ${typeName(first)}`);
    for (const el of input) {
      if (arrayFormat) {
        if (!Array.isArray(el)) {
          throw fail(
            LocationCodes.ArrayToObjectMixedArray,
            `$arrayToObject requires a consistent input format. Elements mustall be arrays or all be objects. Array was detected, now found: ${typeName(el)}`,
          );
        }
        if (el.length !== 2) {
          throw fail(LocationCodes.ArrayToObjectPairSize, `$arrayToObject requires an array of size 2 arrays,found array of size: ${el.length}`);
        }
        const key = el[0];
        if (typeof key !== 'string') {
          throw fail(
            LocationCodes.ArrayToObjectKeyNotString,
            `$arrayToObject requires an array of key-value pairs, where the key must be of type string. Found key type: ${typeName(key)}`,
          );
        }
        if (key.includes('\0')) throw fail(LocationCodes.ArrayToObjectKeyNullByte, 'Key field cannot contain an embedded null byte');
        setField(out, key, el[1]);
      } else {
        if (!isObject(el)) {
          throw fail(
            LocationCodes.ArrayToObjectMixedObject,
            `$arrayToObject requires a consistent input format. Elements mustall be arrays or all be objects. Object was detected, now found: ${typeName(el)}`,
          );
        }
        const doc = documentOf(el);
        const keys = Object.keys(doc).filter((k) => doc[k] !== undefined);
        if (keys.length !== 2) {
          throw fail(LocationCodes.ArrayToObjectKeyCount, `$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys:${keys.length}`);
        }
        const k = Object.hasOwn(doc, 'k') ? doc.k : undefined;
        const v = Object.hasOwn(doc, 'v') ? doc.v : undefined;
        if (k === undefined || v === undefined) {
          throw fail(
            LocationCodes.ArrayToObjectMissingKV,
            `$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both keys from: ${valueText(el)}`,
          );
        }
        if (typeof k !== 'string') {
          throw fail(
            LocationCodes.ArrayToObjectKNotString,
            `$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' must be of type string. Found type: ${typeName(k)}`,
          );
        }
        if (k.includes('\0')) throw fail(LocationCodes.ArrayToObjectKNullByte, 'Key field cannot contain an embedded null byte');
        setField(out, k, v);
      }
    }
    return out;
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $bsonSize $tsSecond $tsIncrement

function parseBsonSize(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => {
    const v = a(s);
    if (nullish(v)) return null;
    if (!isObject(v)) throw fail(LocationCodes.BsonSizeNotObject, `$bsonSize requires a document input, found: ${typeName(v)}`);
    return new Int32(BSON.calculateObjectSize(v as Record<string, unknown>, { ignoreUndefined: true }));
  }, children);
}

function parseTimestampPart(high: boolean) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = fixedArity(op, arg, 1, ctx);
    const a = children[0]!.evaluate;
    return computed((s) => {
      const v = a(s);
      if (nullish(v)) return null;
      if (typeOf(v) !== BSON_TYPE.timestamp) {
        throw fail(
          high ? LocationCodes.TsSecondNotTimestamp : LocationCodes.TsIncrementNotTimestamp,
          ` Argument to ${op} must be a timestamp, but is ${typeName(v)}`,
        );
      }
      const t = v as { high: number; low: number };
      return Long.fromNumber((high ? t.high : t.low) >>> 0);
    }, children);
  };
}

export const objectOperators: OperatorTable = {
  $mergeObjects: parseMergeObjects,
  $getField: parseGetField,
  $setField: parseSetField,
  $unsetField: parseSetField,
  $objectToArray: parseObjectToArray,
  $arrayToObject: parseArrayToObject,
  $bsonSize: parseBsonSize,
  $tsSecond: parseTimestampPart(true),
  $tsIncrement: parseTimestampPart(false),
};

