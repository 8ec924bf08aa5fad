/**
 * Storage: inserts (one document, and 1000 per command), and lookups — by an indexed field, by
 * _id, by an unindexed field (a collection scan), a range over the indexed field — in
 * collections of 10k and 1M documents (100k with --quick), each beside the echo ceiling; then,
 * per lookup kind, how the per-request cost grows from 10k to 1M documents. Last, in this process,
 * the copy-on-write clone of a collection (Collection.clone) and the first write after one, at
 * both sizes.
 *
 * Client: the raw socket client, one request in flight (bench/lib/sequential.ts), sending the
 * same frames to pocketmongo and to the baseline server — which answers every command with a
 * canned {ok: 1} whatever it asks — so the ratio is pocketmongo against the ceiling for a Node
 * server answering that very request. Per request only the query value changes, patched into
 * a pre-encoded frame (values from a seeded generator: both servers see the same sequence).
 *
 * The measurements do not assume how the server finds documents: they time what it does.
 */
import { performance } from 'node:perf_hooks';
import { Int32, type Document } from 'bson';
import { Collection } from '../../src/storage/catalog.js';
import { type Abba, abba, halves, type Measure, spread } from '../lib/abba.js';
import { checkOk } from '../lib/clients.js';
import { DB, DOCS, dropCollection, loadCollection, PAD, type LoadTimes } from '../lib/collection.js';
import { type ServerKind, type ServerProcess, startBoth, startServer } from '../lib/processes.js';
import { duration, fmt, micros, netMicros } from '../lib/report.js';
import { marker, PatchableFrame, runSequential } from '../lib/sequential.js';
import { CpuMeter } from '../lib/cpu.js';
import type { Benchmark, BenchOptions, Measurement } from '../lib/types.js';
import { decodeOpMsgBody, encodeOpMsg, RawConnection } from '../lib/wire.js';
import { combined, type Timing } from '../lib/measure.js';
import { seededRandom } from '../lib/random.js';

/** The collection the insert benchmarks write (dropped before each measured part). */
const INSERTS = 'inserts';

const SMALL = 10_000;
const LARGE = 1_000_000;
const LARGE_QUICK = 100_000;
const sizeOf = (which: Size, options: BenchOptions) => (which === 'small' ? SMALL : options.quick ? LARGE_QUICK : LARGE);
type Size = 'small' | 'large';
const SIZE_LABEL: Record<Size, string> = { small: '10k', large: '1M' };

const INSERT_BATCH = 1_000;
const RANGE_WIDTH = 10;
const SEED = 0x5eed;

// ---------------------------------------------------------------- shared helpers

/** pocketmongo's reply must be ok: 1 and pass `expect`; the baseline's only ok: 1 (it answers {ok: 1} to anything). */
function checkerFor(kind: ServerKind, expect: (body: Document) => void): (reply: Buffer) => void {
  if (kind === 'baseline') return checkOk;
  return (reply) => {
    const body = decodeOpMsgBody(reply);
    if (Number(body.ok) !== 1) throw new Error(`command failed: ${JSON.stringify(body)}`);
    expect(body);
  };
}

// ---------------------------------------------------------------- inserts

interface InsertSpec {
  name: string;
  title: string;
  docsPerCommand: number;
}

const INSERT_SPECS: readonly InsertSpec[] = [
  { name: 'storage.insert.single', title: 'insert, 1 document per command', docsPerCommand: 1 },
  { name: 'storage.insert.batch', title: `insert, ${fmt(INSERT_BATCH)} documents per command`, docsPerCommand: INSERT_BATCH },
];

/**
 * The same frame every time: documents without _id, which the server assigns (an ObjectId, as
 * mongod does), so the frame needs no patching and never collides with a stored _id.
 */
function insertBenchmark(spec: InsertSpec): Benchmark {
  return {
    name: spec.name,
    title: spec.title,
    async run(options, progress) {
      const servers = await startBoth();
      const conns: Partial<Record<ServerKind, RawConnection>> = {};
      try {
        conns.baseline = await RawConnection.open(servers.baseline.port);
        conns.pocketmongo = await RawConnection.open(servers.pocketmongo.port);
        const documents = Array.from({ length: spec.docsPerCommand }, (_, i) => ({ a: i, b: i, s: PAD }));
        const frame = encodeOpMsg({ insert: INSERTS, documents, $db: DB });
        const expectInserted = (body: Document) => {
          if (Number(body.n) !== spec.docsPerCommand || body.writeErrors !== undefined) {
            throw new Error(`insert did not insert ${spec.docsPerCommand}: ${JSON.stringify(body)}`);
          }
        };
        const measure: Measure<ServerKind> = async (kind, timing) => {
          const conn = conns[kind]!;
          // A fresh collection for every part, so a long run does not measure a heap full of
          // earlier parts' documents (nor run the server out of memory).
          if (kind === 'pocketmongo') await dropCollection(conn, INSERTS);
          return runSequential({ conn, next: () => frame, check: checkerFor(kind, expectInserted), ...timing });
        };
        const cpu = new CpuMeter<ServerKind>((kind) => servers[kind].cpuMicros());
        const result = await abba(['baseline', 'pocketmongo'], measure, options, progress, cpu);
        return insertMeasurement(spec, result, options, cpu);
      } finally {
        conns.baseline?.close();
        conns.pocketmongo?.close();
        await Promise.all([servers.baseline.stop(), servers.pocketmongo.stop()]);
      }
    },
  };
}

function insertMeasurement(spec: InsertSpec, result: Abba<ServerKind>, options: BenchOptions, cpu: CpuMeter<ServerKind>): Measurement {
  const perCommand = spec.docsPerCommand;
  const pm = combined(result.pocketmongo);
  const base = combined(result.baseline);
  const unit = perCommand === 1 ? '' : `documents/s (${fmt(pm)} commands/s); `;
  return {
    value: pm * perCommand,
    baseline: base * perCommand,
    unit: 'ops/s',
    better: 'higher',
    note:
      `${unit}1 in flight; server-assigned _id; ${halves(options)} ABBA, halves within ${spread(result)}; ` +
      `${duration(netMicros(pm, base))} per command above the echo round trip${cpu.note('pocketmongo', 'baseline')}`,
  };
}

// ---------------------------------------------------------------- the loaded collections

interface Loaded extends LoadTimes {
  server: ServerProcess;
  documents: number;
}

/** One pocketmongo per size, loaded once and shared by every lookup at that size. */
const loadedServers = new Map<number, Promise<Loaded>>();
/** One baseline for every lookup (it keeps no state). */
let echoServer: Promise<ServerProcess> | undefined;

function echo(): Promise<ServerProcess> {
  return (echoServer ??= startServer('baseline'));
}

/**
 * A separate server per size, not two collections in one: the 10k figures must not pay for
 * garbage-collecting a heap that holds a million other documents.
 */
function loaded(documents: number, progress: (m: string) => void): Promise<Loaded> {
  let server = loadedServers.get(documents);
  if (server === undefined) {
    server = startAndLoad(documents, progress);
    loadedServers.set(documents, server);
  }
  return server;
}

async function startAndLoad(documents: number, progress: (m: string) => void): Promise<Loaded> {
  const server = await startServer('pocketmongo');
  try {
    return { server, documents, ...(await loadCollection(server.port, documents, progress)) };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Stops the loaded servers and the shared baseline (the runner also kills them at exit), and drops the in-process collections. */
async function releaseShared(): Promise<void> {
  const servers = [...loadedServers.values()].map((p) => p.then((l) => l.server).catch(() => undefined));
  if (echoServer !== undefined) servers.push(echoServer.catch(() => undefined));
  loadedServers.clear();
  echoServer = undefined;
  cloneResults.clear();
  builtCollections.clear();
  await Promise.all(servers.map(async (s) => (await s)?.stop()));
}

// ---------------------------------------------------------------- lookups

type LookupKind = 'indexed' | 'id' | 'unindexed' | 'range';

interface LookupSpec {
  /** The benchmark name between `storage.` and the size. */
  name: string;
  label: string;
  /** The find command, with marker(0) (and marker(1)) where the per-request values go. */
  body: Document;
  slots: number;
  /** Writes this request's values (an existing value, or a range start) into the frame. */
  fill: (frame: PatchableFrame, random: () => number, n: number) => void;
  /** Documents each reply must hold. */
  expected: number;
}

const pointFill = (frame: PatchableFrame, random: () => number, n: number) => frame.set(0, Math.floor(random() * n));

/** singleBatch: every find answers in its first reply, so no cursor outlives its request. */
const LOOKUPS: Record<LookupKind, LookupSpec> = {
  indexed: {
    name: 'lookup.indexed',
    label: 'find {a: v} limit 1, a indexed',
    body: { find: DOCS, filter: { a: marker(0) }, limit: 1, singleBatch: true },
    slots: 1,
    fill: pointFill,
    expected: 1,
  },
  id: {
    name: 'lookup.id',
    label: 'find {_id: v} limit 1',
    body: { find: DOCS, filter: { _id: marker(0) }, limit: 1, singleBatch: true },
    slots: 1,
    fill: pointFill,
    expected: 1,
  },
  unindexed: {
    name: 'lookup.unindexed',
    label: 'find {b: v} limit 1, b not indexed (scan)',
    body: { find: DOCS, filter: { b: marker(0) }, limit: 1, singleBatch: true },
    slots: 1,
    fill: pointFill,
    expected: 1,
  },
  range: {
    name: 'range.indexed',
    label: `find {a: {$gte: x, $lt: x+${RANGE_WIDTH}}}, a indexed`,
    body: { find: DOCS, filter: { a: { $gte: marker(0), $lt: marker(1) } }, singleBatch: true },
    slots: 2,
    fill: (frame, random, n) => {
      const x = Math.floor(random() * (n - RANGE_WIDTH + 1));
      frame.set(0, x);
      frame.set(1, x + RANGE_WIDTH);
    },
    expected: RANGE_WIDTH,
  },
};

const LOOKUP_KINDS = Object.keys(LOOKUPS) as LookupKind[];

interface LookupResult {
  abba: Abba<ServerKind>;
  loaded: Loaded;
  /** Each server's CPU per request over the run. */
  cpu: CpuMeter<ServerKind>;
}

/** Results by kind and size: the growth rows reuse the lookup rows' figures instead of re-measuring. */
const lookupResults = new Map<string, Promise<LookupResult>>();

function lookupResult(kind: LookupKind, size: Size, options: BenchOptions, progress: (m: string) => void): Promise<LookupResult> {
  const key = `${kind}.${sizeOf(size, options)}`;
  let result = lookupResults.get(key);
  if (result === undefined) {
    result = measureLookup(kind, size, options, progress);
    lookupResults.set(key, result);
  }
  return result;
}

async function measureLookup(kind: LookupKind, size: Size, options: BenchOptions, progress: (m: string) => void): Promise<LookupResult> {
  const spec = LOOKUPS[kind];
  const n = sizeOf(size, options);
  const [data, baseline] = await Promise.all([loaded(n, progress), echo()]);
  const servers: Record<ServerKind, ServerProcess> = { pocketmongo: data.server, baseline };
  const expectDocuments = (body: Document) => {
    const got = (body.cursor as Document | undefined)?.firstBatch as unknown[] | undefined;
    if (got?.length !== spec.expected) throw new Error(`expected ${spec.expected} document(s), got ${JSON.stringify(body).slice(0, 500)}`);
  };
  const measure: Measure<ServerKind> = async (server, timing) => {
    const conn = await RawConnection.open(servers[server].port);
    try {
      const frame = new PatchableFrame({ ...spec.body, $db: DB }, spec.slots);
      const random = seededRandom(SEED);
      const next = () => {
        spec.fill(frame, random, n);
        return frame.frame;
      };
      return await runSequential({ conn, next, check: checkerFor(server, expectDocuments), ...timing });
    } finally {
      conn.close();
    }
  };
  const cpu = new CpuMeter<ServerKind>((kind) => servers[kind].cpuMicros());
  return { abba: await abba(['baseline', 'pocketmongo'], measure, options, progress, cpu), loaded: data, cpu };
}

function lookupBenchmark(kind: LookupKind, size: Size): Benchmark {
  return {
    name: `storage.${LOOKUPS[kind].name}.${SIZE_LABEL[size]}`,
    title: `${LOOKUPS[kind].label}, ${SIZE_LABEL[size]} docs`,
    async run(options, progress) {
      const { abba: result, loaded: data, cpu } = await lookupResult(kind, size, options, progress);
      const pm = combined(result.pocketmongo);
      const base = combined(result.baseline);
      const ops = result.pocketmongo.reduce((s, r) => s + r.ops, 0);
      return {
        value: pm,
        baseline: base,
        unit: 'ops/s',
        better: 'higher',
        note:
          `${fmt(data.documents)} docs (load ${(data.loadMs / 1000).toFixed(1)} s, index ${(data.indexMs / 1000).toFixed(1)} s, untimed); ` +
          `1 in flight; ${fmt(ops)} requests in ${halves(options)} ABBA, halves within ${spread(result)}; ` +
          `${duration(micros(pm))} per request, ${duration(netMicros(pm, base))} above the echo round trip${cpu.note('pocketmongo', 'baseline')}`,
      };
    },
  };
}

// ---------------------------------------------------------------- growth

/**
 * Per-request cost at 1M documents against the same at 10k. The table's baseline column holds
 * the 10k cost here, so its ratio column is the growth; the note adds the growth of the cost
 * above the echo round trip (the server's own work, without the transport both sizes share).
 */
function growthBenchmark(kind: LookupKind): Benchmark {
  return {
    name: `storage.growth.${kind}`,
    title: `${LOOKUPS[kind].label}: cost per request, 1M vs 10k docs`,
    async run(options, progress) {
      const small = await lookupResult(kind, 'small', options, progress);
      const large = await lookupResult(kind, 'large', options, progress);
      const cost = (r: LookupResult) => 1000 / combined(r.abba.pocketmongo);
      const net = (r: LookupResult) => netMicros(combined(r.abba.pocketmongo), combined(r.abba.baseline));
      const [netSmall, netLarge] = [net(small), net(large)];
      const netGrowth = netSmall > 0 ? `${(netLarge / netSmall).toFixed(1)}×` : 'n/a (at or below the echo cost at 10k)';
      return {
        value: cost(large),
        baseline: cost(small),
        unit: 'ms',
        better: 'lower',
        note:
          `baseline column = the same request at ${fmt(small.loaded.documents)} docs, ratio = growth to ${fmt(large.loaded.documents)}; ` +
          `above the echo round trip: ${duration(netSmall)} → ${duration(netLarge)}, ${netGrowth}`,
      };
    },
  };
}

// ---------------------------------------------------------------- clones (in this process)

/** The storage engine itself, with no server: a collection as the lookups load it, index on a. */
const builtCollections = new Map<number, Collection>();

function builtCollection(n: number, progress: (m: string) => void): Collection {
  let collection = builtCollections.get(n);
  if (collection === undefined) {
    progress(`building a ${fmt(n)}-document collection in this process (untimed)`);
    collection = new Collection(DB, DOCS);
    collection.addIndex({ name: 'a_1', key: { a: new Int32(1) }, unique: false, sparse: false });
    // a: a permutation of 0..n-1 (7,919 is a prime, n a product of 2s and 5s), unrelated to _id.
    for (let i = 0; i < n; i++) collection.add({ _id: i, a: (i * 7_919) % n, b: i, s: PAD });
    builtCollections.set(n, collection);
  }
  return collection;
}

/** Calls `op` for the warm-up, then for the window: calls per second. */
function rate(op: () => void, timing: Timing): number {
  const run = (ms: number) => {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 64; i++) op();
      calls += 64;
      now = performance.now();
    }
    return calls / ((now - start) / 1000);
  };
  run(timing.warmupMs);
  return run(timing.durationMs);
}

interface CloneResult {
  /** Collection.clone() per second. */
  clone: number;
  /** A clone, then a replacement in the original (the first write after the clone), per second. */
  cloneThenWrite: number;
  /** The same replacements without clones, per second. */
  write: number;
}

const cloneResults = new Map<number, CloneResult>();

/**
 * A replacement of a random document (b changes; every index is updated, as an update does). After
 * a clone every tree node is shared, so the write copies the nodes on its paths (the records, _id
 * and a trees); later writes copy only nodes not copied yet.
 */
function measureClones(n: number, options: BenchOptions, progress: (m: string) => void): CloneResult {
  let result = cloneResults.get(n);
  if (result !== undefined) return result;
  const collection = builtCollection(n, progress);
  const random = seededRandom(SEED);
  const write = () => {
    const old = collection.findById(Math.floor(random() * n))!;
    collection.replace(old, { ...old, b: (old.b as number) + 1 });
  };
  progress(`clones of ${fmt(n)} documents`);
  result = {
    clone: rate(() => collection.clone(), options),
    cloneThenWrite: rate(() => {
      collection.clone();
      write();
    }, options),
    write: rate(write, options),
  };
  cloneResults.set(n, result);
  return result;
}

const nanos = (perSecond: number) => `${fmt(1e9 / perSecond)} ns`;

/** The results at one size, with that size as the notes name it. */
interface Sized {
  readonly result: CloneResult;
  readonly docs: string;
}

function cloneBenchmark(name: string, title: string, pick: (r: CloneResult) => number, note: (large: Sized, small: Sized) => string): Benchmark {
  return {
    name: `storage.clone.${name}`,
    title,
    async run(options, progress) {
      const sized = (size: Size): Sized => {
        const n = sizeOf(size, options);
        return { result: measureClones(n, options, progress), docs: `${fmt(n)} docs` };
      };
      const small = sized('small');
      const large = sized('large');
      return {
        value: pick(large.result),
        baseline: pick(small.result),
        unit: 'ops/s',
        better: 'higher',
        note: `in process, no server; baseline column = the same at ${small.docs}, ratio = the rate at ${large.docs} against it; ${note(large, small)}`,
      };
    },
  };
}

const CLONE_BENCHMARKS: readonly Benchmark[] = [
  cloneBenchmark(
    'collection',
    'Collection.clone(), 1M vs 10k docs, index on a',
    (r) => r.clone,
    (large, small) => `${nanos(large.result.clone)} per clone at ${large.docs}, ${nanos(small.result.clone)} at ${small.docs}`,
  ),
  cloneBenchmark(
    'firstWrite',
    'clone, then replace a document in the original, 1M vs 10k docs',
    (r) => r.cloneThenWrite,
    (large, small) =>
      `${nanos(large.result.cloneThenWrite)} per clone + first write at ${large.docs} (${nanos(large.result.write)} per write without clones), ` +
      `${nanos(small.result.cloneThenWrite)} at ${small.docs} (${nanos(small.result.write)})`,
  ),
];

// ---------------------------------------------------------------- the list

/** The last storage benchmark to run frees the shared servers (else the runner kills them at exit). */
function releasingAfter(benchmark: Benchmark): Benchmark {
  return {
    ...benchmark,
    async run(options, progress) {
      try {
        return await benchmark.run(options, progress);
      } finally {
        await releaseShared();
      }
    },
  };
}

/** Lookups grouped by size, so each loaded server is busy in one stretch. */
const all: Benchmark[] = [
  ...INSERT_SPECS.map(insertBenchmark),
  ...(['small', 'large'] as const).flatMap((size) => LOOKUP_KINDS.map((kind) => lookupBenchmark(kind, size))),
  ...LOOKUP_KINDS.map(growthBenchmark),
  ...CLONE_BENCHMARKS,
];

export const storageBenchmarks: readonly Benchmark[] = [...all.slice(0, -1), releasingAfter(all[all.length - 1]!)];
