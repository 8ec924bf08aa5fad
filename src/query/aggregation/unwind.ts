/**
 * $unwind (the spec was checked: pipeline/stageShapes.ts). One output document per array element,
 * each a copy of the input with the element in the array's place (the copies share every other
 * value object with the input).
 *
 * Sources (mongodb/mongo): src/mongo/db/pipeline/document_source_unwind.cpp (the path is read
 * through embedded documents only, Document::getNestedField; a non-array value other than
 * null/missing is one element with index null; an empty array, null or missing outputs nothing,
 * or with preserveNullAndEmptyArrays the document with an empty array's field removed and null or
 * missing left as they are, index null); jstests/aggregation/bugs/server4588.js (the index is a
 * NumberLong).
 */
import { Long, type Document } from 'bson';
import { objectKind } from '../match/values.js';
import type { CompiledStage } from './context.js';
import { getNested, fieldPath, MISSING, removeNested, setNested, type Obj } from './values.js';

export function compileUnwind(spec: unknown): CompiledStage {
  const options: Obj = typeof spec === 'string' ? { path: spec } : objectKind(spec) === 1 ? (spec as Obj) : {};
  const parts = fieldPath((options.path as string).slice(1));
  const indexParts = typeof options.includeArrayIndex === 'string' ? fieldPath(options.includeArrayIndex) : undefined;
  const preserve = options.preserveNullAndEmptyArrays === true;
  return {
    name: '$unwind',
    fallback: false,
    *run(input) {
      for (const doc of input) {
        const value = getNested(doc, parts);
        if (Array.isArray(value) && value.length > 0) {
          for (let i = 0; i < value.length; i++) {
            const out = setNested(doc, parts, value[i]);
            yield indexParts === undefined ? out : setNested(out, indexParts, Long.fromNumber(i));
          }
        } else if (Array.isArray(value) || value === MISSING || value === null || value === undefined) {
          if (!preserve) continue;
          const out: Document = Array.isArray(value) ? removeNested(doc, parts) : doc;
          yield indexParts === undefined ? out : setNested(out, indexParts, null);
        } else {
          yield indexParts === undefined ? doc : setNested(doc, indexParts, null);
        }
      }
    },
  };
}
