/**
 * End-to-end: the connection handshake (hello / isMaster), compression negotiation, the awaitable
 * hello and its exhaust streaming, and unacknowledged (w:0 / moreToCome) commands, through the
 * official driver and a raw socket client.
 */
import Module, { createRequire } from 'node:module';
import { ObjectId, type Document } from 'bson';
import { MongoClient, MongoServerError, type Db, type ServerHeartbeatSucceededEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VirtualClock, type PocketMongo } from '../../src/index.js';
import {
  COMPRESSOR,
  FLAG_EXHAUST_ALLOWED,
  FLAG_MORE_TO_COME,
  RawClient,
  until,
  withRawClient,
  type Reply,
} from '../helpers/rawClient.js';
import { startServer } from '../helpers/server.js';

let server: PocketMongo;
let client: MongoClient;
let admin: Db;

beforeAll(async () => {
  server = await startServer();
  client = new MongoClient(server.uri, { maxPoolSize: 1 });
  await client.connect();
  admin = client.db('admin');
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

async function errorReply(db: Db, command: Document): Promise<Document> {
  try {
    const reply = await db.command(command);
    throw new Error(`expected an error, got ${JSON.stringify(reply)}`);
  } catch (err) {
    if (!(err instanceof MongoServerError)) throw err;
    return err.errorResponse;
  }
}

const NODE_METADATA = {
  driver: { name: 'nodejs', version: '7.9.0' },
  os: { type: 'Linux', name: 'linux', architecture: 'x64', version: '6.0' },
  platform: 'Node.js v20, LE',
};

/** The 7.0 standalone hello reply's fields, in mongod's order (after the primary flag). */
const HELLO_FIELDS = [
  'topologyVersion',
  'maxBsonObjectSize',
  'maxMessageSizeBytes',
  'maxWriteBatchSize',
  'localTime',
  'logicalSessionTimeoutMinutes',
  'connectionId',
  'minWireVersion',
  'maxWireVersion',
  'readOnly',
];

describe('hello and isMaster', () => {
  test('hello answers isWritablePrimary with the 7.0 standalone fields, in order', async () => {
    await withRawClient(server.port, async (raw) => {
      const { doc } = await raw.command({ hello: 1, $db: 'admin' });
      expect(Object.keys(doc)).toEqual(['isWritablePrimary', ...HELLO_FIELDS, 'ok']);
      expect(doc.isWritablePrimary).toBe(true);
      expect(doc.topologyVersion.processId).toBeInstanceOf(ObjectId);
      expect(doc.topologyVersion.counter).toBe(0);
      expect(doc.maxBsonObjectSize).toBe(16_777_216);
      expect(doc.maxMessageSizeBytes).toBe(48_000_000);
      expect(doc.maxWriteBatchSize).toBe(100_000);
      expect(doc.localTime).toBeInstanceOf(Date);
      expect(doc.logicalSessionTimeoutMinutes).toBe(30);
      expect(doc.minWireVersion).toBe(0);
      expect(doc.maxWireVersion).toBe(21);
      expect(doc.readOnly).toBe(false);
      expect(doc.ok).toBe(1);
    });
  });

  test.each(['isMaster', 'ismaster'])('%s answers ismaster: true', async (name) => {
    await withRawClient(server.port, async (raw) => {
      const { doc } = await raw.command({ [name]: 1, $db: 'admin' });
      expect(Object.keys(doc)).toEqual(['ismaster', ...HELLO_FIELDS, 'ok']);
      expect(doc.ismaster).toBe(true);
      expect(doc).not.toHaveProperty('isWritablePrimary');
    });
  });

  test('the OP_QUERY handshake (as the driver sends it) gets an OP_REPLY', async () => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('admin.$cmd', {
        ismaster: 1,
        helloOk: true,
        client: NODE_METADATA,
        compression: ['none'],
      });
      expect(reply.opCode).toBe(1);
      expect(reply.responseFlags).toBe(8);
      expect(reply.numberReturned).toBe(1);
      expect(Object.keys(reply.doc)).toEqual(['helloOk', 'ismaster', ...HELLO_FIELDS, 'compression', 'ok']);
      expect(reply.doc.compression).toEqual([]);
    });
  });

  test('helloOk is echoed only when asked for', async () => {
    await withRawClient(server.port, async (raw) => {
      expect((await raw.command({ hello: 1, $db: 'admin' })).doc).not.toHaveProperty('helloOk');
      expect((await raw.command({ hello: 1, helloOk: false, $db: 'admin' })).doc).not.toHaveProperty('helloOk');
      const asked = (await raw.command({ isMaster: 1, helloOk: true, $db: 'admin' })).doc;
      expect(asked.helloOk).toBe(true);
      expect(Object.keys(asked)[0]).toBe('helloOk');
    });
  });

  test('through the driver', async () => {
    const reply = await admin.command({ hello: 1 });
    expect(reply.isWritablePrimary).toBe(true);
    expect(reply.logicalSessionTimeoutMinutes).toBe(30);
    expect(reply).not.toHaveProperty('helloOk');
    expect((await admin.command({ isMaster: 1 })).ismaster).toBe(true);
    expect((await client.db('test').command({ hello: 1 })).isWritablePrimary).toBe(true);
  });

  test('logicalSessionTimeoutMinutes follows the startup parameter', async () => {
    await using other = await startServer({ setParameter: { localLogicalSessionTimeoutMinutes: 7 } });
    await withRawClient(other.port, async (raw) => {
      expect((await raw.command({ hello: 1, $db: 'admin' })).doc.logicalSessionTimeoutMinutes).toBe(7);
    });
  });

  test('connectionId differs between connections', async () => {
    const a = await RawClient.connect(server.port);
    const b = await RawClient.connect(server.port);
    try {
      const idA = (await a.command({ hello: 1, $db: 'admin' })).doc.connectionId;
      const idB = (await b.command({ hello: 1, $db: 'admin' })).doc.connectionId;
      expect(Number.isInteger(idA)).toBe(true);
      expect(idA).not.toBe(idB);
      // Stable for a connection.
      expect((await a.command({ hello: 1, $db: 'admin' })).doc.connectionId).toBe(idA);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('client metadata on a second hello is ClientMetadataCannotBeMutated (186)', async () => {
    const expected = {
      ok: 0,
      errmsg: 'The client metadata document may only be sent in the first hello',
      code: 186,
      codeName: 'ClientMetadataCannotBeMutated',
    };
    await withRawClient(server.port, async (raw) => {
      expect((await raw.query('admin.$cmd', { isMaster: 1, client: NODE_METADATA })).doc.ismaster).toBe(true);
      expect((await raw.command({ hello: 1, client: NODE_METADATA, $db: 'admin' })).doc).toEqual(expected);
      // The connection stays usable and a hello without metadata still works.
      expect((await raw.command({ hello: 1, $db: 'admin' })).doc.isWritablePrimary).toBe(true);
    });
    // Even if the first hello had no metadata.
    await withRawClient(server.port, async (raw) => {
      await raw.command({ hello: 1, $db: 'admin' });
      expect((await raw.command({ hello: 1, client: NODE_METADATA, $db: 'admin' })).doc).toEqual(expected);
    });
    // The driver's connection already sent its metadata in the handshake.
    expect(await errorReply(admin, { hello: 1, client: NODE_METADATA })).toEqual(expected);
  });

  test('topologyVersion without maxAwaitTimeMS, and the reverse, are 31368', async () => {
    const { topologyVersion } = await admin.command({ hello: 1 });
    expect(await errorReply(admin, { hello: 1, topologyVersion })).toEqual({
      ok: 0,
      errmsg: "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'",
      code: 31368,
      codeName: 'Location31368',
    });
    expect(await errorReply(admin, { hello: 1, maxAwaitTimeMS: 100 })).toEqual({
      ok: 0,
      errmsg: "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'",
      code: 31368,
      codeName: 'Location31368',
    });
  });

  test('other awaitable-hello argument errors', async () => {
    const { topologyVersion } = await admin.command({ hello: 1 });
    expect(await errorReply(admin, { hello: 1, topologyVersion, maxAwaitTimeMS: -1 })).toEqual({
      ok: 0,
      errmsg: "BSON field 'maxAwaitTimeMS' value must be >= 0, actual value '-1'",
      code: 51024,
      codeName: 'Location51024',
    });
    expect(
      await errorReply(admin, { hello: 1, topologyVersion: { processId: topologyVersion.processId, counter: -1 }, maxAwaitTimeMS: 0 }),
    ).toMatchObject({ ok: 0, errmsg: 'topologyVersion must have a non-negative counter', code: 31372 });
    expect(
      await errorReply(admin, { hello: 1, topologyVersion: { processId: topologyVersion.processId, counter: 5 }, maxAwaitTimeMS: 0 }),
    ).toEqual({
      ok: 0,
      errmsg: 'Received a topology version with counter: 5 which is greater than the server topology version counter: 0',
      code: 51764,
      codeName: 'Location51764',
    });
    // A topologyVersion from another process: answered at once, no error, even with a long wait.
    const other = await admin.command({ hello: 1, topologyVersion: { processId: new ObjectId(), counter: 0 }, maxAwaitTimeMS: 60_000 });
    expect(other.isWritablePrimary).toBe(true);
  });

  test('exhaust without maxAwaitTimeMS is 51756', async () => {
    await withRawClient(server.port, async (raw) => {
      const { doc } = await raw.command({ hello: 1, $db: 'admin' });
      const reply = await raw.command(
        { hello: 1, topologyVersion: doc.topologyVersion, $db: 'admin' },
        { flags: FLAG_EXHAUST_ALLOWED },
      );
      expect(reply.doc).toEqual({
        ok: 0,
        errmsg: "An isMaster or hello request with exhaust must specify 'maxAwaitTimeMS'",
        code: 51756,
        codeName: 'Location51756',
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * The driver loads the optional native `snappy` module for snappy compression. When it is not
 * installed, stand in for it with snappyjs (the codec the server itself uses), resolved wherever
 * the driver requires 'snappy'. Returns a function undoing that.
 */
function provideSnappyToDriver(): () => void {
  const requireFromDriver = createRequire(createRequire(import.meta.url).resolve('mongodb'));
  try {
    requireFromDriver.resolve('snappy');
    return () => {};
  } catch {
    // Not installed: fall through to the stand-in.
  }
  const snappyjs = createRequire(import.meta.url)('snappyjs') as {
    compress(data: Uint8Array): Uint8Array;
    uncompress(data: Uint8Array): Uint8Array;
  };
  const internals = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
    _cache: Record<string, unknown>;
  };
  const fakePath = '/__pocketmongo_test__/snappy.js';
  const fake = new Module(fakePath);
  fake.filename = fakePath;
  fake.loaded = true;
  fake.exports = {
    compress: async (data: Buffer) => Buffer.from(snappyjs.compress(data)),
    uncompress: async (data: Buffer) => Buffer.from(snappyjs.uncompress(data)),
  };
  internals._cache[fakePath] = fake;
  const original = internals._resolveFilename;
  internals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === 'snappy' ? fakePath : original.call(this, request, ...rest);
  };
  return () => {
    internals._resolveFilename = original;
    delete internals._cache[fakePath];
  };
}

describe('compression', () => {
  test.each([
    [['zlib', 'snappy'], ['zlib', 'snappy']],
    [['snappy', 'zlib'], ['snappy', 'zlib']],
    [['zstd', 'zlib'], ['zlib']],
    [['zstd', 'snappy', 'zlib'], ['snappy', 'zlib']],
    [['none'], []],
    [[], []],
  ])('hello compression %j is answered %j (the client order, minus what we lack)', async (requested, answered) => {
    await withRawClient(server.port, async (raw) => {
      const reply = await raw.query('admin.$cmd', { ismaster: 1, client: NODE_METADATA, compression: requested });
      expect(reply.doc.compression).toEqual(answered);
      expect(Object.keys(reply.doc).slice(-2)).toEqual(['compression', 'ok']);
    });
  });

  test('no compression field when the client sends none', async () => {
    await withRawClient(server.port, async (raw) => {
      expect((await raw.query('admin.$cmd', { ismaster: 1 })).doc).not.toHaveProperty('compression');
    });
  });

  test.each([
    ['zlib', COMPRESSOR.zlib],
    ['snappy', COMPRESSOR.snappy],
    ['noop', COMPRESSOR.noop],
  ])('a %s-compressed request is answered OP_COMPRESSED with the same compressor', async (name, id) => {
    await withRawClient(server.port, async (raw) => {
      const hello = await raw.query('admin.$cmd', { ismaster: 1, compression: [name] });
      expect(hello.wireOpCode).toBe(1);
      const ping = await raw.command({ ping: 1, $db: 'admin' }, { compressor: id });
      expect(ping.wireOpCode).toBe(2012);
      expect(ping.compressorId).toBe(id);
      expect(ping.opCode).toBe(2013);
      expect(ping.doc).toEqual({ ok: 1 });
      // A larger reply round-trips too, and an uncompressed request still gets a plain reply.
      const info = await raw.command({ buildInfo: 1, $db: 'admin' }, { compressor: id });
      expect(info.compressorId).toBe(id);
      expect(info.doc.version).toBe('7.0.14');
      const plain = await raw.command({ ping: 1, $db: 'admin' });
      expect(plain.wireOpCode).toBe(2013);
      expect(plain.compressorId).toBeUndefined();
    });
  });

  test('an error reply to a compressed request is compressed too', async () => {
    await withRawClient(server.port, async (raw) => {
      await raw.query('admin.$cmd', { ismaster: 1, compression: ['zlib'] });
      const reply = await raw.command({ fooBar: 1, $db: 'admin' }, { compressor: COMPRESSOR.zlib });
      expect(reply.compressorId).toBe(COMPRESSOR.zlib);
      expect(reply.doc).toEqual({ ok: 0, errmsg: "no such command: 'fooBar'", code: 59, codeName: 'CommandNotFound' });
    });
  });

  test('the driver with ?compressors=zlib', async () => {
    const zlibClient = new MongoClient(`${server.uri}?compressors=zlib`, { maxPoolSize: 1 });
    try {
      const db = zlibClient.db('admin');
      expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
      expect((await db.command({ buildInfo: 1 })).version).toBe('7.0.14');
      const status = await db.command({ serverStatus: 1 });
      expect(status.connections.current).toBeGreaterThan(0);
      const negotiated = [...server.services.clients.open.values()].map((c) => c.compressors);
      expect(negotiated).toContainEqual(['zlib']);
    } finally {
      await zlibClient.close();
    }
  });

  test('the driver with ?compressors=snappy', async () => {
    const restore = provideSnappyToDriver();
    const snappyClient = new MongoClient(`${server.uri}?compressors=snappy,zlib`, { maxPoolSize: 1 });
    try {
      const db = snappyClient.db('admin');
      expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
      expect((await db.command({ buildInfo: 1 })).version).toBe('7.0.14');
      expect(await errorReply(db, { fooBar: 1 })).toEqual({
        ok: 0,
        errmsg: "no such command: 'fooBar'",
        code: 59,
        codeName: 'CommandNotFound',
      });
      const negotiated = [...server.services.clients.open.values()].map((c) => c.compressors);
      expect(negotiated).toContainEqual(['snappy', 'zlib']);
    } finally {
      await snappyClient.close();
      restore();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('unacknowledged commands', () => {
  test('raw moreToCome requests get no reply, not even an error', async () => {
    await withRawClient(server.port, async (raw) => {
      await raw.sendMsg({ ping: 1, $db: 'admin' }, { flags: FLAG_MORE_TO_COME });
      await raw.sendMsg({ fooBar: 1, $db: 'admin' }, { flags: FLAG_MORE_TO_COME });
      await raw.sendMsg({ ping: 1, foo: 1, $db: 'admin' }, { flags: FLAG_MORE_TO_COME });
      const pingId = await raw.sendMsg({ ping: 1, $db: 'admin' });
      const reply = await raw.next();
      expect(reply.responseTo).toBe(pingId);
      expect(reply.doc).toEqual({ ok: 1 });
      // Nothing else was queued before it, and the next request is answered in turn.
      const second = await raw.command({ buildInfo: 1, $db: 'admin' });
      expect(second.doc.version).toBe('7.0.14');
      expect(raw.received).toHaveLength(2);
    });
  });

  test('a w:0 command through the driver does not desync the connection', async () => {
    const w0 = new MongoClient(server.uri, { maxPoolSize: 1 });
    try {
      const db = w0.db('admin');
      expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
      // The driver sends these with moreToCome and does not wait; the server must not answer.
      await db.command({ ping: 1, writeConcern: { w: 0 } });
      await db.command({ fooBar: 1, writeConcern: { w: 0 } });
      await db.command({ ping: 1, writeConcern: { w: 0 } });
      expect((await db.command({ buildInfo: 1 })).version).toBe('7.0.14');
      expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
      expect(await errorReply(db, { fooBar: 1 })).toMatchObject({ code: 59 });
      expect((await db.command({ hello: 1 })).isWritablePrimary).toBe(true);
      // An unacknowledged insert (the usual w:0 case) behaves the same.
      await w0.db('test').collection('c').insertOne({ a: 1 }, { writeConcern: { w: 0 } });
      expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
    } finally {
      await w0.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('awaitable hello', () => {
  test('the driver monitor streams heartbeats at heartbeatFrequencyMS, not in a busy loop', async () => {
    await using s = await startServer();
    const monitored = new MongoClient(s.uri, { heartbeatFrequencyMS: 500 });
    const heartbeats: ServerHeartbeatSucceededEvent[] = [];
    let failed = 0;
    monitored.on('serverHeartbeatSucceeded', (event) => heartbeats.push(event));
    monitored.on('serverHeartbeatFailed', () => {
      failed += 1;
    });
    try {
      await monitored.connect();
      const start = heartbeats.length;
      // Real time is the point of this test: the heartbeat rate under the driver's own timers.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const count = heartbeats.length - start;
      expect(count).toBeGreaterThanOrEqual(2);
      expect(count).toBeLessThanOrEqual(20);
      expect(failed).toBe(0);
      expect(heartbeats.some((e) => e.awaited)).toBe(true);
      expect(await monitored.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
    } finally {
      await monitored.close();
    }
  });

  describe('with a virtual clock', () => {
    let clock: VirtualClock;
    let vserver: PocketMongo;

    beforeAll(async () => {
      clock = new VirtualClock();
      vserver = await startServer({ clock });
    });

    afterAll(async () => {
      await vserver?.stop();
    });

    /** Proves the server has sent nothing more on `raw`: a round trip on another connection first. */
    async function settle(): Promise<void> {
      await withRawClient(vserver.port, async (other) => {
        expect((await other.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      });
    }

    test('an exhaust hello waits for maxAwaitTimeMS, then streams replies flagged moreToCome', async () => {
      const raw = await RawClient.connect(vserver.port);
      try {
        const handshake = await raw.query('admin.$cmd', { ismaster: 1, helloOk: true, client: NODE_METADATA });
        const { topologyVersion } = handshake.doc;
        const requestId = await raw.sendMsg(
          { hello: 1, topologyVersion, maxAwaitTimeMS: 10_000, $db: 'admin' },
          { flags: FLAG_EXHAUST_ALLOWED },
        );
        await until(() => vserver.services.topology.waiting === 1);
        const waitStarted = clock.now();
        clock.advance(9_999);
        await settle();
        expect(raw.received).toHaveLength(1);
        expect(vserver.services.topology.waiting).toBe(1);

        clock.advance(1);
        let previous: Reply = await raw.next();
        expect(previous.responseTo).toBe(requestId);
        expect(previous.opCode).toBe(2013);
        expect(previous.flags! & FLAG_MORE_TO_COME).toBe(FLAG_MORE_TO_COME);
        expect(previous.doc.isWritablePrimary).toBe(true);
        expect(previous.doc.topologyVersion).toEqual(topologyVersion);
        expect(previous.doc.localTime.getTime()).toBe(waitStarted + 10_000);
        expect(previous.doc.ok).toBe(1);

        // While streaming, serverStatus counts it.
        await until(() => vserver.services.topology.waiting === 1);
        const status = await withRawClient(vserver.port, (other) => other.command({ serverStatus: 1, $db: 'admin' }));
        expect(status.doc.connections.exhaustHello).toBe(1);
        expect(status.doc.connections.awaitingTopologyChanges).toBe(1);

        for (let i = 0; i < 3; i++) {
          await until(() => vserver.services.topology.waiting === 1);
          clock.advance(5_000);
          await settle();
          expect(raw.received).toHaveLength(2 + i);
          clock.advance(5_000);
          const reply = await raw.next();
          expect(reply.responseTo).toBe(previous.requestId);
          expect(reply.flags! & FLAG_MORE_TO_COME).toBe(FLAG_MORE_TO_COME);
          expect(reply.doc.isWritablePrimary).toBe(true);
          expect(reply.doc.topologyVersion).toEqual(topologyVersion);
          previous = reply;
        }
      } finally {
        await raw.close();
      }
      // Closing the connection ends the wait.
      await until(() => vserver.services.topology.waiting === 0);
    });

    test('isMaster over OP_MSG streams too (pymongo), answering ismaster', async () => {
      await withRawClient(vserver.port, async (raw) => {
        const { doc } = await raw.command({ ismaster: 1, $db: 'admin' });
        const requestId = await raw.sendMsg(
          { ismaster: 1, topologyVersion: doc.topologyVersion, maxAwaitTimeMS: 1_000, $readPreference: { mode: 'primary' }, $db: 'admin' },
          { flags: FLAG_EXHAUST_ALLOWED },
        );
        await until(() => vserver.services.topology.waiting === 1);
        clock.advance(1_000);
        const first = await raw.next();
        expect(first.responseTo).toBe(requestId);
        expect(first.doc.ismaster).toBe(true);
        expect(first.flags! & FLAG_MORE_TO_COME).toBe(FLAG_MORE_TO_COME);
        await until(() => vserver.services.topology.waiting === 1);
        clock.advance(1_000);
        const second = await raw.next();
        expect(second.responseTo).toBe(first.requestId);
      });
    });

    test('an awaitable hello without exhaust is answered once, without moreToCome', async () => {
      await withRawClient(vserver.port, async (raw) => {
        const { doc } = await raw.command({ hello: 1, $db: 'admin' });
        const requestId = await raw.sendMsg({ hello: 1, topologyVersion: doc.topologyVersion, maxAwaitTimeMS: 2_000, $db: 'admin' });
        await until(() => vserver.services.topology.waiting === 1);
        clock.advance(1_999);
        await settle();
        expect(raw.received).toHaveLength(1);
        clock.advance(1);
        const reply = await raw.next();
        expect(reply.responseTo).toBe(requestId);
        expect(reply.flags).toBe(0);
        expect(vserver.services.topology.waiting).toBe(0);
        // The connection is back to request/response.
        expect((await raw.command({ ping: 1, $db: 'admin' })).doc).toEqual({ ok: 1 });
      });
    });

    test('maxAwaitTimeMS 0 answers at once', async () => {
      await withRawClient(vserver.port, async (raw) => {
        const { doc } = await raw.command({ hello: 1, $db: 'admin' });
        const reply = await raw.command({ hello: 1, topologyVersion: doc.topologyVersion, maxAwaitTimeMS: 0, $db: 'admin' });
        expect(reply.doc.isWritablePrimary).toBe(true);
      });
    });
  });
});
