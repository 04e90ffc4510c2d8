import { loadConfig, type Config } from './config.ts';
import { connect, migrate, type Db } from './db/knex.ts';
import { platformById, type PlatformRow } from './db/repos/platforms.ts';
import { createLogger, type Logger } from './log.ts';
import type { PlatformConnector } from './plugins/contract.ts';
import { loadPlugins, type PluginRegistry } from './plugins/registry.ts';
import { loadSecretKey, secretBox, type SecretBox } from './secrets.ts';
import { CutoverError } from './errors.ts';

/** Everything a command, the web app or a worker needs, built once at start: config → db + migrations → plugins. */
export interface AppContext {
  config: Config;
  db: Db;
  box: SecretBox;
  log: Logger;
  plugins: PluginRegistry;
  /**
   * The platform's connector, built once per sealed config. `sealed`: the platform's config as the
   * caller just read it (a worker reads it with the project), which spares reading the row again.
   */
  connector(platformId: number, sealed?: string): Promise<PlatformConnector>;
  close(): Promise<void>;
}

export async function openContext(env: NodeJS.ProcessEnv = process.env): Promise<AppContext> {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const db = connect(config.dataDir, config.databaseUrl);
  await migrate(db);
  const box = secretBox(loadSecretKey(config.dataDir, config.secretKey));
  const plugins = await loadPlugins();
  // Keyed by the sealed config too: a platform edited in the panel (or by another process) gets a
  // fresh connector on next use. The old one may still serve a running step, so it closes at the end.
  const connectors = new Map<number, { sealed: string; pending: Promise<PlatformConnector> }>();
  const retired: Array<Promise<PlatformConnector>> = [];

  const build = async (row: PlatformRow): Promise<PlatformConnector> => {
    const plugin = plugins.get(row.plugin);
    if (!plugin.platform) throw new CutoverError('CONFIG_INVALID', { where: ` for plugin ${row.plugin}`, detail: 'it provides no mail platform' });
    const config = plugins.parseConfig(row.plugin, JSON.parse(box.open(row.config_sealed)));
    return plugin.platform(config, { log: log.child({ platform: row.name }) });
  };

  return {
    config, db, box, log, plugins,
    async connector(platformId, sealed) {
      const cached = connectors.get(platformId);
      if (sealed !== undefined && cached?.sealed === sealed) return cached.pending;
      const row = await platformById(db, platformId);
      if (cached?.sealed === row.config_sealed) return cached.pending;
      if (cached) retired.push(cached.pending);
      const pending = build(row);
      pending.catch(() => { if (connectors.get(platformId)?.pending === pending) connectors.delete(platformId); });
      connectors.set(platformId, { sealed: row.config_sealed, pending });
      return pending;
    },
    async close() {
      for (const pending of [...retired, ...[...connectors.values()].map((c) => c.pending)]) await pending.then((c) => c.close(), () => undefined);
      await db.destroy();
    },
  };
}
