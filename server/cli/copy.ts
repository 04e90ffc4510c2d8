import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MAX_BYTES_PER_SECOND, TokenBucket, type Pace } from '../mail/bandwidth.ts';
import { CutoverError, formatBytes } from '../errors.ts';
import { copyMailbox, DEFAULT_CONCURRENCY, type CopyReport } from '../mail/copy.ts';
import { DEFAULT_STALL_SECONDS, STALL_SECONDS_MAX, STALL_SECONDS_MIN } from '../mail/guard.ts';
import { planFromListings } from '../mail/plan.ts';
import type { LedgerStore } from '../mail/ledger.ts';
import { openStateLedger } from '../mail/state-file.ts';
import { describeMirror } from '../mail/delta/summary.ts';
import { isLoopback } from '../loopback.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { EXIT, parseDuration, parsePositiveInt, type Io } from './output.ts';
import { oauth2Endpoint, parseProvider, providerCopyOptions, providerCopySettings, usesOAuth2 } from './copy-provider.ts';
import { GROUPWARE_FLAGS, groupwareWanted, printGroupware, runGroupwareCopy } from './copy-groupware.ts';

const USAGE = 'usage: cutover copy --source imaps://USER@HOST[:PORT] --source-password-file FILE --dest imaps://USER@HOST[:PORT] --dest-password-file FILE [--json] [--state FILE] …';

interface ParsedUrl { user: string; host: string; port: number; implicitTls: boolean }

export function parseImapUrl(text: string, flag: string): ParsedUrl {
  const match = /^(imaps?):\/\/(.+)@(\[[0-9a-f:.]+\]|[^@/:[\]]+)(?::(\d{1,5}))?\/?$/i.exec(text.trim());
  if (!match) throw new CutoverError('INPUT_INVALID', { detail: `${flag}: "${text}" is not imap://USER@HOST[:PORT] or imaps://USER@HOST[:PORT]` });
  const implicitTls = match[1]!.toLowerCase() === 'imaps';
  const port = match[4] ? Number(match[4]) : implicitTls ? 993 : 143;
  if (port < 1 || port > 65535) throw new CutoverError('INPUT_INVALID', { detail: `${flag}: port ${port} is out of range` });
  return { user: decodeURIComponent(match[2]!), host: match[3]!.replace(/^\[|\]$/g, ''), port, implicitTls };
}

/** Secrets come from a file, an environment variable or standard input, never from the command line. */
export function readPassword(side: 'source' | 'dest', values: Record<string, unknown>, stdin: () => string): string {
  const file = values[`${side}-password-file`] as string | undefined;
  const env = values[`${side}-password-env`] as string | undefined;
  const fromStdin = values[`${side}-password-stdin`] as boolean | undefined;
  const given = [file, env, fromStdin].filter(Boolean).length;
  if (given !== 1) throw new CutoverError('INPUT_INVALID', { detail: `give the ${side} password with exactly one of --${side}-password-file FILE, --${side}-password-env VAR, --${side}-password-stdin` });
  if (file) {
    try { return readFileSync(file, 'utf8').replace(/\r?\n$/, ''); } catch (err) {
      throw new CutoverError('INPUT_INVALID', { detail: `--${side}-password-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    }
  }
  if (env) {
    const value = process.env[env];
    if (!value) throw new CutoverError('INPUT_INVALID', { detail: `--${side}-password-env: the variable ${env} is empty` });
    return value;
  }
  return stdin();
}

export function stdinLines(): () => string {
  let lines: string[] | undefined;
  return () => {
    lines ??= readFileSync(0, 'utf8').split(/\r?\n/);
    const line = lines.shift();
    if (!line) throw new CutoverError('INPUT_INVALID', { detail: 'expected a password line on standard input' });
    return line;
  };
}

export function endpointFor(url: ParsedUrl, password: string, opts: { masterUser?: string; tlsVerify: boolean; allowPlaintext: boolean; ca?: string }): ImapEndpoint {
  const plaintextAllowed = opts.allowPlaintext || isLoopback(url.host);
  return {
    host: url.host, port: url.port, tlsVerify: opts.tlsVerify, ca: opts.ca,
    security: url.implicitTls ? 'tls' : plaintextAllowed ? 'starttls-optional' : 'starttls',
    auth: opts.masterUser ? { user: opts.masterUser, pass: password, authzid: url.user } : { user: url.user, pass: password },
  };
}

export function parseSize(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)\s*([kmg]i?b?)?$/i.exec(text.trim());
  if (!match) throw new CutoverError('INPUT_INVALID', { detail: `${flag}: "${text}" is not a size (examples: 25000000, 25M, 1G)` });
  const unit = (match[2] ?? '').toLowerCase()[0];
  return Number(match[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
}

function parseDate(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new CutoverError('INPUT_INVALID', { detail: `--since: "${text}" is not a date (YYYY-MM-DD)` });
  return date;
}

function progressLine(copied: number, bytes: number, remaining: number, startedAt: number): string {
  const seconds = (Date.now() - startedAt) / 1000;
  const rate = seconds > 0 ? copied / seconds : 0;
  const eta = rate > 0 ? Math.max(0, Math.round((remaining - copied) / rate)) : undefined;
  return `${copied}/${remaining} msgs  ${formatBytes(bytes)}  ${rate.toFixed(0)} msg/s  ETA ${eta === undefined ? '?' : `${eta} s`}`;
}

function printHuman(report: CopyReport, io: Io): void {
  for (const f of report.folders) {
    const extras = [f.matched && `${f.matched} already there`, f.skipped && `${f.skipped} skipped`, f.failed && `${f.failed} refused`, f.droppedFlags.length && `flags not kept: ${f.droppedFlags.join(' ')}`, f.reconnects && `${f.reconnects} reconnects`].filter(Boolean);
    io.out(`  ${f.source} → ${f.dest}: ${f.copied} copied (${formatBytes(f.copiedBytes)})${extras.length ? `, ${extras.join(', ')}` : ''}`);
    for (const failure of f.failures.slice(0, 10)) io.out(`    UID ${failure.uid}: ${failure.reason}`);
    if (f.failures.length > 10) io.out(`    … ${f.failed - 10} more (--json lists up to 1,000 per folder)`);
    for (const a of f.altered) io.out(`    altered by the destination: UID ${a.uid}${a.destUid ? ` (destination UID ${a.destUid})` : ''}: ${a.changes.join('; ')}`);
  }
  const mirrored = describeMirror(report.mirror);
  if (mirrored) io.out(mirrored);
  io.out(`${report.copied} messages (${formatBytes(report.bytes)}) copied in ${report.seconds.toFixed(1)} s (${(report.copied / Math.max(report.seconds, 0.001)).toFixed(0)} msg/s); ${report.matched} already there, ${report.skipped} skipped, ${report.failed} failed (refused or unreadable), of ${report.announced} the source announced${report.altered ? `; ${report.altered} stored otherwise by the destination (listed above)` : ''}`);
}

// --max-bytes-per-second 500K: imapsync's --maxbytespersecond, for the messages read from the source.
function bandwidthPace(text: string | undefined): Pace | undefined {
  const rate = parseSize(text, '--max-bytes-per-second');
  if (rate === undefined) return undefined;
  if (rate < 1024 || rate > MAX_BYTES_PER_SECOND) throw new CutoverError('INPUT_INVALID', { detail: `--max-bytes-per-second: give 1K to ${MAX_BYTES_PER_SECOND} bytes per second` });
  return { buckets: [new TokenBucket(rate)] };
}

export async function copyCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string' }, dest: { type: 'string' },
      'source-password-file': { type: 'string' }, 'source-password-env': { type: 'string' }, 'source-password-stdin': { type: 'boolean' },
      'dest-password-file': { type: 'string' }, 'dest-password-env': { type: 'string' }, 'dest-password-stdin': { type: 'boolean' },
      'source-auth-user': { type: 'string' }, 'dest-auth-user': { type: 'string' },
      exclude: { type: 'string', multiple: true }, 'max-size': { type: 'string' }, since: { type: 'string' },
      'dry-run': { type: 'boolean' }, concurrency: { type: 'string' }, 'no-tls-verify': { type: 'boolean' },
      'allow-plaintext': { type: 'boolean' }, ca: { type: 'string' }, state: { type: 'string' }, json: { type: 'boolean' },
      'stall-timeout': { type: 'string' }, 'no-mirror-deletes': { type: 'boolean' }, 'max-bytes-per-second': { type: 'string' },
      ...providerCopyOptions,
      ...GROUPWARE_FLAGS,
    },
  });
  if (!values.source || !values.dest) throw new CutoverError('INPUT_INVALID', { detail: USAGE });
  const sourceUrl = parseImapUrl(values.source, '--source');
  const destUrl = parseImapUrl(values.dest, '--dest');
  const stdin = stdinLines();
  const ca = values.ca ? readFileSync(values.ca, 'utf8') : undefined;
  const common = { tlsVerify: !values['no-tls-verify'], allowPlaintext: Boolean(values['allow-plaintext']), ca };
  const side = async (which: 'source' | 'dest', url: ParsedUrl) => usesOAuth2(which, values)
    ? oauth2Endpoint(which, values, endpointFor(url, '', common))
    : endpointFor(url, readPassword(which, values, stdin), { ...common, masterUser: values[`${which}-auth-user`] });
  const source = await side('source', sourceUrl);
  const dest = await side('dest', destUrl);
  const provider = parseProvider(values['source-provider']);
  const limits = providerCopySettings(provider, parseSize(values['max-size'], '--max-size'), parsePositiveInt(values.concurrency, '--concurrency') ?? DEFAULT_CONCURRENCY);
  const selection = { maxMessageBytes: limits.maxMessageBytes, since: parseDate(values.since) };
  const concurrency = limits.concurrency;
  const stallSeconds = values['stall-timeout'] === undefined ? undefined : parseDuration(values['stall-timeout'], '--stall-timeout');
  if (stallSeconds !== undefined && (stallSeconds < STALL_SECONDS_MIN || stallSeconds > STALL_SECONDS_MAX)) {
    throw new CutoverError('INPUT_INVALID', { detail: `--stall-timeout: give ${STALL_SECONDS_MIN} s to ${STALL_SECONDS_MAX / 60} min (default ${DEFAULT_STALL_SECONDS} s)` });
  }
  const pace = bandwidthPace(values['max-bytes-per-second']);
  if (values['no-tls-verify']) io.err('WARNING: TLS certificates are NOT verified (--no-tls-verify): anyone on the path can read the passwords and the mail.');
  const groupware = groupwareWanted(values);
  if (values['no-mail'] && groupware) {
    const run = await runGroupwareCopy(values, groupware, source, dest);
    if (values.json) io.out(JSON.stringify({ groupware: run.report.collections, skipped: run.skips }));
    else printGroupware(run, io);
    return run.failed ? EXIT.failed : EXIT.ok;
  }

  const startedAt = Date.now();
  let lastLine = 0;
  let state: ReturnType<typeof openStateLedger> | undefined;
  const ledger = new Promise<LedgerStore>((resolve, reject) => {
    // Opened once copyMailbox has started its first logins, so loading the database overlaps them.
    setImmediate(() => {
      state = openStateLedger(values.state);
      state.then((opened) => resolve(opened.ledger), reject);
    });
  });
  try {
    const report = await copyMailbox({
      source, dest, ledger, pass: 1, selection, concurrency, stallSeconds, dryRun: Boolean(values['dry-run']), pace,
      // A re-run with --state mirrors what changed on the source since; --no-mirror-deletes keeps every copy.
      mirror: { deletes: !values['no-mirror-deletes'] },
      plan: (listed) => planFromListings(listed, values.exclude ?? [], source.host, provider),
      onProgress: ({ totalCopied, totalBytes, remaining }) => {
        if (Date.now() - lastLine < 1000) return;
        lastLine = Date.now();
        io.err(progressLine(totalCopied, totalBytes, remaining, startedAt));
      },
    });
    const run = groupware && !values['dry-run'] ? await runGroupwareCopy(values, groupware, source, dest) : undefined;
    if (values.json) io.out(JSON.stringify({ ...report, dryRun: Boolean(values['dry-run']), messages: report.copied, ...(run && { groupware: run.report.collections, groupwareSkipped: run.skips }) }));
    else {
      printHuman(report, io);
      if (run) printGroupware(run, io);
    }
    return report.failed > 0 || run?.failed ? EXIT.failed : EXIT.ok;
  } finally {
    await ledger.catch(() => undefined);
    await (await state?.catch(() => undefined))?.close();
  }
}
