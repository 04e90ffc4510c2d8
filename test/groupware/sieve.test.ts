// Mail filters and the auto-reply between two real Dovecot Pigeonhole servers over ManageSieve:
// every script, the active one kept active, a script using an extension the destination lacks
// reported with the server's words and never activated, re-runs, a delta, and bad servers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import type { SieveEndpoint } from '../../server/plugins/contract.ts';
import { ManageSieve } from '../../server/groupware/sieve/client.ts';
import { copySieve } from '../../server/groupware/sieve/copy.ts';
import { openGroupwareState } from '../../server/groupware/state.ts';

const USER = 'alice@example.test';
const PASSWORD = 'sieve-pass-1';

const FILTERS = 'require ["fileinto"];\r\nif header :contains "subject" "[liste]" {\r\n  fileinto "Listes";\r\n}\r\n';
const VACATION = 'require ["vacation"];\r\nvacation :days 7 :subject "Absent" "Je suis absent jusqu’au 15 août. Pour une urgence : support@example.test";\r\n';
const SECONDS = 'require ["vacation-seconds"];\r\nvacation :seconds 3600 "Back in an hour.";\r\n';

// The destination speaks STARTTLS with a certificate for "localhost", pinned as the CA.
function endpoint(d: DovecotInstance, pass = PASSWORD): SieveEndpoint {
  if (d.certFile) return { host: 'localhost', port: d.sievePort!, security: 'starttls', tlsVerify: true, ca: readFileSync(d.certFile, 'utf8'), auth: { user: USER, pass } };
  return { host: d.host, port: d.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass } };
}

describe('Sieve copy between two Dovecot Pigeonhole servers (ManageSieve)', () => {
  let source: DovecotInstance;
  let dest: DovecotInstance;
  let state: Awaited<ReturnType<typeof openGroupwareState>>;

  before(async () => {
    [source, dest] = await Promise.all([startDovecot({ sieve: true, sieveExtensions: '+vacation-seconds' }), startDovecot({ sieve: true, tls: true })]);
    for (const d of [source, dest]) {
      await addDomain(d, 'example.test');
      await addMailbox(d, USER, PASSWORD);
    }
    const s = await ManageSieve.connect(endpoint(source));
    for (const [name, text] of [['filters', FILTERS], ['vacation', VACATION], ['seconds', SECONDS]] as const) {
      assert.deepEqual(await s.putScript(name, Buffer.from(text)), { ok: true });
    }
    await s.setActive('vacation');
    await s.logout();
    state = await openGroupwareState();
  });

  after(async () => {
    await state?.close();
    await Promise.all([source?.stop(), dest?.stop()]);
  });

  async function pass(n: number) {
    const [s, d] = await Promise.all([ManageSieve.connect(endpoint(source)), ManageSieve.connect(endpoint(dest))]);
    try {
      return await copySieve({ source: s, dest: d, ledger: state.ledger, pass: n });
    } finally {
      await Promise.all([s.logout(), d.logout()]);
    }
  }

  async function destScripts() {
    const d = await ManageSieve.connect(endpoint(dest));
    try {
      const list = await d.listScripts();
      return await Promise.all(list.map(async (s) => ({ ...s, text: (await d.getScript(s.name)).toString('utf8') })));
    } finally {
      await d.logout();
    }
  }

  it('copies every script byte for byte, keeps the auto-reply active, and reports the one the destination cannot run', async () => {
    const report = await pass(1);
    assert.equal(report.items, 3);
    assert.equal(report.copied, 2);
    assert.equal(report.skipped, 1);
    const scripts = await destScripts();
    assert.deepEqual(scripts.map((s) => [s.name, s.active]).sort(), [['filters', false], ['vacation', true]]);
    assert.equal(scripts.find((s) => s.name === 'vacation')!.text, VACATION);
    assert.equal(scripts.find((s) => s.name === 'filters')!.text, FILTERS);
    const [skip] = await state.ledger.skipList('sieve:');
    assert.equal(skip!.sourceId, 'sieve:seconds');
    assert.match(skip!.reason, /^does not work on the destination: .*line 1.*vacation-seconds/);
  });

  it('a re-run copies nothing and doubles nothing', async () => {
    const report = await pass(2);
    assert.equal(report.copied, 0);
    assert.equal(report.unchanged, 2);
    assert.equal((await destScripts()).length, 2);
  });

  it('a delta carries an edit, a new active script, and a deletion', async () => {
    const s = await ManageSieve.connect(endpoint(source));
    const edited = FILTERS.replace('[liste]', '[newsletter]');
    assert.deepEqual(await s.putScript('filters', Buffer.from(edited)), { ok: true });
    await s.setActive('filters');
    await s.deleteScript('vacation');
    await s.logout();
    const report = await pass(3);
    assert.equal(report.updated, 1);
    assert.equal(report.deleted, 1);
    const scripts = await destScripts();
    assert.deepEqual(scripts.map((x) => [x.name, x.active, x.text]), [['filters', true, edited]]);
  });

  it('leaves a script changed on the destination alone', async () => {
    const d = await ManageSieve.connect(endpoint(dest));
    const mine = 'require ["fileinto"];\r\nfileinto "Mine";\r\n';
    assert.deepEqual(await d.putScript('filters', Buffer.from(mine)), { ok: true });
    await d.logout();
    const s = await ManageSieve.connect(endpoint(source));
    assert.deepEqual(await s.putScript('filters', Buffer.from(FILTERS)), { ok: true });
    await s.logout();
    const report = await pass(4);
    assert.equal(report.updated, 0);
    assert.equal((await destScripts()).find((x) => x.name === 'filters')!.text, mine);
    assert.ok((await state.ledger.skipList('sieve:')).some((x) => /changed on the destination/.test(x.reason)));
  });

  it('STARTTLS verifies the certificate: an unpinned self-signed one is TLS_FAILED', async () => {
    const { ca: _pinned, ...unpinned } = endpoint(dest);
    await assert.rejects(ManageSieve.connect(unpinned), (err: Error & { code?: string }) => err.code === 'TLS_FAILED');
  });

  it('a wrong password is AUTH_FAILED', async () => {
    await assert.rejects(ManageSieve.connect(endpoint(source, 'wrong')), (err: Error & { code?: string }) => err.code === 'AUTH_FAILED');
  });

  it('a server announcing a huge literal or sending garbage gets SIEVE_REPLY_INVALID, not unbounded memory', async () => {
    for (const greeting of ['"IMPLEMENTATION" {999999999}\r\n', '"SASL" "PLAIN\r\nOK\r\n']) {
      const server = net.createServer((socket) => socket.end(greeting));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      try {
        await assert.rejects(ManageSieve.connect({ host: '127.0.0.1', port, security: 'none', tlsVerify: true, auth: { user: 'a', pass: 'b' } }),
          (err: Error & { code?: string }) => err.code === 'SIEVE_REPLY_INVALID');
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });
});
