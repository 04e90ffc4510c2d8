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
let dir: string;

before(async () => {
  fake = await startFakeOAuth();
  [gmail, dest] = await Promise.all([startDovecot({ gmail: true, oauth2: { introspectionUrl: fake.introspectionUrl, mechanisms: ['xoauth2', 'oauthbearer'] } }), startDovecot()]);
  for (const inst of [gmail, dest]) {
    await addDomain(inst, 'customer.test');
    await addMailbox(inst, USER, 'ann-pw');
  }
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
  dir = tempDataDir();
  writeFileSync(path.join(dir, 'key.json'), JSON.stringify(account.keyFile), { mode: 0o600 });
  writeFileSync(path.join(dir, 'stranger.json'), JSON.stringify(stranger.keyFile), { mode: 0o600 });
  writeFileSync(path.join(dir, 'ann'), 'ann-pw\n');
});
after(async () => {
  await Promise.all([gmail?.stop(), dest?.stop()]);
  await fake?.stop();
});

const args = (key: string) => ['copy', '--source', `imap://${USER}@127.0.0.1:${gmail.port}`, '--source-provider', 'gmail', '--source-oauth2-config', path.join(dir, key),
  '--dest', `imap://${USER}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'ann'), '--json'];

async function destFolders(): Promise<string[]> {
  const client = await imapAs(dest, USER);
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
