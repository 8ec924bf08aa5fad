/**
 * The command line runs esbuild's bundle, which keeps function names (scripts/bundle.mjs): every
 * named closure (`const f = () => ...`, `{key: (x) => ...}`) is named by a `__name` call, a
 * defineProperty, as it is made. Made per request, that showed: a find by `_id` took 70.7 µs of
 * server CPU with its few such closures and 60.0 µs without them. This runs a copy of the bundle whose `__name` counts its calls once a signal
 * says so, drives the common commands through the driver many times, and checks that no name is
 * given once per request: closures on request paths must be methods, module functions or
 * anonymous. Every spawned process is killed in afterEach.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { killChildren, requireCurrentBundle, startListening } from '../helpers/bundle.js';
import { ROOT } from '../helpers/server.js';

const BUNDLE = join(ROOT, 'dist', 'cli.bundle.js');
/** esbuild's keepNames helper as the minified bundle spells it (scripts/bundle.mjs relies on the same). */
const NAME_HELPER = 'var __name=(target,value)=>__defProp(target,"name",{value,configurable:!0});';
const ROUNDS = 25;

const children = new Set<ChildProcess>();
const directories: string[] = [];
const clients: MongoClient[] = [];

beforeAll(requireCurrentBundle);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await killChildren(children);
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A copy of the bundle whose `__name` counts its calls by name and call site while counting is
 * on (SIGUSR2 turns it on) and writes them to `counts` at exit; run as bin/pocketmongo.js runs
 * the bundle, its requires resolved from the real one's place.
 */
function instrumentedCli(dir: string, counts: string): { launcher: string } {
  const source = readFileSync(BUNDLE, 'latin1');
  expect(source.includes(NAME_HELPER), "esbuild's __name helper is spelled as this test expects").toBe(true);
  const counting =
    'var __nameCounts=new Map(),__nameCounting=false;' +
    'process.on("SIGUSR2",()=>{__nameCounting=true;process.stderr.write("pocketmongo-names: counting\\n")});' +
    `process.on("exit",()=>{require("node:fs").writeFileSync(${JSON.stringify(counts)},JSON.stringify([...__nameCounts]))});` +
    'var __name=(target,value)=>{if(__nameCounting){const site=value+" @ "+String(new Error().stack).split("\\n")[2]?.trim();__nameCounts.set(site,(__nameCounts.get(site)??0)+1)}return __defProp(target,"name",{value,configurable:!0})};';
  const bundle = join(dir, 'cli.bundle.js');
  writeFileSync(bundle, source.replace(NAME_HELPER, counting), 'latin1');
  const launcher = join(dir, 'launch.cjs');
  writeFileSync(
    launcher,
    `const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname } = require('node:path');
const { Script } = require('node:vm');
const file = ${JSON.stringify(bundle)};
const real = ${JSON.stringify(BUNDLE)};
const module_ = { exports: {} };
new Script(readFileSync(file, 'latin1'), { filename: file }).runInThisContext()(module_.exports, createRequire(real), module_, real, dirname(real));
module_.exports.main();
`,
  );
  return { launcher };
}


/** The commands an application sends most, once each. */
async function workload(client: MongoClient, round: number): Promise<void> {
  const db = client.db('names');
  const c = db.collection<{ _id?: unknown; a: number; b?: number; s?: string }>('c');
  const { insertedId } = await c.insertOne({ a: round, b: round, s: 'x' });
  await c.insertMany([{ a: round + 1000 }, { a: round + 2000 }]);
  await c.findOne({ _id: insertedId });
  await c.findOne({ a: round });
  await c.find({ a: { $gte: 0, $lt: 50 } }, { projection: { s: 0 } }).sort({ a: -1 }).toArray();
  await c.find({}).batchSize(2).limit(5).toArray();
  await c.updateOne({ a: round }, { $set: { 'x.y': round }, $inc: { b: 1 } });
  await c.updateMany({ a: { $gt: 1000 } }, { $set: { big: true } });
  await c.findOneAndUpdate({ a: round }, { $inc: { b: 1 } }, { returnDocument: 'after', projection: { b: 1 } });
  await c.countDocuments({ a: { $gte: 0 } });
  await c.distinct('a', { a: { $lt: 10 } });
  await c
    .aggregate([
      { $match: { a: { $gte: 0 } } },
      { $project: { a: 1, twice: { $multiply: ['$a', 2] }, label: { $concat: ['n', { $toString: '$a' }] } } },
      { $group: { _id: { $mod: ['$a', 3] }, total: { $sum: '$twice' }, n: { $sum: 1 }, last: { $last: '$label' } } },
      { $sort: { _id: 1 } },
    ])
    .toArray();
  await c.deleteOne({ a: round + 1000 });
  await db.command({ ping: 1 });
  const session = client.startSession();
  try {
    await c.findOne({ a: round }, { session });
  } finally {
    await session.endSession();
  }
}

test('no name is given per request: the common commands make no named closure as they run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pocketmongo-names-'));
  directories.push(dir);
  const counts = join(dir, 'counts.json');
  const { launcher } = instrumentedCli(dir, counts);
  const { child, port } = await startListening(children, launcher);
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { serverSelectionTimeoutMS: 5_000 });
  clients.push(client);
  await client.connect();
  // First uses (lazy module loads, caches) are not what this is about: a warm-up round first.
  await workload(client, 0);
  // Counting starts once the child says so (a signal arrives when it arrives).
  const counting = new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('pocketmongo-names: counting')) resolve();
    });
  });
  child.kill('SIGUSR2');
  await counting;
  for (let round = 1; round <= ROUNDS; round++) await workload(client, round);
  await client.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
  const named = new Map<string, number>(JSON.parse(readFileSync(counts, 'utf8')) as Array<[string, number]>);
  const perRequest = [...named].filter(([, n]) => n >= ROUNDS);
  expect(perRequest, 'closures named once per round (request): make them methods, module functions or anonymous').toEqual([]);
}, 60_000);
