/**
 * The `errInfo` of DocumentValidationFailure (src/mongo/db/matcher/doc_validation_error.cpp,
 * mongod 5.0+): {failingDocumentId, details}, where details explains why the document failed the
 * validator, node by node of the annotated tree (annotated.ts).
 *
 * As mongod, the tree is walked once with a stack of frames. Each node's frame says whether the
 * node reports (a node whose parent needs to know which children failed asks its own match; a
 * node under a negation reports in the inverted sense: "comparison succeeded"), which document it
 * explains (a property's embedded document, an array item as {i: item}), and gathers an object
 * (operatorName, specifiedAs, reason, consideredValue(s) ...) and an array (its failing clauses).
 * The last finished report travels up to the parent, which files it under its own details field
 * (clausesNotSatisfied, schemaRulesNotSatisfied, propertiesNotSatisfied, details ...).
 *
 * Not done: mongod's truncation of reports over its size limit (the whole report is kept) and its
 * depth limit.
 */
import { Int32, Long, type Document } from 'bson';
import { typeName } from '../../bson/typeName.js';
import { codeNameOf, LocationCodes, MongoError } from '../../errors.js';
import { fieldNames, placeholderDocument, valueAtPath, valuesAtPath, type AnnotatedNode, type LeafArrays } from './annotated.js';
import { bsonTypeOf, BSON_TYPE, getField, isPrototypeName, MISSING, objectKind } from './values.js';

/** mongod's internalQueryMaxDocValidationErrorConsideredValues default. */
const MAX_CONSIDERED_VALUES = 10;

type State = 'error' | 'noError' | 'needChildrenInfo' | 'ignoreChildren';

interface Params {
  readonly doc: unknown;
  readonly inverted: boolean;
}

interface Frame {
  state: State;
  doc: unknown;
  inverted: boolean;
  readonly obj: Document;
  readonly arr: unknown[];
  childIndex: number;
  truncated: boolean;
}

/** A finished report: a detailed object, a path (a missing required property), or a list. */
type Report = { readonly object: Document } | { readonly path: string } | { readonly list: readonly unknown[] };

const NUMBERS = new Set<number>([BSON_TYPE.long, BSON_TYPE.double, BSON_TYPE.decimal, BSON_TYPE.int]);
const ARRAY = new Set<number>([BSON_TYPE.array]);
const STRING = new Set<number>([BSON_TYPE.string]);
const REGEX_SUBJECTS = new Set<number>([BSON_TYPE.string, BSON_TYPE.symbol, BSON_TYPE.regex]);
const BIT_SUBJECTS = new Set<number>([BSON_TYPE.int, BSON_TYPE.long, BSON_TYPE.double, BSON_TYPE.decimal, BSON_TYPE.binData]);

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [BSON_TYPE.double]: 'double',
  [BSON_TYPE.string]: 'string',
  [BSON_TYPE.array]: 'array',
  [BSON_TYPE.binData]: 'binData',
  [BSON_TYPE.regex]: 'regex',
  [BSON_TYPE.symbol]: 'symbol',
  [BSON_TYPE.int]: 'int',
  [BSON_TYPE.long]: 'long',
  [BSON_TYPE.decimal]: 'decimal',
};

/** The details field of a logical node's failing clauses, normal and inverted (by its tag). */
const AND_DETAILS: Readonly<Record<string, readonly [string, string]>> = {
  $and: ['clausesNotSatisfied', 'clausesSatisfied'],
  allOf: ['schemasNotSatisfied', ''],
  properties: ['propertiesNotSatisfied', ''],
  $jsonSchema: ['schemaRulesNotSatisfied', ''],
  _subschema: ['', ''],
  _propertiesExistList: ['', ''],
  items: ['details', ''],
  dependencies: ['failingDependencies', ''],
  required: ['missingProperties', ''],
  _property: ['details', ''],
  '': ['details', ''],
};

const OR_DETAILS: Readonly<Record<string, readonly [string, string]>> = {
  $or: ['clausesNotSatisfied', 'clausesSatisfied'],
  anyOf: ['schemasNotSatisfied', ''],
};

/** The operators whose failing clauses are listed with their index. */
const INDEXED_CLAUSES = new Set(['$and', '$or', '$nor', 'allOf', 'anyOf', 'oneOf']);

function sortedNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function firstValue(doc: Document): unknown {
  const keys = Object.keys(doc);
  return keys.length === 0 ? MISSING : doc[keys[0]!];
}

class Generator {
  private readonly frames: Frame[] = [];
  private latest: Report | undefined;
  private childInput: Params | undefined;

  constructor(private readonly root: Document) {}

  run(node: AnnotatedNode): Report | undefined {
    this.walk(node);
    return this.latest;
  }

  private walk(node: AnnotatedNode): void {
    this.pre(node);
    node.children.forEach((child, i) => {
      if (i > 0) this.between(node);
      this.walk(child);
    });
    this.post(node);
  }

  // ---------------------------------------------------------------------------------------------
  // Frames

  private get top(): Frame {
    return this.frames[this.frames.length - 1]!;
  }

  private push(node: AnnotatedNode): void {
    this.latest = undefined;
    const frame = (state: State, params: Params): void => {
      this.frames.push({ state, doc: params.doc, inverted: params.inverted, obj: {}, arr: [], childIndex: 0, truncated: false });
    };
    if (this.frames.length === 0) {
      frame('error', { doc: this.root, inverted: false });
      return;
    }
    const parent = this.top;
    const params = this.childInput ?? { doc: parent.doc, inverted: parent.inverted };
    this.childInput = undefined;
    if (parent.state === 'noError' || parent.state === 'ignoreChildren' || node.annotation!.mode === 'ignore') {
      frame('noError', params);
    } else if (parent.state === 'needChildrenInfo') {
      let reports: boolean;
      try {
        reports = node.matches(params.doc) === params.inverted;
      } catch {
        reports = true;
      }
      frame(reports ? 'error' : 'noError', params);
    } else {
      frame('error', params);
    }
  }

  private setState(state: State): void {
    if (this.top.state !== 'noError') this.top.state = state;
  }

  private reports(node: AnnotatedNode): boolean {
    return node.annotation!.mode === 'generate' && this.top.state !== 'noError';
  }

  private finish(node: AnnotatedNode): void {
    if (this.reports(node)) {
      const tag = node.annotation!.tag;
      this.latest = tag === '_subschema' || tag === '_propertiesExistList' ? { list: this.top.arr } : { object: this.top.obj };
    }
    this.frames.pop();
  }

  private flip(): void {
    this.top.inverted = !this.top.inverted;
  }

  private input(doc: unknown): void {
    this.childInput = { doc, inverted: this.top.inverted };
  }

  // ---------------------------------------------------------------------------------------------
  // Building the report

  private appendOperatorName(node: AnnotatedNode): void {
    const tag = node.annotation!.tag;
    if (tag !== '') this.top.obj.operatorName = tag;
  }

  private appendDetails(node: AnnotatedNode): void {
    this.appendOperatorName(node);
    this.top.obj.specifiedAs = node.annotation!.annotation;
  }

  private reason(normal: string, inverted: string): void {
    const obj = this.top.obj;
    if (Object.hasOwn(obj, 'reason')) return;
    obj.reason = this.top.inverted ? inverted : normal;
  }

  /** The latest report under `field` of the frame's object. */
  private appendLatestTo(obj: Document): void {
    const latest = this.latest;
    if (latest === undefined) return;
    if ('object' in latest) obj.details = latest.object;
    else if ('list' in latest) obj.details = latest.list;
  }

  /** The latest report as items of the frame's list (a list's items one by one). */
  private appendLatestToList(): void {
    const latest = this.latest;
    if (latest === undefined) return;
    if ('object' in latest) this.top.arr.push(latest.object);
    else if ('path' in latest) this.top.arr.push(latest.path);
    else this.top.arr.push(...latest.list);
  }

  /**
   * The values at `path` in the frame's document (createValuesArray): at most 10, ending at a
   * missing one; undefined when the path does not exist. The empty path is the whole document.
   */
  private values(path: string, leafArrays: LeafArrays): unknown[] | undefined {
    if (path === '') return [this.root];
    const all = valuesAtPath(this.top.doc, path, leafArrays);
    const out: unknown[] = [];
    let i = 0;
    for (; i < all.length && out.length < MAX_CONSIDERED_VALUES; i++) {
      if (all[i] === MISSING) break;
      out.push(all[i]);
    }
    if (out.length === MAX_CONSIDERED_VALUES && i < all.length && all[i] !== MISSING) this.top.truncated = true;
    if (out.length === 0 && valuesAtPath(this.top.doc, path, 'traverse')[0] === MISSING) return undefined;
    return out;
  }

  private missingField(values: unknown[] | undefined): void {
    if (values === undefined) this.top.obj.reason = 'field was missing';
  }

  private typeMismatch(values: unknown[] | undefined, expected: ReadonlySet<number> | undefined): void {
    const obj = this.top.obj;
    if (values === undefined || Object.hasOwn(obj, 'reason') || expected === undefined) return;
    if (values.some((v) => expected.has(bsonTypeOf(v)))) return;
    obj.reason = 'type did not match';
    this.consideredTypes(values);
    const names = sortedNames([...expected].map((t) => TYPE_NAMES[t]!));
    if (names.length === 1) obj.expectedType = names[0];
    else obj.expectedTypes = names;
  }

  private consideredValues(values: unknown[] | undefined): void {
    if (values === undefined) return;
    const obj = this.top.obj;
    if (values.length === 1) obj.consideredValue = values[0];
    else obj.consideredValues = values;
    if (this.top.truncated) obj.consideredValuesTruncated = true;
  }

  private consideredTypes(values: unknown[] | undefined): void {
    if (values === undefined || values.length === 0) return;
    const names = sortedNames(values.map(typeName));
    if (names.length === 1) this.top.obj.consideredType = names[0];
    else this.top.obj.consideredTypes = names;
  }

  /**
   * A JSON Schema keyword reports only on a present value of its own type (other cases are the
   * type keyword's or `required`'s to explain), and never in the inverted sense.
   */
  private keywordValue(node: AnnotatedNode, expected: ReadonlySet<number>): unknown {
    if (!this.reports(node) || this.top.inverted) return MISSING;
    const value = valueAtPath(this.top.doc, node.path);
    return expected.has(bsonTypeOf(value)) ? value : MISSING;
  }

  // ---------------------------------------------------------------------------------------------
  // The shapes of leaf reports

  private pathError(node: AnnotatedNode, normal: string, inverted: string, expected?: ReadonlySet<number>, leafArrays: LeafArrays = 'omitArray', keyword = false): void {
    this.push(node);
    if (!this.reports(node)) return;
    if (keyword && this.keywordValue(node, expected!) === MISSING) {
      this.setState('noError');
      return;
    }
    this.appendDetails(node);
    const values = this.values(node.path, leafArrays);
    this.missingField(values);
    this.typeMismatch(values, expected);
    this.reason(normal, inverted);
    this.consideredValues(values);
  }

  private typeError(node: AnnotatedNode, leafArrays: LeafArrays, keyword: boolean): void {
    this.push(node);
    if (!this.reports(node)) return;
    const values = this.values(node.path, leafArrays);
    if (keyword && values === undefined) {
      this.setState('noError');
      return;
    }
    this.appendDetails(node);
    this.missingField(values);
    this.reason('type did not match', 'type did match');
    this.consideredValues(values);
    this.consideredTypes(values);
  }

  /** $all and enum: logical nodes reported as one leaf on their first child's path. */
  private logicalLeafError(node: AnnotatedNode, normal: string, inverted: string, keyword: boolean): void {
    this.push(node);
    if (!this.reports(node)) return;
    this.appendDetails(node);
    const values = this.values(node.children[0]?.path ?? '', 'none');
    if (keyword && values === undefined) {
      this.setState('noError');
      return;
    }
    this.missingField(values);
    this.reason(normal, inverted);
    this.consideredValues(values);
  }

  private treeStart(node: AnnotatedNode): void {
    this.push(node);
    if (!this.reports(node)) return;
    const { tag, annotation } = node.annotation!;
    if (!tag.startsWith('_')) this.appendOperatorName(node);
    if (tag === 'required') this.top.obj.specifiedAs = annotation;
    else Object.assign(this.top.obj, annotation);
  }

  /** After each child of a logical node: its report joins the node's list. */
  private childDone(node: AnnotatedNode): void {
    const frame = this.top;
    if (this.reports(node) && frame.state !== 'ignoreChildren' && this.latest !== undefined) {
      if (INDEXED_CLAUSES.has(node.annotation!.tag)) {
        const clause: Document = { index: new Int32(frame.childIndex), ...node.children[frame.childIndex]!.annotation!.schema };
        this.appendLatestTo(clause);
        frame.arr.push(clause);
      } else {
        this.appendLatestToList();
      }
    }
    frame.childIndex += 1;
  }

  private treeEnd(node: AnnotatedNode, field: string): void {
    const tag = node.annotation!.tag;
    Object.assign(this.top.obj, node.annotation!.schema);
    this.childDone(node);
    // A `properties` whose failures were all explained elsewhere (a missing required property) adds nothing.
    if (this.reports(node) && (tag === 'properties' || tag === '_property') && this.top.arr.length === 0) this.setState('noError');
    if (this.reports(node) && tag !== '_subschema' && tag !== '_propertiesExistList') this.top.obj[field] = this.top.arr;
    this.finish(node);
  }

  // ---------------------------------------------------------------------------------------------
  // JSON Schema helpers

  private additionalProperties(node: AnnotatedNode): string[] {
    return fieldNames(this.top.doc).filter((name) => !node.properties!.has(name) && !node.patterns!.some((p) => p.regex.test(name)));
  }

  private fieldValue(name: string): unknown {
    return getField(this.top.doc, name, isPrototypeName(name));
  }

  /** The first field of the frame's document that pattern `i` names but its schema refuses. */
  private failingPatternProperty(node: AnnotatedNode, i: number): string | undefined {
    return fieldNames(this.top.doc).find(
      (name) => node.patterns![i]!.regex.test(name) && !node.children[i + 1]!.matches(placeholderDocument(this.fieldValue(name))),
    );
  }

  private allowedPropertiesChildError(node: AnnotatedNode): void {
    const index = this.top.childIndex;
    if (this.latest === undefined) return;
    if (index === 0) {
      if (objectKind(firstValue(node.annotation!.annotation)) === 0) return;
      const otherwise = node.children[0]!;
      const failing = this.additionalProperties(node).find((name) => !otherwise.matches(placeholderDocument(this.fieldValue(name))));
      const obj = this.top.obj;
      obj.operatorName = 'additionalProperties';
      Object.assign(obj, otherwise.annotation!.schema);
      obj.reason = 'at least one additional property did not match the subschema';
      obj.failingProperty = failing;
      this.appendLatestTo(obj);
      return;
    }
    const failing = this.failingPatternProperty(node, index - 1);
    if (!this.reports(node) || failing === undefined) return;
    const report: Document = { propertyName: failing, ...node.children[index]!.annotation!.schema, regexMatched: node.patterns![index - 1]!.source };
    this.appendLatestTo(report);
    this.top.arr.push(report);
  }

  private arraySchemaError(node: AnnotatedNode, normal: string): void {
    this.push(node);
    const items = this.keywordValue(node, ARRAY);
    if (items === MISSING) {
      this.setState('noError');
      return;
    }
    const sub = node.children[0]!;
    this.appendOperatorName(node);
    Object.assign(this.top.obj, sub.annotation!.schema);
    this.reason(normal, '');
    const list = items as readonly unknown[];
    let index = node.startIndex!;
    while (index < list.length && sub.matches(placeholderDocument(list[index]))) index++;
    this.top.obj.itemIndex = new Int32(index);
    this.input(placeholderDocument(list[index]));
  }

  // ---------------------------------------------------------------------------------------------
  // The visits

  private pre(node: AnnotatedNode): void {
    const tag = node.annotation!.tag;
    switch (node.kind) {
      case 'alwaysTrue':
      case 'alwaysFalse':
        this.push(node);
        if (this.reports(node)) {
          this.appendDetails(node);
          this.reason('expression always evaluates to false', 'expression always evaluates to true');
        }
        return;
      case 'and':
        if (tag === '$all') return this.logicalLeafError(node, 'array did not contain all specified values', 'array did contain all specified values', false);
        if (tag === 'items') return this.itemsStart(node);
        this.treeStart(node);
        if (!this.top.inverted) this.setState('needChildrenInfo');
        if (tag === '$jsonSchema' && this.top.inverted) {
          this.setState('ignoreChildren');
          this.reason('', 'schema matched');
        }
        return;
      case 'or':
        if (tag === 'enum') return this.logicalLeafError(node, 'value was not found in enum', 'value was found in enum', true);
        this.treeStart(node);
        if (this.top.inverted) this.setState('needChildrenInfo');
        return;
      case 'nor':
        this.treeStart(node);
        if (!this.top.inverted) this.setState('needChildrenInfo');
        this.flip();
        return;
      case 'not':
        this.treeStart(node);
        this.flip();
        if (this.reports(node) && tag === 'not') {
          this.reason('', 'child expression matched');
          this.setState('ignoreChildren');
        }
        return;
      case 'xor':
        return this.xorStart(node);
      case 'eq':
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte':
        if (tag === 'minimum' || tag === 'maximum') return this.pathError(node, 'comparison failed', 'comparison succeeded', NUMBERS, 'none', true);
        return this.pathError(node, 'comparison failed', 'comparison succeeded');
      case 'in':
        return this.pathError(node, 'no matching value found in array', 'matching value found in array');
      case 'exists':
        this.push(node);
        if (this.reports(node) && tag !== '_propertyExists') {
          this.appendDetails(node);
          this.reason('path does not exist', 'path does exist');
        }
        return;
      case 'type':
        return this.typeError(node, 'omitArray', false);
      case 'schemaType':
        return this.typeError(node, 'none', true);
      case 'regex':
        return this.pathError(node, 'regular expression did not match', 'regular expression did match', REGEX_SUBJECTS, 'omitArray', tag === 'pattern');
      case 'mod':
        return this.pathError(node, '$mod did not evaluate to expected remainder', '$mod did evaluate to expected remainder', NUMBERS);
      case 'size':
        return this.pathError(node, 'array length was not equal to given size', 'array length was equal to given size', ARRAY, 'none');
      case 'elemMatchObject':
      case 'elemMatchValue':
        return this.pathError(node, 'array did not satisfy the child predicate', 'array did satisfy the child predicate', ARRAY, 'none');
      case 'bits':
        return this.pathError(node, 'bitwise operator failed to match', 'bitwise operator matched successfully', BIT_SUBJECTS);
      case 'expr':
        return this.exprStart(node);
      case 'fmod':
        return this.pathError(node, 'considered value is not a multiple of the specified value', 'considered value is a multiple of the specified value', NUMBERS, 'none', true);
      case 'strLength':
        return this.pathError(node, 'specified string length was not satisfied', 'specified string length was satisfied', STRING, 'none', true);
      case 'numItems': {
        this.push(node);
        const items = this.keywordValue(node, ARRAY);
        if (items === MISSING) return this.setState('noError');
        this.appendDetails(node);
        this.reason('array did not match specified length', '');
        this.top.obj.consideredValue = items;
        this.top.obj.numberOfItems = new Int32((items as unknown[]).length);
        return;
      }
      case 'uniqueItems': {
        this.push(node);
        const items = this.keywordValue(node, ARRAY);
        if (items === MISSING) return this.setState('noError');
        this.appendDetails(node);
        this.reason('found a duplicate item', '');
        this.top.obj.consideredValue = items;
        this.top.obj.duplicatedValue = node.firstDuplicate!(items as unknown[]);
        return;
      }
      case 'numProperties':
        this.push(node);
        if (this.reports(node)) {
          this.appendDetails(node);
          this.reason('specified number of properties was not satisfied', '');
          this.top.obj.numberOfProperties = new Int32(fieldNames(this.top.doc).length);
        }
        return;
      case 'objectMatch':
        return this.objectMatchStart(node);
      case 'allowedProperties':
        return this.allowedPropertiesStart(node);
      case 'cond':
        this.push(node);
        if (this.reports(node) && !node.children[0]!.matches(this.top.doc)) this.setState('noError');
        return;
      case 'matchArrayIndex':
        this.push(node);
        if (this.reports(node)) {
          const items = valueAtPath(this.top.doc, node.path) as readonly unknown[];
          this.top.obj.itemIndex = Long.fromNumber(node.arrayIndex!);
          this.input(placeholderDocument(items[node.arrayIndex!]));
        }
        return;
      case 'allElemMatchFromIndex':
        if (tag === 'items') return this.arraySchemaError(node, 'At least one item did not match the sub-schema');
        if (objectKind(firstValue(node.annotation!.annotation)) !== 0) return this.arraySchemaError(node, 'At least one additional item did not match the sub-schema');
        return this.additionalItemsStart(node);
      case 'schemaEq':
      case 'rootDocEq':
      case 'internal':
        return;
    }
  }

  private itemsStart(node: AnnotatedNode): void {
    this.push(node);
    if (node.children.length === 0) return;
    if (this.keywordValue(node.children[0]!, ARRAY) !== MISSING) {
      this.appendOperatorName(node);
      this.setState('needChildrenInfo');
    } else {
      this.setState('noError');
    }
  }

  private xorStart(node: AnnotatedNode): void {
    this.treeStart(node);
    this.setState('needChildrenInfo');
    if (!this.reports(node)) return;
    const matching = node.children.flatMap((child, i) => (child.matches(this.top.doc) ? [new Int32(i)] : []));
    if (matching.length === 0) return;
    this.flip();
    this.setState('ignoreChildren');
    this.reason('', 'more than one subschema matched');
    this.top.obj.matchingSchemaIndexes = matching;
  }

  private exprStart(node: AnnotatedNode): void {
    this.push(node);
    if (!this.reports(node)) return;
    this.appendDetails(node);
    const obj = this.top.obj;
    try {
      const result = node.evaluate!(this.top.doc as Document);
      this.reason('expression did not match', 'expression did match');
      if (result !== undefined) obj.expressionResult = result;
    } catch (err) {
      if (!(err instanceof MongoError)) throw err;
      obj.reason = 'failed to evaluate aggregation expression';
      obj.details = { code: err.code, codeName: err.codeName, errmsg: err.message };
    }
  }

  private objectMatchStart(node: AnnotatedNode): void {
    this.push(node);
    if (this.top.state === 'noError') return;
    const values = valuesAtPath(this.top.doc, node.path, 'none');
    if (objectKind(values[0]) !== 0 && values.length === 1) this.input(values[0]);
    else this.setState('noError');
  }

  private allowedPropertiesStart(node: AnnotatedNode): void {
    this.push(node);
    this.setState('ignoreChildren');
    if (!this.reports(node)) return;
    const additional = this.additionalProperties(node);
    const setting = firstValue(node.annotation!.annotation);
    const otherwise = node.children[0]!;
    if (typeof setting === 'boolean' && !otherwise.matches(this.top.doc)) {
      if (additional.length === 0) return;
      const obj = this.top.obj;
      obj.operatorName = 'additionalProperties';
      obj.specifiedAs = { additionalProperties: false };
      obj.additionalProperties = additional;
    } else if (objectKind(setting) !== 0) {
      const failing = additional.find((name) => !otherwise.matches(placeholderDocument(this.fieldValue(name))));
      if (failing !== undefined) {
        this.setState('error');
        this.input(placeholderDocument(this.fieldValue(failing)));
      }
    }
  }

  private additionalItemsStart(node: AnnotatedNode): void {
    this.push(node);
    const items = this.keywordValue(node, ARRAY);
    if (items === MISSING) return this.setState('noError');
    this.appendDetails(node);
    this.reason('found additional items', '');
    this.top.obj.additionalItems = (items as unknown[]).slice(node.startIndex!);
  }

  private between(node: AnnotatedNode): void {
    switch (node.kind) {
      case 'and':
      case 'or':
      case 'nor':
        return this.childDone(node);
      case 'xor':
        if (!this.top.inverted) this.childDone(node);
        return;
      case 'allowedProperties':
        return this.allowedPropertiesBetween(node);
      case 'cond':
        if (this.reports(node)) this.dependencyError(node);
        this.top.childIndex += 1;
        return;
      default:
        return;
    }
  }

  private allowedPropertiesBetween(node: AnnotatedNode): void {
    if (this.reports(node)) {
      this.allowedPropertiesChildError(node);
      this.setState('ignoreChildren');
      // The next child is the schema of pattern `childIndex`: it reports on a field it refuses.
      const failing = this.failingPatternProperty(node, this.top.childIndex);
      if (failing !== undefined) {
        this.setState('error');
        this.input(placeholderDocument(this.fieldValue(failing)));
      }
    }
    this.top.childIndex += 1;
  }

  /** A failing dependency: its property, and what its `then` branch reported. */
  private dependencyError(node: AnnotatedNode): void {
    const latest = this.latest;
    if (latest === undefined || this.top.childIndex !== 1) return;
    const obj = this.top.obj;
    const { tag, annotation } = node.annotation!;
    obj.conditionalProperty = Object.keys(annotation)[0];
    if (tag === '_schemaDependency') this.appendLatestTo(obj);
    else if (tag === '_propertyDependency' && 'list' in latest) obj.missingProperties = latest.list;
  }

  private post(node: AnnotatedNode): void {
    const tag = node.annotation!.tag;
    const inverted = this.top?.inverted ?? false;
    switch (node.kind) {
      case 'and': {
        if (tag === '$all' || (tag === '$jsonSchema' && inverted)) return this.finish(node);
        const fields = AND_DETAILS[tag] ?? AND_DETAILS['']!;
        return this.treeEnd(node, inverted ? fields[1] : fields[0]);
      }
      case 'or': {
        if (tag === 'enum' || !this.reports(node)) return this.finish(node);
        const fields = OR_DETAILS[tag] ?? OR_DETAILS.$or!;
        return this.treeEnd(node, inverted ? fields[1] : fields[0]);
      }
      case 'nor':
        return this.treeEnd(node, inverted ? 'clausesSatisfied' : 'clausesNotSatisfied');
      case 'xor':
        if (!inverted) return this.treeEnd(node, 'schemasNotSatisfied');
        return this.finish(node);
      case 'not':
        if (this.reports(node) && tag !== 'not') this.appendLatestTo(this.top.obj);
        return this.finish(node);
      case 'exists':
        if (this.reports(node) && tag === '_propertyExists') {
          this.latest = { path: node.path };
          this.frames.pop();
          return;
        }
        return this.finish(node);
      case 'allElemMatchFromIndex':
      case 'matchArrayIndex':
        if (this.reports(node) && (node.kind === 'matchArrayIndex' || tag === 'items' || objectKind(firstValue(node.annotation!.annotation)) !== 0)) {
          this.appendLatestTo(this.top.obj);
        }
        return this.finish(node);
      case 'allowedProperties':
        return this.allowedPropertiesEnd(node);
      case 'schemaEq':
      case 'rootDocEq':
      case 'internal':
        return;
      default:
        return this.finish(node);
    }
  }

  private allowedPropertiesEnd(node: AnnotatedNode): void {
    if (this.reports(node)) {
      this.allowedPropertiesChildError(node);
      const additional = this.top.obj;
      const patterns = this.top.arr.length > 0 ? { operatorName: 'patternProperties', details: this.top.arr } : undefined;
      const hasAdditional = Object.keys(additional).length > 0;
      if (hasAdditional && patterns !== undefined) this.latest = { list: [additional, patterns] };
      else if (hasAdditional) this.latest = { object: additional };
      else if (patterns !== undefined) this.latest = { object: patterns };
    }
    this.frames.pop();
  }
}

/** The first node without an annotation (mongod cannot explain a validator with one). */
function unannotated(node: AnnotatedNode): AnnotatedNode | undefined {
  if (node.annotation === undefined) return node;
  for (const child of node.children) {
    const found = unannotated(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The errInfo of a document that failed the validator `root` (generateError):
 * {failingDocumentId, details}. A validator with an operator mongod does not annotate ($alwaysTrue,
 * $alwaysFalse, a DBRef field) gets mongod's note instead; `describe` names that operator.
 */
export function validationErrorInfo(root: AnnotatedNode, doc: Document, describe: (node: AnnotatedNode) => string): Document {
  const missing = unannotated(root);
  if (missing !== undefined) {
    return {
      failingDocumentId: doc._id,
      note: 'failed to generate document validation error',
      details: {
        code: new Int32(LocationCodes.ValidationErrorNoAnnotation),
        codeName: codeNameOf(LocationCodes.ValidationErrorNoAnnotation),
        errmsg: `Cannot generate validation error details: no annotation found for expression ${describe(missing)}`,
      },
    };
  }
  const report = new Generator(doc).run(root);
  return { failingDocumentId: doc._id, details: report !== undefined && 'object' in report ? report.object : {} };
}
