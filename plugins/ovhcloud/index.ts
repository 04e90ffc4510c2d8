import { CutoverError } from '../../server/errors.ts';
import type { PluginDeps, PluginModule } from '../../server/plugins/contract.ts';
import { OvhClient } from './client.ts';
import { baseUrl, configSchema, readCredentials, type OvhConfig } from './config.ts';
import { dnsOnlyPlatform } from './dns-only.ts';
import { OvhZoneProvider } from './dns-zone.ts';
import { exchangeOffer } from './offers/exchange.ts';
import { LegacyMxPlanOffer } from './offers/legacy-mxplan.ts';
import { mxplanOffer } from './offers/mxplan.ts';
import { proOffer } from './offers/pro.ts';
import type { OfferApi } from './offers/types.ts';
import { OvhPlatform } from './platform.ts';

export type { OvhConfig } from './config.ts';

export function clientFor(config: OvhConfig, deps?: PluginDeps): OvhClient {
  const credentials = readCredentials(config);
  return new OvhClient({ baseUrl: baseUrl(config), ...credentials, timeoutMs: config.http.timeoutMs, retries: config.http.retries, retryBaseMs: config.http.retryBaseMs, log: deps?.log });
}

/** The one place that knows which offer module serves which configuration. */
function offerFor(client: OvhClient, config: OvhConfig): OfferApi {
  switch (config.offer) {
    case 'exchange': return exchangeOffer(client, config);
    case 'pro': return proOffer(client, config);
    case 'mxplan': return mxplanOffer(client, config);
    case 'mxplan-legacy': return new LegacyMxPlanOffer(client, config);
    default: throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: 'this configuration has no "offer" (exchange, pro, mxplan or mxplan-legacy), so it can serve only as a DNS provider' });
  }
}

const plugin: PluginModule<OvhConfig> = {
  id: 'ovhcloud',
  description: 'OVHcloud Exchange, E-mail Pro and MX Plan services, and OVHcloud DNS zones, through the OVHcloud API v1',
  configSchema: configSchema as unknown as PluginModule<OvhConfig>['configSchema'],
  platform(config, deps) {
    const client = clientFor(config, deps);
    if (!config.offer) return dnsOnlyPlatform(client);
    return new OvhPlatform(client, offerFor(client, config), config, deps.log);
  },
  dns(config, deps) {
    return new OvhZoneProvider(clientFor(config, deps), config);
  },
};

export default plugin;
