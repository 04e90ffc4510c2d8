import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { OvhApiError, OvhClient, toCutoverError } from '../../../plugins/ovhcloud/client.ts';
import { signRequest } from '../../../plugins/ovhcloud/signing.ts';
import { CutoverError } from '../../../server/errors.ts';
import { startFakeOvh, type FakeOvh } from '../../support/fake-ovh/index.ts';

let fake: FakeOvh;
let app: { key: string; secret: string };

before(async () => {
  fake = await startFakeOvh();
  app = fake.state.addApplication();
  fake.state.addService({ family: 'pro', name: 'emailpro-ab1-1', domains: [{ name: 'example.test' }] });
});
after(async () => { await fake.stop(); });

function client(consumerKey: string, over: Partial<ConstructorParameters<typeof OvhClient>[0]> = {}): OvhClient {
  return new OvhClient({ baseUrl: fake.url, applicationKey: app.key, applicationSecret: app.secret, consumerKey, retryBaseMs: 5, ...over });
}

async function rejection(p: Promise<unknown>): Promise<OvhApiError> {
  try { await p; } catch (err) { assert.ok(err instanceof OvhApiError, String(err)); return err; }
  assert.fail('expected the API to refuse');
}

/** A request signed by hand, to send what the client would never send. */
async function raw(method: string, path: string, opts: { ck: string; body?: string; timestamp?: number; secret?: string; signedBody?: string }) {
  const url = fake.url + path;
  const timestamp = opts.timestamp ?? fake.state.serverTime();
  const signature = signRequest({ applicationSecret: opts.secret ?? app.secret, consumerKey: opts.ck, method, url, body: opts.signedBody ?? opts.body ?? '', timestamp });
  const res = await fetch(url, { method, body: opts.body, headers: { 'X-Ovh-Application': app.key, 'X-Ovh-Consumer': opts.ck, 'X-Ovh-Timestamp': String(timestamp), 'X-Ovh-Signature': signature, 'Content-Type': 'application/json' } });
  return { status: res.status, body: await res.json() as Record<string, unknown>, queryId: res.headers.get('x-ovh-query-id') };
}

test('a signed call works, and the server clock offset comes from /auth/time once', async () => {
  const ck = fake.state.addCredential(app.key).consumerKey;
  fake.state.clockSkewSeconds = 500;
  try {
    const c = client(ck);
    assert.deepEqual(await c.get('/email/pro/emailpro-ab1-1/domain'), ['example.test']);
    assert.deepEqual(await c.get('/email/pro/emailpro-ab1-1/domain'), ['example.test']);
    assert.equal(await c.timeDelta(), 500);
    assert.equal(c.calls, 3, 'one /auth/time, two calls');
  } finally {
    fake.state.clockSkewSeconds = 0;
  }
});

test('a wrong local clock is compensated by the delta; a delta gone stale is read again once', async () => {
  const ck = fake.state.addCredential(app.key).consumerKey;
  const c = client(ck, { now: () => Date.now() - 3_600_000 });
  await c.get('/email/pro/emailpro-ab1-1/domain');
  assert.equal(await c.timeDelta(), 3600);
  fake.state.clockSkewSeconds = 1000;
  try {
    await c.get('/email/pro/emailpro-ab1-1/domain');
    assert.equal(await c.timeDelta(), 4600);
    const times = fake.calls.filter((r) => r.path === '/auth/time').length;
    assert.ok(times >= 2);
  } finally {
    fake.state.clockSkewSeconds = 0;
  }
});

test('the fake refuses a timestamp outside the window: "Query out of time"', async () => {
  const ck = fake.state.addCredential(app.key).consumerKey;
  const late = await raw('GET', '/email/pro/emailpro-ab1-1/domain', { ck, timestamp: fake.state.serverTime() - 600 });
  assert.equal(late.status, 400);
  assert.equal(late.body.message, 'Query out of time');
  const ok = await raw('GET', '/email/pro/emailpro-ab1-1/domain', { ck, timestamp: fake.state.serverTime() - 60 });
  assert.equal(ok.status, 200);
});

test('the fake refuses a bad signature: wrong secret, or a body other than the one signed', async () => {
  const ck = fake.state.addCredential(app.key).consumerKey;
  const wrongSecret = await raw('GET', '/email/pro/emailpro-ab1-1/domain', { ck, secret: 'not-the-secret' });
  assert.equal(wrongSecret.status, 400);
  assert.deepEqual(wrongSecret.body, { errorCode: 'INVALID_SIGNATURE', httpCode: '400 Bad Request', message: 'Invalid signature' });
  const tampered = await raw('PUT', '/email/pro/emailpro-ab1-1/domain/example.test', { ck, body: '{"mxRelay":"evil.example"}', signedBody: '{"mxRelay":"mx1.mail.ovh.net"}' });
  assert.equal(tampered.status, 400);
  assert.equal(tampered.body.message, 'Invalid signature');
  const err = await rejection(client(ck, { applicationSecret: 'wrong' }).get('/email/pro/emailpro-ab1-1/domain'));
  const mapped = toCutoverError(err, fake.url, 'test');
  assert.equal(mapped.code, 'API_CREDENTIAL_INVALID');
  assert.match(mapped.message, /application secret/);
  assert.equal(mapped.retryable, false);
});

test('an expired consumer key is refused like the real API, and the error says how to get a new one', async () => {
  const credential = fake.state.addCredential(app.key, { expiresInMs: 60_000 });
  const c = client(credential.consumerKey);
  await c.get('/email/pro/emailpro-ab1-1/domain');
  fake.state.expire(credential.consumerKey);
  const err = await rejection(c.get('/email/pro/emailpro-ab1-1/domain'));
  assert.equal(err.status, 403);
  assert.deepEqual(err.body, { errorCode: 'INVALID_CREDENTIAL', httpCode: '403 Forbidden', message: 'This credential is not valid' });
  assert.match(err.queryId ?? '', /^FR\.ws-/);
  const mapped = toCutoverError(err, fake.url, 'domains');
  assert.ok(mapped instanceof CutoverError);
  assert.equal(mapped.code, 'API_CREDENTIAL_INVALID');
  assert.match(mapped.message, /cutover ovh credential --config FILE/);
  assert.equal(mapped.retryable, false);
});

test('unknown application key, missing, unknown or unvalidated consumer key: each refused with its own code', async () => {
  const other = new OvhClient({ baseUrl: fake.url, applicationKey: 'nope', applicationSecret: app.secret, consumerKey: 'x' });
  assert.equal((await rejection(other.get('/email/pro'))).body.errorCode, 'INVALID_KEY');
  const res = await fetch(`${fake.url}/email/pro`, { headers: { 'X-Ovh-Application': app.key } });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { errorCode: string }).errorCode, 'NOT_CREDENTIAL');
  assert.equal((await rejection(client('unknown-ck').get('/email/pro'))).body.errorCode, 'INVALID_CREDENTIAL');
  const pending = fake.state.addCredential(app.key, { state: 'pendingValidation' });
  assert.equal((await rejection(client(pending.consumerKey).get('/email/pro'))).body.errorCode, 'NOT_CREDENTIAL');
});

test('a call outside the key\'s access rules is NOT_GRANTED_CALL, mapped to API_CALL_NOT_GRANTED', async () => {
  const ck = fake.state.addCredential(app.key, { rules: [{ method: 'GET', path: '/email/pro/*' }] }).consumerKey;
  const c = client(ck);
  await c.get('/email/pro/emailpro-ab1-1/domain');
  const err = await rejection(c.put('/email/pro/emailpro-ab1-1/domain/example.test', { mxRelay: 'mx1.mail.ovh.net' }));
  assert.equal(err.status, 403);
  assert.equal(err.body.errorCode, 'NOT_GRANTED_CALL');
  const mapped = toCutoverError(err, fake.url, 'x');
  assert.equal(mapped.code, 'API_CALL_NOT_GRANTED');
  assert.match(mapped.message, /PUT \/email\/pro\/emailpro-ab1-1\/domain\/example\.test/);
});

test('the schema drives the fake: unknown paths, methods, parameters and enum values are refused with the API\'s shapes', async () => {
  const c = client(fake.state.addCredential(app.key).consumerKey);
  const nowhere = await rejection(c.get('/email/nowhere'));
  assert.equal(nowhere.status, 404);
  assert.deepEqual(nowhere.body, { class: 'Client::NotFound', message: 'Got an invalid (or empty) URL' });
  assert.equal((await rejection(c.delete('/email/pro/emailpro-ab1-1/domain'))).status, 405);
  const extra = await rejection(c.post('/email/pro/emailpro-ab1-1/domain', { name: 'x.test', type: 'nonAuthoritative', colour: 'blue' }));
  assert.equal(extra.status, 400);
  assert.match(extra.apiMessage, /Received not described parameters: \(colour\)/);
  const missing = await rejection(c.post('/email/pro/emailpro-ab1-1/domain', { name: 'x.test' }));
  assert.match(missing.apiMessage, /Missing parameter\(s\): type/);
  const badEnum = await rejection(c.post('/email/pro/emailpro-ab1-1/domain', { name: 'x.test', type: 'sometimes' }));
  assert.match(badEnum.apiMessage, /does not belong to the DomainTypeEnum enumeration/);
  const badQuery = await rejection(c.get('/email/pro/emailpro-ab1-1/account', { colour: 'blue' }));
  assert.match(badQuery.apiMessage, /not described parameters: \(colour\)/);
  const gone = await rejection(c.get('/email/pro/emailpro-ab1-1/account/nobody@example.test'));
  assert.equal(gone.status, 404);
  assert.equal(gone.body.class, 'Client::NotFound');
  assert.equal(await c.getOrNull('/email/pro/emailpro-ab1-1/account/nobody@example.test'), null);
});

test('answers carry exactly the model\'s fields (MX Plan domains have no SPF fields; Pro domains do)', async () => {
  fake.state.addService({ family: 'mxplan', name: 'mxplan-ab1-1', domains: [{ name: 'mx.test' }] });
  const c = client(fake.state.addCredential(app.key).consumerKey);
  const mx = await c.get<Record<string, unknown>>('/email/mxplan/mxplan-ab1-1/domain/mx.test');
  const pro = await c.get<Record<string, unknown>>('/email/pro/emailpro-ab1-1/domain/example.test');
  assert.ok(!('expectedSPF' in mx) && !('spfIsValid' in mx));
  assert.ok('expectedSPF' in pro && 'spfIsValid' in pro);
  assert.deepEqual(Object.keys(mx).sort(), Object.keys(fake.schema.models.get('email.mxplan.Domain')!.properties!).sort());
});

test('retries: idempotent calls are repeated on 503 and network errors; a POST that got a 500 is not', async () => {
  const hits = { get: 0, post: 0 };
  const flaky = createServer((req, res) => {
    if (req.url === '/1.0/auth/time') { res.end(String(Math.floor(Date.now() / 1000))); return; }
    if (req.method === 'POST') { hits.post++; res.statusCode = 500; res.end('{"message":"Internal Server Error"}'); return; }
    hits.get++;
    if (hits.get <= 3) { res.statusCode = 503; res.end('{"message":"Service Unavailable"}'); return; }
    res.end('"ok"');
  });
  await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(flaky.address() as { port: number }).port}/1.0`;
  try {
    const c = new OvhClient({ baseUrl: base, applicationKey: 'k', applicationSecret: 's', consumerKey: 'c', retries: 3, retryBaseMs: 5 });
    assert.equal(await c.get('/x'), 'ok');
    assert.equal(hits.get, 4, 'three 503 then the answer');
    const err = await rejection(c.post('/x', {}));
    assert.equal(err.status, 500);
    assert.equal(hits.post, 1, 'a POST that may have created a task is not sent again');
    assert.equal(toCutoverError(err, base, 'x').retryable, true, 'the step itself is retried later, idempotently');
  } finally {
    flaky.close();
  }
  const down = new OvhClient({ baseUrl: 'http://127.0.0.1:9/1.0', applicationKey: 'k', applicationSecret: 's', consumerKey: 'c', retries: 2, retryBaseMs: 5 });
  await assert.rejects(down.get('/x'), (err: unknown) => {
    const mapped = toCutoverError(err, 'http://127.0.0.1:9/1.0', 'x');
    return mapped.code === 'HOST_UNREACHABLE' && mapped.retryable;
  });
});
