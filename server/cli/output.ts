import os from 'node:os';
import { durationSeconds } from '../duration.ts';
import { CutoverError, toCutoverError } from '../errors.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, auth: 4, tls: 5, folder: 6, protocol: 7 } as const;

export interface Io { out(line: string): void; err(line: string): void }

export const stdio: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export function actor(): string {
  return `cli:${os.userInfo().username}`;
}

const exitByCode: Partial<Record<string, number>> = {
  HOST_UNREACHABLE: EXIT.unreachable, IMAP_STALLED: EXIT.unreachable, AUTH_FAILED: EXIT.auth, TLS_FAILED: EXIT.tls, STARTTLS_MISSING: EXIT.tls, FOLDER_UNKNOWN: EXIT.folder,
  // What an IMAP server answered or sent, not what the user typed.
  IMAP_PROTOCOL: EXIT.protocol, IMAP_FAILED: EXIT.protocol,
  // Throttled for longer than a pass waits: temporary, like a server that cannot be reached.
  IMAP_THROTTLED: EXIT.unreachable,
};
// OAuth2: the provider refused the key, secret or consent, or the server the token: a login failure.
for (const code of ['OAUTH2_CONSENT_MISSING', 'OAUTH2_KEY_REJECTED', 'OAUTH2_CLIENT_UNKNOWN', 'OAUTH2_SECRET_INVALID', 'OAUTH2_USER_UNKNOWN', 'IMAP_DISABLED_FOR_USER', 'OAUTH2_LOGIN_REFUSED']) exitByCode[code] = EXIT.auth;

const usageErrors = new Set(['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL']);

/** Maps an error to the exit code scripts rely on (README: "Exit codes"). */
export function exitCodeFor(err: unknown): number {
  if (usageErrors.has((err as { code?: string }).code ?? '')) return EXIT.usage;
  const e = toCutoverError(err);
  if (exitByCode[e.code] !== undefined) return exitByCode[e.code]!;
  if (e.code === 'INTERNAL') return EXIT.failed;
  return EXIT.usage;
}

export function describe(err: unknown): string {
  const e = toCutoverError(err);
  return e instanceof CutoverError && e.code !== 'INTERNAL' ? `error [${e.code}]: ${e.message}` : `error: ${e.message}`;
}

export function parseDuration(text: string, flag: string): number {
  const seconds = durationSeconds(text);
  if (seconds === null) throw new CutoverError('INPUT_INVALID', { detail: `${flag}: "${text}" is not a duration (examples: 0, 90s, 15m, 4h, 1d)` });
  return seconds;
}

export function parsePositiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new CutoverError('INPUT_INVALID', { detail: `${flag}: "${text}" is not a positive whole number` });
  return Number(text);
}
