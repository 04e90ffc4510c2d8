import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { CutoverError } from '../errors.ts';
import { emailAddress } from '../net.ts';

export interface MailboxPasswords { source?: string; dest?: string }

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
// The largest multiple of the alphabet's size below 256: bytes above it are dropped, so every symbol is equally likely.
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);

/** Upper case, lower case and a digit: what hosted platforms' password policies ask for (OVHcloud refuses a password without a digit). */
export function meetsPasswordPolicy(password: string): boolean {
  return /[A-Z]/.test(password) && /[a-z]/.test(password) && /\d/.test(password);
}

/** 20 characters from a 57-symbol alphabet without look-alikes (~116 bits), safe to read aloud and to paste, and always accepted by {@link meetsPasswordPolicy}. */
export function generatePassword(): string {
  for (;;) {
    const symbols = [...randomBytes(40)].filter((b) => b < UNBIASED_LIMIT).slice(0, 20);
    if (symbols.length < 20) continue;
    const candidate = symbols.map((b) => ALPHABET[b % ALPHABET.length]).join('');
    if (meetsPasswordPolicy(candidate)) return candidate;
  }
}

/** Reads `address,source_password,dest_password` rows (header line required); every bad row is named. */
export function readPasswordFile(file: string): Map<string, MailboxPasswords> {
  let rows: Array<Record<string, string>>;
  try {
    rows = parse(readFileSync(file, 'utf8'), { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true });
  } catch (err) {
    throw new CutoverError('INPUT_INVALID', { detail: `cannot read password file ${file}: ${(err as Error).message}` });
  }
  const result = new Map<string, MailboxPasswords>();
  const problems: string[] = [];
  rows.forEach((row, index) => {
    const parsed = emailAddress.safeParse(row.address ?? '');
    if (!parsed.success) { problems.push(`line ${index + 2}: "${row.address ?? ''}" is not an e-mail address`); return; }
    if (result.has(parsed.data)) { problems.push(`line ${index + 2}: ${parsed.data} appears twice`); return; }
    result.set(parsed.data, { source: row.source_password || undefined, dest: row.dest_password || undefined });
  });
  if (problems.length) throw new CutoverError('INPUT_INVALID', { detail: `password file ${file}: ${problems.join('; ')}` });
  return result;
}
