import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { parseMailboxFile } from '../../server/services/import-parse.ts';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from '../../server/services/import-read.ts';
import { deflatedSpaces, writeZip } from '../support/zip.ts';

const LIMITS: ImportLimits = { ...DEFAULT_IMPORT_LIMITS, maxUnpackedBytes: 20 * 1024 * 1024 };

async function xlsx(rows: unknown[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('mailboxes');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const CONTENT_TYPES = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>';

/** The longest the event loop was held while `work` ran, in ms. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const [result] = await Promise.allSettled([work()]);
  histogram.disable();
  return { result, stallMs: histogram.max / 1e6 };
}

test('a small xlsx that unpacks to 256 MB is refused by its unpacked size, before any XML is parsed', async () => {
  const bomb = writeZip([{ name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES) }, { name: 'xl/worksheets/sheet1.xml', ...deflatedSpaces(256) }]);
  assert.ok(bomb.length < 400_000, `${bomb.length} bytes`);
  await assert.rejects(parseMailboxFile(bomb, LIMITS), /unpacks to more than 20 MB/);
});

test('a bomb whose headers all claim 1 KB is refused too: the entry is really inflated, and only up to the limit', async () => {
  const { deflated, crc } = deflatedSpaces(256);
  const bomb = writeZip([{ name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES) }, { name: 'xl/worksheets/sheet1.xml', deflated, crc, size: 1024 }]);
  const before = process.memoryUsage().rss;
  await assert.rejects(parseMailboxFile(bomb, LIMITS), /unpacks to more than 20 MB/);
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'the inflated bytes are counted, not kept');
});

test('an xlsx whose entries lie about their size, or hide data between them, is refused', async () => {
  const honest = writeZip([{ name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES) }, { name: 'xl/worksheets/sheet1.xml', ...deflatedSpaces(2) }]);
  const lying = Buffer.from(honest);
  // The central directory's uncompressed size of the sheet says 1 KB, for 2 MB of data.
  const directory = lying.readUInt32LE(lying.length - 6);
  const second = directory + 46 + '[Content_Types].xml'.length;
  lying.writeUInt32LE(1024, second + 24);
  await assert.rejects(parseMailboxFile(lying, LIMITS), /says .* unpacks to 1024 bytes|Excel file cannot be read \(/);
  const hidden = Buffer.concat([honest.subarray(0, directory), Buffer.from('PK\u0003\u0004 hidden entry'), honest.subarray(directory)]);
  await assert.rejects(parseMailboxFile(hidden, LIMITS), /Excel file cannot be read \(/);
});

test('xlsx: rows, columns and cell length are limited while reading; a file within them reads as before', async () => {
  const ok = await xlsx([['address', 'source_password'], ['alice@example.test', 'pw-1'], ['bob@example.test', 12345]]);
  assert.deepEqual(await parseMailboxFile(ok, LIMITS), [
    { line: 2, address: 'alice@example.test', sourcePassword: 'pw-1', destPassword: undefined },
    { line: 3, address: 'bob@example.test', sourcePassword: '12345', destPassword: undefined },
  ]);
  await assert.rejects(parseMailboxFile(await xlsx([['address'], ['a@example.test', 'x'.repeat(5000)]]), LIMITS), /row 2, column 2: a cell of 5000 characters; at most 1024/);
  await assert.rejects(parseMailboxFile(await xlsx([['address', ...Array(60).fill('x')]]), LIMITS), /row 1 has 61 columns; at most 50/);
  await assert.rejects(parseMailboxFile(await xlsx([['address'], ...Array.from({ length: 30 }, (_, i) => [`u${i}@example.test`])]), { ...LIMITS, maxRows: 20 }), /more than 20 rows/);
});

test('CSV: a 2 MB file of 1 million rows is refused at the row limit without holding the event loop', async () => {
  const csv = Buffer.from('address\n' + 'a\n'.repeat(1_000_000));
  const { result, stallMs } = await longestStall(() => parseMailboxFile(csv, LIMITS));
  assert.equal(result.status, 'rejected');
  assert.match(String((result as PromiseRejectedResult).reason), /more than 10000 rows/);
  assert.ok(stallMs < 1000, `the event loop was held ${stallMs.toFixed(0)} ms`);
});

test('CSV: columns and cell length are limited; a file within them reads as before', async () => {
  assert.deepEqual(await parseMailboxFile(Buffer.from('\uFEFFAddress;Source password\nalice@example.test;"p;w"\n'), LIMITS), [
    { line: 2, address: 'alice@example.test', sourcePassword: 'p;w', destPassword: undefined },
  ]);
  await assert.rejects(parseMailboxFile(Buffer.from(`address,x\na@example.test,"${'y'.repeat(3000)}"\n`), LIMITS), /line 2, column 2: a cell of 3000 characters; at most 1024/);
  await assert.rejects(parseMailboxFile(Buffer.from(`address${',x'.repeat(80)}\n`), LIMITS), /line 1 has 81 columns; at most 50/);
  await assert.rejects(parseMailboxFile(Buffer.from(`address\n"${'z'.repeat(4_000_000)}`), LIMITS), /a cell of more than 1024 characters|a cell of \d+ characters/);
});

test('the limits come from the configuration, and a configuration cannot raise the rows past one batch', async () => {
  const { loadConfig } = await import('../../server/config.ts');
  const { tempDataDir } = await import('../support/cli.ts');
  const env = { CUTOVER_DATA_DIR: tempDataDir() };
  assert.deepEqual(loadConfig(env).importLimits, DEFAULT_IMPORT_LIMITS);
  assert.deepEqual(loadConfig({ ...env, CUTOVER_IMPORT_MAX_ROWS: '200', CUTOVER_IMPORT_MAX_COLUMNS: '5', CUTOVER_IMPORT_MAX_CELL_CHARS: '300', CUTOVER_IMPORT_MAX_UNPACKED_MB: '8' }).importLimits,
    { maxRows: 200, maxColumns: 5, maxCellChars: 300, maxUnpackedBytes: 8 * 1024 * 1024 });
  assert.throws(() => loadConfig({ ...env, CUTOVER_IMPORT_MAX_ROWS: '20000' }), /CUTOVER_IMPORT_MAX_ROWS/);
});
