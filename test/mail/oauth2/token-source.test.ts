import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { CutoverError } from '../../../server/errors.ts';
import { createTokenSource, oauth2ConfigSchema, parseOAuth2Config, type OAuth2Config } from '../../../server/mail/oauth2/index.ts';
import { configFields, withoutSecrets } from '../../../server/services/config-fields.ts';
import { freePort } from '../../../server/devservers/ports.ts';
import { startFakeOAuth, type FakeApp, type FakeOAuth, type FakeServiceAccount } from '../../support/fake-oauth/index.ts';

let fake: FakeOAuth;
let account: FakeServiceAccount;
let app: FakeApp;

before(async () => {
  fake = await startFakeOAuth();
  for (const user of ['alice@customer.test', 'bob@customer.test']) fake.google.addUser(user);
  account = fake.google.addServiceAccount();
  fake.google.grantDelegation(account.clientId);
  fake.microsoft.addTenant('customer.test');
  app = fake.microsoft.addApp('customer.test');
});
after(() => fake.stop());

const googleConfig = (over: Partial<FakeServiceAccount> = {}): OAuth2Config => ({
  kind: 'google-service-account', clientEmail: over.clientEmail ?? account.clientEmail, privateKey: over.privateKey ?? account.privateKey,
  privateKeyId: over.privateKeyId ?? account.privateKeyId, tokenUrl: fake.googleTokenUrl,
});
const microsoftConfig = (over: Record<string, string | undefined> = {}): OAuth2Config => oauth2ConfigSchema.parse({
  kind: 'microsoft-client-credentials', tenant: app.tenant, clientId: app.clientId, clientSecret: app.clientSecret,
  tokenUrl: fake.microsoftTokenUrl(over.tenant ?? app.tenant), ...over,
});
const source = (config: OAuth2Config) => createTokenSource(config, { now: fake.now });

async function refusal(promise: Promise<unknown>): Promise<CutoverError> {
  const err = await promise.then(() => assert.fail('expected a refusal'), (e: unknown) => e);
  assert.ok(err instanceof CutoverError, String(err));
  return err;
}

test('Google: a signed assertion per user gives a token, cached until near its expiry', async () => {
  const tokens = source(googleConfig());
  const before = fake.tokens.issuedCount;
  const alice = await tokens.tokenFor('alice@customer.test');
  assert.match(alice, /^ya29\./);
  assert.equal(await tokens.tokenFor('alice@customer.test'), alice, 'cached');
  const bob = await tokens.tokenFor('bob@customer.test');
  assert.notEqual(bob, alice, 'one token per user');
  assert.equal(fake.tokens.issuedCount - before, 2);
  assert.equal(fake.tokens.introspect(alice).username, 'alice@customer.test', 'bound to its user');
});

test('Google: parallel logins of one user share one token request', async () => {
  const tokens = source(googleConfig());
  const before = fake.tokens.issuedCount;
  const all = await Promise.all(Array.from({ length: 6 }, () => tokens.tokenFor('alice@customer.test')));
  assert.equal(new Set(all).size, 1);
  assert.equal(fake.tokens.issuedCount - before, 1);
});

test('Google: the token is renewed before it expires, and on demand after a refusal', async () => {
  const tokens = source(googleConfig());
  const first = await tokens.tokenFor('bob@customer.test');
  fake.advance(50 * 60_000);
  assert.equal(await tokens.tokenFor('bob@customer.test'), first, 'still 10 minutes left');
  fake.advance(6 * 60_000);
  const second = await tokens.tokenFor('bob@customer.test');
  assert.notEqual(second, first, 'renewed within 5 minutes of expiry');
  assert.equal(fake.tokens.introspect(second, 'bob@customer.test').active, true, 'the renewed token is valid at the fake\'s time');
  const forced = await tokens.tokenFor('bob@customer.test', { forceRefresh: true, rejected: second });
  assert.notEqual(forced, second);
  assert.equal(await tokens.tokenFor('bob@customer.test', { forceRefresh: true, rejected: second }), forced, 'a second refusal of the same old token does not ask again');
});

test('Google: the JSON key file as downloaded is accepted as a config', async () => {
  const config = parseOAuth2Config(account.keyFile);
  assert.equal(config.kind, 'google-service-account');
  assert.match(await createTokenSource(config, { now: fake.now }).tokenFor('alice@customer.test'), /^ya29\./);
});

test('Google: a key of another account is refused as a wrong key, in words that say what to do', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const err = await refusal(source(googleConfig({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() })).tokenFor('alice@customer.test'));
  assert.equal(err.code, 'OAUTH2_KEY_REJECTED');
  assert.match(err.message, /revoked/);
  assert.match(err.message, /Invalid JWT Signature/);
  assert.ok(!err.message.includes('PRIVATE KEY'), 'the key is never in the words');
});

test('Google: a revoked key is refused', async () => {
  const extra = fake.google.addKey(account.clientEmail);
  const tokens = source(googleConfig(extra));
  await tokens.tokenFor('alice@customer.test');
  fake.google.revokeKey(account.clientEmail, extra.privateKeyId);
  const err = await refusal(tokens.tokenFor('alice@customer.test', { forceRefresh: true }));
  assert.equal(err.code, 'OAUTH2_KEY_REJECTED');
});

test('Google: without domain-wide delegation the admin is told consent is missing and where to grant it', async () => {
  const other = fake.google.addServiceAccount('nodelegation');
  const err = await refusal(source(googleConfig(other)).tokenFor('alice@customer.test'));
  assert.equal(err.code, 'OAUTH2_CONSENT_MISSING');
  assert.match(err.message, /consent missing/);
  assert.match(err.message, /domain-wide delegation.*https:\/\/mail\.google\.com\//);
  assert.match(err.message, /alice@customer\.test/);
});

test('Google: an unknown user, a disabled account and a wrong clock each get their own words', async () => {
  assert.equal((await refusal(source(googleConfig()).tokenFor('nobody@customer.test'))).code, 'OAUTH2_USER_UNKNOWN');
  const skewed = createTokenSource(googleConfig(), { now: () => fake.now() + 2 * 3600_000 });
  const clock = await refusal(skewed.tokenFor('alice@customer.test'));
  assert.equal(clock.code, 'OAUTH2_TOKEN_FAILED');
  assert.match(clock.message, /clock/);
  const gone = fake.google.addServiceAccount('disabled');
  fake.google.grantDelegation(gone.clientId);
  fake.google.disable(gone.clientEmail);
  assert.equal((await refusal(source(googleConfig(gone)).tokenFor('alice@customer.test'))).code, 'OAUTH2_CLIENT_UNKNOWN');
});

test('Microsoft: client credentials give one app token, shared by every user', async () => {
  const tokens = source(microsoftConfig());
  const before = fake.tokens.issuedCount;
  const a = await tokens.tokenFor('alice@customer.test');
  assert.equal(await tokens.tokenFor('bob@customer.test'), a);
  assert.equal(fake.tokens.issuedCount - before, 1);
  assert.notEqual(await tokens.tokenFor('bob@customer.test', { forceRefresh: true }), a);
});

test('Microsoft: a certificate instead of a secret signs a client assertion', async () => {
  const tokens = source(microsoftConfig({ clientSecret: undefined, certificate: app.certificate, certificateKey: app.certificateKey }));
  assert.ok(await tokens.tokenFor('alice@customer.test'));
  const stranger = fake.microsoft.addApp('customer.test');
  const wrongCert = source(microsoftConfig({ clientSecret: undefined, certificate: stranger.certificate, certificateKey: stranger.certificateKey }));
  assert.equal((await refusal(wrongCert.tokenFor('alice@customer.test'))).code, 'OAUTH2_KEY_REJECTED');
});

test('Microsoft: wrong secret, expired secret, unknown app and unknown tenant, mapped from their AADSTS codes', async () => {
  const wrong = await refusal(source(microsoftConfig({ clientSecret: 'not-the-secret' })).tokenFor('alice@customer.test'));
  assert.equal(wrong.code, 'OAUTH2_SECRET_INVALID');
  assert.match(wrong.message, /AADSTS7000215/);
  assert.match(wrong.message, /Certificates & secrets/);
  assert.ok(!wrong.message.includes('not-the-secret'));
  const expiring = fake.microsoft.addApp('customer.test');
  fake.microsoft.expireSecret(expiring.clientId, expiring.clientSecret);
  assert.equal((await refusal(source(microsoftConfig({ clientId: expiring.clientId, clientSecret: expiring.clientSecret })).tokenFor('a@customer.test'))).code, 'OAUTH2_SECRET_INVALID');
  const unknown = await refusal(source(microsoftConfig({ clientId: '00000000-0000-0000-0000-000000000000' })).tokenFor('alice@customer.test'));
  assert.equal(unknown.code, 'OAUTH2_CLIENT_UNKNOWN');
  assert.match(unknown.message, /AADSTS700016/);
  const tenant = await refusal(source(microsoftConfig({ tenant: 'elsewhere.test' })).tokenFor('alice@customer.test'));
  assert.equal(tenant.code, 'OAUTH2_TOKEN_FAILED');
  assert.match(tenant.message, /AADSTS90002.*Check the tenant/);
});

test('an unreachable token endpoint is a retryable failure', async () => {
  const port = await freePort();
  const err = await refusal(createTokenSource({ ...googleConfig(), tokenUrl: `http://127.0.0.1:${port}/token` } as OAuth2Config).tokenFor('alice@customer.test'));
  assert.equal(err.code, 'OAUTH2_TOKEN_FAILED');
  assert.equal(err.retryable, true);
});

test('the schema marks keys and secrets secret, rejects a secret and a certificate together, and plain http off loopback', () => {
  // As a plugin embeds it: an `oauth2` field of its config.
  const fields = JSON.stringify(configFields(z.object({ oauth2: oauth2ConfigSchema.optional() })));
  for (const key of ['privateKey', 'clientSecret', 'certificateKey']) assert.match(fields, new RegExp(`"key":"${key}","[^}]*"type":"secret"|"type":"secret"[^}]*"key":"${key}"`), key);
  // What pages and the API may show of a stored platform config: no key, no secret.
  const shown = JSON.stringify(withoutSecrets(configFields(z.object({ oauth2: oauth2ConfigSchema.optional() })), { oauth2: googleConfig() }));
  assert.ok(!shown.includes('PRIVATE KEY') && shown.includes(account.clientEmail), shown.slice(0, 200));
  const app2 = JSON.stringify(withoutSecrets(configFields(z.object({ oauth2: oauth2ConfigSchema.optional() })), { oauth2: microsoftConfig() }));
  assert.ok(!app2.includes(app.clientSecret) && app2.includes(app.clientId));
  assert.equal(oauth2ConfigSchema.safeParse({ kind: 'microsoft-client-credentials', tenant: 't', clientId: 'c', clientSecret: 's', certificate: app.certificate, certificateKey: app.certificateKey }).success, false);
  assert.equal(oauth2ConfigSchema.safeParse({ kind: 'microsoft-client-credentials', tenant: 't', clientId: 'c' }).success, false);
  assert.equal(oauth2ConfigSchema.safeParse({ ...googleConfig(), tokenUrl: 'http://token.example/token' }).success, false);
});
