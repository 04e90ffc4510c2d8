import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { GMAIL_STORE_FOLDERS } from '../../server/devservers/gmail-shape.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { startFakeOAuth, type FakeOAuth } from '../support/fake-oauth/index.ts';
import { imapAs, rawMessage, seed } from '../support/mail.ts';

// `cutover copy` from a Gmail-shaped source that takes only tokens, with the service account's
// JSON key file as downloaded (its token_uri points at the fake) and the Gmail preset.
const USER = 'ann@customer.test';
let fake: FakeOAuth;
let gmail: DovecotInstance;
let dest: DovecotInstance;
let exchange: DovecotInstance;
let dir: string;
const CAROL = 'carol@customer.test';

before(async () => {
  fake = await startFakeOAuth();
  [gmail, dest, exchange] = await Promise.all([
    startDovecot({ gmail: true, oauth2: { introspectionUrl: fake.introspectionUrl, mechanisms: ['xoauth2', 'oauthbearer'] } }),
    startDovecot(),
    startDovecot({ specialUse: false, oauth2: { introspectionUrl: fake.introspectionUrlFor(CAROL) } }),
  ]);
  for (const inst of [gmail, dest, exchange]) await addDomain(inst, 'customer.test');
  for (const inst of [gmail, dest]) await addMailbox(inst, USER, 'ann-pw');
  for (const inst of [exchange, dest]) await addMailbox(inst, CAROL, 'carol-pw');
  // Exchange's IMAP view: mail folders, non-mail folders in English and German, a 36 MB message.
  const big = rawMessage({ subject: 'too big for Exchange', body: 'x'.repeat(76) .concat('\r\n').repeat(36 * 1024 * 1024 / 78) });
  await seed(exchange, CAROL, [
    { folder: 'INBOX', raw: rawMessage({ subject: 'hello' }) }, { folder: 'INBOX', raw: big }, { folder: 'Sent Items', raw: rawMessage({ subject: 'sent' }) },
    { folder: 'Calendar', raw: rawMessage({ subject: 'meeting stub' }) }, { folder: 'Kontakte', raw: rawMessage({ subject: 'contact stub' }) },
    { folder: 'Sync Issues/Conflicts', raw: rawMessage({ subject: 'sync log' }) },
  ]);
  fake.microsoft.addTenant('customer.test');
  const app = fake.microsoft.addApp('customer.test');
  fake.microsoft.grantConsent(app.clientId);
  fake.microsoft.grantMailbox(app.clientId, CAROL);
  writeFileSync(path.join(dir0(), 'm365.json'), JSON.stringify({ kind: 'microsoft-client-credentials', tenant: 'customer.test', clientId: app.clientId, clientSecret: app.clientSecret, tokenUrl: fake.microsoftTokenUrl('customer.test') }), { mode: 0o600 });
  const multi = rawMessage({ subject: 'two labels' });
  await seed(gmail, USER, [
    { folder: 'INBOX', raw: multi }, { folder: 'Work', raw: multi },
    { folder: GMAIL_STORE_FOLDERS.archive, raw: rawMessage({ subject: 'archived' }) },
    { folder: GMAIL_STORE_FOLDERS.sent, raw: rawMessage({ subject: 'sent' }) },
  ]);
  fake.google.addUser(USER);
  const account = fake.google.addServiceAccount();
  fake.google.grantDelegation(account.clientId);
  const stranger = fake.google.addServiceAccount('no-delegation');
  writeFileSync(path.join(dir0(), 'key.json'), JSON.stringify(account.keyFile), { mode: 0o600 });
  writeFileSync(path.join(dir, 'stranger.json'), JSON.stringify(stranger.keyFile), { mode: 0o600 });
  writeFileSync(path.join(dir, 'ann'), 'ann-pw\n');
});
after(async () => {
  await Promise.all([gmail?.stop(), dest?.stop(), exchange?.stop()]);
  await fake?.stop();
});

function dir0(): string {
  dir ??= tempDataDir();
  return dir;
}

const args = (key: string) => ['copy', '--source', `imap://${USER}@127.0.0.1:${gmail.port}`, '--source-provider', 'gmail', '--source-oauth2-config', path.join(dir, key),
  '--dest', `imap://${USER}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'ann'), '--json'];

async function destFolders(user = USER): Promise<string[]> {
  const client = await imapAs(dest, user);
  try {
    return (await client.list()).map((f) => f.path).sort();
  } finally {
    await client.logout();
  }
}

test('a service account without domain-wide delegation: exit 4, the words say consent is missing, nothing is created', async () => {
  const before = await destFolders();
  const run = await cutover(args('stranger.json'), { dataDir: dir });
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.stderr, /OAUTH2_CONSENT_MISSING/);
  assert.match(run.stderr, /domain-wide delegation/);
  assert.doesNotMatch(run.stderr + run.stdout, /PRIVATE KEY/);
  assert.deepEqual(await destFolders(), before);
});

test('with the JSON key and the Gmail preset: labels, Sent and archived mail arrive once, the views stay behind', async () => {
  const run = await cutover(args('key.json'), { dataDir: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).copied, 4, 'INBOX, Work, Sent, Archive: one message each');
  assert.deepEqual(await destFolders(), ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash', 'Work']);
});

test('an unreadable or malformed OAuth2 config is a clear error before any login', async () => {
  writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ kind: 'microsoft-client-credentials', tenant: 'customer.test', clientId: 'x' }));
  const bad = await cutover(args('bad.json'), { dataDir: dir });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /CONFIG_INVALID.*clientSecret, or certificate/);
  const missing = await cutover(args('nope.json'), { dataDir: dir });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /--source-oauth2-config: cannot read/);
});

test('Microsoft 365 preset over client credentials: non-mail folders stay behind, a message over 35 MB is skipped, unless --max-size raises it', async () => {
  const m365 = (...extra: string[]) => ['copy', '--source', `imap://${CAROL}@127.0.0.1:${exchange.port}`, '--source-provider', 'microsoft365', '--source-oauth2-config', path.join(dir, 'm365.json'),
    '--dest', `imap://${CAROL}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'carol'), '--json', ...extra];
  writeFileSync(path.join(dir, 'carol'), 'carol-pw\n');
  const run = await cutover(m365(), { dataDir: dir });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.copied, 2, 'hello and sent');
  assert.equal(report.skipped, 1, 'the 36 MB message');
  assert.deepEqual(await destFolders(CAROL), ['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
  const raised = JSON.parse((await cutover(m365('--max-size', '100M'), { dataDir: dir })).stdout);
  assert.equal(raised.copied, 1, 'the big message, with a higher limit; the others are recognised on the destination');
});
