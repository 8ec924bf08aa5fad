import type { Document } from 'bson';
import { collatorFor, comparatorFor } from './match/collation.js';

/** One sort field: its path and direction. */
interface SortField {
  readonly parts: readonly string[];
  readonly descending: boolean;
}

/** {$natural: -1}: the documents in reverse natural order (1: as they are). */
export function naturalDirection(spec: Document): 1 | -1 | undefined {
  const keys = Object.keys(spec);
  if (keys.length !== 1 || keys[0] !== '$natural') return undefined;
  return Number((spec.$natural as { valueOf?: () => unknown })?.valueOf?.() ?? spec.$natural) < 0 ? -1 : 1;
}

/** The values a document holds at a path, descending through arrays (array elements count one by one). */
function valuesAt(value: unknown, parts: readonly string[], from: number, out: unknown[]): void {
  if (Array.isArray(value)) {
    for (const element of value) valuesAt(element, parts, from, out);
    return;
  }
  if (from === parts.length) {
    out.push(value);
    return;
  }
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return;
  // Own fields only: a field named "constructor" is not Object's.
  const part = parts[from]!;
  if (Object.hasOwn(value, part)) valuesAt((value as Document)[part], parts, from + 1, out);
}

/** A comparison of values that follows a collation for strings (match/collation.ts: one collation implementation). */
type ValueComparator = (a: unknown, b: unknown) => number;

/**
 * A document's sort key for one field, as mongod takes it: the smallest of the values at the path
 * for an ascending sort, the largest for a descending one (arrays contribute their elements); a
 * missing field sorts as null, an empty array below null.
 */
function sortKey(doc: Document, field: SortField, compare: ValueComparator): unknown {
  const values: unknown[] = [];
  valuesAt(doc, field.parts, 0, values);
  if (values.length === 0) return isEmptyArrayAt(doc, field.parts) ? undefined : null;
  let best = values[0];
  for (let i = 1; i < values.length; i++) {
    const order = compare(values[i], best);
    if (field.descending ? order > 0 : order < 0) best = values[i];
  }
  return best;
}

function isEmptyArrayAt(doc: Document, parts: readonly string[]): boolean {
  let value: unknown = doc;
  for (const part of parts) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return false;
    value = (value as Document)[part];
  }
  return Array.isArray(value) && value.length === 0;
}

/**
 * The fields of a sort spec ({a: 1, 'b.c': -1}); undefined when a field is not a plain direction
 * ({$meta: 'textScore'} and the like are left to mingo).
 */
export function sortFields(spec: Document): SortField[] | undefined {
  const fields: SortField[] = [];
  for (const [path, direction] of Object.entries(spec)) {
    const n = typeof direction === 'number' ? direction : Number((direction as { valueOf?: () => unknown })?.valueOf?.());
    if (n !== 1 && n !== -1) return undefined;
    fields.push({ parts: path.split('.'), descending: n === -1 });
  }
  return fields;
}

/**
 * Documents in mongod's sort order: by each field's sort key in BSON order (types ranked as
 * canonicalizeBSONType ranks them, numbers by value across int/long/double/decimal), ties kept in
 * their incoming order.
 */
export function sortDocuments(docs: readonly Document[], fields: readonly SortField[], collation?: Document): Document[] {
  const compare = comparatorFor(collatorFor(collation));
  const keyed = docs.map((doc) => ({ doc, keys: fields.map((f) => sortKey(doc, f, compare)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < fields.length; i++) {
      const order = compare(x.keys[i], y.keys[i]);
      if (order !== 0) return fields[i]!.descending ? -order : order;
    }
    return 0;
  });
  return keyed.map((k) => k.doc);
}
