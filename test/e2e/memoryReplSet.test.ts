/**
 * Issue 12, item 8: a mongodb-memory-server replica-set suite changes only its import
 * (`from 'mongodb-memory-server'` → `from 'pocketmongo/memory-server'`, here the package entry's
 * source). Then the drop-in's lifecycle.
 */
import { MongoClient, type Document } from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoMemoryReplSet, MongoMemoryReplSetStates, MongoMemoryServer } from '../../src/server/compat/memoryServerPackage.js';

describe('a suite that used MongoMemoryReplSet', () => {
  let replSet: MongoMemoryReplSet;
  let client: MongoClient;

  beforeAll(async () => {
    replSet = await MongoMemoryReplSet.create({ replSet: { count: 1 } });
    client = new MongoClient(replSet.getUri());
    await client.connect();
  });

  afterAll(async () => {
    await client.close();
    await replSet.stop();
  });

  test('getUri names the set as mongodb-memory-server does, and the driver finds its primary', async () => {
    const port = replSet.servers[0]!.instanceInfo!.port;
    expect(replSet.getUri()).toBe(`mongodb://127.0.0.1:${port}/?replicaSet=testset`);
    expect(replSet.getUri('app')).toBe(`mongodb://127.0.0.1:${port}/app?replicaSet=testset`);
    const status = await client.db('admin').command({ replSetGetStatus: 1 });
    expect(status.set).toBe('testset');
    expect(status.members[0].stateStr).toBe('PRIMARY');
    expect(replSet.servers[0]!.instanceInfo!.replSet).toBe('testset');
  });

  test('writes are retryable writes: they reach the oplog with the session', async () => {
    await client.db('app').collection('things').insertOne({ _id: 'one' } as Document);
    const entry = await client.db('local').collection('oplog.rs').findOne({ ns: 'app.things' });
    expect(entry).toMatchObject({ op: 'i', o: { _id: 'one' } });
    expect(entry!.txnNumber).toBeDefined();
  });

  test('mongoose connects to the set', async () => {
    const connection = await mongoose.createConnection(replSet.getUri('shop')).asPromise();
    try {
      const Order = connection.model('Order', new mongoose.Schema({ total: Number }));
      await Order.create({ total: 3 });
      expect(await Order.countDocuments()).toBe(1);
    } finally {
      await connection.close();
    }
  });
});

describe('the drop-in', () => {
  test('states: stopped → init → running → stopped; waitUntilRunning; stop twice is false', async () => {
    const replSet = new MongoMemoryReplSet({ replSet: { name: 'rs9' } });
    const states: string[] = [];
    replSet.on('stateChange', (state: string) => states.push(state));
    expect(replSet.state).toBe(MongoMemoryReplSetStates.stopped);
    const started = replSet.start();
    await replSet.waitUntilRunning();
    await started;
    expect(replSet.getUri()).toMatch(/\?replicaSet=rs9$/);
    expect(await replSet.stop()).toBe(true);
    expect(await replSet.stop()).toBe(false);
    expect(states).toEqual(['init', 'running', 'stopped']);
    expect(replSet.servers).toEqual([]);
    expect(() => replSet.getUri()).toThrow('Incorrect State for operation: "stopped", allowed States: "[running,init]"');
  });

  test('stop({ doCleanup: false }) then start() keeps the port and, on disk, the data', async () => {
    const replSet = await MongoMemoryReplSet.create({ replSet: { storageEngine: 'wiredTiger' } });
    const uri = replSet.getUri();
    let client = await MongoClient.connect(uri);
    await client.db('kept').collection('c').insertOne({ _id: 1 } as Document);
    await client.close();
    await replSet.stop({ doCleanup: false });
    await replSet.start();
    expect(replSet.getUri()).toBe(uri);
    client = await MongoClient.connect(uri);
    expect(await client.db('kept').collection('c').findOne()).toEqual({ _id: 1 });
    await client.close();
    await replSet.stop();
  });

  test('several members are refused rather than run as one', () => {
    expect(() => new MongoMemoryReplSet({ replSet: { count: 3 } })).toThrow('pocketmongo runs one-member replica sets');
    expect(() => new MongoMemoryReplSet({ replSet: { count: 0 } })).toThrow('ReplSet Count needs to be 1 or higher! (specified count: "0")');
  });

  test('MongoMemoryServer with instance.replSet runs as a set too', async () => {
    const server = await MongoMemoryServer.create({ instance: { replSet: 'single' } });
    try {
      const client = await MongoClient.connect(`${server.getUri()}?replicaSet=single`);
      expect((await client.db('admin').command({ hello: 1 })).setName).toBe('single');
      await client.close();
    } finally {
      await server.stop();
    }
  });
});
