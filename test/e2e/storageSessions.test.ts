/**
 * End-to-end: cursors on user collections belong to the session that opened them
 * (sessions-semantics.md §3.3, getmore_cmd.cpp validateLSID): paging in the session, getMore
 * from another session refused, killSessions and endSessions (at the next refresh) killing the
 * cursor, and the idle-cursor timeout on a virtual clock (noCursorTimeout exempt).
 */
import { createHash } from 'node:crypto';
import { Long, type ClientSession, type Db, type MongoClient } from 'mongodb';
import { describe, expect, onTestFinished, test } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { expectErrorReply, openDriver, type Driver } from '../helpers/driver.js';

type Env = Driver & { clock: VirtualClock };

/** A server of the test's own on a virtual clock, with shop.items 1..7; stopped when the test finishes. */
async function setup(): Promise<Env> {
  const clock = new VirtualClock();
  const env = { clock, ...(await openDriver('shop', { clock, setParameter: { enableTestCommands: '1' } })) };
  await env.db.collection<{ _id: number; name: string }>('items').insertMany([1, 2, 3, 4, 5, 6, 7].map((i) => ({ _id: i, name: `item${i}` })));
  return env;
}

function session(client: MongoClient): ClientSession {
  const s = client.startSession();
  onTestFinished(() => s.endSession());
  return s;
}

/** The uid of every session without auth: SHA-256 of the empty string. */
const NO_AUTH_UID = createHash('sha256').update('').digest('base64');

/** mongod's text for an lsid in errors: "<uuid> - <uid base64> -  - ". */
function lsidText(s: ClientSession): string {
  const bytes = Buffer.from(s.id!.id.buffer);
  const hex = bytes.toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return `${uuid} - ${NO_AUTH_UID} -  - `;
}

/** A find of batch size 2 inside `s`, its first batch read; returns the driver cursor and its id. */
async function openCursor(db: Db, s: ClientSession) {
  const reply = await db.command({ find: 'items', sort: { _id: 1 }, batchSize: 2 }, { session: s });
  expect(reply.cursor.firstBatch.map((d: { _id: number }) => d._id)).toEqual([1, 2]);
  const id = reply.cursor.id as Long;
  expect(Long.fromValue(id).isZero()).toBe(false);
  return Long.fromValue(id);
}

function getMore(db: Db, id: Long, s: ClientSession, batchSize = 2) {
  return db.command({ getMore: id, collection: 'items', batchSize }, { session: s });
}

describe('session-owned cursors on a user collection', () => {
  test('a find of batch size 2 in an explicit session pages through getMore to the end', async () => {
    const { db, client } = await setup();
    const s = session(client);
    const cursor = db.collection('items').find({}, { session: s, batchSize: 2, sort: { _id: 1 } });
    expect((await cursor.toArray()).map((d) => d._id)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    // The same, getMore by getMore: the last batch closes the cursor (id 0).
    const id = await openCursor(db, s);
    const batches: number[][] = [];
    let reply = await getMore(db, id, s);
    batches.push(reply.cursor.nextBatch.map((d: { _id: number }) => d._id));
    expect(Long.fromValue(reply.cursor.id).equals(id)).toBe(true);
    expect(reply.cursor.ns).toBe('shop.items');
    reply = await getMore(db, id, s);
    batches.push(reply.cursor.nextBatch.map((d: { _id: number }) => d._id));
    reply = await getMore(db, id, s);
    batches.push(reply.cursor.nextBatch.map((d: { _id: number }) => d._id));
    expect(batches).toEqual([[3, 4], [5, 6], [7]]);
    expect(Long.fromValue(reply.cursor.id).isZero()).toBe(true);
    await expectErrorReply(getMore(db, id, s), 43, 'CursorNotFound', `cursor id ${id.toString()} not found`);
  });

  test('getMore from another session is refused (50738) and the cursor lives on', async () => {
    const { db, client } = await setup();
    const mine = session(client);
    const other = session(client);
    const id = await openCursor(db, mine);
    await expectErrorReply(
      getMore(db, id, other),
      50738,
      'Location50738',
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidText(mine)}, in session ${lsidText(other)}`,
    );
    // The owner still continues it.
    const reply = await getMore(db, id, mine);
    expect(reply.cursor.nextBatch.map((d: { _id: number }) => d._id)).toEqual([3, 4]);
  });

  test('killSessions on the session kills its cursor: getMore is CursorNotFound (43)', async () => {
    const { db, admin, client } = await setup();
    const s = session(client);
    const other = session(client);
    const id = await openCursor(db, s);
    const otherId = await openCursor(db, other);
    expect(await admin.command({ killSessions: [{ id: s.id!.id }] })).toEqual({ ok: 1 });
    await expectErrorReply(getMore(db, id, s), 43, 'CursorNotFound', `cursor id ${id.toString()} not found`);
    // Another session's cursor is untouched, and the killed session itself stays usable.
    expect((await getMore(db, otherId, other)).cursor.nextBatch).toHaveLength(2);
    expect(await db.collection('items').countDocuments({}, { session: s })).toBe(7);
  });

  test('endSessions kills the cursor at the next refresh, not before', async () => {
    const { db, admin, client } = await setup();
    const s = session(client);
    const cursor = db.collection('items').find({}, { session: s, batchSize: 2, sort: { _id: 1 } });
    expect((await cursor.next())?._id).toBe(1);
    const id = cursor.id!;
    expect(await admin.command({ refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
    expect(await admin.command({ endSessions: [{ id: s.id!.id }] })).toEqual({ ok: 1 });
    // Nothing happens at once.
    expect((await cursor.next())?._id).toBe(2);
    expect((await cursor.next())?._id).toBe(3);
    expect(await admin.command({ refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
    await expectErrorReply(cursor.toArray(), 43, 'CursorNotFound', `cursor id ${id.toString()} not found`);
  });

  test('an idle cursor times out after cursorTimeoutMillis (virtual clock) unless noCursorTimeout', async () => {
    const { db, admin, client, clock } = await setup();
    expect((await admin.command({ getParameter: 1, cursorTimeoutMillis: 1 })).cursorTimeoutMillis).toEqual(600_000);
    expect(await admin.command({ setParameter: 1, cursorTimeoutMillis: 120_000 })).toMatchObject({ ok: 1 });
    const s = session(client);
    const idle = await openCursor(db, s);
    const used = await openCursor(db, s);
    const kept = Long.fromValue(
      (await db.command({ find: 'items', sort: { _id: 1 }, batchSize: 2, noCursorTimeout: true }, { session: s })).cursor.id,
    );

    // 90 s: nothing has been idle for 2 minutes yet; use one of them.
    clock.advance(90_000);
    expect((await getMore(db, used, s)).cursor.nextBatch).toHaveLength(2);
    // 3 minutes in: the idle one has been idle 3 minutes (> 2), swept at the 3-minute sweep; the
    // used one only 90 s.
    clock.advance(90_000);
    await expectErrorReply(getMore(db, idle, s), 43, 'CursorNotFound', `cursor id ${idle.toString()} not found`);
    expect((await getMore(db, used, s)).cursor.nextBatch).toHaveLength(2);
    // Long after, the noCursorTimeout cursor is still there; the other idle one is gone.
    clock.advance(10 * 60_000);
    await expectErrorReply(getMore(db, used, s), 43, 'CursorNotFound', `cursor id ${used.toString()} not found`);
    expect((await getMore(db, kept, s, 10)).cursor.nextBatch.map((d: { _id: number }) => d._id)).toEqual([3, 4, 5, 6, 7]);
    const metrics = (await admin.command({ serverStatus: 1 })).metrics.cursor;
    expect(metrics.timedOut).toBe(2);
  });
});

describe('config.system.sessions in the catalog', () => {
  test('after the first refresh, config and system.sessions are listed with its indexes and stats, as in mongod', async () => {
    const env = await setup();
    const admin = env.client.db('admin');
    const configDb = env.client.db('config');
    expect((await admin.admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name)).toEqual(['shop']);
    await admin.command({ refreshLogicalSessionCacheNow: 1 });
    expect((await admin.admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name)).toEqual(['config', 'shop']);
    expect((await configDb.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['system.sessions']);
    expect(await configDb.collection('system.sessions').indexes()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { lastUse: 1 }, name: 'lsidTTLIndex', expireAfterSeconds: 1800 },
    ]);
    const stats = await configDb.command({ collStats: 'system.sessions' });
    expect(stats).toMatchObject({ ns: 'config.system.sessions', count: 1, nindexes: 2 });
  });
});
