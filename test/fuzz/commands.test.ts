/**
 * Command fuzzing: random but plausible command documents for the storage commands (commandArbs),
 * fields of every BSON type, sometimes well formed, sometimes of the wrong type or with unknown
 * operators, sent over a raw socket. Every command must be answered, ok 1 or ok 0, an ok 0 with a
 * numeric code, a codeName and an errmsg, never an internal error or a JavaScript message; after
 * each run the server still answers a ping on a new connection, and a document stored before the
 * fuzzing is still there, unchanged.
 *
 * FUZZ_RUNS=20000 (default 2000) for a longer run; FUZZ_SEED picks another seed; FUZZ_REPORT=1 runs
 * every sequence and prints each distinct failure instead of stopping at (and shrinking) the first.
 */
import fc from 'fast-check';
import { BSON, BSONRegExp, Double, EJSON, Int32, Long, MaxKey, MinKey, type Document } from 'bson';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { connect, type Socket } from 'node:net';
import { encodeOpMsg } from '../helpers/rawClient.js';
import { startServer } from '../helpers/server.js';
import { anyCommand, CURSOR, type FuzzCommand } from './commandArbs.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = process.env.FUZZ_SEED === undefined ? 20260611 : Number(process.env.FUZZ_SEED);
const REPORT = process.env.FUZZ_REPORT === '1';
const COMMANDS_PER_RUN = 12;

/** Texts of JavaScript exceptions: a reply carrying one leaked an internal error. */
const JS_ERROR =
  /Cannot read propert|Cannot set propert|Cannot destructure|is not a function|is not iterable|is not defined|is not a constructor|Maximum call stack|Invalid regular expression|Invalid array length|Invalid time value|Cannot convert|Cannot mix BigInt|Unexpected token|\[object Object\]|undefined is not|null is not|Reduce of empty array|RangeError|TypeError|SyntaxError|ReferenceError/;

/** mingo's fallback (query/mingo.ts translate): clear, but not mongod's own error; counted in REPORT mode. */
const FALLBACK = /an operator argument is of a type or shape the operator does not take|nested too deeply to evaluate/;

const SENTINEL: Document = { _id: 1, v: 'unchanged', n: Long.fromNumber(5), d: new Double(2.5), nested: { arr: [new Int32(1), { b: 'x' }] } };

/** What is wrong with one error (a reply, or an entry of writeErrors): nothing when it is mongod-like. */
function errorProblems(where: string, err: Document): string[] {
  const problems: string[] = [];
  if (typeof err.code !== 'number' || !Number.isInteger(err.code)) problems.push(`${where}: code is not an integer (${String(err.code)})`);
  if (err.code === 1) problems.push(`${where}: InternalError`);
  if (where === 'reply' && (typeof err.codeName !== 'string' || err.codeName.length === 0)) problems.push(`${where}: no codeName`);
  if (typeof err.errmsg !== 'string') problems.push(`${where}: no errmsg`);
  else if (JS_ERROR.test(err.errmsg)) problems.push(`${where}: JavaScript error text`);
  return problems;
}

/** What is wrong with a reply. */
function replyProblems(reply: Document): string[] {
  const problems: string[] = [];
  if (reply.ok !== 1 && reply.ok !== 0) return [`ok is ${EJSON.stringify(reply.ok)}`];
  if (reply.ok === 0) problems.push(...errorProblems('reply', reply));
  if (Array.isArray(reply.writeErrors)) {
    reply.writeErrors.forEach((e: Document, i: number) => problems.push(...errorProblems(`writeErrors.${i}`, e)));
  }
  return problems;
}

/** The command with CURSOR replaced by the last cursor id a reply opened. */
function withCursor(doc: Document, cursor: Long): Document {
  const out: Document = {};
  for (const [k, v] of Object.entries(doc)) {
    const value = v === CURSOR ? cursor : Array.isArray(v) ? v.map((x) => (x === CURSOR ? cursor : x)) : v;
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function show(value: unknown): string {
  try {
    return EJSON.stringify(value, { relaxed: false });
  } catch {
    return String(value);
  }
}

/**
 * A raw OP_MSG connection whose replies are decoded with regular expressions kept as BSONRegExp
 * (a stored pattern JavaScript cannot compile, such as "(", must come back as sent) and longs as
 * Long. RawClient decodes with the defaults, which throw on such a pattern.
 */
class FuzzSocket {
  private buffer = Buffer.alloc(0);
  private waiting: { resolve: (reply: Buffer) => void; reject: (err: Error) => void } | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      if (this.buffer.length >= 4 && this.buffer.length >= this.buffer.readInt32LE(0)) {
        const length = this.buffer.readInt32LE(0);
        const reply = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.resolve(reply);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.reject(new Error('connection closed'));
    });
  }

  static connect(port: number): Promise<FuzzSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new FuzzSocket(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `doc` against `db`; the reply body. */
  command(doc: Document, db: string, timeoutMs = 10_000): Promise<Document> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const message = encodeOpMsg({ ...doc, $db: db });
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.socket.write(message);
    }).then((reply) => {
      if (reply.readInt32LE(12) !== 2013 || reply[20] !== 0) throw new Error('reply is not an OP_MSG with a body first');
      const size = reply.readInt32LE(21);
      return BSON.deserialize(reply.subarray(21, 21 + size), { promoteLongs: false, bsonRegExp: true });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}

async function rawCmd(socket: FuzzSocket, doc: Document, db = 'admin'): Promise<Document> {
  return socket.command(doc, db);
}

interface Failure {
  readonly command: FuzzCommand;
  readonly reply?: Document;
  readonly problems: readonly string[];
}

describe('command fuzzing', () => {
  let server: PocketMongo;
  let raw: FuzzSocket;

  beforeAll(async () => {
    server = await startServer();
    raw = await FuzzSocket.connect(server.port);
    const inserted = await rawCmd(raw, { insert: 'sentinel', documents: [SENTINEL] }, 'keep');
    expect(inserted).toMatchObject({ ok: 1, n: 1 });
  });

  afterAll(async () => {
    await raw?.close();
    await server?.stop();
  });

  /** The fuzzed databases back to a known start: two collections with documents, one index. */
  async function reset(): Promise<void> {
    for (const db of ['fuzz', 'fuzz2']) expect((await rawCmd(raw, { dropDatabase: 1 }, db)).ok).toBe(1);
    const docs = [
      { _id: 1, a: 1, b: 'x', n: new Int32(3), arr: [1, 2, { b: 1 }], x: { y: { z: 1 } } },
      { _id: 2, a: 2, b: 'y', n: Long.fromNumber(4), arr: [], s: 'hello' },
      { _id: 'three', a: null, b: [1, 'y'], n: new Double(2.5), arr: [[1], { b: 2 }] },
      { _id: 4, a: { b: 1 }, n: null },
    ];
    expect((await rawCmd(raw, { insert: 'a', documents: docs }, 'fuzz')).n).toBe(4);
    expect((await rawCmd(raw, { insert: 'b', documents: docs.slice(0, 3) }, 'fuzz')).n).toBe(3);
    expect((await rawCmd(raw, { createIndexes: 'b', indexes: [{ key: { b: 1 }, name: 'b_1' }] }, 'fuzz')).ok).toBe(1);
  }

  /** Runs the commands in order; the first failure, or every one (`all`). */
  async function runSequence(commands: readonly FuzzCommand[], all = false, fallbacks?: string[]): Promise<Failure[]> {
    await reset();
    const failures: Failure[] = [];
    let cursor = Long.fromNumber(0);
    for (const command of commands) {
      const doc = withCursor(command.doc, cursor);
      let reply: Document;
      try {
        reply = await rawCmd(raw, doc, command.db);
      } catch (err) {
        failures.push({ command, problems: [`no reply: ${(err as Error).message}`] });
        raw = await FuzzSocket.connect(server.port);
        return failures;
      }
      if (fallbacks !== undefined && typeof reply.errmsg === 'string' && FALLBACK.test(reply.errmsg)) fallbacks.push(`${command.db}: ${show(command.doc)}`);
      const problems = replyProblems(reply);
      if (problems.length > 0) {
        failures.push({ command, reply, problems });
        if (!all) return failures;
      }
      const id: unknown = reply.cursor?.id;
      if (id instanceof Long && !id.isZero()) cursor = id;
    }
    const after = await afterRunProblems();
    if (after.length > 0) failures.push({ command: { db: '-', doc: { afterRun: 1 } }, problems: after });
    return failures;
  }

  /** A ping on a new connection, and the sentinel document as it was stored. */
  async function afterRunProblems(): Promise<string[]> {
    const problems: string[] = [];
    const fresh = await FuzzSocket.connect(server.port);
    try {
      const ping = await rawCmd(fresh, { ping: 1 });
      if (ping.ok !== 1) problems.push(`ping: ${show(ping)}`);
      const found = await rawCmd(fresh, { find: 'sentinel', filter: {} }, 'keep');
      const batch = (found.cursor?.firstBatch ?? []) as Document[];
      if (batch.length !== 1 || !Buffer.from(BSON.serialize(batch[0]!)).equals(Buffer.from(BSON.serialize(SENTINEL)))) {
        problems.push(`sentinel changed: ${show(found)}`);
      }
      const collections = await rawCmd(fresh, { listCollections: 1, nameOnly: true }, 'keep');
      const names = ((collections.cursor?.firstBatch ?? []) as Document[]).map((c) => c.name);
      if (names.join() !== 'sentinel') problems.push(`keep holds ${names.join()}`);
    } finally {
      await fresh.close();
    }
    return problems;
  }

  function describeFailure(f: Failure): string {
    return `${f.problems.join('; ')}\n  db ${f.command.db}: ${show(f.command.doc)}\n  reply: ${f.reply === undefined ? '-' : show(f.reply)}`;
  }

  /**
   * Failures the fuzzer found, each now answered as mongod answers it (code, and the start of the
   * errmsg). `writeError` reads the first write error of an ok:1 reply instead.
   */
  const REGRESSIONS: ReadonlyArray<{ name: string; doc: Document; code: number; errmsg: string; writeError?: boolean }> = [
    { name: '$in of a non-array', doc: { find: 'a', filter: { a: { $in: 5 } } }, code: 2, errmsg: '$in needs an array' },
    { name: '$nin of null', doc: { count: 'a', query: { a: { $nin: null } } }, code: 2, errmsg: '$nin needs an array' },
    { name: '$elemMatch of null', doc: { distinct: 'a', key: 'b', query: { a: { $elemMatch: null } } }, code: 2, errmsg: '$elemMatch needs an Object' },
    { name: '$mod of null', doc: { find: 'a', filter: { x: { $mod: null } } }, code: 2, errmsg: 'malformed mod, needs to be an array' },
    { name: '$and of a non-array', doc: { find: 'a', filter: { $and: 1 } }, code: 2, errmsg: '$and must be an array' },
    { name: 'a $-prefixed field at the top', doc: { find: 'a', filter: { $$ROOT: { $elemMatch: null } } }, code: 2, errmsg: 'unknown top level operator: $$ROOT.' },
    { name: 'a regex JavaScript cannot compile', doc: { find: 'a', filter: { a: new BSONRegExp('(', '') } }, code: 51091, errmsg: 'Regular expression is invalid: missing closing parenthesis' },
    { name: 'a $regex that cannot compile', doc: { find: 'a', filter: { s: { $regex: '[' } } }, code: 51091, errmsg: 'Regular expression is invalid: missing terminating ] for character class' },
    { name: '$match of a non-object', doc: { aggregate: 'a', pipeline: [{ $match: 1 }], cursor: {} }, code: 15959, errmsg: 'the match filter must be an expression in an object' },
    { name: '$in inside $match', doc: { aggregate: 'a', pipeline: [{ $facet: { f: [{ $match: { a: { $in: 1 } } }] } }], cursor: {} }, code: 2, errmsg: '$in needs an array' },
    { name: '$unwind of a number', doc: { aggregate: 'a', pipeline: [{ $unwind: new Double(1.5) }], cursor: {} }, code: 15981, errmsg: 'expected either a string or an object as specification for $unwind stage, got double' },
    { name: '$unwind without $', doc: { aggregate: 'a', pipeline: [{ $unwind: 'arr' }], cursor: {} }, code: 28818, errmsg: "path option to $unwind stage should be prefixed with a '$': arr" },
    { name: '$facet of a non-array', doc: { aggregate: 'a', pipeline: [{ $facet: { f: true } }], cursor: {} }, code: 40170, errmsg: 'arguments to $facet must be arrays, f is type bool' },
    { name: '$sample of null', doc: { aggregate: 'a', pipeline: [{ $sample: null }], cursor: {} }, code: 28745, errmsg: 'the $sample stage specification must be an object' },
    { name: '$replaceRoot of null', doc: { aggregate: 'a', pipeline: [{ $replaceRoot: null }], cursor: {} }, code: 40229, errmsg: 'expected an object as specification for $replaceRoot stage, got null' },
    { name: '$bucket without boundaries', doc: { aggregate: 'a', pipeline: [{ $bucket: { groupBy: '$a' } }], cursor: {} }, code: 40198, errmsg: "$bucket requires 'groupBy' and 'boundaries' to be specified." },
    { name: '$bucketAuto with array buckets', doc: { aggregate: 'a', pipeline: [{ $bucketAuto: { groupBy: '$a', buckets: [1] } }], cursor: {} }, code: 40241, errmsg: "The $bucketAuto 'buckets' field must be a numeric value, but found type: array" },
    { name: '$group of a number', doc: { aggregate: 'a', pipeline: [{ $group: 1 }], cursor: {} }, code: 15947, errmsg: "a group's fields must be specified in an object" },
    { name: 'explain checks the pipeline', doc: { explain: { aggregate: 'a', pipeline: [{ $facet: { f: 1 } }], cursor: {} } }, code: 40170, errmsg: 'arguments to $facet must be arrays' },
    { name: 'renameCollection to a non-string', doc: { renameCollection: 'fuzz.a', to: new MinKey() }, code: 14, errmsg: "BSON field 'renameCollection.to' is the wrong type 'minKey', expected type 'string'" },
    { name: 'renameCollection of a non-string', doc: { renameCollection: { a: 1 }, to: 'fuzz.c' }, code: 14, errmsg: "BSON field 'renameCollection.renameCollection' is the wrong type 'object', expected type 'string'" },
    { name: 'dropIndexes of a non-string name', doc: { dropIndexes: 'a', index: [new MaxKey()] }, code: 14, errmsg: "BSON field 'dropIndexes.index.0' is the wrong type 'maxKey', expected type 'string'" },
    { name: 'findAndModify with a null update', doc: { findAndModify: 'a', query: {}, update: null }, code: 9, errmsg: 'Update argument must be either an object or an array' },
    { name: 'findAndModify with a null array filter', doc: { findAndModify: 'a', query: {}, update: { $set: { z: 1 } }, arrayFilters: [null] }, code: 14, errmsg: "BSON field 'findAndModify.arrayFilters.0' is the wrong type 'null', expected type 'object'" },
    { name: 'an update pipeline with a null stage', doc: { findAndModify: 'a', query: {}, update: [null] }, code: 14, errmsg: "Each element of the 'pipeline' array must be an object" },
    { name: 'an update operator of null', doc: { update: 'a', updates: [{ q: {}, u: { $pull: null } }] }, code: 9, errmsg: 'Modifiers operate on fields but we found type null instead. For example: {$mod: {<field>: ...}} not {$pull: null}', writeError: true },
    { name: '$toDate of a document', doc: { find: 'a', filter: { $expr: { $toDate: [{}] } } }, code: 241, errmsg: 'Unsupported conversion from object to date in $convert with no onError value' },
    { name: 'a collation locale that is no language tag', doc: { find: 'a', sort: { s: 1 }, collation: { locale: 'xx_bad' } }, code: 2, errmsg: "Field 'locale' is invalid in:" },
  ];

  test.each(REGRESSIONS)('regression: $name', async ({ doc, code, errmsg, writeError }) => {
    await reset();
    const reply = await rawCmd(raw, doc, doc.renameCollection === undefined ? 'fuzz' : 'admin');
    const error = writeError ? (reply.writeErrors as Document[] | undefined)?.[0] : reply;
    expect(error, show(reply)).toMatchObject({ code });
    expect(String(error?.errmsg), show(reply)).toContain(errmsg);
    if (!writeError) expect(reply.codeName).toBe(code === 2 ? 'BadValue' : code === 9 ? 'FailedToParse' : code === 14 ? 'TypeMismatch' : code === 241 ? 'ConversionFailure' : `Location${code}`);
    expect(await afterRunProblems()).toEqual([]);
  });

  test('regression: a stored regex JavaScript cannot compile is data: reads, sorts and matches go on', async () => {
    await reset();
    const stored = { _id: 're', r: new BSONRegExp('(', 'i'), a: 1 };
    expect(await rawCmd(raw, { insert: 'a', documents: [stored] }, 'fuzz')).toMatchObject({ ok: 1, n: 1 });
    const found = await rawCmd(raw, { find: 'a', filter: { a: 1 }, sort: { _id: 1 } }, 'fuzz');
    expect(found.ok).toBe(1);
    const doc = (found.cursor.firstBatch as Document[]).find((d) => d._id === 're');
    expect(doc?.r).toEqual(new BSONRegExp('(', 'i'));
    const aggregated = await rawCmd(raw, { aggregate: 'a', pipeline: [{ $match: { _id: 're' } }, { $project: { r: 1 } }], cursor: {} }, 'fuzz');
    expect(aggregated.cursor.firstBatch).toEqual([{ _id: 're', r: new BSONRegExp('(', 'i') }]);
  });

  test('regression: prototype names are plain field names', async () => {
    await reset();
    // distinct and index keys on a name every object inherits: no such field, not a JS function.
    expect(await rawCmd(raw, { distinct: 'a', key: 'hasOwnProperty' }, 'fuzz')).toMatchObject({ ok: 1, values: [] });
    expect(await rawCmd(raw, { createIndexes: 'a', indexes: [{ key: { hasOwnProperty: 1 }, name: 'h' }] }, 'fuzz')).toMatchObject({ ok: 1 });
    expect((await rawCmd(raw, { find: 'a', filter: { hasOwnProperty: null } }, 'fuzz')).cursor.firstBatch).toHaveLength(4);
    // A `__proto__` field is stored and read back as a field.
    const doc: Document = { _id: 'p' };
    Object.defineProperty(doc, '__proto__', { value: { x: new Int32(1) }, enumerable: true, writable: true, configurable: true });
    expect(await rawCmd(raw, { insert: 'a', documents: [doc] }, 'fuzz')).toMatchObject({ ok: 1, n: 1 });
    const [back] = (await rawCmd(raw, { find: 'a', filter: { _id: 'p' } }, 'fuzz')).cursor.firstBatch as Document[];
    expect(Object.hasOwn(back!, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(await afterRunProblems()).toEqual([]);
  });

  test(`${RUNS} runs of ${COMMANDS_PER_RUN} random commands are each answered, mongod-like`, async () => {
    const sequences = fc.array(anyCommand, { minLength: 1, maxLength: COMMANDS_PER_RUN });
    if (REPORT) {
      // Every run to the end; one line per distinct (problem, command, code) with its first example.
      const seen = new Map<string, Failure>();
      const fallbacks: string[] = [];
      for (const commands of fc.sample(sequences, { numRuns: RUNS, seed: SEED })) {
        const result = await runSequence(commands, true, fallbacks);
        for (const f of result) {
          const key = `${f.problems.join()}|${Object.keys(f.command.doc)[0]}|${f.reply?.code}|${String(f.reply?.errmsg).slice(0, 40)}`;
          if (!seen.has(key)) seen.set(key, f);
        }
      }
      for (const f of seen.values()) console.log(describeFailure(f));
      console.log(`${fallbacks.length} fallback errors:\n${fallbacks.slice(0, 30).join('\n')}`);
      expect(seen.size).toBe(0);
      return;
    }
    await fc.assert(
      fc.asyncProperty(sequences, async (commands) => {
        const failures = await runSequence(commands);
        if (failures.length > 0) throw new Error(describeFailure(failures[0]!));
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    expect(await afterRunProblems()).toEqual([]);
  }, 60_000 + RUNS * 1000);
});
