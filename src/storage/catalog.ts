import { Int32, ObjectId, UUID, type Document } from 'bson';
import { setField } from '../bson/fields.js';
import { bsonText } from '../bson/bsonText.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { compareDocuments } from '../bson/bsonOrder.js';
import { isPlainValue, OrderedIndex } from './orderedIndex.js';
import { UniqueIndex } from './uniqueIndex.js';
import { fieldPredicates } from './queryPlan.js';
import { CappedRecords, type CappedOptions } from './capped.js';
import { Records } from './records.js';
import type { ValidationOptions } from './validation.js';
import { sortFields } from '../query/sort.js';

/** An index as listIndexes shows it. */
export interface IndexSpec {
  readonly name: string;
  readonly key: Document;
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partialFilterExpression?: Document;
  readonly expireAfterSeconds?: number;
  /** The index's collation, as listIndexes shows it (every option filled in); absent for the simple one. */
  readonly collation?: Document;
  /** Hidden from the query planner (and from hints), still maintained and enforced. */
  readonly hidden?: boolean;
  /** Other options kept as given for listIndexes (text and geo settings). */
  readonly options?: Document;
}

/** The value at a dotted path, through the document's own fields (undefined when missing). */
export function valueAt(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Document)[part];
  }
  return value;
}

/**
 * mongod's DuplicateKey error: "E11000 duplicate key error collection: db.c index: a_1 dup key: { a: 1 }"
 * (index_entry_comparison.cpp buildDupKeyErrorStatus). Under an index's collation mongod names the
 * collation and hex-encodes the string keys, which it holds as ICU collation keys; Intl.Collator
 * has no collation keys, so here the hex is of the document's own UTF-8 string (a client that
 * decodes `hexEncoded` keys gets the stored string back).
 */
function duplicateKeyError(ns: string, index: IndexSpec, keyValue: Document): MongoError {
  if (index.collation === undefined) {
    return new MongoError(
      ErrorCodes.DuplicateKey,
      `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: ${bsonText(keyValue)}`,
      { keyPattern: index.key, keyValue },
    );
  }
  const shown: Document = {};
  const hexKey: Document = {};
  const hexEncoded: boolean[] = [];
  for (const [field, value] of Object.entries(keyValue)) {
    const hex = typeof value === 'string' ? Buffer.from(value, 'utf8').toString('hex') : undefined;
    shown[field] = hex === undefined ? value : `0x${hex}`;
    hexKey[field] = hex ?? value;
    hexEncoded.push(hex !== undefined);
  }
  const info: Document = { keyPattern: index.key, keyValue: hexKey };
  if (hexEncoded.includes(true)) info.hexEncoded = hexEncoded;
  info.collation = index.collation;
  return new MongoError(
    ErrorCodes.DuplicateKey,
    `E11000 duplicate key error collection: ${ns} index: ${index.name} collation: ${bsonText(index.collation)} dup key: ${bsonText(shown)}`,
    info,
  );
}

/** A hint, resolved: an index, or {$natural} (a collection scan). */
export type Hint = IndexSpec | 'natural';

/** How a query finds its documents (explain shows it): by `_id`, through an index, or by a scan. */
export type QueryPlan =
  | { readonly kind: 'id'; readonly documents: readonly Document[]; readonly keysExamined: number }
  | { readonly kind: 'scan'; readonly documents: Iterable<Document>; readonly keysExamined: number }
  | { readonly kind: 'index'; readonly index: IndexSpec; readonly multikey: boolean; readonly documents: readonly Document[]; readonly keysExamined: number }
  /** A walk of a whole index that gives the query's sort order: read lazily, so a limit ends it. */
  | { readonly kind: 'ordered'; readonly index: IndexSpec; readonly direction: 1 | -1; readonly documents: Iterable<Document> };

export const ID_INDEX: IndexSpec = { name: '_id_', key: { _id: new Int32(1) }, unique: true, sparse: false };

/**
 * Where a catalog's changes go to be made durable (storage/durable with --dbpath); an in-memory
 * server has none. Records are named as mongod names them: by the collection's UUID and the
 * document's RecordId (its insertion number, kept across replacements).
 */
export interface CatalogChanges {
  /** A document was stored as record `seq`: inserted, or replaced in place (`replaced` is the old version). */
  written(collection: Collection, seq: number, doc: Document, replaced?: Document): void;
  removed(collection: Collection, seq: number, doc: Document): void;
  /** The collection was created, or its options or indexes changed. */
  described(collection: Collection): void;
  dropped(collection: Collection): void;
}

/** What a collection is created with (a stored one brings back its UUID). */
export interface CollectionOptions {
  readonly capped?: CappedOptions;
  readonly uuid?: UUID;
}

/**
 * One collection: documents in insertion order (by RecordId), found by `_id` through the `_id_`
 * index, plus its secondary indexes. Unique indexes are enforced on every write.
 *
 * clone() is O(number of indexes): every structure holding documents is a copy-on-write tree
 * (records.ts, orderedIndex.ts, uniqueIndex.ts, capped.ts) cloned in O(1); the index specs and
 * the validation options are never changed in place, only replaced, so both copies share them.
 */
export class Collection {
  readonly uuid: UUID;
  /** Each document under its insertion number, mongod's RecordId: its natural order, and its place among equal keys in every index. */
  private records = new Records();
  private secondary: IndexSpec[] = [];
  private unique: UniqueIndex[] = [];
  /** The `_id_` index: `_id` → the document and its RecordId. */
  private idIndex = new OrderedIndex('_id', false);
  /**
   * Lookup trees of the indexes that can answer queries: `_id_` first, then the secondary ones
   * that are not partial (those miss documents).
   */
  private ordered: Array<{ readonly spec: IndexSpec; readonly index: OrderedIndex }> = [{ spec: ID_INDEX, index: this.idIndex }];
  private nextSeq = 0;
  /** Collection scans run on it ($collStats queryExecStats). */
  collectionScans = 0;
  /** How many of them were tailable (not counted as "nonTailable"). */
  tailableScans = 0;
  private cappedRecords: CappedRecords | undefined;
  private validationOptions: ValidationOptions = {};
  /** Set while the collection is in a catalog that keeps its changes (see CatalogChanges). */
  changes: CatalogChanges | undefined = undefined;

  constructor(
    readonly db: string,
    readonly name: string,
    capped?: CappedOptions,
    uuid?: UUID,
  ) {
    this.cappedRecords = capped === undefined ? undefined : new CappedRecords(capped);
    this.uuid = uuid ?? new UUID();
  }

  /**
   * An independent copy, in O(number of indexes): same UUID, documents, RecordIds, indexes,
   * validation and capped records; writes to either do not show in the other. The copy keeps no
   * changes (it is not durable), counts from zero and has nobody waiting for its inserts.
   */
  clone(): Collection {
    const copy = new Collection(this.db, this.name, undefined, this.uuid);
    copy.records = this.records.clone();
    copy.secondary = [...this.secondary];
    copy.unique = this.unique.map((index) => index.clone());
    copy.ordered = this.ordered.map(({ spec, index }) => ({ spec, index: index.clone() }));
    copy.idIndex = copy.ordered[0]!.index;
    copy.nextSeq = this.nextSeq;
    copy.cappedRecords = this.cappedRecords?.clone();
    copy.validationOptions = this.validationOptions;
    return copy;
  }

  /** Set for a capped collection: its limits, natural order and insert notifier (storage/capped.ts). */
  get capped(): CappedRecords | undefined {
    return this.cappedRecords;
  }

  /** Keeps its changes in `changes` from now on, which first hears of the whole collection: its description and every record. */
  keepChangesIn(changes: CatalogChanges): void {
    this.changes = changes;
    changes.described(this);
    for (const [seq, doc] of this.records.entries()) changes.written(this, seq, doc);
  }

  /** Document validation: the validator, its level and action (create, collMod); none by default. */
  get validation(): ValidationOptions {
    return this.validationOptions;
  }

  set validation(options: ValidationOptions) {
    this.validationOptions = options;
    this.changes?.described(this);
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get size(): number {
    return this.records.size;
  }

  /** The documents in natural order, as they are when called (later writes do not show). */
  documents(): IterableIterator<Document> {
    return this.records.values();
  }

  /** The document with this `_id`, if any. */
  findById(id: unknown): Document | undefined {
    return this.idIndex.first(id)?.doc;
  }

  /**
   * How a filter's documents are found, and the documents it can possibly match (the filter is
   * still applied to them): the `_id_` index when `_id` is pinned to one plain value (at most one
   * document; `_id` is never an array), else an index (`_id_` or a secondary one) whose first
   * field the filter constrains (equalities before ranges, then the oldest index, where mongod would race plans),
   * else a walk of an index that gives the `sort` (binary order: callers pass no sort under a
   * collation), else every document.
   */
  plan(filter: Document, hint?: Hint, sort?: Document): QueryPlan {
    if (hint !== undefined) return this.hintedPlan(filter, hint);
    if ('_id' in filter && isPlainValue(filter._id)) {
      const doc = this.findById(filter._id);
      return { kind: 'id', documents: doc === undefined ? [] : [doc], keysExamined: doc === undefined ? 0 : 1 };
    }
    const predicates = fieldPredicates(filter);
    let best: { spec: IndexSpec; index: OrderedIndex; rank: number } | undefined;
    for (const { spec, index } of this.ordered) {
      const predicate = predicates.get(index.field);
      if (predicate === undefined || !index.usable || spec.hidden === true) continue;
      const rank = predicate.kind === 'in' ? 0 : 1;
      if (best === undefined || rank < best.rank) best = { spec, index, rank };
    }
    if (best === undefined) return this.orderedPlan(sort) ?? { kind: 'scan', documents: this.documents(), keysExamined: 0 };
    const { documents, keysExamined } = best.index.lookup(predicates.get(best.index.field)!);
    return { kind: 'index', index: best.spec, multikey: best.index.multikey, documents, keysExamined };
  }

  /**
   * A walk of the index on a one-field sort's field, when its order is the sort's: the index
   * holds every document (not sparse or partial) and no arrays (not multikey), so its key order
   * is mongod's sort order, null and missing first.
   */
  private orderedPlan(sort: Document | undefined): QueryPlan | undefined {
    const fields = sort === undefined ? undefined : sortFields(sort);
    if (fields === undefined || fields.length !== 1) return undefined;
    const path = fields[0]!.parts.join('.');
    const found = this.ordered.find(({ spec, index }) => index.field === path && index.usable && !index.multikey && !spec.sparse && spec.hidden !== true);
    if (found === undefined) return undefined;
    const descending = fields[0]!.descending;
    return { kind: 'ordered', index: found.spec, direction: descending ? -1 : 1, documents: { [Symbol.iterator]: () => found.index.inOrder(descending) } };
  }

  /**
   * The index a hint names (by name or key pattern), `natural` for {$natural: ±1}, or undefined
   * when no index matches (the caller answers mongod's BadValue).
   */
  hintedIndex(hint: string | Document): IndexSpec | 'natural' | undefined {
    if (typeof hint !== 'string' && '$natural' in hint) return 'natural';
    // A hidden index cannot be hinted: to the planner it does not exist.
    return this.indexes.find((spec) => spec.hidden !== true && (typeof hint === 'string' ? spec.name === hint : compareDocuments(spec.key, hint) === 0));
  }

  /**
   * The plan a hint forces, as mongod's planner builds it: {$natural} scans; an index is used
   * whether or not the filter constrains it (then every key, in index order: a sparse index
   * returns only the documents it holds, as in mongod); partial indexes fall back to a scan.
   */
  private hintedPlan(filter: Document, hint: Hint): QueryPlan {
    if (hint === 'natural') return { kind: 'scan', documents: this.documents(), keysExamined: 0 };
    if (hint.name === ID_INDEX.name && '_id' in filter && isPlainValue(filter._id)) return this.plan(filter);
    const ordered = this.ordered.find((o) => o.spec.name === hint.name);
    if (ordered === undefined || !ordered.index.usable) return { kind: 'scan', documents: this.documents(), keysExamined: 0 };
    const predicate = fieldPredicates(filter).get(ordered.index.field);
    const { documents, keysExamined } = predicate === undefined ? ordered.index.all() : ordered.index.lookup(predicate);
    return { kind: 'index', index: hint, multikey: ordered.index.multikey, documents, keysExamined };
  }

  get indexes(): readonly IndexSpec[] {
    return [ID_INDEX, ...this.secondary];
  }

  /** Throws mongod's DuplicateKey if `doc` would break a unique index (`replacing` is the version it replaces). */
  private checkUnique(doc: Document, replacing?: Document): void {
    const holder = this.findById(doc._id);
    if (holder !== undefined && holder !== replacing) throw duplicateKeyError(this.ns, ID_INDEX, { _id: doc._id });
    for (const index of this.unique) {
      const kv = index.conflict(doc, replacing);
      if (kv !== undefined) throw duplicateKeyError(this.ns, index.spec, kv);
    }
  }

  add(doc: Document): void {
    this.checkUnique(doc);
    const seq = this.nextSeq++;
    this.records.set(seq, doc);
    for (const index of this.unique) index.add(doc);
    for (const { index } of this.ordered) index.add(doc, seq);
    this.changes?.written(this, seq, doc);
    if (this.capped !== undefined) {
      // The oldest documents go after each insert, then tailing cursors wake (mongod's order).
      for (const oldest of this.capped.inserted(seq, doc)) this.remove(oldest);
      this.capped.notifyInsert();
    }
  }

  /**
   * Puts back a document read from durable storage as record `seq` (start-up, in record order):
   * no checks (it was checked when written) and no change to record. The lookup trees (the
   * `_id_` index too: findById finds nothing until then) are built once afterwards (restored()),
   * which is several times faster than a million single inserts.
   */
  restore(doc: Document, seq: number): void {
    this.records.set(seq, doc);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    this.capped?.inserted(seq, doc);
  }

  /** Every document is restored: the lookup trees are built over them. */
  restored(): void {
    for (const { index } of this.ordered) index.build(this.records.entries());
  }

  /** Replaces a stored document by its new version (same `_id`), keeping unique indexes. */
  replace(old: Document, next: Document): void {
    this.checkUnique(next, old);
    const seq = this.idIndex.first(old._id)!.seq;
    for (const index of this.unique) index.remove(old);
    for (const { index } of this.ordered) index.remove(old, seq);
    this.records.set(seq, next);
    for (const index of this.unique) index.add(next);
    for (const { index } of this.ordered) index.add(next, seq);
    this.capped?.replaced(seq, next);
    this.changes?.written(this, seq, next, old);
  }

  /** Removes a stored document (this very object); false when it is not stored. */
  remove(doc: Document): boolean {
    const stored = this.idIndex.first(doc._id);
    if (stored?.doc !== doc) return false;
    const seq = stored.seq;
    for (const index of this.unique) index.remove(doc);
    for (const { index } of this.ordered) index.remove(doc, seq);
    this.records.delete(seq);
    this.capped?.removed(seq);
    this.changes?.removed(this, seq, doc);
    return true;
  }

  /** Adds a secondary index; a unique one is built from the documents (DuplicateKey if they clash). */
  addIndex(spec: IndexSpec): void {
    // index_catalog_impl.cpp prepareSpecForCreate (7.0; 7.1 lifts it).
    if (this.capped !== undefined && spec.expireAfterSeconds !== undefined) {
      throw new MongoError(ErrorCodes.CannotCreateIndex, 'Cannot create TTL index on a capped collection');
    }
    if (spec.unique) {
      const index = new UniqueIndex(spec);
      for (const [, doc] of this.records.entries()) {
        const kv = index.conflict(doc);
        if (kv !== undefined) throw duplicateKeyError(this.ns, spec, kv);
        index.add(doc);
      }
      this.unique.push(index);
    }
    if (spec.partialFilterExpression === undefined) {
      const index = new OrderedIndex(Object.keys(spec.key)[0]!, spec.sparse);
      index.build(this.records.entries());
      this.ordered.push({ spec, index });
    }
    this.secondary.push(spec);
    this.changes?.described(this);
  }

  dropIndex(name: string): boolean {
    const i = this.secondary.findIndex((s) => s.name === name);
    if (i < 0) return false;
    this.secondary.splice(i, 1);
    const u = this.unique.findIndex((x) => x.spec.name === name);
    if (u >= 0) this.unique.splice(u, 1);
    const o = this.ordered.findIndex((x) => x.spec.name === name);
    if (o >= 0) this.ordered.splice(o, 1);
    this.changes?.described(this);
    return true;
  }
}

type Databases = Map<string, Map<string, Collection>>;

/** A clone of every collection (Collection.clone), under the same names. */
function cloneDatabases(databases: Databases): Databases {
  return new Map([...databases].map(([db, collections]) => [db, new Map([...collections].map(([name, collection]) => [name, collection.clone()]))]));
}

/** The databases and their collections, in memory (and through `changes`, on disk). */
export class Catalog {
  private databases: Databases = new Map();

  constructor(private readonly changes?: CatalogChanges) {}

  /**
   * An independent copy holding a clone of every collection, in O(number of collections). Its
   * changes (writes to the clones and to collections created in it) go to `changes`, if given,
   * from then on (a transaction records its writes so).
   */
  clone(changes?: CatalogChanges): Catalog {
    const copy = new Catalog(changes);
    copy.databases = cloneDatabases(this.databases);
    if (changes !== undefined) for (const collections of copy.databases.values()) for (const collection of collections.values()) collection.changes = changes;
    return copy;
  }

  /**
   * Makes this catalog hold clones of `source`'s collections in place of its own (a restore: the
   * catalog object stays, as the services hold it). Its collections are dropped; with a changes
   * sink, it hears each of them dropped, then each new one described and its every record written,
   * so a durable store ends up holding `source`'s state (this costs O(documents) then).
   */
  replaceWith(source: Catalog): void {
    const databases = cloneDatabases(source.databases);
    for (const collections of this.databases.values()) for (const collection of collections.values()) this.forget(collection);
    this.databases = databases;
    const changes = this.changes;
    if (changes === undefined) return;
    for (const collections of databases.values()) for (const collection of collections.values()) collection.keepChangesIn(changes);
  }

  get(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  /** The collection, created (with its database) if it does not exist yet. */
  ensure(db: string, name: string): Collection {
    return this.get(db, name) ?? this.create(db, name);
  }

  /** A new collection (with its database) under a name that is free, capped when `options.capped` says so. */
  create(db: string, name: string, options: CollectionOptions = {}): Collection {
    let collections = this.databases.get(db);
    if (collections === undefined) {
      collections = new Map();
      this.databases.set(db, collections);
    }
    const collection = new Collection(db, name, options.capped, options.uuid);
    collections.set(name, collection);
    if (this.changes !== undefined) collection.keepChangesIn(this.changes);
    return collection;
  }

  drop(db: string, name: string): Collection | undefined {
    const collections = this.databases.get(db);
    const collection = collections?.get(name);
    if (collection === undefined) return undefined;
    collections!.delete(name);
    if (collections!.size === 0) this.databases.delete(db);
    this.forget(collection);
    return collection;
  }

  private forget(collection: Collection): void {
    if (collection.changes === undefined) return;
    collection.changes.dropped(collection);
    collection.changes = undefined;
  }

  /** Moves a collection (documents and indexes) to a new namespace. */
  rename(fromDb: string, fromName: string, toDb: string, toName: string): void {
    const source = this.drop(fromDb, fromName);
    if (source === undefined) return;
    const target = this.create(toDb, toName, { capped: source.capped?.options });
    target.validation = source.validation;
    for (const index of source.indexes) if (index.name !== '_id_') target.addIndex(index);
    for (const doc of source.documents()) target.add(doc);
  }

  dropDatabase(db: string): boolean {
    const collections = this.databases.get(db);
    if (collections === undefined) return false;
    for (const collection of collections.values()) this.forget(collection);
    return this.databases.delete(db);
  }

  databaseNames(): string[] {
    return [...this.databases.keys()].sort();
  }

  collections(db: string): Collection[] {
    return [...(this.databases.get(db)?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** A new document's `_id` first, generated when missing (mongod puts `_id` first on insert). */
export function withIdFirst(doc: Document): Document {
  const id = doc._id === undefined ? new ObjectId() : doc._id;
  const out: Document = { _id: id };
  for (const key in doc) if (key !== '_id') setField(out, key, doc[key]);
  return out;
}
