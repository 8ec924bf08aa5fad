import { createRequire } from 'node:module';
import { BSONRegExp, Double, Int32, Long, ObjectId, type Document } from 'bson';
import { canonicalTypeOrder, compareValues } from '../bson/bsonOrder.js';

// sorted-btree is CommonJS with `exports.default`: Node's ESM loader and vitest's disagree on
// what a default import of it is, and require() gives both the same module object.
const BTree = (createRequire(import.meta.url)('sorted-btree') as typeof import('sorted-btree')).default;

/**
 * A key in the tree: an indexed value and the document's insertion number (so equal values keep
 * their documents apart, in insertion order, as mongod orders equal keys by RecordId), or the
 * start/end of one canonical type's bracket (a bound for one-sided ranges). `rank` is the value's
 * canonical type, `num` its exact double when it has one and `hex` an ObjectId's hex, so most
 * comparisons skip the full BSON comparison.
 */
type EntryKey =
  | { readonly rank: number; readonly num: number | undefined; readonly hex: string | undefined; readonly value: unknown; readonly seq: number; readonly edge?: undefined }
  | { readonly rank: number; readonly edge: -1 | 1 };

function entryKey(value: unknown, seq: number): EntryKey {
  return { rank: canonicalTypeOrder(value), num: exactNumber(value), hex: value instanceof ObjectId ? value.toHexString() : undefined, value, seq };
}

/**
 * The value as a JS number when that orders it exactly among values of its type: int32, double,
 * a long within 2^53, a date's milliseconds. Else undefined.
 */
function exactNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (value instanceof Int32) return value.value;
  if (value instanceof Double) return Number.isNaN(value.value) ? undefined : value.value;
  if (value instanceof Long) {
    const n = value.toNumber();
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function compareKeys(a: EntryKey, b: EntryKey): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  if (a.edge !== undefined || b.edge !== undefined) return (a.edge ?? 0) - (b.edge ?? 0);
  let order: number;
  if (a.num !== undefined && b.num !== undefined) order = a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  // ObjectIds order by their 12 bytes, which their hex strings order alike.
  else if (a.hex !== undefined && b.hex !== undefined) order = a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0;
  else order = compareValues(a.value, b.value);
  // Bounds use ±Infinity for seq: compared, not subtracted (Infinity - Infinity is NaN).
  return order || (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);
}

/**
 * A value an index can look up as is: not null (which also matches missing fields), not an array
 * or document (which match elements and operators), not a regex (which matches patterns).
 */
export function isPlainValue(value: unknown): boolean {
  if (value === null || value === undefined || Array.isArray(value) || value instanceof BSONRegExp || value instanceof RegExp) return false;
  return typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype;
}

/** One side of a range: the value and whether it is included. */
export interface Bound {
  readonly value: unknown;
  readonly inclusive: boolean;
}

/** What a filter asks of one field, as an index can answer it: equal to one of `values`, or in a range. */
export type FieldPredicate = { readonly kind: 'in'; readonly values: readonly unknown[] } | { readonly kind: 'range'; readonly low?: Bound; readonly high?: Bound };

/** The documents a lookup found, and the index keys it examined (explain's totalKeysExamined). */
export interface IndexLookup {
  readonly documents: Document[];
  readonly keysExamined: number;
}

/**
 * The values a document holds at a dotted path, descending through arrays of documents as
 * mongod's key generation does; an array at the end contributes its elements (multikey).
 * Returns true when an array was met on the way.
 */
export function valuesAtPath(doc: unknown, parts: readonly string[], from: number, out: unknown[]): boolean {
  if (from === parts.length) {
    if (Array.isArray(doc)) {
      out.push(...doc);
      return true;
    }
    out.push(doc);
    return false;
  }
  if (Array.isArray(doc)) {
    for (const element of doc) valuesAtPath(element, parts, from, out);
    return true;
  }
  if (doc === null || typeof doc !== 'object' || Object.getPrototypeOf(doc) !== Object.prototype) return false;
  const next = Object.hasOwn(doc, parts[from]!) ? (doc as Document)[parts[from]!] : undefined;
  if (next === undefined) return false;
  return valuesAtPath(next, parts, from + 1, out);
}

/**
 * An index's lookup structure over its first field: a B-tree of (value, insertion number) →
 * document, one entry per distinct value a document holds there (array elements each get one:
 * the index is multikey once any document holds an array, as mongod marks it).
 * Documents that lack the field are keyed by null, as mongod keys them, unless the index is sparse.
 */
export class OrderedIndex {
  private tree = new BTree<EntryKey, Document>(undefined, compareKeys);
  private readonly parts: readonly string[];
  /** Whether any document held an array on the path (mongod's isMultiKey; never reset). */
  multikey = false;

  constructor(
    readonly field: string,
    private readonly sparse: boolean,
  ) {
    this.parts = field.split('.');
  }

  /**
   * Whether lookups through this index return every document a filter on the field can match.
   * A numeric path component ("a.0") is both a field name and an array position in mongod's
   * matcher; key generation here follows only the first meaning, so such paths are not used.
   */
  get usable(): boolean {
    return !this.parts.some((p) => /^\d+$/.test(p));
  }

  get size(): number {
    return this.tree.size;
  }

  private keysOf(doc: Document): unknown[] {
    const values: unknown[] = [];
    if (valuesAtPath(doc, this.parts, 0, values)) this.multikey = true;
    if (values.length === 0) return this.sparse ? [] : [null];
    return values;
  }

  /** Adds a document under its collection-wide insertion number. */
  add(doc: Document, seq: number): void {
    for (const value of this.keysOf(doc)) this.tree.set(entryKey(value, seq), doc);
  }

  remove(doc: Document, seq: number): void {
    for (const value of this.keysOf(doc)) this.tree.delete(entryKey(value, seq));
  }

  /** Builds the index over existing documents: sorted first, since in-order inserts into the tree cost far less. */
  build(documents: Iterable<[Document, number]>): void {
    const entries: Array<[EntryKey, Document]> = [];
    for (const [doc, seq] of documents) for (const value of this.keysOf(doc)) entries.push([entryKey(value, seq), doc]);
    entries.sort((x, y) => compareKeys(x[0], y[0]));
    this.tree = new BTree<EntryKey, Document>(undefined, compareKeys);
    for (const [key, doc] of entries) this.tree.set(key, doc);
  }

  /** Every document, read lazily in index order (or its reverse): a sort the index gives, cut short by a limit. */
  *inOrder(descending: boolean): Generator<Document> {
    for (const [, doc] of descending ? this.tree.entriesReversed() : this.tree.entries()) yield doc;
  }

  /** Every document the index holds, in index order (a hinted index with no condition on its field). */
  all(): IndexLookup {
    const found = new Set<Document>();
    let keysExamined = 0;
    this.tree.forEachPair((_k, doc) => {
      keysExamined += 1;
      found.add(doc);
    });
    return { documents: [...found], keysExamined };
  }

  /** The documents whose field may satisfy the predicate (a superset: the filter still runs on them), in index order. */
  lookup(predicate: FieldPredicate): IndexLookup {
    const found = new Set<Document>();
    let keysExamined = 0;
    const visit = (_k: EntryKey, doc: Document): void => {
      keysExamined += 1;
      found.add(doc);
    };
    if (predicate.kind === 'in') {
      const values = [...predicate.values].sort(compareValues);
      for (const value of values) {
        this.tree.forRange(entryKey(value, -Infinity), entryKey(value, Infinity), true, visit);
      }
    } else {
      // A multikey field satisfies each bound with any element: {$gt: 5, $lt: 8} matches [1, 10],
      // so only one bound may narrow the scan (mongod does not intersect multikey bounds either).
      const low = predicate.low;
      const high = this.multikey && low !== undefined ? undefined : predicate.high;
      const lowBracket = low === undefined ? undefined : canonicalTypeOrder(low.value);
      const highBracket = high === undefined ? undefined : canonicalTypeOrder(high.value);
      // Comparisons are type-bracketed ({$gt: 5} never matches a string), so a single value
      // cannot sit between bounds of two types.
      if (lowBracket !== undefined && highBracket !== undefined && lowBracket !== highBracket) return { documents: [], keysExamined: 0 };
      const lowKey = low === undefined ? { rank: highBracket!, edge: -1 as const } : entryKey(low.value, low.inclusive ? -Infinity : Infinity);
      const highKey = high === undefined ? { rank: lowBracket!, edge: 1 as const } : entryKey(high.value, high.inclusive ? Infinity : -Infinity);
      if (compareKeys(lowKey, highKey) <= 0) this.tree.forRange(lowKey, highKey, true, visit);
    }
    return { documents: [...found], keysExamined };
  }
}
