// Time and peak RSS of `cutover import-file` on a generated mbox (default 2 GB) into a real Dovecot:
//   npx tsx test/bench/import-mbox.ts [GB]
// Not part of the suite: figures go in the README and reports, never in assertions.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addDomain, addMailbox, startDovecot } from '../../server/devservers/dovecot.ts';

const gigabytes = Number(process.argv[2] ?? 2);
const bin = fileURLToPath(new URL('../../server/bin.mjs', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-mbox-'));

async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  const body = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n';
  let written = 0;
  let n = 0;
  while (written < bytes) {
    // Mostly 20-60 KB messages, one in 50 of 3 MB: the mix of a real archive.
    const lines = n % 50 === 49 ? 38_000 : 250 + (n * 37) % 500;
    const msg = `From sender${n}@example.test Mon Jan  2 10:00:00 2023\nFrom: sender${n}@example.test\nTo: bench@example.test\nSubject: bench ${n}\nMessage-ID: <bench${n}@example.test>\nDate: Mon, 2 Jan 2023 10:00:00 +0000\nX-Mozilla-Status: 0001\n\n${body.repeat(lines)}>From an escaped line\n\n`;
    if (!out.write(msg)) await new Promise<void>((r) => out.once('drain', () => r()));
    written += Buffer.byteLength(msg);
    n++;
  }
  await new Promise<void>((r) => out.end(() => r()));
  return n;
}

function run(args: string[]): Promise<{ code: number | null; peakKb: number; seconds: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CUTOVER_DATA_DIR: dir } });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    // VmHWM is the process's own high-water mark: read it as late as possible.
    const poll = setInterval(() => {
      try { peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0)); } catch { /* exited */ }
    }, 50);
    child.on('close', (code) => { clearInterval(poll); resolve({ code, peakKb, seconds: (Date.now() - started) / 1000, stdout, stderr }); });
  });
}

const dovecot = await startDovecot();
try {
  await addDomain(dovecot, 'example.test');
  await addMailbox(dovecot, 'bench@example.test', 'bench-pw');
  writeFileSync(path.join(dir, 'pw'), 'bench-pw\n');
  const file = path.join(dir, 'Archive.mbox');
  const generatedAt = Date.now();
  const messages = await generate(file, gigabytes * 1024 ** 3);
  console.log(`generated ${messages} messages, ${(statSync(file).size / 1024 ** 3).toFixed(2)} GiB in ${((Date.now() - generatedAt) / 1000).toFixed(0)} s`);
  const args = ['import-file', file, '--dest', `imap://bench%40example.test@127.0.0.1:${dovecot.port}`, '--dest-password-file', path.join(dir, 'pw'), '--json', '--state', path.join(dir, 'ledger.jsonl')];
  for (const [label, extra] of [['dry run', ['--dry-run']], ['import', []], ['second run', []]] as const) {
    const result = await run([...args, ...extra]);
    const report = result.code === 0 ? JSON.parse(result.stdout) : undefined;
    console.log(`${label}: exit ${result.code}, ${result.seconds.toFixed(1)} s, peak RSS ${(result.peakKb / 1024).toFixed(0)} MB, ${report ? `${report.messages} messages, ${report.copied} copied, ${report.alreadyImported} already imported` : result.stderr.slice(-500)}`);
  }
} finally {
  await dovecot.stop();
  rmSync(dir, { recursive: true, force: true });
}
