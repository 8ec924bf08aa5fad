/**
 * $redact: the expression decides for the document, then for each subdocument it descends into,
 * whether it is kept whole, pruned, or kept with its fields redacted one by one.
 *
 * Source: src/mongo/db/pipeline/document_source_redact.cpp. The expression is parsed as an
 * operand with $$DESCEND, $$PRUNE and $$KEEP defined ("descend", "prune", "keep"); $$ROOT is the
 * input document and CURRENT (what field paths read) the document being decided. A result equal
 * (simple comparison) to "keep" outputs the current document as it is, "prune" drops it, "descend"
 * outputs a new document of its fields in order where a subdocument value is decided in turn (left
 * out when pruned), an array value keeps its scalars and has its documents and arrays redacted
 * (pruned documents left out), and any other value is kept; anything else is 17053. Metadata is
 * copied to a descended document (MutableDocument::copyMetaDataFrom).
 */
import type { Document } from 'bson';
import { compareValues } from '../../bson/bsonOrder.js';
import { LocationCodes } from '../../errors.js';
import type { Scope } from '../expression/compile.js';
import { attachMetadata, metadataOf } from '../expression/meta.js';
import { valueText } from '../expression/values.js';
import { objectKind } from '../match/values.js';
import { compileExpr, type CompileContext, type CompiledStage } from './context.js';
import { fail } from './errors.js';
import { asObj, setField, type Obj } from './values.js';

const RESULTS = [
  ['DESCEND', 'descend'],
  ['PRUNE', 'prune'],
  ['KEEP', 'keep'],
] as const;

export function compileRedact(spec: unknown, cc: CompileContext): CompiledStage {
  const expr = compileExpr(spec, { ...cc, variableNames: [...cc.variableNames, ...RESULTS.map(([name]) => name)] });
  return {
    name: '$redact',
    fallback: false,
    *run(input, run) {
      const variables = new Map(run.variables);
      for (const [name, value] of RESULTS) variables.set(name, value);

      /** redactObject: the decision for `current`, undefined when pruned. */
      const redactObject = (root: Document, current: unknown): unknown => {
        const scope: Scope = { root, current: current as Document, now: run.now, variables };
        const result = expr.evaluate(scope);
        const is = (value: string): boolean => result !== undefined && compareValues(result, value) === 0;
        if (is('keep')) return current;
        if (is('prune')) return undefined;
        if (!is('descend')) {
          fail(
            LocationCodes.RedactBadResult,
            `$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned ${valueText(result)}`,
          );
        }
        const fields = asObj(current);
        const out: Obj = {};
        for (const name of Object.keys(fields)) {
          const value = redactValue(root, fields[name]);
          if (value !== undefined) setField(out, name, value);
        }
        return out;
      };

      /** redactValue: documents decided, arrays redacted element by element, other values kept. */
      const redactValue = (root: Document, value: unknown): unknown => {
        if (objectKind(value) !== 0) return redactObject(root, value);
        if (!Array.isArray(value)) return value;
        const out: unknown[] = [];
        for (const element of value) {
          const redacted = objectKind(element) !== 0 || Array.isArray(element) ? redactValue(root, element) : element;
          if (redacted !== undefined) out.push(redacted);
        }
        return out;
      };

      for (const doc of input) {
        const result = redactObject(doc, doc);
        if (result === undefined) continue;
        const metadata = result !== doc ? metadataOf(doc) : undefined;
        if (metadata !== undefined) attachMetadata(result as Document, metadata);
        yield result as Document;
      }
    },
  };
}
