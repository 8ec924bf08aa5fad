/**
 * pocketmongo's filter matcher: mongod 7.0's match language evaluated directly on stored BSON values
 * (no numeric view, no copies of documents), compiled once per filter into closures.
 *
 * API
 * ---
 *   compileFilter(filter, options?) -> CompiledFilter        (throws MongoError for bad filters)
 *     options.collation  the find/update/... collation ({locale, strength, caseLevel, caseFirst,
 *                        numericOrdering, ...}); strings compare with it in $eq/$ne/$gt/.../$in/$nin/
 *                        $all (regexes ignore it). Options Intl.Collator cannot reproduce are 115.
 *     options.variables  `let` variables for $$name inside $expr.
 *   CompiledFilter.matches(doc)            whether the document matches.
 *   CompiledFilter.matchWithPosition(doc)  {matched, arrayPosition}: arrayPosition is the array index
 *                        mongod records while matching (MatchDetails elemMatchKey), used by the
 *                        positional `$` of updates and find projections; undefined when none.
 *   CompiledFilter.hasExpr                 the filter uses $expr (find projections with a positional
 *                        `$` refuse such filters, as mongod does).
 *
 * The filter is parsed as mongod's MatchExpressionParser parses it (expression_parser.cpp), with
 * mongod's codes and texts.
 *
 * Operator families live in: path.ts (dotted paths through arrays), comparison.ts ($eq $ne $gt
 * $gte $lt $lte $in $nin), element.ts ($exists $type), array.ts ($size $all $elemMatch),
 * evaluation.ts ($regex $mod), expr.ts ($expr), bitwise.ts ($bits*), logical.ts ($and $or $nor
 * $not $alwaysTrue $alwaysFalse), jsonSchema.ts ($jsonSchema), collation.ts.
 *
 * Refused with 115 CommandNotSupported: $text, $where, geospatial operators,
 * $_internal* operators, and inside $expr every operator but $eq $ne $gt $gte $lt $lte
 * $and $or $not $literal ("pocketmongo does not support <op> inside $expr yet").
 */
import type { Document } from 'bson';
import { elemMatchObjectTest, elemMatchValueTest, sizeTest } from './array.js';
import { bitTest, type BitOp } from './bitwise.js';
import { collatorFor, comparatorFor } from './collation.js';
import { comparisonTest, inTest, type ComparisonOp } from './comparison.js';
import { existsTest, trueValue, typeTest } from './element.js';
import { badValue, notSupported } from '../queryErrors.js';
import { modTest, regexDocumentTest, regexValueTest } from './evaluation.js';
import { coerceToBool, compileExpression, type ExpressionContext } from './expr.js';
import { compileJsonSchema } from './jsonSchema.js';
import { alwaysNode, logicalNode } from './logical.js';
import { ALWAYS_FALSE, ALWAYS_TRUE, andNode, notNode, pathLeaf, type Details, type MatchNode, type Test } from './node.js';
import { cachedPath } from './path.js';
import { bsonTypeOf, BSON_TYPE, dbrefDocument, numberAsDouble, objectKind } from './values.js';

export interface MatchOptions {
  /** The operation's collation; absent, {} or {locale: "simple"}: binary string comparison. */
  collation?: Document;
  /** `let` variables: $$name in $expr. */
  variables?: Document;
  /** The command's one NOW ($$NOW in a $expr the aggregation evaluator runs); default: the system clock. */
  now?: Date;
}

export interface CompiledFilter {
  matches(doc: Document): boolean;
  /**
   * For positional `$` (update and projection): the first array position the match used on the
   * path's array (mongod's MatchDetails elemMatchKey), or undefined.
   */
  matchWithPosition(doc: Document): { matched: boolean; arrayPosition: number | undefined };
  /** Whether the filter has a $expr (banned with positional projections, as mongod bans it there). */
  readonly hasExpr: boolean;
}

/** Where the parser stands (DocumentParseLevel). */
type Level = 'predicateTop' | 'userTop' | 'sub';

interface ParseContext {
  readonly collator: Intl.Collator | undefined;
  readonly expression: ExpressionContext;
  hasExpr: boolean;
}

/** The pathless operators (retrievePathlessParser); $elemMatch with one of these first is the object form. */
const PATHLESS = new Set([
  '$_internalBucketGeoWithin',
  '$_internalSchemaAllowedProperties',
  '$_internalSchemaCond',
  '$_internalSchemaMaxProperties',
  '$_internalSchemaMinProperties',
  '$_internalSchemaRootDocEq',
  '$_internalSchemaXor',
  '$alwaysFalse',
  '$alwaysTrue',
  '$and',
  '$comment',
  '$db',
  '$expr',
  '$id',
  '$jsonSchema',
  '$nor',
  '$or',
  '$ref',
  '$sampleRate',
  '$text',
  '$where',
]);

/** The path-accepting operators (queryOperatorMap): "no $ expressions in $all" is about these. */
const KEYWORDS = new Set([
  '$_internalExprEq',
  '$_internalExprGt',
  '$_internalExprGte',
  '$_internalExprLt',
  '$_internalExprLte',
  '$_internalSchemaAllElemMatchFromIndex',
  '$_internalSchemaBinDataEncryptedType',
  '$_internalSchemaBinDataSubType',
  '$_internalSchemaEq',
  '$_internalSchemaFmod',
  '$_internalSchemaMatchArrayIndex',
  '$_internalSchemaMaxItems',
  '$_internalSchemaMaxLength',
  '$_internalSchemaMinItems',
  '$_internalSchemaMinLength',
  '$_internalSchemaObjectMatch',
  '$_internalSchemaType',
  '$_internalSchemaUniqueItems',
  '$all',
  '$bitsAllClear',
  '$bitsAllSet',
  '$bitsAnyClear',
  '$bitsAnySet',
  '$elemMatch',
  '$eq',
  '$exists',
  '$geoIntersects',
  '$geoNear',
  '$geoWithin',
  '$gt',
  '$gte',
  '$in',
  '$lt',
  '$lte',
  '$mod',
  '$ne',
  '$near',
  '$nearSphere',
  '$nin',
  '$options',
  '$regex',
  '$size',
  '$type',
  '$within',
]);

/**
 * Whether a name is a path-accepting query operator (MatchExpressionParser's queryOperatorMap:
 * the operators above, $not, and the internal ones), as $pull tells a condition from a document.
 */
export function isPathAcceptingKeyword(name: string | undefined): boolean {
  if (name === undefined) return false;
  return name === '$not' || KEYWORDS.has(name) || (name.startsWith('$_internal') && name.length > 10);
}

const GEO = new Set(['$geoIntersects', '$geoNear', '$geoWithin', '$near', '$nearSphere', '$within']);

function isPlainDocument(v: unknown): v is Record<string, unknown> {
  return objectKind(v) === 1;
}

/** isDBRefDocument: has $ref and $id (or, when incomplete ones are allowed, any of $ref/$id/$db). */
function isDBRefDocument(o: Record<string, unknown>, allowIncomplete: boolean): boolean {
  let ref = false;
  let id = false;
  let db = false;
  for (const k of Object.keys(o)) {
    if (k === '$ref') ref = true;
    else if (k === '$id') id = true;
    else if (k === '$db') db = true;
    if (ref && id) break;
  }
  return allowIncomplete ? ref || id || db : ref && id;
}

/** isExpressionDocument: a non-empty document whose first field starts with '$' and that is not a DBRef. */
function isExpressionDocument(v: unknown, allowIncompleteDBRef: boolean): v is Record<string, unknown> {
  if (!isPlainDocument(v)) return false;
  const keys = Object.keys(v);
  if (keys.length === 0 || !keys[0]!.startsWith('$')) return false;
  return !isDBRefDocument(v, allowIncompleteDBRef);
}

function isRegexValue(v: unknown): boolean {
  return bsonTypeOf(v) === BSON_TYPE.regex;
}

/** The document a query value stands for (a DBRef instance is the document it is on the wire). */
function asDocument(v: unknown): Record<string, unknown> {
  return objectKind(v) === 2 ? dbrefDocument(v) : (v as Record<string, unknown>);
}

function eqLeaf(path: string, value: unknown, collator: Intl.Collator | undefined): MatchNode {
  return pathLeaf(path, comparisonTest('$eq', value, collator), 'traverse');
}

/**
 * What compileFilter({[path]: value}).matches is, without parsing a filter, for a value that is
 * neither a document nor a regex (so the filter is one equality, eqLeaf's, with no collation):
 * the point lookups' matcher.
 */
export function equalityMatcher(path: string, value: unknown): (doc: Document) => boolean {
  const traverse = cachedPath(path, 'traverse');
  const test = comparisonTest('$eq', value, undefined);
  return (doc) => traverse(doc, test);
}

/** parse(): a filter document (or a sub-filter of $and/$or/$nor/$elemMatch) into one node. */
function parseDocument(obj: Record<string, unknown>, ctx: ParseContext, level: Level): MatchNode {
  const nextLevel: Level = level === 'predicateTop' ? 'userTop' : level;
  const children: MatchNode[] = [];
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (key.startsWith('$')) {
      const node = parsePathless(key, value, ctx, level);
      if (node !== undefined) children.push(node);
      continue;
    }
    if (isExpressionDocument(value, false)) {
      parseSub(key, value, ctx, nextLevel, children);
      continue;
    }
    if (isRegexValue(value)) {
      children.push(pathLeaf(key, regexValueTest(value), 'traverse'));
      continue;
    }
    children.push(eqLeaf(key, value, ctx.collator));
  }
  return andNode(children);
}

/** The top-level operators (retrievePathlessParser); undefined for $comment. */
function parsePathless(key: string, value: unknown, ctx: ParseContext, level: Level): MatchNode | undefined {
  switch (key) {
    case '$and':
    case '$or':
    case '$nor': {
      if (!Array.isArray(value)) throw badValue(`${key} must be an array`);
      if (value.length === 0) throw badValue('$and/$or/$nor must be a nonempty array');
      const children = value.map((sub) => {
        if (!isPlainDocument(sub) && objectKind(sub) !== 2) throw badValue('$or/$and/$nor entries need to be full objects');
        return parseDocument(asDocument(sub), ctx, level);
      });
      return logicalNode(key, children);
    }
    case '$comment':
      return undefined;
    case '$alwaysTrue':
    case '$alwaysFalse':
      return alwaysNode(key, value);
    case '$expr': {
      if (level === 'sub') throw badValue('$expr can only be applied to the top-level document');
      ctx.hasExpr = true;
      const compiled = compileExpression(value, ctx.expression);
      if (compiled.constant !== undefined) return coerceToBool(compiled.constant.value) ? ALWAYS_TRUE : ALWAYS_FALSE;
      const evaluate = compiled.evaluate;
      return {
        matches(doc) {
          return coerceToBool(evaluate(doc));
        },
        single(v) {
          return coerceToBool(evaluate(v));
        },
      };
    }
    case '$sampleRate': {
      if (level === 'sub') throw badValue('$sampleRate can only be applied to the top-level document');
      const t = bsonTypeOf(value);
      if (t !== BSON_TYPE.int && t !== BSON_TYPE.long && t !== BSON_TYPE.double && t !== BSON_TYPE.decimal) {
        throw badValue('argument to $sampleRate must be a numeric type');
      }
      const rate = numberAsDouble(value);
      if (!(rate >= 0 && rate <= 1)) throw badValue('numeric argument to $sampleRate must be in [0, 1]');
      if (rate === 0) return ALWAYS_FALSE;
      if (rate === 1) return ALWAYS_TRUE;
      return { matches: () => Math.random() < rate, single: () => Math.random() < rate };
    }
    case '$id':
    case '$ref':
    case '$db':
      // parseDBRef: an equality on the "$id"/"$ref"/"$db" field ($id with the collation, the others binary)
      return eqLeaf(key, value, key === '$id' ? ctx.collator : undefined);
    case '$where':
      if (level === 'sub') throw badValue('$where can only be applied to the top-level document');
      throw notSupported('server-side JavaScript ($where)');
    case '$text':
      if (level === 'sub') throw badValue('$text can only be applied to the top-level document');
      throw notSupported('$text queries');
    case '$jsonSchema':
      return compileJsonSchema(value);
    default:
      if (PATHLESS.has(key)) throw notSupported(`the internal operator ${key}`);
      throw badValue(
        `unknown top level operator: ${key}${
          key === '$not'
            ? '. If you are trying to negate an entire expression, use $nor.'
            : ". If you have a field name that starts with a '$' symbol, consider using $getField or $setField."
        }`,
      );
  }
}

/** parseSub: the operators of one field ({$gt: 1, $lt: 5}), each a node on the path. */
function parseSub(path: string, sub: Record<string, unknown>, ctx: ParseContext, level: Level, out: MatchNode[]): void {
  const keys = Object.keys(sub);
  for (const key of keys) {
    const node = parseSubField(sub, path, key, sub[key], ctx, level);
    if (node !== undefined) out.push(node);
  }
}

function comparisonLeaf(op: ComparisonOp, path: string, value: unknown, ctx: ParseContext): MatchNode {
  if (op !== '$eq' && isRegexValue(value)) throw badValue(`Can't have RegEx as arg to predicate over field '${path}'.`);
  return pathLeaf(path, comparisonTest(op, value, ctx.collator), 'traverse');
}

/** $in's test over its argument array (parseInExpression). */
function inArgumentTest(op: '$in' | '$nin', value: unknown, ctx: ParseContext): Test {
  if (!Array.isArray(value)) throw badValue(`${op} needs an array`);
  const equalities: unknown[] = [];
  const regexes: Test[] = [];
  for (const e of value) {
    if (isExpressionDocument(e, false)) throw badValue(`cannot nest $ under ${op === '$in' ? '$in' : '$nin'}`);
    if (isRegexValue(e)) regexes.push(regexValueTest(e));
    else {
      if (e === undefined) throw badValue('InMatchExpression equality cannot be undefined');
      equalities.push(e);
    }
  }
  return inTest(equalities, regexes, ctx.collator);
}

/** parseSubField: one operator of a field. */
function parseSubField(
  context: Record<string, unknown>,
  path: string,
  key: string,
  value: unknown,
  ctx: ParseContext,
  level: Level,
): MatchNode | undefined {
  switch (key) {
    case '$not':
      return parseNot(path, value, ctx, level);
    case '$eq':
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      return comparisonLeaf(key, path, value, ctx);
    case '$ne':
      if (isRegexValue(value)) throw badValue("Can't have regex as arg to $ne.");
      return notNode(comparisonLeaf('$eq', path, value, ctx));
    case '$in':
      return pathLeaf(path, inArgumentTest('$in', value, ctx), 'traverse');
    case '$nin':
      return notNode(pathLeaf(path, inArgumentTest('$nin', value, ctx), 'traverse'));
    case '$size':
      return pathLeaf(path, sizeTest(value), 'whole');
    case '$exists': {
      const exists = pathLeaf(path, existsTest, 'traverse');
      return trueValue(value) ? exists : notNode(exists);
    }
    case '$type':
      return pathLeaf(path, typeTest(path, value), 'traverse');
    case '$mod':
      return pathLeaf(path, modTest(value), 'traverse');
    case '$options':
      if (Object.hasOwn(context, '$regex')) return undefined;
      throw badValue('$options needs a $regex');
    case '$regex':
      return pathLeaf(path, regexDocumentTest(context), 'traverse');
    case '$elemMatch':
      return parseElemMatch(path, value, ctx);
    case '$all':
      return parseAll(path, value, ctx);
    case '$bitsAllSet':
    case '$bitsAllClear':
    case '$bitsAnySet':
    case '$bitsAnyClear':
      return pathLeaf(path, bitTest(key as BitOp, path, value), 'traverse');
    case '$where':
      throw badValue('$where cannot be applied to a field');
    default:
      if (GEO.has(key)) throw notSupported(`geospatial queries (${key})`);
      if (KEYWORDS.has(key)) throw notSupported(`the internal operator ${key}`);
      throw badValue(`unknown operator: ${key}`);
  }
}

/** parseNot. */
function parseNot(path: string, value: unknown, ctx: ParseContext, level: Level): MatchNode {
  if (isRegexValue(value)) return notNode(pathLeaf(path, regexValueTest(value), 'traverse'));
  if (bsonTypeOf(value) !== BSON_TYPE.object) throw badValue('$not needs a regex or a document');
  const doc = asDocument(value);
  if (Object.keys(doc).length === 0) throw badValue('$not cannot be empty');
  const nodes: MatchNode[] = [];
  parseSub(path, doc, ctx, level, nodes);
  return notNode(andNode(nodes));
}

/** parseElemMatch: the value form when the first field is an operator that is not pathless. */
function parseElemMatch(path: string, value: unknown, ctx: ParseContext): MatchNode {
  if (bsonTypeOf(value) !== BSON_TYPE.object) throw badValue('$elemMatch needs an Object');
  const obj = asDocument(value);
  const keys = Object.keys(obj);
  const isValueForm = isPlainDocument(value) && isExpressionDocument(obj, true) && !PATHLESS.has(keys[0]!);
  if (isValueForm) {
    const subs: MatchNode[] = [];
    parseSub('', obj, ctx, 'sub', subs);
    const indexed = elemMatchValueTest(subs);
    return pathLeaf(path, indexed.test, 'whole', indexed);
  }
  const sub = parseDocument(obj, ctx, 'sub');
  const indexed = elemMatchObjectTest(sub);
  return pathLeaf(path, indexed.test, 'whole', indexed);
}

/** parseAll. */
function parseAll(path: string, value: unknown, ctx: ParseContext): MatchNode {
  if (!Array.isArray(value)) throw badValue('$all needs an array');
  const firstKey = (v: unknown): string | undefined => (bsonTypeOf(v) === BSON_TYPE.object ? Object.keys(asDocument(v))[0] : undefined);
  if (value.length > 0 && bsonTypeOf(value[0]) === BSON_TYPE.object && firstKey(value[0]) === '$elemMatch') {
    const nodes = value.map((e) => {
      if (bsonTypeOf(e) !== BSON_TYPE.object || firstKey(e) !== '$elemMatch') throw badValue('$all/$elemMatch has to be consistent');
      return parseElemMatch(path, asDocument(e).$elemMatch, ctx);
    });
    return andNode(nodes);
  }
  const nodes: MatchNode[] = [];
  for (const e of value) {
    if (isRegexValue(e)) nodes.push(pathLeaf(path, regexValueTest(e), 'traverse'));
    else if (bsonTypeOf(e) === BSON_TYPE.object && KEYWORDS.has(firstKey(e) ?? '')) throw badValue('no $ expressions in $all');
    else nodes.push(eqLeaf(path, e, ctx.collator));
  }
  if (nodes.length === 0) return ALWAYS_FALSE;
  return andNode(nodes);
}

/**
 * Compiles a filter. Throws MongoError with mongod's code and text for a filter mongod refuses,
 * and 115 for what pocketmongo does not evaluate (see the top of this file).
 */
export function compileFilter(filter: Document, options: MatchOptions = {}): CompiledFilter {
  const collator = collatorFor(options.collation);
  const ctx: ParseContext = {
    collator,
    expression: { compare: comparatorFor(collator), variables: options.variables },
    hasExpr: false,
  };
  const root = parseDocument(filter as Record<string, unknown>, ctx, 'predicateTop');
  const details: Details = { pos: -1 };
  return {
    matches(doc) {
      return root.matches(doc, null);
    },
    matchWithPosition(doc) {
      details.pos = -1;
      const matched = root.matches(doc, details);
      return { matched, arrayPosition: matched && details.pos >= 0 ? details.pos : undefined };
    },
    hasExpr: ctx.hasExpr,
  };
}

