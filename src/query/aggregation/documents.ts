/**
 * $documents: the documents an expression evaluates to (once, with no input document), as the
 * pipeline's source; its input is ignored.
 *
 * Source: src/mongo/db/pipeline/document_source_documents.cpp (desugared into a queue of one empty
 * document, {$project: {<tmp>: <expr>}}, a strict $unwind of <tmp>, and {$replaceRoot: {newRoot:
 * "$<tmp>"}}: the value must be an array, each element an object: 40228 otherwise).
 */
import { LocationCodes } from '../../errors.js';
import { typeName } from '../../bson/typeName.js';
import { objectKind } from '../match/values.js';
import { valueText } from '../expression/values.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage } from './context.js';
import { fail } from './errors.js';
import { asObj } from './values.js';

export function compileDocuments(spec: unknown, cc: CompileContext): CompiledStage {
  const expr = compileExpr(spec, cc);
  return {
    name: '$documents',
    fallback: false,
    *run(_input, run) {
      const value = expr.evaluate(scopeOf({}, run));
      if (!Array.isArray(value)) fail(LocationCodes.DocumentsNotArray, `$documents requires an array of documents, found ${value === undefined ? 'missing' : typeName(value)}`);
      for (const el of value) {
        if (objectKind(el) === 0) {
          fail(
            LocationCodes.ReplaceRootNotObject,
            `'newRoot' expression  must evaluate to an object, but resulting value was: ${valueText(el)}. Type of resulting value: '${typeName(el)}'. Input document: {}`,
          );
        }
        yield asObj(el);
      }
    },
  };
}
