import { createHash, randomBytes } from 'node:crypto';

// Dovecot honours a `{SCHEME}` prefix over default_pass_scheme, so SSHA512 rows coexist
// with the SHA512-CRYPT hashes PostfixAdmin itself writes; node:crypto computes it natively.
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const digest = createHash('sha512').update(password, 'utf8').update(salt).digest();
  return `{SSHA512}${Buffer.concat([digest, salt]).toString('base64')}`;
}
