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
await bundleCopyCommand();
// The stamp takes the build's start time, so a source saved during the build counts as newer.
writeFileSync(path.join(root, 'dist', '.build-stamp'), '');
const stampTime = new Date(started);
(await import('node:fs')).utimesSync(path.join(root, 'dist', '.build-stamp'), stampTime, stampTime);

/**
 * The one-shot `cutover copy` also gets a bundle, one CommonJS file (dist/copy/copy.cjs): scripts run
 * it once per mailbox, and resolving and compiling the ~600 modules of the plain build took longer
 * than copying a small delta. CommonJS because server/code-cache.mjs compiles it with V8's code
 * cache, which Node 20 offers for scripts only. Native modules and the database drivers knex never
 * loads here stay outside. Without the bundle, bin.mjs runs the copy from the plain build.
 */
async function bundleCopyCommand() {
  try {
    const { build } = await import('esbuild');
    const common = {
      bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'silent',
      // A script compiled by server/code-cache.mjs has no import(): lazy imports become lazy requires.
      supported: { 'dynamic-import': false },
      external: ['sqlite3', 'pg', 'pg-query-stream', 'mysql', 'mysql2', 'mariadb', 'mariadb/*', 'mssql', 'oracledb', 'tedious', 'better-sqlite3', '@node-rs/*', 'playwright-core', 'tsx', 'tsx/*'],
    };
    // Packages only some copies load (imapflow: Courier, the verify step; zod: OAuth2, groupware) get a
    // bundle of their own beside it, loaded when first required: every copy reads, hashes and scans
    // the main bundle, and at 3.9 MB that was a fifth of a no-op resync.
    const SPLIT_OFF = ['imapflow', 'zod'];
    const split = {
      name: 'split-off',
      setup(b) { b.onResolve({ filter: new RegExp(`^(${SPLIT_OFF.join('|')})$`) }, (args) => ({ path: `./${args.path}.cjs`, external: true })); },
    };
    const results = await Promise.all([
      build({ ...common, entryPoints: [path.join(root, 'server/cli/copy-main.ts')], outfile: path.join(root, 'dist/copy/copy.cjs'), plugins: [split] }),
      ...SPLIT_OFF.map((name) => build({ ...common, stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root }, outfile: path.join(root, `dist/copy/${name}.cjs`) })),
    ]);
    // import.meta is empty in CommonJS: code that needs it must not end up in these bundles.
    const lost = results.flatMap((result) => result.warnings.filter((w) => /import\.meta/.test(w.text)));
    if (lost.length) throw new Error(`import.meta used in ${lost.map((w) => w.location?.file).join(', ')}`);
  } catch (err) {
    rmSync(path.join(root, 'dist/copy'), { recursive: true, force: true });
    console.error(`cutover build: no bundle for cutover copy (${err.message.split('\n')[0]}); it runs from the plain build`);
  }
}
