import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { emlItem } from './eml.ts';
import { MAX_FILE_MESSAGE_BYTES, unreadable, type FileItem, type FileSource } from './items.ts';

/** Past this ratio of inflated to stored bytes, an entry above BOMB_MIN_BYTES is a zip bomb. */
const BOMB_RATIO = 100;
const BOMB_MIN_BYTES = 1024 * 1024;
const MAX_ENTRIES = 1_000_000;
const MAX_TOTAL_BYTES = 100 * 1024 ** 3;

function openZip(file: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    // Names are checked here (one bad name is one skipped entry, not a refused archive).
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) reject(unreadable(file, `not a readable ZIP archive (${err?.message ?? 'no archive'})`, err));
      else resolve(zip);
    });
  });
}

async function* entries(zip: ZipFile): AsyncGenerator<Entry> {
  for (;;) {
    const next = await new Promise<Entry | undefined>((resolve, reject) => {
      const onEntry = (entry: Entry) => { cleanup(); resolve(entry); };
      const onEnd = () => { cleanup(); resolve(undefined); };
      const onError = (err: Error) => { cleanup(); reject(err); };
      const cleanup = () => { zip.off('entry', onEntry); zip.off('end', onEnd); zip.off('error', onError); };
      zip.on('entry', onEntry);
      zip.on('end', onEnd);
      zip.on('error', onError);
      zip.readEntry();
    });
    if (!next) return;
    yield next;
  }
}

function entryName(entry: Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  // Bit 11: the name is UTF-8; otherwise CP437, of which latin1 gets the ASCII part right.
  return raw.toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
}

/** Why an entry's name cannot be a folder path inside the account, if it cannot. */
export function unsafeName(name: string): string | undefined {
  const segments = name.replace(/\\/g, '/').split('/');
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-z]:/i.test(name)) return 'an absolute path';
  if (segments.some((s) => s === '..')) return 'a path with "../" (it points outside the archive)';
  if (name.includes('\0')) return 'a NUL byte in the name';
  return undefined;
}

function readEntry(zip: ZipFile, entry: Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) { reject(err ?? new Error('no stream')); return; }
      const parts: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // yauzl stops at the declared size; this guards an archive whose declared size lies too.
        if (bytes > MAX_FILE_MESSAGE_BYTES) { stream.destroy(new Error('inflates past the message size limit')); return; }
        parts.push(chunk);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(parts)));
    });
  });
}

/** A ZIP of .eml files; its directories are folders. Nothing is written to disk. */
export function openZipOfEml(file: string): FileSource {
  let zip: ZipFile | undefined;
  const opened = async () => (zip ??= await openZip(file));
  return {
    path: file,
    format: 'zip',
    async folders() {
      const folders = new Map<string, string[]>([['', []]]);
      const scan = await openZip(file);
      try {
        for await (const entry of entries(scan)) {
          const name = entryName(entry);
          if (unsafeName(name)) continue;
          const segments = name.split('/').filter(Boolean);
          const dirs = name.endsWith('/') ? segments : segments.slice(0, -1);
          for (let i = 1; i <= dirs.length; i++) folders.set(dirs.slice(0, i).join('/'), dirs.slice(0, i));
        }
      } finally {
        scan.close();
      }
      return [...folders.values()];
    },
    async *items() {
      const archive = await opened();
      let count = 0;
      let total = 0;
      for await (const entry of entries(archive)) {
        const name = entryName(entry);
        if (name.endsWith('/')) continue;
        const segments = name.replace(/\\/g, '/').split('/').filter(Boolean);
        const unsafe = unsafeName(name);
        const folder = unsafe ? [] : segments.slice(0, -1);
        const skip = (reason: string): FileItem => ({ kind: 'skip', id: name, folder, size: entry.uncompressedSize, reason });
        if (++count > MAX_ENTRIES) throw unreadable(file, `more than ${MAX_ENTRIES} entries: refused as a zip bomb`);
        total += entry.uncompressedSize;
        if (total > MAX_TOTAL_BYTES) throw unreadable(file, `it inflates to more than ${MAX_TOTAL_BYTES} bytes: refused as a zip bomb`);
        if (unsafe) { yield skip(`refused: ${unsafe}`); continue; }
        if (entry.isEncrypted()) { yield skip('encrypted entry'); continue; }
        if (!/\.eml$/i.test(name)) { yield skip('not an .eml file'); continue; }
        if (entry.uncompressedSize > BOMB_MIN_BYTES && entry.uncompressedSize > entry.compressedSize * BOMB_RATIO) {
          yield skip(`refused as a zip bomb: ${entry.compressedSize} bytes inflate to ${entry.uncompressedSize}`);
          continue;
        }
        if (entry.uncompressedSize > MAX_FILE_MESSAGE_BYTES) { yield skip(`${entry.uncompressedSize} bytes is over the ${MAX_FILE_MESSAGE_BYTES}-byte limit for one message`); continue; }
        let content: Buffer;
        try {
          content = await readEntry(archive, entry);
        } catch (err) {
          yield skip(`cannot be inflated: ${(err as Error).message}`);
          continue;
        }
        yield emlItem(name, folder, content, entry.getLastModDate());
      }
    },
    async close() { zip?.close(); },
  };
}
