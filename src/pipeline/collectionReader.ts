import type { Document } from 'bson';
import { runPipeline } from '../query/aggregation/run.js';
import type { NamespaceReader } from '../storage/namespaceReader.js';
import type { ViewCatalog } from '../storage/viewCatalog.js';

/**
 * How a pipeline's $lookup, $graphLookup and $unionWith read the collections of its database
 * (mingo's collection resolver). A missing foreign collection reads as an empty one, as in mongod.
 * A view reads as its pipeline's output over the collection under it (mongod puts the resolved
 * view's pipeline in front of the stage's own), with the view's collation and the command's NOW.
 */
export function collectionReader(namespaces: NamespaceReader, db: string, views?: ViewCatalog, now?: Date): (name: string) => Iterable<Document> {
  const read = (name: string): Iterable<Document> => {
    const view = views?.resolve(db, name);
    if (view === undefined) return namespaces.documents(db, name) ?? [];
    return runPipeline(view.pipeline, namespaces.documents(db, view.collection) ?? [], { collection: read, collation: view.collation, now });
  };
  return read;
}
