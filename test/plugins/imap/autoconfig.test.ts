import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lookup, LookupResult } from '../../../server/dns/resolver.ts';
import { parseAutoconfig } from '../../../plugins/imap/autodetect/autoconfig.ts';
import { mxCandidates } from '../../../plugins/imap/autodetect/presets.ts';

const server = (inner: string, type = 'imap') => `<incomingServer type="${type}">${inner}</incomingServer>`;
const doc = (...servers: string[]) => `<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="x">${servers.join('')}</emailProvider></clientConfig>`;

test('autoconfig: IMAP servers in order, placeholders filled, plain and broken ones left out with the reason', () => {
  const tried: string[] = [];
  const found = parseAutoconfig(doc(
    server('<hostname>pop.example.com</hostname><port>995</port><socketType>SSL</socketType>', 'pop3'),
    server('<hostname>plain.example.com</hostname><port>143</port><socketType>plain</socketType>'),
    server('<hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType>'),
    server('<hostname>imap.example.com</hostname><port>99999</port><socketType>SSL</socketType>'),
    server('<hostname>imap.example.com</hostname><port>143</port><socketType>STARTTLS</socketType><username>%EMAILLOCALPART%</username>'),
    server('<hostname>ssl.example.com</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username>'),
    server('<hostname>odd.example.com</hostname><port>993</port><socketType>SSL</socketType><username>%REALNAME%</username>'),
  ), 'john@example.com', 'autoconfig test', tried);
  assert.deepEqual(found, [
    { host: 'imap.example.com', port: 143, security: 'starttls', login: 'john', source: 'autoconfig test' },
    { host: 'ssl.example.com', port: 993, security: 'tls', login: 'john@example.com', source: 'autoconfig test' },
  ]);
  assert.deepEqual(tried, [
    'autoconfig test: plain.example.com:143 is "PLAIN" (no TLS), not used',
    'autoconfig test: host "imap.%emaildomain%" is not usable',
    'autoconfig test: imap.example.com has no valid port',
    'autoconfig test: odd.example.com user name "%REALNAME%" not understood',
  ]);
});

test('autoconfig: what is not one, and entities, are handled without trusting the document', () => {
  const tried: string[] = [];
  assert.deepEqual(parseAutoconfig('<html><body>Welcome</body></html>', 'a@b.example', 'x', tried), []);
  assert.deepEqual(tried, ['x: not an autoconfig document']);
  const entity = doc(server('<hostname>imap.example.com</hostname><port>993</port><socketType>SSL</socketType><username>a&amp;b</username>'));
  assert.equal(parseAutoconfig(entity, 'a@b.example', 'x', [])[0]!.login, 'a&b');
  // An internal entity is not expanded: the host is taken literally and refused.
  const bomb = `<?xml version="1.0"?><!DOCTYPE c [<!ENTITY h "imap.evil.example">]><clientConfig>${server('<hostname>&h;</hostname><port>993</port><socketType>SSL</socketType>')}</clientConfig>`;
  const bombTried: string[] = [];
  assert.deepEqual(parseAutoconfig(bomb, 'a@b.example', 'x', bombTried), []);
  assert.match(bombTried[0]!, /is not usable/);
  // At most 8 servers are read, whatever the document holds.
  const many = doc(...Array.from({ length: 50 }, (_, i) => server(`<hostname>s${i}.example.com</hostname><port>993</port><socketType>SSL</socketType>`)));
  assert.equal(parseAutoconfig(many, 'a@b.example', 'x', []).length, 8);
});

function mxLookup(exchanges: string[]): Lookup {
  return {
    async lookup(name: string, type: string): Promise<LookupResult> {
      const records = type === 'MX' ? exchanges.map((exchange, i) => ({ name, type: 'MX', typeCode: 15, class: 'IN', ttl: 300, data: { preference: i * 10, exchange }, offset: 0, rdlength: 0 })) : [];
      return { name, type, outcome: records.length ? 'answer' : 'nodata', records, chain: [], ttl: 300, negativeTtl: null, soa: null, authoritative: true, server: 'fake', failure: null, errors: [] };
    },
  };
}

test('MX presets: each provider from its documented MX hosts, nothing for an unknown host', async () => {
  const cases: Array<[string, string, string]> = [
    ['mx01.mail.icloud.com.', 'imap.mail.me.com', 'icloud'],
    ['mx.zoho.eu', 'imappro.zoho.eu', 'zoho'],
    ['mx.zoho.com', 'imappro.zoho.com', 'zoho'],
    ['mx1.mail.ovh.net', 'ssl0.ovh.net', 'ovhcloud'],
    ['mx1.mail.ovh.ca', 'ssl0.ovh.ca', 'ovhcloud'],
    ['smtp.google.com', 'imap.gmail.com', 'google'],
    ['contoso-com.mail.protection.outlook.com', 'outlook.office365.com', 'microsoft365'],
  ];
  for (const [mx, host, provider] of cases) {
    const { candidates } = await mxCandidates(mxLookup([mx]), 'u@example.com', 'example.com', []);
    assert.deepEqual(candidates.map((c) => [c.host, c.port, c.security, c.provider, c.login]), [[host, 993, 'tls', provider, 'u@example.com']], mx);
  }
  const tried: string[] = [];
  const none = await mxCandidates(mxLookup(['mx.hoster.example', 'notgoogle.com']), 'u@example.com', 'example.com', tried);
  assert.deepEqual(none.candidates, []);
  assert.deepEqual(tried, ['MX example.com: mx.hoster.example, notgoogle.com (no known provider)']);
});
