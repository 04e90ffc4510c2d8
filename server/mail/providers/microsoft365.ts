import type { FolderInfo, NamespaceInfo } from '../folders.ts';
import { normaliseName, segmentsOf, type FolderRules } from './rules.ts';

// Exchange shows its non-mail folders over IMAP: they hold calendar items, contacts, tasks,
// notes and journal entries as stub messages, and sync logs. Outlook names them in the
// mailbox's language; English, French, German, Spanish, Italian, Dutch and Portuguese here.
const NON_MAIL: Record<string, string[]> = {
  Calendar: ['calendar', 'calendrier', 'kalender', 'calendario', 'agenda', 'calendário'],
  Contacts: ['contacts', 'kontakte', 'contactos', 'contatti', 'contactpersonen', 'contatos'],
  Tasks: ['tasks', 'tâches', 'aufgaben', 'tareas', 'attività', 'taken', 'tarefas'],
  Notes: ['notes', 'notizen', 'notas', 'note', 'notities'],
  Journal: ['journal', 'diario', 'logboek', 'diário'],
  'Sync Issues': ['sync issues', 'problèmes de synchronisation', 'synchronisierungsprobleme', 'problemas de sincronización', 'problemi di sincronizzazione', 'synchronisatieproblemen', 'problemas de sincronização'],
};

const byName = new Map<string, string>();
for (const [kind, names] of Object.entries(NON_MAIL)) for (const name of names) byName.set(normaliseName(name), kind);

/** Exchange Online's default per-message limit; an admin can raise it to 150 MB per mailbox. */
export const MICROSOFT365_MESSAGE_BYTES = 35 * 1024 * 1024;
export const MICROSOFT365_MESSAGE_BYTES_MAX = 150 * 1024 * 1024;

// A top-level folder of these names and everything under it (Calendar/Birthdays, Sync Issues/Conflicts…).
function nonMailKind(folder: FolderInfo, ns: NamespaceInfo): string | undefined {
  const top = segmentsOf(folder, ns)[0];
  return top === undefined ? undefined : byName.get(normaliseName(top));
}

export const microsoft365Rules: FolderRules = {
  excludedReason(folder, ns) {
    const kind = nonMailKind(folder, ns);
    return kind ? `Exchange's ${kind} folder: not mail (its items move with the groupware copy, not over IMAP)` : undefined;
  },
  specialUse: () => undefined,
  archivesUnlabelled: () => false,
};
