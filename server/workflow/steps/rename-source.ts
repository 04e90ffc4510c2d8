import { crashpoint } from '../../crashpoint.ts';
import { CutoverError } from '../../errors.ts';
import { closeQuietly } from '../../mail/imap.ts';
import { openImapWithinCap } from '../../mail/host-slots.ts';
import { sourceEndpointFor } from '../endpoints.ts';
import { RENAME_STEP, renameDecision } from '../situation.ts';
import { done, manual, type Step, type StepContext } from '../types.ts';
import { generatePassword } from '../../services/passwords.ts';

async function assertLoginAs(ctx: StepContext, address: string): Promise<void> {
  await closeQuietly(await openImapWithinCap(await sourceEndpointFor(ctx, address), ctx.log));
}

export const renameSource: Step = {
  id: RENAME_STEP,
  level: 'mailbox',
  title: 'Rename the old account to its temporary address',
  async run(ctx) {
    const { address, temp_address: temp } = ctx.mailbox;
    const decision = await renameDecision(ctx);
    if (!decision.needed) return done(`skipped: ${decision.reason}`);
    if (!temp) throw new CutoverError('INTERNAL', { detail: 'no temporary address chosen; run preflight again' });
    if (!ctx.source.capabilities.renameAccount) {
      return manual(`${decision.reason}. The source platform cannot rename accounts: there, rename ${address} to ${temp}, keeping its mail and its password, then press Done on this mailbox's page (or run: cutover confirm ${address}).`);
    }
    const renamedBefore = (await ctx.source.getAccount(temp)) !== null;
    if (!renamedBefore) {
      await ctx.source.renameAccount(address, temp);
      crashpoint('rename:after');
    }
    const ownPassword = await setOwnPassword(ctx, temp, renamedBefore);
    await assertLoginAs(ctx, temp);
    return done(`${renamedBefore ? `already renamed to ${temp}` : `renamed to ${temp}`}${ownPassword ? '; a generated password was set on it for the copy' : ''}`);
  },
};

/**
 * Without a master user the copy must log in as the renamed account: it gets a generated
 * password (sealed first, then set, so a crash in between only means setting a new one), and the
 * user's own password is no longer needed. Skipped when the stored password already works.
 */
async function setOwnPassword(ctx: StepContext, temp: string, renamedBefore: boolean): Promise<boolean> {
  if (ctx.source.capabilities.masterUser || !ctx.source.setPassword) return false;
  if (renamedBefore && ctx.mailbox.source_password_sealed && await canLoginAs(ctx, temp)) return false;
  const password = generatePassword();
  await ctx.save({ source_password_sealed: ctx.box.seal(password) });
  crashpoint('rename:password-sealed');
  await ctx.source.setPassword(temp, password);
  return true;
}

async function canLoginAs(ctx: StepContext, address: string): Promise<boolean> {
  try {
    await assertLoginAs(ctx, address);
    return true;
  } catch (err) {
    if (err instanceof CutoverError && err.code === 'AUTH_FAILED') return false;
    throw err;
  }
}
