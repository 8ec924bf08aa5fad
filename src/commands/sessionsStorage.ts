import { Binary, type Document } from 'bson';
import type { SessionRecord, SessionsCollectionChanges } from '../sessions/sessionRegistry.js';
import { indexDocument, readIndexSpec } from '../storage/durable/descriptor.js';
import type { DurableStore } from '../storage/durable/durableStore.js';
import type { Services } from './services.js';

// With --dbpath, config.system.sessions persists as mongod's does (durability-semantics.md §3):
// one entry per session document a refresh wrote (removed when the session expires or ends), and
// the collection's UUID and indexes, so a restart with a new localLogicalSessionTimeoutMinutes
// still shows the old TTL until the first refresh corrects it (sessions_collection_auto_healing.js).

const RECORDS = 'config.system.sessions';
const COLLECTION = 'config.system.sessions.collection';

/** The key of a session's entry (its registry key in hex); the entry holds its id, owner digest, user and lastUse. */
function entryKey(record: SessionRecord): string {
  return Buffer.from(record.key, 'latin1').toString('hex');
}

/** The registry's collectionChanges with --dbpath. */
export function sessionsCollectionChanges(durable: DurableStore): SessionsCollectionChanges {
  return {
    written(record) {
      const { id, uid } = record.lsid;
      const doc: Document = { id: new Binary(id, 4), uid: new Binary(uid), lastUse: new Date(record.persistedLastUse!) };
      if (record.user !== undefined) doc.user = record.user;
      durable.saveEntry(RECORDS, entryKey(record), doc);
    },
    removed(record) {
      durable.removeEntry(RECORDS, entryKey(record));
    },
  };
}

/** The sessions collection's indexes generation last saved, per server. */
const saved = new WeakMap<Services['sessions'], number>();

/** Start-up: the stored sessions collection (its records, UUID and indexes) back into the registry. */
export function loadSessions(services: Pick<Services, 'sessions' | 'namespaces' | 'durable'>): void {
  const { sessions, namespaces, durable } = services;
  if (durable === undefined) return;
  for (const doc of durable.entries(RECORDS)) {
    const lsid = { id: Buffer.from((doc.id as Binary).buffer), uid: Buffer.from((doc.uid as Binary).buffer) };
    sessions.restorePersisted(lsid, doc.user === undefined ? undefined : String(doc.user), (doc.lastUse as Date).getTime());
  }
  const collection = durable.state(COLLECTION);
  if (collection !== undefined) {
    sessions.collectionUuid = (collection.uuid as Binary).toUUID();
    sessions.collectionExists = true;
    namespaces.sessionsIndexes.restore((collection.indexes as Document[]).map(readIndexSpec));
  }
  saved.set(sessions, namespaces.sessionsIndexes.generation);
  // A refresh sets up the TTL index first (NamespaceView's listener); then the result is saved.
  sessions.onRefresh(() => saveSessionsCollectionIfChanged(services));
}

/** Saves the sessions collection's UUID and indexes when they changed since the last save. */
export function saveSessionsCollectionIfChanged(services: Pick<Services, 'sessions' | 'namespaces' | 'durable'>): void {
  const { sessions, namespaces, durable } = services;
  const generation = namespaces.sessionsIndexes.generation;
  if (durable === undefined || saved.get(sessions) === generation || !sessions.collectionExists) return;
  const secondary = namespaces.sessionsIndexes.indexes.filter((spec) => spec.name !== '_id_');
  durable.saveState(COLLECTION, { uuid: sessions.collectionUuid, indexes: secondary.map(indexDocument) });
  saved.set(sessions, generation);
}
