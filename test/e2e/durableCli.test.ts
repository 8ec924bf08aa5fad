// `pocketmongo --dbpath` as a process (issue 13): start-up failures exit as mongod exits, a clean
// stop (SIGTERM) truncates the lock file and exits 0, and a server killed with SIGKILL while a
// client writes with `j: true` loses no acknowledged write and keeps nothing half-written.
// Needs `npm run build` (bin/pocketmongo.js loads dist/); the test command does it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Document } from 'mongodb';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { CLI, ROOT, runMongosh } from '../helpers/server.js';

interface Running {
  child: ChildProcess;
  /** Resolves with the port once the server logs "Waiting for connections" (23016). */
  listening: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

const root = mkdtempSync(join(tmpdir(), 'pocketmongo-durable-cli-'));
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pocketmongo(args: readonly string[]): Running {
  const child = spawn(process.execPath, [CLI, '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })),
  );
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.includes('"id":23016'));
      if (line !== undefined) resolve((JSON.parse(line) as { attr: { port: number } }).attr.port);
    });
    void exited.then(({ code, signal }) => reject(new Error(`pocketmongo exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  listening.catch(() => undefined);
  return { child, listening, exited, stdout: () => stdout, stderr: () => stderr };
}

function logLines(text: string): Document[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Document);
}

describe('pocketmongo --dbpath', () => {
  test('a missing directory: log 20557 and exit code 100, as mongod', async () => {
    const dir = join(root, 'missing');
    const run = pocketmongo(['--dbpath', dir]);
    expect(await run.exited).toEqual({ code: 100, signal: null });
    const failure = logLines(run.stdout()).find((l) => l.id === 20557);
    expect(failure).toMatchObject({
      s: 'E',
      msg: 'DBException in initAndListen, terminating',
      attr: { error: expect.stringMatching(new RegExp(`^NonExistentPath: Data directory ${dir} not found\\.`)) },
    });
  });

  test('SIGTERM: a clean stop exits 0 and leaves the lock file empty; the data is there at the next start', async () => {
    const dir = join(root, 'clean');
    mkdirSync(dir);
    const first = pocketmongo(['--dbpath', dir]);
    const port = await first.listening;
    expect(readFileSync(join(dir, 'mongod.lock'), 'utf8')).toBe(`${first.child.pid}\n`);
    const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}/?directConnection=true`);
    await client.db('app').collection('c').insertOne({ _id: 1 as never, written: 'before SIGTERM' });
    await client.close();
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(join(dir, 'mongod.lock'), 'utf8')).toBe('');
    const second = pocketmongo(['--dbpath', dir]);
    const port2 = await second.listening;
    expect(logLines(second.stdout()).some((l) => l.id === 22271)).toBe(false);
    const again = await MongoClient.connect(`mongodb://127.0.0.1:${port2}/?directConnection=true`);
    expect(await again.db('app').collection('c').find().toArray()).toEqual([{ _id: 1, written: 'before SIGTERM' }]);
    await again.close();
    second.child.kill('SIGTERM');
    await second.exited;
  });

  test('mongosh: what the shell wrote is there after a restart; serverStatus says persistent', async () => {
    const dir = join(root, 'shell');
    mkdirSync(dir);
    const first = pocketmongo(['--dbpath', dir]);
    const uri = `mongodb://127.0.0.1:${await first.listening}/app`;
    const wrote = await runMongosh(uri, "db.notes.insertOne({_id: 1, text: 'kept', price: NumberDecimal('1.10')}); print(db.serverStatus().storageEngine.persistent)");
    expect(wrote.stdout.trim()).toBe('true');
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const second = pocketmongo(['--dbpath', dir]);
    const read = await runMongosh(`mongodb://127.0.0.1:${await second.listening}/app`, 'print(EJSON.stringify(db.notes.find().toArray()))');
    expect(JSON.parse(read.stdout.trim())).toEqual([{ _id: 1, text: 'kept', price: { $numberDecimal: '1.10' } }]);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  test('SIGKILL during j: true writes, three rounds: every acknowledged write survives, nothing torn or extra', async () => {
    const dir = join(root, 'killed');
    mkdirSync(dir);
    let acknowledged = 0;
    const payload = (i: number): Document => ({ _id: i, body: 'x'.repeat(200 + (i % 50)), n: i * 3 });
    for (const round of [1, 2, 3]) {
      const server = pocketmongo(['--dbpath', dir]);
      const port = await server.listening;
      if (round > 1) expect(logLines(server.stdout()).some((l) => l.id === 22271)).toBe(true);
      const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}/?directConnection=true&retryWrites=false`);
      const c = client.db('app').collection<Document>('journal');
      // What survived the last kill: every acknowledged write, and at most the one in flight.
      const stored = await c.find().sort({ _id: 1 }).toArray();
      expect(stored.length === acknowledged || stored.length === acknowledged + 1).toBe(true);
      expect(stored).toEqual(stored.map((_, i) => payload(i)));
      acknowledged = stored.length;
      // Kill while a write is in flight, after a different number of acknowledged writes each round.
      const killAfter = acknowledged + 20 + round * 17;
      const writing = (async () => {
        for (let i = acknowledged; ; i++) {
          if (i === killAfter) server.child.kill('SIGKILL');
          await c.insertOne(payload(i), { writeConcern: { w: 1, j: true } });
          acknowledged = i + 1;
        }
      })();
      await expect(writing).rejects.toThrow();
      expect((await server.exited).signal).toBe('SIGKILL');
      await client.close(true);
    }
    const last = pocketmongo(['--dbpath', dir]);
    const client = await MongoClient.connect(`mongodb://127.0.0.1:${await last.listening}/?directConnection=true`);
    const stored = await client.db('app').collection<Document>('journal').find().sort({ _id: 1 }).toArray();
    expect(stored.length === acknowledged || stored.length === acknowledged + 1).toBe(true);
    expect(stored).toEqual(stored.map((_, i) => payload(i)));
    await client.close();
    last.child.kill('SIGTERM');
    await last.exited;
  });
});
