import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../server/devservers/ports.ts';

const bin = fileURLToPath(new URL('../../server/bin.mjs', import.meta.url));

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'cutover-data-'));
}

/** Runs the real CLI in a child process, as an admin would, against its own data directory. */
export function cutover(args: string[], opts: { dataDir: string; env?: Record<string, string>; timeoutMs?: number; input?: string }): Promise<CliResult> & { child: ChildProcess } {
  let child!: ChildProcess;
  const done = new Promise<CliResult>((resolve, reject) => {
    child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, CUTOVER_DATA_DIR: opts.dataDir, CUTOVER_CRASH_AT: '', ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cutover ${args.join(' ')} timed out\n${stdout}\n${stderr}`)); }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
  return Object.assign(done, { child });
}

/** `cutover serve` (panel and worker) on a free port, once it says where the panel is. */
export async function startServe(dataDir: string, timeoutMs: number): Promise<{ serve: ReturnType<typeof cutover>; base: string }> {
  const port = await freePort();
  const serve = cutover(['serve', '--port', String(port)], { dataDir, timeoutMs });
  let out = '';
  serve.child.stdout!.on('data', (d) => { out += d; });
  while (!out.includes('panel: http://')) await new Promise((r) => setTimeout(r, 100));
  return { serve, base: `http://127.0.0.1:${port}` };
}
