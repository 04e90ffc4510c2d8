import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { CutoverError } from '../errors.ts';
import { emailAddress } from '../net.ts';

export interface MailboxPasswords { source?: string; dest?: string }

/** 20 characters from a 62-symbol alphabet (~119 bits), safe to read aloud and to paste. */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return [...randomBytes(20)].map((b) => alphabet[b % alphabet.length]).join('');
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
