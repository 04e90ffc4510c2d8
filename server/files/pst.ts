import { PSTFile, type PSTFolder, type PSTMessage } from 'pst-extractor';
import { rebuildMessage, pstFlags } from './pst-mime.ts';
import { appointmentEvent, contactCard, distListCard, taskTodo, type Converted } from './pst-groupware.ts';
import { MAX_FILE_MESSAGE_BYTES, unreadable, type FileItem, type FileSource } from './items.ts';

/** Folders holding mail: no container class (older PSTs) or IPF.Note and its kinds. */
function holdsMail(folder: PSTFolder): boolean {
  return !folder.containerClass || /^IPF\.Note(\.|$)/i.test(folder.containerClass);
}

const NON_MAIL_KIND: Record<string, string> = {
  'IPF.Appointment': 'appointments', 'IPF.Contact': 'contacts', 'IPF.Task': 'tasks', 'IPF.StickyNote': 'notes', 'IPF.Journal': 'journal entries',
};

/** Item classes that become vCards, VEVENTs or VTODOs (the class names Outlook gives them and their kinds). */
const CONVERTERS: Array<[RegExp, (m: PSTMessage) => Converted]> = [
  [/^IPM\.Contact(\.|$)/i, (m) => contactCard(m as never)],
  [/^IPM\.DistList(\.|$)/i, distListCard],
  [/^IPM\.Appointment(\.|$)/i, (m) => appointmentEvent(m as never)],
  [/^IPM\.Task(\.|$)/i, (m) => taskTodo(m as never)],
];

/** Why an item of a contacts/calendar/tasks folder has no CardDAV/CalDAV form. */
const NOT_CONVERTED: Array<[RegExp, string]> = [
  [/^IPM\.StickyNote/i, 'an Outlook note: CardDAV and CalDAV have no place for notes'],
  [/^IPM\.Activity/i, 'a journal entry: CalDAV servers seldom take VJOURNAL, and it is not converted'],
  [/^IPM\.TaskRequest/i, 'a task request (a message about a task, not the task)'],
];

interface Walked { folder: PSTFolder; path: string[] }

/**
 * The folders a user sees: the IPM subtree ("Top of Personal Folders" / "Top of Outlook data
 * file"), without Outlook's own search folders, views and reminders beside it. Two sibling
 * folders with the same name (Outlook allows a second "Inbox") get "(2)" so each keeps its messages apart.
 */
function walkFolders(pst: PSTFile): Walked[] {
  const root = pst.getRootFolder();
  const tops = root.hasSubfolders ? root.getSubFolders() : [];
  const ipm = tops.find((f) => /^top of /i.test(f.displayName)) ?? tops[0];
  const walked: Walked[] = [];
  const visit = (folder: PSTFolder, path: string[], depth: number) => {
    if (depth > 64 || !folder.hasSubfolders) return;
    const seen = new Map<string, number>();
    for (const child of folder.getSubFolders()) {
      const base = (child.displayName || 'Unnamed').replace(/\//g, '_');
      const n = (seen.get(base.toLowerCase()) ?? 0) + 1;
      seen.set(base.toLowerCase(), n);
      const childPath = [...path, n > 1 ? `${base} (${n})` : base];
      walked.push({ folder: child, path: childPath });
      visit(child, childPath, depth + 1);
    }
  };
  if (ipm) visit(ipm, [], 0);
  return walked;
}

function open(file: string): PSTFile {
  try {
    return new PSTFile(file);
  } catch (err) {
    throw unreadable(file, `not a readable PST/OST file (${(err as Error).message})`, err);
  }
}

export function openPst(file: string): FileSource {
  let pst: PSTFile | undefined;
  const opened = () => (pst ??= open(file));
  return {
    path: file,
    format: 'pst',
    async folders() {
      try {
        return walkFolders(opened()).map((w) => w.path);
      } catch (err) {
        throw unreadable(file, `the folder tree cannot be read (${(err as Error).message}): truncated or damaged`, err);
      }
    },
    async nonMailFolders() {
      return walkFolders(opened()).filter((w) => !holdsMail(w.folder)).map((w) => w.path);
    },
    async *items() {
      let walked: Walked[];
      try {
        walked = walkFolders(opened());
      } catch (err) {
        throw unreadable(file, `the folder tree cannot be read (${(err as Error).message}): truncated or damaged`, err);
      }
      for (const { folder, path } of walked) {
        if (folder.contentCount <= 0) continue;
        const kind = NON_MAIL_KIND[folder.containerClass.split('.').slice(0, 2).join('.')];
        let index = 0;
        for (;;) {
          let child: PSTMessage | null;
          try {
            child = folder.getNextChild() as PSTMessage | null;
          } catch (err) {
            yield { kind: 'skip', id: `${path.join('/')}#${index}`, folder: path, reason: `the item cannot be read (${(err as Error).message})` };
            break;
          }
          if (!child) break;
          index++;
          yield await item(child, path, holdsMail(folder) ? undefined : kind ?? folder.containerClass);
        }
      }
    },
    async close() { pst?.close(); },
  };
}

async function item(message: PSTMessage, folder: string[], nonMailKind: string | undefined): Promise<FileItem> {
  const id = message.descriptorNodeId.toString();
  if (nonMailKind !== undefined) {
    const messageClass = message.messageClass || '';
    const convert = CONVERTERS.find(([pattern]) => pattern.test(messageClass))?.[1];
    if (!convert) {
      const why = NOT_CONVERTED.find(([pattern]) => pattern.test(messageClass))?.[1] ?? `no CardDAV/CalDAV form for items of class ${messageClass || '(none)'}`;
      return { kind: 'skip', id, folder, reason: `${message.subject || messageClass || 'item'} in a folder of ${nonMailKind}: ${why}` };
    }
    try {
      const converted = convert(message);
      return { kind: 'dav', id, folder, collection: converted.kind, data: converted.data, label: converted.label, ...(converted.note && { note: converted.note }) };
    } catch (err) {
      return { kind: 'skip', id, folder, reason: `the ${messageClass} item cannot be read (${(err as Error).message})` };
    }
  }
  if (!/^IPM/i.test(message.messageClass || 'IPM')) return { kind: 'skip', id, folder, reason: `${message.messageClass} is not a mail item` };
  try {
    const { content } = await rebuildMessage(message);
    if (content.length > MAX_FILE_MESSAGE_BYTES) return { kind: 'skip', id, folder, size: content.length, reason: `${content.length} bytes is over the ${MAX_FILE_MESSAGE_BYTES}-byte limit for one message` };
    return { kind: 'message', id, folder, content, flags: pstFlags(message), internalDate: message.messageDeliveryTime ?? message.clientSubmitTime ?? undefined };
  } catch (err) {
    return { kind: 'skip', id, folder, reason: `the message cannot be rebuilt (${(err as Error).message})` };
  }
}
