import type { ListResponse } from 'imapflow';
import { specialUse } from 'imapflow/lib/special-use.js';
import { Tokens, type FetchReader, type Token, type UntaggedAnswer } from './fetcher.ts';
import { decodeMailboxName } from './mutf7.ts';
import { collate } from './collate.ts';

/** An account's folders as imapflow's list() gives them, and its personal namespace. */
export interface AccountListing { namespace: { prefix: string; delimiter: string }; folders: ListResponse[] }


/**
 * Lists an account on a session of our own: NAMESPACE and one LIST-EXTENDED (subscriptions,
 * special use and, when asked, LIST-STATUS) sent together, one round trip after the login, where
 * imapflow spends six (ID twice, NAMESPACE, COMPRESS, ENABLE, LIST). The session then goes on
 * reading folders or appending. Undefined where the server lacks LIST-EXTENDED (or LIST-STATUS
 * when STATUS is wanted), refuses a command, or answers anything not read here for certain: the
 * caller lists through imapflow then, as before.
 */
export async function listAccount(reader: FetchReader, status?: string[]): Promise<AccountListing | undefined> {
  const caps = reader.capabilities;
  if (!caps.has('LIST-EXTENDED') || (status && !caps.has('LIST-STATUS'))) return undefined;
  const returns = ['SUBSCRIBED', 'CHILDREN', ...(caps.has('SPECIAL-USE') ? ['SPECIAL-USE'] : []), ...(status ? [`STATUS (${status.join(' ')})`] : [])];
  const commands = [...(caps.has('NAMESPACE') ? ['NAMESPACE'] : []), `LIST "" "*" RETURN (${returns.join(' ')})`];
  const answers = await reader.exchange(commands, /^\* (LIST|STATUS|NAMESPACE) /i);
  if (answers.some((a) => a.response.status !== 'OK')) return undefined;
  try {
    return readListing(answers.flatMap((a) => a.untagged), caps.has('SPECIAL-USE'));
  } catch {
    return undefined;
  }
}

/**
 * Reads NAMESPACE, LIST and STATUS answers into what imapflow's list() returns for the same
 * answers (2.1.2: \Subscribed moved to `subscribed`, \NonExistent implying \Noselect, INBOX
 * always subscribed, one folder per special use, special uses first); throws on anything it does
 * not understand.
 */
export function readListing(untagged: UntaggedAnswer[], hasSpecialUse = true): AccountListing | undefined {
  let namespace: { prefix: string; delimiter?: string } = { prefix: '' };
  const folders: ListResponse[] = [];
  const statuses = new Map<string, Record<string, string>>();
  for (const { parts, literals } of untagged) {
    const kind = /^\* (\w+) /.exec(parts[0]!)![1]!.toUpperCase();
    const tokens = new Tokens([parts[0]!.slice(kind.length + 3), ...parts.slice(1)], literals);
    if (kind === 'NAMESPACE') namespace = personalNamespace(tokens);
    else if (kind === 'STATUS') statuses.set(nameOf(tokens.next()), statusItems(tokens));
    else folders.push(listEntry(tokens));
  }
  // A listing without INBOX (a namespace that leaves it out) is imapflow's to complete.
  if (!folders.some((f) => f.path === 'INBOX')) return undefined;
  const delimiter = namespace.delimiter ?? folders.find((f) => f.delimiter)?.delimiter ?? '/';
  for (const folder of folders) {
    const items = statuses.get(folder.pathAsListed);
    if (items) folder.status = toStatus(folder.path, items);
  }
  assignSpecialUses(folders, hasSpecialUse);
  return { namespace: { prefix: namespace.prefix, delimiter }, folders: folders.sort(byImapflowOrder) };
}

const USE_ORDER = ['\\Inbox', '\\Flagged', '\\Sent', '\\Drafts', '\\All', '\\Archive', '\\Junk', '\\Trash'];
const SOURCE_ORDER = ['extension', 'name', 'name-guess'];

// imapflow's own assignment: each use to one folder and each folder one use, the server's
// attributes before names (imapflow's localised name tables, read through its own function),
// then the shallowest folder, then the first by path.
function assignSpecialUses(folders: ListResponse[], hasExtension: boolean): void {
  const candidates: Array<{ use: string; source: string; folder: ListResponse }> = [];
  for (const folder of folders) {
    const phantom = folder.flags.has('\\NonExistent');
    if (folder.path === 'INBOX' && !phantom) candidates.push({ use: '\\Inbox', source: 'name', folder });
    const { flag, source } = specialUse(hasExtension, folder);
    if (flag && source && (source === 'extension' || !phantom)) candidates.push({ use: flag, source, folder });
  }
  candidates.sort((a, b) => SOURCE_ORDER.indexOf(a.source) - SOURCE_ORDER.indexOf(b.source) || a.folder.parent.length - b.folder.parent.length || collate(a.folder.path, b.folder.path));
  const taken = new Set<string>();
  for (const { use, source, folder } of candidates) {
    if (taken.has(use) || folder.specialUse) continue;
    taken.add(use);
    Object.assign(folder, { specialUse: use, specialUseSource: source === 'name-guess' ? 'name' : source });
  }
}

function byImapflowOrder(a: ListResponse, b: ListResponse): number {
  if (a.specialUse && !b.specialUse) return -1;
  if (!a.specialUse && b.specialUse) return 1;
  if (a.specialUse && b.specialUse) return USE_ORDER.indexOf(a.specialUse) - USE_ORDER.indexOf(b.specialUse);
  const aList = [...a.parent, a.name];
  const bList = [...b.parent, b.name];
  for (let i = 0; i < aList.length; i++) if (aList[i] !== bList[i]) return collate(aList[i]!, bList[i] ?? '');
  return collate(a.path, b.path);
}

function personalNamespace(tokens: Tokens): { prefix: string; delimiter?: string } {
  const first = tokens.next();
  if (first === null) return { prefix: '' };
  if (first !== '(' || tokens.next() !== '(') throw new Error('namespace list expected');
  const prefix = nameOf(tokens.next());
  const delimiter = tokens.next();
  return { prefix, delimiter: delimiter === null ? undefined : nameOf(delimiter) };
}

function listEntry(tokens: Tokens): ListResponse {
  if (tokens.next() !== '(') throw new Error('flag list expected');
  const flags = new Set<string>();
  for (let flag = tokens.next(); flag !== ')'; flag = tokens.next()) {
    if (typeof flag !== 'string') throw new Error('flag expected');
    flags.add(flag);
  }
  const delimiterToken = tokens.next();
  const delimiter = delimiterToken === null ? '' : nameOf(delimiterToken);
  const listed = nameOf(tokens.next());
  // Extended data (CHILDINFO, OLDNAME) may follow; nothing in it is used.
  let path = decodeMailboxName(listed);
  if (path.toUpperCase() === 'INBOX') path = 'INBOX';
  else if (delimiter && path.toUpperCase().startsWith(`INBOX${delimiter}`)) path = `INBOX${path.slice(5)}`;
  if (delimiter && path.startsWith(delimiter)) path = path.slice(1);
  const subscribed = [...flags].some((f) => f.toLowerCase() === '\\subscribed') || path === 'INBOX';
  for (const f of [...flags]) if (f.toLowerCase() === '\\subscribed') flags.delete(f);
  if ([...flags].some((f) => f.toLowerCase() === '\\nonexistent')) flags.add('\\Noselect');
  const segments = delimiter ? path.split(delimiter) : [path];
  return {
    path, pathAsListed: listed, name: segments[segments.length - 1]!, delimiter, parent: segments.slice(0, -1), parentPath: segments.slice(0, -1).join(delimiter),
    flags, listed: true, subscribed,
  } as unknown as ListResponse;
}

function statusItems(tokens: Tokens): Record<string, string> {
  if (tokens.next() !== '(') throw new Error('status list expected');
  const items: Record<string, string> = {};
  for (let key = tokens.next(); key !== ')'; key = tokens.next()) {
    const value = tokens.next();
    if (typeof key !== 'string' || typeof value !== 'string' || !/^\d{1,20}$/.test(value)) throw new Error('status item expected');
    items[key.toUpperCase()] = value;
  }
  return items;
}

function toStatus(path: string, items: Record<string, string>): ListResponse['status'] {
  const n = (key: string) => (items[key] === undefined ? undefined : Number(items[key]));
  const big = (key: string) => (items[key] === undefined ? undefined : BigInt(items[key]!));
  return { path, messages: n('MESSAGES'), uidNext: n('UIDNEXT'), uidValidity: big('UIDVALIDITY'), highestModseq: big('HIGHESTMODSEQ') } as ListResponse['status'];
}

function nameOf(token: Token | undefined): string {
  if (typeof token === 'string') return token;
  if (token && typeof token === 'object' && 'quoted' in token) return token.quoted;
  if (token && typeof token === 'object' && 'literal' in token && token.literal) return token.literal.toString('utf8');
  throw new Error('name expected');
}
