import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CutoverError } from './errors.ts';

const envSchema = z.object({
  CUTOVER_DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: z.string().optional(),
  CUTOVER_SECRET_KEY: z.string().optional(),
  CUTOVER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
});

export interface Config {
  dataDir: string;
  databaseUrl?: string;
  secretKey?: string;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new CutoverError('CONFIG_INVALID', { where: ' (environment)', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  const dataDir = path.resolve(parsed.data.CUTOVER_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return { dataDir, databaseUrl: parsed.data.DATABASE_URL, secretKey: parsed.data.CUTOVER_SECRET_KEY, logLevel: parsed.data.CUTOVER_LOG_LEVEL };
}
