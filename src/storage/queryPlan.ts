import type { Document } from 'bson';
import { isPlainValue, type Bound, type FieldPredicate } from './orderedIndex.js';

/** An operator document ({$gt: 1}): every key `$`-prefixed. */
export function isOperatorObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** What one field's condition asks, as an index can answer it; undefined when no index can. */
function predicateOf(condition: unknown): FieldPredicate | undefined {
  if (isPlainValue(condition)) return { kind: 'in', values: [condition] };
  if (!isOperatorObject(condition)) return undefined;
  if (isPlainValue(condition.$eq)) return { kind: 'in', values: [condition.$eq] };
  if (Array.isArray(condition.$in) && condition.$in.every(isPlainValue)) return { kind: 'in', values: condition.$in };
  let low: Bound | undefined;
  let high: Bound | undefined;
  if (isPlainValue(condition.$gt)) low = { value: condition.$gt, inclusive: false };
  else if (isPlainValue(condition.$gte)) low = { value: condition.$gte, inclusive: true };
  if (isPlainValue(condition.$lt)) high = { value: condition.$lt, inclusive: false };
  else if (isPlainValue(condition.$lte)) high = { value: condition.$lte, inclusive: true };
  return low === undefined && high === undefined ? undefined : { kind: 'range', low, high };
}

/**
 * The conditions of a filter that every matching document must meet, field by field: the
 * top-level fields and those of top-level `$and` clauses (an implicit or explicit AND). Other
 * operators ($or, $nor, $expr ...) only add conditions, so leaving them out keeps a superset.
 */
export function fieldPredicates(filter: Document): Map<string, FieldPredicate> {
  const out = new Map<string, FieldPredicate>();
  collectPredicates(filter, out);
  return out;
}

/** The clause's field predicates into `out`, through `$and`s (a function, not a closure made per query). */
function collectPredicates(clause: Document, out: Map<string, FieldPredicate>): void {
  for (const field in clause) {
    const condition: unknown = clause[field];
    if (field === '$and' && Array.isArray(condition)) {
      for (const sub of condition) if (sub !== null && typeof sub === 'object') collectPredicates(sub as Document, out);
      continue;
    }
    if (field.startsWith('$') || out.has(field)) continue;
    const predicate = predicateOf(condition);
    if (predicate !== undefined) out.set(field, predicate);
  }
}
