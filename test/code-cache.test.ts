import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const loader = fileURLToPath(new URL('../server/code-cache.mjs', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-code-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Each load is a new process, as each `cutover copy` is.
function load(bundle: string, env: NodeJS.ProcessEnv = {}): string {
  const script = `const { requireWithCodeCache } = await import(${JSON.stringify(loader)}); const m = requireWithCodeCache(${JSON.stringify(bundle)}); console.log(m.answer());`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

const caches = () => readdirSync(dir).filter((name) => name.endsWith('.v8cache'));

test('the first run writes the code cache, the next ones use it as it is', () => {
  const bundle = path.join(dir, 'bundle.cjs');
  writeFileSync(bundle, `const path = require('node:path');\nexports.answer = () => path.basename(__filename) + ':' + [1, 2, 3].map((n) => n * 14).join(',');\n`);
  assert.equal(load(bundle), 'bundle.cjs:14,28,42');
  assert.equal(caches().length, 1);
  const cache = path.join(dir, caches()[0]!);
  const written = statSync(cache);
  assert.ok(written.size > 0);
  for (let i = 0; i < 2; i++) assert.equal(load(bundle), 'bundle.cjs:14,28,42');
  // Rewritten only when V8 refuses it: the same inode and time mean V8 took it.
  const reused = statSync(cache);
  assert.equal(reused.ino, written.ino);
  assert.equal(reused.mtimeMs, written.mtimeMs);
});

test('a cache made by a light run is written again by a run that used more than twice its CPU, and only then', () => {
  const bundle = path.join(dir, 'grows.cjs');
  // BUSY_MS: the run spends that much CPU in a function the light run never compiled.
  writeFileSync(bundle, 'exports.answer = () => { const ms = Number(process.env.BUSY_MS ?? 0); if (ms) { const spin = () => { const end = process.cpuUsage().user + ms * 1000; let n = 0; while (process.cpuUsage().user < end) n++; return n > 0; }; spin(); } return "ok"; };\n');
  const cacheOf = () => path.join(dir, caches().find((name) => name.startsWith('grows.cjs.'))!);
  const makerCpu = () => readFileSync(cacheOf()).readDoubleLE(0);
  assert.equal(load(bundle), 'ok');
  const light = statSync(cacheOf());
  const lightCpu = makerCpu();
  assert.ok(lightCpu > 0 && lightCpu < 1, `the light run's CPU: ${lightCpu} s`);
  const busyMs = Math.ceil(Math.max(0.4, 3 * lightCpu) * 1000);
  assert.equal(load(bundle, { BUSY_MS: String(busyMs) }), 'ok');
  const heavy = statSync(cacheOf());
  assert.notEqual(heavy.mtimeMs, light.mtimeMs, 'the heavier run wrote the cache again');
  assert.ok(makerCpu() >= busyMs / 1000, `the cache names its maker's CPU: ${makerCpu()} s`);
  // A run like the one that made it keeps it: no write at every exit.
  assert.equal(load(bundle, { BUSY_MS: String(busyMs) }), 'ok');
  assert.equal(statSync(cacheOf()).mtimeMs, heavy.mtimeMs);
});

test('a rebuilt bundle gets a cache of its own, never the old bytecode', () => {
  const bundle = path.join(dir, 'rebuilt.cjs');
  writeFileSync(bundle, 'exports.answer = () => "old";\n');
  assert.equal(load(bundle), 'old');
  writeFileSync(bundle, 'exports.answer = () => "new";\n');
  assert.equal(load(bundle), 'new');
  assert.equal(caches().filter((name) => name.startsWith('rebuilt.cjs.')).length, 2);
});

test('a cache that cannot be written is no error', () => {
  const readOnly = path.join(dir, 'ro');
  mkdirSync(readOnly);
  const bundle = path.join(readOnly, 'bundle.cjs');
  writeFileSync(bundle, 'exports.answer = () => "fine";\n');
  chmodSync(dir, 0o755);
  chmodSync(readOnly, 0o555);
  // The checkout itself may sit where nobody cannot read (a private temp dir): the loader goes along.
  const readableLoader = path.join(dir, 'code-cache.mjs');
  copyFileSync(loader, readableLoader);
  try {
    const script = `const { requireWithCodeCache } = await import(${JSON.stringify(readableLoader)}); console.log(requireWithCodeCache(${JSON.stringify(bundle)}).answer());`;
    // root writes anywhere: drop to nobody so the directory really is read-only for the loader.
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}) });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'fine');
    assert.deepEqual(readdirSync(readOnly), ['bundle.cjs']);
  } finally {
    chmodSync(readOnly, 0o755);
  }
});

test('a sibling bundle required as "./NAME.cjs" loads through the code cache too, once per process', () => {
  const sub = path.join(dir, 'split');
  mkdirSync(sub);
  writeFileSync(path.join(sub, 'lib.cjs'), 'globalThis.libLoads = (globalThis.libLoads ?? 0) + 1;\nexports.twice = (n) => n * 2;\n');
  const bundle = path.join(sub, 'main.cjs');
  writeFileSync(bundle, 'exports.answer = () => { const a = require("./lib.cjs"); const b = require("./lib.cjs"); return [a === b, a.twice(21), globalThis.libLoads, require("node:path").sep].join(" "); };\n');
  assert.equal(load(bundle), 'true 42 1 /');
  assert.deepEqual(readdirSync(sub).filter((name) => name.endsWith('.v8cache')).map((name) => name.split('.cjs.')[0]).sort(), ['lib', 'main']);
  assert.equal(load(bundle), 'true 42 1 /');
});
