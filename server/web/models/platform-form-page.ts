import type { PluginModule } from '../../plugins/contract.ts';
import { configFields } from '../../services/config-fields.ts';
import { OVH_PLUGIN } from '../../services/ovh-credential.ts';
import type { FieldIssue } from '../../services/plugin-config.ts';
import { pluginKinds } from '../../services/platforms.ts';
import type { MessageKey } from '../i18n.ts';
import { formRows, placeIssues, type FormValues } from './platform-form.ts';
import { kindsText } from './platform-list.ts';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface FormPageInput {
  plugin: PluginModule;
  /** Absent while adding. */
  name?: string;
  /** What the name field shows while adding. */
  newName?: string;
  values: FormValues;
  issues?: FieldIssue[];
  /** A refusal that belongs to no field (connection test failed, name taken…). */
  failure?: string;
  storedSecrets?: string[];
  usedBy?: string[];
  skipTest?: boolean;
  pendingKey?: { validationUrl: string; requestedAt: string } | null;
}

/** The add / edit page: the generated form, and on edit the test, consumer-key and remove actions. */
export function formPageModel(input: FormPageInput, t: T) {
  const fields = configFields(input.plugin.configSchema);
  const { byPath, general } = placeIssues(fields, input.issues ?? []);
  const editing = input.name !== undefined;
  const kinds = pluginKinds(input.plugin);
  return {
    title: editing ? t('platforms.edit.title', { name: input.name! }) : t('platforms.new.title', { plugin: input.plugin.id }),
    editing,
    name: input.name,
    newName: input.newName ?? '',
    plugin: { id: input.plugin.id, description: input.plugin.description, kindsText: kindsText(kinds, t) },
    rows: formRows(fields, { values: input.values, errors: byPath, storedSecrets: input.storedSecrets ?? [], t }),
    errors: [...(input.failure ? [input.failure] : []), ...general],
    skipTest: input.skipTest ?? false,
    offersSkipTest: kinds.includes('platform'),
    testsPlatform: kinds.includes('platform'),
    testsDns: kinds.includes('dns'),
    usedBy: input.usedBy ?? [],
    consumerKey: editing && input.plugin.id === OVH_PLUGIN ? { pending: input.pendingKey ?? null } : null,
  };
}
