// `npm run bench`: cutover's copy engine against mbsync (Debian isync) on the same generated
// corpus, between the same two local Dovecot instances, in the same run. For each tool and rep:
// pristine source, empty destination, fresh tool state, then
//   full   the first copy
//   noop   the same command again, nothing new
//   +100   100 new messages on the source (the same ones for every tool), the same command again
//   flags  500 flag changes on the source (\Flagged toggled on the same 500 messages), again
// Each step is timed (wall clock; peak RSS and CPU from GNU time -v; the Dovecot masters' CPU
// from /proc) and followed by a verification of the destination against the source
// (test/bench/verify.ts: strict for cutover, by identity for mbsync). Then cutover alone copies a
// 4× corpus to show its memory does not grow with the mailbox. Prints a table and, as the last
// line, one JSON object; exits 1 when a verification failed or cutover could not run.
//
// The same steps then run again with every tool reaching both servers through a delay proxy
// (test/bench/delay-proxy.ts: each chunk held for half the RTT each way, in order) at 25 and
// 80 ms RTT: the WAN mode. Dovecot's own `doveadm backup` pulling over imapc (dsync) is a third
// peer ("dsync"), timed through the same steps.
//
// Environment: BENCH_REPS (1; medians over reps), BENCH_SCALE4 (1; 0 skips the 4× corpus),
// BENCH_COUNT (5000 planned messages; 5,099 stored; a smaller one for a quick run),
// BENCH_TOOLS (cutover,mbsync,dsync), BENCH_WAN (25,80: the RTTs in ms; 0 runs loopback only),
// BENCH_TIMEOUT (900 s per tool run), BENCH_KEEP=1 (keep the temp dir: logs, configs, outputs),
// BENCH_CUTOVER_BIN (server/bin.mjs; another checkout's, for before/after figures).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus, type CorpusStats } from './corpus.ts';
import { startDelayProxy, type DelayProxy } from './delay-proxy.ts';
import { DOVEADM_BIN, startPair, ticksPerSecond, VMAIL_ID, type BenchPair } from './pair.ts';
import { compareStores, readFlags, readStore, sourceChanges, type StoreSnapshot, type VerifyMode, type VerifyResult } from './verify.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CUTOVER_BIN = process.env.BENCH_CUTOVER_BIN ? path.resolve(process.env.BENCH_CUTOVER_BIN) : path.join(ROOT, 'server', 'bin.mjs');
const GNU_TIME = '/usr/bin/time';
const MBSYNC = '/usr/bin/mbsync';
const RSS_LIMIT_MB = 200;
const OWNER = { uid: VMAIL_ID, gid: VMAIL_ID };

type ToolName = 'cutover' | 'mbsync' | 'dsync';
type Phase = 'full' | 'noop' | 'inc100' | 'flags500';
const PHASES: Phase[] = ['full', 'noop', 'inc100', 'flags500'];
const PHASE_LABEL: Record<Phase, string> = { full: 'full', noop: 'noop', inc100: '+100', flags500: 'flags' };
const FLAG_CHANGES = 500;
const TOOL_NAMES: ToolName[] = ['cutover', 'mbsync', 'dsync'];

/** Where the tools reach the servers: directly (loopback) or through delay proxies. */
interface Net { name: string; label: string; rttMs: number; src: number; dst: number }

function envInt(name: string, def: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench: ${name} must be an integer ≥ ${min}, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const REPS = envInt('BENCH_REPS', 1, 1);
const SCALE4 = envInt('BENCH_SCALE4', 1) !== 0;
const COUNT = envInt('BENCH_COUNT', 5000, 50);
const TIMEOUT_S = envInt('BENCH_TIMEOUT', 900, 10);
const KEEP = process.env.BENCH_KEEP === '1';
const TOOLS: ToolName[] = (process.env.BENCH_TOOLS ?? TOOL_NAMES.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => {
    if (!(TOOL_NAMES as string[]).includes(s)) {
      console.error(`bench: BENCH_TOOLS: unknown tool "${s}" (${TOOL_NAMES.join(', ')})`);
      process.exit(2);
    }
    return s as ToolName;
  });
const WAN_RTTS: number[] = (process.env.BENCH_WAN ?? '25,80')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '' && s !== '0')
  .map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      console.error(`bench: BENCH_WAN: "${s}" is not a round-trip time in ms (1–1000)`);
      process.exit(2);
    }
    return n;
  });

interface RunResult {
  tool: ToolName;
  net: string;
  phase: Phase;
  rep: number;
  wall: number;
  rssMb: number;
  toolCpu: number;
  srcCpu: number;
  dstCpu: number;
  /** CPU seconds the rest of the machine used meanwhile (other processes, steal): noise. */
  otherCpu: number;
  /** CPU seconds of the bench process itself meanwhile: the delay proxies, in WAN mode. */
  proxyCpu: number;
  /** Set when the run itself failed (exit status, timeout, no report). */
  error?: string;
  /** cutover's --json report. */
  report?: Record<string, unknown>;
  warnings: string[];
  verify?: VerifyResult;
  srcChanges?: { changed: number; missing: number; extra: number };
}

class Unavailable extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const fmt = (n: number | undefined, digits = 2) => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (n: number, digits: number) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null);
const log = (line: string) => console.log(line);

// ---------- prerequisites ----------

function ensureDebianPackages(wanted: { pkg: string; bin: string }[]): void {
  const missing = wanted.filter((w) => !fs.existsSync(w.bin));
  if (missing.length === 0) return;
  const pkgs = missing.map((m) => m.pkg);
  const hint = `install them with: sudo apt-get install -y ${pkgs.join(' ')}`;
  if (!fs.existsSync('/usr/bin/apt-get')) {
    console.error(`bench: missing ${missing.map((m) => `${m.bin} (Debian package ${m.pkg})`).join(', ')}; this is not a Debian/Ubuntu system, install the equivalents yourself.`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.error(`bench: missing Debian packages: ${pkgs.join(' ')}\n  ${hint}`);
    process.exit(1);
  }
  console.error(`bench: installing ${pkgs.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...pkgs]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`bench: "apt-get ${args.join(' ')}" failed (exit ${r.status ?? r.signal}); ${hint}`);
      process.exit(1);
    }
  }
  const still = missing.filter((w) => !fs.existsSync(w.bin));
  if (still.length) {
    console.error(`bench: ${still.map((m) => m.bin).join(', ')} still missing after apt-get install`);
    process.exit(1);
  }
}

function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '?';
}

/** `cutover copy` exists once the CLI stops answering 'unknown command "copy"'. */
function probeCutover(dataDir: string): { available: boolean; detail: string } {
  const r = spawnSync(process.execPath, [CUTOVER_BIN, 'copy'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CUTOVER_DATA_DIR: dataDir } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (/unknown command "?copy"?/i.test(out)) return { available: false, detail: 'cutover copy not available (server/bin.mjs answers: unknown command "copy")' };
  // a CLI that does not even load (another change in progress) cannot be timed either
  const crash = out.match(/^\s*((?:SyntaxError|TypeError|ReferenceError|TransformError|Error \[ERR_[A-Z_]+\]|Error: Cannot find (?:module|package))\b.*)$/m);
  if (crash) return { available: false, detail: `cutover copy not available: server/bin.mjs does not load (${(crash[1] ?? '').trim().slice(0, 200)})` };
  return { available: true, detail: out.trim().split('\n').slice(-1)[0] ?? '' };
}

// ---------- tools ----------

interface Tool {
  name: ToolName;
  mode: VerifyMode;
  /** Fresh state for a rep, reaching the servers as `net` says; returns the command to run for every phase. */
  setup(stateDir: string, net: Net): { cmd: string; args: string[]; env: NodeJS.ProcessEnv };
}

function mbsyncTool(pair: BenchPair): Tool {
  return {
    name: 'mbsync',
    mode: 'identity',
    setup(stateDir, net) {
      const syncState = path.join(stateDir, 'syncstate');
      fs.mkdirSync(syncState, { recursive: true });
      const account = (name: string, port: number) =>
        `IMAPAccount ${name}\nHost 127.0.0.1\nPort ${port}\nUser ${pair.user}\nPass ${pair.password}\nSSLType None\nAuthMechs LOGIN\n`;
      const rc = path.join(stateDir, 'mbsyncrc');
      fs.writeFileSync(
        rc,
        `${account('src', net.src)}\n${account('dst', net.dst)}\n` +
          `IMAPStore src-store\nAccount src\n\nIMAPStore dst-store\nAccount dst\n\n` +
          `Channel bench\nFar :src-store:\nNear :dst-store:\nPatterns *\nCreate Near\nSync Pull\nExpunge None\nRemove None\n` +
          `CopyArrivalDate yes\nSyncState ${syncState}/\n`,
        { mode: 0o600 },
      );
      return { cmd: MBSYNC, args: ['-q', '-c', rc, 'bench'], env: process.env };
    },
  };
}

function cutoverTool(pair: BenchPair): Tool {
  return {
    name: 'cutover',
    mode: 'strict',
    setup(stateDir, net) {
      const dataDir = path.join(stateDir, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      return {
        // Run as users run it (`npx cutover` executes the file): its #! line carries Node's flags.
        cmd: CUTOVER_BIN,
        args: [
          'copy',
          '--source', `imap://${pair.user}@127.0.0.1:${net.src}`, '--source-password-file', pair.passwordFile,
          '--dest', `imap://${pair.user}@127.0.0.1:${net.dst}`, '--dest-password-file', pair.passwordFile,
          '--state', path.join(stateDir, 'copy.state'),
          '--json',
        ],
        // keeps the copy away from ./data
        env: { ...process.env, CUTOVER_DATA_DIR: dataDir },
      };
    },
  };
}

/**
 * Dovecot's own migration path: `doveadm backup -R` run for the destination user, pulling the
 * source over IMAP (imapc), as Dovecot's documentation migrates a mailbox. The imapc settings
 * (password included) go in a config file that includes the destination's, not on the command
 * line. It talks to the source over the network and writes the destination's store directly, so
 * only the source side goes through the delay proxy (mbsync and cutover cross it twice).
 */
function dsyncTool(pair: BenchPair): Tool {
  return {
    name: 'dsync',
    mode: 'identity',
    setup(stateDir, net) {
      const conf = path.join(stateDir, 'dsync.conf');
      fs.writeFileSync(
        conf,
        `!include ${pair.dst.conf}\n` +
          `imapc_host = 127.0.0.1\nimapc_port = ${net.src}\nimapc_user = ${pair.user}\nimapc_password = ${pair.password}\nimapc_ssl = no\n` +
          // what Dovecot's migration guide sets for a Dovecot source: sizes and headers from FETCH, modseqs for the next run
          `imapc_features = rfc822.size fetch-headers modseq\nmail_prefetch_count = 20\n`,
        { mode: 0o600 },
      );
      return { cmd: DOVEADM_BIN, args: ['-c', conf, 'backup', '-R', '-u', pair.user, 'imapc:'], env: process.env };
    },
  };
}

// ---------- timing ----------

let runningChild: number | undefined; // process group of the tool being timed

/** Busy CPU seconds of the whole machine so far (all CPUs, steal included), from /proc/stat. */
function machineBusySeconds(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal (guest time is already counted in user)
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (f[i] ?? 0), 0);
  return busy / ticksPerSecond();
}

interface Timed {
  wall: number;
  busy: number;
  /** CPU of this process (the delay proxies) during the run. */
  selfCpu: number;
  rssMb: number;
  toolCpu: number;
  srcCpu: number;
  dstCpu: number;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

async function timedRun(pair: BenchPair, c: { cmd: string; args: string[]; env: NodeJS.ProcessEnv }, outBase: string): Promise<Timed> {
  spawnSync('sync'); // dirty pages from resets and corpus additions must not land in the timing
  await sleep(300);
  await pair.quiesce();
  const s0 = pair.cpuSeconds('src');
  const d0 = pair.cpuSeconds('dst');
  const b0 = machineBusySeconds();
  const c0 = process.cpuUsage();
  const timeFile = `${outBase}.time`;
  const t0 = process.hrtime.bigint();
  const child = spawn(GNU_TIME, ['-v', '-o', timeFile, c.cmd, ...c.args], { cwd: ROOT, env: c.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  runningChild = child.pid;
  const out: Buffer[] = [];
  let outLen = 0;
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    if (outLen < 64 << 20) out.push(b);
    outLen += b.length;
  });
  child.stderr.on('data', (b: Buffer) => {
    err = (err + b.toString('utf8')).slice(-64 * 1024);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the group started here: time and the tool
      } catch {
        /* already gone */
      }
    }
  }, TIMEOUT_S * 1000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (cd, sg) => resolve([cd, sg]));
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const busy = machineBusySeconds() - b0;
  const c1 = process.cpuUsage(c0);
  clearTimeout(timer);
  runningChild = undefined;
  await pair.quiesce(); // let the masters reap their imap processes, whose CPU they then account for
  const s1 = pair.cpuSeconds('src');
  const d1 = pair.cpuSeconds('dst');
  const stdout = Buffer.concat(out).toString('utf8');
  fs.writeFileSync(`${outBase}.out`, stdout);
  fs.writeFileSync(`${outBase}.err`, err);
  const t = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, 'utf8') : '';
  const num = (re: RegExp) => Number(t.match(re)?.[1] ?? NaN);
  return {
    wall,
    busy,
    selfCpu: (c1.user + c1.system) / 1e6,
    rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
    toolCpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
    srcCpu: s1 - s0,
    dstCpu: d1 - d0,
    code,
    signal,
    timedOut,
    stdout,
    stderr: err,
  };
}

function parseReport(stdout: string): Record<string, unknown> | undefined {
  const text = stdout.trim();
  const candidates = [text, text.split('\n').filter((l) => l.trim().startsWith('{')).slice(-1)[0] ?? '', text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)];
  for (const c of candidates) {
    try {
      const v: unknown = JSON.parse(c);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const tailLines = (s: string, n = 8) => s.trim().split('\n').slice(-n).join('\n    ');

async function runPhase(pair: BenchPair, tool: Tool, command: ReturnType<Tool['setup']>, net: string, phase: Phase, rep: number, stateDir: string, expectedCopied: number): Promise<RunResult> {
  const t = await timedRun(pair, command, path.join(stateDir, phase));
  const r: RunResult = {
    tool: tool.name, net, phase, rep, wall: t.wall, rssMb: t.rssMb, toolCpu: t.toolCpu, srcCpu: t.srcCpu, dstCpu: t.dstCpu,
    otherCpu: Math.max(0, t.busy - t.toolCpu - t.srcCpu - t.dstCpu - t.selfCpu), proxyCpu: t.selfCpu, warnings: [],
  };
  if (tool.name === 'cutover' && t.code === 2 && /unknown command "?copy"?/i.test(t.stderr + t.stdout)) throw new Unavailable('cutover copy not available (server/bin.mjs answers: unknown command "copy")');
  if (t.timedOut) r.error = `killed after ${TIMEOUT_S} s (BENCH_TIMEOUT)`;
  else if (t.code !== 0) r.error = `exited with ${t.code ?? t.signal}; stderr:\n    ${tailLines(t.stderr) || '(empty)'}`;
  if (tool.name === 'cutover' && !r.error) {
    r.report = parseReport(t.stdout);
    if (!r.report) r.error = `no JSON report on stdout (--json); stdout ends with:\n    ${tailLines(t.stdout) || '(empty)'}`;
    else {
      const missingFields = ['copied', 'bytes', 'skipped', 'failed', 'seconds'].filter((f) => !(f in (r.report as object)));
      if (missingFields.length) r.warnings.push(`report lacks ${missingFields.join(', ')}`);
      if (typeof r.report.copied === 'number' && r.report.copied !== expectedCopied) r.warnings.push(`report says copied ${r.report.copied}, expected ${expectedCopied}`);
      if (typeof r.report.failed === 'number' && r.report.failed !== 0) r.warnings.push(`report says failed ${r.report.failed}`);
    }
  }
  return r;
}

function describe(r: RunResult): string {
  const head = `[rep ${r.rep}] ${r.net.padEnd(5)} ${r.tool.padEnd(7)} ${PHASE_LABEL[r.phase].padEnd(5)}`;
  if (r.error) return `${head} FAILED: ${r.error}`;
  const rep = r.report ? ` | report: copied ${String(r.report.copied)}, bytes ${String(r.report.bytes)}, skipped ${String(r.report.skipped)}, failed ${String(r.report.failed)}, ${String(r.report.seconds)} s` : '';
  const src = r.srcChanges && (r.srcChanges.changed || r.srcChanges.missing || r.srcChanges.extra) ? ` | SOURCE CHANGED: flags ${r.srcChanges.changed}, gone ${r.srcChanges.missing}, new ${r.srcChanges.extra}` : '';
  return (
    `${head} ${fmt(r.wall, 3).padStart(7)} s, RSS ${fmt(r.rssMb, 0)} MB, tool CPU ${fmt(r.toolCpu, 1)} s, server CPU ${fmt(r.srcCpu + r.dstCpu, 1)} s (src ${fmt(r.srcCpu, 1)} + dst ${fmt(r.dstCpu, 1)}), other load ${fmt(r.otherCpu, 1)} s${r.proxyCpu >= 0.05 ? `, proxy CPU ${fmt(r.proxyCpu, 1)} s` : ''}${rep}\n` +
    `${' '.repeat(head.length)} verify ${r.verify?.summary ?? 'not run'}${src}` +
    (r.verify && !r.verify.ok ? Object.entries(r.verify.folderDiffs).slice(0, 6).map(([f, d]) => `\n${' '.repeat(head.length + 3)}${f}: ${d}`).join('') : '') +
    (r.warnings.length ? `\n${' '.repeat(head.length)} warning: ${r.warnings.join('; ')}` : '')
  );
}

/** A phase passed when the tool ran and its destination verified (and cutover left the source alone). */
const passed = (r: RunResult) =>
  !r.error && !!r.verify?.ok && (r.tool !== 'cutover' || !r.srcChanges || (r.srcChanges.changed === 0 && r.srcChanges.missing === 0 && r.srcChanges.extra === 0));

/**
 * Toggles \Flagged on `count` of the base corpus's messages, spread evenly over every folder
 * (so a delta pass meets them in many folders), through doveadm on the source. Only UIDs of the
 * pristine corpus are picked: the same messages for every tool. Returns the changes made.
 */
async function toggleFlagged(pair: BenchPair, base: StoreSnapshot, count: number): Promise<number> {
  const doveadm = (args: string[]) => spawnSync(DOVEADM_BIN, ['-c', pair.src.conf, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const listed = doveadm(['-f', 'tab', 'fetch', '-u', pair.user, 'mailbox uid flags', 'ALL']);
  if (listed.status !== 0) throw new Error(`doveadm fetch flags: ${listed.stderr}`);
  const messages = listed.stdout.split('\n').slice(1).filter(Boolean).map((line) => {
    const [mailbox = '', uid = '', flags = ''] = line.split('\t');
    return { mailbox, uid: Number(uid), flagged: flags.split(' ').includes('\\Flagged') };
  }).filter((m) => m.uid <= (base.folders.get(m.mailbox)?.length ?? 0))
    .sort((a, b) => (a.mailbox < b.mailbox ? -1 : a.mailbox > b.mailbox ? 1 : a.uid - b.uid));
  const stride = Math.max(1, Math.floor(messages.length / count));
  const picked = messages.filter((_, i) => i % stride === 0).slice(0, count);
  const groups = new Map<string, number[]>();
  for (const m of picked) {
    const key = `${m.flagged ? 'remove' : 'add'}\0${m.mailbox}`;
    groups.set(key, [...(groups.get(key) ?? []), m.uid]);
  }
  for (const [key, uids] of groups) {
    const [op = '', mailbox = ''] = key.split('\0');
    const r = doveadm(['flags', op, '-u', pair.user, '\\Flagged', 'mailbox', mailbox, 'uid', uids.join(',')]);
    if (r.status !== 0) throw new Error(`doveadm flags ${op} ${mailbox}: ${r.stderr}`);
  }
  return picked.length;
}

// ---------- main ----------

async function main(): Promise<number> {
  const started = Date.now();
  const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  ensureDebianPackages([{ pkg: 'time', bin: GNU_TIME }, ...(TOOLS.includes('mbsync') ? [{ pkg: 'isync', bin: MBSYNC }] : [])]);
  if (process.getuid?.() !== 0) {
    console.error('bench: run it as root: it starts two Dovecot instances whose mail belongs to uid 65534');
    return 1;
  }

  const pair = await startPair({ keepDir: KEEP });
  const stopAll = async () => {
    if (runningChild) {
      try {
        process.kill(-runningChild, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await pair.stop();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`bench: ${sig}: stopping the tool and the Dovecot pair`);
      void stopAll().finally(() => process.exit(130));
    });
  }

  const results: RunResult[] = [];
  const nets: Net[] = [];
  const notes: string[] = [];
  let stats: CorpusStats | undefined;
  let cutoverUnavailable: string | undefined;
  let scale4: { stats: CorpusStats; run?: RunResult; skipped?: string } | undefined;
  try {
    log(`cutover bench: ${os.cpus().length} CPUs, ${versionOf('/usr/sbin/dovecot', ['--version']).replace(/^/, 'Dovecot ')}${TOOLS.includes('mbsync') ? `, ${versionOf(MBSYNC, ['--version'])}` : ''}, Node ${process.version}; load average ${loadAtStart}; reps ${REPS}; dir ${pair.dir}${KEEP ? ' (kept)' : ''}`);
    log(`servers: source 127.0.0.1:${pair.src.port} (pid ${pair.src.pid}), destination 127.0.0.1:${pair.dst.port} (pid ${pair.dst.pid})`);

    if (TOOLS.includes('cutover')) {
      const probe = probeCutover(path.join(pair.dir, 'probe-data'));
      if (!probe.available) {
        cutoverUnavailable = probe.detail;
        log(`cutover: ${probe.detail}; its rows will fail`);
      }
    }

    let t = Date.now();
    await pair.replaceSrc((maildir) => {
      stats = generateCorpus({ maildir, count: COUNT, owner: OWNER });
    });
    const genS = (Date.now() - t) / 1000;
    t = Date.now();
    await pair.indexSrc();
    const indexS = (Date.now() - t) / 1000;
    t = Date.now();
    const base = await readStore(pair.src.conf, pair.user);
    await pair.snapshotSrc();
    const corpus = stats as CorpusStats;
    log(`corpus: ${corpus.messages.toLocaleString('en')} messages, ${(corpus.bytes / 1e6).toFixed(1)} MB, ${base.folders.size} folders (generated in ${genS.toFixed(1)} s, indexed in ${indexS.toFixed(1)} s, read back in ${((Date.now() - t) / 1000).toFixed(1)} s)`);

    const tools: Tool[] = [];
    for (const name of TOOLS) tools.push(name === 'mbsync' ? mbsyncTool(pair) : name === 'dsync' ? dsyncTool(pair) : cutoverTool(pair));
    // What the source holds after each step that changes it, keyed by network and rep: the same for every tool.
    const manifests = new Map<string, StoreSnapshot>();

    const runSeries = async (net: Net) => {
      for (let rep = 1; rep <= REPS; rep++) {
        // alternate the order so neither tool always runs on a warmer machine
        const order = rep % 2 === 1 ? tools : [...tools].reverse();
        for (const tool of order) {
          if (tool.name === 'cutover' && cutoverUnavailable) continue;
          const stateDir = path.join(pair.dir, 'runs', `${net.name}-${tool.name}-rep${rep}`);
          fs.rmSync(stateDir, { recursive: true, force: true });
          fs.mkdirSync(stateDir, { recursive: true });
          await pair.restoreSrc();
          await pair.resetDst();
          const command = tool.setup(stateDir, net);
          let expected = base;
          for (const phase of PHASES) {
            let expectedCopied = phase === 'full' ? base.messages : 0;
            if (phase === 'inc100') {
              const added = generateCorpus({ maildir: pair.src.maildir, add: 100, tag: `inc${rep}`, owner: OWNER });
              await pair.indexSrc();
              expectedCopied = added.messages;
            }
            if (phase === 'flags500') {
              const changed = await toggleFlagged(pair, base, FLAG_CHANGES);
              if (changed !== FLAG_CHANGES) log(`[rep ${rep}] ${net.name} flags: ${changed} flag changes made, not ${FLAG_CHANGES}`);
            }
            if (phase === 'inc100' || phase === 'flags500') {
              const key = `${net.name}:${rep}:${phase}`;
              let m = manifests.get(key);
              if (!m) manifests.set(key, (m = await readStore(pair.src.conf, pair.user)));
              expected = m;
            }
            let r: RunResult;
            try {
              r = await runPhase(pair, tool, command, net.name, phase, rep, stateDir, expectedCopied);
            } catch (err) {
              if (!(err instanceof Unavailable)) throw err;
              cutoverUnavailable = err.message;
              log(`[rep ${rep}] cutover: ${err.message}`);
              break;
            }
            if (!r.error) {
              r.verify = compareStores(expected, await readStore(pair.dst.conf, pair.user), tool.mode);
              r.srcChanges = sourceChanges(expected, await readFlags(pair.src.conf, pair.user));
            }
            results.push(r);
            log(describe(r));
            if (r.error) break; // later phases build on this one
          }
        }
      }
    };

    nets.push({ name: 'lo', label: 'loopback', rttMs: 0, src: pair.src.port, dst: pair.dst.port });
    await runSeries(nets[0]!);
    for (const rtt of WAN_RTTS) {
      const proxies: DelayProxy[] = [];
      try {
        proxies.push(await startDelayProxy({ port: pair.src.port }, rtt), await startDelayProxy({ port: pair.dst.port }, rtt));
        const net: Net = { name: `wan${rtt}`, label: `WAN, ${rtt} ms RTT (delay proxy)`, rttMs: rtt, src: proxies[0]!.port, dst: proxies[1]!.port };
        nets.push(net);
        log(`${net.label}: source through 127.0.0.1:${net.src}, destination through 127.0.0.1:${net.dst}`);
        await runSeries(net);
      } finally {
        await Promise.all(proxies.map((p) => p.close()));
      }
    }
    // 4× corpus: memory must not grow with the mailbox
    const cutoverRan = results.some((r) => r.tool === 'cutover' && r.net === 'lo' && r.phase === 'full' && !r.error);
    if (!SCALE4) notes.push('4× corpus: skipped (BENCH_SCALE4=0)');
    else if (!TOOLS.includes('cutover')) notes.push('4× corpus: skipped (cutover not in BENCH_TOOLS)');
    else if (cutoverUnavailable) notes.push(`4× corpus: skipped, ${cutoverUnavailable}`);
    else if (!cutoverRan) notes.push('4× corpus: skipped (cutover failed on the base corpus)');
    else {
      t = Date.now();
      let stats4: CorpusStats | undefined;
      fs.rmSync(path.join(pair.dir, 'pristine'), { recursive: true, force: true });
      await pair.replaceSrc((maildir) => {
        stats4 = generateCorpus({ maildir, count: COUNT * 4, owner: OWNER });
      });
      await pair.indexSrc();
      const expected4 = await readStore(pair.src.conf, pair.user);
      log(`4× corpus: ${(stats4 as CorpusStats).messages.toLocaleString('en')} messages, ${((stats4 as CorpusStats).bytes / 1e6).toFixed(1)} MB (generated, indexed and read back in ${((Date.now() - t) / 1000).toFixed(1)} s)`);
      await pair.resetDst();
      const stateDir = path.join(pair.dir, 'runs', 'cutover-4x');
      fs.mkdirSync(stateDir, { recursive: true });
      const tool = cutoverTool(pair);
      const r = await runPhase(pair, tool, tool.setup(stateDir, nets[0]!), 'lo', 'full', 0, stateDir, expected4.messages);
      if (!r.error) {
        r.verify = compareStores(expected4, await readStore(pair.dst.conf, pair.user), 'strict');
        r.srcChanges = sourceChanges(expected4, await readFlags(pair.src.conf, pair.user));
      }
      log(describe(r).replace('[rep 0]', '[4×]   '));
      scale4 = { stats: stats4 as CorpusStats, run: r };
    }
  } finally {
    await stopAll();
  }

  // ---------- report ----------
  const corpus = stats as CorpusStats;
  const inNet = (r: RunResult, tool: ToolName, net: string, phase?: Phase) => r.tool === tool && r.net === net && (!phase || r.phase === phase);
  const med = (tool: ToolName, net: string, phase: Phase, pick: (r: RunResult) => number) => {
    const all = results.filter((r) => inNet(r, tool, net, phase));
    const rs = all.filter((r) => !r.error);
    return rs.length && rs.length === all.length && rs.length === REPS ? median(rs.map(pick)) : NaN;
  };
  const peak = (tool: ToolName, net?: string, phase?: Phase) => {
    const rs = results.filter((r) => r.tool === tool && (!net || r.net === net) && (!phase || r.phase === phase) && !r.error && Number.isFinite(r.rssMb));
    return rs.length ? Math.max(...rs.map((r) => r.rssMb)) : NaN;
  };
  const cell = (tool: ToolName, v: number, digits: number) => (!TOOLS.includes(tool) ? '-' : tool === 'cutover' && cutoverUnavailable ? 'n/a' : Number.isFinite(v) ? v.toFixed(digits) : 'FAILED');
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a');
  const header = ['phase', 'cutover s', 'mbsync s', 'ratio', 'dsync s', 'cutover CPU s', 'mbsync CPU s', 'dsync CPU s', 'cutover RSS MB', 'mbsync RSS MB', 'cutover srv CPU s', 'mbsync srv CPU s', 'other load s (c/m/d)'];
  log('');
  log(`${corpus ? `${corpus.messages.toLocaleString('en')} messages, ${(corpus.bytes / 1e6).toFixed(1)} MB` : 'no corpus'}; ${REPS > 1 ? `medians of ${REPS} reps (RSS: highest)` : '1 rep'}; ratio = cutover / mbsync; srv CPU = both Dovecot instances; other load = CPU the rest of the machine used during the run`);
  for (const net of nets) {
    const rows = PHASES.map((phase) => {
      const wall = (tool: ToolName) => med(tool, net.name, phase, (r) => r.wall);
      return [
        PHASE_LABEL[phase],
        cell('cutover', wall('cutover'), 3),
        cell('mbsync', wall('mbsync'), 3),
        ratio(wall('cutover'), wall('mbsync')),
        cell('dsync', wall('dsync'), 3),
        ...(['cutover', 'mbsync', 'dsync'] as const).map((tool) => cell(tool, med(tool, net.name, phase, (r) => r.toolCpu), 2)),
        cell('cutover', peak('cutover', net.name, phase), 0),
        cell('mbsync', peak('mbsync', net.name, phase), 0),
        cell('cutover', med('cutover', net.name, phase, (r) => r.srcCpu + r.dstCpu), 1),
        cell('mbsync', med('mbsync', net.name, phase, (r) => r.srcCpu + r.dstCpu), 1),
        TOOLS.map((tool) => fmt(med(tool, net.name, phase, (r) => r.otherCpu), 1)).join('/'),
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ');
    log('');
    log(net.label);
    log(line(header));
    log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    for (const r of rows) log(line(r));
  }
  if (cutoverUnavailable) log(`cutover rows: ${cutoverUnavailable}`);
  if (TOOLS.includes('dsync')) log('dsync = doveadm backup -R over imapc: it writes the destination store directly, so only its source side crosses the delay proxy');

  // mbsync's known deviations, as figures
  const mbFull = results.filter((r) => r.tool === 'mbsync' && r.net === 'lo' && r.phase === 'full' && r.verify).slice(-1)[0];
  if (mbFull?.verify) {
    const v = mbFull.verify;
    const deltas = Object.entries(v.sizeDeltas).sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, n]) => `${Number(k) >= 0 ? '+' : ''}${k} B ×${n}`).join(', ');
    log(`mbsync deviations (full copy): ${v.altered.toLocaleString('en')} of ${v.srcMessages.toLocaleString('en')} messages altered${deltas ? ` (${deltas}; X-TUID header)` : ''}, ${v.keywordMismatch} keyword differences, ${v.sysFlagMismatch} flag differences, ${v.internalDateMismatch} INTERNALDATE differences, subscriptions -${v.subscriptionsMissing.length}/+${v.subscriptionsExtra.length}`);
  }
  const dsFull = results.filter((r) => r.tool === 'dsync' && r.net === 'lo' && r.phase === 'full' && r.verify).slice(-1)[0];
  if (dsFull?.verify) log(`dsync deviations (full copy): ${dsFull.verify.summary}`);
  if (scale4?.run) {
    const r = scale4.run;
    const rss = r.rssMb;
    log(
      `4× corpus (${scale4.stats.messages.toLocaleString('en')} messages, ${(scale4.stats.bytes / 1e6).toFixed(1)} MB): ` +
        (r.error ? `cutover FAILED: ${r.error}` : `cutover full copy ${fmt(r.wall, 1)} s, peak RSS ${fmt(rss, 0)} MB (limit ${RSS_LIMIT_MB} MB: ${rss <= RSS_LIMIT_MB ? 'within' : 'OVER'}; base corpus ${fmt(peak('cutover', 'lo'), 0)} MB); verify ${r.verify?.ok ? 'OK' : 'FAIL'}`),
    );
  }
  for (const n of notes) log(n);
  const timedRuns = [...results, ...(scale4?.run ? [scale4.run] : [])].filter((r) => !r.error);
  const otherShare = timedRuns.reduce((a, r) => a + r.otherCpu, 0) / Math.max(1e-9, timedRuns.reduce((a, r) => a + r.wall, 0));
  log(`other load: the rest of the machine used ${(otherShare * 100).toFixed(0)} % of a CPU on average during the timed runs (load average at start ${loadAtStart}, at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  if (timedRuns.length && otherShare > 0.25) {
    log(`WARNING: the machine was busy: the timings are not reliable, run the bench on an idle machine`);
  }

  const expectedRuns = REPS * PHASES.length * nets.length;
  const toolOk = (tool: ToolName) => {
    if (!TOOLS.includes(tool)) return true;
    const rs = results.filter((r) => r.tool === tool);
    if (tool === 'cutover') return !cutoverUnavailable && rs.length === expectedRuns && rs.every(passed) && (!scale4?.run || passed(scale4.run));
    return rs.length === expectedRuns && rs.every(passed);
  };
  const verified = !!corpus && TOOLS.every(toolOk);
  log(`verification: ${TOOLS.map((tl) => `${tl} ${tl === 'cutover' && cutoverUnavailable ? 'NOT RUN' : toolOk(tl) ? `OK (${tl === 'cutover' ? 'strict' : 'identity'})` : 'FAILED'}`).join(', ')}; bench took ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const vsMbsync = (net: string, phase: Phase, pick: (r: RunResult) => number = (r) => r.wall) => round(med('cutover', net, phase, pick) / med('mbsync', net, phase, pick), 3);
  console.log(
    JSON.stringify({
      messages: corpus?.messages ?? null,
      bytes: corpus?.bytes ?? null,
      full_ratio_vs_mbsync: vsMbsync('lo', 'full'),
      noop_seconds: round(med('cutover', 'lo', 'noop', (r) => r.wall), 3),
      inc100_ratio_vs_mbsync: vsMbsync('lo', 'inc100'),
      peak_rss_mb: round(peak('cutover'), 1),
      client_cpu_ratio_vs_mbsync: vsMbsync('lo', 'full', (r) => r.toolCpu),
      wan25_full_ratio_vs_mbsync: vsMbsync('wan25', 'full'),
      wan25_noop_ratio_vs_mbsync: vsMbsync('wan25', 'noop'),
      wan25_inc100_ratio_vs_mbsync: vsMbsync('wan25', 'inc100'),
      wan80_full_ratio_vs_mbsync: vsMbsync('wan80', 'full'),
      delta_flags500_ratio_vs_mbsync: vsMbsync('lo', 'flags500'),
      dsync_full_seconds: round(med('dsync', 'lo', 'full', (r) => r.wall), 3),
      other_load_cpu_share: round(otherShare, 3),
      verified,
    }),
  );
  return verified ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    console.log(JSON.stringify({
      messages: null, bytes: null, full_ratio_vs_mbsync: null, noop_seconds: null, inc100_ratio_vs_mbsync: null, peak_rss_mb: null,
      client_cpu_ratio_vs_mbsync: null, wan25_full_ratio_vs_mbsync: null, wan25_noop_ratio_vs_mbsync: null, wan25_inc100_ratio_vs_mbsync: null,
      wan80_full_ratio_vs_mbsync: null, delta_flags500_ratio_vs_mbsync: null, dsync_full_seconds: null, other_load_cpu_share: null, verified: false,
    }));
    process.exit(1);
  },
);
