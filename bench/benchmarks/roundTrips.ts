/**
 * Round trips per second for one command, through the driver and through raw sockets, over one
 * and over many connections; each against the baseline and against pocketmongo, each server a
 * fresh process, so the ratio compares like with like.
 */
import type { Document } from 'bson';
import { type ClientKind, runRoundTrips } from '../lib/clients.js';
import { startServer, type ServerKind } from '../lib/processes.js';
import type { Benchmark, BenchOptions } from '../lib/types.js';

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
          const result: Partial<Record<ServerKind, number>> = {};
          for (const kind of ['baseline', 'pocketmongo'] as const) {
            progress(kind);
            result[kind] = await opsPerSecond(kind, client, connections, spec.command, db, options);
          }
          return {
            value: result.pocketmongo!,
            baseline: result.baseline!,
            unit: 'ops/s',
            better: 'higher',
            note: `${connections} in flight, ${(options.durationMs / 1000).toFixed(1)} s`,
          };
        },
      }),
    ),
  );
}

async function opsPerSecond(
  kind: ServerKind,
  client: ClientKind,
  connections: number,
  command: Document,
  db: string,
  options: BenchOptions,
): Promise<number> {
  const server = await startServer(kind);
  try {
    const { opsPerSec } = await runRoundTrips(client, { port: server.port, connections, command, db, timing: options });
    return opsPerSec;
  } finally {
    await server.stop();
  }
}
