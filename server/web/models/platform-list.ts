import type { AppContext } from '../../context.ts';
import { configFields } from '../../services/config-fields.ts';
import { listPlatformSummaries, pluginKinds, type PluginKind } from '../../services/platforms.ts';
import type { MessageKey } from '../i18n.ts';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

export function kindsText(kinds: PluginKind[], t: T): string {
  return kinds.map((k) => t(k === 'platform' ? 'platforms.kind.platform' : 'platforms.kind.dns')).join(', ');
}

/** The installed plugins, for the "add" links and GET /api/plugins (with the form description). */
export function pluginList(app: AppContext) {
  return app.plugins.ids().map((id) => {
    const plugin = app.plugins.get(id);
    return { id, description: plugin.description, kinds: pluginKinds(plugin), fields: configFields(plugin.configSchema) };
  });
}

/** The platforms page: every platform and DNS provider, with the projects that use it. */
export async function platformListModel(app: AppContext, t: T) {
  const platforms = (await listPlatformSummaries(app)).map((p) => ({ ...p, kindsText: kindsText(p.kinds, t), used: p.usedBy.length > 0 }));
  const plugins = pluginList(app).map(({ id, description, kinds }) => ({ id, description, kindsText: kindsText(kinds, t) }));
  return { platforms, plugins };
}
