/**
 * Array operators: $push with $each/$slice/$sort/$position (push_node.cpp, pattern_cmp.cpp),
 * $addToSet with $each (addtoset_node.cpp), $pop (pop_node.cpp), $pull (pull_node.cpp) and $pullAll
 * (pullall_node.cpp), the last two through ArrayCullingNode (array_culling_node.cpp).
 */
import type { Document } from 'bson';
import { canonicalKey } from '../../bson/bsonOrder.js';
import { bsonText } from '../../bson/bsonText.js';
import { typeName } from '../../bson/typeName.js';
import { compileFilter, isPathAcceptingKeyword } from '../match/compile.js';
import { parseIntegerElement } from '../match/values.js';
import { numericType } from '../numeric.js';
import { badValue, failedToParse, typeMismatch } from '../queryErrors.js';
import { adopt, checkViability, setValue, valueOf, type ApplyContext, type Elem } from './paths.js';
import { ModifierNode, type LeafNode } from './tree.js';
import { asDocument, hasOwnField, idText, isDocument, type Obj } from './values.js';
import { checkNoSpecialFeatures } from './special.js';

export type ValueCompare = (a: unknown, b: unknown) => number;

function isRegex(v: unknown): boolean {
  return v instanceof RegExp || (typeof v === 'object' && v !== null && (v as { _bsontype?: unknown })._bsontype === 'BSONRegExp');
}

/** BSONElement::isNumber: int, long, double or decimal. */
function isNumberValue(v: unknown): boolean {
  return numericType(v) !== undefined;
}

function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  const tag = (v as { _bsontype?: unknown })._bsontype;
  if (tag === 'Long') return (v as { toNumber(): number }).toNumber();
  if (tag === 'Decimal128') return Number((v as { toString(): string }).toString());
  return +(v as { value: number }).value;
}

// ---------------------------------------------------------------------------------------------
// $push

/**
 * A $push/$sort order (PatternElementCmp): the whole element (`$sort: 1/-1`) or the values of some
 * fields of document elements (`$sort: {a: 1, 'b.c': -1}`; a missing field, or a non-document
 * element, counts as null), compared in BSON order under the collation.
 */
type ElementOrder = (a: unknown, b: unknown) => number;

/**
 * bson::extractElementAtDottedPath: the field named by the whole path if there is one, else the
 * first part's document (or array, read as a document of positions) and the rest of the path in it.
 */
function dottedValue(container: unknown, path: string): unknown {
  let fields: Obj | unknown[];
  if (Array.isArray(container)) fields = container;
  else if (isDocument(container)) fields = asDocument(container);
  else return undefined;
  const direct = fieldOf(fields, path);
  if (direct !== undefined) return direct.value;
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  const sub = fieldOf(fields, path.slice(0, dot));
  if (sub === undefined || !(Array.isArray(sub.value) || isDocument(sub.value))) return undefined;
  const inner = sub.value;
  if ((Array.isArray(inner) ? inner.length : Object.keys(asDocument(inner)).length) === 0) return undefined;
  return dottedValue(inner, path.slice(dot + 1));
}

function fieldOf(fields: Obj | unknown[], name: string): { value: unknown } | undefined {
  if (Array.isArray(fields)) {
    // Array positions as BSON field names: "0", "1", ... (no leading zeros).
    if (!/^(0|[1-9][0-9]*)$/.test(name)) return undefined;
    const i = Number(name);
    return i < fields.length ? { value: fields[i] } : undefined;
  }
  return hasOwnField(fields, name) ? { value: fields[name] } : undefined;
}

function sortOrder(pattern: unknown, compare: ValueCompare): ElementOrder {
  if (!isDocument(pattern)) {
    const descending = numberOf(pattern) < 0;
    return descending ? (a, b) => compare(b, a) : compare;
  }
  const spec = asDocument(pattern);
  const fields = Object.keys(spec).map((path) => ({ path, descending: numberOf(spec[path]) < 0 }));
  const keyOf = (element: unknown): unknown[] => {
    const container = isDocument(element) ? element : undefined;
    return fields.map((f) => {
      const v = container === undefined ? undefined : dottedValue(container, f.path);
      return v === undefined ? null : v;
    });
  };
  return (a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    for (let i = 0; i < fields.length; i++) {
      const c = compare(ka[i], kb[i]);
      if (c !== 0) return fields[i]!.descending ? -c : c;
    }
    return 0;
  };
}

/** pattern_cmp::checkSortClause. */
function checkSortPattern(pattern: Obj): void {
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw badValue('The sort pattern is empty when it should be a set of fields.');
  for (const k of keys) {
    const v = pattern[k];
    const order = isNumberValue(v) ? numberOf(v) : 0;
    if (order !== -1 && order !== 1) throw badValue('The sort element value must be either 1 or -1');
    if (k === '') throw badValue('The sort field cannot be empty');
    if (k.split('.').some((p) => p === '')) throw badValue(`The sort field is a dotted field but has an empty part: ${k}`);
  }
}

const PUSH_CLAUSES = new Set(['$each', '$slice', '$sort', '$position']);

/** BSONElement::parseIntegerElementToLong, success only. */
function integerArgument(v: unknown): bigint | undefined {
  const r = parseIntegerElement('', v, 'long');
  return typeof r === 'bigint' ? r : undefined;
}

/**
 * $push: appends the value (or, with {$each: [...]}, the values) to the array, at $position when
 * given (negative: from the end; past the end: appended; 0 or far negative: at the front), then
 * sorts by $sort, then keeps $slice elements (negative: the last ones). A missing field is created
 * as an array; any other type is BadValue.
 */
export class PushNode extends ModifierNode {
  private constructor(
    private readonly values: readonly unknown[],
    private readonly position: bigint | undefined,
    private readonly slice: bigint | undefined,
    private readonly order: ElementOrder | undefined,
  ) {
    super();
  }

  /** PushNode::init. */
  static parse(value: unknown, compare: ValueCompare): PushNode {
    if (!isDocument(value) || !hasOwnField(asDocument(value), '$each')) return new PushNode([value], undefined, undefined, undefined);
    const spec = asDocument(value);
    for (const k of Object.keys(spec)) {
      if (!PUSH_CLAUSES.has(k)) throw badValue(`Unrecognized clause in $push: ${k}`);
    }
    const each = spec.$each;
    if (!Array.isArray(each)) throw badValue(`The argument to $each in $push must be an array but it was of type: ${typeName(each)}`);
    let slice: bigint | undefined;
    if (hasOwnField(spec, '$slice')) {
      slice = integerArgument(spec.$slice);
      if (slice === undefined) throw badValue(`The value for $slice must be an integer value but was given type: ${typeName(spec.$slice)}`);
    }
    let order: ElementOrder | undefined;
    if (hasOwnField(spec, '$sort')) {
      const sort = spec.$sort;
      if (isDocument(sort)) {
        checkSortPattern(asDocument(sort));
      } else if (isNumberValue(sort)) {
        const n = numberOf(sort);
        if (n !== 1 && n !== -1) throw badValue('The $sort element value must be either 1 or -1');
      } else {
        throw badValue('The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
      }
      order = sortOrder(sort, compare);
    }
    let position: bigint | undefined;
    if (hasOwnField(spec, '$position')) {
      position = integerArgument(spec.$position);
      if (position === undefined) {
        throw badValue(`The value for $position must be an integer value, not of type: ${typeName(spec.$position)}`);
      }
    }
    return new PushNode(each, position, slice, order);
  }

  /** performPush on a copy: the new array, or undefined when nothing changed. */
  private push(arr: readonly unknown[]): unknown[] | undefined {
    let changed = false;
    let out = arr as unknown[];
    if (this.values.length > 0) {
      changed = true;
      const size = BigInt(arr.length);
      const p = this.position;
      let at: number;
      if (arr.length === 0 || p === undefined || p > size) at = arr.length;
      else if (p > 0n) at = Number(p);
      else if (p < 0n && -p < size) at = Number(size + p);
      else at = 0;
      out = [...arr.slice(0, at), ...this.values, ...arr.slice(at)];
    }
    if (this.order !== undefined) {
      changed = true;
      if (out === arr) out = arr.slice();
      out.sort(this.order);
    }
    if (this.slice !== undefined) {
      const s = this.slice;
      const keep = s < 0n ? -s : s;
      if (BigInt(out.length) > keep) {
        changed = true;
        const n = Number(keep);
        out = s >= 0n ? out.slice(0, n) : out.slice(out.length - n);
      }
    }
    return changed ? out : undefined;
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem, taken: readonly string[]): boolean {
    const arr = valueOf(ctx, at);
    if (!Array.isArray(arr)) {
      throw badValue(`The field '${taken.join('.')}' must be an array but is of type ${typeName(arr)} in document {${idText(ctx.doc)}}`);
    }
    const out = this.push(arr);
    if (out === undefined) return false;
    setValue(ctx, at, adopt(ctx, out === arr ? arr.slice() : out));
    return true;
  }

  protected override newValue(ctx: ApplyContext): unknown {
    return adopt(ctx, this.push([]) ?? []);
  }
}

// ---------------------------------------------------------------------------------------------
// $addToSet

/** Whether `value` equals one of `set` (BSON equality under the collation). */
type Membership = { has(value: unknown): boolean; add(value: unknown): void };

function membership(collated: boolean, compare: ValueCompare): Membership {
  if (!collated) {
    const keys = new Set<string>();
    return { has: (v) => keys.has(canonicalKey(v)), add: (v) => void keys.add(canonicalKey(v)) };
  }
  const items: unknown[] = [];
  return { has: (v) => items.some((x) => compare(x, v) === 0), add: (v) => void items.push(v) };
}

/**
 * $addToSet: appends each value (or each of {$each: [...]}) that the array does not already hold
 * (BSON equality under the collation; the values themselves deduplicated first, first one kept).
 */
export class AddToSetNode extends ModifierNode {
  private constructor(
    private readonly values: readonly unknown[],
    private readonly collated: boolean,
    private readonly compare: ValueCompare,
  ) {
    super();
  }

  /** AddToSetNode::init (and setCollator's deduplication). */
  static parse(value: unknown, collated: boolean, compare: ValueCompare): AddToSetNode {
    let values: readonly unknown[] = [value];
    if (isDocument(value)) {
      const spec = asDocument(value);
      const keys = Object.keys(spec);
      if (keys[0] === '$each') {
        const each = spec.$each;
        if (!Array.isArray(each)) {
          throw typeMismatch(`The argument to $each in $addToSet must be an array but it was of type ${typeName(each)}`);
        }
        if (keys.length > 1) throw badValue(`Found unexpected fields after $each in $addToSet: ${bsonText(spec)}`);
        values = each;
      }
    }
    const seen = membership(collated, compare);
    const unique: unknown[] = [];
    for (const v of values) {
      if (!seen.has(v)) unique.push(v);
      seen.add(v);
    }
    return new AddToSetNode(unique, collated, compare);
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem): boolean {
    const arr = valueOf(ctx, at);
    if (!Array.isArray(arr)) {
      throw badValue(`Cannot apply $addToSet to non-array field. Field named '${at.name}' has non-array type ${typeName(arr)}`);
    }
    const present = membership(this.collated, this.compare);
    for (const e of arr) present.add(e);
    const toAdd = this.values.filter((v) => !present.has(v));
    if (toAdd.length === 0) return false;
    setValue(ctx, at, adopt(ctx, [...arr, ...toAdd]));
    return true;
  }

  protected override newValue(ctx: ApplyContext): unknown {
    return adopt(ctx, [...this.values]);
  }
}

// ---------------------------------------------------------------------------------------------
// $pop

/**
 * $pop: 1 removes the last element, -1 the first. A missing path is a no-op (if it could exist),
 * an empty array too; a value that is not an array is TypeMismatch.
 */
export class PopNode implements LeafNode {
  readonly kind = 'leaf';
  private constructor(private readonly fromFront: boolean) {}

  /** PopNode::init: parseIntegerElementToLong, then 1 or -1 (FailedToParse). */
  static parse(fieldPath: string, value: unknown): PopNode {
    const n = parseIntegerElement(fieldPath, value, 'long');
    if (typeof n === 'string') throw failedToParse(n);
    if (n !== 1n && n !== -1n) throw failedToParse(`$pop expects 1 or -1, found: ${n}`);
    return new PopNode(n === -1n);
  }

  apply(ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void {
    if (taken.length === 0) return;
    if (toCreate.length > 0) {
      checkViability(ctx, at, toCreate, taken);
      return;
    }
    const arr = valueOf(ctx, at);
    if (!Array.isArray(arr)) {
      throw typeMismatch(`Path '${taken.join('.')}' contains an element of non-array type '${typeName(arr)}'`);
    }
    if (arr.length === 0) return;
    setValue(ctx, at, adopt(ctx, this.fromFront ? arr.slice(1) : arr.slice(0, -1)));
    ctx.modified = true;
  }
}

// ---------------------------------------------------------------------------------------------
// $pull, $pullAll

/** ArrayCullingNode: removes the elements `matches` accepts; nothing removed is a no-op. */
class ArrayCullingNode implements LeafNode {
  readonly kind = 'leaf';
  constructor(private readonly matches: (element: unknown) => boolean) {}

  apply(ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void {
    if (toCreate.length > 0) {
      checkViability(ctx, at, toCreate, taken);
      return;
    }
    const arr = valueOf(ctx, at);
    if (!Array.isArray(arr)) throw badValue('Cannot apply $pull to a non-array value');
    const kept = arr.filter((e) => !this.matches(e));
    if (kept.length === arr.length) return;
    setValue(ctx, at, adopt(ctx, kept));
    ctx.modified = true;
  }
}

/**
 * $pull's condition (PullNode::init):
 * - a document whose first field is not a query operator: a query each document element must
 *   match as a whole document (non-documents never match);
 * - an operator document ({$gte: 5}) or a regex: a condition on each element (arrays traversed);
 * - anything else: BSON equality with each element (under the collation).
 */
export function pullNode(value: unknown, collation: Document | undefined, compare: ValueCompare): LeafNode {
  if (isDocument(value)) {
    const cond = asDocument(value);
    if (!isPathAcceptingKeyword(Object.keys(cond)[0])) {
      checkNoSpecialFeatures(cond);
      const filter = compileFilter(cond, { collation });
      return new ArrayCullingNode((e) => isDocument(e) && filter.matches(asDocument(e)));
    }
  }
  if (isDocument(value) || isRegex(value)) {
    const wrapped: Document = { '': isDocument(value) ? asDocument(value) : value };
    checkNoSpecialFeatures(wrapped);
    const filter = compileFilter(wrapped, { collation });
    return new ArrayCullingNode((e) => filter.matches({ '': e }));
  }
  return new ArrayCullingNode((e) => compare(e, value) === 0);
}

/** $pullAll: removes every element equal (BSON equality, collation) to one of the given values. */
export function pullAllNode(value: unknown, compare: ValueCompare): LeafNode {
  if (!Array.isArray(value)) throw badValue(`$pullAll requires an array argument but was given a ${typeName(value)}`);
  const values = value;
  return new ArrayCullingNode((e) => values.some((v) => compare(e, v) === 0));
}
