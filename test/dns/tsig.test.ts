// TSIG signing and reply verification, checked against an HMAC computed here from RFC 8945 §4.3
// byte by byte (the real-server proof is test/plugins/rfc2136: BIND and Knot accept our MACs
// and we accept theirs).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseTsig, signMessage, verifyReply, type TsigKey } from '../../server/dns/tsig.ts';
import { buildUpdate } from '../../server/dns/update.ts';
import { decodeMessage } from '../../server/dns/wire.ts';

const KEY: TsigKey = { name: 'update-key.', algorithm: 'hmac-sha256', secret: Buffer.from('Qa9yUsMtJgmJEhjETRshKsmVc/TamavND7tM2TLodH0=', 'base64') };
const NOW = 1_760_000_000;

/** Wire name, by hand: labels, lower case, root. */
const wire = (name: string) => Buffer.concat([...name.replace(/\.$/, '').toLowerCase().split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
const be = (bytes: number, value: number) => { const b = Buffer.alloc(bytes); b.writeUIntBE(value, 0, bytes); return b; };

function tsigVariables(time: number, fudge: number, error: number, other = Buffer.alloc(0)): Buffer {
  return Buffer.concat([wire(KEY.name), be(2, 255), be(4, 0), wire('hmac-sha256'), be(6, time), be(2, fudge), be(2, error), be(2, other.length), other]);
}

function request(): Buffer {
  return buildUpdate(0x4242, 'example.test', { prerequisites: [], updates: [{ name: 'example.test', type: 'MX', class: 'ANY', ttl: 0 }] });
}

/** What a server sends back: the request header turned into a response, signed over the request MAC. */
function serverReply(requestMac: Buffer, opts: { rcode?: number; error?: number; time?: number; key?: TsigKey; emptyMac?: boolean; id?: number } = {}): Buffer {
  const body = Buffer.from(request().subarray(0, 12 + wire('example.test').length + 4));
  body.writeUInt16BE(0x8000 | (5 << 11) | (opts.rcode ?? 0), 2);
  body.writeUInt16BE(0, 6);
  body.writeUInt16BE(0, 8);
  body.writeUInt16BE(0, 10);
  const time = opts.time ?? NOW;
  const key = opts.key ?? KEY;
  const mac = opts.emptyMac ? Buffer.alloc(0) : createHmac('sha256', key.secret).update(be(2, requestMac.length)).update(requestMac).update(body).update(tsigVariables(time, 300, opts.error ?? 0)).digest();
  const rdata = Buffer.concat([wire('hmac-sha256'), be(6, time), be(2, 300), be(2, mac.length), mac, be(2, 0x4242), be(2, opts.error ?? 0), be(2, 0)]);
  const rr = Buffer.concat([wire(key.name), be(2, 250), be(2, 255), be(4, 0), be(2, rdata.length), rdata]);
  const out = Buffer.concat([body, rr]);
  out.writeUInt16BE(1, 10);
  if (opts.id !== undefined) out.writeUInt16BE(opts.id, 0);
  return out;
}

describe('signMessage', () => {
  test('appends one TSIG RR whose MAC is HMAC-SHA256(message, TSIG variables)', () => {
    const message = request();
    const signed = signMessage(message, KEY, NOW);
    const expected = createHmac('sha256', KEY.secret).update(message).update(tsigVariables(NOW, 300, 0)).digest();
    assert.deepEqual(signed.mac, expected);
    assert.equal(signed.wire.readUInt16BE(10), 1, 'ARCOUNT incremented');
    const decoded = decodeMessage(signed.wire);
    const tsig = decoded.additionals[0]!;
    assert.equal(tsig.type, 'TSIG');
    assert.equal(tsig.class, 'ANY');
    assert.deepEqual(parseTsig(tsig), { algorithm: 'hmac-sha256', timeSigned: NOW, fudge: 300, mac: expected, originalId: 0x4242, error: 0, other: Buffer.alloc(0) });
  });
});

describe('verifyReply', () => {
  const { mac } = signMessage(request(), KEY, NOW);
  const check = (raw: Buffer, now = NOW) => verifyReply(raw, decodeMessage(raw), KEY, mac, now);

  test('a reply signed over our request MAC is verified, even with another id on the wire', () => {
    assert.equal(check(serverReply(mac)).status, 'verified');
    assert.equal(check(serverReply(mac, { id: 7 })).status, 'verified', 'the MAC covers the original id from the TSIG RR');
  });

  test('one changed byte, another key or another request MAC: invalid', () => {
    const tampered = serverReply(mac);
    tampered[3] ^= 0x01;
    assert.match(JSON.stringify(check(tampered)), /MAC of the reply does not match/);
    const other: TsigKey = { ...KEY, secret: Buffer.alloc(32, 7) };
    assert.equal(check(serverReply(mac, { key: other })).status, 'invalid');
    assert.equal(check(serverReply(Buffer.alloc(32, 1))).status, 'invalid');
    assert.match(JSON.stringify(check(serverReply(mac, { key: { ...KEY, name: 'other-key.' } }))), /signed with key other-key/);
  });

  test('a reply signed outside the fudge is invalid (replay)', () => {
    assert.match(JSON.stringify(check(serverReply(mac, { time: NOW - 301 }))), /301 s away from our clock/);
    assert.equal(check(serverReply(mac, { time: NOW - 299 })).status, 'verified');
  });

  test('an unsigned TSIG error (BADSIG, BADKEY) is reported as such; a signed BADTIME too', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(check(serverReply(mac, { rcode: 9, error: 16, emptyMac: true })))).error, 'BADSIG');
    const badkey = check(serverReply(mac, { rcode: 9, error: 17, emptyMac: true }));
    assert.ok(badkey.status === 'error' && badkey.error === 'BADKEY' && !badkey.signed);
    const badtime = check(serverReply(mac, { rcode: 9, error: 18, time: NOW + 1000 }));
    assert.ok(badtime.status === 'error' && badtime.error === 'BADTIME' && badtime.signed);
  });

  test('no TSIG at all, or a TSIG that is not last: invalid', () => {
    const unsigned = serverReply(mac).subarray(0, 12 + wire('example.test').length + 4);
    const noTsig = Buffer.from(unsigned);
    noTsig.writeUInt16BE(0, 10);
    assert.match(JSON.stringify(check(noTsig)), /not signed \(no TSIG record\)/);
    const signed = serverReply(mac);
    const extra = Buffer.concat([signed, Buffer.from([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4])]);
    extra.writeUInt16BE(2, 10);
    assert.match(JSON.stringify(check(extra)), /not the single last record/);
  });
});
