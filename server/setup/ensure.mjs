#!/usr/bin/env node
// Makes a fresh Debian/Ubuntu machine ready for the demo and the tests: the Debian packages of
// the real servers they start (Dovecot with SQLite auth, Knot), then the npm dependencies.
// Plain JavaScript on purpose: it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const debianPackages = ['dovecot-imapd', 'dovecot-sqlite', 'knot', 'knot-dnsutils', 'bind9', 'chromium', 'postfix', 'postfix-sqlite', 'dovecot-lmtpd', 'postgresql',
  // Interop servers (test/interop): GNU imap4d and the auth tools of Cyrus and Courier install normally,
  // and so do the libraries the unpacked Cyrus and Courier binaries link against (see ensureUnpackedServers).
  'mailutils-imap4d', 'sasl2-bin', 'courier-authlib', 'courier-authlib-userdb',
  'libcourier-unicode4', 'libgamin0', 'libgdbm6', 'libical3', 'libicu72', 'libidn12', 'libjansson4', 'libpcre3', 'libpq5', 'libwrap0', 'libxapian30', 'libxml2',
  // groupware (#15): two independent CalDAV/CardDAV servers, and Pigeonhole ManageSieve for the filters.
  'radicale', 'xandikos', 'dovecot-sieve', 'dovecot-managesieved',
  // file mode (#16): Debian's readpst, the live cross-check of what the PST reader brings.
  'pst-utils',
  // the peer in the no-op re-run bench (test/interop/noop-bench.ts): mbsync.
  'isync'];

function installed(pkg) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`cutover setup: "${command} ${args.join(' ')}" failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function ensureDebianPackages() {
  if (!existsSync('/usr/bin/dpkg-query')) {
    console.error(`cutover setup: this is not a Debian/Ubuntu system; install ${debianPackages.join(', ')} (or their equivalents) yourself.`);
    return;
  }
  const missing = debianPackages.filter((pkg) => !installed(pkg));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`cutover setup: missing Debian packages: ${missing.join(' ')}\n  install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.error(`cutover setup: installing ${missing.join(' ')} …`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  // Installed for the tests' private instances only: "No configuration" leaves the system Postfix unconfigured and stopped.
  if (missing.includes('postfix')) spawnSync('debconf-set-selections', { input: 'postfix postfix/main_mailer_type select No configuration\n', stdio: ['pipe', 'inherit', 'inherit'] });
  run('apt-get', ['update', '-qq'], env);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], env);
}

// cyrus-imapd and courier-imap conflict with dovecot-imapd (all provide imap-server), and
// cyrus-common would pull in an MTA: their .debs are downloaded and unpacked, never installed, into
// a directory server/devservers/{cyrus,courier}.ts run the binaries from (CUTOVER_DEBS_ROOT moves it).
function ensureUnpackedServers() {
  const cache = process.env.CUTOVER_DEBS_CACHE ?? '/var/cache/cutover-debs';
  const unpacked = process.env.CUTOVER_DEBS_ROOT ?? `${cache}/root`;
  const packages = ['cyrus-imapd', 'cyrus-common', 'courier-imap', 'courier-base'];
  if (existsSync(`${unpacked}/usr/lib/cyrus/bin/master`) && existsSync(`${unpacked}/usr/lib/courier/courier/imaplogin`)) return;
  if (!existsSync('/usr/bin/dpkg-deb') || process.getuid?.() !== 0) {
    console.error(`cutover setup: Cyrus and Courier for the interop tests are not unpacked in ${unpacked}; run this as root on Debian to fetch them.`);
    return;
  }
  console.error(`cutover setup: unpacking ${packages.join(', ')} into ${unpacked} …`);
  mkdirSync(cache, { recursive: true });
  mkdirSync(unpacked, { recursive: true });
  // apt-get download writes into the working directory; _apt cannot write there, so it runs unsandboxed (a warning).
  const download = () => spawnSync('apt-get', ['download', '-qq', ...packages], { cwd: cache, stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  let downloaded = download();
  if (downloaded.status !== 0) {
    run('apt-get', ['update', '-qq'], { DEBIAN_FRONTEND: 'noninteractive' });
    downloaded = download();
  }
  if (downloaded.status !== 0) {
    console.error(`cutover setup: "apt-get download ${packages.join(' ')}" failed (exit ${downloaded.status ?? downloaded.signal})`);
    process.exit(1);
  }
  for (const deb of readdirSync(cache).filter((f) => f.endsWith('.deb'))) run('dpkg-deb', ['-x', `${cache}/${deb}`, unpacked]);
}

function ensureNpmDependencies() {
  const marker = `${root}node_modules/.package-lock.json`;
  const lock = `${root}package-lock.json`;
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.error('cutover setup: installing npm dependencies (npm ci) …');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// Same rule as server/bin.mjs: the build is used only while it is newer than every source.
function ensureBuild() {
  const stamp = `${root}dist/.build-stamp`;
  const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const full = `${dir}/${e.name}`;
    return Math.max(max, e.isDirectory() ? newest(full) : e.name.endsWith('.ts') ? statSync(full).mtimeMs : 0);
  }, 0);
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(newest(`${root}server`), newest(`${root}plugins`))) return;
  run(process.execPath, [`${root}server/setup/build.mjs`]);
}

ensureDebianPackages();
ensureUnpackedServers();
ensureNpmDependencies();
ensureBuild();
try {
  execFileSync(process.execPath, ['-e', "require('sqlite3')"], { cwd: root, stdio: 'ignore' });
} catch {
  console.error('cutover setup: the sqlite3 module did not build; run "npm rebuild sqlite3" and read its output.');
  process.exit(1);
}
