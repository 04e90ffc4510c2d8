import { randomBytes } from 'node:crypto';

/**
 * The fake OVHcloud customer account: applications and consumer keys, e-mail services with
 * their domains, accounts, slots and tasks, legacy MX Plan domains, DNS zones. Tasks finish
 * after a delay and only then apply their effect (a rename, a password, a reset), like the real
 * platform; a test can make the next task of a kind fail, or hold every task.
 */

export class FakeApiError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.message));
  }
}

export const notFound = (what: string) => new FakeApiError(404, { class: 'Client::NotFound', message: `The requested object (${what}) does not exist` });
export const conflict = (message: string) => new FakeApiError(409, { class: 'Client::Conflict::AlreadyExists', message });
export const badRequest = (message: string) => new FakeApiError(400, { class: 'Client::BadRequest', message });

/** Where accounts really live: a real Dovecot plays the platform's IMAP server. */
export interface MailBackend {
  ensureDomain(domain: string): Promise<void>;
  create(address: string, password: string | null, quotaBytes: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  setPassword(address: string, password: string): Promise<void>;
  remove(address: string): Promise<void>;
}

export type Family = 'exchange' | 'pro' | 'mxplan';
type TaskStatus = 'todo' | 'doing' | 'done' | 'error' | 'cancelled';

export interface FakeTask {
  id: number;
  function: string;
  status: TaskStatus;
  todoDate: string;
  finishDate: string | null;
  startAt: number;
  doneAt: number;
  fail?: 'error' | 'cancelled';
  held?: boolean;
  effect: () => Promise<void> | void;
  /** Clears the object's taskPendingId when the task ends, whatever the outcome. */
  release: () => void;
}

export interface FakeAccount {
  id: number;
  address: string;
  login: string;
  domain: string;
  configured: boolean;
  state: string;
  taskPendingId: number | null;
  /** In the API's quota unit (GB). */
  quota: number;
  /** In the API's usage unit (MB): what the platform reports, whatever the backend holds. */
  currentUsage: number;
  password: string | null;
  displayName: string | null;
  aliases: Map<string, { creationDate: string; taskPendingId: number }>;
  fullAccess: number[];
  sendAs: number[];
  sendOnBehalfTo: number[];
  creationDate: string;
}

export interface FakeDomain {
  name: string;
  type: 'authoritative' | 'nonAuthoritative';
  state: string;
  mxRelay: string | null;
  taskPendingId: number | null;
  cnameToCheck: string | null;
  domainValidated: boolean;
  mxIsValid: boolean;
  spfIsValid: boolean;
  srvIsValid: boolean;
  expectedMX: string[];
  expectedSPF: string;
  expectedAutodiscoverSRV: string;
  disclaimer: boolean;
}

export interface FakeService {
  family: Family;
  name: string;
  organization: string;
  hostname: string;
  /** Exchange: hosted | provider | dedicated | dedicatedCluster. */
  offer: string;
  state: string;
  domains: Map<string, FakeDomain>;
  accounts: Map<string, FakeAccount>;
  tasks: Map<number, FakeTask>;
  externalContacts: string[];
  mailingLists: string[];
  /** MX Plan …/capabilities: allowed quotas (GB). */
  quotas: number[];
  backend?: MailBackend;
}

export interface LegacyAccount { accountName: string; size: number; password: string; isBlocked: boolean; description: string; usedBytes: number }
export interface LegacyTask { id: number; action: string; name: string; date: string; doneAt: number; held?: boolean; effect: () => Promise<void> | void }
export interface FakeLegacyDomain {
  domain: string;
  status: string;
  allowedAccountSize: number[];
  accounts: Map<string, LegacyAccount>;
  tasks: Map<number, LegacyTask>;
  redirections: Map<string, { from: string; to: string }>;
  responders: string[];
  mailingLists: string[];
  isMXValid: string;
  isSPFValid: string;
  backend?: MailBackend;
}

export interface FakeRecord { id: number; fieldType: string; subDomain: string; target: string; ttl: number }
export interface FakeZone { name: string; records: Map<number, FakeRecord>; refreshes: number; nameServers: string[] }

export interface AccessRule { method: string; path: string }
export interface FakeCredential {
  consumerKey: string;
  applicationKey: string;
  credentialId: number;
  state: 'pendingValidation' | 'validated' | 'expired' | 'refused';
  rules: AccessRule[];
  /** ms since epoch; null = never. */
  expiration: number | null;
  creation: string;
  lastUse: string | null;
  validationUrl: string;
}

export interface FakeOptions {
  /** How long a platform task takes (ms). */
  taskDelayMs?: number;
  /** Seconds the server clock is ahead of this machine's (what /auth/time reveals). */
  clockSkewSeconds?: number;
  /** A timestamp further than this from the server's time is "out of time". */
  timeWindowSeconds?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class FakeState {
  readonly apps = new Map<string, { secret: string; id: number }>();
  readonly credentials = new Map<string, FakeCredential>();
  readonly services = new Map<string, FakeService>();
  readonly legacy = new Map<string, FakeLegacyDomain>();
  readonly zones = new Map<string, FakeZone>();
  taskDelayMs: number;
  clockSkewSeconds: number;
  timeWindowSeconds: number;
  /** Every task created from now on stays "todo" (to test bounded waits). */
  holdTasks = false;
  private readonly failures: Array<{ fn: string; status: 'error' | 'cancelled' }> = [];
  private nextId = 1000;

  constructor(opts: FakeOptions = {}) {
    this.taskDelayMs = opts.taskDelayMs ?? 150;
    this.clockSkewSeconds = opts.clockSkewSeconds ?? 0;
    this.timeWindowSeconds = opts.timeWindowSeconds ?? 180;
  }

  id(): number {
    return this.nextId++;
  }

  /** The server's clock, in seconds. */
  serverTime(): number {
    return Math.floor(Date.now() / 1000) + this.clockSkewSeconds;
  }

  // ----- applications and consumer keys -----

  addApplication(key = randomBytes(8).toString('hex'), secret = randomBytes(16).toString('hex')): { key: string; secret: string } {
    this.apps.set(key, { secret, id: this.id() });
    return { key, secret };
  }

  addCredential(applicationKey: string, opts: { rules?: AccessRule[]; state?: FakeCredential['state']; expiresInMs?: number | null; consumerKey?: string } = {}): FakeCredential {
    const consumerKey = opts.consumerKey ?? randomBytes(16).toString('hex');
    const credential: FakeCredential = {
      consumerKey, applicationKey, credentialId: this.id(), state: opts.state ?? 'validated',
      rules: opts.rules ?? [{ method: 'GET', path: '/*' }, { method: 'POST', path: '/*' }, { method: 'PUT', path: '/*' }, { method: 'DELETE', path: '/*' }],
      expiration: opts.expiresInMs === undefined || opts.expiresInMs === null ? null : Date.now() + opts.expiresInMs,
      creation: iso(Date.now()), lastUse: null, validationUrl: `https://fake.ovh.invalid/auth/?credentialToken=${randomBytes(8).toString('hex')}`,
    };
    this.credentials.set(consumerKey, credential);
    return credential;
  }

  validate(consumerKey: string): void {
    const c = this.credentials.get(consumerKey);
    if (!c) throw new Error(`no credential ${consumerKey}`);
    c.state = 'validated';
  }

  expire(consumerKey: string): void {
    const c = this.credentials.get(consumerKey);
    if (!c) throw new Error(`no credential ${consumerKey}`);
    c.expiration = Date.now() - 1000;
  }

  // ----- tasks -----

  /** The next task with this function ends in `status` without its effect. */
  failNextTask(fn: string, status: 'error' | 'cancelled' = 'error'): void {
    this.failures.push({ fn, status });
  }

  createTask(service: FakeService, fn: string, effect: FakeTask['effect'], release: FakeTask['release']): FakeTask {
    const now = Date.now();
    const failure = this.failures.findIndex((f) => f.fn === fn);
    const task: FakeTask = {
      id: this.id(), function: fn, status: 'todo', todoDate: iso(now), finishDate: null,
      startAt: now + this.taskDelayMs / 3, doneAt: now + this.taskDelayMs, held: this.holdTasks, effect, release,
      ...(failure >= 0 && { fail: this.failures.splice(failure, 1)[0]!.status }),
    };
    service.tasks.set(task.id, task);
    return task;
  }

  createLegacyTask(domain: FakeLegacyDomain, action: string, name: string, effect: LegacyTask['effect']): LegacyTask {
    const now = Date.now();
    const task: LegacyTask = { id: this.id(), action, name, date: iso(now), doneAt: now + this.taskDelayMs, held: this.holdTasks, effect };
    domain.tasks.set(task.id, task);
    return task;
  }

  private ticking: Promise<void> = Promise.resolve();

  /** Moves every due task forward; effects run in creation order, one at a time. */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => this.advance());
    return this.ticking;
  }

  private async advance(): Promise<void> {
    const now = Date.now();
    for (const service of this.services.values()) {
      for (const task of [...service.tasks.values()].sort((a, b) => a.id - b.id)) {
        if (task.status === 'done' || task.status === 'error' || task.status === 'cancelled' || task.held) continue;
        if (now >= task.doneAt) {
          if (task.fail) task.status = task.fail;
          else {
            await task.effect();
            task.status = 'done';
          }
          task.finishDate = iso(now);
          task.release();
        } else if (now >= task.startAt) task.status = 'doing';
      }
    }
    for (const domain of this.legacy.values()) {
      for (const task of [...domain.tasks.values()].sort((a, b) => a.id - b.id)) {
        if (task.held || now < task.doneAt) continue;
        await task.effect();
        domain.tasks.delete(task.id);
      }
    }
  }

  /** Lets held tasks run (they finish on the next request after their delay). */
  releaseTasks(): void {
    this.holdTasks = false;
    for (const service of this.services.values()) for (const task of service.tasks.values()) if (task.held) { task.held = false; task.doneAt = Date.now() + this.taskDelayMs; }
    for (const domain of this.legacy.values()) for (const task of domain.tasks.values()) if (task.held) { task.held = false; task.doneAt = Date.now() + this.taskDelayMs; }
  }

  // ----- e-mail services -----

  serviceKey(family: Family, organization: string, name: string): string {
    return family === 'exchange' ? `exchange:${organization}/${name}` : `${family}:${name}`;
  }

  addService(opts: {
    family: Family; name: string; organization?: string; hostname?: string; offer?: string; backend?: MailBackend;
    domains?: Array<Partial<FakeDomain> & { name: string }>;
    accounts?: Array<{ address: string; password: string; quotaGB?: number; usageMB?: number; aliases?: string[]; delegations?: number }>;
    slots?: number; slotQuotaGB?: number; externalContacts?: string[]; mailingLists?: string[]; quotas?: number[];
  }): FakeService {
    const service: FakeService = {
      family: opts.family, name: opts.name, organization: opts.organization ?? opts.name,
      hostname: opts.hostname ?? (opts.family === 'exchange' ? 'ex5.mail.ovh.net' : opts.family === 'pro' ? 'pro1.mail.ovh.net' : 'ssl0.ovh.net'),
      offer: opts.offer ?? (opts.family === 'exchange' ? 'hosted' : opts.family === 'pro' ? 'emailpro' : 'MXPLAN'), state: 'ok',
      domains: new Map(), accounts: new Map(), tasks: new Map(), externalContacts: opts.externalContacts ?? [], mailingLists: opts.mailingLists ?? [],
      quotas: opts.quotas ?? [1, 2.5, 5], backend: opts.backend,
    };
    for (const d of opts.domains ?? []) service.domains.set(d.name, this.newDomain(d.name, d));
    for (const a of opts.accounts ?? []) {
      const account = this.newAccount(a.address, { configured: true, quota: a.quotaGB ?? 50, currentUsage: a.usageMB ?? 0, password: a.password });
      for (const alias of a.aliases ?? []) account.aliases.set(alias, { creationDate: iso(Date.now()), taskPendingId: 0 });
      for (let i = 0; i < (a.delegations ?? 0); i++) account.fullAccess.push(this.id());
      service.accounts.set(account.address, account);
    }
    for (let i = 0; i < (opts.slots ?? 0); i++) this.addSlot(service, opts.slotQuotaGB);
    this.services.set(this.serviceKey(service.family, service.organization, service.name), service);
    return service;
  }

  addSlot(service: FakeService, quotaGB?: number): FakeAccount {
    const slot = this.newAccount(`${randomBytes(5).toString('hex')}@configureme.me`, { configured: false, quota: quotaGB ?? (service.family === 'mxplan' ? 5 : service.family === 'pro' ? 10 : 50) });
    service.accounts.set(slot.address, slot);
    return slot;
  }

  newDomain(name: string, over: Partial<FakeDomain> = {}): FakeDomain {
    return {
      name, type: 'authoritative', state: 'ok', mxRelay: null, taskPendingId: null, cnameToCheck: null, domainValidated: true,
      mxIsValid: false, spfIsValid: false, srvIsValid: false,
      expectedMX: ['mx0.mail.ovh.net', 'mx1.mail.ovh.net', 'mx2.mail.ovh.net', 'mx3.mail.ovh.net', 'mx4.mail.ovh.net'],
      expectedSPF: 'IN TXT v=spf1 include:mx.ovh.com ~all', expectedAutodiscoverSRV: '_autodiscover._tcp IN SRV 0 0 443 autodiscover.mail.ovh.net.', disclaimer: false,
      ...over,
    };
  }

  newAccount(address: string, over: Partial<FakeAccount>): FakeAccount {
    const at = address.lastIndexOf('@');
    return {
      id: this.id(), address: address.toLowerCase(), login: address.slice(0, at), domain: address.slice(at + 1), configured: true, state: 'ok', taskPendingId: null,
      quota: 50, currentUsage: 0, password: null, displayName: null, aliases: new Map(), fullAccess: [], sendAs: [], sendOnBehalfTo: [], creationDate: iso(Date.now()),
      ...over,
    };
  }

  /** Another service of this customer that holds `domain` as authoritative (the guide's "authoritative domain detected"). */
  authoritativeHolder(domain: string, except: FakeService): FakeService | undefined {
    return [...this.services.values()].find((s) => s !== except && s.domains.get(domain)?.type === 'authoritative');
  }

  // ----- legacy MX Plan -----

  addLegacyDomain(opts: { domain: string; backend?: MailBackend; accounts?: Array<{ name: string; password: string; sizeBytes?: number; usedBytes?: number }>; allowedAccountSize?: number[]; redirections?: Array<{ from: string; to: string }>; mailingLists?: string[] }): FakeLegacyDomain {
    const d: FakeLegacyDomain = {
      domain: opts.domain, status: 'ok', allowedAccountSize: opts.allowedAccountSize ?? [2_500_000_000, 5_000_000_000], accounts: new Map(), tasks: new Map(),
      redirections: new Map((opts.redirections ?? []).map((r) => [String(this.id()), r])), responders: [], mailingLists: opts.mailingLists ?? [],
      isMXValid: 'valid', isSPFValid: 'valid', backend: opts.backend,
    };
    for (const a of opts.accounts ?? []) d.accounts.set(a.name, { accountName: a.name, size: a.sizeBytes ?? 5_000_000_000, password: a.password, isBlocked: false, description: '', usedBytes: a.usedBytes ?? 0 });
    this.legacy.set(opts.domain, d);
    return d;
  }

  // ----- DNS zones -----

  addZone(name: string, records: Array<Omit<FakeRecord, 'id'>> = []): FakeZone {
    const zone: FakeZone = { name, records: new Map(), refreshes: 0, nameServers: ['dns100.ovh.net', 'ns100.ovh.net'] };
    for (const r of records) {
      const id = this.id();
      zone.records.set(id, { id, ...r });
    }
    this.zones.set(name, zone);
    return zone;
  }
}
