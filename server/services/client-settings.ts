import type { AppContext } from '../context.ts';
import { domainById } from '../db/repos/domains.ts';
import { mailboxById, type MailboxRow } from '../db/repos/mailboxes.ts';
import { projectById } from '../db/repos/projects.ts';
import { toCutoverError } from '../errors.ts';
import type { ExpectedDns, PlatformConnector, TlsMode } from '../plugins/contract.ts';

/** How a mail client reaches a server: what users type into their client's account settings. */
export interface ServerSetting { host: string; port: number; security: 'ssl' | 'starttls' | 'none'; from: 'connector' | 'srv' }

export interface ClientSettings {
  address: string;
  /** The login is the full address on every platform cutover knows. */
  userName: string;
  imap: ServerSetting | null;
  smtp: ServerSetting | null;
  /** Where clients can configure themselves (Outlook's autodiscover, Thunderbird's autoconfig), when the platform publishes it. */
  autodiscover: string | null;
  autoconfig: string | null;
  /** The host that receives the domain's mail (its MX): for the admin, users do not type it. */
  mailHost: string | null;
  /** What the destination platform could not be asked, in its own words. */
  problems: string[];
}

const SECURITY: Record<TlsMode, ServerSetting['security']> = { tls: 'ssl', starttls: 'starttls', 'starttls-optional': 'starttls', none: 'none' };

// The connector wants a password only to build a login; the login is dropped, so nothing secret is asked for or kept.
const NO_PASSWORD_NEEDED = 'unused';

// Published submission services first (RFC 8314 prefers implicit TLS), then IMAP SRV records as a second source for IMAP.
function srvSetting(dns: ExpectedDns | null, services: string[]): ServerSetting | null {
  for (const service of services) {
    const srv = dns?.srv?.find((s) => s.service.replace(/\.$/, '') === service && s.target !== '.');
    if (srv) return { host: srv.target.replace(/\.$/, ''), port: srv.port, security: service.startsWith('_submissions') || service.startsWith('_imaps') ? 'ssl' : 'starttls', from: 'srv' };
  }
  return null;
}

async function attempt<T>(what: string, problems: string[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    problems.push(`${what}: ${toCutoverError(err).message}`);
    return null;
  }
}

/**
 * The settings a user needs to point their mail client at the new platform: server names,
 * ports, security and user name, from what the destination's connector knows (its IMAP endpoint,
 * the DNS records it expects, its mail host). Never a password: the connector's login is dropped.
 */
export async function clientSettings(app: AppContext, mailboxId: number, now = Date.now()): Promise<ClientSettings> {
  const row = await mailboxById(app.db, mailboxId);
  const key = `${app.config.dataDir}:${row.id}:${row.address}`;
  const cached = recent.get(key);
  if (cached && now - cached.at < CACHE_MS) return cached.settings;
  const settings = await askDestination(app, row);
  if (recent.size >= 1000) recent.clear();
  if (!settings.problems.length) recent.set(key, { at: now, settings });
  return settings;
}

// The mailbox page re-renders on every live update; a platform API (OVHcloud's) is not asked each time.
const CACHE_MS = 10 * 60_000;
const recent = new Map<string, { at: number; settings: ClientSettings }>();

async function askDestination(app: AppContext, row: MailboxRow): Promise<ClientSettings> {
  const project = await projectById(app.db, row.project_id);
  const domain = (await domainById(app.db, row.domain_id)).name;
  const problems: string[] = [];
  const dest = await attempt('destination platform', problems, () => app.connector(project.dest_platform_id));
  const settings = await settingsFrom(dest, row.address, domain);
  return { ...settings, problems: [...problems, ...settings.problems] };
}

/** What a connector says about reaching `address`: its IMAP endpoint (the login dropped), the DNS it expects, its mail host. */
export async function settingsFrom(dest: PlatformConnector | null, address: string, domain: string): Promise<ClientSettings> {
  const problems: string[] = [];
  const endpoint = dest && await attempt('IMAP server', problems, () => dest.imapEndpoint(address, NO_PASSWORD_NEEDED));
  const dns = dest && await attempt('expected DNS records', problems, () => dest.expectedDns(domain));
  const mailHost = dest && await attempt('mail host', problems, () => dest.mailHost(domain));
  return {
    address,
    userName: address,
    imap: endpoint ? { host: endpoint.host, port: endpoint.port, security: SECURITY[endpoint.security], from: 'connector' } : srvSetting(dns, ['_imaps._tcp', '_imap._tcp']),
    smtp: srvSetting(dns, ['_submissions._tcp', '_submission._tcp']),
    autodiscover: dns?.autodiscover?.srv?.target ?? dns?.autodiscover?.cname ?? null,
    autoconfig: dns?.autoconfig?.cname ?? null,
    mailHost,
    problems,
  };
}
