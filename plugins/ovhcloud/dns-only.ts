import { CutoverError } from '../../server/errors.ts';
import type { PlatformConnector } from '../../server/plugins/contract.ts';
import { toCutoverError, type OvhClient } from './client.ts';

const refuse = (): never => {
  throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: 'this configuration has no "offer" (exchange, pro, mxplan or mxplan-legacy): it serves as a DNS provider only, not as a mail platform' });
};

/**
 * What `cutover platform add` gets for a DNS-only configuration (no offer): a connection test
 * that reads the zone list with the configured key, and a clear refusal for any mail operation.
 */
export function dnsOnlyPlatform(client: OvhClient): PlatformConnector {
  return {
    capabilities: { attachDomain: false, renameAccount: false, createAccount: false, resetAccount: false, listAccounts: false, masterUser: false },
    async testConnection() {
      try { await client.get('/domain/zone'); } catch (err) { throw toCutoverError(err, client.endpoint, 'zone list'); }
    },
    domainExists: refuse, attachDomain: refuse, listAccounts: refuse, getAccount: refuse, renameAccount: refuse, createAccount: refuse,
    resetAccount: refuse, imapEndpoint: refuse, expectedDns: refuse, mailHost: refuse,
    async close() { /* nothing held */ },
  };
}
