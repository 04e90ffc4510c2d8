import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postfixMainCf, postfixMaps, sqliteMapFile } from '../../plugins/postfixadmin/postfix-maps.ts';
import { stopMaster } from './dovecot.ts';
import { freePort } from './ports.ts';

const POSTFIX_BIN = '/usr/sbin/postfix';
const START_TIMEOUT_MS = 15_000;

export interface PostfixOptions {
  /** Greeting name; two instances that relay to each other need different ones (loop check). */
  hostname: string;
  /** The PostfixAdmin SQLite database the lookups read (a DovecotInstance's dbPath). */
  dbPath: string;
  /** Dovecot's LMTP port on 127.0.0.1, where mail for the database's mailboxes is delivered. */
  lmtpPort: number;
  /**
   * Adds the non-authoritative relay lookups over `table` (plugins/postfixadmin/postfix-maps.ts).
   * `port` is where the relay hop connects: 25 in production, the old host's high port here.
   */
  relay?: { table?: string; port: number };
  /** Default: a fresh mkdtemp directory under os.tmpdir(). */
  dir?: string;
  keepDir?: boolean;
}

export interface PostfixInstance {
  host: '127.0.0.1';
  /** smtpd */
  port: number;
  /** The master's pid (queue/pid/master.pid). */
  pid: number;
  dir: string;
  /** The instance's own log (maillog_file through postlogd), nothing goes to syslog. */
  maillog: string;
  readLog(): Promise<string>;
  /** `postfix reload`: daemons restart with the configuration, and with empty in-process caches. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

interface Layout {
  dir: string;
  config: string;
  maps: string;
  queue: string;
  data: string;
  maillog: string;
}

function layoutFor(dir: string): Layout {
  return { dir, config: join(dir, 'etc'), maps: join(dir, 'etc', 'sql'), queue: join(dir, 'queue'), data: join(dir, 'data'), maillog: join(dir, 'maillog') };
}

// Every daemon unchrooted (a chroot would need copies of the database and resolver files),
// smtpd on 127.0.0.1 only; no local delivery, no pickup of a system-wide maildrop.
function masterCf(port: number): string {
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'proxywrite unix - - n - 1 proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'lmtp unix - - n - - lmtp',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  return services.join('\n') + '\n';
}

function mainCf(l: Layout, opts: PostfixOptions): string {
  const maps = postfixMaps(opts.relay ? (opts.relay.table ?? 'cutover_domain_relay') : null);
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${l.queue}`,
    `data_directory = ${l.data}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    `myhostname = ${opts.hostname}`,
    'mydestination =',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'alias_maps =',
    'alias_database =',
    'local_recipient_maps =',
    'local_transport = error:5.1.1 no local delivery here',
    'smtpd_relay_restrictions = reject_unauth_destination',
    'smtp_dns_support_level = disabled',
    `maillog_file = ${l.maillog}`,
    `maillog_file_prefixes = ${l.dir}`,
    // A test must not wait for the default 300 s of a deferred queue run.
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximal_backoff_time = 2s',
    ...(opts.relay ? [`smtp_tcp_port = ${opts.relay.port}`] : []),
    ...postfixMainCf(l.maps, `lmtp:inet:127.0.0.1:${opts.lmtpPort}`, maps),
  ].join('\n') + '\n';
}

async function writeConfig(l: Layout, opts: PostfixOptions, port: number): Promise<void> {
  const maps = postfixMaps(opts.relay ? (opts.relay.table ?? 'cutover_domain_relay') : null);
  await mkdir(l.maps, { recursive: true });
  for (const map of maps) await writeFile(join(l.maps, map.file), sqliteMapFile(opts.dbPath, map), { mode: 0o644 });
  await writeFile(join(l.config, 'main.cf'), mainCf(l, opts), { mode: 0o644 });
  await writeFile(join(l.config, 'master.cf'), masterCf(port), { mode: 0o644 });
}

function runPostfix(l: Layout, command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // The master daemonizes and would keep inherited pipes open: only the launcher's exit is awaited.
    const child = spawn(POSTFIX_BIN, ['-c', l.config, command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => { output += chunk.toString('utf8'); };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code) => {
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, output });
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\n')) finish(received.startsWith('220 '));
    });
  });
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines - 1).join('\n');
}

async function waitForMaster(l: Layout, port: number): Promise<number> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const pid = Number.parseInt(await readFile(join(l.queue, 'pid', 'master.pid'), 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && await greets(port)) return pid;
    if (Date.now() >= deadline) throw new Error(`postfix did not greet on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms; maillog tail:\n${await tail(l.maillog)}`);
    await sleep(100);
  }
}

/**
 * A private Postfix: its own config_directory, queue and data directories and log under one
 * temp directory, smtpd on a free 127.0.0.1 port. Needs root (the master starts as root and
 * runs its daemons as the Debian package's `postfix` user); nothing system-wide is touched.
 */
export async function startPostfix(opts: PostfixOptions): Promise<PostfixInstance> {
  if (!existsSync(POSTFIX_BIN)) throw new Error(`${POSTFIX_BIN} is missing: install the Debian packages postfix and postfix-sqlite (npm test does, through server/setup/ensure.mjs)`);
  if (process.getuid?.() !== 0) throw new Error('a private Postfix needs root: its master starts as root and runs its daemons as the postfix user');
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'cutover-postfix-')));
  const l = layoutFor(dir);
  // The daemons run as `postfix` and must reach the queue and the log below the temp dir.
  await chmod(dir, 0o755);
  await mkdir(l.config, { recursive: true });
  // postfix-script creates the queue's subdirectories and the data directory with their owners; the queue itself is root's.
  await mkdir(l.queue, { recursive: true });
  let pid: number | undefined;
  const teardown = async () => {
    if (pid !== undefined) await stopMaster(pid);
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  };
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      await writeConfig(l, opts, port);
      const { code, output } = await runPostfix(l, 'start');
      if (code === 0) break;
      // freePort() releases the port before the master binds it: another process may win the race.
      if (attempt >= 3 || !/address already in use/i.test(output + await tail(l.maillog))) {
        throw new Error(`postfix -c ${l.config} start exited with ${code}: ${output.trim()}\nmaillog tail:\n${await tail(l.maillog)}`);
      }
    }
    pid = await waitForMaster(l, port);
  } catch (err) {
    await teardown();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    pid,
    dir,
    maillog: l.maillog,
    readLog: () => readFile(l.maillog, 'utf8').catch(() => ''),
    async reload() {
      const { code, output } = await runPostfix(l, 'reload');
      if (code !== 0) throw new Error(`postfix -c ${l.config} reload exited with ${code}: ${output.trim()}`);
    },
    stop: () => (stopping ??= teardown()),
  };
}
