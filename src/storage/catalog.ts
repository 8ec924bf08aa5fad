import { ObjectId, UUID, type Document } from 'bson';
import { canonicalKey } from '../query/bsonOrder.js';
import type { ServerContext } from '../serverContext.js';

/** One collection: documents in insertion order, keyed by their `_id` (the `_id_` index). */
export class Collection {
  readonly uuid = new UUID();
  private readonly byId = new Map<string, Document>();

  constructor(
    readonly db: string,
    readonly name: string,
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get size(): number {
    return this.byId.size;
  }

  documents(): IterableIterator<Document> {
    return this.byId.values();
  }

  /** The document with this `_id`, if any. */
  findById(id: unknown): Document | undefined {
    return this.byId.get(canonicalKey(id));
  }

  /** Adds a document whose `_id` is not taken (the caller checks, to report mongod's error). */
  add(doc: Document): void {
    this.byId.set(canonicalKey(doc._id), doc);
  }

  remove(doc: Document): boolean {
    return this.byId.delete(canonicalKey(doc._id));
  }
}

/** The databases and their collections, in memory. */
export class Catalog {
  private readonly databases = new Map<string, Map<string, Collection>>();

  get(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  /** The collection, created (with its database) if it does not exist yet. */
  ensure(db: string, name: string): Collection {
    let collections = this.databases.get(db);
    if (collections === undefined) {
      collections = new Map();
      this.databases.set(db, collections);
    }
    let collection = collections.get(name);
    if (collection === undefined) {
      collection = new Collection(db, name);
      collections.set(name, collection);
    }
    return collection;
  }

  drop(db: string, name: string): Collection | undefined {
    const collections = this.databases.get(db);
    const collection = collections?.get(name);
    if (collection === undefined) return undefined;
    collections!.delete(name);
    if (collections!.size === 0) this.databases.delete(db);
    return collection;
  }

  dropDatabase(db: string): boolean {
    return this.databases.delete(db);
  }

  databaseNames(): string[] {
    return [...this.databases.keys()].sort();
  }

  collections(db: string): Collection[] {
    return [...(this.databases.get(db)?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/**
 * The documents of a namespace, or undefined when the collection does not exist.
 * config.system.sessions is the sessions view of the registry, created (as mongod creates it)
 * at the first refresh; every other namespace is a stored collection.
 */
export function collectionDocuments(server: ServerContext, db: string, collection: string): Iterable<Document> | undefined {
  if (db === 'config' && collection === 'system.sessions') {
    return server.sessions.collectionExists ? server.sessions.collectionDocuments() : undefined;
  }
  return server.catalog.get(db, collection)?.documents();
}

/** A new document's `_id` first, generated when missing (mongod puts `_id` first on insert). */
export function withIdFirst(doc: Document): Document {
  const id = doc._id === undefined ? new ObjectId() : doc._id;
  const out: Document = { _id: id };
  for (const [k, v] of Object.entries(doc)) if (k !== '_id') out[k] = v;
  return out;
}
