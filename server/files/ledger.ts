import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';

const EDGE_BYTES = 1024 * 1024;

/**
 * Who a file is, whatever its name or path: its size and a hash of its first and last megabyte.
 * The mtime is left out on purpose: a PST copied to another disk or uploaded again keeps its
 * ledger. A directory of EML is known by its real path (its files carry their own ids).
 */
export async function fileIdentity(file: string): Promise<string> {
  const info = await stat(file);
  if (info.isDirectory()) return `dir:${await realpath(file)}`;
  const handle = await open(file, 'r');
  try {
    const hash = createHash('sha256').update(String(info.size));
    const head = Buffer.alloc(Math.min(EDGE_BYTES, info.size));
    await handle.read(head, 0, head.length, 0);
    hash.update(head);
    if (info.size > EDGE_BYTES) {
      const tail = Buffer.alloc(Math.min(EDGE_BYTES, info.size - EDGE_BYTES));
      await handle.read(tail, 0, tail.length, info.size - tail.length);
      hash.update(tail);
    }
    return `${info.size}:${hash.digest('hex').slice(0, 32)}`;
  } finally {
    await handle.close();
  }
}

export interface FileLedgerEntry { file: string; item: string; folder: string; uid: number | null }

/**
 * file identity + item id → destination folder and UID, one JSON line per imported item, synced
 * after each batch. Without a path it lives in memory (the destination's fingerprints still make
 * a re-run skip what is there).
 */
export class FileLedger {
  private readonly items = new Map<string, FileLedgerEntry>();
  private readonly uidsByFolder = new Map<string, Set<number>>();
  private constructor(private readonly fd: number | undefined) {}

  static open(file?: string): FileLedger {
    if (!file) return new FileLedger(undefined);
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; }
    const ledger = new FileLedger(openSync(file, 'a', 0o600));
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      // A line cut short by a kill is the last one; what it named is found again by fingerprint.
      try { ledger.remember(JSON.parse(line) as FileLedgerEntry); } catch { /* torn last line */ }
    }
    return ledger;
  }

  has(file: string, item: string): boolean {
    return this.items.has(`${file}\0${item}`);
  }

  destUids(folder: string): Set<number> {
    return this.uidsByFolder.get(folder) ?? new Set();
  }

  record(entries: FileLedgerEntry[]): void {
    if (!entries.length) return;
    for (const entry of entries) this.remember(entry);
    if (this.fd === undefined) return;
    writeSync(this.fd, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }

  private remember(entry: FileLedgerEntry): void {
    this.items.set(`${entry.file}\0${entry.item}`, entry);
    if (entry.uid === null) return;
    const uids = this.uidsByFolder.get(entry.folder) ?? new Set<number>();
    uids.add(entry.uid);
    this.uidsByFolder.set(entry.folder, uids);
  }
}
