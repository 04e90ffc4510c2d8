// Client CPU of a full copy, cutover against mbsync, in the same run (issue #13 part 2):
//
//   node --import tsx test/bench/cpu.ts            # as root; the bench corpus (5,099 messages, 439 MB)
//
// Between the two Dovecot instances of `npm run bench` (test/bench/pair.ts) each tool copies the
// whole corpus to an empty destination; its user+sys CPU comes from GNU time -v, its wall time
// from the clock. cutover's copy is verified strictly against the source (test/bench/verify.ts).
// With CPU_PROFILE=DIR one more cutover copy runs under `node --cpu-prof` (not counted in the
// ratio: the profiler costs CPU too) and its top self-time entries are printed
// (test/bench/cpu-profile.ts). The last line is one JSON object with `client_cpu_ratio_vs_mbsync`.
//
// Environment: CPU_BENCH_COUNT (5000), CPU_BENCH_REPS (1; medians), CPU_PROFILE (a directory),
// CPU_PROFILE_FLAGS (more Node flags for the profiled run), CPU_BENCH_TOOLS (mbsync,cutover),
// BENCH_CUTOVER_BIN (server/bin.mjs; another checkout's, for before/after figures).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus } from './corpus.ts';
import { topSelfTime, formatTop } from './cpu-profile.ts';
import { startPair, VMAIL_ID, type BenchPair } from './pair.ts';
import { compareStores, readStore } from './verify.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CUTOVER_BIN = process.env.BENCH_CUTOVER_BIN ? path.resolve(process.env.BENCH_CUTOVER_BIN) : path.join(ROOT, 'server', 'bin.mjs');
const COUNT = Number(process.env.CPU_BENCH_COUNT ?? 5000);
const REPS = Math.max(1, Number(process.env.CPU_BENCH_REPS ?? 1));
const TOOLS = (process.env.CPU_BENCH_TOOLS ?? 'mbsync,cutover').split(',');
const PROFILE_DIR = process.env.CPU_PROFILE ? path.resolve(process.env.CPU_PROFILE) : undefined;

interface Run { wall: number; cpu: number; rssMb: number; code: number | null; stderr: string }

async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdoutFile?: string): Promise<Run> {
  const timeFile = path.join(os.tmpdir(), `cutover-cpu-${process.pid}-${Date.now()}.time`);
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, cmd, ...args], { cwd: ROOT, env, stdio: ['ignore', stdoutFile ? fs.openSync(stdoutFile, 'w') : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-8192); });
  const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('close', resolve); });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const t = fs.readFileSync(timeFile, 'utf8');
  fs.rmSync(timeFile, { force: true });
  const num = (re: RegExp) => Number(t.match(re)?.[1] ?? NaN);
  return { wall, cpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/), rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, code, stderr };
}

function mbsyncCommand(pair: BenchPair, dir: string): string[] {
  fs.mkdirSync(path.join(dir, 'syncstate'), { recursive: true });
  const account = (name: string, port: number) => `IMAPAccount ${name}\nHost 127.0.0.1\nPort ${port}\nUser ${pair.user}\nPass ${pair.password}\nSSLType None\nAuthMechs LOGIN\n`;
  const rc = path.join(dir, 'mbsyncrc');
  fs.writeFileSync(rc, `${account('src', pair.src.port)}\n${account('dst', pair.dst.port)}\nIMAPStore src-store\nAccount src\n\nIMAPStore dst-store\nAccount dst\n\n`
    + `Channel bench\nFar :src-store:\nNear :dst-store:\nPatterns *\nCreate Near\nSync Pull\nExpunge None\nRemove None\nCopyArrivalDate yes\nSyncState ${dir}/syncstate/\n`, { mode: 0o600 });
  return ['/usr/bin/mbsync', '-q', '-c', rc, 'bench'];
}

function cutoverArgs(pair: BenchPair, dir: string): string[] {
  return ['copy', '--source', `imap://${pair.user}@127.0.0.1:${pair.src.port}`, '--source-password-file', pair.passwordFile,
    '--dest', `imap://${pair.user}@127.0.0.1:${pair.dst.port}`, '--dest-password-file', pair.passwordFile, '--state', path.join(dir, 'copy.state'), '--json'];
}

/** The Node flags on the bin's `#!/usr/bin/env -S node …` line: the profiled run, started through node, gets them too. */
function shebangFlags(bin: string): string[] {
  const first = fs.readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  return first.startsWith('#!') ? first.split(/\s+/).filter((word) => word.startsWith('--')) : [];
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = Math.floor(s.length / 2); return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) { console.error('cpu bench: run it as root (Dovecot mail belongs to uid 65534)'); return 1; }
  const pair = await startPair();
  let failed = false;
  try {
    await pair.replaceSrc((maildir) => { generateCorpus({ maildir, count: COUNT, owner: { uid: VMAIL_ID, gid: VMAIL_ID } }); });
    await pair.indexSrc();
    await pair.snapshotSrc();
    const expected = await readStore(pair.src.conf, pair.user);
    console.log(`corpus: ${expected.messages} messages in ${expected.folders.size} folders; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const runs: Record<'cutover' | 'mbsync', Run[]> = { cutover: [], mbsync: [] };
    if (TOOLS.includes('cutover')) {
      // Unmeasured: the copy that leaves V8's code cache as every later copy finds it (server/code-cache.mjs).
      const dir = fs.mkdtempSync(path.join(pair.dir, 'warm-up-'));
      await pair.resetDst();
      const warm = await timed(CUTOVER_BIN, cutoverArgs(pair, dir), { ...process.env, CUTOVER_DATA_DIR: dir });
      console.log(`warm-up cutover copy (not counted): wall ${warm.wall.toFixed(2)} s, CPU ${warm.cpu.toFixed(2)} s${warm.code ? `, exit ${warm.code}` : ''}`);
    }
    for (let rep = 1; rep <= REPS; rep++) {
      for (const tool of rep % 2 ? ['mbsync', 'cutover'] as const : ['cutover', 'mbsync'] as const) {
        if (!TOOLS.includes(tool)) continue;
        const dir = fs.mkdtempSync(path.join(pair.dir, `${tool}-`));
        await pair.restoreSrc();
        await pair.resetDst();
        await pair.quiesce();
        const [cmd, ...args] = tool === 'mbsync' ? mbsyncCommand(pair, dir) : [CUTOVER_BIN, ...cutoverArgs(pair, dir)];
        const r = await timed(cmd!, args, { ...process.env, CUTOVER_DATA_DIR: dir });
        let verdict = '';
        if (tool === 'cutover') {
          const check = compareStores(expected, await readStore(pair.dst.conf, pair.user), 'strict');
          verdict = `, verify ${check.summary}`;
          if (!check.ok) failed = true;
        }
        if (r.code !== 0) { failed = true; verdict += `, exit ${r.code}:\n${r.stderr.trim().split('\n').slice(-25).join('\n')}`; }
        runs[tool].push(r);
        console.log(`[rep ${rep}] ${tool.padEnd(7)} wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s (user+sys), peak RSS ${r.rssMb.toFixed(0)} MB${verdict}`);
      }
    }
    if (PROFILE_DIR) {
      fs.mkdirSync(PROFILE_DIR, { recursive: true });
      const dir = fs.mkdtempSync(path.join(pair.dir, 'profiled-'));
      await pair.restoreSrc();
      await pair.resetDst();
      await pair.quiesce();
      const before = new Set(fs.readdirSync(PROFILE_DIR));
      // CPU_PROFILE_FLAGS adds Node flags (e.g. --trace-gc); the copy's stdout is kept next to the profile.
      const flags = (process.env.CPU_PROFILE_FLAGS ?? '').split(' ').filter(Boolean);
      const r = await timed(process.execPath, [...shebangFlags(CUTOVER_BIN), ...flags, '--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, CUTOVER_BIN, ...cutoverArgs(pair, dir)], { ...process.env, CUTOVER_DATA_DIR: dir }, path.join(PROFILE_DIR, 'stdout.txt'));
      const file = fs.readdirSync(PROFILE_DIR).find((f) => !before.has(f) && f.endsWith('.cpuprofile'));
      console.log(`profiled cutover copy: wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s, profile ${file ? path.join(PROFILE_DIR, file) : 'missing'}`);
      if (file) console.log(formatTop(topSelfTime(JSON.parse(fs.readFileSync(path.join(PROFILE_DIR, file), 'utf8')), 10)));
    }
    const cpu = { cutover: median(runs.cutover.map((r) => r.cpu)), mbsync: median(runs.mbsync.map((r) => r.cpu)) };
    const wall = { cutover: median(runs.cutover.map((r) => r.wall)), mbsync: median(runs.mbsync.map((r) => r.wall)) };
    console.log(JSON.stringify({
      messages: expected.messages, reps: REPS, cutover_cpu_seconds: Number(cpu.cutover.toFixed(2)), mbsync_cpu_seconds: Number(cpu.mbsync.toFixed(2)),
      client_cpu_ratio_vs_mbsync: Number((cpu.cutover / cpu.mbsync).toFixed(2)), cutover_full_seconds: Number(wall.cutover.toFixed(2)), mbsync_full_seconds: Number(wall.mbsync.toFixed(2)),
      full_ratio_vs_mbsync: Number((wall.cutover / wall.mbsync).toFixed(2)), verified: !failed,
    }));
  } finally {
    await pair.stop();
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
