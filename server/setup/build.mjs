#!/usr/bin/env node
// Compiles server/ and plugins/ to dist/ and stamps the build; server/bin.mjs uses it only while
// the stamp is newer than every source file. Plain JavaScript: it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const started = Date.now();
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  // The sources still run through tsx; only startup is slower.
  console.error('cutover build: tsc failed; the CLI will run the TypeScript sources directly');
  process.exit(0);
}
mkdirSync(path.join(root, 'dist'), { recursive: true });
// The stamp takes the build's start time, so a source saved during the build counts as newer.
writeFileSync(path.join(root, 'dist', '.build-stamp'), '');
const stampTime = new Date(started);
(await import('node:fs')).utimesSync(path.join(root, 'dist', '.build-stamp'), stampTime, stampTime);
