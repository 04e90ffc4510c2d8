// The re-check job: every known domain (project or not) diagnosed against the platform it should
// point to, on a cron schedule, the result stored so the Domains page and the dashboard's
// "not green" list read rows instead of waiting on lookups.
import cron from 'node-cron';
import type { AppContext } from '../context.ts';
import { saveDomainCheck } from '../db/repos/watched-domains.ts';
import { CutoverError } from '../errors.ts';
import { knownDomains, refreshPlatformDomains, type KnownDomain } from '../services/known-domains.ts';
import { dnsDots } from './dots.ts';
import { diagnoseMailDns, type MailDnsReport } from './mail-dns.ts';
import { parseNameServer } from './transport.ts';

export const DEFAULT_RECHECK_SCHEDULE = '*/30 * * * *';

/** The same diagnosis as the domain page: the destination's expectations, the source's as the old records. */
export async function diagnoseKnownDomain(app: AppContext, domain: Pick<KnownDomain, 'name' | 'platformId' | 'oldPlatformId' | 'resolvers' | 'authoritative'>): Promise<MailDnsReport> {
  const expected = await (await app.connector(domain.platformId)).expectedDns(domain.name);
  const old = domain.oldPlatformId ? await (await app.connector(domain.oldPlatformId)).expectedDns(domain.name).catch(() => undefined) : undefined;
  return diagnoseMailDns(domain.name, expected, {
    resolvers: domain.resolvers.map(parseNameServer),
    authoritative: domain.authoritative.map(parseNameServer),
    old,
  });
}

export async function recheckDomain(app: AppContext, domain: KnownDomain): Promise<void> {
  const started = Date.now();
  try {
    const report = await diagnoseKnownDomain(app, domain);
    await saveDomainCheck(app.db, { name: domain.name, platform_id: domain.platformId, status: report.status, dots: dnsDots(report.checks), checked_at: report.checkedAt, elapsed_ms: report.elapsedMs, error: report.errors[0] ?? null });
  } catch (err) {
    const message = err instanceof CutoverError ? err.message : (err as Error).message;
    await saveDomainCheck(app.db, { name: domain.name, platform_id: domain.platformId, status: 'unknown', dots: dnsDots([]), checked_at: new Date().toISOString(), elapsed_ms: Date.now() - started, error: message.slice(0, 500) });
  }
}

export interface RecheckSummary { checked: number; notGreen: number; elapsedMs: number; errors: string[] }

/** Every known domain, `concurrency` at a time (each diagnosis is a few dozen UDP queries). */
export async function recheckAllDomains(app: AppContext, opts: { concurrency?: number } = {}): Promise<RecheckSummary> {
  const started = Date.now();
  const { errors } = await refreshPlatformDomains(app);
  const domains = await knownDomains(app);
  let next = 0;
  const worker = async () => { while (next < domains.length) await recheckDomain(app, domains[next++]!); };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, domains.length) }, worker));
  const [row] = await app.db('domain_checks').whereNot('status', 'ok').count({ n: '*' });
  return { checked: domains.length, notGreen: Number(row?.n ?? 0), elapsedMs: Date.now() - started, errors };
}

/** Starts the job (`serve` does, with CUTOVER_DNS_RECHECK); one run at a time, a run still going skips its next turn. */
export function startDnsRecheck(app: AppContext, schedule = DEFAULT_RECHECK_SCHEDULE): { stop(): Promise<void> } {
  if (!cron.validate(schedule)) throw new CutoverError('CONFIG_INVALID', { where: ' in CUTOVER_DNS_RECHECK', detail: `not a cron schedule: ${schedule}` });
  const task = cron.schedule(schedule, async () => {
    const summary = await recheckAllDomains(app);
    app.log.info({ ...summary }, 'dns re-check done');
  }, { noOverlap: true, name: 'dns-recheck' });
  return { stop: async () => { await task.destroy(); } };
}
