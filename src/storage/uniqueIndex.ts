/**
 * A unique index's keys (indexKeys.ts), enforced on every write: {a: [1, 2]} clashes with {a: 2},
 * and one document's repeated elements do not clash with each other. Under the index's
 * collation, strings compare by the collator (a strength-2 index holds "a" and "A" as one key),
 * as mongod's index stores collation keys.
 */
import type { Document } from 'bson';
import { collatorFor, comparatorFor } from '../query/match/collation.js';
import { BTree, type Tree } from './btree.js';
import { IndexKeys } from './indexKeys.js';
import { compareKeys, keyOf, type IndexKey } from './orderedIndex.js';
import type { IndexSpec } from './catalog.js';

/**
 * Key → the document holding it: a tree by exact value (in index key order), or by the
 * collation's order. Trees, so that clone() is O(1) (sorted-btree shares nodes, copying one
 * before changing it); the values are stored documents, never changed.
 */
interface KeyTable {
  get(key: Document): Document | undefined;
  set(key: Document, doc: Document): void;
  delete(key: Document): void;
  clone(): KeyTable;
}

/** A key as the tree holds it: its one value (numbers compare fastest), or the whole key of a compound index. */
function indexKeyOf(key: Document): IndexKey {
  const values = Object.values(key);
  return keyOf(values.length === 1 ? values[0] : key);
}

function exactTable(tree: Tree<IndexKey, Document> = new BTree<IndexKey, Document>(undefined, compareKeys)): KeyTable {
  return {
    get: (key) => tree.get(indexKeyOf(key)),
    set: (key, doc) => void tree.set(indexKeyOf(key), doc, true),
    delete: (key) => void tree.delete(indexKeyOf(key)),
    clone: () => exactTable(tree.clone()),
  };
}

function collatedTable(collator: Intl.Collator, tree: Tree<Document, Document> = new BTree<Document, Document>(undefined, comparatorFor(collator))): KeyTable {
  return {
    get: (key) => tree.get(key),
    set: (key, doc) => void tree.set(key, doc, true),
    delete: (key) => void tree.delete(key),
    clone: () => collatedTable(collator, tree.clone()),
  };
}

export class UniqueIndex {
  private entries: KeyTable;
  private readonly keyGenerator: IndexKeys;

  constructor(readonly spec: IndexSpec) {
    const collator = collatorFor(spec.collation);
    this.entries = collator === undefined ? exactTable() : collatedTable(collator);
    this.keyGenerator = new IndexKeys(spec);
  }

  /** An independent copy, in O(1): later changes to either do not show in the other. */
  clone(): UniqueIndex {
    const copy = new UniqueIndex(this.spec);
    copy.entries = this.entries.clone();
    return copy;
  }

  /** The document's keys, or none when the index skips it (sparse, partial). */
  keys(doc: Document): Document[] {
    return this.keyGenerator.of(doc);
  }

  /** The first key of `doc` another document holds (`ignoring` is the version `doc` replaces), or undefined. */
  conflict(doc: Document, ignoring?: Document): Document | undefined {
    for (const key of this.keys(doc)) {
      const holder = this.entries.get(key);
      if (holder !== undefined && holder !== ignoring && holder !== doc) return key;
    }
    return undefined;
  }

  add(doc: Document): void {
    for (const key of this.keys(doc)) this.entries.set(key, doc);
  }

  remove(doc: Document): void {
    for (const key of this.keys(doc)) if (this.entries.get(key) === doc) this.entries.delete(key);
  }
}
