import { recordEvent } from '../../db/repos/events.ts';
import { applyThroughProvider, restoreTtls, type ProviderCutover } from '../../dns/cutover.ts';
import { diagnoseMailDns, formatReport, type MailDnsReport } from '../../dns/mail-dns.ts';
import { openDnsProvider } from '../../dns/providers.ts';
import { parseNameServer } from '../../dns/transport.ts';
import type { ExpectedDns } from '../../plugins/contract.ts';
import { done, manual, waitUntil, type Step, type StepContext } from '../types.ts';

/** After cutover changed the zone itself, propagation is a matter of seconds: look again soon. */
const AFTER_CHANGE_RECHECK_S = 5;

function diagnose(ctx: StepContext, expected: ExpectedDns, old: ExpectedDns | undefined): Promise<MailDnsReport> {
  return diagnoseMailDns(ctx.domain.name, expected, {
    resolvers: ctx.options.nameservers.map(parseNameServer),
    authoritative: ctx.options.authoritativeServers.map(parseNameServer),
    old,
  });
}

function summary(report: MailDnsReport): string {
  const propagation = report.checks.find((check) => check.id === 'propagation')?.found[0];
  return `MX and SPF of ${report.domain} point to the destination${propagation ? ` (${propagation})` : ''}`;
}

/**
 * The checks the step waits on, one line each: the informational ones (and the resolvers' ETA,
 * which changes at every look) would make every re-check a new entry in the timeline.
 */
function waiting(ctx: StepContext, report: MailDnsReport, seconds: number, intro: string, notes: string[] = []): ReturnType<Step['run']> {
  const gated = { ...report, checks: report.checks.filter((check) => check.gate !== undefined) };
  return Promise.resolve(waitUntil(ctx.now() + seconds * 1000, [intro, ...formatReport(gated, { details: false }), ...notes].join('\n')));
}

/**
 * The audit-logged provider job of one domain's dns-cutover: the step uses it, and so does the
 * panel's "apply through the provider" button, so both write the same events and read the same history.
 */
export function domainProviderJob(db: StepContext['db'], where: { projectId: number; domainId: number; domain: string }, name: string, expected: ExpectedDns, lowTtl: number, actor: string): ProviderCutover {
  const rows = { domain_id: where.domainId, step: 'dns-cutover' };
  return {
    domain: where.domain, expected, providerName: name, lowTtl,
    record: (event, message) => recordEvent(db, { projectId: where.projectId, domainId: where.domainId, step: 'dns-cutover', outcome: event, message, actor }),
    history: async () => (await db('events').where(rows).whereIn('outcome', ['ttl-lowered', 'dns-applied', 'ttl-restored']).orderBy('id')).map((row: { outcome: string; message: string | null }) => ({ event: row.outcome, message: row.message ?? '' })),
  };
}

function providerJob(ctx: StepContext, name: string, expected: ExpectedDns): ProviderCutover {
  return domainProviderJob(ctx.db, { projectId: ctx.project.id, domainId: ctx.domain.id, domain: ctx.domain.name }, name, expected, ctx.options.dnsLowTtl, 'worker');
}

export const dnsCutover: Step = {
  id: 'dns-cutover',
  level: 'domain',
  title: 'Point MX and SPF at the destination',
  async run(ctx) {
    const domain = ctx.domain.name;
    const expected = await ctx.dest.expectedDns(domain);
    // A destination that does not say which MX it expects (an IMAP server configured without expectedDns) cannot be checked.
    if (expected.mx.length === 0) return manual(`The destination platform does not say which MX and SPF it expects (add expectedDns to its configuration to have them checked): point the MX of ${domain} to the destination's mail servers and authorise them in its SPF record at your DNS host, then confirm on a mailbox's page (Confirm step done) (or run: cutover confirm --project "${ctx.project.name}" --domain ${domain}).`);
    const old = await ctx.source.expectedDns(domain).catch(() => undefined);
    const recheck = ctx.options.dnsRecheckSeconds;
    if (ctx.options.dnsProvider) {
      const provider = await openDnsProvider(ctx.db, ctx.box, ctx.log, ctx.options.dnsProvider);
      try {
        const job = providerJob(ctx, ctx.options.dnsProvider, expected);
        const applied = await applyThroughProvider(provider, job);
        if (applied.kind === 'lowered') return waitUntil(ctx.now() + applied.waitSeconds * 1000, applied.message);
        if (applied.kind !== 'not-managed') {
          const report = await diagnose(ctx, expected, old);
          const manual = applied.manual.map((line) => `to do by hand: ${line}`);
          if (report.blocking.length > 0) {
            return waiting(ctx, report, Math.min(recheck, AFTER_CHANGE_RECHECK_S), `${domain} changed through ${ctx.options.dnsProvider}; waiting for every authoritative server:`, manual);
          }
          const restored = await restoreTtls(provider, job);
          return done([summary(report), restored, ...manual].filter(Boolean).join('; '));
        }
        await ctx.note(`DNS provider ${ctx.options.dnsProvider} does not manage ${domain}: the records have to be changed by hand`);
      } finally {
        await provider.close();
      }
    }
    const report = await diagnose(ctx, expected, old);
    if (report.blocking.length === 0) return done(summary(report));
    // node-cron in the worker wakes waiting domains; `cutover dns recheck` or confirm act at once.
    return waiting(ctx, report, recheck, `waiting for the DNS of ${domain} (change it, or confirm manually):`);
  },
};
