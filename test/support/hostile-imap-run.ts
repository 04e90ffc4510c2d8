import { readFileSync } from 'node:fs';
import { cutover, type CliResult } from './cli.ts';
import { rawMessage } from './mail.ts';
import type { SeedFolder } from './hostile-imap.ts';

export interface MeasuredRun extends CliResult { wallMs: number; peakRssMb: number }

function peakRssKb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** `cutover …` in a child process, with its wall time and peak RSS (VmHWM, sampled every 20 ms until it exits). */
export async function measuredCutover(args: string[], opts: Parameters<typeof cutover>[1]): Promise<MeasuredRun> {
  const started = Date.now();
  const run = cutover(args, opts);
  let peak = 0;
  const timer = setInterval(() => { if (run.child.pid) peak = Math.max(peak, peakRssKb(run.child.pid)); }, 20);
  try {
    const result = await run;
    return { ...result, wallMs: Date.now() - started, peakRssMb: Math.round(peak / 1024) };
  } finally {
    clearInterval(timer);
  }
}

const FLAG_SETS = [['\\Seen'], [], ['\\Seen', '\\Flagged'], ['\\Answered', '\\Seen', '$Label1'], ['Projet']];

/** 13 folders of 3 messages (39 in all), as in the issue: INBOX, a special-use Sent, nested folders. */
export function hostileSeed(): SeedFolder[] {
  const names = ['INBOX', 'Sent', 'Archives', 'Archives/2023', 'Archives/2024', 'Work', 'Work/Clients', 'Work/Suppliers', 'Travel', 'Family', 'Receipts', 'Newsletters', 'Old'];
  let n = 0;
  return names.map((path) => ({
    path, subscribed: path !== 'Old', specialUse: path === 'Sent' ? '\\Sent' : undefined,
    messages: Array.from({ length: 3 }, (_, i) => {
      n++;
      return {
        raw: rawMessage({ subject: `${path} message ${i + 1}`, messageId: `<hostile-${n}@example.org>`, body: `Body ${n}\r\n${'line of text\r\n'.repeat(n * 7)}` }),
        flags: FLAG_SETS[n % FLAG_SETS.length]!,
        internalDate: new Date(Date.UTC(2023, n % 12, 1 + (n % 27), n % 24, n % 60)),
      };
    }),
  }));
}
