import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { CutoverError } from '../../../server/errors.ts';
import { mapImapError } from '../../../server/mail/imap.ts';
import { isThrottle, isTransient, laneBackoffMs } from '../../../server/mail/transient.ts';
import { BODY_ITEMS, FetchReader, LISTING_ITEMS, parseDateTime, parseFetch, Tokens, type FetchedMessage } from '../../../server/mail/wire/fetcher.ts';
import type { ImapEndpoint } from '../../../server/plugins/contract.ts';
import { imapAs, rawMessage, seed } from '../../support/mail.ts';
import { Spool } from '../../../server/mail/spool.ts';
import { readFile } from 'node:fs/promises';
import { inspectDest, inspectDestOnSession, type DestInspection } from '../../../server/mail/dest-folder.ts';
import type { FolderPlanEntry } from '../../../server/mail/folders.ts';
import type { LedgerStore } from '../../../server/mail/ledger.ts';

// The copy's own FETCH reader. Unit tests of the answer parser and of the byte stream against a
// scripted server (chunking, limits, hostile lines); then the same reads against a real Dovecot,
// compared with what imapflow reads there. test/mail/hostile.test.ts runs it through `cutover copy`.

test('a FETCH answer is read whatever the item order, unknown items skipped, the body taken from its literal', () => {
  const body = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  const msg = parseFetch(3, ['* 3 FETCH (MODSEQ (12) FLAGS (\\Seen $Label1 \\*) BODYSTRUCTURE ("TEXT" "PLAIN" NIL "x y" {2}', ') RFC822.SIZE 21 X-GM-LABELS ("\\\\Important") INTERNALDATE "05-Mar-2024 23:30:00 -0130" BODY[] {21}', ' UID 4294967295)'], [Buffer.from('ab'), body]);
  assert.equal(msg.seq, 3);
  assert.equal(msg.uid, 4294967295);
  assert.equal(msg.size, 21);
  assert.deepEqual([...msg.flags!], ['\\Seen', '$Label1', '\\*']);
  assert.equal(msg.internalDate!.toISOString(), '2024-03-06T01:00:00.000Z');
  assert.equal(msg.source, body);
  assert.equal(msg.hadBody, true);
  assert.equal(parseDateTime(' 1-Jan-2024 00:00:00 +0000').toISOString(), '2024-01-01T00:00:00.000Z');
});

test('what is not IMAP in a FETCH answer makes it unreadable, never half-read', () => {
  for (const line of ['* 2 FETCH (UID 2 FLAGS (bad"kw))', '* 2 FETCH (UID x)', '* 2 FETCH (UID 2 INTERNALDATE "32-Foo-2024 00:00:00 +0000")', '* 2 FETCH (UID 2 FLAGS (\\Seen)', '* 2 FETCH (UID 2) trailing', '* 2 FETCH (UID 2 INTERNALDATE "unterminated)']) {
    assert.throws(() => parseFetch(2, [line], []), Error, line);
  }
  assert.equal(parseFetch(1, ['* 1 FETCH (FLAGS (\\Seen))'], []).uid, undefined, 'an unsolicited FETCH names no UID');
});

/** The tokenizer's rules one character at a time (RFC 3501 atoms, quoted strings, sections), as it was written before it used slices. */
function tokenizeByCharacter(text: string): unknown[] | 'unreadable' {
  const out: unknown[] = [];
  let i = 0;
  try {
    for (;;) {
      while (text.charCodeAt(i) === 32) i++;
      if (i >= text.length) return out;
      const c = text[i]!;
      if (c === '(' || c === ')') { out.push(c); i++; continue; }
      if (c === '"') {
        let q = '';
        let j = i + 1;
        for (; j < text.length; j++) {
          if (text[j] === '\\') { q += text[++j] ?? ''; continue; }
          if (text[j] === '"') break;
          q += text[j];
        }
        if (j >= text.length) throw new Error('unterminated');
        out.push({ quoted: q });
        i = j + 1;
        continue;
      }
      const start = i;
      for (; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code === 91) { const close = text.indexOf(']', i); if (close === -1) throw new Error('section'); i = close; continue; }
        if (code === 32 || code === 40 || code === 41) break;
        if (code < 32 || code === 127 || code === 34 || code === 123 || code === 37) throw new Error('in an atom');
      }
      if (i === start) throw new Error('empty');
      const atom = text.slice(start, i);
      out.push(atom === 'NIL' ? null : atom);
    }
  } catch {
    return 'unreadable';
  }
}

test('the tokenizer reads 3,000 random lines of atoms, quoted strings, sections and stray characters as the character-by-character rules do', () => {
  const pieces = ['UID', ' ', ' ', '(', ')', '"', '\\', '\\"', '"05-Mar-2024 23:30:00 -0130"', '"a\\"b"', 'BODY[HEADER.FIELDS (A B)]', 'BODY[]<0>', '[', ']', 'NIL', '{', '%', '\t', '\x7f', 'é', '\\Seen', '$Label1', '12', 'x'];
  let seed = 13;
  const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  let readable = 0;
  for (let round = 0; round < 3000; round++) {
    let line = '';
    for (let k = 1 + random(12); k > 0; k--) line += pieces[random(pieces.length)];
    const expected = tokenizeByCharacter(line);
    let actual: unknown[] | 'unreadable' = [];
    try {
      const tokens = new Tokens([line], []);
      for (let token = tokens.next(); token !== undefined; token = tokens.next()) actual.push(token);
    } catch {
      actual = 'unreadable';
    }
    assert.deepEqual(actual, expected, JSON.stringify(line));
    if (expected !== 'unreadable') readable++;
  }
  // Both outcomes are exercised, not only the errors.
  assert.ok(readable > 500 && readable < 2900, `${readable} of 3,000 lines readable`);
});

const servers: net.Server[] = [];
after(() => { for (const s of servers) s.close(); });

/** A scripted server: each command line is answered by `reply`, written in chunks of `chunk` bytes (1: byte by byte). */
async function scripted(reply: (tag: string, command: string) => Buffer | string | undefined, chunk = 0): Promise<ImapEndpoint> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready\r\n');
    let buffer = '';
    socket.on('data', async (data) => {
      buffer += data.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const [tag, ...rest] = line.split(' ');
        const command = rest.join(' ');
        const out = command.startsWith('AUTHENTICATE') ? `${tag} OK in\r\n` : command === 'CAPABILITY' ? `* CAPABILITY IMAP4rev1\r\n${tag} OK\r\n` : reply(tag!, command);
        if (out === undefined) continue;
        const bytes = Buffer.isBuffer(out) ? out : Buffer.from(out, 'latin1');
        if (!chunk) { socket.write(bytes); continue; }
        for (let i = 0; i < bytes.length; i += chunk) socket.write(bytes.subarray(i, i + chunk));
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, security: 'none', tlsVerify: false, auth: { user: 'u', pass: 'p' } };
}

const EXAMINED = (tag: string) => `* 3 EXISTS\r\n* OK [UIDVALIDITY 777] v\r\n* OK [UIDNEXT 12] n\r\n${tag} OK [READ-ONLY] done\r\n`;

test('bodies arriving a byte at a time are read exactly; EXAMINE gives EXISTS, UIDVALIDITY and UIDNEXT', { timeout: 20_000 }, async () => {
  const bodies = [Buffer.from('Subject: a\r\n\r\n(not a paren) {5}\r\n'), Buffer.from([0, 1, 2, 13, 10, 255]), Buffer.alloc(0)];
  const endpoint = await scripted((tag, command) => {
    if (command.startsWith('EXAMINE')) return EXAMINED(tag);
    return Buffer.concat([
      ...bodies.flatMap((b, i) => [Buffer.from(`* ${i + 1} FETCH (UID ${i + 7} RFC822.SIZE ${b.length} BODY[] {${b.length}}\r\n`), b, Buffer.from(' FLAGS (\\Seen))\r\n')]),
      Buffer.from(`* 2 EXISTS\r\n${tag} OK done\r\n`),
    ]);
  }, 1);
  const reader = await FetchReader.connect(endpoint, { stallMs: 5_000 });
  try {
    assert.deepEqual(await reader.examine('INBOX'), { exists: 3, uidNext: 12, uidValidity: '777' });
    const got: FetchedMessage[] = [];
    await reader.fetch('7:9', BODY_ITEMS, { literalLimit: 100, onMessage: (m) => got.push(m) });
    assert.deepEqual(got.map((m) => [m.uid, m.source?.toString('hex'), [...m.flags!]]), bodies.map((b, i) => [i + 7, b.toString('hex'), ['\\Seen']]));
    assert.equal(reader.mailbox.exists, 2, 'EXISTS during a FETCH is followed');
    assert.equal(reader.usable, true);
  } finally {
    reader.close();
  }
});

test('STATUS of many folders goes out at once; answers are paired with their commands, literal names included, a refused folder left out', { timeout: 10_000 }, async () => {
  const seen: string[] = [];
  const endpoint = await scripted((tag, command) => {
    seen.push(command);
    if (command.includes('"Gone"')) return `${tag} NO no such folder\r\n`;
    if (command.includes('"Lit"')) return `* STATUS {3}\r\nLit (MESSAGES 2 UIDNEXT 5 UIDVALIDITY 9)\r\n${tag} OK\r\n`;
    const name = /STATUS "([^"]+)"/.exec(command)![1];
    return `* STATUS "${name}" (MESSAGES ${name!.length} UIDNEXT 10 UIDVALIDITY 77)\n${tag} OK done\r\n`;
  });
  const reader = await FetchReader.connect(endpoint, { stallMs: 2_000 });
  try {
    const answers = await reader.statuses(['INBOX', 'Gone', 'Lit', 'Sent Items']);
    assert.deepEqual(Object.fromEntries(answers), {
      INBOX: { MESSAGES: 5, UIDNEXT: 10, UIDVALIDITY: 77 },
      Lit: { MESSAGES: 2, UIDNEXT: 5, UIDVALIDITY: 9 },
      'Sent Items': { MESSAGES: 10, UIDNEXT: 10, UIDVALIDITY: 77 },
    });
    assert.deepEqual(seen.filter((c) => c.startsWith('STATUS')).length, 4);
    assert.equal(reader.usable, true);
  } finally {
    reader.close();
  }
});

test('STATUS answers that come while another command of the batch runs go to the folder they name', { timeout: 10_000 }, async () => {
  // A server running the batch side by side (RFC 3501 5.5) answers B's STATUS before A's ends.
  const endpoint = await scripted((tag, command) => {
    if (command.includes('"A"')) return `* STATUS "B" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 4)\r\n* STATUS "A" (MESSAGES 7 UIDNEXT 8 UIDVALIDITY 9)\r\n${tag} OK\r\n`;
    if (command.includes('"B"')) return `${tag} OK\r\n`;
    return `* STATUS inbox (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 3)\r\n* STATUS "C" (MESSAGES 5 UIDNEXT 6 UIDVALIDITY 7)\r\n${tag} OK\r\n`;
  });
  const reader = await FetchReader.connect(endpoint, { stallMs: 2_000 });
  try {
    assert.deepEqual(Object.fromEntries(await reader.statuses(['A', 'B', 'INBOX'])), {
      A: { MESSAGES: 7, UIDNEXT: 8, UIDVALIDITY: 9 },
      B: { MESSAGES: 2, UIDNEXT: 3, UIDVALIDITY: 4 },
      INBOX: { MESSAGES: 1, UIDNEXT: 2, UIDVALIDITY: 3 },
    }, 'C was not asked for and is not given to anyone');
  } finally {
    reader.close();
  }
});

test('a STORE the server ends before the one sent ahead of it is taken; a FETCH that would be is a protocol error', { timeout: 10_000 }, async () => {
  // Dovecot runs UID commands that do not conflict side by side and ends them as they finish (RFC 3501 5.5).
  let held: string | undefined;
  const endpoint = await scripted((tag, command) => {
    if (command.startsWith('UID STORE 1')) { held = tag; return ''; }
    if (command.startsWith('UID STORE 2')) return `${tag} OK second\r\n${held} OK first\r\n`;
    if (command.startsWith('UID STORE 3')) return '';
    if (command.startsWith('UID FETCH')) return `* 1 FETCH (UID 1 FLAGS ())\r\n${tag} OK fetch\r\n`;
    return `${tag} OK\r\n`;
  });
  const reader = await FetchReader.connect(endpoint, { stallMs: 2_000 });
  try {
    const answers = await reader.exchange(['UID STORE 1 +FLAGS.SILENT (\\Seen)', 'UID STORE 2 +FLAGS.SILENT (\\Seen)']);
    assert.deepEqual(answers.map((a) => a.response.text), ['first', 'second']);
    assert.equal(reader.usable, true);
    // A FETCH's untagged answers go to the command in front: one ending out of turn would have had its answers misplaced.
    const storing = reader.exchange(['UID STORE 3 +FLAGS.SILENT (\\Seen)']);
    const [stored, fetched] = await Promise.allSettled([storing, reader.fetch('1', '(UID FLAGS)', { onMessage: () => undefined })]);
    assert.equal(fetched.status, 'rejected');
    assert.match(String((fetched as PromiseRejectedResult).reason), /unexpected reply "F\d+ OK fetch"/);
    assert.equal(stored.status, 'rejected');
    assert.equal(reader.usable, false);
  } finally {
    reader.close();
  }
});

test('with QRESYNC on, VANISHED lowers EXISTS as EXPUNGE does; VANISHED (EARLIER) and a hostile range do not empty the folder twice', { timeout: 10_000 }, async () => {
  const endpoint = await scripted((tag, command) => {
    if (command.startsWith('EXAMINE')) return `* 5 EXISTS\r\n${tag} OK [READ-ONLY] done\r\n`;
    if (command.startsWith('NOOP')) return `* VANISHED 1:4294967295\r\n${tag} OK done\r\n`;
    return `* VANISHED (EARLIER) 1:4294967295\r\n* VANISHED 7:8\r\n${tag} OK done\r\n`;
  });
  const reader = await FetchReader.connect(endpoint, { stallMs: 2_000 });
  try {
    await reader.examine('INBOX');
    await reader.fetch('1:*', '(UID FLAGS)', { onMessage: () => undefined });
    assert.equal(reader.mailbox.exists, 3, 'VANISHED 7:8 removed two; the EARLIER one nothing');
    await reader.exchange(['NOOP']);
    assert.equal(reader.mailbox.exists, 0);
    assert.equal(reader.usable, true);
  } finally {
    reader.close();
  }
});

test('a listing with headers: BODY[HEADER] as a literal, quoted or NIL, next to the listing items', () => {
  const header = 'Subject: x\r\nMessage-ID: <a@b>\r\n\r\n';
  const literal = parseFetch(1, [`* 1 FETCH (UID 4 RFC822.SIZE 90 BODY[HEADER] {${header.length}}`, ' FLAGS (\\Seen))'], [Buffer.from(header, 'latin1'), null]);
  assert.equal(literal.header?.toString('latin1'), header);
  assert.equal(literal.uid, 4);
  assert.equal(literal.hadBody, false, 'a header is not the body');
  assert.equal(parseFetch(2, ['* 2 FETCH (UID 5 BODY[HEADER] "Subject: y")'], []).header?.toString(), 'Subject: y');
  assert.equal(parseFetch(3, ['* 3 FETCH (UID 6 BODY[HEADER] NIL)'], []).header, undefined);
  assert.throws(() => parseFetch(4, ['* 4 FETCH (UID 7 BODY[HEADER] (x))'], []));
});

test('an unparseable line is kept for the report and the connection goes on; a NO is a partial answer', { timeout: 10_000 }, async () => {
  const endpoint = await scripted((tag, command) => (command.startsWith('EXAMINE') ? EXAMINED(tag)
    : `* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* 2 FETCH (UID 2 FLAGS (bad"kw) BODY[] {3}\r\nabc)\r\n* 3 FETCH (UID 3 FLAGS ())\r\n${tag} NO Some of the requested messages no longer exist\r\n`));
  const reader = await FetchReader.connect(endpoint, { stallMs: 5_000 });
  try {
    await reader.examine('INBOX');
    const got: FetchedMessage[] = [];
    await reader.fetch('1:*', LISTING_ITEMS, { onMessage: (m) => got.push(m) });
    assert.deepEqual(got.map((m) => m.uid), [1, 3]);
    assert.deepEqual(reader.takeUnparsedLines(), ['* 2 FETCH (UID 2 FLAGS (bad"kw) BODY[] {3}\r\n)']);
    assert.deepEqual(reader.takeUnparsedLines(), []);
    assert.equal(reader.usable, true);
  } finally {
    reader.close();
  }
});

test('limits: a literal over the limit, a line over 1 MB and an answer to a command never sent are protocol errors', { timeout: 20_000 }, async () => {
  const cases: Array<[string, (tag: string) => string | Buffer, RegExp]> = [
    ['literal', () => '* 1 FETCH (UID 1 BODY[] {5000}\r\n', /literal of 5000 bytes, over the 1000-byte limit/],
    ['line', () => `* 1 FETCH (UID 1 FLAGS (${'x'.repeat(1024 * 1024 + 10)}`, /line longer than the 1048576-byte limit/],
    ['tag', () => 'Z999 OK what?\r\n', /unexpected reply "Z999 OK what\?"/],
  ];
  for (const [name, answer, words] of cases) {
    const endpoint = await scripted((tag, command) => (command.startsWith('EXAMINE') ? EXAMINED(tag) : answer(tag)));
    const reader = await FetchReader.connect(endpoint, { stallMs: 5_000 });
    await reader.examine('INBOX');
    const err = await reader.fetch('1', BODY_ITEMS, { literalLimit: 1000, onMessage: () => undefined }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof CutoverError && err.code === 'IMAP_PROTOCOL', `${name}: ${String(err)}`);
    assert.match(err.message, words, name);
    assert.equal(reader.usable, false, name);
  }
});

test('throttling (Exchange) and a silent server end the command with what the lane retries on', { timeout: 20_000 }, async () => {
  const endpoint = await scripted((tag, command) => (command.startsWith('EXAMINE') ? EXAMINED(tag)
    : command.includes('1:*') ? `${tag} BAD Request is throttled. Suggested Backoff Time: 1500 milliseconds\r\n` : undefined));
  const reader = await FetchReader.connect(endpoint, { stallMs: 500 });
  await reader.examine('INBOX');
  const throttled = await reader.fetch('1:*', LISTING_ITEMS, { onMessage: () => undefined }).then(() => undefined, (e: unknown) => e);
  assert.ok(isTransient(throttled), String(throttled));
  assert.equal(laneBackoffMs(throttled, 1), 1500);
  const started = Date.now();
  const silent = await reader.fetch('5', LISTING_ITEMS, { onMessage: () => undefined }).then(() => undefined, (e: unknown) => e);
  assert.ok(isTransient(silent), String(silent));
  assert.ok(Date.now() - started < 3_000, 'failed within the stall limit');
});

test('every Exchange "later" on a FETCH (NO or BAD) ends the command as a throttle; a plain NO stays a partial answer', { timeout: 20_000 }, async () => {
  const replies = ['NO Server Unavailable. 15', 'BAD User is authenticated but not connected.', 'NO [UNAVAILABLE] busy', 'NO Request is throttled. Suggested Backoff Time: 800 milliseconds'];
  let next = 0;
  const endpoint = await scripted((tag, command) => (command.startsWith('EXAMINE') ? EXAMINED(tag) : command.includes('FETCH 7 ') ? `${tag} NO Some messages could not be read\r\n` : `${tag} ${replies[next++]}\r\n`));
  const reader = await FetchReader.connect(endpoint, { stallMs: 5_000 });
  await reader.examine('INBOX');
  for (const reply of replies) {
    const err = await reader.fetch('1:*', LISTING_ITEMS, { onMessage: () => undefined }).then(() => undefined, (e: unknown) => e);
    assert.ok(isThrottle(err), `${reply}: ${String(err)}`);
  }
  await reader.fetch('7', LISTING_ITEMS, { onMessage: () => undefined });
  await reader.logout();
});

test('a login still under way is given up at once when the pass is stopped (the stop signal), not after the stall timeout', { timeout: 20_000 }, async () => {
  const server = net.createServer((socket) => { socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready\r\n'); socket.on('error', () => undefined); });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint: ImapEndpoint = { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, security: 'none', tlsVerify: false, auth: { user: 'u', pass: 'p' } };
  const stop = new AbortController();
  const started = Date.now();
  const login = FetchReader.connect(endpoint, { stallMs: 60_000, signal: stop.signal }).then(() => undefined, (e: unknown) => e);
  setTimeout(() => stop.abort(new Error('another folder failed the pass')), 300);
  assert.ok(await login instanceof Error, 'the login failed');
  assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
});

test('a login refused as Exchange does when busy ("Server Unavailable. 15") is a throttle the lane waits out, not a wrong password', { timeout: 20_000 }, async () => {
  const server = net.createServer((socket) => {
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready\r\n');
    socket.on('data', (data) => { const tag = data.toString('latin1').split(' ')[0]; socket.write(`${tag} NO Server Unavailable. 15\r\n`); });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint: ImapEndpoint = { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, security: 'none', tlsVerify: false, auth: { user: 'u', pass: 'p' } };
  const err = await FetchReader.connect(endpoint, { stallMs: 5_000 }).then(() => undefined, (e: unknown) => e);
  assert.ok(isThrottle(err), String(err));
  const mapped = mapImapError(err, '127.0.0.1', 'login');
  assert.equal(mapped.code, 'IMAP_FAILED', 'what the reader pool hands the lane: retryable, the throttle as its cause');
  assert.ok(mapped.retryable && isThrottle(mapped.cause));
});

let dovecot: DovecotInstance;
const USER = 'reader@example.test';
before(async () => {
  dovecot = await startDovecot();
  await addDomain(dovecot, 'example.test');
  await addMailbox(dovecot, USER, 'pw');
  await seed(dovecot, USER, [
    ...Array.from({ length: 30 }, (_, i) => ({ folder: 'Reisen/Ägypten', raw: rawMessage({ subject: `m${i}`, body: 'x'.repeat(i * 997) }), flags: i % 3 ? ['\\Seen', `kw${i}`] : [], date: new Date(Date.UTC(2020, 1, i + 1, 3, 4, 5)) })),
    { folder: 'Reisen/Ägypten', raw: Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(3 * 1024 * 1024, 'y')]) },
  ]);
});
after(async () => { await dovecot?.stop(); });

test('against Dovecot: the reader lists and reads a folder exactly as imapflow does', { timeout: 60_000 }, async () => {
  const endpoint: ImapEndpoint = { host: dovecot.host, port: dovecot.port, security: 'none', tlsVerify: false, auth: { user: USER, pass: 'pw' } };
  const reader = await FetchReader.connect(endpoint, { stallMs: 10_000 });
  const client = await imapAs(dovecot, USER, 'pw');
  try {
    const mailbox = await reader.examine('Reisen/Ägypten');
    const lock = await client.getMailboxLock('Reisen/Ägypten', { readOnly: true });
    const uidValidity = client.mailbox ? String(client.mailbox.uidValidity) : '';
    const expected: string[] = [];
    for await (const m of client.fetch('1:*', { uid: true, size: true, flags: true, internalDate: true, source: true }, { uid: true })) {
      expected.push(`${m.uid} ${m.size} ${new Date(m.internalDate!).toISOString()} ${[...m.flags!].join(',')} ${createHash('sha256').update(m.source!).digest('hex')}`);
    }
    lock.release();
    assert.equal(mailbox.exists, 31);
    assert.equal(mailbox.uidValidity, uidValidity);
    const listed: FetchedMessage[] = [];
    await reader.fetch('1:*', LISTING_ITEMS, { onMessage: (m) => listed.push(m) });
    const read: string[] = [];
    await reader.fetch(listed.map((m) => m.uid).join(','), BODY_ITEMS, {
      literalLimit: 8 * 1024 * 1024,
      onMessage: (m) => read.push(`${m.uid} ${m.size} ${m.internalDate!.toISOString()} ${[...m.flags!].join(',')} ${createHash('sha256').update(m.source!).digest('hex')}`),
    });
    assert.deepEqual(read, expected);
    assert.deepEqual(listed.map((m) => `${m.uid} ${m.size}`), expected.map((e) => e.split(' ').slice(0, 2).join(' ')));
    assert.deepEqual(await reader.searchUids('1:*', 1024 * 1024), listed.map((m) => m.uid));
  } finally {
    reader.close();
    await client.logout();
  }
});

test('without UNSELECT the inspection deselects with EXAMINE then CLOSE, never a CLOSE on the read-write selection; PERMANENTFLAGS read from SELECT', { timeout: 20_000 }, async () => {
  const sent: string[] = [];
  const header = 'Subject: x\r\n\r\n';
  const endpoint = await scripted((tag, command) => {
    sent.push(command.split(' ')[0]!);
    if (command.startsWith('SELECT')) return `* 2 EXISTS\r\n* OK [UIDVALIDITY 9] v\r\n* OK [UIDNEXT 5] n\r\n* FLAGS (\\Seen \\Deleted kw)\r\n* OK [PERMANENTFLAGS (\\Seen \\Deleted kw)] p\r\n${tag} OK [READ-WRITE] done\r\n`;
    if (command.startsWith('UID FETCH')) {
      return `* 1 FETCH (UID 3 RFC822.SIZE 20 INTERNALDATE "01-Jan-2024 00:00:00 +0000" BODY[HEADER] {${header.length}}\r\n${header})\r\n`
        + `* 1 FETCH (UID 3 RFC822.SIZE 20 INTERNALDATE "01-Jan-2024 00:00:00 +0000" BODY[HEADER] {${header.length}}\r\n${header})\r\n`
        + `* 2 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (UID 4 RFC822.SIZE 20 INTERNALDATE "01-Jan-2024 00:00:00 +0000" BODY[HEADER] {${header.length}}\r\n${header})\r\n${tag} OK done\r\n`;
    }
    if (command.startsWith('EXAMINE')) return EXAMINED(tag);
    if (command === 'CLOSE') return `${tag} OK closed\r\n`;
    return `${tag} BAD what\r\n`;
  });
  const reader = await FetchReader.connect(endpoint, { stallMs: 5_000 });
  try {
    const entry = { source: 'INBOX', dest: 'INBOX' } as FolderPlanEntry;
    const ledger = { destUids: async () => new Set([4]) } as unknown as LedgerStore;
    const inspection = await inspectDestOnSession(reader, entry, '1', ledger);
    assert.deepEqual(sent, ['SELECT', 'UID', 'EXAMINE', 'CLOSE']);
    assert.equal(inspection.uidNext, 5);
    assert.equal(inspection.accepts('kw'), true);
    assert.equal(inspection.accepts('other'), false, 'PERMANENTFLAGS without \\* keeps only what it lists');
    assert.equal(inspection.alreadyThere.size, 1, 'UID 3 once (repeated), UID 4 known to the ledger, the unsolicited FETCH ignored');
    assert.equal(inspection.alreadyThere.take(Buffer.from(header), 20, new Date('2024-01-01T00:00:00Z')), 3);
    assert.equal(reader.usable, true);
  } finally {
    reader.close();
  }
});

test('against Dovecot: the inspection on a raw session finds what imapflow\'s finds (same matcher, flags, UIDNEXT), and expunges nothing', { timeout: 60_000 }, async () => {
  const folder = 'Inspected';
  await seed(dovecot, USER, [
    ...Array.from({ length: 6 }, (_, i) => ({ folder, raw: rawMessage({ subject: `i${i}`, body: 'z'.repeat(i * 301) }), flags: i === 2 ? ['\\Deleted'] : i % 2 ? ['\\Seen', 'kw'] : [], date: new Date(Date.UTC(2021, 5, i + 1, 7, 8, 9)) })),
    { folder, raw: Buffer.from('Subject: =?utf-8?q?caf=C3=A9?= \xe9t\xe9\r\nX-Bare: lf\nMessage-ID: <8bit@x>\r\n\r\nbody\r\n', 'latin1') },
  ]);
  const endpoint: ImapEndpoint = { host: dovecot.host, port: dovecot.port, security: 'none', tlsVerify: false, auth: { user: USER, pass: 'pw' } };
  const entry = { source: folder, dest: folder } as FolderPlanEntry;
  const client = await imapAs(dovecot, USER, 'pw');
  const reader = await FetchReader.connect(endpoint, { stallMs: 10_000 });
  try {
    const lock = await client.getMailboxLock(folder, { readOnly: true });
    const uids: number[] = [];
    for await (const m of client.fetch('1:*', { uid: true }, { uid: true })) uids.push(m.uid);
    lock.release();
    await client.mailboxClose();
    const ledger = { destUids: async () => new Set([uids[0]!]) } as unknown as LedgerStore;
    const viaImapflow = await inspectDest(client, entry, '1', ledger);
    const raw = await inspectDestOnSession(reader, entry, '1', ledger);
    const shape = (i: DestInspection) => ({ byKey: (i.alreadyThere as unknown as { byKey: Map<string, unknown> }).byKey, uidNext: i.uidNext, flags: ['\\Seen', '\\Deleted', 'kw', '$Junk', '\\Recent'].map(i.accepts) });
    assert.deepEqual(shape(raw), shape(viaImapflow));
    assert.equal(raw.alreadyThere.size, 6, 'every message but the one the ledger knows');
    const known = await reader.examine(folder);
    assert.equal(known.exists, 7, 'the \\Deleted message is still there: no CLOSE on the read-write selection');
    assert.equal(reader.usable, true);
  } finally {
    reader.close();
    await client.logout();
  }
});

test('against Dovecot: a large message streams from the socket into a spool file, byte for byte', { timeout: 60_000 }, async () => {
  const endpoint: ImapEndpoint = { host: dovecot.host, port: dovecot.port, security: 'none', tlsVerify: false, auth: { user: USER, pass: 'pw' } };
  const reader = await FetchReader.connect(endpoint, { stallMs: 10_000 });
  const spool = await Spool.create();
  try {
    await reader.examine('Reisen/Ägypten');
    const listed: FetchedMessage[] = [];
    await reader.fetch('1:*', LISTING_ITEMS, { onMessage: (m) => listed.push(m) });
    const big = listed.find((m) => m.size! > 2 * 1024 * 1024)!;
    const spooled = await spool.fromReader(reader, big.uid!, big.size!);
    assert.ok(spooled);
    const expected = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(3 * 1024 * 1024, 'y')]);
    assert.equal(spooled.size, expected.length);
    assert.equal(createHash('sha256').update(await readFile(spooled.path)).digest('hex'), createHash('sha256').update(expected).digest('hex'));
    assert.equal(spooled.head.length, 1024 * 1024);
    assert.equal(spooled.hasNul, false);
    assert.equal(await spool.fromReader(reader, 999_999, 10), undefined, 'a UID the server does not return');
  } finally {
    reader.close();
    await spool.close();
  }
});
