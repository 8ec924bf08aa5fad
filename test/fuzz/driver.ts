/**
 * Sends fuzz frames to a server over real TCP sockets and watches what happens.
 *
 * A handful of workers each own one socket. A worker sends a "round": 1..N fuzz frames followed by
 * a sentinel `{ping: 1}` in the same byte stream, split into a few writes. Before sending, it
 * predicts what the server must do with that exact byte stream, by framing it the way the server
 * does and running the server's own decodeRequest on each frame (an oracle for scheduling only):
 *
 *  - 'reply':  every frame is whole and none closes the connection, so the sentinel must be
 *              answered with ok:1 (replies to the fuzz frames before it are read and checked too);
 *  - 'close':  a frame length or a frame is a protocol violation: the server must close;
 *  - 'stall':  the stream ends inside a frame: the worker half-closes its side (FIN) and the server,
 *              waiting for the rest of that frame, must then close too;
 *  - 'stream': an exhaust request may keep the server streaming replies (never reading again, as
 *              mongod does): the worker reads a little of it, then drops the connection.
 *
 * Anything else is an anomaly: a missing reply, an unexpected close, no close, a malformed reply,
 * or an event-loop stall (the server runs in this process, so a long gap between timer ticks means
 * some request blocked it; the rounds in flight are blamed). Each worker reconnects after a close;
 * all waits are bounded; every socket is destroyed at the end.
 */
import { connect, Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { BSON, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import type { PocketMongo } from '../../src/index.js';
import { ProtocolViolation } from '../../src/errors.js';
import type { LogEntry } from '../../src/log.js';
import { decodeOpCompressed } from '../../src/wire/opCompressed.js';
import { decodeRequest, type WireRequest } from '../../src/wire/request.js';
import { FLAG, OP, opMsg, refCrc32c } from '../unit/wire/builders.js';
import { FORBIDDEN_COMMANDS, type FuzzFrame } from './frames.js';

const MAX_MESSAGE = 48_000_000;

export type Prediction = 'reply' | 'close' | 'stall' | 'stream';

export interface Anomaly {
  readonly kind: 'timeout' | 'unexpected-close' | 'no-close' | 'bad-reply' | 'connect-failed' | 'event-loop-stall' | 'decode-threw';
  readonly detail: string;
  readonly labels: readonly string[];
  /** The round's frames, whole, in hex (to replay them). */
  readonly frames: readonly string[];
}

export interface FuzzStats {
  framesSent: number;
  rounds: number;
  bytesSent: number;
  repliesReceived: number;
  sentinelsAnswered: number;
  predicted: Record<Prediction, number>;
  serverCloses: number;
  connections: number;
  skippedFrames: number;
  anomalyCount: number;
  /** The first anomalies (at most 50 kept). */
  anomalies: Anomaly[];
  elapsedMs: number;
  /** The longest the event loop (the server's and the fuzzer's: one process) went without a 50 ms tick. */
  maxEventLoopGapMs: number;
}

export interface FuzzOptions {
  readonly port: number;
  readonly host?: string;
  /** Pulls the next frame; undefined when there are no more. */
  readonly next: () => FuzzFrame | undefined;
  /** Concurrent sockets (default 4). */
  readonly sockets?: number;
  /** Most fuzz frames per round (default 4). */
  readonly maxFramesPerRound?: number;
  /** How long a predicted reply or close may take (default 5000 ms). */
  readonly waitMs?: number;
  /** Stop starting rounds after this Date.now() value. */
  readonly deadline?: number;
  /** An event-loop gap longer than this is an anomaly, blamed on the rounds in flight (default 2000 ms). */
  readonly stallMs?: number;
  /** Seed for round sizes and write splits. */
  readonly seed?: number;
  /** Called about every `progressEvery` frames (default 10,000). */
  readonly onProgress?: (stats: FuzzStats) => void;
  readonly progressEvery?: number;
  /** Called on every anomaly as it happens. */
  readonly onAnomaly?: (anomaly: Anomaly) => void;
  /** Called when worker `index` sends a round, and with undefined when that round is settled. */
  readonly onRound?: (index: number, round: readonly FuzzFrame[] | undefined) => void;
}

/** A small deterministic PRNG (mulberry32) for round sizes and write splits. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The command a frame decodes to, if it decodes to one (throws what decodeRequest throws). Reads
 * only the `request` member of the result, so it does not depend on how the other outcomes
 * (errors, legacy failures, unsupported opcodes) are tagged.
 */
function decodedRequest(frame: Buffer): WireRequest | undefined {
  const result = decodeRequest(frame);
  return 'request' in result ? result.request : undefined;
}

/** True when the frame, decoded on its own, is a command the fuzzer must not send. */
export function isForbidden(frame: Buffer): boolean {
  if (frame.length < 16) return false;
  try {
    const request = decodedRequest(frame);
    return request !== undefined && FORBIDDEN_COMMANDS.has(request.commandName);
  } catch {
    return false;
  }
}

/** What the server must do with this byte stream, whose last `sentinelLength` bytes are the sentinel. */
export function predict(
  stream: Buffer,
  sentinelLength: number,
): { prediction: Prediction; forbidden: boolean; threw?: string } {
  let offset = 0;
  let lastStart = -1;
  let streaming = false;
  let forbidden = false;
  while (offset < stream.length) {
    // Once an exhaust request streams, nothing after it is served, whatever it is.
    if (streaming) return { prediction: 'stream', forbidden };
    if (stream.length - offset < 4) return { prediction: 'stall', forbidden };
    const length = stream.readInt32LE(offset);
    // A bad length ends the connection once the frames before it are served (or at once).
    if (length < 16 || length > MAX_MESSAGE) return { prediction: 'close', forbidden };
    if (offset + length > stream.length) return { prediction: 'stall', forbidden };
    const frame = stream.subarray(offset, offset + length);
    lastStart = offset;
    offset += length;
    try {
      const request = decodedRequest(frame);
      if (request !== undefined) {
        if (FORBIDDEN_COMMANDS.has(request.commandName)) forbidden = true;
        // An exhaust request may keep the connection streaming: nothing after it gets served.
        if (request.exhaustAllowed) streaming = true;
      }
    } catch (err) {
      // A ProtocolViolation ends the connection once this frame is served; so does any other
      // throw, but that one is a codec bug (decodeRequest should only throw ProtocolViolation).
      if (err instanceof ProtocolViolation) return { prediction: 'close', forbidden };
      return { prediction: 'close', forbidden, threw: String((err as Error)?.stack ?? err) };
    }
  }
  if (streaming) return { prediction: 'stream', forbidden };
  if (lastStart !== stream.length - sentinelLength) return { prediction: 'stall', forbidden };
  return { prediction: 'reply', forbidden };
}

/** Checks one reply frame; returns a problem description, or undefined when it is well formed. */
export function checkReply(frame: Buffer): { problem?: string; responseTo: number; body?: Document } {
  const responseTo = frame.readInt32LE(8);
  try {
    let message = frame;
    if (frame.readInt32LE(12) === OP.COMPRESSED) message = decodeOpCompressed(frame).inner;
    const opCode = message.readInt32LE(12);
    if (opCode === OP.REPLY) {
      if (message.length < 36 + 5) return { problem: 'OP_REPLY too short', responseTo };
      if (message.readInt32LE(32) !== 1) return { problem: 'OP_REPLY numberReturned != 1', responseTo };
      const doc = message.subarray(36);
      if (doc.readInt32LE(0) !== doc.length) return { problem: 'OP_REPLY document size mismatch', responseTo };
      return { responseTo, body: BSON.deserialize(doc) };
    }
    if (opCode === OP.MSG) {
      const flags = message.readUInt32LE(16);
      let end = message.length;
      if (flags & FLAG.checksumPresent) {
        end -= 4;
        if (refCrc32c(message.subarray(0, end)) !== message.readUInt32LE(end)) return { problem: 'bad reply checksum', responseTo };
      }
      if (message[20] !== 0) return { problem: `reply section kind ${message[20]}`, responseTo };
      const doc = message.subarray(21, end);
      if (doc.length < 5 || doc.readInt32LE(0) !== doc.length) return { problem: 'reply body size mismatch', responseTo };
      return { responseTo, body: BSON.deserialize(doc) };
    }
    return { problem: `reply opcode ${opCode}`, responseTo };
  } catch (err) {
    return { problem: `undecodable reply: ${(err as Error).message}`, responseTo };
  }
}

/** One client socket with its reply stream. */
class FuzzSocket {
  readonly socket: Socket;
  closed = false;
  private pending: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  /** Replies seen, by responseTo. */
  readonly answered = new Set<number>();
  replies = 0;
  problems: string[] = [];
  /** The server answered in HTTP (to a "GET " where a message length should be). */
  http = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static open(port: number, host: string, timeoutMs: number): Promise<FuzzSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new FuzzSocket(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
  }

  private onData(chunk: Buffer): void {
    if (this.http) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      // mongod answers an HTTP request on its wire port in plain text, then closes.
      if (this.pending.toString('latin1', 0, 4) === 'HTTP') {
        this.http = true;
        this.replies += 1;
        this.pending = Buffer.alloc(0);
        break;
      }
      const length = this.pending.readInt32LE(0);
      if (length < 16 || length > MAX_MESSAGE) {
        this.problems.push(`reply length ${length}`);
        this.pending = Buffer.alloc(0);
        this.socket.destroy();
        break;
      }
      if (this.pending.length < length) break;
      const frame = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      this.replies += 1;
      const { problem, responseTo, body } = checkReply(frame);
      if (problem !== undefined) this.problems.push(problem);
      else if (body !== undefined && body.ok === 1) this.answered.add(responseTo);
    }
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves true once `done()` holds, false after `timeoutMs`. */
  waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(done());
      }, timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve(true);
        } else {
          this.wake = check;
        }
      };
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function newStats(): FuzzStats {
  return {
    framesSent: 0,
    rounds: 0,
    bytesSent: 0,
    repliesReceived: 0,
    sentinelsAnswered: 0,
    predicted: { reply: 0, close: 0, stall: 0, stream: 0 },
    serverCloses: 0,
    connections: 0,
    skippedFrames: 0,
    anomalyCount: 0,
    anomalies: [],
    elapsedMs: 0,
    maxEventLoopGapMs: 0,
  };
}

let sentinelIds = 0x4000_0000;

/** Runs the fuzzer until `next()` runs dry or the deadline passes. Never leaves a socket open. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const host = options.host ?? '127.0.0.1';
  const waitMs = options.waitMs ?? 5000;
  const maxPerRound = Math.max(1, options.maxFramesPerRound ?? 4);
  const progressEvery = options.progressEvery ?? 10_000;
  const stats = newStats();
  const started = Date.now();
  const open = new Set<FuzzSocket>();
  let nextProgress = progressEvery;
  let exhausted = false;
  /** The round each worker is waiting on, for blaming event-loop stalls. */
  const inFlight = new Map<number, readonly FuzzFrame[]>();
  const stallMs = options.stallMs ?? 2000;
  let lastTick = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    const gap = now - lastTick;
    stats.maxEventLoopGapMs = Math.max(stats.maxEventLoopGapMs, gap);
    lastTick = now;
    if (gap > stallMs) {
      for (const [index, round] of inFlight) {
        anomaly('event-loop-stall', `the event loop stalled for ${gap} ms while worker ${index} waited on this round`, round);
      }
    }
  }, 50);

  const anomaly = (kind: Anomaly['kind'], detail: string, round: readonly FuzzFrame[], history: readonly string[] = []) => {
    stats.anomalyCount += 1;
    const record: Anomaly = {
      kind,
      detail:
        `${detail} (max event-loop gap so far ${Math.max(stats.maxEventLoopGapMs, Date.now() - lastTick)} ms)` +
        (history.length === 0 ? '' : `; earlier rounds on this connection: ${history.join(' || ')}`),
      labels: round.map((f) => f.label),
      frames: round.map((f) => f.bytes.toString('hex')),
    };
    if (stats.anomalies.length < 50) stats.anomalies.push(record);
    options.onAnomaly?.(record);
  };

  const worker = async (index: number) => {
    const random = prng((options.seed ?? 1) * 31 + index);
    let conn: FuzzSocket | undefined;
    /** Labels of the last rounds sent on `conn`, for anomaly reports. */
    let history: string[] = [];
    const drop = (s: FuzzSocket) => {
      stats.repliesReceived += s.replies;
      s.replies = 0;
      s.destroy();
      open.delete(s);
      if (conn === s) conn = undefined;
    };
    try {
      while (!exhausted && (options.deadline === undefined || Date.now() < options.deadline)) {
        const drawn: FuzzFrame[] = [];
        const want = 1 + Math.floor(random() * maxPerRound);
        while (drawn.length < want) {
          const frame = options.next();
          if (frame === undefined) {
            exhausted = true;
            break;
          }
          drawn.push(frame);
        }
        if (drawn.length === 0) break;
        // In flight from here on: predicting runs the codec on these frames, which may itself hang.
        inFlight.set(index, drawn);
        options.onRound?.(index, drawn);
        const round = drawn.filter((f) => !isForbidden(f.bytes));
        stats.skippedFrames += drawn.length - round.length;

        const sentinelId = (sentinelIds = (sentinelIds + 1) | 0);
        const sentinel = opMsg({ requestId: sentinelId, sections: [{ kind: 0, doc: { ping: 1, $db: 'admin' } }] });
        const stream = Buffer.concat([...round.map((f) => f.bytes), sentinel]);
        const { prediction, forbidden, threw } = predict(stream, sentinel.length);
        if (threw !== undefined) anomaly('decode-threw', `decodeRequest threw something other than a ProtocolViolation: ${threw}`, round);
        if (forbidden || round.length === 0) {
          stats.skippedFrames += round.length;
          inFlight.delete(index);
          options.onRound?.(index, undefined);
          continue;
        }

        if (conn === undefined || conn.closed) {
          if (conn !== undefined) drop(conn);
          try {
            conn = await FuzzSocket.open(options.port, host, waitMs);
          } catch (err) {
            anomaly('connect-failed', (err as Error).message, round);
            conn = undefined;
            break;
          }
          open.add(conn);
          stats.connections += 1;
          history = [];
        }
        const socket = conn;
        inFlight.set(index, round);

        // Split the stream into 1..3 writes, sometimes yielding between them.
        const cuts = [0];
        const pieces = 1 + Math.floor(random() * 3);
        for (let i = 1; i < pieces; i++) cuts.push(Math.floor(random() * stream.length));
        cuts.push(stream.length);
        cuts.sort((a, b) => a - b);
        for (let i = 1; i < cuts.length; i++) {
          if (socket.closed) break;
          const piece = stream.subarray(cuts[i - 1], cuts[i]);
          if (piece.length === 0) continue;
          socket.socket.write(piece);
          if (random() < 0.3) await new Promise<void>((resolve) => setImmediate(resolve));
        }
        stats.rounds += 1;
        stats.framesSent += round.length;
        stats.bytesSent += stream.length;
        stats.predicted[prediction] += 1;

        if (prediction === 'reply') {
          await socket.waitFor(() => socket.answered.has(sentinelId) || socket.closed, waitMs);
          if (socket.answered.has(sentinelId)) {
            stats.sentinelsAnswered += 1;
          } else if (socket.closed) {
            stats.serverCloses += 1;
            anomaly('unexpected-close', 'the server closed a connection whose frames were all valid to frame and decode', round, history);
            drop(socket);
          } else {
            anomaly('timeout', `no reply to the sentinel within ${waitMs} ms`, round, history);
            drop(socket);
          }
        } else if (prediction === 'stream') {
          // Read whatever the stream sends for a moment (replies are checked), then hang up.
          await socket.waitFor(() => socket.closed, 20);
          if (socket.closed) stats.serverCloses += 1;
          drop(socket);
        } else {
          if (prediction === 'stall') socket.socket.end();
          const closed = await socket.waitFor(() => socket.closed, waitMs);
          if (closed) stats.serverCloses += 1;
          else anomaly('no-close', `the server kept the connection open (expected ${prediction})`, round, history);
          drop(socket);
        }
        inFlight.delete(index);
        options.onRound?.(index, undefined);
        for (const problem of socket.problems.splice(0)) anomaly('bad-reply', problem, round, history);
        history.push(round.map((f) => f.label).join(' | '));
        if (history.length > 5) history.shift();

        if (stats.framesSent >= nextProgress) {
          nextProgress += progressEvery;
          stats.elapsedMs = Date.now() - started;
          options.onProgress?.(stats);
        }
      }
    } finally {
      if (conn !== undefined) drop(conn);
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, options.sockets ?? 4) }, (_, i) => worker(i)));
  } finally {
    clearInterval(ticker);
    for (const s of open) s.destroy();
    open.clear();
    stats.elapsedMs = Date.now() - started;
  }
  return stats;
}

/** Pulls frames from a list. */
export function fromList(frames: readonly FuzzFrame[]): () => FuzzFrame | undefined {
  let i = 0;
  return () => frames[i++];
}

/** Pulls frames from a generator of batches. */
export function fromBatches(batches: Iterator<FuzzFrame[]>): () => FuzzFrame | undefined {
  let current: FuzzFrame[] = [];
  let i = 0;
  return () => {
    while (i >= current.length) {
      const next = batches.next();
      if (next.done === true) return undefined;
      current = next.value;
      i = 0;
    }
    return current[i++];
  };
}

/** Log lines that mean a bug rather than a bad client: a non-protocol failure or a handler crash. */
export const BUG_LOG_IDS: ReadonlySet<number> = new Set([4879802, 21966]);

/** Records the server's bug-indicating log entries while installed. */
export function watchServerLog(server: PocketMongo): { readonly entries: LogEntry[]; restore(): void } {
  const log = server.services.log;
  const entries: LogEntry[] = [];
  const warn = log.warn;
  const error = log.error;
  log.warn = (entry: LogEntry) => {
    if (BUG_LOG_IDS.has(entry.id)) entries.push(entry);
    warn.call(log, entry);
  };
  log.error = (entry: LogEntry) => {
    if (BUG_LOG_IDS.has(entry.id)) entries.push(entry);
    error.call(log, entry);
  };
  return {
    entries,
    restore() {
      log.warn = warn;
      log.error = error;
    },
  };
}

/** Records uncaught exceptions and unhandled rejections while installed. */
export function watchProcess(): { readonly errors: string[]; restore(): void } {
  const errors: string[] = [];
  const onException = (err: unknown) => errors.push(`uncaughtException: ${String((err as Error)?.stack ?? err)}`);
  const onRejection = (reason: unknown) => errors.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    errors,
    restore() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

/** `{ping: 1}` through the official driver on a fresh client. */
export async function pingWithDriver(uri: string, timeoutMs = 10_000): Promise<Document> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    return await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

/** Waits until the server has no open connections; returns the count left. */
export async function waitForNoConnections(server: PocketMongo, timeoutMs = 5000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (server.services.clients.open.size > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server.services.clients.open.size;
}

export function formatStats(stats: FuzzStats): string {
  const rate = stats.elapsedMs > 0 ? Math.round((stats.framesSent * 1000) / stats.elapsedMs) : 0;
  return (
    `frames=${stats.framesSent} rounds=${stats.rounds} bytes=${stats.bytesSent} replies=${stats.repliesReceived} ` +
    `sentinels=${stats.sentinelsAnswered} predicted(reply/close/stall/stream)=${stats.predicted.reply}/${stats.predicted.close}/${stats.predicted.stall}/${stats.predicted.stream} ` +
    `closes=${stats.serverCloses} connections=${stats.connections} skipped=${stats.skippedFrames} anomalies=${stats.anomalyCount} ` +
    `elapsed=${(stats.elapsedMs / 1000).toFixed(1)}s rate=${rate}/s maxLoopGap=${stats.maxEventLoopGapMs}ms`
  );
}

/**
 * A watchdog on another thread: if this thread's event loop makes no progress for `limitMs`, it
 * writes what was in flight straight to stderr (fd 2) and kills the process with SIGKILL. In-process
 * timers cannot do this, since a blocked event loop never runs them.
 */
export function startWatchdog(limitMs: number): { round(index: number, round: readonly FuzzFrame[] | undefined): void; stop(): void } {
  const shared = new Int32Array(new SharedArrayBuffer(4));
  const t0 = Date.now();
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { writeSync } = require('node:fs');
    const beat = workerData.beat;
    const rounds = new Map();
    parentPort.on('message', (m) => { if (m.text === undefined) rounds.delete(m.index); else rounds.set(m.index, m.text); });
    setInterval(() => {
      const idle = Date.now() - workerData.t0 - Atomics.load(beat, 0);
      if (idle < workerData.limitMs) return;
      let text = 'summary: FAIL watchdog: the event loop (server and fuzzer) made no progress for ' + idle + ' ms; rounds in flight:\\n';
      for (const [index, round] of rounds) text += '  worker ' + index + ': ' + round + '\\n';
      writeSync(2, text);
      process.kill(process.pid, 'SIGKILL');
    }, 250);
  `;
  const worker = new Worker(code, { eval: true, workerData: { beat: shared, t0, limitMs } });
  worker.unref();
  const ticker = setInterval(() => Atomics.store(shared, 0, Date.now() - t0), 100);
  ticker.unref();
  return {
    round(index, round) {
      const text = round?.map((f) => `${f.label} ${f.bytes.toString('hex')}`).join(' || ');
      worker.postMessage({ index, text });
    },
    stop() {
      clearInterval(ticker);
      void worker.terminate();
    },
  };
}

/**
 * Destroys this process's server-side sockets on `port`: cleanup after a server leaked a socket, so
 * it cannot keep the process (or a pending stop()) alive. Uses Node's undocumented _getActiveHandles.
 */
export function destroyServerSockets(port: number): number {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  let destroyed = 0;
  for (const handle of handles) {
    if (handle instanceof Socket && handle.localPort === port && !handle.destroyed) {
      handle.destroy();
      destroyed += 1;
    }
  }
  return destroyed;
}

/** Stops the server; if that takes over `ms` (a leaked socket), destroys its sockets and says how many. */
export async function stopServer(server: PocketMongo, ms = 10_000): Promise<{ stopped: boolean; leakedSockets: number }> {
  const port = server.port;
  const stopping = server.stop();
  const stopped = await Promise.race([stopping.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
  if (stopped) return { stopped, leakedSockets: 0 };
  const leakedSockets = destroyServerSockets(port);
  await stopping;
  return { stopped, leakedSockets };
}
