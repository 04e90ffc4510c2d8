import type { ImapFlow } from 'imapflow';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { ensureDestFolders } from '../mail/dest-folder.ts';
import { inspectDest, type DestInspection } from '../mail/dest-folder.ts';
import { headerBytes } from '../mail/fingerprint.ts';
import { planFolders, type FolderPlanEntry, type FolderSide } from '../mail/folders.ts';
import { closeQuietly, mapImapError, openImap } from '../mail/imap.ts';
import { namespaceOf, sideOf } from '../mail/inventory.ts';
import type { LedgerStore } from '../mail/ledger.ts';
import { listFolders } from '../mail/listing.ts';
import { PipelinedAppender } from '../mail/wire/appender.ts';
import { isWritableFlag } from '../mail/wire/syntax.ts';
import { imapflowTarget, pipelinedTarget, type AppendTarget } from '../mail/writer.ts';
import { DavImport, type FileCollectionReport } from './dav-import.ts';
import type { FileMessage, FileSource } from './items.ts';
import type { GroupwareLedger } from '../groupware/ledger.ts';
import type { DavEndpoint } from '../plugins/contract.ts';
import { fileIdentity, FileLedger } from './ledger.ts';
import { openFileSource, type OpenOptions } from './open.ts';

const BATCH_BYTES = 8 * 1024 * 1024;

export interface FileFolderReport {
  file: string;
  source: string;
  dest: string;
  specialUse?: string;
  /** Messages the file holds in this folder (imported or not), and their bytes. */
  messages: number;
  bytes: number;
  copied: number;
  copiedBytes: number;
  /** Already imported by an earlier run (in the ledger). */
  alreadyImported: number;
  /** On the destination though not in the ledger (a run killed between APPEND and ledger): recorded, not appended. */
  matched: number;
  skipped: number;
  /** What is not imported, and why (the first 1,000 of a folder). */
  skips: Array<{ id: string; reason: string }>;
  failed: number;
  failures: Array<{ id: string; reason: string }>;
}

export interface FileImportReport {
  dryRun: boolean;
  files: Array<{ file: string; format: FileSource['format']; identity: string; note?: string }>;
  folders: FileFolderReport[];
  /** Contacts, events and tasks: one entry per PST folder or .ics/.vcf file and kind. */
  collections: FileCollectionReport[];
  messages: number;
  copied: number;
  bytes: number;
  alreadyImported: number;
  matched: number;
  skipped: number;
  failed: number;
  /** DAV items the destination refused or that could not be imported for want of a DAV server. */
  davSkipped: number;
  /** DAV items that failed on a server error (retryable). */
  davFailed: number;
  seconds: number;
}

export interface FileImportOptions extends OpenOptions {
  files: string[];
  dest: ImapEndpoint;
  /** The JSON-lines ledger (`--state`); memory when absent. */
  ledgerFile?: string;
  /** Contacts, calendars and tasks: the destination's DAV login (an empty url: discover it from the login's domain) and its ledger. */
  dav?: { endpoint: DavEndpoint; ledger?: GroupwareLedger };
  dryRun: boolean;
  log?: Logger;
  onProgress?: (progress: { copied: number; bytes: number; seen: number }) => void;
}

const MAX_LISTED = 1000;
const sourcePath = (folder: string[]) => (folder.length ? folder.join('/') : 'INBOX');

interface Opened { file: string; source: FileSource; identity: string; folders: string[][]; davFolders: Set<string> }

/**
 * Imports mail files into one destination account: the folder plan a server copy would make
 * (special-use and localised names included), then each file's messages in its order through
 * the copy engine's appender, each one recorded in the ledger under the file's identity and its
 * item id. A message already in the ledger, or on the destination with the same fingerprint, is
 * not sent again, so a killed run resumes and a second run imports nothing.
 */
export async function importFiles(options: FileImportOptions): Promise<FileImportReport> {
  const startedAt = Date.now();
  const opened: Opened[] = [];
  try {
    for (const file of options.files) {
      const source = await openFileSource(file, options);
      const davFolders = new Set((await source.nonMailFolders?.() ?? []).map(sourcePath));
      opened.push({ file, source, identity: await fileIdentity(file), folders: await source.folders(), davFolders });
    }
    const client = await openImap(options.dest, options.log);
    try {
      const listed = await listFolders(client);
      const destSide = sideOf({ namespace: namespaceOf(client, listed), folders: listed });
      const plan = planFolders(fileSide(opened), destSide);
      const byPath = new Map(plan.map((entry) => [entry.source, entry]));
      const nonMail = new Set(opened.flatMap((o) => [...o.davFolders]));
      if (!options.dryRun) await ensureDestFolders(client, listed, plan.filter((entry) => !nonMail.has(entry.source)), options.dest.host);
      const ledger = FileLedger.open(options.dryRun ? undefined : options.ledgerFile);
      try {
        return await run(options, opened, byPath, client, ledger, startedAt);
      } finally {
        ledger.close();
      }
    } finally {
      await closeQuietly(client);
    }
  } finally {
    for (const one of opened) await one.source.close().catch(() => undefined);
  }
}

function fileSide(opened: Opened[]): FolderSide {
  const paths = new Set<string>(['INBOX']);
  for (const one of opened) for (const folder of one.folders) paths.add(sourcePath(folder));
  return { namespace: { prefix: '', delimiter: '/' }, folders: [...paths].map((path) => ({ path, delimiter: '/', subscribed: true, selectable: true })) };
}

interface Batch { entry: FolderPlanEntry; report: FileFolderReport; items: FileMessage[]; bytes: number }

async function run(options: FileImportOptions, opened: Opened[], byPath: Map<string, FolderPlanEntry>, client: ImapFlow, ledger: FileLedger, startedAt: number): Promise<FileImportReport> {
  const reports = new Map<string, FileFolderReport>();
  const reportFor = (file: string, entry: FolderPlanEntry) => {
    const key = `${file}\0${entry.source}`;
    let report = reports.get(key);
    if (!report) {
      report = { file, source: entry.source, dest: entry.dest, ...(entry.specialUse && { specialUse: entry.specialUse }), messages: 0, bytes: 0, copied: 0, copiedBytes: 0, alreadyImported: 0, matched: 0, skipped: 0, skips: [], failed: 0, failures: [] };
      reports.set(key, report);
    }
    return report;
  };
  // Empty folders are part of the plan too: the dry run lists them.
  for (const one of opened) for (const folder of one.folders) reportFor(one.file, byPath.get(sourcePath(folder))!);

  const totals = { copied: 0, bytes: 0, seen: 0 };
  const writer = options.dryRun ? undefined : await DestWriter.open(options.dest, client, ledger);
  const login = options.dav?.endpoint.auth.user ?? '';
  const dav = new DavImport({
    dest: options.dav?.endpoint ?? { url: '', tlsVerify: true, auth: { user: '', pass: '' } },
    ...(options.dav && login.includes('@') && { domain: login.slice(login.lastIndexOf('@') + 1) }),
    ledger: options.dav?.ledger, dryRun: options.dryRun || !options.dav?.ledger,
  });
  try {
    for (const one of opened) {
      let batch: Batch | undefined;
      const flush = async () => {
        if (batch && writer) await writer.write(batch, one.identity, totals);
        batch = undefined;
        options.onProgress?.({ ...totals });
      };
      for await (const item of one.source.items()) {
        totals.seen++;
        if (item.kind === 'dav') {
          await dav.add(one.file, one.identity, item);
          options.onProgress?.({ ...totals });
          continue;
        }
        if (item.kind === 'skip' && item.collection) {
          dav.skipItem(one.file, one.identity, item.folder, item.collection, item.id, item.reason);
          continue;
        }
        const entry = byPath.get(sourcePath(item.folder))!;
        const report = reportFor(one.file, entry);
        if (item.kind === 'skip') {
          report.skipped++;
          if (report.skips.length < MAX_LISTED) report.skips.push({ id: item.id, reason: item.reason });
          continue;
        }
        report.messages++;
        report.bytes += item.content.length;
        if (ledger.has(one.identity, item.id)) { report.alreadyImported++; continue; }
        if (!writer) continue;
        if (batch && (batch.entry !== entry || batch.items.length >= writer.maxBatch || batch.bytes + item.content.length > BATCH_BYTES)) await flush();
        batch ??= { entry, report, items: [], bytes: 0 };
        batch.items.push(item);
        batch.bytes += item.content.length;
      }
      await flush();
    }
  } finally {
    writer?.close();
    await dav.finish();
  }
  const folders = [...reports.values()].filter((f) => !(f.messages === 0 && f.skipped === 0 && davOnly(opened, f)));
  const collections = dav.reports;
  const sum = (key: 'messages' | 'copied' | 'copiedBytes' | 'alreadyImported' | 'matched' | 'skipped' | 'failed') => folders.reduce((n, f) => n + f[key], 0);
  return {
    dryRun: options.dryRun,
    files: opened.map((o) => ({ file: o.file, format: o.source.format, identity: o.identity, ...(o.source.note && { note: o.source.note }) })),
    folders, messages: sum('messages'), copied: sum('copied'), bytes: sum('copiedBytes'), alreadyImported: sum('alreadyImported'),
    matched: sum('matched'), skipped: sum('skipped'), failed: sum('failed'),
    collections, davSkipped: collections.filter((c) => c.state !== 'failed').reduce((n, c) => n + c.skipped, 0),
    davFailed: collections.filter((c) => c.state === 'failed').reduce((n, c) => n + c.skipped, 0),
    seconds: (Date.now() - startedAt) / 1000,
  };
}

/** A PST's contacts or calendar folder, whose items are reported as collections rather than as mail folders. */
function davOnly(opened: Opened[], folder: FileFolderReport): boolean {
  return opened.some((o) => o.file === folder.file && o.davFolders.has(folder.source));
}

/** The message as an IMAP server keeps it (CRLF line ends), which is what its fingerprint was taken of. */
function asStored(content: Buffer): Buffer {
  for (let i = content.indexOf(0x0a); i !== -1; i = content.indexOf(0x0a, i + 1)) {
    if (i === 0 || content[i - 1] !== 0x0d) return Buffer.from(content.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  }
  return content;
}

/** The destination side of the copy engine, fed from files: its appender, its fingerprint matching. */
class DestWriter {
  private readonly inspected = new Map<string, DestInspection>();
  private constructor(private readonly client: ImapFlow, private readonly appender: PipelinedAppender, private readonly target: AppendTarget, private readonly ledger: FileLedger, private readonly host: string) {}

  static async open(dest: ImapEndpoint, client: ImapFlow, ledger: FileLedger): Promise<DestWriter> {
    const appender = await PipelinedAppender.connect(dest);
    // Without LITERAL+ and MULTIAPPEND, imapflow appends one message at a time.
    return new DestWriter(client, appender, appender.pipelines ? pipelinedTarget(appender) : imapflowTarget(client), ledger, dest.host);
  }

  get maxBatch(): number {
    return this.target.maxBatch;
  }

  close(): void {
    this.appender.close();
  }

  // What the destination folder holds that the ledger does not name: copies a killed run
  // appended before it could record them, recognised by fingerprint (inspectDest needs only the
  // ledger's destination UIDs).
  private async inspect(entry: FolderPlanEntry): Promise<DestInspection> {
    let inspection = this.inspected.get(entry.dest);
    if (!inspection) {
      const known: Pick<LedgerStore, 'destUids'> = { destUids: async (folder) => this.ledger.destUids(folder) };
      inspection = await inspectDest(this.client, entry, 'file', known as LedgerStore).catch((err: unknown) => { throw mapImapError(err, this.host, `SELECT ${entry.dest}`); });
      this.inspected.set(entry.dest, inspection);
    }
    return inspection;
  }

  async write(batch: Batch, identity: string, totals: { copied: number; bytes: number }): Promise<void> {
    const { entry, report } = batch;
    const { alreadyThere, accepts } = await this.inspect(entry);
    const pending: FileMessage[] = [];
    // Most runs find nothing unaccounted for: no message is then re-encoded to be compared.
    const unclaimed = alreadyThere.size > 0;
    for (const item of batch.items) {
      const stored = unclaimed ? asStored(item.content) : undefined;
      const matched = stored && alreadyThere.take(headerBytes(stored), stored.length, item.internalDate);
      if (matched === undefined) { pending.push(item); continue; }
      this.ledger.record([{ file: identity, item: item.id, folder: entry.dest, uid: matched }]);
      report.matched++;
    }
    if (!pending.length) return;
    const toAppend = (items: FileMessage[]) => items.map((item) => ({ content: item.content, flags: item.flags.filter((f) => accepts(f) && isWritableFlag(f)), internalDate: item.internalDate }));
    const record = (items: FileMessage[], uids: Array<number | null>) => {
      this.ledger.record(items.map((item, i) => ({ file: identity, item: item.id, folder: entry.dest, uid: uids[i] ?? null })));
      for (const item of items) {
        report.copied++;
        report.copiedBytes += item.content.length;
        totals.copied++;
        totals.bytes += item.content.length;
      }
    };
    const outcome = await this.target.append(entry.dest, toAppend(pending));
    if (outcome.ok) { record(pending, outcome.uids); return; }
    // A batch is all or nothing: the refused message(s) are found by sending them one by one.
    for (const item of pending) {
      const single = pending.length === 1 ? outcome : await this.target.append(entry.dest, toAppend([item]));
      if (single.ok) { record([item], single.uids); continue; }
      report.failed++;
      if (report.failures.length < MAX_LISTED) report.failures.push({ id: item.id, reason: `${single.status}${single.code ? ` [${single.code}]` : ''} ${single.text}`.trim() });
    }
  }
}
