import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { accessRules } from '../../../plugins/ovhcloud/access-rules.ts';
import { configSchema } from '../../../plugins/ovhcloud/config.ts';
import { startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { startKnot, type KnotInstance } from '../../../server/devservers/knot.ts';
import { DovecotBackend } from './dovecot-backend.ts';
import { startFakeOvh, type FakeOvh } from './index.ts';
import type { FakeService } from './state.ts';

/** The records an OVHcloud mail platform expects (EU): what the zone holds once DNS has been switched. */
export const OVH_DNS = [
  '@ IN MX 1 mx0.mail.ovh.net.', '@ IN MX 5 mx1.mail.ovh.net.', '@ IN MX 50 mx2.mail.ovh.net.', '@ IN MX 100 mx3.mail.ovh.net.', '@ IN MX 200 mx4.mail.ovh.net.',
  '@ IN TXT "v=spf1 include:mx.ovh.com ~all"',
];

/**
 * Two real Dovecots playing the IMAP side of two OVHcloud services, the fake API in front of
 * them, and a Knot serving the domain's zone.
 */
export interface OvhLandscape {
  fake: FakeOvh;
  /** IMAP of the "Exchange" (source) service. */
  old: DovecotInstance;
  /** IMAP of the "MX Plan" / "E-mail Pro" (destination) services. */
  new: DovecotInstance;
  oldBackend: DovecotBackend;
  newBackend: DovecotBackend;
  dns: KnotInstance;
  stop(): Promise<void>;
}

export async function startOvhLandscape(opts: { zone: string; records?: string[]; taskDelayMs?: number }): Promise<OvhLandscape> {
  const [fake, oldHost, newHost, dns] = await Promise.all([
    startFakeOvh({ taskDelayMs: opts.taskDelayMs ?? 100 }),
    startDovecot({ specialUse: false }),
    startDovecot(),
    startKnot({ zone: opts.zone, records: opts.records ?? OVH_DNS }),
  ]);
  const oldBackend = new DovecotBackend(oldHost);
  const newBackend = new DovecotBackend(newHost);
  return {
    fake, old: oldHost, new: newHost, oldBackend, newBackend, dns,
    async stop() {
      await Promise.allSettled([oldBackend.close(), newBackend.close()]);
      await Promise.allSettled([fake.stop(), oldHost.stop(), newHost.stop(), dns.stop()]);
    },
  };
}

/** Source accounts exist on the platform (fake) and in its Dovecot, with the user's password. */
export async function seedAccounts(land: OvhLandscape, service: FakeService, accounts: Array<{ address: string; password: string }>): Promise<void> {
  for (const a of accounts) {
    if (!service.accounts.has(a.address)) service.accounts.set(a.address, land.fake.state.newAccount(a.address, { password: a.password }));
    await service.backend!.create(a.address, a.password, 0);
  }
}

/**
 * A platform configuration as an admin would write it: API endpoint, application key, secret
 * and consumer key in 0600 files, IMAP pointed at the Dovecot that plays the platform. The
 * consumer key holds exactly the rules `cutover ovh rules` lists for it.
 */
export function writeOvhConfig(land: OvhLandscape, dir: string, name: string, raw: Record<string, unknown>, imap: DovecotInstance): { file: string; consumerKey: string } {
  const app = land.fake.state.addApplication();
  const secretFile = path.join(dir, `${name}.as`);
  const ckFile = path.join(dir, `${name}.ck`);
  writeFileSync(secretFile, `${app.secret}\n`, { mode: 0o600 });
  const config = {
    endpoint: land.fake.url, applicationKey: app.key, applicationSecretFile: secretFile, consumerKeyFile: ckFile,
    imap: { host: imap.host, port: imap.port, security: 'none' }, taskWaitSeconds: 20, pollIntervalMs: 50, ...raw,
  };
  const credential = land.fake.state.addCredential(app.key, { rules: accessRules(configSchema.parse(config)) });
  writeFileSync(ckFile, `${credential.consumerKey}\n`, { mode: 0o600 });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, consumerKey: credential.consumerKey };
}
