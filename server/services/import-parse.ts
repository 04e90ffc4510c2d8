import { CutoverError } from '../errors.ts';
import { DEFAULT_IMPORT_LIMITS, readCsvRecords, readXlsxRecords, type ImportLimits } from './import-read.ts';
import type { NumberedRow } from './mailbox-rows.ts';

/** One file, one project's batch: beyond this, split the file (the dry run checks each row against the source). */
export const MAX_IMPORT_ROWS = 10_000;
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
/** Microsoft 365's migration-batch shape: a login may differ from the address on either side. */
export const IMPORT_COLUMNS = ['address', 'source_login', 'source_password', 'dest_login', 'dest_password'] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

// Headers as admins write them, in either language, once lower-cased and with spaces and dashes as underscores.
const HEADER_ALIASES: Record<string, Column> = {
  address: 'address', email: 'address', e_mail: 'address', mail: 'address', mailbox: 'address', adresse: 'address', emailaddress: 'address', email_address: 'address',
  // Microsoft 365's IMAP migration CSV is EmailAddress,UserName,Password: UserName is the source login.
  source_login: 'source_login', username: 'source_login', user_name: 'source_login', login: 'source_login', source_user: 'source_login', old_login: 'source_login', identifiant_source: 'source_login',
  dest_login: 'dest_login', destination_login: 'dest_login', dest_user: 'dest_login', new_login: 'dest_login', identifiant_destination: 'dest_login',
  source_password: 'source_password', password: 'source_password', old_password: 'source_password', mot_de_passe_source: 'source_password',
  dest_password: 'dest_password', destination_password: 'dest_password', new_password: 'dest_password', mot_de_passe_destination: 'dest_password',
};

function unreadable(detail: string): CutoverError {
  return new CutoverError('INPUT_INVALID', { detail });
}

function normaliseHeader(cell: string): string {
  return cell.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** Where each known column is; the address column is required, the others may be missing. */
function columnsOf(header: string[]): Partial<Record<Column, number>> {
  const columns: Partial<Record<Column, number>> = {};
  header.forEach((cell, index) => {
    const column = HEADER_ALIASES[normaliseHeader(cell)];
    if (column && columns[column] === undefined) columns[column] = index;
  });
  if (columns.address === undefined) {
    throw unreadable(`the first row must be the header ${IMPORT_COLUMNS.join(',')} (the logins and passwords may be left out; found "${header.join(',').slice(0, 80)}"); download the template`);
  }
  return columns;
}

function toRows(records: Array<{ line: number; cells: string[] }>): NumberedRow[] {
  const [header, ...body] = records;
  if (!header) throw unreadable('the file is empty');
  const columns = columnsOf(header.cells);
  const rows = body.filter((r) => r.cells.some((c) => c.trim() !== '')).map((r) => {
    const cell = (column: Column) => {
      const index = columns[column];
      const value = index === undefined ? '' : (r.cells[index] ?? '').trim();
      return value === '' ? undefined : value;
    };
    const sourceLogin = cell('source_login');
    const destLogin = cell('dest_login');
    return { line: r.line, address: cell('address') ?? '', sourcePassword: cell('source_password'), destPassword: cell('dest_password'), ...(sourceLogin && { sourceLogin }), ...(destLogin && { destLogin }) };
  });
  if (rows.length === 0) throw unreadable('the file has a header but no mailbox rows');
  if (rows.length > MAX_IMPORT_ROWS) throw unreadable(`the file has ${rows.length} rows; at most ${MAX_IMPORT_ROWS} per import: split it`);
  return rows;
}

/** UTF-8 as written by most tools; a file that is not valid UTF-8 is read as Windows-1252 (Excel's "CSV" on Windows). */
function decode(data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return new TextDecoder('windows-1252').decode(data);
  }
}

/** The separator of the header line: Excel writes `;` where the decimal mark is a comma (France). */
function separatorOf(text: string): string {
  // The first non-blank line, found without splitting a million-line file.
  const header = /^[^\r\n]*\S[^\r\n]*$/m.exec(text)?.[0] ?? '';
  const best = [',', ';', '\t'].map((sep) => ({ sep, n: header.split(sep).length - 1 })).reduce((a, b) => (b.n > a.n ? b : a));
  return best.n > 0 ? best.sep : ',';
}

// Reading (streamed, within the limits) is import-read.ts's; this file maps the columns.
async function parseCsv(data: Buffer, limits: ImportLimits): Promise<NumberedRow[]> {
  const text = decode(data).replace(/^\uFEFF/, '');
  return toRows(await readCsvRecords(text, separatorOf(text), limits));
}

async function parseXlsx(data: Buffer, limits: ImportLimits): Promise<NumberedRow[]> {
  const records = await readXlsxRecords(data, limits);
  if (records.length === 0) throw unreadable('the first sheet of the workbook is empty');
  return toRows(records);
}

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE2 = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/**
 * Reads an import file, CSV or Excel (.xlsx), by its content rather than its name: a header row
 * naming the columns (any case, spaces around, a BOM, `,` `;` or tab between), then one mailbox
 * per row. Every failure says what to fix; rows are numbered as the admin's editor shows them.
 */
export async function parseMailboxFile(data: Buffer, limits: ImportLimits = DEFAULT_IMPORT_LIMITS): Promise<NumberedRow[]> {
  if (data.length === 0) throw unreadable('the file is empty');
  if (data.length > MAX_IMPORT_BYTES) throw unreadable(`the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
  if (data.subarray(0, 4).equals(ZIP)) return parseXlsx(data, limits);
  if (data.subarray(0, 4).equals(OLE2)) throw unreadable('this is an old Excel .xls file: save it as .xlsx or CSV');
  if (data.subarray(0, 1024).includes(0)) throw unreadable('this is neither a CSV file nor an Excel .xlsx file');
  return parseCsv(data, limits);
}
