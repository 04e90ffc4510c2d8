import { crashpoint } from '../../server/crashpoint.ts';
import { CutoverError } from '../../server/errors.ts';
import type { Logger } from '../../server/log.ts';
import type { Account, ExpectedDns, ImapEndpoint, NewAccount, NotMigratedItem, PlatformCapabilities, PlatformConnector, PlatformDnsDiagnostic } from '../../server/plugins/contract.ts';
import { OvhApiError, toCutoverError, type OvhClient } from './client.ts';
import type { OvhConfig } from './config.ts';
import { expectedFromApi, parseExpectedMx, parseExpectedSpf, parseExpectedSrv, template } from './expected-dns.ts';
import { imapEndpointFor } from './imap-hosts.ts';
import { PLACEHOLDER_DOMAIN, type AccountInfo, type OfferApi } from './offers/types.ts';
import { pollUntil, waitForTask, type PollOptions, type TaskView } from './tasks.ts';

/** The control panel retries changePassword up to 10 times, 1 s apart, while a rename is applied. */
const PASSWORD_ATTEMPTS = 10;

const norm = (name: string | null | undefined) => (name ?? '').trim().toLowerCase().replace(/\.$/, '');

function split(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

const isSlot = (address: string) => address.toLowerCase().endsWith(`@${PLACEHOLDER_DOMAIN}`);

/** The API refuses to act on an object that still has a task in flight; that is worth a retry, not a failure. */
function busy(err: unknown): boolean {
  return err instanceof OvhApiError && (err.status === 409 || /pending task|task .*(pending|in progress)|currently|already being/i.test(err.apiMessage));
}

function authoritativeElsewhere(err: unknown): err is OvhApiError {
  return err instanceof OvhApiError && /authoritative domain/i.test(err.apiMessage);
}

/**
 * One OVHcloud e-mail service as a cutover platform. Every operation first looks whether its
 * effect is already there (an account under the new address, a domain already
 * non-authoritative, an alias already present) and follows a task already in flight instead of
 * starting a second one, so a step can be re-run at any point.
 */
export class OvhPlatform implements PlatformConnector {
  readonly capabilities: PlatformCapabilities;
  private readonly poll: PollOptions;
  /** Slots are picked one at a time within a process, so two mailboxes never configure the same one. */
  private slotLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: OvhClient, private readonly offer: OfferApi, private readonly config: OvhConfig, private readonly log: Logger) {
    this.capabilities = {
      attachDomain: offer.canAttachDomain,
      renameAccount: offer.canRename,
      createAccount: true,
      resetAccount: true,
      listAccounts: true,
      masterUser: false,
      maxMailboxBytes: config.maxMailboxBytes ?? offer.defaultLimitBytes ?? undefined,
    };
    this.poll = { timeoutMs: config.taskWaitSeconds * 1000, intervalMs: config.pollIntervalMs };
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CutoverError) throw err;
      const mapped = toCutoverError(err, this.client.endpoint, `${this.offer.label}: ${what}`);
      if (busy(err)) return Promise.reject(new CutoverError(mapped.code, mapped.params, { retryable: true, cause: err }));
      throw mapped;
    }
  }

  private wait(task: TaskView | null, what: string): Promise<TaskView | null> {
    if (!task) return Promise.resolve(null);
    return waitForTask(() => this.offer.task(task.id), what, this.poll);
  }

  private waitId(id: number | null, what: string): Promise<TaskView | null> {
    return id ? waitForTask(() => this.offer.task(id), what, this.poll) : Promise.resolve(null);
  }

  /** Waits until `check` holds; at the deadline the step is told to come back later (retryable). */
  private async settle(check: () => Promise<boolean>, what: string): Promise<void> {
    if (await pollUntil(check, this.poll)) return;
    throw new CutoverError('PLATFORM_TASK_PENDING', { platform: 'ovhcloud', task: '(state)', what, status: 'not ok yet', seconds: this.config.taskWaitSeconds }, { retryable: true });
  }

  testConnection(): Promise<void> {
    return this.guard('service', async () => { await this.offer.service(true); });
  }

  domainExists(domain: string): Promise<boolean> {
    return this.guard(`domain ${domain}`, async () => (await this.offer.domain(domain)) !== null);
  }

  attachDomain(domain: string, mode: 'nonAuthoritative', relayHost: string): Promise<{ state: 'ok' | 'pending' }> {
    return this.guard(`attach ${domain}`, async () => {
      try {
        let d = await this.offer.domain(domain);
        if (!d) {
          const task = await this.claim(domain, relayHost, () => this.offer.addDomain(domain, mode, relayHost));
          if (task === null) {
            throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: `${this.offer.label} (the domain of an MX Plan service is fixed to it)` });
          }
          await this.wait(task, `domain ${domain}`);
          d = await this.offer.domain(domain);
        } else if (d.type !== mode || norm(d.mxRelay) !== norm(relayHost)) {
          await this.waitId(d.taskPendingId, `domain ${domain}`);
          await this.claim(domain, relayHost, async () => { await this.offer.setDomain(domain, { type: mode, mxRelay: relayHost }); return null; });
          d = await this.offer.domain(domain);
        }
        if (d?.taskPendingId) await this.waitId(d.taskPendingId, `domain ${domain}`);
        const ok = await pollUntil(async () => (await this.offer.domain(domain))?.state === 'ok', this.poll);
        if (!ok) return { state: 'pending' as const };
        if (d?.cnameToCheck && d.domainValidated === false) {
          this.log.warn({ domain, cname: d.cnameToCheck }, `OVHcloud asks for the ownership record ${d.cnameToCheck}.${domain} CNAME ovh.com.`);
        }
        return { state: 'ok' as const };
      } catch (err) {
        if (err instanceof CutoverError && err.code === 'PLATFORM_TASK_PENDING') return { state: 'pending' as const };
        throw err;
      }
    });
  }

  /** POST or PUT a domain; "authoritative domain detected" becomes an error that names the fix. */
  private async claim(domain: string, relayHost: string, call: () => Promise<TaskView | null>): Promise<TaskView | null> {
    try {
      return await call();
    } catch (err) {
      if (!authoritativeElsewhere(err)) throw err;
      throw new CutoverError('DOMAIN_AUTHORITATIVE_ELSEWHERE', {
        platform: this.offer.label, domain,
        detail: `OVHcloud answered "${err.apiMessage}": another platform holds ${domain} as authoritative, so it would not relay unknown recipients`,
        fix: `switch ${domain} to non-authoritative on the platform that holds it, relaying to ${relayHost}: `
          + `cutover ovh domain-mode --platform OTHER --domain ${domain} --non-authoritative --relay ${this.mailHostSync()} `
          + `(API: PUT …/domain/${domain} {"type":"nonAuthoritative"}; control panel: the service › Associated domains › Modify), then: cutover retry MAILBOX`,
      }, { cause: err });
    }
  }

  listAccounts(domain: string): Promise<Account[]> {
    return this.guard(`accounts of ${domain}`, async () => {
      const result: Account[] = [];
      for (const address of (await this.offer.accounts(domain)).filter((a) => !isSlot(a))) {
        const info = await this.offer.account(address);
        if (info && info.configured) result.push(toAccount(info));
      }
      return result;
    });
  }

  getAccount(address: string): Promise<Account | null> {
    return this.guard(`account ${address}`, async () => {
      const info = await this.offer.account(address);
      return info && info.configured ? toAccount(info) : null;
    });
  }

  renameAccount(from: string, to: string): Promise<{ renamed: boolean }> {
    return this.guard(`rename ${from} to ${to}`, async () => {
      if (!this.offer.canRename) throw new CutoverError('PLATFORM_FAILED', { platform: 'ovhcloud', detail: `${this.offer.label} cannot rename accounts through the API` });
      const target = await this.offer.account(to);
      if (target) {
        await this.waitId(target.taskPendingId, `account ${to}`);
        return { renamed: false };
      }
      const source = await this.offer.account(from);
      if (!source) throw new CutoverError('SOURCE_ACCOUNT_MISSING', { address: from, platform: this.offer.label });
      if (source.taskPendingId) {
        // A task in flight on the source is most likely our own rename from an interrupted run.
        await this.waitId(source.taskPendingId, `account ${from}`);
        if (await this.offer.account(to)) return { renamed: true };
      }
      const { local, domain } = split(to);
      await this.offer.updateAccount(from, { login: local, domain });
      const pending = (await this.offer.account(from)) ?? (await this.offer.account(to));
      await this.waitId(pending?.taskPendingId ?? null, `rename of ${from} to ${to}`);
      await this.settle(async () => (await this.offer.account(to))?.state === 'ok', `rename of ${from} to ${to}`);
      return { renamed: true };
    });
  }

  createAccount(spec: NewAccount): Promise<{ created: boolean }> {
    return this.guard(`create ${spec.address}`, async () => {
      const existing = await this.offer.account(spec.address);
      if (existing?.configured) {
        await this.waitId(existing.taskPendingId, `account ${spec.address}`);
        return { created: false };
      }
      const { local, domain } = split(spec.address);
      const posted = this.offer.postAccount ? await this.offer.postAccount(local, domain, spec.password, spec.quotaBytes) : null;
      if (posted) {
        await this.wait(posted, `creation of ${spec.address}`);
        await this.settle(async () => (await this.offer.account(spec.address))?.state === 'ok', `creation of ${spec.address}`);
        return { created: true };
      }
      await this.configureSlot(spec.address, local, domain);
      // A crash here leaves the account without cutover's password: create-destination sets it again when the login fails.
      crashpoint('ovh:slot-configured');
      await this.setPassword(spec.address, spec.password);
      return { created: true };
    });
  }

  private configureSlot(address: string, local: string, domain: string): Promise<void> {
    const run = this.slotLock.then(async () => {
      const slot = await this.freeSlot(address);
      if (!slot) {
        throw new CutoverError('ACCOUNT_SLOTS_MISSING', { platform: this.offer.label, address, missing: 1, free: 0, needed: 1 });
      }
      await this.offer.updateAccount(slot.address, { login: local, domain, displayName: local });
      const pending = (await this.offer.account(slot.address)) ?? (await this.offer.account(address));
      await this.waitId(pending?.taskPendingId ?? null, `configuring ${slot.address} as ${address}`);
      await this.settle(async () => {
        const now = await this.offer.account(address);
        return Boolean(now?.configured && now.state === 'ok');
      }, `configuring ${slot.address} as ${address}`);
    });
    this.slotLock = run.catch(() => undefined);
    return run;
  }

  /** A free @configureme.me slot; the choice is spread by address so two processes rarely pick the same one. */
  private async freeSlot(address: string): Promise<AccountInfo | null> {
    const slots = (await this.offer.accounts()).filter(isSlot).sort();
    if (!slots.length) return null;
    const start = [...address].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % slots.length;
    for (let i = 0; i < slots.length; i++) {
      const info = await this.offer.account(slots[(start + i) % slots.length]!);
      if (info && !info.configured && !info.taskPendingId && info.state === 'ok') return info;
    }
    return null;
  }

  setPassword(address: string, password: string): Promise<void> {
    return this.guard(`password of ${address}`, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.wait(await this.offer.changePassword(address, password), `password of ${address}`);
          return;
        } catch (err) {
          // Right after a rename or a slot configuration the new address may not answer yet.
          const settling = err instanceof OvhApiError && (err.status === 404 || busy(err));
          if (!settling || attempt >= PASSWORD_ATTEMPTS) throw err;
          await new Promise((resolve) => setTimeout(resolve, this.config.pollIntervalMs));
        }
      }
    });
  }

  resetAccount(address: string): Promise<void> {
    return this.guard(`reset ${address}`, async () => {
      const info = await this.offer.account(address);
      if (!info || !info.configured) return;
      await this.waitId(info.taskPendingId, `account ${address}`);
      await this.wait(await this.offer.deleteAccount(address), `reset of ${address}`);
    });
  }

  async imapEndpoint(address: string, password?: string): Promise<ImapEndpoint> {
    if (!password) {
      throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: `OVHcloud platforms have no master user: the password of ${address} is needed (--passwords file), or a rename that sets one` });
    }
    const named = this.offer.offer === 'exchange' || this.offer.offer === 'pro';
    const service = this.config.imap || !named ? null : await this.guard('service', () => this.offer.service());
    return imapEndpointFor(this.config, service, { user: address, pass: password });
  }

  expectedDns(domain: string): Promise<ExpectedDns> {
    return this.guard(`expected DNS of ${domain}`, async () => {
      const fallback = template(this.config.dnsTemplate, this.config.region);
      if (this.offer.recommendedRecords) {
        const records = await this.offer.recommendedRecords(domain);
        const mx = parseExpectedMx(records.filter((r) => r.fieldType === 'MX' && !r.subDomain).map((r) => r.target), fallback.mx);
        const spf = records.filter((r) => (r.fieldType === 'TXT' || r.fieldType === 'SPF') && !r.subDomain).map((r) => parseExpectedSpf(r.target)).find((s) => s && s.length);
        return { mx: mx.length ? mx : fallback.mx, spfIncludes: spf ?? fallback.spfIncludes };
      }
      const d = await this.offer.domain(domain);
      const { mx, spfIncludes } = expectedFromApi(d?.expected ?? { mx: [], spf: null }, fallback);
      const srv = parseExpectedSrv(d?.expected.srv);
      return { mx, spfIncludes, ...(srv && { autodiscover: { srv: { target: srv, port: 443, priority: 0, weight: 0 } } }) };
    });
  }

  private mailHostSync(): string {
    return this.config.relayHost ?? template(this.config.dnsTemplate, this.config.region).relayHost;
  }

  async mailHost(): Promise<string> {
    return this.mailHostSync();
  }

  notMigrated(address: string): Promise<NotMigratedItem[]> {
    return this.guard(`what ${address} leaves behind`, () => this.offer.notMigrated(address));
  }

  freeAccountSlots(_domain?: string): Promise<number | null> {
    return this.guard('free accounts', async () => {
      if (await this.offer.createsByPost()) return null;
      return (await this.offer.accounts()).filter(isSlot).length;
    });
  }

  mailboxLimitBytes(address: string): Promise<number | null> {
    return this.guard(`size limit for ${address}`, async () => {
      let account = await this.offer.account(address);
      if (!account && this.offer.offer !== 'mxplan-legacy') {
        const slot = (await this.offer.accounts()).find(isSlot);
        account = slot ? await this.offer.account(slot) : null;
      }
      const limits = [account?.quotaBytes ?? null, await this.offer.limitFromApi(account?.address ?? address)].filter((l): l is number => typeof l === 'number' && l > 0);
      return limits.length ? Math.min(...limits) : null;
    });
  }

  listAliases(address: string): Promise<string[]> {
    return this.guard(`aliases of ${address}`, () => this.offer.aliases(address));
  }

  addAlias(address: string, alias: string): Promise<{ added: boolean }> {
    return this.guard(`alias ${alias} on ${address}`, async () => {
      if (!this.offer.hasAliases) return { added: false };
      if ((await this.offer.aliases(address)).includes(alias.toLowerCase())) return { added: false };
      await this.wait(await this.offer.addAlias(address, alias), `alias ${alias} on ${address}`);
      return { added: true };
    });
  }

  removeAlias(address: string, alias: string): Promise<{ removed: boolean }> {
    return this.guard(`alias ${alias} on ${address}`, async () => {
      if (!this.offer.hasAliases || !(await this.offer.aliases(address)).includes(alias.toLowerCase())) return { removed: false };
      await this.wait(await this.offer.deleteAlias(address, alias), `removal of alias ${alias} from ${address}`);
      return { removed: true };
    });
  }

  dnsDiagnostic(domain: string): Promise<PlatformDnsDiagnostic> {
    return this.guard(`DNS diagnostic of ${domain}`, async () => {
      const d = await this.offer.domain(domain);
      if (!d) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: this.offer.label });
      return { ...d.diagnostic, source: `GET ${this.offer.domainPath(domain)}` };
    });
  }

  async close(): Promise<void> {
    // Plain HTTPS requests: nothing to release.
  }
}

function toAccount(info: AccountInfo): Account {
  return { address: info.address, active: info.state === 'ok', quotaBytes: info.quotaBytes, usedBytes: info.usedBytes };
}
