import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { CutoverError } from '../../../server/errors.ts';
import { storedFromLines } from '../../../server/mail/dest-folder.ts';
import { PipelinedAppender } from '../../../server/mail/wire/appender.ts';
import type { ImapEndpoint } from '../../../server/plugins/contract.ts';

// A scripted server: each client line is answered by `reply` (tag, line) → what to send back.
// Unit tests of the reply parser; test/interop/imap4d.test.ts runs the same path against GNU imap4d.
const servers: net.Server[] = [];
after(() => { for (const s of servers) s.close(); });

async function scripted(reply: (tag: string, command: string) => string | undefined): Promise<ImapEndpoint> {
  const server = net.createServer((socket) => {
    socket.write('* OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND AUTH=PLAIN SASL-IR] ready\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const [tag, ...rest] = line.split(' ');
        const out = reply(tag!, rest.join(' '));
        if (out !== undefined) socket.write(out);
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { host: '127.0.0.1', port, security: 'none', tlsVerify: false, auth: { user: 'u', pass: 'p' } };
}

const item = { content: Buffer.from('Subject: x\r\n\r\nbody\r\n'), flags: ['\\Seen'] };

test('tagged replies ending in a bare LF (GNU imap4d) are read, not waited on', { timeout: 10_000 }, async () => {
  const endpoint = await scripted((tag, command) => {
    if (command.startsWith('AUTHENTICATE')) return `${tag} OK AUTHENTICATE PLAIN authentication successful\n`;
    if (command.startsWith('CAPABILITY')) return `* CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND\n${tag} OK done\n`;
    if (command.startsWith('APPEND')) return `${tag} OK [APPENDUID 7 3] APPEND done\n`;
    return undefined;
  });
  const appender = await PipelinedAppender.connect(endpoint, { stallMs: 2_000 });
  try {
    assert.equal(appender.pipelines, true);
    assert.deepEqual(await appender.append('INBOX', [item]), { ok: true, uids: [3] });
  } finally {
    appender.close();
  }
});

test('a reply that is not IMAP fails at once, naming the server and the line', { timeout: 10_000 }, async () => {
  const endpoint = await scripted((tag, command) => (command.startsWith('AUTHENTICATE') ? `${tag} OK in\r\n` : command.startsWith('CAPABILITY') ? `* CAPABILITY IMAP4rev1\r\n${tag} OK\r\n` : 'HTTP/1.1 400 Bad Request\r\n'));
  const appender = await PipelinedAppender.connect(endpoint, { stallMs: 5_000 });
  const started = Date.now();
  const err = await appender.append('INBOX', [item]).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof CutoverError, String(err));
  assert.equal(err.code, 'IMAP_PROTOCOL');
  assert.match(err.message, /127\.0\.0\.1.*HTTP\/1\.1 400 Bad Request/);
  assert.ok(Date.now() - started < 1_000, 'not after a timeout');
  assert.equal(appender.usable, false);
});

test('a server that stops answering fails within the stall limit, not minutes later', { timeout: 10_000 }, async () => {
  const endpoint = await scripted((tag, command) => (command.startsWith('AUTHENTICATE') ? `${tag} OK in\r\n` : command.startsWith('CAPABILITY') ? `* CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND\r\n${tag} OK\r\n` : undefined));
  const appender = await PipelinedAppender.connect(endpoint, { stallMs: 500 });
  // Resting in the pool longer than the limit is not a stall: nothing is due.
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal(appender.usable, true);
  const started = Date.now();
  const err = await appender.append('INBOX', [item]).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof CutoverError, String(err));
  assert.equal(err.code, 'IMAP_STALLED');
  assert.match(err.message, /127\.0\.0\.1 stopped answering/);
  const waited = Date.now() - started;
  assert.ok(waited >= 400 && waited < 3_000, `failed after ${waited} ms`);
});


test('the read-back listing sent behind an APPEND is read after its answer, bounded, and undefined when refused', { timeout: 10_000 }, async () => {
  const endpoint = await scripted((tag, command) => {
    if (command.startsWith('AUTHENTICATE')) return `${tag} OK in\r\n`;
    if (command.startsWith('CAPABILITY')) return `* CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND\r\n${tag} OK\r\n`;
    if (command.startsWith('APPEND')) return `${tag} OK [APPENDUID 7 8] done\r\n`;
    if (command.startsWith('EXAMINE "Refused"')) return `${tag} NO no such folder\r\n`;
    if (command.startsWith('EXAMINE')) return `* 3 EXISTS\r\n${tag} OK [READ-ONLY] done\r\n`;
    if (command.startsWith('UID FETCH 8:* ')) {
      const lines = ['* 2 FETCH (UID 8 RFC822.SIZE 21 INTERNALDATE "01-Jan-2024 10:00:00 +0000" FLAGS (\\Seen \\Recent))', '* 3 FETCH (UID 9 RFC822.SIZE oops)', '* 4 FETCH (UID 10 RFC822.SIZE 5 FLAGS ())'];
      return `${lines.join('\r\n')}\r\n${tag} OK done\r\n`;
    }
    return undefined;
  });
  const appender = await PipelinedAppender.connect(endpoint, { stallMs: 2_000 });
  try {
    const { outcome } = await appender.sendAppend('INBOX', [item]);
    const { lines } = await appender.sendListing('INBOX', 8, 2);
    assert.deepEqual(await outcome, { ok: true, uids: [8] });
    const listed = await lines;
    // At most maxLines kept; the line that does not parse names no copy.
    assert.equal(listed?.length, 2);
    assert.deepEqual([...storedFromLines(listed!)], [[8, { size: 21, flags: ['\\Seen'], internalDate: new Date('2024-01-01T10:00:00Z') }]]);
    const refused = await appender.sendListing('Refused', 8, 10);
    assert.equal(await refused.lines, undefined);
    // The session goes on: the next APPEND is answered as usual.
    assert.deepEqual(await appender.append('INBOX', [item]), { ok: true, uids: [8] });
  } finally {
    appender.close();
  }
});
