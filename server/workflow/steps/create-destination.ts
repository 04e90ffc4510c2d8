import { crashpoint } from '../../crashpoint.ts';
import { CutoverError } from '../../errors.ts';
import { closeQuietly, openImap } from '../../mail/imap.ts';
import { destEndpoint } from '../endpoints.ts';
import { done, manual, type Step } from '../types.ts';

export const createDestination: Step = {
  id: 'create-destination',
  level: 'mailbox',
  title: 'Create the account on the destination',
  async run(ctx) {
    const { address } = ctx.mailbox;
    if (!ctx.dest.capabilities.createAccount) return manual(`On the destination platform, create ${address} with the password shown on the mailbox page, then confirm.`);
    const existing = await ctx.dest.getAccount(address);
    if (existing && !ctx.mailbox.dest_create_intent) throw new CutoverError('DEST_ADDRESS_TAKEN', { address, platform: 'destination' });
    if (!existing) {
      // Intent first: after a crash between these two writes, an account found at this
      // address is known to be ours, not someone else's.
      await ctx.save({ dest_create_intent: true });
      crashpoint('create:before');
      const preflight = ctx.mailbox.preflight ? JSON.parse(ctx.mailbox.preflight) as { destLimitBytes: number | null } : null;
      const source = await ctx.source.getAccount(ctx.mailbox.temp_address ?? address) ?? await ctx.source.getAccount(address);
      await ctx.dest.createAccount({ address, password: ctx.box.open(ctx.mailbox.dest_password_sealed!), quotaBytes: source?.quotaBytes ?? preflight?.destLimitBytes ?? null });
      crashpoint('create:after');
    }
    await closeQuietly(await openImap(await destEndpoint(ctx), ctx.log));
    return done(existing ? `${address} already exists (created by this migration)` : `${address} created`);
  },
};
