import type { ZodType } from 'zod';
import type { Logger } from '../log.ts';

export type TlsMode = 'tls' | 'starttls' | 'none';

export interface ImapEndpoint {
  host: string;
  port: number;
  security: TlsMode;
  tlsVerify: boolean;
  ca?: string;
  auth: { user: string; pass: string };
}

export interface Account {
  address: string;
  active: boolean;
  quotaBytes: number | null;
}

export interface MxRecord { priority: number; exchange: string }

export interface ExpectedDns {
  mx: MxRecord[];
  spfIncludes: string[];
}

export interface PlatformCapabilities {
  attachDomain: boolean;
  renameAccount: boolean;
  createAccount: boolean;
  resetAccount: boolean;
  listAccounts: boolean;
  masterUser: boolean;
  maxMailboxBytes?: number;
}

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
  /** IMAP access to `address`; `password` is the user's own, needed only without a master user. */
  imapEndpoint(address: string, password?: string): Promise<ImapEndpoint>;
  expectedDns(domain: string): Promise<ExpectedDns>;
  /** Host that receives mail for this platform's domains: the relay target when another platform attaches the domain. */
  mailHost(domain: string): Promise<string>;
  close(): Promise<void>;
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

export interface PluginModule<Cfg = unknown> {
  id: string;
  description: string;
  configSchema: ZodType<Cfg>;
  platform?(config: Cfg, deps: PluginDeps): PlatformConnector;
  dns?(config: Cfg, deps: PluginDeps): DnsProvider;
}
