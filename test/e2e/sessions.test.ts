/**
 * End-to-end: logical sessions on a standalone without auth, through the official driver over TCP
 * and, where the driver cannot express a request (it replaces any lsid with its own, and always
 * attaches one), a raw OP_MSG socket client. Every expected reply comes from
 * /work/shared/docs/sessions-semantics.md (sections named in the test titles).
 */
import { createHash } from 'node:crypto';
import { BSON, Binary as RawBinary, UUID as RawUUID, type Document } from 'bson';
import {
  Binary,
  Long,
  MongoClient,
  UUID,
  type ClientSession,
  type CommandStartedEvent,
  type Db,
} from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { FLAG_MORE_TO_COME, RawClient, rawCmd, replyBody } from '../helpers/rawClient.js';
import { errorDoc, expectExactError } from '../helpers/driver.js';
import { startServer } from '../helpers/server.js';

// ---------------------------------------------------------------------------------------------
// Helpers.

/** SHA-256("") — the uid of every session when auth is off (kNoAuthDigest, §1.1). */
const NO_AUTH_DIGEST = createHash('sha256').update('').digest();
const NO_AUTH_B64 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const OTHER_DIGEST = createHash('sha256').update('someone@admin').digest();

type AnyBinary = Binary | RawBinary;

/** The 16 id bytes of a UUID binary as hex (no dashes): how ids are compared below. */
function hex(id: AnyBinary): string {
  return id.toString('hex');
}

function uuidText(id: AnyBinary): string {
  const h = hex(id);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** mongod's text form of a no-auth lsid: "<uuid> - <base64 uid> -  - " (§1.1). */
function lsidText(id: AnyBinary): string {
  return `${uuidText(id)} - ${NO_AUTH_B64} -  - `;
}

/** The driver's id of a session (acquires its server session if it has none yet). */
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
  server: PocketMongo;
  client: MongoClient;
  admin: Db;
  raw: RawClient;
  /** commandStarted events of `client`. */
  events: CommandStartedEvent[];
}

const cleanups: Array<() => Promise<void>> = [];

async function runCleanups(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

afterEach(runCleanups);

/** A fresh server (test commands on), a monitored driver client and a raw socket. */
async function setup(setParameter: Record<string, string> = {}): Promise<Env> {
  const server = await startServer({ setParameter: { enableTestCommands: '1', ...setParameter } });
  cleanups.push(() => server.stop());
  const client = new MongoClient(server.uri, { monitorCommands: true });
  cleanups.push(() => client.close());
  const events: CommandStartedEvent[] = [];
  client.on('commandStarted', (e) => events.push(e));
  const raw = await RawClient.connect(server.port);
  cleanups.push(() => raw.close());
  return { server, client, admin: client.db('admin'), raw, events };
}

/** Ids (hex) in $listLocalSessions. */
async function localIds(admin: Db, spec: Document = { allUsers: true }): Promise<string[]> {
  const docs = await admin.aggregate([{ $listLocalSessions: spec }]).toArray();
  return docs.map((d) => hex(d._id.id as Binary));
}

/** Ids (hex) in config.system.sessions, through $listSessions. */
async function persistedIds(client: MongoClient, spec: Document = { allUsers: true }): Promise<string[]> {
  const docs = await client.db('config').collection('system.sessions').aggregate([{ $listSessions: spec }]).toArray();
  return docs.map((d) => hex(d._id.id as Binary));
}

async function refresh(admin: Db): Promise<void> {
  expect(await admin.command({ refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
}

/** Creates `n` fresh no-auth sessions (so $listLocalSessions has several documents). */
async function createSessions(admin: Db, n: number): Promise<UUID[]> {
  const ids = Array.from({ length: n }, () => new UUID());
  expect(await admin.command({ refreshSessions: ids.map((id) => ({ id })) })).toEqual({ ok: 1 });
  return ids;
}

/** A $listLocalSessions cursor of batch size 1 inside `session`, its first document read. */
async function openSessionCursor(admin: Db, session: ClientSession) {
  const cursor = admin.aggregate([{ $listLocalSessions: { allUsers: true } }], { session, batchSize: 1 });
  expect(await cursor.next()).not.toBeNull();
  const id = cursor.id;
  if (id === undefined || id.isZero()) throw new Error('cursor not left open');
  return { cursor, id };
}

// ---------------------------------------------------------------------------------------------

describe('startSession (§2.1)', () => {
  test('the reply is exactly {id: {id: UUID}, timeoutMinutes: Int32(30), ok: 1}', async () => {
    const { admin, client, raw } = await setup();
    const typed = await admin.command({ startSession: 1 }, { promoteValues: false });
    expect(Object.keys(typed)).toEqual(['id', 'timeoutMinutes', 'ok']);
    expect(Object.keys(typed.id)).toEqual(['id']);
    expect(typed.id.id._bsontype).toBe('Binary');
    expect(typed.id.id.sub_type).toBe(4);
    expect(typed.id.id.length()).toBe(16);
    expect(typed.timeoutMinutes._bsontype).toBe('Int32');
    expect(typed.timeoutMinutes.value).toBe(30);
    expect(typed.ok._bsontype).toBe('Double');
    expect(typed.ok.value).toBe(1);

    const promoted = await admin.command({ startSession: 1 });
    expect(promoted).toEqual({ id: { id: expect.any(Binary) }, timeoutMinutes: 30, ok: 1 });
    expect(hex(promoted.id.id)).not.toBe(hex(typed.id.id));

    // Any database works (the driver spec says admin; the server does not insist).
    expect(await client.db('test').command({ startSession: 1 })).toEqual({
      id: { id: expect.any(Binary) },
      timeoutMinutes: 30,
      ok: 1,
    });

    // The bytes on the wire, without the driver: element types and order.
    const reply = await raw.command({ startSession: 1, $db: 'admin' });
    const body = reply.raw.subarray(21, 21 + reply.raw.readInt32LE(21));
    const doc = BSON.deserialize(body, { promoteValues: false });
    expect(Object.keys(doc)).toEqual(['id', 'timeoutMinutes', 'ok']);
    expect(Object.keys(doc.id)).toEqual(['id']);
    expect(doc.id.id.sub_type).toBe(4);
    expect(doc.id.id.length()).toBe(16);
    expect(doc.timeoutMinutes._bsontype).toBe('Int32');
    expect(doc.timeoutMinutes.value).toBe(30);
    expect(doc.ok._bsontype).toBe('Double');
    // No uid anywhere in the reply.
    expect(body.includes(Buffer.from('uid\0'))).toBe(false);
  });

  test('localLogicalSessionTimeoutMinutes=5: startSession, hello, getParameter; not settable at runtime (§4.1, §4.2)', async () => {
    const { admin, raw } = await setup({ localLogicalSessionTimeoutMinutes: '5' });
    const started = await admin.command({ startSession: 1 }, { promoteValues: false });
    expect(started.timeoutMinutes._bsontype).toBe('Int32');
    expect(started.timeoutMinutes.value).toBe(5);
    const hello = await admin.command({ hello: 1 }, { promoteValues: false });
    expect(hello.logicalSessionTimeoutMinutes._bsontype).toBe('Int32');
    expect(hello.logicalSessionTimeoutMinutes.value).toBe(5);
    expect((await rawCmd(raw, { hello: 1 })).logicalSessionTimeoutMinutes).toBe(5);
    expect(await admin.command({ getParameter: 1, localLogicalSessionTimeoutMinutes: 1 })).toEqual({
      localLogicalSessionTimeoutMinutes: 5,
      ok: 1,
    });
    await expectExactError(
      admin.command({ setParameter: 1, localLogicalSessionTimeoutMinutes: 10 }),
      20,
      'IllegalOperation',
      'not allowed to change [localLogicalSessionTimeoutMinutes] at runtime',
    );
    expect(await admin.command({ getParameter: 1, localLogicalSessionTimeoutMinutes: 1 })).toEqual({
      localLogicalSessionTimeoutMinutes: 5,
      ok: 1,
    });
    expect((await admin.command({ startSession: 1 })).timeoutMinutes).toBe(5);
  });

  test('the default timeout is 30 and cannot be changed at runtime either', async () => {
    const { admin } = await setup();
    expect(await admin.command({ getParameter: 1, localLogicalSessionTimeoutMinutes: 1 })).toEqual({
      localLogicalSessionTimeoutMinutes: 30,
      ok: 1,
    });
    await expectExactError(
      admin.command({ setParameter: 1, localLogicalSessionTimeoutMinutes: 30 }),
      20,
      'IllegalOperation',
      'not allowed to change [localLogicalSessionTimeoutMinutes] at runtime',
    );
  });

  test("startSession carrying the driver's implicit lsid creates two sessions", async () => {
    const { admin, events } = await setup();
    const reply = await admin.command({ startSession: 1 });
    const sent = events.find((e) => e.commandName === 'startSession');
    expect(sent?.command.lsid?.id).toBeInstanceOf(Binary);
    const implicit = hex(sent!.command.lsid.id as Binary);
    const created = hex(reply.id.id as Binary);
    expect(implicit).not.toBe(created);
    const listed = await localIds(admin);
    expect(listed).toContain(implicit);
    expect(listed).toContain(created);
  });

  test('over a raw socket: without an lsid one session, with an lsid two', async () => {
    const { raw } = await setup();
    const active = async () => (await rawCmd(raw, { serverStatus: 1 })).logicalSessionRecordCache.activeSessionsCount;
    expect(await active()).toBe(0);
    const first = await rawCmd(raw, { startSession: 1 });
    expect(await active()).toBe(1);
    const lsid = new RawUUID();
    const second = await rawCmd(raw, { startSession: 1, lsid: { id: lsid } });
    expect(await active()).toBe(3);
    const listed = (await rawCmd(raw, { aggregate: 1, pipeline: [{ $listLocalSessions: {} }], cursor: {} })).cursor.firstBatch.map(
      (d: Document) => hex(d._id.id),
    );
    expect(listed.sort()).toEqual([hex(first.id.id), hex(second.id.id), hex(lsid)].sort());
  });
});

// ---------------------------------------------------------------------------------------------

describe('session commands: replies (§2.2-2.7)', () => {
  test('valid requests reply exactly {ok: 1}, through the driver and a raw socket', async () => {
    const { admin, raw } = await setup();
    const id = new UUID();
    const uid = new Binary(NO_AUTH_DIGEST, 0);
    const commands: Document[] = [
      { refreshSessions: [{ id }] },
      { refreshSessions: [] },
      { refreshSessions: [{ id }, { id }] },
      { refreshSessions: [{ id, uid }] },
      { endSessions: [{ id: new UUID() }] },
      { endSessions: [] },
      { endSessions: [{ id }, { id }] },
      { killSessions: [{ id }] },
      { killSessions: [{ id, uid }] },
      { killSessions: [{ id: new UUID() }] },
      { killSessions: [] },
      // killSessions is not strict: unknown top-level fields are ignored.
      { killSessions: [], foo: 1 },
      { killAllSessions: [] },
      { killAllSessions: [{ user: 'nobody', db: 'admin' }] },
      { killAllSessionsByPattern: [] },
      { killAllSessionsByPattern: [{}] },
      { killAllSessionsByPattern: [{ lsid: { id, uid } }] },
      { killAllSessionsByPattern: [{ uid }] },
      { killAllSessionsByPattern: [{ users: [{ user: 'nobody', db: 'admin' }], roles: [{ role: 'root', db: 'admin' }] }] },
      { refreshLogicalSessionCacheNow: 1 },
      { reapLogicalSessionCacheNow: 1 },
    ];
    for (const command of commands) {
      const reply = await admin.command(command, { promoteValues: false });
      expect(Object.keys(reply), JSON.stringify(command)).toEqual(['ok']);
      expect(reply.ok._bsontype).toBe('Double');
      expect(reply.ok.value).toBe(1);
      expect(await rawCmd(raw, command), JSON.stringify(command)).toEqual({ ok: 1 });
    }
  });

  test('refreshSessions creates unknown sessions; endSessions of unknown ids is fine', async () => {
    const { admin } = await setup();
    const [a, b] = await createSessions(admin, 2);
    const listed = await localIds(admin, {});
    expect(listed).toContain(hex(a!));
    expect(listed).toContain(hex(b!));
    expect(await admin.command({ endSessions: [{ id: new UUID() }, { id: new UUID() }] })).toEqual({ ok: 1 });
  });

  test('the session commands and $listLocalSessions work on any database', async () => {
    const { client } = await setup();
    const testDb = client.db('test');
    const id = new UUID();
    for (const command of [{ refreshSessions: [{ id }] }, { endSessions: [{ id }] }, { killSessions: [{ id }] }, { refreshLogicalSessionCacheNow: 1 }]) {
      expect(await testDb.command(command), JSON.stringify(command)).toEqual({ ok: 1 });
    }
    expect(await testDb.command({ refreshSessions: [{ id }] })).toEqual({ ok: 1 });
    const listed = await testDb.aggregate([{ $listLocalSessions: {} }]).toArray();
    expect(listed.map((d) => hex(d._id.id as Binary))).toContain(hex(id));
  });

  test('refreshLogicalSessionCacheNow and reapLogicalSessionCacheNow need enableTestCommands (§2.7)', async () => {
    for (const setParameter of [undefined, { enableTestCommands: '0' }]) {
      const server = await startServer(setParameter === undefined ? {} : { setParameter });
      const client = new MongoClient(server.uri);
      try {
        for (const name of ['refreshLogicalSessionCacheNow', 'reapLogicalSessionCacheNow']) {
          await expectExactError(client.db('admin').command({ [name]: 1 }), 59, 'CommandNotFound', `no such command: '${name}'`);
        }
        // The other session commands are always there.
        expect(await client.db('admin').command({ refreshSessions: [] })).toEqual({ ok: 1 });
      } finally {
        await client.close();
        await server.stop();
      }
    }
  });
});

interface ErrorRow {
  label: string;
  command: Document;
  code: number;
  codeName: string;
  errmsg: string;
}

function row(label: string, command: Document, code: number, codeName: string, errmsg: string): ErrorRow {
  return { label: `${Object.keys(command)[0]}: ${label}`, command, code, codeName, errmsg };
}

const EMPTY_UUID = new Binary(Buffer.alloc(0), 4);
const FUNCTION_BINDATA = new Binary(Buffer.alloc(0), 1);

/** The LogicalSessionFromClient array errors of refreshSessions / endSessions / killSessions (§2.2-2.4, §3.2). */
function sessionArrayRows(name: string, arrayPath: string, elementPath: string, strict: boolean): ErrorRow[] {
  const rows = [
    row('not an array', { [name]: 'x' }, 14, 'TypeMismatch', `BSON field '${arrayPath}' is the wrong type 'string', expected type 'array'`),
    row('element not an object', { [name]: ['x'] }, 14, 'TypeMismatch', `BSON field '${elementPath}.0' is the wrong type 'string', expected type 'object'`),
    row('{} (id missing)', { [name]: [{}] }, 40414, 'Location40414', `BSON field '${elementPath}.id' is missing but a required field`),
    row('id a string', { [name]: [{ id: 'x' }] }, 14, 'TypeMismatch', `BSON field '${elementPath}.id' is the wrong type 'string', expected type 'binData'`),
    row('id BinData subtype 1', { [name]: [{ id: FUNCTION_BINDATA }] }, 14, 'TypeMismatch', `BSON field '${elementPath}.id' is the wrong binData type 'function', expected type 'UUID'`),
    row('id an empty UUID', { [name]: [{ id: EMPTY_UUID }] }, 207, 'InvalidUUID', 'uuid must be a 16-byte binary field with UUID (4) subtype'),
    row('unknown field in an element', { [name]: [{ id: new UUID(), foo: 1 }] }, 40415, 'Location40415', `BSON field '${elementPath}.foo' is an unknown field.`),
    row('uid a string', { [name]: [{ id: new UUID(), uid: 'x' }] }, 14, 'TypeMismatch', `BSON field '${elementPath}.uid' is the wrong type 'string', expected type 'binData'`),
    row('uid of 31 bytes', { [name]: [{ id: new UUID(), uid: new Binary(Buffer.alloc(31), 0) }] }, 12, 'UnsupportedFormat', 'Unsupported SHA256Block hash length: 31'),
  ];
  if (strict) {
    rows.push(row('unknown top-level field', { [name]: [], foo: 1 }, 40415, 'Location40415', `BSON field '${name}.foo' is an unknown field.`));
  }
  return rows;
}

const KILL_ALL = 'KillAllSessionsCmd.killAllSessions';
const PATTERN = 'KillAllSessionsByPatternCmd.killAllSessionsByPattern';
const kap = (pattern: unknown): Document => ({ killAllSessionsByPattern: [pattern] });
const lsidWith = (uid: unknown): Document => ({ lsid: { id: new UUID(), uid } });

const ERROR_ROWS: ErrorRow[] = [
  ...sessionArrayRows('refreshSessions', 'refreshSessions.refreshSessions', 'refreshSessions.refreshSessionsFromClient', true),
  ...sessionArrayRows('endSessions', 'endSessions.endSessions', 'endSessions.endSessionsFromClient', true),
  ...sessionArrayRows('killSessions', 'KillSessionsCmd.killSessions', 'KillSessionsCmd.killSessions', false),

  // §2.5
  row('not an array', { killAllSessions: 'x' }, 14, 'TypeMismatch', `BSON field '${KILL_ALL}' is the wrong type 'string', expected type 'array'`),
  row('element not an object', { killAllSessions: ['x'] }, 14, 'TypeMismatch', `BSON field '${KILL_ALL}.0' is the wrong type 'string', expected type 'object'`),
  row('db missing', { killAllSessions: [{ user: 'u' }] }, 40414, 'Location40414', `BSON field '${KILL_ALL}.db' is missing but a required field`),
  row('db a bool', { killAllSessions: [{ user: 'u', db: true }] }, 14, 'TypeMismatch', `BSON field '${KILL_ALL}.db' is the wrong type 'bool', expected type 'string'`),
  row('user missing', { killAllSessions: [{ db: 'admin' }] }, 40414, 'Location40414', `BSON field '${KILL_ALL}.user' is missing but a required field`),
  row('user a bool', { killAllSessions: [{ user: true, db: 'admin' }] }, 14, 'TypeMismatch', `BSON field '${KILL_ALL}.user' is the wrong type 'bool', expected type 'string'`),

  // §2.6
  row('not an array', { killAllSessionsByPattern: 'x' }, 14, 'TypeMismatch', `BSON field '${PATTERN}' is the wrong type 'string', expected type 'array'`),
  row('element not an object', kap('x'), 14, 'TypeMismatch', `BSON field '${PATTERN}.0' is the wrong type 'string', expected type 'object'`),
  row('unknown field', kap({ invalid: 1 }), 40415, 'Location40415', `BSON field '${PATTERN}.invalid' is an unknown field.`),
  row('lsid a string', kap({ lsid: 'x' }), 14, 'TypeMismatch', `BSON field '${PATTERN}.lsid' is the wrong type 'string', expected type 'object'`),
  row('lsid {}', kap({ lsid: {} }), 40414, 'Location40414', `BSON field '${PATTERN}.lsid.id' is missing but a required field`),
  row('lsid.id a string', kap({ lsid: { id: 'x' } }), 14, 'TypeMismatch', `BSON field '${PATTERN}.lsid.id' is the wrong type 'string', expected type 'binData'`),
  row('lsid.id subtype 1', kap({ lsid: { id: FUNCTION_BINDATA } }), 14, 'TypeMismatch', `BSON field '${PATTERN}.lsid.id' is the wrong binData type 'function', expected type 'UUID'`),
  row('lsid.id an empty UUID', kap({ lsid: { id: EMPTY_UUID } }), 207, 'InvalidUUID', 'uuid must be a 16-byte binary field with UUID (4) subtype'),
  row('lsid without uid', kap({ lsid: { id: new UUID() } }), 40414, 'Location40414', `BSON field '${PATTERN}.lsid.uid' is missing but a required field`),
  row('lsid.uid a string', kap(lsidWith('x')), 14, 'TypeMismatch', `BSON field '${PATTERN}.lsid.uid' is the wrong type 'string', expected type 'binData'`),
  row('lsid.uid empty', kap(lsidWith(new Binary(Buffer.alloc(0), 0))), 12, 'UnsupportedFormat', 'Unsupported SHA256Block hash length: 0'),
  row('lsid.uid subtype 1', kap(lsidWith(FUNCTION_BINDATA)), 14, 'TypeMismatch', `BSON field '${PATTERN}.lsid.uid' is the wrong binData type 'function', expected type 'general'`),
  row('uid a string', kap({ uid: 'x' }), 14, 'TypeMismatch', `BSON field '${PATTERN}.uid' is the wrong type 'string', expected type 'binData'`),
  row('uid empty', kap({ uid: new Binary(Buffer.alloc(0), 0) }), 12, 'UnsupportedFormat', 'Unsupported SHA256Block hash length: 0'),
  row('uid subtype 1', kap({ uid: FUNCTION_BINDATA }), 14, 'TypeMismatch', `BSON field '${PATTERN}.uid' is the wrong binData type 'function', expected type 'general'`),
  row('users not an array', kap({ users: 'x' }), 14, 'TypeMismatch', `BSON field '${PATTERN}.users' is the wrong type 'string', expected type 'array'`),
  row('users element not an object', kap({ users: ['x'] }), 14, 'TypeMismatch', `BSON field '${PATTERN}.users.0' is the wrong type 'string', expected type 'object'`),
  row('users element missing db', kap({ users: [{ user: 'u' }] }), 40414, 'Location40414', `BSON field '${PATTERN}.users.db' is missing but a required field`),
  row('users element db a bool', kap({ users: [{ user: 'u', db: true }] }), 14, 'TypeMismatch', `BSON field '${PATTERN}.users.db' is the wrong type 'bool', expected type 'string'`),
  row('users element missing user', kap({ users: [{ db: 'admin' }] }), 40414, 'Location40414', `BSON field '${PATTERN}.users.user' is missing but a required field`),
  row('users element user a bool', kap({ users: [{ user: true, db: 'admin' }] }), 14, 'TypeMismatch', `BSON field '${PATTERN}.users.user' is the wrong type 'bool', expected type 'string'`),
];

describe('session commands: errors (§2.2-2.6, §3.2)', () => {
  let shared: { server: PocketMongo; client: MongoClient; raw: RawClient };
  beforeAll(async () => {
    const server = await startServer({ setParameter: { enableTestCommands: '1' } });
    const client = new MongoClient(server.uri);
    shared = { server, client, raw: await RawClient.connect(server.port) };
  });
  afterAll(async () => {
    await shared.raw.close();
    await shared.client.close();
    await shared.server.stop();
  });

  test.each(ERROR_ROWS)('$label', async ({ command, code, codeName, errmsg }) => {
    await expectExactError(shared.client.db('admin').command(command), code, codeName, errmsg);
    // The same without the driver (no implicit lsid), and nothing else in the reply.
    expect(await rawCmd(shared.raw, command)).toEqual(errorDoc(code, codeName, errmsg));
  });
});

// ---------------------------------------------------------------------------------------------

describe("the driver's implicit sessions (client-handshake.md §4a)", () => {
  test("every command's lsid shows up in $listLocalSessions", async () => {
    const { admin, client, events } = await setup();
    await Promise.all([
      admin.command({ ping: 1 }),
      admin.command({ buildInfo: 1 }),
      admin.command({ serverStatus: 1 }),
      admin.command({ hello: 1 }),
      admin.command({ getParameter: 1, localLogicalSessionTimeoutMinutes: 1 }),
      client.db('test').collection('c').find({}).toArray(),
      client.db('test').command({ startSession: 1 }),
      ...Array.from({ length: 8 }, () => admin.command({ ping: 1 })),
    ]);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.command.lsid?.id, e.commandName).toBeInstanceOf(Binary);
    const used = new Set(events.map((e) => hex(e.command.lsid.id as Binary)));
    const listed = new Set(await localIds(admin, {}));
    for (const id of used) expect(listed.has(id)).toBe(true);
  });

  test('client.close() ends every pooled session (endSessions, w:0, moreToCome): gone after the next refresh', async () => {
    const { server, client: observer, admin } = await setup();
    const closing = new MongoClient(server.uri, { monitorCommands: true });
    const events: CommandStartedEvent[] = [];
    closing.on('commandStarted', (e) => events.push(e));
    await Promise.all(Array.from({ length: 12 }, () => closing.db('admin').command({ ping: 1 })));
    const ids = new Set(events.map((e) => hex(e.command.lsid.id as Binary)));
    expect(ids.size).toBeGreaterThan(0);

    await refresh(admin);
    const before = new Set(await persistedIds(observer));
    for (const id of ids) expect(before.has(id)).toBe(true);

    const sent = events.length;
    await closing.close();
    const end = events.slice(sent).find((e) => e.commandName === 'endSessions');
    expect(end).toBeDefined();
    expect(end!.command.writeConcern).toEqual({ w: 0 });
    expect(end!.command.lsid).toBeUndefined();
    expect(new Set((end!.command.endSessions as Document[]).map((d) => hex(d.id)))).toEqual(ids);

    // The message has no reply and races the observer's connection: refresh until it has landed.
    let remaining = [...ids];
    for (let i = 0; i < 200 && remaining.length > 0; i++) {
      await refresh(admin);
      const persisted = new Set(await persistedIds(observer));
      remaining = [...ids].filter((id) => persisted.has(id));
    }
    expect(remaining).toEqual([]);
    // The observer is unaffected.
    expect(await admin.command({ ping: 1 })).toEqual({ ok: 1 });
  });

  test('a moreToCome endSessions gets no reply, and the next reply answers the next request', async () => {
    const { raw } = await setup();
    const id = new RawUUID();
    expect(await rawCmd(raw, { ping: 1, lsid: { id } })).toEqual({ ok: 1 });
    expect(await rawCmd(raw, { refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
    const persisted = async () =>
      (await rawCmd(raw, { find: 'system.sessions' }, 'config')).cursor.firstBatch.map((d: Document) => hex(d._id.id));
    expect(await persisted()).toEqual([hex(id)]);

    await raw.sendMsg({ endSessions: [{ id }], writeConcern: { w: 0 }, $db: 'admin' }, { flags: FLAG_MORE_TO_COME });
    // A failing moreToCome command gets no reply either.
    await raw.sendMsg({ endSessions: 'x', writeConcern: { w: 0 }, $db: 'admin' }, { flags: FLAG_MORE_TO_COME });
    const received = raw.received.length;
    const ping = await raw.command({ ping: 1, $db: 'admin' }); // throws if the reply answers another request
    expect(ping.doc).toEqual({ ok: 1 });
    expect(raw.received.length).toBe(received + 1);
    expect(raw.pending).toBe(0);

    // Still there until the refresh, then gone.
    expect(await persisted()).toEqual([hex(id)]);
    expect(await rawCmd(raw, { refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
    expect(await persisted()).toEqual([]);
    expect(raw.pending).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('endSessions and killSessions against cursors (§2.3, §2.4, §4.3)', () => {
  test('endSessions takes effect at the next refresh', async () => {
    const { admin, client } = await setup();
    await createSessions(admin, 5);
    const session = client.startSession();
    try {
      const { cursor, id: cursorId } = await openSessionCursor(admin, session);
      const id = sessionId(session);
      await refresh(admin);
      expect(await persistedIds(client)).toContain(hex(id));

      expect(await admin.command({ endSessions: [{ id }] })).toEqual({ ok: 1 });
      // Nothing happens at once: still listed, and the cursor still works.
      expect(await persistedIds(client)).toContain(hex(id));
      expect(await cursor.next()).not.toBeNull();
      expect(await localIds(admin)).toContain(hex(id));

      await refresh(admin);
      expect(await persistedIds(client)).not.toContain(hex(id));
      expect(await localIds(admin)).not.toContain(hex(id));
      const stats = (await admin.command({ serverStatus: 1 })).logicalSessionRecordCache;
      expect(stats.lastSessionsCollectionJobEntriesEnded).toBe(1);
      expect(stats.lastSessionsCollectionJobCursorsClosed).toBe(1);
      await expectExactError(cursor.next(), 43, 'CursorNotFound', `cursor id ${cursorId.toString()} not found`);
    } finally {
      await session.endSession();
    }
  });

  interface KillCase {
    label: string;
    command: (s1: Binary, s2: Binary) => Document;
    kills1: boolean;
    kills2: boolean;
  }
  const uid = new Binary(NO_AUTH_DIGEST, 0);
  const otherUid = new Binary(OTHER_DIGEST, 0);
  const KILL_CASES: KillCase[] = [
    { label: 'killSessions [{id}]', command: (s1) => ({ killSessions: [{ id: s1 }] }), kills1: true, kills2: false },
    { label: 'killSessions [{id, uid}]', command: (s1) => ({ killSessions: [{ id: s1, uid }] }), kills1: true, kills2: false },
    { label: 'killSessions [] (all, auth off)', command: () => ({ killSessions: [] }), kills1: true, kills2: true },
    { label: 'killSessions [{unknown id}]', command: () => ({ killSessions: [{ id: new UUID() }] }), kills1: false, kills2: false },
    { label: 'killSessions [{id, other uid}]', command: (s1) => ({ killSessions: [{ id: s1, uid: otherUid }] }), kills1: false, kills2: false },
    { label: 'killAllSessions []', command: () => ({ killAllSessions: [] }), kills1: true, kills2: true },
    { label: 'killAllSessions [{unknown user}]', command: () => ({ killAllSessions: [{ user: 'nobody', db: 'admin' }] }), kills1: false, kills2: false },
    { label: 'killAllSessionsByPattern []', command: () => ({ killAllSessionsByPattern: [] }), kills1: true, kills2: true },
    { label: 'killAllSessionsByPattern [{lsid}]', command: (s1) => ({ killAllSessionsByPattern: [{ lsid: { id: s1, uid } }] }), kills1: true, kills2: false },
    { label: 'killAllSessionsByPattern [{uid: no-auth}]', command: () => ({ killAllSessionsByPattern: [{ uid }] }), kills1: true, kills2: true },
    { label: 'killAllSessionsByPattern [{uid: other}]', command: () => ({ killAllSessionsByPattern: [{ uid: otherUid }] }), kills1: false, kills2: false },
    {
      label: 'killAllSessionsByPattern [{uid: other, lsid}] (uid wins)',
      command: (s1) => ({ killAllSessionsByPattern: [{ uid: otherUid, lsid: { id: s1, uid } }] }),
      kills1: false,
      kills2: false,
    },
    {
      label: 'killAllSessionsByPattern [{users}] (impersonation data, not a filter)',
      command: () => ({ killAllSessionsByPattern: [{ users: [{ user: 'nobody', db: 'admin' }] }] }),
      kills1: true,
      kills2: true,
    },
  ];

  test.each(KILL_CASES)('$label acts at once; the sessions stay usable and listed', async ({ command, kills1, kills2 }) => {
    const { admin, client } = await setup();
    await createSessions(admin, 5);
    const s1 = client.startSession();
    const s2 = client.startSession();
    try {
      const c1 = await openSessionCursor(admin, s1);
      const c2 = await openSessionCursor(admin, s2);
      const id1 = sessionId(s1);
      const id2 = sessionId(s2);
      expect(hex(id1)).not.toBe(hex(id2));

      expect(await admin.command(command(id1, id2))).toEqual({ ok: 1 });

      for (const [{ cursor, id }, killed] of [
        [c1, kills1],
        [c2, kills2],
      ] as const) {
        if (killed) await expectExactError(cursor.next(), 43, 'CursorNotFound', `cursor id ${id.toString()} not found`);
        else expect(await cursor.next()).not.toBeNull();
      }

      // A killed session remains usable and listed (§2.4).
      for (const session of [s1, s2]) {
        expect(await admin.command({ ping: 1 }, { session })).toEqual({ ok: 1 });
        const again = await admin.aggregate([{ $listLocalSessions: {} }], { session }).toArray();
        expect(again.map((d) => hex(d._id.id as Binary))).toContain(hex(sessionId(session)));
      }
      const listed = await localIds(admin);
      expect(listed).toContain(hex(id1));
      expect(listed).toContain(hex(id2));
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('getMore and the session of its cursor (§3.3)', () => {
  test('getMore from another session: 50738', async () => {
    const { admin, client } = await setup();
    await createSessions(admin, 3);
    const s1 = client.startSession();
    const s2 = client.startSession();
    try {
      const opened = await admin.command(
        { aggregate: 1, pipeline: [{ $listLocalSessions: { allUsers: true } }], cursor: { batchSize: 1 } },
        { session: s1, promoteLongs: false },
      );
      const cursorId = opened.cursor.id as Long;
      expect(cursorId.isZero()).toBe(false);
      const id1 = sessionId(s1);
      const id2 = sessionId(s2);
      await expectExactError(
        admin.command({ getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1 }, { session: s2 }),
        50738,
        'Location50738',
        `Cannot run getMore on cursor ${cursorId.toString()}, which was created in session ${lsidText(id1)}, in session ${lsidText(id2)}`,
      );
      // The text form is mongod's: two spaces between the last dashes, a trailing space.
      expect(lsidText(id1)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} - 47DEQpj8HBSa\+\/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU= - {2}- $/);
      // The owner still can.
      const more = await admin.command({ getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1 }, { session: s1 });
      expect(more.cursor.nextBatch).toHaveLength(1);
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
  });

  test('getMore without an lsid on a session cursor: 50737; the same lsid from another connection works', async () => {
    const { admin, raw, server } = await setup();
    await createSessions(admin, 3);
    const lsid = new RawUUID();
    const opened = await rawCmd(raw, {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { allUsers: true } }],
      cursor: { batchSize: 1 },
      lsid: { id: lsid },
    });
    const cursorId = opened.cursor.id;
    expect(cursorId._bsontype).toBe('Long');
    expect(await rawCmd(raw, { getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1 })).toEqual(
      errorDoc(
        50737,
        'Location50737',
        `Cannot run getMore on cursor ${cursorId.toString()}, which was created in session ${lsidText(lsid)}, without an lsid`,
      ),
    );
    const other = await RawClient.connect(server.port);
    try {
      const more = await rawCmd(other, { getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1, lsid: { id: lsid } });
      expect(more.ok).toBe(1);
      expect(more.cursor.nextBatch).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  test('a session cursor outlives the connection that opened it', async () => {
    const { admin, raw, server } = await setup();
    await createSessions(admin, 3);
    const lsid = new RawUUID();
    const opener = await RawClient.connect(server.port);
    const opened = await rawCmd(opener, {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { allUsers: true } }],
      cursor: { batchSize: 1 },
      lsid: { id: lsid },
    });
    await opener.close();
    const more = await rawCmd(raw, { getMore: opened.cursor.id, collection: '$cmd.aggregate', batchSize: 1, lsid: { id: lsid } });
    expect(more.cursor.nextBatch).toHaveLength(1);
  });

  test('an aggregate cursor opened without a session, getMore in one: 50736', async () => {
    const { admin, client, raw } = await setup();
    await createSessions(admin, 3);
    const opened = await rawCmd(raw, { aggregate: 1, pipeline: [{ $listLocalSessions: { allUsers: true } }], cursor: { batchSize: 1 } });
    const cursorId = opened.cursor.id;
    const session = client.startSession();
    try {
      await expectExactError(
        admin.command({ getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1 }, { session }),
        50736,
        'Location50736',
        `Cannot run getMore on cursor ${cursorId.toString()}, which was not created in a session, in session ${lsidText(sessionId(session))}`,
      );
    } finally {
      await session.endSession();
    }
    // Without a session it works.
    expect((await rawCmd(raw, { getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1 })).cursor.nextBatch).toHaveLength(1);
  });

  test('a find cursor opened without a session, getMore in one: 50736', async () => {
    const { admin, raw } = await setup();
    await createSessions(admin, 3);
    await refresh(admin);
    const opened = await rawCmd(raw, { find: 'system.sessions', batchSize: 1 }, 'config');
    const cursorId = opened.cursor.id;
    expect(cursorId.isZero()).toBe(false);
    const lsid = new RawUUID();
    expect(await rawCmd(raw, { getMore: cursorId, collection: 'system.sessions', batchSize: 1, lsid: { id: lsid } }, 'config')).toEqual(
      errorDoc(
        50736,
        'Location50736',
        `Cannot run getMore on cursor ${cursorId.toString()}, which was not created in a session, in session ${lsidText(lsid)}`,
      ),
    );
    expect((await rawCmd(raw, { getMore: cursorId, collection: 'system.sessions', batchSize: 1 }, 'config')).cursor.nextBatch).toHaveLength(1);
  });

  test('the same id with another uid is another session: 50738 names both uids', async () => {
    const { admin, raw } = await setup();
    await createSessions(admin, 3);
    const id = new RawUUID();
    const opened = await rawCmd(raw, {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { allUsers: true } }],
      cursor: { batchSize: 1 },
      lsid: { id },
    });
    const cursorId = opened.cursor.id;
    const reply = await rawCmd(raw, {
      getMore: cursorId,
      collection: '$cmd.aggregate',
      batchSize: 1,
      lsid: { id, uid: new RawBinary(OTHER_DIGEST, 0) },
    });
    expect(reply).toEqual(
      errorDoc(
        50738,
        'Location50738',
        `Cannot run getMore on cursor ${cursorId.toString()}, which was created in session ${lsidText(id)}, in session ` +
          `${uuidText(id)} - ${OTHER_DIGEST.toString('base64')} -  - `,
      ),
    );
    // Naming the no-auth uid explicitly is the same session as leaving it out.
    const same = await rawCmd(raw, {
      getMore: cursorId,
      collection: '$cmd.aggregate',
      batchSize: 1,
      lsid: { id, uid: new RawBinary(NO_AUTH_DIGEST, 0) },
    });
    expect(same.cursor.nextBatch).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('$listLocalSessions (§2.8)', () => {
  test('must run as {aggregate: 1}: on a collection 73', async () => {
    const { admin } = await setup();
    await expectExactError(
      admin.collection('foo').aggregate([{ $listLocalSessions: {} }]).toArray(),
      73,
      'InvalidNamespace',
      '$listLocalSessions must be run against the database with {aggregate: 1}, not a collection',
    );
  });

  test('must be the first stage: 40602', async () => {
    const { admin } = await setup();
    await expectExactError(
      admin.aggregate([{ $match: {} }, { $listLocalSessions: {} }]).toArray(),
      40602,
      'Location40602',
      '$listLocalSessions is only valid as the first stage in a pipeline.',
    );
  });

  test('options must be an object: 14', async () => {
    const { admin } = await setup();
    for (const [value, type] of [
      [1, 'int'],
      ['x', 'string'],
      [[], 'array'],
      [true, 'bool'],
    ] as const) {
      await expectExactError(
        admin.aggregate([{ $listLocalSessions: value }]).toArray(),
        14,
        'TypeMismatch',
        `$listLocalSessions options must be specified in an object, but found: ${type}`,
      );
    }
  });

  test('allUsers: true with users: 12', async () => {
    const { admin } = await setup();
    await expectExactError(
      admin.aggregate([{ $listLocalSessions: { allUsers: true, users: [{ user: 'a', db: 'b' }] } }]).toArray(),
      12,
      'UnsupportedFormat',
      '$listLocalSessions may not specify {allUsers:true} and {users:[...]} at the same time',
    );
    // allUsers: true with an empty users list is fine.
    expect(await admin.aggregate([{ $listLocalSessions: { allUsers: true, users: [] } }]).toArray()).not.toHaveLength(0);
  });

  test('{} means my sessions: equal to {allUsers: false} and {users: [{user: "", db: ""}]}', async () => {
    const { admin } = await setup();
    const mine = await createSessions(admin, 3);
    // A session of another uid (any uid is accepted with auth off, §1.2).
    const foreign = new UUID();
    expect(await admin.command({ refreshSessions: [{ id: foreign, uid: new Binary(OTHER_DIGEST, 0) }] })).toEqual({ ok: 1 });
    const sorted = async (spec: Document) => (await localIds(admin, spec)).sort();
    const own = await sorted({});
    expect(await sorted({ allUsers: false })).toEqual(own);
    expect(await sorted({ users: [{ user: '', db: '' }] })).toEqual(own);
    expect(await sorted({ users: [] })).toEqual(own);
    for (const id of mine) expect(own).toContain(hex(id));
    expect(own).not.toContain(hex(foreign));
    const all = await sorted({ allUsers: true });
    expect(all).toEqual([...own, hex(foreign)].sort());
    expect(await sorted({ users: [{ user: 'someone', db: 'admin' }] })).toEqual([hex(foreign)]);
  });

  test('documents are {_id: {id, uid}, lastUse}; $match, $count and $project follow', async () => {
    const { admin } = await setup();
    const [id] = await createSessions(admin, 4);
    const [doc, ...more] = await admin.aggregate([{ $listLocalSessions: {} }, { $match: { '_id.id': id } }]).toArray();
    expect(more).toEqual([]);
    expect(Object.keys(doc!)).toEqual(['_id', 'lastUse']);
    expect(Object.keys(doc!._id)).toEqual(['id', 'uid']);
    expect(hex(doc!._id.id)).toBe(hex(id!));
    expect(doc!._id.id.sub_type).toBe(4);
    expect(doc!._id.uid).toBeInstanceOf(Binary);
    expect(doc!._id.uid.sub_type).toBe(0);
    expect(doc!._id.uid.toString('base64')).toBe(NO_AUTH_B64);
    expect(doc!.lastUse).toBeInstanceOf(Date);

    const all = await admin.aggregate([{ $listLocalSessions: { allUsers: true } }]).toArray();
    expect(await admin.aggregate([{ $listLocalSessions: { allUsers: true } }, { $count: 'n' }]).toArray()).toEqual([
      { n: all.length },
    ]);
    const projected = await admin.aggregate([{ $listLocalSessions: {} }, { $project: { _id: 0, id: '$_id.id' } }]).toArray();
    expect(projected.length).toBeGreaterThanOrEqual(4);
    for (const p of projected) expect(Object.keys(p)).toEqual(['id']);
    expect(projected.map((p) => hex(p.id))).toContain(hex(id!));
  });

  test('lists only sessions used since the last refresh', async () => {
    const { admin } = await setup();
    const [id] = await createSessions(admin, 1);
    expect(await localIds(admin)).toContain(hex(id!));
    await refresh(admin);
    expect(await localIds(admin)).not.toContain(hex(id!));
    expect(await admin.command({ refreshSessions: [{ id }] })).toEqual({ ok: 1 });
    expect(await localIds(admin)).toContain(hex(id!));
  });
});

describe('$listSessions and config.system.sessions (§1.3, §2.9)', () => {
  test('before the first refresh the collection does not exist; after it, documents are {_id: {id, uid}, lastUse}', async () => {
    const { admin, client } = await setup();
    const sessions = client.db('config').collection<SessionDocument>('system.sessions');
    const [id] = await createSessions(admin, 2);
    expect(await sessions.find({}).toArray()).toEqual([]);
    expect(await persistedIds(client)).toEqual([]);

    await refresh(admin);
    const docs = await sessions.find({}).toArray();
    expect(docs.map((d) => hex(d._id.id))).toContain(hex(id!));
    for (const doc of docs) {
      expect(Object.keys(doc)).toEqual(['_id', 'lastUse']);
      expect(Object.keys(doc._id)).toEqual(['id', 'uid']);
      expect(doc._id.id.sub_type).toBe(4);
      expect(doc._id.uid.sub_type).toBe(0);
      expect(doc._id.uid.toString('base64')).toBe(NO_AUTH_B64);
      expect(doc.lastUse).toBeInstanceOf(Date);
    }
    const one = await sessions.find({ '_id.id': id }).toArray();
    expect(one).toHaveLength(1);
  });

  test('shows a session only after a refresh', async () => {
    const { admin, client } = await setup();
    await refresh(admin);
    const started = await admin.command({ startSession: 1 });
    const id = hex(started.id.id as Binary);
    expect(await persistedIds(client)).not.toContain(id);
    expect(await persistedIds(client, {})).not.toContain(id);
    await refresh(admin);
    expect(await persistedIds(client)).toContain(id);
    expect(await persistedIds(client, {})).toContain(id);
    expect(await persistedIds(client, { users: [{ user: '', db: '' }] })).toContain(id);
  });

  test('filters by uid like $listLocalSessions', async () => {
    const { admin, client } = await setup();
    const foreign = new UUID();
    const [own] = await createSessions(admin, 1);
    expect(await admin.command({ refreshSessions: [{ id: foreign, uid: new Binary(OTHER_DIGEST, 0) }] })).toEqual({ ok: 1 });
    await refresh(admin);
    const mine = await persistedIds(client, {});
    expect(mine).toContain(hex(own!));
    expect(mine).not.toContain(hex(foreign));
    expect(await persistedIds(client, { allUsers: true })).toContain(hex(foreign));
    expect(await persistedIds(client, { users: [{ user: 'someone', db: 'admin' }] })).toEqual([hex(foreign)]);
    await expectExactError(
      client.db('config').collection('system.sessions').aggregate([{ $listSessions: { allUsers: true, users: [{ user: 'a', db: 'b' }] } }]).toArray(),
      12,
      'UnsupportedFormat',
      '$listSessions may not specify {allUsers:true} and {users:[...]} at the same time',
    );
  });

  test('only on config.system.sessions, only first: 73 and 40602', async () => {
    const { admin, client } = await setup();
    const msg = '$listSessions may only be run against config.system.sessions';
    await expectExactError(admin.collection('system.sessions').aggregate([{ $listSessions: {} }]).toArray(), 73, 'InvalidNamespace', msg);
    await expectExactError(client.db('config').collection('other').aggregate([{ $listSessions: {} }]).toArray(), 73, 'InvalidNamespace', msg);
    await expectExactError(client.db('config').aggregate([{ $listSessions: {} }]).toArray(), 73, 'InvalidNamespace', msg);
    await expectExactError(admin.aggregate([{ $listSessions: {} }]).toArray(), 73, 'InvalidNamespace', msg);
    await expectExactError(
      client.db('config').collection('system.sessions').aggregate([{ $match: {} }, { $listSessions: {} }]).toArray(),
      40602,
      'Location40602',
      '$listSessions is only valid as the first stage in a pipeline.',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('lsid on an ordinary command (§3.1, §3.2), over a raw socket', () => {
  let shared: { server: PocketMongo; raw: RawClient };
  beforeAll(async () => {
    const server = await startServer({ setParameter: { enableTestCommands: '1' } });
    shared = { server, raw: await RawClient.connect(server.port) };
  });
  afterAll(async () => {
    await shared.raw.close();
    await shared.server.stop();
  });

  const P = 'OperationSessionInfo.lsid';
  const LSID_ROWS: Array<{ label: string; lsid: unknown; code: number; codeName: string; errmsg: string }> = [
    { label: 'a string', lsid: 'invalid', code: 14, codeName: 'TypeMismatch', errmsg: `BSON field '${P}' is the wrong type 'string', expected type 'object'` },
    { label: '{}', lsid: {}, code: 40414, codeName: 'Location40414', errmsg: `BSON field '${P}.id' is missing but a required field` },
    { label: 'id a string', lsid: { id: 'invalid' }, code: 14, codeName: 'TypeMismatch', errmsg: `BSON field '${P}.id' is the wrong type 'string', expected type 'binData'` },
    { label: 'id BinData(1)', lsid: { id: new RawBinary(Buffer.alloc(0), 1) }, code: 14, codeName: 'TypeMismatch', errmsg: `BSON field '${P}.id' is the wrong binData type 'function', expected type 'UUID'` },
    { label: 'id BinData(4) of 0 bytes', lsid: { id: new RawBinary(Buffer.alloc(0), 4) }, code: 207, codeName: 'InvalidUUID', errmsg: 'uuid must be a 16-byte binary field with UUID (4) subtype' },
    { label: 'id BinData(4) of 15 bytes', lsid: { id: new RawBinary(Buffer.alloc(15), 4) }, code: 207, codeName: 'InvalidUUID', errmsg: 'uuid must be a 16-byte binary field with UUID (4) subtype' },
    { label: 'unknown field', lsid: { id: new RawUUID(), foo: 1 }, code: 40415, codeName: 'Location40415', errmsg: `BSON field '${P}.foo' is an unknown field.` },
    { label: 'uid a string', lsid: { id: new RawUUID(), uid: 'x' }, code: 14, codeName: 'TypeMismatch', errmsg: `BSON field '${P}.uid' is the wrong type 'string', expected type 'binData'` },
    { label: 'uid of 31 bytes', lsid: { id: new RawUUID(), uid: new RawBinary(Buffer.alloc(31), 0) }, code: 12, codeName: 'UnsupportedFormat', errmsg: 'Unsupported SHA256Block hash length: 31' },
    { label: 'uid a UUID', lsid: { id: new RawUUID(), uid: new RawUUID() }, code: 14, codeName: 'TypeMismatch', errmsg: `BSON field '${P}.uid' is the wrong binData type 'UUID', expected type 'general'` },
  ];

  test.each(LSID_ROWS)('find with lsid $label', async ({ lsid, code, codeName, errmsg }) => {
    expect(await rawCmd(shared.raw, { find: 'c', filter: {}, lsid }, 'test')).toEqual(errorDoc(code, codeName, errmsg));
  });

  // §3.2 (inferred there from the IDL): a field repeated inside the lsid is 40413. BSON with a
  // repeated key cannot come from a JS object, so the bytes are patched: "iX" becomes "id".
  // Decoding keeps the last of repeated keys, so the wire layer looks for them in the bytes.
  test('find with an lsid holding a duplicate field: 40413', async () => {
    const bytes = Buffer.from(
      BSON.serialize({
        find: 'c',
        lsid: { id: new RawUUID('00000000-0000-4000-8000-000000000001'), iX: new RawUUID('00000000-0000-4000-8000-000000000002') },
        $db: 'test',
      }),
    );
    const at = bytes.indexOf(Buffer.from([0x05, 0x69, 0x58, 0x00])); // type 5, "iX\0"
    expect(at).toBeGreaterThan(0);
    bytes[at + 2] = 0x64; // "d"
    const reply = await shared.raw.command(undefined, { sections: [{ kind: 0, raw: bytes }] });
    expect(replyBody(reply.raw)).toEqual(errorDoc(40413, 'Location40413', `BSON field '${P}.id' is a duplicate field`));
  });

  test('a valid lsid with any uid is accepted with auth off, and that session is its own', async () => {
    const { raw } = shared;
    const id = new RawUUID();
    const otherUid = new RawBinary(OTHER_DIGEST, 0);
    expect((await rawCmd(raw, { find: 'c', lsid: { id, uid: otherUid } }, 'test')).ok).toBe(1);
    expect((await rawCmd(raw, { find: 'c', lsid: { id, uid: new RawBinary(NO_AUTH_DIGEST, 0) } }, 'test')).ok).toBe(1);
    const list = async (spec: Document) =>
      (await rawCmd(raw, { aggregate: 1, pipeline: [{ $listLocalSessions: spec }, { $match: { '_id.id': id } }], cursor: {} })).cursor.firstBatch.map(
        (d: Document) => d._id.uid.toString('base64'),
      );
    expect((await list({ allUsers: true })).sort()).toEqual([NO_AUTH_B64, OTHER_DIGEST.toString('base64')].sort());
    expect(await list({})).toEqual([NO_AUTH_B64]);
  });

  test('txnNumber with an lsid on find: 20', async () => {
    expect(await rawCmd(shared.raw, { find: 'c', lsid: { id: new RawUUID() }, txnNumber: BSON.Long.fromNumber(1) }, 'test')).toEqual(
      errorDoc(20, 'IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos'),
    );
  });

  test('txnNumber without an lsid: 72', async () => {
    expect(await rawCmd(shared.raw, { find: 'c', txnNumber: BSON.Long.fromNumber(1) }, 'test')).toEqual(
      errorDoc(72, 'InvalidOptions', 'Transaction number requires a session ID to also be specified'),
    );
  });

  test('autocommit without txnNumber: 72 (with or without an lsid)', async () => {
    const errmsg = "'autocommit' field requires a transaction number to also be specified";
    expect(await rawCmd(shared.raw, { find: 'c', lsid: { id: new RawUUID() }, autocommit: false }, 'test')).toEqual(
      errorDoc(72, 'InvalidOptions', errmsg),
    );
    expect(await rawCmd(shared.raw, { find: 'c', autocommit: false }, 'test')).toEqual(errorDoc(72, 'InvalidOptions', errmsg));
  });

  test('on a command that does not require auth (hello): txnNumber 50889, autocommit 263', async () => {
    expect(await rawCmd(shared.raw, { hello: 1, lsid: { id: new RawUUID() }, txnNumber: BSON.Long.fromNumber(1) })).toEqual(
      errorDoc(50889, 'Location50889', 'It is illegal to provide a txnNumber for this command'),
    );
    expect(await rawCmd(shared.raw, { hello: 1, lsid: { id: new RawUUID() }, autocommit: false })).toEqual(
      errorDoc(263, 'OperationNotSupportedInTransaction', 'This command is not supported in transactions'),
    );
  });

  test('child (internal) session lsids: 72', async () => {
    const { raw } = shared;
    const id = new RawUUID();
    const txnUUID = new RawUUID();
    const txnNumber = BSON.Long.fromNumber(1);
    expect(await rawCmd(raw, { find: 'c', lsid: { id, txnNumber, txnUUID } }, 'test')).toEqual(
      errorDoc(72, 'InvalidOptions', 'Internal sessions are only allowed for internal clients'),
    );
    expect(await rawCmd(raw, { find: 'c', lsid: { id, txnNumber } }, 'test')).toEqual(
      errorDoc(72, 'InvalidOptions', 'Cannot specify txnNumber in lsid without specifying txnUUID'),
    );
    expect(await rawCmd(raw, { endSessions: [{ id, txnNumber, txnUUID }] })).toEqual(
      errorDoc(72, 'InvalidOptions', `Cannot specify a child session id ${uuidText(id)} - ${NO_AUTH_B64} - 1 - ${uuidText(txnUUID)}`),
    );
    expect(
      await rawCmd(raw, { killAllSessionsByPattern: [{ lsid: { id, uid: new RawBinary(NO_AUTH_DIGEST, 0), txnNumber, txnUUID } }] }),
    ).toEqual(errorDoc(72, 'InvalidOptions', 'Cannot kill a child session'));
  });

  test('lsid: null is no lsid (§3.1): the cursor belongs to no session', async () => {
    const { raw } = shared;
    await rawCmd(raw, { refreshSessions: [{ id: new RawUUID() }, { id: new RawUUID() }, { id: new RawUUID() }] });
    const opened = await rawCmd(raw, {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { allUsers: true } }],
      cursor: { batchSize: 1 },
      lsid: null,
    });
    expect(opened.ok).toBe(1);
    const more = await rawCmd(raw, { getMore: opened.cursor.id, collection: '$cmd.aggregate', batchSize: 1 });
    expect(more.cursor.nextBatch).toHaveLength(1);
  });

  test('any command with an lsid vivifies it, hello included; the kill commands validate it but do not', async () => {
    const { raw } = shared;
    const listed = async (id: RawUUID) =>
      (await rawCmd(raw, { aggregate: 1, pipeline: [{ $listLocalSessions: {} }, { $match: { '_id.id': id } }], cursor: {} })).cursor
        .firstBatch.length === 1;
    const viaHello = new RawUUID();
    expect((await rawCmd(raw, { hello: 1, lsid: { id: viaHello } })).ok).toBe(1);
    expect(await listed(viaHello)).toBe(true);
    const viaServerStatus = new RawUUID();
    expect((await rawCmd(raw, { serverStatus: 1, lsid: { id: viaServerStatus } })).ok).toBe(1);
    expect(await listed(viaServerStatus)).toBe(true);

    for (const command of [
      { killSessions: [{ id: new RawUUID() }] },
      { killAllSessions: [{ user: 'nobody', db: 'admin' }] },
      { killAllSessionsByPattern: [{ uid: new RawBinary(OTHER_DIGEST, 0) }] },
    ]) {
      const id = new RawUUID();
      expect(await rawCmd(raw, { ...command, lsid: { id } }), JSON.stringify(command)).toEqual({ ok: 1 });
      expect(await listed(id)).toBe(false);
      expect(await rawCmd(raw, { ...command, lsid: { id: 'x' } })).toEqual(
        errorDoc(14, 'TypeMismatch', "BSON field 'OperationSessionInfo.lsid.id' is the wrong type 'string', expected type 'binData'"),
      );
    }
  });

  test('through the driver: txnNumber on a command gets the implicit lsid, so 20', async () => {
    const client = new MongoClient(shared.server.uri);
    try {
      await expectExactError(
        client.db('test').command({ find: 'c', txnNumber: Long.fromNumber(1) }),
        20,
        'IllegalOperation',
        'Transaction numbers are only allowed on a replica set member or mongos',
      );
    } finally {
      await client.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('maxSessions (§1.4)', () => {
  const prefix = 'Unable to add session ID ';
  const suffix = ' into the cache because the number of active sessions is too high';
  const fullMessage = (id: AnyBinary) => `${prefix}${lsidText(id)}${suffix}`;
  const anyLsidMessage = expect.stringMatching(
    /^Unable to add session ID [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} - 47DEQpj8HBSa\+\/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU= - {2}-  into the cache because the number of active sessions is too high$/,
  );

  test('a fourth session is refused with 261 until a refresh empties the cache', async () => {
    const { raw, admin } = await setup({ maxSessions: '3' });
    const started: Document[] = [];
    for (let i = 0; i < 3; i++) started.push(await rawCmd(raw, { startSession: 1 }));
    expect((await rawCmd(raw, { serverStatus: 1 })).logicalSessionRecordCache.activeSessionsCount).toBe(3);

    const refused = await rawCmd(raw, { startSession: 1 });
    expect(refused).toEqual(errorDoc(261, 'TooManyLogicalSessions', anyLsidMessage));
    expect((refused.errmsg as string).startsWith(prefix)).toBe(true);
    expect((refused.errmsg as string).endsWith(suffix)).toBe(true);

    // Any command with a new lsid, and refreshSessions with a new id.
    const fresh = new RawUUID();
    expect(await rawCmd(raw, { ping: 1, lsid: { id: fresh } })).toEqual(errorDoc(261, 'TooManyLogicalSessions', fullMessage(fresh)));
    expect(await rawCmd(raw, { find: 'c', lsid: { id: fresh } }, 'test')).toEqual(errorDoc(261, 'TooManyLogicalSessions', fullMessage(fresh)));
    expect(await rawCmd(raw, { refreshSessions: [{ id: fresh }] })).toEqual(errorDoc(261, 'TooManyLogicalSessions', fullMessage(fresh)));
    // The driver's implicit session is new too.
    await expectExactError(admin.command({ ping: 1 }), 261, 'TooManyLogicalSessions', anyLsidMessage);
    // Sessions already in the cache stay usable.
    expect(await rawCmd(raw, { ping: 1, lsid: { id: started[0]!.id.id } })).toEqual({ ok: 1 });
    // Commands without an lsid are unaffected.
    expect(await rawCmd(raw, { ping: 1 })).toEqual({ ok: 1 });

    expect(await rawCmd(raw, { refreshLogicalSessionCacheNow: 1 })).toEqual({ ok: 1 });
    expect((await rawCmd(raw, { serverStatus: 1 })).logicalSessionRecordCache.activeSessionsCount).toBe(0);
    expect(await rawCmd(raw, { ping: 1, lsid: { id: fresh } })).toEqual({ ok: 1 });
    expect(await admin.command({ ping: 1 })).toEqual({ ok: 1 });
    expect((await rawCmd(raw, { startSession: 1 })).ok).toBe(1);
    // Full again (fresh, the driver's, the new one): a previously cached session must be re-admitted, and cannot be.
    expect(await rawCmd(raw, { ping: 1, lsid: { id: started[1]!.id.id } })).toEqual(
      errorDoc(261, 'TooManyLogicalSessions', fullMessage(started[1]!.id.id)),
    );
  });

  test('startSession through the driver when full: 261', async () => {
    const { raw, admin } = await setup({ maxSessions: '2' });
    await rawCmd(raw, { startSession: 1 });
    // The driver's implicit lsid takes the second slot; the new session does not fit.
    await expectExactError(admin.command({ startSession: 1 }), 261, 'TooManyLogicalSessions', anyLsidMessage);
  });
});

// ---------------------------------------------------------------------------------------------

describe('serverStatus.logicalSessionRecordCache (§1.4)', () => {
  const FIELDS = [
    'activeSessionsCount',
    'sessionsCollectionJobCount',
    'lastSessionsCollectionJobDurationMillis',
    'lastSessionsCollectionJobTimestamp',
    'lastSessionsCollectionJobEntriesRefreshed',
    'lastSessionsCollectionJobEntriesEnded',
    'lastSessionsCollectionJobCursorsClosed',
    'transactionReaperJobCount',
    'lastTransactionReaperJobDurationMillis',
    'lastTransactionReaperJobTimestamp',
    'lastTransactionReaperJobEntriesCleanedUp',
  ];

  test("has mongod's fields; activeSessionsCount is 0 at startup and grows with startSession", async () => {
    const { raw, admin } = await setup();
    const status = async () => (await rawCmd(raw, { serverStatus: 1 })).logicalSessionRecordCache as Document;
    const first = await status();
    for (const field of FIELDS) expect(first, field).toHaveProperty(field);
    expect(first.lastSessionsCollectionJobTimestamp).toBeInstanceOf(Date);
    expect(first.lastTransactionReaperJobTimestamp).toBeInstanceOf(Date);
    expect(first.activeSessionsCount).toBe(0);
    expect(first.sessionsCollectionJobCount).toBe(0);
    expect(first.transactionReaperJobCount).toBe(0);

    await rawCmd(raw, { startSession: 1 });
    expect((await status()).activeSessionsCount).toBe(1);
    await rawCmd(raw, { startSession: 1 });
    expect((await status()).activeSessionsCount).toBe(2);

    // Through the driver, its implicit session counts too.
    const viaDriver = await admin.command({ serverStatus: 1 });
    expect(viaDriver.logicalSessionRecordCache.activeSessionsCount).toBe(3);

    await rawCmd(raw, { refreshLogicalSessionCacheNow: 1 });
    const after = await status();
    expect(after.activeSessionsCount).toBe(0);
    expect(after.sessionsCollectionJobCount).toBe(1);
    expect(after.lastSessionsCollectionJobEntriesRefreshed).toBe(3);
    expect(after.lastSessionsCollectionJobEntriesEnded).toBe(0);

    await rawCmd(raw, { reapLogicalSessionCacheNow: 1 });
    expect((await status()).transactionReaperJobCount).toBe(1);
  });
});
