import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../config.ts';
import type { Mail } from './compose.ts';

/**
 * Sends one mail through the configured server. A connection per send: notifications are rare,
 * and nothing stays open between worker ticks. Timeouts are short so a dead server never holds a
 * tick for minutes (nodemailer's defaults are up to 10 minutes); the row is simply retried later.
 */
export async function sendMail(smtp: SmtpConfig, to: string[], mail: Mail): Promise<void> {
  const password = smtp.password();
  const transport = nodemailer.createTransport({
    host: smtp.host, port: smtp.port, secure: smtp.secure, requireTLS: smtp.requireTls,
    auth: smtp.user ? { user: smtp.user, pass: password ?? '' } : undefined,
    // Verified by default, like every other TLS connection cutover makes; CUTOVER_SMTP_CA_FILE pins a private CA.
    tls: { rejectUnauthorized: smtp.tlsVerify, ...(smtp.ca && { ca: smtp.ca }) },
    connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000,
    // The message is ours, plain text: nothing should read files or URLs on its behalf.
    disableFileAccess: true, disableUrlAccess: true, logger: false,
  });
  try {
    await transport.sendMail({
      from: smtp.from, to, subject: mail.subject, text: mail.text,
      // RFC 3834: tells vacation responders and ticket systems not to answer.
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
  } finally {
    transport.close();
  }
}
