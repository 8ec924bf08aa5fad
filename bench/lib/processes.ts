/**
 * Child processes for the servers under test: spawned, tracked, and always killed — on a normal
 * exit, an error, or a signal — so a benchmark run never leaves a server behind; likewise the
 * temporary data directories of --dbpath servers, always removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LOOPBACK = '127.0.0.1';

/** pocketmongo: the CLI as a user runs it. baseline: the bare node:net server. */
export type ServerKind = 'pocketmongo' | 'baseline';

/**
 * Node arguments per server. Both exit when their stdin (a pipe held by this process) closes, so
 * they die with the runner even if it is SIGKILLed: the baseline watches stdin itself, and
 * pocketmongo gets a tiny preload that does the same (it adds nothing per request).
 */
const COMMANDS: Record<ServerKind, readonly string[]> = {
  pocketmongo: ['--import', './bench/exit-with-parent.mjs', 'bin/pocketmongo.js', '--port', '0', '--bind_ip', LOOPBACK, '--quiet'],
  baseline: ['bench/baseline-server.mjs', '--port', '0'],
};

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 3_000;

const live = new Set<ChildProcess>();
const dataDirectories = new Set<string>();

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const path of dataDirectories) rmSync(path, { recursive: true, force: true });
  dataDirectories.clear();
}

let cleanupInstalled = false;

/** Kill every child (and remove every data directory) on exit, on SIGINT/SIGTERM/SIGHUP, and on an uncaught error. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAllNow();
      process.stderr.write(`\nbench: interrupted by ${signal}\n`);
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    killAllNow();
    process.stderr.write(`bench: ${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    killAllNow();
    process.stderr.write(`bench: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
    process.exit(1);
  });
}

export interface ServerProcess {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly port: number;
  /** Resident set size of the server process (Linux /proc), for memory measurements. */
  rssBytes(): number | undefined;
  /** The part of it that maps files (the binary, libraries, and with --dbpath the store file). */
  rssFileBytes(): number | undefined;
  /** CPU time the server has used so far, all its threads, user and system (Linux /proc), in µs. */
  cpuMicros(): number | undefined;
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<void>;
}

/**
 * Spawns a server and resolves once it has logged 'Waiting for connections' (id 23016) with its
 * port. Rejects (and kills the child) if it exits first or takes longer than `readyTimeoutMs`.
 */
export function startServer(kind: ServerKind, extraArgs: readonly string[] = [], readyTimeoutMs = READY_TIMEOUT_MS): Promise<ServerProcess> {
  installCleanup();
  const child = spawn(process.execPath, [...COMMANDS[kind], ...extraArgs], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  // Drain both pipes so the child can never block on a full one; keep a little for diagnostics.
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
  });
  child.stdin!.on('error', () => {});

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    child.stdin!.destroy();
    live.delete(child);
  };

  return new Promise<ServerProcess>((resolve, reject) => {
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`${kind}: ${message}${stderrTail ? `\n${stderrTail.trim()}` : ''}`)));
    };
    const timer = setTimeout(() => fail(`not listening after ${readyTimeoutMs} ms`), readyTimeoutMs);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (settled) return;
      const port = readyPort(line);
      if (port === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        kind,
        pid: child.pid!,
        port,
        rssBytes: () => statusBytes(child.pid!, 'VmRSS'),
        rssFileBytes: () => statusBytes(child.pid!, 'RssFile'),
        cpuMicros: () => cpuMicros(child.pid!),
        stop,
      });
    });
  });
}

/**
 * The port from mongod's `{"id":23016,"msg":"Waiting for connections","attr":{"port":N}}` line.
 * Read with patterns rather than JSON.parse, so a cosmetic change to the log line cannot break it.
 */
function readyPort(line: string): number | undefined {
  if (!/"id"\s*:\s*23016\b/.test(line)) return undefined;
  const match = /"port"\s*:\s*(\d+)/.exec(line);
  const port = match ? Number(match[1]) : 0;
  return port > 0 && port <= 65535 ? port : undefined;
}

function statusBytes(pid: number, field: 'VmRSS' | 'RssFile'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

function cpuMicros(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing paren): utime is the 14th, stime the 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Both servers started side by side; if one fails to start, the other is stopped again. */
export async function startBoth(): Promise<Record<ServerKind, ServerProcess>> {
  const [baseline, pocketmongo] = await Promise.allSettled([startServer('baseline'), startServer('pocketmongo')]);
  if (baseline.status === 'fulfilled' && pocketmongo.status === 'fulfilled') {
    return { baseline: baseline.value, pocketmongo: pocketmongo.value };
  }
  for (const r of [baseline, pocketmongo]) if (r.status === 'fulfilled') await r.value.stop();
  throw (baseline.status === 'rejected' ? baseline.reason : (pocketmongo as PromiseRejectedResult).reason) as Error;
}

/** A fresh directory for a --dbpath server (it must exist), under the system's temporary directory. */
export interface DataDirectory {
  readonly path: string;
  /** Removes it with everything in it (stop its server first). */
  remove(): Promise<void>;
}

export async function makeDataDirectory(): Promise<DataDirectory> {
  installCleanup();
  const path = await mkdtemp(join(tmpdir(), 'pocketmongo-bench-'));
  dataDirectories.add(path);
  return {
    path,
    async remove() {
      dataDirectories.delete(path);
      await rm(path, { recursive: true, force: true });
    },
  };
}
