/**
 * The loaded collection of the storage and durable benchmarks, `bench.docs`: n documents
 * {_id: i, a, b, s} with an index on a, loaded through big inserts over raw connections; and the
 * setup commands those benchmarks send.
 */
import { performance } from 'node:perf_hooks';
import type { Document } from 'bson';
import { fmt } from './report.js';
import { decodeOpMsgBody, encodeOpMsg, RawConnection } from './wire.js';

export const DB = 'bench';
export const DOCS = 'docs';
/** A small document of fixed encoded size (int32 fields), so every lookup reply has the same length. */
export const PAD = 'pocketmongo-bench';
/** Primes, so coprime with sizes of 2^i·5^j (checked at load): a and b are permutations of 0..n-1, unrelated to _id order. */
const A_MULTIPLIER = 7_919;
const B_MULTIPLIER = 104_729;

/** Loading: big inserts, two in flight so the client's encoding overlaps the server's work. */
const LOAD_BATCH = 10_000;
const LOAD_PARALLEL = 2;
const SETUP_TIMEOUT_MS = 600_000;

async function command(conn: RawConnection, body: Document, timeoutMs = SETUP_TIMEOUT_MS): Promise<Document> {
  return decodeOpMsgBody(await conn.roundTrip(encodeOpMsg({ ...body, $db: DB }), timeoutMs));
}

export async function commandOk(conn: RawConnection, body: Document, timeoutMs = SETUP_TIMEOUT_MS): Promise<Document> {
  const reply = await command(conn, body, timeoutMs);
  if (Number(reply.ok) !== 1) throw new Error(`${Object.keys(body)[0]} failed: ${JSON.stringify(reply)}`);
  return reply;
}

/** `writeConcern` {j: true} returns only once a --dbpath server has the drop on disk. */
export async function dropCollection(conn: RawConnection, name: string, writeConcern?: Document): Promise<void> {
  const reply = await command(conn, { drop: name, ...(writeConcern === undefined ? {} : { writeConcern }) });
  // mongod before 7.0 answers NamespaceNotFound for a collection that does not exist.
  if (Number(reply.ok) !== 1 && reply.codeName !== 'NamespaceNotFound') throw new Error(`drop failed: ${JSON.stringify(reply)}`);
}

export interface LoadTimes {
  loadMs: number;
  indexMs: number;
}

/** Loads n documents into an empty `bench.docs`, builds the index on a, and checks the count. */
export async function loadCollection(port: number, n: number, progress: (m: string) => void): Promise<LoadTimes> {
  progress(`loading ${fmt(n)} documents (untimed)`);
  const loadStart = performance.now();
  await loadDocuments(port, n);
  const loadMs = performance.now() - loadStart;
  progress(`building the index on a (untimed)`);
  const conn = await RawConnection.open(port);
  try {
    const indexStart = performance.now();
    await commandOk(conn, { createIndexes: DOCS, indexes: [{ key: { a: 1 }, name: 'a_1' }] });
    const indexMs = performance.now() - indexStart;
    await expectCount(conn, n);
    return { loadMs, indexMs };
  } finally {
    conn.close();
  }
}

export async function expectCount(conn: RawConnection, n: number): Promise<void> {
  const count = await commandOk(conn, { count: DOCS });
  if (Number(count.n) !== n) throw new Error(`${DOCS} holds ${count.n} documents, expected ${n}`);
}

/** Document i of n: _id i; a and b two different permutations of 0..n-1. */
function loadDocument(i: number, n: number): Document {
  return { _id: i, a: (i * A_MULTIPLIER) % n, b: (i * B_MULTIPLIER) % n, s: PAD };
}

function gcd(x: number, y: number): number {
  return y === 0 ? x : gcd(y, x % y);
}

/** Inserts of LOAD_BATCH documents, LOAD_PARALLEL connections each taking the next batch. */
async function loadDocuments(port: number, n: number): Promise<void> {
  for (const m of [A_MULTIPLIER, B_MULTIPLIER]) {
    if (gcd(m, n) !== 1) throw new Error(`${n} documents: the multiplier ${m} would not make a permutation`);
  }
  const batches = Math.ceil(n / LOAD_BATCH);
  let nextBatch = 0;
  const worker = async () => {
    const conn = await RawConnection.open(port);
    try {
      for (let batch = nextBatch++; batch < batches; batch = nextBatch++) {
        const first = batch * LOAD_BATCH;
        const count = Math.min(LOAD_BATCH, n - first);
        const documents = Array.from({ length: count }, (_, k) => loadDocument(first + k, n));
        const reply = await commandOk(conn, { insert: DOCS, documents, ordered: false });
        if (Number(reply.n) !== count) throw new Error(`load insert: ${JSON.stringify(reply).slice(0, 500)}`);
      }
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: LOAD_PARALLEL }, worker));
}
