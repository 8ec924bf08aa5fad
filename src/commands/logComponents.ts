import { Int32, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { isPlainObject, numberValue } from '../bson/args.js';

/**
 * mongod 7.0's log components (src/mongo/logv2/log_component.h), as the tree the
 * logComponentVerbosity parameter shows: each component's verbosity, -1 meaning "as its parent";
 * the default component's verbosity is the logLevel parameter.
 */
const COMPONENT_TREE: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['accessControl', []],
  ['assert', []],
  ['command', []],
  ['control', []],
  ['executor', []],
  ['geo', []],
  ['globalIndex', []],
  ['index', []],
  ['network', ['asio', 'bridge', 'connectionPool']],
  ['processHealth', []],
  ['query', []],
  ['replication', ['election', 'heartbeats', 'initialSync', 'rollback']],
  ['sharding', ['rangeDeleter', 'shardingCatalogRefresh', 'migration', 'reshard', 'migrationPerf']],
  ['storage', ['recovery', 'journal', 'wt']],
  ['write', []],
  ['ftdc', []],
  ['tracking', []],
  ['transaction', []],
  ['tenantMigration', []],
  ['test', []],
  ['resourceConsumption', []],
];

const WIRED_TIGER = ['wtBackup', 'wtCheckpoint', 'wtCompact', 'wtEviction', 'wtHS', 'wtRecovery', 'wtRTS', 'wtSalvage', 'wtTiered', 'wtTimestamp', 'wtTransaction', 'wtVerify', 'wtWriteLog'];

function childrenOf(path: string): readonly string[] {
  if (path === '') return COMPONENT_TREE.map(([name]) => name);
  if (path === 'storage.wt') return WIRED_TIGER;
  return COMPONENT_TREE.find(([name]) => name === path)?.[1] ?? [];
}

/** The verbosity of each component (dotted path; "" is the default component). */
export class LogComponentVerbosity {
  private readonly levels = new Map<string, number>();

  constructor(private readonly defaultLevel: () => number) {}

  /** getParameter's document: {verbosity: <logLevel>, accessControl: {verbosity: -1}, ...}. */
  toDocument(): Document {
    const build = (path: string): Document => {
      const doc: Document = { verbosity: new Int32(path === '' ? this.defaultLevel() : (this.levels.get(path) ?? -1)) };
      for (const child of childrenOf(path)) doc[child] = build(path === '' ? child : `${path}.${child}`);
      return doc;
    };
    return build('');
  }

  /**
   * setParameter's merge (log_component_settings / parseLogComponentVerbosity): each named
   * component takes {verbosity: n} (or n itself), -1 clearing it; the top-level `verbosity` is the
   * default one (returned for the caller to set as logLevel). Everything is checked before
   * anything changes.
   */
  parse(spec: unknown): { readonly levels: ReadonlyMap<string, number>; readonly defaultLevel?: number } {
    if (!isPlainObject(spec)) throw new MongoError(ErrorCodes.TypeMismatch, 'log component verbosity is not a BSON object');
    const levels = new Map<string, number>();
    let defaultLevel: number | undefined;
    const walk = (doc: Record<string, unknown>, path: string): void => {
      for (const [name, value] of Object.entries(doc)) {
        if (name === 'verbosity') {
          const n = verbosityValue(value, path);
          if (path === '') defaultLevel = n;
          else levels.set(path, n);
          continue;
        }
        const child = path === '' ? name : `${path}.${name}`;
        if (!childrenOf(path).includes(name)) throw new MongoError(ErrorCodes.BadValue, `Invalid component name ${['logComponentVerbosity', child].join('.')}`);
        if (isPlainObject(value)) walk(value, child);
        else levels.set(child, verbosityValue(value, child));
      }
    };
    walk(spec, '');
    return { levels, defaultLevel };
  }

  apply(levels: ReadonlyMap<string, number>): void {
    for (const [path, n] of levels) {
      if (n < 0) this.levels.delete(path);
      else this.levels.set(path, n);
    }
  }
}

function verbosityValue(value: unknown, path: string): number {
  const n = numberValue(value);
  if (n === undefined || !Number.isInteger(n)) {
    throw new MongoError(ErrorCodes.BadValue, `Invalid verbosity value for component ${path === '' ? 'default' : path}: ${String(value)}`);
  }
  return n;
}
