/**
 * Update paths through stored documents: mongod's mutable-document walk (update_object_node.cpp
 * applyChild/getChild, path_support.cpp createPathAt/findLongestPrefix, update_leaf_node.cpp
 * checkViability) done copy-on-write.
 *
 * An `Elem` names a place in the document being updated (its parent place and its field name or
 * array index); its value is read through the current document each time, so a place stays valid
 * while containers above it are copied. Writing through a place first makes every container on
 * its path "owned" by this apply (a shallow copy, made once and then written in place): the input
 * document is never changed, and every value off the written paths is the very same object.
 */
import { ErrorCodes, MongoError } from '../../errors.js';
import { compareUtf8 } from '../../bson/bsonOrder.js';
import { typeName } from '../../bson/typeName.js';
import { badValue } from '../queryErrors.js';
import { pathNotViable } from './errors.js';
import { asDocument, copyContainer, defineField, elementText, hasOwnField, isDocument, parseArrayIndex, type Obj } from './values.js';

/** The state of one `apply`: the document as it is being rewritten. */
export interface ApplyContext {
  /** The current root: the input document until the first write, then this apply's copy. */
  doc: Obj;
  /** Containers (documents and arrays) this apply made, which it may write in place. */
  readonly owned: Set<object>;
  /** Whether some node changed the document (mongod's !noop). */
  modified: boolean;
  /** The update inserts a document (an upsert): $setOnInsert applies. */
  readonly insert: boolean;
  readonly now: () => Date;
  /** The array position the query matched, for a positional `$` path part (mongod's matchedField). */
  readonly matchedField: string | undefined;
}

/** A place in the document: the root, a field of a document, or a position of an array. */
export class Elem {
  /** `key` is a field name (documents) or a position (arrays); unused for the root. */
  constructor(
    readonly parent: Elem | undefined,
    readonly key: string | number,
  ) {}

  /** BSONElement::fieldName: the field name, or the array position as a string. */
  get name(): string {
    return typeof this.key === 'number' ? String(this.key) : this.key;
  }

  get isRoot(): boolean {
    return this.parent === undefined;
  }
}

export const ROOT = new Elem(undefined, '');

function read(container: unknown, key: string | number): unknown {
  if (typeof key === 'number') return (container as unknown[])[key];
  return asDocument(container)[key];
}

/** The value at a place (undefined for a place that no longer exists). */
export function valueOf(ctx: ApplyContext, e: Elem): unknown {
  if (e.parent === undefined) return ctx.doc;
  return read(valueOf(ctx, e.parent), e.key);
}

/** The container at a place, made writable (copied once per apply, along the path from the root). */
export function own(ctx: ApplyContext, e: Elem): Obj | unknown[] {
  if (e.parent === undefined) {
    if (!ctx.owned.has(ctx.doc)) {
      ctx.doc = copyContainer(ctx.doc) as Obj;
      ctx.owned.add(ctx.doc);
    }
    return ctx.doc;
  }
  const parent = own(ctx, e.parent);
  const current = read(parent, e.key) as object;
  if (ctx.owned.has(current)) return current as Obj | unknown[];
  const copy = copyContainer(current);
  write(parent, e.key, copy);
  ctx.owned.add(copy);
  return copy;
}

function write(container: Obj | unknown[], key: string | number, value: unknown): void {
  if (typeof key === 'number') (container as unknown[])[key] = value;
  else defineField(container as Obj, key, value);
}

/** Replaces the value at an existing place (its field keeps its position). */
export function setValue(ctx: ApplyContext, e: Elem, value: unknown): void {
  write(own(ctx, e.parent!), e.key, value);
}

/** Removes a field from its document (an array position is never removed this way). */
export function removeField(ctx: ApplyContext, e: Elem): void {
  const parent = own(ctx, e.parent!) as Obj;
  delete parent[e.key as string];
}

/** Marks a value this apply built (a new array or document) as writable in place. */
export function adopt<T extends object>(ctx: ApplyContext, v: T): T {
  ctx.owned.add(v);
  return v;
}

/**
 * The child place `field` of a place, if it exists (update_object_node.cpp getChild): a field of a
 * document, or the position of an array a field name of digits denotes.
 */
export function getChild(ctx: ApplyContext, e: Elem, field: string): Elem | undefined {
  const v = valueOf(ctx, e);
  if (Array.isArray(v)) {
    const i = parseArrayIndex(field);
    return i !== undefined && i < v.length ? new Elem(e, i) : undefined;
  }
  if (isDocument(v) && hasOwnField(asDocument(v), field)) return new Elem(e, field);
  return undefined;
}

/** BSONElement::toString of the element at a place: `name: value`. */
export function placeText(ctx: ApplyContext, e: Elem): string {
  return elementText(e.name, valueOf(ctx, e));
}

/** pathsupport::kMaxPaddingAllowed. */
export const MAX_PADDING = 1500000;

/**
 * pathsupport::createPathAt: creates `parts[from..]` under the existing place `at` and puts
 * `value` at the end; returns the first place created. Under an array the first part must be a
 * position (the array is padded with nulls up to it); further parts are created as documents.
 * Anything but a document or an array cannot take children: PathNotViable.
 */
export function createPathAt(ctx: ApplyContext, at: Elem, parts: readonly string[], from: number, value: unknown): Elem {
  const base = valueOf(ctx, at);
  const first = parts[from]!;
  let chain = value;
  for (let i = parts.length - 1; i > from; i--) {
    const o: Obj = {};
    defineField(o, parts[i]!, chain);
    chain = adopt(ctx, o);
  }
  if (Array.isArray(base)) {
    const index = parseArrayIndex(first);
    if (index === undefined) throw pathNotViable(`Cannot create field '${first}' in element {${placeText(ctx, at)}}`);
    const toPad = index - base.length;
    if (toPad > MAX_PADDING) {
      throw new MongoError(ErrorCodes.CannotBackfillArray, `can't backfill more than ${MAX_PADDING} elements`);
    }
    const arr = own(ctx, at) as unknown[];
    for (let i = 0; i < toPad; i++) arr.push(null);
    arr.push(chain);
    return new Elem(at, arr.length - 1);
  }
  if (!isDocument(base)) throw pathNotViable(`Cannot create field '${first}' in element {${placeText(ctx, at)}}`);
  const obj = own(ctx, at) as Obj;
  defineField(obj, first, chain);
  return new Elem(at, first);
}

/**
 * UpdateLeafNode::checkViability: for operators that do nothing on a missing path ($pop, $pull,
 * $pullAll), the path must still be one that could be created.
 */
export function checkViability(ctx: ApplyContext, at: Elem, toCreate: readonly string[], taken: readonly string[]): void {
  const v = valueOf(ctx, at);
  if (isDocument(v)) return;
  if (Array.isArray(v) && parseArrayIndex(toCreate[0]!) !== undefined) return;
  throw pathNotViable(
    `Cannot use the part (${toCreate[0]}) of (${taken.join('.')}.${toCreate.join('.')}) to traverse the element ({${placeText(ctx, at)}})`,
  );
}

export type PrefixResult =
  | { readonly status: 'found'; readonly elem: Elem; readonly index: number }
  | { readonly status: 'nonexistent' };

/**
 * pathsupport::findLongestPrefix from the root: the deepest existing place along `parts` and the
 * index of its part. A part that would have to traverse a value that is not a document (or an
 * array by position) is PathNotViable.
 */
export function findLongestPrefix(ctx: ApplyContext, parts: readonly string[]): PrefixResult {
  const root = ctx.doc;
  if (Object.keys(root).length === 0 || parts.length === 0) return { status: 'nonexistent' };
  let curr: Elem = ROOT;
  let prev: Elem = ROOT;
  let i = 0;
  for (; i < parts.length; i++) {
    const part = parts[i]!;
    prev = curr;
    const v = valueOf(ctx, curr);
    let next: Elem | undefined;
    if (Array.isArray(v)) {
      const index = parseArrayIndex(part);
      if (index === undefined) {
        throw pathNotViable(`cannot use the part (${parts[i - 1]} of ${parts.join('.')}) to traverse the element ({${placeText(ctx, curr)}})`);
      }
      next = index < v.length ? new Elem(curr, index) : undefined;
    } else if (isDocument(v)) {
      next = hasOwnField(asDocument(v), part) ? new Elem(curr, part) : undefined;
    } else {
      throw pathNotViable(`cannot use the part (${parts[i - 1]} of ${parts.join('.')}) to traverse the element ({${placeText(ctx, curr)}})`);
    }
    if (next === undefined) break;
    curr = next;
  }
  if (i === 0) return { status: 'nonexistent' };
  return i === parts.length ? { status: 'found', elem: curr, index: i - 1 } : { status: 'found', elem: prev, index: i - 1 };
}

/**
 * pathsupport::cmpPathsAndArrayIndexes: the order UpdateObjectNode applies its children in.
 * Field names compare by their UTF-8 bytes, except that two names both starting with a digit (and
 * not zero-padded) compare as numbers: the shorter first, then digit by digit.
 */
export function comparePathNames(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0 || !isDigit(a.charCodeAt(0)) || !isDigit(b.charCodeAt(0)) || (a.charCodeAt(0) === 48 && la > 1) || (b.charCodeAt(0) === 48 && lb > 1)) {
    return compareUtf8(a, b);
  }
  const ba = Buffer.byteLength(a, 'utf8');
  const bb = Buffer.byteLength(b, 'utf8');
  if (ba !== bb) return ba < bb ? -1 : 1;
  for (let i = 0; i < la && i < lb; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (!isDigit(ca) || !isDigit(cb)) break;
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return compareUtf8(a, b);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// ---------------------------------------------------------------------------------------------
// Storage validation (storage_validation.cpp scanDocument, as mongod 7.0 runs it for operator
// updates: allowTopLevelDollarPrefixes false, feature compatibility 5.0 or later).

/** BSONDepth::getMaxDepthForUserStorage: the default maxBSONDepth (200) minus 20 system levels. */
export const MAX_USER_DEPTH = 180;

function nestingDepth(v: unknown): number {
  if (Array.isArray(v)) {
    let d = 0;
    for (const x of v) d = Math.max(d, 1 + nestingDepth(x));
    return d;
  }
  if (isDocument(v)) {
    const o = asDocument(v);
    let d = 0;
    for (const k of Object.keys(o)) d = Math.max(d, 1 + nestingDepth(o[k]));
    return d;
  }
  return 0;
}

/**
 * Validates a value an update wrote at `e`, which sits at `level` (a top-level field is level 1):
 * no element deeper than MAX_USER_DEPTH, and a top-level field name starting with '$' only as part
 * of a DBRef ($ref, $id, $db in that order). '$'-prefixed names below the top level are allowed.
 */
export function validateWritten(ctx: ApplyContext, e: Elem, level: number): void {
  const v = valueOf(ctx, e);
  if (level + nestingDepth(v) > MAX_USER_DEPTH) {
    throw new MongoError(ErrorCodes.Overflow, `Document exceeds maximum nesting depth of ${MAX_USER_DEPTH}`);
  }
  if (level === 1 && e.name.startsWith('$') && !Array.isArray(valueOf(ctx, e.parent!))) validateDollarPrefixed(ctx, e);
}

function invalidDBRef(message: string): MongoError {
  return new MongoError(ErrorCodes.InvalidDBRef, message);
}

/** validateDollarPrefixElement: a '$' field is allowed only as $ref/$id/$db of a DBRef, in order. */
function validateDollarPrefixed(ctx: ApplyContext, e: Elem): void {
  const parent = asDocument(valueOf(ctx, e.parent!));
  const keys = Object.keys(parent);
  let at = keys.indexOf(e.name);
  let name = e.name;
  if (name === '$db') {
    const v = parent.$db;
    if (typeof v !== 'string') throw invalidDBRef(`The DBRef $db field must be a String, not a ${typeName(v)}`);
    at -= 1;
    if (at < 0 || keys[at] !== '$id') throw invalidDBRef('Found $db field without a $id before it, which is invalid.');
    name = '$id';
  }
  if (name === '$id') {
    at -= 1;
    if (at < 0 || keys[at] !== '$ref') throw invalidDBRef('Found $id field without a $ref before it, which is invalid.');
    name = '$ref';
  }
  if (name === '$ref') {
    const v = parent.$ref;
    if (typeof v !== 'string') throw invalidDBRef(`The DBRef $ref field must be a String, not a ${typeName(v)}`);
    if (keys[at + 1] !== '$id') throw invalidDBRef('The DBRef $ref field must be followed by a $id field');
    return;
  }
  throw new MongoError(
    ErrorCodes.DollarPrefixedFieldName,
    `The dollar ($) prefixed field '${e.name}' in '${e.name}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
  );
}

/** The positional `$` left in a path (no array position from the query). */
export function positionalNotFound(): MongoError {
  return badValue('The positional operator did not find the match needed from the query.');
}
