/**
 * The annotated match tree of a collection validator: mongod's MatchExpression nodes as the parser
 * builds them when it parses a validator (expression_parser.cpp and json_schema_parser.cpp with
 * `isParsingCollectionValidator`), each carrying its ErrorAnnotation (matcher/expression.h:
 * the operator name, what the user specified, the JSON Schema title/description, and whether
 * the node reports, is skipped, or is skipped while its children still report). validationError.ts
 * walks this tree to build the `errInfo` of DocumentValidationFailure; each node also matches on
 * its own, as mongod's error generator asks nodes again while it walks.
 *
 * Nodes match against the document they are given: the stored document, an embedded document
 * (under $jsonSchema's object keywords), or {i: value} for the sub-schemas that apply to array
 * items and property values (mongod's name placeholder `i`).
 */
import type { Document } from 'bson';
import { arrayIndexOf, documentKeys, getField, isDocument, isPrototypeName, MISSING, objectKind } from './values.js';

export type AnnotationMode = 'generate' | 'ignore' | 'ignoreButDescend';

export interface ErrorAnnotation {
  /** The operator or keyword the node stands for ("$gt", "required"); "_..." for internal nodes; "" for none. */
  readonly tag: string;
  /** What the node appends: usually the `specifiedAs` document. */
  readonly annotation: Document;
  /** The `title` and `description` of the JSON Schema the node translates. */
  readonly schema: Document;
  readonly mode: AnnotationMode;
}

/** The name placeholder of sub-schemas applied to single values (JSONSchemaParser::kNamePlaceholder). */
export const PLACEHOLDER = 'i';

/** A value as the document a placeholder sub-schema matches ({i: value}). */
export function placeholderDocument(value: unknown): Document {
  return { [PLACEHOLDER]: value };
}

/** A reporting annotation; `schema` (a JSON Schema object) contributes its title and description. */
export function annotate(tag: string, annotation: Document = {}, schema?: Document): ErrorAnnotation {
  const annotations: Document = {};
  if (schema !== undefined) {
    for (const key of Object.keys(schema)) if (key === 'title' || key === 'description') annotations[key] = schema[key];
  }
  return { tag, annotation, schema: annotations, mode: 'generate' };
}

export const IGNORE: ErrorAnnotation = { tag: '', annotation: {}, schema: {}, mode: 'ignore' };
export const IGNORE_BUT_DESCEND: ErrorAnnotation = { tag: '', annotation: {}, schema: {}, mode: 'ignoreButDescend' };

/** The MatchExpression classes the validator error generator tells apart. */
export type AnnotatedKind =
  | 'and'
  | 'or'
  | 'nor'
  | 'not'
  | 'xor'
  | 'alwaysTrue'
  | 'alwaysFalse'
  | 'eq'
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte'
  | 'in'
  | 'exists'
  | 'type'
  | 'regex'
  | 'mod'
  | 'size'
  | 'elemMatchObject'
  | 'elemMatchValue'
  | 'bits'
  | 'expr'
  | 'schemaType'
  | 'fmod'
  | 'strLength'
  | 'numItems'
  | 'uniqueItems'
  | 'objectMatch'
  | 'allowedProperties'
  | 'numProperties'
  | 'cond'
  | 'matchArrayIndex'
  | 'allElemMatchFromIndex'
  | 'schemaEq'
  | 'rootDocEq'
  | 'internal';

/** A pattern of patternProperties (or of the allowed-properties node): its source and compiled form. */
export interface PropertyPattern {
  readonly source: string;
  readonly regex: RegExp;
}

export interface AnnotatedNode {
  readonly kind: AnnotatedKind;
  /** The dotted path a path expression reads ("" for the pathless ones). */
  readonly path: string;
  /** Replaced where mongod re-tags a parsed sub-schema (a property's schema, the top-level $jsonSchema). */
  annotation: ErrorAnnotation | undefined;
  /** The children mongod's tree walker visits, in order. */
  readonly children: readonly AnnotatedNode[];
  /** Whether the document (see the top of this file) matches. */
  readonly matches: (doc: unknown) => boolean;
  /** matchArrayIndex: the index whose item the child matches. */
  readonly arrayIndex?: number;
  /** allElemMatchFromIndex: the first item the child applies to. */
  readonly startIndex?: number;
  /** allowedProperties: the names `properties` lists and the patternProperties (children 1.. are their schemas). */
  readonly properties?: ReadonlySet<string>;
  readonly patterns?: readonly PropertyPattern[];
  /** $expr: the expression's value on a document (undefined for missing); throws when evaluation fails. */
  readonly evaluate?: (doc: Document) => unknown;
  /** uniqueItems: the first item equal to an earlier one. */
  readonly firstDuplicate?: (items: readonly unknown[]) => unknown;
}

/** A node from its parts. */
export function node(
  kind: AnnotatedKind,
  path: string,
  annotation: ErrorAnnotation | undefined,
  children: readonly AnnotatedNode[],
  matches: (doc: unknown) => boolean,
  extra: Partial<AnnotatedNode> = {},
): AnnotatedNode {
  return { ...extra, kind, path, annotation, children, matches };
}

export function andOf(annotation: ErrorAnnotation | undefined, children: readonly AnnotatedNode[]): AnnotatedNode {
  return node('and', '', annotation, children, (doc) => children.every((c) => c.matches(doc)));
}

export function orOf(annotation: ErrorAnnotation | undefined, children: readonly AnnotatedNode[]): AnnotatedNode {
  return node('or', '', annotation, children, (doc) => children.some((c) => c.matches(doc)));
}

export function notOf(annotation: ErrorAnnotation | undefined, child: AnnotatedNode): AnnotatedNode {
  return node('not', '', annotation, [child], (doc) => !child.matches(doc));
}

export function always(value: boolean, annotation: ErrorAnnotation | undefined): AnnotatedNode {
  return node(value ? 'alwaysTrue' : 'alwaysFalse', '', annotation, [], () => value);
}

/**
 * How a path's values are listed (ElementPath's leaf array behaviours): 'traverse' lists a leaf
 * array's items and then the array, 'omitArray' only its items, 'none' only the array.
 */
export type LeafArrays = 'traverse' | 'omitArray' | 'none';

/**
 * The values at a dotted path as mongod's BSONElementIterator yields them (arrays in the middle of
 * the path are traversed; a document inside one without the field yields MISSING, as the top
 * level does when the field is absent). An empty path yields the document itself.
 */
export function valuesAtPath(doc: unknown, path: string, leafArrays: LeafArrays): unknown[] {
  if (path === '') return [doc];
  const parts = path.split('.');
  const out: unknown[] = [];
  const leaf = (v: readonly unknown[]): void => {
    if (leafArrays !== 'none') out.push(...v);
    if (leafArrays !== 'omitArray') out.push(v);
  };
  const fromDocument = (container: unknown, i: number): void => {
    const v = getField(container, parts[i]!, isPrototypeName(parts[i]!));
    if (v === MISSING) {
      out.push(MISSING);
      return;
    }
    if (Array.isArray(v)) {
      if (i + 1 === parts.length) leaf(v);
      else fromArray(v, i + 1);
      return;
    }
    if (i + 1 === parts.length) out.push(v);
    else if (isDocument(v)) fromDocument(v, i + 1);
    else out.push(MISSING);
  };
  const fromArray = (arr: readonly unknown[], i: number): void => {
    const index = arrayIndexOf(parts[i]!);
    arr.forEach((el, j) => {
      if (isDocument(el)) fromDocument(el, i);
      if (j !== index) return;
      if (i + 1 === parts.length) out.push(el);
      else if (isDocument(el)) fromDocument(el, i + 1);
      else if (Array.isArray(el)) fromArray(el, i + 1);
    });
  };
  fromDocument(doc, 0);
  return out;
}

/** The value at a dotted path through documents only (no array traversal at all); MISSING when absent. */
export function valueAtPath(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (objectKind(value) === 0 && !Array.isArray(value)) return MISSING;
    value = getField(value, part, isPrototypeName(part));
    if (value === MISSING) return MISSING;
  }
  return value;
}

/** The field names of a document, in order. */
export function fieldNames(doc: unknown): string[] {
  return objectKind(doc) === 0 ? [] : documentKeys(doc);
}
