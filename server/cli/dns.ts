import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { projectDomains } from '../db/repos/domains.ts';
import { platformByName } from '../db/repos/platforms.ts';
import { projectByName, projectOptions } from '../db/repos/projects.ts';
import type { CheckStatus } from '../dns/checks/types.ts';
import { diagnoseMailDns, formatReport, type MailDnsReport } from '../dns/mail-dns.ts';
import { normalizeName } from '../dns/names.ts';
import { plannedRRsets, planCutover, planTtl, readZoneState } from '../dns/plan.ts';
import { managedZone, openDnsProvider } from '../dns/providers.ts';
import { parseNameServer } from '../dns/transport.ts';
import { CutoverError, toCutoverError } from '../errors.ts';
import { domainName } from '../net.ts';
import type { DnsProvider, ExpectedDns } from '../plugins/contract.ts';
import { describe, EXIT, parseDuration, type Io } from './output.ts';

const USAGE = `usage:
  cutover dns check DOMAIN (--platform NAME | --mx PRIO:HOST … [--spf-include DOMAIN …] [--spf-ip IP …] [--dkim SELECTOR[:CNAME-TARGET] …]
                    [--autodiscover HOST[:PORT]] [--autoconfig HOST] [--srv _SERVICE._tcp:HOST:PORT …])
                    [--old-platform NAME] [--nameserver HOST:PORT …] [--authoritative HOST:PORT …] [--timeout 2s] [--json]
      exit 0: everything checked is ok (warnings allowed); 1: an error; 2: the check could not run
  cutover dns plan DOMAIN (--platform NAME | --mx … ) --provider NAME [--apply] [--ttl 300] [--json]
  cutover dns ttl DOMAIN (--platform NAME | --mx … ) --provider NAME --set SECONDS
  cutover dns recheck --project NAME --domain DOMAIN   (check now, and wake the migrations waiting on it)`;

const EXPECTATION_OPTIONS = {
  platform: { type: 'string' }, 'old-platform': { type: 'string' },
  mx: { type: 'string', multiple: true }, 'spf-include': { type: 'string', multiple: true }, 'spf-ip': { type: 'string', multiple: true },
  dkim: { type: 'string', multiple: true }, autodiscover: { type: 'string' }, autoconfig: { type: 'string' }, srv: { type: 'string', multiple: true },
} as const;

const usage = (detail: string) => new CutoverError('INPUT_INVALID', { detail: `${detail}\n${USAGE}` });

function parseDomain(text: string | undefined): string {
  const check = domainName.safeParse(text ?? '');
  if (!check.success) throw usage(text ? `"${text}" is not a valid domain name` : 'a domain is required');
  return check.data;
}

function host(text: string, flag: string): string {
  const name = normalizeName(text);
  if (!/^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9])?$/i.test(name)) throw usage(`${flag}: "${text}" is not a host name`);
  return name;
}

function port(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw usage(`${flag}: "${text}" is not a port`);
  return Number(text);
}

type ExpectationFlags = { [K in keyof typeof EXPECTATION_OPTIONS]?: (typeof EXPECTATION_OPTIONS)[K] extends { multiple: true } ? string[] : string };

/** The platform's expectations, with any record given on the command line replacing its own. */
async function expectations(app: AppContext, values: ExpectationFlags, domain: string): Promise<ExpectedDns | null> {
  const base: ExpectedDns | null = values.platform ? await (await app.connector((await platformByName(app.db, values.platform)).id)).expectedDns(domain) : null;
  if (!base && !values.mx) return null;
  const expected: ExpectedDns = base ? { ...base } : { mx: [], spfIncludes: [] };
  if (values.mx) {
    expected.mx = values.mx.map((spec) => {
      const match = /^(\d{1,5}):(.+)$/.exec(spec);
      if (!match || Number(match[1]) > 65535) throw usage(`--mx: "${spec}" is not PRIORITY:HOST`);
      return { priority: Number(match[1]), exchange: host(match[2]!, '--mx') };
    });
  }
  if (values['spf-include']) expected.spfIncludes = values['spf-include'].map((d) => host(d, '--spf-include'));
  if (values['spf-ip']) {
    expected.sendingIps = values['spf-ip'].map((ip) => {
      try { parseNameServer(ip.includes(':') ? `[${ip}]` : ip); } catch { throw usage(`--spf-ip: "${ip}" is not an IP address`); }
      return ip;
    });
  }
  if (values.dkim) {
    expected.dkim = values.dkim.map((spec) => {
      const [selector, target] = spec.split(':');
      if (!selector || !/^[a-z0-9._-]+$/i.test(selector)) throw usage(`--dkim: "${spec}" is not SELECTOR or SELECTOR:CNAME-TARGET`);
      return target ? { selector, cname: host(target, '--dkim') } : { selector };
    });
  }
  if (values.autodiscover) {
    const [name, p] = values.autodiscover.split(':');
    expected.autodiscover = { srv: { target: host(name ?? '', '--autodiscover'), port: port(p, '--autodiscover', 443) } };
  }
  if (values.autoconfig) expected.autoconfig = { cname: host(values.autoconfig, '--autoconfig') };
  if (values.srv) {
    expected.srv = values.srv.map((spec) => {
      const match = /^(_[a-z0-9-]+\._(?:tcp|udp)):([^:]+):(\d+)$/i.exec(spec);
      if (!match) throw usage(`--srv: "${spec}" is not _SERVICE._tcp:HOST:PORT`);
      return { service: match[1]!.toLowerCase(), target: match[2] === '.' ? '.' : host(match[2]!, '--srv'), port: port(match[3], '--srv', 0) };
    });
  }
  return expected;
}

/**
 * 1 when a check is red; 2 when one the cutover must see green (MX, SPF, propagation) could not
 * be made at all; else 0. A partly unreadable SPF tree or an informational grey is not "could not run".
 */
export function exitCodeOf(report: MailDnsReport): number {
  if (report.checks.some((check) => check.status === 'error')) return EXIT.failed;
  if (report.checks.some((check) => check.gate === 'ok' && check.status === ('unknown' satisfies CheckStatus))) return EXIT.usage;
  return EXIT.ok;
}

function printReport(report: MailDnsReport, io: Io): void {
  io.out(`${report.domain}: zone ${report.zone ?? '(not found)'}, records read from ${report.server}`);
  for (const line of formatReport(report)) io.out(line);
  io.out(`checked in ${report.elapsedMs} ms`);
}

async function checkCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { ...EXPECTATION_OPTIONS, nameserver: { type: 'string', multiple: true }, authoritative: { type: 'string', multiple: true }, timeout: { type: 'string' }, json: { type: 'boolean' } },
  });
  try {
    const domain = parseDomain(positionals[0]);
    const expected = await expectations(app, values, domain);
    if (!expected) throw usage('give the destination platform (--platform NAME) or the records to expect (--mx …)');
    const old = values['old-platform'] ? await (await app.connector((await platformByName(app.db, values['old-platform'])).id)).expectedDns(domain) : undefined;
    const timeoutMs = values.timeout ? Math.max(1, parseDuration(values.timeout, '--timeout')) * 1000 : 2000;
    const report = await diagnoseMailDns(domain, expected, {
      resolvers: (values.nameserver ?? []).map(parseNameServer),
      authoritative: (values.authoritative ?? []).map(parseNameServer),
      old, query: { timeoutMs, retries: 1 },
    });
    if (values.json) io.out(JSON.stringify({ ...report, exitCode: exitCodeOf(report) }, null, 2));
    else printReport(report, io);
    return exitCodeOf(report);
  } catch (err) {
    // Whatever stopped the check (bad input, unknown platform, a crash) means it could not run: 2.
    const e = toCutoverError(err);
    if (values.json) io.out(JSON.stringify({ error: { code: e.code, message: e.message }, exitCode: EXIT.usage }));
    io.err(describe(e));
    return EXIT.usage;
  }
}

async function withProvider<T>(app: AppContext, name: string | undefined, work: (provider: DnsProvider) => Promise<T>): Promise<T> {
  if (!name) throw usage('--provider NAME is required (a platform added with a DNS plugin, e.g. rfc2136)');
  const provider = await openDnsProvider(app.db, app.box, app.log, name, app.plugins);
  try {
    return await work(provider);
  } finally {
    await provider.close();
  }
}

async function zoneOf(provider: DnsProvider, domain: string, name: string): Promise<string> {
  const zone = await managedZone(provider, domain);
  if (!zone) throw new CutoverError('DNS_PROVIDER_UNSUITABLE', { name, detail: `it does not manage ${domain} or any zone above it` });
  return zone;
}

async function planCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...EXPECTATION_OPTIONS, provider: { type: 'string' }, apply: { type: 'boolean' }, ttl: { type: 'string' }, json: { type: 'boolean' } } });
  const domain = parseDomain(positionals[0]);
  const expected = await expectations(app, values, domain);
  if (!expected) throw usage('give the destination platform (--platform NAME) or the records to expect (--mx …)');
  const ttl = values.ttl ? parseDuration(values.ttl, '--ttl') : 300;
  return withProvider(app, values.provider, async (provider) => {
    const zone = await zoneOf(provider, domain, values.provider!);
    const plan = planCutover(domain, expected, await readZoneState(provider, zone, plannedRRsets(domain, expected)), ttl);
    if (values.apply && plan.changes.length > 0) await provider.apply(zone, plan.changes, plan.prerequisites);
    if (values.json) io.out(JSON.stringify({ zone, applied: Boolean(values.apply) && plan.changes.length > 0, ...plan }, null, 2));
    else {
      io.out(plan.changes.length === 0 ? `${domain}: nothing to change in zone ${zone}` : `${domain}: ${values.apply ? 'applied' : 'would apply'} in zone ${zone}, in one update:`);
      for (const line of plan.summary) io.out(`  ${line}`);
      for (const line of plan.manual) io.out(`  to do by hand: ${line}`);
      if (!values.apply && plan.changes.length > 0) io.out('  (add --apply to make the change)');
    }
    return EXIT.ok;
  });
}

async function ttlCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...EXPECTATION_OPTIONS, provider: { type: 'string' }, set: { type: 'string' } } });
  const domain = parseDomain(positionals[0]);
  if (!values.set) throw usage('--set SECONDS is required');
  const ttl = parseDuration(values.set, '--set');
  const expected = (await expectations(app, values, domain)) ?? { mx: [], spfIncludes: [] };
  return withProvider(app, values.provider, async (provider) => {
    const zone = await zoneOf(provider, domain, values.provider!);
    const keys = plannedRRsets(domain, expected);
    const change = planTtl(await readZoneState(provider, zone, keys), keys, ttl);
    if (change.changes.length > 0) await provider.apply(zone, change.changes, change.prerequisites);
    io.out(change.changes.length === 0 ? `${domain}: every RRset already has TTL ${ttl} s` : `${domain}: TTL set to ${ttl} s (was up to ${change.previous} s); resolvers may keep the old records up to ${change.previous} s`);
    return EXIT.ok;
  });
}

async function recheckCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { project: { type: 'string' }, domain: { type: 'string' }, json: { type: 'boolean' } } });
  if (!values.project || !values.domain) throw usage('recheck needs --project NAME and --domain DOMAIN');
  const project = await projectByName(app.db, values.project);
  const domain = (await projectDomains(app.db, project.id)).find((d) => d.name === values.domain!.toLowerCase());
  if (!domain) throw new CutoverError('INPUT_INVALID', { detail: `project ${project.name} has no domain ${values.domain}` });
  const options = projectOptions(project);
  const report = await diagnoseMailDns(domain.name, await (await app.connector(project.dest_platform_id)).expectedDns(domain.name), {
    resolvers: options.nameservers.map(parseNameServer), authoritative: options.authoritativeServers.map(parseNameServer),
  });
  // The worker's next tick runs the step again for every migration waiting on this domain.
  const woken = await app.db('mailboxes').where({ domain_id: domain.id, step: 'dns-cutover', state: 'waiting' }).update({ next_run_at: 0 });
  if (values.json) io.out(JSON.stringify({ woken, report }, null, 2));
  else {
    printReport(report, io);
    io.out(`${woken} waiting migration(s) of ${domain.name} will look again at the worker's next tick`);
  }
  return exitCodeOf(report);
}

export async function dnsCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'check': return checkCommand(app, rest, io);
    case 'plan': return planCommand(app, rest, io);
    case 'ttl': return ttlCommand(app, rest, io);
    case 'recheck': return recheckCommand(app, rest, io);
    default: throw usage(sub ? `unknown dns command "${sub}"` : 'a dns command is required');
  }
}
