import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

const KNOTD_BIN = '/usr/sbin/knotd';
const KDIG_BIN = '/usr/bin/kdig';
const KNSUPDATE_BIN = '/usr/bin/knsupdate';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const TSIG_NAME = 'update-key.';

export interface KnotTsig {
  name: string;
  algorithm: 'hmac-sha256';
  /** base64 */
  secret: string;
}

export interface KnotInstance {
  host: '127.0.0.1';
  port: number;
  dir: string;
  pid: number;
  /** Zone apex without the trailing dot, e.g. 'example.test'. */
  zone: string;
  tsig: KnotTsig;
  keyFile: string;
  /** Sends one TSIG-signed RFC 2136 update: lines like 'del example.test. MX'; 'send' is appended. */
  update(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface KnotOptions {
  zone: string;
  /** Zone-file lines after $TTL/SOA/NS, e.g. '@ IN MX 10 old-mx.example.net.'. */
  records: string[];
  /** Default: a fresh mkdtemp directory under os.tmpdir(). */
  dir?: string;
  /** Keep the directory (zone, journal, knot.log) after stop(). */
  keepDir?: boolean;
}

interface Layout {
  dir: string;
  conf: string;
  zoneFile: string;
  keyFile: string;
  log: string;
}

function layoutFor(dir: string, zone: string): Layout {
  return {
    dir,
    conf: join(dir, 'knot.conf'),
    // Matches the template's `file: "%s.zone"`, where %s is the zone name without trailing dot.
    zoneFile: join(dir, `${zone}.zone`),
    keyFile: join(dir, 'tsig.key'),
    log: join(dir, 'knot.log'),
  };
}

function knotConf(l: Layout, port: number, zone: string, tsig: KnotTsig): string {
  return `server:
    rundir: "${l.dir}"
    listen: 127.0.0.1@${port}
    user: root:root
database:
    storage: "${l.dir}/db"
key:
  - id: ${tsig.name}
    algorithm: ${tsig.algorithm}
    secret: ${tsig.secret}
acl:
  - id: upd
    key: ${tsig.name}
    action: update
template:
  - id: default
    storage: "${l.dir}"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: ${zone}
    acl: upd
log:
  - target: "${l.log}"
    any: info
`;
}

function zoneFile(zone: string, records: string[]): string {
  return [
    `$ORIGIN ${zone}.`,
    '$TTL 300',
    `@ IN SOA ns1.${zone}. hostmaster.${zone}. 2024010101 3600 600 86400 300`,
    `@ IN NS ns1.${zone}.`,
    'ns1 IN A 127.0.0.1',
    ...records,
    '',
  ].join('\n');
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines - 1).join('\n');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// TCP, because a UDP probe sent between bind and worker start sits out kdig's whole 1 s timeout,
// while a TCP connect is either refused at once or queued until knotd serves it.
async function answersSoa(port: number, zone: string): Promise<boolean> {
  try {
    const { stdout } = await run(KDIG_BIN, ['@127.0.0.1', '-p', String(port), `${zone}.`, 'SOA', '+short', '+tcp', '+timeout=1', '+retry=0']);
    return stdout.trim() !== '';
  } catch {
    return false;
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// knotd keeps running (and answering SERVFAIL) when the zone file does not parse, so the log
// is checked too, to fail in ~100 ms instead of at the timeout.
async function zoneLoadFailed(log: string): Promise<boolean> {
  return (await readFile(log, 'utf8').catch(() => '')).includes("zone event 'load' failed");
}

async function waitUntilServing(child: ChildProcess, port: number, zone: string, l: Layout, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let why = `knotd did not answer SOA for ${zone} on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms`;
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      why = `knotd exited (${child.exitCode ?? child.signalCode})`;
      break;
    }
    if (await answersSoa(port, zone)) return;
    if (await zoneLoadFailed(l.log)) {
      why = `knotd could not load zone ${zone}`;
      break;
    }
    await sleep(100);
  }
  throw new Error(`${why}; stderr: ${stderr().trim()}\nknot.log tail:\n${await tail(l.log)}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}

function runWithInput(command: string, args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** One TSIG-signed RFC 2136 update through knsupdate; also used by `cutover demo switch-dns` from another process. */
export async function sendUpdate(keyFile: string, port: number, zone: string, lines: string[]): Promise<void> {
  const script = [`server 127.0.0.1 ${port}`, `zone ${zone}.`, ...lines, 'send', ''].join('\n');
  const { code, stdout, stderr } = await runWithInput(KNSUPDATE_BIN, ['-k', keyFile, '-t', '5', '-r', '0'], script);
  if (code !== 0) throw new Error(`knsupdate failed (exit ${code}): ${(stderr || stdout).trim()}`);
}

async function writeInstanceFiles(l: Layout, port: number, zone: string, records: string[], tsig: KnotTsig): Promise<void> {
  await mkdir(join(l.dir, 'db'), { recursive: true });
  await writeFile(l.conf, knotConf(l, port, zone, tsig));
  await writeFile(l.zoneFile, zoneFile(zone, records));
  // knsupdate -k takes the same `alg:name:secret` form as -y; a file keeps the secret out of ps.
  await writeFile(l.keyFile, `${tsig.algorithm}:${tsig.name}:${tsig.secret}\n`, { mode: 0o600 });
}

interface Knotd {
  child: ChildProcess;
  pid: number;
  stderr(): string;
}

async function spawnKnotd(conf: string): Promise<Knotd> {
  const child = spawn(KNOTD_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  if (child.pid === undefined) throw new Error('knotd: spawned without a pid');
  return { child, pid: child.pid, stderr: () => stderr };
}

export async function startKnot(opts: KnotOptions): Promise<KnotInstance> {
  const zone = opts.zone.replace(/\.$/, '');
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'cutover-knot-')));
  const l = layoutFor(dir, zone);
  const tsig: KnotTsig = { name: TSIG_NAME, algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  const port = await freePort();
  let knotd: Knotd | undefined;
  const teardown = async () => {
    if (knotd) await stopChild(knotd.child);
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeInstanceFiles(l, port, zone, opts.records, tsig);
    knotd = await spawnKnotd(l.conf);
    await waitUntilServing(knotd.child, port, zone, l, knotd.stderr);
  } catch (err) {
    await teardown();
    throw err;
  }
  // Memoised so a second stop() is a no-op rather than a signal to a possibly reused pid.
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    dir,
    pid: knotd.pid,
    zone,
    tsig,
    keyFile: l.keyFile,
    update: (lines) => sendUpdate(l.keyFile, port, zone, lines),
    stop: () => (stopping ??= teardown()),
  };
}
