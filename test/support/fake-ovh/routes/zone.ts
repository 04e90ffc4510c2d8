import { badRequest, notFound, type FakeZone } from '../state.ts';
import type { Ctx, Routes } from './types.ts';

const Z = '/domain/zone/{zoneName}';

function zoneOf(ctx: Ctx): FakeZone {
  const zone = ctx.state.zones.get(ctx.params.zoneName!.toLowerCase());
  if (!zone) throw notFound(`zoneName = ${ctx.params.zoneName}`);
  return zone;
}

/** /domain/zone: records change at once in the API's view; POST …/refresh is what publishes them (counted). */
export function zoneRoutes(routes: Routes): void {
  routes.set('GET /domain/zone', (ctx) => [...ctx.state.zones.keys()]);
  routes.set(`GET ${Z}`, (ctx) => {
    const z = zoneOf(ctx);
    return ctx.fit({ name: z.name, nameServers: z.nameServers, dnssecSupported: true, hasDnsAnycast: false, lastUpdate: new Date().toISOString() });
  });
  routes.set(`GET ${Z}/record`, (ctx) => [...zoneOf(ctx).records.values()]
    .filter((r) => (ctx.query.fieldType === undefined || r.fieldType === ctx.query.fieldType) && (ctx.query.subDomain === undefined || r.subDomain === ctx.query.subDomain))
    .map((r) => r.id));
  routes.set(`GET ${Z}/record/{id}`, (ctx) => {
    const z = zoneOf(ctx);
    const r = z.records.get(Number(ctx.params.id));
    if (!r) throw notFound(`id = ${ctx.params.id}`);
    return { ...r, zone: z.name };
  });
  routes.set(`POST ${Z}/record`, (ctx) => {
    const z = zoneOf(ctx);
    const fieldType = String(ctx.body.fieldType);
    const target = String(ctx.body.target);
    if (!target.trim()) throw badRequest('Invalid target');
    if (fieldType === 'MX' && !/^\d+ \S+$/.test(target)) throw badRequest(`Invalid MX target ${target}: expected "priority host"`);
    const id = ctx.state.id();
    const record = { id, fieldType, subDomain: String(ctx.body.subDomain ?? ''), target, ttl: Number(ctx.body.ttl ?? 0) };
    z.records.set(id, record);
    return { ...record, zone: z.name };
  });
  routes.set(`DELETE ${Z}/record/{id}`, (ctx) => {
    const z = zoneOf(ctx);
    if (!z.records.delete(Number(ctx.params.id))) throw notFound(`id = ${ctx.params.id}`);
    return null;
  });
  routes.set(`POST ${Z}/refresh`, (ctx) => {
    zoneOf(ctx).refreshes++;
    return null;
  });
}
