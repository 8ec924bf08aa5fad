/**
 * A suite written exactly as mongodb-memory-server users write them; only the import line of
 * MongoMemoryServer differs (`from 'mongodb-memory-server'` → `from 'pocketmongo/memory-server'`,
 * here the source file). Then the lifecycle and options of the drop-in itself.
 */
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { MongoMemoryServer, MongoMemoryServerStates, StateError } from '../../src/server/compat/memoryServer.js';
import { MongoMemoryServer as FromIndex } from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// The user's suite.

const userSchema = new mongoose.Schema(
  {
    email: { type: String, required: true, unique: true, lowercase: true, trim: true },
    name: { type: String, required: true },
    age: { type: Number, min: 0 },
    tags: [String],
  },
  { timestamps: true },
);
const User = mongoose.model('User', userSchema);

const postSchema = new mongoose.Schema({
  title: String,
  author: { type: mongoose.Schema.Types.ObjectId, ref: 'User' },
  likes: { type: Number, default: 0 },
});
const Post = mongoose.model('Post', postSchema);

describe('a mongoose suite that used mongodb-memory-server', () => {
  let mongod: MongoMemoryServer;

  beforeAll(async () => {
    mongod = await MongoMemoryServer.create();
    await mongoose.connect(mongod.getUri());
    await User.init(); // builds the unique index before the tests race it
  });

  afterEach(async () => {
    const collections = mongoose.connection.collections;
    for (const key in collections) await collections[key]!.deleteMany({});
  });

  afterAll(async () => {
    await mongoose.connection.dropDatabase();
    await mongoose.disconnect();
    await mongod.stop();
  });

  test('a duplicate email is an E11000 from mongoose, with keyPattern and keyValue', async () => {
    await User.create({ email: 'Ann@Example.com', name: 'Ann' });
    const err = await User.create({ email: 'ann@example.com ', name: 'Other Ann' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(mongoose.mongo.MongoServerError);
    expect(err).toMatchObject({
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'ann@example.com' },
      message: 'E11000 duplicate key error collection: test.users index: email_1 dup key: { email: "ann@example.com" }',
    });
    expect(await User.countDocuments()).toBe(1);
  });

  test('the collections are empty again after each test', async () => {
    expect(await User.countDocuments()).toBe(0);
    // and the unique index survived the clean-up
    const indexes = await User.collection.indexes();
    expect(indexes.map((i) => [i.name, i.unique ?? false])).toEqual([
      ['_id_', false],
      ['email_1', true],
    ]);
  });

  test('find with a filter, sort, skip, limit and projection', async () => {
    await User.insertMany([
      { email: 'a@x.io', name: 'A', age: 31 },
      { email: 'b@x.io', name: 'B', age: 17 },
      { email: 'c@x.io', name: 'C', age: 45 },
      { email: 'd@x.io', name: 'D', age: 22 },
      { email: 'e@x.io', name: 'E', age: 38 },
    ]);
    const adults = await User.find({ age: { $gte: 18 } })
      .sort({ age: -1 })
      .skip(1)
      .limit(2)
      .select('name age -_id')
      .lean();
    expect(adults).toEqual([
      { name: 'E', age: 38 },
      { name: 'A', age: 31 },
    ]);
    expect(await User.find().sort('name').limit(1).then((r) => r.map((u) => u.name))).toEqual(['A']);
    expect(await User.countDocuments({ age: { $lt: 18 } })).toBe(1);
    expect(await User.distinct('name', { age: { $gt: 30 } })).toEqual(['A', 'C', 'E']);
  });

  test('populate follows the refs', async () => {
    const [ann, bob] = await User.create([
      { email: 'ann@x.io', name: 'Ann' },
      { email: 'bob@x.io', name: 'Bob' },
    ]);
    await Post.create([
      { title: 'first', author: ann!._id, likes: 3 },
      { title: 'second', author: bob!._id, likes: 7 },
      { title: 'third', author: ann!._id },
    ]);
    const posts = await Post.find().sort({ likes: -1, title: 1 }).populate<{ author: { name: string } }>('author', 'name').lean();
    expect(posts.map((p) => [p.title, p.likes, p.author.name])).toEqual([
      ['second', 7, 'Bob'],
      ['first', 3, 'Ann'],
      ['third', 0, 'Ann'],
    ]);
    const annPosts = await Post.find({ author: ann!._id }).countDocuments();
    expect(annPosts).toBe(2);
  });

  test('updates without a transaction: updateOne, findOneAndUpdate, save, validators', async () => {
    const ann = await User.create({ email: 'ann@x.io', name: 'Ann', age: 30, tags: ['a'] });
    const createdAt = ann.get('createdAt') as Date;

    const res = await User.updateOne({ _id: ann._id }, { $inc: { age: 1 }, $push: { tags: 'b' } });
    expect(res).toMatchObject({ acknowledged: true, matchedCount: 1, modifiedCount: 1 });

    const updated = await User.findOneAndUpdate({ email: 'ann@x.io' }, { $set: { name: 'Annie' } }, { returnDocument: 'after' });
    expect(updated?.toObject()).toMatchObject({ name: 'Annie', age: 31, tags: ['a', 'b'] });
    expect((updated?.get('updatedAt') as Date).getTime()).toBeGreaterThanOrEqual(createdAt.getTime());

    const doc = await User.findById(ann._id);
    doc!.age = 40;
    await doc!.save();
    expect((await User.findById(ann._id).lean())?.age).toBe(40);

    await expect(User.updateOne({ _id: ann._id }, { age: -1 }, { runValidators: true })).rejects.toThrow(/age/);
    const upserted = await User.updateOne({ email: 'new@x.io' }, { $setOnInsert: { name: 'New' } }, { upsert: true });
    expect(upserted.upsertedCount).toBe(1);
    expect((await User.deleteMany({ age: { $exists: false } })).deletedCount).toBe(1);
    expect(await User.countDocuments()).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// The drop-in's API, as mongodb-memory-server documents it.

describe('MongoMemoryServer (pocketmongo/memory-server)', () => {
  test('create → running; getUri shape; stop → true, then false; getUri after stop throws', async () => {
    const states: string[] = [];
    const mongod = new MongoMemoryServer();
    mongod.on('stateChange', (s: string) => states.push(s));
    expect(mongod.state).toBe('new');
    expect(mongod.instanceInfo).toBeUndefined();
    await mongod.start();
    expect(mongod.state).toBe(MongoMemoryServerStates.running);
    const info = mongod.instanceInfo!;
    expect(info).toMatchObject({ ip: '127.0.0.1', dbName: '', dbPath: undefined, storageEngine: 'ephemeralForTest' });
    expect(info.port).toBeGreaterThan(0);
    expect(mongod.getUri()).toBe(`mongodb://127.0.0.1:${info.port}/`);
    expect(mongod.getUri('shop')).toBe(`mongodb://127.0.0.1:${info.port}/shop`);
    expect(mongod.getUri('shop', 'localhost')).toBe(`mongodb://localhost:${info.port}/shop`);
    expect(await mongod.ensureInstance()).toBe(info);
    await expect(mongod.start()).rejects.toBeInstanceOf(StateError);

    const client = await MongoClient.connect(mongod.getUri());
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });

    expect(await mongod.stop()).toBe(true);
    expect(mongod.state).toBe('new'); // cleanup ran
    expect(mongod.instanceInfo).toBeUndefined();
    expect(states).toEqual(['starting', 'running', 'stopped', 'new']);
    expect(await mongod.stop()).toBe(false);
    expect(() => mongod.getUri()).toThrow(StateError);
    await client.close();
    expect(FromIndex).toBe(MongoMemoryServer);
  });

  test('stop({ doCleanup: false }) keeps instanceInfo; start(true) comes back on the same port, empty', async () => {
    const mongod = await MongoMemoryServer.create({ instance: { dbName: 'kept' } });
    const { port } = mongod.instanceInfo!;
    const client = new MongoClient(mongod.getUri(), { serverSelectionTimeoutMS: 2000 });
    await client.db('kept').collection('c').insertOne({ a: 1 });
    await client.close();

    expect(await mongod.stop({ doCleanup: false })).toBe(true);
    expect(mongod.state).toBe('stopped');
    expect(mongod.instanceInfo).toMatchObject({ port, dbName: 'kept' });
    expect(() => mongod.getUri()).toThrow(/Incorrect State for operation: "stopped"/);
    expect(await mongod.stop()).toBe(false);

    await mongod.start(true);
    expect(mongod.instanceInfo!.port).toBe(port);
    const again = await MongoClient.connect(mongod.getUri());
    // storage is memory only (mongod's ephemeralForTest): nothing survives a stop
    expect(await again.db('kept').collection('c').countDocuments()).toBe(0);
    await again.close();

    expect(await mongod.stop(false)).toBe(true); // mongodb-memory-server 8's boolean form
    expect(mongod.state).toBe('stopped');
    await mongod.cleanup();
    expect(mongod.state).toBe('new');
    expect(mongod.instanceInfo).toBeUndefined();
  });

  test('ensureInstance starts a new instance and waits for a starting one', async () => {
    const a = new MongoMemoryServer();
    const info = await a.ensureInstance();
    expect(a.state).toBe('running');
    expect(info.port).toBe(a.instanceInfo!.port);
    await a.stop();

    const b = new MongoMemoryServer();
    const starting = b.start();
    expect(b.state).toBe('starting');
    const waited = await b.ensureInstance();
    await starting;
    expect(waited).toBe(b.instanceInfo);
    await b.stop();
  });

  test('instance.port: a taken port moves to a free one, unless portGeneration is false', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const moved = await MongoMemoryServer.create({ instance: { port: taken } });
      expect(moved.instanceInfo!.port).not.toBe(taken);
      await moved.stop();

      const strict = new MongoMemoryServer({ instance: { port: taken, portGeneration: false } });
      await expect(strict.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(strict.state).toBe('stopped');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('auth.enable creates the root user from customRootName/customRootPwd and enforces auth', async () => {
    const mongod = await MongoMemoryServer.create({
      auth: {
        enable: true,
        customRootName: 'boss',
        customRootPwd: 's3cret',
        extraUsers: [{ createUser: 'reader', pwd: 'r', roles: [{ role: 'read', db: 'shop' }], database: 'shop' }],
      },
    });
    const uri = mongod.getUri();
    expect(uri).not.toContain('@'); // no credentials in the URI, as mongodb-memory-server

    const anonymous = await MongoClient.connect(uri);
    await expect(anonymous.db('shop').collection('c').insertOne({ a: 1 })).rejects.toMatchObject({ code: 13 });
    await anonymous.close();

    const root = await MongoClient.connect(uri, { auth: { username: 'boss', password: 's3cret' } });
    await root.db('shop').collection('c').insertOne({ a: 1 });
    await root.close();

    const reader = await MongoClient.connect(mongod.getUri('shop'), { auth: { username: 'reader', password: 'r' } });
    expect(await reader.db('shop').collection('c').countDocuments()).toBe(1);
    await expect(reader.db('shop').collection('c').insertOne({ a: 2 })).rejects.toMatchObject({ code: 13 });
    await reader.close();
    await mongod.stop();
  });

  test("mongodb-memory-server 8's instance.auth with the default root user; mongoose authenticates", async () => {
    const mongod = await MongoMemoryServer.create({ instance: { auth: true }, auth: {} });
    const conn = await mongoose
      .createConnection(mongod.getUri('app'), { authSource: 'admin', auth: { username: 'mongodb-memory-server-root', password: 'rootuser' } })
      .asPromise();
    const Thing = conn.model('Thing', new mongoose.Schema({ n: Number }));
    await Thing.create({ n: 1 });
    expect(await Thing.countDocuments()).toBe(1);
    await conn.close();

    const wrong = new MongoClient(mongod.getUri(), { auth: { username: 'mongodb-memory-server-root', password: 'nope' } });
    await expect(wrong.connect()).rejects.toMatchObject({ code: 18 });
    await wrong.close();
    await mongod.stop();
  });

  test('auth without enable (9+) leaves auth off', async () => {
    const mongod = await MongoMemoryServer.create({ auth: { customRootName: 'x' } });
    const client = await MongoClient.connect(mongod.getUri());
    await client.db('a').collection('c').insertOne({ a: 1 });
    await client.close();
    await mongod.stop();
  });

  test('instance.args pocketmongo knows are applied; options it cannot honour are refused', async () => {
    const mongod = await MongoMemoryServer.create({
      instance: { args: ['--setParameter', 'cursorTimeoutMillis=1234', '--quiet'], storageEngine: 'wiredTiger' },
      binary: { version: '6.0.14' }, // ignored
      spawn: { stdio: 'ignore' }, // ignored
    });
    const client = await MongoClient.connect(mongod.getUri());
    const reply = await client.db('admin').command({ getParameter: 1, cursorTimeoutMillis: 1 });
    expect(Number(reply.cursorTimeoutMillis)).toBe(1234);
    await client.close();
    await mongod.stop();

    await expect(MongoMemoryServer.create({ instance: { args: ['--nojournal'] } })).rejects.toThrow(/not supported by pocketmongo/);
    await expect(MongoMemoryServer.create({ instance: { args: ['--port', '1'] } })).rejects.toThrow(/may not set --port/);
    await expect(
      MongoMemoryServer.create({
        auth: { enable: true, extraUsers: [{ createUser: 'u', pwd: 'p', roles: [], authenticationRestrictions: [{ clientSource: '10.0.0.1' }] }] },
      }),
    ).rejects.toThrow(/authenticationRestrictions/);
  });

  test('await using stops it', async () => {
    let port: number;
    {
      await using mongod = await MongoMemoryServer.create();
      port = mongod.instanceInfo!.port;
    }
    const refused = await new Promise<unknown>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket.destroy()));
      socket.once('error', resolve);
    });
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
  });

  test("storageEngine 'wiredTiger': a temporary data directory that survives stop({doCleanup: false}) and goes with cleanup", async () => {
    const mongod = await MongoMemoryServer.create({ instance: { storageEngine: 'wiredTiger' } });
    const info = mongod.instanceInfo!;
    expect(info).toMatchObject({ storageEngine: 'wiredTiger', dbPath: info.tmpDir });
    expect(existsSync(join(info.tmpDir!, 'mongod.lock'))).toBe(true);
    let client = await MongoClient.connect(mongod.getUri());
    await client.db('app').collection('kept').insertOne({ note: 'across a restart' });
    await client.close();
    await mongod.stop({ doCleanup: false });
    await mongod.start();
    client = await MongoClient.connect(mongod.getUri());
    expect(await client.db('app').collection('kept').find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ note: 'across a restart' }]);
    await client.close();
    await mongod.stop();
    expect(existsSync(info.tmpDir!)).toBe(false);
  });

  test('instance.dbPath keeps the data in that directory for the next instance, and is never removed', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'pocketmongo-mms-dbpath-'));
    try {
      const first = await MongoMemoryServer.create({ instance: { dbPath } });
      expect(first.instanceInfo).toMatchObject({ dbPath, storageEngine: 'wiredTiger', tmpDir: undefined });
      let client = await MongoClient.connect(first.getUri());
      await client.db('app').collection('kept').insertOne({ note: 'in dbPath' });
      await client.close();
      await first.stop({ doCleanup: true, force: true });
      expect(existsSync(join(dbPath, 'storage.bson'))).toBe(true);
      const second = await MongoMemoryServer.create({ instance: { dbPath } });
      client = await MongoClient.connect(second.getUri());
      expect(await client.db('app').collection('kept').countDocuments()).toBe(1);
      await client.close();
      await second.stop();
    } finally {
      rmSync(dbPath, { recursive: true, force: true });
    }
  });
});
