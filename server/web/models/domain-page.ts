import type { AppContext } from '../../context.ts';
import { domainStep, projectDomains, type DomainRow } from '../../db/repos/domains.ts';
import { projectById, projectOptions, type ProjectOptions, type ProjectRow } from '../../db/repos/projects.ts';
import type { CheckStatus } from '../../dns/checks/types.ts';
import { diagnoseMailDns, type MailDnsReport } from '../../dns/mail-dns.ts';
import type { ServerStateName } from '../../dns/propagation.ts';
import { parseNameServer } from '../../dns/transport.ts';
import { CutoverError } from '../../errors.ts';

/** The dots of the page: a check's status, and an authoritative server's state in the same four colours. */
const SERVER_STATUS: Record<ServerStateName, CheckStatus> = { updated: 'ok', stale: 'warn', lame: 'error', unknown: 'unknown' };

export interface DomainCheckLine { id: string; title: string; status: CheckStatus; found: string[]; expected: string[]; fix: string | null; details: string[]; blocking: boolean }
export interface ServerLine { label: string; nsName: string; address: string | null; serial: number | null; state: ServerStateName; status: CheckStatus; detail: string | null }

export interface DomainPageModel {
  project: { id: number; name: string };
  domain: { id: number; name: string; zone: string | null; status: CheckStatus };
  checks: DomainCheckLine[];
  servers: ServerLine[];
  step: { status: string; detail: string | null; confirmedBy: string | null; completedAt: string | null };
  waiting: number;
  dnsProvider: string | null;
  checkedAt: string;
  errors: string[];
}

export interface ProjectDomain { project: ProjectRow; options: ProjectOptions; domain: DomainRow }

/** The project and one of its domains, by the name in the URL; anything else is not this project's. */
export async function projectDomain(app: AppContext, projectId: number, name: string): Promise<ProjectDomain> {
  const project = await projectById(app.db, projectId);
  const domain = (await projectDomains(app.db, project.id)).find((d) => d.name === name.toLowerCase());
  if (!domain) throw new CutoverError('INPUT_INVALID', { detail: `project ${project.name} has no domain ${name}` });
  return { project, options: projectOptions(project), domain };
}

/**
 * The diagnosis the dns-cutover step makes, with the same inputs: the destination connector's
 * expectations, the source's records as the old ones, and the project's resolvers and authoritative servers.
 */
export async function diagnoseDomain(app: AppContext, where: ProjectDomain): Promise<MailDnsReport> {
  const { project, options, domain } = where;
  const expected = await (await app.connector(project.dest_platform_id)).expectedDns(domain.name);
  const old = await (await app.connector(project.source_platform_id)).expectedDns(domain.name).catch(() => undefined);
  return diagnoseMailDns(domain.name, expected, {
    resolvers: options.nameservers.map(parseNameServer),
    authoritative: options.authoritativeServers.map(parseNameServer),
    old,
  });
}

/** "Check now": the migrations waiting on this domain's DNS run their step again at the worker's next tick. */
export async function wakeWaitingMailboxes(app: AppContext, domainId: number): Promise<number> {
  return app.db('mailboxes').where({ domain_id: domainId, step: 'dns-cutover', state: 'waiting' }).update({ next_run_at: Date.now() });
}

/** A diagnosis as the page's lines: one per check, one per authoritative server (also the Domains page's own domain page). */
export function reportLines(report: MailDnsReport): { checks: DomainCheckLine[]; servers: ServerLine[] } {
  return {
    checks: report.checks.map((check) => ({
      id: check.id, title: check.title, status: check.status, found: check.found, expected: check.expected,
      fix: check.fix ?? null, details: check.details ?? [], blocking: report.blocking.includes(check.id),
    })),
    servers: report.authoritative.map((s) => ({ label: s.label, nsName: s.nsName, address: s.address, serial: s.serial, state: s.state as ServerStateName, status: SERVER_STATUS[s.state as ServerStateName] ?? 'unknown', detail: s.detail })),
  };
}

export async function domainPageModel(app: AppContext, projectId: number, name: string): Promise<DomainPageModel> {
  const where = await projectDomain(app, projectId, name);
  const [report, step, waiting] = await Promise.all([
    diagnoseDomain(app, where),
    domainStep(app.db, where.domain.id, 'dns-cutover'),
    app.db('mailboxes').where({ domain_id: where.domain.id, step: 'dns-cutover', state: 'waiting' }).count({ n: '*' }),
  ]);
  return {
    project: { id: where.project.id, name: where.project.name },
    domain: { id: where.domain.id, name: where.domain.name, zone: report.zone, status: report.status },
    ...reportLines(report),
    step: { status: step?.status ?? 'pending', detail: step?.detail ?? null, confirmedBy: step?.confirmed_by ?? null, completedAt: step?.completed_at ?? null },
    waiting: Number((waiting as Array<{ n: number | string }>)[0]?.n ?? 0),
    dnsProvider: where.options.dnsProvider ?? null,
    checkedAt: report.checkedAt,
    errors: report.errors,
  };
}
