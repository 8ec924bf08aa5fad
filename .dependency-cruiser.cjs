// @ts-check
/**
 * dependency-cruiser config: the import layering of src/ (run: `npm run layers`).
 *
 * Layers, bottom up. An import may only point down a layer or stay inside its
 * own folder. Type-only imports count too (`tsPreCompilationDeps: true` below
 * keeps `import type` edges that the TypeScript compiler would erase).
 *
 *   5  src/server/     wiring: options, PocketMongo, cli, compat shims (src/server/compat/)
 *      src/index.ts    the package entry: may import anything; nothing in src/ imports it
 *   4  src/net/        listener, connections
 *   3  src/commands/   request pipeline, command table, command families
 *      src/pipeline/   aggregation stages
 *   2  src/storage/    the engine
 *      src/sessions/   session registry (may import auth: it takes an auth Principal)
 *      src/auth/       SCRAM, users, roles, privilege checks
 *      src/cursors/    cursor manager (may import sessions and auth)
 *   1  src/wire/       bytes <-> messages
 *      src/query/      the query language on BSON values
 *   0  src/bson/ src/errors.ts src/clock.ts src/log.ts src/version.ts
 *
 * How cycles are checked (two rules, both errors):
 *  - `no-folder-cycles` runs at folder scope (`scope: 'folder'`): dependency-cruiser
 *    folds the module graph into a folder graph (an edge from folder A to the
 *    folder of every module outside A that a module under A imports) and finds
 *    cycles in it. The rule only reports an edge whose two ends sit in
 *    DIFFERENT top-level folders of src/ (group match `$1`), so a cycle of
 *    sub-folders inside one top-level folder (e.g. two command families) is
 *    allowed, as is any import inside a folder. This catches a folder cycle even
 *    when no single module cycle exists (auth/a -> cursors/b, cursors/c -> auth/d).
 *  - `no-cross-folder-module-cycles` runs at module scope: a module cycle with
 *    an edge that leaves the importing module's top-level folder is reported
 *    (once per cycle), naming the exact modules. Module cycles inside one
 *    folder are not forbidden (too strict for now).
 *
 * The layer rules are "never" rules (a forbidden list per source layer), read
 * from design.md's layers and nevers. `npm test` runs this check before vitest,
 * so a wrong import fails CI; test/unit/layers.test.ts plants wrong imports in a
 * fixture tree and checks that each rule fires.
 *
 * Exit code: depcruise exits with the number of errors, which the OS truncates
 * to 8 bits, so exactly 256 (512, ...) violations would exit 0. The summary
 * line ("x N dependency violations") is always right.
 *
 * The config is cwd-independent: paths are matched relative to the directory
 * depcruise runs in, and a tsconfig.json is used only if one is present there.
 */
const fs = require('node:fs');
const path = require('node:path');

/** Layer 0: the leaves. */
const LAYER0 = '^src/(bson/|(errors|clock|log|version)\\.ts$)';

/** `^src/(a|b|c)/` */
const folders = (/** @type {string[]} */ names) => `^src/(${names.join('|')})/`;

const tsConfigFile = path.join(process.cwd(), 'tsconfig.json');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- cycles ----------------------------------------------------------
    {
      name: 'no-folder-cycles',
      comment:
        'Top-level folders of src/ must not form a cycle (folder-level: module A in folder X ' +
        'imports folder Y, and something in Y leads back to X). Edges inside one top-level ' +
        'folder are ignored. Break the cycle by moving the shared piece down a layer.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/([^/]+)' },
      to: { circular: true, pathNot: '^src/$1(/|$)' },
    },
    {
      name: 'no-cross-folder-module-cycles',
      comment:
        'A module cycle that spans two or more top-level folders of src/ (reported on the ' +
        'edge that leaves the folder). Break it by moving the shared piece down a layer.',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { circular: true, pathNot: '^src/$1/' },
    },

    // ---- layer rules -----------------------------------------------------
    {
      name: 'layer0-imports-only-layer0',
      comment:
        'Layer 0 (src/bson/, src/errors.ts, src/clock.ts, src/log.ts, src/version.ts) imports ' +
        'nothing in src/ above layer 0.',
      severity: 'error',
      from: { path: LAYER0 },
      to: { path: '^src/', pathNot: LAYER0 },
    },
    {
      name: 'wire-not-up',
      comment:
        'src/wire/ (layer 1: bytes <-> messages) imports only layer 0: never query, storage, ' +
        'sessions, auth, cursors, pipeline, commands, net, server.',
      severity: 'error',
      from: { path: '^src/wire/' },
      to: {
        path: folders(['query', 'storage', 'sessions', 'auth', 'cursors', 'pipeline', 'commands', 'net', 'server']),
      },
    },
    {
      name: 'query-not-up',
      comment:
        'src/query/ (layer 1: the query language on BSON values) imports only layer 0: never ' +
        'wire, storage, sessions, auth, cursors, pipeline, commands, net, server.',
      severity: 'error',
      from: { path: '^src/query/' },
      to: {
        path: folders(['wire', 'storage', 'sessions', 'auth', 'cursors', 'pipeline', 'commands', 'net', 'server']),
      },
    },
    {
      name: 'storage-not-up',
      comment:
        'src/storage/ (layer 2: the engine) imports layers 0-1 only: never sessions, auth, ' +
        'cursors (its layer-2 siblings), pipeline, commands (layer 3), net, server.',
      severity: 'error',
      from: { path: '^src/storage/' },
      to: { path: folders(['sessions', 'auth', 'cursors', 'pipeline', 'commands', 'net', 'server']) },
    },
    {
      name: 'sessions-not-up',
      comment:
        'src/sessions/ (layer 2) never imports storage, cursors, wire, pipeline, commands, net, ' +
        'server. It MAY import auth (a session takes an auth Principal).',
      severity: 'error',
      from: { path: '^src/sessions/' },
      to: { path: folders(['storage', 'cursors', 'wire', 'pipeline', 'commands', 'net', 'server']) },
    },
    {
      name: 'auth-not-up',
      comment:
        'src/auth/ (layer 2) never imports sessions, storage, cursors, wire, pipeline, ' +
        'commands, net, server.',
      severity: 'error',
      from: { path: '^src/auth/' },
      to: { path: folders(['sessions', 'storage', 'cursors', 'wire', 'pipeline', 'commands', 'net', 'server']) },
    },
    {
      name: 'cursors-not-up',
      comment:
        'src/cursors/ (layer 2) never imports wire, storage, pipeline, commands, net, server. ' +
        'It MAY import sessions (and auth).',
      severity: 'error',
      from: { path: '^src/cursors/' },
      to: { path: folders(['wire', 'storage', 'pipeline', 'commands', 'net', 'server']) },
    },
    {
      name: 'pipeline-not-up',
      comment: 'src/pipeline/ (layer 3, beside commands) never imports commands, net, server.',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: folders(['commands', 'net', 'server']) },
    },
    {
      name: 'commands-not-up',
      comment: 'src/commands/ (layer 3) never imports net or server.',
      severity: 'error',
      from: { path: '^src/commands/' },
      to: { path: folders(['net', 'server']) },
    },
    {
      name: 'net-not-up',
      comment: 'src/net/ (layer 4) never imports server (layer 5: wiring only).',
      severity: 'error',
      from: { path: '^src/net/' },
      to: { path: folders(['server']) },
    },
    {
      name: 'no-import-of-index',
      comment:
        'src/index.ts is the package entry (it may import anything); nothing but tests ' +
        'imports it. Import the module that defines the thing instead.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^src/index\\.ts$' },
    },

    // ---- src stays out of test/ and bench/ ---------------------------------
    {
      name: 'src-not-to-test-or-bench',
      comment: 'Nothing in src/ imports from test/ or bench/ (they are not shipped).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    // Keep `import type` / type-only edges: they count for the layering.
    tsPreCompilationDeps: true,
    // With a tsconfig.json in the cwd, resolve as tsc does. Without one,
    // dependency-cruiser still maps a './x.js' specifier to './x.ts' when only
    // the .ts source exists (its built-in TypeScript fallback).
    ...(fs.existsSync(tsConfigFile) ? { tsConfig: { fileName: tsConfigFile } } : {}),
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
