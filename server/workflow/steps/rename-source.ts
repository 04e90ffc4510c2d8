import { crashpoint } from '../../crashpoint.ts';
import { CutoverError } from '../../errors.ts';
import { closeQuietly, openImap } from '../../mail/imap.ts';
import { done, manual, type Step, type StepContext } from '../types.ts';

async function assertLoginAs(ctx: StepContext, address: string): Promise<void> {
  const password = ctx.mailbox.source_password_sealed ? ctx.box.open(ctx.mailbox.source_password_sealed) : undefined;
  await closeQuietly(await openImap(await ctx.source.imapEndpoint(address, password), ctx.log));
}

export const renameSource: Step = {
  id: 'rename-source',
  level: 'mailbox',
  title: 'Rename the old account to its temporary address',
  async run(ctx) {
    const { address, temp_address: temp } = ctx.mailbox;
    if (!temp) throw new CutoverError('INTERNAL', { detail: 'no temporary address chosen; run preflight again' });
    if (!ctx.source.capabilities.renameAccount) {
      return manual(`On the source platform, rename ${address} to ${temp} (keep its mail and password), then confirm.`);
    }
    const renamedBefore = (await ctx.source.getAccount(temp)) !== null;
    if (!renamedBefore) {
      await ctx.source.renameAccount(address, temp);
      crashpoint('rename:after');
    }
    await assertLoginAs(ctx, temp);
    return done(renamedBefore ? `already renamed to ${temp}` : `renamed to ${temp}`);
  },
};
