// @ts-check
/**
 * The command line in one file (`npm run build` runs this after tsc): esbuild bundles
 * src/server/cli.ts with its dependencies into dist/cli.bundle.js, and V8's code cache for it is
 * written beside it (dist/cli.bundle.cache). bin/pocketmongo.js compiles the bundle with that
 * cache, so a start reads two files instead of resolving, reading and compiling ~540 modules
 * (issue 14: start-up is module loading, not server work).
 *
 * - The bundle is CommonJS wrapped in the function expression that bin/pocketmongo.js calls
 *   (`exports, require, module, __filename, __dirname`), so the text V8 compiles is the file
 *   itself, byte for byte: the cache writer below and the loader cannot disagree on it. Its last
 *   line carries a key (a hash of everything before it); the cache file starts with the same key,
 *   and the loader uses the cache only when the two match (V8 itself checks the Node version and
 *   flags, and the source length). A missing or rejected cache only costs speed.
 * - `import.meta.url` (createRequire in src/version.ts, src/wire/*, src/storage/*) becomes the
 *   bundle's own URL; what those require at run time (snappy's native binding, sorted-btree,
 *   crc-32, ../package.json) stays outside the bundle and loads from node_modules as before.
 *   dist/cli.bundle.js sits one folder below the package root, as dist/version.js does.
 * - The function is strict, as esbuild makes a bundle of ES modules (its own "use strict" would
 *   come after the banner's first statement and do nothing).
 * - Names are kept (`keepNames`): bundling renames clashing identifiers (mingo's `$eq` becomes
 *   `$eq2`, a self-referencing class `ObjectId` becomes `class _ObjectId`), and mingo, commander,
 *   pino and util.inspect read `fn.name` and `constructor.name` (error messages, type names). It
 *   costs ~5 ms of start-up (4,000 `__name` calls), and nothing on a ping.
 * - Whitespace and comments are dropped (half the bytes to read); the output is checked to be
 *   ASCII (esbuild escapes the rest), so the loader can read it as latin1, which is 5x cheaper
 *   than decoding UTF-8.
 *
 * Usage: node scripts/bundle.mjs           bundle, then write the code cache in a child process
 *        node scripts/bundle.mjs --cache   (the child) write the code cache for the current bundle
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'cli.bundle.js');
const CACHE = join(ROOT, 'dist', 'cli.bundle.cache');
/** The last line of the bundle; the cache file starts with the same line. */
const KEY_PREFIX = '//# pocketmongo-bundle-key=';

if (process.argv.includes('--cache')) writeCodeCache();
else await bundle();

async function bundle() {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(ROOT, 'src/server/cli.ts')],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.19',
    write: false,
    outfile: BUNDLE,
    sourcemap: 'linked',
    sourcesContent: false,
    keepNames: true,
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    legalComments: 'none',
    define: { 'import.meta.url': '__pocketmongo_bundle_url' },
    banner: {
      js:
        '(function (exports, require, module, __filename, __dirname) {"use strict";' +
        "const __pocketmongo_bundle_url = require('node:url').pathToFileURL(__filename).href;",
    },
    footer: { js: '})' },
    logLevel: 'warning',
  });
  const js = result.outputFiles.find((f) => f.path === BUNDLE);
  const map = result.outputFiles.find((f) => f.path === `${BUNDLE}.map`);
  if (js === undefined || map === undefined) throw new Error(`esbuild wrote no ${BUNDLE}`);
  const nonAscii = js.contents.findIndex((byte) => byte > 0x7f);
  if (nonAscii !== -1) throw new Error(`${BUNDLE}: non-ASCII byte at offset ${nonAscii} (bin/pocketmongo.js reads it as latin1)`);
  const body = js.text.endsWith('\n') ? js.text : `${js.text}\n`;
  const key = createHash('sha256').update(body).digest('hex');
  rmSync(CACHE, { force: true });
  writeFileSync(`${BUNDLE}.map`, map.contents);
  writeFileSync(BUNDLE, `${body}${KEY_PREFIX}${key}\n`);

  // The cache is made in a fresh node (no esbuild in it, default flags) so that V8 accepts it in
  // a plain `node bin/pocketmongo.js`. Without it the CLI still works, compiling from source.
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--cache'], { stdio: 'inherit' });
  if (child.status !== 0) process.stderr.write(`bundle: no code cache written (exit ${child.status ?? child.signal}); the CLI compiles from source\n`);
}

/**
 * Compiles the bundle exactly as bin/pocketmongo.js does, runs its top level (module
 * initialisation; no server is started), and saves the code V8 compiled, keyed by the bundle's key.
 */
function writeCodeCache() {
  const source = readFileSync(BUNDLE, 'latin1');
  const key = source.slice(source.lastIndexOf(KEY_PREFIX)).trimEnd();
  const script = new Script(source, { filename: BUNDLE });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  writeFileSync(CACHE, Buffer.concat([Buffer.from(`${key}\n`, 'latin1'), script.createCachedData()]));
  process.exit(0);
}
