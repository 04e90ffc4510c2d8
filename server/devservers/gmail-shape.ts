import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Gmail's IMAP view on a Dovecot: labels (and INBOX) are ordinary folders, so a message with N
// labels is stored N times; Gmail's own folders sit under "[Gmail]/", marked with SPECIAL-USE.
// They are virtual mailboxes (Dovecot's virtual plugin) over a hidden store: All Mail (\All)
// shows everything but Spam and Trash, Starred the \Flagged messages, Important those with the
// $Important keyword, Sent Mail/Drafts/Spam/Trash their store folder. Archived mail lives in the
// hidden "GmailStore/Archive": only All Mail shows it, as on Gmail.
export const GMAIL_STORE = 'GmailStore/';

/** Store folder of each "[Gmail]/" folder that holds messages of its own; seed them there. */
export const GMAIL_STORE_FOLDERS = { sent: 'GmailStore/Sent Mail', drafts: 'GmailStore/Drafts', spam: 'GmailStore/Spam', trash: 'GmailStore/Trash', archive: 'GmailStore/Archive' } as const;

const OWN = ['Sent Mail', 'Drafts', 'Spam', 'Trash'] as const;
const SPECIAL_USE: Record<string, string> = {
  'All Mail': '\\All', 'Sent Mail': '\\Sent', Drafts: '\\Drafts', Spam: '\\Junk', Trash: '\\Trash', Important: '\\Important', Starred: '\\Flagged',
};

// Everything a user sees as mail: INBOX, the labels, the store (archive, sent, drafts) but not Spam and Trash.
const EVERYTHING = ['*', `${GMAIL_STORE}*`, '-[Gmail]/*', `-${GMAIL_STORE_FOLDERS.spam}`, `-${GMAIL_STORE_FOLDERS.trash}`].join('\n');

const VIRTUALS: Record<string, string> = {
  'All Mail': `${EVERYTHING}\n  all\n`,
  Starred: `${EVERYTHING}\n  flagged\n`,
  Important: `${EVERYTHING}\n  keyword $Important\n`,
  ...Object.fromEntries(OWN.map((name) => [name, `${GMAIL_STORE}${name}\n  all\n`])),
};

export async function writeGmailVirtuals(dir: string): Promise<string> {
  const root = join(dir, 'gmail-virtual');
  for (const [name, definition] of Object.entries(VIRTUALS)) {
    await mkdir(join(root, name), { recursive: true });
    await writeFile(join(root, name, 'dovecot-virtual'), definition, { mode: 0o644 });
  }
  return root;
}

// Dovecot 2.3: one setting per line inside blocks.
export function gmailNamespaces(virtualRoot: string): string {
  const mailboxes = Object.entries(SPECIAL_USE).map(([name, use]) => `  mailbox "${name}" {\n    special_use = ${use}\n  }\n`).join('');
  return `namespace gmail {
  prefix = [Gmail]/
  separator = /
  location = virtual:${virtualRoot}:INDEX=~/gmail-virtual-index
  list = yes
  subscriptions = no
${mailboxes}}
namespace store {
  prefix = ${GMAIL_STORE}
  separator = /
  location = maildir:~/GmailStore
  hidden = yes
  list = no
  subscriptions = no
}
`;
}
