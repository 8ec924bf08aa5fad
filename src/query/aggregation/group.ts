/**
 * $group, and the table of groups $bucket shares: documents are grouped by mongod's value
 * equality (bsonOrder.canonicalKey: Int32 1, Long 1, Double 1.0 and Decimal "1.00" are one key;
 * Decimal "1.10" and Double 1.1 are two), strings by the collation when there is one. A group's
 * _id is the first key value seen for it (the very object).
 *
 * Sources (mongodb/mongo): src/mongo/db/pipeline/document_source_group_base.cpp (15947, 15955,
 * parseIdExpression: {} is a constant, {$op: ...} an expression, other objects an ExpressionObject
 * with 17390 for inclusion-style values), src/mongo/db/pipeline/group_processor_base.cpp
 * (setIdExpression decomposes an object _id into its fields; computeGroupKey: one expression's
 * missing is null, several give an array of values with missing kept; expandId: one field
 * {name: value}, several fields a document without the missing ones; makeDocument: _id first,
 * then the accumulators in spec order, a missing result output as null; the initializers ('n')
 * evaluated on the _id document when the group is created).
 */
import { LocationCodes } from '../../errors.js';
import type { Document } from 'bson';
import { canonicalKey } from '../../bson/bsonOrder.js';
import type { CompiledExpression } from '../expression/compile.js';
import { bsonTypeOf, BSON_TYPE, isNumberType, objectKind } from '../match/values.js';
import { initializerRoot, parseAccumulationStatement, type AccumulationStatement, type Accumulator } from './accumulators.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail } from './errors.js';
import { asObj, setField, type Obj } from './values.js';

// ---------------------------------------------------------------------------------------------
// Keys

/** canonicalKey with every string (and symbol) replaced by one placeholder: equal under any collation implies equal skeletons. */
function skeletonKey(v: unknown): string {
  if (typeof v === 'string') return 's';
  if (typeof v === 'object' && v !== null) {
    if ((v as { _bsontype?: unknown })._bsontype === 'BSONSymbol') return 's';
    if (Array.isArray(v)) return `A${v.map(skeletonKey).join('')}]`;
    if (objectKind(v) !== 0) {
      const o = asObj(v);
      return `O${Object.keys(o)
        .map((k) => `${JSON.stringify(k)}${skeletonKey(o[k])}`)
        .join('')}}`;
    }
  }
  return canonicalKey(v);
}

/** The exact key of a value when strings compare binary (no collation); undefined under a collation. */
export function exactKeyFunction(cc: CompileContext): ((v: unknown) => string) | undefined {
  return cc.collator === undefined ? canonicalKey : undefined;
}

/** Values grouped by mongod equality (the collation's for strings), in first-seen order. */
export class GroupTable<T> {
  private readonly exact = new Map<string, { key: unknown; value: T }>();
  private readonly buckets = new Map<string, Array<{ key: unknown; value: T }>>();
  private readonly order: Array<{ key: unknown; value: T }> = [];

  constructor(private readonly cc: CompileContext) {}

  getOrCreate(key: unknown, create: (key: unknown) => T): T {
    if (this.cc.collator === undefined) {
      const k = canonicalKey(key);
      let entry = this.exact.get(k);
      if (entry === undefined) {
        entry = { key, value: create(key) };
        this.exact.set(k, entry);
        this.order.push(entry);
      }
      return entry.value;
    }
    const k = skeletonKey(key);
    let bucket = this.buckets.get(k);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(k, bucket);
    }
    for (const entry of bucket) if (this.cc.compare(entry.key, key) === 0) return entry.value;
    const entry = { key, value: create(key) };
    bucket.push(entry);
    this.order.push(entry);
    return entry.value;
  }

  entries(): ReadonlyArray<{ key: unknown; value: T }> {
    return this.order;
  }

  get size(): number {
    return this.order.length;
  }
}

// ---------------------------------------------------------------------------------------------
// The _id

interface GroupId {
  /** The group key of a document (undefined values inside an array key are missing ones). */
  key(doc: Document, run: RunContext): unknown;
  /** The output _id of a key. */
  expand(key: unknown): unknown;
}

function parseGroupId(spec: unknown, cc: CompileContext): GroupId {
  if (objectKind(spec) === 1) {
    const obj = spec as Obj;
    const keys = Object.keys(obj);
    if (keys.length > 0 && !keys[0]!.startsWith('$')) {
      for (const k of keys) {
        const t = bsonTypeOf(obj[k]);
        if (isNumberType(t) || t === BSON_TYPE.bool) fail(LocationCodes.GroupIdInclusion, '$group does not support inclusion-style expressions');
      }
      // The whole object is parsed once as the ExpressionObject it is (its errors), then each
      // field as the expression the decomposed group key evaluates.
      compileExpr(obj, cc);
      const names = keys;
      const exprs = keys.map((k) => compileExpr(obj[k], cc));
      if (exprs.length === 1) {
        const [expr] = exprs as [CompiledExpression];
        return {
          key(doc, run) {
            return expr.evaluate(scopeOf(doc, run)) ?? null;
          },
          expand(key) {
            const out: Obj = {};
            setField(out, names[0]!, key);
            return out;
          },
        };
      }
      return {
        key(doc, run) {
          const scope = scopeOf(doc, run);
          return exprs.map((e) => e.evaluate(scope));
        },
        expand(key) {
          const out: Obj = {};
          (key as unknown[]).forEach((v, i) => {
            if (v !== undefined) setField(out, names[i]!, v);
          });
          return out;
        },
      };
    }
  }
  const expr = compileExpr(spec, cc);
  return {
    key(doc, run) {
      return expr.evaluate(scopeOf(doc, run)) ?? null;
    },
    expand(key) {
      return key;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Accumulating

/** The accumulators of one group. */
export type GroupState = Accumulator[];

/** Creates a group's accumulators (their initializers evaluated on the group's _id document). */
export function createGroupState(statements: readonly AccumulationStatement[], id: unknown, run: RunContext): GroupState {
  const root = statements.some((s) => s.initializer !== undefined) ? initializerRoot(id) : {};
  return statements.map((s) => s.create(s.initializer === undefined ? undefined : s.initializer.evaluate(scopeOf(root, run))));
}

/** Feeds one document to a group's accumulators. */
export function accumulate(statements: readonly AccumulationStatement[], state: GroupState, doc: Document, run: RunContext): void {
  const scope = scopeOf(doc, run);
  for (let i = 0; i < statements.length; i++) state[i]!.add(statements[i]!.argument.evaluate(scope));
}

/** A group's output document: _id first, then each accumulator's result (missing as null). */
export function groupDocument(id: unknown, statements: readonly AccumulationStatement[], state: GroupState): Document {
  const out: Obj = { _id: id };
  for (let i = 0; i < statements.length; i++) {
    const v = state[i]!.result();
    setField(out, statements[i]!.field, v === undefined ? null : v);
  }
  return out;
}

/** Parses the accumulation statements of a $group / $bucket output spec. */
export function parseStatements(fields: ReadonlyArray<readonly [string, unknown]>, cc: CompileContext): AccumulationStatement[] {
  const keyOf = exactKeyFunction(cc);
  return fields.map(([field, spec]) => parseAccumulationStatement(field, spec, cc, keyOf));
}

/** $group (DocumentSourceGroupBase::initializeFromBson). */
export function compileGroup(spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(LocationCodes.GroupNotObject, "a group's fields must be specified in an object");
  const obj = spec as Obj;
  let id: GroupId | undefined;
  const statements: AccumulationStatement[] = [];
  const keyOf = exactKeyFunction(cc);
  // Parsed in spec order, as mongod parses them (the first error wins).
  for (const name of Object.keys(obj)) {
    if (name === '_id') id = parseGroupId(obj[name], cc);
    else statements.push(parseAccumulationStatement(name, obj[name], cc, keyOf));
  }
  if (id === undefined) fail(LocationCodes.GroupWithoutId, 'a group specification must include an _id');
  const groupId = id;
  return {
    name: '$group',
    fallback: false,
    *run(input, run) {
      const table = new GroupTable<GroupState>(cc);
      for (const doc of input) {
        const key = groupId.key(doc, run);
        const state = table.getOrCreate(key, (k) => createGroupState(statements, groupId.expand(k), run));
        accumulate(statements, state, doc, run);
      }
      for (const { key, value } of table.entries()) yield groupDocument(groupId.expand(key), statements, value);
    },
  };
}
