import { accessRules, type AccessRule } from '../../plugins/ovhcloud/access-rules.ts';
import { OvhApiError, OvhClient, toCutoverError } from '../../plugins/ovhcloud/client.ts';
import { baseUrl, readCredentials, type OvhConfig } from '../../plugins/ovhcloud/config.ts';
import type { AppContext } from '../context.ts';
import { recordAudit } from '../db/repos/audit.ts';
import { platformByName, type PlatformRow } from '../db/repos/platforms.ts';
import { CutoverError } from '../errors.ts';
import { replaceConfig, storedConfig } from './platforms.ts';

/**
 * OVHcloud consumer keys, for `cutover ovh credential|check` and the panel: a key asked with
 * exactly the access rules the connector needs (POST /auth/credential, only the application key
 * is sent), and the key's state read back with it (GET /auth/currentCredential).
 */
export const OVH_PLUGIN = 'ovhcloud';

export interface RequestedKey { consumerKey: string; validationUrl: string; state: string; rules: AccessRule[] }

export async function requestConsumerKey(config: OvhConfig, redirection?: string): Promise<RequestedKey> {
  const rules = accessRules(config);
  const client = new OvhClient({ baseUrl: baseUrl(config), applicationKey: config.applicationKey, timeoutMs: config.http.timeoutMs, retries: 0 });
  try {
    const answer: { consumerKey: string; validationUrl: string; state: string } = await client.request('POST', '/auth/credential', { auth: false, body: { accessRules: rules, ...(redirection && { redirection }) } });
    return { ...answer, rules };
  } catch (err) {
    throw toCutoverError(err, client.endpoint, 'consumer key request');
  }
}

export interface CredentialCheck { status: string; expiration: string | null; missing: AccessRule[]; ok: boolean }

const ruleGrants = (granted: AccessRule, need: AccessRule) => granted.method === need.method
  && new RegExp(`^${granted.path.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(need.path);

/** The key's state, expiry and the rules it lacks; `consumerKey` overrides the configuration's (a key not stored yet). */
export async function checkCredential(config: OvhConfig, consumerKey?: string): Promise<CredentialCheck> {
  const credentials = readCredentials(consumerKey ? { ...config, consumerKey, consumerKeyFile: undefined, consumerKeyEnv: undefined } : config);
  const client = new OvhClient({ baseUrl: baseUrl(config), ...credentials, timeoutMs: config.http.timeoutMs });
  let current: { status: string; expiration: string | null; rules: AccessRule[] };
  try {
    current = await client.get('/auth/currentCredential');
  } catch (err) {
    throw toCutoverError(err, client.endpoint, 'current credential');
  }
  const missing = accessRules(config).filter((need) => !(current.rules ?? []).some((g) => ruleGrants(g, need)));
  return { status: current.status, expiration: current.expiration, missing, ok: current.status === 'validated' && missing.length === 0 };
}

/** Where a key not validated yet stands: the API refuses it with NOT_CREDENTIAL while pending, INVALID_CREDENTIAL once expired or refused. */
export type PendingKeyState = 'validated' | 'pendingValidation' | 'invalid';

function refusal(err: unknown): PendingKeyState | null {
  const code = err instanceof CutoverError && err.cause instanceof OvhApiError ? err.cause.body.errorCode : undefined;
  return code === 'NOT_CREDENTIAL' ? 'pendingValidation' : code === 'INVALID_CREDENTIAL' ? 'invalid' : null;
}

export async function ovhPlatform(app: AppContext, name: string): Promise<{ row: PlatformRow; config: OvhConfig }> {
  const row = await platformByName(app.db, name);
  if (row.plugin !== OVH_PLUGIN) throw new CutoverError('INPUT_INVALID', { detail: `platform ${name} uses plugin ${row.plugin}, not ovhcloud` });
  return { row, config: app.plugins.parseConfig(OVH_PLUGIN, storedConfig(app, row)) as OvhConfig };
}

/** Asks a key for a stored platform; the key itself goes back to the caller to keep (sealed) until it is validated. */
export async function requestPlatformKey(app: AppContext, name: string, actor: string): Promise<RequestedKey> {
  const { config } = await ovhPlatform(app, name);
  const key = await requestConsumerKey(config);
  await recordAudit(app.db, { actor, action: 'platform.consumer-key.request', target: name, detail: `${key.rules.length} access rules` });
  return key;
}

/**
 * Once the admin says the key is validated: checks it on the API and stores it in the sealed
 * platform configuration (in place of any consumerKeyFile / consumerKeyEnv). A key still
 * pending or no longer valid is not stored, and the answer says which.
 */
export async function storeValidatedKey(app: AppContext, name: string, consumerKey: string, actor: string): Promise<{ state: PendingKeyState; check?: CredentialCheck }> {
  const { row, config } = await ovhPlatform(app, name);
  let check: CredentialCheck;
  try {
    check = await checkCredential(config, consumerKey);
  } catch (err) {
    const state = refusal(err);
    if (!state) throw err;
    return { state };
  }
  if (check.status !== 'validated') return { state: check.status === 'pendingValidation' ? 'pendingValidation' : 'invalid', check };
  const next = { ...storedConfig(app, row), consumerKey, consumerKeyFile: undefined, consumerKeyEnv: undefined };
  await replaceConfig(app, row, app.plugins.parseConfig(OVH_PLUGIN, JSON.parse(JSON.stringify(next))), actor, 'platform.consumer-key.store');
  return { state: 'validated', check };
}
