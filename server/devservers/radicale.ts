// A private Radicale (CalDAV/CardDAV) on 127.0.0.1: plain htpasswd users, collections in a temp
// directory, each user owning only their own collections.
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpDaemon } from './dav-process.ts';
import { freePort } from './ports.ts';
import { promisify } from 'node:util';

const run = promisify(execFile);

const RADICALE_BIN = '/usr/bin/radicale';

export interface RadicaleInstance {
  host: '127.0.0.1';
  port: number;
  /** Base URL, e.g. http://127.0.0.1:PORT/ (discovery starts there); https://localhost:PORT/ with `tls`. */
  url: string;
  /** With `tls`: the self-signed certificate (for "localhost"), to pin as the CA. */
  certFile?: string;
  dir: string;
  pid: number;
  /** Radicale reads its htpasswd file on each login: a user added here can log in at once. */
  addUser(user: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

export interface RadicaleOptions {
  keepDir?: boolean;
  maxContentBytes?: number;
  /** A login with read and write rights on every account's collections (Radicale's `from_file` rights), as a host gives its migration tool. */
  admin?: string;
  /** `http_x_remote_user`: the account comes from the X-Remote-User header a trusted reverse proxy sets (no password checked here). */
  auth?: 'htpasswd' | 'http_x_remote_user';
  /** HTTPS with a self-signed certificate for "localhost" (the name RFC 6764 discovery reaches it by). */
  tls?: boolean;
}

// Each account owns its collections; the admin (when there is one) reads and writes everyone's.
function rightsFile(admin: string): string {
  return `[admin]
user: ${admin.replace(/[.*+?^$()[\]|\\]/g, '\\$&')}
collection: .*
permissions: RrWw
[owner]
user: .+
collection: {user}(/.*)?
permissions: RrWw
[root]
user: .+
collection:
permissions: R
`;
}

export async function startRadicale(opts: RadicaleOptions = {}): Promise<RadicaleInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-radicale-'));
  const users = join(dir, 'users');
  await writeFile(users, '', { mode: 0o600 });
  const rights = join(dir, 'rights');
  if (opts.admin) await writeFile(rights, rightsFile(opts.admin));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (opts.tls) {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', keyFile, '-out', certFile]);
  }
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'config');
    await writeFile(config, `[server]
hosts = 127.0.0.1:${port}
max_content_length = ${opts.maxContentBytes ?? 100_000_000}
${opts.tls ? `ssl = True\ncertificate = ${certFile}\nkey = ${keyFile}\n` : ''}[auth]
type = ${opts.auth ?? 'htpasswd'}
htpasswd_filename = ${users}
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = ${join(dir, 'collections')}
[rights]
${opts.admin ? `type = from_file\nfile = ${rights}` : 'type = owner_only'}
[logging]
level = warning
`);
    try {
      const daemon = await startHttpDaemon(RADICALE_BIN, ['--config', config], port, join(dir, 'radicale.log'), 'radicale', { tls: opts.tls });
      return {
        host: '127.0.0.1', port, url: opts.tls ? `https://localhost:${port}/` : `http://127.0.0.1:${port}/`, dir, pid: daemon.pid, ...(opts.tls && { certFile }),
        addUser: (user, password) => appendFile(users, `${user}:${password}\n`),
        async stop() {
          await daemon.stop();
          if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('in use')) {
        if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}
