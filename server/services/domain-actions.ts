import type { AppContext } from '../context.ts';
import { applyThroughProvider, type ApplyOutcome } from '../dns/cutover.ts';
import { openDnsProvider } from '../dns/providers.ts';
import { diagnoseDomain, projectDomain, wakeWaitingMailboxes } from '../web/models/domain-page.ts';
import { domainProviderJob } from '../workflow/steps/dns-cutover.ts';
import { confirmDomainStep } from './actions.ts';

/** Diagnoses the domain again and lets the migrations waiting on it look again at once. */
export async function checkDomainNow(app: AppContext, projectId: number, domain: string) {
  const where = await projectDomain(app, projectId, domain);
  const report = await diagnoseDomain(app, where);
  const woken = await wakeWaitingMailboxes(app, where.domain.id);
  return { where, report, woken };
}

/** An admin's word that the DNS was changed by hand: the dns-cutover step is done for this domain. */
export async function confirmDomainDns(app: AppContext, projectId: number, domain: string, actor: string) {
  const where = await projectDomain(app, projectId, domain);
  await confirmDomainStep(app, where.project.id, where.domain.id, 'dns-cutover', actor);
  return { where };
}

/**
 * The change the dns-cutover step makes through the project's DNS provider, with the same audit
 * events; `outcome` is null when the project has no DNS provider.
 */
export async function applyDomainDns(app: AppContext, projectId: number, domain: string, actor: string): Promise<{ where: Awaited<ReturnType<typeof projectDomain>>; provider?: string; outcome: ApplyOutcome | null }> {
  const where = await projectDomain(app, projectId, domain);
  const name = where.options.dnsProvider;
  if (!name) return { where, outcome: null };
  const expected = await (await app.connector(where.project.dest_platform_id)).expectedDns(where.domain.name);
  const provider = await openDnsProvider(app.db, app.box, app.log, name, app.plugins);
  try {
    const job = domainProviderJob(app.db, { projectId: where.project.id, domainId: where.domain.id, domain: where.domain.name }, name, expected, where.options.dnsLowTtl, actor);
    const outcome = await applyThroughProvider(provider, job);
    await wakeWaitingMailboxes(app, where.domain.id);
    return { where, provider: name, outcome };
  } finally {
    await provider.close();
  }
}
