import { readFileSync } from 'node:fs';
import type { ImapEndpoint } from '../../server/plugins/contract.ts';
import { CutoverError } from '../../server/errors.ts';
import type { Offer, OvhConfig } from './config.ts';
import type { ServiceInfo } from './offers/types.ts';

/**
 * The IMAP servers OVHcloud documents for each offer: IMAPS on 993 with the full address as
 * login. Exchange and E-mail Pro name their server per service (exN.mail.ovh.net,
 * proN.mail.ovh.net: the service's `hostname`, shown in the control panel's "Connection" box);
 * MX Plan uses ssl0.ovh.net (ssl0.ovh.ca in Canada).
 */
export function documentedImapHost(offer: Offer, region: OvhConfig['region'], service: ServiceInfo | null): string {
  if (offer === 'exchange' || offer === 'pro') {
    if (service?.hostname) return service.hostname;
    throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: `the API gives no hostname for this ${offer === 'pro' ? 'E-mail Pro' : 'Exchange'} service; set imap.host (the server shown under "Connection" in the control panel)` });
  }
  return region === 'ovh-ca' ? 'ssl0.ovh.ca' : 'ssl0.ovh.net';
}

export function imapEndpointFor(config: OvhConfig, service: ServiceInfo | null, auth: { user: string; pass: string }): ImapEndpoint {
  const offer = config.offer!;
  if (config.imap) {
    const ca = config.imap.caFile ? readFileSync(config.imap.caFile, 'utf8') : undefined;
    return { host: config.imap.host, port: config.imap.port, security: config.imap.security, tlsVerify: config.imap.tlsVerify, ca, auth };
  }
  return { host: documentedImapHost(offer, config.region, service), port: 993, security: 'tls', tlsVerify: true, auth };
}
