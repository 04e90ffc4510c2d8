// The dns-cutover step with an RFC 2136 provider against a real Knot: TTLs lowered first, the
// change applied once, propagation watched, TTLs restored; and without a provider, the records
// to publish and a wait. The step context is a plain object over a real database.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import { projectOptionsSchema, type ProjectOptions } from '../../server/db/repos/projects.ts';
import { query } from '../../server/dns/transport.ts';
import type { MxData } from '../../server/dns/wire.ts';
import { createLogger } from '../../server/log.ts';
import type { ExpectedDns, PlatformConnector } from '../../server/plugins/contract.ts';
import { secretBox } from '../../server/secrets.ts';
import { dnsCutover } from '../../server/workflow/steps/dns-cutover.ts';
import type { StepContext, StepOutcome } from '../../server/workflow/types.ts';
import { insertProject, tempDb, type TempDb } from '../db/fixtures.ts';

const D = 'example.test';
const NEW: ExpectedDns = { mx: [{ priority: 10, exchange: 'mx.new.example.net' }], spfIncludes: ['spf.new.example.net'] };
const OLD: ExpectedDns = { mx: [{ priority: 10, exchange: 'mx.old.example.net' }], spfIncludes: ['spf.old.example.net'] };
const OLD_ZONE = ['@ 3600 IN MX 10 mx.old.example.net.', '@ 3600 IN TXT "v=spf1 include:spf.old.example.net -all"'];

const connector = (expected: ExpectedDns) => ({ expectedDns: async () => expected }) as unknown as PlatformConnector;

async function records(knot: KnotInstance, type: 'MX' | 'TXT') {
  const response = await query({ host: '127.0.0.1', port: knot.port }, D, type, { recursionDesired: false });
  return response.answers.filter((r) => r.type === type).map((r) => ({ ttl: r.ttl, text: type === 'MX' ? (r.data as MxData).exchange : (r.data as Buffer[]).join('') }));
}

describe('dns-cutover step', { timeout: 60_000 }, () => {
  let temp: TempDb;
  const box = secretBox(randomBytes(32));
  const log = createLogger('silent');
  before(async () => { temp = await tempDb(); });
  after(async () => { await temp?.close(); });

  async function context(options: Partial<ProjectOptions>): Promise<StepContext & { notes: string[]; now: () => number }> {
    const { projectId, domainId } = await insertProject(temp.db);
    const notes: string[] = [];
    const ctx = {
      db: temp.db, box, log, notes,
      project: { id: projectId, name: 'p', source_platform_id: 1, dest_platform_id: 2, options: '{}', state: 'active', created_at: '' },
      options: projectOptionsSchema.parse(options),
      mailbox: {} as StepContext['mailbox'],
      domain: { id: domainId, project_id: projectId, name: D },
      source: connector(OLD), dest: connector(NEW),
      now: () => 1_000_000,
      save: async () => undefined,
      note: async (message: string) => { notes.push(message); },
    };
    return ctx;
  }

  const events = async (ctx: StepContext) => (await temp.db('events').where({ domain_id: ctx.domain.id }).orderBy('id')).map((e: { outcome: string }) => e.outcome);

  test('with a provider: lowers TTLs and waits, then changes the zone in one update, watches it, and restores the TTLs', async () => {
    const knot = await startKnot({ zone: D, records: OLD_ZONE });
    try {
      await insertPlatform(temp.db, box, 'zone-a', 'rfc2136', { server: `127.0.0.1:${knot.port}`, key: { name: 'update-key.', secret: knot.tsig.secret } });
      const ctx = await context({ dnsProvider: 'zone-a', nameservers: [`127.0.0.1:${knot.port}`], dnsLowTtl: 300 });

      const lowered = await dnsCutover.run(ctx);
      assert.equal(lowered.kind, 'wait');
      assert.equal((lowered as Extract<StepOutcome, { kind: 'wait' }>).until, 1_000_000 + 3600 * 1000, 'waits out the old TTL');
      assert.match((lowered as { message: string }).message, /lowered the TTL of example\.test MX, example\.test TXT to 300 s through zone-a/);
      assert.deepEqual(await records(knot, 'MX'), [{ ttl: 300, text: 'mx.old.example.net' }], 'same record, lower TTL');

      const applied = await dnsCutover.run(ctx);
      assert.equal(applied.kind, 'done', JSON.stringify(applied));
      assert.match((applied as { message: string }).message, /MX and SPF of example\.test point to the destination \(authoritative: 1\/1 updated\); restored the TTL of example\.test MX, example\.test TXT to 3600 s through zone-a/);
      assert.deepEqual(await records(knot, 'MX'), [{ ttl: 3600, text: 'mx.new.example.net' }]);
      assert.deepEqual(await records(knot, 'TXT'), [{ ttl: 3600, text: 'v=spf1 include:spf.old.example.net include:spf.new.example.net -all' }]);
      assert.deepEqual(await events(ctx), ['ttl-lowered', 'dns-applied', 'ttl-restored']);

      const again = await dnsCutover.run(ctx);
      assert.equal(again.kind, 'done');
      assert.deepEqual(await events(ctx), ['ttl-lowered', 'dns-applied', 'ttl-restored'], 'a re-run changes nothing');
    } finally {
      await knot.stop();
    }
  });

  test('with dnsLowTtl 0 the change is made at once and TTLs are kept', async () => {
    const knot = await startKnot({ zone: D, records: OLD_ZONE });
    try {
      await insertPlatform(temp.db, box, 'zone-b', 'rfc2136', { server: `127.0.0.1:${knot.port}`, key: { name: 'update-key.', secret: knot.tsig.secret } });
      const ctx = await context({ dnsProvider: 'zone-b', nameservers: [`127.0.0.1:${knot.port}`], dnsLowTtl: 0 });
      assert.equal((await dnsCutover.run(ctx)).kind, 'done');
      assert.deepEqual(await records(knot, 'MX'), [{ ttl: 3600, text: 'mx.new.example.net' }]);
      assert.deepEqual(await events(ctx), ['dns-applied']);
    } finally {
      await knot.stop();
    }
  });

  test('without a provider, or with one that does not manage the zone: the records to publish, and a wait', async () => {
    const knot = await startKnot({ zone: D, records: OLD_ZONE });
    const other = await startKnot({ zone: 'other.test', records: [] });
    try {
      await insertPlatform(temp.db, box, 'zone-c', 'rfc2136', { server: `127.0.0.1:${other.port}`, key: { name: 'update-key.', secret: other.tsig.secret } });
      for (const options of [{}, { dnsProvider: 'zone-c' }]) {
        const ctx = await context({ ...options, nameservers: [`127.0.0.1:${knot.port}`], dnsRecheckSeconds: 120 });
        const outcome = await dnsCutover.run(ctx);
        assert.equal(outcome.kind, 'wait');
        const wait = outcome as Extract<StepOutcome, { kind: 'wait' }>;
        assert.equal(wait.until, 1_000_000 + 120_000);
        assert.match(wait.message, /^waiting for the DNS of example\.test \(change it, or confirm manually\):\n✖ MX {2}found: 10 mx\.old\.example\.net \(old platform\)/);
        assert.match(wait.message, /publish exactly: example\.test\. 3600 IN MX 10 mx\.new\.example\.net\./);
        assert.match(wait.message, /✖ Propagation {2}found: authoritative: 0\/1 updated/);
        assert.doesNotMatch(wait.message, /DMARC|Resolvers/, 'informational checks stay out of the timeline');
        if (options.dnsProvider) assert.match(ctx.notes.join(), /zone-c does not manage example\.test/);
      }
      assert.deepEqual(await records(knot, 'MX'), [{ ttl: 3600, text: 'mx.old.example.net' }]);
    } finally {
      await Promise.all([knot.stop(), other.stop()]);
    }
  });
});
