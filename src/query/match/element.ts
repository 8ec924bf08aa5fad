/**
 * $exists and $type (expression_leaf.cpp ExistsMatchExpression, expression_type.h
 * TypeMatchExpression, matcher_type_set.cpp MatcherTypeSet::parse).
 *
 * - {$exists: x}: x's truth (BSONElement::trueValue) picks exists or NOT(exists); exists matches
 *   when the path yields any value that is not missing (a leaf array counts, even empty).
 * - {$type: t}: t is a type name, a type number, "number" (any numeric type) or an array of these.
 *   Each value the path yields is tested (a leaf array's elements, then the array itself, so
 *   {$type: "array"} matches any array and {$type: "int"} an array holding an int).
 */
import { badValue, failedToParse, typeMismatch } from '../queryErrors.js';
import type { Test } from './node.js';
import { bsonTypeOf, BSON_TYPE, isNumberType, MISSING, parseIntegerElement } from './values.js';

export const existsTest: Test = (e) => e !== MISSING;

/** BSONElement::trueValue: false, null, undefined, numeric zero are false; everything else true. */
export function trueValue(v: unknown): boolean {
  if (v === false || v === null || v === undefined) return false;
  const t = bsonTypeOf(v);
  switch (t) {
    case BSON_TYPE.int:
    case BSON_TYPE.double:
      return (typeof v === 'number' ? v : (v as { value: number }).value) !== 0;
    case BSON_TYPE.long:
      return typeof v === 'bigint' ? v !== 0n : !(v as { isZero(): boolean }).isZero();
    case BSON_TYPE.decimal: {
      const s = (v as { toString(): string }).toString();
      return !/^-?0(?:\.0*)?(?:E[+-]?\d+)?$/.test(s);
    }
    default:
      return true;
  }
}

/** The type aliases of kTypeAliasMap (bsontypes.cpp): $type's names, and $jsonSchema's bsonType. */
export const TYPE_ALIASES: Readonly<Record<string, number>> = {
  double: BSON_TYPE.double,
  string: BSON_TYPE.string,
  object: BSON_TYPE.object,
  array: BSON_TYPE.array,
  binData: BSON_TYPE.binData,
  undefined: BSON_TYPE.undefined,
  objectId: BSON_TYPE.objectId,
  bool: BSON_TYPE.bool,
  date: BSON_TYPE.date,
  null: BSON_TYPE.null,
  regex: BSON_TYPE.regex,
  dbPointer: BSON_TYPE.dbPointer,
  javascript: BSON_TYPE.javascript,
  symbol: BSON_TYPE.symbol,
  javascriptWithScope: BSON_TYPE.javascriptWithScope,
  int: BSON_TYPE.int,
  timestamp: BSON_TYPE.timestamp,
  long: BSON_TYPE.long,
  decimal: BSON_TYPE.decimal,
  maxKey: BSON_TYPE.maxKey,
  minKey: BSON_TYPE.minKey,
};

const VALID_TYPE_CODES = new Set<number>([-1, ...Array.from({ length: 19 }, (_, i) => i + 1), 127]);

/** A number as BSONElement::number() streams it (a double). */
function numberText(v: unknown): string {
  const t = bsonTypeOf(v);
  if (t === BSON_TYPE.long) return (typeof v === 'bigint' ? BigInt.asIntN(64, v) : (v as { toBigInt(): bigint }).toBigInt()).toString();
  if (t === BSON_TYPE.decimal) return String(Number((v as { toString(): string }).toString()));
  const d = typeof v === 'number' ? v : +(v as { value: number }).value;
  return Number.isNaN(d) ? 'nan' : Number.isFinite(d) ? String(d) : d > 0 ? 'inf' : '-inf';
}

/** A type code as parseIntegerElementToInt takes it, or undefined when it is not a whole 32-bit number. */
function integralCode(v: unknown): number | undefined {
  const n = parseIntegerElement('$type', v, 'int');
  return typeof n === 'bigint' ? Number(n) : undefined;
}

/** The set of types {$type: arg} accepts (MatcherTypeSet::parse); `path` names the field in errors. */
export function typeTest(path: string, arg: unknown): Test {
  const types = new Set<number>();
  let allNumbers = false;
  const add = (t: unknown): void => {
    if (typeof t === 'string') {
      if (t === 'number') {
        allNumbers = true;
        return;
      }
      const code = Object.hasOwn(TYPE_ALIASES, t) ? TYPE_ALIASES[t] : undefined;
      if (code === undefined) {
        if (t === 'missing') throw badValue("'missing' is not a legal type name. To query for non-existence of a field, use {$exists:false}.");
        throw badValue(`Unknown type name alias: ${t}`);
      }
      types.add(code);
      return;
    }
    if (!isNumberType(bsonTypeOf(t))) throw typeMismatch('type must be represented as a number or a string');
    const code = integralCode(t);
    if (code === undefined) throw badValue(`Invalid numerical type code: ${numberText(t)}`);
    if (code === 0) throw badValue(`Invalid numerical type code: ${numberText(t)}. Instead use {$exists:false}.`);
    if (!VALID_TYPE_CODES.has(code)) throw badValue(`Invalid numerical type code: ${numberText(t)}`);
    types.add(code);
  };
  if (Array.isArray(arg)) for (const t of arg) add(t);
  else add(arg);
  if (types.size === 0 && !allNumbers) throw failedToParse(`${path} must match at least one type`);
  if (types.size === 1 && !allNumbers) {
    const only = [...types][0]!;
    return (e) => e !== MISSING && bsonTypeOf(e) === only;
  }
  return (e) => {
    if (e === MISSING) return false;
    const t = bsonTypeOf(e);
    return types.has(t) || (allNumbers && isNumberType(t));
  };
}

