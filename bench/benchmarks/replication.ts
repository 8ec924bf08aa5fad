/**
 * Replica-set mode (--replSet): what retryable writes, transactions and their snapshots cost,
 * each against a baseline measured in the same run.
 *
 * - Retryable writes: single-document inserts carrying an lsid and a new txnNumber each (what a
 *   driver sends with retryWrites on) against plain inserts in a session (an lsid, no txnNumber:
 *   what a driver sends with retryWrites=false) on the same --replSet server, and against
 *   inserts without a session on a standalone server; and, from the same run, the set's
 *   session inserts against the standalone.
 * - Transactions: N = 1 and N = 10 single-document inserts in a transaction, then
 *   commitTransaction (N + 1 round trips), against the same N inserts outside a transaction.
 * - Snapshots: the first statement of a transaction — startTransaction with a find by _id, which
 *   takes the transaction's snapshot (copy-on-write clones of every collection) — in collections
 *   of 10k and 1M documents (100k with --quick), against the same find outside a transaction;
 *   then its growth from 10k to 1M, which should be flat. Each such statement starts a new
 *   transaction on the session, which aborts the previous one (no writes: nothing to release).
 *
 * Client: raw socket connections, one request in flight (lib/sequential.ts), the sides measured
 * in ABBA order (ABCCBA for the three insert sides) after an uncounted warm-up of each, so load
 * that drifts during the run weighs on every side alike. Frames are pre-encoded; per request
 * only int32 values are patched in place (the txnNumber's low word, the _id looked up), so the
 * client costs the same on every side. Replies are decoded once per distinct length.
 */
import { Long, UUID, type Document } from 'bson';
import { halves, spread } from '../lib/abba.js';
import { DB, DOCS, dropCollection, loadCollection, PAD } from '../lib/collection.js';
import { combined, median, type Timing } from '../lib/measure.js';
import { type ServerProcess, startServer } from '../lib/processes.js';
import { duration, fmt, micros, netMicros } from '../lib/report.js';
import { marker, PatchableFrame, runSequential, type SequentialResult } from '../lib/sequential.js';
import type { Benchmark, BenchOptions, Measurement } from '../lib/types.js';
import { decodeOpMsgBody, encodeOpMsg, RawConnection } from '../lib/wire.js';
import { seededRandom } from '../lib/random.js';

const REPL_SET = ['--replSet', 'rs0'];
/** The collection the insert benchmarks write (dropped before each measured part). */
const INSERTS = 'inserts';
const DOCUMENT = { a: 1, b: 1, s: PAD };
const SMALL = 10_000;
const LARGE = 1_000_000;
const LARGE_QUICK = 100_000;
const SEED = 0x5eed;
/** Loading a million documents (each also an oplog entry) takes seconds. */
const LOADED_START_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------- shared helpers

/** Uncounted start of each measured part (as lib/abba.ts). */
const RAMP_MS = 250;

type Results<S extends string> = Record<S, SequentialResult[]>;

/**
 * lib/abba.ts for any number of sides: each is driven for the warm-up time uncounted, then the
 * window is measured in two halves in the order A B C … C B A (ABBA for two sides).
 */
async function interleaved<S extends string>(
  sides: readonly S[],
  measure: (side: S, timing: Timing) => Promise<SequentialResult>,
  options: BenchOptions,
  progress: (m: string) => void,
): Promise<Results<S>> {
  for (const side of sides) {
    progress(`${side} warm-up`);
    await measure(side, { warmupMs: 0, durationMs: options.warmupMs });
  }
  const results = Object.fromEntries(sides.map((side) => [side, [] as SequentialResult[]])) as Results<S>;
  const half: Timing = { warmupMs: Math.min(RAMP_MS, options.warmupMs), durationMs: options.durationMs / 2 };
  for (const side of [...sides, ...[...sides].reverse()]) {
    progress(side);
    results[side].push(await measure(side, half));
  }
  return results;
}

/**
 * A reply check that decodes each distinct reply length once (an error reply never has the
 * length of the good reply it replaces): the transaction sides alternate between replies of two
 * lengths, which runSequential alone would decode every time.
 */
function checkEachLength(expect: (body: Document) => void): (reply: Buffer) => void {
  const seen = new Set<number>();
  return (reply) => {
    if (seen.has(reply.length)) return;
    const body = decodeOpMsgBody(reply);
    if (Number(body.ok) !== 1 || body.writeErrors !== undefined || body.writeConcernError !== undefined) {
      throw new Error(`command failed: ${JSON.stringify(body)}`);
    }
    expect(body);
    seen.add(reply.length);
  };
}

function expectInserted(body: Document): void {
  if (body.n !== undefined && Number(body.n) !== 1) throw new Error(`insert did not insert 1: ${JSON.stringify(body)}`);
}

/**
 * The session fields of a statement, its txnNumber a Long whose low word is marker `slot` (patched
 * per request with PatchableFrame.set: a txnNumber stays below 2^31, so the high word stays 0).
 */
function sessionFields(lsid: Document, slot: number, transaction?: 'start' | 'continue'): Document {
  const fields: Document = { lsid, txnNumber: Long.fromNumber(marker(slot)) };
  if (transaction !== undefined) fields.autocommit = false;
  if (transaction === 'start') fields.startTransaction = true;
  return fields;
}

/** Per second of units of `perUnit` requests each (a transaction and its commit, N inserts). */
const unitsPerSecond = (results: readonly SequentialResult[], perUnit: number) => combined(results) / perUnit;

async function stopAll(servers: ReadonlyArray<ServerProcess | undefined>, conns: ReadonlyArray<RawConnection | undefined>): Promise<void> {
  for (const conn of conns) conn?.close();
  await Promise.all(servers.map((server) => server?.stop()));
}

// ---------------------------------------------------------------- retryable writes

type InsertSide = 'standalone' | 'plain' | 'retryable';
/** The standalone first and last, then plain and retryable inserts on the set: ABCCBA. */
const INSERT_SIDES: readonly InsertSide[] = ['standalone', 'plain', 'retryable'];

/** One measurement of the three insert sides, shared by their three rows. */
let insertResults: Promise<Results<InsertSide>> | undefined;

async function measureInserts(options: BenchOptions, progress: (m: string) => void): Promise<Results<InsertSide>> {
  let standalone: ServerProcess | undefined;
  let set: ServerProcess | undefined;
  const conns: Partial<Record<InsertSide, RawConnection>> = {};
  try {
    [standalone, set] = await Promise.all([startServer('pocketmongo'), startServer('pocketmongo', REPL_SET)]);
    conns.standalone = await RawConnection.open(standalone.port);
    conns.plain = await RawConnection.open(set.port);
    conns.retryable = await RawConnection.open(set.port);
    const plainFrame = encodeOpMsg({ insert: INSERTS, documents: [DOCUMENT], $db: DB });
    // A driver puts its implicit session's lsid on every command, retryWrites on or off.
    const sessionFrame = encodeOpMsg({ insert: INSERTS, documents: [DOCUMENT], lsid: { id: new UUID() }, $db: DB });
    // One session; every insert is a new retryable write: the next txnNumber (as a driver numbers them).
    const retryable = new PatchableFrame({ insert: INSERTS, documents: [DOCUMENT], ...sessionFields({ id: new UUID() }, 0), $db: DB }, 1);
    let txnNumber = 0;
    const next: Record<InsertSide, () => Buffer> = {
      standalone: () => plainFrame,
      plain: () => sessionFrame,
      retryable: () => {
        retryable.set(0, ++txnNumber);
        return retryable.frame;
      },
    };
    const check = checkEachLength((body) => {
      expectInserted(body);
      if (body.retriedStmtIds !== undefined) throw new Error(`an insert was taken for a retry: ${JSON.stringify(body)}`);
    });
    return await interleaved(
      INSERT_SIDES,
      async (side, timing) => {
        const conn = conns[side]!;
        // A fresh collection for every part, so no part measures a heap full of earlier parts' documents.
        await dropCollection(conn, INSERTS);
        return runSequential({ conn, next: next[side], check, ...timing });
      },
      options,
      progress,
    );
  } finally {
    await stopAll([standalone, set], Object.values(conns));
  }
}

function insertBenchmark(name: string, title: string, target: InsertSide, baseline: InsertSide, describe: (options: BenchOptions) => string): Benchmark {
  return {
    name,
    title,
    async run(options, progress) {
      const results = await (insertResults ??= measureInserts(options, progress));
      const value = combined(results[target]);
      const base = combined(results[baseline]);
      return {
        value,
        baseline: base,
        unit: 'ops/s',
        better: 'higher',
        note:
          `${describe(options)}; 1 in flight; ${halves(options)} ABCCBA (standalone, plain, retryable), halves within ${spread(results)}; ` +
          `${duration(netMicros(value, base))} per insert above the baseline`,
      };
    },
  };
}

const retryableBenchmarks: readonly Benchmark[] = [
  insertBenchmark(
    'replication.retryable.insert',
    'insert 1 doc, retryable (lsid + txnNumber) vs plain, both --replSet',
    'retryable',
    'plain',
    () => 'baseline: inserts in a session without txnNumber (retryWrites=false) on the same --replSet server; a new txnNumber per insert; goal ≥ 0.9× (≤ 10 % overhead)',
  ),
  insertBenchmark(
    'replication.retryable.standalone',
    'insert 1 doc, retryable on --replSet vs plain on a standalone',
    'retryable',
    'standalone',
    () => 'baseline: inserts without a session on a standalone server (no oplog, no session)',
  ),
  insertBenchmark(
    'replication.oplog.insert',
    'insert 1 doc in a session, --replSet vs standalone without a session',
    'plain',
    'standalone',
    () => 'baseline: inserts without a session on a standalone server; the difference is the session, the oplog entry and cluster time',
  ),
];

// ---------------------------------------------------------------- transactions

type TxnSide = 'plain' | 'transaction';
const TXN_SIDES: readonly TxnSide[] = ['plain', 'transaction'];

function transactionBenchmark(inserts: number): Benchmark {
  return {
    name: `replication.txn.${inserts}`,
    title: `transaction of ${inserts} insert${inserts === 1 ? '' : 's'} + commit vs ${inserts} plain insert${inserts === 1 ? '' : 's'}`,
    async run(options, progress) {
      let server: ServerProcess | undefined;
      const conns: Partial<Record<TxnSide, RawConnection>> = {};
      try {
        server = await startServer('pocketmongo', REPL_SET);
        for (const side of TXN_SIDES) conns[side] = await RawConnection.open(server.port);
        const plainFrame = encodeOpMsg({ insert: INSERTS, documents: [DOCUMENT], $db: DB });
        const lsid = { id: new UUID() };
        // The statements of one transaction: the first starts it, the others continue it, then the commit.
        const first = new PatchableFrame({ insert: INSERTS, documents: [DOCUMENT], ...sessionFields(lsid, 0, 'start'), $db: DB }, 1);
        const more = new PatchableFrame({ insert: INSERTS, documents: [DOCUMENT], ...sessionFields(lsid, 0, 'continue'), $db: DB }, 1);
        const commit = new PatchableFrame({ commitTransaction: 1, ...sessionFields(lsid, 0, 'continue'), $db: 'admin' }, 1);
        const perTransaction = inserts + 1;
        let txnNumber = 0;
        let position = 0;
        const nextStatement = () => {
          const at = position;
          position = (position + 1) % perTransaction;
          if (at === 0) {
            txnNumber += 1;
            for (const frame of [first, more, commit]) frame.set(0, txnNumber);
            return first.frame;
          }
          return at === inserts ? commit.frame : more.frame;
        };
        const check = checkEachLength(expectInserted);
        const results = await interleaved(
          TXN_SIDES,
          async (side, timing) => {
            const conn = conns[side]!;
            await dropCollection(conn, INSERTS);
            // A part may end inside a transaction: the next one starts a new one (which aborts it).
            position = 0;
            return runSequential({ conn, next: side === 'plain' ? () => plainFrame : nextStatement, check, ...timing });
          },
          options,
          progress,
        );
        const transactions = unitsPerSecond(results.transaction, perTransaction);
        const groups = unitsPerSecond(results.plain, inserts);
        return {
          value: transactions,
          baseline: groups,
          unit: 'ops/s',
          better: 'higher',
          note:
            `transactions/s (${fmt(transactions * inserts)} documents/s) vs groups of ${inserts} plain insert${inserts === 1 ? '' : 's'}/s on the same --replSet server; ` +
            `${perTransaction} round trips vs ${inserts}; 1 in flight; ${halves(options)} ABBA, halves within ${spread(results)}; ` +
            `${duration(netMicros(transactions, groups))} per transaction above the plain inserts`,
        };
      } finally {
        await stopAll([server], Object.values(conns));
      }
    },
  };
}

// ---------------------------------------------------------------- snapshots

type Size = 'small' | 'large';
const sizeOf = (size: Size, options: BenchOptions) => (size === 'small' ? SMALL : options.quick ? LARGE_QUICK : LARGE);
const sizeLabel = (size: Size, options: BenchOptions) => (size === 'small' ? '10k' : options.quick ? '100k' : '1M');

interface SnapshotResult {
  documents: number;
  results: Results<TxnSide>;
  transaction: number;
  plain: number;
}

/** Per size, measured once (server started, loaded, measured, stopped) and shared by the rows. */
const snapshotResults = new Map<Size, Promise<SnapshotResult>>();

function measureSnapshot(size: Size, options: BenchOptions, progress: (m: string) => void): Promise<SnapshotResult> {
  let result = snapshotResults.get(size);
  if (result === undefined) {
    result = snapshotAt(sizeOf(size, options), options, progress);
    snapshotResults.set(size, result);
  }
  return result;
}

async function snapshotAt(documents: number, options: BenchOptions, progress: (m: string) => void): Promise<SnapshotResult> {
  let server: ServerProcess | undefined;
  const conns: Partial<Record<TxnSide, RawConnection>> = {};
  try {
    server = await startServer('pocketmongo', REPL_SET, LOADED_START_TIMEOUT_MS);
    await loadCollection(server.port, documents, progress);
    for (const side of TXN_SIDES) conns[side] = await RawConnection.open(server.port);
    const find = { find: DOCS, filter: { _id: marker(0) }, limit: 1, singleBatch: true };
    const frames: Record<TxnSide, PatchableFrame> = {
      plain: new PatchableFrame({ ...find, $db: DB }, 1),
      // Every request starts the next transaction of one session (and so aborts the one before).
      transaction: new PatchableFrame({ ...find, ...sessionFields({ id: new UUID() }, 1, 'start'), $db: DB }, 2),
    };
    let txnNumber = 0;
    const check = checkEachLength((body) => {
      const batch = (body.cursor as Document | undefined)?.firstBatch as unknown[] | undefined;
      if (batch?.length !== 1) throw new Error(`the find did not find one document: ${JSON.stringify(body)}`);
    });
    const results = await interleaved(
      TXN_SIDES,
      (side, timing) => {
        const frame = frames[side];
        const random = seededRandom(SEED);
        const next = () => {
          frame.set(0, Math.floor(random() * documents));
          if (side === 'transaction') frame.set(1, ++txnNumber);
          return frame.frame;
        };
        return runSequential({ conn: conns[side]!, next, check, ...timing });
      },
      options,
      progress,
    );
    return { documents, results, transaction: combined(results.transaction), plain: combined(results.plain) };
  } finally {
    await stopAll([server], Object.values(conns));
  }
}

function snapshotBenchmark(size: Size): Benchmark {
  return {
    name: `replication.snapshot.${size === 'small' ? '10k' : '1M'}`,
    title: `first statement of a transaction (find by _id), ${size === 'small' ? '10k' : '1M'} docs, vs the same find outside one`,
    async run(options, progress) {
      const r = await measureSnapshot(size, options, progress);
      return {
        value: r.transaction,
        baseline: r.plain,
        unit: 'ops/s',
        better: 'higher',
        note:
          `${fmt(r.documents)} docs + index on a, --replSet; startTransaction + find {_id: random} limit 1 (a new transaction per request) vs the plain find, ` +
          `which takes the point-find fast path; 1 in flight; ${halves(options)} ABBA, halves within ${spread(r.results)}; ` +
          `${duration(netMicros(r.transaction, r.plain))} per request above the plain find`,
      };
    },
  };
}

const snapshotGrowth: Benchmark = {
  name: 'replication.snapshot.growth',
  title: 'first statement of a transaction, 1M vs 10k docs (flat?)',
  async run(options, progress) {
    const small = await measureSnapshot('small', options, progress);
    const large = await measureSnapshot('large', options, progress);
    const growth = (r: SnapshotResult) => `${duration(micros(r.transaction))} (${duration(micros(r.plain))} outside)`;
    const measurement: Measurement = {
      value: large.transaction,
      baseline: small.transaction,
      unit: 'ops/s',
      better: 'higher',
      note:
        `baseline column = the same at ${sizeLabel('small', options)} docs, ratio = ${sizeLabel('large', options)} against it (1.0× is flat); ` +
        `per request ${growth(large)} at ${sizeLabel('large', options)}, ${growth(small)} at ${sizeLabel('small', options)}; ` +
        `the plain find's own ratio: ${(large.plain / small.plain).toFixed(2)}×; goal flat (the snapshot is O(collections))`,
    };
    snapshotResults.clear();
    return measurement;
  },
};

// ---------------------------------------------------------------- change streams

/**
 * Change-stream event latency: a collection stream's awaitData getMore is waiting on one
 * connection; an insert goes out on another; the time from sending the insert until the getMore
 * answers with its event, against the insert's own round trip measured alongside (the event can
 * arrive no sooner than the write is done). Repeated one event at a time.
 */
const changeStreamLatency: Benchmark = {
  name: 'replication.changeStream.latency',
  title: 'change stream: insert → event delivered vs the insert round trip',
  async run(options, progress) {
    let server: ServerProcess | undefined;
    const conns: RawConnection[] = [];
    try {
      server = await startServer('pocketmongo', REPL_SET);
      const [watcher, writer] = await Promise.all([RawConnection.open(server.port), RawConnection.open(server.port)]);
      conns.push(watcher, writer);
      await writer.roundTrip(encodeOpMsg({ create: 'watched', $db: DB }));
      const opened = decodeOpMsgBody(await watcher.roundTrip(encodeOpMsg({ aggregate: 'watched', pipeline: [{ $changeStream: {} }], cursor: {}, $db: DB })));
      const cursorId = (opened.cursor as Document).id as Long;
      const getMore = encodeOpMsg({ getMore: cursorId, collection: 'watched', maxTimeMS: 5_000, $db: DB });
      const insert = encodeOpMsg({ insert: 'watched', documents: [{ x: 1 }], $db: DB });
      const rounds = options.quick ? 300 : 2_000;
      const eventMicros: number[] = [];
      const insertMicros: number[] = [];
      progress('events');
      for (let i = 0; i < rounds; i++) {
        const event = new Promise<number>((resolve, reject) =>
          watcher.send(getMore, (err, reply) => {
            if (err !== undefined) return reject(err);
            const batch = ((decodeOpMsgBody(reply!).cursor as Document).nextBatch as Document[]) ?? [];
            if (batch.length !== 1) return reject(new Error(`expected one event, got ${batch.length}`));
            resolve(performance.now());
          }),
        );
        // The getMore must be waiting before the insert goes: one event-loop turn of the server is enough on loopback, a short pause makes it sure.
        await new Promise((resolve) => setTimeout(resolve, 1));
        const sent = performance.now();
        const acked = await new Promise<number>((resolve, reject) => writer.send(insert, (err) => (err === undefined ? resolve(performance.now()) : reject(err))));
        const delivered = await event;
        eventMicros.push((delivered - sent) * 1000);
        insertMicros.push((acked - sent) * 1000);
      }
      const eventMedian = median(eventMicros);
      const insertMedian = median(insertMicros);
      return {
        value: 1e6 / eventMedian,
        baseline: 1e6 / insertMedian,
        unit: 'ops/s',
        better: 'higher',
        note: `${rounds} events, one at a time; median ${duration(eventMedian)} from sending the insert to the event, ${duration(insertMedian)} for the insert's reply (baseline); as rates 1/latency`,
      };
    } finally {
      for (const conn of conns) conn.close();
      await server?.stop();
    }
  },
};

// ---------------------------------------------------------------- the list

export const replicationBenchmarks: readonly Benchmark[] = [
  ...retryableBenchmarks,
  transactionBenchmark(1),
  transactionBenchmark(10),
  snapshotBenchmark('small'),
  snapshotBenchmark('large'),
  snapshotGrowth,
  changeStreamLatency,
];
