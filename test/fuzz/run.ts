/**
 * Long fuzz runs against an in-process server: `npm run fuzz -- 1000000`
 * (node --import tsx test/fuzz/run.ts [count] [seed]).
 *
 * Prints progress and a final summary line. Exits 1 if the process saw an uncaught exception or
 * unhandled rejection, if the server stopped answering {ping: 1} through the official driver, if
 * its connections did not drain, or if the run recorded anomalies or bug-indicating log lines
 * (set FUZZ_ALLOW_ANOMALIES=1 to report those without failing). A watchdog thread kills the run
 * (SIGKILL, after printing the rounds in flight) if the event loop - the server's, since it runs in
 * this process - makes no progress for FUZZ_WATCHDOG_MS (default 60,000). Other environment:
 * FUZZ_SOCKETS (default 4), FUZZ_SECONDS (a time limit; default none), FUZZ_WAIT_MS (how long a
 * reply or a close may take; default 5000).
 */
import { startServer } from '../helpers/server.js';
import {
  formatStats,
  fromBatches,
  pingWithDriver,
  runFuzz,
  startWatchdog,
  stopServer,
  waitForNoConnections,
  watchProcess,
  watchServerLog,
} from './driver.js';
import { allSeeds, frameBatches } from './frames.js';

function positiveInt(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`not a positive integer: ${text}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  const count = positiveInt(process.argv[2], 100_000);
  const seed = positiveInt(process.argv[3], Date.now() % 1_000_000_000);
  const sockets = positiveInt(process.env.FUZZ_SOCKETS, 4);
  const seconds = process.env.FUZZ_SECONDS === undefined ? undefined : positiveInt(process.env.FUZZ_SECONDS, 1);
  const allowAnomalies = process.env.FUZZ_ALLOW_ANOMALIES === '1';

  const proc = watchProcess();
  const watchdog = startWatchdog(positiveInt(process.env.FUZZ_WATCHDOG_MS, 60_000));
  const server = await startServer();
  const logs = watchServerLog(server);
  const seeds = allSeeds();
  console.log(`fuzz: ${count} frames, seed ${seed}, ${seeds.length} seed frames, ${sockets} sockets, server on port ${server.port}`);

  let shown = 0;
  let summary: string;
  let failed: boolean;
  try {
    const stats = await runFuzz({
      port: server.port,
      next: fromBatches(frameBatches(seeds, count, seed)),
      sockets,
      seed,
      deadline: seconds === undefined ? undefined : Date.now() + seconds * 1000,
      progressEvery: Math.max(1000, Math.min(50_000, Math.floor(count / 20))),
      waitMs: positiveInt(process.env.FUZZ_WAIT_MS, 5000),
      onProgress: (s) => console.log(`progress: ${formatStats(s)}`),
      onRound: (index, round) => watchdog.round(index, round),
      onAnomaly: (a) => {
        if (++shown <= 20) console.log(`anomaly ${a.kind}: ${a.detail}\n  labels: ${a.labels.join(' | ')}\n  frames: ${a.frames.join(' ')}`);
      },
    });
    for (const entry of logs.entries.slice(0, 10)) console.log(`server log ${entry.id} ${entry.msg}: ${JSON.stringify(entry.attr)}`);

    const left = await waitForNoConnections(server);
    let pingOk = false;
    try {
      pingOk = (await pingWithDriver(server.uri)).ok === 1;
    } catch (err) {
      console.log(`ping failed: ${(err as Error).message}`);
    }
    const leftAfterPing = await waitForNoConnections(server);
    failed =
      proc.errors.length > 0 ||
      !pingOk ||
      left !== 0 ||
      leftAfterPing !== 0 ||
      (!allowAnomalies && (stats.anomalyCount > 0 || logs.entries.length > 0));
    summary =
      `seed=${seed} ${formatStats(stats)} bugLogs=${logs.entries.length} processErrors=${proc.errors.length} ` +
      `ping=${pingOk ? 'ok' : 'FAILED'} connectionsLeft=${left}/${leftAfterPing}`;
  } catch (err) {
    failed = true;
    summary = `seed=${seed} the fuzz run threw: ${String((err as Error)?.stack ?? err)}`;
  }
  logs.restore();
  const { stopped, leakedSockets } = await stopServer(server, 10_000);
  if (!stopped) {
    failed = true;
    summary += ` stop=HUNG(${leakedSockets} leaked socket(s) destroyed)`;
  }
  watchdog.stop();
  for (const e of proc.errors) console.log(e);
  proc.restore();
  console.log(`summary: ${failed ? 'FAIL' : 'OK'} ${summary}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
