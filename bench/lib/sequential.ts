/**
 * One raw connection with one request in flight, timed up to its last completed reply instead of
 * counting completions in a fixed window. The storage benchmarks need it: their requests take
 * from tens of microseconds (a lookup through an index) to a second (a scan of 1M documents), and
 * a fixed window holding three slow requests would be off by up to a third.
 */
import { performance } from 'node:perf_hooks';
import { BSON, type Document } from 'bson';
import type { Timing } from './measure.js';
import { encodeOpMsg, type RawConnection } from './wire.js';

export interface SequentialRun extends Timing {
  conn: RawConnection;
  /**
   * The next request. It may hand back the same buffer every time: a frame is only sent again
   * once the reply to its previous send is in (so the server has read all of it).
   */
  next: () => Buffer;
  /** Throws unless the reply is a good one. Called on the first reply and whenever a reply's length changes. */
  check: (reply: Buffer) => void;
  /** A single reply taking longer than this fails the run (default 120 s). */
  replyTimeoutMs?: number;
}

export interface SequentialResult {
  /** Requests completed in the counted part. */
  ops: number;
  /** Requests completed in the whole run, warm-up included. */
  completed: number;
  /** From the end of the warm-up to the last counted reply. */
  seconds: number;
  opsPerSec: number;
}

const WATCHDOG_MS = 1_000;

/**
 * Sends requests back to back: uncounted until `warmupMs` has passed (at least one request when
 * it is positive), then counted until `durationMs` has passed (at least one request).
 *
 * Replies are decoded only when their length changes (as the raw round-trip client does): a
 * lookup returning the same fixed-size document shape always has the same length, and an error
 * reply would not, so every distinct kind of reply is checked without paying a BSON decode per
 * request on the client side.
 */
export function runSequential(run: SequentialRun): Promise<SequentialResult> {
  return new Promise((resolve, reject) => {
    let checkedLength = -1;
    let warming = run.warmupMs > 0;
    let phaseStart = performance.now();
    let lastSent = phaseStart;
    let ops = 0;
    let completed = 0;
    let settled = false;
    const timeoutMs = run.replyTimeoutMs ?? 120_000;

    const finish = (err: unknown, result?: SequentialResult) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      if (err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(result!);
    };
    // One timer for the whole run rather than one per request: a per-request timer would cost
    // the client more than some of the requests cost the server.
    const watchdog = setInterval(() => {
      if (performance.now() - lastSent <= timeoutMs) return;
      finish(new Error(`no reply within ${timeoutMs} ms`));
      run.conn.close();
    }, WATCHDOG_MS);

    const send = () => {
      lastSent = performance.now();
      run.conn.send(run.next(), onReply);
    };
    const onReply = (err: Error | undefined, reply: Buffer | undefined) => {
      if (settled) return;
      if (err !== undefined) return finish(err);
      if (reply!.length !== checkedLength) {
        try {
          run.check(reply!);
        } catch (checkErr) {
          return finish(checkErr);
        }
        checkedLength = reply!.length;
      }
      completed += 1;
      const now = performance.now();
      if (warming) {
        if (now - phaseStart >= run.warmupMs) {
          warming = false;
          phaseStart = now;
        }
      } else {
        ops += 1;
        if (now - phaseStart >= run.durationMs) {
          const seconds = (now - phaseStart) / 1000;
          return finish(undefined, { ops, completed, seconds, opsPerSec: ops / seconds });
        }
      }
      send();
    };
    send();
  });
}

/**
 * A pre-encoded OP_MSG whose int32 values can be rewritten in place: a fresh query value per
 * request costs four byte writes instead of a BSON encode, so the client's cost per request
 * stays as small as for a constant frame (whose cost the echo ceiling includes).
 *
 * Build it from a body holding each marker once, as an int32 (e.g. `{filter: {a: marker(0)}}`).
 */
export class PatchableFrame {
  readonly frame: Buffer;
  private readonly offsets: number[];

  constructor(body: Document, slots: number) {
    this.frame = encodeOpMsg(body);
    this.offsets = Array.from({ length: slots }, (_, i) => uniqueOffset(this.frame, marker(i)));
  }

  /** Writes `value` (an int32) into slot `slot`. */
  set(slot: number, value: number): void {
    this.frame.writeInt32LE(value, this.offsets[slot]!);
  }
}

/** The placeholder value of slot `i`: odd bytes that no length, flag or small value will repeat. */
export function marker(i: number): number {
  return 0x5eedba00 + i;
}

function uniqueOffset(frame: Buffer, value: number): number {
  const needle = Buffer.alloc(4);
  needle.writeInt32LE(value);
  const first = frame.indexOf(needle);
  if (first < 0 || frame.indexOf(needle, first + 1) >= 0) {
    throw new Error(`PatchableFrame: marker 0x${value.toString(16)} must appear exactly once in ${JSON.stringify(BSON.deserialize(frame.subarray(21)))}`);
  }
  return first;
}
