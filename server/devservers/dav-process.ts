// Shared by the Radicale and Xandikos helpers: a foreground Python server started as a child,
// waited for until it answers HTTP on 127.0.0.1, stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Only whether it answers: its self-signed certificate is checked by the tests, not here.
function answers(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const request = tls ? https.request : http.request;
    const req = request({ host: '127.0.0.1', port, method: 'OPTIONS', path: '/', timeout: 1_000, ...(tls && { rejectUnauthorized: false }) }, (res) => { res.resume(); resolve(true); });
    req.once('error', () => resolve(false));
    req.once('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

export interface DaemonChild { child: ChildProcess; pid: number; stop(): Promise<void> }

/** Spawns `command`, logs to `logFile`, resolves once 127.0.0.1:`port` answers HTTP. */
export async function startHttpDaemon(command: string, args: string[], port: number, logFile: string, what: string, opts: { tls?: boolean } = {}): Promise<DaemonChild> {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${what}: could not start ${command}`);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    if (exited) return;
    process.kill(pid, 'SIGTERM');
    await Promise.race([exit, sleep(STOP_GRACE_MS)]);
    if (!exited) {
      process.kill(pid, 'SIGKILL');
      await exit;
    }
  })());
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(port, Boolean(opts.tls)))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`${what} did not answer on 127.0.0.1:${port}; log:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    await sleep(100);
  }
  return { child, pid, stop };
}
