import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CutoverError } from './errors.ts';
import { isLoopback } from './loopback.ts';
import { ensurePrivateDir } from './paths.ts';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './services/import-limits.ts';

const envSchema = z.object({
  CUTOVER_DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: z.string().optional(),
  CUTOVER_SECRET_KEY: z.string().optional(),
  CUTOVER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  // Notifications: smtp://[user@]host[:port] (STARTTLS when offered) or smtps://… (TLS from the first byte).
  CUTOVER_SMTP_URL: z.string().optional(),
  CUTOVER_SMTP_PASSWORD: z.string().optional(),
  CUTOVER_SMTP_PASSWORD_FILE: z.string().optional(),
  CUTOVER_SMTP_FROM: z.string().optional(),
  CUTOVER_SMTP_TLS_VERIFY: z.enum(['true', 'false']).default('true'),
  CUTOVER_SMTP_CA_FILE: z.string().optional(),
  CUTOVER_PANEL_URL: z.string().optional(),
  CUTOVER_SECRETS_DIR: z.string().min(1).optional(),
  // Import files (CSV, .xlsx): checked while they are read, refused past these.
  CUTOVER_IMPORT_MAX_ROWS: z.coerce.number().int().min(1).max(DEFAULT_IMPORT_LIMITS.maxRows).default(DEFAULT_IMPORT_LIMITS.maxRows),
  CUTOVER_IMPORT_MAX_COLUMNS: z.coerce.number().int().min(1).max(1000).default(DEFAULT_IMPORT_LIMITS.maxColumns),
  CUTOVER_IMPORT_MAX_CELL_CHARS: z.coerce.number().int().min(64).max(1_000_000).default(DEFAULT_IMPORT_LIMITS.maxCellChars),
  CUTOVER_IMPORT_MAX_UNPACKED_MB: z.coerce.number().int().min(1).max(4096).default(DEFAULT_IMPORT_LIMITS.maxUnpackedBytes / 1024 / 1024),
});

export interface SmtpConfig {
  host: string;
  port: number;
  /** smtps: TLS from the first byte; otherwise STARTTLS, required whenever a password would travel to a non-local server. */
  secure: boolean;
  requireTls: boolean;
  user?: string;
  /** A function, not a field: a config printed or logged by mistake never carries the password. */
  password(): string | undefined;
  from: string;
  tlsVerify: boolean;
  ca?: string;
}

export interface Config {
  dataDir: string;
  databaseUrl?: string;
  secretKey?: string;
  logLevel: string;
  /** Absent: no mail is sent (what would have been sent is still recorded, as skipped). */
  smtp?: SmtpConfig;
  /** The panel's address as admins reach it, for the links in notification mails (no trailing slash). */
  panelUrl: string;
  /** The only directory whose files a config stored from the panel or the API may name (passwordFile…). */
  secretsDir?: string;
  importLimits: ImportLimits;
}

const DEFAULT_PANEL_URL = 'http://127.0.0.1:8080';

function invalid(detail: string): CutoverError {
  return new CutoverError('CONFIG_INVALID', { where: ' (environment)', detail });
}

function readSecretFile(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw invalid(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function smtpConfig(env: z.infer<typeof envSchema>): SmtpConfig | undefined {
  if (!env.CUTOVER_SMTP_URL) return undefined;
  let url: URL;
  try { url = new URL(env.CUTOVER_SMTP_URL); } catch { throw invalid('CUTOVER_SMTP_URL: not a URL (example: smtp://mailer@smtp.example.net:587)'); }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw invalid('CUTOVER_SMTP_URL: use smtp:// or smtps://');
  // A password inside the URL ends up in shell histories and process listings of the environment.
  if (url.password) throw invalid('CUTOVER_SMTP_URL must not contain a password: set CUTOVER_SMTP_PASSWORD or CUTOVER_SMTP_PASSWORD_FILE');
  if (env.CUTOVER_SMTP_PASSWORD !== undefined && env.CUTOVER_SMTP_PASSWORD_FILE) throw invalid('set CUTOVER_SMTP_PASSWORD or CUTOVER_SMTP_PASSWORD_FILE, not both');
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  const password = env.CUTOVER_SMTP_PASSWORD_FILE ? readSecretFile(env.CUTOVER_SMTP_PASSWORD_FILE, 'CUTOVER_SMTP_PASSWORD_FILE') : env.CUTOVER_SMTP_PASSWORD;
  if (password !== undefined && !user) throw invalid('CUTOVER_SMTP_URL: a password is set but the URL names no user (smtp://USER@host)');
  const from = env.CUTOVER_SMTP_FROM ?? `cutover@${os.hostname()}`;
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(from) && !/^[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>$/.test(from)) throw invalid(`CUTOVER_SMTP_FROM: "${from}" is not an address (name@host or "Name <name@host>")`);
  return {
    host, port: url.port ? Number(url.port) : secure ? 465 : 587, secure,
    requireTls: !secure && !!user && !isLoopback(host),
    user, password: () => password, from,
    tlsVerify: env.CUTOVER_SMTP_TLS_VERIFY === 'true',
    ca: env.CUTOVER_SMTP_CA_FILE ? readSecretFile(env.CUTOVER_SMTP_CA_FILE, 'CUTOVER_SMTP_CA_FILE') : undefined,
  };
}

function panelUrl(value: string | undefined): string {
  if (!value) return DEFAULT_PANEL_URL;
  let url: URL;
  try { url = new URL(value); } catch { throw invalid('CUTOVER_PANEL_URL: not a URL (example: https://panel.example.net/cutover)'); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('CUTOVER_PANEL_URL: use http:// or https://');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new CutoverError('CONFIG_INVALID', { where: ' (environment)', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  const dataDir = path.resolve(parsed.data.CUTOVER_DATA_DIR);
  ensurePrivateDir(dataDir);
  return {
    dataDir, databaseUrl: parsed.data.DATABASE_URL, secretKey: parsed.data.CUTOVER_SECRET_KEY, logLevel: parsed.data.CUTOVER_LOG_LEVEL,
    smtp: smtpConfig(parsed.data), panelUrl: panelUrl(parsed.data.CUTOVER_PANEL_URL),
    secretsDir: parsed.data.CUTOVER_SECRETS_DIR ? path.resolve(parsed.data.CUTOVER_SECRETS_DIR) : undefined,
    importLimits: {
      maxRows: parsed.data.CUTOVER_IMPORT_MAX_ROWS, maxColumns: parsed.data.CUTOVER_IMPORT_MAX_COLUMNS,
      maxCellChars: parsed.data.CUTOVER_IMPORT_MAX_CELL_CHARS, maxUnpackedBytes: parsed.data.CUTOVER_IMPORT_MAX_UNPACKED_MB * 1024 * 1024,
    },
  };
}
