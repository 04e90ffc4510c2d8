import type { ZodType } from 'zod';
import type { Logger } from '../log.ts';

/** `starttls-optional` upgrades when the server offers it and otherwise logs in in clear (loopback or an explicit opt-in only). */
export type TlsMode = 'tls' | 'starttls' | 'starttls-optional' | 'none';

export interface ImapEndpoint {
  host: string;
  port: number;
  security: TlsMode;
  tlsVerify: boolean;
  ca?: string;
  /**
   * With `authzid`, `user` is an admin/master identity logging in as `authzid` (SASL PLAIN).
   * With `accessToken` (then `pass` may be ''), the login is XOAUTH2/OAUTHBEARER as `user`;
   * `renewAccessToken`, where given, supplies the token of each new connection (cached, renewed
   * before expiry; forced after the server refused one).
   */
  auth: { user: string; pass: string; authzid?: string; accessToken?: string; renewAccessToken?: (opts: { forceRefresh: boolean; rejected?: string }) => Promise<string> };
}

/** A CalDAV/CardDAV server: `url` is where discovery starts (a base URL, a principal or a home set). */
export interface DavEndpoint {
  url: string;
  tlsVerify: boolean;
  ca?: string;
  /** http:// to a host that is not a loopback address. */
  allowPlaintext?: boolean;
  auth: { user: string; pass: string };
  /**
   * An admin login (`auth` is the admin's) acting for one account: discovery starts at the
   * account's `principal` instead of asking current-user-principal (which names the admin), and
   * `header`, where set, names the account on every request (a proxy-authenticated server).
   */
  actAs?: { user: string; principal: string; header?: string };
}

/** A ManageSieve server (RFC 5804), usually port 4190 with STARTTLS: reached and logged in to like IMAP (SASL PLAIN, `authzid` for a master user). */
export type SieveEndpoint = Pick<ImapEndpoint, 'host' | 'port' | 'security' | 'tlsVerify' | 'ca' | 'auth'>;

export interface Account {
  address: string;
  active: boolean;
  quotaBytes: number | null;
  /** Space the platform reports as used, where it reports it (preflight compares it with the destination's limit). */
  usedBytes?: number | null;
}

/** Something the guide says does not move with the mailbox and must be recreated by hand (or by `addAlias`). */
export interface NotMigratedItem {
  kind: 'alias' | 'delegation' | 'group' | 'externalContact' | 'footer' | 'redirection' | 'responder' | 'filter' | 'mailingList';
  /** The alias address, the delegate, the group… as the platform names it. */
  name: string;
  detail?: string;
}

/** The platform's own view of a domain's DNS (the control panel's red/green dots), shown next to cutover's checks. */
export interface PlatformDnsDiagnostic {
  mx: boolean | null;
  spf: boolean | null;
  srv: boolean | null;
  /** Where the values come from, e.g. "GET /email/exchange/…/domain/example.com". */
  source: string;
}

export interface MxRecord { priority: number; exchange: string }

/** An SRV target: `priority weight port target`; target '.' says the service is not offered (RFC 2782). */
export interface SrvTarget { target: string; port: number; priority?: number; weight?: number }

/** A DKIM selector the platform signs with: published as a CNAME to the provider's key, or as the key itself. */
export interface DkimSelector { selector: string; cname?: string; txt?: string }

export interface ExpectedDns {
  mx: MxRecord[];
  spfIncludes: string[];
  /** Addresses the platform sends from: SPF check_host() must give "pass" for each. */
  sendingIps?: string[];
  dkim?: DkimSelector[];
  /** `_autodiscover._tcp` SRV and/or `autodiscover` CNAME (Outlook). */
  autodiscover?: { srv?: SrvTarget; cname?: string };
  /** `autoconfig` CNAME (Thunderbird). */
  autoconfig?: { cname: string };
  /** RFC 6186 services, e.g. `_imaps._tcp`, `_submissions._tcp`. */
  srv?: Array<SrvTarget & { service: string }>;
}

export interface PlatformCapabilities {
  attachDomain: boolean;
  renameAccount: boolean;
  createAccount: boolean;
  resetAccount: boolean;
  listAccounts: boolean;
  masterUser: boolean;
  maxMailboxBytes?: number;
  /** The largest message the platform accepts (Microsoft 365: 35–150 MB); larger ones go to the skip list. */
  maxMessageBytes?: number;
  /** The provider behind the platform ('google', 'microsoft365'…): its folder rules and limits apply (server/mail/providers). */
  provider?: string;
  /**
   * No server to copy from: the mail, contacts and calendars come from files uploaded on each
   * mailbox's page (PST, mbox, EML, ICS, VCF). Only a source can be such a platform.
   */
  mailFromFiles?: boolean;
}

/** Whether mailboxes coming from this platform need the user's own password to be read. */
export const needsSourcePassword = (c: PlatformCapabilities): boolean => !c.masterUser && !c.mailFromFiles;

export interface NewAccount { address: string; password: string; quotaBytes: number | null }

export interface PlatformConnector {
  readonly capabilities: PlatformCapabilities;
  testConnection(): Promise<void>;
  domainExists(domain: string): Promise<boolean>;
  /** Attaches the domain without claiming it exclusively: unknown recipients go on to `relayHost`. */
  attachDomain(domain: string, mode: 'nonAuthoritative', relayHost: string): Promise<{ state: 'ok' | 'pending' }>;
  listAccounts(domain: string): Promise<Account[]>;
  getAccount(address: string): Promise<Account | null>;
  renameAccount(from: string, to: string): Promise<{ renamed: boolean }>;
  createAccount(spec: NewAccount): Promise<{ created: boolean }>;
  resetAccount(address: string): Promise<void>;
  /**
   * IMAP access to `address`; `password` is the user's own, needed only without a master user.
   * `login` is the user name the server knows the account by, when it is not the address (a CSV's
   * `source_login`/`dest_login`).
   */
  imapEndpoint(address: string, password?: string, login?: string): Promise<ImapEndpoint>;
  expectedDns(domain: string): Promise<ExpectedDns>;
  /** Host that receives mail for this platform's domains: the relay target when another platform attaches the domain. */
  mailHost(domain: string): Promise<string>;
  close(): Promise<void>;
  // Optional abilities (a connector without them leaves the step as it was):
  /** Sets an account's password (after a rename, so the copy logs in without the user's own password). */
  setPassword?(address: string, password: string): Promise<void>;
  /** What will not move with this mailbox (aliases, delegations, groups, external contacts, footers…). */
  notMigrated?(address: string): Promise<NotMigratedItem[]>;
  /** Accounts that can still be created on this platform; null when unlimited (no pre-ordered slots). */
  freeAccountSlots?(domain: string): Promise<number | null>;
  /** The size limit the platform applies to a new account at `address` (the API's quota), null when unknown. */
  mailboxLimitBytes?(address: string): Promise<number | null>;
  listAliases?(address: string): Promise<string[]>;
  /** Idempotent: an alias already there is success. */
  addAlias?(address: string, alias: string): Promise<{ added: boolean }>;
  removeAlias?(address: string, alias: string): Promise<{ removed: boolean }>;
  dnsDiagnostic?(domain: string): Promise<PlatformDnsDiagnostic>;
  /** The mail domains this platform serves, for the Domains page's watch list. */
  listDomains?(): Promise<string[]>;
  /** Ends what attachDomain set up: unknown recipients of `domain` are no longer relayed. Idempotent. */
  detachRelay?(domain: string): Promise<{ removed: boolean }>;
  /**
   * Where this platform's addresses are registered (an IMAP host, a provider): two platforms with the
   * same realm hold the same accounts, so the old account must leave an address before the new one takes it.
   */
  accountRealm?(): string;
  /** Contacts, calendars and tasks of `address`; null when this platform offers none (the groupware step then lists them as not migrated). */
  davEndpoint?(address: string, password?: string, login?: string): Promise<DavEndpoint | null>;
  /** Mail filters and the auto-reply of `address` (ManageSieve), `login` where it differs from the address; null when this platform offers none. */
  sieveEndpoint?(address: string, password?: string, login?: string): Promise<SieveEndpoint | null>;
}

/** One resource record in presentation form: `data` is the zone-file RDATA (`10 mx.example.net.`, `"v=spf1 …"`). */
export interface DnsRecord { name: string; type: string; ttl: number; data: string }

export type DnsChange =
  | { op: 'add'; record: DnsRecord }
  | { op: 'delete'; record: Omit<DnsRecord, 'ttl'> }
  | { op: 'deleteRRset'; name: string; type: string };

/** Optimistic lock: the change applies only if the zone still holds exactly these RRsets (empty list = absent). */
export interface DnsPrerequisite { name: string; type: string; data: string[] }

export interface DnsProvider {
  readonly readOnly: boolean;
  manages(zone: string): Promise<boolean>;
  listRecords(zone: string, name?: string, type?: string): Promise<DnsRecord[]>;
  /** All changes in one atomic operation where the provider allows it. */
  apply(zone: string, changes: DnsChange[], prerequisites?: DnsPrerequisite[]): Promise<void>;
  close(): Promise<void>;
}

export interface PluginDeps { log: Logger }

/** What `platform add --autodetect ADDRESS` gives a plugin: the address, its password for the test login, and where to look. */
export interface AutodetectRequest {
  address: string;
  password: string;
  /** DNS servers to ask (HOST:PORT); the system's resolvers when empty. */
  nameservers: string[];
  /** Sends the autoconfig HTTP requests to this HOST:PORT over plain HTTP instead of the domain's hosts over HTTPS (tests, a proxy). */
  autoconfigVia?: string;
  /** A CA (PEM file) the detected server's certificate may chain to. */
  caFile?: string;
  /** Skip the test login (the settings are stored untested). */
  skipLogin?: boolean;
}

export interface AutodetectResult {
  /** A configuration for this plugin (validated by the caller like any other). */
  config: Record<string, unknown>;
  /** Where the settings came from, in words, e.g. "SRV _imaps._tcp.example.com". */
  source: string;
  /** What was tried and why it was not used. */
  tried: string[];
  /** The test login's result: the server's capabilities, or absent when skipped. */
  login?: { user: string; capabilities: string[] };
}

export interface PluginModule<Cfg = unknown> {
  id: string;
  description: string;
  configSchema: ZodType<Cfg>;
  platform?(config: Cfg, deps: PluginDeps): PlatformConnector;
  dns?(config: Cfg, deps: PluginDeps): DnsProvider;
  /** Finds a platform configuration from an address's DNS (and tests it with a login). */
  autodetect?(request: AutodetectRequest, deps: PluginDeps): Promise<AutodetectResult>;
}
