import { pino, type Logger } from 'pino';

// Passwords travel inside platform configs and IMAP auth objects; redact them wherever they nest.
const redact = ['*.password', '*.pass', '*.masterPassword', '*.auth', '*.secret', 'password', 'pass', 'auth'];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: redact, censor: '[redacted]' } }, pino.destination(2));
}

export type { Logger };
