import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { configSchema, readCredentials } from '../../../plugins/ovhcloud/config.ts';
import { CutoverError } from '../../../server/errors.ts';
import { startFakeOvh, type FakeOvh } from '../../support/fake-ovh/index.ts';
import type { FakeService } from '../../support/fake-ovh/state.ts';
import { connector, fakeConfig } from './helpers.ts';

let D = 'example.test';
let fake: FakeOvh;
let dir: string;

before(async () => {
  fake = await startFakeOvh({ taskDelayMs: 60 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-ovh-'));
});
after(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

const code = (c: string) => (err: unknown) => {
  assert.ok(err instanceof CutoverError, String(err));
  assert.equal(err.code, c, err.message);
  return true;
};

let serial = 0;
function exchange(opts: Partial<Parameters<FakeOvh['state']['addService']>[0]> = {}): { service: FakeService; name: string } {
  const name = `hosted-ex${++serial}-1`;
  const service = fake.state.addService({ family: 'exchange', name, domains: [{ name: D, type: 'nonAuthoritative' }], ...opts });
  return { service, name };
}

function mxplan(opts: Partial<Parameters<FakeOvh['state']['addService']>[0]> = {}): { service: FakeService; name: string } {
  const name = `mxplan-mx${++serial}-1`;
  const service = fake.state.addService({ family: 'mxplan', name, domains: [{ name: D }], slots: 2, ...opts });
  return { service, name };
}

// One customer account holds every service: each test gets its own domain so platforms never compete for one.
beforeEach(() => { D = `t${++serial}.test`; });

const callsTo = (method: string, fragment: string) => fake.calls.filter((c) => c.method === method && c.path.includes(fragment)).length;

test('config: a service is required for hosted offers, secrets come from exactly one place, regions limit offers', () => {
  const base = { applicationKey: 'ak', applicationSecret: 'as', consumerKey: 'ck' };
  assert.equal(configSchema.safeParse({ ...base, offer: 'pro' }).success, false);
  assert.equal(configSchema.safeParse({ ...base, offer: 'mxplan-legacy' }).success, true);
  assert.equal(configSchema.safeParse({ ...base, applicationSecretEnv: 'X', offer: 'mxplan', service: 's' }).success, false, 'two secrets');
  assert.equal(configSchema.safeParse({ ...base, offer: 'pro', service: 's', region: 'ovh-ca' }).success, false, 'no E-mail Pro in Canada');
  assert.equal(configSchema.safeParse({ ...base, offer: 'exchange', service: 's', region: 'ovh-us' }).success, false);
  assert.equal(configSchema.safeParse({ ...base, offer: 'pro', service: 's', colour: 1 }).success, false, 'unknown keys are refused');
  assert.equal(configSchema.safeParse({ ...base, offer: 'pro', service: 's', imap: { host: '10.0.0.1', security: 'none' } }).success, false, 'plaintext only to loopback');
  const file = path.join(dir, 'as');
  writeFileSync(file, 'from-file\n', { mode: 0o600 });
  process.env.CUTOVER_TEST_OVH_CK = 'from-env';
  const creds = readCredentials(configSchema.parse({ applicationKey: 'ak', applicationSecretFile: file, consumerKeyEnv: 'CUTOVER_TEST_OVH_CK' }));
  assert.deepEqual(creds, { applicationKey: 'ak', applicationSecret: 'from-file', consumerKey: 'from-env' });
  assert.throws(() => readCredentials(configSchema.parse({ applicationKey: 'ak', applicationSecret: 'x' })), /consumerKey.*cutover ovh credential/);
});

test('capabilities and limits per offer: MX Plan 5 GB, E-mail Pro 10 GB, legacy MX Plan cannot rename nor attach', () => {
  const mx = connector(fakeConfig(fake, { offer: 'mxplan', service: 'whatever' }));
  assert.equal(mx.capabilities.maxMailboxBytes, 5e9);
  assert.equal(mx.capabilities.masterUser, false);
  assert.equal(connector(fakeConfig(fake, { offer: 'pro', service: 'whatever' })).capabilities.maxMailboxBytes, 10e9);
  assert.equal(connector(fakeConfig(fake, { offer: 'pro', service: 'whatever', maxMailboxBytes: 1e9 })).capabilities.maxMailboxBytes, 1e9);
  const legacy = connector(fakeConfig(fake, { offer: 'mxplan-legacy' }));
  assert.equal(legacy.capabilities.renameAccount, false);
  assert.equal(legacy.capabilities.attachDomain, false);
  assert.equal(legacy.capabilities.createAccount, true);
});

test('attach-domain on E-mail Pro: POST non-authoritative with the relay, wait for state ok; a second run changes nothing', async () => {
  const name = `emailpro-p${++serial}-1`;
  const service = fake.state.addService({ family: 'pro', name });
  const pro = connector(fakeConfig(fake, { offer: 'pro', service: name }));
  assert.deepEqual(await pro.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net'), { state: 'ok' });
  const d = service.domains.get(D)!;
  assert.equal(d.type, 'nonAuthoritative');
  assert.equal(d.mxRelay, 'mx1.mail.ovh.net');
  assert.equal(d.state, 'ok');
  const posts = callsTo('POST', `/email/pro/${name}/domain`);
  const puts = callsTo('PUT', `/email/pro/${name}/domain`);
  assert.deepEqual(await pro.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net'), { state: 'ok' });
  assert.equal(callsTo('POST', `/email/pro/${name}/domain`), posts);
  assert.equal(callsTo('PUT', `/email/pro/${name}/domain`), puts);
  // Another relay: the existing domain is updated with PUT, not added twice.
  await pro.attachDomain(D, 'nonAuthoritative', 'mx.old.example.net');
  assert.equal(d.mxRelay, 'mx.old.example.net');
  assert.equal(callsTo('PUT', `/email/pro/${name}/domain/${D}`), puts + 1);
});

test('attach-domain on MX Plan: the fixed domain is switched with PUT; a domain the service lacks is DOMAIN_UNKNOWN', async () => {
  const { service, name } = mxplan();
  const mx = connector(fakeConfig(fake, { offer: 'mxplan', service: name }));
  assert.deepEqual(await mx.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net'), { state: 'ok' });
  assert.equal(service.domains.get(D)!.type, 'nonAuthoritative');
  await assert.rejects(mx.attachDomain('other.test', 'nonAuthoritative', 'mx1.mail.ovh.net'), code('DOMAIN_UNKNOWN'));
});

test('attach-domain refused because another platform is authoritative names the fix; once applied, the retry works', async () => {
  const holder = exchange({ domains: [{ name: D, type: 'authoritative' }] });
  const name = `emailpro-p${++serial}-1`;
  fake.state.addService({ family: 'pro', name });
  const pro = connector(fakeConfig(fake, { offer: 'pro', service: name }));
  await assert.rejects(pro.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net'), (err: unknown) => {
    code('DOMAIN_AUTHORITATIVE_ELSEWHERE')(err);
    const message = (err as Error).message;
    assert.match(message, /authoritative domain detected/);
    assert.match(message, new RegExp(`cutover ovh domain-mode --platform OTHER --domain ${D} --non-authoritative`));
    assert.match(message, /"type":"nonAuthoritative"/);
    assert.equal((err as CutoverError).retryable, false);
    return true;
  });
  const other = connector(fakeConfig(fake, { offer: 'exchange', service: holder.name }));
  await other.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net');
  assert.equal(holder.service.domains.get(D)!.type, 'nonAuthoritative');
  assert.deepEqual(await pro.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net'), { state: 'ok' });
});

test('attach-domain whose task does not finish in time answers "pending" within the bound (the step turns it into a wait)', async () => {
  const name = `emailpro-p${++serial}-1`;
  fake.state.addService({ family: 'pro', name });
  const pro = connector(fakeConfig(fake, { offer: 'pro', service: name, taskWaitSeconds: 1 }));
  fake.state.holdTasks = true;
  try {
    const started = Date.now();
    assert.deepEqual(await pro.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net'), { state: 'pending' });
    assert.ok(Date.now() - started < 3000);
  } finally {
    fake.state.releaseTasks();
  }
  assert.deepEqual(await pro.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net'), { state: 'ok' });
});

test('rename by PUT of login waits for the task; "already renamed" is success; an interrupted rename is followed, not repeated', async () => {
  const { service, name } = exchange({ accounts: [{ address: `john.smith@${D}`, password: 'Secret123' }, { address: `jane@${D}`, password: 'Secret123' }] });
  const ex = connector(fakeConfig(fake, { offer: 'exchange', service: name }));
  assert.deepEqual(await ex.renameAccount(`john.smith@${D}`, `john.smith01@${D}`), { renamed: true });
  assert.ok(service.accounts.has(`john.smith01@${D}`) && !service.accounts.has(`john.smith@${D}`));
  assert.deepEqual(await ex.getAccount(`john.smith01@${D}`), { address: `john.smith01@${D}`, active: true, quotaBytes: 50e9, usedBytes: 0 });
  assert.equal(await ex.getAccount(`john.smith@${D}`), null);
  assert.deepEqual(await ex.renameAccount(`john.smith@${D}`, `john.smith01@${D}`), { renamed: false });

  // A crash right after the PUT: the task is in flight when the step runs again.
  const prefix = `/email/exchange/${name}/service/${name}`;
  fake.state.holdTasks = true;
  const raw = connector(fakeConfig(fake, { offer: 'exchange', service: name }));
  await (raw as unknown as { client: { put(p: string, b: unknown): Promise<unknown> } }).client.put(`${prefix}/account/jane@${D}`, { login: 'jane01' });
  const puts = callsTo('PUT', `${prefix}/account/jane@`);
  setTimeout(() => fake.state.releaseTasks(), 200);
  assert.deepEqual(await ex.renameAccount(`jane@${D}`, `jane01@${D}`), { renamed: true });
  assert.equal(callsTo('PUT', `${prefix}/account/jane@`), puts, 'no second PUT');
  assert.ok(service.accounts.has(`jane01@${D}`));
  await assert.rejects(ex.renameAccount(`nobody@${D}`, `nobody01@${D}`), code('SOURCE_ACCOUNT_MISSING'));
});

test('create on MX Plan configures a free @configureme.me slot, then sets the password; idempotent; no slot → "order N more accounts"', async () => {
  const { service, name } = mxplan({ slots: 1 });
  const mx = connector(fakeConfig(fake, { offer: 'mxplan', service: name }));
  await mx.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net');
  assert.equal(await mx.freeAccountSlots(D), 1);
  assert.equal(await mx.mailboxLimitBytes(`alice@${D}`), 5e9, 'slot quota and capabilities: 5 GB');
  assert.deepEqual(await mx.createAccount({ address: `alice@${D}`, password: 'Gener4tedPassw0rd', quotaBytes: null }), { created: true });
  const alice = service.accounts.get(`alice@${D}`)!;
  assert.equal(alice.configured, true);
  assert.equal(alice.password, 'Gener4tedPassw0rd');
  assert.equal(await mx.freeAccountSlots(D), 0);
  assert.deepEqual(await mx.createAccount({ address: `alice@${D}`, password: 'Gener4tedPassw0rd', quotaBytes: null }), { created: false });
  await assert.rejects(mx.createAccount({ address: `bob@${D}`, password: 'Gener4tedPassw0rd', quotaBytes: null }), (err: unknown) => {
    code('ACCOUNT_SLOTS_MISSING')(err);
    assert.match((err as Error).message, /order 1 more account/);
    return true;
  });
});

test('two creations at once take two different slots', async () => {
  const { service, name } = mxplan({ slots: 2 });
  const mx = connector(fakeConfig(fake, { offer: 'mxplan', service: name }));
  await mx.attachDomain(D, 'nonAuthoritative', 'mx1.mail.ovh.net');
  await Promise.all([
    mx.createAccount({ address: `a@${D}`, password: 'Gener4tedPassw0rd', quotaBytes: null }),
    mx.createAccount({ address: `b@${D}`, password: 'Gener4tedPassw0rd', quotaBytes: null }),
  ]);
  assert.ok(service.accounts.get(`a@${D}`)?.configured && service.accounts.get(`b@${D}`)?.configured);
  assert.equal([...service.accounts.keys()].filter((a) => a.endsWith('@configureme.me')).length, 0);
});

test('a task that ends in error surfaces as PLATFORM_TASK_FAILED with the task named', async () => {
  const { name } = exchange({ accounts: [{ address: `carol@${D}`, password: 'Secret123' }] });
  const ex = connector(fakeConfig(fake, { offer: 'exchange', service: name }));
  fake.state.failNextTask('changePassword');
  await assert.rejects(ex.setPassword(`carol@${D}`, 'Another1Password'), (err: unknown) => {
    code('PLATFORM_TASK_FAILED')(err);
    assert.match((err as Error).message, new RegExp(`task #\\d+ \\(changePassword for password of carol@${D}\\) ended "error"`));
    return true;
  });
  await ex.setPassword(`carol@${D}`, 'Another1Password');
  const weak = ex.setPassword(`carol@${D}`, 'short');
  await assert.rejects(weak, (err: unknown) => code('PLATFORM_FAILED')(err) && /password policy/.test((err as Error).message));
});

test('dedicated Exchange creates with POST; hosted Exchange uses a slot; reset gives the slot back', async () => {
  const dedicated = exchange({ offer: 'dedicated' });
  const ded = connector(fakeConfig(fake, { offer: 'exchange', service: dedicated.name }));
  assert.equal(await ded.freeAccountSlots(D), null);
  assert.deepEqual(await ded.createAccount({ address: `dan@${D}`, password: 'Gener4tedPassw0rd', quotaBytes: 10e9 }), { created: true });
  assert.equal(dedicated.service.accounts.get(`dan@${D}`)!.quota, 10);
  assert.equal(callsTo('POST', `/email/exchange/${dedicated.name}/service/${dedicated.name}/account`), 1);

  const hosted = exchange({ slots: 1, accounts: [{ address: `old@${D}`, password: 'Secret123' }] });
  const ex = connector(fakeConfig(fake, { offer: 'exchange', service: hosted.name }));
  assert.equal(await ex.freeAccountSlots(D), 1);
  await ex.resetAccount(`old@${D}`);
  assert.ok(!hosted.service.accounts.has(`old@${D}`));
  assert.equal(await ex.freeAccountSlots(D), 2, 'the reset account is a free slot again');
  await ex.resetAccount(`old@${D}`);
});

test('aliases: listed, added once, removed once; what is not migrated is reported', async () => {
  const { service, name } = exchange({
    accounts: [{ address: `erin@${D}`, password: 'Secret123', aliases: [`e@${D}`], delegations: 1 }, { address: `frank@${D}`, password: 'Secret123' }],
    mailingLists: [`team@${D}`], externalContacts: ['partner@elsewhere.test'], domains: [{ name: D, type: 'nonAuthoritative', disclaimer: true }],
  });
  const ex = connector(fakeConfig(fake, { offer: 'exchange', service: name }));
  const items = await ex.notMigrated(`erin@${D}`);
  assert.deepEqual(items.map((i) => i.kind).sort(), ['alias', 'delegation', 'externalContact', 'footer', 'group']);
  assert.equal(items.find((i) => i.kind === 'alias')!.name, `e@${D}`);
  assert.deepEqual(await ex.listAliases(`erin@${D}`), [`e@${D}`]);
  assert.deepEqual(await ex.removeAlias(`erin@${D}`, `e@${D}`), { removed: true });
  assert.deepEqual(await ex.removeAlias(`erin@${D}`, `e@${D}`), { removed: false });
  assert.deepEqual(await ex.addAlias(`frank@${D}`, `e@${D}`), { added: true });
  assert.deepEqual(await ex.addAlias(`frank@${D}`, `e@${D}`), { added: false });
  assert.ok(service.accounts.get(`frank@${D}`)!.aliases.has(`e@${D}`));
  // Service-level lists are read once per connector, not once per mailbox.
  const before = callsTo('GET', `/service/${name}/mailingList`);
  await ex.notMigrated(`frank@${D}`);
  assert.equal(callsTo('GET', `/service/${name}/mailingList`), before);
});

test('usage and quota use the configured units; the 5 GB check can see a usage the fake reports without real data', async () => {
  const { name } = exchange({ accounts: [{ address: `big@${D}`, password: 'Secret123', usageMB: 6200, quotaGB: 50 }] });
  const ex = connector(fakeConfig(fake, { offer: 'exchange', service: name }));
  assert.deepEqual(await ex.getAccount(`big@${D}`), { address: `big@${D}`, active: true, quotaBytes: 50e9, usedBytes: 6.2e9 });
  const inBytes = connector(fakeConfig(fake, { offer: 'exchange', service: name, units: { quota: 'GB', usage: 'bytes' } }));
  assert.equal((await inBytes.getAccount(`big@${D}`))!.usedBytes, 6200);
});

test('expected DNS: from the API where it has them, from the versioned template where it does not', async () => {
  const name = `emailpro-p${++serial}-1`;
  fake.state.addService({ family: 'pro', name, domains: [{ name: D, expectedMX: ['1 mx0.mail.ovh.net.', '5 mx1.mail.ovh.net.'], expectedSPF: 'IN TXT v=spf1 include:mx.ovh.com ~all' }] });
  const pro = connector(fakeConfig(fake, { offer: 'pro', service: name }));
  assert.deepEqual(await pro.expectedDns(D), {
    mx: [{ priority: 1, exchange: 'mx0.mail.ovh.net' }, { priority: 5, exchange: 'mx1.mail.ovh.net' }], spfIncludes: ['mx.ovh.com'],
    autodiscover: { srv: { target: 'autodiscover.mail.ovh.net', port: 443, priority: 0, weight: 0 } },
  });
  const { name: mxName } = mxplan();
  const mx = connector(fakeConfig(fake, { offer: 'mxplan', service: mxName }));
  const expected = await mx.expectedDns(D);
  assert.deepEqual(expected.mx.map((m) => `${m.priority} ${m.exchange}`), ['1 mx0.mail.ovh.net', '5 mx1.mail.ovh.net', '50 mx2.mail.ovh.net', '100 mx3.mail.ovh.net', '200 mx4.mail.ovh.net']);
  assert.deepEqual(expected.spfIncludes, ['mx.ovh.com'], 'MX Plan has no expectedSPF: the template says include:mx.ovh.com');
  assert.equal(expected.autodiscover, undefined, 'MX Plan has no expectedAutodiscoverSRV');
  assert.equal(await mx.mailHost(), 'mx1.mail.ovh.net');
  assert.deepEqual(await pro.dnsDiagnostic(D), { mx: false, spf: false, srv: false, source: `GET /email/pro/${name}/domain/${D}` });
});

test('IMAP endpoints: the documented hosts over TLS on 993, verified; overridable; no password, no login', async () => {
  const name = `emailpro-p${++serial}-1`;
  fake.state.addService({ family: 'pro', name, hostname: 'pro3.mail.ovh.net' });
  const pro = connector(fakeConfig(fake, { offer: 'pro', service: name }));
  assert.deepEqual(await pro.imapEndpoint(`x@${D}`, 'pw'), { host: 'pro3.mail.ovh.net', port: 993, security: 'tls', tlsVerify: true, auth: { user: `x@${D}`, pass: 'pw' } });
  const mx = connector(fakeConfig(fake, { offer: 'mxplan', service: 'any' }));
  assert.equal((await mx.imapEndpoint(`x@${D}`, 'pw')).host, 'ssl0.ovh.net');
  assert.equal((await connector(fakeConfig(fake, { offer: 'mxplan', service: 'any', region: 'ovh-ca' })).imapEndpoint(`x@${D}`, 'pw')).host, 'ssl0.ovh.ca');
  const local = connector(fakeConfig(fake, { offer: 'mxplan', service: 'any', imap: { host: '127.0.0.1', port: 1143, security: 'none' } }));
  assert.deepEqual(await local.imapEndpoint(`x@${D}`, 'pw'), { host: '127.0.0.1', port: 1143, security: 'none', tlsVerify: true, ca: undefined, auth: { user: `x@${D}`, pass: 'pw' } });
  await assert.rejects(pro.imapEndpoint(`x@${D}`), code('CONFIG_INVALID'));
});

test('legacy MX Plan: accounts created with POST (size from allowedAccountSize), passwords by task, reset; tasks end by vanishing', async () => {
  const domain = 'legacy.test';
  const state = fake.state.addLegacyDomain({ domain, accounts: [{ name: 'gina', password: 'OldPassw0rd!', usedBytes: 123 }], redirections: [{ from: `gina@${domain}`, to: 'x@elsewhere.test' }] });
  const legacy = connector(fakeConfig(fake, { offer: 'mxplan-legacy' }));
  assert.deepEqual(await legacy.getAccount(`gina@${domain}`), { address: `gina@${domain}`, active: true, quotaBytes: 5e9, usedBytes: 123 });
  assert.deepEqual(await legacy.createAccount({ address: `hugo@${domain}`, password: 'Gener4tedPassw0rd', quotaBytes: 2e9 }), { created: true });
  assert.equal(state.accounts.get('hugo')!.size, 2_500_000_000);
  await legacy.setPassword(`gina@${domain}`, 'NewPassw0rd123');
  assert.equal(state.accounts.get('gina')!.password, 'NewPassw0rd123');
  assert.deepEqual((await legacy.notMigrated(`gina@${domain}`)).map((i) => i.kind), ['redirection']);
  assert.equal(await legacy.freeAccountSlots(domain), null);
  await legacy.resetAccount(`hugo@${domain}`);
  assert.ok(!state.accounts.has('hugo'));
  assert.deepEqual((await legacy.expectedDns(domain)).spfIncludes, ['mx.ovh.com']);
  assert.deepEqual((await legacy.dnsDiagnostic(domain)), { mx: true, spf: true, srv: null, source: `GET /email/domain/${domain}` });
});

test('an expired consumer key stops the connector with the fix', async () => {
  const { name } = exchange();
  const config = fakeConfig(fake, { offer: 'exchange', service: name });
  const ex = connector(config);
  await ex.testConnection();
  fake.state.expire(config.consumerKey!);
  await assert.rejects(ex.testConnection(), (err: unknown) => code('API_CREDENTIAL_INVALID')(err) && /cutover ovh credential/.test((err as Error).message) && !(err as CutoverError).retryable);
});
