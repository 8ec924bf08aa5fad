/**
 * End-to-end: the command surface of a bare server (ping, buildInfo, dispatch errors, the
 * diagnostic and parameter commands) through the official driver over TCP, plus the server's
 * lifecycle (maxConns, shutdown, stop, several servers, asyncDispose).
 */
import { UUID, type Document } from 'bson';
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PocketMongo, VirtualClock } from '../../src/index.js';
import { encodeOpMsg, RawClient, until, withRawClient } from '../helpers/rawClient.js';
import { startServer } from '../helpers/server.js';

let server: PocketMongo;
let client: MongoClient;
let admin: Db;
let testDb: Db;

beforeAll(async () => {
  server = await startServer();
  client = new MongoClient(server.uri, { maxPoolSize: 1 });
  await client.connect();
  admin = client.db('admin');
  testDb = client.db('test');
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

/** Runs a command expected to fail and returns mongod's error reply document as received. */
async function errorReply(db: Db, command: Document): Promise<Document> {
  try {
    const reply = await db.command(command);
    throw new Error(`expected an error, got ${JSON.stringify(reply)}`);
  } catch (err) {
    if (!(err instanceof MongoServerError)) throw err;
    return err.errorResponse;
  }
}

describe('basic commands', () => {
  test('connect and ping answer exactly {ok: 1}', async () => {
    expect(await admin.command({ ping: 1 })).toEqual({ ok: 1 });
    expect(await testDb.command({ ping: 1 })).toEqual({ ok: 1 });
  });

  test('buildInfo reports 7.0.14', async () => {
    const info = await admin.command({ buildInfo: 1 });
    expect(info.version).toBe('7.0.14');
    expect(info.versionArray).toEqual([7, 0, 14, 0]);
    expect(info.versionArray).toHaveLength(4);
    for (const n of info.versionArray as unknown[]) expect(Number.isInteger(n)).toBe(true);
    expect(info.maxBsonObjectSize).toBe(16 * 1024 * 1024);
    expect(info.bits).toBe(64);
    expect(info.debug).toBe(false);
    expect(info.ok).toBe(1);
    expect(Array.isArray(info.storageEngines)).toBe(true);
    // mongosh flags a server carrying a `ferretdb` key as non-genuine.
    expect(info).not.toHaveProperty('ferretdb');
  });

  test('buildinfo (lower case alias) works on any database', async () => {
    expect((await testDb.command({ buildinfo: 1 })).version).toBe('7.0.14');
  });

  test('an unknown command is CommandNotFound (59)', async () => {
    expect(await errorReply(testDb, { fooBar: 1 })).toEqual({
      ok: 0,
      errmsg: "no such command: 'fooBar'",
      code: 59,
      codeName: 'CommandNotFound',
    });
  });

  test.each(['getParameter', 'getLog', 'getCmdLineOpts', 'setParameter', 'shutdown'])(
    'admin-only %s on db test is Unauthorized (13)',
    async (name) => {
      expect(await errorReply(testDb, { [name]: 1 })).toEqual({
        ok: 0,
        errmsg: `${name} may only be run against the admin database.`,
        code: 13,
        codeName: 'Unauthorized',
      });
    },
  );

  test('ping with an unknown field is 40415', async () => {
    expect(await errorReply(admin, { ping: 1, foo: 1 })).toEqual({
      ok: 0,
      errmsg: "BSON field 'ping.foo' is an unknown field.",
      code: 40415,
      codeName: 'Location40415',
    });
  });

  test('ping with a writeConcern is InvalidOptions (72)', async () => {
    expect(await errorReply(admin, { ping: 1, writeConcern: { w: 1 } })).toEqual({
      ok: 0,
      errmsg: 'Command does not support writeConcern',
      code: 72,
      codeName: 'InvalidOptions',
    });
  });

  test('generic arguments are accepted on ping', async () => {
    expect(
      await admin.command({
        ping: 1,
        comment: 'a comment',
        maxTimeMS: 1000,
        $readPreference: { mode: 'primaryPreferred' },
        lsid: { id: new UUID() },
      }),
    ).toEqual({ ok: 1 });
    const session = client.startSession();
    try {
      expect(await admin.command({ ping: 1 }, { session })).toEqual({ ok: 1 });
    } finally {
      await session.endSession();
    }
  });

  test('apiVersion "1" through the serverApi option', async () => {
    for (const serverApi of [{ version: '1' as const }, { version: '1' as const, strict: true, deprecationErrors: true }]) {
      const apiClient = new MongoClient(server.uri, { serverApi });
      try {
        expect(await apiClient.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
        expect((await apiClient.db('admin').command({ hello: 1 })).isWritablePrimary).toBe(true);
      } finally {
        await apiClient.close();
      }
    }
  });

  test('apiStrict refuses a command outside API version 1; an unknown apiVersion is refused', async () => {
    const strictClient = new MongoClient(server.uri, { serverApi: { version: '1', strict: true } });
    try {
      const reply = await errorReply(strictClient.db('admin'), { buildInfo: 1 });
      expect(reply).toMatchObject({ ok: 0, code: 323, codeName: 'APIStrictError' });
      expect(reply.errmsg).toContain('buildInfo');
    } finally {
      await strictClient.close();
    }
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.command({ ping: 1, apiVersion: '2', $db: 'admin' });
      expect(reply.doc).toMatchObject({ ok: 0, code: 322, codeName: 'APIVersionError' });
    });
  });

  test('the raw reply to ping is a single OP_MSG with {ok: 1.0}', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.command({ ping: 1, $db: 'admin' });
      expect(reply.opCode).toBe(2013);
      expect(reply.flags).toBe(0);
      expect(reply.doc).toEqual({ ok: 1 });
    });
  });
});

describe('getParameter', () => {
  test('featureCompatibilityVersion', async () => {
    expect(await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 })).toEqual({
      featureCompatibilityVersion: { version: '7.0' },
      ok: 1,
    });
  });

  test("'*' returns every parameter, in alphabetical order", async () => {
    const reply = await admin.command({ getParameter: '*' });
    expect(reply.localLogicalSessionTimeoutMinutes).toBe(30);
    expect(reply.featureCompatibilityVersion).toEqual({ version: '7.0' });
    const names = Object.keys(reply).filter((k) => k !== 'ok');
    expect(names).toEqual([...names].sort());
    expect(Object.keys(reply).at(-1)).toBe('ok');
    expect(await admin.command({ getParameter: { allParameters: true } })).toEqual(reply);
  });

  test('an unknown parameter is InvalidOptions (72)', async () => {
    expect(await errorReply(admin, { getParameter: 1, noSuchParameter: 1 })).toEqual({
      ok: 0,
      errmsg: 'no option found to get',
      code: 72,
      codeName: 'InvalidOptions',
    });
  });

  test('showDetails', async () => {
    const reply = await admin.command({
      getParameter: { showDetails: true },
      cursorTimeoutMillis: 1,
      localLogicalSessionTimeoutMinutes: 1,
    });
    expect(reply).toEqual({
      cursorTimeoutMillis: { value: 600_000, settableAtRuntime: true, settableAtStartup: true },
      localLogicalSessionTimeoutMinutes: { value: 30, settableAtRuntime: false, settableAtStartup: true },
      ok: 1,
    });
  });

  test('values keep their BSON types (int, long)', async () => {
    const reply = await admin.command(
      { getParameter: 1, cursorTimeoutMillis: 1, localLogicalSessionTimeoutMinutes: 1 },
      { promoteLongs: false },
    );
    expect(reply.cursorTimeoutMillis._bsontype).toBe('Long');
    expect(typeof reply.localLogicalSessionTimeoutMinutes).toBe('number');
  });
});

describe('setParameter', () => {
  test('a runtime parameter is set and the old value returned as `was`', async () => {
    expect(await admin.command({ setParameter: 1, cursorTimeoutMillis: 1234 })).toEqual({ was: 600_000, ok: 1 });
    expect(await admin.command({ getParameter: 1, cursorTimeoutMillis: 1 })).toEqual({ cursorTimeoutMillis: 1234, ok: 1 });
    expect(await admin.command({ setParameter: 1, cursorTimeoutMillis: 600_000 })).toEqual({ was: 1234, ok: 1 });
  });

  test('a startup-only parameter is IllegalOperation (20)', async () => {
    expect(await errorReply(admin, { setParameter: 1, localLogicalSessionTimeoutMinutes: 5 })).toEqual({
      ok: 0,
      errmsg: 'not allowed to change [localLogicalSessionTimeoutMinutes] at runtime',
      code: 20,
      codeName: 'IllegalOperation',
    });
    expect((await admin.command({ getParameter: 1, localLogicalSessionTimeoutMinutes: 1 })).localLogicalSessionTimeoutMinutes).toBe(30);
  });

  test('an unknown parameter is InvalidOptions (72), with the trailing space', async () => {
    expect(await errorReply(admin, { setParameter: 1, noSuchParameter: 1 })).toEqual({
      ok: 0,
      errmsg: 'attempted to set unrecognized parameter [noSuchParameter], use help:true to see options ',
      code: 72,
      codeName: 'InvalidOptions',
    });
  });

  test('nothing to set is InvalidOptions (72)', async () => {
    expect(await errorReply(admin, { setParameter: 1 })).toEqual({
      ok: 0,
      errmsg: 'no option found to set, use help:true to see options ',
      code: 72,
      codeName: 'InvalidOptions',
    });
  });

  test('featureCompatibilityVersion is IllegalOperation (20)', async () => {
    const reply = await errorReply(admin, { setParameter: 1, featureCompatibilityVersion: '7.0' });
    expect(reply).toMatchObject({ ok: 0, code: 20, codeName: 'IllegalOperation' });
  });
});

describe('diagnostics', () => {
  test('getCmdLineOpts', async () => {
    const reply = await admin.command({ getCmdLineOpts: 1 });
    expect(reply.ok).toBe(1);
    expect(reply.argv).toEqual(['pocketmongo']);
    expect(reply.parsed.net.bindIp).toBe('127.0.0.1');
    await using other = await startServer({ argv: ['pocketmongo', '--port', '0', '--maxConns', '7'], maxConns: 7 });
    const otherClient = new MongoClient(other.uri);
    try {
      const opts = await otherClient.db('admin').command({ getCmdLineOpts: 1 });
      expect(opts.argv).toEqual(['pocketmongo', '--port', '0', '--maxConns', '7']);
      expect(opts.parsed.net.maxIncomingConnections).toBe(7);
    } finally {
      await otherClient.close();
    }
  });

  test("getLog '*' lists the logs", async () => {
    expect(await admin.command({ getLog: '*' })).toEqual({ names: ['global', 'startupWarnings'], ok: 1 });
  });

  test("getLog 'startupWarnings'", async () => {
    const reply = await admin.command({ getLog: 'startupWarnings' });
    expect(Object.keys(reply)).toEqual(['totalLinesWritten', 'log', 'ok']);
    expect(reply.totalLinesWritten).toBe(reply.log.length);
    const entries = (reply.log as string[]).map((line) => JSON.parse(line));
    // Every startup warning is a warning; a test-commands warning only when they are enabled.
    for (const entry of entries) expect(entry.s).toBe('W');
    expect(entries.map((e) => e.id)).not.toContain(20535);
    await using testServer = await startServer({ setParameter: { enableTestCommands: '1' } });
    const c = new MongoClient(testServer.uri);
    try {
      const warnings = await c.db('admin').command({ getLog: 'startupWarnings' });
      expect(warnings.totalLinesWritten).toBe(reply.totalLinesWritten + 1);
      expect(warnings.log.map((line: string) => JSON.parse(line))).toContainEqual(
        expect.objectContaining({ s: 'W', c: 'CONTROL', id: 20535, msg: 'Test commands are enabled' }),
      );
    } finally {
      await c.close();
    }
  });

  test("getLog 'global' holds mongod-shaped JSON lines", async () => {
    const reply = await admin.command({ getLog: 'global' }, { promoteLongs: false });
    expect(reply.totalLinesWritten._bsontype).toBe('Long');
    expect(reply.log.length).toBeGreaterThan(0);
    for (const line of reply.log as string[]) {
      const entry = JSON.parse(line);
      expect(Object.keys(entry)).toEqual(expect.arrayContaining(['t', 's', 'c', 'id', 'ctx', 'msg']));
      expect(typeof entry.t.$date).toBe('string');
      expect(['I', 'W', 'E', 'F', 'D1', 'D2']).toContain(entry.s);
      expect(typeof entry.id).toBe('number');
    }
    const messages = (reply.log as string[]).map((l) => JSON.parse(l).msg);
    expect(messages).toContain('Waiting for connections');
    expect(messages).toContain('Connection accepted');
  });

  // DIVERGENCE: mongod's log lines have their fields in the order t, s, c, id, ctx, msg, attr
  // (logv2's JSON formatter); pino writes s, t, c, id, ctx, attr, msg (src/log.ts).
  test("getLog 'global' lines have mongod's field order", async () => {
    const reply = await admin.command({ getLog: 'global' });
    for (const line of reply.log as string[]) {
      const keys = Object.keys(JSON.parse(line));
      const expected = ['t', 's', 'c', 'id', 'ctx', 'msg', 'attr'].filter((k) => keys.includes(k));
      expect(keys).toEqual(expected);
    }
  });

  test("getLog 'nope' is OperationFailed (96)", async () => {
    expect(await errorReply(admin, { getLog: 'nope' })).toEqual({
      ok: 0,
      errmsg: "No log named 'nope'",
      code: 96,
      codeName: 'OperationFailed',
    });
  });

  test('getLog errors for a missing or non-string argument', async () => {
    expect(await errorReply(admin, { getLog: null })).toEqual({
      ok: 0,
      errmsg: "BSON field 'getLog.getLog' is missing but a required field",
      code: 40414,
      codeName: 'Location40414',
    });
    expect(await errorReply(admin, { getLog: 1 })).toEqual({
      ok: 0,
      errmsg: "BSON field 'getLog.getLog' is the wrong type 'int', expected type 'string'",
      code: 14,
      codeName: 'TypeMismatch',
    });
  });

  // mongod's RamLog keeps the last 1024 lines, but totalLinesWritten counts every line ever written.
  test("getLog 'global' totalLinesWritten counts lines beyond the 1024 kept", async () => {
    await using busy = await startServer();
    await withRawClient(busy.port, async (raw) => {
      // Each successful setParameter logs one line (id 23435); pipeline them in one write.
      const messages = Array.from({ length: 1100 }, (_, i) =>
        encodeOpMsg({ setParameter: 1, cursorTimeoutMillis: 1000 + i, $db: 'admin' }),
      );
      await raw.write(Buffer.concat(messages));
      for (let i = 0; i < messages.length; i++) expect((await raw.next()).doc.ok).toBe(1);
      const reply = (await raw.command({ getLog: 'global', $db: 'admin' })).doc;
      expect(reply.log).toHaveLength(1024);
      expect(reply.totalLinesWritten).toBeGreaterThan(1100);
    });
  });

  test('hostInfo', async () => {
    const reply = await testDb.command({ hostInfo: 1 });
    expect(Object.keys(reply)).toEqual(['system', 'os', 'extra', 'ok']);
    expect(reply.system.currentTime).toBeInstanceOf(Date);
    expect(typeof reply.system.hostname).toBe('string');
    expect(reply.system.numCores).toBeGreaterThan(0);
    expect(Object.keys(reply.os)).toEqual(['type', 'name', 'version']);
  });

  test('serverStatus header, sections and counters', async () => {
    const first = await testDb.command({ serverStatus: 1 });
    const keys = Object.keys(first);
    expect(keys.slice(0, 8)).toEqual(['host', 'version', 'process', 'pid', 'uptime', 'uptimeMillis', 'uptimeEstimate', 'localTime']);
    expect(keys.at(-1)).toBe('ok');
    const sections = keys.slice(8, -1);
    expect(sections).toEqual([...sections].sort());
    expect(sections).toEqual(expect.arrayContaining(['connections', 'mem', 'network', 'opcounters']));
    expect(first.version).toBe('7.0.14');
    expect(first.process).toBe('mongod');
    expect(first.pid).toBe(process.pid);
    expect(first.host).toMatch(new RegExp(`:${server.port}$`));
    expect(first.localTime).toBeInstanceOf(Date);
    expect(first.connections.current).toBeGreaterThanOrEqual(1);
    expect(first.connections.available + first.connections.current).toBe(1_000_000);
    expect(Object.keys(first.opcounters)).toEqual(['insert', 'query', 'update', 'delete', 'getmore', 'command']);
    expect(first.network.numRequests).toBeGreaterThan(0);
    expect(first.mem.bits).toBe(64);
    await testDb.command({ ping: 1 });
    const second = await testDb.command({ serverStatus: 1 });
    expect(second.opcounters.command).toBeGreaterThanOrEqual(first.opcounters.command + 2);
    expect(second.network.numRequests).toBeGreaterThan(first.network.numRequests);
    expect(second.network.bytesIn).toBeGreaterThan(first.network.bytesIn);
    expect(second.network.bytesOut).toBeGreaterThan(first.network.bytesOut);
  });

  test('serverStatus with a section turned off leaves it out', async () => {
    const reply = await testDb.command({ serverStatus: 1, mem: 0 });
    expect(reply).not.toHaveProperty('mem');
    expect(reply).toHaveProperty('connections');
  });

  test('whatsmyuri answers the client address', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.command({ whatsmyuri: 1, $db: 'test' });
      expect(reply.doc).toEqual({ you: raw.localAddress, ok: 1 });
    });
    expect((await testDb.command({ whatsmyuri: 1 })).you).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  test('connectionStatus', async () => {
    expect(await testDb.command({ connectionStatus: 1 })).toEqual({
      authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] },
      ok: 1,
    });
    expect(await testDb.command({ connectionStatus: 1, showPrivileges: true })).toEqual({
      authInfo: { authenticatedUsers: [], authenticatedUserRoles: [], authenticatedUserPrivileges: [] },
      ok: 1,
    });
  });

  test('listCommands', async () => {
    const { commands, ok } = await testDb.command({ listCommands: 1 });
    expect(ok).toBe(1);
    const names = Object.keys(commands);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['buildInfo', 'hello', 'ping', 'getParameter', 'shutdown']));
    // Aliases are not listed.
    expect(names).not.toContain('isMaster');
    expect(names).not.toContain('ismaster');
    expect(names).not.toContain('buildinfo');
    expect(commands.ping).toMatchObject({ requiresAuth: false, adminOnly: false, apiVersions: ['1'], deprecatedApiVersions: [] });
    expect(commands.hello).toMatchObject({ requiresAuth: false, adminOnly: false, secondaryOk: true });
    expect(typeof commands.hello.help).toBe('string');
    expect(commands.getParameter).toMatchObject({ requiresAuth: true, adminOnly: true });
    expect(Object.keys(commands.ping)).toEqual(['help', 'requiresAuth', 'secondaryOk', 'adminOnly', 'apiVersions', 'deprecatedApiVersions']);
  });
});

describe('lifecycle', () => {
  test('maxConns: the connection over the limit is closed by the server', async () => {
    await using limited = await startServer({ maxConns: 2 });
    const a = await RawClient.connect(limited.port);
    const b = await RawClient.connect(limited.port);
    try {
      expect((await a.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      expect((await b.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      const c = await RawClient.connect(limited.port);
      await c.closed;
      expect(c.received).toHaveLength(0);
      // The first two are unaffected, and once one goes a new connection is accepted.
      expect((await a.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      await b.close();
      await until(() => limited.services.clients.open.size === 1);
      const d = await RawClient.connect(limited.port);
      try {
        expect((await d.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      } finally {
        await d.close();
      }
      const status = (await a.command({ serverStatus: 1, $db: 'admin' })).doc;
      expect(status.connections.rejected).toBe(1);
      expect(status.connections.available).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('the shutdown command on admin stops the server without a reply', async () => {
    const doomed = await startServer();
    const raw = await RawClient.connect(doomed.port);
    const other = await RawClient.connect(doomed.port);
    await raw.sendMsg({ shutdown: 1, $db: 'admin' });
    await raw.closed;
    expect(raw.received).toHaveLength(0);
    await doomed.closed;
    await other.closed;
    await expect(RawClient.connect(doomed.port)).rejects.toThrow();
  });

  test('the shutdown command through the driver', async () => {
    const doomed = await startServer();
    const c = new MongoClient(doomed.uri, { retryReads: false, serverSelectionTimeoutMS: 2000 });
    try {
      await c.db('admin').command({ ping: 1 });
      await expect(c.db('admin').command({ shutdown: 1 })).rejects.toThrow();
      await doomed.closed;
    } finally {
      await c.close();
    }
  });

  test('stop() releases a pending awaitable hello and closes connections', async () => {
    const clock = new VirtualClock();
    const stopped = await startServer({ clock });
    const raw = await RawClient.connect(stopped.port);
    const first = await raw.command({ hello: 1, $db: 'admin' });
    await raw.sendMsg({ hello: 1, $db: 'admin', topologyVersion: first.doc.topologyVersion, maxAwaitTimeMS: 10_000 });
    await until(() => stopped.services.topology.waiting === 1);
    const timersWhileWaiting = clock.pendingTimers;
    await stopped.stop();
    await raw.closed;
    await stopped.closed;
    // The wait ended without the clock moving: no hello waits any more and its timer is gone.
    expect(stopped.services.topology.waiting).toBe(0);
    expect(clock.pendingTimers).toBeLessThan(timersWhileWaiting);
  });

  test('stop() is idempotent and closed resolves', async () => {
    const s = await startServer();
    await Promise.all([s.stop(), s.stop()]);
    await s.closed;
    await s.stop();
  });

  test('two servers in one process are independent', async () => {
    const one = await startServer();
    const two = await startServer();
    try {
      expect(one.port).not.toBe(two.port);
      const c1 = new MongoClient(one.uri);
      const c2 = new MongoClient(two.uri);
      try {
        await c1.db('admin').command({ setParameter: 1, cursorTimeoutMillis: 42 });
        expect((await c1.db('admin').command({ getParameter: 1, cursorTimeoutMillis: 1 })).cursorTimeoutMillis).toBe(42);
        expect((await c2.db('admin').command({ getParameter: 1, cursorTimeoutMillis: 1 })).cursorTimeoutMillis).toBe(600_000);
        const h1 = await c1.db('admin').command({ hello: 1 });
        const h2 = await c2.db('admin').command({ hello: 1 });
        expect(h1.topologyVersion.processId.equals(h2.topologyVersion.processId)).toBe(false);
        await one.stop();
        expect(await c2.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
      } finally {
        await c1.close();
        await c2.close();
      }
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  test('Symbol.asyncDispose stops the server', async () => {
    let port: number;
    let closed: Promise<void>;
    {
      await using s = await startServer();
      port = s.port;
      closed = s.closed;
      await withRawClient(port, async (raw) => {
        expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      });
    }
    await closed;
    await expect(RawClient.connect(port)).rejects.toThrow();
    const s2 = await PocketMongo.start({ port: 0 });
    await s2[Symbol.asyncDispose]();
    await s2.closed;
  });
});
