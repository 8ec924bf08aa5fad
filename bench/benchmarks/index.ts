/**
 * The registry: every benchmark, in the order the table shows them. To add one, write a
 * Benchmark (see ../lib/types.ts) and list it here; names are dotted so `--only ping` selects a
 * whole group. A new command's round trips are one line, e.g.
 *   ...roundTripBenchmarks({ name: 'startSession', label: 'startSession', command: { startSession: 1 } }),
 */
import type { Benchmark } from '../lib/types.js';
import { durableBenchmarks } from './durable.js';
import { replicationBenchmarks } from './replication.js';
import { roundTripBenchmarks } from './roundTrips.js';
import { sessionsExpiry, sessionsHoldMemory, sessionsHoldTime } from './sessions.js';
import { cliStart, embeddedStart } from './startup.js';
import { storageBenchmarks } from './storage.js';

export const BENCHMARKS: readonly Benchmark[] = [
  cliStart,
  embeddedStart,
  ...roundTripBenchmarks({ name: 'ping', label: 'ping', command: { ping: 1 } }),
  ...roundTripBenchmarks({ name: 'startSession', label: 'startSession', command: { startSession: 1 } }),
  sessionsHoldMemory,
  sessionsHoldTime,
  sessionsExpiry,
  ...(await import('./auth.js')).authBenchmarks,
  ...replicationBenchmarks,
  // Last: their loaded servers (storage) and directory (durable) are shared by their rows and
  // freed after the last one.
  ...storageBenchmarks,
  ...durableBenchmarks,
];
