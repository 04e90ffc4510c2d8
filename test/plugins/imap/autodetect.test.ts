import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { startKnot, type KnotInstance } from '../../../server/devservers/knot.ts';
import { cutover, tempDataDir } from '../../support/cli.ts';

const ZONE = 'customer.test';
const PASSWORD = 'someone-pw';

let imap: DovecotInstance;
let dns: KnotInstance;
let web: http.Server;
let via: string;
let dataDir: string;
let passwordFile: string;
const requests: string[] = [];

/** Thunderbird's format, as a hoster publishes it: a plain POP3 server first (ignored), then IMAP over SSL. */
const autoconfig = (port: number) => `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="customer.test">
    <domain>customer.test</domain>
    <incomingServer type="pop3"><hostname>pop.customer.test</hostname><port>110</port><socketType>plain</socketType></incomingServer>
    <incomingServer type="imap">
      <hostname>localhost</hostname>
      <port>${port}</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
  </emailProvider>
</clientConfig>`;

before(async () => {
  imap = await startDovecot({ tls: true });
  for (const domain of [ZONE, `auto.${ZONE}`, `wk.${ZONE}`]) {
    await addDomain(imap, domain);
    await addMailbox(imap, `someone@${domain}`, PASSWORD);
  }
  dns = await startKnot({
    zone: ZONE,
    records: [
      // RFC 6186 for the apex: implicit TLS on the test server's TLS port, whose certificate names localhost.
      `_imaps._tcp IN SRV 0 1 ${imap.tlsPort} localhost.`,
      '_imap._tcp IN SRV 0 0 0 .',
      '@ IN MX 10 mx.customer.test.',
      '@ IN TXT "v=spf1 include:spf.hoster.example -all"',
      // No SRV below: autoconfig (on its subdomain, or under .well-known) or an MX preset has to say.
      'auto IN MX 10 mx.customer.test.',
      'gw IN MX 1 aspmx.l.google.com.',
      'gw IN MX 5 alt1.aspmx.l.google.com.',
      'm365 IN MX 0 m365-customer-test.mail.protection.outlook.com.',
      'nothing IN A 192.0.2.1',
    ],
  });
  web = http.createServer((req, res) => {
    requests.push(`${req.headers.host}${req.url}`);
    const host = req.headers.host ?? '';
    const found = (host === `autoconfig.auto.${ZONE}` && req.url?.startsWith('/mail/config-v1.1.xml?emailaddress=someone%40auto.customer.test'))
      || (host === `wk.${ZONE}` && req.url === '/.well-known/autoconfig/mail/config-v1.1.xml');
    if (!found) { res.writeHead(404).end('not here'); return; }
    res.writeHead(200, { 'content-type': 'application/xml' }).end(autoconfig(imap.tlsPort!));
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  via = `127.0.0.1:${(web.address() as AddressInfo).port}`;
  dataDir = tempDataDir();
  passwordFile = path.join(dataDir, 'someone.pass');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
});

after(async () => {
  await new Promise((resolve) => web?.close(resolve));
  await Promise.allSettled([imap?.stop(), dns?.stop()]);
});

function autodetect(name: string, address: string, extra: string[] = []) {
  return cutover(['platform', 'add', name, '--autodetect', address, '--nameserver', `127.0.0.1:${dns.port}`, '--autoconfig-via', via, '--ca', imap.certFile!, '--json', ...extra], { dataDir });
}

async function platforms(): Promise<string[]> {
  const listed = await cutover(['platform', 'list', '--json'], { dataDir });
  return JSON.parse(listed.stdout).map((p: { name: string }) => p.name);
}

test('SRV records (RFC 6186) give the server; the login is tested; MX and SPF become the expected DNS', async () => {
  const started = Date.now();
  const result = await autodetect('srv', `someone@${ZONE}`, ['--password-file', passwordFile]);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout);
  assert.equal(out.source, `SRV _imaps._tcp.${ZONE}`);
  assert.deepEqual(out.config, { host: 'localhost', port: imap.tlsPort, security: 'tls', mailHost: 'mx.customer.test', expectedDns: { mx: [{ priority: 10, exchange: 'mx.customer.test' }], spfIncludes: ['spf.hoster.example'] } });
  assert.equal(out.login, 'ok');
  assert.deepEqual(requests, [], 'SRV answered: no HTTP request was needed');
  const tested = await cutover(['platform', 'test', 'srv'], { dataDir });
  assert.equal(tested.code, 0, tested.stderr);
  assert.match(tested.stdout, /^platform srv: reachable/);
  console.log(`autodetect (SRV) to a tested platform: ${seconds.toFixed(2)} s with the CLI's start, ${out.seconds.toFixed(2)} s inside it`);
});

test('autoconfig on autoconfig.<domain>, then on <domain>/.well-known, read with the address filled in', async () => {
  const auto = await autodetect('auto', `someone@auto.${ZONE}`, ['--password-env', 'AUTODETECT_PW']);
  // --password-env reads the variable from the environment of the command.
  assert.equal(auto.code, 2, 'the variable is not set');
  assert.match(auto.stderr, /--password-env: the variable AUTODETECT_PW is empty/);
  const viaEnv = await cutover(['platform', 'add', 'auto', '--autodetect', `someone@auto.${ZONE}`, '--nameserver', `127.0.0.1:${dns.port}`, '--autoconfig-via', via, '--ca', imap.certFile!, '--json', '--password-env', 'AUTODETECT_PW'], { dataDir, env: { AUTODETECT_PW: PASSWORD } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const out = JSON.parse(viaEnv.stdout);
  assert.equal(out.source, `autoconfig autoconfig.auto.${ZONE}/mail/config-v1.1.xml`);
  assert.equal(out.config.host, 'localhost');
  assert.equal(out.config.security, 'tls');
  assert.ok(out.tried.some((line: string) => line.includes(`SRV _imaps._tcp.auto.${ZONE}: none`)), out.tried.join('\n'));

  const wk = await cutover(['platform', 'add', 'wk', '--autodetect', `someone@wk.${ZONE}`, '--nameserver', `127.0.0.1:${dns.port}`, '--autoconfig-via', via, '--ca', imap.certFile!, '--json', '--password-stdin'], { dataDir, input: `${PASSWORD}\n` });
  assert.equal(wk.code, 0, wk.stderr);
  const wkOut = JSON.parse(wk.stdout);
  assert.equal(wkOut.source, `autoconfig wk.${ZONE}/.well-known/autoconfig/mail/config-v1.1.xml`);
  assert.ok(wkOut.tried.some((line: string) => line.includes(`autoconfig.wk.${ZONE}/mail/config-v1.1.xml: HTTP 404`)), wkOut.tried.join('\n'));
});

test('MX presets: Google Workspace and Microsoft 365 are recognised by their MX hosts', async () => {
  const google = await autodetect('gw', `someone@gw.${ZONE}`, ['--no-test']);
  assert.equal(google.code, 0, google.stderr);
  const g = JSON.parse(google.stdout);
  assert.deepEqual(g.config, {
    host: 'imap.gmail.com', port: 993, security: 'tls', provider: 'google', mailHost: 'aspmx.l.google.com',
    expectedDns: { mx: [{ priority: 1, exchange: 'aspmx.l.google.com' }, { priority: 5, exchange: 'alt1.aspmx.l.google.com' }], spfIncludes: [] },
  });
  assert.equal(g.login, 'skipped');
  assert.match(g.source, /^MX aspmx\.l\.google\.com \(google preset\)$/);
  const m365 = await autodetect('m365', `someone@m365.${ZONE}`, ['--no-test']);
  assert.equal(m365.code, 0, m365.stderr);
  assert.equal(JSON.parse(m365.stdout).config.host, 'outlook.office365.com');
  assert.equal(JSON.parse(m365.stdout).config.provider, 'microsoft365');
});

test('a domain with no usable records is a clear error, exit 2, and nothing is created', async () => {
  const before = await platforms();
  const result = await autodetect('nothing', `someone@nothing.${ZONE}`, ['--password-file', passwordFile]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /AUTODETECT_FAILED.*No usable IMAP settings found for nothing\.customer\.test: tried SRV _imaps\._tcp\.nothing\.customer\.test: none; .*autoconfig autoconfig\.nothing\.customer\.test\/mail\/config-v1\.1\.xml: HTTP 404; .*MX nothing\.customer\.test: none/);
  assert.deepEqual(await platforms(), before);
});

test('a wrong password stops at the server found (exit 4), nothing is created; the password is never on argv', async () => {
  const wrong = path.join(dataDir, 'wrong.pass');
  writeFileSync(wrong, 'not-it', { mode: 0o600 });
  const before = await platforms();
  const result = await autodetect('wrongpw', `someone@${ZONE}`, ['--password-file', wrong]);
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, /AUTH_FAILED/);
  assert.deepEqual(await platforms(), before);
  const noPassword = await autodetect('nopw', `someone@${ZONE}`);
  assert.equal(noPassword.code, 2);
  assert.match(noPassword.stderr, /exactly one of --password-file FILE, --password-env VAR, --password-stdin/);
});
