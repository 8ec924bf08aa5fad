/**
 * Wire-level edge cases found while building the fuzzer, each checked over real TCP against an
 * in-process server: divergences from mongod (research notes /work/research/mongod-facts.md §2)
 * and robustness bugs, kept as regression tests once fixed.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Int32, Long, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { FLAG, opMsg, opMsgBody, splitFrames } from '../unit/wire/builders.js';
import { checkReply, destroyServerSockets, pingWithDriver, waitForNoConnections } from './driver.js';

let server: PocketMongo;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Writes `bytes` in one write, collects what comes back for `ms` (or until the server closes). */
function exchange(bytes: Buffer, ms = 1000): Promise<{ data: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port: server.port, host: '127.0.0.1' }, () => socket.write(bytes));
    let data = Buffer.alloc(0);
    let closedByServer = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closedByServer });
    };
    const timer = setTimeout(finish, ms);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
    });
    socket.on('error', () => undefined);
    socket.on('end', () => {
      closedByServer = true;
    });
    socket.on('close', () => {
      closedByServer = true;
      finish();
    });
  });
}

const invalidLength = (() => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(3, 0);
  return b;
})();

describe('pipelining and protocol violations', () => {
  test('frames pipelined in one write before a bad frame (decode-level violation) are answered, then the connection closes', async () => {
    const ping = opMsgBody({ ping: 1, $db: 'admin' }, 0, 71);
    const illegalFlags = opMsgBody({ ping: 1, $db: 'admin' }, 1 << 4, 72);
    const { data, closedByServer } = await exchange(Buffer.concat([ping, illegalFlags]));
    const { frames } = splitFrames(data);
    expect(frames.map((f) => checkReply(f).responseTo)).toEqual([71]);
    expect(closedByServer).toBe(true);
  });

  test('a bad message length closes the connection', async () => {
    const { data, closedByServer } = await exchange(invalidLength);
    expect(data.length).toBe(0);
    expect(closedByServer).toBe(true);
  });

  // mongod reads and serves one message at a time, so a request already whole on the wire is
  // answered before the next header's bad length is even read. Regression: the framer used to throw
  // for the bad length while cutting the chunk, dropping the frames already cut from that same
  // chunk, so the ping below was never answered.
  test('a whole frame followed in the same write by an invalid length is answered before the close', async () => {
    const ping = opMsgBody({ ping: 1, $db: 'admin' }, 0, 73);
    const { data, closedByServer } = await exchange(Buffer.concat([ping, invalidLength]));
    expect(closedByServer).toBe(true);
    const { frames } = splitFrames(data);
    expect(frames.map((f) => checkReply(f).responseTo)).toEqual([73]);
  });

  // mongod-facts.md §2: a message starting with "GET " gets an HTTP/1.0 200 answer saying
  // "It looks like you are trying to access MongoDB over HTTP on the native driver port." before the
  // close. Regression: pocketmongo used to read "GET " as a bad message length and just close.
  test('an HTTP request gets mongod\'s plain-text HTTP answer, then the connection closes', async () => {
    const { data, closedByServer } = await exchange(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    const text = data.toString('latin1');
    expect(text.startsWith('HTTP/1.0 200')).toBe(true);
    expect(text).toContain('It looks like you are trying to access MongoDB over HTTP on the native driver port.');
    expect(closedByServer).toBe(true);
  });
});

describe('HTTP on the wire port: socket lifetime', () => {
  // src/net/connection.ts fail(): for HttpOnNativePort the socket is only end()ed (after the HTTP
  // answer), never destroyed, and reading was paused when the framer saw "GET " (onData). If any
  // byte arrives after that, it sits unread in the paused socket, so the client's FIN is never
  // consumed: the socket never closes. Connection.close() has already dropped it from the
  // listener's set, so nothing ever destroys it, and PocketMongo.stop() waits forever on
  // net.Server.close(). (Found by the fuzz test, whose afterAll stop() then timed out.) Here the
  // client sends one byte as soon as the HTTP answer arrives, before it sees the server's FIN.
  test('a byte sent after the HTTP answer neither leaks the socket nor blocks stop()', async () => {
    const own = await startServer();
    try {
      await new Promise<void>((resolve) => {
        const socket = connect({ port: own.port, host: '127.0.0.1' }, () => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
        let wrote = false;
        socket.on('data', () => {
          if (!wrote) {
            wrote = true;
            socket.write('x');
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
      const outcome = await Promise.race([
        own.stop().then(() => 'stopped'),
        new Promise<string>((resolve) => setTimeout(() => resolve('stop() still pending after 3 s'), 3000)),
      ]);
      expect(outcome).toBe('stopped');
    } finally {
      destroyServerSockets(own.port);
    }
  });
});

describe('exhaust streaming fairness', () => {
  // An exhaust hello with maxAwaitTimeMS: 0 and a stale topologyVersion streams replies back to
  // back. Regression: Connection.handle's exhaust loop only awaited already-settled promises
  // (hello's waitFor(0) is Promise.resolve()) and yielded to the event loop only when the socket
  // needed drain, so a client reading fast enough (another process) pinned the whole
  // single-threaded server: timers, the listener and every other connection stalled for as long
  // as it kept reading (a 3 s client => a 3 s stall, ~18 MB of hello replies). mongod serves each
  // connection on its own thread.
  test('one exhaust hello with maxAwaitTimeMS 0 does not stall the server\'s event loop', async () => {
    const hello = opMsg({
      flags: FLAG.exhaustAllowed,
      requestId: 5,
      sections: [
        {
          kind: 0,
          doc: { hello: 1, topologyVersion: { processId: new ObjectId(), counter: Long.fromNumber(0) }, maxAwaitTimeMS: new Int32(0), $db: 'admin' },
        },
      ],
    });
    // The streaming client runs in another process so that it keeps reading while this one stalls.
    const clientCode = `
      const net = require('node:net');
      const s = net.connect({ port: Number(process.env.PORT), host: '127.0.0.1' }, () => s.write(Buffer.from(process.env.FRAME, 'hex')));
      let bytes = 0;
      s.on('data', (c) => { bytes += c.length; });
      s.on('error', () => {});
      setTimeout(() => { s.destroy(); process.stdout.write(String(bytes)); process.exit(0); }, 2000);
    `;
    const child = spawn(process.execPath, ['-e', clientCode], {
      env: { ...process.env, PORT: String(server.port), FRAME: hello.toString('hex') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

    // Measure the longest gap between 20 ms ticks while the client streams.
    let maxGap = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 20);
    try {
      await exited;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      clearInterval(ticker);
    }
    expect(Number(out)).toBeGreaterThan(0); // the client did get streamed replies
    expect(await waitForNoConnections(server, 5000)).toBe(0);
    expect((await pingWithDriver(server.uri)).ok).toBe(1);
    expect(maxGap).toBeLessThan(500);
  });
});

