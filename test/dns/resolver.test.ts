import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { nodeStyleResolver, RoutingResolver, ServerResolver } from '../../server/dns/resolver.ts';
import { fakeLookup, txt } from './checks/fake-lookup.ts';
import { startScriptedServer, startSilentServer, type FakeServer } from './fake-servers.ts';

const at = (port: number) => ({ host: '127.0.0.1', port });

describe('ServerResolver and RoutingResolver against Knot', { timeout: 30_000 }, () => {
  let knot: KnotInstance;
  let silent: FakeServer;
  before(async () => {
    [knot, silent] = await Promise.all([
      startKnot({ zone: 'example.test', records: ['alias IN CNAME target', 'target IN A 192.0.2.5', 'out IN CNAME dkim.provider.example.', 'sub IN NS ns.elsewhere.example.', 'mx1 IN A 192.0.2.7'] }),
      startSilentServer(),
    ]);
  });
  after(async () => { await Promise.all([knot?.stop(), silent?.stop()]); });

  test('answer, CNAME chain, NXDOMAIN with its RFC 2308 TTL, NODATA', async () => {
    const resolver = new ServerResolver([at(knot.port)], { recursionDesired: false });
    const alias = await resolver.lookup('alias.example.test', 'A');
    assert.deepEqual([alias.outcome, alias.chain, alias.records.map((r) => r.data), alias.authoritative], ['answer', ['target.example.test'], ['192.0.2.5'], true]);
    const missing = await resolver.lookup('missing.example.test', 'A');
    assert.deepEqual([missing.outcome, missing.negativeTtl, missing.soa?.zone], ['nxdomain', 300, 'example.test']);
    assert.equal((await resolver.lookup('target.example.test', 'MX')).outcome, 'nodata');
    assert.strictEqual(resolver.lookup('alias.example.test', 'A'), resolver.lookup('ALIAS.example.test.', 'a'), 'one question, one query per diagnosis');
  });

  test('a dead server is tried first once, then last', async () => {
    const resolver = new ServerResolver([at(silent.port), at(knot.port)], { timeoutMs: 500, retries: 0 });
    assert.equal((await resolver.lookup('target.example.test', 'A')).outcome, 'answer');
    const before = silent.udpQueries;
    assert.equal((await resolver.lookup('mx1.example.test', 'A')).outcome, 'answer');
    assert.equal(silent.udpQueries, before, 'not asked again');
  });

  test('a CNAME leaving the zone is followed through the other resolver; a referral falls back to it', async () => {
    const zone = new ServerResolver([at(knot.port)], { recursionDesired: false });
    const outside = fakeLookup({ 'dkim.provider.example|TXT': [txt('v=DKIM1; p=abc')], 'host.sub.example.test|A': ['192.0.2.99'] });
    const routing = new RoutingResolver((name) => (name.endsWith('example.test') ? zone : outside), outside);
    const dkim = await routing.lookup('out.example.test', 'TXT');
    assert.deepEqual([dkim.outcome, dkim.chain, dkim.name], ['answer', ['dkim.provider.example'], 'out.example.test']);
    const delegated = await routing.lookup('host.sub.example.test', 'A');
    assert.deepEqual([delegated.outcome, delegated.records.map((r) => r.data)], ['answer', ['192.0.2.99']]);
    assert.match(delegated.errors.join(), /is not authoritative for host\.sub\.example\.test \(referral\)/);
  });
});

describe('nodeStyleResolver: dns.promises.resolve shapes and error codes for mailauth', () => {
  test('shapes', async () => {
    const resolve = nodeStyleResolver(fakeLookup({
      'd.test|MX': [{ preference: 0, exchange: '.' }, { preference: 10, exchange: 'mx.d.test' }],
      'd.test|TXT': [txt('v=spf1 ', '-all')],
      'd.test|A': ['192.0.2.1'],
      '_imaps._tcp.d.test|SRV': [{ priority: 0, weight: 1, port: 993, target: 'imap.d.test' }],
    }));
    assert.deepEqual(await resolve('d.test', 'MX'), [{ exchange: '', priority: 0 }, { exchange: 'mx.d.test', priority: 10 }]);
    assert.deepEqual(await resolve('d.test', 'TXT'), [['v=spf1 ', '-all']]);
    assert.deepEqual(await resolve('d.test', 'A'), ['192.0.2.1']);
    assert.deepEqual(await resolve('_imaps._tcp.d.test', 'SRV'), [{ name: 'imap.d.test', port: 993, priority: 0, weight: 1 }]);
  });

  test('error codes: ENOTFOUND, ENODATA, ETIMEOUT, EREFUSED, and ENOTFOUND for a name that cannot exist', async () => {
    const refusing = await startScriptedServer({ udp: (q, reply) => reply(dnsPacket.encode({ type: 'response', id: q.id, flags: 5, questions: q.questions })) });
    const silent = await startSilentServer();
    try {
      const code = (p: Promise<unknown>) => p.then(() => 'resolved', (err: { code: string }) => err.code);
      const zone = nodeStyleResolver(fakeLookup({ 'd.test|A': ['192.0.2.1'], 'slow.test|A': 'FAIL' }));
      assert.equal(await code(zone('nowhere.test', 'A')), 'ENOTFOUND');
      assert.equal(await code(zone('d.test', 'MX')), 'ENODATA');
      assert.equal(await code(zone('slow.test', 'A')), 'ETIMEOUT');
      assert.equal(await code(nodeStyleResolver(new ServerResolver([at(refusing.port)]))('d.test', 'A')), 'EREFUSED');
      assert.equal(await code(nodeStyleResolver(new ServerResolver([at(silent.port)], { timeoutMs: 50, retries: 0 }))('d.test', 'A')), 'ETIMEOUT');
      assert.equal(await code(nodeStyleResolver(new ServerResolver([at(silent.port)]))(`${'a'.repeat(64)}.test`, 'A')), 'ENOTFOUND');
    } finally {
      await Promise.all([refusing.stop(), silent.stop()]);
    }
  });
});
