/**
 * End-to-end: session expiry and the refresh job in virtual time. The server runs on a
 * VirtualClock and time moves only through clock.advance(); the driver keeps real time (its
 * own session pool, heartbeats), which barely moves while a test runs. Each driver command
 * vivifies the driver's implicit session, so assertions look only at the ids a test created.
 */
import { createHash } from 'node:crypto';
import { UUID as RawUUID, type Document } from 'bson';
import { Binary, MongoClient, MongoServerError, type ClientSession, type Db } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { VirtualClock, type PocketMongo } from '../../src/index.js';
import { RawClient, rawCmd } from '../helpers/rawClient.js';
import { startServer } from '../helpers/server.js';

const NO_AUTH_B64 = createHash('sha256').update('').digest('base64');

function hex(id: { toString(encoding: 'hex'): string }): string {
  return id.toString('hex');
}

function sessionId(session: ClientSession): Binary {
  const id = session.id?.id;
  if (!(id instanceof Binary)) throw new Error('session has no id');
  return id;
}

/** A config.system.sessions document (§1.3). */
interface SessionDocument {
  _id: { id: Binary; uid: Binary };
  lastUse: Date;
}

interface Env {
  clock: VirtualClock;
  server: PocketMongo;
  client: MongoClient;
  admin: Db;
  raw: RawClient;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(setParameter: Record<string, string> = {}): Promise<Env> {
  const clock = new VirtualClock();
  const server = await startServer({
    clock,
    setParameter: { enableTestCommands: '1', localLogicalSessionTimeoutMinutes: '1', ...setParameter },
  });
  cleanups.push(() => server.stop());
  const client = new MongoClient(server.uri);
  cleanups.push(() => client.close());
  const raw = await RawClient.connect(server.port);
  cleanups.push(() => raw.close());
  return { clock, server, client, admin: client.db('admin'), raw };
}

async function localIds(admin: Db): Promise<Set<string>> {
  const docs = await admin.aggregate([{ $listLocalSessions: { allUsers: true } }]).toArray();
  return new Set(docs.map((d) => hex(d._id.id as Binary)));
}

async function persistedIds(client: MongoClient): Promise<Set<string>> {
  const docs = await client.db('config').collection('system.sessions').aggregate([{ $listSessions: { allUsers: true } }]).toArray();
  return new Set(docs.map((d) => hex(d._id.id as Binary)));
}

async function collectionIds(client: MongoClient): Promise<Set<string>> {
  const docs = await client.db('config').collection<SessionDocument>('system.sessions').find({}).toArray();
  return new Set(docs.map((d) => hex(d._id.id as Binary)));
}

/** config.system.sessions over the raw socket (no lsid: the driver's implicit session stays out of it). */
async function rawCollectionIds(raw: RawClient): Promise<Set<string>> {
  const reply = await rawCmd(raw, { find: 'system.sessions', batchSize: 1000 }, 'config');
  return new Set((reply.cursor.firstBatch as Document[]).map((d) => hex(d._id.id)));
}

async function refresh(admin: Db): Promise<void> {
  expect(await admin.command({ refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
}

function expectAll(set: Set<string>, ids: readonly string[], present: boolean): void {
  for (const id of ids) expect(set.has(id), `${id} ${present ? 'present' : 'absent'}`).toBe(present);
}

async function expectCursorNotFound(p: Promise<unknown>, cursorId: { toString(): string }): Promise<void> {
  const err = await p.then(
    () => new Error('expected CursorNotFound'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MongoServerError);
  expect((err as MongoServerError).errorResponse).toEqual({
    ok: 0,
    errmsg: `cursor id ${cursorId.toString()} not found`,
    code: 43,
    codeName: 'CursorNotFound',
  });
}

describe('expiry with localLogicalSessionTimeoutMinutes=1', () => {
  test('unused sessions vanish from $listLocalSessions, $listSessions and config.system.sessions; their cursors die', async () => {
    const { clock, client, admin, raw } = await setup();
    const a = (await rawCmd(raw, { startSession: 1 })).id.id;
    const b = (await rawCmd(raw, { startSession: 1 })).id.id;
    // More sessions, so a batch-size-1 cursor stays open.
    await admin.command({ refreshSessions: [{ id: new RawUUID() }, { id: new RawUUID() }] });
    const session = client.startSession();
    try {
      const cursor = admin.aggregate([{ $listLocalSessions: { allUsers: true } }], { session, batchSize: 1 });
      expect(await cursor.next()).not.toBeNull();
      const cursorId = cursor.id!;
      const mine = [hex(a), hex(b), hex(sessionId(session))];
      expectAll(await localIds(admin), mine, true);

      // Persist them, then use them again so they are in both views.
      await refresh(admin);
      expectAll(await persistedIds(client), mine, true);
      expectAll(await collectionIds(client), mine, true);
      expect(await rawCmd(raw, { ping: 1, lsid: { id: a } })).toEqual({ ok: 1 });
      expect(await rawCmd(raw, { ping: 1, lsid: { id: b } })).toEqual({ ok: 1 });
      expect(await admin.command({ ping: 1 }, { session })).toEqual({ ok: 1 });
      expectAll(await localIds(admin), mine, true);

      clock.advance(60_000 + 1000);

      expectAll(await localIds(admin), mine, false);
      expectAll(await persistedIds(client), mine, false);
      expectAll(await collectionIds(client), mine, false);
      await expectCursorNotFound(cursor.next(), cursorId);
      // A refresh does not bring them back.
      await refresh(admin);
      const persisted = await persistedIds(client);
      expect(persisted.has(hex(a))).toBe(false);
      expect(persisted.has(hex(b))).toBe(false);
    } finally {
      await session.endSession();
    }
  });

  test('the timeout counts from the last use: a session used within it survives', async () => {
    const { clock, client, admin, raw } = await setup();
    const a = (await rawCmd(raw, { startSession: 1 })).id.id;
    const b = (await rawCmd(raw, { startSession: 1 })).id.id;
    await admin.command({ refreshSessions: [{ id: new RawUUID() }, { id: new RawUUID() }, { id: new RawUUID() }] });
    // A cursor in a, over a raw socket.
    const opened = await rawCmd(raw, {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { allUsers: true } }],
      cursor: { batchSize: 1 },
      lsid: { id: a },
    });
    const cursorId = opened.cursor.id;
    const getMore = () => rawCmd(raw, { getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1, lsid: { id: a } });
    const session = client.startSession();
    try {
      expect(await admin.command({ ping: 1 }, { session })).toEqual({ ok: 1 });
      const s = hex(sessionId(session));
      await refresh(admin);

      clock.advance(40_000);
      // Used at 40 s: a by a getMore, the driver's session by a ping; b left alone.
      expect((await getMore()).cursor.nextBatch).toHaveLength(1);
      expect(await admin.command({ ping: 1 }, { session })).toEqual({ ok: 1 });
      await refresh(admin);

      clock.advance(19_000); // 59 s: nobody has expired yet
      expectAll(await collectionIds(client), [hex(a), hex(b), s], true);

      clock.advance(11_000); // 70 s: b expired at 60 s; a and s live until 100 s
      expectAll(await localIds(admin), [hex(b)], false);
      expectAll(await collectionIds(client), [hex(b)], false);
      expectAll(await persistedIds(client), [hex(a), s], true);
      expect((await getMore()).cursor.nextBatch).toHaveLength(1);
      expect(await admin.command({ ping: 1 }, { session })).toEqual({ ok: 1 });
      expectAll(await localIds(admin), [hex(a), s], true);

      clock.advance(61_000); // 131 s: a and s were last used at 70 s
      expectAll(await localIds(admin), [hex(a), s], false);
      expectAll(await persistedIds(client), [hex(a), s], false);
      expect(await getMore()).toEqual({
        ok: 0,
        errmsg: `cursor id ${cursorId.toString()} not found`,
        code: 43,
        codeName: 'CursorNotFound',
      });
    } finally {
      await session.endSession();
    }
  });

  test('refreshSessions and an lsid on hello also count as use', async () => {
    const { clock, admin, raw } = await setup();
    const viaRefresh = (await rawCmd(raw, { startSession: 1 })).id.id;
    const viaHello = (await rawCmd(raw, { startSession: 1 })).id.id;
    const unused = (await rawCmd(raw, { startSession: 1 })).id.id;
    clock.advance(50_000);
    expect(await rawCmd(raw, { refreshSessions: [{ id: viaRefresh }] })).toEqual({ ok: 1 });
    expect((await rawCmd(raw, { hello: 1, lsid: { id: viaHello } })).ok).toBe(1);
    clock.advance(20_000);
    const listed = await localIds(admin);
    expectAll(listed, [hex(viaRefresh), hex(viaHello)], true);
    expectAll(listed, [hex(unused)], false);
  });

  test('an expired session id can be used again: it is a new session', async () => {
    const { clock, admin, raw } = await setup();
    const id = new RawUUID();
    expect(await rawCmd(raw, { ping: 1, lsid: { id } })).toEqual({ ok: 1 });
    clock.advance(61_000);
    expectAll(await localIds(admin), [hex(id)], false);
    expect(await rawCmd(raw, { ping: 1, lsid: { id } })).toEqual({ ok: 1 });
    expectAll(await localIds(admin), [hex(id)], true);
  });
});

describe('the refresh job in virtual time (§1.3, §1.4)', () => {
  test('config.system.sessions holds the refresh time as lastUse; $listLocalSessions the last use', async () => {
    const { clock, client, admin, raw } = await setup({ localLogicalSessionTimeoutMinutes: '30' });
    const usedAt = clock.now();
    const id = (await rawCmd(raw, { startSession: 1 })).id.id;
    clock.advance(10_000);
    const refreshedAt = clock.now();
    expect(await rawCmd(raw, { refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
    const docs = await client.db('config').collection<SessionDocument>('system.sessions').find({ '_id.id': id }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]!.lastUse).toEqual(new Date(refreshedAt));
    expect(docs[0]!._id.uid.toString('base64')).toBe(NO_AUTH_B64);

    clock.advance(5_000);
    expect(await rawCmd(raw, { ping: 1, lsid: { id } })).toEqual({ ok: 1 });
    const local = await admin.aggregate([{ $listLocalSessions: {} }, { $match: { '_id.id': id } }]).toArray();
    expect(local).toHaveLength(1);
    expect(local[0]!.lastUse).toEqual(new Date(refreshedAt + 5_000));
    expect(local[0]!.lastUse).not.toEqual(new Date(usedAt));
    // The collection keeps the last refresh's time until the next refresh.
    expect((await client.db('config').collection<SessionDocument>('system.sessions').find({ '_id.id': id }).toArray())[0]!.lastUse).toEqual(
      new Date(refreshedAt),
    );
  });

  test('logicalSessionRefreshMillis runs the refresh (and the reaper) on the clock', async () => {
    const { clock, raw } = await setup({ localLogicalSessionTimeoutMinutes: '30', logicalSessionRefreshMillis: '10000' });
    const id = (await rawCmd(raw, { startSession: 1 })).id.id;
    const status = async () => (await rawCmd(raw, { serverStatus: 1 })).logicalSessionRecordCache as Document;
    expect((await status()).activeSessionsCount).toBe(1);
    expect(await rawCollectionIds(raw)).toEqual(new Set());

    clock.advance(9_999);
    expect((await status()).sessionsCollectionJobCount).toBe(0);
    expect(await rawCollectionIds(raw)).toEqual(new Set());

    clock.advance(1);
    const after = await status();
    expect(after.sessionsCollectionJobCount).toBe(1);
    expect(after.transactionReaperJobCount).toBe(1);
    expect(after.activeSessionsCount).toBe(0);
    expect(after.lastSessionsCollectionJobEntriesRefreshed).toBe(1);
    expect(after.lastSessionsCollectionJobTimestamp).toEqual(new Date(clock.now()));
    expect(await rawCollectionIds(raw)).toEqual(new Set([hex(id)]));

    clock.advance(10_000);
    expect((await status()).sessionsCollectionJobCount).toBe(2);
  });

  test('disableLogicalSessionCacheRefresh stops the periodic refresh, not the test command', async () => {
    const { clock, raw } = await setup({ localLogicalSessionTimeoutMinutes: '30', disableLogicalSessionCacheRefresh: '1' });
    await rawCmd(raw, { startSession: 1 });
    const status = async () => (await rawCmd(raw, { serverStatus: 1 })).logicalSessionRecordCache as Document;
    clock.advance(300_000 + 1);
    expect((await status()).sessionsCollectionJobCount).toBe(0);
    expect((await status()).activeSessionsCount).toBe(1);
    expect(await rawCmd(raw, { refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
    expect((await status()).sessionsCollectionJobCount).toBe(1);
  });

  test('with the default period (5 minutes) the refresh persists sessions and ends ended ones', async () => {
    const { clock, raw } = await setup({ localLogicalSessionTimeoutMinutes: '30' });
    const kept = (await rawCmd(raw, { startSession: 1 })).id.id;
    const ended = (await rawCmd(raw, { startSession: 1 })).id.id;
    clock.advance(300_000);
    expect(await rawCollectionIds(raw)).toEqual(new Set([hex(kept), hex(ended)]));
    expect(await rawCmd(raw, { endSessions: [{ id: ended }] })).toEqual({ ok: 1 });
    expect(await rawCollectionIds(raw)).toEqual(new Set([hex(kept), hex(ended)]));
    clock.advance(300_000);
    // kept was not used in the second period: its document stays (TTL is 30 minutes), ended is gone.
    expect(await rawCollectionIds(raw)).toEqual(new Set([hex(kept)]));
    const status = (await rawCmd(raw, { serverStatus: 1 })).logicalSessionRecordCache;
    expect(status.lastSessionsCollectionJobEntriesEnded).toBe(1);
  });
});
