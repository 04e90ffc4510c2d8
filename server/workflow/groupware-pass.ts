import { ServerResolver } from '../dns/resolver.ts';
import { systemNameServers } from '../dns/transport.ts';
import { copyGroupware, type GroupwareReport } from '../groupware/index.ts';
import { dbGroupwareLedger } from '../groupware/ledger.ts';
import type { PlatformConnector } from '../plugins/contract.ts';
import { currentSourceAddress } from './endpoints.ts';
import type { StepContext } from './types.ts';

/**
 * The DAV account is looked up under `davAddress`, the Sieve one under `mailAddress`: renaming the
 * old mail account (rename-source) moves its home, where Pigeonhole keeps the scripts, but not the
 * account of a DAV server beside it (Radicale, SOGo, Nextcloud keep their own users).
 */
async function sideFor(platform: PlatformConnector, mailAddress: string, davAddress: string, password: string | undefined) {
  const [dav, sieve] = await Promise.all([platform.davEndpoint?.(davAddress, password) ?? null, platform.sieveEndpoint?.(mailAddress, password) ?? null]);
  return { dav, sieve, domain: davAddress.slice(davAddress.lastIndexOf('@') + 1) };
}

/** The mailbox's own plan: `collections` in its folder-plan override lists collections left out. */
function mailboxExclusions(ctx: StepContext): string[] {
  const raw = (ctx.mailbox as { folder_plan_override?: string | null }).folder_plan_override;
  if (!raw) return [];
  const parsed = JSON.parse(raw) as { collections?: unknown };
  return Array.isArray(parsed.collections) ? parsed.collections.filter((c): c is string => typeof c === 'string') : [];
}

/**
 * One groupware pass for a mailbox (the first copy, then each delta): contacts, calendars, tasks
 * and filters that both platforms offer, minus what the project options or the mailbox's plan leave out.
 */
export async function groupwarePass(ctx: StepContext): Promise<GroupwareReport> {
  const sourcePassword = ctx.mailbox.source_password_sealed ? ctx.box.open(ctx.mailbox.source_password_sealed) : undefined;
  const destPassword = ctx.mailbox.dest_password_sealed ? ctx.box.open(ctx.mailbox.dest_password_sealed) : undefined;
  const [source, dest] = await Promise.all([
    sideFor(ctx.source, await currentSourceAddress(ctx), ctx.mailbox.address, sourcePassword),
    sideFor(ctx.dest, ctx.mailbox.address, ctx.mailbox.address, destPassword),
  ]);
  let resolver: ServerResolver | undefined;
  const left = new Set([...ctx.options.excludeCollections, ...mailboxExclusions(ctx)]);
  return copyGroupware({
    source, dest, wanted: ctx.options.groupware, ledger: dbGroupwareLedger(ctx.db, ctx.mailbox.id), pass: Math.max(1, ctx.mailbox.sync_passes),
    excluded: (c) => (left.has(c.href) || left.has(c.name) ? 'left out in the migration plan' : undefined),
    // Only asked when a platform gives a DAV endpoint without a URL (RFC 6764 SRV discovery).
    lookup: { lookup: (name, type) => (resolver ??= new ServerResolver(systemNameServers())).lookup(name, type) },
  });
}
