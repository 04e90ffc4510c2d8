import type { NotMigratedItem } from '../../../server/plugins/contract.ts';
import { OvhApiError, type OvhClient } from '../client.ts';
import { toBytes, type Offer, type OvhConfig } from '../config.ts';
import { pathSegment } from '../signing.ts';
import type { TaskView } from '../tasks.ts';
import type { AccountInfo, DomainInfo, OfferApi, ServiceInfo } from './types.ts';

/** Exchange, E-mail Pro and the new MX Plan share one API shape under different prefixes. */
export interface HostedShape {
  offer: Offer;
  label: string;
  prefix: string;
  /** POST …/domain exists (not on MX Plan, where the domain is fixed to the service). */
  postDomain: boolean;
  /** POST …/account exists and may be used (Exchange dedicated / provider-2010 only). */
  postAccount: (service: ServiceInfo) => boolean;
  /** Service-level lists whose entries are not migrated, e.g. { group: 'mailingList' }. */
  serviceLists: Partial<Record<'group' | 'externalContact', string>>;
  defaultLimitBytes: number | null;
  /** GET …/account/{a}/capabilities (MX Plan): allowed quotas. */
  capabilities: boolean;
}

interface RawAccount {
  primaryEmailAddress: string; login: string; domain: string; configured: boolean; state: string;
  taskPendingId?: number | null; quota?: number | null; currentUsage?: number | null;
}

interface RawDomain {
  name: string; type?: string | null; state: string; taskPendingId?: number | null; mxRelay?: string | null;
  cnameToCheck?: string | null; domainValidated?: boolean | null;
  mxIsValid?: boolean | null; spfIsValid?: boolean | null; srvIsValid?: boolean | null;
  expectedMX?: string[] | null; expectedSPF?: string | null; expectedAutodiscoverSRV?: string | null;
}

interface RawTask { id: number; function: string; status: TaskView['status'] }

const enc = pathSegment;

export class HostedOffer implements OfferApi {
  readonly offer: Offer;
  readonly label: string;
  readonly prefix: string;
  readonly canRename = true;
  readonly canAttachDomain = true;
  readonly hasAliases = true;
  readonly defaultLimitBytes: number | null;
  readonly postAccount: OfferApi['postAccount'];
  private serviceInfo: Promise<ServiceInfo> | undefined;
  private readonly serviceLevel = new Map<string, Promise<NotMigratedItem[]>>();

  constructor(private readonly client: OvhClient, private readonly config: OvhConfig, private readonly shape: HostedShape) {
    this.offer = shape.offer;
    this.label = shape.label;
    this.prefix = shape.prefix;
    this.defaultLimitBytes = shape.defaultLimitBytes;
    this.postAccount = this.createByPost.bind(this);
  }

  service(refresh = false): Promise<ServiceInfo> {
    if (!this.serviceInfo || refresh) {
      this.serviceInfo = this.client.get<{ hostname?: string | null; state: string; offer?: string | null }>(this.prefix)
        .then((s) => ({ hostname: s.hostname ?? null, state: s.state, offer: s.offer ?? null }));
      this.serviceInfo.catch(() => { this.serviceInfo = undefined; });
    }
    return this.serviceInfo;
  }

  async createsByPost(): Promise<boolean> {
    return this.shape.postAccount(await this.service());
  }

  domainPath(domain: string): string {
    return `${this.prefix}/domain/${enc(domain)}`;
  }

  async domain(name: string): Promise<DomainInfo | null> {
    const d = await this.client.getOrNull<RawDomain>(`${this.prefix}/domain/${enc(name)}`);
    if (!d) return null;
    return {
      name: d.name, type: d.type === 'authoritative' || d.type === 'nonAuthoritative' ? d.type : null, state: d.state,
      taskPendingId: d.taskPendingId || null, mxRelay: d.mxRelay ?? null, cnameToCheck: d.cnameToCheck ?? null, domainValidated: d.domainValidated ?? null,
      diagnostic: { mx: d.mxIsValid ?? null, spf: d.spfIsValid ?? null, srv: d.srvIsValid ?? null },
      expected: { mx: d.expectedMX ?? [], spf: d.expectedSPF ?? null, srv: d.expectedAutodiscoverSRV ?? null },
    };
  }

  async addDomain(name: string, type: 'nonAuthoritative', relay: string): Promise<TaskView | null> {
    if (!this.shape.postDomain) return null;
    // OVHcloud writes MX/SPF/autodiscover itself when asked; cutover plans DNS on its own, so it never asks.
    return this.client.post<RawTask>(`${this.prefix}/domain`, { name, type, mxRelay: relay, configureMx: false, configureAutodiscover: false });
  }

  async setDomain(name: string, fields: { type?: 'authoritative' | 'nonAuthoritative'; mxRelay?: string }): Promise<void> {
    await this.client.put(`${this.prefix}/domain/${enc(name)}`, fields);
  }

  async accounts(domain?: string): Promise<string[]> {
    const all = (await this.client.get<string[]>(`${this.prefix}/account`)).map((a) => a.toLowerCase());
    return domain ? all.filter((a) => a.endsWith(`@${domain.toLowerCase()}`)) : all;
  }

  async account(address: string): Promise<AccountInfo | null> {
    const a = await this.client.getOrNull<RawAccount>(`${this.prefix}/account/${enc(address)}`);
    if (!a) return null;
    return {
      address: a.primaryEmailAddress.toLowerCase(), login: a.login, domain: a.domain, configured: a.configured, state: a.state,
      taskPendingId: a.taskPendingId || null,
      quotaBytes: toBytes(a.quota ?? null, this.config.units.quota), usedBytes: toBytes(a.currentUsage ?? null, this.config.units.usage),
    };
  }

  async updateAccount(address: string, fields: { login: string; domain: string; displayName?: string }): Promise<void> {
    // The control panel sends the changed fields plus the current primaryEmailAddress.
    await this.client.put(`${this.prefix}/account/${enc(address)}`, { primaryEmailAddress: address, ...fields });
  }

  private async createByPost(login: string, domain: string, password: string, quotaBytes: number | null): Promise<TaskView | null> {
    if (!(await this.createsByPost())) return null;
    const quota = quotaBytes ? Math.max(1, Math.floor(quotaBytes / 1e9)) : undefined;
    return this.client.post<RawTask>(`${this.prefix}/account`, { login, domain, password, license: this.config.license, ...(quota && { quota }) });
  }

  changePassword(address: string, password: string): Promise<TaskView | null> {
    return this.client.post<RawTask>(`${this.prefix}/account/${enc(address)}/changePassword`, { password });
  }

  deleteAccount(address: string): Promise<TaskView | null> {
    return this.client.delete<RawTask>(`${this.prefix}/account/${enc(address)}`);
  }

  async task(id: number): Promise<TaskView> {
    const t = await this.client.getOrNull<RawTask>(`${this.prefix}/task/${id}`);
    return t ? { id: t.id, function: t.function, status: t.status } : { id, function: 'task', status: 'gone' };
  }

  async aliases(address: string): Promise<string[]> {
    return (await this.client.get<string[]>(`${this.prefix}/account/${enc(address)}/alias`)).map((a) => a.toLowerCase());
  }

  addAlias(address: string, alias: string): Promise<TaskView | null> {
    return this.client.post<RawTask>(`${this.prefix}/account/${enc(address)}/alias`, { alias });
  }

  deleteAlias(address: string, alias: string): Promise<TaskView | null> {
    return this.client.delete<RawTask>(`${this.prefix}/account/${enc(address)}/alias/${enc(alias)}`);
  }

  async notMigrated(address: string): Promise<NotMigratedItem[]> {
    const items: NotMigratedItem[] = (await this.aliases(address)).map((name) => ({ kind: 'alias', name }));
    for (const right of ['fullAccess', 'sendAs', 'sendOnBehalfTo'] as const) {
      const ids = await this.client.get<number[]>(`${this.prefix}/account/${enc(address)}/${right}`);
      for (const id of ids) items.push({ kind: 'delegation', name: `${right} #${id}`, detail: `account id ${id} holds ${right} on ${address}` });
    }
    const domain = address.slice(address.lastIndexOf('@') + 1);
    items.push(...await this.once(`footer:${domain}`, async () => {
      const footer = await this.client.getOrNull<{ name?: string }>(`${this.prefix}/domain/${enc(domain)}/disclaimer`);
      return footer ? [{ kind: 'footer' as const, name: domain, detail: 'a disclaimer (footer) is set on the domain' }] : [];
    }));
    for (const [kind, list] of Object.entries(this.shape.serviceLists) as Array<['group' | 'externalContact', string]>) {
      items.push(...await this.once(kind, async () => {
        const names = await this.client.get<string[]>(`${this.prefix}/${list}`);
        return names.map((name) => ({ kind, name, detail: `${kind === 'group' ? 'group' : 'external contact'} of ${this.label}` }));
      }));
    }
    return items;
  }

  /** Service-level findings are read once per connector, not once per mailbox. */
  private once(key: string, read: () => Promise<NotMigratedItem[]>): Promise<NotMigratedItem[]> {
    if (!this.serviceLevel.has(key)) {
      const pending = read();
      pending.catch(() => this.serviceLevel.delete(key));
      this.serviceLevel.set(key, pending);
    }
    return this.serviceLevel.get(key)!;
  }

  async limitFromApi(address: string | null): Promise<number | null> {
    if (!this.shape.capabilities || !address) return null;
    try {
      const caps = await this.client.get<{ quotas?: number[] | null }>(`${this.prefix}/account/${enc(address)}/capabilities`);
      const quotas = (caps.quotas ?? []).filter((q) => Number.isFinite(q));
      return quotas.length ? toBytes(Math.max(...quotas), this.config.units.quota) : null;
    } catch (err) {
      if (err instanceof OvhApiError && err.status === 404) return null;
      throw err;
    }
  }
}
