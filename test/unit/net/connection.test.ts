import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { BSON, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import { Connection } from '../../../src/net/connection.js';
import { encodeOpMsg, FLAG_MORE_TO_COME } from '../../helpers/rawClient.js';
import { inProcessServer, type InProcessServer } from '../../helpers/inProcess.js';

/**
 * The connection's serving loop over a fake socket: replies in order, pipelined replies written
 * under one cork that is lifted within the same turn, replies to the frames before a broken one
 * flushed before the socket is destroyed, and backpressure (no frame served while the write
 * buffer needs draining).
 */

class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 50000;
  localAddress = '127.0.0.1';
  localPort = 27017;
  writableNeedDrain = false;
  paused = false;
  corks = 0;
  destroyed = false;
  /** Every event in order: 'cork', 'uncork', 'destroy', or a write (its reply document). */
  readonly events: Array<string | Document> = [];
  /** Replies as the client would receive them: flushed writes only. */
  readonly flushed: Document[] = [];
  private held: Document[] = [];

  setNoDelay(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  isPaused(): boolean {
    return this.paused;
  }
  cork(): void {
    this.corks += 1;
    this.events.push('cork');
  }
  uncork(): void {
    if (this.corks === 0) return;
    this.corks -= 1;
    this.events.push('uncork');
    if (this.corks === 0) this.flushed.push(...this.held.splice(0));
  }
  write(bytes: Buffer): boolean {
    const doc = BSON.deserialize(bytes.subarray(21));
    this.events.push(doc);
    if (this.destroyed) return false;
    if (this.corks > 0) this.held.push(doc);
    else this.flushed.push(doc);
    return true;
  }
  destroy(): void {
    // Whatever is still held by a cork is lost, as with a real socket.
    this.destroyed = true;
    this.held = [];
    this.events.push('destroy');
  }
  destroySoon(): void {
    this.destroy();
  }
  end(): void {}
}

let server: InProcessServer | undefined;
afterEach(() => {
  server?.stop();
  server = undefined;
});

function connect(): FakeSocket {
  server = inProcessServer();
  const socket = new FakeSocket();
  new Connection(socket as unknown as Socket, server.services, 1, () => {});
  return socket;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await turn();
  expect(check()).toBe(true);
}

describe('Connection', () => {
  test('one request at a time: answered without a cork', async () => {
    const socket = connect();
    socket.emit('data', encodeOpMsg({ ping: 1, $db: 'admin' }));
    await until(() => socket.flushed.length === 1);
    expect(socket.events).toEqual([{ ok: 1 }]);
  });

  test('pipelined requests: replies in order, under one cork lifted in the same turn', async () => {
    const socket = connect();
    const bodies = [{ ping: 1 }, { buildInfo: 1 }, { fooBar: 1 }, { ping: 1, comment: 'last' }];
    socket.emit('data', Buffer.concat(bodies.map((b) => encodeOpMsg({ ...b, $db: 'admin' }))));
    // Nothing is held past the turn: before any timer or I/O callback runs, all are flushed.
    await turn();
    expect(socket.flushed).toHaveLength(4);
    expect(socket.events[0]).toBe('cork');
    expect(socket.events.at(-1)).toBe('uncork');
    expect(socket.events.filter((e) => e === 'cork')).toHaveLength(1);
    expect(socket.flushed[0]).toEqual({ ok: 1 });
    expect(socket.flushed[1]!.version).toBe('7.0.14');
    expect(socket.flushed[2]!.code).toBe(59);
    expect(socket.flushed[3]).toEqual({ ok: 1 });
  });

  test('a moreToCome request gets no reply; the next one does', async () => {
    const socket = connect();
    socket.emit('data', Buffer.concat([encodeOpMsg({ ping: 1, $db: 'admin' }, { flags: FLAG_MORE_TO_COME }), encodeOpMsg({ ping: 1, $db: 'admin' })]));
    await until(() => socket.flushed.length === 1);
    await turn();
    expect(socket.flushed).toEqual([{ ok: 1 }]);
    expect(socket.events).toEqual([{ ok: 1 }]);
  });

  test('the frames before a broken one are answered and flushed before the socket goes', async () => {
    const socket = connect();
    const bad = Buffer.alloc(16);
    bad.writeInt32LE(8, 0);
    socket.emit('data', Buffer.concat([encodeOpMsg({ ping: 1, $db: 'admin' }), encodeOpMsg({ ping: 1, $db: 'admin' }), bad]));
    await until(() => socket.destroyed);
    expect(socket.flushed).toEqual([{ ok: 1 }, { ok: 1 }]);
    expect(socket.events.indexOf('uncork')).toBeLessThan(socket.events.indexOf('destroy'));
  });

  test('while the write buffer needs draining, the next frame waits for drain', async () => {
    const socket = connect();
    socket.writableNeedDrain = true;
    socket.emit('data', Buffer.concat([encodeOpMsg({ ping: 1, $db: 'admin' }), encodeOpMsg({ ping: 1, comment: 'second', $db: 'admin' })]));
    for (let i = 0; i < 5; i++) await turn();
    expect(socket.events.filter((e) => typeof e !== 'string')).toHaveLength(1);
    socket.writableNeedDrain = false;
    socket.emit('drain');
    await until(() => socket.flushed.length === 2);
  });
});
