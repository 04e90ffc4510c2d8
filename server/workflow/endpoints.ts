import type { ImapFlow } from 'imapflow';
import { closeQuietly } from '../mail/imap.ts';
import { openImapWithinCap } from '../mail/host-slots.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { CutoverError } from '../errors.ts';
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

/** The address the old account answers to now: the temporary one once rename-source has run. */
export async function currentSourceAddress(ctx: StepContext): Promise<string> {
  const { mailbox, source } = ctx;
  if (mailbox.temp_address && await source.getAccount(mailbox.temp_address)) return mailbox.temp_address;
  if (await source.getAccount(mailbox.address)) return mailbox.address;
  throw new CutoverError('SOURCE_ACCOUNT_MISSING', { address: mailbox.address, platform: 'source' });
}

/** Makes the source platform's connection limit known for an endpoint a step obtained itself. */
export async function sourceWithinCap(ctx: StepContext, endpoint: ImapEndpoint): Promise<ImapEndpoint> {
  noteHostLimit(endpoint, await platformConnectionLimit(ctx, ctx.project.source_platform_id));
  return endpoint;
}

export async function sourceEndpoint(ctx: StepContext): Promise<ImapEndpoint> {
  const password = ctx.mailbox.source_password_sealed ? ctx.box.open(ctx.mailbox.source_password_sealed) : undefined;
  const endpoint = await ctx.source.imapEndpoint(await currentSourceAddress(ctx), password);
  noteHostLimit(endpoint, await platformConnectionLimit(ctx, ctx.project.source_platform_id));
  return endpoint;
}

export async function destEndpoint(ctx: StepContext): Promise<ImapEndpoint> {
  const password = ctx.mailbox.dest_password_sealed ? ctx.box.open(ctx.mailbox.dest_password_sealed) : undefined;
  const endpoint = await ctx.dest.imapEndpoint(ctx.mailbox.address, password);
  noteHostLimit(endpoint, await platformConnectionLimit(ctx, ctx.project.dest_platform_id));
  return endpoint;
}

/** Runs `work` with a connection to each side of the migration (within the hosts' caps), both closed afterwards whatever happens. */
export async function withBothSides<T>(ctx: StepContext, work: (source: ImapFlow, dest: ImapFlow) => Promise<T>): Promise<T> {
  const [sourceAt, destAt] = [await sourceEndpoint(ctx), await destEndpoint(ctx)];
  const source = await openImapWithinCap(sourceAt, ctx.log);
  try {
    const dest = await openImapWithinCap(destAt, ctx.log);
    try {
      return await work(source, dest);
    } finally {
      await closeQuietly(dest);
    }
  } finally {
    await closeQuietly(source);
  }
}
