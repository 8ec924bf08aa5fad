/**
 * The session commands through dispatch, in process: startSession, refreshSessions, endSessions,
 * the kill commands, expiry and the refresh job. What they do to a session's resources goes
 * through one kill path (SessionRegistry): cursors close, and a kill interrupts running
 * operations (expiry and ending do not: a running operation keeps its session alive).
 * Expected replies: sessions-semantics.md §2 and §4.3.
 */
import { Binary, Int32, Long, UUID, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../../src/commands/client.js';
import { NO_AUTH_UID } from '../../../src/sessions/logicalSessionId.js';
import {
  expectError,
  expectOk,
  listedIds,
  serverPool,
  type InProcessServer,
} from '../../helpers/inProcess.js';

const servers = serverPool();
afterEach(() => servers.stopAll());

const hex = (id: UUID): string => id.toHexString(false);

/** Three documents in test.c. */
async function seed(server: InProcessServer, client: Client): Promise<void> {
  expectOk(await server.run(client, { insert: 'c', documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }], $db: 'test' }));
}

/** A find of batch size 1 on test.c (in session `id` if given), left open: its cursor id. */
async function openCursor(server: InProcessServer, client: Client, id?: UUID): Promise<Long> {
  const reply = expectOk(await server.run(client, { find: 'c', batchSize: 1, ...(id === undefined ? {} : { lsid: { id } }), $db: 'test' }));
  const cursorId = (reply.cursor as Document).id as Long;
  expect(cursorId.isZero()).toBe(false);
  return cursorId;
}

function getMore(server: InProcessServer, client: Client, cursorId: Long, id?: UUID): Promise<Document> {
  return server.run(client, { getMore: cursorId, collection: 'c', batchSize: 1, ...(id === undefined ? {} : { lsid: { id } }), $db: 'test' });
}

async function expectCursorGone(server: InProcessServer, client: Client, cursorId: Long, id?: UUID): Promise<void> {
  expectError(await getMore(server, client, cursorId, id), 43, 'CursorNotFound', `cursor id ${cursorId.toString()} not found`);
}

async function serverStatus(server: InProcessServer, client: Client): Promise<Document> {
  return expectOk(await server.run(client, { serverStatus: 1, $db: 'admin' }));
}

// ---------------------------------------------------------------------------------------------

describe('startSession (§2.1)', () => {
  test('the reply is exactly {id: {id: UUID}, timeoutMinutes: Int32(30), ok: 1.0}, and the session exists', async () => {
    const server = servers.make();
    const client = server.client();
    const reply = expectOk(await server.run(client, { startSession: 1, $db: 'admin' }));
    expect(Object.keys(reply)).toEqual(['id', 'timeoutMinutes', 'ok']);
    expect(Object.keys(reply.id)).toEqual(['id']);
    const id = reply.id.id as Binary;
    expect(id).toBeInstanceOf(Binary);
    expect(id.sub_type).toBe(4);
    expect(id.length()).toBe(16);
    expect(reply.timeoutMinutes).toBeInstanceOf(Int32);
    expect(reply.timeoutMinutes.value).toBe(30);
    // No uid in the reply; the session is owned by the no-auth uid.
    const record = server.services.sessions.get({ id: Buffer.from(id.value()), uid: NO_AUTH_UID });
    expect(record).toBeDefined();
    expect(await listedIds(server, client)).toEqual([Buffer.from(id.value()).toString('hex')]);
    const again = expectOk(await server.run(client, { startSession: 1, $db: 'test' }));
    expect(Buffer.from((again.id.id as Binary).value()).equals(Buffer.from(id.value()))).toBe(false);
    expect(server.services.sessions.size).toBe(2);
  });

  test('timeoutMinutes is localLogicalSessionTimeoutMinutes, as hello reports it', async () => {
    const server = servers.make({ setParameter: { localLogicalSessionTimeoutMinutes: 5 } });
    const client = server.client();
    const reply = expectOk(await server.run(client, { startSession: 1, $db: 'admin' }));
    expect(reply.timeoutMinutes).toEqual(new Int32(5));
    expect((await server.run(client, { hello: 1, $db: 'admin' })).logicalSessionTimeoutMinutes).toEqual(new Int32(5));
  });

  test('startSession carrying an lsid creates two sessions (the attached one is vivified too)', async () => {
    const server = servers.make();
    const client = server.client();
    const attached = new UUID();
    const reply = expectOk(await server.run(client, { startSession: 1, lsid: { id: attached }, $db: 'admin' }));
    const started = Buffer.from((reply.id.id as Binary).value()).toString('hex');
    expect((await listedIds(server, client)).sort()).toEqual([hex(attached), started].sort());
  });
});

describe('refreshSessions and endSessions (§2.2, §2.3)', () => {
  test('refreshSessions vivifies each id (duplicates fine) and answers {ok: 1}', async () => {
    const server = servers.make();
    const client = server.client();
    const [a, b] = [new UUID(), new UUID()];
    const reply = expectOk(await server.run(client, { refreshSessions: [{ id: a }, { id: b }, { id: a }], $db: 'admin' }));
    expect(Object.keys(reply)).toEqual(['ok']);
    expect((await listedIds(server, client)).sort()).toEqual([hex(a), hex(b)].sort());
    expect(server.services.sessions.size).toBe(2);
  });

  test('refreshSessions and endSessions argument errors carry their IDL paths', async () => {
    const server = servers.make();
    const client = server.client();
    expectError(
      await server.run(client, { refreshSessions: 'x', $db: 'admin' }),
      14,
      'TypeMismatch',
      "BSON field 'refreshSessions.refreshSessions' is the wrong type 'string', expected type 'array'",
    );
    expectError(
      await server.run(client, { refreshSessions: [{}], $db: 'admin' }),
      40414,
      'Location40414',
      "BSON field 'refreshSessions.refreshSessionsFromClient.id' is missing but a required field",
    );
    expectError(
      await server.run(client, { endSessions: ['x'], $db: 'admin' }),
      14,
      'TypeMismatch',
      "BSON field 'endSessions.endSessionsFromClient.0' is the wrong type 'string', expected type 'object'",
    );
  });

  test('endSessions does nothing at once: the session stays listed and its cursor open', async () => {
    const server = servers.make();
    const client = server.client();
    await seed(server, client);
    const a = new UUID();
    const cursorId = await openCursor(server, client, a);
    expect(Object.keys(expectOk(await server.run(client, { endSessions: [{ id: a }, { id: new UUID() }], $db: 'admin' })))).toEqual(['ok']);
    expect(await listedIds(server, client)).toContain(hex(a));
    // FerretDB CursorOfEndedSession: getMore right after endSessions still works against mongod.
    expectOk(await getMore(server, client, cursorId, a));
  });
});

// ---------------------------------------------------------------------------------------------

describe('the kill commands: one kill path (§2.4-2.6, §4.3)', () => {
  test('killSessions [A] closes the cursor opened in A, and only that one', async () => {
    const server = servers.make();
    const client = server.client();
    await seed(server, client);
    const [a, b] = [new UUID(), new UUID()];
    const inA = await openCursor(server, client, a);
    const inB = await openCursor(server, client, b);
    const outside = await openCursor(server, client);
    expectOk(await server.run(server.client(), { killSessions: [{ id: a }], $db: 'admin' }));
    await expectCursorGone(server, client, inA, a);
    expectOk(await getMore(server, client, inB, b));
    expectOk(await getMore(server, client, outside));
    // The killed session stays listed and usable (docs: reference/command/killSessions).
    expect(await listedIds(server, client)).toContain(hex(a));
    expectOk(await server.run(client, { find: 'c', lsid: { id: a }, $db: 'test' }));
  });

  test('killSessions [] with auth off kills every session (patternsForLoggedInUser matches all)', async () => {
    const server = servers.make();
    const client = server.client();
    await seed(server, client);
    const [a, b] = [new UUID(), new UUID()];
    const inA = await openCursor(server, client, a);
    const inB = await openCursor(server, client, b);
    expectOk(await server.run(client, { killSessions: [], $db: 'admin' }));
    await expectCursorGone(server, client, inA, a);
    await expectCursorGone(server, client, inB, b);
  });

  test('killAllSessionsByPattern [{lsid: {id, uid}}] kills exactly that session', async () => {
    const server = servers.make();
    const client = server.client();
    await seed(server, client);
    const [a, b] = [new UUID(), new UUID()];
    const inA = await openCursor(server, client, a);
    const inB = await openCursor(server, client, b);
    const uid = new Binary(NO_AUTH_UID, 0);
    expectOk(await server.run(client, { killAllSessionsByPattern: [{ lsid: { id: a, uid } }], $db: 'admin' }));
    await expectCursorGone(server, client, inA, a);
    expectOk(await getMore(server, client, inB, b));
  });

  test('killAllSessions interrupts a command running in a session (an awaitable hello): Interrupted 11601', async () => {
    const server = servers.make();
    const client = server.client();
    const { topologyVersion } = await server.run(client, { hello: 1, $db: 'admin' });
    const awaitable = { hello: 1, topologyVersion, maxAwaitTimeMS: Long.fromNumber(60_000), $db: 'admin' };
    const inSession = server.run(client, { ...awaitable, lsid: { id: new UUID() } });
    const outside = server.run(server.client(), awaitable);
    let [inSessionDone, outsideDone] = [false, false];
    void inSession.then(() => (inSessionDone = true));
    void outside.then(() => (outsideDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(inSessionDone).toBe(false);

    expectOk(await server.run(server.client(), { killAllSessions: [], $db: 'admin' }));
    // No clock advance: the kill alone ends the waiting hello.
    await new Promise((resolve) => setImmediate(resolve));
    expect(inSessionDone).toBe(true);
    expectError(await inSession, 11601, 'Interrupted', 'operation was interrupted');
    // A hello outside any session is no session's resource: it waits on.
    expect(outsideDone).toBe(false);
    server.clock.advance(60_000);
    expectOk(await outside);
  });

  test('killAllSessions needs killAnySession under --auth', async () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    server.login(client, 'reader', 'admin', [{ role: 'read', db: 'test' }]);
    expectError(
      await server.run(client, { killAllSessions: [], $db: 'admin' }),
      13,
      'Unauthorized',
      'not authorized on admin to execute command { killAllSessions: [], $db: "admin" }',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('expiry (localLogicalSessionTimeoutMinutes)', () => {
  test('an idle session expires after the timeout, and its cursor with it', async () => {
    // One minute: well before the 10-minute cursor timeout, so it is the session that closes it.
    const server = servers.make({ setParameter: { localLogicalSessionTimeoutMinutes: 1 } });
    const client = server.client();
    await seed(server, client);
    const a = new UUID();
    const cursorId = await openCursor(server, client, a);

    server.clock.advance(59_000);
    expect(await listedIds(server, client)).toEqual([hex(a)]);
    expect(server.services.cursors.get(cursorId)).toBeDefined();

    server.clock.advance(2_000);
    expect(await listedIds(server, client)).toEqual([]);
    expect(server.services.sessions.size).toBe(0);
    await expectCursorGone(server, client, cursorId);
    const metrics = (await serverStatus(server, client)).metrics as Document;
    expect(metrics.cursor.timedOut).toEqual(Long.fromNumber(0));
  });

  test('each use pushes the expiry back (lastUse + timeout)', async () => {
    const server = servers.make({ setParameter: { localLogicalSessionTimeoutMinutes: 1 } });
    const client = server.client();
    await seed(server, client);
    const a = new UUID();
    const cursorId = await openCursor(server, client, a);
    server.clock.advance(50_000);
    expectOk(await getMore(server, client, cursorId, a));
    server.clock.advance(50_000);
    expect(server.services.cursors.get(cursorId)).toBeDefined();
    expect(await listedIds(server, client)).toEqual([hex(a)]);
    server.clock.advance(11_000);
    expect(server.services.cursors.get(cursorId)).toBeUndefined();
    expect(await listedIds(server, client)).toEqual([]);
  });
});

/** An awaitable hello in session `id` (held up to a minute): it runs while the test acts. */
async function waitingHello(server: InProcessServer, client: Client, id: UUID): Promise<{ reply: Promise<Document>; done: () => boolean }> {
  const { topologyVersion } = await server.run(client, { hello: 1, $db: 'admin' });
  const reply = server.run(client, { hello: 1, topologyVersion, maxAwaitTimeMS: Long.fromNumber(120_000), lsid: { id }, $db: 'admin' });
  let finished = false;
  void reply.then(() => (finished = true));
  await new Promise((resolve) => setImmediate(resolve));
  return { reply, done: () => finished };
}

describe('what expiry and ending leave alone (§2.3, §4.3)', () => {
  test('a command running in a session keeps it alive past its timeout and is not interrupted', async () => {
    const server = servers.make({ setParameter: { localLogicalSessionTimeoutMinutes: 1 } });
    const client = server.client();
    const a = new UUID();
    const hello = await waitingHello(server, client, a);
    server.clock.advance(61_000);
    expect(hello.done()).toBe(false);
    expect(await listedIds(server, client)).toEqual([hex(a)]);
    server.clock.advance(60_000);
    expectOk(await hello.reply);
  });

  test('endSessions then a refresh does not interrupt a command running in the session', async () => {
    const server = servers.make({ setParameter: { enableTestCommands: true } });
    const client = server.client();
    const a = new UUID();
    const hello = await waitingHello(server, server.client(), a);
    expectOk(await server.run(client, { endSessions: [{ id: a }], $db: 'admin' }));
    expectOk(await server.run(client, { refreshLogicalSessionCacheNow: 1, $db: 'admin' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(hello.done()).toBe(false);
    server.clock.advance(120_000);
    expectOk(await hello.reply);
  });
});

describe('endSessions then the refresh job (§2.7, §4.3)', () => {
  test("refreshLogicalSessionCacheNow removes ended sessions, closes their cursors and counts them", async () => {
    const server = servers.make({ setParameter: { enableTestCommands: true } });
    const client = server.client();
    await seed(server, client);
    const [a, b] = [new UUID(), new UUID()];
    const inA1 = await openCursor(server, client, a);
    const inA2 = await openCursor(server, client, a);
    const inB = await openCursor(server, client, b);
    expectOk(await server.run(client, { endSessions: [{ id: a }], $db: 'admin' }));
    expect(Object.keys(expectOk(await server.run(client, { refreshLogicalSessionCacheNow: 1, $db: 'admin' })))).toEqual(['ok']);

    expect(server.services.sessions.get({ id: Buffer.from(a.buffer), uid: NO_AUTH_UID })).toBeUndefined();
    expect(server.services.sessions.get({ id: Buffer.from(b.buffer), uid: NO_AUTH_UID })).toBeDefined();
    const cache = (await serverStatus(server, client)).logicalSessionRecordCache as Document;
    expect(cache).toMatchObject({
      sessionsCollectionJobCount: new Int32(1),
      lastSessionsCollectionJobEntriesRefreshed: new Int32(1),
      lastSessionsCollectionJobEntriesEnded: new Int32(1),
      lastSessionsCollectionJobCursorsClosed: new Int32(2),
    });
    await expectCursorGone(server, client, inA1, a);
    await expectCursorGone(server, client, inA2, a);
    expectOk(await getMore(server, client, inB, b));
    // The refresh wrote B (not the ended A) to config.system.sessions.
    const persisted = expectOk(
      await server.run(client, { aggregate: 'system.sessions', pipeline: [{ $listSessions: { allUsers: true } }], cursor: {}, $db: 'config' }),
    );
    expect(persisted.cursor.firstBatch.map((d: Document) => Buffer.from((d._id.id as Binary).value()).toString('hex'))).toEqual([hex(b)]);
  });

  test('the refresh job also runs on its own, every logicalSessionRefreshMillis', async () => {
    const server = servers.make({ setParameter: { logicalSessionRefreshMillis: 10_000 } });
    const client = server.client();
    await seed(server, client);
    const a = new UUID();
    const cursorId = await openCursor(server, client, a);
    expectOk(await server.run(client, { endSessions: [{ id: a }], $db: 'admin' }));
    server.clock.advance(10_000);
    expect(server.services.cursors.get(cursorId)).toBeUndefined();
    expect(server.services.sessions.stats.lastSessionsCollectionJobCursorsClosed).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('two servers in one process share nothing', () => {
  test('sessions, users, data and cursors of one are unknown to the other', async () => {
    const one = servers.make();
    const two = servers.make();
    const c1 = one.client();
    const c2 = two.client();
    const started = expectOk(await one.run(c1, { startSession: 1, $db: 'admin' }));
    expect(await listedIds(one, c1)).toEqual([Buffer.from((started.id.id as Binary).value()).toString('hex')]);
    expect(await listedIds(two, c2)).toEqual([]);

    expectOk(await one.run(c1, { createUser: 'alice', pwd: 'pw', roles: ['root'], $db: 'admin' }));
    expect((await one.run(c1, { usersInfo: 'alice', $db: 'admin' })).users).toHaveLength(1);
    expect(expectOk(await two.run(c2, { usersInfo: 'alice', $db: 'admin' })).users).toEqual([]);

    await seed(one, c1);
    const cursorId = await openCursor(one, c1);
    expect((await two.run(c2, { find: 'c', $db: 'test' })).cursor.firstBatch).toEqual([]);
    await expectCursorGone(two, c2, cursorId);
    expectOk(await getMore(one, c1, cursorId));
  });
});
