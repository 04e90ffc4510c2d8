import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export interface DecodedJwt { header: Record<string, unknown>; claims: Record<string, unknown>; signingInput: Buffer; signature: Buffer }

/** Splits a compact JWS; undefined when it is not one (three base64url parts with JSON header and claims). */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')),
      claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')),
      signingInput: Buffer.from(`${parts[0]}.${parts[1]}`),
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** RS256 only, as both providers require for these grants. */
export function verifyRs256(jwt: DecodedJwt, publicKey: KeyObject | string): boolean {
  if (jwt.header.alg !== 'RS256') return false;
  return verify('sha256', jwt.signingInput, typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey, jwt.signature);
}
