/**
 * Round trips per second for one command, through the driver and through raw sockets, over one
 * and over many connections; each against the baseline and against pocketmongo (fresh server
 * processes per benchmark, the same client code), so the ratio compares like with like.
 */
import type { Document } from 'bson';
import { type ClientKind, runRoundTrips } from '../lib/clients.js';
import { combined, halfSpread, type Throughput, type Timing } from '../lib/measure.js';
import { CpuMeter } from '../lib/cpu.js';
import { type ServerKind, startBoth } from '../lib/processes.js';
import type { Benchmark, BenchOptions } from '../lib/types.js';

/** Uncounted start of each measured half: the client's connections open and get going. */
const RAMP_MS = 250;

export interface RoundTripSpec {
  /** Name prefix: benchmarks are `<name>.<client>.c<connections>`. */
  name: string;
  /** What the table calls the command, e.g. 'ping'. */
  label: string;
  command: Document;
  db?: string;
  clients?: readonly ClientKind[];
  connections?: readonly number[];
}

export function roundTripBenchmarks(spec: RoundTripSpec): Benchmark[] {
  const clients = spec.clients ?? ['driver', 'raw'];
  const connectionCounts = spec.connections ?? [1, 64];
  const db = spec.db ?? 'admin';
  return clients.flatMap((client) =>
    connectionCounts.map(
      (connections): Benchmark => ({
        name: `${spec.name}.${client}.c${connections}`,
        title: `${spec.label}, ${client}, ${connections} conn${connections === 1 ? '' : 's'}`,
        async run(options: BenchOptions, progress) {
          // Both servers up for the whole benchmark. Each is first driven for the warm-up time,
          // uncounted (JIT in the server and in this client process, pools filled); then the
          // window is measured in two halves in ABBA order, so load that drifts during the run
          // weighs on both sides alike. Each half starts with a short uncounted ramp.
          const servers = await startBoth();
          try {
            const roundTrips = (kind: ServerKind, timing: Timing) =>
              runRoundTrips(client, { port: servers[kind].port, connections, command: spec.command, db, timing });
            const cpu = new CpuMeter<ServerKind>((kind) => servers[kind].cpuMicros());
            const measured = (kind: ServerKind, timing: Timing): Promise<Throughput> =>
              cpu.measure(kind, () => roundTrips(kind, timing), (result) => result.completed);
            for (const kind of ['baseline', 'pocketmongo'] as const) {
              progress(`${kind} warm-up`);
              await roundTrips(kind, { warmupMs: 0, durationMs: options.warmupMs });
            }
            const totals: Record<ServerKind, Throughput[]> = { baseline: [], pocketmongo: [] };
            const halves: Timing = { warmupMs: Math.min(RAMP_MS, options.warmupMs), durationMs: options.durationMs / 2 };
            for (const kind of ['baseline', 'pocketmongo', 'pocketmongo', 'baseline'] as const) {
              progress(kind);
              totals[kind].push(await measured(kind, halves));
            }
            const spread = Math.max(halfSpread(totals.baseline), halfSpread(totals.pocketmongo));
            return {
              value: combined(totals.pocketmongo),
              baseline: combined(totals.baseline),
              unit: 'ops/s',
              better: 'higher',
              note: `${connections} in flight; 2×${(halves.durationMs / 1000).toFixed(1)} s ABBA, halves within ${(spread * 100).toFixed(0)}%${cpu.note('pocketmongo', 'baseline')}`,
            };
          } finally {
            await Promise.all([servers.baseline.stop(), servers.pocketmongo.stop()]);
          }
        },
      }),
    ),
  );
}

