import { appendFile, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXTRACTED_ROOT, launchOnFreePort, requireBinary, run, sha512Crypt, stopGroup, stopOnce, VMAIL_ID, type ImapServerInstance } from './imap-server.ts';

const COURIERTCPD = join(EXTRACTED_ROOT, 'usr/sbin/couriertcpd');
const IMAPLOGIN = join(EXTRACTED_ROOT, 'usr/lib/courier/courier/imaplogin');
const IMAPD = join(EXTRACTED_ROOT, 'usr/bin/imapd');
const MAILDIRMAKE = join(EXTRACTED_ROOT, 'usr/bin/maildirmake.courier');
const AUTHDAEMOND = '/usr/lib/courier/courier-authlib/authdaemond';
const MAKEUSERDB = '/usr/sbin/makeuserdb';
// Compiled into courier-authlib: authdaemond reads /etc/courier/authdaemonrc and userdb.dat, and
// listens on /run/courier/authdaemon/socket, where imaplogin asks it. No option moves them.
const SYSTEM_ETC = '/etc/courier';
const SYSTEM_RUN = '/run/courier';

// What Debian's /etc/courier/imapd sets, minus AUTH=CRAM-*: userdb holds crypt hashes only.
const CAPABILITY = 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE';

/**
 * Courier-IMAP 5 from Debian's courier-imap, unpacked (it conflicts with dovecot-imapd), behind
 * its couriertcpd on 127.0.0.1, with its own authdaemond over a private userdb. Because authlib's
 * paths are fixed, the whole instance runs in a mount namespace of its own (`unshare -m`) where
 * the instance's etc/ and run/ are bind-mounted on /etc/courier and /run/courier: several
 * instances run side by side and nothing of the host's is read or written. Courier has no admin
 * identity over IMAP: a migration logs in as each user.
 */
export async function startCourier(): Promise<ImapServerInstance> {
  for (const path of [COURIERTCPD, IMAPLOGIN, IMAPD]) requireBinary(path, 'courier-imap is not unpacked');
  requireBinary(AUTHDAEMOND, 'the Debian package courier-authlib is not installed');
  requireBinary(MAKEUSERDB, 'the Debian package courier-authlib-userdb is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'cutover-courier-'));
  const etc = join(dir, 'etc');
  const userdb = join(etc, 'userdb');
  const mailRoot = join(dir, 'mail');
  let pid: number | undefined;
  try {
    await chmod(dir, 0o755);
    // Mount points only; they stay empty on the host.
    await mkdir(SYSTEM_ETC, { recursive: true });
    await mkdir(SYSTEM_RUN, { recursive: true });
    await mkdir(join(dir, 'run/authdaemon'), { recursive: true });
    await mkdir(etc);
    await mkdir(mailRoot);
    await run('chown', [`${VMAIL_ID}:${VMAIL_ID}`, mailRoot]);
    await writeFile(join(etc, 'authdaemonrc'), 'authmodulelist="authuserdb"\ndaemons=3\nauthdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=""\nLOGGEROPTS=""\n');
    // makeuserdb refuses a userdb that the group or others can read.
    await writeFile(userdb, '', { mode: 0o600 });
    await run(MAKEUSERDB, ['-f', userdb]);
    const launcher = join(dir, 'launch.sh');
    const started = await launchOnFreePort('courier', join(dir, 'courier.log'), async (port) => {
      await writeFile(launcher, launchScript(dir, port));
      return { command: 'unshare', args: ['-m', '--propagation', 'private', 'sh', launcher] };
    });
    pid = started.pid;
    return {
      kind: 'courier', host: '127.0.0.1', port: started.port, pid, dir,
      namespace: { prefix: 'INBOX.', delimiter: '.' },
      async addUser(user, password) {
        const home = join(mailRoot, user);
        await mkdir(home);
        await run(MAILDIRMAKE, [join(home, 'Maildir')]);
        await run('chown', ['-R', `${VMAIL_ID}:${VMAIL_ID}`, home]);
        await appendFile(userdb, `${user}\tuid=${VMAIL_ID}|gid=${VMAIL_ID}|home=${home}|mail=${home}/Maildir|systempw=${await sha512Crypt(password)}\n`);
        // authdaemond notices the new userdb.dat on the next login.
        await run(MAKEUSERDB, ['-f', userdb]);
      },
      stop: stopOnce(started.pid, dir),
    };
  } catch (err) {
    if (pid !== undefined) await stopGroup(pid).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// authdaemond runs in the foreground (it no longer daemonizes itself) as a child of the shell
// that then becomes couriertcpd: both stay in the process group stop() signals. imapd takes its
// settings from the environment, as Debian's init script gives them.
function launchScript(dir: string, port: number): string {
  const env = [
    'PATH=/usr/bin:/bin', `IMAP_CAPABILITY="${CAPABILITY}"`, 'IMAP_KEYWORDS=1', 'IMAP_ACL=1', 'IMAP_IDLE_TIMEOUT=60',
    'IMAP_MAILBOX_SANITY_CHECK=1', 'IMAP_TRASHFOLDERNAME=Trash', 'IMAP_EMPTYTRASH=', 'IMAP_UMASK=022', 'IMAP_USELOCKS=1',
    'IMAP_ENHANCEDIDLE=0', 'IMAP_CHECK_ALL_FOLDERS=0', 'IMAP_OBSOLETE_CLIENT=0', 'IMAP_DISABLETHREADSORT=0',
  ].join(' ');
  return `set -e
mount --bind ${dir}/etc ${SYSTEM_ETC}
mount --bind ${dir}/run ${SYSTEM_RUN}
${AUTHDAEMOND} &
exec env -i ${env} ${COURIERTCPD} -address=127.0.0.1 -maxprocs=40 -maxperip=40 -nodnslookup -noidentlookup ${port} ${IMAPLOGIN} ${IMAPD} Maildir
`;
}
