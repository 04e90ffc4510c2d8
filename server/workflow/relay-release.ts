import type { StepContext } from './types.ts';

/**
 * Removes the destination's relay for the mailbox's domain once no mailbox of that domain, in
 * any project towards the same destination, is short of the last step: from then on every
 * address of the domain lives on the destination. Two mailboxes finishing at once both find
 * the other at the last step and both remove it, which is harmless (detachRelay is idempotent);
 * a stopped or failed mailbox short of it keeps the relay, since its address may still be on
 * the old host only. Returns a note for the step's message.
 */
export async function releaseRelayWhenDomainDone(ctx: StepContext, lastStep: string): Promise<string> {
  if (!ctx.dest.detachRelay) return '';
  const domain = ctx.domain.name;
  const unfinished = await ctx.db('mailboxes as m')
    .join('domains as d', 'd.id', 'm.domain_id')
    .join('projects as p', 'p.id', 'm.project_id')
    .where('d.name', domain).andWhere('p.dest_platform_id', ctx.project.dest_platform_id).andWhereNot('m.step', lastStep)
    .count({ n: '*' }).first();
  const waitingOn = Number(unfinished?.n ?? 0);
  if (waitingOn > 0) return `; ${domain} is still relayed to the old host for ${waitingOn} mailbox(es) not finished`;
  const { removed } = await ctx.dest.detachRelay(domain);
  return removed ? `; ${domain} no longer relayed to the old host` : '';
}
