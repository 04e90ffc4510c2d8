import { done, manual, waitUntil, type Step } from '../types.ts';

const PENDING_RECHECK_MS = 30_000;

export const attachDomain: Step = {
  id: 'attach-domain',
  level: 'domain',
  title: 'Attach the domain to the destination (non-authoritative)',
  async run(ctx) {
    const domain = ctx.domain.name;
    const relayHost = await ctx.source.mailHost(domain);
    if (!ctx.dest.capabilities.attachDomain) {
      return manual(`On the destination platform, add ${domain} as a non-authoritative domain that relays unknown recipients to ${relayHost}, then confirm.`);
    }
    const { state } = await ctx.dest.attachDomain(domain, 'nonAuthoritative', relayHost);
    if (state === 'pending') return waitUntil(ctx.now() + PENDING_RECHECK_MS, `${domain} is being attached on the destination`);
    return done(`${domain} attached, unknown recipients relayed to ${relayHost}`);
  },
};
