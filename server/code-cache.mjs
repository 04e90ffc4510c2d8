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
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  // Written at exit, when it holds the functions this run compiled, not only the top level.
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => writeCache(cacheFile, () => script.createCachedData()));
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
function writeCache(cacheFile, make) {
  const partial = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(partial, make());
    renameSync(partial, cacheFile);
  } catch {
    // no cache this time
  }
}
