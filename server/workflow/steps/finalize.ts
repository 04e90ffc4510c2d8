import { releaseRelayWhenDomainDone } from '../relay-release.ts';
import { fromFiles } from '../file-source.ts';
import { done, type Step, type StepContext } from '../types.ts';
import type { PreflightReport } from './preflight.ts';
import type { VerifyResult } from './verify.ts';

export const finalize: Step = {
  id: 'finalize',
  level: 'mailbox',
  title: 'Finalize',
  async run(ctx) {
    const { temp_address: temp } = ctx.mailbox;
    const reminder = leftBehind(ctx) + await releaseRelayWhenDomainDone(ctx, finalize.id);
    if (fromFiles(ctx)) return done(`finished; the mail came from uploaded files, there is no old account${reminder}`);
    if (!ctx.options.resetSource) return done('finished; the old account is kept' + (temp ? ` as ${temp}` : '') + reminder);
    // Without a rename the old account still has the original address, on its own platform.
    const old = temp ?? ctx.mailbox.address;
    if (!ctx.source.capabilities.resetAccount) return done(`finished; reset skipped: the source platform cannot reset accounts, so ${old} is kept there (delete it by hand once its users have moved)${reminder}`);
    const verified = ctx.mailbox.verify_result ? (JSON.parse(ctx.mailbox.verify_result) as VerifyResult).clean : false;
    // Guardrail: the source is only ever reset after a clean verify and a closed overlap window (this step runs after both).
    if (!verified) return done(`finished; ${old} NOT reset because verify was not clean${reminder}`);
    if (await ctx.source.getAccount(old)) await ctx.source.resetAccount(old);
    return done(`finished; old account ${old} reset${reminder}`);
  },
};

/** What preflight found that does not move with the mail (aliases are handled by create-destination). */
function leftBehind(ctx: StepContext): string {
  const report = ctx.mailbox.preflight ? JSON.parse(ctx.mailbox.preflight) as PreflightReport : null;
  const items = (report?.notMigrated ?? []).filter((i) => i.kind !== 'alias');
  return items.length ? `; still to recreate by hand on the destination: ${items.map((i) => `${i.kind} ${i.name}`).join(', ')}` : '';
}
