import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { CutoverError } from '../../../server/errors.ts';
import { copyMailbox } from '../../../server/mail/copy.ts';
import { closeQuietly, openImap } from '../../../server/mail/imap.ts';
import { createTokenSource, withAccessToken, type TokenSource } from '../../../server/mail/oauth2/index.ts';
import { tokenLoginError } from '../../../server/mail/oauth2/login-errors.ts';
import { PipelinedAppender } from '../../../server/mail/wire/appender.ts';
import { planFromListings } from '../../../server/mail/plan.ts';
import { openStateLedger } from '../../../server/mail/state-file.ts';
import type { ImapEndpoint } from '../../../server/plugins/contract.ts';
import { startFakeOAuth, type FakeApp, type FakeOAuth, type FakeServiceAccount } from '../../support/fake-oauth/index.ts';
import { rawMessage, seed, snapshot } from '../../support/mail.ts';

// Google-shaped: Gmail offers XOAUTH2 and OAUTHBEARER (imapflow picks OAUTHBEARER, the appender
// XOAUTH2). Exchange-shaped: XOAUTH2 only, opening carol's mailbox to app tokens granted there.
let fake: FakeOAuth;
let gmail: DovecotInstance;
let exchange: DovecotInstance;
let dest: DovecotInstance;
let bearerOnly: DovecotInstance;
let account: FakeServiceAccount;
let app: FakeApp;
let google: TokenSource;

const plain = (inst: DovecotInstance): Omit<ImapEndpoint, 'auth'> => ({ host: inst.host, port: inst.port, security: 'none', tlsVerify: false });

before(async () => {
  fake = await startFakeOAuth();
  [gmail, exchange, dest, bearerOnly] = await Promise.all([
    startDovecot({ oauth2: { introspectionUrl: fake.introspectionUrl, mechanisms: ['xoauth2', 'oauthbearer'] } }),
    startDovecot({ oauth2: { introspectionUrl: fake.introspectionUrlFor('carol@customer.test') } }),
    startDovecot({ oauth2: { introspectionUrl: fake.introspectionUrl } }),
    startDovecot({ oauth2: { introspectionUrl: fake.introspectionUrl, mechanisms: ['oauthbearer'] } }),
  ]);
  for (const inst of [gmail, exchange, dest, bearerOnly]) await addDomain(inst, 'customer.test');
  await addMailbox(bearerOnly, 'alice@customer.test', 'unused-password');
  await addMailbox(gmail, 'alice@customer.test', 'unused-password');
  await addMailbox(gmail, 'erin@customer.test', 'unused-password');
  await addMailbox(exchange, 'carol@customer.test', 'unused-password');
  await addMailbox(dest, 'alice@customer.test', 'unused-password');
  await addMailbox(dest, 'carol@customer.test', 'dest-password');
  for (const user of ['alice@customer.test', 'erin@customer.test']) fake.google.addUser(user);
  account = fake.google.addServiceAccount();
  fake.google.grantDelegation(account.clientId);
  google = createTokenSource({ kind: 'google-service-account', clientEmail: account.clientEmail, privateKey: account.privateKey, tokenUrl: fake.googleTokenUrl });
  fake.microsoft.addTenant('customer.test');
  app = fake.microsoft.addApp('customer.test');
  fake.microsoft.grantConsent(app.clientId);
  fake.microsoft.grantMailbox(app.clientId, 'carol@customer.test');
  const messages = (folder: string, n: number) => Array.from({ length: n }, (_, i) => ({ folder, raw: rawMessage({ subject: `${folder} ${i}` }) }));
  await seed(gmail, 'alice@customer.test', [...messages('INBOX', 12), ...messages('Projects', 8), ...messages('Sent', 5)]);
  await seed(exchange, 'carol@customer.test', [...messages('INBOX', 7), ...messages('Archive 2023', 4)]);
});

after(async () => {
  await Promise.all([gmail?.stop(), exchange?.stop(), dest?.stop(), bearerOnly?.stop()]);
  await fake?.stop();
});

async function copy(source: ImapEndpoint, target: ImapEndpoint) {
  const state = await openStateLedger();
  try {
    return await copyMailbox({ source, dest: target, ledger: state.ledger, pass: 1, plan: (listed) => planFromListings(listed, [], source.host) });
  } finally {
    await state.close();
  }
}

const count = (folders: Awaited<ReturnType<typeof snapshot>>) => folders.reduce((n, f) => n + f.messages.length, 0);

test('Google: a copy logs in with service-account tokens on both sides, one token per user for all its connections', async () => {
  const issued = fake.tokens.issuedCount;
  const source = withAccessToken(plain(gmail), google, 'alice@customer.test');
  const target = withAccessToken(plain(dest), google, 'alice@customer.test');
  const report = await copy(source, target);
  assert.equal(report.copied, 25);
  assert.equal(report.failed, 0);
  assert.equal(fake.tokens.issuedCount - issued, 1, 'source, destination and appender connections share alice\'s one token');
  // Dovecot logs each login's mechanism: the sessions of our own (listing, reading, appending) choose XOAUTH2, imapflow OAUTHBEARER where offered.
  const sourceLog = await readFile(join(gmail.dir, 'dovecot.log'), 'utf8');
  assert.match(sourceLog, /Login: user=<alice@customer\.test>, method=(XOAUTH2|OAUTHBEARER)/);
  const destLog = await readFile(join(dest.dir, 'dovecot.log'), 'utf8');
  assert.ok((destLog.match(/Login: user=<alice@customer\.test>, method=XOAUTH2/g) ?? []).length >= 1, 'the destination sessions logged in with XOAUTH2');
  assert.doesNotMatch(destLog, /method=PLAIN/, 'read before the snapshot below, the only password (master) login');
  assert.equal(count(await snapshot(dest, 'alice@customer.test')), 25);
});

test('Google: after the tokens were revoked, the next connections renew theirs and the next pass goes through', async () => {
  await seed(gmail, 'alice@customer.test', [{ folder: 'INBOX', raw: rawMessage({ subject: 'after revocation' }) }]);
  fake.tokens.revokeAll();
  const issued = fake.tokens.issuedCount;
  const report = await copy(withAccessToken(plain(gmail), google, 'alice@customer.test'), withAccessToken(plain(dest), google, 'alice@customer.test'));
  assert.equal(report.failed, 0);
  assert.equal(count(await snapshot(dest, 'alice@customer.test')), 26, 'the new message and nothing twice');
  assert.equal(fake.tokens.issuedCount - issued, 1, 'one forced renewal, shared');
});

test('Google: a connection dropped by the server reconnects with a fresh token once the old one expired', async () => {
  const issued = fake.tokens.issuedCount;
  const tokens = createTokenSource({ kind: 'google-service-account', clientEmail: account.clientEmail, privateKey: account.privateKey, tokenUrl: fake.googleTokenUrl }, { now: fake.now });
  const endpoint = withAccessToken(plain(gmail), tokens, 'alice@customer.test');
  const first = await openImap(endpoint);
  fake.advance(3600_000);
  await gmail.kick('alice@customer.test');
  await closeQuietly(first);
  const second = await openImap(endpoint);
  try {
    assert.ok(second.usable);
    assert.equal(fake.tokens.issuedCount - issued, 2, 'the expired token was replaced before the new login');
  } finally {
    await closeQuietly(second);
    fake.advance(-3600_000);
  }
});

test('a destination offering only OAUTHBEARER: its sessions log in with it', async () => {
  const report = await copy(withAccessToken(plain(gmail), google, 'alice@customer.test'), withAccessToken(plain(bearerOnly), google, 'alice@customer.test'));
  assert.equal(report.failed, 0);
  assert.ok(report.copied >= 25);
  const log = await readFile(join(bearerOnly.dir, 'dovecot.log'), 'utf8');
  assert.ok((log.match(/Login: user=<alice@customer\.test>, method=OAUTHBEARER/g) ?? []).length >= 1, log.slice(-1500));
  assert.doesNotMatch(log, /user=<alice@customer\.test>, method=(PLAIN|XOAUTH2)/);
});

test('the pipelined appender logs in with a token by XOAUTH2, or OAUTHBEARER where only that is offered, and is refused a wrong one', async () => {
  for (const inst of [dest, bearerOnly]) {
    const appender = await PipelinedAppender.connect(withAccessToken(plain(inst), google, 'alice@customer.test'));
    try {
      assert.ok(appender.usable);
    } finally {
      appender.close();
    }
  }
  const log = await readFile(join(dest.dir, 'dovecot.log'), 'utf8');
  assert.match(log, /method=XOAUTH2/);
  const refused = await PipelinedAppender.connect({ ...plain(dest), auth: { user: 'alice@customer.test', pass: '', accessToken: 'ya29.not-a-token' } }).then((a) => { a.close(); return assert.fail('accepted'); }, (e: unknown) => e);
  assert.equal((refused as CutoverError).code, 'AUTH_FAILED');
});

test('Microsoft: client-credentials token, XOAUTH2 as the user\'s address; the mailbox lands whole', async () => {
  const tokens = createTokenSource({ kind: 'microsoft-client-credentials', tenant: app.tenant, clientId: app.clientId, clientSecret: app.clientSecret, tokenUrl: fake.microsoftTokenUrl(app.tenant) });
  const report = await copy(withAccessToken(plain(exchange), tokens, 'carol@customer.test'), { ...plain(dest), auth: { user: 'carol@customer.test', pass: 'dest-password' } });
  assert.equal(report.copied, 11);
  assert.equal(count(await snapshot(dest, 'carol@customer.test')), 11);
});

test('Microsoft: an app without admin consent gets a token the server refuses, after one renewal, in words', async () => {
  const unconsented = fake.microsoft.addApp('customer.test');
  fake.microsoft.grantMailbox(unconsented.clientId, 'carol@customer.test');
  const tokens = createTokenSource({ kind: 'microsoft-client-credentials', tenant: unconsented.tenant, clientId: unconsented.clientId, clientSecret: unconsented.clientSecret, tokenUrl: fake.microsoftTokenUrl(unconsented.tenant) });
  const issued = fake.tokens.issuedCount;
  const err = await openImap(withAccessToken(plain(exchange), tokens, 'carol@customer.test')).then(() => assert.fail('login accepted'), (e: unknown) => e);
  assert.ok(err instanceof CutoverError);
  assert.equal(err.code, 'OAUTH2_LOGIN_REFUSED');
  assert.match(err.message, /carol@customer\.test/);
  assert.equal(fake.tokens.issuedCount - issued, 2, 'the refused token was renewed once before giving up');
});

test('Google: a user whose IMAP access is off is refused at login, and a token for alice does not open erin\'s mailbox', async () => {
  fake.google.imapDisabled.add('erin@customer.test');
  try {
    const err = await openImap(withAccessToken(plain(gmail), google, 'erin@customer.test')).then(() => assert.fail('login accepted'), (e: unknown) => e);
    assert.equal((err as CutoverError).code, 'OAUTH2_LOGIN_REFUSED');
  } finally {
    fake.google.imapDisabled.delete('erin@customer.test');
  }
  const aliceToken = await google.tokenFor('alice@customer.test');
  const err = await openImap({ ...plain(gmail), auth: { user: 'erin@customer.test', pass: '', accessToken: aliceToken } }).then(() => assert.fail('login accepted'), (e: unknown) => e);
  assert.equal((err as CutoverError).code, 'OAUTH2_LOGIN_REFUSED');
});

test('Exchange\'s and Gmail\'s refusals of a valid token read as "IMAP disabled for this user"', () => {
  const exchangeRefusal = Object.assign(new Error('Command failed'), { authenticationFailed: true, responseText: 'AUTHENTICATE failed.' });
  const notConnected = Object.assign(new Error('Command failed'), { authenticationFailed: true, response: 'A2 BAD User is authenticated but not connected.' });
  const gmailRefusal = Object.assign(new Error('Command failed'), { responseText: '[ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)' });
  const a = tokenLoginError(exchangeRefusal, 'outlook.office365.com', 'carol@customer.test');
  assert.equal(a.code, 'IMAP_DISABLED_FOR_USER');
  assert.match(a.message, /^IMAP disabled for this user/);
  assert.match(a.message, /Add-MailboxPermission/);
  assert.equal(tokenLoginError(notConnected, 'outlook.office365.com', 'carol@customer.test').code, 'IMAP_DISABLED_FOR_USER');
  const g = tokenLoginError(gmailRefusal, 'imap.gmail.com', 'erin@customer.test');
  assert.equal(g.code, 'IMAP_DISABLED_FOR_USER');
  assert.match(g.message, /POP and IMAP access/);
  assert.equal(tokenLoginError(Object.assign(new Error('Command failed'), { responseText: 'Authentication failed.' }), 'imap.example', 'x@y').code, 'OAUTH2_LOGIN_REFUSED');
});
