import { CutoverError, formatBytes } from '../../errors.ts';
import { closeQuietly } from '../../mail/imap.ts';
import { openImapWithinCap } from '../../mail/host-slots.ts';
import { listFolders } from '../../mail/listing.ts';
import type { NotMigratedItem } from '../../plugins/contract.ts';
import { currentSourceAddress, sourceEndpointFor } from '../endpoints.ts';
import { renameDecision } from '../situation.ts';
import { freeTempAddress, tempAddressFor } from '../temp-address.ts';
import { fromFiles } from '../file-source.ts';
import { done, type Step, type StepContext } from '../types.ts';

const CAPABILITIES = ['UIDPLUS', 'CONDSTORE', 'QRESYNC', 'SPECIAL-USE', 'NAMESPACE', 'APPENDLIMIT', 'MOVE', 'COMPRESS=DEFLATE', 'LITERAL+', 'MULTIAPPEND'];

export interface PreflightReport {
  verdict: 'pass' | 'warn';
  sourceAddress: string;
  capabilities: Record<string, boolean>;
  /** Per folder; `delimiter` and `specialUse` (announced by the server) let the pages show the folder plan before the copy makes it. */
  folders: Array<{ path: string; messages: number; bytes: number; delimiter?: string; specialUse?: string }>;
  /** The source's personal namespace (absent in reports made before it was recorded). */
  namespace?: { prefix: string; delimiter: string };
  totalMessages: number;
  totalBytes: number;
  destLimitBytes: number | null;
  /** Space the source platform reports as used, where it does (it can exceed what IMAP shows). */
  usedBytes?: number | null;
  /** What the source says will not move (aliases, delegations, groups, external contacts, footers…). */
  notMigrated?: NotMigratedItem[];
  warnings: string[];
}

async function ensureTempAddress(ctx: StepContext): Promise<string> {
  if (ctx.mailbox.temp_address) return ctx.mailbox.temp_address;
  // A source that cannot look accounts up gets the first candidate: the admin renames by hand and sees a clash.
  const temp = !ctx.source.capabilities.listAccounts && !ctx.source.capabilities.masterUser
    ? tempAddressFor(ctx.options.tempPattern, ctx.mailbox.address, 1)
    : await freeTempAddress(ctx.options.tempPattern, ctx.mailbox.address, async (candidate) => (await ctx.source.getAccount(candidate)) !== null);
  await ctx.save({ temp_address: temp });
  return temp;
}

async function inspectSource(ctx: StepContext, sourceAddress: string) {
  const client = await openImapWithinCap(await sourceEndpointFor(ctx, sourceAddress), ctx.log);
  try {
    const capabilities = Object.fromEntries(CAPABILITIES.map((cap) => [cap, client.capabilities.has(cap)]));
    const listed = await listFolders(client, { messages: true, size: true });
    const folders = listed
      .filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'))
      .map((f) => ({
        path: f.path, messages: f.status?.messages ?? 0, bytes: Number(f.status?.size ?? 0), delimiter: f.delimiter,
        ...(f.specialUse && f.specialUseSource !== 'name' && { specialUse: f.specialUse }),
      }));
    const ns = client.namespace as { prefix?: string; delimiter?: string } | undefined;
    const namespace = { prefix: ns?.prefix ?? '', delimiter: ns?.delimiter ?? listed[0]?.delimiter ?? '/' };
    return { capabilities, folders, namespace };
  } finally {
    await closeQuietly(client);
  }
}

/**
 * On platforms with pre-ordered accounts (OVHcloud's @configureme.me slots), every mailbox of
 * the project still to be created needs one: stop before anything is renamed, saying how many
 * to order.
 */
async function ensureAccountSlots(ctx: StepContext): Promise<void> {
  if (!ctx.dest.freeAccountSlots) return;
  const free = await ctx.dest.freeAccountSlots(ctx.domain.name);
  if (free === null) return;
  const row = await ctx.db('mailboxes').where({ project_id: ctx.project.id }).whereNot('state', 'stopped')
    .andWhere((q) => q.where('dest_create_intent', false).orWhereNull('dest_create_intent')).count({ n: '*' }).first();
  const needed = Math.max(1, Number(row?.n ?? 1));
  if (free < needed) {
    throw new CutoverError('ACCOUNT_SLOTS_MISSING', { platform: 'destination', address: ctx.mailbox.address, missing: needed - free, free, needed });
  }
}

function describeNotMigrated(items: NotMigratedItem[]): string {
  const byKind = new Map<string, string[]>();
  for (const item of items) byKind.set(item.kind, [...(byKind.get(item.kind) ?? []), item.name]);
  return [...byKind].map(([kind, names]) => `${kind} ${names.join(', ')}`).join('; ');
}

export const preflight: Step = {
  id: 'preflight',
  level: 'mailbox',
  title: 'Preflight',
  async run(ctx) {
    const domain = ctx.domain.name;
    if (!(await ctx.source.domainExists(domain))) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: 'source' });
    const sourceAddress = await currentSourceAddress(ctx);
    if ((await renameDecision(ctx)).needed) await ensureTempAddress(ctx);
    const existing = await ctx.dest.getAccount(ctx.mailbox.address);
    // A destination that cannot create accounts holds them already: there, finding it is the point.
    if (existing && !ctx.mailbox.dest_create_intent && ctx.dest.capabilities.createAccount) throw new CutoverError('DEST_ADDRESS_TAKEN', { address: ctx.mailbox.address, platform: 'destination' });

    // A file import has no server to look at: its files are checked when uploaded.
    const { capabilities, folders, namespace } = fromFiles(ctx) ? { capabilities: {} as Record<string, boolean>, folders: [], namespace: undefined } : await inspectSource(ctx, sourceAddress);
    const totalMessages = folders.reduce((n, f) => n + f.messages, 0);
    const totalBytes = folders.reduce((n, f) => n + f.bytes, 0);
    const sourceAccount = await ctx.source.getAccount(sourceAddress);
    const sourceQuota = sourceAccount?.quotaBytes ?? null;
    const usedBytes = sourceAccount?.usedBytes ?? null;
    const apiLimit = ctx.dest.mailboxLimitBytes ? await ctx.dest.mailboxLimitBytes(ctx.mailbox.address) : null;
    const limits = [ctx.dest.capabilities.maxMailboxBytes, existing?.quotaBytes ?? sourceQuota, apiLimit].filter((l): l is number => typeof l === 'number' && l > 0);
    const destLimitBytes = limits.length ? Math.min(...limits) : null;
    // The platform's own figure counts what IMAP does not show (calendars, contacts on Exchange).
    const needBytes = Math.max(totalBytes, usedBytes ?? 0);
    if (destLimitBytes !== null && needBytes > destLimitBytes) {
      throw new CutoverError('QUOTA_TOO_SMALL', { need: formatBytes(needBytes), allowed: formatBytes(destLimitBytes) });
    }
    if (!existing && !ctx.mailbox.dest_create_intent) await ensureAccountSlots(ctx);
    const notMigrated = ctx.source.notMigrated ? await ctx.source.notMigrated(sourceAddress) : [];
    const warnings: string[] = [];
    if (!fromFiles(ctx) && !capabilities.UIDPLUS) warnings.push('The source lacks UIDPLUS; this does not slow the copy but the server is old.');
    if (destLimitBytes !== null && needBytes > destLimitBytes * 0.9) warnings.push(`The mailbox uses ${formatBytes(needBytes)} of the ${formatBytes(destLimitBytes)} the destination allows.`);
    if (notMigrated.length) warnings.push(`Not migrated with the mail (recreate by hand; aliases are recreated where the destination allows): ${describeNotMigrated(notMigrated)}.`);
    const report: PreflightReport = { verdict: warnings.length ? 'warn' : 'pass', sourceAddress, capabilities, folders, namespace, totalMessages, totalBytes, destLimitBytes, usedBytes, notMigrated, warnings };
    await ctx.save({ preflight: JSON.stringify(report) });
    return done(`${report.verdict}: ${totalMessages} messages, ${formatBytes(totalBytes)} in ${folders.length} folders`);
  },
};
