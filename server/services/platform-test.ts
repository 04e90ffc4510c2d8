import type { AppContext } from '../context.ts';
import { recordAudit } from '../db/repos/audit.ts';
import { platformByName } from '../db/repos/platforms.ts';
import { CutoverError, toCutoverError } from '../errors.ts';
import { domainName } from '../net.ts';
import type { ImapEndpoint, PlatformCapabilities, PlatformConnector, PluginModule } from '../plugins/contract.ts';
import { authenticatedCapabilities, greetingCapabilities, type ImapCapabilityReport } from './imap-probe.ts';
import { pluginKinds, storedConfig, type PluginKind } from './platforms.ts';

/** What the admin may add to a test: a domain (limits, accounts), a mailbox to log in as, a zone for a DNS provider. */
export interface TestProbe {
  domain?: string;
  mailbox?: string;
  /** The mailbox's own password, for platforms without a master user; used once, never stored. */
  password?: string;
  zone?: string;
  /** false: the connection test only (the CLI's `platform test`). */
  imap?: boolean;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: CutoverError };

export interface PlatformTestReport {
  name: string;
  plugin: string;
  kinds: PluginKind[];
  ok: boolean;
  /** The platform's own connection test (API, database, IMAP port), as `platform add` runs it. */
  connection?: Outcome<null>;
  capabilities?: PlatformCapabilities;
  limits?: { maxMailboxBytes: number | null; domain?: string; freeAccountSlots?: Outcome<number | null> };
  domain?: { name: string; exists: Outcome<boolean>; accounts?: Outcome<number> };
  imap?: { host?: string; port?: number; security?: string; account?: string } & { result: Outcome<ImapCapabilityReport> };
  dns?: { zone: string; manages: Outcome<boolean> };
}

async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try { return { ok: true, value: await fn() }; } catch (err) { return { ok: false, error: toCutoverError(err) }; }
}

function checkedDomain(text: string | undefined, what: string): string | undefined {
  if (!text?.trim()) return undefined;
  const parsed = domainName.safeParse(text);
  if (!parsed.success) throw new CutoverError('INPUT_INVALID', { detail: `${what}: "${text}" is not a valid domain name` });
  return parsed.data;
}

/**
 * Tests a stored platform with a connector of its own (closed afterwards, so an edited
 * configuration is what gets tested): the connection, the capabilities and limits the
 * connector declares, and the IMAP server's CAPABILITY list. IMAP logs in as the mailbox given,
 * or (with a master user) as the first account of the domain given; with neither it reads
 * what the server announces before login. A DNS provider is asked whether it manages the zone.
 */
export async function testPlatform(app: AppContext, name: string, probe: TestProbe, actor: string): Promise<PlatformTestReport> {
  const row = await platformByName(app.db, name);
  const plugin = app.plugins.get(row.plugin);
  const domain = checkedDomain(probe.domain, 'domain');
  const zone = checkedDomain(probe.zone, 'zone');
  if (!plugin.platform && !zone) throw new CutoverError('INPUT_INVALID', { detail: `${name} is a DNS provider: give a zone to test (does it manage the zone?)` });
  const config = app.plugins.parseConfig(plugin.id, storedConfig(app, row));
  const report: PlatformTestReport = { name, plugin: plugin.id, kinds: pluginKinds(plugin), ok: true };
  if (plugin.platform) await testMailPlatform(app, plugin, config, { ...probe, domain }, report);
  if (plugin.dns && zone) report.dns = { zone, manages: await askDns(app, plugin, config, zone) };
  report.ok = [report.connection, report.limits?.freeAccountSlots, report.domain?.exists, report.domain?.accounts, report.imap?.result, report.dns?.manages]
    .every((o) => !o || o.ok) && (!report.dns?.manages.ok || report.dns.manages.value);
  const failed = [report.connection, report.imap?.result, report.dns?.manages].find((o) => o && !o.ok) as { error: CutoverError } | undefined;
  await recordAudit(app.db, { actor, action: 'platform.test', target: name, detail: report.ok ? 'ok' : `failed${failed ? `: ${failed.error.code}` : ''}` });
  return report;
}

async function testMailPlatform(app: AppContext, plugin: PluginModule, config: unknown, probe: TestProbe, report: PlatformTestReport): Promise<void> {
  let connector: PlatformConnector;
  try {
    connector = plugin.platform!(config, { log: app.log });
  } catch (err) {
    report.connection = { ok: false, error: toCutoverError(err) };
    return;
  }
  try {
    report.connection = await attempt(async () => { await connector.testConnection(); return null; });
    report.capabilities = { ...connector.capabilities };
    if (!report.connection.ok) return;
    report.limits = { maxMailboxBytes: connector.capabilities.maxMailboxBytes ?? null };
    if (probe.domain) {
      const domain = probe.domain;
      report.limits.domain = domain;
      if (connector.freeAccountSlots) report.limits.freeAccountSlots = await attempt(() => connector.freeAccountSlots!(domain));
      report.domain = { name: domain, exists: await attempt(() => connector.domainExists(domain)) };
      if (report.domain.exists.ok && report.domain.exists.value && connector.capabilities.listAccounts) {
        report.domain.accounts = await attempt(async () => (await connector.listAccounts(domain)).filter((a) => a.active).length);
      }
    }
    if (probe.imap !== false) report.imap = await imapReport(connector, probe);
  } finally {
    await connector.close();
  }
}

async function imapReport(connector: PlatformConnector, probe: TestProbe): Promise<NonNullable<PlatformTestReport['imap']>> {
  const account = probe.mailbox?.trim() || (probe.domain && connector.capabilities.masterUser && connector.capabilities.listAccounts
    ? (await connector.listAccounts(probe.domain).catch(() => [])).find((a) => a.active)?.address
    : undefined);
  let endpoint: ImapEndpoint;
  try {
    // Without an account, any address gives the host, port and TLS mode: nothing logs in with it.
    endpoint = await connector.imapEndpoint(account ?? `postmaster@${probe.domain ?? 'example.invalid'}`, account ? probe.password || undefined : 'unused');
  } catch (err) {
    return { account, result: { ok: false, error: toCutoverError(err) } };
  }
  const where = { host: endpoint.host, port: endpoint.port, security: endpoint.security, account };
  return { ...where, result: await attempt(() => (account ? authenticatedCapabilities(endpoint) : greetingCapabilities(endpoint))) };
}

async function askDns(app: AppContext, plugin: PluginModule, config: unknown, zone: string): Promise<Outcome<boolean>> {
  return attempt(async () => {
    const provider = plugin.dns!(config, { log: app.log });
    try { return await provider.manages(zone); } finally { await provider.close(); }
  });
}
