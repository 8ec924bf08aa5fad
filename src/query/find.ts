import type { Document } from 'bson';
import { compileFilter, type CompiledFilter, type MatchOptions } from './match/compile.js';
import { mingoFilter, sortByMingo } from './mingo.js';
import { MongoError, ErrorCodes } from '../errors.js';
import { makeCompileContext, type RunContext } from './aggregation/context.js';
import { compileDocumentTest } from './aggregation/match.js';
import { findProjection } from './projection/findProjection.js';
import { naturalDirection, sortDocuments, sortFields } from './sort.js';

export interface FindSpec {
  filter?: Document;
  /** The collation: strings match, sort and project ($elemMatch) with it. */
  collation?: Document;
  projection?: Document;
  sort?: Document;
  skip?: number;
  limit?: number;
  /** `let` variables ($$name in $expr and projection expressions). */
  variables?: Document;
  /** The command's one NOW ($$NOW in $expr). */
  now?: Date;
  /** The filter already compiled (with the same collation and variables), when the caller has it. */
  matcher?: CompiledFilter;
}

function isNotSupported(err: unknown): boolean {
  return err instanceof MongoError && err.code === ErrorCodes.CommandNotSupported;
}

/**
 * A filter compiled for matching stored documents, on their BSON values: the matcher (match/),
 * and for a `$expr` with aggregation operators beyond its comparisons, the aggregation expression
 * evaluator (exact too); only an operator that one refuses as well goes to mingo over the numeric
 * view (approximate for numbers beyond a double's precision). No array position is recorded
 * through a `$expr` split.
 */
export function compileQuery(filter: Document, options: MatchOptions = {}): CompiledFilter {
  try {
    return compileFilter(filter, options);
  } catch (err) {
    if (!(isNotSupported(err) && / inside \$expr /.test((err as Error).message))) throw err;
  }
  try {
    const variables = options.variables ?? {};
    const test = compileDocumentTest(filter, makeCompileContext(options.collation, variables));
    const run: RunContext = { now: options.now ?? new Date(), variables: new Map(Object.entries(variables)), variablesDoc: variables, collection: () => [] };
    const matches = (doc: Document): boolean => test(doc, run);
    return { matches, matchWithPosition: (doc) => ({ matched: matches(doc), arrayPosition: undefined }), hasExpr: true };
  } catch (err) {
    if (!isNotSupported(err)) throw err;
    return mingoFilter(filter, options.variables);
  }
}

/**
 * find over documents, on their stored BSON values: the filter matches them as they are (no
 * numeric view), the sort is mongod's BSON order, and the projection passes values through
 * untouched. Without a sort, skip and limit stay lazy, so a limit stops the scan.
 */
export function runFind(spec: FindSpec, docs: Iterable<Document>): Document[] {
  const filter = spec.matcher ?? compileQuery(spec.filter ?? {}, { collation: spec.collation, variables: spec.variables, now: spec.now });
  // Projections are parsed before anything runs, as mongod parses the whole find first.
  const project = spec.projection === undefined ? undefined : findProjection(spec.projection, filter, { collation: spec.collation, variables: spec.variables });
  const start = spec.skip ?? 0;
  const end = spec.limit !== undefined && spec.limit > 0 ? start + spec.limit : undefined;
  const sort = spec.sort === undefined || Object.keys(spec.sort).length === 0 ? undefined : spec.sort;
  const natural = sort === undefined ? undefined : naturalDirection(sort);
  let kept: Document[];
  if (sort === undefined || natural === 1) {
    kept = [];
    let skipped = 0;
    const wanted = end === undefined ? Infinity : end - start;
    if (wanted > 0) {
      for (const doc of docs) {
        if (!filter.matches(doc)) continue;
        if (skipped < start) skipped += 1;
        else if (kept.push(doc) >= wanted) break;
      }
    }
  } else {
    const matched: Document[] = [];
    for (const doc of docs) if (filter.matches(doc)) matched.push(doc);
    const fields = natural === undefined ? sortFields(sort) : undefined;
    const ordered =
      natural === -1 ? matched.reverse() : fields !== undefined ? sortDocuments(matched, fields, spec.collation) : sortByMingo(matched, sort);
    kept = ordered.slice(start, end);
  }
  return project === undefined ? kept : kept.map(project);
}
