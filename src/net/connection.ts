import type { Socket } from 'node:net';
import type { Document } from 'bson';
import { Client } from '../commands/client.js';
import { dispatch, type DispatchResult } from '../commands/request/dispatch.js';
import { replyBody } from '../commands/request/reply.js';
import type { Services } from '../commands/services.js';
import { errorReply, ErrorCodes, LocationCodes, MongoError, ProtocolViolation } from '../errors.js';
import { Framer, HttpOnNativePort } from '../wire/framer.js';
import { nextRequestId } from '../wire/header.js';
import { decodeRequest, encodeReply, type ReplyTarget, type WireRequest } from '../wire/request.js';

/** Frames decoded but not yet served before we stop reading from the socket. */
const MAX_QUEUED_FRAMES = 64;

/**
 * One client connection: frames in, replies out, strictly in order. Reading pauses while the
 * client has many requests queued or while the socket's write buffer is full (backpressure),
 * so a fast or hostile client cannot grow our memory without bound. A bad frame ends only this
 * connection.
 */
export class Connection {
  readonly client: Client;
  private readonly framer = new Framer();
  private readonly queue: Buffer[] = [];
  private serving = false;
  private closed = false;
  /** The socket is corked until the end of this turn (see send). */
  private corked = false;

  constructor(
    private readonly socket: Socket,
    private readonly server: Services,
    id: number,
    private readonly onClose: (connection: Connection) => void,
  ) {
    const remote = formatAddress(socket.remoteAddress, socket.remotePort);
    const local = formatAddress(socket.localAddress, socket.localPort);
    this.client = new Client(id, remote, local, server.clock.now());
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private onData(chunk: Buffer): void {
    this.server.counters.physicalBytesIn += chunk.length;
    const frames = this.framer.push(chunk);
    for (const frame of frames) this.queue.push(frame);
    if (this.framer.violation !== undefined) this.socket.pause();
    else if (this.queue.length >= MAX_QUEUED_FRAMES) this.socket.pause();
    if (!this.serving) this.serve();
  }

  /**
   * Serves the queued frames one after another: a frame's reply is written before the next frame
   * is decoded, and while the socket's write buffer is full the next waits for 'drain'. A frame
   * whose command runs is continued from its promise (no async frame per request: they showed in
   * the allocation profile); the rest are answered on the spot.
   */
  private serve(): void {
    this.serving = true;
    while (!this.closed && this.queue.length > 0) {
      let pending: Promise<void> | undefined;
      try {
        pending = this.handle(this.queue.shift()!);
      } catch (err) {
        this.fail(err);
        break;
      }
      if (pending !== undefined) {
        pending.then(this.handled, this.failed);
        return;
      }
      if (this.socket.writableNeedDrain) {
        this.drained().then(this.resume, this.failed);
        return;
      }
    }
    this.served();
  }

  /** A command's reply is out: the next frame, once the write buffer has room. */
  private readonly handled = (): void => {
    if (this.socket.writableNeedDrain) this.drained().then(this.resume, this.failed);
    else this.serve();
  };

  private readonly resume = (): void => this.serve();

  private readonly failed = (err: unknown): void => {
    this.fail(err);
    this.served();
  };

  /** The queue is empty (or the connection is gone): stop serving until more frames arrive. */
  private served(): void {
    // The frames before a broken one are answered; then the connection ends (mongod reads one
    // message at a time, so it serves those before it sees the bad length).
    if (this.framer.violation !== undefined && !this.closed) this.fail(this.framer.violation);
    this.serving = false;
    this.maybeResume();
  }

  /** Answers one frame: on the spot (undefined), or once its command has run (a promise). */
  private handle(frame: Buffer): Promise<void> | undefined {
    const counters = this.server.counters;
    counters.numRequests += 1;
    counters.bytesIn += frame.length;
    const decoded = decodeRequest(frame);
    switch (decoded.kind) {
      case 'unsupported':
        this.server.log.warn({
          c: 'COMMAND',
          id: 21968,
          ctx: `conn${this.client.id}`,
          msg: 'Operation is not supported',
          attr: { operation: decoded.opCode },
        });
        return undefined;
      case 'error':
        if (!decoded.target.moreToCome) this.send(decoded.target, errorReply(decoded.error), false);
        return undefined;
      case 'legacyFailure':
        this.send(decoded.target, { $err: decoded.errmsg, code: LocationCodes.LegacyOpRemoved, ok: 0 }, false, true);
        return undefined;
      case 'request':
        return this.run(decoded.request);
    }
  }

  /** Runs a request's command; answers at once when it ran at once, else once its promise settles. */
  private run(request: WireRequest): Promise<void> | undefined {
    const result = dispatch(this.server, this.client, request, this.client.closed);
    if (result instanceof Promise) return result.then((done) => this.answer(request, done));
    return this.answer(request, result);
  }

  /** Sends a command's reply; an exhaust stream goes on with its next reply (a promise). */
  private answer(request: WireRequest, { reply, exhaustNext, closeConnection }: DispatchResult): Promise<void> | undefined {
    if (closeConnection === true) {
      this.flush();
      this.socket.destroy();
      this.close();
      return undefined;
    }
    // A moreToCome request gets no reply at all, even an error (mongod's makeCommandResponse).
    if (request.moreToCome || this.closed) return undefined;
    const streaming = exhaustNext !== undefined;
    const replyId = this.send(request, reply, streaming);
    if (!streaming) {
      this.client.streaming = false;
      return undefined;
    }
    // Exhaust: answer the next request ourselves; each reply answers the previous reply's id.
    this.client.streaming = true;
    return this.stream({ ...request, requestId: replyId, body: exhaustNext });
  }

  private async stream(request: WireRequest): Promise<void> {
    // A stream with no wait (maxAwaitTimeMS 0) must still let every other connection run.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.socket.writableNeedDrain) await this.drained();
    await this.run(request);
  }

  /**
   * Encodes and writes a reply; returns its requestId. When more frames wait behind this one
   * (a client that pipelines), the socket is corked until the end of this turn of the event loop,
   * so the replies made in this turn leave in one write; a reply is never held past the turn.
   */
  private send(target: ReplyTarget, doc: Document, moreToCome: boolean, queryFailure = false): number {
    const requestId = nextRequestId();
    let bytes: Buffer;
    try {
      bytes = encodeReply(target, replyBody(doc), { requestId, moreToCome, queryFailure });
    } catch (err) {
      // A reply we cannot encode (e.g. larger than 16 MB) becomes an error reply, as in mongod.
      const error = new MongoError(ErrorCodes.InternalError, `Failed to encode reply: ${(err as Error).message}`);
      bytes = encodeReply(target, errorReply(error), { requestId, moreToCome: false });
    }
    this.server.counters.bytesOut += bytes.length;
    this.server.counters.physicalBytesOut += bytes.length;
    if (this.queue.length > 0 && !this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.flush);
    }
    this.socket.write(bytes);
    return requestId;
  }

  /** Writes out what a cork is holding (at the end of the turn, or before the socket is destroyed). */
  private readonly flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private maybeResume(): void {
    if (
      !this.closed &&
      this.framer.violation === undefined &&
      this.queue.length < MAX_QUEUED_FRAMES &&
      !this.socket.writableNeedDrain &&
      this.socket.isPaused()
    ) {
      this.socket.resume();
    }
  }

  /** A protocol violation (or a bug) on this connection: log it and close this connection only. */
  private fail(err: unknown): void {
    const isViolation = err instanceof ProtocolViolation;
    if (err instanceof HttpOnNativePort) this.socket.write(HttpOnNativePort.RESPONSE);
    this.server.log.warn({
      c: 'NETWORK',
      id: isViolation ? 22988 : 4879802,
      ctx: `conn${this.client.id}`,
      msg: isViolation ? 'Error receiving request from client. Ending connection from remote' : 'Failed to handle request',
      attr: { error: (err as Error)?.message ?? String(err), remote: this.client.remote, connectionId: this.client.id },
    });
    // The HTTP answer is flushed before the socket goes; nothing more is read either way. Replies
    // already written go before the socket does, corked or not.
    this.flush();
    if (err instanceof HttpOnNativePort) this.socket.destroySoon();
    else this.socket.destroy();
    this.close();
  }

  /** Ends the connection after flushing what was written. */
  end(): void {
    this.socket.end();
    this.socket.destroySoon();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.client.markClosed();
    this.onClose(this);
  }
}

function formatAddress(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
