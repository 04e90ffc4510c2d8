import type { OvhClient } from '../client.ts';
import type { OvhConfig } from '../config.ts';
import { pathSegment } from '../signing.ts';
import { HostedOffer } from './hosted.ts';

/**
 * Hosted/Private Exchange (/email/exchange/{organization}/service/{service}). Accounts are
 * created with POST only on dedicated offers (the control panel's "ADDING" method); hosted and
 * provider services configure a pre-ordered @configureme.me slot.
 */
export function exchangeOffer(client: OvhClient, config: OvhConfig): HostedOffer {
  const service = config.service!;
  const organization = config.organization ?? service;
  return new HostedOffer(client, config, {
    offer: 'exchange',
    label: `Exchange service ${service}`,
    prefix: `/email/exchange/${pathSegment(organization)}/service/${pathSegment(service)}`,
    postDomain: true,
    postAccount: (info) => config.createWithPost ?? (info.offer === 'dedicated' || info.offer === 'dedicatedCluster'),
    serviceLists: { group: 'mailingList', externalContact: 'externalContact' },
    // The guide names no limit for Exchange destinations; the account's own quota applies.
    defaultLimitBytes: null,
    capabilities: false,
  });
}
