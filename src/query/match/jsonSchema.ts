/**
 * $jsonSchema (src/mongo/db/matcher/schema/json_schema_parser.cpp): a JSON Schema translated into
 * mongod's match expression tree, keyword by keyword, with mongod's codes and texts for bad
 * schemas, evaluated on the stored BSON values (numbers exactly: comparisons through the matcher's
 * comparison test, multipleOf in Decimal128). The tree is the annotated one (annotated.ts), so
 * that a collection validator's failures can be explained as mongod explains them.
 *
 * Supported: type, bsonType, required, properties, additionalProperties, patternProperties,
 * minimum/maximum (+ exclusiveMinimum/exclusiveMaximum), multipleOf, minLength/maxLength, pattern,
 * enum, items/additionalItems, minItems/maxItems, uniqueItems, minProperties/maxProperties,
 * dependencies, allOf/anyOf/oneOf/not, title/description. Refused as mongod refuses them: $ref,
 * $schema, default, definitions, format, id ("not currently supported"), type "integer", unknown
 * keywords. encrypt/encryptMetadata: mongod's QueryFeatureNotAllowed where it bans them (warn and
 * moderate validators), else 115 (pocketmongo does not do client-side field level encryption).
 *
 * As in mongod, a keyword that restricts one type (maxItems for arrays) holds for values of other
 * types, and for missing ones: it becomes (OR (NOT (type T)) restriction), unless the schema's
 * own single type decides it; keywords on embedded documents apply through an object match on
 * the property, and sub-schemas for array items and property values match {i: value}.
 */
import type { Document } from 'bson';
import { canonicalKey } from '../../bson/bsonOrder.js';
import { typeName } from '../../bson/typeName.js';
import { ErrorCodes, MongoError } from '../../errors.js';
import { decimalEquals, decimalIsNegative, decimalIsZero, decimalRemainder } from '../decimal128.js';
import { toDecimal, type BsonNumber } from '../numeric.js';
import { badValue, failedToParse, notSupported, typeMismatch } from '../queryErrors.js';
import { compileRegex } from '../regex.js';
import {
  always,
  andOf,
  annotate,
  fieldNames,
  IGNORE,
  IGNORE_BUT_DESCEND,
  node,
  notOf,
  orOf,
  placeholderDocument,
  PLACEHOLDER,
  type AnnotatedKind,
  type AnnotatedNode,
  type ErrorAnnotation,
} from './annotated.js';
import { comparisonTest, type ComparisonOp } from './comparison.js';
import { TYPE_ALIASES } from './element.js';
import { existsTest } from './element.js';
import { regexTest } from './evaluation.js';
import { pathLeaf, type MatchNode, type Test } from './node.js';
import { bsonTypeOf, BSON_TYPE, dbrefDocument, defineField, getField, isNumberType, isPrototypeName, MISSING, objectKind, parseIntegerElement } from './values.js';

export interface JsonSchemaOptions {
  /** Whether encrypt/encryptMetadata may appear (mongod's kEncryptKeywords feature). */
  readonly encryptKeywordsAllowed: boolean;
}

const KEYWORDS = new Set([
  'additionalItems',
  'additionalProperties',
  'allOf',
  'anyOf',
  'bsonType',
  'dependencies',
  'description',
  'encrypt',
  'encryptMetadata',
  'enum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'items',
  'maxItems',
  'maxLength',
  'maxProperties',
  'maximum',
  'minItems',
  'minLength',
  'minProperties',
  'minimum',
  'multipleOf',
  'not',
  'oneOf',
  'pattern',
  'patternProperties',
  'properties',
  'required',
  'title',
  'type',
  'uniqueItems',
]);

const UNSUPPORTED_KEYWORDS = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);

/** The `type` keyword's names (MatcherTypeSet::kJsonSchemaTypeAliasMap); "number" is every numeric type. */
const JSON_TYPE_ALIASES: Readonly<Record<string, number>> = {
  array: BSON_TYPE.array,
  boolean: BSON_TYPE.bool,
  null: BSON_TYPE.null,
  object: BSON_TYPE.object,
  string: BSON_TYPE.string,
};


/** A MatcherTypeSet: BSON type codes, and "number" (every numeric type). */
interface TypeSet {
  readonly types: ReadonlySet<number>;
  readonly allNumbers: boolean;
}

/** The one type a restriction applies to: a BSON type code, or every number. */
type Restricted = number | 'number';

function hasType(set: TypeSet, t: number): boolean {
  return set.types.has(t) || (set.allNumbers && isNumberType(t));
}

function isSingleType(set: TypeSet): boolean {
  return set.allNumbers ? set.types.size === 0 : set.types.size === 1;
}

/** A keyword value as mongod names its type in errors ("string", "int", "object" ...). */
function typeOf(v: unknown): string {
  return typeName(v);
}

function isObject(v: unknown): v is Document {
  return objectKind(v) !== 0;
}

function asDocument(v: unknown): Document {
  return objectKind(v) === 2 ? dbrefDocument(v) : (v as Document);
}

function isNumber(v: unknown): boolean {
  return isNumberType(bsonTypeOf(v));
}

/** A path expression: `test` on the values at `path` (with or without a leaf array's items). */
function pathNode(
  kind: AnnotatedKind,
  path: string,
  annotation: ErrorAnnotation | undefined,
  test: Test,
  leafArrays: 'traverse' | 'whole',
  children: readonly AnnotatedNode[] = [],
  extra: Partial<AnnotatedNode> = {},
): AnnotatedNode {
  const leaf = pathLeaf(path, test, leafArrays);
  return node(kind, path, annotation, children, (doc) => leaf.matches(doc, null), extra);
}

function typeNode(path: string, set: TypeSet, annotation: ErrorAnnotation): AnnotatedNode {
  return pathNode('schemaType', path, annotation, (e) => e !== MISSING && hasType(set, bsonTypeOf(e)), 'whole');
}

function existsNode(path: string, annotation: ErrorAnnotation): AnnotatedNode {
  return pathNode('exists', path, annotation, existsTest, 'traverse');
}

/** InternalSchemaObjectMatch: the value at `path` is a document that `sub` matches. */
function objectMatch(path: string, sub: AnnotatedNode, annotation: ErrorAnnotation = IGNORE_BUT_DESCEND): AnnotatedNode {
  return pathNode('objectMatch', path, annotation, (e) => isObject(e) && sub.matches(e), 'whole', [sub]);
}

/**
 * makeRestriction: a keyword that applies to one type holds for values of other types. When the
 * schema states one type, the restriction applies as is (same type) or not at all.
 */
function restrict(type: Restricted, path: string, restriction: AnnotatedNode, stated: TypeSet | undefined): AnnotatedNode {
  if (stated !== undefined && isSingleType(stated)) {
    const statedType = stated.allNumbers ? BSON_TYPE.int : [...stated.types][0]!;
    const applies = type === 'number' ? isNumberType(statedType) : statedType === type;
    return applies ? restriction : always(true, IGNORE);
  }
  const set: TypeSet = type === 'number' ? { types: new Set(), allNumbers: true } : { types: new Set([type]), allNumbers: false };
  return orOf(IGNORE_BUT_DESCEND, [notOf(IGNORE, typeNode(path, set, IGNORE)), restriction]);
}

/** A document with fields in name order at every level, for comparisons that ignore field order. */
function unordered(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unordered);
  if (!isObject(v)) return v;
  const doc = asDocument(v);
  const out: Document = {};
  for (const key of Object.keys(doc).sort()) defineField(out, key, unordered(doc[key]));
  return out;
}

/** A key equal for values equal under UnorderedFieldsBSONElementComparator. */
function unorderedKey(v: unknown): string {
  return canonicalKey(unordered(v));
}

/** The first item equal (field order ignored) to an earlier one; MISSING when all differ. */
function firstDuplicate(items: readonly unknown[]): unknown {
  const seen = new Set<string>();
  for (const item of items) {
    const key = unorderedKey(item);
    if (seen.has(key)) return item;
    seen.add(key);
  }
  return MISSING;
}

/** JSONSchemaParser::parseTypeSet, then MatcherTypeSet::fromStringAliases (aliases in name order). */
function parseTypeSet(keyword: string, value: unknown, aliases: Readonly<Record<string, number>>): TypeSet {
  if (typeof value !== 'string' && !Array.isArray(value)) {
    throw typeMismatch(`$jsonSchema keyword '${keyword}' must be either a string or an array of strings`);
  }
  const names = new Set<string>();
  for (const entry of Array.isArray(value) ? value : [value]) {
    if (typeof entry !== 'string') throw typeMismatch(`$jsonSchema keyword '${keyword}' array elements must be strings`);
    if (entry === 'integer') throw failedToParse("$jsonSchema type 'integer' is not currently supported.");
    if (names.has(entry)) throw failedToParse(`$jsonSchema keyword '${keyword}' has duplicate value: ${entry}`);
    names.add(entry);
  }
  const types = new Set<number>();
  let allNumbers = false;
  for (const name of [...names].sort(compareBytes)) {
    if (name === 'number') allNumbers = true;
    else if (Object.hasOwn(aliases, name)) types.add(aliases[name]!);
    else throw badValue(`Unknown type name alias: ${name}`);
  }
  if (types.size === 0 && !allNumbers) throw failedToParse(`$jsonSchema keyword '${keyword}' must name at least one type`);
  return { types, allNumbers };
}

/** std::set<StringData> order: bytewise (UTF-8). */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** parseIntegerElementToNonNegativeLong for a length keyword. */
function nonNegativeLong(keyword: string, value: unknown): number {
  const n = parseIntegerElement(keyword, value, 'nonNegativeLong');
  if (typeof n === 'string') throw failedToParse(n);
  return Number(n);
}

/** One schema object's keywords, checked as the keyword map is filled. */
class Keywords {
  private readonly map = new Map<string, unknown>();

  constructor(readonly schema: Document) {
    for (const key of Object.keys(schema)) {
      if (!KEYWORDS.has(key)) {
        if (UNSUPPORTED_KEYWORDS.has(key)) throw failedToParse(`$jsonSchema keyword '${key}' is not currently supported`);
        throw failedToParse(`Unknown $jsonSchema keyword: ${key}`);
      }
      this.map.set(key, schema[key]);
    }
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): unknown {
    return this.map.get(key);
  }
}

/** The parser state: the options and the schema being translated. */
class SchemaParser {
  constructor(private readonly options: JsonSchemaOptions) {}

  /** _parse: a schema at `path` ("" for the top level) as an AND of its keywords. */
  parse(path: string, schema: Document): AnnotatedNode {
    const k = new Keywords(schema);
    for (const key of ['description', 'title']) {
      if (k.has(key) && typeof k.get(key) !== 'string') throw typeMismatch(`$jsonSchema keyword '${key}' must be of type string`);
    }
    if (k.has('type') && k.has('bsonType')) throw failedToParse("Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
    for (const typeKeyword of ['type', 'bsonType']) {
      if (k.has(typeKeyword) && k.has('encrypt')) {
        throw failedToParse(
          `$jsonSchema keyword 'encrypt' cannot be used in conjunction with '${typeKeyword}', 'encrypt' implies type 'bsonType::BinData'`,
        );
      }
    }
    let stated: TypeSet | undefined;
    let statedNode: AnnotatedNode | undefined;
    for (const [keyword, aliases] of [
      ['type', JSON_TYPE_ALIASES],
      ['bsonType', TYPE_ALIASES],
    ] as const) {
      if (!k.has(keyword)) continue;
      stated = parseTypeSet(keyword, k.get(keyword), aliases);
      statedNode = typeNode(path, stated, annotate(keyword, { [keyword]: k.get(keyword) }));
    }
    const children: AnnotatedNode[] = [];
    this.scalarKeywords(k, path, stated, children);
    this.arrayKeywords(k, path, stated, children);
    this.encryptionKeywords(k);
    this.objectKeywords(k, path, stated, children);
    this.logicalKeywords(k, path, children);
    if (path === '' && stated !== undefined && !hasType(stated, BSON_TYPE.object)) {
      // Only documents are stored: a top-level schema of another type matches nothing.
      return always(false, annotate('$jsonSchema', { $jsonSchema: schema }));
    }
    if (path !== '' && statedNode !== undefined) children.push(statedNode);
    return andOf(annotate('_subschema', {}, schema), children);
  }

  /** A nested schema, which must be an object (`error` otherwise). */
  private nested(path: string, value: unknown, error: () => MongoError): AnnotatedNode {
    if (!isObject(value)) throw error();
    return this.parse(path, asDocument(value));
  }

  private scalarKeywords(k: Keywords, path: string, stated: TypeSet | undefined, out: AnnotatedNode[]): void {
    if (k.has('pattern')) {
      const pattern = k.get('pattern');
      if (typeof pattern !== 'string') throw typeMismatch("$jsonSchema keyword 'pattern' must be a string");
      const annotation = annotate('pattern', { pattern });
      out.push(path === '' ? always(true, annotation) : restrict(BSON_TYPE.string, path, pathNode('regex', path, annotation, regexTest(pattern, ''), 'traverse'), stated));
    }
    for (const [keyword, max] of [
      ['maxLength', true],
      ['minLength', false],
    ] as const) {
      if (!k.has(keyword)) continue;
      const value = k.get(keyword);
      const n = nonNegativeLong(keyword, value);
      const annotation = annotate(keyword, { [keyword]: value });
      if (path === '') {
        out.push(always(true, annotation));
        continue;
      }
      const test: Test = (e) => typeof e === 'string' && (max ? [...e].length <= n : [...e].length >= n);
      out.push(restrict(BSON_TYPE.string, path, pathNode('strLength', path, annotation, test, 'traverse'), stated));
    }
    if (k.has('multipleOf')) {
      const value = k.get('multipleOf');
      if (!isNumber(value)) throw typeMismatch("$jsonSchema keyword 'multipleOf' must be a number");
      const divisor = toDecimal(value as BsonNumber);
      if (decimalIsNegative(divisor) || decimalIsZero(divisor)) throw failedToParse("$jsonSchema keyword 'multipleOf' must have a positive value");
      const annotation = annotate('multipleOf', { multipleOf: value });
      if (path === '') out.push(always(true, annotation));
      else {
        const zero = toDecimal(0);
        const test: Test = (e) => isNumber(e) && decimalEquals(decimalRemainder(toDecimal(e as BsonNumber), divisor), zero);
        out.push(restrict('number', path, pathNode('fmod', path, annotation, test, 'traverse'), stated));
      }
    }
    this.bound(k, path, stated, out, 'maximum', 'exclusiveMaximum');
    this.bound(k, path, stated, out, 'minimum', 'exclusiveMinimum');
  }

  /** maximum / minimum with their exclusive flags (parseMaximum, parseMinimum). */
  private bound(k: Keywords, path: string, stated: TypeSet | undefined, out: AnnotatedNode[], keyword: 'maximum' | 'minimum', exclusiveKeyword: string): void {
    if (!k.has(keyword)) {
      if (k.has(exclusiveKeyword)) {
        throw failedToParse(`$jsonSchema keyword '${keyword}' must be a present if ${exclusiveKeyword} is present`);
      }
      return;
    }
    let exclusive = false;
    if (k.has(exclusiveKeyword)) {
      const flag = k.get(exclusiveKeyword);
      if (typeof flag !== 'boolean') throw typeMismatch(`$jsonSchema keyword '${exclusiveKeyword}' must be a boolean`);
      exclusive = flag;
    }
    const value = k.get(keyword);
    if (!isNumber(value)) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a number`);
    const annotation = annotate(keyword, exclusive ? { [keyword]: value, [exclusiveKeyword]: true } : { [keyword]: value });
    if (path === '') {
      out.push(always(true, annotation));
      return;
    }
    const op: ComparisonOp = keyword === 'maximum' ? (exclusive ? '$lt' : '$lte') : exclusive ? '$gt' : '$gte';
    const kind = op.slice(1) as AnnotatedKind;
    out.push(restrict('number', path, pathNode(kind, path, annotation, comparisonTest(op, value, undefined), 'traverse'), stated));
  }

  private arrayKeywords(k: Keywords, path: string, stated: TypeSet | undefined, out: AnnotatedNode[]): void {
    for (const [keyword, max] of [
      ['minItems', false],
      ['maxItems', true],
    ] as const) {
      if (!k.has(keyword)) continue;
      const value = k.get(keyword);
      const n = nonNegativeLong(keyword, value);
      const annotation = annotate(keyword, { [keyword]: value });
      if (path === '') {
        out.push(always(true, annotation));
        continue;
      }
      const test: Test = (e) => Array.isArray(e) && (max ? e.length <= n : e.length >= n);
      out.push(restrict(BSON_TYPE.array, path, pathNode('numItems', path, annotation, test, 'whole'), stated));
    }
    if (k.has('uniqueItems')) {
      const value = k.get('uniqueItems');
      const annotation = annotate('uniqueItems', { uniqueItems: value });
      if (typeof value !== 'boolean') throw typeMismatch("$jsonSchema keyword 'uniqueItems' must be a boolean");
      if (path === '' || !value) out.push(always(true, annotation));
      else {
        const test: Test = (e) => Array.isArray(e) && firstDuplicate(e) === MISSING;
        out.push(restrict(BSON_TYPE.array, path, pathNode('uniqueItems', path, annotation, test, 'whole', [], { firstDuplicate }), stated));
      }
    }
    let additionalFrom: number | undefined;
    if (k.has('items')) additionalFrom = this.items(k.get('items'), path, stated, out);
    if (k.has('additionalItems')) this.additionalItems(k.get('additionalItems'), path, additionalFrom, stated, out);
  }

  /** items: one schema for every item, or one per position; returns where additionalItems starts. */
  private items(items: unknown, path: string, stated: TypeSet | undefined, out: AnnotatedNode[]): number | undefined {
    const annotation = annotate('items', { items });
    if (Array.isArray(items)) {
      const positions = items.map((schema, index) => {
        if (!isObject(schema)) {
          throw typeMismatch(`$jsonSchema keyword 'items' requires that each element of the array is an object, but found a ${typeOf(schema)}`);
        }
        const sub = this.parse(PLACEHOLDER, asDocument(schema));
        const test: Test = (e) => Array.isArray(e) && (index >= e.length || sub.matches(placeholderDocument(e[index])));
        return pathNode('matchArrayIndex', path, annotate(''), test, 'whole', [sub], { arrayIndex: index });
      });
      if (path === '') out.push(always(true, annotation));
      else out.push(restrict(BSON_TYPE.array, path, andOf(annotation, positions), stated));
      return items.length;
    }
    if (isObject(items)) {
      const sub = this.parse(PLACEHOLDER, asDocument(items));
      out.push(path === '' ? always(true, annotation) : restrict(BSON_TYPE.array, path, allItems(path, 0, sub, annotation), stated));
      return undefined;
    }
    throw typeMismatch(`$jsonSchema keyword 'items' must be an array or an object, not ${typeOf(items)}`);
  }

  private additionalItems(value: unknown, path: string, from: number | undefined, stated: TypeSet | undefined, out: AnnotatedNode[]): void {
    let otherwise: AnnotatedNode;
    if (typeof value === 'boolean') otherwise = always(value, IGNORE);
    else if (isObject(value)) otherwise = this.parse(PLACEHOLDER, asDocument(value));
    else throw typeMismatch(`$jsonSchema keyword 'additionalItems' must be either an object or a boolean, but got a ${typeOf(value)}`);
    // Without an array of `items`, every item is described: additionalItems has nothing to add.
    if (from === undefined) return;
    const annotation = annotate('additionalItems', { additionalItems: value });
    out.push(path === '' ? always(true, annotation) : restrict(BSON_TYPE.array, path, allItems(path, from, otherwise, annotation), stated));
  }

  private encryptionKeywords(k: Keywords): void {
    const encrypt = k.has('encrypt');
    const metadata = k.has('encryptMetadata');
    if (!encrypt && !metadata) return;
    if (!this.options.encryptKeywordsAllowed) {
      throw new MongoError(ErrorCodes.QueryFeatureNotAllowed, 'Encryption-related validator keywords are not allowed in this context');
    }
    if (encrypt && metadata) throw failedToParse("Cannot specify both $jsonSchema keywords 'encrypt' and 'encryptMetadata'");
    throw notSupported('the $jsonSchema encryption keywords (encrypt, encryptMetadata)');
  }

  private objectKeywords(k: Keywords, path: string, stated: TypeSet | undefined, out: AnnotatedNode[]): void {
    const required = k.has('required') ? parseRequired(k.get('required')) : new Set<string>();
    const inObject = (sub: AnnotatedNode): AnnotatedNode => (path === '' ? sub : restrict(BSON_TYPE.object, path, objectMatch(path, sub), stated));
    if (k.has('properties')) {
      const properties = k.get('properties');
      if (!isObject(properties)) throw typeMismatch("$jsonSchema keyword 'properties' must be an object");
      const doc = asDocument(properties);
      const clauses = Object.keys(doc).map((name) => {
        const sub = this.nested(name, doc[name], () => typeMismatch(`Nested schema for $jsonSchema property '${name}' must be an object`));
        sub.annotation = annotate('_property', { propertyName: name }, asDocument(doc[name]));
        // A property that is not required either is missing or matches its schema.
        return required.has(name) ? sub : orOf(IGNORE_BUT_DESCEND, [notOf(IGNORE, existsNode(name, IGNORE)), sub]);
      });
      out.push(inObject(andOf(annotate('properties'), clauses)));
    }
    if (k.has('patternProperties') || k.has('additionalProperties')) out.push(inObject(this.allowedProperties(k)));
    if (required.size > 0) {
      const names = [...required].sort(compareBytes);
      out.push(inObject(andOf(annotate('required', { required: k.get('required') }), names.map((name) => existsNode(name, annotate('_propertyExists'))))));
    }
    for (const [keyword, max] of [
      ['minProperties', false],
      ['maxProperties', true],
    ] as const) {
      if (!k.has(keyword)) continue;
      const value = k.get(keyword);
      const n = nonNegativeLong(keyword, value);
      const count = (doc: unknown): boolean => (max ? fieldNames(doc).length <= n : fieldNames(doc).length >= n);
      out.push(inObject(node('numProperties', '', annotate(keyword, { [keyword]: value }), [], count)));
    }
    if (k.has('dependencies')) out.push(this.dependencies(k.get('dependencies'), path));
  }

  /** additionalProperties and patternProperties: one node over the document's fields (parseAllowedProperties). */
  private allowedProperties(k: Keywords): AnnotatedNode {
    const names = new Set<string>(k.has('properties') ? Object.keys(asDocument(k.get('properties'))) : []);
    const patterns: Array<{ source: string; regex: RegExp }> = [];
    const patternSchemas: AnnotatedNode[] = [];
    if (k.has('patternProperties')) {
      const value = k.get('patternProperties');
      if (!isObject(value)) throw typeMismatch("$jsonSchema keyword 'patternProperties' must be an object");
      const doc = asDocument(value);
      for (const source of Object.keys(doc)) {
        const sub = this.nested(PLACEHOLDER, doc[source], () =>
          typeMismatch(`$jsonSchema keyword 'patternProperties' has property '${source}' which is not an object`),
        );
        patterns.push({ source, regex: compileRegex(source, '') });
        patternSchemas.push(sub);
      }
    }
    let otherwise: AnnotatedNode = always(true, IGNORE);
    let annotation = annotate('');
    if (k.has('additionalProperties')) {
      const value = k.get('additionalProperties');
      if (typeof value === 'boolean') otherwise = always(value, IGNORE);
      else if (isObject(value)) otherwise = this.parse(PLACEHOLDER, asDocument(value));
      else throw typeMismatch("$jsonSchema keyword 'additionalProperties' must be an object or a boolean");
      annotation = annotate('', { additionalProperties: value });
    }
    const matches = (doc: unknown): boolean => {
      for (const name of fieldNames(doc)) {
        const value = placeholderDocument(getField(doc, name, isPrototypeName(name)));
        let described = names.has(name);
        for (let i = 0; i < patterns.length; i++) {
          if (!patterns[i]!.regex.test(name)) continue;
          described = true;
          if (!patternSchemas[i]!.matches(value)) return false;
        }
        if (!described && !otherwise.matches(value)) return false;
      }
      return true;
    };
    return node('allowedProperties', '', annotation, [otherwise, ...patternSchemas], matches, { properties: names, patterns });
  }

  private dependencies(value: unknown, path: string): AnnotatedNode {
    if (!isObject(value)) throw typeMismatch("$jsonSchema keyword 'dependencies' must be an object");
    const doc = asDocument(value);
    const clauses: AnnotatedNode[] = [];
    for (const name of Object.keys(doc)) {
      const dependency = doc[name];
      const present = dependencyExists(path, name, IGNORE);
      if (Array.isArray(dependency)) {
        clauses.push(cond(present, this.propertyDependency(path, name, dependency), annotate('_propertyDependency', { [name]: dependency })));
      } else if (isObject(dependency)) {
        clauses.push(cond(present, this.parse(path, asDocument(dependency)), annotate('_schemaDependency', { [name]: dependency })));
      } else if (!(typeof dependency === 'string' && (name === 'title' || name === 'description'))) {
        // A string title or description among the dependencies is an annotation.
        throw typeMismatch(`property '${name}' in $jsonSchema keyword 'dependencies' must be either an object or an array`);
      }
    }
    return andOf(annotate('dependencies', {}, doc), clauses);
  }

  private propertyDependency(path: string, name: string, properties: readonly unknown[]): AnnotatedNode {
    if (properties.length === 0) throw failedToParse(`property '${name}' in $jsonSchema keyword 'dependencies' cannot be an empty array`);
    const seen = new Set<string>();
    const clauses = properties.map((property) => {
      if (typeof property !== 'string') {
        throw typeMismatch(`array '${name}' in $jsonSchema keyword 'dependencies' can only contain strings, but found element of type: ${typeOf(property)}`);
      }
      if (seen.has(property)) throw failedToParse(`array '${name}' in $jsonSchema keyword 'dependencies' contains duplicate element: ${property}`);
      seen.add(property);
      return dependencyExists(path, property, annotate('_propertyExists'));
    });
    return andOf(annotate('_propertiesExistList', { [name]: properties }), clauses);
  }

  private logicalKeywords(k: Keywords, path: string, out: AnnotatedNode[]): void {
    for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (!k.has(keyword)) continue;
      const value = k.get(keyword);
      if (!Array.isArray(value)) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be an array`);
      if (value.length === 0) throw badValue(`$jsonSchema keyword '${keyword}' must be a non-empty array`);
      const subs = value.map((schema) =>
        this.nested(path, schema, () => typeMismatch(`$jsonSchema keyword '${keyword}' must be an array of objects, but found an element of type ${typeOf(schema)}`)),
      );
      const annotation = annotate(keyword);
      if (keyword === 'allOf') out.push(andOf(annotation, subs));
      else if (keyword === 'anyOf') out.push(orOf(annotation, subs));
      else out.push(node('xor', '', annotation, subs, (doc) => subs.filter((s) => s.matches(doc)).length === 1));
    }
    if (k.has('not')) {
      const value = k.get('not');
      const sub = this.nested(path, value, () => typeMismatch(`$jsonSchema keyword 'not' must be an object, but found an element of type ${typeOf(value)}`));
      out.push(notOf(annotate('not'), sub));
    }
    if (k.has('enum')) out.push(enumNode(path, k.get('enum')));
  }
}

/** InternalSchemaAllElemMatchFromIndex: every item from `from` on matches `sub` (as {i: item}). */
function allItems(path: string, from: number, sub: AnnotatedNode, annotation: ErrorAnnotation): AnnotatedNode {
  const test: Test = (e) => Array.isArray(e) && e.slice(from).every((item) => sub.matches(placeholderDocument(item)));
  return pathNode('allElemMatchFromIndex', path, annotation, test, 'whole', [sub], { startIndex: from });
}

/** InternalSchemaCond with an always-true else: `then` must hold where `condition` does. */
function cond(condition: AnnotatedNode, then: AnnotatedNode, annotation: ErrorAnnotation): AnnotatedNode {
  const otherwise = always(true, IGNORE);
  return node('cond', '', annotation, [condition, then, otherwise], (doc) => (condition.matches(doc) ? then.matches(doc) : otherwise.matches(doc)));
}

/** makeDependencyExistsClause: the property exists (in the document at `path`, when there is one). */
function dependencyExists(path: string, name: string, annotation: ErrorAnnotation): AnnotatedNode {
  const exists = existsNode(name, annotation);
  return path === '' ? exists : objectMatch(path, exists, annotation.mode === 'ignore' ? IGNORE : IGNORE_BUT_DESCEND);
}

function parseRequired(value: unknown): Set<string> {
  if (!Array.isArray(value)) throw typeMismatch(`$jsonSchema keyword 'required' must be an array, but found an element of type ${typeOf(value)}`);
  const names = new Set<string>();
  for (const name of value) {
    if (typeof name !== 'string') {
      throw typeMismatch(`$jsonSchema keyword 'required' must be an array of strings, but found an element of type: ${typeOf(name)}`);
    }
    if (names.has(name)) throw failedToParse("$jsonSchema keyword 'required' array cannot contain duplicate values");
    names.add(name);
  }
  if (names.size === 0) throw failedToParse("$jsonSchema keyword 'required' cannot be an empty array");
  return names;
}

/** enum: equal (field order ignored) to one of the values; at the top level, only documents can be. */
function enumNode(path: string, value: unknown): AnnotatedNode {
  if (!Array.isArray(value)) throw typeMismatch(`$jsonSchema keyword 'enum' must be an array, but found an element of type ${typeOf(value)}`);
  if (value.length === 0) throw failedToParse("$jsonSchema keyword 'enum' cannot be an empty array");
  const annotation = annotate('enum', { enum: value });
  const seen = new Set<string>();
  const children: AnnotatedNode[] = [];
  for (const item of value) {
    const key = unorderedKey(item);
    if (seen.has(key)) throw failedToParse("$jsonSchema keyword 'enum' array cannot contain duplicate values.");
    seen.add(key);
    if (path !== '') children.push(pathNode('schemaEq', path, IGNORE, (e) => e !== MISSING && unorderedKey(e) === key, 'whole'));
    else if (isObject(item)) children.push(node('rootDocEq', '', IGNORE, [], (doc) => unorderedKey(doc) === key));
  }
  return children.length === 0 ? always(false, annotation) : orOf(annotation, children);
}

/**
 * Parses a $jsonSchema argument into the annotated tree; its root is tagged "$jsonSchema" (with
 * the schema's title and description). Throws mongod's errors for a bad schema.
 */
export function parseJsonSchema(spec: unknown, options: JsonSchemaOptions): AnnotatedNode {
  if (!isObject(spec)) throw typeMismatch('$jsonSchema must be an object');
  const schema = asDocument(spec);
  const root = new SchemaParser(options).parse('', schema);
  root.annotation = annotate('$jsonSchema', root.annotation!.annotation, schema);
  return root;
}

/** $jsonSchema as a filter operator (find, aggregate $match, ...), where mongod allows the encryption keywords. */
export function compileJsonSchema(spec: unknown): MatchNode {
  const root = parseJsonSchema(spec, { encryptKeywordsAllowed: true });
  return { matches: (doc) => root.matches(doc), single: (v) => root.matches(v) };
}
