import { CutoverError } from '../../errors.ts';
import type { StepContext } from '../types.ts';
import { done, manual, waitUntil, type Step } from '../types.ts';
import { fromFiles } from '../file-source.ts';

const PENDING_RECHECK_MS = 30_000;

/** The host the source receives the domain's mail on, or null when its platform does not say (an IMAP server without mailHost). */
async function relayTarget(ctx: StepContext): Promise<string | null> {
  try {
    return await ctx.source.mailHost(ctx.domain.name);
  } catch (err) {
    if (err instanceof CutoverError && err.code === 'CONFIG_INVALID') return null;
    throw err;
  }
}

export const attachDomain: Step = {
  id: 'attach-domain',
  level: 'domain',
  title: 'Attach the domain to the destination (non-authoritative)',
  async run(ctx) {
    const domain = ctx.domain.name;
    // No old platform receives the domain's mail, so there is nothing to relay to: the destination must simply hold the domain.
    if (fromFiles(ctx)) {
      if (!ctx.dest.capabilities.attachDomain || await ctx.dest.domainExists(domain)) return done(`skipped: the mail comes from uploaded files, so no old platform receives mail for ${domain} to relay to`);
      return manual(`The mail comes from uploaded files and ${domain} is not on the destination platform yet: add it there, then confirm on a mailbox's page (Confirm step done) (or run: cutover confirm --project "${ctx.project.name}" --domain ${domain} --step attach-domain).`);
    }
    if (!ctx.dest.capabilities.attachDomain) {
      const relay = await relayTarget(ctx);
      // Nothing receives mail for the domain on the source side that the destination could relay to.
      if (!relay) return done(`skipped: the source platform does not receive mail for ${domain} (no mailHost or MX in its configuration), so there is nothing to relay to; the destination must accept ${domain} already`);
      return manual(`The destination platform cannot attach domains: there, make sure ${domain} is accepted (added and verified) and, if it offers it, relay recipients it does not know to ${relay} (the old platform) until the migration ends; then confirm on a mailbox's page (Confirm step done) (or run: cutover confirm --project "${ctx.project.name}" --domain ${domain} --step attach-domain).`);
    }
    const relayHost = await ctx.source.mailHost(domain);
    const { state } = await ctx.dest.attachDomain(domain, 'nonAuthoritative', relayHost);
    if (state === 'pending') return waitUntil(ctx.now() + PENDING_RECHECK_MS, `${domain} is being attached on the destination`);
    return done(`${domain} attached, unknown recipients relayed to ${relayHost}`);
  },
};
