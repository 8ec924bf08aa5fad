/** Timing primitives: concurrent request loops over a warm-up then a fixed window, and medians. */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Timing {
  warmupMs: number;
  durationMs: number;
}

/**
 * One client loop: issues a request, waits for its reply, calls `done()`, and repeats while
 * `keepGoing()` is true. Resolves once it has stopped (its last reply in), rejects on an error.
 */
export type Loop = (keepGoing: () => boolean, done: () => void) => Promise<void>;

export interface Throughput {
  /** Round trips completed inside the measurement window. */
  ops: number;
  /** Round trips completed in the whole run, warm-up and drain included (for costs measured over the whole run). */
  completed: number;
  seconds: number;
  opsPerSec: number;
}

/** What a rate is made of: requests counted over seconds (a Throughput, or a sequential run's result). */
export type Rate = Pick<Throughput, 'ops' | 'seconds' | 'opsPerSec'>;

/** How long stopped loops get to bring their last in-flight request home. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Runs every loop concurrently: `warmupMs` uncounted, then counts completions for `durationMs`,
 * then tells the loops to stop and waits (bounded) for them. Any loop error aborts the run.
 */
export async function measureThroughput(loops: readonly Loop[], timing: Timing): Promise<Throughput> {
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  let count = 0;
  let completed = 0;
  let failure: unknown;
  const keepGoing = () => phase !== 'stop';
  const done = () => {
    completed += 1;
    if (phase === 'measure') count += 1;
  };
  const all = Promise.all(loops.map((loop) => loop(keepGoing, done)));
  const failed = all.then(
    () => new Promise<never>(() => {}),
    (err: unknown) => {
      failure = err;
      phase = 'stop';
    },
  );
  const waitOrFail = async (ms: number) => {
    await Promise.race([sleep(ms), failed]);
    if (failure !== undefined) throw failure;
  };

  try {
    await waitOrFail(timing.warmupMs);
    phase = 'measure';
    count = 0;
    const start = performance.now();
    await waitOrFail(timing.durationMs);
    const ops = count;
    const seconds = (performance.now() - start) / 1000;
    phase = 'stop';
    await withTimeout(all, DRAIN_TIMEOUT_MS, 'client loops did not stop');
    return { ops, completed, seconds, opsPerSec: ops / seconds };
  } finally {
    phase = 'stop';
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Times `fn` (milliseconds, high resolution). */
export async function timeMs(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Total operations over total measured time, across the halves of one side. */
export function combined(runs: readonly Rate[]): number {
  const ops = runs.reduce((sum, r) => sum + r.ops, 0);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return ops / seconds;
}

/** How far apart the two halves of one side were, relative to their mean: a noise indicator. */
export function halfSpread(runs: readonly Rate[]): number {
  const [a, b] = runs.map((r) => r.opsPerSec);
  return a === undefined || b === undefined || a + b === 0 ? 0 : Math.abs(a - b) / ((a + b) / 2);
}
