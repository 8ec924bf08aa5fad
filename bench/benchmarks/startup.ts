/** Start-up latency: the CLI in a fresh process, and the embedded API in this one. */
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { checkOk } from '../lib/clients.js';
import { median, timeMs } from '../lib/measure.js';
import { LOOPBACK, REPO_ROOT, startServer, type ServerKind } from '../lib/processes.js';
import type { Benchmark } from '../lib/types.js';
import { encodeOpMsg, RawConnection } from '../lib/wire.js';

const PING = encodeOpMsg({ ping: 1, $db: 'admin' });

/** Spawn → 'Waiting for connections' logged → raw socket connected → ping answered. */
async function spawnToFirstPing(kind: ServerKind): Promise<number> {
  let stop: (() => Promise<void>) | undefined;
  try {
    return await timeMs(async () => {
      const server = await startServer(kind);
      stop = server.stop;
      const conn = await RawConnection.open(server.port);
      try {
        checkOk(await conn.roundTrip(Buffer.from(PING)));
      } finally {
        conn.close();
      }
    });
  } finally {
    await stop?.();
  }
}

/** What bin/pocketmongo.js runs (scripts/bundle.mjs, part of `npm run build`), and V8's code cache for it. */
const CLI_BUNDLE = join(REPO_ROOT, 'dist', 'cli.bundle.js');
const CLI_CODE_CACHE = join(REPO_ROOT, 'dist', 'cli.bundle.cache');
/** tsc's output, which bin/pocketmongo.js runs instead of a bundle older than it. */
const TSC_CLI = join(REPO_ROOT, 'dist', 'server', 'cli.js');

/** What the spawned CLI loads, for the note. */
function cliEntry(): string {
  const mtime = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  const bundled = mtime(CLI_BUNDLE);
  const compiled = mtime(TSC_CLI);
  if (bundled === undefined || (compiled !== undefined && compiled > bundled)) return 'tsc output, NOT the bundle (run `npm run build`)';
  return existsSync(CLI_CODE_CACHE) ? 'bundle + code cache' : 'bundle, NO code cache';
}

export const cliStart: Benchmark = {
  name: 'start.cli',
  title: 'CLI start → first ping',
  async run(options, progress) {
    const repetitions = options.quick ? 3 : 5;
    const samples: Record<ServerKind, number[]> = { baseline: [], pocketmongo: [] };
    // Alternate the two so drift (page cache, CPU frequency) affects both alike.
    for (let i = 0; i < repetitions; i++) {
      progress(`${i + 1}/${repetitions}`);
      for (const kind of ['baseline', 'pocketmongo'] as const) samples[kind].push(await spawnToFirstPing(kind));
    }
    return {
      value: median(samples.pocketmongo),
      baseline: median(samples.baseline),
      unit: 'ms',
      better: 'lower',
      note: `median of ${repetitions} spawns; ${cliEntry()}`,
    };
  },
};

/** A bare node:net server: listen on an ephemeral loopback port, then close. */
async function bareListen(): Promise<{ ms: number; close: () => Promise<void> }> {
  const server = createServer();
  const ms = await timeMs(
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: 0, host: LOOPBACK }, resolve);
      }),
  );
  return { ms, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export const embeddedStart: Benchmark = {
  name: 'start.embedded',
  title: 'PocketMongo.start() → listening',
  async run(options, progress) {
    const { PocketMongo } = await import('../../src/index.js');
    const repetitions = options.quick ? 10 : 20;
    const warmups = 3;
    const pocket: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < warmups + repetitions; i++) {
      if (i === warmups) progress(`${repetitions} starts`);
      let server: Awaited<ReturnType<typeof PocketMongo.start>> | undefined;
      try {
        const ms = await timeMs(async () => {
          server = await PocketMongo.start({ port: 0, quiet: true });
        });
        if (i === 0) {
          // Once: make sure what started is a server that answers.
          const conn = await RawConnection.open(server!.port);
          try {
            checkOk(await conn.roundTrip(Buffer.from(PING)));
          } finally {
            conn.close();
          }
        }
        if (i >= warmups) pocket.push(ms);
      } finally {
        await server?.stop();
      }
      const baseline = await bareListen();
      await baseline.close();
      if (i >= warmups) bare.push(baseline.ms);
    }
    return {
      value: median(pocket),
      baseline: median(bare),
      unit: 'ms',
      better: 'lower',
      note: `median of ${repetitions}, in-process; baseline: net.Server.listen`,
    };
  },
};
