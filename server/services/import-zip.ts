import { setImmediate as nextTurn } from 'node:timers/promises';
import { createInflateRaw } from 'node:zlib';
import { CutoverError } from '../errors.ts';

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const DESCRIPTOR = 0x08074b50;
const MAX_ENTRIES = 10_000;
const FEED = 64 * 1024;

interface Entry { name: string; method: number; flags: number; compressed: number; size: number; offset: number }

const invalid = (why: string) => new CutoverError('INPUT_INVALID', { detail: `this Excel file cannot be read (${why}): save it again from Excel as .xlsx, or as CSV` });
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

function centralDirectory(zip: Buffer): { entries: Entry[]; start: number } {
  let end = -1;
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) if (zip.readUInt32LE(at) === END) { end = at; break; }
  if (end < 0) throw invalid('no zip directory');
  const count = zip.readUInt16LE(end + 10);
  const start = zip.readUInt32LE(end + 16);
  if (count === 0xffff || start === 0xffffffff) throw invalid('zip64 is not read');
  if (count > MAX_ENTRIES) throw invalid(`${count} entries`);
  const entries: Entry[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL) throw invalid('a damaged zip directory');
    const nameLength = zip.readUInt16LE(at + 28);
    entries.push({
      flags: zip.readUInt16LE(at + 8), method: zip.readUInt16LE(at + 10), compressed: zip.readUInt32LE(at + 20), size: zip.readUInt32LE(at + 24),
      offset: zip.readUInt32LE(at + 42), name: zip.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return { entries, start };
}

/**
 * Where each entry's data is, checked against what a streaming unzipper (exceljs's) will see when
 * it walks the local headers from the first byte: one entry after another, the same names and
 * sizes as the directory, nothing hidden between them, then the directory itself.
 */
function dataRanges(zip: Buffer, entries: Entry[], directoryStart: number): Array<{ entry: Entry; from: number }> {
  let expected = 0;
  const ranges = [...entries].sort((a, b) => a.offset - b.offset).map((entry) => {
    const at = entry.offset;
    if (at !== expected || at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL) throw invalid('entries that overlap or hide data');
    const flags = zip.readUInt16LE(at + 6);
    const nameLength = zip.readUInt16LE(at + 26);
    if (zip.toString('utf8', at + 30, at + 30 + nameLength) !== entry.name || zip.readUInt16LE(at + 8) !== entry.method) throw invalid('headers that disagree');
    if (entry.method !== 0 && entry.method !== 8) throw invalid(`compression method ${entry.method}`);
    if (!(flags & 8) && (zip.readUInt32LE(at + 18) !== entry.compressed || zip.readUInt32LE(at + 22) !== entry.size)) throw invalid('sizes that disagree');
    const from = at + 30 + nameLength + zip.readUInt16LE(at + 28);
    expected = from + entry.compressed;
    if (expected > directoryStart) throw invalid('an entry runs into the directory');
    if (flags & 8) expected += expected + 4 <= zip.length && zip.readUInt32LE(expected) === DESCRIPTOR ? 16 : 12;
    return { entry, from };
  });
  if (expected !== directoryStart) throw invalid('data between the entries and the directory');
  return ranges;
}

/** Inflates one entry to nowhere, counting; stops as soon as the budget is spent. Yields between input chunks. */
async function inflatedSize(data: Buffer, budget: number): Promise<number> {
  const inflater = createInflateRaw();
  let size = 0;
  let overBudget = false;
  const finished = new Promise<void>((resolve, reject) => {
    inflater.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > budget && !overBudget) { overBudget = true; inflater.destroy(); resolve(); }
    });
    inflater.on('end', resolve);
    inflater.on('error', (err) => (overBudget ? resolve() : reject(err)));
    inflater.on('close', () => { if (overBudget) resolve(); });
  });
  for (let at = 0; at < data.length && !overBudget; at += FEED) {
    if (!inflater.write(data.subarray(at, at + FEED))) await Promise.race([new Promise((r) => inflater.once('drain', r)), finished]);
    await nextTurn();
  }
  if (!overBudget) inflater.end();
  try { await finished; } catch (err) { throw invalid(`a damaged entry: ${(err as Error).message}`); }
  return size;
}

/**
 * Refuses a decompression bomb before any XML is parsed: every entry is really inflated (to
 * nowhere, a chunk at a time), and the total may not exceed `maxUnpackedBytes`, whatever the
 * headers claim. Entries must be laid out as the directory says, so what exceljs later inflates
 * is exactly what was counted here.
 */
export async function checkUnpackedSize(zip: Buffer, maxUnpackedBytes: number): Promise<void> {
  const { entries, start } = centralDirectory(zip);
  const declared = entries.reduce((sum, e) => sum + e.size, 0);
  const tooBig = () => new CutoverError('INPUT_INVALID', { detail: `this Excel file unpacks to more than ${mb(maxUnpackedBytes)} (the import limit): keep only the mailbox sheet, or save it as CSV` });
  if (declared > maxUnpackedBytes) throw tooBig();
  let total = 0;
  for (const { entry, from } of dataRanges(zip, entries, start)) {
    const data = zip.subarray(from, from + entry.compressed);
    const size = entry.method === 0 ? data.length : await inflatedSize(data, maxUnpackedBytes - total);
    total += size;
    if (total > maxUnpackedBytes) throw tooBig();
    if (size !== entry.size) throw invalid(`${entry.name} says it unpacks to ${entry.size} bytes, not ${size}`);
  }
}
