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

// Work done between two turns of the event loop: 64 KB of CSV, or this many rows of a sheet.
const CSV_CHUNK = 64 * 1024;
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
 * CSV through csv-parse's stream, 64 KB at a time with a turn of the event loop in between, so
 * a million rows never hold the panel; reading stops at the first limit passed. A record longer
 * than every allowed cell together is refused by csv-parse itself before it is held whole.
 */
export async function readCsvRecords(text: string, delimiter: string, limits: ImportLimits): Promise<RawRecord[]> {
  const guard = new RecordGuard(limits);
  const parser = parse({ delimiter, relax_column_count: true, skip_empty_lines: true, info: true, bom: true, max_record_size: limits.maxCellChars * limits.maxColumns + limits.maxColumns });
  let stopped = false;
  const feed = (async () => {
    for (let at = 0; at < text.length && !stopped; at += CSV_CHUNK) {
      if (!parser.write(text.slice(at, at + CSV_CHUNK))) await new Promise((resolve) => { parser.once('drain', resolve); parser.once('close', resolve); });
      await nextTurn();
    }
    if (!stopped) parser.end();
  })();
  const records: RawRecord[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      guard.check(`line ${info.lines}`, record);
      records.push({ line: info.lines, cells: record });
    }
  } catch (err) {
    stopped = true;
    parser.destroy();
    if (err instanceof CutoverError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'CSV_MAX_RECORD_SIZE') throw refused(`a row holds a cell of more than ${limits.maxCellChars} characters; at most ${limits.maxCellChars}`);
    throw refused(`this CSV file cannot be read: ${(err as Error).message}`);
  } finally {
    await feed.catch(() => undefined);
  }
  return records;
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
