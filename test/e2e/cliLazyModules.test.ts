/**
 * End-to-end: what the command line loads on first use rather than at start (snappy, saslprep,
 * mingo; see scripts/bundle.mjs) answers the first command that needs it as before. Each test
 * starts a fresh `node bin/pocketmongo.js` (the bundle: `npm run build` first), so the command is
 * the first of its kind in that process. Every spawned process is killed in afterEach.
 */
import type { ChildProcess } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { COMPRESSOR, withRawClient } from '../helpers/rawClient.js';
import { killChildren, requireCurrentBundle, startListening } from '../helpers/bundle.js';
import { CLI } from '../helpers/server.js';

const children = new Set<ChildProcess>();
const clients: MongoClient[] = [];

beforeAll(requireCurrentBundle);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await killChildren(children);
});

/** Starts the CLI on a free port; resolves with the port once it logs 'Waiting for connections'. */
async function startCli(args: readonly string[] = []): Promise<number> {
  return (await startListening(children, CLI, args)).port;
}

function client(uri: string): MongoClient {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000, maxPoolSize: 1 });
  clients.push(c);
  return c;
}

describe('first use after start', () => {
  test('the first snappy-compressed request is answered in snappy', async () => {
    const port = await startCli();
    await withRawClient(port, async (raw) => {
      await raw.query('admin.$cmd', { ismaster: 1, compression: ['snappy'] });
      const ping = await raw.command({ ping: 1, $db: 'admin' }, { compressor: COMPRESSOR.snappy });
      expect(ping.wireOpCode).toBe(2012);
      expect(ping.compressorId).toBe(COMPRESSOR.snappy);
      expect(ping.doc).toEqual({ ok: 1 });
    });
  });

  test('the driver with ?compressors=snappy: documents round-trip compressed', async () => {
    const port = await startCli();
    const db = client(`mongodb://127.0.0.1:${port}/?compressors=snappy`).db('test');
    const doc = { _id: 1, text: 'compressible '.repeat(1000) };
    const coll = db.collection<{ _id: number; text: string }>('c');
    await coll.insertOne(doc);
    expect(await coll.findOne({ _id: 1 })).toEqual(doc);
    expect((await db.admin().command({ hello: 1, compression: ['snappy'] })).compression).toEqual(['snappy']);
  });

  test('the first SCRAM-SHA-256 user created after start logs in with the driver', async () => {
    const port = await startCli(['--auth', '--setParameter', 'scramSHA256IterationCount=5000']);
    // The localhost exception lets the first user be created without logging in.
    await client(`mongodb://127.0.0.1:${port}/`).db('admin').command({ createUser: 'admin', pwd: 'pässword', roles: ['root'] });
    const admin = client(`mongodb://admin:${encodeURIComponent('pässword')}@127.0.0.1:${port}/?authMechanism=SCRAM-SHA-256`).db('admin');
    const status = await admin.command({ connectionStatus: 1 });
    expect(status.authInfo.authenticatedUsers).toEqual([{ user: 'admin', db: 'admin' }]);
  });

  test('the first sort only mingo evaluates ({$meta: "randVal"}) answers as before', async () => {
    const port = await startCli();
    const coll = client(`mongodb://127.0.0.1:${port}/`).db('test').collection<{ _id: number; a: number }>('c');
    const docs = [{ _id: 1, a: 1 }, { _id: 2, a: 3 }, { _id: 3, a: 2 }];
    await coll.insertMany(docs);
    const sorted = await coll.find({ a: { $gte: 2 } }, { sort: { r: { $meta: 'randVal' } } }).toArray();
    expect(sorted.sort((x, y) => x._id - y._id)).toEqual([docs[1], docs[2]]);
  });
});
