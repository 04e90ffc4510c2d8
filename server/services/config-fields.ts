import { z, type ZodType } from 'zod';

/**
 * A plugin's configuration schema described as form fields, read from the JSON Schema zod 4
 * emits for its input side (`z.toJSONSchema(schema, { io: 'input' })`), so the panel, the
 * JSON API and the service agree on one description.
 *
 * THE SECRET RULE (the only place it is decided): a field is secret when its zod schema carries
 * `.meta({ secret: true })` (postfixadmin masterUser.password and database.connection, ovhcloud
 * applicationSecret and consumerKey, rfc2136 key.secret). Secrets are write-only: never
 * rendered, never returned by the API, kept when an edit leaves them empty. Secrets inside a
 * JSON field (an array of objects) are not supported: mark a plain field instead.
 */
export type LeafType = 'text' | 'secret' | 'integer' | 'number' | 'boolean' | 'select' | 'lines' | 'json';

interface FieldBase { path: string; key: string; required: boolean; description?: string }
export interface LeafField extends FieldBase { kind: 'leaf'; type: LeafType; default?: unknown; options?: string[] }
export interface GroupField extends FieldBase { kind: 'group'; fields: ConfigField[] }
/** A discriminated union: `discriminator` picks a variant; keys several variants share are in `common`. */
export interface VariantField extends FieldBase { kind: 'variant'; discriminator: string; common: ConfigField[]; variants: Array<{ value: string; fields: ConfigField[] }> }
export type ConfigField = LeafField | GroupField | VariantField;

interface Node {
  type?: string | string[];
  properties?: Record<string, Node>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  oneOf?: Node[];
  anyOf?: Node[];
  allOf?: Node[];
  items?: Node;
  default?: unknown;
  description?: string;
  secret?: boolean;
}

const cache = new WeakMap<object, ConfigField[]>();

export function configFields(schema: ZodType): ConfigField[] {
  if (!cache.has(schema)) {
    const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Node;
    cache.set(schema, objectFields(merged(root), ''));
  }
  return cache.get(schema)!;
}

function merged(node: Node): Node {
  if (!node.allOf) return node;
  const parts = node.allOf.map(merged);
  return { ...node, type: 'object', properties: Object.assign({}, node.properties, ...parts.map((p) => p.properties)), required: [...(node.required ?? []), ...parts.flatMap((p) => p.required ?? [])] };
}

function objectFields(node: Node, prefix: string, skip?: string): ConfigField[] {
  const required = new Set(node.required ?? []);
  return Object.entries(node.properties ?? {}).filter(([key]) => key !== skip).map(([key, child]) => describe(child, key, prefix ? `${prefix}.${key}` : key, required.has(key)));
}

const literal = (n: Node): unknown[] | null => (n.const !== undefined ? [n.const] : n.enum ?? null);

function describe(raw: Node, key: string, path: string, required: boolean): ConfigField {
  const node = merged(raw);
  const base = { key, path, required, ...(node.description && { description: node.description }) };
  const leaf = (type: LeafType, extra: Partial<LeafField> = {}): LeafField => ({ kind: 'leaf', type, ...base, ...(node.default !== undefined && { default: node.default }), ...extra });
  const options = node.oneOf ?? node.anyOf;
  if (options) {
    const values = options.map(literal);
    if (values.every((v) => v !== null)) return leaf('select', { options: values.flat().map(String) });
    return variantOf(options.map(merged), base) ?? leaf('json');
  }
  const values = literal(node);
  if (values) return leaf('select', { options: values.map(String) });
  const type = Array.isArray(node.type) ? node.type.find((t) => t !== 'null') : node.type;
  switch (type) {
    case 'object': return node.properties ? { kind: 'group', ...base, fields: objectFields(node, path) } : leaf('json');
    case 'array': return leaf(node.items?.type === 'string' && !literal(node.items) ? 'lines' : 'json');
    case 'boolean': return leaf('boolean');
    case 'integer': return leaf('integer');
    case 'number': return leaf('number');
    case 'string': return leaf(node.secret ? 'secret' : 'text');
    default: return leaf('json');
  }
}

function variantOf(options: Node[], base: FieldBase): VariantField | null {
  if (!options.every((o) => o.properties)) return null;
  const discriminator = Object.keys(options[0]!.properties!).find((k) => options.every((o) => o.properties![k]?.const !== undefined));
  if (!discriminator) return null;
  const keyCount = new Map<string, number>();
  for (const o of options) for (const k of Object.keys(o.properties!)) if (k !== discriminator) keyCount.set(k, (keyCount.get(k) ?? 0) + 1);
  const shared = new Set([...keyCount].filter(([, n]) => n > 1).map(([k]) => k));
  const variants = options.map((o) => ({
    value: String(o.properties![discriminator]!.const),
    fields: objectFields(o, base.path, discriminator).filter((f) => !shared.has(f.key)),
  }));
  const common = objectFields({ ...options[0]!, properties: Object.fromEntries(Object.entries(options[0]!.properties!).filter(([k]) => shared.has(k))) }, base.path);
  return { kind: 'variant', ...base, discriminator, common, variants };
}

export function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), obj);
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = obj;
  for (const key of keys.slice(0, -1)) {
    if (!at[key] || typeof at[key] !== 'object') at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  if (value === undefined) delete at[keys.at(-1)!];
  else at[keys.at(-1)!] = value;
}

/**
 * The leaves in use for `config`: groups it holds, and of a variant only the fields of the
 * variant its discriminator names (every variant when it names none).
 */
export function activeLeaves(fields: ConfigField[], config: unknown): LeafField[] {
  return fields.flatMap((f): LeafField[] => {
    if (f.kind === 'leaf') return [f];
    const value = getPath(config, f.path);
    if (f.kind === 'group') return value && typeof value === 'object' ? activeLeaves(f.fields, config) : [];
    if (!value || typeof value !== 'object') return [];
    const chosen = (value as Record<string, unknown>)[f.discriminator];
    return [...activeLeaves(f.common, config), ...f.variants.filter((v) => chosen === undefined || v.value === chosen).flatMap((v) => activeLeaves(v.fields, config))];
  });
}

export function allLeaves(fields: ConfigField[]): LeafField[] {
  return fields.flatMap((f): LeafField[] => (f.kind === 'leaf' ? [f] : f.kind === 'group' ? allLeaves(f.fields) : [...allLeaves(f.common), ...f.variants.flatMap((v) => allLeaves(v.fields))]));
}

export function secretPaths(fields: ConfigField[]): string[] {
  return [...new Set(allLeaves(fields).filter((l) => l.type === 'secret').map((l) => l.path))];
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/** A copy of `config` without any secret: what pages and API answers may show. */
export function withoutSecrets(fields: ConfigField[], config: unknown): Record<string, unknown> {
  const copy = structuredClone((config ?? {}) as Record<string, unknown>);
  for (const path of secretPaths(fields)) if (getPath(copy, path) !== undefined) setPath(copy, path, undefined);
  return copy;
}

/** Which secrets `config` holds (their paths, never their values). */
export function storedSecrets(fields: ConfigField[], config: unknown): string[] {
  return secretPaths(fields).filter((path) => present(getPath(config, path)));
}

/**
 * Write-only secrets on edit: a secret the new config leaves empty keeps the stored value,
 * unless its path is in `clear`. Only secrets the new config uses are carried over (a group
 * it dropped or another variant does not get the old secret back).
 */
export function keepStoredSecrets(fields: ConfigField[], next: Record<string, unknown>, stored: unknown, clear: string[] = []): Record<string, unknown> {
  const result = structuredClone(next);
  for (const leaf of activeLeaves(fields, result)) {
    if (leaf.type !== 'secret' || present(getPath(result, leaf.path))) continue;
    const old = getPath(stored, leaf.path);
    setPath(result, leaf.path, !clear.includes(leaf.path) && present(old) ? old : undefined);
  }
  return result;
}
