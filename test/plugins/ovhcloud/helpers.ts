import plugin from '../../../plugins/ovhcloud/index.ts';
import { accessRules } from '../../../plugins/ovhcloud/access-rules.ts';
import { configSchema, type OvhConfig } from '../../../plugins/ovhcloud/config.ts';
import type { OvhPlatform } from '../../../plugins/ovhcloud/platform.ts';
import { createLogger } from '../../../server/log.ts';
import type { FakeOvh } from '../../support/fake-ovh/index.ts';

/**
 * A platform config for the fake, with a consumer key holding exactly the rules cutover asks
 * for (so every test also proves those rules suffice).
 */
export function fakeConfig(fake: FakeOvh, raw: Record<string, unknown>): OvhConfig {
  const app = fake.state.addApplication();
  const base = configSchema.parse({ endpoint: fake.url, applicationKey: app.key, applicationSecret: app.secret, consumerKey: 'pending', taskWaitSeconds: 5, pollIntervalMs: 20, http: { retryBaseMs: 5 }, ...raw });
  const credential = fake.state.addCredential(app.key, { rules: accessRules(base) });
  return { ...base, consumerKey: credential.consumerKey };
}

export function connector(config: OvhConfig): OvhPlatform {
  return plugin.platform!(config, { log: createLogger('silent') }) as OvhPlatform;
}
