import { badRequest, conflict, FakeApiError, notFound, type FakeAccount, type FakeDomain, type FakeService, type FakeTask, type Family } from '../state.ts';
import type { Ctx, Routes } from './types.ts';

/** Exchange, E-mail Pro and the new MX Plan share one API shape: one set of handlers, three prefixes. */
const FAMILIES: Array<{ family: Family; prefix: string; account: string }> = [
  { family: 'exchange', prefix: '/email/exchange/{organizationName}/service/{exchangeService}', account: 'primaryEmailAddress' },
  { family: 'pro', prefix: '/email/pro/{service}', account: 'email' },
  { family: 'mxplan', prefix: '/email/mxplan/{service}', account: 'email' },
];

const PLACEHOLDER = 'configureme.me';
const GB = 1e9;

function serviceOf(ctx: Ctx, family: Family): FakeService {
  const name = family === 'exchange' ? ctx.params.exchangeService! : ctx.params.service!;
  const organization = family === 'exchange' ? ctx.params.organizationName! : name;
  const service = ctx.state.services.get(ctx.state.serviceKey(family, organization, name));
  if (!service) throw notFound(`service = ${name}`);
  return service;
}

function accountOf(service: FakeService, address: string): FakeAccount {
  const account = service.accounts.get(address.toLowerCase());
  if (!account) throw notFound(`primaryEmailAddress = ${address}`);
  return account;
}

function domainOf(service: FakeService, name: string): FakeDomain {
  const domain = service.domains.get(name.toLowerCase());
  if (!domain) throw notFound(`domainName = ${name}`);
  return domain;
}

const pendingTask = () => new FakeApiError(409, { class: 'Client::Conflict', message: 'There is already a pending task on this object' });

function taskView(task: FakeTask): Record<string, unknown> {
  return { id: task.id, function: task.function, status: task.status, todoDate: task.todoDate, finishDate: task.finishDate };
}

/** Exchange/Pro/MX Plan password policy (complexity on): 8 characters or more, upper case, lower case, digit. */
function checkPassword(password: string): void {
  if (password.length < 8 || !/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/\d/.test(password)) {
    throw badRequest('The password does not meet the password policy of the service');
  }
}

function accountView(a: FakeAccount): Record<string, unknown> {
  return {
    primaryEmailAddress: a.address, login: a.login, domain: a.domain, configured: a.configured, state: a.state, taskPendingId: a.taskPendingId ?? 0,
    id: a.id, quota: a.quota, currentUsage: a.currentUsage, displayName: a.displayName, creationDate: a.creationDate, accountLicense: 'standard',
    numberOfAliases: a.aliases.size, hiddenFromGAL: false, spamDetected: false,
  };
}

function domainView(d: FakeDomain): Record<string, unknown> {
  return {
    name: d.name, type: d.type, state: d.state, taskPendingId: d.taskPendingId ?? 0, mxRelay: d.mxRelay, cnameToCheck: d.cnameToCheck, domainValidated: d.domainValidated,
    mxIsValid: d.mxIsValid, spfIsValid: d.spfIsValid, srvIsValid: d.srvIsValid, expectedMX: d.expectedMX, expectedSPF: d.expectedSPF,
    expectedAutodiscoverSRV: d.expectedAutodiscoverSRV, mxRecord: [], spfRecord: [], srvRecord: [], domainAliases: [], isAliasDomain: false,
  };
}

/** Adding a domain another platform of the account holds as authoritative is refused (the guide's "authoritative domain detected"). */
function authoritativeCheck(ctx: Ctx, service: FakeService, domain: string): void {
  const holder = ctx.state.authoritativeHolder(domain, service);
  if (holder) throw badRequest(`Cannot use domain ${domain} on this service: authoritative domain detected`);
}

export function hostedRoutes(routes: Routes): void {
  for (const { family, prefix, account: accountParam } of FAMILIES) {
    const on = (method: string, suffix: string, handler: (ctx: Ctx, service: FakeService) => unknown) => {
      routes.set(`${method} ${prefix}${suffix}`, (ctx) => handler(ctx, serviceOf(ctx, family)));
    };
    const addr = (ctx: Ctx) => ctx.params[accountParam]!;

    on('GET', '', (ctx, s) => ctx.fit({
      domain: [...s.domains.keys()][0] ?? '', hostname: s.hostname, offer: s.offer, state: s.state, displayName: s.name, taskPendingId: 0,
      complexityEnabled: true, minPasswordLength: 8, webUrl: `https://${s.hostname}/`, ...(family === 'mxplan' && { isZimbra: false }),
    }));

    on('GET', '/domain', (_ctx, s) => [...s.domains.keys()]);

    if (family !== 'mxplan') {
      on('POST', '/domain', (ctx, s) => {
        const name = String(ctx.body.name).toLowerCase();
        if (s.domains.has(name)) throw conflict(`Domain ${name} already exists on this service`);
        authoritativeCheck(ctx, s, name);
        const domain = ctx.state.newDomain(name, { type: ctx.body.type as FakeDomain['type'], mxRelay: (ctx.body.mxRelay as string | undefined) ?? null, state: 'creating' });
        s.domains.set(name, domain);
        const task = ctx.state.createTask(s, 'addDomain', async () => {
          domain.state = 'ok';
          await s.backend?.ensureDomain(name);
        }, () => { domain.taskPendingId = null; });
        domain.taskPendingId = task.id;
        return taskView(task);
      });
    }

    on('GET', '/domain/{domainName}', (ctx, s) => ctx.fit(domainView(domainOf(s, ctx.params.domainName!))));

    on('PUT', '/domain/{domainName}', (ctx, s) => {
      const domain = domainOf(s, ctx.params.domainName!);
      if (domain.taskPendingId) throw pendingTask();
      const type = (ctx.body.type as FakeDomain['type'] | undefined) ?? domain.type;
      const mxRelay = ctx.body.mxRelay === undefined ? domain.mxRelay : (ctx.body.mxRelay as string | null);
      if (type !== domain.type || mxRelay !== domain.mxRelay) {
        // Becoming authoritative needs the domain to be nobody else's; becoming non-authoritative is always allowed
        // (the guide's fix for "authoritative domain detected" is exactly that, on both platforms).
        if (type === 'authoritative' && type !== domain.type && [...ctx.state.services.values()].some((o) => o !== s && o.domains.has(domain.name))) {
          throw badRequest(`Cannot make ${domain.name} authoritative: another platform of this account uses it`);
        }
        domain.state = 'ok';
        const task = ctx.state.createTask(s, 'setDomain', () => { domain.type = type; domain.mxRelay = mxRelay; }, () => { domain.taskPendingId = null; });
        domain.taskPendingId = task.id;
      }
      return null;
    });

    on('GET', '/domain/{domainName}/disclaimer', (ctx, s) => {
      const domain = domainOf(s, ctx.params.domainName!);
      if (!domain.disclaimer) throw notFound(`domainName = ${domain.name}`);
      return { content: 'footer', name: domain.name, outsideOnly: false, creationDate: new Date().toISOString(), taskPendingId: 0 };
    });

    on('GET', '/account', (ctx, s) => {
      const filter = ctx.query.primaryEmailAddress;
      const re = filter ? new RegExp(`^${filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`, 'i') : null;
      return [...s.accounts.keys()].filter((a) => !re || re.test(a));
    });

    on('GET', '/account/{a}'.replace('{a}', `{${accountParam}}`), (ctx, s) => ctx.fit(accountView(accountOf(s, addr(ctx)))));

    on('PUT', `/account/{${accountParam}}`, (ctx, s) => {
      const account = accountOf(s, addr(ctx));
      if (account.taskPendingId) throw pendingTask();
      const login = (ctx.body.login as string | undefined) ?? account.login;
      const domain = ((ctx.body.domain as string | undefined) ?? account.domain).toLowerCase();
      if (typeof ctx.body.displayName === 'string') account.displayName = ctx.body.displayName;
      const target = `${login}@${domain}`.toLowerCase();
      if (target === account.address) return null;
      if (domain !== PLACEHOLDER) {
        const d = s.domains.get(domain);
        if (!d || d.state !== 'ok') throw badRequest(`Domain ${domain} is not configured on this service`);
      }
      if (s.accounts.has(target)) throw conflict(`The address ${target} already exists`);
      const from = account.address;
      const wasSlot = !account.configured;
      const task = ctx.state.createTask(s, 'setAccount', async () => {
        s.accounts.delete(from);
        account.address = target;
        account.login = login;
        account.domain = domain;
        account.configured = true;
        s.accounts.set(target, account);
        if (wasSlot) await s.backend?.create(target, account.password, account.quota * GB);
        else await s.backend?.rename(from, target);
      }, () => { account.taskPendingId = null; });
      account.taskPendingId = task.id;
      return null;
    });

    on('DELETE', `/account/{${accountParam}}`, (ctx, s) => {
      const account = accountOf(s, addr(ctx));
      if (account.taskPendingId) throw pendingTask();
      if (!account.configured) throw badRequest('This account is not configured');
      const task = ctx.state.createTask(s, 'deleteAccount', async () => {
        s.accounts.delete(account.address);
        await s.backend?.remove(account.address);
        // Hosted offers reset the account: the paid slot comes back unconfigured.
        if (!['dedicated', 'dedicatedCluster'].includes(s.offer)) ctx.state.addSlot(s, account.quota);
      }, () => { account.taskPendingId = null; });
      account.taskPendingId = task.id;
      return taskView(task);
    });

    on('POST', `/account/{${accountParam}}/changePassword`, (ctx, s) => {
      const account = accountOf(s, addr(ctx));
      if (!account.configured) throw badRequest('This account is not configured');
      if (account.taskPendingId) throw pendingTask();
      const password = String(ctx.body.password);
      checkPassword(password);
      const task = ctx.state.createTask(s, 'changePassword', async () => {
        account.password = password;
        await s.backend?.setPassword(account.address, password);
      }, () => { account.taskPendingId = null; });
      account.taskPendingId = task.id;
      return taskView(task);
    });

    if (family === 'exchange') {
      on('POST', '/account', (ctx, s) => {
        if (!['dedicated', 'dedicatedCluster'].includes(s.offer)) throw badRequest('Accounts of this offer are ordered, not created: configure a free account instead');
        const login = String(ctx.body.login);
        const domain = String(ctx.body.domain).toLowerCase();
        const address = `${login}@${domain}`.toLowerCase();
        if (s.accounts.has(address)) throw conflict(`The address ${address} already exists`);
        if (s.domains.get(domain)?.state !== 'ok') throw badRequest(`Domain ${domain} is not configured on this service`);
        const password = String(ctx.body.password);
        checkPassword(password);
        const account = ctx.state.newAccount(address, { configured: true, state: 'creating', quota: Number(ctx.body.quota ?? 50), password });
        s.accounts.set(address, account);
        const task = ctx.state.createTask(s, 'addAccount', async () => {
          account.state = 'ok';
          await s.backend?.create(address, password, account.quota * GB);
        }, () => { account.taskPendingId = null; });
        account.taskPendingId = task.id;
        return taskView(task);
      });
      on('GET', '/mailingList', (_ctx, s) => s.mailingLists);
    }

    on('GET', `/account/{${accountParam}}/alias`, (ctx, s) => [...accountOf(s, addr(ctx)).aliases.keys()]);

    on('POST', `/account/{${accountParam}}/alias`, (ctx, s) => {
      const account = accountOf(s, addr(ctx));
      const alias = String(ctx.body.alias).toLowerCase();
      for (const other of s.accounts.values()) if (other.address === alias || other.aliases.has(alias)) throw conflict(`The address ${alias} already exists`);
      const task = ctx.state.createTask(s, 'addAlias', () => { account.aliases.set(alias, { creationDate: new Date().toISOString(), taskPendingId: 0 }); }, () => undefined);
      return taskView(task);
    });

    on('DELETE', `/account/{${accountParam}}/alias/{alias}`, (ctx, s) => {
      const account = accountOf(s, addr(ctx));
      const alias = ctx.params.alias!.toLowerCase();
      if (!account.aliases.has(alias)) throw notFound(`alias = ${alias}`);
      const task = ctx.state.createTask(s, 'deleteAlias', () => { account.aliases.delete(alias); }, () => undefined);
      return taskView(task);
    });

    for (const right of ['fullAccess', 'sendAs', 'sendOnBehalfTo'] as const) {
      on('GET', `/account/{${accountParam}}/${right}`, (ctx, s) => accountOf(s, addr(ctx))[right]);
    }

    if (family === 'mxplan') {
      on('GET', `/account/{${accountParam}}/capabilities`, (ctx, s) => {
        accountOf(s, addr(ctx));
        return { quotas: s.quotas };
      });
    }

    on('GET', '/externalContact', (_ctx, s) => s.externalContacts);
    on('GET', '/task', (_ctx, s) => [...s.tasks.values()].filter((t) => t.status === 'todo' || t.status === 'doing').map((t) => t.id));
    on('GET', '/task/{id}', (ctx, s) => {
      const task = s.tasks.get(Number(ctx.params.id));
      if (!task) throw notFound(`id = ${ctx.params.id}`);
      return taskView(task);
    });
  }
}
