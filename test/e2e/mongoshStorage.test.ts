// mongosh against the storage commands: indexes, inserts, duplicate keys, sorted finds and the
// `show` helpers, as a user would type them (`mongosh URI --quiet --norc --eval CODE`, offline
// environment of client-handshake.md §4f). What mongosh prints is compared with what it prints
// against mongod 7.0.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { runMongosh, startServer } from '../helpers/server.js';

let server: PocketMongo;
let uri: string;
beforeAll(async () => {
  server = await startServer();
  uri = `${server.uri}shop`;
});
afterAll(async () => {
  await server?.stop();
});

/** Runs mongosh and insists it succeeded quietly: exit 0 and nothing on stderr. */
async function evalOk(code: string, target = uri): Promise<string> {
  const result = await runMongosh(target, code);
  expect(result, `mongosh --eval ${code}`).toMatchObject({ code: 0, stderr: '' });
  return result.stdout;
}

describe('mongosh and the storage commands', () => {
  // One scenario, step by step: each step is a separate mongosh process on the same server.
  test('createIndex prints the index name; a duplicate insert prints the E11000 error', async () => {
    expect(await evalOk('db.c.createIndex({a: 1}, {unique: true})')).toBe('a_1\n');
    expect(await evalOk("db.c.insertOne({_id: 1, a: 1, n: 'one'})")).toBe('{ acknowledged: true, insertedId: 1 }\n');
    // An uncaught server error: mongosh exits 1 and prints it on stderr.
    const dup = await runMongosh(uri, "db.c.insertOne({_id: 2, a: 1, n: 'again'})");
    expect(dup).toEqual({
      code: 1,
      stdout: '',
      stderr: 'MongoServerError: E11000 duplicate key error collection: shop.c index: a_1 dup key: { a: 1 }\n',
    });
    // Caught: the error's name, message and code.
    expect(
      await evalOk("try { db.c.insertOne({_id: 3, a: 1}) } catch (e) { print(e.name + ': ' + e.message); print(e.code) }"),
    ).toBe('MongoServerError: E11000 duplicate key error collection: shop.c index: a_1 dup key: { a: 1 }\n11000\n');
    // A duplicate _id names the _id index.
    expect(await evalOk("try { db.c.insertOne({_id: 1, a: 99}) } catch (e) { print(e.message) }")).toBe(
      'E11000 duplicate key error collection: shop.c index: _id_ dup key: { _id: 1 }\n',
    );
  });

  test('find().sort() prints the documents in order', async () => {
    await evalOk("db.c.insertMany([{_id: 4, a: 3, n: 'three'}, {_id: 5, a: 2, n: 'two'}])");
    expect(await evalOk('db.c.find().sort({a: -1})')).toBe(
      "[\n  { _id: 4, a: 3, n: 'three' },\n  { _id: 5, a: 2, n: 'two' },\n  { _id: 1, a: 1, n: 'one' }\n]\n",
    );
    expect(await evalOk('db.c.find({a: {$gte: 2}}, {_id: 0, n: 1}).sort({a: 1})')).toBe("[ { n: 'two' }, { n: 'three' } ]\n");
    expect(await evalOk('db.c.countDocuments()')).toBe('3\n');
  });

  test('show collections and getIndexes()', async () => {
    await evalOk('db.other.insertOne({x: 1})');
    expect(await evalOk('show collections')).toBe('c\nother\n');
    expect(await evalOk('db.c.getIndexes()')).toBe(
      "[\n  { v: 2, key: { _id: 1 }, name: '_id_' },\n  { v: 2, key: { a: 1 }, name: 'a_1', unique: true }\n]\n",
    );
    expect(await evalOk("JSON.stringify(db.getCollectionNames())")).toBe('["c","other"]\n');
  });
});

describe('mongosh under auth: show dbs and show collections list what the user may see', () => {
  let authServer: PocketMongo;
  beforeAll(async () => {
    authServer = await startServer({
      auth: true,
      users: [{ user: 'admin', pwd: 'secret' }],
      setParameter: { scramIterationCount: '5000', scramSHA256IterationCount: '5000' },
    });
    const root = new MongoClient(`mongodb://admin:secret@127.0.0.1:${authServer.port}/admin`);
    try {
      await root.db('shop').collection('c').insertOne({ a: 1 });
      await root.db('shop').collection('d').insertOne({ a: 1 });
      await root.db('hidden').collection('h').insertOne({ a: 1 });
      // userAdmin holds no listCollections on shop, only other actions there.
      await root.db('shop').command({ createUser: 'ua', pwd: 'ua-pw', roles: ['userAdmin'] });
    } finally {
      await root.close();
    }
  });
  afterAll(async () => {
    await authServer?.stop();
  });

  test('a userAdmin of shop: show dbs lists shop only; collections only through authorizedCollections', async () => {
    const target = `mongodb://ua:ua-pw@127.0.0.1:${authServer.port}/shop?authSource=shop`;
    const dbs = await evalOk('show dbs', target);
    expect(dbs.trim().split('\n').map((line) => line.split(/\s+/)[0])).toEqual(['shop']);
    // mongosh 2.x's `show collections` sends a plain nameOnly listCollections: refused, as mongod does.
    expect(await runMongosh(target, 'show collections')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'MongoServerError: Not authorized to list collections on db: shop\n',
    });
    expect(
      await evalOk('JSON.stringify(db.getCollectionInfos({}, {nameOnly: true, authorizedCollections: true}))', target),
    ).toBe('[{"name":"c","type":"collection"},{"name":"d","type":"collection"}]\n');
  });
});

describe('mongosh and exact values (issue 10)', () => {
  test('Decimal128 digits, longs beyond 2^53 and doubles survive a projection and an update of another field', async () => {
    await evalOk("db.exact.insertOne({_id: 1, d: NumberDecimal('1.10'), z: NumberDecimal('-0'), l: NumberLong('9007199254740993'), f: Double(2), n: 1})");
    await evalOk('db.exact.updateOne({_id: 1}, {$inc: {n: 1}, $set: {p: NumberDecimal("2.50")}})');
    expect(await evalOk('printjson(db.exact.findOne({_id: 1}, {d: 1, z: 1, l: 1, f: 1, p: 1}))')).toBe(
      "{\n  _id: 1,\n  d: Decimal128('1.10'),\n  z: Decimal128('-0'),\n  l: Long('9007199254740993'),\n  f: 2,\n  p: Decimal128('2.50')\n}\n",
    );
    // The double stays a double (mongosh prints it as 2), the long a long, the incremented int an int.
    expect(await evalOk("print(db.exact.countDocuments({f: {$type: 'double'}, l: {$type: 'long'}, n: {$type: 'int'}}))")).toBe('1\n');
  });
});
