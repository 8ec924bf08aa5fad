// The import-layering check (.dependency-cruiser.cjs, `npm run layers`), run on
// small fixture trees built in a temp dir, so the test does not depend on the
// current state of src/. Each tree is cruised by the real depcruise CLI with
// this project's config and cwd = the tree, exactly as `npm run layers` does.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

const TSCONFIG = JSON.stringify({
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
  include: ['src'],
});

interface Violation {
  type?: string;
  from: string;
  to: string;
  rule: { name: string; severity: string };
}
interface CruiseModule {
  source: string;
  dependencies: { resolved: string; couldNotResolve: boolean }[];
}
interface Cruise {
  violations: Violation[];
  errorCount: number;
  modules: CruiseModule[];
}
interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

let tmp = '';

/** Writes `files` (path -> content) under a fresh dir, with or without a tsconfig.json. */
function fixture(name: string, files: Record<string, string>, withTsconfig = true): string {
  const dir = path.join(tmp, name);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  if (withTsconfig) fs.writeFileSync(path.join(dir, 'tsconfig.json'), TSCONFIG);
  return dir;
}

/** `depcruise src --config <this project's config> --output-type <type>` with cwd = `cwd`. */
function depcruise(cwd: string, outputType: 'err' | 'json'): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', outputType], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The json reporter always exits 0 (only the err/text reporters set the exit code), so: the result. */
async function cruiseJson(cwd: string): Promise<Cruise> {
  const { code, stdout, stderr } = await depcruise(cwd, 'json');
  try {
    const result = JSON.parse(stdout) as { modules: CruiseModule[]; summary: { violations: Violation[]; error: number } };
    return { violations: result.summary.violations, errorCount: result.summary.error, modules: result.modules };
  } catch (e) {
    throw new Error(`depcruise in ${cwd} exited ${code}; stderr: ${stderr}; stdout: ${stdout.slice(0, 500)}`, { cause: e });
  }
}

const has = (run: Cruise, rule: string, from: string, to?: string): boolean =>
  run.violations.some((v) => v.rule.name === rule && v.from === from && (to === undefined || v.to === to));

const unresolved = (run: Cruise): string[] =>
  run.modules.flatMap((m) => m.dependencies.filter((d) => d.couldNotResolve).map((d) => `${m.source} -> ${d.resolved}`));

let bad: Cruise;
let badExit: Exit;
let badNoTsconfig: Cruise;
let clean: Cruise;
let cleanExit: Exit;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketmongo-layers-'));
  // Every planted violation in one tree (each rule is judged per import, so they
  // do not mask each other); the assertions name the exact edges.
  const badFiles: Record<string, string> = {
    // (a) a value import up the layers: storage (2) -> commands (3)
    'src/storage/a.ts': "import { b } from '../commands/b.js';\nexport const a = b + 1;\n",
    'src/commands/b.ts': 'export const b = 1;\n',
    // (b) a type-only import up the layers: sessions (2) -> net (4)
    'src/sessions/s.ts': "import type { C } from '../net/c.js';\nexport function owner(c: C): string {\n  return c.id;\n}\n",
    'src/net/c.ts': 'export interface C {\n  id: string;\n}\n',
    // (c) a module cycle auth <-> cursors (cursors -> auth alone is allowed) ...
    'src/auth/x.ts': "import { y } from '../cursors/y.js';\nexport const x = (): number => y() + 1;\n",
    'src/cursors/y.ts': "import { x } from '../auth/x.js';\nexport const y = (): number => (x.length > 0 ? 1 : 0);\n",
    // ... and a folder cycle with no module cycle, between two folders outside the
    // layer map (so only the folder-cycle rule can catch it): alpha/a -> beta/b, beta/c -> alpha/d
    'src/alpha/a.ts': "import { b } from '../beta/b.js';\nexport const a = b;\n",
    'src/alpha/d.ts': 'export const d = 4;\n',
    'src/beta/b.ts': 'export const b = 2;\n',
    'src/beta/c.ts': "import { d } from '../alpha/d.js';\nexport const c = d;\n",
    // the other nevers: layer 0 up (type-only), query -> storage, src -> test/,
    // commands -> net, an import of src/index.ts
    'src/errors.ts': "import type { Frame } from './wire/frame.js';\nexport type E = Frame;\n",
    'src/wire/frame.ts': 'export interface Frame {\n  n: number;\n}\n',
    'src/query/q.ts': "import { engine } from '../storage/engine.js';\nexport const q = engine;\n",
    'src/storage/engine.ts': "import { helper } from '../../test/helpers/h.js';\nexport const engine = helper;\n",
    'test/helpers/h.ts': 'export const helper = 1;\n',
    'src/commands/cmd.ts': "import { c } from '../net/c.js';\nimport { VERSION } from '../index.js';\nexport const cmd = [c, VERSION];\n",
    'src/index.ts': "export const VERSION = '0';\n",
  };
  const badDir = fixture('bad', badFiles);
  // (a) again with no tsconfig.json in the cwd: '../commands/b.js' must still resolve to b.ts
  const noTsconfigDir = fixture(
    'bad-no-tsconfig',
    {
      'src/storage/a.ts': badFiles['src/storage/a.ts']!,
      'src/commands/b.ts': badFiles['src/commands/b.ts']!,
      'src/sessions/s.ts': badFiles['src/sessions/s.ts']!,
      'src/net/c.ts': badFiles['src/net/c.ts']!,
    },
    false,
  );
  // (d) every import points down a layer or stays inside its top-level folder
  const cleanDir = fixture('clean', {
    'src/errors.ts': 'export class MongoError extends Error {}\n',
    'src/version.ts': "export const VERSION = '0.0.0';\n",
    'src/bson/value.ts': "import { MongoError } from '../errors.js';\nexport const check = (v: unknown): unknown => {\n  if (v === undefined) throw new MongoError('x');\n  return v;\n};\n",
    'src/wire/frame.ts': "import { check } from '../bson/value.js';\nexport const frame = check;\n",
    'src/query/match.ts': "import { check } from '../bson/value.js';\nexport const match = check;\n",
    'src/storage/btree.ts': 'export const btree = 1;\n',
    'src/storage/engine.ts': "import { MongoError } from '../errors.js';\nimport { check } from '../bson/value.js';\nimport { btree } from './btree.js';\nimport { match } from '../query/match.js';\nexport const engine = [MongoError, check, btree, match];\n",
    'src/auth/principal.ts': "import { MongoError } from '../errors.js';\nexport interface Principal {\n  user: string;\n}\nexport const denied = MongoError;\n",
    'src/sessions/registry.ts': "import type { Principal } from '../auth/principal.js';\nexport const registry = new Map<string, Principal>();\n",
    'src/cursors/manager.ts': "import { registry } from '../sessions/registry.js';\nimport type { Principal } from '../auth/principal.js';\nexport const cursors = (p: Principal) => registry.get(p.user);\n",
    'src/pipeline/stage.ts': "import { engine } from '../storage/engine.js';\nexport const stage = engine;\n",
    'src/commands/find.ts': "import { engine } from '../storage/engine.js';\nimport type { Principal } from '../auth/principal.js';\nimport { stage } from '../pipeline/stage.js';\nimport { cursors } from '../cursors/manager.js';\nimport { frame } from '../wire/frame.js';\nexport const find = (p: Principal) => [engine, stage, cursors(p), frame];\n",
    // a cycle between two sub-folders of one top-level folder is inside that folder: allowed
    'src/commands/families/one.ts': "import { two } from '../other/two.js';\nexport const one = (): number => two() + 1;\n",
    'src/commands/other/two.ts': "import { one } from '../families/one.js';\nexport const two = (): number => (one.length > 0 ? 2 : 0);\n",
    'src/net/listener.ts': "import { find } from '../commands/find.js';\nexport const listener = find;\n",
    'src/server/pocket.ts': "import { listener } from '../net/listener.js';\nimport { VERSION } from '../version.js';\nexport const pocket = [listener, VERSION];\n",
    'src/server/compat/shim.ts': "import { pocket } from '../pocket.js';\nexport const shim = pocket;\n",
    'src/index.ts': "export { pocket } from './server/pocket.js';\nexport { shim } from './server/compat/shim.js';\n",
  });
  [bad, badExit, badNoTsconfig, clean, cleanExit] = await Promise.all([
    cruiseJson(badDir),
    depcruise(badDir, 'err'),
    cruiseJson(noTsconfigDir),
    cruiseJson(cleanDir),
    depcruise(cleanDir, 'err'),
  ]);
}, 30_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('import layering (.dependency-cruiser.cjs)', () => {
  it('resolves every import in the fixtures (so a clean result is not vacuous)', () => {
    for (const run of [bad, badNoTsconfig, clean]) expect(unresolved(run)).toEqual([]);
    expect(bad.modules.filter((m) => m.source.startsWith('src/'))).toHaveLength(16);
    expect(clean.modules.filter((m) => m.source.startsWith('src/'))).toHaveLength(18);
  });

  it('(a) reports a value import up the layers (storage -> commands), with or without a tsconfig.json', () => {
    const rule = { name: 'storage-not-up', severity: 'error' };
    expect(bad.violations).toContainEqual(expect.objectContaining({ from: 'src/storage/a.ts', to: 'src/commands/b.ts', rule }));
    expect(badNoTsconfig.violations).toContainEqual(expect.objectContaining({ from: 'src/storage/a.ts', to: 'src/commands/b.ts', rule }));
  });

  it('(b) counts a type-only import (sessions -> net)', () => {
    for (const run of [bad, badNoTsconfig]) expect(has(run, 'sessions-not-up', 'src/sessions/s.ts', 'src/net/c.ts')).toBe(true);
    expect(badNoTsconfig.violations.map((v) => v.rule.name).sort()).toEqual(['sessions-not-up', 'storage-not-up']);
    expect(badNoTsconfig.errorCount).toBe(2);
  });

  it('(c) reports cycles between top-level folders, at module and at folder level', () => {
    // auth -> cursors is also a layer violation; cursors -> auth alone is allowed
    expect(has(bad, 'auth-not-up', 'src/auth/x.ts', 'src/cursors/y.ts')).toBe(true);
    expect(has(bad, 'cursors-not-up', 'src/cursors/y.ts')).toBe(false);
    // the module cycle (dependency-cruiser reports each cycle once, on one of its edges)
    expect(
      has(bad, 'no-cross-folder-module-cycles', 'src/auth/x.ts', 'src/cursors/y.ts') ||
        has(bad, 'no-cross-folder-module-cycles', 'src/cursors/y.ts', 'src/auth/x.ts'),
    ).toBe(true);
    // the folder cycles: auth <-> cursors, and alpha <-> beta, which has no module cycle
    expect(has(bad, 'no-folder-cycles', 'src/auth', 'src/cursors') || has(bad, 'no-folder-cycles', 'src/cursors', 'src/auth')).toBe(true);
    expect(has(bad, 'no-folder-cycles', 'src/alpha', 'src/beta') || has(bad, 'no-folder-cycles', 'src/beta', 'src/alpha')).toBe(true);
    expect(bad.violations.filter((v) => /^src\/(alpha|beta)\//.test(v.from))).toEqual([]);
  });

  it('reports the other nevers: layer 0 up, query -> storage, src -> test/, commands -> net, imports of src/index.ts', () => {
    expect(has(bad, 'layer0-imports-only-layer0', 'src/errors.ts', 'src/wire/frame.ts')).toBe(true);
    expect(has(bad, 'query-not-up', 'src/query/q.ts', 'src/storage/engine.ts')).toBe(true);
    expect(has(bad, 'src-not-to-test-or-bench', 'src/storage/engine.ts', 'test/helpers/h.ts')).toBe(true);
    expect(has(bad, 'commands-not-up', 'src/commands/cmd.ts', 'src/net/c.ts')).toBe(true);
    expect(has(bad, 'no-import-of-index', 'src/commands/cmd.ts', 'src/index.ts')).toBe(true);
  });

  it('reports nothing else in the bad tree, and the CLI exits with the error count', () => {
    const found = bad.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    expect(found).toEqual([
      'auth-not-up: src/auth/x.ts -> src/cursors/y.ts',
      'commands-not-up: src/commands/cmd.ts -> src/net/c.ts',
      'layer0-imports-only-layer0: src/errors.ts -> src/wire/frame.ts',
      'no-cross-folder-module-cycles: src/auth/x.ts -> src/cursors/y.ts',
      'no-folder-cycles: src/alpha -> src/beta',
      'no-folder-cycles: src/auth -> src/cursors',
      'no-folder-cycles: src/beta -> src/alpha',
      'no-folder-cycles: src/cursors -> src/auth',
      'no-import-of-index: src/commands/cmd.ts -> src/index.ts',
      'query-not-up: src/query/q.ts -> src/storage/engine.ts',
      'sessions-not-up: src/sessions/s.ts -> src/net/c.ts',
      'src-not-to-test-or-bench: src/storage/engine.ts -> test/helpers/h.ts',
      'storage-not-up: src/storage/a.ts -> src/commands/b.ts',
    ]);
    expect(bad.errorCount).toBe(found.length);
    expect(badExit.code).toBe(bad.errorCount);
    expect(badExit.stdout).toContain('error storage-not-up: src/storage/a.ts → src/commands/b.ts');
  });

  it('(d) passes a clean tree (down a layer or inside a folder) with zero violations and exit code 0', () => {
    expect(clean.violations).toEqual([]);
    expect(clean.errorCount).toBe(0);
    expect(cleanExit.code).toBe(0);
    const find = clean.modules.find((m) => m.source === 'src/commands/find.ts')!;
    expect(find.dependencies.map((d) => d.resolved).sort()).toEqual([
      'src/auth/principal.ts',
      'src/cursors/manager.ts',
      'src/pipeline/stage.ts',
      'src/storage/engine.ts',
      'src/wire/frame.ts',
    ]);
  });
});
