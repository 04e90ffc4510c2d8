import { createHash, createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** A compact JWS signed with RS256 (RSASSA-PKCS1-v1_5 over SHA-256, RFC 7518 §3.3). */
export function signRs256(header: Record<string, unknown>, claims: Record<string, unknown>, privateKeyPem: string): string {
  const input = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...header }))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), createPrivateKey(privateKeyPem));
  return `${input}.${base64url(signature)}`;
}

/** Microsoft identifies the certificate of a client assertion by its SHA-1 thumbprint (`x5t`). */
export function certificateThumbprint(certificatePem: string): string {
  return base64url(createHash('sha1').update(new X509Certificate(certificatePem).raw).digest());
}

export function jwtId(): string {
  return randomUUID();
}
