import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CutoverError } from './errors.ts';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function secretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new CutoverError('CONFIG_INVALID', { where: ' (secret key)', detail: 'the key must be 32 bytes, base64-encoded' });
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
    },
    open(sealed) {
      const [version, ivText, tagText, body] = sealed.split(':');
      const iv = Buffer.from(ivText ?? '', 'base64');
      const tag = Buffer.from(tagText ?? '', 'base64');
      if (version !== VERSION || iv.length !== IV_BYTES || tag.length !== TAG_BYTES || body === undefined) {
        throw new CutoverError('CONFIG_INVALID', { where: ' (stored secret)', detail: 'unreadable sealed value' });
      }
      try {
        // An explicit tag length: Node otherwise accepts a truncated tag, which makes forgery cheap.
        const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        throw new CutoverError('CONFIG_INVALID', { where: ' (stored secret)', detail: 'it was sealed with another key: check CUTOVER_SECRET_KEY or the data directory\'s secret.key' });
      }
    },
  };
}

// The key comes from the environment when an operator manages it, otherwise from a 0600 file
// created once in the data directory, so a fresh install works without set-up.
export function loadSecretKey(dataDir: string, fromEnv?: string): Buffer {
  if (fromEnv) return Buffer.from(fromEnv, 'base64');
  const file = path.join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}
