import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { ImapFlow, ListResponse } from 'imapflow';
import { mapImapError } from './imap.ts';
import { markListed } from './folder-cache.ts';
import { encodeMailboxName } from './wire/mutf7.ts';
import { quoted, uidSet, type TaggedResponse } from './wire/syntax.ts';
import { CutoverError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isTransient, laneBackoffMs } from './transient.ts';
import { DestMatcher } from './fingerprint.ts';
import type { FolderPlanEntry } from './folders.ts';
import type { LedgerStore } from './ledger.ts';
import { parseFetch, type FetchedMessage, type FetchReader } from './wire/fetcher.ts';
import { settleAll } from './settle.ts';

export interface DestInspection {
  /** Copies on the destination the ledger does not account for, to be claimed by fingerprint. */
  alreadyThere: DestMatcher;
  /** Whether the folder keeps a flag (PERMANENTFLAGS). */
  accepts: (flag: string) => boolean;
  /** UIDNEXT before this pass appended anything: where its copies start on a server without UIDPLUS. */
  uidNext: number;
}

/** The parts of imapflow 2.1.2's connection state its own close command resets (commands/close.js). */
interface SelectState { state: unknown; states: { AUTHENTICATED: unknown }; mailbox: unknown; currentSelectCommand: unknown; exec(command: string): Promise<{ next(): void }> }

/**
 * Leaves the connection with no mailbox selected. CLOSE would do it in one command but expunges
 * the folder's \Deleted messages, copied ones included (a Trash folder lost its messages that
 * way). UNSELECT (RFC 3691) deselects without expunging; without it, EXAMINE first makes the
 * CLOSE a plain deselect (RFC 3501 6.4.2).
 */
export async function deselect(client: ImapFlow): Promise<void> {
  const mailbox = client.mailbox;
  if (!mailbox) return;
  const raw = client as unknown as SelectState;
  if (client.capabilities.has('UNSELECT') && raw.states?.AUTHENTICATED !== undefined) {
    // imapflow has no UNSELECT: sent through exec(), then its state reset as its CLOSE does.
    (await raw.exec('UNSELECT')).next();
    raw.mailbox = false;
    raw.currentSelectCommand = false;
    raw.state = raw.states.AUTHENTICATED;
    return;
  }
  if (!mailbox.readOnly) await client.mailboxOpen(mailbox.path, { readOnly: true });
  await client.mailboxClose();
}

/**
 * What the destination folder already holds that the ledger does not account for under this
 * source folder's current UIDVALIDITY (appended just before a crash, copied by a run whose
 * ledger is gone or under an older UIDVALIDITY, or there before the migration); which flags the
 * folder keeps; and its UIDNEXT before this pass.
 */
export async function inspectDest(dest: ImapFlow, entry: FolderPlanEntry, uidValidity: string, ledger: LedgerStore): Promise<DestInspection> {
  const alreadyThere = new DestMatcher();
  const knownUids = ledger.destUids(entry.dest, { sourceFolder: entry.source, uidValidity });
  knownUids.catch(() => undefined);
  // Read-write SELECT: under EXAMINE servers answer PERMANENTFLAGS () and the flag check would be blind.
  markListed(dest, entry.dest);
  const lock = await dest.getMailboxLock(entry.dest);
  let permanent: Set<string> | undefined;
  let uidNext = 0;
  try {
    const known = await knownUids;
    permanent = dest.mailbox ? dest.mailbox.permanentFlags : undefined;
    uidNext = dest.mailbox ? Number(dest.mailbox.uidNext ?? 0) : 0;
    if (dest.mailbox && dest.mailbox.exists > known.size) {
      for await (const msg of dest.fetch('1:*', { uid: true, size: true, internalDate: true, headers: true }, { uid: true })) {
        if (known.has(msg.uid) || !msg.headers) continue;
        alreadyThere.add(msg.headers, msg.size ?? 0, msg.internalDate, msg.uid);
      }
    }
  } finally {
    lock.release();
  }
  // APPEND on imapflow 2.1.2 filters flags against the selected mailbox: leave none selected.
  await deselect(dest);
  const accepts = (flag: string) => !permanent || permanent.size === 0 || permanent.has('\\*') || permanent.has(flag);
  return { alreadyThere, accepts, uidNext };
}

/** What the inspection asks for each message the ledger does not account for: what imapflow's `{ uid, size, internalDate, headers }` asks. */
export const INSPECTION_ITEMS = '(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])';

/**
 * `inspectDest` on a raw session of our own (the appender's, lent to a FetchReader): the
 * destination session is already logged in, where imapflow's own login cost eight round trips.
 * A read-write SELECT (PERMANENTFLAGS, UIDNEXT, EXISTS); the headers of every message only when
 * the folder holds more than the ledger accounts for, with the deselect in the same round trip;
 * the deselect alone otherwise. The matcher is fed the same bytes, size and date as through
 * imapflow (BODY[HEADER] literal, RFC822.SIZE, INTERNALDATE), so fingerprints match. The reader's
 * limits (lines, literals, answers) hold against a hostile server.
 */
export async function inspectDestOnSession(reader: FetchReader, entry: FolderPlanEntry, uidValidity: string, ledger: LedgerStore, progress?: () => void): Promise<DestInspection> {
  const alreadyThere = new DestMatcher();
  const knownUids = ledger.destUids(entry.dest, { sourceFolder: entry.source, uidValidity });
  knownUids.catch(() => undefined);
  // With UNSELECT the deselect goes out with the SELECT: a folder holding only what the ledger knows
  // (every delta) or nothing (a first copy) is inspected in one round trip. Without it the deselect
  // is an EXAMINE, whose answers would overwrite the SELECT's flags before they are read.
  const selecting = reader.select(entry.dest);
  const leaving = reader.capabilities.has('UNSELECT') ? reader.deselect(entry.dest) : undefined;
  const [mailbox] = await settleAll([selecting, leaving]);
  progress?.();
  const permanent = mailbox.permanentFlags;
  const uidNext = mailbox.uidNext;
  const known = await knownUids;
  if (mailbox.exists > known.size) {
    const seen = new Set<number>();
    // Written together: one round trip for the headers and the deselect. Deselected already, the
    // folder is opened again read-only (the flags it keeps were read above).
    const examining = leaving ? reader.examine(entry.dest) : undefined;
    const fetching = reader.fetch('1:*', INSPECTION_ITEMS, {
      // Through imapflow a refused FETCH failed the inspection: a partial list would let copies already there be appended again.
      whole: true,
      onMessage: (msg) => {
        // A large folder's headers take a while: each answer is progress, silence is a stall.
        progress?.();
        // An unsolicited FETCH (a flag changed) carries no header; a UID the server repeats counts once.
        if (msg.uid === undefined || !msg.header || known.has(msg.uid) || seen.has(msg.uid)) return;
        seen.add(msg.uid);
        alreadyThere.add(msg.header, msg.size ?? 0, msg.internalDate, msg.uid);
      },
    });
    const deselecting = reader.deselect(entry.dest);
    await settleAll([examining, fetching, deselecting]);
  } else if (!leaving) {
    await reader.deselect(entry.dest);
  }
  const accepts = (flag: string) => !permanent || permanent.size === 0 || permanent.has('\\*') || permanent.has(flag);
  return { alreadyThere, accepts, uidNext };
}

/** What was sent for one message, to compare with what the destination stored. */
export interface AppendedCopy {
  sourceUid: number;
  destUid: number | null;
  size: number;
  flags: string[];
  internalDate?: Date;
  /** sha256 of the header, kept only for headers with 8-bit bytes (the ones servers rewrite). */
  headerHash?: string;
}

/** A message the destination stored otherwise than it was sent: `uid` is the source's, `destUid` the destination's. */
export interface Alteration { uid: number; destUid: number | null; changes: string[] }

export function headerHashIfEightBit(header: Buffer): string | undefined {
  return isAscii(header) ? undefined : createHash('sha256').update(header).digest('hex');
}

const second = (d: Date | string) => Math.floor(new Date(d).getTime() / 1000);
const iso = (d: Date | string) => new Date(d).toISOString().replace('.000Z', 'Z');

/**
 * Reads back what one folder's pass appended: size, flags and arrival date in one UID FETCH
 * (headers too, for the few messages with 8-bit header bytes), and lists every message the server
 * stored otherwise. Flags it did not keep are set again with STORE where the folder accepts them.
 * Without UIDPLUS the copies are the messages from the UIDNEXT seen before the pass, in order.
 */
export async function readBack(dest: ImapFlow, folder: string, appended: AppendedCopy[], uidNextBefore: number): Promise<Alteration[]> {
  if (!appended.length) return [];
  markListed(dest, folder);
  const lock = await dest.getMailboxLock(folder);
  try {
    const known = appended.every((a) => a.destUid !== null);
    const range = known ? uidSet(appended.map((a) => a.destUid!)) : uidNextBefore > 0 ? `${uidNextBefore}:*` : undefined;
    if (!range) return [{ uid: 0, destUid: null, changes: [`${appended.length} message(s) could not be read back: the server gives neither APPENDUID nor UIDNEXT`] }];
    const stored = new Map<number, { size: number; flags: string[]; internalDate?: Date | string }>();
    for await (const msg of dest.fetch(range, { uid: true, size: true, flags: true, internalDate: true }, { uid: true })) {
      stored.set(msg.uid, { size: msg.size ?? 0, flags: [...(msg.flags ?? [])].filter((f) => f !== '\\Recent'), internalDate: msg.internalDate });
    }
    const copies = known ? appended : pairInOrder(appended, [...stored.keys()].filter((uid) => uid >= uidNextBefore).sort((a, b) => a - b));
    if (!copies) return [{ uid: 0, destUid: null, changes: [`${appended.length} message(s) appended but ${stored.size} new on the destination: they could not be paired to be read back`] }];
    const eightBit = copies.filter((c) => c.headerHash && c.destUid !== null);
    const headers = new Map<number, string>();
    if (eightBit.length) {
      for await (const msg of dest.fetch(uidSet(eightBit.map((c) => c.destUid!)), { uid: true, headers: true }, { uid: true })) {
        if (msg.headers) headers.set(msg.uid, createHash('sha256').update(msg.headers).digest('hex'));
      }
    }
    const permanent = dest.mailbox ? dest.mailbox.permanentFlags : undefined;
    const settable = (flag: string) => !permanent || permanent.has('\\*') || permanent.has(flag);
    const altered: Alteration[] = [];
    const refix: Array<{ copy: AppendedCopy; entry: Alteration; got: string[] }> = [];
    for (const copy of copies) {
      const got = copy.destUid === null ? undefined : stored.get(copy.destUid);
      if (!got) {
        altered.push({ uid: copy.sourceUid, destUid: copy.destUid, changes: ['not found on the destination when read back'] });
        continue;
      }
      const changes = storedChanges(copy, got, Boolean(copy.headerHash && headers.has(copy.destUid!) && headers.get(copy.destUid!) !== copy.headerHash));
      const entry: Alteration = { uid: copy.sourceUid, destUid: copy.destUid, changes };
      if (!sameFlags(copy.flags, got.flags)) {
        if (copy.flags.every(settable)) refix.push({ copy, entry, got: got.flags });
        else changes.push(`flags ${flagDiff(copy.flags, got.flags)} (the folder does not keep them)`);
      }
      if (changes.length || refix.some((r) => r.entry === entry)) altered.push(entry);
    }
    await restoreFlags(dest, refix);
    return altered;
  } finally {
    lock.release();
    await deselect(dest);
  }
}

type StoredCopy = { size: number; flags: string[]; internalDate?: Date | string };
/** What the destination stored for each UID, as a FETCH of UID, RFC822.SIZE, FLAGS and INTERNALDATE read it (\\Recent left out). */
export type StoredCopies = Map<number, StoredCopy>;

/** A FETCH answer (RFC822.SIZE, FLAGS, INTERNALDATE) as the copy the destination stored; \\Recent is the server's own. */
export function storedCopy(msg: Pick<FetchedMessage, 'size' | 'flags' | 'internalDate'>): StoredCopy {
  return { size: msg.size ?? 0, flags: [...msg.flags ?? []].filter((f) => f !== '\\Recent'), internalDate: msg.internalDate };
}

/** FETCH answers (UID, RFC822.SIZE, INTERNALDATE, FLAGS) as copies stored; a line that does not parse names none (the read-back then takes the long way). */
export function storedFromLines(lines: string[]): StoredCopies {
  const stored: StoredCopies = new Map();
  for (const line of lines) {
    try {
      const msg = parseFetch(Number(/^\* (\d+)/.exec(line)![1]), [line], []);
      if (msg.uid !== undefined && !stored.has(msg.uid)) stored.set(msg.uid, storedCopy(msg));
    } catch {
      // not this message's answer
    }
  }
  return stored;
}

function storedChanges(copy: AppendedCopy, got: { size: number; internalDate?: Date | string }, headerRewritten: boolean): string[] {
  const changes: string[] = [];
  if (got.size !== copy.size) changes.push(`size ${copy.size} bytes stored as ${got.size}`);
  if (headerRewritten) changes.push('header rewritten (8-bit bytes not kept as sent)');
  if (copy.internalDate && got.internalDate && second(copy.internalDate) !== second(got.internalDate)) changes.push(`arrival date ${iso(copy.internalDate)} stored as ${iso(got.internalDate)}`);
  return changes;
}

/**
 * The read-back's usual case, decided from a FETCH made on another connection (the appender's):
 * every copy found, with the flags it was sent with and no 8-bit header to compare. Undefined
 * otherwise, and `readBack` then does the whole check, STORE included.
 */
export function plainReadBack(appended: AppendedCopy[], stored: StoredCopies): Alteration[] | undefined {
  const altered: Alteration[] = [];
  for (const copy of appended) {
    const got = copy.destUid === null ? undefined : stored.get(copy.destUid);
    if (!got || copy.headerHash || !sameFlags(copy.flags, got.flags)) return undefined;
    const changes = storedChanges(copy, got, false);
    if (changes.length) altered.push({ uid: copy.sourceUid, destUid: copy.destUid, changes });
  }
  return altered;
}

// Where the server ignored APPEND's flags (GNU imap4d), STORE sets them, one command per flag set;
// a second look says whether it did.
async function restoreFlags(dest: ImapFlow, refix: Array<{ copy: AppendedCopy; entry: Alteration; got: string[] }>): Promise<void> {
  if (!refix.length) return;
  const bySet = new Map<string, number[]>();
  for (const { copy } of refix) {
    const key = copy.flags.join(' ');
    bySet.set(key, [...(bySet.get(key) ?? []), copy.destUid!]);
  }
  for (const [flags, uids] of bySet) await dest.messageFlagsSet(uidSet(uids), flags ? flags.split(' ') : [], { uid: true });
  const after = new Map<number, string[]>();
  for await (const msg of dest.fetch(uidSet(refix.map((r) => r.copy.destUid!)), { uid: true, flags: true }, { uid: true })) {
    after.set(msg.uid, [...(msg.flags ?? [])].filter((f) => f !== '\\Recent'));
  }
  for (const { copy, entry, got } of refix) {
    const fixed = sameFlags(copy.flags, after.get(copy.destUid!) ?? []);
    entry.changes.push(`flags ${flagDiff(copy.flags, got)} on APPEND; ${fixed ? 'set right afterwards with STORE' : 'STORE did not set them either'}`);
  }
}

function sameFlags(a: string[], b: string[]): boolean {
  const norm = (flags: string[]) => flags.map((f) => f.toLowerCase()).sort().join(' ');
  return norm(a) === norm(b);
}

function flagDiff(sent: string[], got: string[]): string {
  const gotLower = new Set(got.map((f) => f.toLowerCase()));
  const sentLower = new Set(sent.map((f) => f.toLowerCase()));
  const lost = sent.filter((f) => !gotLower.has(f.toLowerCase()));
  const added = got.filter((f) => !sentLower.has(f.toLowerCase()));
  return [lost.length && `${lost.join(' ')} lost`, added.length && `${added.join(' ')} added`].filter(Boolean).join(', ');
}

function pairInOrder(appended: AppendedCopy[], uids: number[]): AppendedCopy[] | undefined {
  if (uids.length !== appended.length) return undefined;
  return appended.map((a, i) => ({ ...a, destUid: uids[i]! }));
}

interface ExecClient {
  enabled?: Set<string>;
  exec(command: string, attributes: unknown[], options?: { untagged: Record<string, () => Promise<void>> }): Promise<{ next(): void }>;
}

/** One command of the destination's folder set-up. No step undoes another: a CREATE never subscribes by itself. */
export interface FolderSetupStep { folder: string; verb: 'CREATE' | 'SUBSCRIBE'; specialUse?: string }

/**
 * What the destination needs before the copy: the plan's folders that do not exist, created
 * (marked with their special use where the destination offers CREATE-SPECIAL-USE, RFC 6154, so
 * mail clients find Sent, Drafts, Trash and Junk by their use), and each folder's subscription
 * carried over. INBOX is never unsubscribed (a client without INBOX in its list would look
 * broken); its subscription, which imapflow's listing always reports as on, is sent when
 * `subscribeInbox` (the first pass) rather than asked for with a round trip of its own.
 */
export function folderSetupSteps(listed: ListResponse[], plan: FolderPlanEntry[], opts: { subscribeInbox: boolean }): FolderSetupStep[] {
  const paths = new Map(listed.map((f) => [f.path, f]));
  const steps: FolderSetupStep[] = [];
  for (const entry of plan) {
    if (entry.dest.toUpperCase() === 'INBOX') {
      if (entry.subscribed && opts.subscribeInbox) steps.push({ folder: 'INBOX', verb: 'SUBSCRIBE' });
      continue;
    }
    const existing = paths.get(entry.dest);
    if (!existing) steps.push({ folder: entry.dest, verb: 'CREATE', specialUse: entry.specialUse });
    if (entry.subscribed && !existing?.subscribed) steps.push({ folder: entry.dest, verb: 'SUBSCRIBE' });
  }
  return steps;
}

/**
 * The folder set-up, one command at a time through imapflow (file imports). The copy engine
 * pipelines the same steps instead (`startDestSetup`).
 */
export async function ensureDestFolders(dest: ImapFlow, listed: ListResponse[], plan: FolderPlanEntry[], host: string): Promise<void> {
  const client = dest as unknown as ExecClient;
  const name = (folder: string) => (client.enabled?.has('UTF8=ACCEPT') ? folder : encodeMailboxName(folder));
  for (const step of folderSetupSteps(listed, plan, { subscribeInbox: true })) {
    if (step.verb === 'SUBSCRIBE') {
      await dest.mailboxSubscribe(step.folder);
      continue;
    }
    const useAttr = step.specialUse && dest.capabilities.has('CREATE-SPECIAL-USE');
    try {
      // imapflow's mailboxCreate subscribes every folder it creates; exec() sends CREATE alone.
      const attributes: unknown[] = [{ type: 'STRING', value: name(step.folder) }];
      try {
        (await client.exec('CREATE', useAttr ? [...attributes, [{ type: 'ATOM', value: 'USE' }, [{ type: 'ATOM', value: step.specialUse }]]] : attributes)).next();
      } catch (err) {
        // [USEATTR]: the server does not support that use on this folder; the folder is still wanted.
        if (!useAttr || (err as { serverResponseCode?: string }).serverResponseCode !== 'USEATTR') throw err;
        (await client.exec('CREATE', attributes)).next();
      }
    } catch (err) {
      if ((err as { serverResponseCode?: string }).serverResponseCode !== 'ALREADYEXISTS') throw mapImapError(err, host, `CREATE ${step.folder}`);
    }
  }
}

/** A raw destination session that can pipeline commands (the appender). */
export interface PipelineSession {
  capabilities: Set<string>;
  pipeline(commands: string[], answered: (index: number, response: TaggedResponse) => void): Promise<void>;
}

const MAX_SETUP_ATTEMPTS = 5;

export interface DestSetup {
  /** Settles once `folder` exists on the destination (at once for a folder that needs no CREATE). */
  ready(folder: string): Promise<void>;
  /** Settles when every step has been answered; rejects with the first refusal. */
  done: Promise<void>;
}

/**
 * Sends the whole folder set-up at once on one raw session: one round trip for every CREATE and
 * SUBSCRIBE, where one command at a time cost three per folder. Each folder is ready as soon as
 * its own CREATE is answered, so its copy can start while later folders are still being set up.
 * A refused SUBSCRIBE does not stop the copy (imapflow's mailboxSubscribe did not either). A
 * session lost part-way sends what was not answered again on a new one.
 */
export function startDestSetup(session: (work: (s: PipelineSession) => Promise<void>) => Promise<void>, steps: FolderSetupStep[], host: string, log?: Logger): DestSetup {
  const waits = new Map<string, { promise: Promise<void>; resolve(): void; reject(err: unknown): void }>();
  for (const step of steps) {
    if (step.verb !== 'CREATE' || waits.has(step.folder)) continue;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    promise.catch(() => undefined); // awaited by the lane that needs it, or through `done`
    waits.set(step.folder, { promise, resolve, reject });
  }
  let remaining = steps;
  const attempt = (s: PipelineSession) => runSetup(s, remaining, (answeredSteps) => { remaining = remaining.slice(answeredSteps); });
  const runSetup = async (s: PipelineSession, steps: FolderSetupStep[], progressed: (answered: number) => void) => {
    const useAttr = s.capabilities.has('CREATE-SPECIAL-USE');
    const line = (step: FolderSetupStep, withUse = useAttr) =>
      `${step.verb} ${quoted(encodeMailboxName(step.folder))}${step.verb === 'CREATE' && withUse && step.specialUse ? ` (USE (${step.specialUse}))` : ''}`;
    const retry: FolderSetupStep[] = [];
    let refused: CutoverError | undefined;
    const answered = (step: FolderSetupStep, response: TaggedResponse) => {
      const code = response.code?.split(' ')[0]?.toUpperCase();
      if (step.verb === 'SUBSCRIBE') {
        if (response.status !== 'OK') log?.warn({ folder: step.folder, answer: response.text }, 'the destination refused SUBSCRIBE');
        return;
      }
      if (response.status === 'OK' || code === 'ALREADYEXISTS') return waits.get(step.folder)?.resolve();
      // [USEATTR]: the server does not support that use on this folder; the folder is still wanted.
      if (code === 'USEATTR' && step.specialUse) return void retry.push(step);
      const err = new CutoverError('IMAP_FAILED', { host, command: `CREATE ${step.folder}`, detail: `${response.status}${response.code ? ` [${response.code}]` : ''} ${response.text}`.trim() });
      refused ??= err;
      waits.get(step.folder)?.reject(err);
    };
    await s.pipeline(steps.map((step) => line(step)), (i, response) => { answered(steps[i]!, response); progressed(1); });
    if (retry.length) await s.pipeline(retry.map((step) => line(step, false)), (i, response) => answered({ ...retry[i]!, specialUse: undefined }, response));
    if (refused) throw refused;
  };
  const done = !steps.length ? Promise.resolve() : (async () => {
    for (let n = 1; ; n++) {
      try {
        return await session(attempt);
      } catch (err) {
        if (!isTransient(err) || n >= MAX_SETUP_ATTEMPTS || !remaining.length) throw err;
        log?.warn({ attempt: n, err: (err as Error).message }, 'connection lost during the folder set-up; sending the rest again');
        await new Promise((resolve) => setTimeout(resolve, laneBackoffMs(err, n)));
      }
    }
  })().catch((err: unknown) => {
    // A lost session leaves no folder waiting for ever.
    for (const wait of waits.values()) wait.reject(err);
    throw err;
  });
  done.catch(() => undefined);
  return { ready: (folder) => waits.get(folder)?.promise ?? Promise.resolve(), done };
}
