// @ts-check
/**
 * Preloaded (`node --import ./bench/exit-with-parent.mjs bin/pocketmongo.js ...`) into the
 * pocketmongo server the benchmark spawns, so that the server goes away with the runner even if
 * the runner is killed outright: the runner holds our stdin pipe, and when it closes we send
 * ourselves SIGTERM (pocketmongo's own graceful shutdown). Idle otherwise: no cost per request.
 */
const terminate = () => process.kill(process.pid, 'SIGTERM');
process.stdin.on('end', terminate);
process.stdin.on('error', terminate);
process.stdin.resume();
