import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CutoverError, formatBytes } from '../errors.ts';
import { davCounts } from '../files/dav-import.ts';
import { importFiles, type FileImportReport } from '../files/import.ts';
import { openGroupwareState } from '../groupware/state.ts';
import { MBOX_FORMATS, type MboxFormat } from '../files/mbox.ts';
import { endpointFor, parseImapUrl, readPassword, stdinLines } from './copy.ts';
import { describe, EXIT, type Io } from './output.ts';

const USAGE = 'usage: cutover import-file FILE… --dest imaps://USER@HOST[:PORT] --dest-password-file FILE [--dest-dav URL] [--dry-run] [--json] [--state FILE] [--mbox-format auto|mboxrd|mboxo|mboxcl|mboxcl2]';

/** A file that cannot be read (missing, truncated, not what its name says): distinct from every `cutover copy` code. */
export const EXIT_FILE_UNREADABLE = 10;

function printHuman(report: FileImportReport, io: Io): void {
  for (const f of report.files) if (f.note) io.out(`  ${f.file}: ${f.note}`);
  for (const f of report.folders) {
    const what = report.dryRun
      ? `${f.messages} messages (${formatBytes(f.bytes)})${f.alreadyImported ? `, ${f.alreadyImported} already imported` : ''}`
      : `${f.copied} copied (${formatBytes(f.copiedBytes)})${[f.alreadyImported && `, ${f.alreadyImported} already imported`, f.matched && `, ${f.matched} already there`, f.failed && `, ${f.failed} refused`].filter(Boolean).join('')}`;
    io.out(`  ${f.file}: ${f.source} → ${f.dest}${f.specialUse ? ` (${f.specialUse})` : ''}: ${what}${f.skipped ? `, ${f.skipped} not importable` : ''}`);
    for (const s of f.skips.slice(0, 10)) io.out(`    not imported: ${s.id}: ${s.reason}`);
    if (f.skipped > 10) io.out(`    … ${f.skipped - 10} more (--json lists up to 1,000 per folder)`);
    for (const failure of f.failures.slice(0, 10)) io.out(`    refused: ${failure.id}: ${failure.reason}`);
  }
  for (const c of report.collections) {
    const kind = c.kind === 'addressbook' ? 'contacts' : c.kind === 'calendar' ? 'events' : 'tasks';
    const what = report.dryRun
      ? `${c.items} ${kind}`
      : `${c.copied} ${kind} imported${[c.updated && `, ${c.updated} updated`, c.alreadyImported && `, ${c.alreadyImported} already imported`].filter(Boolean).join('')} of ${c.items}`;
    io.out(`  ${c.file}: ${c.source} → ${c.dest ?? (c.state === 'unavailable' ? '(no CalDAV/CardDAV server)' : '(CalDAV/CardDAV)')}: ${what}${c.skipped ? `, ${c.skipped} not imported` : ''}`);
    if (report.dryRun) for (const l of c.listed.slice(0, 20)) io.out(`    ${l.label}${l.note ? ` (${l.note})` : ''}`);
    if (c.state === 'unavailable' || c.state === 'failed') io.out(`    not imported: ${c.reason}`);
    else for (const s of c.skips.slice(0, 10)) io.out(`    not imported: ${s.id}: ${s.reason}`);
  }
  if (report.collections.length) io.out(`${davCounts(report.collections)} ${report.dryRun ? 'in the files' : `read; ${report.davSkipped + report.davFailed} not imported`}`);
  const verb = report.dryRun ? 'would be imported' : 'imported';
  io.out(`${report.dryRun ? report.messages - report.alreadyImported : report.copied} messages ${verb} (${formatBytes(report.dryRun ? 0 : report.bytes)}) in ${report.seconds.toFixed(1)} s; ${report.alreadyImported} already imported, ${report.matched} already there, ${report.skipped} not importable, ${report.failed} refused, of ${report.messages} the files hold`);
}

export async function importFileCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dest: { type: 'string' }, 'dest-dav': { type: 'string' }, 'dest-password-file': { type: 'string' }, 'dest-password-env': { type: 'string' }, 'dest-password-stdin': { type: 'boolean' },
      'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, state: { type: 'string' }, 'mbox-format': { type: 'string' },
      'no-tls-verify': { type: 'boolean' }, 'allow-plaintext': { type: 'boolean' }, ca: { type: 'string' },
    },
  });
  if (!values.dest || !positionals.length) throw new CutoverError('INPUT_INVALID', { detail: USAGE });
  const flavour = values['mbox-format'] ?? 'auto';
  if (!MBOX_FORMATS.includes(flavour as MboxFormat)) throw new CutoverError('INPUT_INVALID', { detail: `--mbox-format: "${flavour}" is not one of ${MBOX_FORMATS.join(', ')}` });
  const dryRun = Boolean(values['dry-run']);
  const ca = values.ca ? readFileSync(values.ca, 'utf8') : undefined;
  const dest = endpointFor(parseImapUrl(values.dest, '--dest'), readPassword('dest', values, stdinLines()), { tlsVerify: !values['no-tls-verify'], allowPlaintext: Boolean(values['allow-plaintext']), ca });
  if (values['no-tls-verify']) io.err('WARNING: TLS certificates are NOT verified (--no-tls-verify): anyone on the path can read the password and the mail.');
  const startedAt = Date.now();
  let lastLine = 0;
  // The contacts/calendars ledger: a SQLite file beside the mail's JSON-lines ledger (the groupware ledger's own format).
  const davState = dryRun ? undefined : await openGroupwareState(values.state ? `${values.state}.dav.sqlite` : undefined);
  const davEndpoint = { url: values['dest-dav'] ?? '', tlsVerify: dest.tlsVerify, ca: dest.ca, allowPlaintext: Boolean(values['allow-plaintext']), auth: { user: dest.auth.authzid ?? dest.auth.user, pass: dest.auth.pass } };
  try {
    const report = await importFiles({
      files: positionals, dest, ledgerFile: values.state, dryRun, mboxFlavour: flavour as MboxFormat,
      dav: { endpoint: davEndpoint, ledger: davState?.ledger },
      onProgress: ({ copied, bytes, seen }) => {
        if (Date.now() - lastLine < 1000) return;
        lastLine = Date.now();
        const seconds = (Date.now() - startedAt) / 1000;
        io.err(`${copied}/${seen} msgs  ${formatBytes(bytes)}  ${(seconds > 0 ? copied / seconds : 0).toFixed(0)} msg/s  ETA ?`);
      },
    });
    if (values.json) io.out(JSON.stringify(report));
    else printHuman(report, io);
    // No DAV server found by discovery is listed and is not a failure; one given with --dest-dav that takes nothing is.
    const davRefused = report.davFailed > 0 || report.collections.some((c) => c.refused > 0 || (Boolean(values['dest-dav']) && c.state === 'unavailable'));
    return report.failed > 0 || davRefused ? EXIT.failed : EXIT.ok;
  } catch (err) {
    if (err instanceof CutoverError && err.code === 'FILE_UNREADABLE') {
      io.err(describe(err));
      return EXIT_FILE_UNREADABLE;
    }
    throw err;
  } finally {
    await davState?.close();
  }
}
