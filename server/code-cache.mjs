// Loads a CommonJS bundle through V8's code cache, kept next to it. Compiling the copy bundle's
// JavaScript (2.8 MB) was a third of a no-op resync's time; with the cache V8 reads back the
// bytecode of every function the last run compiled (README: "How it is fast"). Plain JavaScript:
// server/bin.mjs uses it before anything is compiled.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';

/** The cache file for `file` as it is now: a rebuilt bundle never meets the bytecode of the old one. */
export function codeCachePath(file) {
  const { size, mtimeMs } = statSync(file);
  return `${file}.${size}-${Math.trunc(mtimeMs)}.v8cache`;
}

const loaded = new Map();

/** A cache file starts with the CPU seconds of the run that wrote it. */
const CPU_HEADER_BYTES = 8;

function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Requires `file` through V8's code cache. A `require("./NAME.cjs")` inside it (the bundles split
 * off it: server/setup/build.mjs) loads that sibling the same way, once per process.
 */
export function requireWithCodeCache(file) {
  if (!loaded.has(file)) loaded.set(file, compileWithCodeCache(file));
  return loaded.get(file).exports;
}

function compileWithCodeCache(file) {
  // V8 refuses a cache made under other flags, and the copy turns --expose-gc on while it runs
  // (server/mail/reclaim.ts): it is turned on before compiling, so the cache written at exit matches.
  setFlagsFromString('--expose-gc');
  // Without this a copy of a few seconds drops the bytecode of its start-up functions before exit,
  // and the cache it writes misses them: 0.83 instead of 1.7 MB, and no faster than no cache.
  setFlagsFromString('--no-flush-bytecode');
  const cacheFile = codeCachePath(file);
  let cachedData;
  let makerCpu = 0;
  try {
    const stored = readFileSync(cacheFile);
    makerCpu = stored.readDoubleLE(0);
    cachedData = stored.subarray(CPU_HEADER_BYTES);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  // Written at exit, when it holds the functions this run compiled, not only the top level. A cache
  // holds only what its run compiled: one made by `cutover copy --help` or a no-op would leave every
  // full copy compiling the copy's functions again. So a run that used more than twice the CPU of
  // the run that made the cache (it ran more code) writes it again; each rewrite doubles the bar.
  const rejected = !cachedData || script.cachedDataRejected;
  process.once('exit', () => {
    const cpu = cpuSeconds();
    if (rejected || cpu > 2 * makerCpu) writeCache(cacheFile, cpu, () => script.createCachedData());
  });
  const module = { exports: {} };
  const dir = path.dirname(file);
  const plain = createRequire(file);
  const sibling = (id) => (/^\.\/[\w-]+\.cjs$/.test(id) ? requireWithCodeCache(path.join(dir, id)) : plain(id));
  // Before running: the module may require a sibling that requires it back.
  loaded.set(file, module);
  script.runInThisContext()(module.exports, Object.assign(sibling, { resolve: plain.resolve, cache: plain.cache }), module, file, dir);
  return module;
}

// Copies run in parallel, one per mailbox: each writes its own file and renames it into place. An
// install the user cannot write to simply runs without a cache.
function writeCache(cacheFile, cpu, make) {
  const partial = `${cacheFile}.${process.pid}`;
  try {
    const header = Buffer.alloc(CPU_HEADER_BYTES);
    header.writeDoubleLE(cpu, 0);
    writeFileSync(partial, Buffer.concat([header, make()]));
    renameSync(partial, cacheFile);
  } catch {
    // no cache this time
  }
}
