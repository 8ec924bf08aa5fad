/**
 * End-to-end: listDatabases and listCollections under auth (list_databases.cpp,
 * list_collections.cpp, AuthorizationSessionImpl::isAuthorizedForAnyActionOnAnyResourceInDB and
 * checkAuthorizedToListCollections in mongod 7.0), plus nameOnly and filter, through the driver.
 */
import { Long, type MongoClient } from 'mongodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectErrorReply, useDriver } from '../helpers/driver.js';

const FAST_SCRAM = { scramIterationCount: '5000', scramSHA256IterationCount: '5000' } as const;

const t = useDriver('admin', { auth: true, users: [{ user: 'admin', pwd: 'secret' }], setParameter: { ...FAST_SCRAM } });

function login(user: string, pwd: string, db = 'admin'): Promise<MongoClient> {
  return t.login(user, pwd, db, { serverSelectionTimeoutMS: 5_000 });
}

let root: MongoClient;

beforeAll(async () => {
  root = await login('admin', 'secret');
  await root.db('alpha').collection('a1').insertOne({ x: 1 });
  await root.db('alpha').collection('a2').insertOne({ x: 'a longer document than the other one' });
  await root.db('beta').collection('b1').insertOne({ y: 1 });
  await root.db('beta').collection('b2').insertOne({ y: 2 });
  // A system collection: database privileges never reach it, an exact one (read's system.js) does.
  await root.db('beta').collection<{ _id: string; value: number }>('system.js').insertOne({ _id: 'f', value: 1 });
  await root.db('gamma').collection('g').insertOne({ z: 1 });
  await root.db('alpha').command({ createUser: 'reader', pwd: 'reader-pw', roles: ['read'] });
  await root.db('beta').command({ createUser: 'ua', pwd: 'ua-pw', roles: ['userAdmin'] });
  await root.db('beta').command({ createUser: 'breader', pwd: 'breader-pw', roles: ['read'] });
  await root.db('admin').command({ createUser: 'rany', pwd: 'rany-pw', roles: ['readAnyDatabase'] });
});

const names = (dbs: Array<{ name: string }>) => dbs.map((d) => d.name);

describe('listDatabases', () => {
  test('root sees every database, with sizes; filter and totalSize count only the matched ones', async () => {
    const all = await root.db('admin').command({ listDatabases: 1 });
    expect(names(all.databases)).toEqual(expect.arrayContaining(['alpha', 'beta', 'gamma']));
    const alpha = all.databases.find((d: { name: string }) => d.name === 'alpha');
    expect(Object.keys(alpha)).toEqual(['name', 'sizeOnDisk', 'empty']);
    expect(alpha.empty).toBe(false);

    const raw = await root.db('admin').command({ listDatabases: 1, filter: { name: { $in: ['alpha', 'gamma'] } } }, { promoteLongs: false });
    expect(names(raw.databases)).toEqual(['alpha', 'gamma']);
    expect(raw.totalSize).toBeInstanceOf(Long);
    expect(raw.databases[0].sizeOnDisk).toBeInstanceOf(Long);
    const sum = raw.databases.reduce((s: number, d: { sizeOnDisk: Long }) => s + d.sizeOnDisk.toNumber(), 0);
    expect(raw.totalSize.toNumber()).toBe(sum);
    expect(Object.keys(raw)).toEqual(['databases', 'totalSize', 'totalSizeMb', 'ok']);

    // Numeric comparisons on sizeOnDisk and matches on empty.
    const alphaSize = alpha.sizeOnDisk as number;
    const bigger = await root.db('admin').command({ listDatabases: 1, filter: { sizeOnDisk: { $gte: alphaSize } } });
    expect(names(bigger.databases)).toContain('alpha');
    expect(names((await root.db('admin').command({ listDatabases: 1, filter: { empty: true } })).databases)).toEqual([]);

    const nameOnly = await root.db('admin').command({ listDatabases: 1, nameOnly: true, filter: { name: { $in: ['alpha', 'beta'] } } });
    expect(nameOnly).toEqual({ databases: [{ name: 'alpha' }, { name: 'beta' }], ok: 1 });
    // A nameOnly filter on another field matches nothing (the items have only a name).
    expect((await root.db('admin').command({ listDatabases: 1, nameOnly: true, filter: { empty: false } })).databases).toEqual([]);
    // authorizedDatabases: true changes nothing for root (it holds anyResource).
    const authorized = await root.db('admin').admin().listDatabases({ nameOnly: true, authorizedDatabases: true });
    expect(names(authorized.databases)).toEqual(expect.arrayContaining(['alpha', 'beta', 'gamma']));
  });

  test('a user without the cluster listDatabases action sees only the databases it holds privileges on', async () => {
    const reader = await login('reader', 'reader-pw', 'alpha');
    const dbs = await reader.db('admin').admin().listDatabases();
    expect(names(dbs.databases)).toEqual(['alpha']);
    expect(dbs.totalSize).toBe(dbs.databases[0]!.sizeOnDisk);
    expect(names((await reader.db('admin').admin().listDatabases({ authorizedDatabases: true })).databases)).toEqual(['alpha']);
    expect(await reader.db('admin').command({ listDatabases: 1, nameOnly: true, filter: { name: 'beta' } })).toEqual({ databases: [], ok: 1 });
    await expectErrorReply(
      reader.db('admin').command({ listDatabases: 1, authorizedDatabases: false }),
      13,
      'Unauthorized',
      'Insufficient permissions to list all databases',
    );
    // Still admin-only.
    await expectErrorReply(reader.db('alpha').command({ listDatabases: 1 }), 13, 'Unauthorized', 'listDatabases may only be run against the admin database.');

    const ua = await login('ua', 'ua-pw', 'beta');
    expect(names((await ua.db('admin').admin().listDatabases({ nameOnly: true })).databases)).toEqual(['beta']);
  });

  test('readAnyDatabase holds listDatabases on the cluster: every database by default, authorized ones on request', async () => {
    const rany = await login('rany', 'rany-pw');
    const dbs = await rany.db('admin').admin().listDatabases({ nameOnly: true });
    expect(names(dbs.databases)).toEqual(expect.arrayContaining(['alpha', 'beta', 'gamma']));
    const all = await rany.db('admin').admin().listDatabases({ nameOnly: true, authorizedDatabases: false });
    expect(names(all.databases)).toEqual(names(dbs.databases));
  });
});

describe('listCollections', () => {
  test('nameOnly and filter on name, type, options and info', async () => {
    const beta = root.db('beta');
    expect(await beta.command({ listCollections: 1, nameOnly: true })).toEqual({
      cursor: { id: 0, ns: 'beta.$cmd.listCollections', firstBatch: [
        { name: 'b1', type: 'collection' },
        { name: 'b2', type: 'collection' },
        { name: 'system.js', type: 'collection' },
      ] },
      ok: 1,
    });
    expect((await beta.listCollections({ name: 'b2' }).toArray()).map((c) => c.name)).toEqual(['b2']);
    expect((await beta.listCollections({ type: 'view' }).toArray())).toEqual([]);
    expect((await beta.listCollections({ 'info.readOnly': false, name: { $ne: 'system.js' } }).toArray()).map((c) => c.name)).toEqual(['b1', 'b2']);
    expect((await beta.listCollections({ options: {} }, { nameOnly: false }).toArray()).length).toBe(3);
    // A nameOnly entry has no options: filtering on them matches nothing.
    expect(await beta.listCollections({ options: {} }, { nameOnly: true }).toArray()).toEqual([]);
    await expectErrorReply(
      beta.command({ listCollections: 1, filter: 'b1' }),
      14,
      'TypeMismatch',
      "BSON field 'listCollections.filter' is the wrong type 'string', expected type 'object'",
    );
    // The first batch is not capped at 101 (mongod's listCollections batch is unbounded by default).
    const batched = await beta.command({ listCollections: 1, cursor: { batchSize: 1 } });
    expect(batched.cursor.firstBatch).toHaveLength(1);
    expect(batched.cursor.id).not.toBe(0);
    await root.db('beta').command({ killCursors: '$cmd.listCollections', cursors: [batched.cursor.id] });
  });

  test('without listCollections on the db: refused, unless authorizedCollections and nameOnly', async () => {
    const ua = await login('ua', 'ua-pw', 'beta');
    const beta = ua.db('beta');
    await expectErrorReply(beta.command({ listCollections: 1 }), 13, 'Unauthorized', 'Not authorized to list collections on db: beta');
    await expectErrorReply(
      beta.command({ listCollections: 1, authorizedCollections: true }),
      13,
      'Unauthorized',
      'Not authorized to list collections on db: beta',
    );
    await expectErrorReply(beta.command({ listCollections: 1, nameOnly: true }), 13, 'Unauthorized', 'Not authorized to list collections on db: beta');
    // userAdmin's database privilege reaches b1 and b2, never the system collection.
    const listed = await beta.listCollections({}, { nameOnly: true, authorizedCollections: true }).toArray();
    expect(listed).toEqual([
      { name: 'b1', type: 'collection' },
      { name: 'b2', type: 'collection' },
    ]);
    expect(await beta.listCollections({ name: 'b2' }, { nameOnly: true, authorizedCollections: true }).toArray()).toEqual([{ name: 'b2', type: 'collection' }]);
    // No privilege at all in another database: refused even with authorizedCollections.
    await expectErrorReply(
      ua.db('alpha').command({ listCollections: 1, nameOnly: true, authorizedCollections: true }),
      13,
      'Unauthorized',
      'Not authorized to list collections on db: alpha',
    );
  });

  test('with listCollections: authorizedCollections filters by any action on each namespace', async () => {
    const breader = await login('breader', 'breader-pw', 'beta');
    const beta = breader.db('beta');
    // read grants listCollections on beta: the plain form lists everything.
    expect((await beta.listCollections().toArray()).map((c) => c.name)).toEqual(['b1', 'b2', 'system.js']);
    // read also grants actions on beta.system.js: it stays listed.
    expect((await beta.listCollections({}, { authorizedCollections: true }).toArray()).map((c) => c.name)).toEqual(['b1', 'b2', 'system.js']);
    const reader = await login('reader', 'reader-pw', 'alpha');
    await expectErrorReply(reader.db('beta').command({ listCollections: 1 }), 13, 'Unauthorized', 'Not authorized to list collections on db: beta');
    expect((await reader.db('alpha').listCollections({}, { nameOnly: true, authorizedCollections: true }).toArray()).map((c) => c.name)).toEqual(['a1', 'a2']);
  });
});
