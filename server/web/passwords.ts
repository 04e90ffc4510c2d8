import { hash, verify } from '@node-rs/argon2';

// argon2id with the library defaults (19 MiB, 2 passes): OWASP's minimum for interactive logins.
export const MIN_PASSWORD_LENGTH = 10;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** Checks a password; a malformed stored hash counts as a refusal, never as a crash. */
export async function checkPassword(stored: string, password: string): Promise<boolean> {
  try { return await verify(stored, password); } catch { return false; }
}

// Verifying against this when the name is unknown keeps the timing of both refusals alike.
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hash('decoy password that never matches');
  return decoy;
}
