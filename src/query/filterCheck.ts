import { BSONRegExp, type Document } from 'bson';
import { badValue, notSupported } from './queryErrors.js';
import { compileRegex } from './regex.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';

// The argument checks mongod's match expression parser makes (expression_parser.cpp), with its
// messages, before mingo sees a filter: mingo takes most malformed arguments without a word and
// then fails inside with a JavaScript error. Works on stored filters and on mingo's numeric views
// of them alike (numbers plain or wrapped, regular expressions as BSONRegExp or RegExp).

/** A regular expression value, compiled (RegExp values already are). */
function checkRegexValue(value: unknown): void {
  if (value instanceof BSONRegExp) compileRegex(value.pattern, value.options);
}

const LOGICAL = new Set(['$and', '$or', '$nor']);

/** The operators a filter may have at its top (the pathless ones of retrievePathlessParser). */
const TOP_LEVEL = new Set([...LOGICAL, '$expr', '$where', '$text', '$comment', '$jsonSchema', '$alwaysTrue', '$alwaysFalse', '$sampleRate']);

/** Whether a value is an operator document ({$gt: 1}), not a document to compare with (isExpressionDocument). */
function isOperatorDocument(value: unknown): value is Document {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  if (keys.length === 0 || !keys[0]!.startsWith('$')) return false;
  // DBRefs ({$ref, $id}) are documents.
  return !(keys.includes('$ref') && keys.includes('$id'));
}

/** $size's argument (parseSubField, SIZE): a non-negative whole number that fits 32 bits. */
function checkSize(value: unknown): void {
  const n = numberValue(value);
  const type = typeName(value);
  if (n === undefined || type === 'decimal') throw badValue('$size needs a number');
  if (!Number.isInteger(n)) throw badValue('$size must be a whole number');
  if (n > 2147483647 || n < -2147483648) throw badValue('$size must be representable as a 32-bit integer');
  if (n < 0) throw badValue('$size may not be negative');
}

/** $mod's argument: [divisor, remainder], numbers, the divisor not 0 (parseMOD). */
function checkMod(value: unknown): void {
  if (!Array.isArray(value)) throw badValue('malformed mod, needs to be an array');
  if (value.length < 2) throw badValue('malformed mod, not enough elements');
  if (value.length > 2) throw badValue('malformed mod, too many elements');
  const divisor = numberValue(value[0]);
  if (divisor === undefined) throw badValue('malformed mod, divisor not a number');
  if (numberValue(value[1]) === undefined) throw badValue('malformed mod, remainder not a number');
  if (Math.trunc(divisor) === 0) throw badValue('divisor cannot be 0');
}

/** The operators of one field ({$gt: 1, $lt: 5}), under `field`. */
function checkOperators(field: string, operators: Document): void {
  for (const [op, arg] of Object.entries(operators)) {
    switch (op) {
      case '$in':
      case '$nin':
        if (!Array.isArray(arg)) throw badValue(`${op} needs an array`);
        for (const item of arg) {
          if (isOperatorDocument(item)) throw badValue(`cannot nest $ under ${op}`);
          checkRegexValue(item);
        }
        break;
      case '$all':
        if (!Array.isArray(arg)) throw badValue('$all needs an array');
        for (const item of arg) {
          if (isPlainObject(item) && '$elemMatch' in item) checkElemMatch(field, item.$elemMatch);
          else checkRegexValue(item);
        }
        break;
      case '$elemMatch':
        checkElemMatch(field, arg);
        break;
      case '$not':
        if (arg instanceof BSONRegExp || arg instanceof RegExp) {
          checkRegexValue(arg);
          break;
        }
        if (!isPlainObject(arg)) throw badValue('$not needs a regex or a document');
        if (Object.keys(arg).length === 0) throw badValue('$not cannot be empty');
        if (isOperatorDocument(arg)) checkOperators(field, arg);
        else checkFilter(arg);
        break;
      case '$size':
        checkSize(arg);
        break;
      case '$mod':
        checkMod(arg);
        break;
      case '$regex': {
        if (arg instanceof BSONRegExp || arg instanceof RegExp) {
          checkRegexValue(arg);
          break;
        }
        if (typeof arg !== 'string') throw badValue('$regex has to be a string');
        const options = operators.$options;
        if (options !== undefined && typeof options !== 'string') throw badValue('$options has to be a string');
        compileRegex(arg, (options as string | undefined) ?? '');
        break;
      }
      case '$options':
        if (!('$regex' in operators)) throw badValue('$options needs a $regex');
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (arg instanceof BSONRegExp || arg instanceof RegExp) throw badValue(`Can't have RegEx as arg to predicate over field '${field}'.`);
        break;
      case '$ne':
        if (arg instanceof BSONRegExp || arg instanceof RegExp) throw badValue("Can't have regex as arg to $ne.");
        break;
      case '$near':
      case '$nearSphere':
      case '$geoWithin':
      case '$geoIntersects':
      case '$within':
        throw notSupported(`geospatial queries (${op})`);
      default:
        break;
    }
  }
}

/** $elemMatch's argument: a document of operators (on the elements) or a filter (on element documents). */
function checkElemMatch(field: string, arg: unknown): void {
  if (!isPlainObject(arg)) throw badValue('$elemMatch needs an Object');
  if (isOperatorDocument(arg) && !LOGICAL.has(Object.keys(arg)[0]!) && Object.keys(arg)[0] !== '$expr' && Object.keys(arg)[0] !== '$where') {
    checkOperators(field, arg);
  } else {
    checkFilter(arg);
  }
}

/**
 * Checks a filter's operator arguments as mongod's parser does, throwing its error for the first
 * one it refuses. Arguments it takes are left to mingo.
 */
export function checkFilter(filter: Document): void {
  for (const [key, value] of Object.entries(filter)) {
    if (LOGICAL.has(key)) {
      if (!Array.isArray(value)) throw badValue(`${key} must be an array`);
      if (value.length === 0) throw badValue('$and/$or/$nor must be a nonempty array');
      for (const sub of value) {
        if (!isPlainObject(sub)) throw badValue('$or/$and/$nor entries need to be full objects');
        checkFilter(sub);
      }
    } else if (key === '$text') {
      throw notSupported('$text queries');
    } else if (key === '$where') {
      throw notSupported('server-side JavaScript ($where)');
    } else if (key.startsWith('$')) {
      if (!TOP_LEVEL.has(key) && !key.startsWith('$_internal')) {
        throw badValue(`unknown top level operator: ${key}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
      }
    } else if (isOperatorDocument(value)) {
      checkOperators(key, value);
    } else {
      checkRegexValue(value);
    }
  }
}

/**
 * The filter without its `$comment`s: mongod takes one at the top of any clause and ignores it
 * when matching; mingo knows no `$comment` operator.
 */
export function withoutComments(filter: Document): Document {
  if (!Object.keys(filter).some((k) => k === '$comment' || LOGICAL.has(k))) return filter;
  const out: Document = {};
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$comment') continue;
    out[key] = LOGICAL.has(key) && Array.isArray(value) ? value.map((sub) => (isPlainObject(sub) ? withoutComments(sub) : sub)) : value;
  }
  return out;
}
