import type { z } from 'zod';
import { CutoverError } from '../errors.ts';
import type { PluginModule } from '../plugins/contract.ts';

export interface FieldIssue { path: string; message: string }

/** zod 4's per-parse error map: the panel passes the reader's locale (z.locales.fr().localeError). */
export type IssueLocale = z.core.$ZodErrorMap;

/** CONFIG_INVALID with the issues kept apart, so a form can show each next to its field. */
export class ConfigInvalidError extends CutoverError {
  constructor(readonly plugin: string, readonly issues: FieldIssue[]) {
    super('CONFIG_INVALID', { where: ` for plugin ${plugin}`, detail: issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ') });
  }
}

/** Parses a plugin configuration; the same words as PluginRegistry.parseConfig, plus the issues one by one. */
export function validateConfig(plugin: PluginModule, raw: unknown, locale?: IssueLocale): unknown {
  const result = plugin.configSchema.safeParse(raw, locale ? { error: locale } : undefined);
  if (result.success) return result.data;
  throw new ConfigInvalidError(plugin.id, result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
}
