import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startBind, zoneFileOf, type BindInstance } from '../../server/devservers/bind.ts';
import { freePort } from '../../server/devservers/ports.ts';
import { query } from '../../server/dns/transport.ts';
import type { MxData, SoaData } from '../../server/dns/wire.ts';
import { running } from '../support/process.ts';

const TIMEOUT = { timeout: 60_000 };

async function mx(port: number, name: string): Promise<string[]> {
  const response = await query({ host: '127.0.0.1', port }, name, 'MX', { recursionDesired: false, timeoutMs: 1000 });
  return response.answers.flatMap((r) => (r.type === 'MX' ? [`${(r.data as MxData).preference} ${(r.data as MxData).exchange}`] : [])).sort();
}

async function serial(port: number, zone: string): Promise<number | null> {
  const response = await query({ host: '127.0.0.1', port }, zone, 'SOA', { recursionDesired: false, timeoutMs: 1000 });
  const soa = response.answers.find((r) => r.type === 'SOA');
  return soa ? (soa.data as SoaData).serial : null;
}


describe('startBind', TIMEOUT, () => {
  let bind: BindInstance;
  before(async () => { bind = await startBind({ zones: [{ zone: 'example.test.', records: ['@ IN MX 10 old-mx.example.net.'] }, { zone: 'example.net', records: ['mx IN A 192.0.2.25'], serial: 7 }] }); });
  after(() => bind?.stop());

  test('serves every zone authoritatively, with a fresh TSIG key', async () => {
    assert.deepEqual(bind.zones, ['example.test', 'example.net']);
    assert.equal(Buffer.from(bind.tsig.secret, 'base64').length, 32);
    assert.deepEqual(await mx(bind.port, 'example.test'), ['10 old-mx.example.net']);
    const response = await query({ host: '127.0.0.1', port: bind.port }, 'mx.example.net', 'A', { recursionDesired: false });
    assert.equal(response.authoritative, true);
    assert.deepEqual(response.answers.map((r) => r.data), ['192.0.2.25']);
    assert.equal(await serial(bind.port, 'example.net'), 7);
  });

  test('it is not a resolver: a name outside its zones is refused', async () => {
    const response = await query({ host: '127.0.0.1', port: bind.port }, 'example.org', 'MX');
    assert.equal(response.rcode, 'REFUSED');
  });

  test('stop() ends named and removes the directory; a second stop is a no-op', async () => {
    assert.ok(running(bind.pid));
    await bind.stop();
    assert.equal(running(bind.pid), false);
    assert.equal(existsSync(bind.dir), false);
    await bind.stop();
  });
});

test('a secondary transfers the zone from its primary and follows its NOTIFYs', TIMEOUT, async () => {
  const secondaryPort = await freePort();
  const primary = await startBind({ zones: [{ zone: 'example.test', records: ['@ IN MX 10 old-mx.example.net.'], notifyPorts: [secondaryPort] }] });
  try {
    const secondary = await startBind({ port: secondaryPort, zones: [{ zone: 'example.test', primaryPort: primary.port }] });
    try {
      assert.deepEqual(await mx(secondary.port, 'example.test'), ['10 old-mx.example.net']);
      assert.match(await zoneFileOf(secondary, 'example.test'), /old-mx\.example\.net/);
      const { default: plugin } = await import('../../plugins/rfc2136/index.ts');
      const { createLogger } = await import('../../server/log.ts');
      const dns = plugin.dns!(plugin.configSchema.parse({ server: `127.0.0.1:${primary.port}`, key: { name: 'update-key.', secret: primary.tsig.secret } }), { log: createLogger('silent') });
      await dns.apply('example.test', [{ op: 'deleteRRset', name: 'example.test', type: 'MX' }, { op: 'add', record: { name: 'example.test', type: 'MX', ttl: 300, data: '10 mx.new.example.net.' } }]);
      const deadline = Date.now() + 10_000;
      while ((await serial(secondary.port, 'example.test')) !== (await serial(primary.port, 'example.test'))) {
        assert.ok(Date.now() < deadline, `the secondary never caught up:\n${secondary.log().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(await mx(secondary.port, 'example.test'), ['10 mx.new.example.net']);
    } finally {
      await secondary.stop();
    }
  } finally {
    await primary.stop();
  }
});

test('a zone that does not load fails the start with named\'s own words, quickly', TIMEOUT, async () => {
  const started = Date.now();
  await assert.rejects(startBind({ zones: [{ zone: 'bad.test', records: ['@ IN MX not-a-number'] }] }), /named could not load zone bad\.test[\s\S]*named output:[\s\S]*bad\.test/);
  assert.ok(Date.now() - started < 10_000);
});
