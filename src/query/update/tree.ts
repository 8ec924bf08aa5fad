/**
 * The update tree (mongod's UpdateObjectNode / UpdateArrayNode / leaf nodes): built once per
 * update by compile.ts, applied to each document.
 *
 * - An ObjectNode holds children by field name and applies them in pathsupport's path order
 *   (comparePathNames), so fields the update creates are appended in that order.
 * - An ArrayNode (a path part `$[]` or `$[id]`) applies its children to each array element that
 *   the identifier's array filter matches ('' for `$[]`: every element); when several children
 *   match one element they are merged first, and two leaves meeting is a conflict.
 * - Leaves are the operators (fields.ts, arithmetic.ts, arrays.ts). ModifierNode holds what
 *   modifier_node.cpp does for all of them: create the missing path or update the existing value,
 *   then validate what was written.
 */
import {
  checkViability,
  createPathAt,
  Elem,
  getChild,
  placeText,
  positionalNotFound,
  validateWritten,
  comparePathNames,
  valueOf,
  type ApplyContext,
} from './paths.js';
import { badValue } from '../queryErrors.js';
import { conflict } from './errors.js';
import { compareUtf8 } from '../../bson/bsonOrder.js';

export interface LeafNode {
  readonly kind: 'leaf';
  /**
   * Applies the operator at `at`. With `toCreate` empty, `at` is the existing element at the
   * update path (`taken`); otherwise `at` is the deepest existing element and `toCreate` the rest
   * of the path, which does not exist.
   */
  apply(ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void;
}

export type UpdateNode = ObjectNode | ArrayNode | LeafNode;

function sortedEntries(children: Map<string, UpdateNode>): [string, UpdateNode][] {
  return [...children.entries()].sort((x, y) => comparePathNames(x[0], y[0]));
}

export class ObjectNode {
  readonly kind = 'object';
  readonly children = new Map<string, UpdateNode>();
  /** The child under a positional `$` (left when the caller could not resolve it). */
  positional: UpdateNode | undefined;
  private order: [string, UpdateNode][] | undefined;
  /** The positional child merged with the child of the same name as the matched position. */
  private readonly mergedPositional = new Map<string, UpdateNode>();

  getChild(name: string): UpdateNode | undefined {
    return name === '$' ? this.positional : this.children.get(name);
  }

  positionalMergedWith(name: string, child: UpdateNode, path: readonly string[]): UpdateNode {
    let m = this.mergedPositional.get(name);
    if (m === undefined) {
      m = mergeNodes(this.positional!, child, path);
      this.mergedPositional.set(name, m);
    }
    return m;
  }

  setChild(name: string, node: UpdateNode): void {
    if (name === '$') this.positional = node;
    else this.children.set(name, node);
    this.order = undefined;
  }

  entries(): [string, UpdateNode][] {
    return (this.order ??= sortedEntries(this.children));
  }
}

/** An array filter's test of one array element. */
export type ElementFilter = (element: unknown) => boolean;

export class ArrayNode {
  readonly kind = 'array';
  /** Children by array filter identifier ('' for `$[]`). */
  readonly children = new Map<string, UpdateNode>();
  private order: [string, UpdateNode][] | undefined;
  /** Merges of children that matched one element, kept for the next elements and documents. */
  private readonly merged = new Map<UpdateNode, Map<UpdateNode, UpdateNode>>();

  constructor(readonly filters: ReadonlyMap<string, ElementFilter>) {}

  getChild(name: string): UpdateNode | undefined {
    return this.children.get(name);
  }

  setChild(name: string, node: UpdateNode): void {
    this.children.set(name, node);
    this.order = undefined;
  }

  entries(): [string, UpdateNode][] {
    return (this.order ??= sortedEntries(this.children));
  }

  mergedChild(nodes: readonly UpdateNode[], path: readonly string[]): UpdateNode {
    let out = nodes[0]!;
    for (let j = 1; j < nodes.length; j++) {
      const next = nodes[j]!;
      let byRight = this.merged.get(out);
      if (byRight === undefined) this.merged.set(out, (byRight = new Map()));
      let m = byRight.get(next);
      if (m === undefined) {
        m = mergeNodes(out, next, path);
        byRight.set(next, m);
      }
      out = m;
    }
    return out;
  }
}

/**
 * UpdateNode::createUpdateNodeByMerging: two object nodes (or two array nodes) merge child by
 * child; anything else meeting is "Update created a conflict at '<path>'".
 */
function mergeNodes(left: UpdateNode, right: UpdateNode, path: readonly string[]): UpdateNode {
  if (left.kind === 'object' && right.kind === 'object') {
    const out = new ObjectNode();
    for (const name of new Set([...left.children.keys(), ...right.children.keys()])) {
      const l = left.children.get(name);
      const r = right.children.get(name);
      out.setChild(name, l !== undefined && r !== undefined ? mergeNodes(l, r, [...path, name]) : (l ?? r)!);
    }
    const l = left.positional;
    const r = right.positional;
    if (l !== undefined || r !== undefined) out.positional = l !== undefined && r !== undefined ? mergeNodes(l, r, [...path, '$']) : (l ?? r);
    return out;
  }
  if (left.kind === 'array' && right.kind === 'array') {
    const out = new ArrayNode(left.filters);
    for (const name of new Set([...left.children.keys(), ...right.children.keys()])) {
      const l = left.children.get(name);
      const r = right.children.get(name);
      out.setChild(name, l !== undefined && r !== undefined ? mergeNodes(l, r, [...path, `$[${name}]`]) : (l ?? r)!);
    }
    return out;
  }
  throw conflict(`Update created a conflict at '${path.join('.')}'`);
}

/** Applies a node at a place (see LeafNode.apply for `taken` and `toCreate`). */
export function applyNode(node: UpdateNode, ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void {
  switch (node.kind) {
    case 'object':
      applyObject(node, ctx, at, taken, toCreate);
      return;
    case 'array':
      applyArray(node, ctx, at, taken, toCreate);
      return;
    default:
      node.apply(ctx, at, taken, toCreate);
  }
}

/**
 * UpdateObjectNode::apply: each child in path order, at the child element when it exists, else
 * with the child's name added to the path still to create. Once a child has created this node's
 * own missing path (it is created whole or not at all), the next children find it existing.
 * A positional `$` child applies under the matched position's name: merged with the child of that
 * name if there is one, else before the first child whose name is greater (byte order).
 */
function applyObject(node: ObjectNode, ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void {
  let positional = node.positional;
  const matched = ctx.matchedField;
  if (positional !== undefined && (matched === undefined || matched === '')) throw positionalNotFound();
  const place: ObjectPlace = { el: at, taken, toCreate };
  for (const [field, child] of node.entries()) {
    if (positional !== undefined) {
      if (field === matched) {
        applyChild(place, ctx, field, node.positionalMergedWith(field, child, [...place.taken, ...place.toCreate, field]));
        positional = undefined;
        continue;
      }
      if (compareUtf8(matched!, field) < 0) {
        applyChild(place, ctx, matched!, positional);
        positional = undefined;
      }
    }
    applyChild(place, ctx, field, child);
  }
  if (positional !== undefined) applyChild(place, ctx, matched!, positional);
}

/** Where applyObject's children apply: the element reached so far, and the path still to create under it. */
interface ObjectPlace {
  el: Elem;
  taken: readonly string[];
  toCreate: readonly string[];
}

/**
 * One child of an object node at `place`; once a child has created the missing path, `place`
 * moves onto it. (A function with the place passed in, not a closure made per applied node.)
 */
function applyChild(place: ObjectPlace, ctx: ApplyContext, field: string, child: UpdateNode): void {
  const cr = place.toCreate;
  if (cr.length === 0) {
    const c = getChild(ctx, place.el, field);
    if (c !== undefined) {
      applyNode(child, ctx, c, [...place.taken, field], []);
      return;
    }
  }
  applyNode(child, ctx, place.el, place.taken, [...cr, field]);
  if (cr.length > 0) {
    let c = getChild(ctx, place.el, cr[0]!);
    if (c !== undefined) {
      const advanced = [...place.taken, cr[0]!];
      for (let i = 1; i < cr.length; i++) {
        c = getChild(ctx, c, cr[i]!)!;
        advanced.push(cr[i]!);
      }
      place.el = c;
      place.taken = advanced;
      place.toCreate = [];
    }
  }
}

/**
 * UpdateArrayNode::apply: the path must exist and be an array; each element is matched against
 * the children's array filters first (on the elements as they were), then updated.
 */
function applyArray(node: ArrayNode, ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void {
  if (toCreate.length > 0) {
    throw badValue(`The path '${[...taken, ...toCreate].join('.')}' must exist in the document in order to apply array updates.`);
  }
  const arr = valueOf(ctx, at);
  if (!Array.isArray(arr)) throw badValue(`Cannot apply array updates to non-array element ${placeText(ctx, at)}`);
  const entries = node.entries();
  const matching: (UpdateNode[] | undefined)[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    for (const [id, child] of entries) {
      if (id === '' || node.filters.get(id)!(arr[i])) (matching[i] ??= []).push(child);
    }
  }
  for (let i = 0; i < arr.length; i++) {
    const updates = matching[i];
    if (updates === undefined) continue;
    const path = [...taken, String(i)];
    applyNode(node.mergedChild(updates, path), ctx, new Elem(at, i), path, []);
  }
}

/**
 * ModifierNode (modifier_node.cpp): the shape shared by the operators that set a value at the
 * path. On an existing element: `updateExisting` (false for a no-op), then validation of the
 * written value at its level. On a missing path: the path is created with `newValue()` where the
 * operator creates ($set, $inc, $push ...), else nothing (checking that the path could have been
 * created unless the operator allows non-viable paths, as $unset does).
 */
export abstract class ModifierNode implements LeafNode {
  readonly kind = 'leaf';
  /** $setOnInsert: applies only when the update inserts. */
  protected insertOnly = false;
  protected allowCreation = true;
  protected allowNonViablePath = false;
  /** Whether to validate the written element (UnsetNode validates only DBRef siblings: nothing in 7.0). */
  protected validates = true;

  protected abstract updateExisting(ctx: ApplyContext, at: Elem, taken: readonly string[]): boolean;

  protected newValue(_ctx: ApplyContext): unknown {
    return undefined;
  }

  apply(ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void {
    if (this.insertOnly && !ctx.insert) return;
    if (toCreate.length > 0) {
      if (this.allowCreation) {
        const first = createPathAt(ctx, at, toCreate, 0, this.newValue(ctx));
        ctx.modified = true;
        validateWritten(ctx, first, taken.length + 1);
      } else if (!this.allowNonViablePath) {
        checkViability(ctx, at, toCreate, taken);
      }
      return;
    }
    if (!this.updateExisting(ctx, at, taken)) return;
    ctx.modified = true;
    if (this.validates) validateWritten(ctx, at, taken.length);
  }
}
