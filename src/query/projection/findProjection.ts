/**
 * find's projection, as mongod 7.0 evaluates it (classic engine): parsed as
 * src/mongo/db/query/projection_parser.cpp parses it, executed as the projection executors do
 * (src/mongo/db/exec/projection_node.cpp, inclusion/exclusion_projection_executor.cpp,
 * projection_executor_builder.cpp, projection_executor_utils.cpp).
 *
 *   findProjection(projection, filter?, options?) -> (doc) => projected document
 *
 * - Values are passed through untouched: the projected document holds the stored BSON values
 *   themselves (a Decimal128 keeps its bytes, an Int32 stays an Int32).
 * - Inclusion ({a: 1, "b.c": 1}): the included fields in the STORED DOCUMENT's order; `_id` is
 *   included unless excluded; sub-documents inside arrays are projected element by element, and in
 *   an inclusion other elements (scalars) are dropped; nested arrays are recursed into.
 * - Exclusion ({a: 0}): the document without those fields, in its order.
 * - Computed fields ({x: "$a.b"}, {x: {$literal: v}}, constants, and the expression subset of
 *   ../match/expr.ts) make an inclusion; they come after the included fields, in projection order
 *   (a computed field that is also a document field keeps the field's place only when an included
 *   sub-field put it there). A missing result leaves the field out.
 * - "a.$" (positional): the included array holds only the element at the position the filter's
 *   match recorded (MatchDetails elemMatchKey; errors 51246/51247 as mongod).
 * - {a: {$elemMatch: {...}}}: [the first matching element], placed after the other fields; the
 *   field is left out when no element matches.
 * - {a: {$slice: n}} / {$slice: [skip, limit]}: applied to the projected document, through arrays
 *   of documents on the way.
 * Refused with 115: $meta, aggregation expressions other than expr.ts's subset, $slice in its
 * aggregation form.
 */
import type { Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { compileFilter, type CompiledFilter } from '../match/compile.js';
import { collatorFor, comparatorFor } from '../match/collation.js';
import { located, notSupported } from '../queryErrors.js';
import { compileExpression, type CompiledExpression, type ExpressionContext } from '../match/expr.js';
import { typeName } from '../../bson/typeName.js';
import { bsonTypeOf, BSON_TYPE, dbrefDocument, defineField as setField, getField, isDocument, isNumberType, isPrototypeName, MISSING, objectKind, safeNumberInt } from '../match/values.js';
import { addNodeAtPath, buildExecutor, checkPositionalNotInMiddle, fieldPath, isInclusionOrExclusionValue, noteInclusionOrExclusion, noteLiteral, parseProjectionAst, parseSubObject as parseSubObjectWith, truthy } from './projectionAst.js';
import type { AstNode as Ast, ProjectionType, PathNode as Path, ProjectionParseState } from './projectionAst.js';
import { copyMade, removeHoles, type Made, type Obj } from './projectionTree.js';

export interface ProjectionOptions {
  /** The find's collation (the $elemMatch projection and expression comparisons use it). */
  collation?: Document;
  /** The find's `let` variables ($$name in projection expressions). */
  variables?: Document;
}

// ---------------------------------------------------------------------------------------------
// AST (projection_ast.h)

/** find's leaves besides inclusions and exclusions (the paths and bools are ./projectionAst.ts's). */
type Leaf =
  | { kind: 'expr'; expr: CompiledExpression }
  | { kind: 'positional' }
  | { kind: 'slice'; skip: number | undefined; limit: number }
  | { kind: 'elemMatch'; filter: CompiledFilter };

type AstNode = Ast<Leaf>;
type PathNode = Path<Leaf>;

interface ParseContext extends ProjectionParseState {
  readonly filter: CompiledFilter | undefined;
  readonly expression: ExpressionContext;
  readonly options: ProjectionOptions;
  hasPositional: boolean;
  hasElemMatch: boolean;
  hasFindSlice: boolean;
}

/** The aggregation expression names (Expression::isExpressionName), to tell 31325 from what is unsupported here. */
const EXPRESSION_NAMES = new Set(
  (
    'abs acos acosh add allElementsTrue and anyElementTrue arrayElemAt arrayToObject asin asinh atan atan2 atanh avg ' +
    'binarySize bitAnd bitNot bitOr bitXor bsonSize ceil cmp concat concatArrays cond convert cos cosh covariancePop ' +
    'covarianceSamp dateAdd dateDiff dateFromParts dateFromString dateSubtract dateToParts dateToString dateTrunc ' +
    'dayOfMonth dayOfWeek dayOfYear degreesToRadians divide eq exp filter first firstN floor function getField gt gte ' +
    'hour ifNull in indexOfArray indexOfBytes indexOfCP isArray isNumber isoDayOfWeek isoWeek isoWeekYear last lastN ' +
    'let literal ln log log10 lt lte ltrim map max maxN median mergeObjects meta millisecond min minN minute mod ' +
    'month multiply ne not objectToArray or percentile pow radiansToDegrees rand range reduce regexFind regexFindAll ' +
    'regexMatch replaceAll replaceOne reverseArray round rtrim sampleRate second setDifference setEquals setField ' +
    'setIntersection setIsSubset setUnion sin sinh size slice sortArray split sqrt stdDevPop stdDevSamp strLenBytes ' +
    'strLenCP strcasecmp substr substrBytes substrCP subtract sum switch tan tanh toBool toDate toDecimal toDouble ' +
    'toHashedIndexKey toInt toLong toLower toObjectId toString toUpper trim trunc tsIncrement tsSecond type ' +
    'unsetField week year zip'
  )
    .split(' ')
    .map((n) => `$${n}`),
);

function parseSlice(ctx: ParseContext, parts: readonly string[], arg: unknown, parent: PathNode, spec: Obj): void {
  let node: AstNode;
  if (isNumberType(bsonTypeOf(arg))) {
    node = { kind: 'slice', skip: undefined, limit: safeNumberInt(arg) };
  } else if (Array.isArray(arg)) {
    const fail = (code: number, message: string): never => {
      // mongod then tries the aggregation $slice expression, which is not evaluated here.
      throw notSupported(`$slice ${JSON.stringify(spec)} (find's $slice says: ${message} [${code}]; the aggregation $slice)`);
    };
    if (arg.length !== 2) fail(LocationCodes.ProjectionSliceArrayForm, '$slice array argument should be of form [skip, limit]');
    const [skip, limit] = arg as [unknown, unknown];
    if (!isNumberType(bsonTypeOf(skip))) fail(LocationCodes.ProjectionSliceSkipNotNumber, `$slice expects the skip argument to be a number, got ${typeName(skip)}`);
    if (!isNumberType(bsonTypeOf(limit))) fail(LocationCodes.ProjectionSliceLimitNotNumber, `$slice expects the limit argument to be a number, got ${typeName(limit)}`);
    const l = safeNumberInt(limit);
    if (l <= 0) fail(LocationCodes.ProjectionSliceLimitNotPositive, `$slice limit must be positive, got ${l}`);
    node = { kind: 'slice', skip: safeNumberInt(skip), limit: l };
  } else {
    throw notSupported(`$slice ${JSON.stringify(spec)} (find's $slice takes a number or [skip, limit]; the aggregation $slice)`);
  }
  addNodeAtPath(parent, parts, node);
  ctx.hasFindSlice = true;
}

/** parseSubObjectAsExpression; false when the object is a sub-projection after all. */
function parseSubObjectAsExpression(ctx: ParseContext, parts: readonly string[], obj: Obj, parent: PathNode, isRoot: boolean): boolean {
  const op = Object.keys(obj)[0]!;
  const arg = obj[op];
  if (op === '$slice') {
    parseSlice(ctx, parts, arg, parent, obj);
    return true;
  }
  if (op === '$elemMatch') {
    if (bsonTypeOf(arg) !== BSON_TYPE.object) {
      throw located(LocationCodes.ProjectionElemMatchNotObject, `elemMatch: Invalid argument, object required, but got ${typeName(arg)}`);
    }
    if (ctx.hasPositional) throw located(LocationCodes.ProjectionElemMatchAfterPositional, 'Cannot specify positional operator and $elemMatch.');
    if (parts.length !== 1 || !isRoot) throw located(LocationCodes.ProjectionElemMatchNested, 'Cannot use $elemMatch projection on a nested field.');
    const filter = compileFilter({ [parts[0]!]: { $elemMatch: arg } }, { collation: ctx.options.collation, variables: ctx.options.variables });
    addNodeAtPath(parent, parts, { kind: 'elemMatch', filter });
    ctx.hasElemMatch = true;
    return true;
  }
  if (!EXPRESSION_NAMES.has(op)) return false;
  const isMeta = op === '$meta';
  if (ctx.type === 'exclusion' && !isMeta) {
    throw located(LocationCodes.ProjectionExpressionInExclusion, 'Cannot use expression other than $meta in exclusion projection');
  }
  if (isMeta) throw notSupported('$meta in projections');
  if (ctx.type === undefined) ctx.type = 'inclusion';
  const expr = compileProjectionExpression(obj, ctx);
  addNodeAtPath(parent, parts, { kind: 'expr', expr });
  return true;
}

function compileProjectionExpression(expr: unknown, ctx: ParseContext): CompiledExpression {
  try {
    return compileExpression(expr, ctx.expression);
  } catch (err) {
    if (err instanceof MongoError && err.code === ErrorCodes.CommandNotSupported) {
      throw new MongoError(ErrorCodes.CommandNotSupported, err.message.replace(/inside \$expr/, 'in a find projection'));
    }
    throw err;
  }
}

function parseSubObject(ctx: ParseContext, key: string, obj: Obj, parent: PathNode, isRoot: boolean): void {
  parseSubObjectWith(
    key,
    obj,
    parent,
    (parts) => parseSubObjectAsExpression(ctx, parts, obj, parent, isRoot),
    (k, v, node) => parseElement(ctx, k, v, node, false),
  );
}

function parseInclusion(ctx: ParseContext, key: string, parent: PathNode, isRoot: boolean): void {
  if (!key.endsWith('.$')) {
    addNodeAtPath(parent, fieldPath(key), { kind: 'bool', value: true });
  } else {
    if (ctx.hasPositional) throw located(LocationCodes.ProjectionTwoPositionals, 'Cannot specify more than one positional projection per query.');
    if (ctx.hasElemMatch) throw located(LocationCodes.ProjectionPositionalAfterElemMatch, 'Cannot specify positional operator and $elemMatch.');
    if (ctx.filter === undefined) throw located(LocationCodes.ProjectionPositionalNeedsMatcher, 'Projections with a positional operator require a matcher');
    if (key === '.$') throw located(LocationCodes.ProjectionDotDollar, `Projection on field ${key} is invalid`);
    const parts = fieldPath(key.slice(0, -2));
    // The filter is parsed again with every special feature banned (kBanAllSpecialFeatures).
    if (ctx.filter.hasExpr) throw new MongoError(ErrorCodes.QueryFeatureNotAllowed, '$expr is not allowed in this context');
    addNodeAtPath(parent, parts, { kind: 'positional' });
    ctx.hasPositional = true;
  }
  noteInclusionOrExclusion(ctx, key, true, isRoot);
}

function parseExclusion(ctx: ParseContext, key: string, parent: PathNode, isRoot: boolean): void {
  addNodeAtPath(parent, fieldPath(key), { kind: 'bool', value: false });
  noteInclusionOrExclusion(ctx, key, false, isRoot);
}

function parseLiteral(ctx: ParseContext, key: string, value: unknown, parent: PathNode): void {
  const expr = compileProjectionExpression(value, ctx);
  addNodeAtPath(parent, fieldPath(key), { kind: 'expr', expr });
  noteLiteral(ctx, key, value);
}

function parseElement(ctx: ParseContext, key: string, value: unknown, parent: PathNode, isRoot: boolean): void {
  const positional = key.endsWith('.$');
  checkPositionalNotInMiddle(key);
  if (bsonTypeOf(value) === BSON_TYPE.object) {
    if (positional) throw located(LocationCodes.ProjectionPositionalWithObject, 'positional projection cannot be used with an expression or sub object');
    parseSubObject(ctx, key, objectKind(value) === 2 ? dbrefDocument(value) : (value as Obj), parent, isRoot);
  } else if (isInclusionOrExclusionValue(value)) {
    if (truthy(value)) parseInclusion(ctx, key, parent, isRoot);
    else {
      if (positional) throw located(LocationCodes.ProjectionPositionalExclusion, 'positional projection cannot be used with exclusion');
      parseExclusion(ctx, key, parent, isRoot);
    }
  } else {
    if (positional) throw located(LocationCodes.ProjectionPositionalWithLiteral, 'positional projection cannot be used with a literal');
    parseLiteral(ctx, key, value, parent);
  }
}

/** computeProjectionType: the type of a projection nothing but _id and find operators decided. */
function defaultType(ctx: ParseContext): ProjectionType {
  if (ctx.hasFindSlice) return ctx.idIncludedEntirely ? 'inclusion' : 'exclusion';
  if (ctx.hasElemMatch) return 'inclusion';
  if (ctx.idIncludedEntirely) return 'inclusion';
  return 'exclusion';
}

// ---------------------------------------------------------------------------------------------
// Execution (projection_node.cpp; the tree is ./projectionTree.ts's)

function peek(doc: unknown, name: string): unknown {
  return getField(doc, name, isPrototypeName(name));
}

/** A computed field of find's projection: its value for the input document, MISSING to leave it out. */
type Evaluate = (root: Obj) => unknown;

const evaluate = (f: Evaluate, root: Obj): unknown => f(root);

/** sliceArray (projection_executor_utils.cpp). */
function sliceArray(arr: readonly unknown[], skip: number | undefined, limit: number): unknown[] {
  const len = arr.length;
  let start = 0;
  let forward = 0;
  if (skip === undefined) {
    if (limit < 0) {
      start = Math.max(0, len + limit);
      forward = len - start;
    } else {
      forward = Math.min(len, limit);
    }
  } else if (skip < 0) {
    start = Math.max(0, len + skip);
    forward = Math.min(len - start, limit);
  } else {
    start = Math.min(len, skip);
    forward = Math.min(len - start, limit);
  }
  return arr.slice(start, start + forward);
}

/** applyFindSliceProjectionHelper. */
function applySlice(input: unknown, parts: readonly string[], i: number, skip: number | undefined, limit: number, made: Made): Obj {
  const name = parts[i]!;
  const next = i + 1;
  let val = peek(input, name);
  if (Array.isArray(val)) {
    if (next === parts.length) val = sliceArray(val, skip, limit);
    else val = val.map((el) => (isDocument(el) ? applySlice(el, parts, next, skip, limit, made) : el));
    made.push(val as unknown[]);
  } else if (isDocument(val) && next < parts.length) {
    val = applySlice(val, parts, next, skip, limit, made);
  }
  const out = copyMade(input, made);
  if (val !== MISSING || Object.hasOwn(out, name)) setField(out, name, val);
  return out;
}

/** applyFindPositionalProjection. */
function applyPositional(post: Obj, parts: readonly string[], position: number | undefined): Obj {
  let sub: unknown = post;
  for (let ind = 0; ind < parts.length; ind++) {
    const val = peek(sub, parts[ind]!);
    if (Array.isArray(val)) {
      if (position === undefined) {
        throw located(LocationCodes.ProjectionPositionalNoMatch, "positional operator '.$' couldn't find a matching element in the array");
      }
      const elem = position < val.length ? val[position] : MISSING;
      if (elem === MISSING) throw located(LocationCodes.ProjectionPositionalMismatch, "positional operator '.$' element mismatch");
      setNested(post, parts.slice(0, ind + 1), [elem]);
      return post;
    }
    if (isDocument(val)) sub = val;
  }
  return post;
}

/** MutableDocument::setNestedField on a projected (own) document. */
function setNested(doc: Obj, parts: readonly string[], value: unknown): void {
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const name = parts[i]!;
    let next = Object.hasOwn(cur, name) ? cur[name] : undefined;
    if (objectKind(next) !== 1) {
      next = objectKind(next) === 2 ? dbrefDocument(next) : {};
      setField(cur, name, next);
    }
    cur = next as Obj;
  }
  setField(cur, parts[parts.length - 1]!, value);
}

type RootReplacement = (pre: Obj, post: Obj, made: Made) => Obj;

/**
 * Compiles find's projection. `filter` is the find's compiled filter (needed by a positional
 * projection, "a.$"); `options` the find's collation and `let` variables. Throws MongoError for
 * a projection mongod refuses (its codes and texts) and 115 for what pocketmongo does not evaluate.
 */
export function findProjection(projection: Document, filter?: CompiledFilter, options: ProjectionOptions = {}): (doc: Document) => Document {
  const collator = collatorFor(options.collation);
  const ctx: ParseContext = {
    filter,
    expression: { compare: comparatorFor(collator), variables: options.variables },
    options,
    idSpecified: false,
    hasPositional: false,
    hasElemMatch: false,
    hasFindSlice: false,
    type: undefined,
    idIncludedEntirely: false,
    idExcludedEntirely: false,
  };
  const { root, type } = parseProjectionAst<Leaf>(
    Object.keys(projection).map((key) => [key, projection[key]] as const),
    ctx,
    (key, value, parent) => parseElement(ctx, key, value, parent, true),
    () => defaultType(ctx),
  );

  // The executor (projection_executor_builder.cpp), built walking the AST in order.
  const inclusion = type === 'inclusion';
  const replacements: RootReplacement[] = [];
  const tree = buildExecutor<Leaf, Evaluate>(root, inclusion, (child, path, tree) => {
    switch (child.kind) {
      case 'expr': {
        const evaluate = child.expr.evaluate;
        tree.addExpressionForPath(path, (r) => evaluate(r));
        break;
      }
      case 'positional': {
        tree.addProjectionForPath(path);
        const f = filter!;
        replacements.push((pre, post) => applyPositional(post, path, f.matchWithPosition(pre).arrayPosition));
        break;
      }
      case 'slice': {
        if (inclusion) tree.addProjectionForPath(path);
        const { skip, limit } = child;
        replacements.push((_pre, post, made) => applySlice(post, path, 0, skip, limit, made));
        break;
      }
      case 'elemMatch': {
        const f = child.filter;
        const field = path[0]!;
        tree.addExpressionForPath(path, (r) => {
          const { matched, arrayPosition } = f.matchWithPosition(r);
          if (!matched || arrayPosition === undefined) return MISSING;
          const arr = peek(r, field);
          if (!Array.isArray(arr) || arrayPosition >= arr.length) return MISSING;
          return [arr[arrayPosition]];
        });
        break;
      }
    }
  });

  const isIdentity = !inclusion && tree.projected.size === 0 && tree.children.size === 0 && !tree.subtreeHasComputed && replacements.length === 0;
  return (doc) => {
    const made: Made = [];
    if (isIdentity) return copyMade(doc, made);
    let out = tree.applyToDocument(doc as Obj, made, evaluate);
    for (const replace of replacements) out = replace(doc as Obj, out, made);
    removeHoles(made);
    return out;
  };
}
