/**
 * pocketmongo's benchmark suite.
 *
 *   npm run bench                                  # build, then every benchmark, 3 s each
 *   node --import tsx bench/run.ts --quick         # 1 s windows, fewer repetitions
 *   node --import tsx bench/run.ts --only ping.raw --duration 5
 *
 * Every figure is measured beside a baseline in the same run — a bare node:net server
 * (bench/baseline-server.mjs) that answers each OP_MSG with a canned {ok: 1} — and reported
 * with the ratio pocketmongo/baseline. Servers run in child processes (the CLI as users run it),
 * clients in this one; everything is loopback. Output: a table, then one line of JSON.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCHMARKS } from './benchmarks/index.js';
import { installCleanup, REPO_ROOT } from './lib/processes.js';
import { renderTable, type Row, type Summary, summaryResults } from './lib/report.js';
import type { BenchOptions } from './lib/types.js';

const USAGE = `usage: node --import tsx bench/run.ts [options]

  --duration <s>   measurement window per throughput figure (default 3; 1 with --quick)
  --warmup <s>     uncounted warm-up of each server before it is measured (default 2; 0.5 with --quick)
  --quick          short windows and fewer start-up repetitions
  --only <names>   comma-separated benchmark names or dotted prefixes (e.g. start.cli,ping.raw)
  --list           list the benchmark names and exit
  -h, --help       this text`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function seconds(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) fail(`--${flag} must be a number of seconds in [${min}, ${max}]`);
  return value;
}

/** `ping` selects ping.*, `ping.raw` selects ping.raw.*, `ping.raw.c1` selects just that one. */
function selected(name: string, filters: readonly string[]): boolean {
  return filters.length === 0 || filters.some((f) => name === f || name.startsWith(`${f}.`));
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        warmup: { type: 'string' },
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return fail((err as Error).message);
  }
}

async function main(): Promise<number> {
  const args = parseCommandLine(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.list) {
    for (const b of BENCHMARKS) process.stdout.write(`${b.name.padEnd(24)} ${b.title}\n`);
    return 0;
  }
  const quick = args.quick ?? false;
  const options: BenchOptions = {
    quick,
    durationMs: seconds('duration', args.duration, quick ? 1 : 3, 0.1, 600) * 1000,
    warmupMs: seconds('warmup', args.warmup, quick ? 0.5 : 2, 0, 60) * 1000,
  };
  const filters = (args.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  const chosen = BENCHMARKS.filter((b) => selected(b.name, filters));
  if (chosen.length === 0) fail(`--only ${filters.join(',')} matches no benchmark (see --list)`);
  if (!existsSync(join(REPO_ROOT, 'dist', 'server', 'cli.js'))) fail('dist/server/cli.js is missing: run `npm run build` first');

  installCleanup();
  const cpuList = cpus();
  const cpuModel = cpuList[0]?.model.trim() ?? 'unknown';
  const load = loadavg()[0]!;
  const busy = load > cpuList.length * 0.5 ? ' — the machine is busy, figures will be noisy' : '';
  process.stdout.write(
    `pocketmongo bench — node ${process.version}, ${process.platform}-${process.arch}, ${cpuList.length} CPUs (${cpuModel})\n` +
      `load average ${load.toFixed(2)} at start${busy}\n` +
      `per server: ${options.warmupMs / 1000} s warm-up, then ${options.durationMs / 1000} s measured (two halves, ABBA); ` +
      `baseline: bare node:net server answering canned {ok: 1}; ratio = pocketmongo / baseline\n\n`,
  );

  const rows: Row[] = [];
  const started = Date.now();
  for (const bench of chosen) {
    const progress = (message: string) => process.stderr.write(`  ${bench.name}: ${message}\n`);
    progress('…');
    try {
      rows.push({ name: bench.name, title: bench.title, measurement: await bench.run(options, progress) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`  ${bench.name}: FAILED: ${message}\n`);
      rows.push({ name: bench.name, title: bench.title, measurement: undefined, error: message.split('\n')[0] });
    }
  }
  process.stderr.write(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  process.stdout.write(`${renderTable(rows)}\n\n`);
  const summary: Summary = {
    suite: 'pocketmongo-bench',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpuList.length,
    cpuModel,
    loadAverage: Math.round(load * 100) / 100,
    durationS: options.durationMs / 1000,
    warmupS: options.warmupMs / 1000,
    quick,
    results: summaryResults(rows),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return rows.some((r) => r.measurement === undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
