import { ProtocolViolation } from '../errors.js';

/** An HTTP request on the wire port: mongod answers it in plain text, then closes (asio_session). */
export class HttpOnNativePort extends ProtocolViolation {
  static readonly RESPONSE = Buffer.from(
    'HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 85\r\n\r\n' +
      'It looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n',
  );
  constructor() {
    super('Client sent an HTTP request over a native MongoDB connection');
  }
}
import { MAX_MESSAGE_SIZE_BYTES } from '../bson/limits.js';
import { HEADER_SIZE } from './opcodes.js';

/**
 * Cuts a TCP byte stream into whole wire messages by their leading int32 `messageLength`.
 * Partial frames wait for more bytes (chunks are joined once, when the frame is complete, so a
 * 48 MB message arriving in 64 KB reads costs one copy); a chunk holding several frames yields
 * them all, in order. A length under the 16-byte header or over maxMessageSizeBytes is a protocol
 * violation: mongod closes the connection, and so does the caller once `violation` is set.
 */
export class Framer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes needed before the next frame can be cut (4 until its length is known). */
  private needed = 4;

  constructor(private readonly maxMessageSize = MAX_MESSAGE_SIZE_BYTES) {}

  /** Set once the stream is broken: the frames returned before it are whole, nothing after is read. */
  violation: ProtocolViolation | undefined;

  /** Appends bytes and returns every frame now complete (check `violation` afterwards). */
  push(chunk: Buffer): Buffer[] {
    if (this.violation !== undefined) return [];
    // The common case, one whole request per read: the chunk is the frame (no join, no slices).
    if (this.size === 0 && chunk.length >= HEADER_SIZE && chunk.length <= this.maxMessageSize && chunk.readInt32LE(0) === chunk.length) return [chunk];
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < this.needed) {
      if (this.chunks.length > 1 && this.needed === 4) this.join();
      return [];
    }
    let buf = this.join();
    this.chunks = [];
    this.size = 0;
    const frames: Buffer[] = [];
    for (;;) {
      if (buf.length < 4) {
        this.needed = 4;
        break;
      }
      const length = buf.readInt32LE(0);
      if (length < HEADER_SIZE || length > this.maxMessageSize) {
        // Frames before the bad one are still served, as mongod reads them one at a time.
        this.violation = buf.toString('latin1', 0, 4) === 'GET '
          ? new HttpOnNativePort()
          : new ProtocolViolation(`recv(): message msgLen ${length} is invalid. Min ${HEADER_SIZE} Max: ${this.maxMessageSize}`);
        this.chunks = [];
        this.size = 0;
        return frames;
      }
      if (buf.length < length) {
        this.needed = length;
        break;
      }
      frames.push(buf.subarray(0, length));
      buf = buf.subarray(length);
    }
    if (buf.length > 0) {
      // Copy the tail so a retained slice never pins the socket's whole read buffer.
      this.chunks = [Buffer.from(buf)];
      this.size = buf.length;
    }
    return frames;
  }

  get bufferedBytes(): number {
    return this.size;
  }

  private join(): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [joined];
    return joined;
  }
}
