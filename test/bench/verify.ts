// Compares a destination mail store with the source through doveadm, for `npm run bench`.
//
// A store is read in one `doveadm fetch … text ALL` stream per server (~1 s for 439 MB here):
// every message's stored bytes are hashed (sha256) as they go by, never buffered whole; its
// flags (keywords included), INTERNALDATE, Message-ID and Date header are kept.
//
// Two modes:
// - strict (cutover): every folder holds the same multiset of (sha256 of the message, system
//   flags, keywords, INTERNALDATE) and the folder sets are equal. Anything else fails.
// - identity (mbsync): messages are matched by (folder, Message-ID, Date header); missing or
//   extra messages, missing folders, system-flag or INTERNALDATE differences fail, while altered
//   content (mbsync adds an X-TUID header) and keyword differences (mbsync drops keywords) are
//   only counted and reported.
//
//   node --import tsx test/bench/verify.ts --src-conf A/dovecot.conf --dst-conf B/dovecot.conf
//        [--user bench] [--mode strict|identity] [--json]
import { spawn, execFile } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';

const run = promisify(execFile);
const DOVEADM_BIN = '/usr/bin/doveadm';
const SYSTEM_FLAGS = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted']);
const HEAD_LIMIT = 256 * 1024;

export interface MessageInfo {
  guid: string;
  sha256: string;
  size: number;
  /** System flags, sorted, space-separated, without \Recent. */
  sys: string;
  /** Keywords, sorted, space-separated. */
  kw: string;
  /** INTERNALDATE as doveadm prints it (seconds). */
  received: string;
  messageId: string;
  dateHeader: string;
}

export interface StoreSnapshot {
  folders: Map<string, MessageInfo[]>;
  subscriptions: string[];
  messages: number;
  bytes: number;
}

export type VerifyMode = 'strict' | 'identity';

export interface VerifyResult {
  mode: VerifyMode;
  ok: boolean;
  srcMessages: number;
  dstMessages: number;
  srcFolders: number;
  dstFolders: number;
  missingFolders: string[];
  extraFolders: string[];
  missing: number;
  extra: number;
  /** Messages matched by identity whose bytes differ. */
  altered: number;
  /** size difference (dst - src, bytes) -> number of altered messages. */
  sizeDeltas: Record<string, number>;
  sysFlagMismatch: number;
  keywordMismatch: number;
  internalDateMismatch: number;
  subscriptionsMissing: string[];
  subscriptionsExtra: string[];
  /** Folders with any difference: folder -> short description. */
  folderDiffs: Record<string, string>;
  summary: string;
}

async function doveadmLines(conf: string, args: string[]): Promise<string[]> {
  const { stdout } = await run(DOVEADM_BIN, ['-c', conf, ...args], { maxBuffer: 64 << 20 });
  return stdout.split('\n').filter((l) => l !== '');
}

function headerFields(head: string): { messageId: string; dateHeader: string } {
  const end = head.search(/\r?\n\r?\n/);
  const unfolded = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const field = (name: string) => unfolded.match(new RegExp(`^${name}:[ \\t]*(.*?)[ \\t\\r]*$`, 'im'))?.[1] ?? '';
  return { messageId: field('message-id'), dateHeader: field('date') };
}

/** Streams `doveadm -f pager fetch 'mailbox guid flags date.received size.physical text' ALL`.
 * Pager format: `key: value` lines, then `text:` and exactly size.physical bytes of the stored
 * message, then a form feed line between messages. */
function fetchMessages(conf: string, user: string, onMessage: (folder: string, m: MessageInfo) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOVEADM_BIN, ['-c', conf, '-f', 'pager', 'fetch', '-u', user, 'mailbox guid flags date.received size.physical text', 'ALL'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let failed: Error | undefined;
    let state: 'meta' | 'body' | 'sep' = 'meta';
    let fields: Record<string, string> = {};
    let remaining = 0;
    let hash: Hash | undefined;
    let head: Buffer[] = [];
    let headLen = 0;
    let pending: Buffer = Buffer.alloc(0);

    const fail = (msg: string) => {
      if (!failed) failed = new Error(`doveadm fetch (${conf}): ${msg}`);
      child.stdout.destroy();
    };
    const finishMessage = () => {
      const flags = (fields.flags ?? '').split(' ').filter((f) => f && f !== '\\Recent');
      const { messageId, dateHeader } = headerFields(Buffer.concat(head).toString('latin1'));
      onMessage(fields.mailbox ?? '', {
        guid: fields.guid ?? '',
        sha256: (hash as Hash).digest('base64'),
        size: Number(fields['size.physical']),
        sys: flags.filter((f) => SYSTEM_FLAGS.has(f)).sort().join(' '),
        kw: flags.filter((f) => !SYSTEM_FLAGS.has(f)).sort().join(' '),
        received: fields['date.received'] ?? '',
        messageId,
        dateHeader,
      });
      fields = {};
      head = [];
      headLen = 0;
      hash = undefined;
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (failed) return;
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      while (buf.length > 0 && !failed) {
        if (state === 'body') {
          const n = Math.min(remaining, buf.length);
          const part = buf.subarray(0, n);
          (hash as Hash).update(part);
          if (headLen < HEAD_LIMIT) {
            head.push(Buffer.from(part.subarray(0, HEAD_LIMIT - headLen)));
            headLen += Math.min(n, HEAD_LIMIT - headLen);
          }
          remaining -= n;
          buf = buf.subarray(n);
          if (remaining === 0) {
            finishMessage();
            state = 'sep';
          }
        } else if (state === 'sep') {
          // a form feed line separates messages; tolerate a newline added after a message without one
          if (buf.length < 3 && (Buffer.from('\n\f\n').subarray(0, buf.length).equals(buf) || Buffer.from('\f\n').subarray(0, buf.length).equals(buf))) {
            pending = Buffer.from(buf);
            return;
          }
          if (buf[0] === 0x0c && buf[1] === 0x0a) buf = buf.subarray(2);
          else if (buf[0] === 0x0a && buf[1] === 0x0c && buf[2] === 0x0a) buf = buf.subarray(3);
          else return fail(`output out of step after a message (got ${JSON.stringify(buf.subarray(0, 20).toString('latin1'))})`);
          state = 'meta';
        } else {
          const nl = buf.indexOf(0x0a);
          if (nl < 0) {
            pending = Buffer.from(buf);
            return;
          }
          const line = buf.subarray(0, nl).toString('utf8');
          buf = buf.subarray(nl + 1);
          if (line === 'text:') {
            remaining = Number(fields['size.physical']);
            if (!Number.isInteger(remaining) || remaining < 0) return fail(`no size.physical before text (fields ${JSON.stringify(fields)})`);
            hash = createHash('sha256');
            state = 'body';
            if (remaining === 0) {
              finishMessage();
              state = 'sep';
            }
            continue;
          }
          const colon = line.indexOf(':');
          if (colon <= 0) return fail(`unexpected line ${JSON.stringify(line.slice(0, 80))}`);
          fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (failed) return reject(failed);
      if (code !== 0) return reject(new Error(`doveadm fetch (${conf}) exited with ${code}: ${stderr.trim()}`));
      if (state === 'body' || Object.keys(fields).length > 0) return reject(new Error(`doveadm fetch (${conf}): output ended inside a message`));
      resolve();
    });
  });
}

/** Reads every folder, subscription and message (hashing the bytes) of one user's store. */
export async function readStore(conf: string, user: string): Promise<StoreSnapshot> {
  const folders = new Map<string, MessageInfo[]>();
  for (const name of await doveadmLines(conf, ['mailbox', 'list', '-u', user])) folders.set(name, []);
  const subscriptions = (await doveadmLines(conf, ['mailbox', 'list', '-s', '-u', user])).sort();
  let messages = 0;
  let bytes = 0;
  await fetchMessages(conf, user, (folder, m) => {
    let list = folders.get(folder);
    if (!list) folders.set(folder, (list = []));
    list.push(m);
    messages++;
    bytes += m.size;
  });
  return { folders, subscriptions, messages, bytes };
}

/** Flags of every message by (folder, guid), without reading any message body (fast). */
export async function readFlags(conf: string, user: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const lines = await doveadmLines(conf, ['-f', 'tab', 'fetch', '-u', user, 'mailbox guid flags', 'ALL']);
  for (const line of lines.slice(1)) {
    const [mailbox = '', guid = '', flags = ''] = line.split('\t');
    out.set(`${mailbox}\0${guid}`, flags.split(' ').filter((f) => f && f !== '\\Recent').sort().join(' '));
  }
  return out;
}

/** Messages of the source whose flags changed (or that vanished/appeared) compared with `expected`. */
export function sourceChanges(expected: StoreSnapshot, now: Map<string, string>): { changed: number; missing: number; extra: number } {
  let changed = 0;
  let missing = 0;
  const seen = new Set<string>();
  for (const [folder, list] of expected.folders) {
    for (const m of list) {
      const key = `${folder}\0${m.guid}`;
      seen.add(key);
      const flags = now.get(key);
      if (flags === undefined) missing++;
      else if (flags !== [m.sys, m.kw].filter(Boolean).join(' ').split(' ').filter(Boolean).sort().join(' ')) changed++;
    }
  }
  const extra = [...now.keys()].filter((k) => !seen.has(k)).length;
  return { changed, missing, extra };
}

function multisetTake<T>(groups: Map<string, T[]>, key: string): T | undefined {
  const list = groups.get(key);
  if (!list || list.length === 0) return undefined;
  const item = list.shift();
  if (list.length === 0) groups.delete(key);
  return item;
}

function groupBy<T>(items: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

const exactKey = (m: MessageInfo) => `${m.sha256}|${m.sys}|${m.kw}|${m.received}`;
const identityKey = (m: MessageInfo) => `${m.messageId}|${m.dateHeader}`;

/** Compares the destination with the expected source state. */
export function compareStores(src: StoreSnapshot, dst: StoreSnapshot, mode: VerifyMode): VerifyResult {
  const r: VerifyResult = {
    mode,
    ok: false,
    srcMessages: src.messages,
    dstMessages: dst.messages,
    srcFolders: src.folders.size,
    dstFolders: dst.folders.size,
    missingFolders: [...src.folders.keys()].filter((f) => !dst.folders.has(f)),
    extraFolders: [...dst.folders.keys()].filter((f) => !src.folders.has(f)),
    missing: 0,
    extra: 0,
    altered: 0,
    sizeDeltas: {},
    sysFlagMismatch: 0,
    keywordMismatch: 0,
    internalDateMismatch: 0,
    subscriptionsMissing: src.subscriptions.filter((s) => !dst.subscriptions.includes(s)),
    subscriptionsExtra: dst.subscriptions.filter((s) => !src.subscriptions.includes(s)),
    folderDiffs: {},
    summary: '',
  };
  const folderNames = new Set([...src.folders.keys(), ...dst.folders.keys()]);
  for (const folder of folderNames) {
    const s = src.folders.get(folder) ?? [];
    const d = dst.folders.get(folder) ?? [];
    const f = { missing: 0, extra: 0, altered: 0, sys: 0, kw: 0, date: 0 };
    // Compares the n = min(|a|, |b|) messages two groups with the same key have in common, under
    // the most favourable pairing for each attribute on its own (multiset intersection), so that
    // duplicates never produce differences by being paired the wrong way round.
    const compareGroups = (a: MessageInfo[], b: MessageInfo[]) => {
      const n = Math.min(a.length, b.length);
      const unmatched = (attr: (m: MessageInfo) => string) => {
        const bag = new Map<string, number>();
        for (const x of b) bag.set(attr(x), (bag.get(attr(x)) ?? 0) + 1);
        let common = 0;
        for (const x of a) {
          const c = bag.get(attr(x)) ?? 0;
          if (c > 0) {
            common++;
            bag.set(attr(x), c - 1);
          }
        }
        return n - Math.min(n, common);
      };
      f.sys += unmatched((m) => m.sys);
      f.kw += unmatched((m) => m.kw);
      f.date += unmatched((m) => m.received);
      return n;
    };
    // 1. exact matches (bytes, flags, keywords, INTERNALDATE)
    const dExact = groupBy(d, exactKey);
    let restS: MessageInfo[] = [];
    for (const m of s) if (!multisetTake(dExact, exactKey(m))) restS.push(m);
    let restD = [...dExact.values()].flat();
    // 2. same bytes, different attributes; 3. same identity (Message-ID, Date header), other bytes
    for (const step of ['sha', 'identity'] as const) {
      if (!restS.length || !restD.length) break;
      const key = step === 'sha' ? (m: MessageInfo) => m.sha256 : identityKey;
      const sGroups = groupBy(restS, key);
      const dGroups = groupBy(restD, key);
      restS = [];
      restD = [];
      for (const [k, sg] of sGroups) {
        const dg = dGroups.get(k) ?? [];
        dGroups.delete(k);
        if (step === 'identity' && k === '|') {
          // neither Message-ID nor Date: nothing to match on
          restS.push(...sg);
          restD.push(...dg);
          continue;
        }
        const n = compareGroups(sg, dg);
        if (step === 'identity' && n > 0) {
          f.altered += n;
          const sz = sg.map((m) => m.size).sort((x, y) => x - y);
          const dz = dg.map((m) => m.size).sort((x, y) => x - y);
          for (let i = 0; i < n; i++) {
            const delta = String((dz[i] as number) - (sz[i] as number));
            r.sizeDeltas[delta] = (r.sizeDeltas[delta] ?? 0) + 1;
          }
        }
        restS.push(...sg.slice(n));
        restD.push(...dg.slice(n));
      }
      for (const dg of dGroups.values()) restD.push(...dg);
    }
    f.missing = restS.length;
    f.extra = restD.length;
    r.missing += f.missing;
    r.extra += f.extra;
    r.altered += f.altered;
    r.sysFlagMismatch += f.sys;
    r.keywordMismatch += f.kw;
    r.internalDateMismatch += f.date;
    const bad = Object.entries(f).filter(([k, v]) => v > 0 && (mode === 'strict' || !['altered', 'kw'].includes(k)));
    if (bad.length || !src.folders.has(folder) || !dst.folders.has(folder)) {
      r.folderDiffs[folder] = `src ${src.folders.has(folder) ? s.length : '-'} dst ${dst.folders.has(folder) ? d.length : '-'} ${bad.map(([k, v]) => `${k} ${v}`).join(' ')}`.trim();
    }
  }
  const structural = r.missingFolders.length === 0 && r.extraFolders.length === 0 && r.missing === 0 && r.extra === 0 && r.sysFlagMismatch === 0 && r.internalDateMismatch === 0;
  r.ok = mode === 'strict' ? structural && r.altered === 0 && r.keywordMismatch === 0 : structural;
  const deltas = Object.entries(r.sizeDeltas)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${Number(k) >= 0 ? '+' : ''}${k} B ×${v}`)
    .join(', ');
  r.summary =
    `${mode}: dst ${r.dstMessages}/${r.srcMessages} messages, ${r.dstFolders}/${r.srcFolders} folders; ` +
    `missing ${r.missing}, extra ${r.extra}, altered ${r.altered}${deltas ? ` (${deltas})` : ''}, ` +
    `flag diffs ${r.sysFlagMismatch}, keyword diffs ${r.keywordMismatch}, INTERNALDATE diffs ${r.internalDateMismatch}` +
    (r.missingFolders.length ? `, missing folders [${r.missingFolders.join(', ')}]` : '') +
    (r.extraFolders.length ? `, extra folders [${r.extraFolders.join(', ')}]` : '') +
    (r.subscriptionsMissing.length || r.subscriptionsExtra.length ? `, subscriptions -${r.subscriptionsMissing.length}/+${r.subscriptionsExtra.length}` : '') +
    ` => ${r.ok ? 'OK' : 'FAIL'}`;
  return r;
}

function cli(): Promise<void> {
  const a = process.argv.slice(2);
  const opt = (k: string, d?: string) => {
    const i = a.indexOf('--' + k);
    return i >= 0 ? a[i + 1] : d;
  };
  const srcConf = opt('src-conf');
  const dstConf = opt('dst-conf');
  if (!srcConf || !dstConf) {
    console.error('usage: verify.ts --src-conf FILE --dst-conf FILE [--user bench] [--mode strict|identity] [--json]');
    process.exit(2);
  }
  const user = opt('user', 'bench') as string;
  const mode = opt('mode', 'strict') === 'identity' ? 'identity' : 'strict';
  return (async () => {
    const [src, dst] = await Promise.all([readStore(srcConf, user), readStore(dstConf, user)]);
    const r = compareStores(src, dst, mode);
    for (const [f, d] of Object.entries(r.folderDiffs)) console.log(`  ${f}: ${d}`);
    console.log(a.includes('--json') ? JSON.stringify(r) : r.summary);
    process.exitCode = r.ok ? 0 : 1;
  })();
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await cli();
