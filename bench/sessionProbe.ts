/**
 * Run in a child process (`node --expose-gc --import tsx bench/sessionProbe.ts <what> <n>`), so
 * memory is measured on a clean heap. Prints one JSON line.
 *   hold <n>:   memory and time for n live sessions in a SessionRegistry, beside a baseline Map
 *               holding the same keys with a bare {lastUse} record (the least any registry needs).
 *   expire <n>: n sessions fall due at once; the sweeper's longest single run (how long it
 *               blocks the event loop) and the total time until all are gone.
 */
import { randomBytes } from 'node:crypto';
import { VirtualClock } from '../src/clock.js';
import { lsidKey, NO_AUTH_UID } from '../src/sessions/logicalSessionId.js';
import { SessionRegistry } from '../src/sessions/sessionRegistry.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function heapMB(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / (1024 * 1024);
}

function ids(n: number): Buffer[] {
  const all = randomBytes(16 * n);
  return Array.from({ length: n }, (_, i) => all.subarray(16 * i, 16 * i + 16));
}

function registry(clock: VirtualClock, n: number): SessionRegistry {
  return new SessionRegistry({
    clock,
    timeoutMinutes: 30,
    refreshMillis: 300_000,
    maxSessions: n + 1,
    refreshDisabled: true,
  });
}

function hold(n: number): object {
  const sessionIds = ids(n);
  const clock = new VirtualClock();
  const before = heapMB();
  let t0 = performance.now();
  const r = registry(clock, n);
  for (const id of sessionIds) r.vivify({ id, uid: NO_AUTH_UID }, undefined);
  const registryMs = performance.now() - t0;
  const registryMB = heapMB() - before;

  const before2 = heapMB();
  t0 = performance.now();
  const map = new Map<string, { lastUse: number }>();
  for (const id of sessionIds) map.set(lsidKey(id, NO_AUTH_UID), { lastUse: 0 });
  const baselineMs = performance.now() - t0;
  const baselineMB = heapMB() - before2;
  // Both structures (and the ids, allocated before either measurement) are still alive here, so
  // neither measurement was shrunk by the other's GC or by the ids being freed in between.
  if (r.size !== n || map.size !== n || sessionIds.length !== n) throw new Error(`expected ${n} sessions, have ${r.size} and ${map.size}`);
  r.stop();
  return { registryMs, registryMB, baselineMs, baselineMB };
}

async function expire(n: number): Promise<object> {
  const clock = new VirtualClock();
  const r = registry(clock, n);
  for (const id of ids(n)) r.vivify({ id, uid: NO_AUTH_UID }, undefined);
  // Time the sweeps the registry runs itself: the timer sweep, then its setImmediate follow-ups.
  const durations: number[] = [];
  const original = r.sweep.bind(r);
  r.sweep = () => {
    const t = performance.now();
    const swept = original();
    if (swept > 0) durations.push(performance.now() - t);
    return swept;
  };
  const t0 = performance.now();
  clock.advance(30 * 60_000 + 1_000);
  while (r.size > 0) await new Promise((resolve) => setImmediate(resolve));
  const totalMs = performance.now() - t0;
  r.stop();
  durations.sort((a, b) => a - b);
  return {
    longestSweepMs: durations.at(-1) ?? 0,
    medianSweepMs: durations[Math.floor(durations.length / 2)] ?? 0,
    sweeps: durations.length,
    totalMs,
  };
}

const [what, count] = [process.argv[2], Number(process.argv[3] ?? 1_000_000)];
const result = what === 'hold' ? hold(count) : await expire(count);
process.stdout.write(`${JSON.stringify(result)}\n`);
