import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import knex, { type Knex } from 'knex';
import { hashPassword } from '../../plugins/postfixadmin/password.ts';
import { gmailNamespaces, writeGmailVirtuals } from './gmail-shape.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);

const DOVECOT_BIN = '/usr/sbin/dovecot';
const DOVEADM_BIN = '/usr/bin/doveadm';
/** uid/gid every virtual mailbox runs as; the mail root must belong to it. */
const VMAIL_ID = 65534;
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const MASTER_USER = 'migrator';

export interface DovecotOptions {
  separator?: '/' | '.';
  /** '' (default) or 'INBOX.' for a Courier-style namespace. */
  prefix?: string;
  /** Default true: Sent/Drafts/Junk/Trash with SPECIAL-USE attributes, auto-subscribed. */
  specialUse?: boolean;
  /** Default: a fresh mkdtemp directory under os.tmpdir(). */
  dir?: string;
  /** Keep the directory (logs, maildirs, db) after stop(). */
  keepDir?: boolean;
  /** STARTTLS on `port` and implicit TLS on `tlsPort`, with a self-signed certificate for "localhost". */
  tls?: boolean;
  /** An LMTP listener on `lmtpPort` (what a Postfix in front of this host delivers to). */
  lmtp?: boolean;
  /** XOAUTH2/OAUTHBEARER logins checked by `passdb oauth2` against an RFC 7662 introspection endpoint (POST token=…). */
  oauth2?: { introspectionUrl: string; mechanisms?: Array<'xoauth2' | 'oauthbearer'> };
  /** Gmail's IMAP shape: `[Gmail]/` virtual folders over a hidden store (see gmail-shape.ts); implies specialUse false. */
  gmail?: boolean;
  /** Pigeonhole: Sieve scripts in ~/sieve and a ManageSieve listener on `sievePort`. */
  sieve?: boolean;
  /** Pigeonhole's sieve_extensions, e.g. '+vacation-seconds' (Sieve extensions differ between platforms). */
  sieveExtensions?: string;
}

export interface DovecotInstance {
  host: '127.0.0.1';
  port: number;
  tlsPort?: number;
  lmtpPort?: number;
  /** ManageSieve (RFC 5804), with `sieve: true`. */
  sievePort?: number;
  /** The self-signed certificate (PEM), to pin as a CA in tests. */
  certFile?: string;
  dir: string;
  pid: number;
  /** SQLite file with the PostfixAdmin schema (domain, mailbox, alias). */
  dbPath: string;
  /** dir/mail, owned by 65534; mailbox.maildir is relative to it, e.g. 'example.test/alice/'. */
  mailRoot: string;
  /** Master passdb user: log in as `user*migrator` with masterPassword. */
  masterUser: string;
  masterPassword: string;
  stop(): Promise<void>;
  kick(user: string): Promise<void>;
}

interface Layout {
  dir: string;
  conf: string;
  sqlConf: string;
  oauth2Conf: string;
  masterUsers: string;
  dbDir: string;
  dbPath: string;
  mailRoot: string;
  runDir: string;
  stateDir: string;
  log: string;
}

interface NamespaceConfig {
  separator: '/' | '.';
  prefix: string;
  specialUse: boolean;
  oauth2?: DovecotOptions['oauth2'];
  /** The `[Gmail]/` namespaces, when Gmail-shaped. */
  extraNamespaces?: string;
}

const POSTFIXADMIN_SCHEMA = [
  `CREATE TABLE domain (domain TEXT PRIMARY KEY, description TEXT DEFAULT '', aliases INTEGER DEFAULT 0, mailboxes INTEGER DEFAULT 0, maxquota INTEGER DEFAULT 0, quota INTEGER DEFAULT 0, transport TEXT DEFAULT 'virtual', backupmx INTEGER DEFAULT 0, created TEXT DEFAULT CURRENT_TIMESTAMP, modified TEXT DEFAULT CURRENT_TIMESTAMP, active INTEGER NOT NULL DEFAULT 1)`,
  `CREATE TABLE mailbox (username TEXT PRIMARY KEY, password TEXT NOT NULL, name TEXT DEFAULT '', maildir TEXT NOT NULL, quota INTEGER DEFAULT 0, local_part TEXT NOT NULL, domain TEXT NOT NULL REFERENCES domain(domain), created TEXT DEFAULT CURRENT_TIMESTAMP, modified TEXT DEFAULT CURRENT_TIMESTAMP, active INTEGER NOT NULL DEFAULT 1)`,
  `CREATE TABLE alias (address TEXT PRIMARY KEY, goto TEXT NOT NULL, domain TEXT NOT NULL REFERENCES domain(domain), created TEXT DEFAULT CURRENT_TIMESTAMP, modified TEXT DEFAULT CURRENT_TIMESTAMP, active INTEGER NOT NULL DEFAULT 1)`,
];

const SPECIAL_USE_MAILBOXES = ['Sent', 'Drafts', 'Junk', 'Trash'] as const;

function layoutFor(dir: string): Layout {
  const dbDir = join(dir, 'db');
  return {
    dir,
    conf: join(dir, 'dovecot.conf'),
    sqlConf: join(dir, 'dovecot-sql.conf.ext'),
    oauth2Conf: join(dir, 'dovecot-oauth2.conf.ext'),
    masterUsers: join(dir, 'master-users'),
    dbDir,
    dbPath: join(dbDir, 'postfixadmin.db'),
    mailRoot: join(dir, 'mail'),
    runDir: join(dir, 'run'),
    stateDir: join(dir, 'state'),
    log: join(dir, 'dovecot.log'),
  };
}

// Dovecot 2.3 rejects several settings on one line inside a block, hence one per line.
function namespaceBlock(ns: NamespaceConfig): string {
  const mailboxes = ns.specialUse
    ? SPECIAL_USE_MAILBOXES.map((name) => `  mailbox ${name} {\n    special_use = \\${name}\n    auto = subscribe\n  }\n`).join('')
    : '';
  const prefix = ns.prefix === '' ? '' : `  prefix = ${ns.prefix}\n`;
  return `namespace inbox {\n  inbox = yes\n  separator = ${ns.separator}\n${prefix}${mailboxes}}\n`;
}

// anvil-auth-penalty mode 0 turns the per-IP auth penalty off: otherwise, after one failed
// login, the next logins from 127.0.0.1 (every test) wait 2-15 s before the passdb is even
// asked (login_trusted_networks did not exempt 127.0.0.1 on 2.3.19). The 2 s
// auth_failure_delay on each failed attempt still applies.
function dovecotConf(l: Layout, port: number, ns: NamespaceConfig, tlsPort: number, lmtpPort: number): string {
  const tls = tlsPort ? `ssl = yes\nssl_cert = <${l.dir}/cert.pem\nssl_key = <${l.dir}/key.pem` : 'ssl = no';
  return `base_dir = ${l.runDir}
state_dir = ${l.stateDir}
instance_name = cutover-${port}
log_path = ${l.log}
protocols = imap${lmtpPort ? ' lmtp' : ''}
listen = 127.0.0.1
${tls}
disable_plaintext_auth = no
auth_mechanisms = plain login${ns.oauth2 ? ` ${oauth2Mechanisms(ns.oauth2)}` : ''}
auth_master_user_separator = *
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins quota${ns.extraNamespaces ? ' virtual' : ''}
protocol imap {
  mail_plugins = $mail_plugins imap_zlib imap_quota
}
plugin {
  quota = maildir:User quota
}
${namespaceBlock(ns)}${ns.extraNamespaces ?? ''}${ns.oauth2 ? oauth2Passdb(l, ns.oauth2) : ''}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${l.masterUsers}
  master = yes
  pass = yes
}
passdb {
  driver = sql
  args = ${l.sqlConf}
}
userdb {
  driver = sql
  args = ${l.sqlConf}
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort}
    ssl = ${tlsPort ? 'yes' : 'no'}
  }
}
${lmtpPort ? `service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = ${lmtpPort}\n  }\n}\n` : ''}`;
}

function oauth2Mechanisms(oauth2: NonNullable<DovecotOptions['oauth2']>): string {
  return (oauth2.mechanisms ?? ['xoauth2']).join(' ');
}

// Token logins only: the oauth2 passdb takes XOAUTH2/OAUTHBEARER, the SQL passdb keeps passwords.
function oauth2Passdb(l: Layout, oauth2: NonNullable<DovecotOptions['oauth2']>): string {
  return `passdb {\n  driver = oauth2\n  mechanisms = ${oauth2Mechanisms(oauth2)}\n  args = ${l.oauth2Conf}\n}\n`;
}

// The endpoint's answer must carry `username` equal to the login name. Debian's 2.3.19.1 panics
// its auth process (assertion in http_client_request_set_payload/set_timeout_msecs) on a URL
// with a query or a %variable, so the URL is taken as it is.
function oauth2Conf(oauth2: NonNullable<DovecotOptions['oauth2']>): string {
  return `introspection_mode = post
introspection_url = ${oauth2.introspectionUrl}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
`;
}

// A self-signed certificate for "localhost" only: connecting by IP address is a name mismatch.
async function writeCertificate(l: Layout): Promise<void> {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-keyout', join(l.dir, 'key.pem'), '-out', join(l.dir, 'cert.pem')]);
}

// quota_rule '*:bytes=0' means unlimited, so a mailbox without a quota needs no special case.
function sqlConf(l: Layout): string {
  const active = `FROM mailbox m JOIN domain d ON d.domain = m.domain WHERE m.username = '%u' AND m.active = 1 AND d.active = 1`;
  return `driver = sqlite
connect = ${l.dbPath}
default_pass_scheme = SHA512-CRYPT
password_query = SELECT m.username AS user, m.password AS password ${active}
user_query = SELECT '${l.mailRoot}/' || m.maildir AS home, ${VMAIL_ID} AS uid, ${VMAIL_ID} AS gid, '*:bytes=' || m.quota AS quota_rule ${active}
iterate_query = SELECT m.username AS user FROM mailbox m JOIN domain d ON d.domain = m.domain WHERE m.active = 1 AND d.active = 1
`;
}

function openDb(dbPath: string): Knex {
  return knex({ client: 'sqlite3', connection: { filename: dbPath }, useNullAsDefault: true });
}

async function withDb<T>(dbPath: string, fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = openDb(dbPath);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

// The auth worker runs as the 'dovecot' user and SQLite wants to create journal files next
// to the db, so the db directory is world-writable; the mail processes run as 65534 and have
// to traverse the instance dir, which mkdtemp creates as 0700.
async function prepareFiles(l: Layout, masterPassword: string): Promise<void> {
  await chmod(l.dir, 0o755);
  await mkdir(l.dbDir, { recursive: true });
  await chmod(l.dbDir, 0o777);
  await withDb(l.dbPath, async (db) => {
    for (const statement of POSTFIXADMIN_SCHEMA) await db.raw(statement);
  });
  await chmod(l.dbPath, 0o666);
  await mkdir(l.mailRoot, { recursive: true });
  await chown(l.mailRoot, VMAIL_ID, VMAIL_ID);
  await writeFile(l.sqlConf, sqlConf(l), { mode: 0o644 });
  await writeFile(l.masterUsers, `${MASTER_USER}:{PLAIN}${masterPassword}::::::\n`, { mode: 0o644 });
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines - 1).join('\n');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves true once the port sends an IMAP `* OK` greeting, false on any failure. */
export function probeGreeting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.startsWith('* OK')) finish(true);
      else if (received.includes('\n')) finish(false);
    });
  });
}

async function waitForGreeting(port: number, log: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await probeGreeting(port)) return;
    await sleep(100);
  }
  throw new Error(`dovecot did not greet on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms; dovecot.log tail:\n${await tail(log)}`);
}

function parsePid(text: string): number | undefined {
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

// The launcher exits right after forking; the daemon writes master.pid a moment later, so a
// read straight after the launcher's exit can find no file (or an empty one) yet.
async function waitForMasterPid(l: Layout): Promise<number> {
  const file = join(l.runDir, 'master.pid');
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const pid = parsePid(await readFile(file, 'utf8').catch(() => ''));
    if (pid !== undefined) return pid;
    if (Date.now() >= deadline) throw new Error(`dovecot: no pid in ${file} after ${START_TIMEOUT_MS} ms; dovecot.log tail:\n${await tail(l.log)}`);
    await sleep(20);
  }
}

function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state field follows the parenthesised command name, which may itself contain spaces.
  return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
}

// The daemonized master is reparented to pid 1, which may not reap it: a zombie still answers
// kill(pid, 0), so /proc is consulted as well.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

// The master daemonizes with setsid, so its pid is also its process group id: the SIGKILL
// fallback takes the whole group so no orphaned imap/auth children survive.
/** SIGTERM, then SIGKILL to the master's process group; used by the benchmark pair too. */
export async function stopMaster(pid: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, STOP_GRACE_MS)) return;
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 2_000))) throw new Error(`dovecot master ${pid} did not exit after SIGKILL`);
}

// execFile would hang: the daemonized master inherits the stdio pipes and keeps them open, so
// only the foreground process's exit is awaited and stderr is collected until then.
function runDaemonizing(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      child.stderr.destroy();
      resolve({ code, stderr });
    });
  });
}

async function launch(l: Layout): Promise<number> {
  const { code, stderr } = await runDaemonizing(DOVECOT_BIN, ['-c', l.conf]);
  if (code !== 0) {
    throw new Error(`dovecot -c ${l.conf} exited with ${code}: ${stderr.trim()}\ndovecot.log tail:\n${await tail(l.log)}`);
  }
  return waitForMasterPid(l);
}

// Pigeonhole, kept apart from dovecotConf(): scripts in the user's home, the active one linked
// as ~/.dovecot.sieve, and ManageSieve (STARTTLS when the instance has TLS).
function withSieve(conf: string, sievePort: number, extensions?: string): string {
  if (!sievePort) return conf;
  return conf.replace('protocols = imap\n', 'protocols = imap sieve\n') + `plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
${extensions ? `  sieve_extensions = ${extensions}\n` : ''}}
service managesieve-login {
  inet_listener sieve {
    address = 127.0.0.1
    port = ${sievePort}
  }
}
`;
}

/** freePort() releases the port before dovecot binds it, so another process may win the race. */
async function launchOnFreePort(l: Layout, ns: NamespaceConfig, tls: boolean, lmtp: boolean, sieve?: { extensions?: string }): Promise<{ port: number; tlsPort: number; lmtpPort: number; sievePort: number; pid: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const tlsPort = tls ? await freePort() : 0;
    const lmtpPort = lmtp ? await freePort() : 0;
    const sievePort = sieve ? await freePort() : 0;
    await writeFile(l.conf, withSieve(dovecotConf(l, port, ns, tlsPort, lmtpPort), sievePort, sieve?.extensions), { mode: 0o644 });
    try {
      return { port, tlsPort, lmtpPort, sievePort, pid: await launch(l) };
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('Address already in use')) throw err;
    }
  }
}

export async function startDovecot(opts: DovecotOptions = {}): Promise<DovecotInstance> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'cutover-dovecot-')));
  await mkdir(dir, { recursive: true });
  const l = layoutFor(dir);
  const ns: NamespaceConfig = { separator: opts.separator ?? '/', prefix: opts.prefix ?? '', specialUse: opts.gmail ? false : opts.specialUse ?? true, oauth2: opts.oauth2 };
  const masterPassword = randomBytes(12).toString('hex');
  const teardown = async (pid: number | undefined) => {
    if (pid !== undefined) await stopMaster(pid);
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  };
  let launched: { port: number; tlsPort: number; lmtpPort: number; sievePort: number; pid: number } | undefined;
  try {
    await prepareFiles(l, masterPassword);
    if (opts.tls) await writeCertificate(l);
    if (opts.oauth2) await writeFile(l.oauth2Conf, oauth2Conf(opts.oauth2), { mode: 0o644 });
    if (opts.gmail) ns.extraNamespaces = gmailNamespaces(await writeGmailVirtuals(dir));
    launched = await launchOnFreePort(l, ns, Boolean(opts.tls), Boolean(opts.lmtp), opts.sieve ? { extensions: opts.sieveExtensions } : undefined);
    await waitForGreeting(launched.port, l.log);
  } catch (err) {
    await teardown(launched?.pid);
    throw err;
  }
  const { port, tlsPort, lmtpPort, sievePort, pid } = launched;
  // Memoised: after the first stop the pid may be reused, so it must never be signalled again.
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    ...(opts.tls && { tlsPort, certFile: join(dir, 'cert.pem') }),
    ...(opts.lmtp && { lmtpPort }),
    ...(opts.sieve && { sievePort }),
    dir,
    pid,
    dbPath: l.dbPath,
    mailRoot: l.mailRoot,
    masterUser: MASTER_USER,
    masterPassword,
    stop: () => (stopping ??= teardown(pid)),
    async kick(user: string) {
      await run(DOVEADM_BIN, ['-c', l.conf, 'kick', user]);
    },
  };
}

export async function addDomain(inst: DovecotInstance, domain: string): Promise<void> {
  await withDb(inst.dbPath, (db) => db('domain').insert({ domain }));
}

export async function addMailbox(inst: DovecotInstance, address: string, password: string, quotaBytes = 0): Promise<void> {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) throw new Error(`addMailbox: not an address: ${address}`);
  const localPart = address.slice(0, at);
  const domain = address.slice(at + 1);
  await withDb(inst.dbPath, (db) =>
    db.transaction(async (trx) => {
      await trx('mailbox').insert({
        username: address,
        password: hashPassword(password),
        maildir: `${domain}/${localPart}/`,
        quota: quotaBytes,
        local_part: localPart,
        domain,
      });
      await trx('alias').insert({ address, goto: address, domain });
    }),
  );
}
