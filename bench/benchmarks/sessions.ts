/**
 * The session registry at scale: memory and time to hold 1,000,000 live sessions, and the cost
 * of 1,000,000 sessions falling due at once (the sweeper must not block the event loop for more
 * than ~20 ms at a time). Each runs in a fresh child process (bench/sessionProbe.ts).
 */
import { execFile } from 'node:child_process';
import { REPO_ROOT } from '../lib/processes.js';
import type { Benchmark, BenchOptions } from '../lib/types.js';

const SESSIONS = 1_000_000;

function probe<T>(what: 'hold' | 'expire', n: number): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', 'bench/sessionProbe.ts', what, String(n)],
      { cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`session probe ${what} failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
      },
    );
  });
}

interface HoldResult {
  registryMs: number;
  registryMB: number;
  baselineMs: number;
  baselineMB: number;
}

let held: Promise<HoldResult> | undefined;
const holdOnce = (options: BenchOptions) => (held ??= probe<HoldResult>('hold', options.quick ? SESSIONS / 10 : SESSIONS));

const count = (options: BenchOptions) => (options.quick ? SESSIONS / 10 : SESSIONS).toLocaleString('en-US');

export const sessionsHoldMemory: Benchmark = {
  name: 'sessions.hold.memory',
  title: 'memory for 1M live sessions',
  async run(options) {
    const r = await holdOnce(options);
    return {
      value: r.registryMB,
      baseline: r.baselineMB,
      unit: 'MB',
      better: 'lower',
      note: `${count(options)} sessions; baseline: a Map of the same keys to {lastUse}`,
    };
  },
};

export const sessionsHoldTime: Benchmark = {
  name: 'sessions.hold.time',
  title: 'time to create 1M sessions',
  async run(options) {
    const r = await holdOnce(options);
    return {
      value: r.registryMs,
      baseline: r.baselineMs,
      unit: 'ms',
      better: 'lower',
      note: `${count(options)} vivify() calls in-process; baseline: Map.set of the same keys`,
    };
  },
};

export const sessionsExpiry: Benchmark = {
  name: 'sessions.expire',
  title: '1M sessions due at once: longest event-loop block',
  async run(options) {
    const r = await probe<{ longestSweepMs: number; medianSweepMs: number; sweeps: number; totalMs: number }>(
      'expire',
      options.quick ? SESSIONS / 10 : SESSIONS,
    );
    return {
      value: r.longestSweepMs,
      unit: 'ms',
      better: 'lower',
      note: `${count(options)} expired in ${Math.round(r.totalMs)} ms over ${r.sweeps} sweeps (median ${r.medianSweepMs.toFixed(1)} ms; the longest includes GC pauses)`,
    };
  },
};
