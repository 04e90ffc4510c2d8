// DNS providers are platform rows whose plugin has a `dns` factory (`cutover platform add zone
// --plugin rfc2136 --config zone.json`); this opens one by name, config decrypted and validated.
import type { Db } from '../db/knex.ts';
import { platformByName } from '../db/repos/platforms.ts';
import { CutoverError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { DnsProvider } from '../plugins/contract.ts';
import { loadPlugins, type PluginRegistry } from '../plugins/registry.ts';
import type { SecretBox } from '../secrets.ts';
import { normalizeName } from './names.ts';

let registry: Promise<PluginRegistry> | undefined;

export async function openDnsProvider(db: Db, box: SecretBox, log: Logger, name: string, plugins?: PluginRegistry): Promise<DnsProvider> {
  const row = await platformByName(db, name);
  const loaded = plugins ?? (await (registry ??= loadPlugins()));
  const plugin = loaded.get(row.plugin);
  if (!plugin.dns) throw new CutoverError('DNS_PROVIDER_UNSUITABLE', { name, detail: `its plugin ${row.plugin} is not a DNS provider` });
  const config = loaded.parseConfig(row.plugin, JSON.parse(box.open(row.config_sealed)));
  return plugin.dns(config, { log: log.child({ dnsProvider: name }) });
}

/** The zone of `domain` the provider manages: the domain itself or the closest parent it answers for. */
export async function managedZone(provider: DnsProvider, domain: string): Promise<string | null> {
  const labels = normalizeName(domain).split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join('.');
    if (await provider.manages(candidate)) return candidate;
  }
  return null;
}
