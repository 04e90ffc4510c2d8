import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CutoverError, formatBytes } from '../errors.ts';
import { importFiles, type FileImportReport } from '../files/import.ts';
import type { MboxFlavour } from '../files/mbox.ts';
import { endpointFor, parseImapUrl, readPassword, stdinLines } from './copy.ts';
import { describe, EXIT, type Io } from './output.ts';

const USAGE = 'usage: cutover import-file FILE… --dest imaps://USER@HOST[:PORT] --dest-password-file FILE [--dry-run] [--json] [--state FILE] [--mbox-format mboxrd|mboxo]';

/** A file that cannot be read (missing, truncated, not what its name says): distinct from every `cutover copy` code. */
export const EXIT_FILE_UNREADABLE = 10;

function printHuman(report: FileImportReport, io: Io): void {
  for (const f of report.folders) {
    const what = report.dryRun
      ? `${f.messages} messages (${formatBytes(f.bytes)})${f.alreadyImported ? `, ${f.alreadyImported} already imported` : ''}`
      : `${f.copied} copied (${formatBytes(f.copiedBytes)})${[f.alreadyImported && `, ${f.alreadyImported} already imported`, f.matched && `, ${f.matched} already there`, f.failed && `, ${f.failed} refused`].filter(Boolean).join('')}`;
    io.out(`  ${f.file}: ${f.source} → ${f.dest}${f.specialUse ? ` (${f.specialUse})` : ''}: ${what}${f.skipped ? `, ${f.skipped} not importable` : ''}`);
    for (const s of f.skips.slice(0, 10)) io.out(`    not imported: ${s.id}: ${s.reason}`);
    if (f.skipped > 10) io.out(`    … ${f.skipped - 10} more (--json lists up to 1,000 per folder)`);
    for (const failure of f.failures.slice(0, 10)) io.out(`    refused: ${failure.id}: ${failure.reason}`);
  }
  const verb = report.dryRun ? 'would be imported' : 'imported';
  io.out(`${report.dryRun ? report.messages - report.alreadyImported : report.copied} messages ${verb} (${formatBytes(report.dryRun ? 0 : report.bytes)}) in ${report.seconds.toFixed(1)} s; ${report.alreadyImported} already imported, ${report.matched} already there, ${report.skipped} not importable, ${report.failed} refused, of ${report.messages} the files hold`);
}

export async function importFileCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dest: { type: 'string' }, 'dest-password-file': { type: 'string' }, 'dest-password-env': { type: 'string' }, 'dest-password-stdin': { type: 'boolean' },
      'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, state: { type: 'string' }, 'mbox-format': { type: 'string' },
      'no-tls-verify': { type: 'boolean' }, 'allow-plaintext': { type: 'boolean' }, ca: { type: 'string' },
    },
  });
  if (!values.dest || !positionals.length) throw new CutoverError('INPUT_INVALID', { detail: USAGE });
  const flavour = values['mbox-format'] ?? 'mboxrd';
  if (flavour !== 'mboxrd' && flavour !== 'mboxo') throw new CutoverError('INPUT_INVALID', { detail: `--mbox-format: "${flavour}" is neither mboxrd nor mboxo` });
  const ca = values.ca ? readFileSync(values.ca, 'utf8') : undefined;
  const dest = endpointFor(parseImapUrl(values.dest, '--dest'), readPassword('dest', values, stdinLines()), { tlsVerify: !values['no-tls-verify'], allowPlaintext: Boolean(values['allow-plaintext']), ca });
  if (values['no-tls-verify']) io.err('WARNING: TLS certificates are NOT verified (--no-tls-verify): anyone on the path can read the password and the mail.');
  const startedAt = Date.now();
  let lastLine = 0;
  try {
    const report = await importFiles({
      files: positionals, dest, ledgerFile: values.state, dryRun: Boolean(values['dry-run']), mboxFlavour: flavour as MboxFlavour,
      onProgress: ({ copied, bytes, seen }) => {
        if (Date.now() - lastLine < 1000) return;
        lastLine = Date.now();
        const seconds = (Date.now() - startedAt) / 1000;
        io.err(`${copied}/${seen} msgs  ${formatBytes(bytes)}  ${(seconds > 0 ? copied / seconds : 0).toFixed(0)} msg/s  ETA ?`);
      },
    });
    if (values.json) io.out(JSON.stringify(report));
    else printHuman(report, io);
    return report.failed > 0 ? EXIT.failed : EXIT.ok;
  } catch (err) {
    if (err instanceof CutoverError && err.code === 'FILE_UNREADABLE') {
      io.err(describe(err));
      return EXIT_FILE_UNREADABLE;
    }
    throw err;
  }
}
