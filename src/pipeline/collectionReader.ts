import type { Document } from 'bson';
import type { NamespaceReader } from '../storage/namespaceReader.js';

/**
 * How a pipeline's $lookup, $graphLookup and $unionWith read the collections of its database
 * (mingo's collection resolver). A missing foreign collection reads as an empty one, as in mongod.
 */
export function collectionReader(namespaces: NamespaceReader, db: string): (name: string) => Iterable<Document> {
  return (name) => namespaces.documents(db, name) ?? [];
}
