import type { Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { parsedQuery } from '../storage/planStages.js';
import type { Hint } from '../storage/catalog.js';
import type { CommandContext } from './command.js';

/** The query a failed hint names in mongod's message (CanonicalQuery's short text). */
export interface HintedQuery {
  readonly filter: Document;
  readonly sort?: Document;
  readonly projection?: Document;
}

/** MatchExpression::debugString of a normalized filter: one "path $op value" line per leaf, $and over several. */
export function treeText(filter: Document): string {
  const leaf = (clause: Document): string => {
    const [path, condition] = Object.entries(clause)[0]!;
    if (path.startsWith('$') || condition === null || typeof condition !== 'object') return `${bsonText(clause)}\n`;
    const [op, value] = Object.entries(condition as Document)[0]!;
    return `${path} ${op} ${bsonText(value)}\n`;
  };
  const parsed = parsedQuery(filter);
  if (Array.isArray(parsed.$and)) return `$and\n${(parsed.$and as Document[]).map((c) => `    ${leaf(c)}`).join('')}`;
  return Object.keys(parsed).length === 0 ? '$and\n' : leaf(parsed);
}

/**
 * The index a `hint` argument names on the collection, or undefined for none (absent, empty, or a
 * collection that does not exist: mongod's plan is EOF then). An index that does not exist is
 * mongod's BadValue, with the query in its message (as the delete command documentation shows:
 * "error processing query: ns=test.products: hat $eq "bowler"\nSort: {}\nProj: {}\n planner
 * returned error :: caused by :: hint provided does not correspond to an existing index").
 */
export function resolveHint(ctx: CommandContext<'catalog'>, collection: string, hint: unknown, query: HintedQuery): Hint | undefined {
  if (hint === undefined || hint === null) return undefined;
  if (typeof hint !== 'string' && (typeof hint !== 'object' || Array.isArray(hint))) {
    throw new MongoError(ErrorCodes.FailedToParse, 'Hint must be either a string or nested object');
  }
  if (hint === '' || (typeof hint === 'object' && Object.keys(hint).length === 0)) return undefined;
  const stored = ctx.services.catalog.get(ctx.db, collection);
  if (stored === undefined) return undefined;
  const index = stored.hintedIndex(hint as string | Document);
  if (index !== undefined) return index;
  throw new MongoError(
    ErrorCodes.BadValue,
    `error processing query: ns=${ctx.db}.${collection}: ${treeText(query.filter)}Sort: ${bsonText(query.sort ?? {})}\nProj: ${bsonText(query.projection ?? {})}\n planner returned error :: caused by :: hint provided does not correspond to an existing index`,
  );
}
