/**
 * Durable storage (--dbpath): what keeping the data in an LMDB file costs against the same
 * server in memory.
 *
 * Inserts: one document per command without and with j: true, and 1000 with j: true, against an
 * in-memory pocketmongo in the same run (lib/abba.ts: raw socket, one request in flight, the same
 * frame for both servers). Start-up: spawn → first ping answered on a directory holding the
 * storage benchmarks' collection (lib/collection.ts: 1M documents, 100k with --quick, with an
 * index on a), against starts on an empty directory; and that server's memory once loaded,
 * against an in-memory server that got the same documents through inserts.
 *
 * Every --dbpath server gets a fresh directory under the system's temporary directory, removed
 * afterwards, so the j: true figures include that disk's fsync.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Document } from 'bson';
import { abba, halves, type Measure, spread } from '../lib/abba.js';
import { checkOk } from '../lib/clients.js';
import { DB, dropCollection, expectCount, loadCollection, type LoadTimes, PAD } from '../lib/collection.js';
import { combined, median } from '../lib/measure.js';
import { type DataDirectory, makeDataDirectory, type ServerProcess, startServer } from '../lib/processes.js';
import { duration, fmt, netMicros } from '../lib/report.js';
import { runSequential } from '../lib/sequential.js';
import type { Benchmark, BenchOptions } from '../lib/types.js';
import { decodeOpMsgBody, encodeOpMsg, RawConnection } from '../lib/wire.js';

/** The collection the insert benchmarks write (dropped before each measured part). */
const INSERTS = 'inserts';
const INSERT_BATCH = 1_000;
const JOURNALED = { j: true };

const LOADED = 1_000_000;
const LOADED_QUICK = 100_000;
const loadedSize = (options: BenchOptions) => (options.quick ? LOADED_QUICK : LOADED);
/** Loading a million documents before listening takes seconds, far beyond startServer's default wait. */
const LOADED_START_TIMEOUT_MS = 300_000;
const PING = encodeOpMsg({ ping: 1, $db: 'admin' });
const MB = 2 ** 20;

type Side = 'memory' | 'durable';
/** The in-memory server is the baseline: measured first and last. */
const SIDES = ['memory', 'durable'] as const;

/** Stops a --dbpath server and makes sure it shut down cleanly: else its next start would first read the whole store through. */
async function stopCleanly(server: ServerProcess, dir: DataDirectory): Promise<void> {
  await server.stop();
  if (readFileSync(join(dir.path, 'mongod.lock'), 'utf8') !== '') throw new Error(`the server on ${dir.path} did not shut down cleanly`);
}

// ---------------------------------------------------------------- inserts

interface InsertSpec {
  name: string;
  title: string;
  docsPerCommand: number;
  writeConcern?: Document;
  goal?: string;
}

const INSERT_SPECS: readonly InsertSpec[] = [
  { name: 'durable.insert.single', title: 'insert, 1 doc, --dbpath vs memory', docsPerCommand: 1, goal: '≥ 0.8×' },
  {
    name: 'durable.insert.batch.j',
    title: `insert, ${fmt(INSERT_BATCH)} docs, j: true, --dbpath vs memory`,
    docsPerCommand: INSERT_BATCH,
    writeConcern: JOURNALED,
    goal: '≥ 0.5×',
  },
  { name: 'durable.insert.single.j', title: 'insert, 1 doc, j: true, --dbpath vs memory', docsPerCommand: 1, writeConcern: JOURNALED },
];

/** As storage.ts's inserts: one unchanging frame, documents without _id (the server assigns one). */
function insertBenchmark(spec: InsertSpec): Benchmark {
  return {
    name: spec.name,
    title: spec.title,
    async run(options, progress) {
      const dir = await makeDataDirectory();
      const servers: Partial<Record<Side, ServerProcess>> = {};
      const conns: Partial<Record<Side, RawConnection>> = {};
      try {
        servers.memory = await startServer('pocketmongo');
        servers.durable = await startServer('pocketmongo', ['--dbpath', dir.path]);
        for (const side of SIDES) conns[side] = await RawConnection.open(servers[side]!.port);
        const documents = Array.from({ length: spec.docsPerCommand }, (_, i) => ({ a: i, b: i, s: PAD }));
        const frame = encodeOpMsg({ insert: INSERTS, documents, ...(spec.writeConcern === undefined ? {} : { writeConcern: spec.writeConcern }), $db: DB });
        const check = (reply: Buffer) => {
          const body = decodeOpMsgBody(reply);
          if (Number(body.ok) !== 1 || Number(body.n) !== spec.docsPerCommand || body.writeErrors !== undefined || body.writeConcernError !== undefined) {
            throw new Error(`insert did not insert ${spec.docsPerCommand}: ${JSON.stringify(body)}`);
          }
        };
        const measure: Measure<Side> = async (side, timing) => {
          const conn = conns[side]!;
          // A fresh collection for every part on both servers (as storage.ts); the drop with
          // j: true so that removing the last part's records is not committed inside this one.
          await dropCollection(conn, INSERTS, JOURNALED);
          return runSequential({ conn, next: () => frame, check, ...timing });
        };
        const result = await abba(SIDES, measure, options, progress);
        const durable = combined(result.durable);
        const memory = combined(result.memory);
        const unit = spec.docsPerCommand === 1 ? '' : `documents/s (${fmt(durable)} commands/s); `;
        return {
          value: durable * spec.docsPerCommand,
          baseline: memory * spec.docsPerCommand,
          unit: 'ops/s',
          better: 'higher',
          note:
            `${unit}baseline: in memory; writeConcern ${spec.writeConcern ? JSON.stringify(spec.writeConcern) : 'omitted'}; 1 in flight; ` +
            `${halves(options)} ABBA, halves within ${spread(result)}; ${duration(netMicros(durable, memory))} per command above in memory` +
            (spec.goal ? `; goal ${spec.goal}` : ''),
        };
      } finally {
        for (const side of SIDES) conns[side]?.close();
        await Promise.all(SIDES.map((side) => servers[side]?.stop()));
        await dir.remove();
      }
    },
  };
}

// ---------------------------------------------------------------- the loaded directory

interface Populated extends LoadTimes {
  dir: DataDirectory;
  documents: number;
  bytes: number;
}

/** One directory of documents, written once and shared by the start-up and memory rows. */
let populated: Promise<Populated> | undefined;

function populate(options: BenchOptions, progress: (m: string) => void): Promise<Populated> {
  return (populated ??= writeDirectory(loadedSize(options), progress));
}

async function writeDirectory(documents: number, progress: (m: string) => void): Promise<Populated> {
  const dir = await makeDataDirectory();
  try {
    const server = await startServer('pocketmongo', ['--dbpath', dir.path]);
    let times: LoadTimes;
    try {
      times = await loadCollection(server.port, documents, progress);
    } finally {
      await stopCleanly(server, dir);
    }
    const bytes = readdirSync(dir.path).reduce((sum, file) => sum + statSync(join(dir.path, file)).size, 0);
    return { dir, documents, bytes, ...times };
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

/** Removes the loaded directory (the runner also removes it at exit). */
async function releasePopulated(): Promise<void> {
  const data = await populated?.catch(() => undefined);
  populated = undefined;
  await data?.dir.remove();
}

/** Spawn → listening → first ping answered, timed; then, untimed, the documents counted. */
async function timedStart(dir: DataDirectory, documents: number): Promise<{ server: ServerProcess; ms: number }> {
  const started = performance.now();
  const server = await startServer('pocketmongo', ['--dbpath', dir.path], LOADED_START_TIMEOUT_MS);
  try {
    const conn = await RawConnection.open(server.port);
    try {
      checkOk(await conn.roundTrip(Buffer.from(PING)));
      const ms = performance.now() - started;
      await expectCount(conn, documents);
      return { server, ms };
    } finally {
      conn.close();
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
}

const loadNote = (data: Populated) => `${fmt(data.documents)} docs + index on a`;

const durableLoad: Benchmark = {
  name: 'durable.load.1M',
  title: 'start → first ping, --dbpath holding 1M docs vs empty',
  async run(options, progress) {
    const data = await populate(options, progress);
    const repetitions = options.quick ? 3 : 5;
    const samples: Record<'empty' | 'loaded', number[]> = { empty: [], loaded: [] };
    // Alternate the two so drift (other work on the machine) affects both alike.
    for (let i = 0; i < repetitions; i++) {
      progress(`${i + 1}/${repetitions}`);
      const empty = await makeDataDirectory();
      try {
        const { server, ms } = await timedStart(empty, 0);
        await stopCleanly(server, empty);
        samples.empty.push(ms);
      } finally {
        await empty.remove();
      }
      const { server, ms } = await timedStart(data.dir, data.documents);
      await stopCleanly(server, data.dir);
      samples.loaded.push(ms);
    }
    return {
      value: median(samples.loaded),
      baseline: median(samples.empty),
      unit: 'ms',
      better: 'lower',
      note:
        `${loadNote(data)} (${fmt(data.bytes / MB)} MB on disk, in the page cache); baseline: an empty directory; ` +
        `median of ${repetitions} spawns each, interleaved; goal < 5 s`,
    };
  },
};

const durableMemory: Benchmark = {
  name: 'durable.memory.1M',
  title: 'RSS holding 1M docs, --dbpath (loaded at start) vs memory',
  async run(options, progress) {
    try {
      const data = await populate(options, progress);
      progress('starting on the loaded directory');
      const { server: durable } = await timedStart(data.dir, data.documents);
      let durableRss: number;
      let durableFile: number;
      try {
        durableRss = durable.rssBytes()!;
        durableFile = durable.rssFileBytes()!;
      } finally {
        await stopCleanly(durable, data.dir);
      }
      const memory = await startServer('pocketmongo');
      let memoryRss: number;
      let memoryFile: number;
      try {
        await loadCollection(memory.port, data.documents, progress);
        memoryRss = memory.rssBytes()!;
        memoryFile = memory.rssFileBytes()!;
      } finally {
        await memory.stop();
      }
      return {
        value: durableRss / MB,
        baseline: memoryRss / MB,
        unit: 'MB',
        better: 'lower',
        note:
          `${loadNote(data)}; RSS once the first ping is answered vs once the inserts and the index are done (no forced GC); ` +
          `file-backed (binary, libraries, mapped store): ${fmt(durableFile / MB)} vs ${fmt(memoryFile / MB)} MB`,
      };
    } finally {
      await releasePopulated();
    }
  },
};

export const durableBenchmarks: readonly Benchmark[] = [...INSERT_SPECS.map(insertBenchmark), durableLoad, durableMemory];
