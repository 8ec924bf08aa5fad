// Real third-party clients besides the Node driver and mongosh (client-handshake.md): pymongo 3.11
// from Debian's python3-pymongo (run with /usr/bin/python3) and libmongoc 1.23 from Debian's
// libmongoc-dev. .ci/run installs both; in CI (process.env.CI set) a missing library FAILS the
// test, locally it is skipped with the reason.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { ROOT, startServer, type ProcessResult } from '../helpers/server.js';

const FIXTURES = join(ROOT, 'test/fixtures/clients');
const PYTHON = '/usr/bin/python3';
const INSTALL_HINT = 'apt-get install -y python3-pymongo libmongoc-dev pkg-config (as .ci/run does)';

/** Why pymongo cannot be used here, or undefined when it can. */
function pymongoProblem(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import pymongo; print(pymongo.version)'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error !== undefined) return `${PYTHON} cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `${PYTHON} cannot import pymongo: ${probe.stderr.trim()}`;
  return undefined;
}

/** The compiler flags for libmongoc, or the reason there are none. */
function libmongocFlags(): { flags: string[] } | { problem: string } {
  const probe = spawnSync('pkg-config', ['--cflags', '--libs', 'libmongoc-1.0'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error !== undefined) return { problem: `pkg-config cannot run: ${probe.error.message}` };
  if (probe.status !== 0) return { problem: `pkg-config does not know libmongoc-1.0: ${probe.stderr.trim()}` };
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (cc.error !== undefined || cc.status !== 0) return { problem: 'no C compiler (cc) on PATH' };
  return { flags: probe.stdout.trim().split(/\s+/).filter((f) => f.length > 0) };
}

/** In CI a missing client library is a failure; locally the test is skipped with the reason. */
function requireOrSkip(problem: string | undefined, skip: (note?: string) => never): void {
  if (problem === undefined) return;
  const message = `${problem}. Install with: ${INSTALL_HINT}`;
  if (process.env.CI) throw new Error(`CI requires this client library: ${message}`);
  skip(message);
}

/** Runs a program without blocking this process's event loop (the server runs in it). */
function run(file: string, args: readonly string[], timeout = 60_000): Promise<ProcessResult> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { timeout, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolvePromise({ code, stdout, stderr: error !== null && error.code === undefined ? `${stderr}${error.message}` : stderr });
    });
  });
}

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

let server: PocketMongo;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('pymongo 3.11 (Debian python3-pymongo)', () => {
  test('ping, server_info version, CommandNotFound, an explicit session', async ({ skip }) => {
    requireOrSkip(pymongoProblem(), skip);
    const result = await run(PYTHON, [join(FIXTURES, 'ping.py'), server.uri]);
    expect(result.code, `ping.py failed:\n${result.stderr}`).toBe(0);
    expect(result.stderr).toBe('');
    expect(lastJsonLine(result.stdout)).toEqual({
      pymongo: expect.stringMatching(/^3\./) as unknown,
      ping: 1,
      version: '7.0.14',
      unknown: { raised: true, code: 59, codeName: 'CommandNotFound' },
      sessionIdBytes: 16,
      sessionPing: 1,
      sessionVersion: '7.0.14',
      closed: true,
    });
  });
});

describe('libmongoc 1.23 (Debian libmongoc-dev)', () => {
  let buildDir: string | undefined;
  afterAll(() => {
    if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  });

  test('ping, buildInfo version, CommandNotFound, an explicit session', async ({ skip }) => {
    const lib = libmongocFlags();
    requireOrSkip('problem' in lib ? lib.problem : undefined, skip);
    const flags = 'flags' in lib ? lib.flags : [];
    buildDir = mkdtempSync(join(tmpdir(), 'pocketmongo-mongoc-'));
    const binary = join(buildDir, 'ping');
    const compiled = await run('cc', ['-Wall', '-o', binary, join(FIXTURES, 'ping.c'), ...flags], 120_000);
    expect(compiled.code, `cc ping.c failed:\n${compiled.stderr}`).toBe(0);

    const result = await run(binary, [server.uri]);
    expect(result.code, `ping failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
    expect(lastJsonLine(result.stdout)).toEqual({
      ping: 1,
      version: '7.0.14',
      unknown: { raised: true, code: 59, message: "no such command: 'fooBarNoSuchCommand'" },
      sessionPing: true,
    });
    // libmongoc logs to stderr. The only tolerated line is the endSessions warning it prints on
    // mongoc_client_destroy if the server cannot end sessions (client-handshake.md §4e).
    const unexpected = result.stderr
      .split('\n')
      .filter((line) => line.trim().length > 0 && !line.includes('Couldn\'t send "endSessions"'));
    expect(unexpected).toEqual([]);
  });
});
