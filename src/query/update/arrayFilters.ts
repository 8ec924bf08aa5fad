/**
 * arrayFilters: ParsedUpdate::parseArrayFilters and ExpressionWithPlaceholder. Each filter is a
 * query on one identifier (its top-level field name, before any dot): `{i: {$gt: 5}}` or
 * `{'i.grade': 'A'}`; an array element matches when the filter matches it as the identifier's value.
 */
import type { Document } from 'bson';
import { typeName } from '../../bson/typeName.js';
import { compileFilter } from '../match/compile.js';
import { badValue, failedToParse, typeMismatch } from '../queryErrors.js';
import { withContext } from './errors.js';
import { checkNoSpecialFeatures } from './special.js';
import type { ElementFilter } from './tree.js';
import { asDocument, defineField, isDocument, type Obj } from './values.js';

const CONTEXT = 'Error parsing array filter';
const IDENTIFIER = /^[a-z][a-zA-Z0-9]*$/;

/**
 * The identifier a filter is about (parseTopLevelFieldName): the first part of every path it tests,
 * through $and/$or/$nor; operators without a path ($expr, $comment ...) name none.
 */
function placeholderOf(filter: Obj): string | undefined {
  let found: string | undefined;
  const meet = (p: string | undefined): void => {
    if (p === undefined) return;
    if (found === undefined) found = p;
    else if (found !== p) throw failedToParse(`Expected a single top-level field name, found '${found}' and '${p}'`);
  };
  for (const key of Object.keys(filter)) {
    if (key.startsWith('$')) {
      const subs = filter[key];
      if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(subs)) {
        for (const sub of subs) if (isDocument(sub)) meet(placeholderOf(asDocument(sub)));
      }
      continue;
    }
    const dot = key.indexOf('.');
    meet(dot < 0 ? key : key.slice(0, dot));
  }
  return found;
}

/** The array filters by identifier, each a test of one array element. */
export function parseArrayFilters(filters: readonly Document[] | undefined, collation: Document | undefined): Map<string, ElementFilter> {
  const out = new Map<string, ElementFilter>();
  if (filters === undefined) return out;
  filters.forEach((raw, i) => {
    if (!isDocument(raw)) {
      throw typeMismatch(`BSON field 'arrayFilters.${i}' is the wrong type '${typeName(raw)}', expected type 'object'`);
    }
    const filter = asDocument(raw);
    let id: string | undefined;
    let test: (doc: Obj) => boolean;
    try {
      checkNoSpecialFeatures(filter);
      const compiled = compileFilter(filter, { collation });
      test = (doc) => compiled.matches(doc);
      id = placeholderOf(filter);
      if (id !== undefined && !IDENTIFIER.test(id)) {
        throw badValue(`The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${id}'`);
      }
    } catch (err) {
      throw withContext(err, CONTEXT);
    }
    if (id === undefined) throw failedToParse('Cannot use an expression without a top-level field name in arrayFilters');
    if (out.has(id)) throw failedToParse(`Found multiple array filters with the same top-level field name ${id}`);
    const name = id;
    out.set(name, (element) => {
      const doc: Obj = {};
      defineField(doc, name, element);
      return test(doc);
    });
  });
  return out;
}
