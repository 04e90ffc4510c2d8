import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

/** The checkout's root (where package.json is), from the sources or from their compiled copy in dist/. */
export const projectRoot = (() => {
  let dir = path.dirname(here);
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cutover: package.json not found above ' + here);
    dir = parent;
  }
  return dir;
})();

/** `.ts` when running the sources through tsx, `.js` when running the build. */
export const moduleExtension = path.extname(here);

/**
 * The data directory holds the admins' password hashes, the sealed credentials' key and the
 * per-message ledger: only its owner may enter it. Created 0700 (every level it creates), and
 * narrowed at start when an older install or an operator left it wider.
 */
export function ensurePrivateDir(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode goes through the umask; the directory we asked for must be exactly 0700.
  if (created !== undefined) {
    for (let level = dir; level.length >= created.length; level = path.dirname(level)) chmodSync(level, 0o700);
  }
  narrowMode(dir, 0o700);
}

/**
 * A file only its owner reads: created empty with `mode` if missing (so a library that opens it
 * later inherits it, as SQLite does for its -wal and -shm files), narrowed if it exists wider.
 */
export function ensurePrivateFile(file: string, mode = 0o600): void {
  closeSync(openSync(file, 'a', mode));
  narrowMode(file, mode);
}

/** Removes any permission bit beyond `mode`; a missing file is fine (it may come later). */
export function narrowMode(file: string, mode: number): void {
  let current: number;
  try { current = statSync(file).mode & 0o777; } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((current & ~mode) !== 0) chmodSync(file, current & mode);
}
