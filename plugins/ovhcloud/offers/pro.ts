import type { OvhClient } from '../client.ts';
import type { OvhConfig } from '../config.ts';
import { pathSegment } from '../signing.ts';
import { HostedOffer } from './hosted.ts';

/** The guide: a mailbox moving to E-mail Pro must be at most 10 GB. */
export const EMAIL_PRO_LIMIT_BYTES = 10e9;

/** E-mail Pro (/email/pro/{service}): no POST …/account, accounts are ordered and appear as @configureme.me slots. */
export function proOffer(client: OvhClient, config: OvhConfig): HostedOffer {
  const service = config.service!;
  return new HostedOffer(client, config, {
    offer: 'pro',
    label: `E-mail Pro service ${service}`,
    prefix: `/email/pro/${pathSegment(service)}`,
    postDomain: true,
    postAccount: () => false,
    serviceLists: { externalContact: 'externalContact' },
    defaultLimitBytes: EMAIL_PRO_LIMIT_BYTES,
    capabilities: false,
  });
}
