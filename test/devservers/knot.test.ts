import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { running } from '../support/process.ts';

const TIMEOUT = { timeout: 30_000 };

/** One UDP query, independent of the kdig probe that startKnot itself uses. */
async function query(port: number, name: string, type: dnsPacket.RecordType): Promise<dnsPacket.DecodedPacket> {
  const socket = createSocket('udp4');
  try {
    const id = Math.floor(Math.random() * 0xffff);
    const reply = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no DNS reply for ${name} ${type}`)), 3_000);
      socket.on('message', (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      socket.on('error', reject);
    });
    socket.send(dnsPacket.encode({ type: 'query', id, questions: [{ type, name }] }), port, '127.0.0.1');
    const decoded = dnsPacket.decode(await reply);
    assert.equal(decoded.id, id);
    return decoded;
  } finally {
    socket.close();
  }
}

async function mxRecords(port: number, name: string): Promise<string[]> {
  const res = await query(port, name, 'MX');
  return (res.answers ?? []).flatMap((a) => (a.type === 'MX' ? [`${a.data.preference} ${a.data.exchange}`] : [])).sort();
}

async function serial(port: number, name: string): Promise<number> {
  const soa = (await query(port, name, 'SOA')).answers?.find((a) => a.type === 'SOA');
  assert.ok(soa && soa.type === 'SOA' && soa.data.serial !== undefined);
  return soa.data.serial;
}


describe('startKnot', TIMEOUT, () => {
  let knot: KnotInstance;

  before(async () => {
    knot = await startKnot({ zone: 'example.test.', records: ['@ IN MX 10 old-mx.example.net.', '@ IN TXT "v=spf1 -all"'] });
  });
  after(() => knot?.stop());

  test('serves the zone with the given records and a fresh TSIG key', async () => {
    assert.equal(knot.zone, 'example.test');
    assert.equal(Buffer.from(knot.tsig.secret, 'base64').length, 32);
    assert.deepEqual(await mxRecords(knot.port, 'example.test'), ['10 old-mx.example.net']);
    const ns1 = await query(knot.port, 'ns1.example.test', 'A');
    assert.deepEqual(ns1.answers?.flatMap((a) => (a.type === 'A' ? [a.data] : [])), ['127.0.0.1']);
  });

  test('update() replaces the MX record and bumps the serial', async () => {
    const before = await serial(knot.port, 'example.test');
    await knot.update(['del example.test. MX', 'add example.test. 300 MX 10 mx.new.test.', 'add example.test. 300 MX 20 mx2.new.test.']);
    assert.deepEqual(await mxRecords(knot.port, 'example.test'), ['10 mx.new.test', '20 mx2.new.test']);
    assert.ok((await serial(knot.port, 'example.test')) > before);
  });

  test('a failed update throws with knsupdate output and changes nothing', async () => {
    await assert.rejects(
      knot.update(['prereq yxrrset missing.example.test. A', 'del example.test. MX']),
      /knsupdate failed.*NXRRSET/,
    );
    assert.deepEqual(await mxRecords(knot.port, 'example.test'), ['10 mx.new.test', '20 mx2.new.test']);
  });

  test('stop() ends knotd and removes the dir', async () => {
    assert.ok(running(knot.pid));
    await knot.stop();
    assert.equal(running(knot.pid), false);
    assert.equal(existsSync(knot.dir), false);
    await knot.stop(); // idempotent
  });
});

test('two instances run side by side with separate keys', TIMEOUT, async () => {
  const [a, b] = await Promise.all([
    startKnot({ zone: 'a.test', records: ['@ IN MX 10 mx.a.test.'] }),
    startKnot({ zone: 'b.test', records: ['@ IN MX 10 mx.b.test.'] }),
  ]);
  try {
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.tsig.secret, b.tsig.secret);
    assert.deepEqual(await mxRecords(a.port, 'a.test'), ['10 mx.a.test']);
    assert.deepEqual(await mxRecords(b.port, 'b.test'), ['10 mx.b.test']);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('a zone that does not parse fails fast with the knot.log tail', TIMEOUT, async () => {
  const started = Date.now();
  await assert.rejects(startKnot({ zone: 'bad.test', records: ['@ IN MX not-a-number'] }), /could not load zone bad\.test[\s\S]*invalid number/);
  assert.ok(Date.now() - started < 5_000);
});
