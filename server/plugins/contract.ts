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

export interface PluginDeps { log: Logger }

export interface PluginModule<Cfg = unknown> {
  id: string;
  description: string;
  configSchema: ZodType<Cfg>;
  platform?(config: Cfg, deps: PluginDeps): PlatformConnector;
}
