/**
 * Field operators: $set, $setOnInsert, $unset, $rename, $currentDate
 * (set_node.cpp, unset_node.cpp, rename_node.cpp, current_date_node.cpp, conflict_placeholder_node.h).
 */
import { Timestamp } from 'bson';
import { valuesEqual } from '../../bson/bsonOrder.js';
import { typeName } from '../../bson/typeName.js';
import { badValue } from '../queryErrors.js';
import {
  createPathAt,
  Elem,
  findLongestPrefix,
  removeField,
  setValue,
  validateWritten,
  valueOf,
  type ApplyContext,
} from './paths.js';
import { ModifierNode, type LeafNode } from './tree.js';
import { elementText, idText, isDocument, asDocument, sameBytes } from './values.js';

/**
 * $set (and $setOnInsert, which applies only when the update inserts): the value as given. Setting
 * an existing field to the same bytes (same type, same value) is a no-op; to an equal value of
 * another type (Int32 1 -> Double 1) it is a change (SetNode: binaryEqualValues).
 */
export class SetNode extends ModifierNode {
  constructor(
    private readonly value: unknown,
    insertOnly: boolean,
  ) {
    super();
    this.insertOnly = insertOnly;
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem): boolean {
    if (sameBytes(valueOf(ctx, at), this.value)) return false;
    setValue(ctx, at, this.value);
    return true;
  }

  protected override newValue(): unknown {
    return this.value;
  }
}

/**
 * $unset: removes the field; an array element is set to null instead. A missing (or not even
 * creatable) path is a no-op.
 */
export class UnsetNode extends ModifierNode {
  constructor() {
    super();
    this.allowCreation = false;
    this.allowNonViablePath = true;
    this.validates = false;
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem): boolean {
    if (Array.isArray(valueOf(ctx, at.parent!))) setValue(ctx, at, null);
    else removeField(ctx, at);
    return true;
  }
}

/** The node $rename puts at its source path, so other updates of that path conflict; it does nothing. */
export class ConflictPlaceholderNode implements LeafNode {
  readonly kind = 'leaf';
  apply(): void {}
}

/** The segments of a dotted path as FieldRef parses it. */
function partsOf(path: string): string[] {
  return path.split('.');
}

function isDynamicPath(parts: readonly string[]): boolean {
  return parts.some((p) => p === '$' || (p.length >= 3 && p.startsWith('$[') && p.endsWith(']')));
}

/**
 * $rename (RenameNode, at the destination path): moves the value at the source path there. The
 * source is looked up when the rename applies; a missing source is a no-op. Neither path may run
 * through an array. The destination is set as SetElementNode does: an existing equal value (by
 * BSON comparison) is left alone; the source is removed either way.
 */
export class RenameNode implements LeafNode {
  readonly kind = 'leaf';
  private readonly fromParts: string[];

  private constructor(
    private readonly from: string,
    private readonly to: string,
  ) {
    this.fromParts = partsOf(from);
  }

  /** RenameNode::init: the checks on the source and destination paths (all BadValue). */
  static parse(from: string, to: string): RenameNode {
    const spec = elementText(from, to);
    if (to.includes('\0')) throw badValue("The 'to' field for $rename cannot contain an embedded null byte");
    const fromParts = partsOf(from);
    const toParts = partsOf(to);
    if (fromParts.length === toParts.length && fromParts.every((p, i) => p === toParts[i])) {
      throw badValue(`The source and target field for $rename must differ: ${spec}`);
    }
    if (isStrictPrefix(fromParts, toParts) || isStrictPrefix(toParts, fromParts)) {
      throw badValue(`The source and target field for $rename must not be on the same path: ${spec}`);
    }
    if (isDynamicPath(fromParts)) throw badValue(`The source field for $rename may not be dynamic: ${from}`);
    if (isDynamicPath(toParts)) throw badValue(`The destination field for $rename may not be dynamic: ${to}`);
    return new RenameNode(from, to);
  }

  apply(ctx: ApplyContext, at: Elem, taken: readonly string[], toCreate: readonly string[]): void {
    const found = findLongestPrefix(ctx, this.fromParts);
    if (found.status !== 'found' || found.index !== this.fromParts.length - 1) return;
    const source = found.elem;
    for (let e = source.parent; e !== undefined && !e.isRoot; e = e.parent) {
      if (Array.isArray(valueOf(ctx, e))) {
        throw badValue(
          `The source field cannot be an array element, '${this.from}' in doc with ${idText(ctx.doc)} has an array field called '${e.name}'`,
        );
      }
    }
    for (let e: Elem | undefined = toCreate.length === 0 ? at.parent : at; e !== undefined && !e.isRoot; e = e.parent) {
      if (Array.isArray(valueOf(ctx, e))) {
        throw badValue(
          `The destination field cannot be an array element, '${this.to}' in doc with ${idText(ctx.doc)} has an array field called '${e.name}'`,
        );
      }
    }
    const value = valueOf(ctx, source);
    // SetElementNode: a ModifierNode setting the source's value.
    if (toCreate.length > 0) {
      const first = createPathAt(ctx, at, toCreate, 0, value);
      validateWritten(ctx, first, taken.length + 1);
    } else if (!valuesEqual(valueOf(ctx, at), value)) {
      setValue(ctx, at, value);
      validateWritten(ctx, at, taken.length);
    }
    removeField(ctx, source);
    ctx.modified = true;
  }
}

function isStrictPrefix(a: readonly string[], b: readonly string[]): boolean {
  return a.length < b.length && a.every((p, i) => p === b[i]);
}

let lastSeconds = 0;
let lastIncrement = 0;

/** A cluster-time-like Timestamp: the current second and an increment unique within it. */
function nextTimestamp(now: Date): Timestamp {
  const t = Math.floor(now.getTime() / 1000);
  if (t > lastSeconds) {
    lastSeconds = t;
    lastIncrement = 0;
  }
  lastIncrement += 1;
  return new Timestamp({ t: lastSeconds, i: lastIncrement });
}

/** $currentDate: true/false or {$type: "date"} sets a Date, {$type: "timestamp"} a Timestamp. Always a change. */
export class CurrentDateNode extends ModifierNode {
  private constructor(private readonly typeIsDate: boolean) {
    super();
  }

  /** CurrentDateNode::init. */
  static parse(value: unknown): CurrentDateNode {
    if (typeof value === 'boolean') return new CurrentDateNode(true);
    if (isDocument(value) && !Array.isArray(value)) {
      let typeIsDate: boolean | undefined;
      const spec = asDocument(value);
      for (const k of Object.keys(spec)) {
        if (k !== '$type') throw badValue(`Unrecognized $currentDate option: ${k}`);
        if (spec[k] === 'date') typeIsDate = true;
        else if (spec[k] === 'timestamp') typeIsDate = false;
      }
      if (typeIsDate === undefined) {
        throw badValue("The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
      }
      return new CurrentDateNode(typeIsDate);
    }
    throw badValue(
      `${typeName(value)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`,
    );
  }

  private make(ctx: ApplyContext): Date | Timestamp {
    const now = ctx.now();
    return this.typeIsDate ? now : nextTimestamp(now);
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem): boolean {
    setValue(ctx, at, this.make(ctx));
    return true;
  }

  protected override newValue(ctx: ApplyContext): unknown {
    return this.make(ctx);
  }
}
