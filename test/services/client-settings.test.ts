import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CutoverError } from '../../server/errors.ts';
import type { PlatformConnector } from '../../server/plugins/contract.ts';
import { settingsFrom } from '../../server/services/client-settings.ts';

const SECRET = 'master-secret-123';

// A plain-object connector: only what client settings ask for.
function connector(overrides: Partial<PlatformConnector>): PlatformConnector {
  return {
    imapEndpoint: async (address: string) => ({ host: 'imap.new.example.net', port: 993, security: 'tls', tlsVerify: true, auth: { user: `${address}*admin`, pass: SECRET } }),
    expectedDns: async () => ({
      mx: [{ priority: 10, exchange: 'mx.new.example.net' }], spfIncludes: [],
      srv: [{ service: '_submission._tcp', target: 'smtp.new.example.net', port: 587 }, { service: '_submissions._tcp', target: 'smtp.new.example.net.', port: 465 }],
      autodiscover: { srv: { target: 'autodiscover.new.example.net', port: 443 } },
      autoconfig: { cname: 'autoconfig.new.example.net' },
    }),
    mailHost: async () => 'mx.new.example.net',
    ...overrides,
  } as PlatformConnector;
}

test('client settings come from the connector: IMAP endpoint without its login, SMTP from the submission SRV records (implicit TLS first)', async () => {
  const settings = await settingsFrom(connector({}), 'alice@example.test', 'example.test');
  assert.deepEqual(settings, {
    address: 'alice@example.test', userName: 'alice@example.test',
    imap: { host: 'imap.new.example.net', port: 993, security: 'ssl', from: 'connector' },
    smtp: { host: 'smtp.new.example.net', port: 465, security: 'ssl', from: 'srv' },
    autodiscover: 'autodiscover.new.example.net', autoconfig: 'autoconfig.new.example.net', mailHost: 'mx.new.example.net', problems: [],
  });
  assert.ok(!JSON.stringify(settings).includes(SECRET));
});

test('what the connector cannot say is said so, and IMAP falls back to the published SRV record', async () => {
  const settings = await settingsFrom(connector({
    imapEndpoint: async () => { throw new CutoverError('CONFIG_INVALID', { where: ' for plugin x', detail: 'no password known' }); },
    expectedDns: async () => ({ mx: [], spfIncludes: [], srv: [{ service: '_imaps._tcp', target: 'mail.new.example.net', port: 993 }, { service: '_submission._tcp', target: '.', port: 0 }] }),
  }), 'bob@example.test', 'example.test');
  assert.deepEqual(settings.imap, { host: 'mail.new.example.net', port: 993, security: 'ssl', from: 'srv' });
  assert.equal(settings.smtp, null, 'a "." target says the service is not offered');
  assert.deepEqual(settings.problems, ['IMAP server: Invalid configuration for plugin x: no password known']);
});
