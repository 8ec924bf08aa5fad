import type { Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import { isPlainObject } from '../bson/args.js';
import { wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { defineCommand, type CommandContext, type CommandSpec, type Verbosity } from './command.js';

// The explain command: it parses what it explains and hands it to that command's own `explain`
// (each family explains its commands; the shared query machinery is in queryExplain.ts).

const VERBOSITIES: readonly string[] = ['queryPlanner', 'executionStats', 'allPlansExecution'];

/** The explained command seen as a command of its own: its body and name, the rest from explain's context. */
class ExplainedCommand implements CommandContext {
  readonly name: string;
  constructor(
    private readonly outer: CommandContext,
    readonly body: Document,
  ) {
    this.name = Object.keys(body)[0] ?? '';
  }
  get services() {
    return this.outer.services;
  }
  get client() {
    return this.outer.client;
  }
  get request() {
    return this.outer.request;
  }
  get db() {
    return this.outer.db;
  }
  get session() {
    return this.outer.session;
  }
  get owner() {
    return this.outer.owner;
  }
  get signal() {
    return this.outer.signal;
  }
}

/**
 * The explained command and its spec (explain.idl: `explain` an object, `verbosity` one of three
 * strings, default allPlansExecution; explain_cmd.cpp: unknown commands are 59, commands without
 * explain support IllegalOperation).
 */
function parseExplain(ctx: CommandContext): { inner: ExplainedCommand; spec: CommandSpec; verbosity: Verbosity } {
  const body = ctx.body.explain;
  if (!isPlainObject(body)) throw wrongType('explain.explain', body, 'object');
  const verbosity = ctx.body.verbosity ?? 'allPlansExecution';
  if (typeof verbosity !== 'string') throw wrongType('explain.verbosity', verbosity, 'string');
  if (!VERBOSITIES.includes(verbosity)) {
    throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${verbosity}' for field 'explain.verbosity' is not a valid value.`);
  }
  const inner = new ExplainedCommand(ctx, body);
  const spec = ctx.services.commands.find(inner.name);
  if (spec === undefined) throw new MongoError(ErrorCodes.CommandNotFound, `Explain failed due to unknown command: ${inner.name}`);
  if (spec.name === 'explain') throw new MongoError(ErrorCodes.IllegalOperation, 'Explain cannot explain itself.');
  if (spec.explain === undefined) throw new MongoError(ErrorCodes.IllegalOperation, `Cannot explain cmd: ${spec.name}`);
  return { inner, spec, verbosity: verbosity as Verbosity };
}

/** explain needs what the explained command needs. */
function explainPrivileges(ctx: CommandContext): Requirement[] {
  const body = ctx.body.explain;
  if (!isPlainObject(body)) return [];
  const inner = new ExplainedCommand(ctx, body);
  return [...(ctx.services.commands.find(inner.name)?.privileges?.(inner) ?? [])];
}

function explain(ctx: CommandContext): Document {
  const { inner, spec, verbosity } = parseExplain(ctx);
  return spec.explain!(inner, verbosity);
}

/** The explain family. */
export const explainCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'explain', run: explain, privileges: explainPrivileges, apiVersion1: true, help: 'explain database reads and writes' }),
];
