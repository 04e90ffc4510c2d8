// A real BIND 9 (`named`, Debian package bind9) on 127.0.0.1 for tests: primaries that accept
// RFC 2136 updates signed with a fresh TSIG key (shared/dns-servers/bind/named.conf), and
// optionally secondaries that transfer from another instance and get its NOTIFYs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '../dns/transport.ts';
import { freePort } from './ports.ts';

const NAMED_BIN = '/usr/sbin/named';
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const TSIG_NAME = 'update-key.';

export interface BindZone {
  zone: string;
  /** Zone-file lines after $TTL/SOA/NS, e.g. '@ IN MX 10 old-mx.example.net.' (primaries only). */
  records?: string[];
  /** SOA serial of a primary's zone file. Default 2024010101. */
  serial?: number;
  /** Makes this zone a secondary transferring from the primary on 127.0.0.1 at this port. */
  primaryPort?: number;
  /** Ports on 127.0.0.1 of secondaries to NOTIFY after each change (a primary's zone). */
  notifyPorts?: number[];
}

export interface BindOptions {
  zones: BindZone[];
  /** A port chosen beforehand (a primary names it in also-notify before this one starts). */
  port?: number;
  dir?: string;
  keepDir?: boolean;
}

export interface BindTsig { name: string; algorithm: 'hmac-sha256'; secret: string }

export interface BindInstance {
  host: '127.0.0.1';
  port: number;
  dir: string;
  pid: number;
  zones: string[];
  tsig: BindTsig;
  /** named's own words so far (it runs with -g: everything goes to stderr). */
  log(): string;
  stop(): Promise<void>;
}

function zoneText(spec: BindZone): string {
  const zone = spec.zone.replace(/\.$/, '');
  return [
    `$ORIGIN ${zone}.`,
    '$TTL 300',
    `@ IN SOA ns1.${zone}. hostmaster.${zone}. ${spec.serial ?? 2024010101} 3600 600 86400 300`,
    `@ IN NS ns1.${zone}.`,
    'ns1 IN A 127.0.0.1',
    ...(spec.records ?? []),
    '',
  ].join('\n');
}

function zoneStatement(dir: string, spec: BindZone): string {
  const zone = spec.zone.replace(/\.$/, '');
  const file = join(dir, `${zone}.db`);
  if (spec.primaryPort !== undefined) {
    return `zone "${zone}" { type secondary; file "${file}"; masterfile-format text; primaries { 127.0.0.1 port ${spec.primaryPort}; }; };`;
  }
  const notify = spec.notifyPorts?.length
    ? ` notify explicit; also-notify { ${spec.notifyPorts.map((p) => `127.0.0.1 port ${p};`).join(' ')} };`
    : ' notify no;';
  return `zone "${zone}" { type primary; file "${file}"; update-policy { grant ${TSIG_NAME} zonesub ANY; }; allow-transfer { 127.0.0.1; };${notify} };`;
}

/** shared/dns-servers/bind/named.conf, plus what several instances side by side need (no rndc channel on 953). */
function namedConf(dir: string, port: number, tsig: BindTsig, zones: BindZone[]): string {
  return [
    `options { directory "${dir}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; pid-file "${dir}/named.pid";`,
    `  session-keyfile "${dir}/session.key"; recursion no; dnssec-validation no; notify-source 127.0.0.1; transfer-source 127.0.0.1; };`,
    'controls { };',
    `key "${tsig.name}" { algorithm ${tsig.algorithm}; secret "${tsig.secret}"; };`,
    ...zones.map((spec) => zoneStatement(dir, spec)),
    '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function serves(port: number, zone: string): Promise<boolean> {
  try {
    const response = await query({ host: '127.0.0.1', port }, zone, 'SOA', { recursionDesired: false, timeoutMs: 300, retries: 0 });
    return response.authoritative && response.answers.some((record) => record.type === 'SOA');
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}

export async function startBind(opts: BindOptions): Promise<BindInstance> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'cutover-bind-')));
  const port = opts.port ?? (await freePort());
  const tsig: BindTsig = { name: TSIG_NAME, algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  const zones = opts.zones.map((spec) => spec.zone.replace(/\.$/, ''));
  let child: ChildProcess | undefined;
  let output = '';
  const teardown = async () => {
    if (child) await stopChild(child);
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const spec of opts.zones) if (spec.primaryPort === undefined) await writeFile(join(dir, `${spec.zone.replace(/\.$/, '')}.db`), zoneText(spec));
    await writeFile(join(dir, 'named.conf'), namedConf(dir, port, tsig, opts.zones), { mode: 0o600 });
    // -g: foreground, log to stderr; -n 1: one worker thread is plenty on loopback.
    child = spawn(NAMED_BIN, ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    await new Promise<void>((resolve, reject) => {
      child!.once('spawn', resolve);
      child!.once('error', (err) => reject(new Error(`cannot start ${NAMED_BIN} (Debian package bind9): ${err.message}`)));
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const zone of zones) {
      while (!(await serves(port, zone))) {
        if (hasExited(child)) throw new Error(`named exited (${child.exitCode ?? child.signalCode})`);
        if (/loading from master file .* failed|zone \S+: not loaded due to errors/.test(output)) throw new Error(`named could not load zone ${zone}`);
        if (Date.now() > deadline) throw new Error(`named did not serve ${zone} on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms`);
        await sleep(50);
      }
    }
  } catch (err) {
    await teardown();
    throw new Error(`${(err as Error).message}\nnamed output:\n${output.split('\n').slice(-25).join('\n')}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1', port, dir, pid: child.pid!, zones, tsig,
    log: () => output,
    stop: () => (stopping ??= teardown()),
  };
}

/** The zone file named wrote (a secondary's transferred copy, or a primary's after a sync). */
export function zoneFileOf(instance: BindInstance, zone: string): Promise<string> {
  return readFile(join(instance.dir, `${zone.replace(/\.$/, '')}.db`), 'utf8');
}
