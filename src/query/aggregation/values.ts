/**
 * Document and value helpers the stages share: reading paths as mongod's Document::getNestedField
 * and document_path_support::visitAllValuesAtPath read them, copy-on-write writes as
 * MutableDocument::setNestedField makes them (input documents are never modified: they may be the
 * stored ones). Value::toString / Document::toString for error messages is
 * ../expression/values.ts's valueText.
 *
 * Values are stored BSON values (bson classes, decoded with promoteValues: false). "Missing" is
 * `undefined` (the expression module's convention) or the MISSING symbol inside this folder.
 */
import { setField } from '../../bson/fields.js';
import { arrayIndexOf, dbrefDocument, isDocument, MISSING, objectKind } from '../match/values.js';
import { fieldPath } from '../projection/projectionAst.js';

export { MISSING };

export type Obj = Record<string, unknown>;

// setField keeps a `__proto__` field a field: the one of bson/fields.ts, also offered here.
export { setField };

/** An own field of a plain document (DBRefs read as the documents they are); MISSING when absent. */
export function getOwn(doc: unknown, name: string): unknown {
  const kind = objectKind(doc);
  if (kind === 0) return MISSING;
  const o = kind === 2 ? dbrefDocument(doc) : (doc as Obj);
  return Object.hasOwn(o, name) ? o[name] : MISSING;
}

/** The fields of a document as a plain object (a DBRef as the document it is on the wire). */
export function asObj(doc: unknown): Obj {
  return objectKind(doc) === 2 ? dbrefDocument(doc) : (doc as Obj);
}

/** A shallow copy of a document, its field order kept. */
export function copyDocument(doc: unknown): Obj {
  const src = asObj(doc);
  const out: Obj = {};
  for (const k of Object.keys(src)) setField(out, k, src[k]);
  return out;
}

/** FieldPath (field_path.cpp): 40352 for the empty string, then fieldPathParts' checks. */
export { fieldPath };

/**
 * Document::getNestedField: the value at a path through embedded documents only (an array on the
 * way makes it missing). MISSING when absent.
 */
export function getNested(doc: unknown, parts: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const p of parts) {
    if (!isDocument(cur)) return MISSING;
    cur = getOwn(cur, p);
    if (cur === MISSING) return MISSING;
  }
  return cur;
}

/**
 * document_path_support::visitAllValuesAtPath: every value at the path. The first component is a
 * field name; after a field, numeric components index into arrays ("a.0.1.b"); an array with
 * path left contributes its documents (arrays within arrays are not expanded); the value at the
 * end contributes its elements when it is an array, else itself; missing contributes nothing.
 */
export function valuesAtPath(doc: unknown, parts: readonly string[]): unknown[] {
  const out: unknown[] = [];
  const trailing = (v: unknown): void => {
    if (v === MISSING) return;
    if (Array.isArray(v)) for (const el of v) out.push(el);
    else out.push(v);
  };
  const visit = (d: unknown, from: number): void => {
    let next = getOwn(d, parts[from]!);
    let i = from + 1;
    if (i === parts.length) return trailing(next);
    while (i < parts.length && Array.isArray(next)) {
      const index = arrayIndexOf(parts[i]!);
      if (index < 0) break;
      next = index < next.length ? next[index] : MISSING;
      i++;
    }
    if (i === parts.length) return trailing(next);
    if (Array.isArray(next)) {
      for (const el of next) if (objectKind(el) !== 0) visit(el, i);
    } else if (objectKind(next) !== 0) {
      visit(next, i);
    }
  };
  if (objectKind(doc) !== 0) visit(doc, 0);
  return out;
}

/**
 * MutableDocument::setNestedField on a copy: the documents along the path are copied (a
 * non-document on the way is replaced by a new document), an existing field keeps its place, a
 * new one is appended. MISSING removes the last field. The input is not modified.
 */
export function setNested(doc: unknown, parts: readonly string[], value: unknown): Obj {
  const out = copyDocument(doc);
  let cur = out;
  for (let i = 0; i < parts.length - 1; i++) {
    const name = parts[i]!;
    const existing = Object.hasOwn(cur, name) ? cur[name] : MISSING;
    const next = isDocument(existing) ? copyDocument(existing) : {};
    setField(cur, name, next);
    cur = next;
  }
  const last = parts[parts.length - 1]!;
  if (value === MISSING) delete cur[last];
  else setField(cur, last, value);
  return out;
}

/** MutableDocument::removeNestedField on a copy (nothing happens when the path is not there). */
export function removeNested(doc: unknown, parts: readonly string[]): Obj {
  if (getNested(doc, parts) === MISSING) return copyDocument(doc);
  return setNested(doc, parts, MISSING);
}

// ---------------------------------------------------------------------------------------------
// Messages

/** typeName of a value, `missing` for a missing one (typeName(EOO)). */
export function typeNameOrMissing(v: unknown, typeName: (v: unknown) => string): string {
  return v === MISSING ? 'missing' : typeName(v);
}
