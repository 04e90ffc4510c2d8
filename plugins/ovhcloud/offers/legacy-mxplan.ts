import type { NotMigratedItem } from '../../../server/plugins/contract.ts';
import { CutoverError } from '../../../server/errors.ts';
import type { OvhClient } from '../client.ts';
import type { OvhConfig } from '../config.ts';
import { pathSegment } from '../signing.ts';
import type { TaskView } from '../tasks.ts';
import type { AccountInfo, DomainInfo, OfferApi, ServiceInfo } from './types.ts';

/** The guide's MX Plan limit applies to the legacy offer as well. */
const LEGACY_LIMIT_BYTES = 5e9;

const enc = pathSegment;

function split(address: string): { name: string; domain: string } {
  const at = address.lastIndexOf('@');
  return { name: address.slice(0, at), domain: address.slice(at + 1) };
}

interface TaskPop { id: number; action: string; domain: string; name: string }

const diagnose = (v: string | null | undefined): boolean | null => (v === 'valid' ? true : v === 'invalid' || v === 'checkFail' || v === 'none' ? false : null);

/**
 * The legacy MX Plan API (/email/domain/{domain}): the service is the domain. `accountName` is
 * read-only, so an account cannot be renamed through the API (rename-source becomes manual),
 * and the domain has no authoritative/non-authoritative mode to set (attach-domain too).
 * Its tasks (TaskPop) carry no status: a task is finished once it is no longer listed.
 */
export class LegacyMxPlanOffer implements OfferApi {
  readonly offer = 'mxplan-legacy' as const;
  readonly label = 'MX Plan (legacy /email/domain)';
  readonly prefix = '/email/domain';
  readonly canRename = false;
  readonly canAttachDomain = false;
  readonly hasAliases = false;
  readonly defaultLimitBytes = LEGACY_LIMIT_BYTES;
  readonly postAccount: OfferApi['postAccount'];
  /** TaskPop ids are per domain: remember which domain each task came from. */
  private readonly taskDomains = new Map<number, string>();
  private readonly domainLevel = new Map<string, Promise<NotMigratedItem[]>>();

  constructor(private readonly client: OvhClient, private readonly config: OvhConfig) {
    void this.config;
    this.postAccount = this.create.bind(this);
  }

  async service(): Promise<ServiceInfo> {
    await this.client.get<string[]>('/email/domain');
    return { hostname: null, state: 'ok', offer: 'mxplan-legacy' };
  }

  async createsByPost(): Promise<boolean> {
    return true;
  }

  domainPath(domain: string): string {
    return `/email/domain/${enc(domain)}`;
  }

  async domain(name: string): Promise<DomainInfo | null> {
    const d = await this.client.getOrNull<{ domain: string; status: string; isMXValid?: string; isSPFValid?: string }>(`/email/domain/${enc(name)}`);
    if (!d) return null;
    return {
      name: d.domain, type: null, state: d.status, taskPendingId: null, mxRelay: null, cnameToCheck: null, domainValidated: null,
      diagnostic: { mx: diagnose(d.isMXValid), spf: diagnose(d.isSPFValid), srv: null },
      expected: { mx: [], spf: null, srv: null },
    };
  }

  /** GET …/recommendedDNSRecords: the records the platform wants, as zone records. */
  async recommendedRecords(domain: string): Promise<Array<{ fieldType: string; subDomain?: string | null; target: string }>> {
    return this.client.get(`/email/domain/${enc(domain)}/recommendedDNSRecords`);
  }

  async addDomain(): Promise<TaskView | null> {
    return null;
  }

  async setDomain(name: string): Promise<void> {
    throw new CutoverError('PLATFORM_FAILED', { platform: 'ovhcloud', detail: `the legacy MX Plan API has no domain mode to change for ${name}` });
  }

  async accounts(domain?: string): Promise<string[]> {
    if (!domain) return [];
    const names = await this.client.get<string[]>(`/email/domain/${enc(domain)}/account`);
    return names.map((n) => `${n}@${domain}`.toLowerCase());
  }

  async account(address: string): Promise<AccountInfo | null> {
    const { name, domain } = split(address);
    const a = await this.client.getOrNull<{ accountName: string; domain: string; size: number; isBlocked: boolean }>(`/email/domain/${enc(domain)}/account/${enc(name)}`);
    if (!a) return null;
    const usage = await this.client.getOrNull<{ quota?: number | null }>(`/email/domain/${enc(domain)}/account/${enc(name)}/usage`);
    return {
      address: `${a.accountName}@${a.domain}`.toLowerCase(), login: a.accountName, domain: a.domain, configured: true,
      state: a.isBlocked ? 'blocked' : 'ok', taskPendingId: null, quotaBytes: a.size ?? null, usedBytes: typeof usage?.quota === 'number' ? usage.quota : null,
    };
  }

  async updateAccount(address: string): Promise<void> {
    throw new CutoverError('PLATFORM_FAILED', { platform: 'ovhcloud', detail: `the legacy MX Plan API cannot rename ${address} (accountName is read-only)` });
  }

  private async create(login: string, domain: string, password: string, quotaBytes: number | null): Promise<TaskView | null> {
    const size = await this.pickSize(domain, quotaBytes);
    return this.track(domain, await this.client.post<TaskPop>(`/email/domain/${enc(domain)}/account`, { accountName: login, password, ...(size && { size }) }));
  }

  /** `size` must be one of allowedAccountSize: the smallest that holds the wanted quota, else the largest. */
  private async pickSize(domain: string, quotaBytes: number | null): Promise<number | null> {
    const d = await this.client.get<{ allowedAccountSize?: number[] | null }>(`/email/domain/${enc(domain)}`);
    const allowed = [...(d.allowedAccountSize ?? [])].sort((a, b) => a - b);
    if (!allowed.length) return null;
    return allowed.find((s) => quotaBytes !== null && s >= quotaBytes) ?? allowed[allowed.length - 1]!;
  }

  async changePassword(address: string, password: string): Promise<TaskView | null> {
    const { name, domain } = split(address);
    return this.track(domain, await this.client.post<TaskPop>(`/email/domain/${enc(domain)}/account/${enc(name)}/changePassword`, { password }));
  }

  async deleteAccount(address: string): Promise<TaskView | null> {
    const { name, domain } = split(address);
    return this.track(domain, await this.client.delete<TaskPop>(`/email/domain/${enc(domain)}/account/${enc(name)}`));
  }

  private track(domain: string, task: TaskPop): TaskView {
    this.taskDomains.set(task.id, domain);
    return { id: task.id, function: task.action, status: 'todo' };
  }

  async task(id: number): Promise<TaskView> {
    const domain = this.taskDomains.get(id);
    if (!domain) return { id, function: 'task', status: 'gone' };
    const t = await this.client.getOrNull<TaskPop>(`/email/domain/${enc(domain)}/task/account/${id}`);
    return t ? { id, function: t.action, status: 'doing' } : { id, function: 'task', status: 'gone' };
  }

  async aliases(): Promise<string[]> {
    return [];
  }

  async addAlias(): Promise<TaskView | null> {
    return null;
  }

  async deleteAlias(): Promise<TaskView | null> {
    return null;
  }

  async notMigrated(address: string): Promise<NotMigratedItem[]> {
    const { name, domain } = split(address);
    const items: NotMigratedItem[] = [];
    for (const id of await this.client.get<string[]>(`/email/domain/${enc(domain)}/redirection`, { from: address })) items.push({ kind: 'redirection', name: String(id), detail: `redirection from ${address}` });
    for (const r of await this.client.get<string[]>(`/email/domain/${enc(domain)}/responder`, { account: name })) items.push({ kind: 'responder', name: r });
    for (const f of await this.client.get<string[]>(`/email/domain/${enc(domain)}/account/${enc(name)}/filter`)) items.push({ kind: 'filter', name: f });
    for (const d of await this.client.get<string[]>(`/email/domain/${enc(domain)}/account/${enc(name)}/delegation`)) items.push({ kind: 'delegation', name: d });
    if (!this.domainLevel.has(domain)) {
      const lists = this.client.get<string[]>(`/email/domain/${enc(domain)}/mailingList`).then((ls) => ls.map((l) => ({ kind: 'mailingList' as const, name: l })));
      lists.catch(() => this.domainLevel.delete(domain));
      this.domainLevel.set(domain, lists);
    }
    items.push(...await this.domainLevel.get(domain)!);
    return items;
  }

  async limitFromApi(address: string | null): Promise<number | null> {
    if (!address) return null;
    const d = await this.client.getOrNull<{ allowedAccountSize?: number[] | null }>(`/email/domain/${enc(split(address).domain)}`);
    const sizes = d?.allowedAccountSize ?? [];
    return sizes.length ? Math.max(...sizes) : null;
  }
}
