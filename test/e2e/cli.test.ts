// The command line: `node bin/pocketmongo.js ...` (which loads dist/, so `npm run build` first; the
// test command does). Every spawned process is killed in afterEach, and every wait has a timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { CLI, ROOT } from '../helpers/server.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SERVER_VERSION = '7.0.14';

/** One line of mongod's structured log. */
interface LogLine {
  t: { $date: string };
  s: string;
  c: string;
  id: number;
  ctx: string;
  msg: string;
  attr?: Record<string, unknown>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Cli {
  child: ChildProcess;
  /** Every complete stdout line, as written. */
  stdoutLines: string[];
  /** The stdout lines that parsed as JSON objects. */
  logs: LogLine[];
  stderr: () => string;
  exited: Promise<Exit>;
}

const children = new Set<ChildProcess>();
/** Every log line any test saw (stdout and --logpath files), for the 'password' check. */
let seenLogText: string[] = [];
let tmp: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/server/cli.js'))) {
    throw new Error('dist/server/cli.js is missing: run `npm run build` first (bin/pocketmongo.js loads dist/)');
  }
  tmp = mkdtempSync(join(tmpdir(), 'pocketmongo-cli-'));
});

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  const leftovers = [...children];
  children.clear();
  await Promise.all(
    leftovers.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await withTimeout(gone, 10_000, `pid ${child.pid} to die after SIGKILL`).catch(() => undefined);
    }),
  );
  const text = seenLogText;
  seenLogText = [];
  // mongod never logs secrets; neither may we (whatever the test did).
  expect(text.filter((line) => line.toLowerCase().includes('password'))).toEqual([]);
});

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Spawns `node bin/pocketmongo.js ...args`, collecting stdout lines (parsed) and stderr. */
function spawnCli(args: readonly string[]): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const stdoutLines: string[] = [];
  const logs: LogLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      stdoutLines.push(line);
      seenLogText.push(line);
      try {
        const parsed = JSON.parse(line) as unknown;
        if (parsed !== null && typeof parsed === 'object') logs.push(parsed as LogLine);
      } catch {
        // Kept in stdoutLines; tests that expect only JSON check for it.
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  // 'close' rather than 'exit': exit can precede the last stdout data.
  const closed = new Promise<Exit>((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (partial.length > 0) {
        stdoutLines.push(partial);
        seenLogText.push(partial);
        partial = '';
      }
      resolve({ code, signal });
    });
  });
  return { child, stdoutLines, logs, stderr: () => stderr, exited: closed };
}

/** Runs the CLI to completion (for flags that exit by themselves). */
async function runCli(args: readonly string[], timeoutMs = 20_000): Promise<{ exit: Exit; stdout: string; stderr: string }> {
  const cli = spawnCli(args);
  const exit = await withTimeout(cli.exited, timeoutMs, `pocketmongo ${args.join(' ')} to exit`);
  return { exit, stdout: cli.stdoutLines.join('\n'), stderr: cli.stderr() };
}

/** Polls until pick() returns a value. */
async function waitUntil<T>(pick: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = pick();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

async function waitForLog(cli: Cli, id: number, timeoutMs = 20_000): Promise<LogLine> {
  return waitUntil(
    () => {
      if (cli.child.exitCode !== null || cli.child.signalCode !== null) {
        throw new Error(`pocketmongo exited (${cli.child.exitCode ?? cli.child.signalCode}) before log id ${id}; stderr: ${cli.stderr()}`);
      }
      return cli.logs.find((l) => l.id === id);
    },
    `log line id ${id}; stdout so far:\n${cli.stdoutLines.join('\n')}`,
    timeoutMs,
  );
}

/** Waits for 'Waiting for connections' (23016) and returns its port. */
async function listeningPort(cli: Cli): Promise<number> {
  const line = await waitForLog(cli, 23016);
  const port = line.attr?.port;
  expect(typeof port).toBe('number');
  expect(port).toBeGreaterThan(0);
  return port as number;
}

async function startCli(args: readonly string[]): Promise<{ cli: Cli; port: number }> {
  const cli = spawnCli(['--port', '0', ...args]);
  return { cli, port: await listeningPort(cli) };
}

async function stopCli(cli: Cli, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
  cli.child.kill(signal);
  return withTimeout(cli.exited, 20_000, `pocketmongo to exit after ${signal}`);
}

async function pingWithDriver(uri: string): Promise<Document> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000 });
  try {
    return await client.db('admin').command({ ping: 1 });
  } finally {
    await withTimeout(client.close(), 10_000, 'MongoClient.close()');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves true if a TCP connection to host:port is refused (nobody listening). */
function connectionRefused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(5_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    socket.connect(port, host);
  });
}

function expectLogShape(line: unknown): void {
  expect(line).toMatchObject({
    t: { $date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/) as unknown },
    s: expect.stringMatching(/^(I|W|E|F|D\d)$/) as unknown,
    c: expect.any(String) as unknown,
    id: expect.any(Number) as unknown,
    ctx: expect.any(String) as unknown,
    msg: expect.any(String) as unknown,
  });
}

/** A raw TCP client speaking OP_MSG, so tests control exactly how many connections exist. */
class RawConnection {
  private readonly socket = new Socket();
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private requestId = 1;
  ended = false;
  readonly closed: Promise<void>;

  constructor() {
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', () => {
        this.ended = true;
        this.waiter?.();
        resolve();
      });
    });
    this.socket.on('error', () => undefined);
  }

  connect(host: string, port: number): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        this.socket.once('connect', () => resolve());
        this.socket.once('error', reject);
        this.socket.connect(port, host);
      }),
      5_000,
      `TCP connect to ${host}:${port}`,
    );
  }

  /** Sends one OP_MSG command and returns the reply body. */
  async command(body: Document): Promise<Document> {
    const doc = BSON.serialize(body);
    const header = Buffer.alloc(21);
    const id = this.requestId++;
    header.writeInt32LE(21 + doc.length, 0);
    header.writeInt32LE(id, 4);
    header.writeInt32LE(0, 8);
    header.writeInt32LE(2013, 12); // OP_MSG
    header.writeUInt32LE(0, 16); // flagBits
    header.writeUInt8(0, 20); // section kind 0
    this.socket.write(Buffer.concat([header, doc]));
    return withTimeout(this.readReply(id), 10_000, `the reply to ${JSON.stringify(body)}`);
  }

  private async readReply(id: number): Promise<Document> {
    for (;;) {
      if (this.buffer.length >= 4) {
        const length = this.buffer.readInt32LE(0);
        if (this.buffer.length >= length) {
          const frame = this.buffer.subarray(0, length);
          this.buffer = this.buffer.subarray(length);
          expect(frame.readInt32LE(8)).toBe(id); // responseTo
          expect(frame.readInt32LE(12)).toBe(2013);
          expect(frame.readUInt8(20)).toBe(0);
          return BSON.deserialize(frame.subarray(21));
        }
      }
      if (this.ended) throw new Error('connection closed before a reply');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The complete lines of a log file (a line still being written is left out). */
function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as LogLine);
}

async function ipv6LoopbackWorks(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port: 0, host: '::1' }, () => probe.close(() => resolve(true)));
  });
}

describe('startup and signals', () => {
  test('logs JSON lines, "Waiting for connections" with the port, and serves the driver; SIGTERM exits 0', async () => {
    const { cli, port } = await startCli(['--setParameter', 'enableTestCommands=1']);
    const pid = cli.child.pid!;
    expect(cli.logs.find((l) => l.id === 4615611)?.attr).toMatchObject({ version: SERVER_VERSION, pid });
    expect(cli.logs.find((l) => l.id === 20535)).toMatchObject({ s: 'W', msg: 'Test commands are enabled' });
    expect(cli.logs.find((l) => l.id === 23016)).toMatchObject({ c: 'NETWORK', msg: 'Waiting for connections' });

    const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 5_000 });
    try {
      expect(await client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
      const param = await client.db('admin').command({ getParameter: 1, enableTestCommands: 1 });
      expect(param.enableTestCommands).toBe(true);

      // SIGTERM with a client still connected (its monitor holds an awaitable hello).
      const exit = await stopCli(cli, 'SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      await withTimeout(client.close(), 10_000, 'MongoClient.close()').catch(() => undefined);
    }
    expect(isAlive(pid)).toBe(false);
    expect(await connectionRefused('127.0.0.1', port)).toBe(true);
    // 'Now exiting' is written synchronously by the final flush. 'Received signal' (23377) is not
    // asserted here: it can be lost at exit (see the slow-disk test.fails below).
    expect(cli.logs.some((l) => l.id === 20565)).toBe(true);
    expect(cli.stderr()).toBe('');
    for (const line of cli.stdoutLines) expectLogShape(JSON.parse(line));
  });

  // BUG (src/log.ts Log.flush(), called by stop() from the SIGTERM handler in src/cli.ts): when
  // stdout's reader has gone (`pocketmongo | head -1`, a dead log collector), the 'Received
  // signal' line's asynchronous write fails with EPIPE while the final flushSync() runs, and
  // sonic-boom 4.2.1's flushSync() retries EPIPE forever (it only gives up on EAGAIN/EBUSY),
  // sleeping 100 ms per try on the main thread. The process never exits; only SIGKILL ends it.
  // mongod ignores SIGPIPE and shuts down normally.
  test('--replSet rs0 --oplogSize 64: the driver finds the primary with ?replicaSet=rs0 and retries its writes; getCmdLineOpts shows replication', async () => {
    const { cli, port } = await startCli(['--replSet', 'rs0', '--oplogSize', '64']);
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/?replicaSet=rs0`, { serverSelectionTimeoutMS: 5_000 });
    try {
      expect((await client.db('admin').command({ hello: 1 })).setName).toBe('rs0');
      await client.db('cli').collection('c').insertOne({ a: 1 });
      const [entry] = await client.db('local').collection('oplog.rs').find({ ns: 'cli.c' }).toArray();
      expect(entry).toMatchObject({ op: 'i', stmtId: 0 });
      const opts = await client.db('admin').command({ getCmdLineOpts: 1 });
      expect(opts.parsed.replication).toEqual({ oplogSizeMB: 64, replSet: 'rs0' });
    } finally {
      await withTimeout(client.close(), 10_000, 'MongoClient.close()');
    }
    expect(await stopCli(cli)).toEqual({ code: 0, signal: null });
  });

  test('SIGTERM still exits 0 when the reader of stdout has gone (EPIPE)', async () => {
    const { cli } = await startCli([]);
    const exited = new Promise<Exit>((resolve) => cli.child.once('exit', (code, signal) => resolve({ code, signal })));
    cli.child.stdout!.destroy(); // close our end of the pipe: the server's next write gets EPIPE
    await sleep(300);
    cli.child.kill('SIGTERM');
    expect(await withTimeout(exited, 5_000, 'pocketmongo to exit after SIGTERM with stdout closed')).toEqual({
      code: 0,
      signal: null,
    });
  });

  test('SIGINT exits 0 too', async () => {
    const { cli, port } = await startCli([]);
    const pid = cli.child.pid!;
    expect(await pingWithDriver(`mongodb://127.0.0.1:${port}/`)).toEqual({ ok: 1 });
    const exit = await stopCli(cli, 'SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(isAlive(pid)).toBe(false);
    expect(await connectionRefused('127.0.0.1', port)).toBe(true);
    expect(cli.logs.some((l) => l.id === 20565)).toBe(true); // Now exiting
    expect(cli.stderr()).toBe('');
  });
});

describe('bad command lines exit non-zero with a message on stderr and start nothing', () => {
  test.each([
    { args: ['--port', 'abc'], message: /--port.*'abc'.*invalid|invalid.*--port/s },
    { args: ['--port', '70000'], message: /--port/ },
    { args: ['--port', '0', '--nope'], message: /unknown option '--nope'/ },
    { args: ['--port', '0', '--setParameter', 'nonsense=1'], message: /nonsense/ },
    { args: ['--port', '0', '--setParameter', 'enableTestCommands=maybe'], message: /enableTestCommands/ },
    { args: ['--port', '0', '--setParameter', 'novalue'], message: /novalue/ },
    { args: ['--port', '0', '--maxConns', '0'], message: /--maxConns/ },
    { args: ['--port', '0', '--bind_ip', '::1'], message: /IPv6|ipv6/ },
  ])('$args', async ({ args, message }) => {
    const { exit, stdout, stderr } = await runCli(args);
    expect(exit.code, `stderr: ${stderr}`).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(stderr).toMatch(message);
    expect(stdout).not.toContain('Waiting for connections');
  });
});

describe('informational flags', () => {
  test('--version prints the package and server versions', async () => {
    const { exit, stdout, stderr } = await runCli(['--version']);
    expect(exit.code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(PACKAGE_VERSION);
    expect(stdout).toContain(SERVER_VERSION);
  });

  test('--help lists the mongod flags', async () => {
    const { exit, stdout } = await runCli(['--help']);
    expect(exit.code).toBe(0);
    for (const flag of ['--port', '--bind_ip', '--bind_ip_all', '--ipv6', '--maxConns', '--setParameter', '--quiet', '--logpath', '--logappend']) {
      expect(stdout).toMatch(new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm'));
    }
  });
});

describe('--logpath and --logappend', () => {

  /** Starts with --logpath, waits for the listening line in the file, pings, and stops with SIGTERM. */
  async function runOnce(logpath: string, extra: readonly string[] = []): Promise<{ pid: number; stdout: string[] }> {
    const cli = spawnCli(['--port', '0', '--logpath', logpath, ...extra]);
    const listening = await waitUntil(() => {
      if (cli.child.exitCode !== null) throw new Error(`pocketmongo exited early: ${cli.stderr()}`);
      // With --logappend the file also holds earlier runs: look after this process's start line.
      const lines = readLog(logpath);
      const start = lines.findIndex((l) => l.id === 4615611 && l.attr?.['pid'] === cli.child.pid);
      return start < 0 ? undefined : lines.slice(start).find((l) => l.id === 23016);
    }, `log id 23016 in ${logpath}`);
    expect(await pingWithDriver(`mongodb://127.0.0.1:${listening.attr!['port'] as number}/`)).toEqual({ ok: 1 });
    expect(await stopCli(cli)).toEqual({ code: 0, signal: null });
    expect(cli.stderr()).toBe('');
    return { pid: cli.child.pid!, stdout: cli.stdoutLines };
  }

  test('--logpath writes mongod-shaped JSON lines to the file and nothing to stdout', async () => {
    const dir = mkdtempSync(join(tmp, 'logpath-'));
    const logpath = join(dir, 'pocketmongo.log');
    const { pid, stdout } = await runOnce(logpath);
    expect(stdout).toEqual([]);
    const raw = readFileSync(logpath, 'utf8');
    seenLogText.push(...raw.split('\n'));
    expect(raw.endsWith('\n')).toBe(true);
    const lines = readLog(logpath);
    for (const line of lines) expectLogShape(line);
    expect(lines.find((l) => l.id === 4615611)?.attr?.['pid']).toBe(pid);
    expect(lines.some((l) => l.id === 23016)).toBe(true);
    expect(lines.some((l) => l.id === 22943)).toBe(true); // the driver's connections
    expect(lines.some((l) => l.id === 20565)).toBe(true); // Now exiting, flushed before exit
  });

  test('without --logappend an existing file is renamed aside; with it lines are appended', async () => {
    const dir = mkdtempSync(join(tmp, 'logappend-'));
    const logpath = join(dir, 'pocketmongo.log');
    writeFileSync(logpath, '{"marker":"pre-existing"}\n');

    // 1. Without --logappend: the old file is renamed to pocketmongo.log.<timestamp>.
    const first = await runOnce(logpath);
    const rotated = readdirSync(dir).filter((name) => name !== 'pocketmongo.log');
    expect(rotated).toHaveLength(1);
    expect(rotated[0]).toMatch(/^pocketmongo\.log\.\d{4}-\d\d-\d\dT/);
    expect(readFileSync(join(dir, rotated[0]!), 'utf8')).toBe('{"marker":"pre-existing"}\n');
    const afterFirst = readLog(logpath);
    expect(afterFirst.filter((l) => l.id === 4615611).map((l) => l.attr?.['pid'])).toEqual([first.pid]);

    // 2. With --logappend: same file, the second run's lines follow the first run's.
    const second = await runOnce(logpath, ['--logappend']);
    expect(readdirSync(dir).sort()).toEqual(['pocketmongo.log', rotated[0]].sort());
    const afterSecond = readLog(logpath);
    seenLogText.push(...readFileSync(logpath, 'utf8').split('\n'));
    expect(afterSecond.slice(0, afterFirst.length)).toEqual(afterFirst);
    expect(afterSecond.filter((l) => l.id === 4615611).map((l) => l.attr?.['pid'])).toEqual([first.pid, second.pid]);
    for (const line of afterSecond) expectLogShape(line);
  });
});

describe('the log at exit', () => {
  // BUG (src/log.ts Log.flush + src/server.ts stop() + src/cli.ts main()): the log destinations
  // are pino/sonic-boom streams with sync:false. On shutdown stop() calls flushSync() and
  // main() then calls process.exit(0) at once. flushSync() writes only the *buffered* lines: a
  // line whose asynchronous fs.write is still in flight (sonic-boom's `_writing`) is either written
  // after the later lines (out of order) or lost when the process exits. On a normal disk this
  // is a race (seen as 'Received signal' after 'Now exiting', or missing, in about 1 run in 15);
  // with a slow disk it always happens: 'Received signal' (23377) never reaches the file.
  // This preload simulates the slow disk by delaying every asynchronous fs.write by 200 ms.
  test('every line reaches --logpath, in order, even when the disk is slow', async () => {
    const dir = mkdtempSync(join(tmp, 'slowdisk-'));
    const preload = join(dir, 'slow-disk.cjs');
    writeFileSync(
      preload,
      "'use strict';\nconst fs = require('node:fs');\nconst write = fs.write;\n" +
        'fs.write = function slowWrite(...args) { setTimeout(() => write.apply(fs, args), 200); };\n',
    );
    const logpath = join(dir, 'pocketmongo.log');
    const child = spawn(process.execPath, [CLI, '--port', '0', '--logpath', logpath], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: `--require ${preload}` },
    });
    children.add(child);
    const closed = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const ids = () => readLog(logpath).map((line) => line.id);
    await waitUntil(() => (ids().includes(23016) ? true : undefined), `log id 23016 in ${logpath}`);
    child.kill('SIGTERM');
    expect(await withTimeout(closed, 20_000, 'pocketmongo to exit after SIGTERM')).toEqual({ code: 0, signal: null });
    seenLogText.push(...readFileSync(logpath, 'utf8').split('\n'));
    // Waiting for connections, Received signal, Shutdown started, Now exiting: all there, in order.
    const shutdown = [23016, 23377, 4784901, 20565];
    expect(ids().filter((id) => shutdown.includes(id))).toEqual(shutdown);
  });
});

describe('--quiet', () => {
  /** Pings with the driver, closes it, gives the server time to see the closes, then stops it. */
  async function connectionLogIds(args: readonly string[], settled: (cli: Cli) => Promise<unknown>): Promise<number[]> {
    const { cli, port } = await startCli(args);
    expect(await pingWithDriver(`mongodb://127.0.0.1:${port}/`)).toEqual({ ok: 1 });
    await settled(cli);
    expect(await stopCli(cli)).toEqual({ code: 0, signal: null });
    return cli.logs.map((l) => l.id);
  }

  test('without --quiet, "Connection accepted" (22943) and "Connection ended" (22944) are logged', async () => {
    const ids = await connectionLogIds([], (cli) => waitForLog(cli, 22944));
    expect(ids).toContain(22943);
    expect(ids).toContain(22944);
  });

  test('--quiet suppresses them but keeps the startup lines', async () => {
    const ids = await connectionLogIds(['--quiet'], () => sleep(500));
    expect(ids).not.toContain(22943);
    expect(ids).not.toContain(22944);
    expect(ids).toContain(23016);
  });
});

describe('--bind_ip and --ipv6', () => {
  test('--bind_ip 127.0.0.1,::1 --ipv6 listens on both loopbacks on one port', async ({ skip }) => {
    if (!(await ipv6LoopbackWorks())) skip('this machine has no IPv6 loopback (::1)');
    const { cli, port } = await startCli(['--bind_ip', '127.0.0.1,::1', '--ipv6']);
    const listening = cli.logs.filter((l) => l.id === 23015).map((l) => l.attr?.['address']);
    expect(listening.sort()).toEqual(['127.0.0.1', '::1']);
    expect(await pingWithDriver(`mongodb://127.0.0.1:${port}/`)).toEqual({ ok: 1 });
    expect(await pingWithDriver(`mongodb://[::1]:${port}/`)).toEqual({ ok: 1 });
    expect(await stopCli(cli)).toEqual({ code: 0, signal: null });
  });

  test('the default binds 127.0.0.1 only', async () => {
    const { cli } = await startCli([]);
    expect(cli.logs.filter((l) => l.id === 23015).map((l) => l.attr?.['address'])).toEqual(['127.0.0.1']);
  });
});

describe('--maxConns', () => {
  test('--maxConns 1 refuses a second connection and accepts again once the first closes', async () => {
    const { cli, port } = await startCli(['--maxConns', '1']);
    const first = new RawConnection();
    const second = new RawConnection();
    const third = new RawConnection();
    try {
      await first.connect('127.0.0.1', port);
      expect(await first.command({ ping: 1, $db: 'admin' })).toEqual({ ok: 1 });

      await second.connect('127.0.0.1', port);
      await withTimeout(second.closed, 10_000, 'the server to close the connection over maxConns');
      await expect(second.command({ ping: 1, $db: 'admin' })).rejects.toThrow();
      const refused = await waitForLog(cli, 22942);
      expect(refused.msg).toBe('Connection refused because there are too many open connections');

      // The first connection is unaffected.
      expect(await first.command({ ping: 1, $db: 'admin' })).toEqual({ ok: 1 });

      // Once it closes, a new connection is accepted.
      first.destroy();
      await waitForLog(cli, 22944);
      await third.connect('127.0.0.1', port);
      expect(await third.command({ ping: 1, $db: 'admin' })).toEqual({ ok: 1 });
    } finally {
      first.destroy();
      second.destroy();
      third.destroy();
    }
    expect(await stopCli(cli)).toEqual({ code: 0, signal: null });
  });
});

describe('secrets stay out of the log', () => {
  test('credentials in the connection string are not logged', async () => {
    const { cli, port } = await startCli(['--setParameter', 'logLevel=5']);
    const client = new MongoClient(`mongodb://pmuser:password@127.0.0.1:${port}/?authSource=admin`, {
      serverSelectionTimeoutMS: 3_000,
      connectTimeoutMS: 3_000,
    });
    try {
      // Authentication may or may not be supported; either way nothing secret may be logged.
      await client.db('admin').command({ ping: 1 }).catch(() => undefined);
    } finally {
      await withTimeout(client.close(), 10_000, 'MongoClient.close()').catch(() => undefined);
    }
    expect(await stopCli(cli)).toEqual({ code: 0, signal: null });
    // afterEach checks every line for 'password'.
    expect(cli.logs.length).toBeGreaterThan(0);
  });

  // BUG (src/commands/dispatcher.ts, the slow-query log 51803): the whole command body is logged
  // verbatim (`attr.command: request.body`), so a credential field such as createUser's `pwd`
  // lands in the log. mongod redacts it (CmdCreateUser::snipForLogging logs pwd as "xxx").
  // With --slowms 0 any command that takes >= 1 ms is logged, so sending many is enough.
  test('a slow-logged command with a pwd field does not log the password (--slowms 0)', async () => {
    const { cli, port } = await startCli(['--slowms', '0']);
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 5_000 });
    try {
      const deadline = Date.now() + 20_000;
      for (let i = 0; i < 20_000 && Date.now() < deadline; i++) {
        await client
          .db('admin')
          .command({ createUser: 'pmuser', pwd: 'password', roles: [] })
          .catch(() => undefined);
        if (i % 100 === 99 && cli.logs.some((l) => l.id === 51803)) break;
      }
    } finally {
      await withTimeout(client.close(), 10_000, 'MongoClient.close()').catch(() => undefined);
    }
    expect(await stopCli(cli)).toEqual({ code: 0, signal: null });
    const slow = cli.stdoutLines.filter((line) => line.includes('"id":51803'));
    seenLogText = seenLogText.filter((line) => !line.includes('"id":51803')); // asserted here instead
    expect(slow.length, 'no slow-query line was logged at all').toBeGreaterThan(0);
    expect(slow.filter((line) => line.includes('password'))).toEqual([]);
  });
});
