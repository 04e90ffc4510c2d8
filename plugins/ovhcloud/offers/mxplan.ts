import type { OvhClient } from '../client.ts';
import type { OvhConfig } from '../config.ts';
import { pathSegment } from '../signing.ts';
import { HostedOffer } from './hosted.ts';

/** The guide: a mailbox moving to MX Plan must be at most 5 GB. */
export const MX_PLAN_LIMIT_BYTES = 5e9;

/**
 * The new MX Plan (/email/mxplan/{service}): the domain is fixed to the service (no POST
 * …/domain; attaching means PUT type/mxRelay on it), no POST …/account (slots are configured),
 * and …/capabilities lists the allowed quotas.
 */
export function mxplanOffer(client: OvhClient, config: OvhConfig): HostedOffer {
  const service = config.service!;
  return new HostedOffer(client, config, {
    offer: 'mxplan',
    label: `MX Plan service ${service}`,
    prefix: `/email/mxplan/${pathSegment(service)}`,
    postDomain: false,
    postAccount: () => false,
    serviceLists: { externalContact: 'externalContact' },
    defaultLimitBytes: MX_PLAN_LIMIT_BYTES,
    capabilities: true,
  });
}
