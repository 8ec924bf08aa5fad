/**
 * The projection executor tree mongod builds for inclusion and exclusion projections and for
 * $addFields (src/mongo/db/exec/projection_node.cpp, inclusion_projection_executor.cpp,
 * exclusion_projection_executor.cpp, add_fields_projection_executor.cpp), shared by find's
 * projection (./findProjection.ts) and the aggregation stages $project / $unset / $addFields
 * (../aggregation/reshape.ts).
 *
 * - Included (or excluded) fields are applied in the INPUT document's order; sub-documents inside
 *   arrays are projected element by element, nested arrays recursed into; an inclusion drops the
 *   other elements (scalars), an exclusion keeps them.
 * - Computed fields come after them, in the order they were added
 *   (_orderToProcessAdditionsAndChildren): a computed field already in the output keeps its place.
 *
 * The tree is generic over what a computed field holds (E): the caller says how one is evaluated
 * against the input document (the root) with an `evaluate` callback. Evaluation returns MISSING
 * (or whatever the callback maps a missing result to) to leave the field out.
 *
 * Values passed through are the input's own value objects. Documents and arrays made for one
 * output document are recorded in `made`; the fields and elements left MISSING in them are removed
 * at the end by removeHoles.
 */
import { dbrefDocument, defineField as setField, isDocument, MISSING, objectKind } from '../match/values.js';

export type Obj = Record<string, unknown>;

/** The documents and arrays made for one output document: MISSING holes are removed from them at the end. */
export type Made = Array<Obj | unknown[]>;

/** How a computed field's expression is evaluated against the input document (the root). */
export type Evaluate<E> = (expr: E, root: Obj) => unknown;

function fieldsOf(doc: unknown): Obj {
  return objectKind(doc) === 2 ? dbrefDocument(doc) : (doc as Obj);
}

/** A shallow copy of a document (a DBRef as the document it is), its field order kept, recorded in `made`. */
export function copyMade(doc: unknown, made: Made): Obj {
  const src = fieldsOf(doc);
  const out: Obj = {};
  for (const k of Object.keys(src)) setField(out, k, src[k]);
  made.push(out);
  return out;
}

/** Removes the MISSING holes from the documents and arrays made for one output document. */
export function removeHoles(made: Made): void {
  for (const c of made) {
    if (Array.isArray(c)) {
      if (!c.includes(MISSING)) continue;
      let w = 0;
      for (let r = 0; r < c.length; r++) if (c[r] !== MISSING) c[w++] = c[r];
      c.length = w;
    } else {
      for (const k of Object.keys(c)) if (c[k] === MISSING) delete c[k];
    }
  }
}

/** ProjectionNode (projection_node.cpp), with E the computed fields' expressions. */
export class ProjectionNode<E> {
  readonly projected = new Set<string>();
  readonly children = new Map<string, ProjectionNode<E>>();
  readonly expressions = new Map<string, E>();
  /** _orderToProcessAdditionsAndChildren */
  readonly order: string[] = [];
  subtreeHasComputed = false;

  constructor(readonly inclusion: boolean) {}

  private child(name: string): ProjectionNode<E> {
    let c = this.children.get(name);
    if (c === undefined) {
      c = new ProjectionNode<E>(this.inclusion);
      this.children.set(name, c);
      this.order.push(name);
    }
    return c;
  }

  addProjectionForPath(parts: readonly string[]): void {
    if (parts.length === 1) this.projected.add(parts[0]!);
    else this.child(parts[0]!).addProjectionForPath(parts.slice(1));
  }

  addExpressionForPath(parts: readonly string[], expr: E): void {
    this.subtreeHasComputed = true;
    if (parts.length === 1) {
      this.expressions.set(parts[0]!, expr);
      this.order.push(parts[0]!);
    } else {
      this.child(parts[0]!).addExpressionForPath(parts.slice(1), expr);
    }
  }

  /** The projected document: the projections applied to `doc`, then the computed fields. */
  applyToDocument(doc: Obj, made: Made, evaluate: Evaluate<E>): Obj {
    const out: Obj = this.inclusion ? {} : copyMade(doc, made);
    if (this.inclusion) made.push(out);
    this.applyProjections(doc, out, made);
    if (this.subtreeHasComputed) this.applyExpressions(doc, out, made, evaluate);
    return out;
  }

  private applyProjections(input: unknown, out: Obj, made: Made): void {
    const total = this.projected.size + this.children.size;
    if (total === 0) return;
    let done = 0;
    const src = fieldsOf(input);
    for (const k of Object.keys(src)) {
      if (this.projected.has(k)) {
        setField(out, k, this.inclusion ? src[k] : MISSING);
      } else {
        const c = this.children.get(k);
        if (c === undefined) continue;
        setField(out, k, c.applyProjectionsToValue(src[k], made));
      }
      if (++done === total) return;
    }
  }

  private skipped(value: unknown): unknown {
    return this.inclusion ? MISSING : value;
  }

  private applyProjectionsToValue(value: unknown, made: Made): unknown {
    if (isDocument(value)) {
      const out: Obj = this.inclusion ? {} : copyMade(value, made);
      if (this.inclusion) made.push(out);
      this.applyProjections(value, out, made);
      return out;
    }
    if (Array.isArray(value)) {
      const out = value.map((el) => this.applyProjectionsToValue(el, made));
      made.push(out);
      return out;
    }
    return this.skipped(value);
  }

  /** Sets the computed fields of this node on `out` (a document made for the output), in order. */
  applyExpressions(root: Obj, out: Obj, made: Made, evaluate: Evaluate<E>): void {
    for (const name of this.order) {
      const c = this.children.get(name);
      if (c !== undefined) setField(out, name, c.applyExpressionsToValue(root, Object.hasOwn(out, name) ? out[name] : MISSING, made, evaluate));
      else setField(out, name, evaluate(this.expressions.get(name)!, root));
    }
  }

  private applyExpressionsToValue(root: Obj, value: unknown, made: Made, evaluate: Evaluate<E>): unknown {
    if (isDocument(value)) {
      const out = copyMade(value, made);
      this.applyExpressions(root, out, made, evaluate);
      return out;
    }
    if (Array.isArray(value)) {
      const out = value.map((el) => this.applyExpressionsToValue(root, el, made, evaluate));
      made.push(out);
      return out;
    }
    if (this.subtreeHasComputed) {
      const out: Obj = {};
      made.push(out);
      this.applyExpressions(root, out, made, evaluate);
      return out;
    }
    return value === MISSING ? MISSING : this.skipped(value);
  }
}
