// Deterministic, realistic Maildir++ corpus for the Dovecot benchmark pair (used by `npm run bench`).
//
//   node --import tsx test/bench/corpus.ts --maildir DIR [--count 5000 | --scale 4] [--seed 42]
//        [--owner UID:GID] [--manifest FILE.json]
//   node --import tsx test/bench/corpus.ts --maildir DIR --add N [--tag inc1] [--owner UID:GID]
//
// Layout: Dovecot Maildir++ (INBOX = DIR, folder "A/B" = DIR/.A.B, names in modified UTF-7),
// keywords via per-folder dovecot-keywords files, INTERNALDATE = file mtime, S=<size> in names,
// LF line endings (as Dovecot stores them). --count 5000 gives 5,099 messages / 439 MB in 15
// folders (one empty): ~0.2 % of 10-20 MB messages, ~10 % with 100 KB-2 MB attachments, 2 %
// without Message-ID, duplicate Message-IDs with different content, exact duplicates in one
// folder and the same message filed twice. The same seed gives the same bytes, flags,
// keywords, dates and file names on every run. --add N adds N new messages (70 % unseen in
// INBOX/new, 30 % in Sent); the messages depend on seed and tag only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeMailboxName } from '../../server/mail/wire/mutf7.ts';

export interface CorpusOptions {
  maildir: string;
  /** Number of planned messages (duplicates come on top). Default 5000. */
  count?: number;
  seed?: number;
  /** Incremental mode: add this many new messages to an existing corpus. */
  add?: number;
  /** Incremental mode: distinguishes successive additions (different messages per tag). */
  tag?: string;
  /** chown every created file and directory. */
  owner?: { uid: number; gid: number };
}

export interface CorpusStats {
  messages: number;
  bytes: number;
  perFolder: Record<string, number>;
  withAttachment: number;
  big: number;
  noMessageId: number;
  dupSameFolder: number;
  dupOtherFolder: number;
  dupIdDifferentContent: number;
  keywords: number;
  flagged: number;
  unseen: number;
  folders?: string[];
  mb: number;
}

type Profile = 'inbox' | 'sent' | 'drafts' | 'junk' | 'read';
type Folder = readonly [name: string, share: number, profile: Profile];

// name (IMAP, '/' separator), share of messages, default flag profile
export const FOLDERS: readonly Folder[] = [
  ['INBOX', 0.34, 'inbox'],
  ['Sent', 0.14, 'sent'],
  ['Drafts', 0.01, 'drafts'],
  ['Trash', 0.04, 'read'],
  ['Junk', 0.03, 'junk'],
  ['Archive', 0.03, 'read'],
  ['Archive/2023', 0.12, 'read'],
  ['Archive/2024', 0.12, 'read'],
  ['Projects', 0.02, 'inbox'],
  ['Projects/Alpha', 0.05, 'inbox'],
  ['Projects/Alpha/Specs', 0.03, 'read'],
  ['Entwürfe & Notizen', 0.02, 'drafts'],
  ['Reisen', 0.02, 'read'],
  ['Reisen/Ägypten 2019', 0.03, 'read'],
  ['Templates', 0.0, 'read'], // intentionally empty
];

const FIRST = ['Anna', 'Ben', 'Clara', 'David', 'Eva', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Karin', 'Lukas', 'Maria', 'Nils', 'Olga', 'Paul', 'Rita', 'Stefan', 'Tom', 'Ulla', 'José', 'Zoë', 'Jürgen', 'François', 'Søren', 'Łukasz', 'Chen', 'Priya', 'Ahmed', 'Yuki'];
const LAST = ['Müller', 'Schmidt', 'Meyer', 'Smith', 'Johnson', 'García', 'Rossi', 'Dubois', 'Novak', 'Kowalski', 'Andersen', 'Tanaka', 'Wang', 'Khan', 'Nguyen', 'Brown', 'Weber', 'Fischer', 'Becker', 'Hoffmann'];
const DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'corp.example', 'lists.example.org', 'newsletter.example.com', 'partner.example.de', 'uni-example.edu'];
const WORDS = ('the of and to in is for on that with as this be by are from at or have an it not we was will can all your has more our about which their if one new when up they out also there what been other some time than would into only its these may so use first any work make like over through project meeting report budget deadline review draft update please thanks regards attached invoice schedule team customer release server migration mailbox folder backup archive quarterly results proposal contract agenda minutes travel booking hotel flight confirmation ticket support issue resolved pending approval feedback Überblick Bestätigung Rechnung Termin Grüße straße').split(' ');
const SUBJ = ['Meeting notes', 'Quarterly report', 'Invoice', 'Re: Budget 2024', 'Project Alpha status', 'Your booking confirmation', 'Weekly newsletter', 'Fwd: contract draft', 'Server migration plan', 'Lunch?', 'Reminder: deadline', 'Ticket resolved', 'Urlaubsplanung', 'Rechnung Nr.', 'Überweisung bestätigt', 'Réunion de projet', 'Photos from the trip', 'Agenda for Monday', 'Security alert', 'Welcome!'];
const TZ = ['+0000', '+0100', '+0200', '-0500', '-0700', '+0530', '+0900', '-0300', '+1000'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ATT: readonly (readonly [string, string])[] = [['report.pdf', 'application/pdf'], ['photo.jpg', 'image/jpeg'], ['scan.png', 'image/png'], ['contract.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'], ['data.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'], ['archive.zip', 'application/zip'], ['Präsentation.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation']];
const T0 = Date.UTC(2015, 0, 1) / 1000;
const T1 = Date.UTC(2025, 5, 30) / 1000;

/** RFC 3501 modified UTF-7. */

function hashStr(s: string): number {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);
const enc2047 = (s: string) => (isAscii(s) ? s : `=?UTF-8?B?${Buffer.from(s).toString('base64')}?=`);
const b64lines = (buf: Buffer) => buf.toString('base64').replace(/.{76}/g, '$&\n').replace(/\n$/, '');
const md5 = (s: string) => crypto.createHash('md5').update(s).digest('hex');
const sha1 = (s: string) => crypto.createHash('sha1').update(s).digest('hex');

function wrap(text: string, width = 72): string {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? line + ' ' + w : w;
  }
  if (line) out.push(line);
  return out.join('\n');
}

/** Quoted-printable with LF line breaks. */
function qp(str: string): string {
  const out: string[] = [];
  for (const srcLine of str.split('\n')) {
    let line = '';
    for (const b of Buffer.from(srcLine)) {
      const t = (b >= 33 && b <= 126 && b !== 61) || b === 32 ? String.fromCharCode(b) : '=' + b.toString(16).toUpperCase().padStart(2, '0');
      if (line.length + t.length > 75) {
        out.push(line + '=');
        line = '';
      }
      line += t;
    }
    if (line.endsWith(' ')) line = line.slice(0, -1) + '=20';
    out.push(line);
  }
  return out.join('\n');
}

function rfc2822(epoch: number, tz: string): string {
  const sign = tz[0] === '-' ? -1 : 1;
  const off = sign * (parseInt(tz.slice(1, 3), 10) * 60 + parseInt(tz.slice(3), 10)) * 60;
  const d = new Date((epoch + off) * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${tz}`;
}

interface Built {
  msg: Buffer;
  epoch: number;
  withAtt: boolean;
  big: boolean;
}

interface Flags {
  sys: string[];
  kw: string[];
}

interface Person {
  name: string;
  addr: string;
}

/** Generates a full corpus, or adds `add` messages to one. Synchronous; ~10 s for 439 MB here. */
export function generateCorpus(opts: CorpusOptions): CorpusStats {
  const MAILDIR = opts.maildir;
  const COUNT = opts.count ?? 5000;
  const SEED = opts.seed ?? 42;
  const ADD = opts.add ?? 0;
  const TAG = opts.tag ?? 'inc';
  const owner = opts.owner;
  // The reference generator put the writer's pid here; a fixed value keeps file names reproducible.
  const PID_PART = ADD ? hashStr(TAG) % 100000 : 0;

  const rnd = mulberry32(ADD ? SEED * 7919 + hashStr(TAG) : SEED);
  const ri = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  const pick = <T>(arr: readonly T[]): T => arr[Math.floor(rnd() * arr.length)] as T;
  const chance = (p: number) => rnd() < p;
  const logUniform = (lo: number, hi: number) => Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo)));
  // deterministic incompressible bytes (AES-CTR keystream)
  const randomBytes = (n: number, key: string): Buffer => {
    const k = crypto.createHash('sha256').update(`${SEED}:${key}`).digest();
    const c = crypto.createCipheriv('aes-128-ctr', k.subarray(0, 16), k.subarray(16, 32));
    return c.update(Buffer.alloc(n));
  };

  const chownIf = (p: string) => {
    if (owner) fs.chownSync(p, owner.uid, owner.gid);
  };
  const mkdirOwned = (dir: string) => {
    if (fs.existsSync(dir)) return;
    mkdirOwned(path.dirname(dir));
    fs.mkdirSync(dir);
    chownIf(dir);
  };
  const folderDir = (name: string) => (name === 'INBOX' ? MAILDIR : path.join(MAILDIR, '.' + encodeMailboxName(name).split('/').join('.')));

  const person = (): Person => {
    const f = pick(FIRST);
    const l = pick(LAST);
    const local = (f + '.' + l).normalize('NFD').replace(/[^\x00-\x7f]/g, '').toLowerCase().replace(/[^a-z.]/g, '');
    return { name: `${f} ${l}`, addr: `${local}@${pick(DOMAINS)}` };
  };
  const fmtAddr = (p: Person) => (isAscii(p.name) ? `"${p.name}" <${p.addr}>` : `${enc2047(p.name)} <${p.addr}>`);
  const sentence = () => {
    const n = ri(6, 18);
    const w: string[] = [];
    for (let i = 0; i < n; i++) w.push(pick(WORDS));
    const s = w.join(' ');
    return s.charAt(0).toUpperCase() + s.slice(1) + pick(['.', '.', '.', '?', '!']);
  };
  const paragraphs = (targetBytes: number) => {
    const paras: string[] = [];
    let n = 0;
    while (n < targetBytes) {
      const k = ri(2, 6);
      const p: string[] = [];
      for (let i = 0; i < k; i++) p.push(sentence());
      const t = p.join(' ');
      paras.push(t);
      n += Buffer.byteLength(t) + 2;
    }
    return paras;
  };
  const textPart = (paras: string[], kind: 'plain' | 'html'): [string, string] => {
    const plain = paras.map((p) => wrap(p)).join('\n\n') + '\n\n-- \nSent from my benchmark\n';
    if (kind === 'html') {
      const html =
        `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><style>body{font-family:Arial,sans-serif;font-size:14px}</style></head>\n<body>\n` +
        paras.map((p) => `<p style="margin:0 0 12px 0">${wrap(p, 70)}</p>`).join('\n') +
        '\n</body></html>\n';
      return [`Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable`, qp(html)];
    }
    if (isAscii(plain.replace(/\n/g, ' ')) && chance(0.7)) return [`Content-Type: text/plain; charset=us-ascii; format=flowed\nContent-Transfer-Encoding: 7bit`, plain];
    if (chance(0.5)) return [`Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit`, plain];
    return [`Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable`, qp(plain)];
  };
  const folderFor = (): Folder => {
    const x = rnd();
    let acc = 0;
    for (const f of FOLDERS) {
      acc += f[1];
      if (x < acc) return f;
    }
    return FOLDERS[0] as Folder;
  };
  const flagsFor = (profile: Profile): Flags => {
    const f = new Set<string>();
    const kw = new Set<string>();
    switch (profile) {
      case 'inbox':
        if (chance(0.82)) f.add('S');
        if (chance(0.06)) f.add('F');
        if (chance(0.18)) f.add('R');
        if (chance(0.04)) kw.add('$Forwarded');
        if (chance(0.1)) kw.add('NonJunk');
        if (chance(0.03)) kw.add('Work');
        if (chance(0.02)) kw.add('$label1');
        break;
      case 'sent':
        f.add('S');
        if (chance(0.02)) f.add('F');
        if (chance(0.01)) kw.add('$MDNSent');
        break;
      case 'drafts':
        f.add('D');
        if (chance(0.5)) f.add('S');
        break;
      case 'junk':
        if (chance(0.5)) f.add('S');
        kw.add('$Junk');
        break;
      default:
        f.add('S');
        if (chance(0.04)) f.add('F');
        if (chance(0.12)) f.add('R');
        if (chance(0.05)) kw.add('$Forwarded');
        if (chance(0.02)) kw.add('Work');
    }
    return { sys: [...f].sort(), kw: [...kw].sort() };
  };

  const BIG_COUNT = ADD ? 0 : Math.max(3, Math.round(COUNT * 0.002));
  const bigSet = new Set<number>();
  while (bigSet.size < BIG_COUNT) bigSet.add(ri(0, COUNT - 1));

  const buildMessage = (i: number, folderName: string, o: { epoch?: number; messageId?: string | null; big?: boolean } = {}): Built => {
    const from = person();
    const to = person();
    const sent = folderName === 'Sent';
    const epoch = o.epoch ?? ri(T0, T1);
    const tz = pick(TZ);
    let subj = pick(SUBJ) + (chance(0.5) ? ` #${ri(100, 99999)}` : '');
    if (chance(0.15)) subj = 'Re: ' + subj;
    const hdr: string[] = [];
    const hops = sent ? 0 : ri(1, 3);
    for (let h = 0; h < hops; h++) {
      hdr.push(
        `Received: from mx${ri(1, 9)}.${pick(DOMAINS)} (mx${ri(1, 9)}.${pick(DOMAINS)} [192.0.2.${ri(1, 254)}])\n\tby mail.example.com (Postfix) with ESMTPS id ${md5(`${SEED}:${i}:${h}:${TAG}`).slice(0, 10).toUpperCase()}\n\tfor <${to.addr}>; ${rfc2822(epoch + 60 * (hops - h), '+0000')}`,
      );
    }
    hdr.push(`Return-Path: <${from.addr}>`);
    hdr.push(`From: ${fmtAddr(sent ? { name: 'Bench User', addr: 'bench@example.com' } : from)}`);
    hdr.push(`To: ${fmtAddr(sent ? to : { name: 'Bench User', addr: 'bench@example.com' })}`);
    if (chance(0.2)) hdr.push(`Cc: ${fmtAddr(person())}, ${fmtAddr(person())}`);
    hdr.push(`Subject: ${enc2047(subj)}`);
    hdr.push(`Date: ${rfc2822(epoch, tz)}`);
    if (o.messageId !== null) hdr.push(`Message-ID: ${o.messageId ?? `<${sha1(`${SEED}:${TAG}:${i}`).slice(0, 20)}.${i}@${pick(DOMAINS)}>`}`);
    if (subj.startsWith('Re:')) hdr.push(`In-Reply-To: <${sha1(`r${i}`).slice(0, 16)}@example.org>`);
    hdr.push('MIME-Version: 1.0');
    if (chance(0.3)) hdr.push(`X-Mailer: ${pick(['Microsoft Outlook 16.0', 'Apple Mail (2.3654)', 'Mozilla Thunderbird 115.0', 'Roundcube Webmail/1.6'])}`);
    if (!sent && chance(0.4)) {
      hdr.push(
        `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${pick(DOMAINS)}; s=s1;\n\th=from:to:subject:date:message-id; bh=${randomBytes(32, `bh${i}${TAG}`).toString('base64')};\n\tb=${b64lines(randomBytes(256, `dk${i}${TAG}`)).replace(/\n/g, '\n\t')}`,
      );
    }

    // body plan: most 2-20 KB text/html; ~10% with attachment 100 KB-2 MB; BIG ones 10-20 MB
    const big = !!o.big;
    const withAtt = big || chance(0.1);
    const textTarget = chance(0.05) ? logUniform(8000, 60000) : logUniform(600, 9000);
    const paras = paragraphs(textTarget);
    const style = rnd();
    let body: string;
    const boundary = (n: string) => `----=_Part_${n}_${md5(`${SEED}:${TAG}:${i}:${n}`).slice(0, 12)}`;
    const alt = (): [string, string] => {
      const b = boundary('alt');
      const [h1, p1] = textPart(paras, 'plain');
      const [h2, p2] = textPart(paras, 'html');
      return [`Content-Type: multipart/alternative; boundary="${b}"`, `--${b}\n${h1}\n\n${p1}\n--${b}\n${h2}\n\n${p2}\n--${b}--\n`];
    };
    let top: [string, string];
    if (style < 0.45) top = textPart(paras, 'plain');
    else if (style < 0.92) top = alt();
    else top = textPart(paras, 'html');
    if (withAtt) {
      const b = boundary('mix');
      const nAtt = big ? 1 : chance(0.8) ? 1 : ri(2, 3);
      let parts = `This is a multi-part message in MIME format.\n\n--${b}\n${top[0]}\n\n${top[1]}\n`;
      for (let a = 0; a < nAtt; a++) {
        const raw = Math.round((big ? logUniform(10e6, 20e6) / 1.37 : logUniform(100e3, 2e6) / 1.37) / nAtt);
        const [fname, ctype] = pick(ATT);
        const fn = isAscii(fname) ? `"${fname}"` : `"${enc2047(fname)}"`;
        parts += `--${b}\nContent-Type: ${ctype}; name=${fn}\nContent-Disposition: attachment; filename=${fn}\nContent-Transfer-Encoding: base64\n\n${b64lines(randomBytes(raw, `att${i}:${a}:${TAG}`))}\n`;
      }
      parts += `--${b}--\n`;
      hdr.push(`Content-Type: multipart/mixed; boundary="${b}"`);
      body = parts;
    } else {
      hdr.push(top[0]);
      body = top[1];
    }
    return { msg: Buffer.from(hdr.join('\n') + '\n\n' + body), epoch, withAtt, big };
  };

  // ---------- write ----------
  const kwMaps = new Map<string, Map<string, number>>(); // folder dir -> keyword -> index
  const keywordLetters = (dir: string, kws: string[]) => {
    let m = kwMaps.get(dir);
    if (!m) {
      m = new Map();
      const f = path.join(dir, 'dovecot-keywords');
      if (fs.existsSync(f)) {
        for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
          const [n, k] = line.split(' ');
          if (k) m.set(k, Number(n));
        }
      }
      kwMaps.set(dir, m);
    }
    const map = m;
    return kws
      .map((k) => {
        if (!map.has(k)) map.set(k, map.size);
        return String.fromCharCode(97 + (map.get(k) ?? 0));
      })
      .sort()
      .join('');
  };
  const ensured = new Set<string>();
  const ensureFolder = (name: string) => {
    const d = folderDir(name);
    if (ensured.has(d)) return d;
    for (const s of ['cur', 'new', 'tmp']) mkdirOwned(path.join(d, s));
    if (name !== 'INBOX' && !fs.existsSync(path.join(d, 'maildirfolder'))) {
      fs.writeFileSync(path.join(d, 'maildirfolder'), '');
      chownIf(path.join(d, 'maildirfolder'));
    }
    ensured.add(d);
    return d;
  };
  let seq = 0;
  const stats: CorpusStats = { messages: 0, bytes: 0, perFolder: {}, withAttachment: 0, big: 0, noMessageId: 0, dupSameFolder: 0, dupOtherFolder: 0, dupIdDifferentContent: 0, keywords: 0, flagged: 0, unseen: 0, mb: 0 };
  const store = (folderName: string, built: Built, flags: Flags, inNew = false) => {
    const d = ensureFolder(folderName);
    const recv = built.epoch + ri(5, 600);
    const base = `${recv}.M${ri(0, 999999)}P${PID_PART}Q${seq++}.benchhost,S=${built.msg.length}`;
    const file = inNew ? path.join(d, 'new', base) : path.join(d, 'cur', `${base}:2,${flags.sys.join('')}${keywordLetters(d, flags.kw)}`);
    fs.writeFileSync(file, built.msg);
    fs.utimesSync(file, recv, recv);
    chownIf(file);
    stats.messages++;
    stats.bytes += built.msg.length;
    stats.perFolder[folderName] = (stats.perFolder[folderName] ?? 0) + 1;
    if (built.withAtt) stats.withAttachment++;
    if (built.big) stats.big++;
    if (flags.kw.length) stats.keywords++;
    if (flags.sys.includes('F')) stats.flagged++;
    if (inNew || !flags.sys.includes('S')) stats.unseen++;
  };

  mkdirOwned(MAILDIR);
  if (!ADD) {
    for (const [name] of FOLDERS) {
      ensureFolder(name);
      stats.perFolder[name] = 0;
    }
  }
  const n = ADD || COUNT;
  const produced: { id: string; built: Built; fname: string }[] = []; // small messages for duplicates
  for (let i = 0; i < n; i++) {
    const [fname, , profile] = ADD ? (chance(0.7) ? FOLDERS[0] : FOLDERS[1]) as Folder : folderFor();
    const noId = !ADD && chance(0.02);
    let built: Built;
    if (!ADD && produced.length > 20 && chance(0.005)) {
      // same Message-ID, different content
      const prev = pick(produced);
      built = buildMessage(i, fname, { messageId: prev.id });
      stats.dupIdDifferentContent++;
    } else {
      built = buildMessage(i, fname, { big: !ADD && bigSet.has(i), messageId: noId ? null : undefined });
      if (noId) stats.noMessageId++;
    }
    const flags = flagsFor(profile);
    store(fname, built, flags, ADD > 0 && fname === 'INBOX');
    const idm = built.msg.subarray(0, 8192).toString().match(/^Message-ID: (.*)$/m);
    if (!built.withAtt && idm && produced.length < 2000) produced.push({ id: idm[1] ?? '', built, fname });
    if (!ADD && produced.length > 20 && chance(0.01)) {
      // exact duplicate in the same folder (double delivery)
      const candidates = produced.filter((p) => p.fname === fname).slice(-50);
      const prev = candidates[Math.floor(rnd() * candidates.length)]; // draws even when empty, as the reference does
      if (prev) {
        store(fname, prev.built, flagsFor(profile));
        stats.dupSameFolder++;
      }
    }
    if (!ADD && produced.length > 20 && chance(0.01)) {
      // the same message filed in another folder too
      const prev = pick(produced);
      const other = pick(FOLDERS.filter((f) => f[1] > 0 && f[0] !== prev.fname));
      store(other[0], prev.built, flagsFor(other[2]));
      stats.dupOtherFolder++;
    }
  }
  for (const [dir, m] of kwMaps) {
    const lines = [...m.entries()].sort((a, b) => a[1] - b[1]).map(([k, v]) => `${v} ${k}`);
    const f = path.join(dir, 'dovecot-keywords');
    fs.writeFileSync(f, lines.join('\n') + '\n');
    chownIf(f);
  }
  if (!ADD) stats.folders = FOLDERS.map((f) => f[0]);
  stats.mb = +(stats.bytes / 1e6).toFixed(1);
  return stats;
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    out[a.slice(2)] = next !== undefined && !next.startsWith('--') ? next : 'true';
  }
  return out;
}

function cli(): void {
  const args = parseArgs(process.argv.slice(2));
  const die = (m: string): never => {
    console.error(`corpus: ${m}`);
    process.exit(2);
  };
  const int = (name: string, v: string) => {
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n : die(`--${name} must be a positive integer, got ${v}`);
  };
  const maildir = args.maildir ?? die('usage: corpus.ts --maildir DIR [--count N | --scale K] [--seed S] [--owner UID:GID] [--manifest F] | --add N [--tag T]');
  let count = args.count ? int('count', args.count) : 5000;
  if (args.scale) count = Math.round(5000 * Number(args.scale));
  let owner: CorpusOptions['owner'];
  if (args.owner) {
    const [uid, gid] = args.owner.split(':').map(Number);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) die('--owner must be UID:GID');
    owner = { uid: uid as number, gid: gid as number };
  }
  const add = args.add ? int('add', args.add) : 0;
  const stats = generateCorpus({ maildir, count, seed: args.seed ? Number(args.seed) : 42, add, tag: args.tag, owner });
  if (args.manifest) fs.writeFileSync(args.manifest, JSON.stringify(stats, null, 2) + '\n');
  console.log(`${add ? 'added' : 'generated'} ${stats.messages} messages, ${stats.bytes} bytes (${stats.mb} MB) in ${maildir}`);
  console.log(JSON.stringify(stats));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) cli();
