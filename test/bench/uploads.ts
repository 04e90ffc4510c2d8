// Upload bombs against a running panel (issue 11): each case in a child process of its own, so
// its peak RSS is its own. While the upload is read, a second client asks GET /login one request
// after another: the slowest answer is how long the panel was unavailable. Prints one line per case.
//   node --import tsx test/bench/uploads.ts            all cases
//   node --import tsx test/bench/uploads.ts CASE       one case, in this process (what the parent runs)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { insertProject } from '../db/fixtures.ts';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { deflatedSpaces, writeZip, type ZipEntry } from '../support/zip.ts';
import { Client, startPanel } from '../web/client.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const CASES: Record<string, () => Promise<{ name: string; data: Buffer; type: string }>> = {
  // ~4 MB that inflates to ~4 GB of XML white space in the first sheet.
  'xlsx-bomb-4GB': async () => ({ name: 'bomb.xlsx', type: XLSX, data: writeZip([{ name: '[Content_Types].xml', data: Buffer.from('<Types/>') }, { name: 'xl/worksheets/sheet1.xml', ...deflatedSpaces(4095) }]) }),
  // The same, with every header claiming the sheet unpacks to 1 KB: only inflating it tells.
  'xlsx-bomb-4GB-lying': async () => ({ name: 'bomb.xlsx', type: XLSX, data: writeZip([{ name: '[Content_Types].xml', data: Buffer.from('<Types/>') }, { name: 'xl/worksheets/sheet1.xml', ...deflatedSpaces(4095), size: 1024 }]) }),
  // A real workbook whose one cell holds 400 MB of text: about 400 KB on disk.
  'xlsx-400MB-cell': async () => {
    const cell = deflatedSpaces(400);
    const xml = (body: string) => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
    return {
      name: 'cell.xlsx', type: XLSX, data: writeZip([
        { name: '[Content_Types].xml', data: xml('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>') },
        { name: '_rels/.rels', data: xml('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>') },
        { name: 'xl/workbook.xml', data: xml('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="m" sheetId="1" r:id="rId1"/></sheets></workbook>') },
        { name: 'xl/_rels/workbook.xml.rels', data: xml('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>') },
        sheetWithOneBigCell(400),
      ]),
    };
  },
  // 2 MB, one million rows.
  'csv-1M-rows': async () => ({ name: 'rows.csv', type: 'text/csv', data: Buffer.from('address\n' + 'a\n'.repeat(1_000_000)) }),
};

/** xl/worksheets/sheet1.xml: a header cell, then one inline-string cell of `megabytes` MB of spaces (kept by xml:space). */
function sheetWithOneBigCell(megabytes: number): ZipEntry {
  const head = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>address</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t xml:space="preserve">x');
  const tail = Buffer.from('</t></is></c></row></sheetData></worksheet>');
  const spaces = Buffer.alloc(1024 * 1024, 0x20);
  let crc = crc32(head);
  for (let i = 0; i < megabytes; i++) crc = crc32(spaces, crc);
  crc = crc32(tail, crc);
  const body = deflatedSpaces(megabytes).deflated;
  return {
    name: 'xl/worksheets/sheet1.xml', size: head.length + megabytes * spaces.length + tail.length, crc,
    // Flushed runs are self-contained, so they concatenate; the spaces' own final empty block (2 bytes) is dropped.
    deflated: Buffer.concat([deflateRawSync(head, { finishFlush: constants.Z_FULL_FLUSH }), body.subarray(0, body.length - 2), deflateRawSync(tail)]),
  };
}

function curl(args: string[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-s', '-w', '\n%{http_code}', ...args]);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
    child.on('error', reject).on('close', () => {
      const at = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(at + 1)), text: out.slice(0, at) });
    });
  });
}

async function runCase(name: string): Promise<void> {
  const file = await CASES[name]!();
  const panel = await startPanel({}, { CUTOVER_LOG_LEVEL: 'silent' });
  try {
    const { projectId } = await insertProject(panel.app.db);
    // The fixture's platforms have no configuration; the import page builds the source's connector.
    const config = { database: { client: 'sqlite3', filename: path.join(panel.app.config.dataDir, 'pfa.sqlite') }, imap: { host: '127.0.0.1', port: 1143, security: 'none' }, masterUser: { user: 'm', password: 'p' }, mailHost: 'mx.example.test', expectedDns: { mx: [{ priority: 10, exchange: 'mx.example.test' }] } };
    await panel.app.db('platforms').update({ config_sealed: panel.app.box.seal(JSON.stringify(config)) });
    const upload = path.join(mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-')), file.name);
    writeFileSync(upload, file.data);
    const admin = new Client(panel.url);
    await admin.login();
    const token = await admin.token(`/projects/${projectId}/import`);
    const visitor = new Client(panel.url);
    await visitor.request('/login');
    // The same polling with nothing else going on: what /login costs on this machine right now.
    const idle: number[] = [];
    for (let i = 0; i < 15; i++) {
      const at = performance.now();
      await visitor.request('/login');
      idle.push(performance.now() - at);
      await new Promise((r) => setTimeout(r, 20));
    }
    idle.sort((a, b) => a - b);
    const rssBefore = process.memoryUsage().rss;
    const latencies: number[] = [];
    let uploading = true;
    const poll = (async () => {
      while (uploading) {
        const at = performance.now();
        await visitor.request('/login');
        latencies.push(performance.now() - at);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const started = performance.now();
    // curl sends the file from another process: only the panel's own work shows in this one.
    const res = await curl(['-b', admin.cookie, '-F', `_csrf=${token}`, '-F', `file=@${upload};type=${file.type}`, `${panel.url}/projects/${projectId}/import`]);
    const took = performance.now() - started;
    uploading = false;
    await poll;
    const reason = /class="flash error" role="alert">([^<]+)/.exec(res.text)?.[1] ?? '';
    latencies.sort((a, b) => a - b);
    console.log(JSON.stringify({
      case: name, fileBytes: file.data.length, status: res.status, uploadMs: Math.round(took),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), rssBeforeMB: Math.round(rssBefore / 1024 / 1024),
      idleLoginMaxMs: Math.round(idle.at(-1)!), idleLoginMedianMs: Math.round(idle[7]!), loginRequests: latencies.length, loginMaxMs: Math.round(latencies.at(-1) ?? 0), loginMedianMs: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
      answer: reason.trim().slice(0, 160),
    }));
  } finally {
    await panel.close();
  }
}

const only = process.argv[2];
if (only) {
  await runCase(only);
} else {
  for (const name of Object.keys(CASES)) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), name], { encoding: 'utf8', timeout: 600_000 });
    const line = child.stdout.trim().split('\n').at(-1);
    console.log(line && line.startsWith('{') ? line : JSON.stringify({ case: name, exit: child.status, signal: child.signal, stderr: child.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 300) }));
  }
}
