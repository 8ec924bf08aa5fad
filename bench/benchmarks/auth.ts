/**
 * Authenticated connection set-up: whole connections per second, one after another, against a
 * pocketmongo started with `--auth --initUser bench:benchpass`. One cycle is what a short-lived
 * client does: new MongoClient → connect → ping → close. The baseline is the same cycle against
 * the same server without credentials (the unauthenticated handshake: ping needs no auth), so
 * the ratio is the price of SCRAM (its extra round trips and hashing) per connection.
 *
 * PBKDF2 at the mechanism's iteration count runs on neither side per connection once warm: the
 * server keeps storedKey/serverKey (computed when the user is created, at start-up) and the
 * driver caches the salted password per (password, salt, iterations). Each benchmark starts a
 * fresh server, so a fresh salt, and the first authenticated connection is timed separately
 * (the note's "first"): that one pays the client's PBKDF2.
 */
import type { Document } from 'bson';
import { MongoClient } from 'mongodb';
import { combined, halfSpread, type Loop, measureThroughput, type Throughput, type Timing, timeMs } from '../lib/measure.js';
import { LOOPBACK, type ServerProcess, startServer } from '../lib/processes.js';
import type { Benchmark, BenchOptions } from '../lib/types.js';

const USER = 'bench';
const PASSWORD = 'benchpass';
const SERVER_ARGS = ['--auth', '--initUser', `${USER}:${PASSWORD}`] as const;

/** Uncounted start of each measured half (as in roundTrips.ts). */
const RAMP_MS = 250;

type Mechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-1';

interface AuthSpec {
  name: string;
  mechanism: Mechanism;
  /** The server parameter holding the mechanism's iteration count, and mongod's default. */
  parameter: 'scramSHA256IterationCount' | 'scramIterationCount';
  defaultIterations: number;
}

const SPECS: readonly AuthSpec[] = [
  { name: 'auth.connect.sha256', mechanism: 'SCRAM-SHA-256', parameter: 'scramSHA256IterationCount', defaultIterations: 15_000 },
  { name: 'auth.connect.sha1', mechanism: 'SCRAM-SHA-1', parameter: 'scramIterationCount', defaultIterations: 10_000 },
];

type Side = 'baseline' | 'auth';

function uriFor(port: number, mechanism: Mechanism | undefined): string {
  const base = `${LOOPBACK}:${port}/?directConnection=true`;
  if (mechanism === undefined) return `mongodb://${base}`;
  return `mongodb://${USER}:${PASSWORD}@${base}&authSource=admin&authMechanism=${mechanism}`;
}

/** One client per cycle: a pool of one, heartbeats pushed past the run, failures fast. */
function newClient(uri: string): MongoClient {
  return new MongoClient(uri, {
    maxPoolSize: 1,
    heartbeatFrequencyMS: 120_000,
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    socketTimeoutMS: 30_000,
  });
}

/** connect → (optional extra command) → ping → close. The ping throws on {ok: 0}. */
async function cycle(uri: string, extra?: (client: MongoClient) => Promise<void>): Promise<void> {
  const client = newClient(uri);
  try {
    await client.connect();
    await extra?.(client);
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

/** Whole cycles per second, strictly sequential (one loop). */
function connections(uri: string, timing: Timing): Promise<Throughput> {
  const loop: Loop = async (keepGoing, done) => {
    while (keepGoing()) {
      await cycle(uri);
      done();
    }
  };
  return measureThroughput([loop], timing);
}

function authenticatedUsers(status: Document): string[] {
  const users = (status.authInfo as { authenticatedUsers?: Array<{ user: string; db: string }> } | undefined)?.authenticatedUsers ?? [];
  return users.map((u) => `${u.user}@${u.db}`);
}

/**
 * Checks that each side really is what it claims (no credentials: nobody authenticated; with
 * credentials: bench@admin), times the first authenticated cycle (cold driver cache) and reads
 * the iteration count the server uses for this mechanism.
 */
async function check(server: ServerProcess, spec: AuthSpec): Promise<{ firstMs: number; iterations: number }> {
  await cycle(uriFor(server.port, undefined), async (client) => {
    const users = authenticatedUsers(await client.db('admin').command({ connectionStatus: 1 }));
    if (users.length !== 0) throw new Error(`unauthenticated connection reports users ${users.join(', ')}`);
  });
  const firstMs = await timeMs(() => cycle(uriFor(server.port, spec.mechanism)));
  let iterations = spec.defaultIterations;
  await cycle(uriFor(server.port, spec.mechanism), async (client) => {
    const admin = client.db('admin');
    const users = authenticatedUsers(await admin.command({ connectionStatus: 1 }));
    if (!users.includes(`${USER}@admin`)) throw new Error(`${spec.mechanism}: not authenticated as ${USER}@admin (${users.join(', ') || 'nobody'})`);
    const value = (await admin.command({ getParameter: 1, [spec.parameter]: 1 }))[spec.parameter];
    if (typeof value === 'number') iterations = value;
  });
  return { firstMs, iterations };
}

function authBenchmark(spec: AuthSpec): Benchmark {
  return {
    name: spec.name,
    title: `connect + ${spec.mechanism} + ping + close`,
    async run(options: BenchOptions, progress) {
      // A fresh server per benchmark (so a fresh salt: the first authenticated connection is
      // cold on the client). Both sides run against it: baseline without credentials, then with.
      const server = await startServer('pocketmongo', SERVER_ARGS);
      try {
        const uris: Record<Side, string> = {
          baseline: uriFor(server.port, undefined),
          auth: uriFor(server.port, spec.mechanism),
        };
        progress('check');
        const { firstMs, iterations } = await check(server, spec);
        // Warm-up uncounted per side, then the window in two halves, ABBA (as roundTrips.ts).
        for (const side of ['baseline', 'auth'] as const) {
          progress(`${side} warm-up`);
          await connections(uris[side], { warmupMs: 0, durationMs: options.warmupMs });
        }
        const totals: Record<Side, Throughput[]> = { baseline: [], auth: [] };
        const halves: Timing = { warmupMs: Math.min(RAMP_MS, options.warmupMs), durationMs: options.durationMs / 2 };
        for (const side of ['baseline', 'auth', 'auth', 'baseline'] as const) {
          progress(side);
          totals[side].push(await connections(uris[side], halves));
        }
        const spread = Math.max(halfSpread(totals.baseline), halfSpread(totals.auth));
        return {
          value: combined(totals.auth),
          baseline: combined(totals.baseline),
          unit: 'ops/s',
          better: 'higher',
          note:
            `${spec.mechanism}, ${iterations.toLocaleString('en-US')} iterations; baseline: same --auth server, no credentials; ` +
            `sequential, 1 conn; 2×${(halves.durationMs / 1000).toFixed(1)} s ABBA, halves within ${(spread * 100).toFixed(0)}%; ` +
            `first auth ${firstMs.toFixed(0)} ms (driver caches the salted password)`,
        };
      } finally {
        await server.stop();
      }
    },
  };
}

export const authBenchmarks: readonly Benchmark[] = SPECS.map(authBenchmark);
