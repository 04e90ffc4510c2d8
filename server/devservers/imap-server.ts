import { execFile, spawn } from 'node:child_process';
import { openSync, closeSync, existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { probeGreeting, stopMaster } from './dovecot.ts';
import { freePort } from './ports.ts';

export const run = promisify(execFile);

/**
 * Where server/setup/ensure.mjs unpacks the Debian packages that cannot be installed next to
 * dovecot-imapd (cyrus-imapd and courier-imap conflict with it as `imap-server` providers).
 */
export const EXTRACTED_ROOT = process.env.CUTOVER_DEBS_ROOT ?? '/var/cache/cutover-debs/root';

/** uid/gid the mail of every test server belongs to, as with Dovecot. */
export const VMAIL_ID = 65534;

/** What the test suites and the lead's workflow tests need from any of the non-Dovecot servers. */
export interface ImapServerInstance {
  kind: 'cyrus' | 'courier' | 'imap4d';
  host: '127.0.0.1';
  port: number;
  pid: number;
  dir: string;
  /** Login name of an account created with addUser (Cyrus keeps the domain; all three take user@domain). */
  addUser(user: string, password: string): Promise<void>;
  /** An identity that may act for any user through SASL PLAIN's authorisation identity, where the server has one. */
  admin?: { user: string; password: string };
  /** Personal namespace as the server announces it: '' and '/' (Cyrus, imap4d) or 'INBOX.' and '.' (Courier). */
  namespace: { prefix: string; delimiter: string };
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function requireBinary(path: string, hint: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint} (run node server/setup/ensure.mjs as root)`);
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines - 1).join('\n');
}

/**
 * Starts a server in the foreground of its own process group (detached), its output in `log`,
 * and waits for its `* OK` greeting. The port comes from freePort(), which releases it before the
 * server binds: another process may take it meanwhile, so a start that loses the race is retried.
 */
export async function launchOnFreePort(
  name: string,
  log: string,
  prepare: (port: number) => Promise<{ command: string; args: string[]; env?: NodeJS.ProcessEnv }>,
): Promise<{ port: number; pid: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const { command, args, env } = await prepare(port);
    const out = openSync(log, 'a');
    const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env: env ?? process.env });
    closeSync(out);
    child.unref();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.once('error', () => undefined);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${name}: ${command} could not be started`);
    const deadline = Date.now() + START_TIMEOUT_MS;
    let gone = false;
    void exited.then(() => { gone = true; });
    while (Date.now() < deadline && !gone) {
      if (await probeGreeting(port)) return { port, pid };
      await sleep(100);
    }
    await stopGroup(pid).catch(() => undefined);
    const text = await tail(log);
    if (attempt < 3 && /in use/i.test(text)) continue;
    throw new Error(`${name} did not greet on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms; log tail:\n${text}`);
  }
}

/** The launched process leads its own group: SIGTERM, then SIGKILL to the group, so no worker survives. */
export async function stopGroup(pid: number): Promise<void> {
  try { process.kill(-pid, 'SIGTERM'); } catch { /* already gone */ }
  await stopMaster(pid);
  try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
}

/** stop() of an instance: its process group, then its directory; memoised, so a reused pid is never signalled again. */
export function stopOnce(pid: number, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stopGroup(pid).finally(() => rm(dir, { recursive: true, force: true })));
}

/** Runs a command with `input` on its stdin (passwords never go on argv) and returns its stdout. */
export function runWithInput(command: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, (err, stdout, stderr) => (err ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
    child.stdin!.end(input);
  });
}

/** A crypt(3) SHA-512 hash, the format the passwd-style files of Courier's userdb and Mailutils take. */
export async function sha512Crypt(password: string): Promise<string> {
  return (await runWithInput('openssl', ['passwd', '-6', '-stdin'], `${password}\n`)).trim();
}

/**
 * Sends IMAP commands one by one over a plain connection and returns each tagged answer; throws on
 * anything but OK. For set-up commands where imapflow cannot serve (it fails its own login on a
 * Cyrus admin, whose NAMESPACE has no personal namespace: `* NAMESPACE NIL …`).
 */
export function imapCommands(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const answers: string[] = [];
    let pending = '';
    let greeted = false;
    const fail = (err: Error) => { socket.destroy(); reject(err); };
    const sendNext = () => {
      const next = commands[answers.length];
      if (next === undefined) { socket.end(); resolve(answers); return; }
      socket.write(`c${answers.length} ${next}\r\n`);
    };
    socket.setTimeout(10_000, () => fail(new Error(`no answer from 127.0.0.1:${port}`)));
    socket.on('error', fail);
    socket.on('data', (chunk) => {
      pending += chunk.toString('utf8');
      let end: number;
      while ((end = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, end).replace(/\r$/, '');
        pending = pending.slice(end + 1);
        if (!greeted) { greeted = true; sendNext(); continue; }
        const tagged = new RegExp(`^c${answers.length} (OK|NO|BAD)`).exec(line);
        if (!tagged) continue;
        if (tagged[1] !== 'OK') { fail(new Error(`${commands[answers.length]!.split(' ')[0]}: ${line}`)); return; }
        answers.push(line);
        sendNext();
      }
    });
  });
}
