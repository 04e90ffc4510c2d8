import type { ImapFlow } from 'imapflow';
import { withPair } from '../mail/imap.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { CutoverError } from '../errors.ts';
import type { StepContext } from './types.ts';

/** The address the old account answers to now: the temporary one once rename-source has run. */
export async function currentSourceAddress(ctx: StepContext): Promise<string> {
  const { mailbox, source } = ctx;
  if (mailbox.temp_address && await source.getAccount(mailbox.temp_address)) return mailbox.temp_address;
  if (await source.getAccount(mailbox.address)) return mailbox.address;
  throw new CutoverError('SOURCE_ACCOUNT_MISSING', { address: mailbox.address, platform: 'source' });
}

export async function sourceEndpoint(ctx: StepContext): Promise<ImapEndpoint> {
  const password = ctx.mailbox.source_password_sealed ? ctx.box.open(ctx.mailbox.source_password_sealed) : undefined;
  return ctx.source.imapEndpoint(await currentSourceAddress(ctx), password);
}

export async function destEndpoint(ctx: StepContext): Promise<ImapEndpoint> {
  const password = ctx.mailbox.dest_password_sealed ? ctx.box.open(ctx.mailbox.dest_password_sealed) : undefined;
  return ctx.dest.imapEndpoint(ctx.mailbox.address, password);
}

/** Runs `work` with a connection to each side of the migration, both closed afterwards whatever happens. */
export async function withBothSides<T>(ctx: StepContext, work: (source: ImapFlow, dest: ImapFlow) => Promise<T>): Promise<T> {
  return withPair(await sourceEndpoint(ctx), await destEndpoint(ctx), ctx.log, work);
}
