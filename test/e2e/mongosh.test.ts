// mongosh 2.x (the npm devDependency) against an in-process server: `mongosh URI --quiet --norc
// --eval CODE` with the offline environment of client-handshake.md §4f (see mongoshEnv()).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { MONGOSH, ROOT, mongoshEnv, runMongosh, startServer, type ProcessResult } from '../helpers/server.js';

let server: PocketMongo;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Runs mongosh and insists it succeeded quietly: exit 0 and nothing on stderr. */
async function evalOk(code: string): Promise<string> {
  const result = await runMongosh(server.uri, code);
  expect(result, `mongosh --eval ${code}`).toMatchObject({ code: 0, stderr: '' });
  return result.stdout;
}

describe('mongosh --eval', () => {
  test('db.runCommand({ping: 1}) prints ok: 1', async () => {
    const stdout = await evalOk('db.runCommand({ping: 1})');
    expect(stdout.trim()).toBe('{ ok: 1 }');
  });

  test('db.version() prints 7.0.14', async () => {
    expect((await evalOk('db.version()')).trim()).toBe('7.0.14');
  });

  test('db.runCommand({buildInfo: 1}).version prints 7.0.14', async () => {
    expect((await evalOk('db.runCommand({buildInfo: 1}).version')).trim()).toBe('7.0.14');
  });

  test('several results in one --eval', async () => {
    const stdout = await evalOk(
      'print(JSON.stringify({ping: db.adminCommand({ping: 1}).ok, version: db.version(), ' +
        'buildInfo: db.adminCommand({buildInfo: 1}).version}))',
    );
    expect(JSON.parse(stdout.trim())).toEqual({ ping: 1, version: '7.0.14', buildInfo: '7.0.14' });
  });

  test('an unknown command throws MongoServerError code 59 (CommandNotFound)', async () => {
    const stdout = await evalOk(
      'try { db.runCommand({fooBarNoSuchCommand: 1}); print("no error") } ' +
        'catch (e) { print(JSON.stringify({name: e.name, code: e.code, codeName: e.codeName, message: e.message})) }',
    );
    expect(JSON.parse(stdout.trim())).toEqual({
      name: 'MongoServerError',
      code: 59,
      codeName: 'CommandNotFound',
      message: "no such command: 'fooBarNoSuchCommand'",
    });
  });

  test('an uncaught unknown command is reported on stderr as MongoServerError, exit 1', async () => {
    const result = await runMongosh(server.uri, 'db.runCommand({fooBarNoSuchCommand: 1})');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('MongoServerError');
    expect(result.stderr).toContain("no such command: 'fooBarNoSuchCommand'");
  });
});

describe('mongosh stays offline', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pocketmongo-netguard-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** mongosh with a preload that records every connect() and DNS lookup it attempts. */
  function runGuarded(code: string, log: string): Promise<ProcessResult> {
    const guard = join(ROOT, 'test/fixtures/clients/net-guard.cjs');
    const env = { ...mongoshEnv(), NODE_OPTIONS: `--require ${guard}`, POCKETMONGO_NET_GUARD_LOG: log };
    return new Promise((resolvePromise) => {
      execFile(MONGOSH, [server.uri, '--quiet', '--norc', '--eval', code], { env, timeout: 60_000 }, (error, stdout, stderr) => {
        const exit = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolvePromise({ code: exit, stdout, stderr });
      });
    });
  }

  test('the only connections are to the server; no DNS lookups; nothing on stderr', async () => {
    const log = join(dir, 'net.jsonl');
    const result = await runGuarded('print(db.version()); printjson(db.runCommand({ping: 1}))', log);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('7.0.14');
    expect(result.stdout).toContain('ok: 1');
    const events = readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { kind: string; host?: string; port?: number; path?: string });
    // The preload really ran inside mongosh, so an empty list below means something.
    expect(events.some((e) => e.kind === 'loaded')).toBe(true);
    const network = events.filter((e) => e.kind !== 'loaded');
    const connects = network.filter((e) => e.kind === 'connect');
    expect(connects.length).toBeGreaterThan(0);
    const others = network.filter((e) => !(e.kind === 'connect' && e.host === '127.0.0.1' && e.port === server.port));
    expect(others, 'network use other than the server').toEqual([]);
  });
});
