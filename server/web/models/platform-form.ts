import { allLeaves, getPath, setPath, type ConfigField, type LeafField, type VariantField } from '../../services/config-fields.ts';
import { ConfigInvalidError, validateConfig, type FieldIssue, type IssueLocale } from '../../services/plugin-config.ts';
import type { PluginModule } from '../../plugins/contract.ts';
import type { MessageKey } from '../i18n.ts';

/**
 * The configuration form generated from a plugin's fields: inputs named by dotted path
 * (`imap.port`), nested objects as fieldsets, a discriminated union as a variant select and
 * one fieldset per variant. Rows are a flat list (open fieldset, input, close fieldset) so the
 * view needs no recursive partial. Secrets render as empty password inputs, whatever is stored.
 */
type T = (key: MessageKey, params?: Record<string, string | number>) => string;

/** What the inputs show, by dotted path: text as typed; checkboxes 'on' or ''; tri-state booleans 'true' | 'false' | ''. */
export type FormValues = Record<string, string>;

type Body = Record<string, unknown>;

export interface InputModel {
  id: string;
  name: string;
  path: string;
  label: string;
  control: 'text' | 'password' | 'number' | 'checkbox' | 'select' | 'textarea';
  value: string;
  checked?: boolean;
  step?: string;
  options?: Array<{ value: string; label: string; selected: boolean }>;
  required: boolean;
  description?: string;
  hint?: string;
  secret?: boolean;
  /** A secret with a stored value: offer to forget it (the `_clear` checkbox). */
  clearable?: boolean;
  errors: string[];
}

export type FormRow =
  | { open: { legend: string; description?: string; optional: boolean; variant?: string; errors: string[] } }
  | { close: true }
  | { input: InputModel };

const discriminatorPath = (f: VariantField) => `${f.path}.${f.discriminator}`;
/** An optional boolean with no default has three states (unset, yes, no): a select, not a checkbox. */
const triState = (leaf: LeafField) => leaf.type === 'boolean' && !leaf.required && leaf.default === undefined;
const text = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? String(v[0] ?? '') : '');

function display(leaf: LeafField, value: unknown): string {
  if (value === undefined || value === null || leaf.type === 'secret') return '';
  if (leaf.type === 'boolean') return triState(leaf) ? String(value) : value ? 'on' : '';
  if (leaf.type === 'lines') return Array.isArray(value) ? value.join('\n') : String(value);
  if (leaf.type === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

function variants(fields: ConfigField[]): VariantField[] {
  return fields.flatMap((f) => (f.kind === 'variant' ? [f, ...variants(f.common), ...f.variants.flatMap((v) => variants(v.fields))] : f.kind === 'group' ? variants(f.fields) : []));
}

/** A new platform's form: the schema's defaults. */
export function defaultValues(fields: ConfigField[]): FormValues {
  return Object.fromEntries(allLeaves(fields).map((l) => [l.path, display(l, l.default)]));
}

/** An edit form: the stored configuration (its secrets never). */
export function valuesFromConfig(fields: ConfigField[], config: unknown): FormValues {
  const values = Object.fromEntries(allLeaves(fields).map((l) => [l.path, display(l, getPath(config, l.path))]));
  for (const v of variants(fields)) values[discriminatorPath(v)] = text(getPath(config, discriminatorPath(v)));
  return values;
}

/** A form sent back with errors: what the admin typed, secrets left out. */
export function valuesFromBody(fields: ConfigField[], body: Body): FormValues {
  const values = Object.fromEntries(allLeaves(fields).filter((l) => l.type !== 'secret').map((l) => [l.path, l.type === 'boolean' && !triState(l) ? (body[l.path] !== undefined ? 'on' : '') : text(body[l.path])]));
  for (const v of variants(fields)) values[discriminatorPath(v)] = text(body[discriminatorPath(v)]);
  return values;
}

/** Whether the admin set this leaf to something other than its default (decides whether an optional group is sent). */
function leafSet(leaf: LeafField, body: Body): boolean {
  if (leaf.type === 'boolean' && !triState(leaf)) return (body[leaf.path] !== undefined) !== Boolean(leaf.default);
  const value = text(body[leaf.path]).trim();
  return value !== '' && value !== display(leaf, leaf.default).trim();
}

/**
 * The posted form as a raw configuration for the plugin's schema to judge. An optional group
 * (or union) the admin left at its defaults is left out; numbers, lists and JSON are converted,
 * and what cannot be converted is kept as typed (the schema then names the field) with a problem.
 */
export function readForm(fields: ConfigField[], body: Body, t: T): { config: Record<string, unknown>; problems: FieldIssue[] } {
  const config: Record<string, unknown> = {};
  const problems: FieldIssue[] = [];
  const read = (list: ConfigField[]) => {
    for (const f of list) {
      if (f.kind === 'leaf') { setPath(config, f.path, readLeaf(f, body, problems, t)); continue; }
      const leaves = f.kind === 'group' ? allLeaves(f.fields) : allLeaves([...f.common, ...f.variants.flatMap((v) => v.fields)]);
      const chosen = f.kind === 'variant' ? text(body[discriminatorPath(f)]) : '';
      if (!f.required && !chosen && !leaves.some((l) => leafSet(l, body))) continue;
      if (getPath(config, f.path) === undefined) setPath(config, f.path, {});
      if (f.kind === 'group') { read(f.fields); continue; }
      if (chosen) setPath(config, discriminatorPath(f), chosen);
      read([...f.common, ...f.variants.filter((v) => v.value === chosen).flatMap((v) => v.fields)]);
    }
  };
  read(fields);
  return { config, problems };
}

function readLeaf(leaf: LeafField, body: Body, problems: FieldIssue[], t: T): unknown {
  const raw = text(body[leaf.path]);
  const value = leaf.type === 'secret' ? raw : raw.trim();
  if (leaf.type === 'boolean') return triState(leaf) ? (value === '' ? undefined : value === 'true') : body[leaf.path] !== undefined;
  if (value === '') return undefined;
  switch (leaf.type) {
    case 'integer':
    case 'number': {
      const n = Number(value);
      if (Number.isFinite(n)) return n;
      problems.push({ path: leaf.path, message: t('platforms.form.notNumber') });
      return value;
    }
    case 'lines': return value.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
    case 'json':
      try { return JSON.parse(value); } catch (err) {
        problems.push({ path: leaf.path, message: t('platforms.form.notJson', { detail: (err as Error).message }) });
        return value;
      }
    default: return value;
  }
}

/** The form's own findings (not a number, not JSON) say more than the schema's about the same field. */
export function mergeIssues(problems: FieldIssue[], issues: FieldIssue[]): FieldIssue[] {
  return [...problems, ...issues.filter((i) => !problems.some((p) => p.path === i.path))];
}

/** The form's findings plus everything the schema finds wrong, as one refusal (nothing is stored). */
export function formRefusal(plugin: PluginModule, config: unknown, problems: FieldIssue[], locale?: IssueLocale): ConfigInvalidError {
  try {
    validateConfig(plugin, config, locale);
    return new ConfigInvalidError(plugin.id, problems);
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err;
    return new ConfigInvalidError(plugin.id, mergeIssues(problems, err.issues));
  }
}

/** Issues by the field that shows them: the deepest field whose path starts the issue's; the rest go above the form. */
export function placeIssues(fields: ConfigField[], issues: FieldIssue[]): { byPath: Map<string, string[]>; general: string[] } {
  const known = new Set<string>();
  const walk = (list: ConfigField[]) => {
    for (const f of list) {
      known.add(f.path);
      if (f.kind === 'group') walk(f.fields);
      if (f.kind === 'variant') { known.add(discriminatorPath(f)); walk(f.common); f.variants.forEach((v) => walk(v.fields)); }
    }
  };
  walk(fields);
  const byPath = new Map<string, string[]>();
  const general: string[] = [];
  for (const issue of issues) {
    const parts = issue.path ? issue.path.split('.') : [];
    let at = parts.length;
    while (at > 0 && !known.has(parts.slice(0, at).join('.'))) at--;
    if (at === 0) { general.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message); continue; }
    const path = parts.slice(0, at).join('.');
    const rest = parts.slice(at).join('.');
    byPath.set(path, [...(byPath.get(path) ?? []), rest ? `${rest}: ${issue.message}` : issue.message]);
  }
  return { byPath, general };
}

export interface FormContext { values: FormValues; errors: Map<string, string[]>; storedSecrets: string[]; t: T }

export function formRows(fields: ConfigField[], ctx: FormContext): FormRow[] {
  return fields.flatMap((f): FormRow[] => {
    if (f.kind === 'leaf') return [{ input: inputOf(f, ctx) }];
    const open = { legend: f.key, description: f.description, optional: !f.required, errors: ctx.errors.get(f.path) ?? [] };
    if (f.kind === 'group') return [{ open }, ...formRows(f.fields, ctx), { close: true }];
    const chooser = discriminatorPath(f);
    const choice: InputModel = {
      ...baseInput(chooser, f.discriminator, true, ctx), control: 'select', value: ctx.values[chooser] ?? '', hint: ctx.t('platforms.form.variantHint'),
      options: [{ value: '', label: '—', selected: !ctx.values[chooser] }, ...f.variants.map((v) => ({ value: v.value, label: v.value, selected: ctx.values[chooser] === v.value }))],
    };
    return [
      { open }, { input: choice }, ...formRows(f.common, ctx),
      ...f.variants.flatMap((v): FormRow[] => [{ open: { legend: ctx.t('platforms.form.variant', { field: f.discriminator, value: v.value }), optional: false, variant: v.value, errors: [] } }, ...formRows(v.fields, ctx), { close: true }]),
      { close: true },
    ];
  });
}

function baseInput(path: string, label: string, required: boolean, ctx: FormContext): Omit<InputModel, 'control' | 'value'> {
  return { id: `f-${path.replace(/[^a-z0-9]+/gi, '-')}`, name: path, path, label, required, errors: ctx.errors.get(path) ?? [] };
}

function inputOf(leaf: LeafField, ctx: FormContext): InputModel {
  const base = { ...baseInput(leaf.path, leaf.key, leaf.required, ctx), description: leaf.description };
  const value = ctx.values[leaf.path] ?? '';
  switch (leaf.type) {
    case 'secret': {
      const stored = ctx.storedSecrets.includes(leaf.path);
      // Never a value: a secret goes in, it does not come out.
      return { ...base, control: 'password', value: '', secret: true, clearable: stored, hint: ctx.t(stored ? 'platforms.form.secretStored' : 'platforms.form.secretNew') };
    }
    case 'boolean':
      if (triState(leaf)) return { ...base, control: 'select', value, options: [['', '—'], ['true', ctx.t('platforms.form.yes')], ['false', ctx.t('platforms.form.no')]].map(([v, l]) => ({ value: v!, label: l!, selected: value === v })) };
      return { ...base, control: 'checkbox', value: 'on', checked: value === 'on' };
    case 'select':
      return { ...base, control: 'select', value, options: [...(leaf.required && leaf.default !== undefined ? [] : [{ value: '', label: '—', selected: value === '' }]), ...(leaf.options ?? []).map((o) => ({ value: o, label: o, selected: value === o }))] };
    case 'integer': return { ...base, control: 'number', value, step: '1' };
    case 'number': return { ...base, control: 'number', value, step: 'any' };
    case 'lines': return { ...base, control: 'textarea', value, hint: ctx.t('platforms.form.lines') };
    case 'json': return { ...base, control: 'textarea', value, hint: ctx.t('platforms.form.json') };
    default: return { ...base, control: 'text', value };
  }
}
