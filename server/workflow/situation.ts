import { platformById } from '../db/repos/platforms.ts';
import { platformLabel } from '../db/repos/projects.ts';
import type { StepContext } from './types.ts';

/**
 * What the two platforms of a migration are to each other, decided from their capabilities and
 * configuration, never from plugin names: the steps that depend on it (preflight, rename-source)
 * ask here, and record the reason in the timeline.
 */
/** The rename step's id, here so that the endpoints can read its history without importing the step. */
export const RENAME_STEP = 'rename-source';

export interface RenameDecision { needed: boolean; reason: string }

async function names(ctx: StepContext): Promise<{ source: string; dest: string }> {
  if (ctx.platformLabels) return ctx.platformLabels;
  const [source, dest] = await Promise.all([platformById(ctx.db, ctx.project.source_platform_id), platformById(ctx.db, ctx.project.dest_platform_id)]);
  return { source: platformLabel(source), dest: platformLabel(dest) };
}

/** A platform that manages its accounts (an API or a database), as opposed to a server that only lets users log in. */
function provisionsAccounts(platform: StepContext['source']): boolean {
  const c = platform.capabilities;
  return c.listAccounts || c.createAccount || c.renameAccount;
}

/**
 * The old account must leave its address only when both platforms would claim it:
 * 1. they hold the same accounts (same IMAP server, or the same provider: one address, one
 *    account), so the new account cannot exist while the old one has the address;
 * 2. both manage the domain's accounts themselves (the source lists or renames them, the
 *    destination attaches the domain and creates accounts): the hosted-platform checklist
 *    (OVHcloud's guide) moves the old account aside so that only the new platform answers for
 *    the address; a source that cannot rename (the legacy MX Plan) gets it as a manual step.
 * Otherwise (Gmail → a hoster, an IMAP host → another) each side keeps its own account during
 * the overlap, and nothing is renamed.
 */
export async function renameDecision(ctx: StepContext): Promise<RenameDecision> {
  const { source, dest } = ctx;
  const who = await names(ctx);
  const address = ctx.mailbox.address;
  if (source.capabilities.mailFromFiles) return { needed: false, reason: `${who.source} → ${who.dest}: the mail comes from uploaded files, there is no old account to rename` };
  const realm = source.accountRealm?.();
  if (realm && realm === dest.accountRealm?.()) {
    return { needed: true, reason: `${who.source} and ${who.dest} hold the same accounts (${realm}): ${address} must leave the address before the destination can take it` };
  }
  if (provisionsAccounts(source) && dest.capabilities.attachDomain && dest.capabilities.createAccount) {
    return { needed: true, reason: `${who.source} and ${who.dest} both provision the accounts of ${ctx.domain.name}: the old account moves to a temporary address so only the destination answers for ${address}` };
  }
  return { needed: false, reason: `${who.source} → ${who.dest}: no rename needed, each keeps its own ${address} during the overlap` };
}

/** The source login of a mailbox when it logs in under its original address (a CSV's source_login). */
export function sourceLogin(ctx: StepContext, address: string): string | undefined {
  if (address !== ctx.mailbox.address || !ctx.mailbox.source_login_sealed) return undefined;
  return ctx.box.open(ctx.mailbox.source_login_sealed);
}

export function destLogin(ctx: StepContext): string | undefined {
  return ctx.mailbox.dest_login_sealed ? ctx.box.open(ctx.mailbox.dest_login_sealed) : undefined;
}
