// The DNS change of a cutover, made through a provider: lower the TTLs of the RRsets about to
// change (and wait for caches to forget the old ones), apply the change as one atomic update
// guarded by prerequisites, and once every authoritative server serves it, put the TTLs back.
// What happened is written to the audit log, which is also where the TTL to restore is read back.
import type { DnsProvider, ExpectedDns } from '../plugins/contract.ts';
import { plannedRRsets, planCutover, planTtl, readZoneState, rrsetKey } from './plan.ts';
import { managedZone } from './providers.ts';
import { DEFAULT_TTL } from './zonefile.ts';

export type CutoverEvent = 'ttl-lowered' | 'dns-applied' | 'ttl-restored';

export interface ProviderCutover {
  domain: string;
  expected: ExpectedDns;
  providerName: string;
  /** TTL of the changed records during the cutover; 0 = change at once without touching TTLs. */
  lowTtl: number;
  record(event: CutoverEvent, message: string): Promise<void>;
  /** Earlier events of this domain's step, oldest first. */
  history(): Promise<Array<{ event: string; message: string }>>;
}

export type ApplyOutcome =
  | { kind: 'not-managed' }
  | { kind: 'lowered'; zone: string; waitSeconds: number; message: string }
  | { kind: 'applied' | 'unchanged'; zone: string; summary: string[]; manual: string[] };

const PREVIOUS_TTL = /\[previous TTL (\d+) s\]/;

export async function applyThroughProvider(provider: DnsProvider, job: ProviderCutover): Promise<ApplyOutcome> {
  const zone = await managedZone(provider, job.domain);
  if (!zone) return { kind: 'not-managed' };
  const keys = plannedRRsets(job.domain, job.expected);
  const state = await readZoneState(provider, zone, keys);
  // Without lowering, the new records keep the TTL the domain's records have now.
  const current = [...state.values()].flat().map((r) => r.ttl);
  const ttl = job.lowTtl > 0 ? job.lowTtl : current.length > 0 ? Math.max(...current) : DEFAULT_TTL;
  const plan = planCutover(job.domain, job.expected, state, ttl);
  if (plan.changes.length === 0) return { kind: 'unchanged', zone, summary: [], manual: plan.manual };

  const toLower = plan.replaced.filter((r) => r.ttl !== null && r.ttl > job.lowTtl);
  if (job.lowTtl > 0 && toLower.length > 0) {
    const lowering = planTtl(state, toLower, job.lowTtl);
    await provider.apply(zone, lowering.changes, lowering.prerequisites);
    const until = new Date(Date.now() + lowering.previous * 1000).toISOString();
    const message = `lowered the TTL of ${toLower.map((r) => `${r.name} ${r.type}`).join(', ')} to ${job.lowTtl} s through ${job.providerName}; `
      + `the change follows once resolvers have forgotten the old records (${until}) [previous TTL ${lowering.previous} s]`;
    await job.record('ttl-lowered', message);
    return { kind: 'lowered', zone, waitSeconds: lowering.previous, message };
  }

  await provider.apply(zone, plan.changes, plan.prerequisites);
  const previous = Math.max(await loweredFrom(job), ...plan.replaced.map((r) => r.ttl ?? 0));
  await job.record('dns-applied', `changed through ${job.providerName} in one update: ${plan.summary.join('; ')} (TTL ${ttl} s) [previous TTL ${previous} s]`);
  return { kind: 'applied', zone, summary: plan.summary, manual: plan.manual };
}

async function loweredFrom(job: ProviderCutover): Promise<number> {
  const lowered = (await job.history()).filter((e) => e.event === 'ttl-lowered').pop();
  return Number(PREVIOUS_TTL.exec(lowered?.message ?? '')?.[1] ?? 0);
}

/**
 * After propagation: the RRsets cutover published at the low TTL get the TTL they had before,
 * when cutover itself lowered or replaced them (the audit log says so). Returns what it did.
 */
export async function restoreTtls(provider: DnsProvider, job: ProviderCutover): Promise<string | null> {
  if (job.lowTtl <= 0) return null;
  const history = await job.history();
  const applied = history.filter((e) => e.event === 'dns-applied').pop();
  if (!applied || history.some((e, i) => e.event === 'ttl-restored' && i > history.indexOf(applied))) return null;
  const previous = Number(PREVIOUS_TTL.exec(applied.message)?.[1] ?? 0);
  if (previous <= job.lowTtl) return null;
  const zone = await managedZone(provider, job.domain);
  if (!zone) return null;
  const keys = plannedRRsets(job.domain, job.expected);
  const state = await readZoneState(provider, zone, keys);
  const atLow = keys.filter((key) => (state.get(rrsetKey(key.name, key.type)) ?? []).some((r) => r.ttl === job.lowTtl));
  const restore = planTtl(state, atLow, previous);
  if (restore.changes.length > 0) await provider.apply(zone, restore.changes, restore.prerequisites);
  const message = `restored the TTL of ${atLow.map((k) => `${k.name} ${k.type}`).join(', ') || 'the changed records'} to ${previous} s through ${job.providerName}`;
  await job.record('ttl-restored', message);
  return message;
}
