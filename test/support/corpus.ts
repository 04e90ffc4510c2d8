import { rawMessage, type SeedMessage } from './mail.ts';

/**
 * A small mailbox with what breaks naive copiers: localised special folders without
 * SPECIAL-USE, nesting, keywords, a message without Message-ID, exact duplicates, two
 * messages sharing a Message-ID with different bodies, a bare-LF-free binary-ish body.
 */
export function corpusFor(owner: string): { messages: SeedMessage[]; mapping: Record<string, string> } {
  const d = (iso: string) => new Date(iso);
  const duplicate = rawMessage({ subject: 'exact duplicate', messageId: `<dup.${owner}@example.org>` });
  const messages: SeedMessage[] = [
    { folder: 'INBOX', raw: rawMessage({ subject: `hello ${owner}` }), flags: ['\\Seen'], date: d('2024-01-02T03:04:05Z') },
    { folder: 'INBOX', raw: rawMessage({ subject: 'flagged with keywords' }), flags: ['\\Flagged', '$Label1', 'Projet'], date: d('2024-02-03T04:05:06Z') },
    { folder: 'INBOX', raw: rawMessage({ subject: 'no message id', messageId: null }), flags: [], date: d('2024-03-04T05:06:07Z') },
    { folder: 'INBOX', raw: duplicate, flags: ['\\Seen'], date: d('2024-04-05T06:07:08Z') },
    { folder: 'INBOX', raw: duplicate, flags: ['\\Seen'], date: d('2024-04-05T06:07:08Z') },
    { folder: 'INBOX', raw: rawMessage({ subject: 'same id A', messageId: `<same.${owner}@example.org>`, body: 'first body\r\n' }), flags: ['\\Answered'], date: d('2024-05-06T07:08:09Z') },
    { folder: 'INBOX', raw: rawMessage({ subject: 'same id A', messageId: `<same.${owner}@example.org>`, body: 'second, different body\r\n' }), flags: [], date: d('2024-05-06T07:08:10Z') },
    { folder: 'Éléments envoyés', raw: rawMessage({ subject: 'envoyé', from: `${owner}` }), flags: ['\\Seen'], date: d('2023-06-07T08:09:10Z') },
    { folder: 'Éléments envoyés', raw: rawMessage({ subject: 'envoyé 2', from: `${owner}` }), flags: ['\\Seen', '\\Answered'], date: d('2023-06-08T08:09:10Z') },
    { folder: 'Brouillons', raw: rawMessage({ subject: 'brouillon' }), flags: ['\\Draft'], date: d('2023-07-08T09:10:11Z') },
    { folder: 'Archives', raw: rawMessage({ subject: 'archived' }), flags: ['\\Seen'], date: d('2022-08-09T10:11:12Z') },
    { folder: 'Archives/2023', raw: rawMessage({ subject: 'archived 2023', body: `${'x'.repeat(70)}\r\n`.repeat(2000) }), flags: ['\\Seen'], date: d('2023-09-10T11:12:13Z') },
    { folder: 'Entwürfe & Ideen', raw: rawMessage({ subject: 'utf7 folder' }), flags: [], date: d('2023-10-11T12:13:14Z') },
  ];
  const mapping = { INBOX: 'INBOX', 'Éléments envoyés': 'Sent', Brouillons: 'Drafts', Archives: 'Archives', 'Archives/2023': 'Archives/2023', 'Entwürfe & Ideen': 'Entwürfe & Ideen' };
  return { messages, mapping };
}
