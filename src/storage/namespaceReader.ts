import type { Document } from 'bson';
import type { Hint } from './catalog.js';

/**
 * How code below the commands reads a namespace without knowing what serves it: a stored
 * collection, or a view the commands layer assembles (config.system.sessions). Aggregation
 * stages ($lookup, $merge, $collStats) take one of these.
 */
export interface NamespaceReader {
  /** The documents of `db.collection`, or undefined when it does not exist. */
  documents(db: string, collection: string): Iterable<Document> | undefined;
  /** The documents a filter can match, through an index where one applies (the filter still applies to them). */
  candidates(db: string, collection: string, filter: Document, hint?: Hint): Iterable<Document> | undefined;
}
