import type { SeedMessage } from '../devservers/seed.ts';

const FOLDERS = ['INBOX', 'INBOX', 'INBOX', 'Éléments envoyés', 'Brouillons', 'Archives', 'Archives/2023', 'Projets/Client Ü'];
const FLAG_SETS = [['\\Seen'], [], ['\\Seen', '\\Answered'], ['\\Seen', '\\Flagged', '$Label1'], ['\\Seen', 'Important']];

/** A deterministic mailbox of `count` messages: several sizes, flags and keywords, localised folders. */
export function demoMailbox(owner: string, count: number): SeedMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const folder = FOLDERS[i % FOLDERS.length]!;
    const date = new Date(Date.UTC(2023, 0, 1) + i * 3_600_000);
    const lines = 20 + ((i * 37) % 400);
    const raw = [
      `From: ${folder === 'Éléments envoyés' ? `${owner}@example.test` : `Correspondant ${i % 17} <c${i % 17}@example.org>`}`,
      `To: ${owner}@example.test`,
      `Subject: Message ${i} for ${owner}`,
      `Date: ${date.toUTCString()}`,
      ...(i % 50 === 7 ? [] : [`Message-ID: <demo.${owner}.${i}@example.org>`]),
      'Content-Type: text/plain; charset=utf-8',
      '',
      ...Array.from({ length: lines }, (_, l) => `Ligne ${l} du message ${i} : le texte est en français, façon réunion.`),
      '',
    ].join('\r\n');
    return { folder, raw, flags: FLAG_SETS[i % FLAG_SETS.length], date };
  });
}
