// Durable storage (issue 13) through the real driver: a server started with `dbPath` keeps its
// data, indexes and collection options across a restart, and start-up checks and holds the
// directory as mongod does (durability-semantics.md §2).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Binary,
  BSON,
  BSONRegExp,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoClient,
  MongoServerError,
  ObjectId,
  Timestamp,
  UUID,
  type Document,
} from 'mongodb';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { PocketMongo, VirtualClock } from '../../src/index.js';
import { expectExactError, type NumberedDoc } from '../helpers/driver.js';

const root = mkdtempSync(join(tmpdir(), 'pocketmongo-durable-'));
const running: PocketMongo[] = [];
const clients: MongoClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(running.splice(0).map((s) => s.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function freshDir(): string {
  const dir = join(root, `db${dirs++}`);
  mkdirSync(dir);
  return dir;
}

async function start(dbPath: string): Promise<{ server: PocketMongo; client: MongoClient }> {
  const server = await PocketMongo.start({ port: 0, dbPath });
  running.push(server);
  const client = await MongoClient.connect(server.uri, { promoteValues: false, bsonRegExp: true });
  clients.push(client);
  return { server, client };
}

/** Stops a server and its client, so the next start reads only what is on disk. */
async function stop({ server, client }: { server: PocketMongo; client: MongoClient }): Promise<void> {
  await client.close();
  clients.splice(clients.indexOf(client), 1);
  await server.stop();
  running.splice(running.indexOf(server), 1);
}

/** The error a write was refused with. */
async function writeError(write: Promise<unknown>): Promise<MongoServerError> {
  return write.then(
    () => {
      throw new Error('the write succeeded');
    },
    (err: unknown) => err as MongoServerError,
  );
}

/** Every BSON type a document can hold, with the values the issue names (digits, 2^53 + 1, a double that is integral). */
const EVERY_TYPE: Document = {
  _id: new ObjectId('65a1b2c3d4e5f60718293a4b'),
  double: new Double(2),
  negativeZero: new Double(-0),
  int: new Int32(7),
  long: Long.fromString('9007199254740993'),
  decimal: Decimal128.fromString('1.10'),
  decimalExponent: Decimal128.fromString('1.0E+5'),
  string: 'héllo \u{1F600}',
  date: new Date('2026-12-06T12:00:00.123Z'),
  binary: new Binary(Buffer.from([0, 1, 2, 255]), 0x80),
  uuid: new UUID('0f9e2c1a-7b3d-4c5e-8f60-1a2b3c4d5e6f'),
  regex: new BSONRegExp('^a.c$', 'im'),
  timestamp: new Timestamp({ t: 1700000000, i: 3 }),
  min: new MinKey(),
  max: new MaxKey(),
  nothing: null,
  bool: true,
  nested: { array: [new Int32(1), [new Double(2.5), 'x'], { deep: Long.fromNumber(-1) }] },
};

describe('a restart keeps what was acknowledged', () => {
  test('every BSON type comes back byte for byte', async () => {
    const dir = freshDir();
    const first = await start(dir);
    await first.client.db('app').collection('types').insertOne(EVERY_TYPE);
    await stop(first);
    const second = await start(dir);
    const [found] = await second.client.db('app').collection('types').find().toArray();
    expect(Buffer.from(BSON.serialize(found!))).toEqual(Buffer.from(BSON.serialize(EVERY_TYPE)));
  });

  test('updates, replacements and deletes; insertion (natural) order; a j: true write', async () => {
    const dir = freshDir();
    const first = await start(dir);
    const c = first.client.db('app').collection<NumberedDoc>('orders');
    await c.insertMany([{ _id: 3 }, { _id: 1 }, { _id: 2 }, { _id: 4 }]);
    await c.updateOne({ _id: 1 }, { $set: { paid: true } });
    await c.replaceOne({ _id: 2 }, { note: 'replaced' });
    await c.deleteOne({ _id: 4 });
    await c.insertOne({ _id: 5 }, { writeConcern: { j: true } });
    await stop(first);
    const second = await start(dir);
    expect(await second.client.db('app').collection<NumberedDoc>('orders').find().toArray()).toEqual([
      { _id: new Int32(3) },
      { _id: new Int32(1), paid: true },
      { _id: new Int32(2), note: 'replaced' },
      { _id: new Int32(5) },
    ]);
  });

  test('indexes with their options, and a unique index still enforced', async () => {
    const dir = freshDir();
    const first = await start(dir);
    const db = first.client.db('app');
    await db.collection<NumberedDoc>('users').createIndex({ email: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await db.collection<NumberedDoc>('users').createIndex({ seen: 1 }, { expireAfterSeconds: 3600 });
    await db.collection<NumberedDoc>('users').createIndex({ tag: 1 }, { sparse: true, partialFilterExpression: { tag: { $exists: true } }, name: 'tags' });
    await db.collection<NumberedDoc>('users').insertOne({ _id: 1, email: 'Ann@example.com' });
    const before = await db.collection<NumberedDoc>('users').listIndexes().toArray();
    await stop(first);
    const second = await start(dir);
    const users = second.client.db('app').collection<NumberedDoc>('users');
    expect(await users.listIndexes().toArray()).toEqual(before);
    const duplicate = await writeError(users.insertOne({ _id: 2, email: 'ann@EXAMPLE.com' }));
    expect(Number(duplicate.code)).toBe(11000);
    expect(duplicate.message).toContain('E11000 duplicate key error collection: app.users index: email_1 collation:');
  });

  test('collection options: capped limits and validators', async () => {
    const dir = freshDir();
    const first = await start(dir);
    const db = first.client.db('app');
    await db.createCollection('log', { capped: true, size: 4096, max: 2 });
    await db.createCollection('strict', { validator: { n: { $type: 'int' } }, validationAction: 'error' });
    const before = await db.listCollections({}, { nameOnly: false }).toArray();
    await db.collection<NumberedDoc>('log').insertMany([{ _id: 1 }, { _id: 2 }]);
    await stop(first);
    const second = await start(dir);
    const db2 = second.client.db('app');
    const after = await db2.listCollections({}, { nameOnly: false }).toArray();
    expect(after.map((c) => [c.name, c.options])).toEqual(before.map((c) => [c.name, c.options]));
    expect(after.map((c) => (c.info as Document).uuid)).toEqual(before.map((c) => (c.info as Document).uuid));
    await db2.collection<NumberedDoc>('log').insertOne({ _id: 3 });
    expect(await db2.collection<NumberedDoc>('log').find().toArray()).toEqual([{ _id: new Int32(2) }, { _id: new Int32(3) }]);
    const invalid = await writeError(db2.collection<NumberedDoc>('strict').insertOne({ _id: 1, n: 'x' }));
    expect([Number(invalid.code), invalid.message]).toEqual([121, 'Document failed validation']);
  });

  test('drop, rename, dropDatabase and views', async () => {
    const dir = freshDir();
    const first = await start(dir);
    const db = first.client.db('app');
    await db.collection<NumberedDoc>('gone').insertOne({ _id: 1 });
    await db.collection<NumberedDoc>('gone').drop();
    await db.collection<NumberedDoc>('old').insertMany([{ _id: 1 }, { _id: 2 }]);
    await db.collection<NumberedDoc>('old').createIndex({ a: 1 });
    await db.collection<NumberedDoc>('old').rename('renamed');
    await db.createCollection('recent', { viewOn: 'renamed', pipeline: [{ $match: { _id: { $gt: 1 } } }] });
    await first.client.db('scratch').collection<NumberedDoc>('x').insertOne({ _id: 1 });
    await first.client.db('scratch').dropDatabase();
    await stop(first);
    const second = await start(dir);
    const db2 = second.client.db('app');
    expect((await db2.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(['recent', 'renamed', 'system.views']);
    expect(await db2.collection<NumberedDoc>('renamed').find().toArray()).toEqual([{ _id: new Int32(1) }, { _id: new Int32(2) }]);
    expect((await db2.collection<NumberedDoc>('renamed').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'a_1']);
    expect(await db2.collection<NumberedDoc>('recent').find().toArray()).toEqual([{ _id: new Int32(2) }]);
    expect((await second.client.db('admin').admin().listDatabases()).databases.map((d) => d.name)).not.toContain('scratch');
  });

  test('users (their credentials, roles, customData) and user-defined roles, with --auth', async () => {
    const dir = freshDir();
    const options = { port: 0, dbPath: dir, auth: true, users: [{ user: 'root', pwd: 'rootpwd' }] };
    const rootUri = (server: PocketMongo) => `${server.uri}?authSource=admin`;
    let server = await PocketMongo.start(options);
    running.push(server);
    let root = await MongoClient.connect(rootUri(server), { auth: { username: 'root', password: 'rootpwd' } });
    clients.push(root);
    await root.db('shop').command({ createRole: 'reader', privileges: [{ resource: { db: 'shop', collection: 'items' }, actions: ['find'] }], roles: [] });
    await root.db('shop').command({ createUser: 'clerk', pwd: 'clerkpwd', roles: ['reader'], customData: { desk: new Int32(7) } });
    await root.db('shop').command({ grantRolesToUser: 'clerk', roles: [{ role: 'read', db: 'shop' }] });
    await root.db('shop').collection<NumberedDoc>('items').insertOne({ _id: 1 });
    const usersBefore = await root.db('shop').command({ usersInfo: 1 });
    const rolesBefore = await root.db('shop').command({ rolesInfo: 1, showPrivileges: true });
    await root.close();
    await server.stop();
    running.length = 0;
    clients.length = 0;

    server = await PocketMongo.start(options);
    running.push(server);
    root = await MongoClient.connect(rootUri(server), { auth: { username: 'root', password: 'rootpwd' } });
    clients.push(root);
    const usersAfter = await root.db('shop').command({ usersInfo: 1 });
    expect(usersAfter).toEqual(usersBefore);
    // Field order too (toEqual ignores it): customData given to createUser stays before roles.
    expect((usersAfter.users as Document[]).map((u) => Object.keys(u))).toEqual((usersBefore.users as Document[]).map((u) => Object.keys(u)));
    expect(await root.db('shop').command({ rolesInfo: 1, showPrivileges: true })).toEqual(rolesBefore);
    const clerk = await MongoClient.connect(`${server.uri}?authSource=shop`, { auth: { username: 'clerk', password: 'clerkpwd' } });
    clients.push(clerk);
    expect(await clerk.db('shop').collection('items').find().toArray()).toEqual([{ _id: 1 }]);
  });

  test('config.system.sessions: its documents, UUID and TTL index; a new session timeout takes effect at the first refresh', async () => {
    const dir = freshDir();
    const clock = new VirtualClock();
    const options = (minutes: number) => ({ port: 0, dbPath: dir, clock, setParameter: { enableTestCommands: true, localLogicalSessionTimeoutMinutes: minutes } });
    const sessionsCollection = async (client: MongoClient) => ({
      // In session id order: after a restart the documents come back in that order, not the order the refreshes first wrote them.
      documents: await client.db('config').collection('system.sessions').find().sort({ '_id.id': 1 }).toArray(),
      indexes: (await client.db('config').command({ listIndexes: 'system.sessions' })).cursor.firstBatch as Document[],
      uuid: ((await client.db('config').listCollections({ name: 'system.sessions' }, { nameOnly: false }).toArray())[0]!.info as Document).uuid,
    });
    let server = await PocketMongo.start(options(30));
    running.push(server);
    let client = await MongoClient.connect(server.uri);
    clients.push(client);
    const session = client.startSession();
    await client.db('app').command({ ping: 1 }, { session });
    await client.db('admin').command({ refreshLogicalSessionCacheNow: 1 });
    const before = await sessionsCollection(client);
    const ids = (documents: Document[]) => documents.map((d) => Buffer.from((d._id as Document).id.buffer as Uint8Array).toString('hex'));
    expect(ids(before.documents)).toContain(Buffer.from(session.id!.id.buffer).toString('hex'));
    expect(before.documents.every((d) => (d.lastUse as Date).getTime() === clock.now())).toBe(true);
    expect(before.indexes[1]).toMatchObject({ name: 'lsidTTLIndex', expireAfterSeconds: 1800 });
    await session.endSession();
    await client.close();
    await server.stop();
    running.length = 0;
    clients.length = 0;

    clock.advance(60_000);
    server = await PocketMongo.start(options(10));
    running.push(server);
    client = await MongoClient.connect(server.uri);
    clients.push(client);
    // As mongod: the documents, UUID and the TTL index as they were, until the first refresh.
    expect(await sessionsCollection(client)).toEqual(before);
    await client.db('admin').command({ refreshLogicalSessionCacheNow: 1 });
    expect((await sessionsCollection(client)).indexes[1]).toMatchObject({ name: 'lsidTTLIndex', expireAfterSeconds: 600 });
    // Unused for longer than the new timeout: the session's document is gone, and stays gone.
    clock.advance(10 * 60_000);
    await vi.waitFor(async () => expect((await sessionsCollection(client)).documents).toEqual([]));
    await client.close();
    await server.stop();
    running.length = 0;
    clients.length = 0;
    server = await PocketMongo.start(options(10));
    running.push(server);
    client = await MongoClient.connect(server.uri);
    clients.push(client);
    expect((await sessionsCollection(client)).documents).toEqual([]);
  });

  test('serverStatus says the engine is persistent; fsync flushes and refuses to lock', async () => {
    const { client } = await start(freshDir());
    const status = await client.db('admin').command({ serverStatus: 1 });
    expect(status.storageEngine).toMatchObject({ name: 'wiredTiger', persistent: true });
    expect(await client.db('admin').command({ fsync: 1 })).toEqual({ numFiles: 1, ok: 1 });
    await expectExactError(
      client.db('admin').command({ fsync: 1, lock: true }),
      115,
      'CommandNotSupported',
      'fsync with lock: true is not supported: this server cannot hold writes back',
    );
  });
});

describe('start-up checks the directory as mongod does', () => {
  async function startError(dbPath: string): Promise<{ code: number; codeName: string; message: string }> {
    const err = (await PocketMongo.start({ port: 0, dbPath }).then(
      (s) => {
        running.push(s);
        throw new Error('started');
      },
      (e: unknown) => e,
    )) as { code: number; codeName: string; message: string };
    return { code: err.code, codeName: err.codeName, message: err.message };
  }

  test('a missing directory: NonExistentPath', async () => {
    const dir = join(root, 'missing');
    expect(await startError(dir)).toEqual({
      code: 29,
      codeName: 'NonExistentPath',
      message: `Data directory ${dir} not found. Create the missing directory or specify another path using (1) the --dbpath command line option, or (2) by adding the 'storage.dbPath' option in the configuration file.`,
    });
  });

  test('a file instead of a directory: DBPathInUse (Not a directory)', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(await startError(file)).toEqual({
      code: 98,
      codeName: 'DBPathInUse',
      message: `Unable to create/open the lock file: ${file}/mongod.lock (Not a directory). Ensure the user executing mongod is the owner of the lock file and has the appropriate permissions. Also make sure that another mongod instance is not already running on the ${file} directory`,
    });
  });

  test('a second server on the same directory is refused; the first keeps serving and loses nothing', async () => {
    const dir = freshDir();
    const first = await start(dir);
    await first.client.db('app').collection<NumberedDoc>('c').insertOne({ _id: 1 });
    expect(await startError(dir)).toEqual({
      code: 98,
      codeName: 'DBPathInUse',
      message: `Unable to lock the lock file: ${dir}/mongod.lock (Resource temporarily unavailable). Another mongod instance is already running on the ${dir} directory`,
    });
    await first.client.db('app').collection<NumberedDoc>('c').insertOne({ _id: 2 });
    await stop(first);
    const second = await start(dir);
    expect(await second.client.db('app').collection<NumberedDoc>('c').find().toArray()).toEqual([{ _id: new Int32(1) }, { _id: new Int32(2) }]);
  });

  test('a lock file left by a process that is gone: an unclean shutdown, started anyway', async () => {
    const dir = freshDir();
    await stop(await start(dir));
    // A pid that cannot be running (above the kernel's pid_max).
    writeFileSync(join(dir, 'mongod.lock'), '4194305\n');
    const again = await start(dir);
    expect(await again.client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
  });

  test('a damaged store file stops start-up with DataCorruptionDetected, never a crash or a silent start', async () => {
    const damages: Array<[string, (file: string) => void]> = [
      ['truncated', (file) => truncateSync(file, Math.floor(statSync(file).size / 2))],
      ['emptied', (file) => truncateSync(file, 0)],
      ['overwritten', (file) => {
        const bytes = readFileSync(file);
        for (let i = 0; i < bytes.length; i += 97) bytes[i] = 0xab;
        writeFileSync(file, bytes);
      }],
    ];
    for (const [what, damage] of damages) {
      const dir = freshDir();
      const first = await start(dir);
      await first.client.db('app').collection<NumberedDoc>('c').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: i, s: 'x'.repeat(100) })));
      await stop(first);
      damage(join(dir, 'pocketmongo.mdb'));
      const error = await startError(dir);
      expect({ what, code: error.code, codeName: error.codeName }).toEqual({ what, code: 301, codeName: 'DataCorruptionDetected' });
      expect(error.message).toMatch(new RegExp(`^The data file ${dir}/pocketmongo.mdb is damaged \\(.+\\); pocketmongo will not start on it\\.`));
    }
  });

  test('files another server wrote, and a newer format, are refused', async () => {
    const foreign = freshDir();
    writeFileSync(join(foreign, 'WiredTiger'), 'WiredTiger\nWiredTiger 11.2.0\n');
    expect(await startError(foreign)).toMatchObject({ code: 28662, codeName: 'Location28662', message: expect.stringContaining('that pocketmongo did not write (WiredTiger)') });
    const mongodMetadata = freshDir();
    writeFileSync(join(mongodMetadata, 'storage.bson'), BSON.serialize({ storage: { engine: 'wiredTiger', options: { directoryPerDB: false } } }));
    expect(await startError(mongodMetadata)).toMatchObject({ code: 28662, message: expect.stringContaining("created by the 'wiredTiger' storage engine of another server") });
    const newer = freshDir();
    writeFileSync(join(newer, 'storage.bson'), BSON.serialize({ storage: { engine: 'wiredTiger', options: {} }, pocketmongo: { formatVersion: 99 } }));
    expect(await startError(newer)).toMatchObject({ code: 229, codeName: 'MustDowngrade', message: expect.stringMatching(/^UPGRADE PROBLEM: /) });
  });
});
