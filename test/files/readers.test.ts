import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { FileItem, FileMessage, FileSkip } from '../../server/files/items.ts';
import { openFileSource } from '../../server/files/open.ts';
import { openMbox } from '../../server/files/mbox.ts';
import { writeZip } from '../support/zip.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PST_DIR = path.join(import.meta.dirname, 'pst');

async function all(file: string, opts = {}): Promise<FileItem[]> {
  const source = await openFileSource(file, opts);
  const items: FileItem[] = [];
  try {
    for await (const item of source.items()) items.push(item);
  } finally {
    await source.close();
  }
  return items;
}
const messages = (items: FileItem[]) => items.filter((i): i is FileMessage => i.kind === 'message');
const skips = (items: FileItem[]) => items.filter((i): i is FileSkip => i.kind === 'skip');

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

const one = 'From: a@example.test\nSubject: one\nX-Mozilla-Status: 0005\n\nbody\n>From the escaped line\n>>From twice escaped\n';
const two = 'From: b@example.test\nSubject: two\nDate: Mon, 2 Jan 2023 10:00:00 +0000\n\nsecond\n';
const mboxText = `From a@example.test Sat Jan  3 01:05:34 1996\n${one}\nFrom b@example.test Mon Jan  2 10:00:00 2023\n${two}`;

test('mboxrd and mboxo unescape ">From " as each defines, and keep every other byte', async () => {
  const file = write('Archive.mbox', mboxText);
  const rd = messages(await all(file, { mboxFlavour: 'mboxrd' }));
  assert.equal(rd.length, 2);
  assert.equal(rd[0]!.content.toString(), one.replace('>From the', 'From the').replace('>>From', '>From'));
  assert.equal(rd[1]!.content.toString(), two);
  assert.deepEqual(rd[0]!.folder, ['Archive']);
  const o = messages(await all(file, { mboxFlavour: 'mboxo' }));
  assert.equal(o[0]!.content.toString(), one.replace('>From the', 'From the'));
  assert.equal(rd[0]!.internalDate?.toISOString(), '1996-01-03T01:05:34.000Z');
  // Ids are byte offsets of the "From " lines: stable across reads.
  assert.deepEqual(rd.map((m) => m.id), ['@0', `@${Buffer.byteLength(`From a@example.test Sat Jan  3 01:05:34 1996\n${one}\n`)}`]);
});

test('Thunderbird X-Mozilla-Status becomes flags; an expunged message is a skip with its reason', async () => {
  const deleted = 'From: c@example.test\nX-Mozilla-Status: 0009\nSubject: gone\n\nx\n';
  const file = write('Inbox', `From - Sat Jan  3 01:05:34 1996\n${one}\nFrom - Sat Jan  3 01:05:34 1996\n${deleted}`);
  const items = await all(file);
  assert.deepEqual(messages(items)[0]!.flags, ['\\Seen', '\\Flagged']);
  assert.deepEqual(messages(items)[0]!.folder, [], 'a file called Inbox goes to the inbox');
  assert.match(skips(items)[0]!.reason, /Thunderbird/);
});

test('a broken "From " separator is a skip with its reason, and the messages around it still come', async () => {
  const file = write('broken.mbox', `From a@example.test Sat Jan  3 01:05:34 1996\n${one}\nFrom garbage line without a date\nthis is not a header line\n\nFrom b@example.test Mon Jan  2 10:00:00 2023\n${two}`);
  const items = await all(file);
  assert.equal(messages(items).length, 2);
  assert.equal(skips(items).length, 1);
  assert.match(skips(items)[0]!.reason, /no header after the "From " line "From garbage/);
});

test('a file that is not what its extension says is refused with both named; an EML without headers is a skip', async () => {
  await assert.rejects(all(write('fake.pst', mboxText)), (err: { code: string; message: string }) => err.code === 'FILE_UNREADABLE' && /PST.*mbox/.test(err.message));
  await assert.rejects(all(write('fake.mbox', 'hello\n')), (err: { code: string }) => err.code === 'FILE_UNREADABLE');
  const items = await all(write('plain.eml', 'just some text, no header\n'));
  assert.match(skips(items)[0]!.reason, /no header fields/);
  const eml = await all(write('ok.eml', two));
  assert.equal(messages(eml)[0]!.content.toString(), two);
  assert.equal(messages(eml)[0]!.internalDate?.toISOString(), '2023-01-02T10:00:00.000Z');
});

test('a directory of EML keeps its tree as folders', async () => {
  write('tree/a.eml', one);
  write('tree/Work/Projects/b.eml', two);
  write('tree/Work/notes.txt', 'x');
  const source = await openFileSource(path.join(dir, 'tree'));
  assert.deepEqual((await source.folders()).map((f) => f.join('/')).sort(), ['', 'Work', 'Work/Projects']);
  const items = await all(path.join(dir, 'tree'));
  assert.deepEqual(messages(items).map((m) => [m.id, m.folder.join('/')]), [['a.eml', ''], ['Work/Projects/b.eml', 'Work/Projects']]);
  assert.match(skips(items)[0]!.reason, /not an \.eml/);
});

test('a ZIP of EML: folders from its paths, "../" and absolute paths refused, a zip bomb refused, nothing written to disk', async () => {
  const bomb = Buffer.alloc(50 * 1024 * 1024, 0x41);
  const file = write('export.zip', writeZip([
    { name: 'Inbox/a.eml', data: Buffer.from(one) },
    { name: 'Archive/2023/b.eml', data: Buffer.from(two) },
    { name: '../../etc/evil.eml', data: Buffer.from(two) },
    { name: '/abs.eml', data: Buffer.from(two) },
    { name: 'bomb.eml', data: bomb },
    { name: 'liar.eml', data: Buffer.alloc(4 * 1024 * 1024, 0x42), declaredSize: 10 },
  ]));
  const before = readFileSync(file).length;
  const items = await all(file);
  assert.deepEqual(messages(items).map((m) => [m.id, m.folder.join('/')]), [['Inbox/a.eml', 'Inbox'], ['Archive/2023/b.eml', 'Archive/2023']]);
  const reasons = Object.fromEntries(skips(items).map((s) => [s.id, s.reason]));
  assert.match(reasons['../../etc/evil.eml']!, /"\.\.\/"/);
  assert.match(reasons['/abs.eml']!, /absolute/);
  assert.match(reasons['bomb.eml']!, /zip bomb/);
  assert.match(reasons['liar.eml']!, /cannot be inflated/);
  assert.equal(readFileSync(file).length, before);
  assert.deepEqual((await (await openFileSource(file)).folders()).map((f) => f.join('/')).sort(), ['', 'Archive', 'Archive/2023', 'Inbox']);
});

test('PST: the Outlook folder tree, mail rebuilt with transport headers, flags and delivery time', async () => {
  const items = await all(path.join(PST_DIR, 'Outlook.pst'));
  const inbox = messages(items).filter((m) => m.folder.join('/') === 'Inbox');
  assert.equal(inbox.length, 8);
  const multi = inbox.find((m) => /Subject: Multiple attachments/.test(m.content.toString()))!;
  assert.ok(multi, 'the message "Multiple attachments" is in the Inbox');
  const text = multi.content.toString();
  assert.match(text, /^Return-Path: saqib\.razzaq@xp\.local\r\nReceived: from xp/);
  assert.match(text, /^From: "Saqib Razzaq" <saqib\.razzaq@xp\.local>/m);
  assert.equal((text.match(/^MIME-Version:/gim) ?? []).length, 1, 'one MIME-Version: the rebuilt one');
  assert.equal(multi.internalDate?.toISOString(), '2011-06-21T23:51:07.000Z');
  assert.ok(multi.flags.includes('\\Seen'));
  // The same item gives the same bytes every time (a re-run recognises its copies).
  const again = messages(await all(path.join(PST_DIR, 'Outlook.pst'))).find((m) => m.id === multi.id)!;
  assert.ok(again.content.equals(multi.content));
  // Contacts and appointments become vCards and VEVENTs for the DAV writer, not skips.
  const contacts = items.filter((i) => i.kind === 'dav' && i.folder.join('/') === 'Contacts');
  assert.equal(contacts.length, 1);
  assert.match(contacts[0]!.kind === 'dav' ? contacts[0]!.data.toString() : '', /^BEGIN:VCARD\r\nVERSION:3\.0\r\n[\s\S]*^FN:Saqib Razzaq\r$[\s\S]*END:VCARD\r\n$/m);
  assert.equal(skips(items).filter((s) => s.folder.join('/') === 'Contacts').length, 0);
});

test('passworded.pst opens (a PST password does not encrypt the data); a truncated PST is a clear error', async () => {
  const source = await openFileSource(path.join(PST_DIR, 'passworded.pst'));
  assert.ok((await source.folders()).some((f) => f.join('/') === 'Contacts'));
  await source.close();
  const whole = readFileSync(path.join(PST_DIR, 'Outlook.pst'));
  const truncated = write('truncated.pst', whole.subarray(0, 64 * 1024));
  await assert.rejects(all(truncated), (err: { code: string; message: string }) => err.code === 'FILE_UNREADABLE' && /truncated\.pst/.test(err.message));
});

test('openMbox keeps CRLF line endings byte for byte', async () => {
  const crlf = 'From: a@example.test\r\nSubject: crlf\r\n\r\nbody\r\n';
  const file = write('crlf.mbox', `From a@example.test Sat Jan  3 01:05:34 1996\r\n${crlf}\r\nFrom b@example.test Sat Jan  3 01:05:34 1996\r\n${crlf}`);
  const source = openMbox(file);
  const got: FileItem[] = [];
  for await (const item of source.items()) got.push(item);
  assert.deepEqual(messages(got).map((m) => m.content.toString()), [crlf, crlf]);
});

test('an mbox of several read chunks gives every message whole, whatever chunk boundary it spans', async () => {
  const expected: string[] = [];
  const parts: string[] = [];
  for (let i = 0; i < 400; i++) {
    const body = `${'x'.repeat(i * 37 % 9000)}\n>From escaped ${i}\n${'y'.repeat(i * 101 % 30000)}\n`;
    const msg = `From: s${i}@example.test\nSubject: ${i}\n\n${body}`;
    expected.push(msg.replace(/^>From escaped/m, 'From escaped'));
    parts.push(`From s${i}@example.test Mon Jan  2 10:00:00 2023\n${msg}\n`);
  }
  const file = write('chunks.mbox', parts.join(''));
  assert.ok(readFileSync(file).length > 3 * 1024 * 1024);
  const got = messages(await all(file));
  assert.equal(got.length, 400);
  got.forEach((m, i) => assert.equal(m.content.toString(), expected[i], `message ${i}`));
});

test('mbox flavour detection: mboxrd, mboxo (Thunderbird), mboxcl and mboxcl2 from Content-Length, each read as written', async () => {
  const read = async (name: string, text: string) => {
    const source = openMbox(write(name, text));
    const items: FileItem[] = [];
    for await (const item of source.items()) items.push(item);
    return { note: source.note ?? '', bodies: messages(items).map((m) => m.content.toString('latin1')) };
  };
  const sep = 'From x@example.test Mon Jan  2 10:00:00 2023\n';
  const rd = await read('rd.mbox', `${sep}Subject: rd\n\n>>From quoted once\n>From was a From line\n\n${sep}Subject: two\n\nend\n`);
  assert.match(rd.note, /^read as mboxrd/);
  assert.deepEqual(rd.bodies, ['Subject: rd\n\n>From quoted once\nFrom was a From line\n', 'Subject: two\n\nend\n']);

  const o = await read('o.mbox', `${sep}Subject: o\nX-Mozilla-Status: 0001\n\n>>From kept as it was\n>From was a From line\n`);
  assert.match(o.note, /^read as mboxo: written by Thunderbird/);
  assert.deepEqual(o.bodies, ['Subject: o\nX-Mozilla-Status: 0001\n\n>>From kept as it was\nFrom was a From line\n']);

  const clBody = 'line\n>From quoted by the writer\n';
  const cl = await read('cl.mbox', `${sep}Subject: cl\nContent-Length: ${clBody.length}\n\n${clBody}\n${sep}Subject: cl two\nContent-Length: 4\n\nend\n`);
  assert.match(cl.note, /^read as mboxcl: Content-Length on every message \(2 read\)/);
  assert.deepEqual(cl.bodies, [`Subject: cl\nContent-Length: ${clBody.length}\n\nline\nFrom quoted by the writer\n`, 'Subject: cl two\nContent-Length: 4\n\nend\n']);

  // mboxcl2 quotes nothing: the body's "From " line after a blank line is not a separator.
  const cl2Body = 'first paragraph\n\nFrom here on, a line that looks like a separator\n>From stays as written\n';
  const cl2 = await read('cl2.mbox', `${sep}Subject: cl2\nContent-Length: ${Buffer.byteLength(cl2Body)}\n\n${cl2Body}\n${sep}Subject: next\nContent-Length: 5\n\nnext\n`);
  assert.match(cl2.note, /^read as mboxcl2: Content-Length on every message \(2 read\), and bodies with unquoted "From " lines/);
  assert.equal(cl2.bodies.length, 2, 'not split at the body\'s "From " line');
  assert.equal(cl2.bodies[0], `Subject: cl2\nContent-Length: ${Buffer.byteLength(cl2Body)}\n\n${cl2Body}`);

  // A Content-Length that does not land on the next separator is not trusted.
  const lying = await read('lying.mbox', `${sep}Subject: a\nContent-Length: 3\n\nlonger than three\n\n${sep}Subject: b\n\nb\n`);
  assert.match(lying.note, /^read as mboxrd/);
  assert.equal(lying.bodies.length, 2);
});
