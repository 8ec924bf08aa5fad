import type { Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { isPlainObject } from '../bson/args.js';

/**
 * The expressions a partialFilterExpression may hold (index_key_validate.cpp
 * _checkValidFilterExpressions, mongod 7.0): equality, `$exists: true`, `$gt` `$gte` `$lt` `$lte`,
 * `$type`, `$in`, and `$and` / `$or` of those (`$and` at the top only). Anything else is
 * CannotCreateIndex "Expression not supported in partial index: <the expression's debug string>"
 * (MatchExpression::debugString, reproduced for the negations users write: `$exists: false`,
 * `$ne`, `$nin`, `$not`).
 */
const ALLOWED_OPERATORS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte', '$type', '$in']);

/** The reason a filter is refused (the text after "Expression not supported in partial index: "), or undefined. */
export function unsupportedPartialFilter(filter: Document, level = 0): string | undefined {
  for (const [field, value] of Object.entries(filter)) {
    if (field === '$and' || field === '$or') {
      if (field === '$and' && level > 0) return `$and\n${indent(level + 1)}...\n`;
      if (!Array.isArray(value)) continue;
      for (const clause of value) {
        if (!isPlainObject(clause)) continue;
        const reason = unsupportedPartialFilter(clause, level + 1);
        if (reason !== undefined) return reason;
      }
      continue;
    }
    if (field.startsWith('$')) return `${field}\n`;
    if (!isPlainObject(value) || !Object.keys(value).some((k) => k.startsWith('$'))) continue;
    for (const [op, operand] of Object.entries(value)) {
      if (op === '$exists') {
        if (operand === false || operand === 0) return `$not\n${indent(level + 1)}${field} exists\n`;
        continue;
      }
      if (op === '$ne') return `$not\n${indent(level + 1)}${field} $eq ${bsonText(operand)}\n`;
      if (op === '$nin') return `$not\n${indent(level + 1)}${field} $in ${bsonText(operand)}\n`;
      if (op === '$not') return `$not\n`;
      if (!ALLOWED_OPERATORS.has(op)) return `${field} ${op} ${bsonText(operand)}\n`;
    }
  }
  return undefined;
}

function indent(level: number): string {
  return '    '.repeat(level);
}

/** Refuses an index spec whose partialFilterExpression holds an unsupported expression, naming the spec as mongod does. */
export function checkPartialFilter(rawSpec: Document, filter: Document): void {
  const reason = unsupportedPartialFilter(filter);
  if (reason === undefined) return;
  const shown = 'v' in rawSpec ? rawSpec : { ...rawSpec, v: 2 };
  throw new MongoError(ErrorCodes.CannotCreateIndex, `Error in specification ${bsonText(shown)} :: caused by :: Expression not supported in partial index: ${reason}`);
}
