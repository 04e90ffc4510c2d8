#!/usr/bin/env -S node --max-semi-space-size=4 --initial-old-space-size=64
// The small young generation keeps a copy's peak RSS flat: with V8's default (16 MB semi-spaces) it
// rose from ~160 to ~200 MB between a 439 MB and a 2 GB mailbox, for no gain in speed (npm run bench).
// The old generation starts at 64 MB: left to V8, it is sized from the few MB a copy keeps alive,
// and every few MB of promoted message bookkeeping started a full marking of the heap. A full copy
// of the bench corpus took 2.4 s of CPU without it, 1.6 s with it, for 20-30 MB more peak RSS.
// Runs the compiled build (dist/, made by `npm run build`, `npm ci` and the setup script) when it is
// newer than every source file, and the TypeScript sources through tsx otherwise, so an edit is
// never shadowed by a stale build and `npx cutover` works right after `npm ci`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = path.join(root, 'dist', '.build-stamp');

// Walked on every run: plain concatenation (path.join's normalising took 4 of the walk's 9 ms).
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

const built = existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(newestSource(path.join(root, 'server')), newestSource(path.join(root, 'plugins')));
// `cutover status | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

// A one-shot copy starts from its bundle and V8's code cache (server/setup/build.mjs, server/code-cache.mjs).
const copyBundle = path.join(root, 'dist', 'copy', 'copy.cjs');
let main;
if (built && process.argv[2] === 'copy' && existsSync(copyBundle)) {
  // No TurboFan in a one-shot copy: its few seconds never paid back the compiles. A full copy of
  // 1,536 messages made 93 compiles, 0.43 s on the compile threads (writeAppend 34 ms, twice: the
  // GCs that large bodies cause throw optimised code away); on the bench corpus the copy used 25 %
  // more CPU with them, for no gain in time (README: "No TurboFan"). Set before the bundle is
  // compiled, so the code cache matches.
  (await import('node:v8')).setFlagsFromString('--no-opt');
  ({ main } = (await import('./code-cache.mjs')).requireWithCodeCache(copyBundle));
} else if (built) {
  ({ main } = await import('../dist/server/cli.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
