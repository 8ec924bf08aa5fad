import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { VirtualClock, type PocketMongo } from '../../src/index.js';
import { startServer } from '../helpers/server.js';

const clock = new VirtualClock();
let server: PocketMongo;
let client: MongoClient;

beforeAll(async () => {
  server = await startServer({ clock });
  client = new MongoClient(server.uri);
});

afterAll(async () => {
  await client.close();
  await server.stop();
});

test('a TTL index expires documents on the monitor pass after expireAfterSeconds (virtual time)', async () => {
  const c = client.db('ttl').collection('events');
  await c.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
  const now = clock.now();
  await c.insertMany([
    { name: 'old', at: new Date(now - 2 * 3600_000) },
    { name: 'fresh', at: new Date(now) },
    { name: 'no date', at: 'yesterday' },
  ]);
  clock.advance(60_000);
  expect((await c.find({}, { projection: { _id: 0, name: 1 } }).toArray()).map((d) => d.name)).toEqual(['fresh', 'no date']);
  clock.advance(3600_000);
  expect((await c.find({}, { projection: { _id: 0, name: 1 } }).toArray()).map((d) => d.name)).toEqual(['no date']);
  const [index] = (await c.listIndexes().toArray()).filter((i) => i.name === 'at_1');
  expect(index).toMatchObject({ key: { at: 1 }, expireAfterSeconds: 3600 });
});
