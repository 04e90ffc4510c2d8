import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { CutoverError } from '../errors.ts';
import type { ImportLimits } from './import-limits.ts';
import { checkUnpackedSize } from './import-zip.ts';

export { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './import-limits.ts';

/** One row of the file as read: its line number as the admin's editor or Excel shows it, and its cells as text. */
export interface RawRecord { line: number; cells: string[] }

// Work done between two turns of the event loop: 1 KB of CSV (csv-parse's stream takes 2-50 µs a
// record, and 1 KB of one-letter rows is 500 records), or this many rows of a sheet.
const CSV_CHUNK = 1024;
const ROWS_PER_TURN = 500;

const refused = (detail: string) => new CutoverError('INPUT_INVALID', { detail });

/** Counts rows and checks each one against the limits; `where` names the row as the admin sees it ("line 3", "row 3"). */
class RecordGuard {
  private rows = 0;
  constructor(private readonly limits: ImportLimits) {}

  check(where: string, cells: string[]): void {
    // The header is one row more than the limit counts.
    if (++this.rows > this.limits.maxRows + 1) throw refused(`the file has more than ${this.limits.maxRows} rows; at most ${this.limits.maxRows} per import: split it`);
    if (cells.length > this.limits.maxColumns) throw refused(`${where} has ${cells.length} columns; at most ${this.limits.maxColumns}`);
    cells.forEach((cell, index) => {
      if (cell.length > this.limits.maxCellChars) throw refused(`${where}, column ${index + 1}: a cell of ${cell.length} characters; at most ${this.limits.maxCellChars}`);
    });
  }
}

/**
 * CSV through csv-parse's stream parser, fed 1 KB at a time with a turn of the event loop in
 * between, so a million rows never hold the panel; reading stops at the first limit passed. A
 * record longer than every allowed cell together is refused by csv-parse itself before it is
 * held whole.
 */
export async function readCsvRecords(text: string, delimiter: string, limits: ImportLimits): Promise<RawRecord[]> {
  const guard = new RecordGuard(limits);
  const records: RawRecord[] = [];
  let failure: unknown;
  const parser = parse({
    delimiter, relax_column_count: true, skip_empty_lines: true, info: true, bom: true,
    max_record_size: limits.maxCellChars * limits.maxColumns + limits.maxColumns,
  });
  parser.on('error', (err) => { failure ??= err; });
  // Records are taken as soon as each chunk is parsed: nothing piles up in the stream's buffer.
  const take = () => {
    for (let next = parser.read(); next !== null && failure === undefined; next = parser.read()) {
      const { record, info } = next as { record: string[]; info: { lines: number } };
      try { guard.check(`line ${info.lines}`, record); } catch (err) { failure = err; break; }
      records.push({ line: info.lines, cells: record });
    }
  };
  for (let at = 0; at < text.length && failure === undefined; at += CSV_CHUNK) {
    parser.write(text.slice(at, at + CSV_CHUNK));
    take();
    await nextTurn();
  }
  if (failure === undefined) {
    await new Promise<void>((resolve) => { parser.once('end', resolve); parser.once('error', () => resolve()); parser.end(); parser.on('readable', take); take(); });
  }
  parser.destroy();
  if (failure === undefined) return records;
  if (failure instanceof CutoverError) throw failure;
  if ((failure as { code?: string }).code === 'CSV_MAX_RECORD_SIZE') throw refused(`a row holds a cell of more than ${limits.maxCellChars} characters; at most ${limits.maxCellChars}`);
  throw refused(`this CSV file cannot be read: ${(failure as Error).message}`);
}

/**
 * The first sheet of an .xlsx through exceljs's streaming reader, after the zip was checked for
 * its real unpacked size (import-zip.ts): rows arrive one at a time and are checked as they come,
 * with a turn of the event loop every few hundred.
 */
export async function readXlsxRecords(data: Buffer, limits: ImportLimits): Promise<RawRecord[]> {
  await checkUnpackedSize(data, limits.maxUnpackedBytes);
  const guard = new RecordGuard(limits);
  const records: RawRecord[] = [];
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([data]), { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', worksheets: 'emit', entries: 'ignore' });
  try {
    for await (const sheet of reader) {
      for await (const row of sheet) {
        // `values` is indexed by column number, with a hole at 0; its length is the last column used.
        const width = Math.max(0, (row.values as unknown[]).length - 1);
        if (width > limits.maxColumns) throw refused(`row ${row.number} has ${width} columns; at most ${limits.maxColumns}`);
        // `text` is what the cell shows: an address Excel turned into a mailto link, a password typed as a number.
        const cells = Array.from({ length: width }, (_, i) => row.getCell(i + 1).text ?? '');
        guard.check(`row ${row.number}`, cells);
        records.push({ line: row.number, cells });
        if (records.length % ROWS_PER_TURN === 0) await nextTurn();
      }
      // The first sheet holds the mailboxes (the template's second sheet is its help).
      break;
    }
  } catch (err) {
    if (err instanceof CutoverError) throw err;
    throw refused(`this Excel file cannot be read: ${(err as Error).message}`);
  }
  return records;
}
