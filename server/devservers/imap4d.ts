import { appendFile, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOnFreePort, requireBinary, run, sha512Crypt, stopGroup, stopOnce, VMAIL_ID, type ImapServerInstance } from './imap-server.ts';

const IMAP4D_BIN = '/usr/sbin/imap4d';

/**
 * GNU Mailutils imap4d 3.15 (Debian's mailutils-imap4d) on 127.0.0.1, in the foreground of its own
 * process group. Users live in a passwd-style file per domain (Mailutils' `virtdomain` module:
 * `alice@example.test` is the line `alice:…` of passwd/example.test), passwords as SHA-512 crypt.
 * It has no admin identity: a migration logs in as each user.
 */
export async function startImap4d(): Promise<ImapServerInstance> {
  requireBinary(IMAP4D_BIN, 'the Debian package mailutils-imap4d is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'cutover-imap4d-'));
  const passwdDir = join(dir, 'passwd');
  const mailRoot = join(dir, 'mail');
  let pid: number | undefined;
  try {
    await chmod(dir, 0o755);
    await mkdir(passwdDir);
    await mkdir(mailRoot);
    await run('chown', [`${VMAIL_ID}:${VMAIL_ID}`, mailRoot]);
    const conf = join(dir, 'imap4d.conf');
    const started = await launchOnFreePort('imap4d', join(dir, 'imap4d.log'), async (port) => {
      await writeFile(conf, imap4dConf(dir, passwdDir, port));
      return { command: IMAP4D_BIN, args: [`--config-file=${conf}`] };
    });
    pid = started.pid;
    return {
      kind: 'imap4d', host: '127.0.0.1', port: started.port, pid, dir,
      namespace: { prefix: '', delimiter: '/' },
      async addUser(user, password) {
        const at = user.lastIndexOf('@');
        if (at <= 0) throw new Error(`imap4d addUser: ${user} is not user@domain`);
        const home = join(mailRoot, user);
        // The INBOX maildir must exist: imap4d answers APPEND [TRYCREATE] to INBOX until a SELECT made it.
        for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(home, 'INBOX', sub), { recursive: true });
        await run('chown', ['-R', `${VMAIL_ID}:${VMAIL_ID}`, home]);
        await appendFile(join(passwdDir, user.slice(at + 1)), `${user.slice(0, at)}:${await sha512Crypt(password)}:${VMAIL_ID}:${VMAIL_ID}::${home}:/bin/false\n`, { mode: 0o600 });
      },
      stop: stopOnce(started.pid, dir),
    };
  } catch (err) {
    if (pid !== undefined) await stopGroup(pid).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// `authentication generic` checks the crypt hash the virtdomain module found; `virtdomain` alone
// authorises but then refuses every password. The INBOX is a maildir of its own (home/INBOX, as
// the virtdomain module sets it), the other folders maildirs under home/Maildir.
function imap4dConf(dir: string, passwdDir: string, port: number): string {
  return `logging { syslog no; };
mode daemon;
foreground yes;
pidfile "${dir}/imap4d.pid";
server 127.0.0.1:${port} { };
auth { authentication generic; authorization virtdomain; };
virtdomain { passwd-dir "${passwdDir}"; };
mailbox { mailbox-type maildir; };
namespace personal { prefix "" { directory "\${home}/Maildir"; mailbox-type maildir; delimiter "/"; }; };
`;
}
