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
 * - `import.meta.url` becomes the bundle's own URL, for src/'s createRequire(import.meta.url).
 *   What src/ loads that way is bundled when it is pure JavaScript (INLINED_REQUIRES: mingo and
 *   saslprep, loaded at first use; sorted-btree, crc-32's CRC-32C, ../package.json): esbuild
 *   bundles only calls of the free `require`, so the inlineCreateRequire plugin turns those
 *   calls into such. A bundled package's top level runs at its first require() as it would from
 *   node_modules, so what src/ loads on first use stays lazy. The rest (native bindings: snappy,
 *   lmdb) loads from node_modules at run time; dist/cli.bundle.js sits one folder below the
 *   package root, as dist/version.js does.
 * - The function is strict, as esbuild makes a bundle of ES modules (its own "use strict" would
 *   come after the banner's first statement and do nothing).
 * - Names are kept (`keepNames`): bundling renames clashing identifiers (mingo's `$eq` becomes
 *   `$eq2`, a self-referencing class `ObjectId` becomes `class _ObjectId`), and mingo, commander,
 *   pino and util.inspect read `fn.name` and `constructor.name` (error messages, type names). It
 *   costs ~1 ms of start-up (the `__name` calls of the modules loaded then; mingo's come at its
 *   first use). esbuild names each named closure (`const f = () => ...`, `{key: (x) => ...}`) as
 *   it is made, a defineProperty each, which cost requests microseconds: request paths make
 *   methods, module functions or anonymous closures instead (test/e2e/bundleClosures.test.ts).
 * - Whitespace and comments are dropped (half the bytes to read); the output is checked to be
 *   ASCII (esbuild escapes the rest), so the loader can read it as latin1, which is 5x cheaper
 *   than decoding UTF-8.
 * - The code cache holds what a start compiles up to its first reply, not only the module
 *   initialisation: the writer starts the server and the bundling run sends it hello and ping
 *   (warmUpAndCache). V8 then compiles none of that path lazily at each start (~10 ms).
 *
 * Usage: node scripts/bundle.mjs           bundle, then write the code cache in a child process
 *        node scripts/bundle.mjs --cache   (the child) write the code cache for the current bundle
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'cli.bundle.js');
const CACHE = join(ROOT, 'dist', 'cli.bundle.cache');
/** The last line of the bundle; the cache file starts with the same line. */
const KEY_PREFIX = '//# pocketmongo-bundle-key=';
/**
 * What src/ loads with createRequire(import.meta.url) and the bundle carries inside: pure
 * JavaScript. Anything else loaded that way stays a run-time require from node_modules.
 */
const INLINED_REQUIRES = /^(?:mingo(?:\/[\w/]+)?|@mongodb-js\/saslprep|sorted-btree|crc-32\/crc32c\.js|\.\.\/package\.json)$/;
/** How long the cache writer may take to start and answer before the warm-up is given up. */
const WARM_UP_TIMEOUT_MS = 20_000;

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
    plugins: [inlineCreateRequire(), lazyBuiltins()],
    logLevel: 'warning',
  });
  const js = result.outputFiles.find((f) => f.path === BUNDLE);
  const map = result.outputFiles.find((f) => f.path === `${BUNDLE}.map`);
  if (js === undefined || map === undefined) throw new Error(`esbuild wrote no ${BUNDLE}`);
  const nonAscii = js.contents.findIndex((byte) => byte > 0x7f);
  if (nonAscii !== -1) throw new Error(`${BUNDLE}: non-ASCII byte at offset ${nonAscii} (bin/pocketmongo.js reads it as latin1)`);
  const leftOut = [...js.text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]).filter((id) => INLINED_REQUIRES.test(id));
  if (leftOut.length > 0) throw new Error(`${BUNDLE}: still required at run time: ${leftOut.join(', ')}`);
  const body = js.text.endsWith('\n') ? js.text : `${js.text}\n`;
  const key = createHash('sha256').update(body).digest('hex');
  rmSync(CACHE, { force: true });
  writeFileSync(`${BUNDLE}.map`, map.contents);
  writeFileSync(BUNDLE, `${body}${KEY_PREFIX}${key}\n`);

  // The cache is made in a fresh node (no esbuild in it, default flags) so that V8 accepts it in
  // a plain `node bin/pocketmongo.js`. Without it the CLI still works, compiling from source.
  const problem = await warmUpAndCache();
  if (problem !== undefined) process.stderr.write(`bundle: ${problem}\n`);
}

/**
 * In src/, createRequire(import.meta.url) calls of INLINED_REQUIRES become calls of the free
 * `require`, which esbuild bundles: `createRequire(import.meta.url)('x')` directly, and in a file
 * that declares `const require = createRequire(import.meta.url)` the declaration is dropped, so
 * its require() calls are free ones; those of other packages are then left external (run time).
 * @returns {import('esbuild').Plugin}
 */
function inlineCreateRequire() {
  return {
    name: 'inline-create-require',
    setup(build) {
      const fromSrc = (/** @type {string} */ file) => file.startsWith(join(ROOT, 'src'));
      build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        if (!fromSrc(path)) return undefined;
        const source = await readFile(path, 'utf8');
        if (!source.includes('createRequire(import.meta.url)')) return undefined;
        const contents = source
          .replace(/^const require = createRequire\(import\.meta\.url\);$/m, '')
          .replace(/createRequire\(import\.meta\.url\)\((['"])([^'"]+)\1\)/g, (call, quote, id) => (INLINED_REQUIRES.test(id) ? `require(${quote}${id}${quote})` : call));
        return { contents, loader: 'ts' };
      });
      build.onResolve({ filter: /./ }, ({ kind, importer, path }) =>
        kind === 'require-call' && fromSrc(importer) && !INLINED_REQUIRES.test(path) ? { path, external: true } : undefined,
      );
    },
  };
}

/**
 * Node modules that bundled packages require at load but call only on paths the server never
 * takes (commander's child_process: executable subcommands; sonic-boom's and thread-stream's
 * assert: invariant checks), by importing package. Those packages get a stand-in that loads the
 * module at its first use, saving ~2 ms of start-up.
 */
const LAZY_BUILTINS = { 'node:child_process': ['commander'], assert: ['sonic-boom', 'thread-stream'] };

/** @returns {import('esbuild').Plugin} */
function lazyBuiltins() {
  const packageOf = (/** @type {string} */ importer) => /[\\/]node_modules[\\/]([^\\/]+)[\\/]/.exec(importer)?.[1];
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({ filter: /^(?:node:child_process|assert)$/ }, ({ path, importer }) => {
        const pkg = packageOf(importer);
        return pkg !== undefined && LAZY_BUILTINS[path]?.includes(pkg) ? { path, namespace: 'lazy-builtin' } : undefined;
      });
      // A function target, so that a module that is a function (assert) can be called through it.
      build.onLoad({ filter: /./, namespace: 'lazy-builtin' }, ({ path }) => ({
        contents: `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(path)}));
module.exports = new Proxy(function () {}, {
  apply: (_, self, args) => Reflect.apply(load(), self, args),
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Runs the cache writer (`--cache`) and drives its server through what a start does up to its
 * first replies: once it logs 'Waiting for connections', one connection sends hello, then ping.
 * Then the writer's stdin is closed, and it saves the code cache, now holding that path's code too.
 * Resolves undefined, or what went wrong (a cache of the module initialisation alone may remain).
 * @returns {Promise<string | undefined>}
 */
function warmUpAndCache() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--cache'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let warm = false;
  let problem = 'the server did not start';
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      problem = `no replies within ${WARM_UP_TIMEOUT_MS} ms`;
      child.kill('SIGKILL');
    }, WARM_UP_TIMEOUT_MS);
    child.once('error', (err) => (problem = err.message));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (warm && code === 0) return resolve(undefined);
      if (code !== 0) problem += `; the writer exited with ${code ?? signal}`;
      resolve(existsSync(CACHE) ? `code cache of the module initialisation only (${problem})` : `no code cache written (${problem}); the CLI compiles from source`);
    });
    child.stdin.on('error', () => undefined);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"id":23016')) return;
      helloAndPing(Number(/"port":(\d+)/.exec(line)?.[1])).then(
        () => (warm = true),
        (err) => (problem = `the warm-up failed: ${err.message}`),
      ).finally(() => child.stdin.end());
    });
  });
}

/**
 * One connection: hello, then ping (OP_MSG), each answered before the next is sent.
 * @param {number} port
 */
async function helloAndPing(port) {
  const { serialize } = await import('bson');
  const socket = connect(port, '127.0.0.1');
  let received = Buffer.alloc(0);
  let onFrame = () => undefined;
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    onFrame();
  });
  const closed = new Promise((_, reject) => socket.once('close', () => reject(new Error('connection closed'))));
  closed.catch(() => undefined);
  const reply = () =>
    Promise.race([
      closed,
      new Promise((resolve) => {
        onFrame = () => {
          if (received.length < 4 || received.length < received.readInt32LE(0)) return;
          received = received.subarray(received.readInt32LE(0));
          resolve();
        };
        onFrame();
      }),
    ]);
  try {
    for (const [requestId, body] of [[1, { hello: 1, $db: 'admin' }], [2, { ping: 1, $db: 'admin' }]]) {
      const bson = serialize(body);
      const frame = Buffer.alloc(21 + bson.length);
      frame.writeInt32LE(frame.length, 0);
      frame.writeInt32LE(requestId, 4);
      frame.writeInt32LE(2013, 12); // OP_MSG, no flags, then the body section (kind 0)
      frame.set(bson, 21);
      socket.write(frame);
      await reply();
    }
  } finally {
    socket.destroy();
  }
}

/**
 * The writer (a child of the bundling run). Compiles the bundle exactly as bin/pocketmongo.js
 * does, runs its top level (module initialisation), and saves the code V8 compiled, keyed by the
 * bundle's key. Then it starts the server as `pocketmongo --port 0 --bind_ip 127.0.0.1` would
 * (logging to stdout, the parent's pipe) and, once the parent has had its replies and closed our
 * stdin, saves the cache again: bin/pocketmongo.js then finds that code compiled too instead of
 * compiling it lazily at each start (~10 ms).
 */
function writeCodeCache() {
  const source = readFileSync(BUNDLE, 'latin1');
  const key = source.slice(source.lastIndexOf(KEY_PREFIX)).trimEnd();
  const script = new Script(source, { filename: BUNDLE });
  const save = () => writeFileSync(CACHE, Buffer.concat([Buffer.from(`${key}\n`, 'latin1'), script.createCachedData()]));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  save();
  process.stdin.once('end', () => {
    save();
    process.exit(0);
  });
  process.stdin.resume();
  module.exports.main([process.execPath, BUNDLE, '--port', '0', '--bind_ip', '127.0.0.1']);
}

if (process.argv.includes('--cache')) writeCodeCache();
else await bundle();
