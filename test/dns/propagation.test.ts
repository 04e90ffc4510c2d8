// Propagation across several real authoritative servers (BIND and Knot serving the same zone,
// a BIND primary with its secondary), and the resolvers' view with its TTL-based ETA.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import plugin from '../../plugins/rfc2136/index.ts';
import { startBind, type BindInstance } from '../../server/devservers/bind.ts';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { freePort } from '../../server/devservers/ports.ts';
import { authoritativeServers, findZoneCut, serialNewer } from '../../server/dns/authority.ts';
import { diagnoseMailDns, type MailDnsReport } from '../../server/dns/mail-dns.ts';
import { formatDuration } from '../../server/dns/propagation.ts';
import { createLogger } from '../../server/log.ts';
import type { ExpectedDns } from '../../server/plugins/contract.ts';
import { fakeLookup, txt } from './checks/fake-lookup.ts';
import { replyTo, startScriptedServer, type FakeServer } from './fake-servers.ts';

const D = 'example.test';
const OLD = ['@ IN MX 10 mx.old.example.net.', '@ IN TXT "v=spf1 include:spf.old.example.net -all"'];
const EXPECTED: ExpectedDns = { mx: [{ priority: 10, exchange: 'mx.new.example.net' }], spfIncludes: ['spf.new.example.net'] };
// Generous: these servers do answer, and a busy test machine must not turn an answer into a timeout.
const FAST = { timeoutMs: 1000, retries: 1 };
const CHANGE = [
  { op: 'deleteRRset' as const, name: D, type: 'MX' }, { op: 'add' as const, record: { name: D, type: 'MX', ttl: 300, data: '10 mx.new.example.net.' } },
  { op: 'deleteRRset' as const, name: D, type: 'TXT' }, { op: 'add' as const, record: { name: D, type: 'TXT', ttl: 300, data: '"v=spf1 include:spf.new.example.net -all"' } },
];

const at = (port: number) => ({ host: '127.0.0.1', port });
const check = (report: MailDnsReport, id: string) => report.checks.find((c) => c.id === id)!;

function apply(server: { port: number; tsig: { secret: string } }): Promise<void> {
  const dns = plugin.dns!(plugin.configSchema.parse({ server: `127.0.0.1:${server.port}`, key: { name: 'update-key.', secret: server.tsig.secret } }), { log: createLogger('silent') });
  return dns.apply(D, CHANGE);
}

describe('two authoritative servers, BIND and Knot, serving the same zone', { timeout: 60_000 }, () => {
  let bind: BindInstance;
  let knot: KnotInstance;
  before(async () => { [bind, knot] = await Promise.all([startBind({ zones: [{ zone: D, records: OLD }] }), startKnot({ zone: D, records: OLD })]); });
  after(async () => { await Promise.all([bind?.stop(), knot?.stop()]); });
  const diagnose = () => diagnoseMailDns(D, EXPECTED, { resolvers: [at(bind.port)], authoritative: [at(bind.port), at(knot.port)], query: FAST });

  test('red before the change: authoritative 0/2 updated, each server with its serial and records', async () => {
    const report = await diagnose();
    const propagation = check(report, 'propagation');
    assert.equal(propagation.status, 'error');
    assert.deepEqual(propagation.found, ['authoritative: 0/2 updated']);
    assert.equal(report.authoritativeSource, 'override');
    assert.deepEqual(report.authoritative.map((s) => [s.state, s.serial]), [['stale', 2024010101], ['stale', 2024010101]]);
    assert.match(propagation.details![0]!, /^✖ 127\.0\.0\.1:\d+: serial 2024010101 MX 10 mx\.old\.example\.net; SPF v=spf1 include:spf\.old\.example\.net -all$/);
  });

  test('amber while only BIND has it: 1/2, the record checks read the newest serial', async () => {
    await apply(bind);
    const report = await diagnose();
    assert.deepEqual(check(report, 'propagation').found, ['authoritative: 1/2 updated']);
    assert.equal(check(report, 'propagation').status, 'warn');
    assert.equal(check(report, 'mx').status, 'ok', 'MX as the newest server serves it');
    assert.equal(report.server, `127.0.0.1:${bind.port}`);
    assert.deepEqual(report.blocking, ['propagation']);
    assert.match(check(report, 'propagation').details!.join('\n'), /serials differ \(2024010102, 2024010101\)/);
  });

  test('green once both serve it: 2/2, nothing blocks the cutover', async () => {
    await apply(knot);
    const report = await diagnose();
    assert.deepEqual(check(report, 'propagation').found, ['authoritative: 2/2 updated']);
    assert.equal(check(report, 'propagation').status, 'ok');
    assert.deepEqual(report.blocking, []);
  });

  test('a server that does not answer is grey, not red', async () => {
    await knot.stop();
    const report = await diagnose();
    const propagation = check(report, 'propagation');
    assert.deepEqual(propagation.found, ['authoritative: 1/2 updated, 1 not answering']);
    assert.equal(propagation.status, 'warn');
    assert.match(propagation.details![1]!, /^\? 127\.0\.0\.1:\d+: no answer \(DNS query for example\.test SOA/);
    assert.match(propagation.fix!, /check the servers that do not answer/);
    assert.deepEqual(report.authoritative.map((s) => s.state), ['updated', 'unknown']);
  });
});

test('a BIND primary and its secondary: propagation reaches 2/2 by NOTIFY and zone transfer', { timeout: 60_000 }, async () => {
  const secondaryPort = await freePort();
  const primary = await startBind({ zones: [{ zone: D, records: OLD, notifyPorts: [secondaryPort] }] });
  const secondary = await startBind({ port: secondaryPort, zones: [{ zone: D, primaryPort: primary.port }] }).catch(async (err) => { await primary.stop(); throw err; });
  try {
    const diagnose = () => diagnoseMailDns(D, EXPECTED, { resolvers: [at(primary.port)], authoritative: [at(primary.port), at(secondary.port)], query: FAST });
    assert.deepEqual(check(await diagnose(), 'propagation').found, ['authoritative: 0/2 updated']);
    await apply(primary);
    const seen = new Set<string>();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = check(await diagnose(), 'propagation').found[0]!;
      seen.add(found);
      if (found === 'authoritative: 2/2 updated') break;
      assert.ok(Date.now() < deadline, `never reached 2/2: ${[...seen].join(' / ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await Promise.all([secondary.stop(), primary.stop()]);
  }
});

test('a lame server (answers, but not for the zone) is red', { timeout: 30_000 }, async () => {
  const [good, lame] = await Promise.all([startKnot({ zone: D, records: OLD }), startKnot({ zone: 'other.test', records: [] })]);
  try {
    const report = await diagnoseMailDns(D, { ...EXPECTED, mx: [{ priority: 10, exchange: 'mx.old.example.net' }], spfIncludes: [] }, { resolvers: [at(good.port)], authoritative: [at(good.port), at(lame.port)], query: FAST });
    const propagation = check(report, 'propagation');
    assert.equal(propagation.status, 'error');
    assert.deepEqual(propagation.found, ['authoritative: 1/2 updated, 1 lame']);
    assert.match(propagation.details![1]!, /lame: answers REFUSED for the zone's SOA/);
  } finally {
    await Promise.all([good.stop(), lame.stop()]);
  }
});

describe('the resolvers\' view and its ETA', () => {
  let resolver: FakeServer;
  let authority: KnotInstance;
  before(async () => {
    authority = await startKnot({ zone: D, records: ['@ IN MX 10 mx.new.example.net.'] });
    // A resolver still caching the old MX for 1234 s more, and a cached NXDOMAIN for _dmarc-like names.
    resolver = await startScriptedServer({
      udp: (q, reply) => {
        const question = q.questions![0]!;
        if (question.type === 'MX') reply(replyTo(q, { flags: dnsPacket.RECURSION_AVAILABLE, answers: [{ type: 'MX', name: D, class: 'IN', ttl: 1234, data: { preference: 10, exchange: 'mx.old.example.net' } }] }));
        else reply(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | 3, questions: [question], authorities: [{ type: 'SOA', name: D, ttl: 250, data: { mname: `ns1.${D}`, rname: `hostmaster.${D}`, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 600 } }] }));
      },
    });
  });
  after(async () => { await Promise.all([resolver?.stop(), authority?.stop()]); });

  test('a stale positive answer clears within its remaining TTL, a cached NXDOMAIN within min(SOA TTL, MINIMUM)', async () => {
    const report = await diagnoseMailDns(D, { ...EXPECTED, spfIncludes: ['spf.new.example.net'] }, { resolvers: [at(resolver.port)], authoritative: [at(authority.port)], query: FAST });
    const view = check(report, 'resolvers');
    assert.equal(view.status, 'warn');
    assert.deepEqual(report.resolvers.map((r) => [r.state, r.etaSeconds]), [['stale', 1234]]);
    assert.match(view.found[0]!, /^resolvers: 0\/1 seeing the new records, /);
    assert.match(view.details![0]!, /MX 10 mx\.old\.example\.net; SPF \(none\) \(cached, clears within 20m 34s\)/);
    assert.equal(resolver.udpQueries >= 4, true, 'each probe asked twice (anycast caches)');
    // The negative answer alone (the MX the resolver caches is the one expected here): SOA TTL 250 < MINIMUM 600.
    const negative = await diagnoseMailDns(D, { mx: [{ priority: 10, exchange: 'mx.old.example.net' }], spfIncludes: ['spf.new.example.net'] }, { resolvers: [at(resolver.port)], authoritative: [at(authority.port)], query: FAST, resolverRepeats: 1 });
    assert.equal(negative.resolvers[0]!.etaSeconds, 250);
  });

  test('formatDuration', () => {
    assert.deepEqual([0, 59, 60, 1234, 3600, 90061].map(formatDuration), ['0s', '59s', '1m', '20m 34s', '1h', '1d 1h 1m']);
  });
});

describe('zone cut and NS discovery', () => {
  test('the zone of a name comes from a positive SOA, or from the SOA of a negative answer', async () => {
    const soa = { mname: `ns1.${D}`, rname: `h.${D}`, serial: 5, refresh: 1, retry: 1, expire: 1, minimum: 60 };
    const apex = fakeLookup({ [`${D}|SOA`]: [soa] });
    assert.deepEqual(await findZoneCut(D, apex), { zone: D, soa, via: 'fake' });
    const below = { ...fakeLookup({}), lookup: async (name: string, type: string) => ({ ...(await fakeLookup({}).lookup(name, type)), outcome: 'nodata' as const, soa: { zone: D, ttl: 60, data: soa } }) };
    assert.equal((await findZoneCut(`mail.sub.${D}`, below))?.zone, D);
    assert.equal(await findZoneCut(D, fakeLookup({ [`${D}|SOA`]: 'FAIL' })), null);
  });

  test('every address of every NS name is a server to ask; a name without address stays grey', async () => {
    const lookup = fakeLookup({
      [`${D}|NS`]: ['ns2.example.net', 'ns1.example.net', 'lost.example.net'],
      'ns1.example.net|A': ['192.0.2.1'], 'ns1.example.net|AAAA': ['2001:db8::1'], 'ns2.example.net|A': ['192.0.2.2'],
      'lost.example.net|TXT': [txt('x')],
    });
    const set = await authoritativeServers(D, lookup);
    assert.equal(set.source, 'ns');
    assert.deepEqual(set.servers.map((s) => s.label), ['lost.example.net', 'ns1.example.net (192.0.2.1:53)', 'ns1.example.net ([2001:db8::1]:53)', 'ns2.example.net (192.0.2.2:53)']);
    assert.deepEqual(set.notes, ['lost.example.net has no address']);
  });

  test('configured name servers that answer for the zone themselves are its authoritative set', async () => {
    const knot = await startKnot({ zone: D, records: [] });
    const silent = await startScriptedServer({});
    try {
      const set = await authoritativeServers(D, fakeLookup({}), { configured: [at(silent.port), at(knot.port)], query: { timeoutMs: 200, retries: 0 } });
      assert.equal(set.source, 'configured');
      assert.deepEqual(set.servers.map((s) => s.address), [at(knot.port)]);
    } finally {
      await Promise.all([knot.stop(), silent.stop()]);
    }
  });

  test('RFC 1982 serial arithmetic', () => {
    assert.ok(serialNewer(2, 1));
    assert.ok(!serialNewer(1, 2));
    assert.ok(serialNewer(1, 2 ** 32 - 10), 'wrapped around');
    assert.ok(!serialNewer(5, 5));
  });
});
