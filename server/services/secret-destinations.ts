import { realpathSync } from 'node:fs';
import path from 'node:path';
import { getPath, secretPaths, type ConfigField } from './config-fields.ts';
import { ConfigInvalidError, type FieldIssue } from './plugin-config.ts';

/** Who is storing a config: the operator's CLI may name any file; the panel and the API may not. */
export type ConfigOrigin = 'cli' | 'web';

// The leaves that say where a secret is sent, or who may read it on the way: changing one of
// them is sending the stored secrets somewhere else. Matched on the key, in every plugin's
// config, so a new plugin is covered without a word here.
const DESTINATION_KEY = /^(?:host|hostname|port|security|user|username|login|server|endpoint|region|url|tlsVerify|caFile|allowPlaintext|tenant|tenantId|clientId)$|Url$/;
// Keys that name a file the server reads when it builds the connector (passwordFile, caFile, key.secretFile…).
const FILE_KEY = /.File$/;
// Keys that name an environment variable the server reads (passwordEnv, secretEnv…). From the panel
// and the API only variables the operator exported for platforms may be named: otherwise
// CUTOVER_SECRET_KEY or DATABASE_URL could be sent to an IMAP host as a "password".
const ENV_KEY = /.Env$/;
export const WEB_ENV_PREFIX = 'CUTOVER_PLATFORM_';

type Leaf = [path: string, key: string, value: unknown];

function leaves(value: unknown, prefix = ''): Leaf[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]): Leaf[] => {
    const at = prefix ? `${prefix}.${key}` : key;
    return child && typeof child === 'object' && !Array.isArray(child) ? leaves(child, at) : [[at, key, child]];
  });
}

/** Paths of the destination leaves whose value differs between two configs. */
export function destinationChanges(next: unknown, stored: unknown): string[] {
  const paths = new Set([...leaves(next), ...leaves(stored)].filter(([, key]) => DESTINATION_KEY.test(key)).map(([at]) => at));
  return [...paths].filter((at) => JSON.stringify(getPath(next, at)) !== JSON.stringify(getPath(stored, at))).sort();
}

/** The file, with symlinks and `..` resolved, lies inside the operator's secrets directory. */
export function insideSecretsDir(file: string, secretsDir: string | undefined): boolean {
  if (!secretsDir) return false;
  try {
    const dir = realpathSync(secretsDir);
    return realpathSync(path.resolve(file)).startsWith(dir + path.sep);
  } catch {
    return false;
  }
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

export interface SecretGuardInput {
  plugin: string;
  fields: ConfigField[];
  /** What the caller sent: a secret absent here but present in `next` was kept from `stored`. */
  sent: unknown;
  /** The config about to be stored (stored secrets carried over, validated). */
  next: unknown;
  /** The config stored until now; absent when adding. */
  stored?: unknown;
  origin: ConfigOrigin;
  secretsDir?: string;
}

/**
 * THE rule for where stored secrets may go (the only place it is decided), for add and edit
 * alike:
 * - a secret kept from the stored config is refused when a destination leaf changed (host,
 *   port, user, security…): the admin enters it again, knowing where it goes;
 * - from the panel or the API, a file named in the config (`…File`) must lie inside
 *   `CUTOVER_SECRETS_DIR`, unless it is the one already stored and the destination is the same.
 *   The CLI, run by the operator on the server, may name any file;
 * - from the panel or the API, an environment variable named in the config (`…Env`) must start
 *   with CUTOVER_PLATFORM_, so cutover's own key and the database URL can never be sent out.
 * Refusals are per field, so the form shows each next to its field.
 */
export function guardSecretDestinations(input: SecretGuardInput): void {
  const moved = input.stored === undefined ? [] : destinationChanges(input.next, input.stored);
  const issues: FieldIssue[] = [];
  if (moved.length) {
    for (const at of secretPaths(input.fields)) {
      if (!present(getPath(input.sent, at)) && present(getPath(input.next, at))) {
        issues.push({ path: at, message: `${moved.join(', ')} changed: enter this secret again (a stored secret is never sent to a new destination)` });
      }
    }
  }
  if (input.origin === 'web') {
    for (const [at, key, value] of leaves(input.next)) {
      if (typeof value !== 'string') continue;
      const kept = input.stored !== undefined && getPath(input.stored, at) === value && !moved.length;
      if (ENV_KEY.test(key)) {
        if (kept || /^[A-Z0-9_]+$/.test(value) && value.startsWith(WEB_ENV_PREFIX)) continue;
        issues.push({ path: at, message: `the panel and the API may name only environment variables that start with ${WEB_ENV_PREFIX} (export them for cutover's platforms); use the CLI for any other` });
        continue;
      }
      if (!FILE_KEY.test(key)) continue;
      if (kept || insideSecretsDir(value, input.secretsDir)) continue;
      issues.push({
        path: at,
        message: input.secretsDir
          ? `the panel and the API read files only inside CUTOVER_SECRETS_DIR (${input.secretsDir}); ${value} is not a file there`
          : 'the panel and the API do not read files named in a config: add the platform with the CLI (cutover platform add --config FILE), or set CUTOVER_SECRETS_DIR and put the file there',
      });
    }
  }
  if (issues.length) throw new ConfigInvalidError(input.plugin, issues);
}
