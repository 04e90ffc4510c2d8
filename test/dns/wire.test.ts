// The decoder against broken and hostile packets: a corpus of named cases, each rejected with a
// WireError that says what is wrong, then seeded random mutations of valid messages, none of
// which may escape as anything but a WireError (no RangeError, no hang, no crash).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { formatRdata, parseRdata } from '../../server/dns/rdata.ts';
import { CLASS, decodeHead, decodeMessage, encodeRecord, readName, splitTxt, WireError, type MxData, type SoaData } from '../../server/dns/wire.ts';

function header(id: number, flags: number, counts: [number, number, number, number]): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(flags, 2);
  counts.forEach((count, i) => out.writeUInt16BE(count, 4 + i * 2));
  return out;
}

const name = (text: string) => Buffer.concat([...text.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])), Buffer.from([0])]);
const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const question = (text: string, type = 15) => Buffer.concat([name(text), u16(type), u16(1)]);
const rr = (owner: Buffer, type: number, rdata: Buffer, rdlength = rdata.length) => Buffer.concat([owner, u16(type), u16(1), u32(300), u16(rdlength), rdata]);
const RESPONSE = 0x8400;

/** A valid, compressed reply: question example.test MX, answer `example.test MX 10 mx.example.test` with pointers. */
function compressedMx(): Buffer {
  const head = header(0x1234, RESPONSE, [1, 1, 0, 0]);
  const q = question('example.test');
  // 0xc00c points at the question name (offset 12); the exchange is "mx" + pointer to it.
  const rdata = Buffer.concat([u16(10), Buffer.from([2, 0x6d, 0x78, 0xc0, 0x0c])]);
  return Buffer.concat([head, q, rr(Buffer.from([0xc0, 0x0c]), 15, rdata)]);
}

interface Broken { name: string; packet: () => Buffer; error: RegExp }

/** The corpus: every way a reply can be cut, looped, lie about its sizes or carry junk. */
const CORPUS: Broken[] = [
  { name: 'empty datagram', packet: () => Buffer.alloc(0), error: /shorter than a DNS header/ },
  { name: 'half a header', packet: () => Buffer.alloc(7), error: /7-byte message is shorter than a DNS header/ },
  { name: 'question count with no question', packet: () => header(1, RESPONSE, [1, 0, 0, 0]), error: /name at offset 12 runs past the end of the message/ },
  { name: 'truncated inside the question name', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), question('example.test').subarray(0, 6)]), error: /label at offset 12 runs past the end/ },
  { name: 'truncated inside the question type', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), question('example.test').subarray(0, 15)]), error: /message ends inside a question type/ },
  { name: 'answer count with no answer', packet: () => Buffer.concat([header(1, RESPONSE, [1, 65535, 0, 0]), question('example.test')]), error: /answer record 1 of 65535: name at offset \d+ runs past the end/ },
  { name: 'truncated after the answer name', packet: () => compressedMx().subarray(0, 32), error: /message ends inside the type of a record/ },
  { name: 'truncated inside the RDATA', packet: () => compressedMx().subarray(0, compressedMx().length - 2), error: /message ends inside the RDATA of a MX record \(RDLENGTH 7\)/ },
  { name: 'RDLENGTH larger than the message', packet: () => { const p = compressedMx(); p.writeUInt16BE(200, p.length - 9); return p; }, error: /RDLENGTH 200/ },
  { name: 'compression pointer to itself', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), Buffer.from([0xc0, 0x0c]), u16(15), u16(1)]), error: /compression pointer loop in the name at offset 12/ },
  {
    name: 'two pointers pointing at each other',
    packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), Buffer.from([0xc0, 0x0e, 0xc0, 0x0c]), u16(15), u16(1)]),
    error: /compression pointer loop/,
  },
  {
    name: 'a loop through labels (a → b → a)',
    packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), Buffer.from([1, 0x61, 0xc0, 0x10, 1, 0x62, 0xc0, 0x0c]), u16(15), u16(1)]),
    error: /compression pointer loop/,
  },
  { name: 'pointer outside the message', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), Buffer.from([0xc3, 0xff]), u16(15), u16(1)]), error: /points outside the message \(1023\)/ },
  { name: 'pointer cut in half', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), Buffer.from([0xc0])]), error: /compression pointer at offset 12 is cut off/ },
  { name: 'reserved label type 0x40', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), Buffer.from([0x41, 0x61, 0]), u16(15), u16(1)]), error: /unsupported label type 0x41/ },
  {
    name: 'name longer than 255 octets',
    packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 0]), ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0]), u16(15), u16(1)]),
    error: /longer than 255 octets/,
  },
  {
    name: 'a chain of 130 backward pointers',
    packet: () => {
      // No loop, but a decoder walking it is being abused: the pointers sit in a first record's
      // raw RDATA (from offset 23), each pointing at the one before; the second record's owner
      // points at the last of them.
      const chain = [Buffer.from([1, 0x61, 0])];
      for (let i = 0; i < 130; i++) chain.push(u16(0xc000 | (i === 0 ? 23 : 26 + 2 * (i - 1))));
      const rdata = Buffer.concat(chain);
      const first = Buffer.concat([Buffer.from([0]), u16(65280), u16(1), u32(1), u16(rdata.length), rdata]);
      const second = Buffer.concat([u16(0xc000 | (26 + 2 * 129)), u16(1), u16(1), u32(1), u16(4), Buffer.from([1, 2, 3, 4])]);
      return Buffer.concat([header(1, RESPONSE, [0, 2, 0, 0]), first, second]);
    },
    error: /answer record 2 of 2: name at offset \d+ follows more than 127 compression pointers/,
  },
  { name: 'A record of 3 bytes', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('example.test', 1), rr(Buffer.from([0xc0, 0x0c]), 1, Buffer.from([1, 2, 3]))]), error: /A RDATA at offset \d+ is 3 bytes, not 4/ },
  { name: 'AAAA record of 4 bytes', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('example.test', 28), rr(Buffer.from([0xc0, 0x0c]), 28, Buffer.from([1, 2, 3, 4]))]), error: /AAAA RDATA at offset \d+ is 4 bytes, not 16/ },
  { name: 'MX whose name leaves its RDATA', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('example.test'), rr(Buffer.from([0xc0, 0x0c]), 15, Buffer.concat([u16(10), name('mx.example.test')]), 6)]), error: /label at offset \d+ runs past the end of the record/ },
  { name: 'MX with bytes after its name', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('example.test'), rr(Buffer.from([0xc0, 0x0c]), 15, Buffer.concat([u16(10), Buffer.from([0xc0, 0x0c]), Buffer.from([9, 9])]))]), error: /has 2 byte\(s\) after its name/ },
  { name: 'MX of 2 bytes', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('example.test'), rr(Buffer.from([0xc0, 0x0c]), 15, u16(10))]), error: /MX RDATA at offset \d+ is too short/ },
  { name: 'SOA without its counters', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('example.test', 6), rr(Buffer.from([0xc0, 0x0c]), 6, Buffer.concat([name('ns1.example.test'), name('h.example.test'), u32(1)]))]), error: /SOA RDATA at offset \d+ has 4 bytes of counters instead of 20/ },
  { name: 'TXT string longer than its record', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('example.test', 16), rr(Buffer.from([0xc0, 0x0c]), 16, Buffer.from([200, 0x61, 0x62]))]), error: /TXT character-string at offset \d+ runs past its record/ },
  { name: 'SRV without a target', packet: () => Buffer.concat([header(1, RESPONSE, [1, 1, 0, 0]), question('_imaps._tcp.example.test', 33), rr(Buffer.from([0xc0, 0x0c]), 33, Buffer.concat([u16(0), u16(0), u16(993)]))]), error: /SRV RDATA at offset \d+ is too short/ },
  { name: 'authority record cut short', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 1, 0]), question('example.test'), Buffer.from([0xc0, 0x0c, 0, 6])]), error: /authority record 1 of 1: message ends inside a record class/ },
  { name: 'additional record cut short', packet: () => Buffer.concat([header(1, RESPONSE, [1, 0, 0, 1]), question('example.test'), Buffer.from([0, 0, 41, 4, 0])]), error: /additional record 1 of 1/ },
];

describe('decodeMessage rejects the broken-packet corpus with a clear WireError', () => {
  for (const broken of CORPUS) {
    test(broken.name, () => {
      assert.throws(() => decodeMessage(broken.packet()), (err: unknown) => {
        assert.ok(err instanceof WireError, `${broken.name}: ${String(err)}`);
        assert.match(err.message, broken.error);
        return true;
      });
    });
  }
});

describe('decodeMessage on good messages', () => {
  test('follows compression pointers in owners and RDATA', () => {
    const message = decodeMessage(compressedMx());
    assert.equal(message.id, 0x1234);
    assert.equal(message.aa, true);
    assert.deepEqual(message.questions, [{ name: 'example.test', type: 'MX', class: 'IN' }]);
    assert.equal(message.answers[0]?.name, 'example.test');
    assert.deepEqual(message.answers[0]?.data, { preference: 10, exchange: 'mx.example.test' } satisfies MxData);
  });

  test('empty RDATA of a typed record decodes as null (dns-packet throws), TXT as no strings', () => {
    const packet = Buffer.concat([header(1, RESPONSE, [1, 2, 0, 0]), question('example.test', 1), rr(Buffer.from([0xc0, 0x0c]), 1, Buffer.alloc(0)), rr(Buffer.from([0xc0, 0x0c]), 16, Buffer.alloc(0))]);
    assert.throws(() => dnsPacket.decode(packet));
    const message = decodeMessage(packet);
    assert.equal(message.answers[0]?.data, null);
    assert.deepEqual(message.answers[1]?.data, []);
  });

  test('class NONE and ANY are named (dns-packet says UNKNOWN_254), and the rcode folds in the EDNS extension', () => {
    const none = Buffer.concat([name('example.test'), u16(1), u16(CLASS.NONE), u32(0), u16(0)]);
    const opt = Buffer.concat([Buffer.from([0]), u16(41), u16(1232), u32(0x01000000), u16(0)]);
    const message = decodeMessage(Buffer.concat([header(7, 0x8000 | (5 << 11) | 8, [0, 1, 0, 1]), none, opt]));
    assert.equal(message.opcode, 'UPDATE');
    assert.equal(message.answers[0]?.class, 'NONE');
    assert.equal(message.rcode, 'RCODE_24', 'extended rcode 1 with header rcode 8');
    assert.deepEqual(message.edns, { udpPayloadSize: 1232, version: 0, dnssecOk: false });
    assert.equal(decodeMessage(Buffer.concat([header(7, 0x8000 | 8, [0, 0, 0, 0])])).rcode, 'NXRRSET');
  });

  test('a label with a dot or backslash keeps its structure in text', () => {
    const buf = Buffer.concat([Buffer.from([3, 0x61, 0x2e, 0x62, 1, 0x5c, 0])]);
    assert.equal(readName(buf, 0).name, 'a\\.b.\\\\');
  });

  test('decodeHead reads id and question even when the rest is junk', () => {
    const packet = Buffer.concat([compressedMx().subarray(0, 30), Buffer.from([0xff, 0xff])]);
    assert.deepEqual(decodeHead(packet), { id: 0x1234, qr: true, question: { name: 'example.test', type: 'MX', class: 'IN' } });
  });
});

/** mulberry32: a small seeded PRNG, so a failing mutation can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seeds(): Buffer[] {
  const soa = { mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 2024010101, refresh: 3600, retry: 600, expire: 86400, minimum: 300 } satisfies SoaData;
  return [
    compressedMx(),
    dnsPacket.encode({
      type: 'response', id: 9, flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{ type: 'TXT', name: 'example.test' }],
      answers: [
        { type: 'TXT', name: 'example.test', ttl: 300, data: ['v=spf1 include:spf.example.net ~all', 'second string'] },
        { type: 'SRV', name: '_imaps._tcp.example.test', ttl: 300, data: { priority: 0, weight: 1, port: 993, target: 'imap.example.net' } },
        { type: 'AAAA', name: 'example.test', ttl: 300, data: '2001:db8::1' },
        { type: 'CAA', name: 'example.test', ttl: 300, data: { flags: 0, tag: 'issue', value: 'ca.example' } },
      ],
      authorities: [{ type: 'SOA', name: 'example.test', ttl: 300, data: soa }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    }),
  ];
}

test('20 000 seeded mutations of valid replies: a result or a WireError, never anything else', () => {
  const random = prng(20260421);
  const base = seeds();
  let rejected = 0;
  const started = Date.now();
  for (let i = 0; i < 20_000; i++) {
    const packet = Buffer.from(base[i % base.length]!);
    const kind = Math.floor(random() * 4);
    let mutated: Buffer = packet;
    if (kind === 0) mutated = packet.subarray(0, Math.floor(random() * packet.length));
    else if (kind === 1) for (let n = 1 + Math.floor(random() * 4); n > 0; n--) packet[Math.floor(random() * packet.length)] = Math.floor(random() * 256);
    else if (kind === 2) { const at = 12 + Math.floor(random() * (packet.length - 13)); packet[at] = 0xc0 | Math.floor(random() * 4); packet[at + 1] = Math.floor(random() * 256); }
    else mutated = Buffer.concat([packet, Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)))]);
    try {
      decodeMessage(mutated);
    } catch (err) {
      assert.ok(err instanceof WireError, `mutation ${i} (kind ${kind}) escaped as ${String(err)}: ${mutated.toString('hex')}`);
      rejected += 1;
    }
  }
  assert.ok(rejected > 5_000, `only ${rejected} mutations were rejected: the mutator is too gentle`);
  assert.ok(Date.now() - started < 10_000, 'decoding junk must stay fast');
});

describe('encoding what dns-packet gets wrong', () => {
  test('a TXT value over 255 bytes is split into character-strings, not wrapped', () => {
    const long = 'v=spf1 ' + 'ip4:198.51.100.1 '.repeat(20) + '~all';
    assert.ok(long.length > 300);
    const wrapped = dnsPacket.encode({ type: 'response', id: 1, answers: [{ type: 'TXT', name: 'x.test', data: [long] }] });
    assert.throws(() => dnsPacket.decode(wrapped), 'dns-packet corrupts it silently on encode');
    const record = encodeRecord({ name: 'x.test', type: 'TXT', class: 'IN', ttl: 300, data: [long] });
    const message = decodeMessage(Buffer.concat([header(1, RESPONSE, [0, 1, 0, 0]), record]));
    const strings = message.answers[0]!.data as Buffer[];
    assert.deepEqual(strings.map((s) => s.length), [255, long.length - 255]);
    assert.equal(Buffer.concat(strings).toString(), long);
    assert.deepEqual(splitTxt([Buffer.alloc(600)]).map((b) => b.length), [255, 255, 90]);
  });

  test('class NONE and empty RDATA for typed records (RFC 2136 deletes and prerequisites)', () => {
    const deleteOne = encodeRecord({ name: 'example.test', type: 'MX', class: 'NONE', ttl: 0, data: { preference: 10, exchange: 'mx.example.net' } });
    const deleteSet = encodeRecord({ name: 'example.test', type: 'MX', class: 'ANY', ttl: 0 });
    const message = decodeMessage(Buffer.concat([header(1, 0, [0, 2, 0, 0]), deleteOne, deleteSet]));
    assert.deepEqual(message.answers.map((r) => [r.class, r.type, r.rdlength]), [['NONE', 'MX', 18], ['ANY', 'MX', 0]]);
    assert.throws(() => encodeRecord({ name: `${'a'.repeat(64)}.test`, type: 'A', class: 'IN', ttl: 1, data: '192.0.2.1' }), WireError);
    assert.throws(() => encodeRecord({ name: 'example.test', type: 'MX', class: 'IN', ttl: 1, data: { preference: 1, exchange: 'a..b' } }), WireError);
  });

  test('presentation RDATA round-trips through the wire for every type cutover writes', () => {
    const cases: Array<[string, string]> = [
      ['A', '192.0.2.1'], ['AAAA', '2001:db8::1'], ['MX', '10 mx.example.net.'], ['CNAME', 'target.example.net.'],
      ['SRV', '0 1 443 autodiscover.example.net.'], ['TXT', '"v=spf1 " "~all"'], ['TXT', '"quote \\" and \\\\ and \\010"'], ['CAA', '0 issue "ca.example"'],
      ['SOA', 'ns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300'], ['TYPE65', '\\# 3 010203'],
    ];
    for (const [type, text] of cases) {
      const record = encodeRecord({ name: 'example.test', type, class: 'IN', ttl: 1, data: parseRdata(type, text) });
      const decoded = decodeMessage(Buffer.concat([header(1, RESPONSE, [0, 1, 0, 0]), record])).answers[0]!;
      assert.equal(formatRdata(decoded.type, decoded.data), text, type);
    }
  });
});
