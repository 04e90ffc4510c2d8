import { crashpoint } from '../../crashpoint.ts';
import { CutoverError } from '../../errors.ts';
import { closeQuietly } from '../../mail/imap.ts';
import { openImapWithinCap } from '../../mail/host-slots.ts';
import { generatePassword, meetsPasswordPolicy } from '../../services/passwords.ts';
import { destEndpoint } from '../endpoints.ts';
import { destLogin } from '../situation.ts';
import { done, manual, type Step, type StepContext, type StepOutcome } from '../types.ts';
import type { PreflightReport } from './preflight.ts';

export const createDestination: Step = {
  id: 'create-destination',
  level: 'mailbox',
  title: 'Create the account on the destination',
  async run(ctx) {
    const { address } = ctx.mailbox;
    if (!ctx.dest.capabilities.createAccount) return existingDestination(ctx);
    const existing = await ctx.dest.getAccount(address);
    if (existing && !ctx.mailbox.dest_create_intent) throw new CutoverError('DEST_ADDRESS_TAKEN', { address, platform: 'destination' });
    if (!existing) {
      // Intent first: after a crash between these two writes, an account found at this
      // address is known to be ours, not someone else's.
      await ensureComplexPassword(ctx);
      await ctx.save({ dest_create_intent: true });
      crashpoint('create:before');
      const preflight = ctx.mailbox.preflight ? JSON.parse(ctx.mailbox.preflight) as { destLimitBytes: number | null } : null;
      const source = await ctx.source.getAccount(ctx.mailbox.temp_address ?? address) ?? await ctx.source.getAccount(address);
      await ctx.dest.createAccount({ address, password: ctx.box.open(ctx.mailbox.dest_password_sealed!), quotaBytes: source?.quotaBytes ?? preflight?.destLimitBytes ?? null });
      crashpoint('create:after');
    }
    await assertDestLogin(ctx, Boolean(existing));
    const aliases = await recreateAliases(ctx);
    return done(`${existing ? `${address} already exists (created by this migration)` : `${address} created`}${aliases}`);
  },
};

/**
 * A destination that cannot create accounts (an IMAP server, a provider): an account that already
 * exists and logs in needs nothing; otherwise the admin creates it by hand.
 */
async function existingDestination(ctx: StepContext): Promise<StepOutcome> {
  const { address } = ctx.mailbox;
  const login = destLogin(ctx);
  try {
    await closeQuietly(await openImapWithinCap(await destEndpoint(ctx), ctx.log));
    return done(`skipped: ${address} already exists on the destination and logs in${login ? ` as ${login}` : ''}`);
  } catch (err) {
    if (!(err instanceof CutoverError) || err.code !== 'AUTH_FAILED') throw err;
  }
  const password = ctx.dest.capabilities.masterUser
    ? 'any password (cutover logs in with the platform\'s admin login)'
    : 'the destination password given for it in the import';
  return manual(`The destination platform cannot create accounts and ${login ?? address} does not log in there yet: create ${address}${login ? ` with the login ${login}` : ''} and ${password}, then press Done on this mailbox's page (or run: cutover confirm ${address}).`);
}

/** A generated destination password not yet shown to anyone is replaced by one the platform's policy accepts. */
async function ensureComplexPassword(ctx: StepContext): Promise<void> {
  const { dest_password_generated: generated, dest_password_reported: reported, dest_password_sealed: sealed } = ctx.mailbox;
  if (!generated || reported || !sealed) return;
  const current = ctx.box.open(sealed);
  if (meetsPasswordPolicy(current)) return;
  await ctx.save({ dest_password_sealed: ctx.box.seal(generatePassword()) });
}

/**
 * Logs in with the password cutover holds. An account found from an interrupted run may not
 * have it yet (its password is set after the account itself on some platforms): set it again.
 */
async function assertDestLogin(ctx: StepContext, foundExisting: boolean): Promise<void> {
  try {
    await closeQuietly(await openImapWithinCap(await destEndpoint(ctx), ctx.log));
  } catch (err) {
    if (!(foundExisting && ctx.dest.setPassword && err instanceof CutoverError && err.code === 'AUTH_FAILED')) throw err;
    await ctx.dest.setPassword(ctx.mailbox.address, ctx.box.open(ctx.mailbox.dest_password_sealed!));
    await closeQuietly(await openImapWithinCap(await destEndpoint(ctx), ctx.log));
  }
}

/**
 * Aliases do not move with the mailbox (the guide): where the destination's API can, they are
 * recreated on the new account, from the list preflight read. The source keeps its own until it
 * is reset, like the primary address, so mail reaches whichever platform the MX points to.
 */
async function recreateAliases(ctx: StepContext): Promise<string> {
  const report = ctx.mailbox.preflight ? JSON.parse(ctx.mailbox.preflight) as PreflightReport : null;
  const aliases = (report?.notMigrated ?? []).filter((i) => i.kind === 'alias').map((i) => i.name);
  if (!aliases.length) return '';
  if (!ctx.dest.addAlias) return `; aliases to recreate by hand: ${aliases.join(', ')}`;
  const added: string[] = [];
  const refused: string[] = [];
  for (const alias of aliases) {
    try {
      await ctx.dest.addAlias(ctx.mailbox.address, alias);
      added.push(alias);
    } catch (err) {
      const e = err as CutoverError;
      if (e.retryable) throw err;
      refused.push(`${alias} (${e.message})`);
    }
  }
  return `${added.length ? `; aliases recreated: ${added.join(', ')}` : ''}${refused.length ? `; aliases to recreate by hand: ${refused.join('; ')}` : ''}`;
}
