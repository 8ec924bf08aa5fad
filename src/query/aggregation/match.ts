/**
 * $match: the filter matched on the stored BSON values (match/compile.ts), with the command's
 * collation and `let` variables. A $expr using an operator the matcher's own subset lacks is
 * evaluated by the expression module (exactly, on the stored values) instead of mingo: the filter is
 * split at its top level and in its $and / $or / $nor lists; only an operator the expression module
 * refuses too (115) sends the stage to mingo. The documents that pass are the input's own objects.
 *
 * Sources (mongodb/mongo): src/mongo/db/pipeline/document_source_match.cpp (15959 for a spec that
 * is not an object); src/mongo/db/matcher/expression_expr.cpp (ExprMatchExpression: the
 * expression's value by Value::coerceToBool).
 */
import type { Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { coerceToBool } from '../expression/compile.js';
import { compileFilter, type CompiledFilter } from '../match/compile.js';
import { objectKind } from '../match/values.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail } from './errors.js';

/** A compiled filter over documents, given the run (for variables bound per run). */
export type DocumentTest = (doc: Document, run: RunContext) => boolean;

function isExprRefusal(err: unknown): boolean {
  return err instanceof MongoError && err.code === ErrorCodes.CommandNotSupported && /inside \$expr/.test(err.message);
}

/**
 * Compiles a filter. Variables bound per run ($lookup `let`) are not known yet: null stands for
 * them while parsing, and a filter whose $expr the matcher evaluates is compiled again for each
 * run's values.
 */
export function compileDocumentTest(filter: Document, cc: CompileContext): DocumentTest {
  const placeholders: Document = { ...cc.compileTimeVariables };
  for (const name of cc.variableNames) if (!Object.hasOwn(placeholders, name)) placeholders[name] = null;
  let compiled: CompiledFilter;
  try {
    compiled = compileFilter(filter, { collation: cc.collation, variables: placeholders });
  } catch (err) {
    if (!isExprRefusal(err)) throw err;
    return splitAtExpr(filter, cc, err);
  }
  if (!compiled.hasExpr || !cc.variablesVaryPerRun) return (doc) => compiled.matches(doc);
  const perRun = new WeakMap<Document, CompiledFilter>();
  return (doc, run) => {
    let f = perRun.get(run.variablesDoc);
    if (f === undefined) {
      f = compileFilter(filter, { collation: cc.collation, variables: run.variablesDoc });
      perRun.set(run.variablesDoc, f);
    }
    return f.matches(doc);
  };
}

/** The filter as the conjunction of its top-level parts: $expr by the expression module, $and/$or/$nor recursively, the rest by the matcher. */
function splitAtExpr(filter: Document, cc: CompileContext, refusal: unknown): DocumentTest {
  const tests: DocumentTest[] = [];
  const rest: Document = {};
  let hasRest = false;
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (key === '$expr') {
      const expr = compileExpr(value, cc);
      tests.push((doc, run) => coerceToBool(expr.evaluate(scopeOf(doc, run))));
    } else if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value) && value.length > 0 && value.every((v) => objectKind(v) === 1)) {
      const subs = (value as Document[]).map((f) => compileDocumentTest(f, cc));
      if (key === '$and') tests.push((doc, run) => subs.every((t) => t(doc, run)));
      else if (key === '$or') tests.push((doc, run) => subs.some((t) => t(doc, run)));
      else tests.push((doc, run) => !subs.some((t) => t(doc, run)));
    } else {
      Object.defineProperty(rest, key, { value, enumerable: true, writable: true, configurable: true });
      hasRest = true;
    }
  }
  // Nothing to split off (the $expr is where this split does not reach): the matcher's refusal stands.
  if (tests.length === 0) throw refusal;
  if (hasRest) tests.unshift(compileDocumentTest(rest, cc));
  return (doc, run) => tests.every((t) => t(doc, run));
}

export function compileMatch(spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) !== 1) fail(LocationCodes.MatchNotObject, 'the match filter must be an expression in an object');
  const test = compileDocumentTest(spec as Document, cc);
  return {
    name: '$match',
    fallback: false,
    *run(input, run) {
      for (const doc of input) if (test(doc, run)) yield doc;
    },
  };
}
