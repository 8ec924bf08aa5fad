/** What a benchmark is and what it reports. */
import type { Timing } from './measure.js';

export interface BenchOptions extends Timing {
  /** --quick: shorter runs, fewer repetitions where a benchmark has them. */
  quick: boolean;
}

export type Unit = 'ops/s' | 'ms' | 'MB';

export interface Measurement {
  /** pocketmongo's figure. */
  value: number;
  unit: Unit;
  /** Whether a larger value is better (throughput) or worse (latency, memory). */
  better: 'higher' | 'lower';
  /** The same measurement against the baseline, in the same run; required for throughput. */
  baseline?: number;
  /** A short remark printed after the row (repetitions, connections, ...). */
  note?: string;
}

export interface Benchmark {
  /** Dotted, stable id used by --only and in the JSON summary: `group.variant...`. */
  name: string;
  /** The row label in the table. */
  title: string;
  run(options: BenchOptions, progress: (message: string) => void): Promise<Measurement>;
}
