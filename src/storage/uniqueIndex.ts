/**
 * A unique index's keys (indexKeys.ts), enforced on every write: {a: [1, 2]} clashes with {a: 2},
 * and one document's repeated elements do not clash with each other. Under the index's
 * collation, strings compare by the collator (a strength-2 index holds "a" and "A" as one key),
 * as mongod's index stores collation keys.
 */
import type { Document } from 'bson';
import { createRequire } from 'node:module';
import { canonicalKey } from '../bson/bsonOrder.js';
import { collatorFor, comparatorFor } from '../query/match/collation.js';
import { IndexKeys } from './indexKeys.js';
import type { IndexSpec } from './catalog.js';

const BTree = (createRequire(import.meta.url)('sorted-btree') as typeof import('sorted-btree')).default;

/** Key → the document holding it: a map by exact value, or a tree by the collation's order. */
interface KeyTable {
  get(key: Document): Document | undefined;
  set(key: Document, doc: Document): void;
  delete(key: Document): void;
}

function exactTable(): KeyTable {
  const map = new Map<string, Document>();
  return {
    get: (key) => map.get(canonicalKey(key)),
    set: (key, doc) => void map.set(canonicalKey(key), doc),
    delete: (key) => void map.delete(canonicalKey(key)),
  };
}

function collatedTable(collator: Intl.Collator): KeyTable {
  const tree = new BTree<Document, Document>(undefined, comparatorFor(collator));
  return {
    get: (key) => tree.get(key),
    set: (key, doc) => void tree.set(key, doc, true),
    delete: (key) => void tree.delete(key),
  };
}

export class UniqueIndex {
  private readonly entries: KeyTable;
  private readonly keyGenerator: IndexKeys;

  constructor(readonly spec: IndexSpec) {
    const collator = collatorFor(spec.collation);
    this.entries = collator === undefined ? exactTable() : collatedTable(collator);
    this.keyGenerator = new IndexKeys(spec);
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
