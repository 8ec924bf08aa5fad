/**
 * The stages that reshape each document: $project, $unset, $addFields / $set, $replaceRoot /
 * $replaceWith. Values passed through are the input's own value objects (a Decimal128 keeps its
 * bytes); computed values are the expression module's results, typed as mongod types them.
 *
 * Sources (mongodb/mongo):
 * - src/mongo/db/query/projection_parser.cpp: the $project / $unset spec (aggregation policies:
 *   no positional 31324, no $elemMatch 168, no find $slice; 51272 empty; 31249/31250 path
 *   collisions; 31252/31253/31254/31310 inclusion-exclusion mixes; 31325 unknown expression;
 *   51270 empty sub-projection; _id included by default in inclusions).
 * - src/mongo/db/exec/projection_node.cpp, inclusion_projection_executor.cpp,
 *   exclusion_projection_executor.cpp: included fields in the INPUT document's order, computed
 *   fields after them in spec order (a computed field already in the output keeps its place);
 *   sub-documents inside arrays are projected element by element (an inclusion drops scalars).
 * - src/mongo/db/exec/add_fields_projection_executor.cpp: $addFields validation (40176, 40181,
 *   40183) and parse (nested objects are sub-specs, {} is the literal {}), applied as computed
 *   fields over a copy of the input (existing fields replaced in place, new ones appended).
 * - src/mongo/db/pipeline/document_source_project.cpp, document_source_add_fields.cpp: 15969,
 *   40272, the $unset checks (31002, 31119, 31120) and the "Invalid <stage> :: caused by ::" context.
 * - src/mongo/db/pipeline/document_source_replace_root.cpp: 40228.
 */
import type { Document } from 'bson';
import { bsonText } from '../../bson/bsonText.js';
import { typeName } from '../../bson/typeName.js';
import { ErrorCodes, LocationCodes } from '../../errors.js';
import type { CompiledExpression } from '../expression/compile.js';
import { located } from '../queryErrors.js';
import { bsonTypeOf, BSON_TYPE, elementText, isDocument, isNumberType, objectKind } from '../match/values.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail, withContext } from './errors.js';
import { asObj, copyDocument, documentString, fieldPath, MISSING, setField, valueString, type Obj } from './values.js';

/** Expression::isExpressionName in mongod 7.0: the operators an object {$name: ...} is parsed as. */
export const EXPRESSION_NAMES: ReadonlySet<string> = new Set(
  (
    'abs acos acosh add allElementsTrue and anyElementTrue arrayElemAt arrayToObject asin asinh atan atan2 atanh avg ' +
    'binarySize bitAnd bitNot bitOr bitXor bottom bottomN bsonSize ceil cmp concat concatArrays cond convert cos cosh ' +
    'covariancePop covarianceSamp dateAdd dateDiff dateFromParts dateFromString dateSubtract dateToParts dateToString ' +
    'dateTrunc dayOfMonth dayOfWeek dayOfYear degreesToRadians divide eq exp filter first firstN floor function ' +
    'getField gt gte hour ifNull in indexOfArray indexOfBytes indexOfCP isArray isNumber isoDayOfWeek isoWeek ' +
    'isoWeekYear last lastN let literal ln log log10 lt lte ltrim map max maxN median mergeObjects meta millisecond ' +
    'min minN minute mod month multiply ne not objectToArray or percentile pow radiansToDegrees rand range reduce ' +
    'regexFind regexFindAll regexMatch replaceAll replaceOne reverseArray round rtrim sampleRate second ' +
    'setDifference setEquals setField setIntersection setIsSubset setUnion sin sinh size slice sortArray split sqrt ' +
    'stdDevPop stdDevSamp strLenBytes strLenCP strcasecmp substr substrBytes substrCP subtract sum switch tan tanh ' +
    'toBool toDate toDecimal toDouble toHashedIndexKey toInt toLong toLower toObjectId toString toUpper top topN ' +
    'trim trunc tsIncrement tsSecond type unsetField week year zip'
  )
    .split(' ')
    .map((n) => `$${n}`),
);

// ---------------------------------------------------------------------------------------------
// The projection AST (projection_ast.h)

type AstNode = { kind: 'path'; children: Map<string, AstNode> } | { kind: 'bool'; value: boolean } | { kind: 'expr'; expr: CompiledExpression };
type PathNode = Extract<AstNode, { kind: 'path' }>;

interface ParseContext {
  readonly cc: CompileContext;
  idSpecified: boolean;
  hasMeta: boolean;
  type: 'inclusion' | 'exclusion' | undefined;
  idIncludedEntirely: boolean;
  idExcludedEntirely: boolean;
}

function addNodeAtPath(root: PathNode, parts: readonly string[], node: AstNode): void {
  let parent = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const child = parent.children.get(parts[i]!);
    if (child === undefined) {
      const created: PathNode = { kind: 'path', children: new Map() };
      parent.children.set(parts[i]!, created);
      parent = created;
    } else if (child.kind === 'path') {
      parent = child;
    } else {
      throw located(LocationCodes.ProjectionPathCollisionPrefix, `Path collision at ${parts.join('.')} remaining portion ${parts.slice(1).join('.')}`);
    }
  }
  const last = parts[parts.length - 1]!;
  if (parent.children.has(last)) throw located(LocationCodes.ProjectionPathCollision, `Path collision at ${parts.join('.')}`);
  parent.children.set(last, node);
}

function findInnerNode(root: PathNode, parts: readonly string[]): PathNode | undefined {
  let node: PathNode = root;
  for (const p of parts) {
    const child = node.children.get(p);
    if (child === undefined || child.kind !== 'path') return undefined;
    node = child;
  }
  return node;
}

/** BSONElement::trueValue of a bool or number. */
function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const t = bsonTypeOf(v);
  if (t === BSON_TYPE.long) return typeof v === 'bigint' ? BigInt.asIntN(64, v) !== 0n : !(v as { isZero(): boolean }).isZero();
  if (t === BSON_TYPE.decimal) return !/^-?0(?:\.0*)?(?:E[+-]?\d+)?$/.test(String(v));
  const d = typeof v === 'number' ? v : +(v as { value: number }).value;
  return d !== 0;
}

function isValidFieldPath(path: string): boolean {
  try {
    fieldPath(path);
    return true;
  } catch {
    return false;
  }
}

function parseSubObjectAsExpression(ctx: ParseContext, parts: readonly string[], obj: Obj, parent: PathNode): boolean {
  const op = Object.keys(obj)[0]!;
  if (op === '$elemMatch') fail(ErrorCodes.InvalidPipelineOperator, 'Cannot use $elemMatch in this context');
  if (!EXPRESSION_NAMES.has(op)) return false;
  const isMeta = op === '$meta';
  if (ctx.type === 'exclusion' && !isMeta) {
    throw located(LocationCodes.ProjectionExpressionInExclusion, 'Cannot use expression other than $meta in exclusion projection');
  }
  if (!isMeta && ctx.type === undefined) ctx.type = 'inclusion';
  addNodeAtPath(parent, parts, { kind: 'expr', expr: compileExpr(obj, ctx.cc) });
  ctx.hasMeta ||= isMeta;
  return true;
}

function parseSubObject(ctx: ParseContext, key: string, obj: Obj, parent: PathNode): void {
  const keys = Object.keys(obj);
  if (keys.length === 0) throw located(LocationCodes.ProjectionEmptySubProjection, 'An empty sub-projection is not a valid value. Found empty object at path');
  const parts = fieldPath(key);
  if (keys.length === 1 && keys[0]!.startsWith('$')) {
    if (parseSubObjectAsExpression(ctx, parts, obj, parent)) return;
    const first = keys[0]!;
    const valid = first.endsWith('.$') ? isValidFieldPath(first.slice(0, -2)) : isValidFieldPath(first);
    if (!valid) throw located(LocationCodes.ProjectionUnknownExpression, `Unknown expression ${first}`);
  }
  let node = findInnerNode(parent, parts);
  if (node === undefined) {
    node = { kind: 'path', children: new Map() };
    addNodeAtPath(parent, parts, node);
  }
  for (const k of keys) parseElement(ctx, k, obj[k], node, false);
}

function parseElement(ctx: ParseContext, key: string, value: unknown, parent: PathNode, isRoot: boolean): void {
  if (key.endsWith('.$')) fail(LocationCodes.ProjectionPositionalInAggregation, 'Cannot use positional projection in aggregation projection');
  if (key.includes('.$.')) {
    throw located(
      LocationCodes.ProjectionPositionalInMiddle,
      "As of 4.4, it's illegal to specify positional operator in the middle of a path.Positional projection may only be used at the end, for example: a.b.$. If the query previously used a form like a.b.$.d, remove the parts following the '$' and the results will be equivalent.",
    );
  }
  const t = bsonTypeOf(value);
  if (t === BSON_TYPE.object) {
    parseSubObject(ctx, key, asObj(value), parent);
  } else if (t === BSON_TYPE.bool || isNumberType(t)) {
    const isTopLevelId = key === '_id' && isRoot;
    if (truthy(value)) {
      addNodeAtPath(parent, fieldPath(key), { kind: 'bool', value: true });
      if (isTopLevelId) ctx.idIncludedEntirely = true;
      else {
        if (ctx.type !== undefined && ctx.type !== 'inclusion') {
          throw located(LocationCodes.ProjectionInclusionInExclusion, `Cannot do inclusion on field ${key} in exclusion projection`);
        }
        ctx.type = 'inclusion';
      }
    } else {
      addNodeAtPath(parent, fieldPath(key), { kind: 'bool', value: false });
      if (isTopLevelId) ctx.idExcludedEntirely = true;
      else {
        if (ctx.type !== undefined && ctx.type !== 'exclusion') {
          throw located(LocationCodes.ProjectionExclusionInInclusion, `Cannot do exclusion on field ${key} in inclusion projection`);
        }
        ctx.type = 'exclusion';
      }
    }
  } else {
    const expr = compileExpr(value, ctx.cc);
    addNodeAtPath(parent, fieldPath(key), { kind: 'expr', expr });
    if (ctx.type !== undefined && ctx.type !== 'inclusion') {
      throw located(LocationCodes.ProjectionLiteralInExclusion, `Cannot use an expression ${elementText(key, value)} in an exclusion projection`);
    }
    ctx.type = 'inclusion';
  }
}

// ---------------------------------------------------------------------------------------------
// The executor (projection_node.cpp)

/** Documents and arrays made for one output document: MISSING holes are removed from them at the end. */
type Made = Array<Obj | unknown[]>;

function copyMade(doc: unknown, made: Made): Obj {
  const out = copyDocument(doc);
  made.push(out);
  return out;
}

function evaluate(expr: CompiledExpression, root: Document, run: RunContext): unknown {
  const v = expr.evaluate(scopeOf(root, run));
  return v === undefined ? MISSING : v;
}

class ProjectionNode {
  readonly projected = new Set<string>();
  readonly children = new Map<string, ProjectionNode>();
  readonly expressions = new Map<string, CompiledExpression>();
  /** _orderToProcessAdditionsAndChildren */
  readonly order: string[] = [];
  subtreeHasComputed = false;

  constructor(readonly inclusion: boolean) {}

  private child(name: string): ProjectionNode {
    let c = this.children.get(name);
    if (c === undefined) {
      c = new ProjectionNode(this.inclusion);
      this.children.set(name, c);
      this.order.push(name);
    }
    return c;
  }

  addProjectionForPath(parts: readonly string[]): void {
    if (parts.length === 1) this.projected.add(parts[0]!);
    else this.child(parts[0]!).addProjectionForPath(parts.slice(1));
  }

  addExpressionForPath(parts: readonly string[], expr: CompiledExpression): void {
    this.subtreeHasComputed = true;
    if (parts.length === 1) {
      this.expressions.set(parts[0]!, expr);
      this.order.push(parts[0]!);
    } else {
      this.child(parts[0]!).addExpressionForPath(parts.slice(1), expr);
    }
  }

  applyToDocument(doc: Document, run: RunContext, made: Made): Obj {
    const out: Obj = this.inclusion ? {} : copyMade(doc, made);
    if (this.inclusion) made.push(out);
    this.applyProjections(doc, out, made);
    if (this.subtreeHasComputed) this.applyExpressions(doc, run, out, made);
    return out;
  }

  private applyProjections(input: unknown, out: Obj, made: Made): void {
    const total = this.projected.size + this.children.size;
    if (total === 0) return;
    let done = 0;
    const src = asObj(input);
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
    return this.inclusion ? MISSING : value;
  }

  applyExpressions(root: Document, run: RunContext, out: Obj, made: Made): void {
    for (const name of this.order) {
      const c = this.children.get(name);
      if (c !== undefined) setField(out, name, c.applyExpressionsToValue(root, run, Object.hasOwn(out, name) ? out[name] : MISSING, made));
      else setField(out, name, evaluate(this.expressions.get(name)!, root, run));
    }
  }

  private applyExpressionsToValue(root: Document, run: RunContext, value: unknown, made: Made): unknown {
    if (isDocument(value)) {
      const out = copyMade(value, made);
      this.applyExpressions(root, run, out, made);
      return out;
    }
    if (Array.isArray(value)) {
      const out = value.map((el) => this.applyExpressionsToValue(root, run, el, made));
      made.push(out);
      return out;
    }
    if (this.subtreeHasComputed) {
      const out: Obj = {};
      made.push(out);
      this.applyExpressions(root, run, out, made);
      return out;
    }
    return value === MISSING ? MISSING : this.inclusion ? MISSING : value;
  }
}

/** Removes the MISSING holes from the documents and arrays made for one output document. */
function removeHoles(made: Made): void {
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

type Transform = (doc: Document, run: RunContext) => Document;

/**
 * Parses an aggregation projection (its elements in order, as given: $unset passes repeated names)
 * into a transform. Throws mongod's errors (without the stage's context).
 */
function compileProjection(entries: ReadonlyArray<readonly [string, unknown]>, cc: CompileContext): Transform {
  if (entries.length === 0) fail(LocationCodes.ProjectEmpty, 'projection specification must have at least one field');
  const ctx: ParseContext = { cc, idSpecified: false, hasMeta: false, type: undefined, idIncludedEntirely: false, idExcludedEntirely: false };
  const root: PathNode = { kind: 'path', children: new Map() };
  for (const [key, value] of entries) {
    if (key === '_id' || key.startsWith('_id.')) ctx.idSpecified = true;
    parseElement(ctx, key, value, root, true);
  }
  // computeProjectionType for aggregation: $meta or {_id: 1} alone make an inclusion.
  const type = ctx.type ?? (ctx.hasMeta || ctx.idIncludedEntirely ? 'inclusion' : 'exclusion');
  if (!ctx.idSpecified && type === 'inclusion') addNodeAtPath(root, ['_id'], { kind: 'bool', value: true });
  if (type === 'exclusion' && ctx.idSpecified && ctx.idIncludedEntirely) root.children.delete('_id');

  const inclusion = type === 'inclusion';
  const tree = new ProjectionNode(inclusion);
  const walk = (node: PathNode, prefix: readonly string[]): void => {
    for (const [name, child] of node.children) {
      const path = [...prefix, name];
      if (child.kind === 'path') walk(child, path);
      else if (child.kind === 'bool') {
        if (inclusion && path.length === 1 && name === '_id' && !child.value) continue;
        tree.addProjectionForPath(path);
      } else tree.addExpressionForPath(path, child.expr);
    }
  };
  walk(root, []);
  return (doc, run) => {
    const made: Made = [];
    const out = tree.applyToDocument(doc, run, made);
    removeHoles(made);
    return out;
  };
}

function singleDocumentStage(name: string, transform: Transform): CompiledStage {
  return {
    name,
    fallback: false,
    *run(input, run) {
      for (const doc of input) yield transform(doc, run);
    },
  };
}

/** $project (DocumentSourceProject::createFromBson). */
export function compileProject(spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(LocationCodes.ProjectNotObject, '$project specification must be an object');
  const obj = spec as Obj;
  const transform = withContext('Invalid $project', () => compileProjection(Object.keys(obj).map((k) => [k, obj[k]] as const), cc));
  return singleDocumentStage('$project', transform);
}

/** $unset: an exclusion projection of the named fields (DocumentSourceProject, kAliasNameUnset). */
export function compileUnset(spec: unknown, cc: CompileContext): CompiledStage {
  if (typeof spec !== 'string' && !Array.isArray(spec)) fail(LocationCodes.UnsetNotStringOrArray, '$unset specification must be a string or an array');
  const names = typeof spec === 'string' ? [spec] : (spec as unknown[]);
  if (names.length === 0) fail(LocationCodes.UnsetEmptyArray, '$unset specification must be a string or an array with at least one field');
  if (names.some((n) => typeof n !== 'string')) {
    fail(LocationCodes.UnsetNotStrings, '$unset specification must be a string or an array containing only string values');
  }
  const transform = withContext('Invalid $unset', () => compileProjection((names as string[]).map((n) => [n, 0] as const), cc));
  return singleDocumentStage('$unset', transform);
}

// ---------------------------------------------------------------------------------------------
// $addFields / $set

/** ProjectionSpecValidator (add_fields_projection_executor.cpp). */
function validateAddFields(spec: Obj): void {
  const seen: string[] = [];
  const raw = (): string => bsonText(spec);
  const isPrefix = (a: string, b: string): boolean => b.length > a.length && b.startsWith(a) && b[a.length] === '.';
  const ensureNoConflict = (path: string): void => {
    for (const other of seen) {
      if (other === path || isPrefix(other, path) || isPrefix(path, other)) {
        fail(LocationCodes.AddFieldsConflictingPaths, `specification contains two conflicting paths. Cannot specify both '${path}' and '${other}': ${raw()}`);
      }
    }
    seen.push(path);
  };
  const parseElement = (value: unknown, path: string): void => {
    fieldPath(path);
    if (objectKind(value) === 1) parseNested(value as Obj, path);
    else ensureNoConflict(path);
  };
  const parseNested = (obj: Obj, prefix: string): void => {
    const keys = Object.keys(obj);
    for (const name of keys) {
      if (name.startsWith('$')) {
        if (keys.length !== 1) {
          fail(
            LocationCodes.AddFieldsExpressionFields,
            `an expression specification must contain exactly one field, the name of the expression. Found ${keys.length} fields in ${bsonText(obj)}, while parsing object ${raw()}`,
          );
        }
        ensureNoConflict(prefix);
        continue;
      }
      if (name.includes('.')) fail(LocationCodes.AddFieldsDottedSubField, `cannot use dotted field name '${name}' in a sub object: ${raw()}`);
      parseElement(obj[name], `${prefix}.${name}`);
    }
  };
  for (const name of Object.keys(spec)) parseElement(spec[name], name);
}

/** AddFieldsProjectionExecutor::parse: every element becomes a computed field. */
function compileAddFieldsTree(spec: Obj, cc: CompileContext): ProjectionNode {
  validateAddFields(spec);
  const tree = new ProjectionNode(true);
  const parseSub = (obj: Obj, path: readonly string[]): void => {
    const keys = Object.keys(obj);
    for (const name of keys) {
      const value = obj[name];
      const current = [...path, name];
      if (objectKind(value) === 1) {
        const sub = value as Obj;
        const first = Object.keys(sub)[0];
        if (first !== undefined && first.startsWith('$')) tree.addExpressionForPath(current, compileExpr(sub, cc));
        else parseSub(sub, current);
      } else {
        tree.addExpressionForPath(current, compileExpr(value, cc));
      }
    }
    if (keys.length === 0) tree.addExpressionForPath(path, compileExpr({}, cc));
  };
  for (const name of Object.keys(spec)) {
    const parts = fieldPath(name);
    const value = spec[name];
    if (objectKind(value) === 1) {
      const sub = value as Obj;
      const first = Object.keys(sub)[0];
      if (first !== undefined && first.startsWith('$')) tree.addExpressionForPath(parts, compileExpr(sub, cc));
      else parseSub(sub, parts);
    } else {
      tree.addExpressionForPath(parts, compileExpr(value, cc));
    }
  }
  return tree;
}

/** $addFields and its alias $set (DocumentSourceAddFields::createFromBson). */
export function compileAddFields(name: '$addFields' | '$set', spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(LocationCodes.AddFieldsNotObject, `${name} specification stage must be an object, got ${typeName(spec)}`);
  const tree = withContext(`Invalid ${name}`, () => compileAddFieldsTree(spec as Obj, cc));
  return singleDocumentStage(name, (doc, run) => {
    const made: Made = [];
    const out = copyMade(doc, made);
    tree.applyExpressions(doc, run, out, made);
    removeHoles(made);
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// $replaceRoot / $replaceWith

/** ReplaceRootTransformation: the expression's document is the new document (the same object). */
export function compileReplaceRoot(name: '$replaceRoot' | '$replaceWith', spec: unknown, cc: CompileContext): CompiledStage {
  const expr = compileExpr(name === '$replaceRoot' ? (spec as Obj).newRoot : spec, cc);
  const context = name === '$replaceRoot' ? "'newRoot' expression " : "'replacement document' ";
  return singleDocumentStage(name, (doc, run) => {
    const v = expr.evaluate(scopeOf(doc, run));
    const kind = objectKind(v);
    if (kind === 0) {
      const shown = v === undefined ? MISSING : v;
      fail(
        LocationCodes.ReplaceRootNotObject,
        `${context} must evaluate to an object, but resulting value was: ${valueString(shown)}. Type of resulting value: '${v === undefined ? 'missing' : typeName(v)}'. Input document: ${documentString(asObj(doc))}`,
      );
    }
    return kind === 2 ? asObj(v) : (v as Document);
  });
}
