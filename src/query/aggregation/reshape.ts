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
import { valueText } from '../expression/values.js';
import { located } from '../queryErrors.js';
import { bsonTypeOf, BSON_TYPE, objectKind } from '../match/values.js';
import { addNodeAtPath, buildExecutor, checkPositionalNotInMiddle, isInclusionOrExclusionValue, noteInclusionOrExclusion, noteLiteral, parseProjectionAst, parseSubObject as parseSubObjectWith, truthy } from '../projection/projectionAst.js';
import type { PathNode as Path, ProjectionParseState } from '../projection/projectionAst.js';
import { copyMade, ProjectionNode, removeHoles, type Evaluate, type Made } from '../projection/projectionTree.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail, withContext } from './errors.js';
import { asObj, fieldPath, MISSING, type Obj } from './values.js';

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

/** The aggregation's leaves besides inclusions and exclusions: computed fields. */
type Leaf = { kind: 'expr'; expr: CompiledExpression };
type PathNode = Path<Leaf>;

interface ParseContext extends ProjectionParseState {
  readonly cc: CompileContext;
  hasMeta: boolean;
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
  parseSubObjectWith(
    key,
    obj,
    parent,
    (parts) => parseSubObjectAsExpression(ctx, parts, obj, parent),
    (k, v, node) => parseElement(ctx, k, v, node, false),
  );
}

function parseElement(ctx: ParseContext, key: string, value: unknown, parent: PathNode, isRoot: boolean): void {
  if (key.endsWith('.$')) fail(LocationCodes.ProjectionPositionalInAggregation, 'Cannot use positional projection in aggregation projection');
  checkPositionalNotInMiddle(key);
  if (bsonTypeOf(value) === BSON_TYPE.object) {
    parseSubObject(ctx, key, asObj(value), parent);
  } else if (isInclusionOrExclusionValue(value)) {
    const included = truthy(value);
    addNodeAtPath<Leaf>(parent, fieldPath(key), { kind: 'bool', value: included });
    noteInclusionOrExclusion(ctx, key, included, isRoot);
  } else {
    const expr = compileExpr(value, ctx.cc);
    addNodeAtPath<Leaf>(parent, fieldPath(key), { kind: 'expr', expr });
    noteLiteral(ctx, key, value);
  }
}

// ---------------------------------------------------------------------------------------------
// The executor (projection_node.cpp)

// The tree (ProjectionNode) is ../projection/projectionTree.ts's; its computed fields are
// compiled expressions.

/** The tree's evaluation callback for one run: the expression with the document as $$ROOT; a missing result is left out. */
function evaluateIn(run: RunContext): Evaluate<CompiledExpression> {
  return (expr, root) => {
    const v = expr.evaluate(scopeOf(root, run));
    return v === undefined ? MISSING : v;
  };
}

type Transform = (doc: Document, run: RunContext) => Document;

/**
 * Parses an aggregation projection (its elements in order, as given: $unset passes repeated names)
 * into a transform. Throws mongod's errors (without the stage's context).
 */
function compileProjection(entries: ReadonlyArray<readonly [string, unknown]>, cc: CompileContext): Transform {
  if (entries.length === 0) fail(LocationCodes.ProjectEmpty, 'projection specification must have at least one field');
  const ctx: ParseContext = { cc, idSpecified: false, hasMeta: false, type: undefined, idIncludedEntirely: false, idExcludedEntirely: false };
  const { root, type } = parseProjectionAst<Leaf>(
    entries,
    ctx,
    (key, value, parent) => parseElement(ctx, key, value, parent, true),
    // computeProjectionType for aggregation: $meta or {_id: 1} alone make an inclusion.
    () => (ctx.hasMeta || ctx.idIncludedEntirely ? 'inclusion' : 'exclusion'),
  );
  const tree = buildExecutor<Leaf, CompiledExpression>(root, type === 'inclusion', (child, path, tree) => tree.addExpressionForPath(path, child.expr));
  return (doc, run) => {
    const made: Made = [];
    const out = tree.applyToDocument(doc, made, evaluateIn(run));
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
function compileAddFieldsTree(spec: Obj, cc: CompileContext): ProjectionNode<CompiledExpression> {
  validateAddFields(spec);
  const tree = new ProjectionNode<CompiledExpression>(true);
  // An element: an object whose first field is a $-name is an expression, another object a
  // sub-spec ({} the literal {}), anything else an expression.
  const parseElement = (value: unknown, path: readonly string[]): void => {
    if (objectKind(value) === 1) {
      const sub = value as Obj;
      const first = Object.keys(sub)[0];
      if (first !== undefined && first.startsWith('$')) tree.addExpressionForPath(path, compileExpr(sub, cc));
      else parseSub(sub, path);
    } else {
      tree.addExpressionForPath(path, compileExpr(value, cc));
    }
  };
  const parseSub = (obj: Obj, path: readonly string[]): void => {
    const keys = Object.keys(obj);
    for (const name of keys) parseElement(obj[name], [...path, name]);
    if (keys.length === 0) tree.addExpressionForPath(path, compileExpr({}, cc));
  };
  for (const name of Object.keys(spec)) parseElement(spec[name], fieldPath(name));
  return tree;
}

/** $addFields and its alias $set (DocumentSourceAddFields::createFromBson). */
export function compileAddFields(name: '$addFields' | '$set', spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(LocationCodes.AddFieldsNotObject, `${name} specification stage must be an object, got ${typeName(spec)}`);
  const tree = withContext(`Invalid ${name}`, () => compileAddFieldsTree(spec as Obj, cc));
  return singleDocumentStage(name, (doc, run) => {
    const made: Made = [];
    const out = copyMade(doc, made);
    tree.applyExpressions(doc, out, made, evaluateIn(run));
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
      fail(
        LocationCodes.ReplaceRootNotObject,
        `${context} must evaluate to an object, but resulting value was: ${valueText(v)}. Type of resulting value: '${v === undefined ? 'missing' : typeName(v)}'. Input document: ${valueText(doc)}`,
      );
    }
    return kind === 2 ? asObj(v) : (v as Document);
  });
}
