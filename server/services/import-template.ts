import ExcelJS from 'exceljs';
import { IMPORT_COLUMNS } from './import-parse.ts';

/** The CSV template: the header row alone, so that the file the admin fills in imports as it is. */
export function csvTemplate(): string {
  return `${IMPORT_COLUMNS.join(',')}\r\n`;
}

/**
 * The Excel template: the header row on the first sheet (the one imports read), text-formatted
 * columns so that a password of digits stays as typed, and the admin's explanations on a second sheet.
 */
export async function xlsxTemplate(help: string[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('mailboxes');
  sheet.columns = IMPORT_COLUMNS.map((header) => ({ header, key: header, width: header === 'address' ? 36 : 24, style: { numFmt: '@' } }));
  sheet.getRow(1).font = { bold: true };
  const notes = workbook.addWorksheet('help');
  notes.getColumn(1).width = 110;
  for (const line of help) notes.addRow([line]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
