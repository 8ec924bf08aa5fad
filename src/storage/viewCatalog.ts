import type { Document } from 'bson';
import { compareDocuments } from '../bson/bsonOrder.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { Catalog } from './catalog.js';

// Views, as mongod keeps them (src/mongo/db/views/view.h, view_graph.cpp,
// view_catalog_helpers.cpp resolveView, catalog/views_for_database.cpp): a database's view
// definitions are the documents of its `system.views` collection, {_id: "db.name", viewOn,
// pipeline, collation?}, so that listing, dropping the database, dropping system.views and
// snapshots treat them as data. The catalog checks the graph the views form (cycles, depth,
// collations); what a pipeline reads besides `viewOn` is told by the caller (storage does not
// parse pipelines).

/** The collection of a database that holds its view definitions. */
export const SYSTEM_VIEWS = 'system.views';

/** ViewGraph::kMaxViewDepth: the longest chain of views (a view over a view ... over a collection). */
export const MAX_VIEW_DEPTH = 20;

/** One view: the namespace it reads (`viewOn`, in the same database), its pipeline and default collation. */
export interface ViewDefinition {
  readonly db: string;
  readonly name: string;
  readonly viewOn: string;
  readonly pipeline: readonly Document[];
  /** The default collation, every option filled in; undefined for the simple collation. */
  readonly collation?: Document;
}

/** A view resolved down to the collection it reads: that collection, the views' pipelines in order, the collation. */
export interface ResolvedView {
  readonly collection: string;
  readonly pipeline: readonly Document[];
  readonly collation?: Document;
}

/** The namespaces a view's pipeline reads besides `viewOn` ($lookup, $graphLookup, $unionWith), by collection name. */
export type PipelineReferences = (pipeline: readonly Document[]) => readonly string[];

/** Whether two collations (full specs, undefined for simple) are the same (CollatorInterface::collatorsMatch). */
export function sameCollation(a: Document | undefined, b: Document | undefined): boolean {
  return a === undefined || b === undefined ? a === b : compareDocuments(a, b) === 0;
}

/** What a collection-only operation says of a view (AutoGetCollection with views forbidden). */
export function viewIsNotACollection(db: string, name: string): MongoError {
  return new MongoError(ErrorCodes.CommandNotSupportedOnView, `Namespace ${db}.${name} is a view, not a collection`);
}

function definitionDocument(view: ViewDefinition): Document {
  const doc: Document = { _id: `${view.db}.${view.name}`, viewOn: view.viewOn, pipeline: [...view.pipeline] };
  if (view.collation !== undefined) doc.collation = view.collation;
  return doc;
}

function definitionOf(db: string, doc: Document): ViewDefinition {
  const id = String(doc._id);
  const name = id.slice(db.length + 1);
  const pipeline = Array.isArray(doc.pipeline) ? (doc.pipeline as Document[]) : [];
  return { db, name, viewOn: String(doc.viewOn), pipeline, ...(doc.collation === undefined ? {} : { collation: doc.collation as Document }) };
}

/** What the graph walk keeps per namespace (ViewGraph's StatsMap). */
interface NodeStats {
  checked: boolean;
  height: number;
}

/** The views of every database, read from and written to their system.views collections. */
export class ViewCatalog {
  constructor(private readonly catalog: Catalog) {}

  /** The view `db.name`, if there is one. */
  lookup(db: string, name: string): ViewDefinition | undefined {
    const doc = this.catalog.get(db, SYSTEM_VIEWS)?.findById(`${db}.${name}`);
    return doc === undefined ? undefined : definitionOf(db, doc);
  }

  /** The views of a database, in the order they were created. */
  list(db: string): ViewDefinition[] {
    const stored = this.catalog.get(db, SYSTEM_VIEWS);
    return stored === undefined ? [] : [...stored.documents()].map((doc) => definitionOf(db, doc));
  }

  /**
   * The collection a view finally reads and the pipeline that makes the view from it: each
   * view's pipeline before the pipelines of the views over it; the collation is the outermost
   * view's (view_catalog_helpers.cpp resolveView). Undefined when `db.name` is not a view.
   */
  resolve(db: string, name: string): ResolvedView | undefined {
    const first = this.lookup(db, name);
    if (first === undefined) return undefined;
    let pipeline: Document[] = [];
    let current: string = name;
    for (let depth = 0; depth < MAX_VIEW_DEPTH; depth++) {
      const view = this.lookup(db, current);
      if (view === undefined) return { collection: current, pipeline, ...(first.collation === undefined ? {} : { collation: first.collation }) };
      pipeline = [...view.pipeline, ...pipeline];
      current = view.viewOn;
      // A view starting with $collStats reports on the namespace it names, not on its source's documents.
      if (view.pipeline.length > 0 && Object.keys(view.pipeline[0]!)[0] === '$collStats') {
        return { collection: current, pipeline, ...(first.collation === undefined ? {} : { collation: first.collation }) };
      }
    }
    throw new MongoError(ErrorCodes.ViewDepthLimitExceeded, `View depth too deep or view cycle detected; maximum depth is ${MAX_VIEW_DEPTH}`);
  }

  /** Stores a new view, once the graph it makes with the other views is valid (creating system.views if needed). */
  create(view: ViewDefinition, references: PipelineReferences): void {
    this.checkGraph(view, references);
    this.catalog.ensure(view.db, SYSTEM_VIEWS).add(definitionDocument(view));
  }

  /** Replaces a view's definition (collMod), once the graph is valid with it. */
  modify(view: ViewDefinition, references: PipelineReferences): void {
    this.checkGraph(view, references);
    const stored = this.catalog.get(view.db, SYSTEM_VIEWS)!;
    stored.replace(stored.findById(`${view.db}.${view.name}`)!, definitionDocument(view));
  }

  /** Removes a view; false when there was none. */
  drop(db: string, name: string): boolean {
    const stored = this.catalog.get(db, SYSTEM_VIEWS);
    const doc = stored?.findById(`${db}.${name}`);
    return doc !== undefined && stored!.remove(doc);
  }

  /**
   * ViewsForDatabase::_validateCollation then ViewGraph::insertAndValidate, for `view` as it
   * would be: a view it reads must have its collation; no cycle through it; and the longest
   * chain of views through it (the views under it plus those over it) at most 20.
   */
  private checkGraph(view: ViewDefinition, references: PipelineReferences): void {
    const ns = (name: string): string => `${view.db}.${name}`;
    const definition = (name: string): ViewDefinition | undefined => (name === view.name ? view : this.lookup(view.db, name));
    const children = (name: string): readonly string[] => {
      const def = definition(name);
      return def === undefined ? [] : [...references(def.pipeline), def.viewOn];
    };
    for (const ref of children(view.name)) {
      const other = this.lookup(view.db, ref);
      if (other !== undefined && !sameCollation(view.collation, other.collation)) {
        throw new MongoError(ErrorCodes.OptionNotSupportedOnView, `View ${ns(view.name)} has conflicting collation with view ${ns(other.name)}`);
      }
    }
    const depthError = (): MongoError =>
      new MongoError(ErrorCodes.ViewDepthLimitExceeded, `View depth limit exceeded; maximum depth is ${MAX_VIEW_DEPTH}`);

    // The views under it (_validateChildren): a walk that meets the view again is a cycle.
    const below = new Map<string, NodeStats>();
    const path: string[] = [];
    const walkDown = (current: string, depth: number): void => {
      path.push(current);
      if (depth > 0 && current === view.name) {
        const reversed = [...path].reverse();
        throw new MongoError(ErrorCodes.GraphContainsCycle, `View cycle detected: ${ns(reversed[0]!)}${reversed.map((n) => ` => ${ns(n)}`).join('')}`);
      }
      if (depth > MAX_VIEW_DEPTH) throw depthError();
      let height = 0;
      for (const child of children(current)) {
        if (below.get(child)?.checked === true) continue;
        walkDown(child, depth + 1);
        height = Math.max(height, below.get(child)!.height);
      }
      path.pop();
      below.set(current, { checked: true, height: height + 1 });
    };
    walkDown(view.name, 0);
    // The view's own height counts the collection at the bottom.
    const childrenHeight = below.get(view.name)!.height - 1;

    // The views over it (_validateParents): every view that reads it, directly or not.
    const readers = new Map<string, string[]>();
    for (const other of [...this.list(view.db).filter((v) => v.name !== view.name), view]) {
      for (const child of children(other.name)) readers.set(child, [...(readers.get(child) ?? []), other.name]);
    }
    const above = new Map<string, NodeStats>();
    const walkUp = (current: string, depth: number): void => {
      if (depth > MAX_VIEW_DEPTH) throw depthError();
      let height = 0;
      for (const parent of readers.get(current) ?? []) {
        if (above.get(parent)?.checked !== true) walkUp(parent, depth + 1);
        height = Math.max(height, above.get(parent)?.height ?? 0);
      }
      above.set(current, { checked: true, height: height + 1 });
    };
    walkUp(view.name, 0);
    if (above.get(view.name)!.height + childrenHeight - 1 > MAX_VIEW_DEPTH) throw depthError();
  }
}
