/**
 * Fail points, as mongod has them with enableTestCommands=1 (src/mongo/util/fail_point.cpp,
 * src/mongo/db/commands/fail_point_cmd.cpp, the failCommand evaluation in commands.cpp
 * CommandHelpers::shouldActivateFailCommandFailPoint / evaluateFailCommandFailPoint):
 *
 * - `configureFailPoint: <name>, mode, data` sets a fail point and answers `count`, the times it
 *   was entered before; an unknown name is FailPointSetFailed "<name> not found".
 * - `failCommand` acts on the commands named in data.failCommands (any alias), optionally only
 *   for one appName or namespace: blockConnection waits blockTimeMS first; closeConnection ends
 *   the connection with no reply; errorCode fails the command ("Failing command via 'failCommand'
 *   failpoint", with data.errorLabels and data.errorExtraInfo); writeConcernError lets a command
 *   that takes a write concern run, then adds the given writeConcernError to its reply.
 *   configureFailPoint itself is never failed.
 * - `maxTimeAlwaysTimeOut`: a command with a maxTimeMS fails with MaxTimeMSExpired.
 *
 * Modes: "off", "alwaysOn", {times: n} (n activations, then off), {skip: n} (the first n passes do
 * not activate), {activationProbability: p}. Each activation counts as an entry.
 */
import { Int32, Long, type Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { typeName } from '../bson/typeName.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

type Mode = { readonly kind: 'off' | 'alwaysOn' } | { readonly kind: 'times' | 'skip'; n: number } | { readonly kind: 'random'; readonly p: number };

/** One fail point: its mode, its data and how often it was entered. */
class FailPoint {
  mode: Mode = { kind: 'off' };
  data: Document = {};
  timesEntered = 0;

  /** Evaluates the fail point for one pass: `applies` decides on the data; an activation is counted and consumes a {times}. */
  activate(applies: (data: Document) => boolean, random: () => number): Document | undefined {
    const mode = this.mode;
    if (mode.kind === 'off' || !applies(this.data)) return undefined;
    switch (mode.kind) {
      case 'skip':
        if (mode.n > 0) {
          mode.n -= 1;
          return undefined;
        }
        break;
      case 'random':
        if (!(random() < mode.p)) return undefined;
        break;
      case 'times':
        mode.n -= 1;
        if (mode.n <= 0) this.mode = { kind: 'off' };
        break;
      case 'alwaysOn':
        break;
    }
    this.timesEntered += 1;
    return this.data;
  }
}

/** What the failCommand fail point does to one command before it runs. */
export interface CommandFailure {
  /** Wait this long first (blockConnection). */
  readonly blockMillis?: number;
  /** End the connection without a reply. */
  readonly closeConnection?: boolean;
  /** Fail the command with this error. */
  readonly error?: MongoError;
}

/** What identifies a command to the fail points. */
export interface CommandIdentity {
  /** The command's canonical name and its aliases. */
  readonly names: readonly string[];
  readonly appName: string | undefined;
  /** The command's namespace ("db.collection", or "db.$cmd" when it names none). */
  readonly namespace: string;
}

const FAILPOINT_MESSAGE = "Failing command via 'failCommand' failpoint";

/** The fail points of one server. */
export class FailPointRegistry {
  private readonly points = new Map<string, FailPoint>([
    ['failCommand', new FailPoint()],
    ['maxTimeAlwaysTimeOut', new FailPoint()],
  ]);

  constructor(private readonly random: () => number = Math.random) {}

  /** configureFailPoint: sets the mode and data; returns the times entered before. */
  configure(name: string, command: Document): number {
    const point = this.points.get(name);
    if (point === undefined) throw new MongoError(ErrorCodes.FailPointSetFailed, `${name} not found`);
    const mode = parseMode(command.mode);
    let data: Document = {};
    if ('data' in command) {
      if (!isPlainObject(command.data)) throw new MongoError(ErrorCodes.TypeMismatch, "the 'data' option must be a JSON object");
      data = command.data;
    }
    const before = point.timesEntered;
    point.mode = mode;
    point.data = data;
    return before;
  }

  /** Whether any fail point is on (the per-command checks are skipped otherwise). */
  get anyActive(): boolean {
    for (const point of this.points.values()) if (point.mode.kind !== 'off') return true;
    return false;
  }

  /** failCommand's action on a command before it runs, if it activates (closeConnection, blockConnection or errorCode). */
  beforeCommand(command: CommandIdentity): CommandFailure | undefined {
    const data = this.points.get('failCommand')!.activate(
      (d) => appliesTo(d, command) && (d.closeConnection === true || d.blockConnection === true || numberValue(d.errorCode) !== undefined),
      this.random,
    );
    if (data === undefined) return undefined;
    let blockMillis: number | undefined;
    if (data.blockConnection === true) {
      const ms = numberValue(data.blockTimeMS);
      if (ms === undefined) throw new MongoError(ErrorCodes.InvalidOptions, "must specify 'blockTimeMS' when 'blockConnection' is true");
      if (ms < 0) throw new MongoError(ErrorCodes.InvalidOptions, "'blockTimeMS' must be non-negative");
      blockMillis = ms;
    }
    if (data.closeConnection === true) return { blockMillis, closeConnection: true };
    const code = numberValue(data.errorCode);
    if (code === undefined) return { blockMillis };
    const extra: Record<string, unknown> = {};
    if (Array.isArray(data.errorLabels) && data.errorLabels.length > 0) extra.errorLabels = data.errorLabels;
    if (isPlainObject(data.errorExtraInfo)) Object.assign(extra, data.errorExtraInfo);
    return { blockMillis, error: new MongoError(code, FAILPOINT_MESSAGE, extra) };
  }

  /** failCommand's writeConcernError for a command that takes a write concern and ran: the fields to add to its reply. */
  afterWrite(command: CommandIdentity): Document | undefined {
    const data = this.points.get('failCommand')!.activate((d) => appliesTo(d, command) && isPlainObject(d.writeConcernError), this.random);
    if (data === undefined) return undefined;
    const fields: Document = { writeConcernError: data.writeConcernError };
    if (Array.isArray(data.errorLabels) && data.errorLabels.length > 0) fields.errorLabels = data.errorLabels;
    return fields;
  }

  /** maxTimeAlwaysTimeOut: the error for a command that carries a maxTimeMS, when the fail point is on. */
  maxTimeError(maxTimeMS: unknown): MongoError | undefined {
    const ms = numberValue(maxTimeMS);
    if (ms === undefined || ms <= 0) return undefined;
    const data = this.points.get('maxTimeAlwaysTimeOut')!.activate(() => true, this.random);
    return data === undefined ? undefined : new MongoError(ErrorCodes.MaxTimeMSExpired, 'operation exceeded time limit');
  }
}

/** shouldActivateFailCommandFailPoint: the command is named (or failAllCommands), from that appName and namespace. */
function appliesTo(data: Document, command: CommandIdentity): boolean {
  if (command.names[0] === 'configureFailPoint') return false;
  if ('appName' in data && data.appName !== (command.appName ?? '')) return false;
  if ('namespace' in data && data.namespace !== command.namespace) return false;
  if ('failAllCommands' in data) return true;
  const names = data.failCommands;
  if (!Array.isArray(names)) return false;
  return names.some((n) => typeof n === 'string' && command.names.includes(n));
}

/** FailPoint::parseBSON's mode. */
function parseMode(mode: unknown): Mode {
  if (mode === undefined) throw new MongoError(ErrorCodes.IllegalOperation, "When setting a failpoint, you must supply a 'mode'");
  if (typeof mode === 'string') {
    if (mode === 'off' || mode === 'alwaysOn') return { kind: mode };
    throw new MongoError(ErrorCodes.BadValue, `unknown mode: ${mode}`);
  }
  if (!isPlainObject(mode)) throw new MongoError(ErrorCodes.TypeMismatch, "'mode' must be a string or JSON object");
  for (const kind of ['times', 'skip'] as const) {
    if (!(kind in mode)) continue;
    const n = integerOption(mode, kind);
    if (n < 0) throw new MongoError(ErrorCodes.BadValue, `'${kind}' option to 'mode' must be positive`);
    if (n > 2 ** 31 - 1) throw new MongoError(ErrorCodes.BadValue, `'${kind}' option to 'mode' is too large`);
    return { kind, n };
  }
  if ('activationProbability' in mode) {
    const p = numberValue(mode.activationProbability);
    if (p === undefined) throw new MongoError(ErrorCodes.TypeMismatch, "the 'activationProbability' option to 'mode' must be a double between 0 and 1");
    if (p < 0 || p > 1) throw new MongoError(ErrorCodes.BadValue, `activationProbability must be between 0.0 and 1.0; found ${p}`);
    return { kind: 'random', p };
  }
  throw new MongoError(ErrorCodes.BadValue, "'mode' must be one of 'off', 'alwaysOn', '{times:n}', '{skip:n}' or '{activationProbability:p}'");
}

/** bsonExtractIntegerField: a number with an integral value. */
function integerOption(mode: Document, field: string): number {
  const value = mode[field];
  const n = value instanceof Long ? Number(value.toBigInt()) : numberValue(value);
  if (n === undefined) throw new MongoError(ErrorCodes.TypeMismatch, `Expected field "${field}" to have numeric type, but found ${typeName(value)}`);
  if (!Number.isInteger(n)) throw new MongoError(ErrorCodes.BadValue, `Expected field "${field}" to have a value exactly representable as a 64-bit integer, but found ${field}: ${bsonText(value)}`);
  return n;
}

/** configureFailPoint (testOnly, admin, no authorization: it exists only with enableTestCommands). */
function configureFailPoint(ctx: CommandContext<'failPoints'>): Document {
  const name = ctx.body.configureFailPoint;
  const count = ctx.services.failPoints.configure(typeof name === 'string' ? name : String(name), ctx.body);
  return { count: count <= 2 ** 31 - 1 ? new Int32(count) : Long.fromNumber(count) };
}

export const failPointCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'configureFailPoint',
    run: configureFailPoint,
    testOnly: true,
    adminOnly: true,
    requiresAuth: false,
    help: 'modifies the settings of a fail point',
  }),
];
