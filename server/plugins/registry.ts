import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CutoverError } from '../errors.ts';
import { moduleExtension } from '../paths.ts';
import type { PluginModule } from './contract.ts';

const pluginsDir = fileURLToPath(new URL('../../plugins/', import.meta.url));

export class PluginRegistry {
  private readonly byId = new Map<string, PluginModule>();

  register(plugin: PluginModule): void {
    if (!plugin?.id || !plugin.configSchema) throw new CutoverError('CONFIG_INVALID', { where: ' (plugin)', detail: 'a plugin module must export id and configSchema' });
    if (this.byId.has(plugin.id)) throw new CutoverError('CONFIG_INVALID', { where: ' (plugin)', detail: `duplicate plugin id "${plugin.id}"` });
    this.byId.set(plugin.id, plugin);
  }

  get(id: string): PluginModule {
    const plugin = this.byId.get(id);
    if (!plugin) throw new CutoverError('PLUGIN_UNKNOWN', { id, available: this.ids().join(', ') });
    return plugin;
  }

  ids(): string[] {
    return [...this.byId.keys()].sort();
  }

  /** Parses a plugin config, naming every bad field, so a typo fails at `platform add`, not mid-migration. */
  parseConfig(id: string, raw: unknown): unknown {
    const result = this.get(id).configSchema.safeParse(raw);
    if (!result.success) {
      const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new CutoverError('CONFIG_INVALID', { where: ` for plugin ${id}`, detail });
    }
    return result.data;
  }
}

export async function loadPlugins(dir = pluginsDir): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = path.join(dir, entry.name, `index${moduleExtension}`);
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { default?: PluginModule };
    if (!mod.default) throw new CutoverError('CONFIG_INVALID', { where: ` (plugins/${entry.name})`, detail: `index${moduleExtension} has no default export` });
    registry.register(mod.default);
  }
  return registry;
}
