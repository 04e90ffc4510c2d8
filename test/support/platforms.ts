import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { addDomain, addMailbox, startDovecot, type DovecotInstance, type DovecotOptions } from '../../server/devservers/dovecot.ts';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';

export const DOMAIN = 'example.test';
export const OLD_MX = 'mx.old.example.net';
export const NEW_MX = 'mx.new.example.net';
export const NEW_SPF = 'spf.new.example.net';

export interface PlatformOverrides { maxMailboxBytes?: number; masterPassword?: string; port?: number }

/** A postfixadmin plugin config for a test Dovecot, written to a file the way an admin would. */
export function writePlatformConfig(inst: DovecotInstance, dir: string, name: string, mailHost: string, overrides: PlatformOverrides = {}): string {
  const passwordFile = path.join(dir, `${name}-master.pass`);
  writeFileSync(passwordFile, overrides.masterPassword ?? inst.masterPassword, { mode: 0o600 });
  const config = {
    database: { client: 'sqlite3', filename: inst.dbPath },
    imap: { host: inst.host, port: overrides.port ?? inst.port, security: 'none' },
    masterUser: { user: inst.masterUser, passwordFile },
    mailHost,
    expectedDns: mailHost === NEW_MX ? { mx: [{ priority: 10, exchange: NEW_MX }], spfIncludes: [NEW_SPF] } : { mx: [{ priority: 10, exchange: OLD_MX }], spfIncludes: ['spf.old.example.net'] },
    ...(overrides.maxMailboxBytes !== undefined && { maxMailboxBytes: overrides.maxMailboxBytes }),
  };
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export interface Landscape { old: DovecotInstance; new: DovecotInstance; dns: KnotInstance; stop(): Promise<void> }

export const OLD_DNS = [`@ IN MX 10 ${OLD_MX}.`, '@ IN TXT "v=spf1 include:spf.old.example.net -all"'];
export const NEW_DNS = [`@ IN MX 10 ${NEW_MX}.`, `@ IN TXT "v=spf1 include:${NEW_SPF} -all"`];

/** Two hosts and the domain's zone: old holds the accounts, new has nothing yet. */
export async function startLandscape(opts: { accounts: Array<{ address: string; password: string; quota?: number }>; dns?: string[]; old?: DovecotOptions; new?: DovecotOptions }): Promise<Landscape> {
  const [oldHost, newHost, dns] = await Promise.all([startDovecot(opts.old), startDovecot(opts.new), startKnot({ zone: DOMAIN, records: opts.dns ?? OLD_DNS })]);
  await addDomain(oldHost, DOMAIN);
  for (const a of opts.accounts) await addMailbox(oldHost, a.address, a.password, a.quota ?? 0);
  return {
    old: oldHost, new: newHost, dns,
    async stop() { await Promise.allSettled([oldHost.stop(), newHost.stop(), dns.stop()]); },
  };
}

export async function switchDnsToNew(dns: KnotInstance): Promise<void> {
  await dns.update([`del ${DOMAIN}. MX`, `del ${DOMAIN}. TXT`, `add ${DOMAIN}. 300 MX 10 ${NEW_MX}.`, `add ${DOMAIN}. 300 TXT "v=spf1 include:${NEW_SPF} -all"`]);
}
