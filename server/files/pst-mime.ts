import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { PSTAttachment, PSTMessage } from 'pst-extractor';

const PR_FLAG_STATUS = 0x1090;
const FOLLOWUP_FLAGGED = 2;
const PR_MESSAGE_FLAGS = 0x0e07;
const MSGFLAG_UNSENT = 0x8;
const ATTACH_EMBEDDED_MSG = 5;
const RECIPIENT_CC = 2;
const RECIPIENT_BCC = 3;

/** MAPI properties pst-extractor reads but does not expose by name. */
function intProperty(message: PSTMessage, id: number): number {
  return (message as unknown as { getIntItem(id: number, d?: number): number }).getIntItem(id, 0);
}

/** Read state, follow-up flag and draft state as IMAP flags. */
export function pstFlags(message: PSTMessage): string[] {
  const flags: string[] = [];
  if (message.isRead) flags.push('\\Seen');
  if (intProperty(message, PR_FLAG_STATUS) === FOLLOWUP_FLAGGED) flags.push('\\Flagged');
  if (intProperty(message, PR_MESSAGE_FLAGS) & MSGFLAG_UNSENT) flags.push('\\Draft');
  return flags;
}

function address(name: string, email: string): Mail.Address | string {
  // Exchange-internal senders carry an X.500 DN ("/O=…"), not an address: the name alone remains.
  const usable = email && email.includes('@') ? email : '';
  if (!usable) return name ? { name, address: '' } : '';
  return name && name !== usable ? { name, address: usable } : usable;
}

function attachmentBytes(attachment: PSTAttachment): Buffer {
  const stream = attachment.fileInputStream;
  if (!stream) return Buffer.alloc(0);
  const content = Buffer.alloc(Number(stream.length.toString()));
  if (content.length) stream.readCompletely(content);
  return content;
}

/** Attachment names and sizes as the PST holds them, for reports and cross-checks. */
export interface PstAttachmentInfo { filename: string; size: number; embedded: boolean }

async function attachments(message: PSTMessage, depth: number): Promise<{ list: Mail.Attachment[]; info: PstAttachmentInfo[] }> {
  const list: Mail.Attachment[] = [];
  const info: PstAttachmentInfo[] = [];
  for (let i = 0; i < message.numberOfAttachments; i++) {
    const attachment = message.getAttachment(i);
    const filename = attachment.longFilename || attachment.filename || attachment.displayName || `attachment-${i + 1}`;
    if (attachment.attachMethod === ATTACH_EMBEDDED_MSG) {
      const embedded = attachment.embeddedPSTMessage;
      // Deeper than this is a loop or a hostile file, not mail.
      if (!embedded || depth > 8) continue;
      const content = (await rebuildMessage(embedded, depth + 1)).content;
      list.push({ filename: `${(embedded.subject || filename).replace(/[\\/:*?"<>|]/g, '_')}.eml`, content, contentType: 'message/rfc822' });
      info.push({ filename, size: content.length, embedded: true });
      continue;
    }
    const content = attachmentBytes(attachment);
    list.push({ filename, content, contentType: attachment.mimeTag || undefined, cid: attachment.contentId || undefined });
    info.push({ filename, size: content.length, embedded: false });
  }
  return { list, info };
}

// Headers describing the original body, which the PST did not keep: the rebuilt body's replace them.
const BODY_HEADERS = /^(content-[\w-]+|mime-version)$/i;

function transportHeaderLines(headers: string): string[] {
  const unfolded: string[] = [];
  for (const line of headers.replace(/\r\n/g, '\n').split('\n')) {
    if (!line.trim()) continue;
    if (/^[ \t]/.test(line) && unfolded.length) unfolded[unfolded.length - 1] += `\r\n${line}`;
    else unfolded.push(line);
  }
  return unfolded.filter((field) => !BODY_HEADERS.test(field.split(':', 1)[0]!.trim()));
}

/**
 * An RFC 5322 message from a PST item: the original transport headers where the PST kept them,
 * with a body rebuilt from the MAPI properties (plain, HTML, RTF when that is all there is), every
 * attachment, and embedded messages as message/rfc822 parts. The same item always gives the same
 * bytes (boundaries and the Message-ID come from the item), so a re-run recognises its copies.
 */
export async function rebuildMessage(message: PSTMessage, depth = 0): Promise<{ content: Buffer; attachments: PstAttachmentInfo[] }> {
  const seed = createHash('sha256').update(`${message.descriptorNodeId.toString()}:${message.subject}:${message.clientSubmitTime?.toISOString() ?? ''}`).digest('hex').slice(0, 16);
  const to: Array<Mail.Address | string> = [];
  const cc: Array<Mail.Address | string> = [];
  const bcc: Array<Mail.Address | string> = [];
  for (let i = 0; i < message.numberOfRecipients; i++) {
    const recipient = message.getRecipient(i);
    if (!recipient) continue;
    const one = address(recipient.displayName, recipient.smtpAddress || recipient.emailAddress);
    if (!one) continue;
    (recipient.recipientType === RECIPIENT_CC ? cc : recipient.recipientType === RECIPIENT_BCC ? bcc : to).push(one);
  }
  const { list, info } = await attachments(message, depth);
  const text = message.body || undefined;
  const html = message.bodyHTML || undefined;
  if (!text && !html && message.bodyRTF) list.unshift({ filename: 'body.rtf', content: Buffer.from(message.bodyRTF, 'utf8'), contentType: 'text/rtf' });
  const date = message.clientSubmitTime ?? message.messageDeliveryTime ?? new Date(0);
  const composer = new MailComposer({
    from: address(message.senderName || message.sentRepresentingName, message.senderEmailAddress || message.sentRepresentingEmailAddress) || undefined,
    to, cc, bcc, subject: message.subject, text, html, attachments: list, date,
    messageId: message.internetMessageId || `<pst-${seed}@cutover.invalid>`,
    inReplyTo: message.inReplyToId || undefined,
    baseBoundary: seed,
    // Bcc is kept: it is the sender's own record of who got the message.
    keepBcc: true,
  } as Mail.Options & { baseBoundary: string; keepBcc: boolean });
  const built = await composer.compile().build();
  const transport = message.transportMessageHeaders;
  if (!transport || depth > 0) return { content: built, attachments: info };
  // Keep what travelled (Received, Message-ID, DKIM…) and take the rebuilt MIME structure.
  const split = built.indexOf('\r\n\r\n');
  const builtBody = built.subarray(split + 4);
  const mimeFields = built.subarray(0, split).toString('latin1').split(/\r\n(?![ \t])/).filter((f) => BODY_HEADERS.test(f.split(':', 1)[0]!.trim()));
  const head = [...transportHeaderLines(transport), ...mimeFields].join('\r\n');
  return { content: Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from('\r\n\r\n'), builtBody]), attachments: info };
}
