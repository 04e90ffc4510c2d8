import type { AppContext } from '../context.ts';
import { recordAudit } from '../db/repos/audit.ts';
import { insertPlatform, listPlatforms, platformByName, type PlatformRow } from '../db/repos/platforms.ts';
import { CutoverError } from '../errors.ts';
import type { PluginModule } from '../plugins/contract.ts';
import { allLeaves, configFields, getPath, keepStoredSecrets, storedSecrets, withoutSecrets } from './config-fields.ts';
import { validateConfig, type IssueLocale } from './plugin-config.ts';
import { guardSecretDestinations, type ConfigOrigin } from './secret-destinations.ts';

/**
 * Platforms and DNS providers (both are `platforms` rows), for the CLI and the panel alike:
 * add (connection tested before anything is stored), edit (validated again, secrets
 * write-only), remove (refused while a project uses it). Each change is audited, with field
 * names only: the audit trail is shown to every admin, so no value goes in it.
 */
export const PLATFORM_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;

export type PluginKind = 'platform' | 'dns';

export function pluginKinds(plugin: PluginModule): PluginKind[] {
  return [...(plugin.platform ? ['platform' as const] : []), ...(plugin.dns ? ['dns' as const] : [])];
}

export interface PlatformSummary { name: string; plugin: string; kinds: PluginKind[]; createdAt: string; usedBy: string[] }

export interface PlatformDetails extends PlatformSummary {
  /** The stored configuration without its secrets. */
  config: Record<string, unknown>;
  /** Paths of the secrets that hold a value (never the values). */
  secrets: string[];
}

interface ProjectUse { name: string; source_platform_id: number; dest_platform_id: number; options: string }

/** Project names per platform name: as source, destination or DNS provider. */
async function usage(app: AppContext, rows: PlatformRow[]): Promise<Map<string, string[]>> {
  const projects: ProjectUse[] = await app.db('projects').select('name', 'source_platform_id', 'dest_platform_id', 'options').orderBy('id');
  const byName = new Map(rows.map((r) => [r.name, [] as string[]]));
  for (const p of projects) {
    let dnsProvider: unknown;
    try { dnsProvider = JSON.parse(p.options)?.dnsProvider; } catch { dnsProvider = undefined; }
    for (const r of rows) if (r.id === p.source_platform_id || r.id === p.dest_platform_id || r.name === dnsProvider) byName.get(r.name)!.push(p.name);
  }
  return byName;
}

function summary(app: AppContext, row: PlatformRow, usedBy: string[]): PlatformSummary {
  let kinds: PluginKind[] = [];
  try { kinds = pluginKinds(app.plugins.get(row.plugin)); } catch { /* a row of a plugin no longer installed: listed, kind unknown */ }
  return { name: row.name, plugin: row.plugin, kinds, createdAt: row.created_at, usedBy: [...new Set(usedBy)] };
}

export async function listPlatformSummaries(app: AppContext): Promise<PlatformSummary[]> {
  const rows = await listPlatforms(app.db);
  const used = await usage(app, rows);
  return rows.map((r) => summary(app, r, used.get(r.name) ?? []));
}

export function storedConfig(app: AppContext, row: PlatformRow): Record<string, unknown> {
  return JSON.parse(app.box.open(row.config_sealed)) as Record<string, unknown>;
}

export async function platformDetails(app: AppContext, name: string): Promise<PlatformDetails> {
  const row = await platformByName(app.db, name);
  const fields = configFields(app.plugins.get(row.plugin).configSchema);
  const config = storedConfig(app, row);
  const used = await usage(app, [row]);
  return { ...summary(app, row, used.get(row.name) ?? []), config: withoutSecrets(fields, config), secrets: storedSecrets(fields, config) };
}

export interface NewPlatform {
  name: string; plugin: string; config: unknown; skipTest?: boolean;
  /** 'cli' only from the operator's command line: it may name any file in the config (default 'web'). */
  from?: ConfigOrigin;
}

export async function addPlatform(app: AppContext, input: NewPlatform, actor: string, locale?: IssueLocale): Promise<PlatformSummary> {
  if (!PLATFORM_NAME.test(input.name)) throw new CutoverError('INPUT_INVALID', { detail: `"${input.name}" is not a valid platform name: letters, digits, . _ - (at most 63, starting with a letter or digit)` });
  const plugin = app.plugins.get(input.plugin);
  const config = validateConfig(plugin, input.config, locale);
  guardSecretDestinations({ plugin: plugin.id, fields: configFields(plugin.configSchema), sent: input.config, next: config, origin: input.from ?? 'web', secretsDir: app.config.secretsDir });
  if (await app.db('platforms').where({ name: input.name }).first()) throw new CutoverError('PLATFORM_EXISTS', { name: input.name });
  if (!input.skipTest && plugin.platform) {
    // Test before storing: a platform that cannot be reached is not added half-working.
    const connector = plugin.platform(config, { log: app.log });
    try { await connector.testConnection(); } finally { await connector.close(); }
  }
  await insertPlatform(app.db, app.box, input.name, plugin.id, config);
  await recordAudit(app.db, { actor, action: 'platform.add', target: input.name, detail: `plugin ${plugin.id}${input.skipTest && plugin.platform ? ', connection not tested' : ''}` });
  return summary(app, await platformByName(app.db, input.name), []);
}

export interface PlatformChange {
  /** The whole new configuration; a secret left out or empty keeps its stored value. */
  config: unknown;
  /** Secrets to forget rather than keep (their dotted paths). */
  clearSecrets?: string[];
}

export async function updatePlatform(app: AppContext, name: string, change: PlatformChange, actor: string, locale?: IssueLocale): Promise<PlatformSummary> {
  const row = await platformByName(app.db, name);
  const plugin = app.plugins.get(row.plugin);
  const fields = configFields(plugin.configSchema);
  const stored = storedConfig(app, row);
  const raw = change.config && typeof change.config === 'object' ? change.config as Record<string, unknown> : {};
  const config = validateConfig(plugin, keepStoredSecrets(fields, raw, stored, change.clearSecrets), locale);
  guardSecretDestinations({ plugin: plugin.id, fields, sent: raw, next: config, stored, origin: 'web', secretsDir: app.config.secretsDir });
  await replaceConfig(app, row, config, actor, 'platform.update');
  return (await listPlatformSummaries(app)).find((p) => p.name === name)!;
}

/** Stores a validated configuration and audits which fields changed (names only). */
export async function replaceConfig(app: AppContext, row: PlatformRow, config: unknown, actor: string, action: string): Promise<void> {
  const fields = configFields(app.plugins.get(row.plugin).configSchema);
  const before = storedConfig(app, row);
  const changed = [...new Set(allLeaves(fields).map((l) => l.path))].filter((path) => JSON.stringify(getPath(before, path)) !== JSON.stringify(getPath(config, path)));
  await app.db('platforms').where({ id: row.id }).update({ config_sealed: app.box.seal(JSON.stringify(config)) });
  await recordAudit(app.db, { actor, action, target: row.name, detail: changed.length ? `changed: ${changed.join(', ')}` : 'nothing changed' });
}

export async function removePlatform(app: AppContext, name: string, actor: string): Promise<void> {
  const row = await platformByName(app.db, name);
  const usedBy = (await usage(app, [row])).get(row.name) ?? [];
  if (usedBy.length) throw new CutoverError('PLATFORM_IN_USE', { name, projects: [...new Set(usedBy)].join(', ') });
  await app.db('platforms').where({ id: row.id }).delete();
  await recordAudit(app.db, { actor, action: 'platform.remove', target: name, detail: `plugin ${row.plugin}` });
}
