import type { ImapFlow } from 'imapflow';
import { withPair } from '../mail/imap.ts';
import { openImapWithinCap } from '../mail/host-slots.ts';
import type { ImapEndpoint, PlatformConnector } from '../plugins/contract.ts';
import { CutoverError } from '../errors.ts';
import { destLogin, RENAME_STEP, sourceLogin } from './situation.ts';
import type { StepContext } from './types.ts';
import { noteHostLimit } from './host-gate.ts';

const LIMIT_TTL_MS = 5_000;
const platformLimits = new Map<number, { limit: number | null; at: number }>();

// The admin's per-host connection limit of a platform, read at most every few seconds per process.
async function platformConnectionLimit(ctx: StepContext, platformId: number): Promise<number | null> {
  const cached = platformLimits.get(platformId);
  if (cached && Date.now() - cached.at < LIMIT_TTL_MS) return cached.limit;
  const row = await ctx.db('platforms').where({ id: platformId }).first('max_connections');
  const limit = row?.max_connections ? Number(row.max_connections) : null;
  platformLimits.set(platformId, { limit, at: Date.now() });
  return limit;
}

/** A platform that can say whether an account exists: through its API, or by an admin login as the account. */
function canLookUpAccounts(platform: PlatformConnector): boolean {
  return platform.capabilities.listAccounts || platform.capabilities.masterUser;
}

/** Whether an admin confirmed the manual rename of this mailbox's old account. */
async function renamedByHand(ctx: StepContext): Promise<boolean> {
  return Boolean(await ctx.db('events').where({ mailbox_id: ctx.mailbox.id, step: RENAME_STEP, outcome: 'confirm' }).first());
}

/** The address the old account answers to now: the temporary one once rename-source has run. */
export async function currentSourceAddress(ctx: StepContext): Promise<string> {
  const { mailbox, source } = ctx;
  // Without a way to look accounts up, the row's history says where the account is; its login proves it.
  if (!canLookUpAccounts(source)) return mailbox.temp_address && await renamedByHand(ctx) ? mailbox.temp_address : mailbox.address;
  if (mailbox.temp_address && await source.getAccount(mailbox.temp_address)) return mailbox.temp_address;
  if (await source.getAccount(mailbox.address)) return mailbox.address;
  throw new CutoverError('SOURCE_ACCOUNT_MISSING', { address: mailbox.address, platform: 'source' });
}

/** The source account at `address` (within the host's cap), logging in with the row's own login and password where it has them. */
export async function sourceEndpointFor(ctx: StepContext, address: string): Promise<ImapEndpoint> {
  const password = ctx.mailbox.source_password_sealed ? ctx.box.open(ctx.mailbox.source_password_sealed) : undefined;
  const endpoint = await ctx.source.imapEndpoint(address, password, sourceLogin(ctx, address));
  noteHostLimit(endpoint, await platformConnectionLimit(ctx, ctx.project.source_platform_id));
  return endpoint;
}

export async function sourceEndpoint(ctx: StepContext): Promise<ImapEndpoint> {
  return sourceEndpointFor(ctx, await currentSourceAddress(ctx));
}

export async function destEndpoint(ctx: StepContext): Promise<ImapEndpoint> {
  const password = ctx.mailbox.dest_password_sealed ? ctx.box.open(ctx.mailbox.dest_password_sealed) : undefined;
  const endpoint = await ctx.dest.imapEndpoint(ctx.mailbox.address, password, destLogin(ctx));
  noteHostLimit(endpoint, await platformConnectionLimit(ctx, ctx.project.dest_platform_id));
  return endpoint;
}

/** Runs `work` with a connection to each side of the migration (within the hosts' caps), both closed afterwards whatever happens. */
export async function withBothSides<T>(ctx: StepContext, work: (source: ImapFlow, dest: ImapFlow) => Promise<T>): Promise<T> {
  return withPair(await sourceEndpoint(ctx), await destEndpoint(ctx), ctx.log, work, openImapWithinCap);
}
