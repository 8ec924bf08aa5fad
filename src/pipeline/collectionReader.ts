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
  return new CollectionReader(namespaces, db, views, now).read;
}

/** A class with a bound method rather than a closure: the bundle names each named closure as it is made, once per command here. */
class CollectionReader {
  readonly read: (name: string) => Iterable<Document>;

  constructor(
    private readonly namespaces: NamespaceReader,
    private readonly db: string,
    private readonly views: ViewCatalog | undefined,
    private readonly now: Date | undefined,
  ) {
    this.read = this.documents.bind(this);
  }

  private documents(name: string): Iterable<Document> {
    const view = this.views?.resolve(this.db, name);
    if (view === undefined) return this.namespaces.documents(this.db, name) ?? [];
    return runPipeline(view.pipeline, this.namespaces.documents(this.db, view.collection) ?? [], { collection: this.read, collation: view.collation, now: this.now });
  }
}
