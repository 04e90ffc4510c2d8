// The rfc2136 DNS provider against real BIND 9 and Knot: one signed UPDATE with prerequisites,
// the reply's signature checked, and every refusal reported as what it is.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import plugin from '../../../plugins/rfc2136/index.ts';
import { startBind, type BindInstance } from '../../../server/devservers/bind.ts';
import { startKnot, type KnotInstance } from '../../../server/devservers/knot.ts';
import { diagnoseMailDns } from '../../../server/dns/mail-dns.ts';
import { plannedRRsets, planCutover, planTtl, readZoneState } from '../../../server/dns/plan.ts';
import { query } from '../../../server/dns/transport.ts';
import type { MxData, SoaData } from '../../../server/dns/wire.ts';
import { CutoverError } from '../../../server/errors.ts';
import { createLogger } from '../../../server/log.ts';
import type { DnsProvider, ExpectedDns } from '../../../server/plugins/contract.ts';

const D = 'example.test';
const RECORDS = ['@ IN MX 10 mx.old.example.net.', '@ IN TXT "v=spf1 include:spf.old.example.net -all"', '@ IN TXT "google-site-verification=abc"'];
const EXPECTED: ExpectedDns = { mx: [{ priority: 1, exchange: 'mx0.new.example.net' }, { priority: 5, exchange: 'mx1.new.example.net' }], spfIncludes: ['spf.new.example.net'] };
const silent = { log: createLogger('silent') };

interface Server { port: number; tsig: { secret: string }; stop(): Promise<void> }

function provider(server: Server, key: Record<string, unknown> = {}, log = silent): DnsProvider {
  const config = plugin.configSchema.parse({ server: `127.0.0.1:${server.port}`, key: { name: 'update-key.', secret: server.tsig.secret, ...key } });
  return plugin.dns!(config, log);
}

async function ask(server: Server, name: string, type: 'MX' | 'TXT' | 'SOA') {
  return (await query({ host: '127.0.0.1', port: server.port }, name, type, { recursionDesired: false })).answers.filter((r) => r.type === type);
}
const mx = async (server: Server) => (await ask(server, D, 'MX')).map((r) => `${(r.data as MxData).preference} ${(r.data as MxData).exchange}`).sort();
const txt = async (server: Server, name = D) => (await ask(server, name, 'TXT')).map((r) => (r.data as Buffer[]).map(String).join('')).sort();
const serial = async (server: Server) => ((await ask(server, D, 'SOA'))[0]!.data as SoaData).serial;

function rejects(code: string, check: (err: CutoverError) => void = () => undefined) {
  return (err: unknown) => {
    assert.ok(err instanceof CutoverError, String(err));
    assert.equal(err.code, code, err.message);
    check(err);
    return true;
  };
}

const SERVERS: Array<[string, () => Promise<Server>]> = [
  ['BIND 9', () => startBind({ zones: [{ zone: D, records: RECORDS }] }) as Promise<BindInstance>],
  ['Knot', () => startKnot({ zone: D, records: RECORDS }) as Promise<KnotInstance>],
];

for (const [label, start] of SERVERS) {
  describe(`rfc2136 provider against ${label}`, { timeout: 60_000 }, () => {
    let server: Server;
    let dns: DnsProvider;
    before(async () => { server = await start(); dns = provider(server); });
    after(async () => { await server?.stop(); });

    test('manages its zone and no other; lists RRsets from the primary with their TTLs', async () => {
      assert.equal(await dns.manages(D), true);
      assert.equal(await dns.manages('other.test'), false);
      assert.equal(await dns.manages(`sub.${D}`), false, 'not a zone apex');
      assert.deepEqual(await dns.listRecords(D, D, 'MX'), [{ name: D, type: 'MX', ttl: 300, data: '10 mx.old.example.net.' }]);
      assert.deepEqual((await dns.listRecords(D)).map((r) => r.type).sort(), ['MX', 'NS', 'SOA', 'TXT', 'TXT']);
      assert.deepEqual(await dns.listRecords(D, `nothing.${D}`, 'A'), []);
    });

    test('a wrong secret is refused (BADSIG), said clearly, and nothing changes', async () => {
      const before = await serial(server);
      const wrong = provider(server, { secret: Buffer.alloc(32, 9).toString('base64') });
      await assert.rejects(wrong.apply(D, [{ op: 'deleteRRset', name: D, type: 'MX' }]), rejects('DNS_TSIG_REJECTED', (err) => {
        assert.equal(err.params.error, 'BADSIG');
        assert.match(err.message, /refused the update of example\.test signed with key update-key\.: BADSIG \(the server does not accept the signature: the secret differs/);
        assert.equal(err.retryable, false);
      }));
      assert.deepEqual(await mx(server), ['10 mx.old.example.net']);
      assert.equal(await serial(server), before);
    });

    test('an unknown key name is refused (BADKEY)', async () => {
      await assert.rejects(provider(server, { name: 'nobody.' }).apply(D, [{ op: 'deleteRRset', name: D, type: 'MX' }]), rejects('DNS_TSIG_REJECTED', (err) => {
        assert.equal(err.params.error, 'BADKEY');
        assert.match(err.message, /does not know this key name/);
      }));
    });

    test('the planned change applies in one signed update and is visible on the server', async () => {
      const state = await readZoneState(dns, D, plannedRRsets(D, EXPECTED));
      const plan = planCutover(D, EXPECTED, state, 300);
      const before = await serial(server);
      await dns.apply(D, plan.changes, plan.prerequisites);
      assert.deepEqual(await mx(server), ['1 mx0.new.example.net', '5 mx1.new.example.net']);
      assert.deepEqual(await txt(server), ['google-site-verification=abc', 'v=spf1 include:spf.old.example.net include:spf.new.example.net -all']);
      assert.ok((await serial(server)) > before);
      assert.deepEqual(planCutover(D, EXPECTED, await readZoneState(dns, D, plannedRRsets(D, EXPECTED)), 300).changes, [], 'a second plan has nothing left to do');
    });

    test('the propagation check turns green on the server', async () => {
      const report = await diagnoseMailDns(D, EXPECTED, { resolvers: [{ host: '127.0.0.1', port: server.port }], authoritative: [{ host: '127.0.0.1', port: server.port }], query: { timeoutMs: 1000, retries: 1 } });
      const propagation = report.checks.find((c) => c.id === 'propagation')!;
      assert.equal(propagation.status, 'ok', JSON.stringify(propagation));
      assert.deepEqual(propagation.found, ['authoritative: 1/1 updated']);
      assert.deepEqual(report.blocking, []);
    });

    test('a stale prerequisite is refused (NXRRSET) and nothing of the update is applied', async () => {
      const before = await serial(server);
      const stale = [{ name: D, type: 'MX', data: ['10 mx.old.example.net.'] }];
      const changes = [
        { op: 'add' as const, record: { name: `marker.${D}`, type: 'TXT', ttl: 300, data: '"half-applied?"' } },
        { op: 'deleteRRset' as const, name: D, type: 'MX' },
        { op: 'add' as const, record: { name: D, type: 'MX', ttl: 300, data: '10 mx.old.example.net.' } },
      ];
      await assert.rejects(dns.apply(D, changes, stale), rejects('DNS_PREREQUISITE_FAILED', (err) => {
        assert.equal(err.params.rcode, 'NXRRSET');
        assert.match(err.message, /changed since the change was planned \(NXRRSET: an RRset the plan was made from no longer holds the values it had\); nothing was applied/);
        assert.equal(err.retryable, true, 'the step plans again from the new state');
      }));
      assert.deepEqual(await txt(server, `marker.${D}`), []);
      assert.deepEqual(await mx(server), ['1 mx0.new.example.net', '5 mx1.new.example.net']);
      assert.equal(await serial(server), before);
    });

    test('a prerequisite that an RRset is absent, when it exists, is refused (YXRRSET)', async () => {
      await assert.rejects(dns.apply(D, [{ op: 'add', record: { name: D, type: 'MX', ttl: 300, data: '20 other.example.net.' } }], [{ name: D, type: 'MX', data: [] }]),
        rejects('DNS_PREREQUISITE_FAILED', (err) => assert.equal(err.params.rcode, 'YXRRSET')));
    });

    test('TTLs are lowered before a cutover and restored after', async () => {
      const keys = [{ name: D, type: 'MX' }, { name: D, type: 'TXT' }];
      const lower = planTtl(await readZoneState(dns, D, keys), keys, 60);
      assert.equal(lower.previous, 300);
      await dns.apply(D, lower.changes, lower.prerequisites);
      assert.deepEqual((await ask(server, D, 'MX')).map((r) => r.ttl), [60, 60]);
      const restore = planTtl(await readZoneState(dns, D, keys), keys, 3600);
      await dns.apply(D, restore.changes, restore.prerequisites);
      assert.deepEqual([...(await ask(server, D, 'MX')), ...(await ask(server, D, 'TXT'))].map((r) => r.ttl), [3600, 3600, 3600, 3600]);
      assert.deepEqual(await mx(server), ['1 mx0.new.example.net', '5 mx1.new.example.net'], 'same records, other TTL');
    });

    test('a TXT value over 255 bytes (a 2048-bit DKIM key) is written split and reads back whole', async () => {
      const key = `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`;
      await dns.apply(D, [{ op: 'add', record: { name: `s1._domainkey.${D}`, type: 'TXT', ttl: 300, data: `"${key}"` } }]);
      const [record] = await ask(server, `s1._domainkey.${D}`, 'TXT');
      assert.deepEqual((record!.data as Buffer[]).map((s) => s.length), [255, key.length - 255]);
      assert.deepEqual(await txt(server, `s1._domainkey.${D}`), [key]);
    });

    test('the TSIG secret never reaches the log, even at trace level', async () => {
      let written = '';
      const sink = new Writable({ write(chunk, _enc, done) { written += String(chunk); done(); } });
      const log = pino({ level: 'trace' }, sink);
      await provider(server, {}, { log }).apply(D, [{ op: 'add', record: { name: `logged.${D}`, type: 'A', ttl: 300, data: '192.0.2.1' } }]);
      await assert.rejects(provider(server, { secret: Buffer.alloc(32, 3).toString('base64') }, { log }).apply(D, [{ op: 'deleteRRset', name: `logged.${D}`, type: 'A' }]), (err: unknown) => {
        assert.ok(!String((err as Error).message).includes(Buffer.alloc(32, 3).toString('base64')));
        return true;
      });
      assert.match(written, /rfc2136 update applied/);
      assert.ok(!written.includes(server.tsig.secret));
    });
  });
}

describe('rfc2136 config', () => {
  const base = { server: '127.0.0.1:5300', key: { name: 'update-key.', secret: 'c2VjcmV0' } };
  const invalid = (config: unknown) => plugin.configSchema.safeParse(config).success === false;

  test('the server is an IP with an optional port; exactly one source for the secret', () => {
    assert.equal(plugin.configSchema.safeParse(base).success, true);
    assert.ok(invalid({ ...base, server: 'ns1.example.net' }));
    assert.ok(invalid({ ...base, key: { name: 'k.', secret: 'c2VjcmV0', secretEnv: 'X' } }));
    assert.ok(invalid({ ...base, key: { name: 'k.' } }));
    assert.ok(invalid({ ...base, key: { name: 'k.', secret: 'not base64!' } }));
    assert.ok(invalid({ ...base, key: { ...base.key, algorithm: 'hmac-md5' } }));
    assert.ok(invalid({ ...base, extra: true }));
  });

  test('secretFile and secretEnv are read when used, and a missing one is a config error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-rfc2136-'));
    const file = join(dir, 'key');
    writeFileSync(file, 'c2VjcmV0\n', { mode: 0o600 });
    for (const key of [{ name: 'k.', secretFile: join(dir, 'absent') }, { name: 'k.', secretEnv: 'CUTOVER_TEST_ABSENT_SECRET' }]) {
      const dns = plugin.dns!(plugin.configSchema.parse({ ...base, key }), silent);
      await assert.rejects(dns.apply(D, [{ op: 'deleteRRset', name: D, type: 'MX' }]), rejects('CONFIG_INVALID'));
    }
    const ok = plugin.dns!(plugin.configSchema.parse({ ...base, server: '127.0.0.1:9', key: { name: 'k.', secretFile: file }, timeoutMs: 300 }), silent);
    await assert.rejects(ok.apply(D, [{ op: 'deleteRRset', name: D, type: 'MX' }]), rejects('DNS_QUERY_FAILED'), 'the secret was read; the update then finds nobody listening');
  });
});
