/**
 * A unique index's keys, enforced on every write. A document's keys are generated as mongod's
 * BtreeKeyGenerator makes them: a missing field is null; an array contributes each of its
 * elements (a multikey index: {a: [1, 2]} holds the keys 1 and 2, so it clashes with {a: 2}, and
 * one document's repeated elements do not clash with each other); an empty array is one key.
 * Under the index's collation, strings compare by the collator (a strength-2 index holds "a" and
 * "A" as one key), as mongod's index stores collation keys.
 */
import type { Document } from 'bson';
import { createRequire } from 'node:module';
import { canonicalKey } from '../bson/bsonOrder.js';
import { compileFilter, type CompiledFilter } from '../query/match/compile.js';
import { collatorFor, comparatorFor } from '../query/match/collation.js';
import { valuesAtPath } from './orderedIndex.js';
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
  private readonly fields: ReadonlyArray<readonly string[]>;
  /** The partial filter, compiled once (with the index's collation, as mongod compiles it). */
  private readonly partial: CompiledFilter | undefined;

  constructor(readonly spec: IndexSpec) {
    const collator = collatorFor(spec.collation);
    this.entries = collator === undefined ? exactTable() : collatedTable(collator);
    this.fields = Object.keys(spec.key).map((field) => field.split('.'));
    this.partial = spec.partialFilterExpression === undefined ? undefined : compileFilter(spec.partialFilterExpression, { collation: spec.collation });
  }

  /** The document's keys (each a document of the indexed fields), or none when the index skips it (sparse, partial). */
  keys(doc: Document): Document[] {
    if (this.partial !== undefined && !this.partial.matches(doc)) return [];
    const names = Object.keys(this.spec.key);
    let keys: Document[] = [{}];
    let present = false;
    this.fields.forEach((parts, i) => {
      const values: unknown[] = [];
      const isArray = valuesAtPath(doc, parts, 0, values);
      if (values.length > 0) present = true;
      // A missing field keys as null; an empty array is a key of its own (mongod's undefined).
      const fieldKeys = values.length > 0 ? values : isArray ? [[]] : [null];
      keys = keys.flatMap((key) => fieldKeys.map((v) => ({ ...key, [names[i]!]: v })));
    });
    if (this.spec.sparse && !present) return [];
    return keys;
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
