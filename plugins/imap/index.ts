import { readFileSync } from 'node:fs';
import { CutoverError } from '../../server/errors.ts';
import { closeQuietly, openImap } from '../../server/mail/imap.ts';
import { createTokenSource, withAccessToken, type TokenSource } from '../../server/mail/oauth2/index.ts';
import { messageLimitFor } from '../../server/mail/providers/index.ts';
import { davEndpointFrom, sieveEndpointFrom } from '../../server/groupware/settings.ts';
import type { Account, DavEndpoint, ExpectedDns, ImapEndpoint, PlatformCapabilities, PlatformConnector, PluginModule, SieveEndpoint } from '../../server/plugins/contract.ts';
import { greetingCapabilities } from '../../server/services/imap-probe.ts';
import { autodetect } from './autodetect/index.ts';
import { configSchema, readAdminPassword, type ImapConfig } from './config.ts';

export type { ImapConfig } from './config.ts';

/** What a login as a user that does not exist looks like: a refused password, or a provider that knows no such user. */
const ABSENT = new Set<string>(['AUTH_FAILED', 'OAUTH2_USER_UNKNOWN']);

/**
 * Any IMAP server as a platform. It can log in, nothing more: it cannot list, create, rename or
 * reset accounts, so the workflow turns those steps into manual ones or skips them where they do
 * not apply (see server/workflow/situation.ts).
 */
export class ImapPlatform implements PlatformConnector {
  readonly capabilities: PlatformCapabilities;
  /** One per platform: tokens are cached per user and shared by every connection and step. */
  private readonly tokens?: TokenSource;

  constructor(private readonly config: ImapConfig) {
    this.capabilities = {
      attachDomain: false, renameAccount: false, createAccount: false, resetAccount: false, listAccounts: false,
      // An admin login or an OAuth2 application logs in as any user without the user's password.
      masterUser: Boolean(config.admin || config.oauth2), maxMailboxBytes: config.maxMailboxBytes,
      maxMessageBytes: messageLimitFor(config.provider, config.maxMessageBytes), provider: config.provider,
    };
    if (config.oauth2) this.tokens = createTokenSource(config.oauth2);
  }

  private transport(): Omit<ImapEndpoint, 'auth'> {
    const { host, port, security, tlsVerify, caFile } = this.config;
    return { host, port, security, tlsVerify, ca: caFile ? readFileSync(caFile, 'utf8') : undefined };
  }

  private cannot(action: string): never {
    throw new CutoverError('PLATFORM_CANNOT', { platform: `imap ${this.config.host}`, action, detail: 'an IMAP server offers no account management; the workflow makes this a manual step' });
  }

  /** Reaches the server (TLS as configured) and reads its greeting; with an admin login, nothing more can be tried without a user. */
  async testConnection(): Promise<void> {
    await greetingCapabilities(this.transport());
  }

  /** An IMAP server cannot tell which domains it serves: the logins do. */
  async domainExists(): Promise<boolean> {
    return true;
  }

  async attachDomain(): Promise<{ state: 'ok' | 'pending' }> { return this.cannot('attach a domain'); }
  async listAccounts(): Promise<Account[]> { return this.cannot('list accounts'); }
  async renameAccount(): Promise<{ renamed: boolean }> { return this.cannot('rename an account'); }
  async createAccount(): Promise<{ created: boolean }> { return this.cannot('create an account'); }
  async resetAccount(): Promise<void> { return this.cannot('reset an account'); }

  /**
   * With an admin login, an account exists when the admin can log in as it. Without one nothing
   * can be looked up: the account is taken as there, and the first login with its own password
   * (the dry run, preflight) says otherwise.
   */
  async getAccount(address: string): Promise<Account | null> {
    const account = { address, active: true, quotaBytes: null };
    if (!this.capabilities.masterUser) return account;
    try {
      await closeQuietly(await openImap(await this.imapEndpoint(address)));
      return account;
    } catch (err) {
      if (err instanceof CutoverError && ABSENT.has(err.code)) return null;
      throw err;
    }
  }

  async imapEndpoint(address: string, password?: string, login?: string): Promise<ImapEndpoint> {
    const user = login || address;
    const { admin } = this.config;
    if (this.tokens) return withAccessToken(this.transport(), this.tokens, user);
    if (admin?.kind === 'master-user') return { ...this.transport(), auth: { user: `${user}${admin.separator}${admin.user}`, pass: readAdminPassword(admin) } };
    if (admin?.kind === 'sasl-authzid') return { ...this.transport(), auth: { user: admin.user, pass: readAdminPassword(admin), authzid: user } };
    if (!password) throw new CutoverError('CONFIG_INVALID', { where: ' for plugin imap', detail: `no admin login configured and no password known for ${user}` });
    return { ...this.transport(), auth: { user, pass: password } };
  }

  /** The DAV server beside the mail: its admin login where configured, otherwise the account's login and password. */
  async davEndpoint(address: string, password?: string, login?: string): Promise<DavEndpoint | null> {
    if (!this.config.dav) return null;
    return davEndpointFrom(this.config.dav, login || address, password, 'imap');
  }

  /**
   * ManageSieve logs in as IMAP does: the Dovecot master user (`user*admin`), or the admin with the
   * account as SASL authorisation identity (Pigeonhole's master users accept both), or the
   * account's own password. An OAuth2 token is not offered to ManageSieve (PLAIN only).
   */
  async sieveEndpoint(address: string, password?: string, login?: string): Promise<SieveEndpoint | null> {
    const { sieve, admin } = this.config;
    if (!sieve) return null;
    const user = login || address;
    if (admin?.kind === 'master-user') return sieveEndpointFrom(sieve, { user: `${user}${admin.separator}${admin.user}`, pass: readAdminPassword(admin) });
    if (admin?.kind === 'sasl-authzid') return sieveEndpointFrom(sieve, { user: admin.user, pass: readAdminPassword(admin), authzid: user });
    if (!password) throw new CutoverError('CONFIG_INVALID', { where: ' for plugin imap (sieve)', detail: `ManageSieve needs an admin login or the account's password, and none is known for ${user}` });
    return sieveEndpointFrom(sieve, { user, pass: password });
  }

  async expectedDns(): Promise<ExpectedDns> {
    return this.config.expectedDns ?? { mx: [], spfIncludes: [] };
  }

  async mailHost(domain: string): Promise<string> {
    if (this.config.mailHost) return this.config.mailHost;
    const mx = [...(this.config.expectedDns?.mx ?? [])].sort((a, b) => a.priority - b.priority)[0];
    if (mx) return mx.exchange;
    throw new CutoverError('CONFIG_INVALID', { where: ` for plugin imap (${this.config.host})`, detail: `no mailHost and no expectedDns.mx: cutover does not know which host receives mail for ${domain} there` });
  }

  accountRealm(): string {
    return this.config.provider ? `provider:${this.config.provider}` : `imap:${this.config.host.toLowerCase().replace(/\.$/, '')}:${this.config.port}`;
  }

  async close(): Promise<void> {
    // No connection is kept between calls.
  }
}

const plugin: PluginModule<ImapConfig> = {
  id: 'imap',
  description: 'Any IMAP server (a cPanel or Plesk host, Google Workspace, Microsoft 365, Cyrus, Courier…): logins only; account operations become manual steps',
  configSchema: configSchema as unknown as PluginModule<ImapConfig>['configSchema'],
  platform: (config) => new ImapPlatform(config),
  autodetect: (request, deps) => autodetect(request, deps),
};

export default plugin;
