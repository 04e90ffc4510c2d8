import { readFileSync } from 'node:fs';
import { CutoverError } from '../errors.ts';
import { limitsFor, messageLimitFor } from '../mail/providers/index.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';

/** `cutover copy` options for provider presets and OAuth2; keys and secrets only ever come from the file. */
export const providerCopyOptions = {
  'source-provider': { type: 'string' },
  'source-oauth2-config': { type: 'string' },
  'dest-oauth2-config': { type: 'string' },
} as const;

const PROVIDER_NAMES: Record<string, string> = { gmail: 'google', google: 'google', 'google-workspace': 'google', microsoft365: 'microsoft365', office365: 'microsoft365', m365: 'microsoft365', exchange: 'microsoft365' };

export function parseProvider(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const id = PROVIDER_NAMES[text.toLowerCase()];
  if (!id) throw new CutoverError('INPUT_INVALID', { detail: `--source-provider: "${text}" is not one of gmail, microsoft365` });
  return id;
}

/** Whether this side logs in with OAuth2 tokens instead of a password. */
export function usesOAuth2(side: 'source' | 'dest', values: Record<string, unknown>): boolean {
  return typeof values[`${side}-oauth2-config`] === 'string';
}

/** The endpoint logging in as the URL's user with tokens from the side's OAuth2 config file (a Google JSON key is accepted as it is). */
export async function oauth2Endpoint(side: 'source' | 'dest', values: Record<string, unknown>, endpoint: ImapEndpoint): Promise<ImapEndpoint> {
  const file = values[`${side}-oauth2-config`] as string;
  if (values[`${side}-auth-user`]) throw new CutoverError('INPUT_INVALID', { detail: `--${side}-oauth2-config and --${side}-auth-user exclude each other` });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CutoverError('INPUT_INVALID', { detail: `--${side}-oauth2-config: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
  }
  // Loaded only for an OAuth2 login: its schemas (zod) cost a password login's start-up ~10 ms.
  const { createTokenSource, parseOAuth2Config, withAccessToken } = await import('../mail/oauth2/index.ts');
  let config;
  try {
    config = parseOAuth2Config(JSON.parse(text));
  } catch (err) {
    // zod's messages name the fields and never echo the key or the secret.
    const detail = err instanceof SyntaxError ? 'not JSON' : ((err as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues ?? []).map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new CutoverError('CONFIG_INVALID', { where: ` in ${file}`, detail });
  }
  const { auth, ...transport } = endpoint;
  return withAccessToken(transport, createTokenSource(config), auth.authzid ?? auth.user);
}

/** The source provider's message size limit and connection cap applied to the copy's own settings. */
export function providerCopySettings(provider: string | undefined, maxMessageBytes: number | undefined, concurrency: number): { maxMessageBytes?: number; concurrency: number } {
  const cap = limitsFor(provider).maxConnectionsPerUser;
  return { maxMessageBytes: messageLimitFor(provider, maxMessageBytes), concurrency: cap ? Math.min(concurrency, cap) : concurrency };
}
