import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PocketMongo, type ServerOptions } from '../../src/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MONGOSH = join(ROOT, 'node_modules/.bin/mongosh');
export const CLI = join(ROOT, 'bin/pocketmongo.js');
export const CAPTURES = join(ROOT, 'test/fixtures/captures');

/** An in-process server on a free port, silent unless the test asks for logs. */
export function startServer(options: ServerOptions = {}): Promise<PocketMongo> {
  return PocketMongo.start({ port: 0, ...options });
}

let mongoshHome: string | undefined;

/** The environment that keeps mongosh off the network (client-handshake.md §4f). */
export function mongoshEnv(): NodeJS.ProcessEnv {
  if (mongoshHome === undefined) {
    mongoshHome = mkdtempSync(join(tmpdir(), 'pocketmongo-mongosh-'));
    writeFileSync(
      join(mongoshHome, 'mongosh.conf'),
      'mongosh:\n  forceDisableTelemetry: true\n  updateURL: ""\n  snippetIndexSourceURLs: ""\n',
    );
  }
  return {
    ...process.env,
    HOME: mongoshHome,
    CI: '1',
    MONGOSH_FORCE_DISABLE_TELEMETRY_FOR_TESTING: '1',
    MONGOSH_GLOBAL_CONFIG_FILE_FOR_TESTING: join(mongoshHome, 'mongosh.conf'),
  };
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mongosh <uri> --quiet --norc --eval <code>`. */
export function runMongosh(uri: string, code: string, extraArgs: readonly string[] = []): Promise<ProcessResult> {
  return new Promise((resolvePromise) => {
    execFile(
      MONGOSH,
      [uri, '--quiet', '--norc', ...extraArgs, '--eval', code],
      { env: mongoshEnv(), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
