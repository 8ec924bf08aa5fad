/**
 * End-to-end: logical sessions under --auth with two ordinary users, A and B (readWrite on test,
 * created by admin), through the official driver over TCP and a raw OP_MSG socket with its own
 * SCRAM client where the driver cannot express the request (it replaces any lsid with its own).
 * Expected replies: /work/shared/docs/sessions-semantics.md §1.2 (uid resolution), §2.4-§2.6
 * (kill commands), §2.8 ($listLocalSessions), §3.3 (cursors), §3.4 (ownership).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Binary as RawBinary, Long as RawLong, UUID as RawUUID, type Document } from 'bson';
import { Binary, MongoClient, MongoServerError, UUID, type AggregationCursor, type Db, type Long } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { RawClient, rawCmd } from '../helpers/rawClient.js';
import { expectExactError } from '../helpers/driver.js';
import { startServer } from '../helpers/server.js';

// ---------------------------------------------------------------------------------------------
// Helpers.

const FAST_SCRAM = { scramIterationCount: '5000', scramSHA256IterationCount: '5000' } as const;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** uid = SHA-256 of the display name "user@db" (§1.1). */
const UID_A = sha256('A@test');
const UID_B = sha256('B@test');
const UID_ADMIN = sha256('admin@admin');

function bytesOf(value: { buffer: Uint8Array; position: number }): Buffer {
  return Buffer.from(value.buffer.subarray(0, value.position));
}

function hexOf(value: { buffer: Uint8Array; position: number }): string {
  return bytesOf(value).toString('hex');
}

function uuidText(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** mongod's text form of an lsid: "<uuid> - <base64 uid> -  - " (§1.1). */
function lsidText(id: Buffer, uid: Buffer): string {
  return `${uuidText(id)} - ${uid.toString('base64')} -  - `;
}

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

async function loginDriver(server: PocketMongo, user: string, pwd: string, db: string): Promise<MongoClient> {
  const c = new MongoClient(`mongodb://${user}:${pwd}@127.0.0.1:${server.port}/${db}?authSource=${db}`, {
    serverSelectionTimeoutMS: 5_000,
  });
  cleanups.push(() => c.close());
  await c.connect();
  return c;
}

/** A raw socket logged in with an explicit SCRAM-SHA-256 conversation. */
async function loginRaw(server: PocketMongo, user: string, pwd: string, db: string): Promise<RawClient> {
  const raw = await RawClient.connect(server.port);
  cleanups.push(() => raw.close());
  const nonce = randomBytes(24).toString('base64');
  const bare = `n=${user},r=${nonce}`;
  const start = await rawCmd(
    raw,
    { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: new RawBinary(Buffer.from(`n,,${bare}`)), options: { skipEmptyExchange: true } },
    db,
  );
  expect(start.ok).toBe(1);
  const serverFirst = bytesOf(start.payload as RawBinary).toString('utf8');
  const fields = new Map(serverFirst.split(',').map((f) => [f.slice(0, 1), f.slice(2)] as const));
  const salted = pbkdf2Sync(pwd, Buffer.from(fields.get('s')!, 'base64'), Number(fields.get('i')), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=biws,r=${fields.get('r')}`;
  const signature = createHmac('sha256', storedKey).update(`${bare},${serverFirst},${withoutProof}`).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)).toString('base64');
  const done = await rawCmd(
    raw,
    { saslContinue: 1, conversationId: start.conversationId, payload: new RawBinary(Buffer.from(`${withoutProof},p=${proof}`)) },
    db,
  );
  expect(done).toMatchObject({ ok: 1, done: true });
  return raw;
}

/** A rejection with code 13 and mongod's generic "not authorized on <db> to execute command { <cmd>..." text. */
async function expectNotAuthorized(p: Promise<unknown>, prefix: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MongoServerError);
  const e = err as MongoServerError;
  expect(e.code).toBe(13);
  expect(e.codeName).toBe('Unauthorized');
  expect(e.errmsg.startsWith(prefix), e.errmsg).toBe(true);
}

const UNSET_DIGEST = 'Unauthorized to set user digest in LogicalSessionId';

interface SessionRow {
  id: string;
  uid: string;
  user: unknown;
}

async function localSessions(db: Db, spec: Document = { allUsers: true }): Promise<SessionRow[]> {
  const docs = await db.aggregate([{ $listLocalSessions: spec }]).toArray();
  return docs.map((d) => ({ id: hexOf(d._id.id as Binary), uid: hexOf(d._id.uid as Binary), user: d.user }));
}

interface Env {
  server: PocketMongo;
  admin: MongoClient;
  a: MongoClient;
  b: MongoClient;
}

/** A fresh --auth server with admin (root) and users A and B (readWrite on test), each logged in. */
async function setup(): Promise<Env> {
  const server = await startServer({ auth: true, users: [{ user: 'admin', pwd: 'secret' }], setParameter: { ...FAST_SCRAM } });
  cleanups.push(() => server.stop());
  const admin = await loginDriver(server, 'admin', 'secret', 'admin');
  for (const user of ['A', 'B']) {
    expect(await admin.db('test').command({ createUser: user, pwd: `pw-${user}`, roles: ['readWrite'] })).toEqual({ ok: 1 });
  }
  const a = await loginDriver(server, 'A', 'pw-A', 'test');
  const b = await loginDriver(server, 'B', 'pw-B', 'test');
  return { server, admin, a, b };
}

interface OpenCursor {
  cursor: AggregationCursor;
  id: Long;
  /** The id of the explicit session the cursor lives in. */
  sessionId: Buffer;
}

/**
 * A $listLocalSessions {} cursor (the caller's own sessions) of batch size 1 in an explicit
 * session, its first document read; the caller first gets several sessions so it stays open.
 */
async function openCursor(c: MongoClient): Promise<OpenCursor> {
  const ids = Array.from({ length: 6 }, () => ({ id: new UUID() }));
  expect(await c.db('test').command({ refreshSessions: ids })).toEqual({ ok: 1 });
  const session = c.startSession();
  cleanups.push(() => session.endSession());
  const cursor = c.db('test').aggregate([{ $listLocalSessions: {} }], { session, batchSize: 1 });
  expect(await cursor.next()).not.toBeNull();
  const id = cursor.id;
  if (id === undefined || id.isZero()) throw new Error('cursor not left open');
  return { cursor, id, sessionId: bytesOf(session.id!.id as Binary) };
}

async function expectAlive(open: OpenCursor): Promise<void> {
  expect(await open.cursor.next()).not.toBeNull();
}

async function expectKilled(open: OpenCursor): Promise<void> {
  await expectExactError(open.cursor.next(), 43, 'CursorNotFound', `cursor id ${open.id.toString()} not found`);
}

// ---------------------------------------------------------------------------------------------

describe('one id, two users: two sessions (§1.2, §3.4)', () => {
  test("A's session id used by B is B's own session; both listed as distinct {id, uid}", async () => {
    const { server, admin, a, b } = await setup();
    const started = await a.db('test').command({ startSession: 1 });
    const S = bytesOf(started.id.id as Binary);

    // B sends A's id as its lsid (the raw socket: the driver would put its own lsid there).
    const rawB = await loginRaw(server, 'B', 'pw-B', 'test');
    const found = await rawCmd(rawB, { find: 'c', lsid: { id: new RawBinary(S, 4) } }, 'test');
    expect(found.ok).toBe(1);
    // And through the driver, as an element of refreshSessions (same resolution, no uid: B's own).
    expect(await b.db('admin').command({ refreshSessions: [{ id: new Binary(S, 4) }] })).toEqual({ ok: 1 });

    const all = await localSessions(admin.db('admin'));
    const withS = all.filter((s) => s.id === S.toString('hex')).sort((x, y) => (x.user as string).localeCompare(y.user as string));
    expect(withS).toEqual([
      { id: S.toString('hex'), uid: UID_A.toString('hex'), user: 'A@test' },
      { id: S.toString('hex'), uid: UID_B.toString('hex'), user: 'B@test' },
    ]);
    // Every session is owned by someone who logged in.
    const owners = new Set(all.map((s) => `${s.uid}:${String(s.user)}`));
    expect(owners).toEqual(
      new Set([`${UID_ADMIN.toString('hex')}:admin@admin`, `${UID_A.toString('hex')}:A@test`, `${UID_B.toString('hex')}:B@test`]),
    );
  });

  test("$listLocalSessions {} shows only the caller's; {allUsers: true} or another user needs listSessions (§2.8)", async () => {
    const { admin, a, b } = await setup();
    await a.db('test').command({ startSession: 1 });
    await b.db('test').command({ startSession: 1 });

    const mine = await localSessions(b.db('test'), {});
    expect(mine.length).toBeGreaterThanOrEqual(2);
    for (const s of mine) expect(s).toMatchObject({ uid: UID_B.toString('hex'), user: 'B@test' });
    expect((await localSessions(b.db('test'), { allUsers: false })).length).toBe(mine.length);
    expect((await localSessions(b.db('test'), { users: [{ user: 'B', db: 'test' }] })).length).toBe(mine.length);

    await expectNotAuthorized(
      localSessions(b.db('test'), { allUsers: true }),
      'not authorized on test to execute command { aggregate: 1, pipeline: [ { $listLocalSessions: { allUsers: true } } ]',
    );
    await expectNotAuthorized(
      localSessions(b.db('test'), { users: [{ user: 'A', db: 'test' }] }),
      'not authorized on test to execute command { aggregate: 1, pipeline: [ { $listLocalSessions: { users: [ { user: "A", db: "test" } ] } } ]',
    );

    // root has listSessions: it sees A's, B's and its own.
    const everyone = await localSessions(admin.db('admin'));
    const uids = new Set(everyone.map((s) => s.uid));
    expect(uids).toEqual(new Set([UID_A, UID_B, UID_ADMIN].map((u) => u.toString('hex'))));
    expect((await localSessions(admin.db('admin'), { users: [{ user: 'A', db: 'test' }] })).every((s) => s.user === 'A@test')).toBe(true);
  });
});

describe('killSessions and friends under auth (§2.4-§2.6)', () => {
  test("B cannot kill A's session: by id it names its own; A's uid is refused, on the element and on the lsid", async () => {
    const { server, admin, a, b } = await setup();
    const opened = await openCursor(a);

    // {id} alone is B's own session with that id: nothing of A's dies.
    expect(await b.db('admin').command({ killSessions: [{ id: new Binary(opened.sessionId, 4) }] })).toEqual({ ok: 1 });
    await expectAlive(opened);

    await expectExactError(
      b.db('admin').command({ killSessions: [{ id: new Binary(opened.sessionId, 4), uid: new Binary(UID_A) }] }),
      13,
      'Unauthorized',
      UNSET_DIGEST,
    );
    // The same uid as B's lsid, on any command (§3.2).
    const rawB = await loginRaw(server, 'B', 'pw-B', 'test');
    const spoofed = { id: new RawBinary(opened.sessionId, 4), uid: new RawBinary(UID_A) };
    expect(await rawCmd(rawB, { find: 'c', lsid: spoofed }, 'test')).toEqual({ ok: 0, errmsg: UNSET_DIGEST, code: 13, codeName: 'Unauthorized' });
    expect(await rawCmd(rawB, { ping: 1, lsid: spoofed })).toEqual({ ok: 0, errmsg: UNSET_DIGEST, code: 13, codeName: 'Unauthorized' });
    // ... including on killSessions itself, whose lsid is validated though not attached.
    expect(await rawCmd(rawB, { killSessions: [], lsid: spoofed })).toEqual({ ok: 0, errmsg: UNSET_DIGEST, code: 13, codeName: 'Unauthorized' });
    // B's own uid is accepted.
    expect((await rawCmd(rawB, { find: 'c', lsid: { id: new RawBinary(opened.sessionId, 4), uid: new RawBinary(UID_B) } }, 'test')).ok).toBe(1);
    await expectAlive(opened);

    // root holds killAnySession: it may name A's uid.
    expect(await admin.db('admin').command({ killSessions: [{ id: new Binary(opened.sessionId, 4), uid: new Binary(UID_A) }] })).toEqual({
      ok: 1,
    });
    await expectKilled(opened);
    // A killed session stays listed and usable (§2.4).
    const listed = await localSessions(admin.db('admin'));
    expect(listed).toContainEqual({ id: opened.sessionId.toString('hex'), uid: UID_A.toString('hex'), user: 'A@test' });
    expect(await a.db('test').collection('c').find({}).toArray()).toEqual([]);
  });

  test('killAllSessions needs killAnySession; killAllSessionsByPattern by uid works for root, users/roles need impersonate', async () => {
    const { admin, a, b } = await setup();
    const ofA = await openCursor(a);
    const ofB = await openCursor(b);

    await expectNotAuthorized(b.db('admin').command({ killAllSessions: [] }), 'not authorized on admin to execute command { killAllSessions: [], ');
    await expectNotAuthorized(
      b.db('admin').command({ killAllSessions: [{ user: 'A', db: 'test' }] }),
      'not authorized on admin to execute command { killAllSessions: [ { user: "A", db: "test" } ], ',
    );
    await expectNotAuthorized(
      b.db('admin').command({ killAllSessionsByPattern: [{ uid: new Binary(UID_A) }] }),
      'not authorized on admin to execute command { killAllSessionsByPattern: [ { uid: BinData(0, ',
    );
    await expectAlive(ofA);
    await expectAlive(ofB);

    // root lacks impersonate (§2.6).
    for (const pattern of [{ users: [{ user: 'A', db: 'test' }] }, { roles: [{ role: 'readWrite', db: 'test' }] }, { uid: new Binary(UID_A), users: [] }]) {
      await expectExactError(
        admin.db('admin').command({ killAllSessionsByPattern: [pattern] }),
        13,
        'Unauthorized',
        'Not authorized to impersonate in killAllSessionsByPattern',
      );
    }
    await expectAlive(ofA);
    await expectAlive(ofB);

    expect(await admin.db('admin').command({ killAllSessionsByPattern: [{ uid: new Binary(UID_A) }] })).toEqual({ ok: 1 });
    await expectKilled(ofA);
    await expectAlive(ofB);

    // killAllSessions naming B (root may) kills B's.
    expect(await admin.db('admin').command({ killAllSessions: [{ user: 'B', db: 'test' }] })).toEqual({ ok: 1 });
    await expectKilled(ofB);
  });

  test("killSessions [] from B kills only B's cursors (§2.4 patternsForLoggedInUser)", async () => {
    const { a, b } = await setup();
    const ofA = await openCursor(a);
    const ofB = await openCursor(b);
    expect(await b.db('admin').command({ killSessions: [] })).toEqual({ ok: 1 });
    await expectKilled(ofB);
    await expectAlive(ofA);
  });
});

describe('cursors under auth (§3.3)', () => {
  test("B's getMore on A's cursor: 13, whatever lsid B sends; A may continue it from any connection", async () => {
    const { server, a, b } = await setup();
    const opened = await openCursor(a);
    const cursorId = RawLong.fromString(opened.id.toString());
    const theirs = lsidText(opened.sessionId, UID_A);
    const message = (mine: string) =>
      `Cursor session id (${theirs}) is not the same as the operation context's session id (${mine})`;

    const rawB = await loginRaw(server, 'B', 'pw-B', 'test');
    const X = new RawUUID();
    const getMore = { getMore: cursorId, collection: '$cmd.aggregate', batchSize: 1 };
    expect(await rawCmd(rawB, { ...getMore, lsid: { id: X } }, 'test')).toEqual({
      ok: 0,
      errmsg: message(lsidText(Buffer.from(X.toHexString(false), 'hex'), UID_B)),
      code: 13,
      codeName: 'Unauthorized',
    });
    // A's session id, without a uid: B's own session with that id, not A's.
    expect(await rawCmd(rawB, { ...getMore, lsid: { id: new RawBinary(opened.sessionId, 4) } }, 'test')).toEqual({
      ok: 0,
      errmsg: message(lsidText(opened.sessionId, UID_B)),
      code: 13,
      codeName: 'Unauthorized',
    });
    expect(await rawCmd(rawB, getMore, 'test')).toEqual({ ok: 0, errmsg: message('none'), code: 13, codeName: 'Unauthorized' });

    // Through the driver (its implicit session).
    const err = await b
      .db('test')
      .command({ getMore: opened.id, collection: '$cmd.aggregate' })
      .then(
        () => undefined,
        (e: unknown) => e as MongoServerError,
      );
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err!.code).toBe(13);
    const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(err!.errmsg).toMatch(
      new RegExp(
        `^Cursor session id \\(${escaped(theirs)}\\) is not the same as the operation context's session id \\([0-9a-f-]{36} - ${escaped(UID_B.toString('base64'))} -  - \\)$`,
      ),
    );

    // Nothing of that hurt the cursor; A continues it from another connection in the same session.
    await expectAlive(opened);
    const rawA = await loginRaw(server, 'A', 'pw-A', 'test');
    const more = await rawCmd(rawA, { ...getMore, lsid: { id: new RawBinary(opened.sessionId, 4) } }, 'test');
    expect(more.ok).toBe(1);
    expect(more.cursor.nextBatch).toHaveLength(1);
    // But not outside its session: the 5073x checks follow the auth check for the owner too.
    expect(await rawCmd(rawA, getMore, 'test')).toEqual({ ok: 0, errmsg: message('none'), code: 13, codeName: 'Unauthorized' });
  });

  // BUG (src/commands/cursors.ts killCursors, src/commands/registry.ts killCursors privileges): any
  // user with killCursors on the database (readWrite has it) kills another user's cursor. mongod
  // checks the cursor's owner (AuthorizationSession::checkAuthForKillCursors: the owner, or
  // killAnyCursor) in the command's authorization check, and the refusal becomes the generic
  // "not authorized on test to execute command { killCursors: ... }" (13) (sessions-semantics.md
  // §3.3, FerretDB's observation against MongoDB). Actual: {cursorsKilled: [id], ...}, ok: 1, and
  // A's next getMore gets 43 CursorNotFound.
  test("B's killCursors on A's cursor is refused (13) and the cursor survives", async () => {
    const { a, b } = await setup();
    const opened = await openCursor(a);
    await expectNotAuthorized(
      b.db('test').command({ killCursors: '$cmd.aggregate', cursors: [opened.id] }),
      'not authorized on test to execute command { killCursors: "$cmd.aggregate", cursors: [ ',
    );
    await expectAlive(opened);
  });

  test('A kills its own cursor (the driver sends killCursors in the cursor\'s session)', async () => {
    const { server, a } = await setup();
    const opened = await openCursor(a);
    await opened.cursor.close();
    const rawA = await loginRaw(server, 'A', 'pw-A', 'test');
    const getMore = { getMore: RawLong.fromString(opened.id.toString()), collection: '$cmd.aggregate', lsid: { id: new RawBinary(opened.sessionId, 4) } };
    expect(await rawCmd(rawA, getMore, 'test')).toEqual({
      ok: 0,
      errmsg: `cursor id ${opened.id.toString()} not found`,
      code: 43,
      codeName: 'CursorNotFound',
    });
  });

  test('root (no impersonate) cannot continue a user\'s cursor either', async () => {
    const { admin, a } = await setup();
    const opened = await openCursor(a);
    const err = await admin
      .db('test')
      .command({ getMore: opened.id, collection: '$cmd.aggregate' })
      .then(
        () => undefined,
        (e: unknown) => e as MongoServerError,
      );
    expect(err?.code).toBe(13);
    expect(err?.errmsg.startsWith(`Cursor session id (${lsidText(opened.sessionId, UID_A)}) is not the same`)).toBe(true);
    await expectAlive(opened);
  });
});
