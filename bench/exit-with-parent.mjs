// @ts-check
/**
 * Preloaded (`node --import ./bench/exit-with-parent.mjs bin/pocketmongo.js ...`) into the
 * pocketmongo server the benchmark spawns, so that the server goes away with the runner even if
 * the runner is killed outright: the runner holds our stdin pipe; when it closes, we go too.
 * Idle otherwise: no cost per request. (While the runner lives it stops servers with SIGTERM.)
 *
 * SIGKILL rather than a graceful SIGTERM: with the runner gone, stdout is a broken pipe, and a
 * final synchronous log flush (pino → sonic-boom 4.2.1 flushSync) retries EPIPE forever.
 */
const die = () => process.kill(process.pid, 'SIGKILL');
process.stdin.on('end', die);
process.stdin.on('error', die);
process.stdin.resume();
