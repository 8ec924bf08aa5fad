import type { Document, UUID } from 'bson';
import type { SessionRegistry } from '../sessions/sessionRegistry.js';
import type { Catalog, Hint, IndexSpec } from '../storage/catalog.js';
import { SessionsIndexes } from './sessionsIndexes.js';
import type { NamespaceReader } from '../storage/namespaceReader.js';
import { ViewCatalog, viewIsNotACollection } from '../storage/viewCatalog.js';
import type { ServerCounters } from './counters.js';
import type { ReplicaSet } from './replicaSet.js';
import { ID_INDEX } from '../storage/catalog.js';

/** What the catalog commands show of a collection: stored, or the sessions collection. */
export interface ListedCollection {
  readonly name: string;
  readonly uuid: UUID;
  readonly indexes: readonly IndexSpec[];
  documents(): Iterable<Document>;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The namespaces as commands see them: the catalog's stored collections, plus
 * config.system.sessions, which is the session registry's view (created, as mongod creates it,
 * at the first refresh). Storage never sees sessions; this view assembles the two. The views of
 * each database (kept in its system.views) are namespaces too, which are not collections.
 */
export class NamespaceView implements NamespaceReader {
  /** config.system.sessions' indexes: lsidTTLIndex set up at each refresh, others as users make them. */
  readonly sessionsIndexes: SessionsIndexes;
  /** The databases' views (create with viewOn, collMod, drop). */
  readonly views: ViewCatalog;

  constructor(
    private readonly catalog: Catalog,
    private readonly sessions: SessionRegistry,
    /** localLogicalSessionTimeoutMinutes: the sessions collection's TTL. */
    sessionTimeoutMinutes: () => number,
    private readonly counters: ServerCounters,
    /** With --replSet: local.oplog.rs and local.system.replset are its views. */
    private readonly replication?: ReplicaSet,
    /** The sessions collection's indexes of the view this one reads another catalog for (see over). */
    sessionsIndexes?: SessionsIndexes,
  ) {
    this.views = new ViewCatalog(catalog);
    if (sessionsIndexes !== undefined) {
      this.sessionsIndexes = sessionsIndexes;
      return;
    }
    this.sessionsIndexes = new SessionsIndexes(() => sessionTimeoutMinutes() * 60);
    sessions.onRefresh(() => this.sessionsIndexes.ensureTtlIndex());
  }

  /** The same namespaces over another catalog (a transaction's snapshot): its collections and views, the same sessions collection. */
  over(catalog: Catalog): NamespaceView {
    return new NamespaceView(catalog, this.sessions, () => 0, this.counters, this.replication, this.sessionsIndexes);
  }

  /**
   * Where createIndexes and dropIndexes act for a namespace: the stored collection, or the
   * sessions collection's indexes (creating an index there creates the collection, as in mongod).
   * A view has none: CommandNotSupportedOnView (166).
   */
  indexTarget(db: string, name: string): { readonly indexes: readonly IndexSpec[]; addIndex(spec: IndexSpec): void; dropIndex(name: string): boolean } | undefined {
    if (db === 'config' && name === 'system.sessions') return this.sessionsIndexes;
    if (this.views.lookup(db, name) !== undefined) throw viewIsNotACollection(db, name);
    return this.catalog.get(db, name);
  }

  /** Whether createIndexes on the namespace makes the sessions collection exist (it was not yet). */
  ensureSessionsCollection(db: string, name: string): boolean {
    if (db !== 'config' || name !== 'system.sessions' || this.sessions.collectionExists) return false;
    this.sessions.collectionExists = true;
    return true;
  }

  /**
   * config.system.sessions as listDatabases, listCollections, listIndexes and the stats commands
   * see it once the first refresh created it: mongod's collection with its `_id_` index and the
   * TTL index on `lastUse` (sessions_collection.cpp: lsidTTLIndex, the session timeout).
   */
  private sessionsCollection(): ListedCollection | undefined {
    const sessions = this.sessions;
    if (!sessions.collectionExists) return undefined;
    return { name: 'system.sessions', uuid: sessions.collectionUuid, indexes: this.sessionsIndexes.indexes, documents: () => sessions.collectionDocuments() };
  }

  /**
   * A replica set's collections in local: the oplog (capped, no `_id` index, as mongod creates it)
   * and the set's config document.
   */
  private replicationCollections(): ListedCollection[] {
    const rs = this.replication!;
    return [
      { name: 'oplog.rs', uuid: rs.oplogUuid, indexes: [], documents: () => rs.oplog.documents() },
      { name: 'system.replset', uuid: rs.configUuid, indexes: [ID_INDEX], documents: () => [rs.config()] },
    ];
  }

  /** The collections of a database as the catalog commands list them, by name. */
  collections(db: string): ListedCollection[] {
    const stored: ListedCollection[] = this.catalog.collections(db);
    const extra = db === 'config' ? this.sessionsCollection() : undefined;
    if (db === 'local' && this.replication !== undefined) return [...stored, ...this.replicationCollections()].sort(byName);
    if (extra === undefined) return stored;
    return [...stored, extra].sort(byName);
  }

  /** The one collection `db.name` as the catalog commands see it; a view is CommandNotSupportedOnView (166). */
  collection(db: string, name: string): ListedCollection | undefined {
    if (this.views.lookup(db, name) !== undefined) throw viewIsNotACollection(db, name);
    return this.collections(db).find((c) => c.name === name);
  }

  /** The databases the catalog commands list: the stored ones, and config once the sessions collection exists. */
  databases(): string[] {
    const names = this.catalog.databaseNames();
    if (this.sessions.collectionExists && !names.includes('config')) names.push('config');
    if (this.replication !== undefined && !names.includes('local')) names.push('local');
    return names.sort();
  }

  documents(db: string, collection: string): Iterable<Document> | undefined {
    if (db === 'config' && collection === 'system.sessions') {
      return this.sessions.collectionExists ? this.sessions.collectionDocuments() : undefined;
    }
    if (db === 'local' && this.replication !== undefined && (collection === 'oplog.rs' || collection === 'system.replset')) {
      return this.replicationCollections().find((c) => c.name === collection)!.documents();
    }
    return this.catalog.get(db, collection)?.documents();
  }

  /**
   * The documents of a namespace that a query can match, through an index where one applies, and
   * whether they already come in the `sort` order (an index walk). What the plan examines is
   * counted in serverStatus metrics.queryExecutor, as mongod counts it.
   */
  query(db: string, collection: string, filter: Document, hint?: Hint, sort?: Document): { documents: Iterable<Document>; sorted: boolean } | undefined {
    const stored = this.catalog.get(db, collection);
    if (stored === undefined) {
      const documents = this.documents(db, collection);
      return documents === undefined ? undefined : { documents, sorted: false };
    }
    const plan = stored.plan(filter, hint, sort);
    if (plan.kind === 'ordered') return { documents: this.countedAsRead(plan.documents), sorted: true };
    const scan = plan.kind === 'scan';
    this.counters.queryExamined(plan.keysExamined, scan ? stored.size : plan.documents.length, scan);
    if (scan) stored.collectionScans += 1;
    return { documents: plan.documents, sorted: false };
  }

  candidates(db: string, collection: string, filter: Document, hint?: Hint): Iterable<Document> | undefined {
    return this.query(db, collection, filter, hint)?.documents;
  }

  /** An index walk's documents, each counted as one key and one document examined when read. */
  private *countedAsRead(documents: Iterable<Document>): Generator<Document> {
    for (const doc of documents) {
      this.counters.queryExamined(1, 1, false);
      yield doc;
    }
  }
}
