/**
 * The `$v: 2` diff an update's oplog entry carries (doc_diff.h): `d` deleted fields, `u` updated
 * ones, `i` fields inserted at the end, `s<field>` a sub-diff of an object or array; an array's
 * diff has `a: true`, `l` its new length when it shrank, and `u<index>` / `s<index>` per changed
 * element. Computed from the old and new documents, so that applying it to the old document gives
 * exactly the new one (field order included: a field that moved is deleted and inserted again).
 */
import { BSON, type Document } from 'bson';
import { isPlainObject } from '../bson/args.js';

/** Same BSON bytes (an update keeps untouched values as the very same objects, so most checks stop at ===). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Object.is(a, b);
  const wrap = (v: unknown): Document => ({ v });
  return Buffer.from(BSON.serialize(wrap(a))).equals(Buffer.from(BSON.serialize(wrap(b))));
}

/** The diff turning object `old` into `next`. */
export function documentDiff(old: Document, next: Document): Document {
  const oldKeys = Object.keys(old);
  const nextKeys = Object.keys(next);
  const oldSet = new Set(oldKeys);
  // The longest leading run of `next`'s fields that keep their relative order in `old`: those are
  // updated in place; every field of `next` after it is (re)inserted at the end, in order.
  let kept = 0;
  let oldPos = 0;
  for (; kept < nextKeys.length; kept++) {
    const key = nextKeys[kept]!;
    if (!oldSet.has(key)) break;
    const at = oldKeys.indexOf(key, oldPos);
    if (at < 0) break;
    oldPos = at + 1;
  }
  const keptSet = new Set(nextKeys.slice(0, kept));
  const deleted: Document = {};
  const updated: Document = {};
  const inserted: Document = {};
  const sub: Document = {};
  let hasDeleted = false;
  let hasUpdated = false;
  let hasInserted = false;
  for (const key of oldKeys) {
    if (!keptSet.has(key)) {
      deleted[key] = false;
      hasDeleted = true;
    }
  }
  for (let i = 0; i < kept; i++) {
    const key = nextKeys[i]!;
    const before = old[key];
    const after = next[key];
    if (sameValue(before, after)) continue;
    if (isPlainObject(before) && isPlainObject(after)) {
      sub[`s${key}`] = documentDiff(before, after);
    } else if (Array.isArray(before) && Array.isArray(after)) {
      sub[`s${key}`] = arrayDiff(before, after);
    } else {
      updated[key] = after;
      hasUpdated = true;
    }
  }
  for (let i = kept; i < nextKeys.length; i++) {
    inserted[nextKeys[i]!] = next[nextKeys[i]!];
    hasInserted = true;
  }
  const diff: Document = {};
  if (hasDeleted) diff.d = deleted;
  if (hasUpdated) diff.u = updated;
  if (hasInserted) diff.i = inserted;
  Object.assign(diff, sub);
  return diff;
}

function arrayDiff(old: readonly unknown[], next: readonly unknown[]): Document {
  const diff: Document = { a: true };
  if (next.length < old.length) diff.l = next.length;
  for (let i = 0; i < next.length; i++) {
    const before = old[i];
    const after = next[i];
    if (i < old.length && sameValue(before, after)) continue;
    if (i < old.length && isPlainObject(before) && isPlainObject(after)) diff[`s${i}`] = documentDiff(before, after);
    else if (i < old.length && Array.isArray(before) && Array.isArray(after)) diff[`s${i}`] = arrayDiff(before, after);
    else diff[`u${i}`] = after;
  }
  return diff;
}
