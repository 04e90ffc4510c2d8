// Where `cutover copy` waits on a distant server: one copy through a delay proxy (default 80 ms
// RTT) on both sides, with a recording proxy in front of the destination, for before/after figures
// of the round-trip levers (folder set-up, appends). For each step (full, noop, +100, flags) it
// prints the wall time, the engine's own time, when the milestones came
// at the destination (first CREATE, last set-up command, first APPEND, counted from the first
// command the destination saw), and the set-up commands sent. Runs as root (the bench's Dovecot pair).
//
//   node --import tsx test/bench/wan-trace.ts [--bin path/to/server/bin.mjs] [--count 300] [--rtt 80]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { generateCorpus } from './corpus.ts';
import { startDelayProxy } from './delay-proxy.ts';
import { startPair, VMAIL_ID, DOVEADM_BIN } from './pair.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({ options: { bin: { type: 'string' }, count: { type: 'string' }, rtt: { type: 'string' } } });
const BIN = path.resolve(values.bin ?? path.join(ROOT, 'server', 'bin.mjs'));
const COUNT = Number(values.count ?? 300);
const RTT = Number(values.rtt ?? 80);
const OWNER = { uid: VMAIL_ID, gid: VMAIL_ID };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; wall: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, wall: (performance.now() - t0) / 1000 }));
  });
}

const pair = await startPair();
try {
  await pair.replaceSrc((maildir) => { generateCorpus({ maildir, count: COUNT, owner: OWNER }); });
  await pair.indexSrc();
  const src = await startDelayProxy({ port: pair.src.port }, RTT);
  const dstDelay = await startDelayProxy({ port: pair.dst.port }, RTT);
  const recorder = await startTcpProxy(dstDelay.port);
  const state = path.join(pair.dir, 'copy.state');
  const args = ['copy', '--source', `imap://${pair.user}@127.0.0.1:${src.port}`, '--source-password-file', pair.passwordFile,
    '--dest', `imap://${pair.user}@127.0.0.1:${recorder.port}`, '--dest-password-file', pair.passwordFile, '--state', state, '--json'];
  const env = { ...process.env, CUTOVER_DATA_DIR: path.join(pair.dir, 'data') };
  console.log(`wan-trace: ${BIN}, ${COUNT} planned messages, ${RTT} ms RTT on both sides`);
  for (const step of ['full', 'noop', '+100', 'flags'] as const) {
    if (step === '+100') {
      generateCorpus({ maildir: pair.src.maildir, add: 100, tag: 'trace', owner: OWNER });
      await pair.indexSrc();
    }
    if (step === 'flags') {
      await run(DOVEADM_BIN, ['-c', pair.src.conf, 'flags', 'add', '-u', pair.user, '\\Flagged', 'mailbox', '*', 'uid', '1:20'], process.env);
    }
    const mark = recorder.commands.length;
    const r = await run(BIN, args, env);
    if (r.code !== 0) throw new Error(`${step}: exit ${r.code}: ${r.stderr.slice(-500)}`);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; copied: number; mirror?: { flags: number } };
    const cmds = recorder.commands.slice(mark);
    const t0 = cmds[0]?.at ?? 0;
    const at = (verb: string, last = false) => { const hits = cmds.filter((c) => c.verb === verb); const hit = last ? hits[hits.length - 1] : hits[0]; return hit ? `${hit.at - t0} ms` : '-'; };
    const count = (verb: string) => cmds.filter((c) => c.verb === verb).length;
    const appends = cmds.filter((c) => c.verb === 'APPEND');
    const gaps = appends.slice(1).map((c, i) => c.at - appends[i]!.at);
    console.log(`${step.padEnd(5)} wall ${r.wall.toFixed(2)} s, engine ${report.seconds.toFixed(2)} s, copied ${report.copied}${report.mirror ? `, flags mirrored ${report.mirror.flags}` : ''}; at the destination: ` +
      `first CREATE ${at('CREATE')}, last SUBSCRIBE ${at('SUBSCRIBE', true)}, first APPEND ${at('APPEND')}; CREATE ${count('CREATE')}, SUBSCRIBE ${count('SUBSCRIBE')}, UNSUBSCRIBE ${count('UNSUBSCRIBE')}, LSUB ${count('LSUB')}, ` +
      `APPEND ${appends.length} (gaps ≥ 1 RTT: ${gaps.filter((g) => g >= RTT * 0.9).length}), commands ${cmds.length}, destination logins ${new Set(cmds.map((c) => c.connection)).size}`);
  }
  await recorder.stop();
  await dstDelay.close();
  await src.close();
} finally {
  await pair.stop();
}
