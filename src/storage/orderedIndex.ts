import { BSONRegExp, Double, Int32, Long, ObjectId, type Document } from 'bson';
import { canonicalTypeOrder, compareValues } from '../bson/bsonOrder.js';
import { BTree, type Tree } from './btree.js';
import { addPosting, firstPosting, postingCount, postingDocs, postingsInOrder, removePosting, type Posting, type Postings } from './postings.js';

/** Branching factor: wider nodes than the library's 32 make lookups among a million keys about twice as fast. */
const NODE_SIZE = 64;

/** Keys carry twice the canonical type order, leaving the odd ranks between types for bracket edges. */
const NUMBER_RANK = 2 * canonicalTypeOrder(0);

/**
 * A key in the tree: one indexed value, shared by every document that holds a value equal to it
 * (their postings sit under it). A number that a double orders exactly is the JS number itself,
 * so comparisons between such keys touch no object (the cache misses that made lookups among a
 * million keys slow); any other value is boxed with its canonical type `rank`, its exact double
 * `num` when it has one (a date) and `hex` for an ObjectId, so most comparisons skip the full
 * BSON comparison. A rank one off a type's marks the start or end of its bracket: a bound for
 * one-sided ranges.
 */
export type IndexKey = number | BoxedKey;

interface BoxedKey {
  readonly rank: number;
  readonly num: number | undefined;
  readonly hex: string | undefined;
  readonly value: unknown;
  /**
   * The document a key was made to file, and its insertion number: such a key is that document's
   * posting too (so a unique value costs one object). A lookup's key has none (seq -1).
   */
  readonly seq: number;
  readonly doc: Document | undefined;
}

/** The key of `value`; with `doc`, a key that is also the posting of `doc` under it (see BoxedKey). */
export function keyOf(value: unknown, seq = -1, doc?: Document): IndexKey {
  const rank = 2 * canonicalTypeOrder(value);
  const num = exactNumber(value);
  if (rank === NUMBER_RANK && num !== undefined) return num;
  return { rank, num, hex: value instanceof ObjectId ? value.toHexString() : undefined, value, seq, doc };
}

/** Before (-1) or after (1) every value of canonical type order `type`. */
function edgeKey(type: number, edge: -1 | 1): BoxedKey {
  return { rank: 2 * type + edge, num: undefined, hex: undefined, value: undefined, seq: -1, doc: undefined };
}

/** The posting of `doc` filed under `key` (made by keyOf with the document): the key itself when it is an object. */
function postingOf(key: IndexKey, seq: number, doc: Document): Posting {
  return typeof key === 'number' ? { seq, doc } : (key as Posting);
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

/**
 * The order of index keys; also that of the trees keyed by RecordIds (records.ts, capped.ts),
 * which are plain numbers to it, and of unique indexes' tables (uniqueIndex.ts). sorted-btree
 * calls every tree's comparator from the same few places, which V8 keeps fast only while they
 * meet one function: a second one made index lookups some 15 % slower.
 */
export function compareKeys(a: IndexKey, b: IndexKey): number {
  if (typeof a === 'number') {
    if (typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
    return -compareWithNumber(b, a);
  }
  if (typeof b === 'number') return compareWithNumber(a, b);
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  if (a.num !== undefined && b.num !== undefined) return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  // ObjectIds order by their 12 bytes, which their hex strings order alike.
  if (a.hex !== undefined && b.hex !== undefined) return a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0;
  return compareValues(a.value, b.value);
}

/** A boxed key against a plain number (a boxed number is one no double holds exactly: NaN, a decimal, a long past 2^53). */
function compareWithNumber(a: BoxedKey, b: number): number {
  if (a.rank !== NUMBER_RANK) return a.rank < NUMBER_RANK ? -1 : 1;
  return compareValues(a.value, b);
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
 * An index's lookup structure over its first field: a B-tree from each distinct value documents
 * hold there to those documents, in insertion order (array elements each count: the index is
 * multikey once any document holds an array, as mongod marks it). Documents that lack the field
 * are keyed by null, as mongod keys them, unless the index is sparse. Each (value, document) pair
 * is one index key, as mongod counts keys.
 *
 * clone() is O(1): the clone shares the tree's nodes (sorted-btree copies a shared node before
 * changing it) and so its keys and postings, which are never changed in place except a posting
 * tree carrying this index's `owner` token (postings.ts).
 */
export class OrderedIndex {
  private tree: Tree<IndexKey, Postings> = new BTree<IndexKey, Postings>(undefined, compareKeys, NODE_SIZE);
  /** Marks the posting trees only this index holds; a new one at every clone, when they become shared. */
  private owner: object = {};
  private readonly parts: readonly string[];
  /** Index keys: (value, document) pairs. */
  private keys = 0;
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

  /** An independent copy, in O(1): later changes to either do not show in the other. */
  clone(): OrderedIndex {
    const copy = new OrderedIndex(this.field, this.sparse);
    copy.tree = this.tree.clone();
    copy.keys = this.keys;
    copy.multikey = this.multikey;
    this.owner = {};
    return copy;
  }

  /** How many index keys it holds: one per distinct value per document. */
  get size(): number {
    return this.keys;
  }

  private keysOf(doc: Document): unknown[] {
    const values: unknown[] = [];
    if (valuesAtPath(doc, this.parts, 0, values)) this.multikey = true;
    if (values.length === 0) return this.sparse ? [] : [null];
    return values;
  }

  /** Adds a document under its collection-wide insertion number. */
  add(doc: Document, seq: number): void {
    for (const value of this.keysOf(doc)) {
      const key = keyOf(value, seq, doc);
      this.addPosting(key, postingOf(key, seq, doc));
    }
  }

  /** Files a posting under its key; a second posting for the same document (equal array elements) is one key. */
  private addPosting(key: IndexKey, posting: Posting): void {
    const tree = this.tree;
    if (tree.set(key, posting, false)) {
      this.keys += 1;
      return;
    }
    const held = tree.get(key)!;
    const next = addPosting(held, posting, this.owner);
    if (next === undefined) return;
    if (next !== held) tree.set(key, next);
    this.keys += 1;
  }

  remove(doc: Document, seq: number): void {
    const tree = this.tree;
    for (const value of this.keysOf(doc)) {
      const key = keyOf(value);
      const held = tree.get(key);
      const next = held === undefined ? undefined : removePosting(held, seq, this.owner);
      if (next === undefined) continue;
      // The stored key may be the removed document's posting, and the tree's inner nodes keep
      // their subtrees' last keys: deleted and set again, the key holds no document anywhere.
      tree.delete(key);
      if (next !== null) tree.set(key, next);
      this.keys -= 1;
    }
  }

  /** Builds the index over existing documents: sorted first, since in-order inserts into the tree cost far less. */
  build(documents: Iterable<readonly [number, Document]>): void {
    const entries: Array<[IndexKey, Posting]> = [];
    for (const [seq, doc] of documents) {
      for (const value of this.keysOf(doc)) {
        const key = keyOf(value, seq, doc);
        entries.push([key, postingOf(key, seq, doc)]);
      }
    }
    entries.sort((x, y) => compareKeys(x[0], y[0]) || x[1].seq - y[1].seq);
    this.tree = new BTree<IndexKey, Postings>(undefined, compareKeys, NODE_SIZE);
    this.keys = 0;
    for (const [key, posting] of entries) this.addPosting(key, posting);
  }

  /** The first document filed under `value`, with its insertion number: the `_id_` index files one per value. */
  first(value: unknown): Posting | undefined {
    const held = this.tree.get(keyOf(value));
    return held === undefined ? undefined : firstPosting(held);
  }

  /** Every document, read lazily in index order (or its reverse): a sort the index gives, cut short by a limit. */
  *inOrder(descending: boolean): Generator<Document> {
    for (const [, held] of descending ? this.tree.entriesReversed() : this.tree.entries()) yield* postingsInOrder(held, descending);
  }

  /** Every document the index holds, in index order (a hinted index with no condition on its field). */
  all(): IndexLookup {
    const found = new Set<Document>();
    let keysExamined = 0;
    this.tree.forEachPair((_k, held) => {
      keysExamined += visitPostings(held, found);
    });
    return { documents: [...found], keysExamined };
  }

  /** The documents whose field may satisfy the predicate (a superset: the filter still runs on them), in index order. */
  lookup(predicate: FieldPredicate): IndexLookup {
    if (predicate.kind === 'in' && predicate.values.length === 1) {
      // One value: one key, whose documents are all distinct.
      const held = this.tree.get(keyOf(predicate.values[0]));
      const documents = held === undefined ? [] : postingDocs(held);
      return { documents, keysExamined: documents.length };
    }
    const found = new Set<Document>();
    let keysExamined = 0;
    if (predicate.kind === 'in') {
      const values = [...predicate.values].sort(compareValues);
      for (const value of values) {
        const held = this.tree.get(keyOf(value));
        if (held !== undefined) keysExamined += visitPostings(held, found);
      }
      return { documents: [...found], keysExamined };
    }
    // A multikey field satisfies each bound with any element: {$gt: 5, $lt: 8} matches [1, 10],
    // so only one bound may narrow the scan (mongod does not intersect multikey bounds either).
    const low = predicate.low;
    const high = this.multikey && low !== undefined ? undefined : predicate.high;
    const lowBracket = low === undefined ? undefined : canonicalTypeOrder(low.value);
    const highBracket = high === undefined ? undefined : canonicalTypeOrder(high.value);
    // Comparisons are type-bracketed ({$gt: 5} never matches a string), so a single value
    // cannot sit between bounds of two types.
    if (lowBracket !== undefined && highBracket !== undefined && lowBracket !== highBracket) return { documents: [], keysExamined: 0 };
    const lowKey = low === undefined ? edgeKey(highBracket!, -1) : keyOf(low.value);
    const highKey = high === undefined ? edgeKey(lowBracket!, 1) : keyOf(high.value);
    const lowInclusive = low === undefined || low.inclusive;
    const highInclusive = high === undefined || high.inclusive;
    const order = compareKeys(lowKey, highKey);
    if (order > 0 || (order === 0 && !(lowInclusive && highInclusive))) return { documents: [], keysExamined: 0 };
    // An exclusive low bound passes over its own key, the first one the range meets.
    let atLow = !lowInclusive;
    this.tree.forRange(lowKey, highKey, highInclusive, (key, held) => {
      if (atLow) {
        atLow = false;
        if (compareKeys(key, lowKey) === 0) return;
      }
      keysExamined += visitPostings(held, found);
    });
    return { documents: [...found], keysExamined };
  }
}

/** Adds a key's documents to `found`, in insertion order; returns how many index keys that examined. */
function visitPostings(held: Postings, found: Set<Document>): number {
  for (const doc of postingsInOrder(held, false)) found.add(doc);
  return postingCount(held);
}
