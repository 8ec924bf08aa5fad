/**
 * The projection AST and the parts of its parsing that find's projection (./findProjection.ts)
 * and the aggregation $project / $unset (../aggregation/reshape.ts) share: the AST
 * (src/mongo/db/query/projection_ast.h), the parser's common steps
 * (src/mongo/db/query/projection_parser.cpp: addNodeAtPath, findLastInnerNodeOnPath,
 * parseSubObject, the inclusion / exclusion / literal bookkeeping that decides the projection
 * type, the implicit _id), FieldPath validation (field_path.cpp), and the executor built from the
 * AST in order (projection_executor_builder.cpp).
 *
 * The AST is generic over the leaves a caller adds besides inclusions and exclusions (L: computed
 * expressions, and for find the positional, $slice and $elemMatch projections).
 */
import { LocationCodes } from '../../errors.js';
import { fieldPathParts } from '../match/expr.js';
import { bsonTypeOf, BSON_TYPE, elementText, isNumberType } from '../match/values.js';
import { located } from '../queryErrors.js';
import { ProjectionNode } from './projectionTree.js';

/** An inclusion (true) or exclusion (false). */
export interface BoolNode {
  readonly kind: 'bool';
  readonly value: boolean;
}

/** A path component with its sub-projections. */
export interface PathNode<L> {
  readonly kind: 'path';
  readonly children: Map<string, AstNode<L>>;
}

export type AstNode<L> = PathNode<L> | BoolNode | L;

export type ProjectionType = 'inclusion' | 'exclusion';

/** What the parser records while it reads a projection (ProjectionParser's context). */
export interface ProjectionParseState {
  idSpecified: boolean;
  type: ProjectionType | undefined;
  idIncludedEntirely: boolean;
  idExcludedEntirely: boolean;
}

export function newPathNode<L>(): PathNode<L> {
  return { kind: 'path', children: new Map() };
}

function asPathNode<L>(node: AstNode<L> | undefined): PathNode<L> | undefined {
  return node !== undefined && (node as { kind: unknown }).kind === 'path' ? (node as PathNode<L>) : undefined;
}

// ---------------------------------------------------------------------------------------------
// FieldPath validation (field_path.cpp)

/** FieldPath: 40352 for the empty string, then fieldPathParts' checks. */
export function fieldPath(path: string): string[] {
  if (path === '') throw located(LocationCodes.FieldPathEmpty, 'FieldPath cannot be constructed with empty string');
  return fieldPathParts(path);
}

export function isValidFieldPath(path: string): boolean {
  try {
    fieldPath(path);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The parser's common steps (projection_parser.cpp)

/** addNodeAtPath: 31250 when the path is taken, 31249 when a leaf stands on the way. */
export function addNodeAtPath<L>(root: PathNode<L>, parts: readonly string[], node: AstNode<L>): void {
  let parent = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const child = parent.children.get(parts[i]!);
    if (child === undefined) {
      const created = newPathNode<L>();
      parent.children.set(parts[i]!, created);
      parent = created;
    } else {
      const path = asPathNode(child);
      if (path === undefined) {
        throw located(LocationCodes.ProjectionPathCollisionPrefix, `Path collision at ${parts.join('.')} remaining portion ${parts.slice(1).join('.')}`);
      }
      parent = path;
    }
  }
  const last = parts[parts.length - 1]!;
  if (parent.children.has(last)) throw located(LocationCodes.ProjectionPathCollision, `Path collision at ${parts.join('.')}`);
  parent.children.set(last, node);
}

/** findLastInnerNodeOnPath. */
export function findInnerNode<L>(root: PathNode<L>, parts: readonly string[]): PathNode<L> | undefined {
  let node: PathNode<L> = root;
  for (const p of parts) {
    const child = asPathNode(node.children.get(p));
    if (child === undefined) return undefined;
    node = child;
  }
  return node;
}

/** A bool or a number: an inclusion or an exclusion. */
export function isInclusionOrExclusionValue(v: unknown): boolean {
  const t = bsonTypeOf(v);
  return t === BSON_TYPE.bool || isNumberType(t);
}

/** BSONElement::trueValue of a bool or number. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const t = bsonTypeOf(v);
  if (t === BSON_TYPE.long) return typeof v === 'bigint' ? BigInt.asIntN(64, v) !== 0n : !(v as { isZero(): boolean }).isZero();
  if (t === BSON_TYPE.decimal) return !/^-?0(?:\.0*)?(?:E[+-]?\d+)?$/.test(String(v));
  const d = typeof v === 'number' ? v : +(v as { value: number }).value;
  return d !== 0;
}

/** 31394: a positional operator only at the end of a path. */
export function checkPositionalNotInMiddle(key: string): void {
  if (key.includes('.$.')) {
    throw located(
      LocationCodes.ProjectionPositionalInMiddle,
      "As of 4.4, it's illegal to specify positional operator in the middle of a path.Positional projection may only be used at the end, for example: a.b.$. If the query previously used a form like a.b.$.d, remove the parts following the '$' and the results will be equivalent.",
    );
  }
}

/**
 * parseSubObject: an object value is an expression when its one field is one (`asExpression` says
 * so, having added it), else a sub-projection whose elements `parseElement` reads (not at the root).
 */
export function parseSubObject<L>(
  key: string,
  obj: Record<string, unknown>,
  parent: PathNode<L>,
  asExpression: (parts: readonly string[]) => boolean,
  parseElement: (key: string, value: unknown, parent: PathNode<L>) => void,
): void {
  const keys = Object.keys(obj);
  if (keys.length === 0) throw located(LocationCodes.ProjectionEmptySubProjection, 'An empty sub-projection is not a valid value. Found empty object at path');
  const parts = fieldPath(key);
  if (keys.length === 1 && keys[0]!.startsWith('$')) {
    if (asExpression(parts)) return;
    const first = keys[0]!;
    const valid = first.endsWith('.$') ? isValidFieldPath(first.slice(0, -2)) : isValidFieldPath(first);
    if (!valid) throw located(LocationCodes.ProjectionUnknownExpression, `Unknown expression ${first}`);
  }
  let node = findInnerNode(parent, parts);
  if (node === undefined) {
    node = newPathNode<L>();
    addNodeAtPath(parent, parts, node);
  }
  for (const k of keys) parseElement(k, obj[k], node);
}

/**
 * An inclusion's or exclusion's effect on the type (the end of parseInclusion / parseExclusion):
 * a top-level _id does not decide it; 31253 / 31254 when the other type was decided.
 */
export function noteInclusionOrExclusion(state: ProjectionParseState, key: string, included: boolean, isRoot: boolean): void {
  if (key === '_id' && isRoot) {
    if (included) state.idIncludedEntirely = true;
    else state.idExcludedEntirely = true;
    return;
  }
  const type: ProjectionType = included ? 'inclusion' : 'exclusion';
  if (state.type !== undefined && state.type !== type) {
    throw included
      ? located(LocationCodes.ProjectionInclusionInExclusion, `Cannot do inclusion on field ${key} in exclusion projection`)
      : located(LocationCodes.ProjectionExclusionInInclusion, `Cannot do exclusion on field ${key} in inclusion projection`);
  }
  state.type = type;
}

/** A literal or an expression that is not an object (parseLiteral) makes an inclusion. */
export function noteLiteral(state: ProjectionParseState, key: string, value: unknown): void {
  if (state.type !== undefined && state.type !== 'inclusion') {
    throw located(LocationCodes.ProjectionLiteralInExclusion, `Cannot use an expression ${elementText(key, value)} in an exclusion projection`);
  }
  state.type = 'inclusion';
}

/**
 * Parses a projection's elements in order into an AST with `parseElement` (at the root), then
 * settles its type (`defaultType` when no element decided it) and _id: included by default in an
 * inclusion, and a {_id: 1} in an exclusion is dropped.
 */
export function parseProjectionAst<L>(
  entries: Iterable<readonly [string, unknown]>,
  state: ProjectionParseState,
  parseElement: (key: string, value: unknown, root: PathNode<L>) => void,
  defaultType: () => ProjectionType,
): { root: PathNode<L>; type: ProjectionType } {
  const root = newPathNode<L>();
  for (const [key, value] of entries) {
    if (key === '_id' || key.startsWith('_id.')) state.idSpecified = true;
    parseElement(key, value, root);
  }
  const type = state.type ?? defaultType();
  if (!state.idSpecified && type === 'inclusion') addNodeAtPath<L>(root, ['_id'], { kind: 'bool', value: true });
  if (type === 'exclusion' && state.idSpecified && state.idIncludedEntirely) root.children.delete('_id');
  return { root, type };
}

// ---------------------------------------------------------------------------------------------
// The executor (projection_executor_builder.cpp)

/**
 * The executor tree of an AST, built walking it in order: an inclusion or exclusion projects its
 * path (but a top-level {_id: 0} in an inclusion adds nothing); `leaf` adds the other leaves.
 */
export function buildExecutor<L, E>(root: PathNode<L>, inclusion: boolean, leaf: (node: L, path: readonly string[], tree: ProjectionNode<E>) => void): ProjectionNode<E> {
  const tree = new ProjectionNode<E>(inclusion);
  walkPaths(root, [], inclusion, leaf, tree);
  return tree;
}

/** buildExecutor's walk (a function, not a closure made per projection). */
function walkPaths<L, E>(node: PathNode<L>, prefix: readonly string[], inclusion: boolean, leaf: (node: L, path: readonly string[], tree: ProjectionNode<E>) => void, tree: ProjectionNode<E>): void {
  for (const [name, child] of node.children) {
    const path = [...prefix, name];
    const kind = (child as { kind: unknown }).kind;
    if (kind === 'path') walkPaths(child as PathNode<L>, path, inclusion, leaf, tree);
    else if (kind === 'bool') {
      if (inclusion && path.length === 1 && name === '_id' && !(child as BoolNode).value) continue;
      tree.addProjectionForPath(path);
    } else leaf(child as L, path, tree);
  }
}
