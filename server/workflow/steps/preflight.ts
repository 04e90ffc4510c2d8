import { CutoverError, formatBytes } from '../../errors.ts';
import { closeQuietly, openImap } from '../../mail/imap.ts';
import { currentSourceAddress } from '../endpoints.ts';
import { freeTempAddress } from '../temp-address.ts';
import { done, type Step, type StepContext } from '../types.ts';

const CAPABILITIES = ['UIDPLUS', 'CONDSTORE', 'QRESYNC', 'SPECIAL-USE', 'NAMESPACE', 'APPENDLIMIT', 'MOVE', 'COMPRESS=DEFLATE', 'LITERAL+', 'MULTIAPPEND'];

export interface PreflightReport {
  verdict: 'pass' | 'warn';
  sourceAddress: string;
  capabilities: Record<string, boolean>;
  folders: Array<{ path: string; messages: number; bytes: number }>;
  totalMessages: number;
  totalBytes: number;
  destLimitBytes: number | null;
  warnings: string[];
}

async function ensureTempAddress(ctx: StepContext): Promise<string> {
  if (ctx.mailbox.temp_address) return ctx.mailbox.temp_address;
  const temp = await freeTempAddress(ctx.options.tempPattern, ctx.mailbox.address, async (candidate) => (await ctx.source.getAccount(candidate)) !== null);
  await ctx.save({ temp_address: temp });
  return temp;
}

async function inspectSource(ctx: StepContext, sourceAddress: string) {
  const password = ctx.mailbox.source_password_sealed ? ctx.box.open(ctx.mailbox.source_password_sealed) : undefined;
  const client = await openImap(await ctx.source.imapEndpoint(sourceAddress, password), ctx.log);
  try {
    const capabilities = Object.fromEntries(CAPABILITIES.map((cap) => [cap, client.capabilities.has(cap)]));
    const listed = await client.list({ statusQuery: { messages: true, size: true } });
    const folders = listed
      .filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'))
      .map((f) => ({ path: f.path, messages: f.status?.messages ?? 0, bytes: Number(f.status?.size ?? 0) }));
    return { capabilities, folders };
  } finally {
    await closeQuietly(client);
  }
}

export const preflight: Step = {
  id: 'preflight',
  level: 'mailbox',
  title: 'Preflight',
  async run(ctx) {
    const domain = ctx.domain.name;
    if (!(await ctx.source.domainExists(domain))) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: 'source' });
    const sourceAddress = await currentSourceAddress(ctx);
    await ensureTempAddress(ctx);
    const existing = await ctx.dest.getAccount(ctx.mailbox.address);
    if (existing && !ctx.mailbox.dest_create_intent) throw new CutoverError('DEST_ADDRESS_TAKEN', { address: ctx.mailbox.address, platform: 'destination' });

    const { capabilities, folders } = await inspectSource(ctx, sourceAddress);
    const totalMessages = folders.reduce((n, f) => n + f.messages, 0);
    const totalBytes = folders.reduce((n, f) => n + f.bytes, 0);
    const sourceQuota = (await ctx.source.getAccount(sourceAddress))?.quotaBytes ?? null;
    const limits = [ctx.dest.capabilities.maxMailboxBytes, existing?.quotaBytes ?? sourceQuota].filter((l): l is number => typeof l === 'number' && l > 0);
    const destLimitBytes = limits.length ? Math.min(...limits) : null;
    if (destLimitBytes !== null && totalBytes > destLimitBytes) {
      throw new CutoverError('QUOTA_TOO_SMALL', { need: formatBytes(totalBytes), allowed: formatBytes(destLimitBytes) });
    }
    const warnings: string[] = [];
    if (!capabilities.UIDPLUS) warnings.push('The source lacks UIDPLUS; this does not slow the copy but the server is old.');
    if (destLimitBytes !== null && totalBytes > destLimitBytes * 0.9) warnings.push(`The mailbox uses ${formatBytes(totalBytes)} of the ${formatBytes(destLimitBytes)} the destination allows.`);
    const report: PreflightReport = { verdict: warnings.length ? 'warn' : 'pass', sourceAddress, capabilities, folders, totalMessages, totalBytes, destLimitBytes, warnings };
    await ctx.save({ preflight: JSON.stringify(report) });
    return done(`${report.verdict}: ${totalMessages} messages, ${formatBytes(totalBytes)} in ${folders.length} folders`);
  },
};
