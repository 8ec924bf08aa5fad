/**
 * Just enough of the wire protocol for a raw-socket client: pre-encoded OP_MSG requests, a
 * length-prefix frame splitter, and a connection with one outstanding request at a time.
 * Deliberately independent of src/ so the client side stays the same whatever the server does.
 */
import { connect, type Socket } from 'node:net';
import { BSON, type Document } from 'bson';
import { LOOPBACK } from './processes.js';

export const OP_MSG = 2013;
const HEADER_SIZE = 16;
const MAX_FRAME = 48_000_000;

/** An OP_MSG (flags 0, one kind-0 section) carrying `body`; requestId is patched per send. */
export function encodeOpMsg(body: Document, requestId = 0): Buffer {
  const bson = BSON.serialize(body);
  const length = HEADER_SIZE + 4 + 1 + bson.length;
  const out = Buffer.alloc(length);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(0, 8);
  out.writeInt32LE(OP_MSG, 12);
  out.writeUInt32LE(0, HEADER_SIZE);
  out[HEADER_SIZE + 4] = 0;
  out.set(bson, HEADER_SIZE + 5);
  return out;
}

/** The body of an OP_MSG reply (its first kind-0 section). */
export function decodeOpMsgBody(frame: Buffer): Document {
  if (frame.readInt32LE(12) !== OP_MSG) throw new Error(`expected an OP_MSG reply, got opCode ${frame.readInt32LE(12)}`);
  let offset = HEADER_SIZE + 4;
  while (offset < frame.length) {
    const kind = frame[offset]!;
    offset += 1;
    const size = frame.readInt32LE(offset);
    if (kind === 0) return BSON.deserialize(frame.subarray(offset, offset + size));
    offset += size;
  }
  throw new Error('OP_MSG reply has no body section');
}

/** Cuts a byte stream into frames by their leading int32 length. */
export class FrameSplitter {
  private pending: Buffer | undefined;

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readInt32LE(offset);
      if (length < HEADER_SIZE || length > MAX_FRAME) throw new Error(`invalid frame length ${length}`);
      if (buf.length - offset < length) break;
      onFrame(buf.subarray(offset, offset + length));
      offset += length;
    }
    if (offset < buf.length) this.pending = Buffer.from(buf.subarray(offset));
  }
}

/**
 * A raw connection with one request in flight. `send` writes a frame (whose requestId it sets)
 * and calls back with the reply whose responseTo matches; callbacks, not promises, so the client
 * costs as little as possible per round trip.
 */
export class RawConnection {
  private readonly splitter = new FrameSplitter();
  private nextId = 1;
  private waitingFor = 0;
  private onReply: ((err: Error | undefined, frame: Buffer | undefined) => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.splitter.push(chunk, (frame) => this.deliver(frame));
      } catch (err) {
        this.fail(err as Error);
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  static open(port: number, timeoutMs = 5_000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: LOOPBACK, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${LOOPBACK}:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RawConnection(socket));
      });
    });
  }

  /**
   * Sends `frame` after setting its requestId. The caller may reuse the same buffer for the next
   * send once the reply has arrived (the server has then read all of it, so the write is done).
   */
  send(frame: Buffer, onReply: (err: Error | undefined, frame: Buffer | undefined) => void): void {
    if (this.failure !== undefined) {
      onReply(this.failure, undefined);
      return;
    }
    if (this.onReply !== undefined) throw new Error('RawConnection: a request is already in flight');
    const id = this.nextId;
    this.nextId = (this.nextId + 1) & 0x7fffffff || 1;
    frame.writeInt32LE(id, 4);
    this.waitingFor = id;
    this.onReply = onReply;
    this.socket.write(frame);
  }

  /** One round trip as a promise (setup and one-off requests, not hot loops). */
  roundTrip(frame: Buffer, timeoutMs = 5_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.send(frame, (err, reply) => {
        clearTimeout(timer);
        if (err !== undefined) reject(err);
        else resolve(reply!);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(frame: Buffer): void {
    const callback = this.onReply;
    const responseTo = frame.readInt32LE(8);
    if (callback === undefined || responseTo !== this.waitingFor) {
      this.fail(new Error(`unexpected reply (responseTo ${responseTo}, waiting for ${this.waitingFor})`));
      return;
    }
    this.onReply = undefined;
    callback(undefined, frame);
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.socket.destroy();
    const callback = this.onReply;
    this.onReply = undefined;
    callback?.(err, undefined);
  }
}
