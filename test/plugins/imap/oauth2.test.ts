import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { GMAIL_STORE_FOLDERS } from '../../../server/devservers/gmail-shape.ts';
import { startKnot, type KnotInstance } from '../../../server/devservers/knot.ts';
import { cutover, tempDataDir } from '../../support/cli.ts';
import { startFakeOAuth, type FakeOAuth } from '../../support/fake-oauth/index.ts';
import { rawMessage, seed, snapshot } from '../../support/mail.ts';
import { NEW_MX, NEW_SPF, writePlatformConfig } from '../../support/platforms.ts';

// Google Workspace → a hoster's platform: a Gmail-shaped Dovecot that takes only tokens (passdb
// oauth2 against the fake Google), reached by the imap plugin with a service account and the
// Google preset; the destination is a postfixadmin platform that creates the accounts.
const DOMAIN = 'customer.test';
const USERS = [`ann@${DOMAIN}`, `ben@${DOMAIN}`];
let fake: FakeOAuth;
let gmail: DovecotInstance;
let dest: DovecotInstance;
let dns: KnotInstance;
let dataDir: string;

before(async () => {
  fake = await startFakeOAuth();
  [gmail, dest, dns] = await Promise.all([
    startDovecot({ gmail: true, oauth2: { introspectionUrl: fake.introspectionUrl, mechanisms: ['xoauth2', 'oauthbearer'] } }),
    startDovecot(),
    startKnot({ zone: DOMAIN, records: ['@ IN MX 1 aspmx.l.google.com.', '@ IN TXT "v=spf1 include:_spf.google.com ~all"'] }),
  ]);
  await addDomain(gmail, DOMAIN);
  for (const user of USERS) {
    await addMailbox(gmail, user, 'not-used-by-cutover');
    fake.google.addUser(user);
    const labelled = rawMessage({ subject: `two labels for ${user}` });
    await seed(gmail, user, [
      { folder: 'INBOX', raw: labelled }, { folder: 'Work', raw: labelled }, { folder: 'INBOX', raw: rawMessage({ subject: 'inbox only' }) },
      { folder: GMAIL_STORE_FOLDERS.archive, raw: rawMessage({ subject: 'archived, in All Mail only' }) },
      { folder: GMAIL_STORE_FOLDERS.sent, raw: rawMessage({ subject: 'sent' }) },
    ]);
  }
  const account = fake.google.addServiceAccount();
  fake.google.grantDelegation(account.clientId);
  dataDir = tempDataDir();
  writeFileSync(path.join(dataDir, 'gmail.json'), JSON.stringify({
    host: gmail.host, port: gmail.port, security: 'none', provider: 'google', mailHost: 'aspmx.l.google.com',
    oauth2: { kind: 'google-service-account', clientEmail: account.clientEmail, privateKey: account.privateKey, tokenUrl: fake.googleTokenUrl },
  }));
  writeFileSync(path.join(dataDir, 'accounts.csv'), `address\n${USERS.join('\n')}\n`);
});

after(async () => {
  await Promise.allSettled([gmail?.stop(), dest?.stop(), dns?.stop()]);
  await fake?.stop();
});

test('Google Workspace to a hoster: service-account tokens, Gmail folder rules, no rename, no manual step', { timeout: 240_000 }, async () => {
  for (const [name, plugin, file] of [['gmail', 'imap', path.join(dataDir, 'gmail.json')], ['hoster', 'postfixadmin', writePlatformConfig(dest, dataDir, 'hoster', NEW_MX)]] as const) {
    const added = await cutover(['platform', 'add', name, '--plugin', plugin, '--config', file], { dataDir });
    assert.equal(added.code, 0, added.stderr);
  }
  const migration = cutover(['migrate', '--from', 'gmail', '--to', 'hoster', '--domain', DOMAIN, '--accounts', path.join(dataDir, 'accounts.csv'), '--wait', '--json',
    '--overlap', '0', '--nameserver', `127.0.0.1:${dns.port}`, '--dns-recheck', '1', '--name', 'workspace'], { dataDir, timeoutMs: 220_000 });
  // A migrate that ends before the copy is done says why here, not after three minutes of polling.
  let ended: Awaited<typeof migration> | undefined;
  migration.then((r) => { ended = r; }, () => undefined);
  // The admin changes the zone at the DNS host once the copy is done; nothing else is asked of them.
  const deadline = Date.now() + 180_000;
  for (;;) {
    const status = await cutover(['status', 'workspace', '--json'], { dataDir });
    const rows: Array<{ step: string; state: string }> = status.code === 0 ? JSON.parse(status.stdout).mailboxes : [];
    assert.ok(!rows.some((r) => r.state === 'needs_admin' || r.state === 'failed'), JSON.stringify(rows));
    assert.equal(ended, undefined, `migrate ended before the DNS step (exit ${ended?.code}): ${ended?.stderr} | status: ${status.stderr}`);
    if (rows.length === USERS.length && rows.every((r) => r.step === 'dns-cutover' && r.state === 'waiting')) break;
    assert.ok(Date.now() < deadline, `never reached dns-cutover: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await dns.update([`del ${DOMAIN}. MX`, `del ${DOMAIN}. TXT`, `add ${DOMAIN}. 300 MX 10 ${NEW_MX}.`, `add ${DOMAIN}. 300 TXT "v=spf1 include:${NEW_SPF} -all"`]);
  const result = await migration;
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  for (const user of USERS) {
    const m = report.mailboxes.find((x: { address: string }) => x.address === user);
    assert.equal(m.state, 'done');
    assert.equal(m.tempAddress ?? null, null, 'Gmail → hoster: nothing renamed');
    const folders = new Map((await snapshot(dest, user)).map((f) => [f.path, f.messages.length]));
    assert.equal(folders.get('INBOX'), 2);
    assert.equal(folders.get('Work'), 1, 'a label is a folder');
    assert.equal(folders.get('Sent'), 1, '[Gmail]/Sent Mail lands in the special-use Sent');
    assert.equal(folders.get('Archive'), 1, 'mail only in All Mail goes to Archive');
    assert.ok(![...folders.keys()].some((f) => /All Mail|Important|Starred/.test(f)), [...folders.keys()].join(', '));
  }
});
