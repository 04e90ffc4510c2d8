import type { NotMigratedItem } from '../../../server/plugins/contract.ts';
import type { OvhClient } from '../client.ts';
import type { Offer, OvhConfig } from '../config.ts';
import type { TaskView } from '../tasks.ts';

/** The placeholder domain of pre-ordered, not yet configured accounts on hosted offers. */
export const PLACEHOLDER_DOMAIN = 'configureme.me';

export interface AccountInfo {
  address: string;
  login: string;
  domain: string;
  /** false for a pre-ordered slot still on @configureme.me. */
  configured: boolean;
  state: string;
  taskPendingId: number | null;
  quotaBytes: number | null;
  usedBytes: number | null;
}

export interface DomainInfo {
  name: string;
  type: 'authoritative' | 'nonAuthoritative' | null;
  state: string;
  taskPendingId: number | null;
  mxRelay: string | null;
  cnameToCheck: string | null;
  domainValidated: boolean | null;
  diagnostic: { mx: boolean | null; spf: boolean | null; srv: boolean | null };
  /** The API's expected records, raw (their format is parsed in expected-dns.ts). */
  expected: { mx: string[]; spf: string | null; srv: string | null };
}

export interface ServiceInfo {
  hostname: string | null;
  state: string;
  /** Exchange: hosted | provider | dedicated | dedicatedCluster; others: the offer's own word. */
  offer: string | null;
}

/**
 * What one OVHcloud e-mail offer can do, in its own API's terms. The platform connector
 * (platform.ts) turns these into the workflow's idempotent operations.
 */
export interface OfferApi {
  readonly offer: Offer;
  /** e.g. "Exchange service hosted-ab12345-1", for messages. */
  readonly label: string;
  /** Path of the service, e.g. /email/pro/emailpro-ab12345-1 (for access rules and messages). */
  readonly prefix: string;
  readonly canRename: boolean;
  readonly canAttachDomain: boolean;
  readonly hasAliases: boolean;
  /** The guide's limit for this offer (E-mail Pro 10 GB, MX Plan 5 GB), null when none. */
  readonly defaultLimitBytes: number | null;
  /** GET of the service (kept for the connector's life unless `refresh`). */
  service(refresh?: boolean): Promise<ServiceInfo>;
  /** Whether new accounts are created with POST (no pre-ordered slots to count). */
  createsByPost(): Promise<boolean>;
  /** The API path of a domain of this service, for messages. */
  domainPath(domain: string): string;
  domain(name: string): Promise<DomainInfo | null>;
  /** POST …/domain; returns the task, or null where the offer has no POST (the domain is fixed). */
  addDomain(name: string, type: 'nonAuthoritative', relay: string): Promise<TaskView | null>;
  /** PUT …/domain/{d} with the writable fields. */
  setDomain(name: string, fields: { type?: 'authoritative' | 'nonAuthoritative'; mxRelay?: string }): Promise<void>;
  /** Every primary address of the service, slots included. */
  accounts(domain?: string): Promise<string[]>;
  account(address: string): Promise<AccountInfo | null>;
  /** PUT …/account/{address} {login, domain} (a rename, or configuring a slot). */
  updateAccount(address: string, fields: { login: string; domain: string; displayName?: string }): Promise<void>;
  /** Creation where the offer has POST …/account; null when it works by slots. */
  postAccount: ((login: string, domain: string, password: string, quotaBytes: number | null) => Promise<TaskView | null>) | null;
  changePassword(address: string, password: string): Promise<TaskView | null>;
  deleteAccount(address: string): Promise<TaskView | null>;
  task(id: number): Promise<TaskView>;
  aliases(address: string): Promise<string[]>;
  addAlias(address: string, alias: string): Promise<TaskView | null>;
  deleteAlias(address: string, alias: string): Promise<TaskView | null>;
  notMigrated(address: string): Promise<NotMigratedItem[]>;
  /** Legacy MX Plan: GET …/recommendedDNSRecords (zone records the platform wants). */
  recommendedRecords?(domain: string): Promise<Array<{ fieldType: string; subDomain?: string | null; target: string }>>;
  /** The largest size an account at `address` may get, from the API where it says (MX Plan capabilities, legacy allowedAccountSize). */
  limitFromApi(address: string | null): Promise<number | null>;
}

export interface OfferDeps { client: OvhClient; config: OvhConfig }
