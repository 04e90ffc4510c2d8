// A private Radicale (CalDAV/CardDAV) on 127.0.0.1: plain htpasswd users, collections in a temp
// directory, each user owning only their own collections.
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpDaemon } from './dav-process.ts';
import { freePort } from './ports.ts';

const RADICALE_BIN = '/usr/bin/radicale';

export interface RadicaleInstance {
  host: '127.0.0.1';
  port: number;
  /** Base URL, e.g. http://127.0.0.1:PORT/ (discovery starts there). */
  url: string;
  dir: string;
  pid: number;
  /** Radicale reads its htpasswd file on each login: a user added here can log in at once. */
  addUser(user: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

export interface RadicaleOptions { keepDir?: boolean; maxContentBytes?: number }

export async function startRadicale(opts: RadicaleOptions = {}): Promise<RadicaleInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-radicale-'));
  const users = join(dir, 'users');
  await writeFile(users, '', { mode: 0o600 });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'config');
    await writeFile(config, `[server]
hosts = 127.0.0.1:${port}
max_content_length = ${opts.maxContentBytes ?? 100_000_000}
[auth]
type = htpasswd
htpasswd_filename = ${users}
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = ${join(dir, 'collections')}
[rights]
type = owner_only
[logging]
level = warning
`);
    try {
      const daemon = await startHttpDaemon(RADICALE_BIN, ['--config', config], port, join(dir, 'radicale.log'), 'radicale');
      return {
        host: '127.0.0.1', port, url: `http://127.0.0.1:${port}/`, dir, pid: daemon.pid,
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
