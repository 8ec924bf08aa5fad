import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { matches } from './mingo.js';

/** `doc` with the value at `parts` replaced (copies along the path only). */
function withValueAt(doc: Document, parts: readonly string[], value: unknown): Document {
  const [head, ...rest] = parts;
  const current = doc[head!];
  const next = rest.length === 0 ? value : withValueAt(current !== null && typeof current === 'object' ? (current as Document) : {}, rest, value);
  return Array.isArray(doc) ? Object.assign([...doc], { [head!]: next }) : { ...doc, [head!]: next };
}

function valueAt(doc: Document, parts: readonly string[]): unknown {
  let value: unknown = doc;
  for (const part of parts) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Document)[part];
  }
  return value;
}

/**
 * The position in the array at `arrayPath` that the query matched: the first element that, alone
 * in the array, still satisfies the query's conditions on that array (mongod records the first
 * array position its matcher traversed).
 */
function matchedPosition(doc: Document, query: Document, arrayPath: string): number | undefined {
  const array = valueAt(doc, arrayPath.split('.'));
  if (!Array.isArray(array)) return undefined;
  const conditions = Object.entries(query).filter(([k]) => k === arrayPath || k.startsWith(`${arrayPath}.`));
  if (conditions.length === 0) return undefined;
  const filter = Object.fromEntries(conditions);
  for (let i = 0; i < array.length; i++) {
    if (matches(filter, withValueAt(doc, arrayPath.split('.'), [array[i]]))) return i;
  }
  return undefined;
}

/**
 * Replaces the positional `$` in an operator update's paths ("grades.$.score") by the array
 * position the query matched in `doc` (update_object_node.cpp; `$[]` and `$[id]` are mingo's).
 */
export function resolvePositional(update: Document, doc: Document, query: Document): Document {
  let out: Document | undefined;
  for (const [operator, fields] of Object.entries(update)) {
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) continue;
    for (const path of Object.keys(fields as Document)) {
      const parts = path.split('.');
      const at = parts.indexOf('$');
      if (at < 0) continue;
      if (parts.lastIndexOf('$') !== at) throw new MongoError(ErrorCodes.BadValue, `Too many positional (i.e. '$') elements found in path '${path}'`);
      if (at === 0) throw new MongoError(ErrorCodes.BadValue, `Cannot have positional (i.e. '$') element in the first position in path '${path}'`);
      const position = matchedPosition(doc, query, parts.slice(0, at).join('.'));
      if (position === undefined) throw new MongoError(ErrorCodes.BadValue, 'The positional operator did not find the match needed from the query.');
      parts[at] = String(position);
      out ??= Object.fromEntries(Object.entries(update).map(([op, f]) => [op, f !== null && typeof f === 'object' && !Array.isArray(f) ? { ...(f as Document) } : f]));
      const target = out[operator] as Document;
      const value = target[path];
      delete target[path];
      target[parts.join('.')] = value;
    }
  }
  return out ?? update;
}
