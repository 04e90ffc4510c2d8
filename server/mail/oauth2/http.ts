import { CutoverError } from '../../errors.ts';

export type FetchLike = typeof fetch;

export interface TokenResponse { status: number; body: Record<string, unknown> }

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs a form to a token endpoint and reads its JSON answer, success or error alike (RFC 6749
 * §5.1/§5.2). Only a transport failure or a non-JSON answer throws here; the caller maps the
 * provider's error object. The request body carries the assertion or the secret: never logged.
 */
export async function postTokenForm(url: string, form: Record<string, string>, provider: string, fetchImpl: FetchLike, timeoutMs: number): Promise<TokenResponse> {
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const detail = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : ((err as { cause?: Error }).cause?.message ?? (err as Error).message);
    throw new CutoverError('OAUTH2_TOKEN_FAILED', { provider, endpoint: url, forUser: '', detail, fix: '' }, { retryable: true, cause: err });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text.length <= MAX_RESPONSE_BYTES ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new CutoverError('OAUTH2_TOKEN_FAILED', { provider, endpoint: url, forUser: '', detail: `HTTP ${res.status}, not a JSON object: ${text.slice(0, 120).replace(/\s+/g, ' ')}`, fix: '' }, { retryable: res.status >= 500 || res.status === 429 });
  }
  return { status: res.status, body: body as Record<string, unknown> };
}

/** The access token and its lifetime from a successful answer, or undefined when the answer is not one. */
export function grantFrom(response: TokenResponse): { accessToken: string; expiresInSeconds: number } | undefined {
  const { access_token: token, expires_in: expires } = response.body;
  if (response.status !== 200 || typeof token !== 'string' || !token || token.length > 16_384) return undefined;
  const seconds = typeof expires === 'number' ? expires : Number(expires);
  return { accessToken: token, expiresInSeconds: Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 86_400) : 3_600 };
}
