import type { AppContext } from '../context.ts';
import { CutoverError } from '../errors.ts';
import type { AutodetectRequest, AutodetectResult } from '../plugins/contract.ts';
import { addPlatform, type PlatformSummary } from './platforms.ts';
import { insideSecretsDir, type ConfigOrigin } from './secret-destinations.ts';

export interface AutodetectPlatform extends AutodetectRequest {
  name: string;
  /** Default `imap`: the plugin whose autodetect runs. */
  plugin?: string;
  /** Settings the DNS cannot give (an admin login, limits), merged over what was found. */
  extraConfig?: Record<string, unknown>;
  /** Default 'web': a CA file is then read only from CUTOVER_SECRETS_DIR, as for any config. */
  from?: ConfigOrigin;
}

export interface AutodetectedPlatform { platform: PlatformSummary; detected: AutodetectResult; seconds: number }

/**
 * `platform add NAME --autodetect ADDRESS` and the panel's Autodetect button: finds the settings,
 * tests them with a login as the address, then adds the platform like any other (validated,
 * connection tested, stored encrypted). Nothing is stored when any of it fails.
 */
export async function autodetectPlatform(app: AppContext, input: AutodetectPlatform, actor: string): Promise<AutodetectedPlatform> {
  const started = Date.now();
  const plugin = app.plugins.get(input.plugin ?? 'imap');
  if (!plugin.autodetect) throw new CutoverError('INPUT_INVALID', { detail: `plugin ${plugin.id} cannot autodetect its settings` });
  if (await app.db('platforms').where({ name: input.name }).first()) throw new CutoverError('PLATFORM_EXISTS', { name: input.name });
  if (!input.skipLogin && !input.password) throw new CutoverError('INPUT_INVALID', { detail: `autodetect tests the settings with a login as ${input.address}: give its password (file, environment variable or stdin), or skip the test` });
  // A CA given with the extra settings is the one the test login must trust too.
  const caFile = input.caFile ?? (typeof input.extraConfig?.caFile === 'string' ? input.extraConfig.caFile : undefined);
  const from = input.from ?? 'web';
  // The test login reads the CA file before the config is stored: the same rule as addPlatform's, checked first.
  if (caFile && from === 'web' && !insideSecretsDir(caFile, app.config.secretsDir)) {
    throw new CutoverError('INPUT_INVALID', { detail: `caFile: the panel and the API read files only inside CUTOVER_SECRETS_DIR${app.config.secretsDir ? ` (${app.config.secretsDir})` : ' (not set)'}; ${caFile} is not a file there` });
  }
  const detected = await plugin.autodetect({ ...input, caFile }, { log: app.log });
  const config = { ...detected.config, ...input.extraConfig };
  const platform = await addPlatform(app, { name: input.name, plugin: plugin.id, config, skipTest: input.skipLogin, from }, actor);
  return { platform, detected, seconds: (Date.now() - started) / 1000 };
}
