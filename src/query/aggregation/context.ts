/**
 * What compiled stages share: the compile-time context (collation, the user variables in scope)
 * and the run-time context (NOW, the variables' values, the collections read), and the shape of a
 * compiled stage.
 */
import type { Document } from 'bson';
import { compileExpression, scopeFor, type CompiledExpression, type Scope } from '../expression/compile.js';
import { collatorFor, comparatorFor, type ValueCompare } from '../match/collation.js';
import { ErrorCodes, MongoError } from '../../errors.js';

export interface CompileContext {
  /** The command's collation (undefined: simple). */
  readonly collation: Document | undefined;
  readonly collator: Intl.Collator | undefined;
  /** compareValues, strings by the collation. */
  readonly compare: ValueCompare;
  /** Names of the user variables in scope (the command's `let`, then enclosing $lookup `let`s). */
  readonly variableNames: readonly string[];
  /** The values of the variables known when compiling (the command's `let`). */
  readonly compileTimeVariables: Document;
  /** Whether variables get values per run ($lookup sub-pipelines with `let`): filters then compile per run. */
  readonly variablesVaryPerRun: boolean;
  /** Whether this pipeline is nested in a $facet (stages refused there). */
  readonly inFacet: boolean;
}

export interface RunContext {
  readonly now: Date;
  /** The user variables' values. */
  readonly variables: ReadonlyMap<string, unknown>;
  /** The same as a document (for filters and the mingo fallback). */
  readonly variablesDoc: Document;
  /** A collection's documents, read once per top-level run. */
  readonly collection: (name: string) => readonly Document[];
}

/** A compiled stage: runs over its input documents. */
export interface CompiledStage {
  readonly name: string;
  /** Whether mingo runs this stage (approximate numeric types). */
  readonly fallback: boolean;
  run(input: Iterable<Document>, run: RunContext): Iterable<Document>;
}

export function makeCompileContext(collation: Document | undefined, variables: Document | undefined): CompileContext {
  const collator = collatorFor(collation);
  const vars = variables ?? {};
  return {
    collation: collator === undefined ? undefined : collation,
    collator,
    compare: comparatorFor(collator),
    variableNames: Object.keys(vars),
    compileTimeVariables: vars,
    variablesVaryPerRun: false,
    inFacet: false,
  };
}

/** Compiles an aggregation expression in the context (the expression module's errors propagate). */
export function compileExpr(expr: unknown, cc: CompileContext): CompiledExpression {
  return compileExpression(expr, { collation: cc.collation, variables: cc.variableNames });
}

/** The scope an expression evaluates a document in. */
export function scopeOf(root: Document, run: RunContext): Scope {
  return scopeFor(root, run.now, run.variables);
}

/** Whether an error is pocketmongo's refusal (115): the stage then goes to mingo. */
export function isNotSupported(err: unknown): boolean {
  return err instanceof MongoError && err.code === ErrorCodes.CommandNotSupported;
}

/** Evaluates an expression that does not depend on a document (a constant), as mongod's parse-time checks do. */
export function constantValue(expr: CompiledExpression, now: Date): unknown {
  return expr.evaluate(scopeFor({}, now, new Map()));
}
