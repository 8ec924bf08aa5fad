/**
 * ABBA over one connection with one request in flight (sequential.ts), for the benchmarks that
 * compare two servers request for request (storage.ts: pocketmongo against the echo server;
 * durable.ts: --dbpath against in memory). As roundTrips.ts: each side is driven for the warm-up
 * time uncounted, then the window is measured in two halves in the order A B B A, each after a
 * short uncounted ramp, so load that drifts during the run weighs on both sides alike.
 */
import { halfSpread, type Timing } from './measure.js';
import type { CpuMeter } from './cpu.js';
import type { SequentialResult } from './sequential.js';
import type { BenchOptions } from './types.js';

/** Uncounted start of each measured half (as in roundTrips.ts). */
const RAMP_MS = 250;

/** Drives side `side` for `timing` (a fresh collection, connection, ... as the benchmark needs). */
export type Measure<S extends string> = (side: S, timing: Timing) => Promise<SequentialResult>;

/** Each side's two measured halves. */
export type Abba<S extends string> = Record<S, SequentialResult[]>;

/** `sides` is [A, B]: A (the baseline) is warmed up first and measured first and last; a CpuMeter adds up each side's server CPU. */
export async function abba<S extends string>(
  sides: readonly [S, S],
  measureSide: Measure<S>,
  options: BenchOptions,
  progress: (m: string) => void,
  cpu?: CpuMeter<S>,
): Promise<Abba<S>> {
  const [a, b] = sides;
  const measure: Measure<S> = cpu === undefined ? measureSide : (side, timing) => cpu.measure(side, () => measureSide(side, timing), (r) => r.completed);
  for (const side of sides) {
    progress(`${side} warm-up`);
    await measure(side, { warmupMs: 0, durationMs: options.warmupMs });
  }
  const totals = { [a]: [], [b]: [] } as Record<string, SequentialResult[]> as Abba<S>;
  const half: Timing = { warmupMs: Math.min(RAMP_MS, options.warmupMs), durationMs: options.durationMs / 2 };
  for (const side of [a, b, b, a]) {
    progress(side);
    totals[side].push(await measure(side, half));
  }
  return totals;
}

/** How far apart the two halves of the slower-to-agree side were: a noise indicator. */
export function spread(result: Abba<string>): string {
  return `${(Math.max(...Object.values(result).map(halfSpread)) * 100).toFixed(0)}%`;
}

/** Each half runs until its last reply after durationMs/2, so a slow request can stretch it. */
export const halves = (options: BenchOptions) => `2×${(options.durationMs / 2000).toFixed(1)} s`;
