import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './server.js';

/** Throws unless dist/cli.bundle.js exists and is newer than tsc's output (bin/pocketmongo.js runs it only then). */
export function requireCurrentBundle(): void {
  const mtime = (file: string) => statSync(join(ROOT, 'dist', file), { throwIfNoEntry: false })?.mtimeMs;
  const bundled = mtime('cli.bundle.js');
  const compiled = mtime('server/cli.js');
  if (bundled === undefined || (compiled !== undefined && compiled > bundled)) {
    throw new Error('dist/cli.bundle.js is missing or older than dist/server/cli.js: run `npm run build` first');
  }
}

/** SIGKILLs every child still running (and forgets them all), resolving once each has exited. */
export async function killChildren(children: Set<ChildProcess>): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      children.delete(child);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    }),
  );
}

/**
 * Spawns `node <script> --port 0 --bind_ip 127.0.0.1 --quiet ...args` (the CLI, or a launcher of
 * a bundle copy), tracked in `children`; resolves with the child and its port once it logs
 * 'Waiting for connections' (23016), rejects if it exits first or takes over 20 s.
 */
export function startListening(children: Set<ChildProcess>, script: string, args: readonly string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [script, '--port', '0', '--bind_ip', '127.0.0.1', '--quiet', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pocketmongo did not listen within 20 s; stderr: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`pocketmongo exited (${code}) before listening; stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { id: number; attr?: { port?: number } };
      if (entry.id !== 23016) return;
      clearTimeout(timer);
      resolve({ child, port: entry.attr!.port! });
    });
  });
}
