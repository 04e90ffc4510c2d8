import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXTRACTED_ROOT, imapCommands, launchOnFreePort, requireBinary, run, runWithInput, stopGroup, stopOnce, VMAIL_ID, type ImapServerInstance } from './imap-server.ts';

const BIN = join(EXTRACTED_ROOT, 'usr/lib/cyrus/bin');
const LIBS = join(EXTRACTED_ROOT, 'usr/lib/x86_64-linux-gnu');
const SASLPASSWD = '/usr/sbin/saslpasswd2';
const ADMIN = 'cyradmin';

export interface CyrusOptions {
  /** Cyrus's default (no) replaces 8-bit bytes in headers with 'X'; true stores them as sent. */
  keep8bit?: boolean;
}

/**
 * Cyrus IMAP 3.6 from Debian's cyrus-imapd, unpacked (it conflicts with dovecot-imapd), run by its
 * own `master` on 127.0.0.1 with users in a private sasldb. The admin `cyradmin` acts for a user
 * through SASL PLAIN's authorisation identity, as a migration's admin login does on a real Cyrus.
 */
export async function startCyrus(opts: CyrusOptions = {}): Promise<ImapServerInstance> {
  requireBinary(join(BIN, 'master'), 'cyrus-imapd is not unpacked');
  requireBinary(SASLPASSWD, 'the Debian package sasl2-bin is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'cutover-cyrus-'));
  const conf = join(dir, 'imapd.conf');
  const sasldb = join(dir, 'sasldb2');
  const adminPassword = randomBytes(12).toString('hex');
  let pid: number | undefined;
  try {
    for (const sub of ['conf', 'spool', 'run']) await mkdir(join(dir, sub));
    await writeFile(conf, imapdConf(dir, sasldb, Boolean(opts.keep8bit)));
    await saslPassword(sasldb, ADMIN, adminPassword);
    await run('chown', ['-R', `${VMAIL_ID}:${VMAIL_ID}`, dir]);
    await chmod(dir, 0o755);
    const started = await launchOnFreePort('cyrus', join(dir, 'master.log'), async (port) => {
      await writeFile(join(dir, 'cyrus.conf'), cyrusConf(conf, port));
      // master does not hand its -C to the services it starts: each command line carries it.
      return { command: join(BIN, 'master'), args: ['-C', conf, '-M', join(dir, 'cyrus.conf'), '-p', join(dir, 'run/master.pid')], env: { ...process.env, LD_LIBRARY_PATH: LIBS } };
    });
    pid = started.pid;
    const { port } = started;
    const instance: ImapServerInstance = {
      kind: 'cyrus', host: '127.0.0.1', port, pid, dir,
      admin: { user: ADMIN, password: adminPassword },
      namespace: { prefix: '', delimiter: '/' },
      async addUser(user, password) {
        await saslPassword(sasldb, user, password);
        // A Cyrus user has no INBOX until an admin creates user/<name>; the user gets all rights on it.
        await imapCommands(port, [`LOGIN ${ADMIN} ${adminPassword}`, `CREATE "user/${user}"`, 'LOGOUT']);
      },
      stop: stopOnce(started.pid, dir),
    };
    return instance;
  } catch (err) {
    if (pid !== undefined) await stopGroup(pid).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// virtdomains: userid lets logins be full addresses; unixhierarchysep gives '/' as delimiter, as
// most Cyrus hosts are set up. Without syslog (none runs here) Cyrus logs nothing at all, so the
// sockets it would create under /run/cyrus are moved into the instance's directory.
function imapdConf(dir: string, sasldb: string, keep8bit: boolean): string {
  return `configdirectory: ${dir}/conf
partition-default: ${dir}/spool
admins: ${ADMIN}
cyrus_user: nobody
cyrus_group: nogroup
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${sasldb}
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
unixhierarchysep: yes
virtdomains: userid
defaultdomain: localhost
idlesocket: ${dir}/run/idle
lmtpsocket: ${dir}/run/lmtp
notifysocket: ${dir}/run/notify
syslog_prefix: cutover-cyrus
${keep8bit ? 'munge8bit: no\n' : ''}`;
}

function cyrusConf(conf: string, port: number): string {
  return `START {
  recover cmd="${BIN}/ctl_cyrusdb -C ${conf} -r"
}
SERVICES {
  imap cmd="${BIN}/imapd -C ${conf}" listen="127.0.0.1:${port}" prefork=0
}
EVENTS {
}
`;
}

async function saslPassword(sasldb: string, user: string, password: string): Promise<void> {
  await runWithInput(SASLPASSWD, ['-f', sasldb, '-p', '-c', user], password);
  await chown(sasldb, VMAIL_ID, VMAIL_ID);
}
