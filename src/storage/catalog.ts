import type { Document } from 'bson';
import type { ServerContext } from '../serverContext.js';

/**
 * The collections that exist, as document sources. There is no general storage yet, so the only
 * collection is config.system.sessions: the sessions view of the registry, created (as mongod
 * creates it) at the first refresh. Every other namespace does not exist, and reads of it find
 * nothing, as reads of a missing collection do in mongod.
 */
export function collectionDocuments(server: ServerContext, db: string, collection: string): Iterable<Document> | undefined {
  if (db === 'config' && collection === 'system.sessions') {
    return server.sessions.collectionExists ? server.sessions.collectionDocuments() : undefined;
  }
  return undefined;
}
