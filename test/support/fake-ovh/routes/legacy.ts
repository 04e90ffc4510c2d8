import { badRequest, conflict, notFound, type FakeLegacyDomain } from '../state.ts';
import type { Ctx, Routes } from './types.ts';

const P = '/email/domain/{domain}';

function domainOf(ctx: Ctx): FakeLegacyDomain {
  const d = ctx.state.legacy.get(ctx.params.domain!.toLowerCase());
  if (!d) throw notFound(`domain = ${ctx.params.domain}`);
  return d;
}

/** The legacy API's password rule: 9 to 30 characters, no leading or trailing space, no accents. */
function checkPassword(password: string): void {
  if (password.length < 9 || password.length > 30 || password.trim() !== password || /[^\x20-\x7e]/.test(password)) {
    throw badRequest('Invalid password: 9 to 30 characters, no accented characters, no space at either end');
  }
}

/** /email/domain/{domain}: the service is the domain; tasks (TaskPop) have no status and vanish when done. */
export function legacyRoutes(routes: Routes): void {
  routes.set('GET /email/domain', (ctx) => [...ctx.state.legacy.keys()]);
  routes.set(`GET ${P}`, (ctx) => {
    const d = domainOf(ctx);
    return ctx.fit({ domain: d.domain, status: d.status, allowedAccountSize: d.allowedAccountSize, isMXValid: d.isMXValid, isSPFValid: d.isSPFValid, offer: 'MX Plan' });
  });
  routes.set(`GET ${P}/recommendedDNSRecords`, (ctx) => {
    const d = domainOf(ctx);
    const mx = [[1, 'mx1.mail.ovh.net.'], [5, 'mx2.mail.ovh.net.'], [100, 'mx3.mail.ovh.net.']];
    return [
      ...mx.map(([p, h], i) => ({ id: i + 1, zone: d.domain, fieldType: 'MX', subDomain: '', target: `${p} ${h}`, ttl: 3600 })),
      { id: 10, zone: d.domain, fieldType: 'TXT', subDomain: '', target: '"v=spf1 include:mx.ovh.com ~all"', ttl: 3600 },
    ];
  });
  routes.set(`GET ${P}/account`, (ctx) => {
    const filter = ctx.query.accountName;
    const re = filter ? new RegExp(`^${filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`, 'i') : null;
    return [...domainOf(ctx).accounts.keys()].filter((n) => !re || re.test(n));
  });
  routes.set(`POST ${P}/account`, (ctx) => {
    const d = domainOf(ctx);
    const name = String(ctx.body.accountName).toLowerCase();
    if (!/^\w+[\w.-]+\w*$/.test(name) || name.length < 2 || name.length > 32) throw badRequest(`Invalid account name ${name}`);
    if (d.accounts.has(name)) throw conflict(`Account ${name} already exists`);
    const size = ctx.body.size === undefined ? 5_000_000_000 : Number(ctx.body.size);
    if (!d.allowedAccountSize.includes(size)) throw badRequest(`Size ${size} is not one of the allowed sizes`);
    const password = String(ctx.body.password);
    checkPassword(password);
    const task = ctx.state.createLegacyTask(d, 'addAccount', name, async () => {
      d.accounts.set(name, { accountName: name, size, password, isBlocked: false, description: String(ctx.body.description ?? ''), usedBytes: 0 });
      await d.backend?.create(`${name}@${d.domain}`, password, size);
    });
    return { id: task.id, action: task.action, date: task.date, domain: d.domain, name };
  });
  routes.set(`GET ${P}/account/{accountName}`, (ctx) => {
    const d = domainOf(ctx);
    const a = d.accounts.get(ctx.params.accountName!.toLowerCase());
    if (!a) throw notFound(`accountName = ${ctx.params.accountName}`);
    return { accountName: a.accountName, domain: d.domain, email: `${a.accountName}@${d.domain}`, description: a.description, size: a.size, isBlocked: a.isBlocked };
  });
  routes.set(`GET ${P}/account/{accountName}/usage`, (ctx) => {
    const a = domainOf(ctx).accounts.get(ctx.params.accountName!.toLowerCase());
    if (!a) throw notFound(`accountName = ${ctx.params.accountName}`);
    return { date: new Date().toISOString(), emailCount: 0, quota: a.usedBytes };
  });
  routes.set(`POST ${P}/account/{accountName}/changePassword`, (ctx) => {
    const d = domainOf(ctx);
    const name = ctx.params.accountName!.toLowerCase();
    const a = d.accounts.get(name);
    if (!a) throw notFound(`accountName = ${name}`);
    const password = String(ctx.body.password);
    checkPassword(password);
    const task = ctx.state.createLegacyTask(d, 'changePassword', name, async () => {
      a.password = password;
      await d.backend?.setPassword(`${name}@${d.domain}`, password);
    });
    return { id: task.id, action: task.action, date: task.date, domain: d.domain, name };
  });
  routes.set(`DELETE ${P}/account/{accountName}`, (ctx) => {
    const d = domainOf(ctx);
    const name = ctx.params.accountName!.toLowerCase();
    if (!d.accounts.has(name)) throw notFound(`accountName = ${name}`);
    const task = ctx.state.createLegacyTask(d, 'deleteAccount', name, async () => {
      d.accounts.delete(name);
      await d.backend?.remove(`${name}@${d.domain}`);
    });
    return { id: task.id, action: task.action, date: task.date, domain: d.domain, name };
  });
  routes.set(`GET ${P}/task/account`, (ctx) => [...domainOf(ctx).tasks.values()].filter((t) => !ctx.query.name || t.name === ctx.query.name).map((t) => t.id));
  routes.set(`GET ${P}/task/account/{id}`, (ctx) => {
    const d = domainOf(ctx);
    const t = d.tasks.get(Number(ctx.params.id));
    if (!t) throw notFound(`id = ${ctx.params.id}`);
    return { id: t.id, action: t.action, date: t.date, domain: d.domain, name: t.name };
  });
  routes.set(`GET ${P}/redirection`, (ctx) => [...domainOf(ctx).redirections.entries()].filter(([, r]) => (!ctx.query.from || r.from === ctx.query.from) && (!ctx.query.to || r.to === ctx.query.to)).map(([id]) => id));
  routes.set(`GET ${P}/responder`, (ctx) => domainOf(ctx).responders.filter((r) => !ctx.query.account || r === ctx.query.account));
  routes.set(`GET ${P}/mailingList`, (ctx) => domainOf(ctx).mailingLists);
  routes.set(`GET ${P}/account/{accountName}/filter`, (ctx) => { domainOf(ctx); return []; });
  routes.set(`GET ${P}/account/{accountName}/delegation`, (ctx) => { domainOf(ctx); return []; });
}
