import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { runMongosh, startServer } from '../helpers/server.js';

let server: PocketMongo;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

test('the driver pings', async () => {
  const client = new MongoClient(server.uri);
  try {
    expect(await client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
  } finally {
    await client.close();
  }
});

test('mongosh prints the buildInfo version', async () => {
  const result = await runMongosh(server.uri, 'print(db.version()); printjson(db.runCommand({ping: 1}))');
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain('7.0.14');
  expect(result.stdout).toContain('ok: 1');
});
