import { existsSync, renameSync } from 'node:fs';
import pino, { type Logger as PinoLogger } from 'pino';

/** mongod's log components (the `c` field). */
export type LogComponent = 'NETWORK' | 'COMMAND' | 'CONTROL' | 'ACCESS' | 'QUERY' | 'STORAGE' | 'WRITE' | 'TXN';

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
      destination = quietOnError(pino.destination({ dest: options.logpath, append: true, sync: true, mkdir: true }));
    } else if (options.toStdout) {
      destination = quietOnError(pino.destination({ dest: 1, sync: true }));
    }
    const streams: pino.StreamEntry[] = [{ level: 'debug', stream: this.global }];
    if (destination !== undefined) streams.push({ level: 'debug', stream: destination });
    this.pino = pino(
      {
        level: 'info',
        base: undefined,
        // mongod's field order is t, s, c, id, ctx, msg, attr. pino writes its level first, so the
        // level renders as nothing (pino then opens the line with a bare "{"), the timestamp
        // follows without pino's usual leading comma, and severity and message travel inside the
        // logged object (see fields()).
        formatters: { level: () => ({}) },
        timestamp: () => `"t":{"$date":"${new Date().toISOString().replace('Z', '+00:00')}"}`,
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
    this.pino.info(fields('I', entry));
  }

  warn(entry: LogEntry): void {
    this.pino.warn(fields('W', entry));
  }

  error(entry: LogEntry): void {
    this.pino.error(fields('E', entry));
  }

  debug(entry: LogEntry): void {
    this.pino.debug(fields('D1', entry));
  }

  /** Lines that --quiet suppresses (connection accepted/ended and similar chatter). */
  chatty(entry: LogEntry): void {
    if (!this.quiet) this.info(entry);
  }

}

/**
 * Log writes are synchronous (log lines are rare: connections, slow operations, errors), so a
 * line is on disk before the process exits and nothing needs flushing. A closed stdout (a reader
 * that went away) must not take the server down: such errors are dropped.
 */
function quietOnError<T extends pino.DestinationStream & { on(event: 'error', fn: () => void): unknown }>(stream: T): T {
  stream.on('error', () => undefined);
  return stream;
}

function fields(severity: string, entry: LogEntry): Record<string, unknown> {
  const line: Record<string, unknown> = { s: severity, c: entry.c, id: entry.id, ctx: entry.ctx, msg: entry.msg };
  if (entry.attr !== undefined) line.attr = entry.attr;
  return line;
}
