#!/usr/bin/env node
// The command line. It runs dist/cli.bundle.js, the CLI and its dependencies in one file
// (scripts/bundle.mjs, part of `npm run build`), compiled with V8's code cache
// (dist/cli.bundle.cache) when that cache was made for this very bundle; V8 ignores a cache made
// by another Node version. Start-up is then two file reads instead of ~540 module loads.
// A bundle older than tsc's output (a `tsc` run without the bundle step) is not used: the CLI
// then loads dist/server/cli.js as tsc wrote it, so it always runs the latest build.
//
// Node's modules come from process.getBuiltinModule, not `import`: an ES import of a builtin makes
// a module facade of all its exports, and node:fs's reads fs.ReadStream, loading Node's file
// streams (~1 ms at every start) that the CLI never uses.
const { readFileSync, statSync } = process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const { dirname } = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');
const { Script } = process.getBuiltinModule('node:vm');

const BUNDLE = fileURLToPath(new URL('../dist/cli.bundle.js', import.meta.url));
const CACHE = fileURLToPath(new URL('../dist/cli.bundle.cache', import.meta.url));
const TSC_CLI = fileURLToPath(new URL('../dist/server/cli.js', import.meta.url));
const KEY_PREFIX = '//# pocketmongo-bundle-key=';

const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
const bundled = mtime(BUNDLE);
const compiled = mtime(TSC_CLI);
if (bundled === undefined && compiled === undefined) {
  process.stderr.write('pocketmongo: dist/ is missing: run `npm run build` first\n');
  process.exit(1);
}
if (bundled === undefined || (compiled !== undefined && compiled > bundled)) {
  const { main } = await import('../dist/server/cli.js');
  await main();
} else {
  // The bundle is ASCII (scripts/bundle.mjs checks it), and latin1 reads ASCII 5x faster than UTF-8.
  const source = readFileSync(BUNDLE, 'latin1');
  const key = `${source.slice(source.lastIndexOf(KEY_PREFIX)).trimEnd()}\n`;
  let cachedData;
  try {
    const cache = readFileSync(CACHE);
    if (cache.toString('latin1', 0, key.length) === key) cachedData = cache.subarray(key.length);
  } catch {
    // No cache: V8 compiles from source.
  }
  const module = { exports: {} };
  new Script(source, { filename: BUNDLE, cachedData }).runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  await module.exports.main();
}
