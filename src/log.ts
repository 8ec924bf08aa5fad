import { existsSync, renameSync } from 'node:fs';
import pino, { type Logger as PinoLogger } from 'pino';

/** mongod's log components (the `c` field). */
export type LogComponent = 'NETWORK' | 'COMMAND' | 'CONTROL' | 'ACCESS' | 'QUERY' | 'STORAGE' | 'WRITE';

const SEVERITY: Readonly<Record<string, string>> = {
  trace: 'D2',
  debug: 'D1',
  info: 'I',
  warn: 'W',
  error: 'E',
  fatal: 'F',
};

export interface LogOptions {
  /** A file to write to; otherwise stdout when `toStdout`, else nothing. */
  logpath?: string;
  logappend?: boolean;
  toStdout?: boolean;
  quiet?: boolean;
  /** A sink for tests: receives each line as written. */
  sink?: { write(line: string): void };
}

/** One line of mongod's structured log: {t, s, c, id, ctx, msg, attr}. */
export interface LogEntry {
  c: LogComponent;
  id: number;
  ctx: string;
  msg: string;
  attr?: Record<string, unknown>;
}

/** mongod's RamLog: the last lines kept in memory for getLog (1024 in mongod). */
export class RamLog {
  private readonly lines: string[] = [];
  private written = 0;
  constructor(private readonly capacity = 1024) {}

  write(line: string): void {
    this.written += 1;
    if (this.lines.length === this.capacity) this.lines.shift();
    this.lines.push(line.endsWith('\n') ? line.slice(0, -1) : line);
  }

  all(): readonly string[] {
    return this.lines;
  }

  get totalLinesWritten(): number {
    return this.written;
  }
}

/**
 * The server log: pino writing mongod-shaped JSON lines (severity `s`, timestamp `t` as
 * {$date}, component `c`, numeric `id` from mongod's log ids, context `ctx`, `msg`, `attr`).
 */
export class Log {
  private readonly pino: PinoLogger;
  private readonly flushable: { flushSync?: () => void; end?: () => void } | undefined;
  /** Every line, for getLog 'global'. */
  readonly global = new RamLog();
  /** Warnings logged at startup, for getLog 'startupWarnings'. */
  readonly startupWarnings = new RamLog();
  quiet: boolean;

  constructor(options: LogOptions = {}) {
    this.quiet = options.quiet ?? false;
    let destination: pino.DestinationStream | undefined;
    if (options.sink !== undefined) {
      destination = options.sink;
    } else if (options.logpath !== undefined) {
      // Without --logappend mongod renames the old file aside (logRotate "rename") before writing.
      if (!options.logappend && existsSync(options.logpath)) {
        renameSync(options.logpath, `${options.logpath}.${new Date().toISOString().replace(/:/g, '-')}`);
      }
      const file = pino.destination({ dest: options.logpath, append: true, sync: false, mkdir: true });
      destination = file;
      this.flushable = file;
    } else if (options.toStdout) {
      const out = pino.destination({ dest: 1, sync: false });
      destination = out;
      this.flushable = out;
    }
    const streams: pino.StreamEntry[] = [{ level: 'debug', stream: this.global }];
    if (destination !== undefined) streams.push({ level: 'debug', stream: destination });
    this.pino = pino(
      {
        level: 'info',
        base: undefined,
        messageKey: 'msg',
        timestamp: () => `,"t":{"$date":"${new Date().toISOString()}"}`,
        formatters: { level: (label) => ({ s: SEVERITY[label] ?? 'I' }) },
      },
      pino.multistream(streams),
    );
  }

  /** A warning shown to every mongosh user at startup (getLog 'startupWarnings'). */
  startupWarning(entry: LogEntry): void {
    this.warn(entry);
    // pino's multistream writes synchronously, so the global log's last line is this one.
    const line = this.global.all().at(-1);
    if (line !== undefined) this.startupWarnings.write(line);
  }

  setVerbosity(level: number): void {
    this.pino.level = level > 0 ? 'debug' : 'info';
  }

  info(entry: LogEntry): void {
    this.pino.info(fields(entry), entry.msg);
  }

  warn(entry: LogEntry): void {
    this.pino.warn(fields(entry), entry.msg);
  }

  error(entry: LogEntry): void {
    this.pino.error(fields(entry), entry.msg);
  }

  debug(entry: LogEntry): void {
    this.pino.debug(fields(entry), entry.msg);
  }

  /** Lines that --quiet suppresses (connection accepted/ended and similar chatter). */
  chatty(entry: LogEntry): void {
    if (!this.quiet) this.info(entry);
  }

  flush(): void {
    try {
      this.flushable?.flushSync?.();
    } catch {
      // A destination not yet open has nothing to flush.
    }
  }
}

function fields(entry: LogEntry): Record<string, unknown> {
  return entry.attr === undefined
    ? { c: entry.c, id: entry.id, ctx: entry.ctx }
    : { c: entry.c, id: entry.id, ctx: entry.ctx, attr: entry.attr };
}
