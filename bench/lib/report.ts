/** The readable table and the one-line JSON summary. */
import type { Measurement, Unit } from './types.js';

export interface Row {
  name: string;
  title: string;
  measurement: Measurement | undefined;
  error?: string;
}

function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  if (unit === 'ops/s') return `${Math.round(value).toLocaleString('en-US')} ops/s`;
  const digits = value < 10 ? 2 : 1;
  return `${value.toFixed(digits)} ${unit}`;
}

export function ratioOf(m: Measurement): number | undefined {
  return m.baseline !== undefined && m.baseline > 0 ? m.value / m.baseline : undefined;
}

export function renderTable(rows: readonly Row[]): string {
  const header = ['benchmark', 'name', 'pocketmongo', 'baseline', 'ratio', 'notes'];
  const body = rows.map((row) => {
    const m = row.measurement;
    if (m === undefined) return [row.title, row.name, 'FAILED', '', '', row.error ?? ''];
    const ratio = ratioOf(m);
    return [
      row.title,
      row.name,
      formatValue(m.value, m.unit),
      formatValue(m.baseline, m.unit),
      ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
      `${m.better} is better; ${m.note ?? ''}`.replace(/; $/, ''),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3, 4]);
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface Summary {
  suite: 'pocketmongo-bench';
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  /** One-minute load average when the run started: other work on the machine skews ratios. */
  loadAverage: number;
  durationS: number;
  warmupS: number;
  quick: boolean;
  results: Array<{
    name: string;
    unit?: Unit;
    value?: number;
    baseline?: number;
    ratio?: number;
    error?: string;
  }>;
}

function round(value: number, unit: Unit): number {
  return unit === 'ops/s' ? Math.round(value) : Math.round(value * 100) / 100;
}

export function summaryResults(rows: readonly Row[]): Summary['results'] {
  return rows.map((row) => {
    const m = row.measurement;
    if (m === undefined) return { name: row.name, error: row.error ?? 'failed' };
    const ratio = ratioOf(m);
    return {
      name: row.name,
      unit: m.unit,
      value: round(m.value, m.unit),
      ...(m.baseline !== undefined ? { baseline: round(m.baseline, m.unit) } : {}),
      ...(ratio !== undefined ? { ratio: Math.round(ratio * 1000) / 1000 } : {}),
    };
  });
}

// ---------------------------------------------------------------- numbers in notes

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const micros = (ops: number) => 1e6 / ops;
/** A time in microseconds, in the unit that keeps it readable (a scan of 1M documents takes seconds). */
export const duration = (us: number) =>
  Math.abs(us) < 10_000 ? `${fmt(us)} µs` : Math.abs(us) < 10_000_000 ? `${fmt(us / 1000)} ms` : `${(us / 1e6).toFixed(1)} s`;

/** Per-request time above the baseline's (the echo round trip: what the server spends beyond the transport). */
export function netMicros(ops: number, baselineOps: number): number {
  return micros(ops) - micros(baselineOps);
}
