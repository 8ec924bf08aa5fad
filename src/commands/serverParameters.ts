import { Double, Int32, Long } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { LogComponentVerbosity } from './logComponents.js';

type ParamType = 'int' | 'long' | 'double' | 'bool' | 'string';
type ParamValue = number | boolean | string;

interface ParameterSpec {
  readonly type: ParamType;
  readonly default: ParamValue;
  readonly startup: boolean;
  readonly runtime: boolean;
  /** Returns an error message for an out-of-range value. */
  readonly validate?: (value: ParamValue) => string | undefined;
}

const atLeast = (min: number) => (v: ParamValue) =>
  (v as number) >= min ? undefined : `must be greater than or equal to ${min}`;
const between = (min: number, max: number) => (v: ParamValue) =>
  (v as number) >= min && (v as number) <= max
    ? undefined
    : `must be between ${min} and ${max} inclusive`;

/**
 * The server parameters we honour, with mongod's types, defaults and where each may be set
 * (src/mongo/db/session/*.idl, src/mongo/db/query/*.idl, ...).
 */
export const PARAMETERS: Readonly<Record<string, ParameterSpec>> = {
  localLogicalSessionTimeoutMinutes: { type: 'int', default: 30, startup: true, runtime: false, validate: atLeast(1) },
  logicalSessionRefreshMillis: { type: 'int', default: 300_000, startup: true, runtime: false, validate: atLeast(1) },
  maxSessions: { type: 'int', default: 1_000_000, startup: true, runtime: false, validate: atLeast(1) },
  disableLogicalSessionCacheRefresh: { type: 'bool', default: false, startup: true, runtime: false },
  TransactionRecordMinimumLifetimeMinutes: { type: 'int', default: 30, startup: true, runtime: false, validate: atLeast(0) },
  sessionMaxBatchSize: { type: 'int', default: 1000, startup: true, runtime: true, validate: between(100, 10_000) },
  sessionWriteConcernTimeoutSystemMillis: { type: 'int', default: 60_000, startup: true, runtime: true, validate: atLeast(0) },
  enableTestCommands: { type: 'bool', default: false, startup: true, runtime: false },
  cursorTimeoutMillis: { type: 'long', default: 600_000, startup: true, runtime: true, validate: atLeast(0) },
  transactionLifetimeLimitSeconds: { type: 'int', default: 60, startup: true, runtime: true, validate: atLeast(1) },
  logLevel: { type: 'int', default: 0, startup: true, runtime: true, validate: between(0, 5) },
  quiet: { type: 'bool', default: false, startup: true, runtime: true },
  authenticationMechanisms: { type: 'string', default: 'SCRAM-SHA-1,SCRAM-SHA-256', startup: true, runtime: false },
  scramIterationCount: { type: 'int', default: 10_000, startup: true, runtime: true, validate: atLeast(5000) },
  scramSHA256IterationCount: { type: 'int', default: 15_000, startup: true, runtime: true, validate: atLeast(5000) },
  maxBSONDepth: { type: 'int', default: 200, startup: true, runtime: false, validate: between(5, 1000) },
  notablescan: { type: 'bool', default: false, startup: true, runtime: true },
};

/** Parameters that are answered specially rather than stored. */
const FEATURE_COMPATIBILITY_VERSION = 'featureCompatibilityVersion';
const LOG_COMPONENT_VERBOSITY = 'logComponentVerbosity';
export const FCV = '7.0';

function coerce(name: string, spec: ParameterSpec, raw: unknown, fromString: boolean): ParamValue {
  const bad = () =>
    new MongoError(ErrorCodes.BadValue, `Invalid value for parameter ${name}: ${String(raw)} is not a valid ${spec.type}`);
  if (fromString && typeof raw === 'string') {
    if (spec.type === 'bool') {
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw bad();
    }
    if (spec.type === 'string') return raw;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw bad();
    return coerceNumber(spec.type, n, bad);
  }
  const value = raw instanceof Int32 || raw instanceof Double ? raw.value : raw instanceof Long ? raw.toNumber() : raw;
  switch (spec.type) {
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value !== 0;
      throw bad();
    case 'string':
      if (typeof value === 'string') return value;
      throw bad();
    default:
      if (typeof value !== 'number') throw bad();
      return coerceNumber(spec.type, value, bad);
  }
}

function coerceNumber(type: ParamType, n: number, bad: () => MongoError): number {
  if (type === 'double') return n;
  if (!Number.isInteger(n)) throw bad();
  if (type === 'int' && (n < -2147483648 || n > 2147483647)) throw bad();
  return n;
}

/** One server's parameter values: set at startup from options, some changeable at runtime. */
export class Parameters {
  private readonly values = new Map<string, ParamValue>();
  private readonly listeners = new Set<(name: string, value: ParamValue) => void>();
  /** logComponentVerbosity: the per-component levels; the default component's is logLevel. */
  private readonly logComponents = new LogComponentVerbosity(() => this.int('logLevel'));

  constructor(startup: Readonly<Record<string, unknown>> = {}) {
    for (const [name, spec] of Object.entries(PARAMETERS)) this.values.set(name, spec.default);
    for (const [name, raw] of Object.entries(startup)) {
      const spec = PARAMETERS[name];
      if (spec === undefined || !spec.startup) {
        throw new MongoError(ErrorCodes.BadValue, `Unknown --setParameter '${name}'`);
      }
      this.values.set(name, this.checked(name, spec, coerce(name, spec, raw, typeof raw === 'string')));
    }
  }

  private checked(name: string, spec: ParameterSpec, value: ParamValue): ParamValue {
    const problem = spec.validate?.(value);
    if (problem !== undefined) {
      throw new MongoError(ErrorCodes.BadValue, `Invalid value for parameter ${name}: ${String(value)} ${problem}`);
    }
    return value;
  }

  int(name: string): number {
    return this.values.get(name) as number;
  }

  bool(name: string): boolean {
    return this.values.get(name) as boolean;
  }

  string(name: string): string {
    return this.values.get(name) as string;
  }

  static isKnown(name: string): boolean {
    return name === FEATURE_COMPATIBILITY_VERSION || name === LOG_COMPONENT_VERBOSITY || Object.prototype.hasOwnProperty.call(PARAMETERS, name);
  }

  /** The value as getParameter reports it, in the parameter's BSON type. */
  get(name: string): unknown {
    if (name === FEATURE_COMPATIBILITY_VERSION) return { version: FCV };
    if (name === LOG_COMPONENT_VERBOSITY) return this.logComponents.toDocument();
    const spec = PARAMETERS[name];
    if (spec === undefined) return undefined;
    const value = this.values.get(name)!;
    switch (spec.type) {
      case 'int':
        return new Int32(value as number);
      case 'long':
        return Long.fromNumber(value as number);
      case 'double':
        return new Double(value as number);
      case 'string':
        return name === 'authenticationMechanisms' ? (value as string).split(',') : value;
      default:
        return value;
    }
  }

  names(): string[] {
    return [FEATURE_COMPATIBILITY_VERSION, LOG_COMPONENT_VERBOSITY, ...Object.keys(PARAMETERS)].sort();
  }

  /** Runtime setParameter: returns the previous value as getParameter would show it. */
  setAtRuntime(name: string, raw: unknown): unknown {
    if (name === FEATURE_COMPATIBILITY_VERSION) {
      throw new MongoError(
        ErrorCodes.IllegalOperation,
        'featureCompatibilityVersion cannot be set via setParameter. See http://dochub.mongodb.org/core/7.0-feature-compatibility.',
      );
    }
    if (name === LOG_COMPONENT_VERBOSITY) {
      const was = this.logComponents.toDocument();
      const { levels, defaultLevel } = this.logComponents.parse(raw);
      if (defaultLevel !== undefined) this.setAtRuntime('logLevel', defaultLevel);
      this.logComponents.apply(levels);
      return was;
    }
    const spec = PARAMETERS[name];
    if (spec === undefined) {
      throw new MongoError(ErrorCodes.InvalidOptions, `attempted to set unrecognized parameter [${name}], use help:true to see options `);
    }
    if (!spec.runtime) {
      throw new MongoError(ErrorCodes.IllegalOperation, `not allowed to change [${name}] at runtime`);
    }
    const was = this.get(name);
    const value = this.checked(name, spec, coerce(name, spec, raw, false));
    this.values.set(name, value);
    for (const listener of this.listeners) listener(name, value);
    return was;
  }

  onChange(listener: (name: string, value: ParamValue) => void): void {
    this.listeners.add(listener);
  }
}
