import { done, type Step } from '../types.ts';
import type { VerifyResult } from './verify.ts';

export const finalize: Step = {
  id: 'finalize',
  level: 'mailbox',
  title: 'Finalize',
  async run(ctx) {
    const { temp_address: temp } = ctx.mailbox;
    if (!ctx.options.resetSource || !temp) return done('finished; the old account is kept' + (temp ? ` as ${temp}` : ''));
    const verified = ctx.mailbox.verify_result ? (JSON.parse(ctx.mailbox.verify_result) as VerifyResult).clean : false;
    // Guardrail: the source is only ever reset after a clean verify and a closed overlap window (this step runs after both).
    if (!verified) return done(`finished; ${temp} NOT reset because verify was not clean`);
    if (await ctx.source.getAccount(temp)) await ctx.source.resetAccount(temp);
    return done(`finished; old account ${temp} reset`);
  },
};
