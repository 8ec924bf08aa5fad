import type { Document } from 'bson';
import { compileFilter, type CompiledFilter } from '../query/match/compile.js';
import { valuesAtPath } from './orderedIndex.js';
import type { IndexSpec } from './catalog.js';

/**
 * An index's keys for a document, generated as mongod's BtreeKeyGenerator makes them: a missing
 * field is null; an array contributes each of its elements (a multikey index: {a: [1, 2]} holds
 * the keys 1 and 2); an empty array is a key of its own. A sparse index skips a document missing
 * every indexed field, a partial one a document its filter (compiled with the index's collation)
 * does not match.
 */
export class IndexKeys {
  private readonly names: readonly string[];
  private readonly fields: ReadonlyArray<readonly string[]>;
  private readonly partial: CompiledFilter | undefined;

  constructor(private readonly spec: IndexSpec) {
    this.names = Object.keys(spec.key);
    this.fields = this.names.map((field) => field.split('.'));
    this.partial = spec.partialFilterExpression === undefined ? undefined : compileFilter(spec.partialFilterExpression, { collation: spec.collation });
  }

  /** The document's keys (each a document of the indexed fields); none when the index skips it. */
  of(doc: Document): Document[] {
    if (this.partial !== undefined && !this.partial.matches(doc)) return [];
    let keys: Document[] = [{}];
    let present = false;
    this.fields.forEach((parts, i) => {
      const values: unknown[] = [];
      const isArray = valuesAtPath(doc, parts, 0, values);
      if (values.length > 0) present = true;
      const fieldKeys = values.length > 0 ? values : isArray ? [[]] : [null];
      keys = keys.flatMap((key) => fieldKeys.map((v) => ({ ...key, [this.names[i]!]: v })));
    });
    if (this.spec.sparse && !present) return [];
    return keys;
  }
}
