import type { StepContext } from './types.ts';

const NAMED_AT_MOST = 5;

/**
 * Removes the destination's relay for the mailbox's domain once every address of the domain
 * lives on the destination:
 * - no mailbox of that domain, in any project towards the same destination, is short of the last
 *   step. Two mailboxes finishing at once both find the other at the last step and both remove
 *   the relay, which is harmless (detachRelay is idempotent); a stopped or failed mailbox short
 *   of it keeps the relay, since its address may still be on the old host only;
 * - where the source can list its accounts, it holds none of the domain that no migration covers
 *   (a project imported from a file may leave accounts behind, and their mail still comes in
 *   through the new MX).
 * Returns a note for the step's message.
 */
export async function releaseRelayWhenDomainDone(ctx: StepContext, lastStep: string): Promise<string> {
  if (!ctx.dest.detachRelay) return '';
  const domain = ctx.domain.name;
  const ofDomain = () => ctx.db('mailboxes as m')
    .join('domains as d', 'd.id', 'm.domain_id')
    .join('projects as p', 'p.id', 'm.project_id')
    .where('d.name', domain).andWhere('p.dest_platform_id', ctx.project.dest_platform_id);
  const unfinished = Number((await ofDomain().andWhereNot('m.step', lastStep).count({ n: '*' }).first())?.n ?? 0);
  if (unfinished > 0) return `; ${domain} is still relayed to the old host for ${unfinished} mailbox(es) not finished`;
  if (ctx.source.capabilities.listAccounts) {
    const migrated = new Set((await ofDomain().select('m.address', 'm.temp_address') as Array<{ address: string; temp_address: string | null }>)
      .flatMap((row) => [row.address, row.temp_address]));
    const left = (await ctx.source.listAccounts(domain)).map((a) => a.address).filter((address) => !migrated.has(address));
    if (left.length > 0) {
      const named = left.slice(0, NAMED_AT_MOST).join(', ') + (left.length > NAMED_AT_MOST ? ', …' : '');
      return `; ${domain} is still relayed to the old host, which has ${left.length} account(s) no migration covers (${named})`;
    }
  }
  const { removed } = await ctx.dest.detachRelay(domain);
  return removed ? `; ${domain} no longer relayed to the old host` : '';
}
