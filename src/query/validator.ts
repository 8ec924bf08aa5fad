/**
 * A collection validator, parsed as mongod parses one (MatchExpressionParser::parse with
 * isParsingCollectionValidator and kDefaultSpecialFeatures, expression_parser.cpp): into the
 * annotated match tree (match/annotated.ts) that decides whether a document passes and explains
 * why one does not (match/validationError.ts).
 *
 * Each query operator is checked and matched by the filter matcher (compileQuery, so the same
 * operators, errors and exact BSON semantics as find), and annotated as mongod annotates it
 * ({operatorName, specifiedAs}). What validators refuse that filters take, with mongod's errors:
 * $where and $text ("... is not allowed in this context"), $near/$nearSphere/$geoNear (5626500).
 */
import { Int32, type Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { compileExpression, scopeFor } from './expression/compile.js';
import { compileQuery } from './find.js';
import { always, andOf, annotate, IGNORE, IGNORE_BUT_DESCEND, node, notOf, orOf, type AnnotatedKind, type AnnotatedNode, type ErrorAnnotation } from './match/annotated.js';
import { trueValue } from './match/element.js';
import { parseJsonSchema } from './match/jsonSchema.js';
import { validationErrorInfo } from './match/validationError.js';
import { bsonTypeOf, BSON_TYPE, dbrefDocument, numberAsDouble, objectKind } from './match/values.js';
import { badValue } from './queryErrors.js';

export interface ValidatorOptions {
  /** Whether $jsonSchema may use encrypt/encryptMetadata (not under validationAction warn or validationLevel moderate). */
  readonly encryptKeywordsAllowed: boolean;
  /** The NOW of $$NOW in $expr (the writing command's). */
  readonly now?: Date;
}

export interface CompiledValidator {
  /** Whether the document passes (an evaluation error fails it, as in mongod). */
  matches(doc: Document): boolean;
  /** DocumentValidationFailure's errInfo for a document that does not pass. */
  errorInfo(doc: Document): Document;
}

type Level = 'top' | 'sub';

const GEO_NEAR = new Set(['$near', '$nearSphere', '$geoNear']);
const COMPARISONS: Readonly<Record<string, AnnotatedKind>> = { $eq: 'eq', $lt: 'lt', $lte: 'lte', $gt: 'gt', $gte: 'gte' };
const BITS = new Set(['$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear']);
const PATHLESS_ELEM_MATCH = new Set(['$and', '$or', '$nor', '$expr', '$jsonSchema', '$where', '$text', '$comment', '$alwaysTrue', '$alwaysFalse', '$sampleRate', '$id', '$ref', '$db']);

function isPlainDocument(v: unknown): v is Document {
  return objectKind(v) === 1;
}

/** isDBRefDocument: $ref and $id (or, allowing incomplete ones, any of $ref/$id/$db). */
function isDBRefDocument(o: Document, allowIncomplete: boolean): boolean {
  const keys = Object.keys(o);
  const ref = keys.includes('$ref');
  const id = keys.includes('$id');
  return allowIncomplete ? ref || id || keys.includes('$db') : ref && id;
}

/** isExpressionDocument: a non-empty document whose first field is an operator, not a DBRef. */
function isExpressionDocument(v: unknown, allowIncompleteDBRef: boolean): v is Document {
  if (!isPlainDocument(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys[0]!.startsWith('$') && !isDBRefDocument(v, allowIncompleteDBRef);
}

class ValidatorParser {
  /** What unannotated nodes stand for, for mongod's "no annotation found for expression ..." note. */
  readonly described = new WeakMap<AnnotatedNode, string>();

  constructor(private readonly options: ValidatorOptions) {}

  /** A node matched by the filter matcher on `filter` (which the caller has checked). */
  private leaf(kind: AnnotatedKind, path: string, annotation: ErrorAnnotation | undefined, filter: Document, children: readonly AnnotatedNode[] = []): AnnotatedNode {
    const compiled = compileQuery(filter, { now: this.options.now });
    return node(kind, path, annotation, children, (doc) => compiled.matches(doc as Document));
  }

  private unannotated(kind: AnnotatedKind, filter: Document, description: Document): AnnotatedNode {
    const result = this.leaf(kind, '', undefined, filter);
    this.described.set(result, bsonText(description));
    return result;
  }

  /** parse(): a filter document, the AND of its clauses (one clause stands alone). */
  parse(filter: Document, level: Level): AnnotatedNode {
    const children: AnnotatedNode[] = [];
    for (const key of Object.keys(filter)) {
      const value = filter[key];
      if (key.startsWith('$')) {
        const clause = this.pathless(key, value, level);
        if (clause !== undefined) children.push(clause);
      } else if (isExpressionDocument(value, false)) {
        children.push(...this.parseSub(key, value));
      } else if (bsonTypeOf(value) === BSON_TYPE.regex) {
        children.push(this.leaf('regex', key, annotate('$regex', { [key]: value }), { [key]: value }));
      } else {
        children.push(this.leaf('eq', key, annotate('$eq', { [key]: value }), { [key]: value }));
      }
    }
    return children.length === 1 ? children[0]! : andOf(annotate('$and'), children);
  }

  private pathless(key: string, value: unknown, level: Level): AnnotatedNode | undefined {
    switch (key) {
      case '$and':
      case '$or':
      case '$nor': {
        if (!Array.isArray(value)) throw badValue(`${key} must be an array`);
        if (value.length === 0) throw badValue('$and/$or/$nor must be a nonempty array');
        const clauses = value.map((entry) => {
          if (objectKind(entry) === 0) throw badValue('$or/$and/$nor entries need to be full objects');
          return this.parse(objectKind(entry) === 2 ? dbrefDocument(entry) : (entry as Document), level);
        });
        const annotation = annotate(key);
        if (key === '$and') return andOf(annotation, clauses);
        if (key === '$or') return orOf(annotation, clauses);
        return node('nor', '', annotation, clauses, (doc) => !clauses.some((c) => c.matches(doc)));
      }
      case '$comment':
        return undefined;
      case '$where':
        throw badValue('$where is not allowed in this context');
      case '$text':
        if (level === 'sub') throw badValue('$text can only be applied to the top-level document');
        throw badValue('$text is not allowed in this context');
      case '$jsonSchema':
        return parseJsonSchema(value, { encryptKeywordsAllowed: this.options.encryptKeywordsAllowed });
      case '$expr':
        return this.expr(value);
      case '$alwaysTrue':
      case '$alwaysFalse':
        return this.unannotated(key === '$alwaysTrue' ? 'alwaysTrue' : 'alwaysFalse', { [key]: value }, { [key]: new Int32(1) });
      case '$sampleRate': {
        compileQuery({ [key]: value });
        const rate = numberAsDouble(value);
        if (rate === 0 || rate === 1) {
          return node('expr', '', annotate('$sampleRate', { $sampleRate: value }), [], () => rate === 1, { evaluate: () => rate === 1 });
        }
        return this.unannotated('expr', { [key]: value }, { [key]: value });
      }
      case '$id':
      case '$ref':
      case '$db':
        return this.unannotated('eq', { [key]: value }, { [key]: { $eq: value } });
      default:
        // Unknown and internal operators: the matcher's errors.
        compileQuery({ [key]: value });
        return undefined;
    }
  }

  private expr(value: unknown): AnnotatedNode {
    const exprNode = this.leaf('expr', '', annotate('$expr', { $expr: value }), { $expr: value });
    let evaluate: (doc: Document) => unknown = () => undefined;
    try {
      const compiled = compileExpression(value);
      const now = this.options.now;
      evaluate = (doc) => compiled.evaluate(scopeFor(doc, now ?? new Date()));
    } catch (err) {
      // An expression the evaluator leaves to mingo matches there; its value is not reported.
      if (!(err instanceof MongoError && err.code === ErrorCodes.CommandNotSupported)) throw err;
    }
    return { ...exprNode, evaluate };
  }

  /** parseSub: the operators of one field, each a clause of the enclosing AND. */
  private parseSub(path: string, sub: Document): AnnotatedNode[] {
    const keys = Object.keys(sub);
    const nearAt = keys.findIndex((k) => GEO_NEAR.has(k));
    if (nearAt === 0 && (Array.isArray(sub[keys[0]!]) || objectKind(sub[keys[0]!]) !== 0)) {
      throw new MongoError(LocationCodes.GeoNearNotAllowed, '$geoNear, $near, and $nearSphere are not allowed in this context');
    }
    if (nearAt >= 0) {
      // The operators before the misplaced $near are parsed (and refused) first.
      const before: Document = {};
      for (const k of keys.slice(0, nearAt)) before[k] = sub[k];
      if (nearAt > 0) compileQuery({ [path]: before });
      throw badValue(`near must be first in: ${bsonText(sub)}`);
    }
    // The matcher checks the whole operator document (mongod's errors, in its order).
    compileQuery({ [path]: sub }, { now: this.options.now });
    const clauses: AnnotatedNode[] = [];
    for (const op of keys) {
      const clause = this.subField(path, op, sub[op], sub);
      if (clause !== undefined) clauses.push(clause);
    }
    return clauses;
  }

  /** parseSubField: one operator of a field. */
  private subField(path: string, op: string, arg: unknown, context: Document): AnnotatedNode | undefined {
    const specified = annotate(op, { [path]: { [op]: arg } });
    const comparison = COMPARISONS[op];
    if (comparison !== undefined) return this.leaf(comparison, path, specified, { [path]: { [op]: arg } });
    switch (op) {
      case '$not':
        return this.not(path, arg);
      case '$ne':
        return notOf(IGNORE_BUT_DESCEND, this.leaf('eq', path, specified, { [path]: { $eq: arg } }));
      case '$in':
        return this.leaf('in', path, specified, { [path]: { $in: arg } });
      case '$nin':
        return notOf(IGNORE_BUT_DESCEND, this.leaf('in', path, specified, { [path]: { $in: arg } }));
      case '$exists': {
        const exists = this.leaf('exists', path, specified, { [path]: { $exists: true } });
        return trueValue(arg) ? exists : notOf(IGNORE_BUT_DESCEND, exists);
      }
      case '$size':
        return this.leaf('size', path, specified, { [path]: { $size: arg } });
      case '$type':
        return this.leaf('type', path, specified, { [path]: { $type: arg } });
      case '$mod':
        return this.leaf('mod', path, specified, { [path]: { $mod: arg } });
      case '$options':
        return undefined;
      case '$regex': {
        const regex: Document = { $regex: context.$regex };
        if (Object.hasOwn(context, '$options')) regex.$options = context.$options;
        return this.leaf('regex', path, annotate('$regex', { [path]: context }), { [path]: regex });
      }
      case '$elemMatch': {
        const first = isPlainDocument(arg) ? Object.keys(arg)[0] : undefined;
        const valueForm = isExpressionDocument(arg, true) && !PATHLESS_ELEM_MATCH.has(first!);
        return this.leaf(valueForm ? 'elemMatchValue' : 'elemMatchObject', path, specified, { [path]: { $elemMatch: arg } });
      }
      case '$all': {
        if ((arg as unknown[]).length === 0) return always(false, specified);
        // Reported as one leaf on the field: its clauses are not explained one by one.
        const placeholder = node('eq', path, IGNORE, [], () => true);
        return this.leaf('and', path, specified, { [path]: { $all: arg } }, [placeholder]);
      }
      default:
        if (BITS.has(op)) return this.leaf('bits', path, specified, { [path]: { [op]: arg } });
        return this.leaf('internal', path, undefined, { [path]: { [op]: arg } });
    }
  }

  /** parseNot: NOT of a regex, or of the AND of the operators (one operator stands for the AND). */
  private not(path: string, arg: unknown): AnnotatedNode {
    if (bsonTypeOf(arg) === BSON_TYPE.regex) {
      return notOf(annotate('$not'), this.leaf('regex', path, annotate('$regex', { [path]: arg }), { [path]: arg }));
    }
    const clauses = this.parseSub(path, objectKind(arg) === 2 ? dbrefDocument(arg) : (arg as Document));
    return notOf(annotate('$not'), andOf(clauses.length === 1 ? IGNORE_BUT_DESCEND : annotate('$and'), clauses));
  }
}

/**
 * Parses a validator (a non-empty filter document). Throws mongod's parse errors (the `create`
 * command answers them as they are; collMod adds its context).
 */
export function compileValidator(validator: Document, options: ValidatorOptions): CompiledValidator {
  const parser = new ValidatorParser(options);
  const root = parser.parse(validator, 'top');
  const matches = (doc: Document): boolean => {
    try {
      return root.matches(doc);
    } catch (err) {
      if (err instanceof MongoError) return false;
      throw err;
    }
  };
  return {
    matches,
    errorInfo: (doc) => validationErrorInfo(root, doc, (n) => parser.described.get(n) ?? ''),
  };
}
