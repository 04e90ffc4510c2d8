import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planFolders, type FolderInfo, type FolderSide } from '../../../server/mail/folders.ts';
import { folderRulesFor, limitsFor, messageLimitFor } from '../../../server/mail/providers/index.ts';

const folder = (path: string, specialUse?: string, delimiter = '/'): FolderInfo => ({ path, delimiter, specialUse, subscribed: true, selectable: true });
const dest: FolderSide = { namespace: { prefix: '', delimiter: '/' }, folders: [folder('INBOX'), folder('Sent', '\\Sent'), folder('Drafts', '\\Drafts'), folder('Junk', '\\Junk'), folder('Trash', '\\Trash')] };
const plan = (folders: FolderInfo[], provider?: string, delimiter = '/') =>
  new Map(planFolders({ namespace: { prefix: '', delimiter }, folders }, dest, { rules: folderRulesFor(provider) }).map((e) => [e.source, e]));

test('Gmail without attributes ("[Google Mail]", English names): views out, own folders to their special use, All Mail to Archive', () => {
  const entries = plan([folder('INBOX'), folder('[Google Mail]'), folder('[Google Mail]/All Mail'), folder('[Google Mail]/Important'), folder('[Google Mail]/Starred'),
    folder('[Google Mail]/Sent Mail'), folder('[Google Mail]/Bin'), folder('[Google Mail]/Spam'), folder('Clients/Acme')], 'google');
  assert.equal(entries.get('[Google Mail]/All Mail')?.dest, 'Archive');
  assert.equal(entries.get('[Google Mail]/All Mail')?.archivesUnlabelled, true);
  assert.equal(entries.get('[Google Mail]/Sent Mail')?.dest, 'Sent');
  assert.equal(entries.get('[Google Mail]/Bin')?.dest, 'Trash');
  assert.equal(entries.get('[Google Mail]/Spam')?.dest, 'Junk');
  for (const out of ['[Google Mail]', '[Google Mail]/Important', '[Google Mail]/Starred']) assert.equal(entries.get(out)?.excluded, true, out);
  assert.equal(entries.get('Clients/Acme')?.excluded, false);
  assert.equal(entries.get('Clients/Acme')?.dest, 'Clients/Acme');
});

test('Gmail with localised names is recognised by its attributes alone', () => {
  const entries = plan([folder('INBOX'), folder('[Gmail]/Tous les messages', '\\All'), folder('[Gmail]/Suivis', '\\Flagged'), folder('[Gmail]/Messages envoyés', '\\Sent'), folder('[Gmail]/Importants', '\\Important')], 'google');
  assert.equal(entries.get('[Gmail]/Importants')?.excluded, true);
  assert.equal(entries.get('[Gmail]/Tous les messages')?.dest, 'Archive');
  assert.equal(entries.get('[Gmail]/Suivis')?.excluded, true);
  assert.equal(entries.get('[Gmail]/Messages envoyés')?.dest, 'Sent');
});

test('without a provider, the same folders are copied as they are', () => {
  const entries = plan([folder('INBOX'), folder('[Gmail]/All Mail', '\\All'), folder('[Gmail]/Starred', '\\Flagged'), folder('Calendar')]);
  assert.equal(entries.get('[Gmail]/All Mail')?.excluded, false);
  assert.equal(entries.get('[Gmail]/All Mail')?.archivesUnlabelled, undefined);
  assert.equal(entries.get('Calendar')?.excluded, false);
});

test('Microsoft 365: non-mail folders and their subfolders are left out, in seven languages; mail folders stay', () => {
  const nonMail = ['Calendar', 'Calendar/Birthdays', 'Contacts', 'Contacts/Recipient Cache', 'Tasks', 'Notes', 'Journal', 'Sync Issues', 'Sync Issues/Conflicts', 'Sync Issues/Local Failures',
    'Calendrier', 'Tâches', 'Problèmes de synchronisation', 'Kalender', 'Kontakte', 'Aufgaben', 'Notizen', 'Synchronisierungsprobleme/Konflikte', 'Calendario', 'Contactos', 'Tareas',
    'Problemas de sincronización', 'Contatti', 'Attività', 'Problemi di sincronizzazione', 'Agenda', 'Contactpersonen', 'Taken', 'Notities', 'Logboek', 'Synchronisatieproblemen',
    'Calendário', 'Contatos', 'Tarefas', 'Diário', 'Problemas de Sincronização'];
  const mail = ['INBOX', 'Sent Items', 'Deleted Items', 'Junk Email', 'Archive', 'Projects/Calendar planning', 'Outbox', 'Boîte d’envoi'];
  const entries = plan([...nonMail, ...mail].map((p) => folder(p)), 'microsoft365');
  for (const path of nonMail) {
    assert.equal(entries.get(path)?.excluded, true, path);
    assert.match(entries.get(path)!.excludedReason!, /not mail/);
  }
  for (const path of mail) assert.equal(entries.get(path)?.excluded, false, path);
  assert.equal(entries.get('Sent Items')?.dest, 'Sent');
});

test('limits: Exchange Online 35 MB by default, at most 150 MB; Gmail 15 connections; others none', () => {
  assert.equal(limitsFor('microsoft365').maxMessageBytes, 35 * 1024 * 1024);
  assert.equal(messageLimitFor('microsoft365'), 35 * 1024 * 1024);
  assert.equal(messageLimitFor('microsoft365', 100 * 1024 * 1024), 100 * 1024 * 1024);
  assert.equal(messageLimitFor('microsoft365', 500 * 1024 * 1024), 150 * 1024 * 1024);
  assert.equal(limitsFor('microsoft365').throttles, true);
  assert.equal(limitsFor('google').maxConnectionsPerUser, 15);
  assert.equal(messageLimitFor(undefined), undefined);
  assert.equal(messageLimitFor('zoho', 1000), 1000);
  assert.deepEqual(limitsFor(undefined), { throttles: false });
});
