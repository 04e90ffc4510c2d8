import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { CutoverError } from '../../server/errors.ts';
import { formatNameServer, parseNameServer, query, queriesInFlight, setMaxInFlight, systemNameServers } from '../../server/dns/transport.ts';
import type { MxData, WireRecord } from '../../server/dns/wire.ts';
import { mxAnswer, replyTo, startScriptedServer, startSilentServer, type FakeServer } from './fake-servers.ts';

const SPF_END = ' include:mx.new.example ~all';
// Exactly 300 bytes (runs of spaces are legal between SPF terms), cut mid-term like real zones do.
const LONG_SPF = `v=spf1 ${Array.from({ length: 14 }, (_, i) => `ip4:198.51.100.${i}`).join(' ')}`.padEnd(300 - SPF_END.length) + SPF_END;
const SPF_HEAD = LONG_SPF.slice(0, 200);
const SPF_TAIL = LONG_SPF.slice(200);

function txtStrings(answer: WireRecord | undefined): string[] {
  assert.equal(answer?.type, 'TXT');
  return (answer.data as Buffer[]).map((part) => part.toString());
}

const exchanges = (answers: WireRecord[]) => answers.map((answer) => answer.type === 'MX' && (answer.data as MxData).exchange);

async function rejectsWithDnsFailure(promise: Promise<unknown>, detail: RegExp, code = 'DNS_QUERY_FAILED'): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CutoverError);
    assert.equal(err.code, code);
    assert.equal(err.retryable, true);
    assert.match(String(err.params.detail), detail);
    return true;
  });
}

describe('parseNameServer', () => {
  test('accepts IPv4 and IPv6 with and without a port', () => {
    assert.deepEqual(parseNameServer('192.0.2.1'), { host: '192.0.2.1', port: 53 });
    assert.deepEqual(parseNameServer('192.0.2.1:5300'), { host: '192.0.2.1', port: 5300 });
    assert.deepEqual(parseNameServer('[::1]:53'), { host: '::1', port: 53 });
    assert.deepEqual(parseNameServer('[2001:db8::1]:5353'), { host: '2001:db8::1', port: 5353 });
    assert.deepEqual(parseNameServer('::1'), { host: '::1', port: 53 });
    assert.deepEqual(parseNameServer(' 2001:db8::53 '), { host: '2001:db8::53', port: 53 });
  });

  test('rejects garbage with INPUT_INVALID', () => {
    for (const spec of ['', 'ns1.example.net', '192.0.2.1:', '192.0.2.1:0', '192.0.2.1:65536', '192.0.2.256', '[192.0.2.1]:53', '[::1', '::1:53:x', '1.2.3.4:53:53', '[::1]:abc']) {
      assert.throws(() => parseNameServer(spec), (err: unknown) => err instanceof CutoverError && err.code === 'INPUT_INVALID', spec);
    }
  });

  test('formatNameServer brackets IPv6 so the port stays readable', () => {
    assert.equal(formatNameServer({ host: '::1', port: 53 }), '[::1]:53');
    assert.equal(formatNameServer({ host: '127.0.0.1', port: 5300 }), '127.0.0.1:5300');
  });
});

describe('systemNameServers', () => {
  let dir = '';
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'cutover-resolv-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('reads nameserver lines and skips comments and unusable entries', async () => {
    const file = join(dir, 'resolv.conf');
    await writeFile(file, '# generated\nsearch example.test\nnameserver 192.0.2.53\n;nameserver 192.0.2.99\nnameserver bogus\n  nameserver\t2001:db8::53\noptions edns0\n');
    assert.deepEqual(systemNameServers(file), [{ host: '192.0.2.53', port: 53 }, { host: '2001:db8::53', port: 53 }]);
  });

  test('falls back to 127.0.0.1:53 when the file is missing or has no name server', async () => {
    const empty = join(dir, 'empty.conf');
    await writeFile(empty, 'search example.test\n');
    assert.deepEqual(systemNameServers(join(dir, 'absent.conf')), [{ host: '127.0.0.1', port: 53 }]);
    assert.deepEqual(systemNameServers(empty), [{ host: '127.0.0.1', port: 53 }]);
  });
});

describe('query against Knot', () => {
  let knot: KnotInstance;
  before(async () => {
    knot = await startKnot({
      zone: 'example.test',
      records: [
        '@ IN MX 10 old-mx.example.net.',
        '@ IN MX 20 backup-mx.example.net.',
        `@ IN TXT "${SPF_HEAD}" "${SPF_TAIL}"`,
        '@ IN TXT "google-site-verification=abc"',
        // Enough data to overflow the 1232-byte EDNS payload, so Knot itself sets TC=1.
        ...Array.from({ length: 20 }, (_, i) => `big IN TXT "${String(i).padStart(2, '0')}${'x'.repeat(98)}"`),
      ],
    });
  });
  after(async () => { await knot.stop(); });

  test('MX answer from the authoritative server', async () => {
    const response = await query(knot, 'example.test', 'MX', { recursionDesired: false });
    assert.equal(response.rcode, 'NOERROR');
    assert.equal(response.authoritative, true);
    assert.equal(response.truncated, false);
    const mx = response.answers.flatMap((answer) => (answer.type === 'MX' ? [`${(answer.data as MxData).preference} ${(answer.data as MxData).exchange}`] : []));
    assert.deepEqual(mx.sort(), ['10 old-mx.example.net', '20 backup-mx.example.net']);
  });

  test('TXT keeps a 300-byte SPF value as its two character-strings', async () => {
    const response = await query(knot, 'EXAMPLE.Test.', 'TXT');
    const spf = response.answers.map(txtStrings).find((strings) => strings[0]?.startsWith('v=spf1'));
    assert.deepEqual(spf, [SPF_HEAD, SPF_TAIL]);
    assert.equal(spf.join('').length, 300);
    assert.equal(response.answers.length, 2);
  });

  test('NXDOMAIN is an answer, not a failure', async () => {
    const response = await query(knot, 'missing.example.test', 'MX');
    assert.equal(response.rcode, 'NXDOMAIN');
    assert.deepEqual(response.answers, []);
    assert.equal(response.authorities[0]?.type, 'SOA');
  });

  test('NODATA: the name exists without records of that type', async () => {
    const response = await query(knot, 'ns1.example.test', 'MX');
    assert.equal(response.rcode, 'NOERROR');
    assert.deepEqual(response.answers, []);
  });

  test('a reply too large for UDP is fetched again over TCP', async () => {
    const response = await query(knot, 'big.example.test', 'TXT');
    assert.equal(response.truncated, false);
    assert.equal(response.answers.length, 20);
  });

  test('a name dns-packet cannot encode is rejected before sending', async () => {
    await assert.rejects(query(knot, `${'a'.repeat(64)}.example.test`, 'MX'), (err: unknown) => err instanceof CutoverError && err.code === 'INPUT_INVALID');
    await assert.rejects(query(knot, 'a..example.test', 'MX'), (err: unknown) => err instanceof CutoverError && err.code === 'INPUT_INVALID');
  });
});

describe('query against unresponsive and hostile servers', () => {
  const servers: FakeServer[] = [];
  const track = (server: FakeServer): FakeServer => { servers.push(server); return server; };
  after(async () => { await Promise.all(servers.map((server) => server.stop())); });

  test('times out quickly, after the configured retries, with a retryable error', async () => {
    const silent = track(await startSilentServer());
    const started = Date.now();
    await rejectsWithDnsFailure(query(silent, 'example.test', 'MX', { timeoutMs: 100, retries: 2 }), /no reply within 100 ms \(3 attempts\)/);
    assert.ok(Date.now() - started < 1000);
    assert.equal(silent.udpQueries, 3);
  });

  test('a port where nothing listens fails without waiting for the timeout', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const started = Date.now();
    await rejectsWithDnsFailure(query({ host: '127.0.0.1', port }, 'example.test', 'MX', { timeoutMs: 3000, retries: 0 }), /ECONNREFUSED/);
    assert.ok(Date.now() - started < 2000);
  });

  test('skips a reply with the wrong id or question, then accepts the right one', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => {
        reply(replyTo(q, { id: ((q.id ?? 0) + 1) & 0xffff, answers: [mxAnswer('example.test', 1, 'spoofed.example')] }));
        reply(replyTo(q, { name: 'other.test', answers: [mxAnswer('other.test', 1, 'spoofed.example')] }));
        setTimeout(() => reply(replyTo(q, { answers: [mxAnswer('example.test', 10, 'mx.new.example')] })), 20);
      },
    }));
    const response = await query(server, 'example.test', 'MX', { timeoutMs: 1000, retries: 0 });
    assert.deepEqual(exchanges(response.answers), ['mx.new.example']);
    assert.equal(server.udpQueries, 1);
  });

  test('accepts the question in another letter case (0x20 randomisation)', async () => {
    const server = track(await startScriptedServer({ udp: (q, reply) => reply(replyTo(q, { name: 'ExAmPlE.TeSt' })) }));
    const response = await query(server, 'example.test', 'MX', { timeoutMs: 500, retries: 0 });
    assert.equal(response.rcode, 'NOERROR');
  });

  test('junk that is not a reply to us is skipped; the query times out with a clear detail', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => {
        reply(Buffer.from('not a dns message'));
        reply(Buffer.alloc(0));
        reply(replyTo(q, { id: ((q.id ?? 0) + 7) & 0xffff }));
      },
    }));
    await rejectsWithDnsFailure(query(server, 'example.test', 'MX', { timeoutMs: 150, retries: 1 }), /no reply within 150 ms \(2 attempts\); ignored 6 unusable replies: unreadable datagram .*reply with a different id/);
    assert.equal(server.udpQueries, 2);
  });

  test('a reply to our query that is broken is rejected at once, with what is wrong', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => {
        // The right id and question, but a header claiming one answer that is not there.
        const missingAnswer = replyTo(q);
        missingAnswer.writeUInt16BE(1, 6);
        reply(missingAnswer);
      },
    }));
    const started = Date.now();
    await rejectsWithDnsFailure(query(server, 'example.test', 'MX', { timeoutMs: 2000, retries: 2 }), /malformed reply: answer record 1 of 1: name at offset \d+ runs past the end of the message/, 'DNS_REPLY_INVALID');
    assert.ok(Date.now() - started < 1000, 'no waiting for the timeout');
    assert.equal(server.udpQueries, 1);
  });

  test('a reply whose answer loops through compression pointers is rejected, not followed', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => {
        const head = replyTo(q);
        head.writeUInt16BE(1, 6);
        // Answer owner: a pointer to itself.
        const at = head.length;
        const loop = Buffer.from([0xc0 | (at >> 8), at & 0xff, 0, 15, 0, 1, 0, 0, 1, 44, 0, 0]);
        reply(Buffer.concat([head, loop]));
      },
    }));
    await rejectsWithDnsFailure(query(server, 'example.test', 'MX', { timeoutMs: 1000, retries: 0 }), /compression pointer loop/, 'DNS_REPLY_INVALID');
  });

  test('an oversized UDP reply (larger than the EDNS size we advertised) is rejected', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => reply(replyTo(q, { answers: Array.from({ length: 60 }, (_, i) => mxAnswer('example.test', i, `mx${i}.${'x'.repeat(20)}.example`)) })),
    }));
    await rejectsWithDnsFailure(query(server, 'example.test', 'MX', { timeoutMs: 1000, retries: 0 }), /oversized reply: \d{4} bytes over UDP, above the 1232 bytes advertised/, 'DNS_REPLY_INVALID');
  });

  test('a flood of replies with wrong ids ends the wait early', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => { for (let i = 1; i <= 100; i++) reply(replyTo(q, { id: ((q.id ?? 0) + i) & 0xffff })); },
    }));
    await rejectsWithDnsFailure(query(server, 'example.test', 'MX', { timeoutMs: 3000, retries: 0 }), /flooded with unusable replies/, 'DNS_REPLY_INVALID');
  });

  test('a truncated datagram cut mid-record with TC=1 still leads to the TCP answer', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => {
        const full = replyTo(q, { flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE, answers: [mxAnswer('example.test', 10, 'mx.new.example')] });
        reply(full.subarray(0, full.length - 5));
      },
      tcp: (q, socket) => socket.write(dnsPacket.streamEncode(dnsPacket.decode(replyTo(q, { answers: [mxAnswer('example.test', 10, 'mx.new.example')] })))),
    }));
    const response = await query(server, 'example.test', 'MX', { timeoutMs: 1000, retries: 0 });
    assert.deepEqual(exchanges(response.answers), ['mx.new.example']);
    assert.equal(server.tcpQueries, 1);
  });

  test('queries beyond the in-flight limit wait for a free slot', async () => {
    let concurrent = 0;
    let peak = 0;
    const server = track(await startScriptedServer({
      udp: (q, reply) => {
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        setTimeout(() => { concurrent -= 1; reply(replyTo(q)); }, 30);
      },
    }));
    setMaxInFlight(2);
    try {
      const pending = Array.from({ length: 6 }, (_, i) => query(server, `n${i}.example.test`, 'MX', { timeoutMs: 1000, retries: 0 }));
      assert.ok(queriesInFlight() <= 2);
      await Promise.all(pending);
      assert.equal(peak, 2);
    } finally {
      setMaxInFlight(64);
    }
  });

  test('TC=1 over UDP makes the client ask again over TCP, even when the reply arrives in pieces', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => reply(replyTo(q, { flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE })),
      tcp: (q, socket) => {
        const wrongId = dnsPacket.streamEncode({ ...dnsPacket.decode(replyTo(q)), id: ((q.id ?? 0) + 1) & 0xffff });
        const right = dnsPacket.streamEncode(dnsPacket.decode(replyTo(q, { answers: [mxAnswer('example.test', 10, 'mx.new.example')] })));
        const bytes = Buffer.concat([wrongId, right]);
        // One byte, then the rest of the length prefix, then the bodies, to exercise partial reads.
        socket.write(bytes.subarray(0, 1));
        setTimeout(() => socket.write(bytes.subarray(1, wrongId.length + 1)), 10);
        setTimeout(() => socket.write(bytes.subarray(wrongId.length + 1)), 20);
      },
    }));
    const response = await query(server, 'example.test', 'MX', { timeoutMs: 1000, retries: 0 });
    assert.equal(response.truncated, false);
    assert.deepEqual(exchanges(response.answers), ['mx.new.example']);
    assert.equal(server.tcpQueries, 1);
  });

  test('TC=1 with a TCP side that hangs up reports the TCP failure', async () => {
    const server = track(await startScriptedServer({
      udp: (q, reply) => reply(replyTo(q, { flags: dnsPacket.TRUNCATED_RESPONSE })),
      tcp: (_q, socket) => socket.end(Buffer.from([0, 5, 1, 2])),
    }));
    await rejectsWithDnsFailure(query(server, 'example.test', 'MX', { timeoutMs: 1000, retries: 0 }), /over TCP .*closed before a matching reply/);
  });
});
