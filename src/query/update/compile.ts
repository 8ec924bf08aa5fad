/**
 * pocketmongo's update-operator engine: mongod 7.0's update language ($set, $inc, $push ...)
 * applied directly to stored BSON values (bson 7 Int32/Long/Double/Decimal128/... as decoded with
 * promoteValues: false), never through a lossy numeric view.
 *
 * API
 * ---
 *   compileUpdate(update, options?) -> CompiledUpdate
 *     Parses an operator update ({$set: {...}, $inc: {...}, ...}) into mongod's update tree once.
 *     Parse-time errors are thrown here, with mongod's codes and texts, in mongod's order (the
 *     array filters first, then each operator and each of its fields in document order).
 *     options.arrayFilters  the statement's arrayFilters (for `$[id]` path parts).
 *     options.upsert        this update inserts a document (an upsert): $setOnInsert applies.
 *     options.collation     the operation's collation: string comparisons in $min/$max,
 *                           $addToSet, $pull/$pullAll, $push's $sort and the array filters.
 *     options.now           the clock for $currentDate (default: the system clock).
 *   CompiledUpdate.apply(doc, {matchedField}?) -> {doc, modified}
 *     A NEW document: copy-on-write along the paths the update writes, every other value the very
 *     same object as in `doc` (so field order, numeric types and Decimal128 bytes are kept);
 *     `doc` itself is never changed. `modified` is mongod's "not a no-op" (a $set to the same
 *     bytes is no change, a $set to an equal value of another type is one). Apply-time errors
 *     (TypeMismatch for $inc on a string, PathNotViable, ...) are thrown as MongoError.
 *     matchedField: the array position the query matched, for a positional `$` in a path (as
 *     mongod resolves it when applying, so one compiled update serves every document).
 *
 * Contract with the caller:
 * - The positional `$`: either the caller replaces it by the matched index before compiling (as
 *   src/query/positional.ts does today), or it passes the matched position to apply() as
 *   `matchedField` (mongod's way: the `$` child is merged with a child of the same name, so
 *   {$set: {'a.$': 1, 'a.0': 2}} matched at 0 is "Update created a conflict at 'a.0'"). A `$` with
 *   no matched position is "The positional operator did not find the match needed from the
 *   query." (BadValue). `$[]` and `$[id]` are handled here.
 * - The `_id` rules (immutable _id, _id types) and the whole-document size limit are checked by the
 *   caller on the result, as are pipeline updates and replacement documents.
 *
 * mongod semantics (src/mongo/db/update/*.cpp):
 * - update_driver.cpp: operators must be known ("Unknown modifier: $foo ..." 9) and their operand a
 *   document (9); an empty operand is allowed since 5.0 (no change); unused array filters are 9.
 * - update_object_node.cpp: each field path is parsed (field_checker: EmptyFieldName 56; at most
 *   one `$`, not first: 2), its leaf built (the operator's own argument checks), then merged into
 *   the tree: a path through or onto another update's node is ConflictingUpdateOperators 40
 *   "Updating the path 'a.b' would create a conflict at 'a'". $rename puts a placeholder at its
 *   source and its node at its destination. Children apply in pathsupport::cmpPathsAndArrayIndexes
 *   order (byte order; names both starting with a digit compare as numbers).
 * - Paths are created through missing fields as documents, through arrays by position (padded
 *   with nulls, at most 1500000: CannotBackfillArray 34); a non-container on the way is
 *   PathNotViable 28 "Cannot create field 'b' in element {a: 1}".
 * - storage_validation.cpp (7.0, FCV >= 5.0): a written value may not nest deeper than 180 levels
 *   (Overflow 15), and only a top-level field name may not start with '$' (DBRef fields excepted).
 */
import type { Document } from 'bson';
import { bsonText } from '../../bson/bsonText.js';
import { typeName } from '../../bson/typeName.js';
import { collatorFor, comparatorFor } from '../match/collation.js';
import { ArithmeticNode, BitNode, CompareNode } from './arithmetic.js';
import { parseArrayFilters } from './arrayFilters.js';
import { AddToSetNode, PopNode, pullAllNode, pullNode, PushNode, type ValueCompare } from './arrays.js';
import { badValue, failedToParse } from '../queryErrors.js';
import { conflict } from './errors.js';
import { ConflictPlaceholderNode, CurrentDateNode, RenameNode, SetNode, UnsetNode } from './fields.js';
import { ROOT, type ApplyContext } from './paths.js';
import { applyNode, ArrayNode, ObjectNode, type ElementFilter, type LeafNode, type UpdateNode } from './tree.js';
import { elementText, isDocument, asDocument, type Obj } from './values.js';
import { ErrorCodes, MongoError } from '../../errors.js';


export interface UpdateOptions {
  readonly arrayFilters?: readonly Document[];
  /** This update inserts a document (an upsert found nothing): $setOnInsert applies. */
  readonly upsert?: boolean;
  readonly collation?: Document;
  /** The clock for $currentDate. */
  readonly now?: () => Date;
}

export interface UpdateResult {
  readonly doc: Document;
  readonly modified: boolean;
}

export interface ApplyOptions {
  /**
   * The array position the query matched (mongod's matchedField, e.g. "2"), for paths with a
   * positional `$` part. Without it such a path is "The positional operator did not find the
   * match needed from the query."
   */
  readonly matchedField?: string;
}

export interface CompiledUpdate {
  apply(doc: Document, options?: ApplyOptions): UpdateResult;
}

/** The update operators mongod knows (modifier_table.cpp). */
const MODIFIERS = new Set([
  '$addToSet',
  '$bit',
  '$currentDate',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$rename',
  '$set',
  '$setOnInsert',
  '$unset',
]);

type Modifier = string;

/** What building a leaf needs besides its operand. */
interface ParseContext {
  readonly collation: Document | undefined;
  readonly collated: boolean;
  readonly compare: ValueCompare;
  readonly arrayFilters: ReadonlyMap<string, ElementFilter>;
  readonly foundIdentifiers: Set<string>;
}

/** fieldchecker::isArrayFilterIdentifier: `$[...]`. */
function isArrayFilterIdentifier(part: string | undefined): boolean {
  return part !== undefined && part.length >= 3 && part.startsWith('$[') && part.endsWith(']');
}

/** The leaf node of one operator field (the operator's init checks). */
function makeLeaf(op: Modifier, field: string, value: unknown, ctx: ParseContext): LeafNode {
  switch (op) {
    case '$set':
      return new SetNode(value, false);
    case '$setOnInsert':
      return new SetNode(value, true);
    case '$unset':
      return new UnsetNode();
    case '$inc':
    case '$mul':
      return new ArithmeticNode(op, field, value);
    case '$min':
    case '$max':
      return new CompareNode(op, value, ctx.compare);
    case '$currentDate':
      return CurrentDateNode.parse(value);
    case '$bit':
      return BitNode.parse(value);
    case '$push':
      return PushNode.parse(value, ctx.compare);
    case '$addToSet':
      return AddToSetNode.parse(value, ctx.collated, ctx.compare);
    case '$pop':
      return PopNode.parse(field, value);
    case '$pull':
      return pullNode(value, ctx.collation, ctx.compare);
    case '$pullAll':
      return pullAllNode(value, ctx.compare);
    case '$rename':
      return RenameNode.parse(field, value as string);
    default:
      return new ConflictPlaceholderNode();
  }
}

/** fieldchecker::isUpdatable and the positional checks of UpdateObjectNode::parseAndMerge. */
function checkPath(path: string, parts: readonly string[]): void {
  if (path.length === 0) throw new MongoError(ErrorCodes.EmptyFieldName, 'An empty update path is not valid.');
  if (parts.some((p) => p.length === 0)) {
    throw new MongoError(ErrorCodes.EmptyFieldName, `The update path '${path}' contains an empty field name, which is not allowed.`);
  }
  const first = parts.indexOf('$');
  if (first < 0) return;
  if (parts.lastIndexOf('$') !== first) throw badValue(`Too many positional (i.e. '$') elements found in path '${path}'`);
  if (first === 0) throw badValue(`Cannot have positional (i.e. '$') element in the first position in path '${path}'`);
}

/** The child name of a path part: an array filter identifier without `$[` `]` (checked), else the part. */
function childName(parts: readonly string[], i: number, path: string, ctx: ParseContext): string {
  const part = parts[i]!;
  if (!isArrayFilterIdentifier(part)) return part;
  if (i === 0) throw badValue(`Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '${path}'`);
  const id = part.slice(2, -1);
  if (id.length > 0) {
    if (!ctx.arrayFilters.has(id)) throw badValue(`No array filter found for identifier '${id}' in path '${path}'`);
    ctx.foundIdentifiers.add(id);
  }
  return id;
}

/** UpdateObjectNode::parseAndMerge: one operator field into the tree. */
function parseAndMerge(root: ObjectNode, op: Modifier, field: string, value: unknown, ctx: ParseContext): void {
  let path = field;
  if (op === '$rename') {
    parseAndMerge(root, '$conflictPlaceholder', field, value, ctx);
    if (typeof value !== 'string') throw badValue(`The 'to' field for $rename must be a string: ${elementText(field, value)}`);
    path = value;
  }
  const parts = path.split('.');
  checkPath(path, parts);
  const leaf = makeLeaf(op, field, value, ctx);
  let current: ObjectNode | ArrayNode = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const name = childName(parts, i, path, ctx);
    const shouldBeArray = isArrayFilterIdentifier(parts[i + 1]);
    let child: UpdateNode | undefined = current.getChild(name);
    if (child !== undefined) {
      if (child.kind !== (shouldBeArray ? 'array' : 'object')) {
        throw conflict(`Updating the path '${path}' would create a conflict at '${parts.slice(0, i + 1).join('.')}'`);
      }
    } else {
      child = shouldBeArray ? new ArrayNode(ctx.arrayFilters) : new ObjectNode();
      current.setChild(name, child);
    }
    current = child as ObjectNode | ArrayNode;
  }
  const name = childName(parts, parts.length - 1, path, ctx);
  if (current.getChild(name) !== undefined) throw conflict(`Updating the path '${path}' would create a conflict at '${path}'`);
  current.setChild(name, leaf);
}

/** UpdateDriver::parse's checks of one operator (validateMod). */
function checkModifier(op: string, operand: unknown): void {
  if (!MODIFIERS.has(op)) {
    throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
  }
  if (!isDocument(operand)) {
    throw failedToParse(
      `Modifiers operate on fields but we found type ${typeName(operand)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${bsonText(operand)}}`,
    );
  }
}

/** Compiles an operator update (see the top of this file). */
export function compileUpdate(update: Document, options: UpdateOptions = {}): CompiledUpdate {
  const collator = collatorFor(options.collation);
  const arrayFilters = parseArrayFilters(options.arrayFilters, options.collation);
  const ctx: ParseContext = {
    collation: options.collation,
    collated: collator !== undefined,
    compare: comparatorFor(collator),
    arrayFilters,
    foundIdentifiers: new Set(),
  };
  if (Object.hasOwn(update, '$v')) throw failedToParse('The $v update field is only recognized internally');
  const root = new ObjectNode();
  for (const op of Object.keys(update)) {
    const operand = update[op];
    checkModifier(op, operand);
    const fields = asDocument(operand);
    for (const field of Object.keys(fields)) parseAndMerge(root, op, field, fields[field], ctx);
  }
  for (const id of arrayFilters.keys()) {
    if (!ctx.foundIdentifiers.has(id)) {
      throw failedToParse(`The array filter for identifier '${id}' was not used in the update ${bsonText(update)}`);
    }
  }
  const insert = options.upsert === true;
  const now = options.now ?? (() => new Date());
  return {
    apply(doc: Document, applyOptions: ApplyOptions = {}): UpdateResult {
      const actx: ApplyContext = { doc: doc as Obj, owned: new Set(), modified: false, insert, now, matchedField: applyOptions.matchedField };
      applyNode(root, actx, ROOT, [], []);
      return { doc: actx.doc, modified: actx.modified };
    },
  };
}
