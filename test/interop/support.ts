import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { ImapFlow } from 'imapflow';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import type { ImapServerInstance } from '../../server/devservers/imap-server.ts';
import { cutover, tempDataDir, type CliResult } from '../support/cli.ts';

/** Any server a test copies from or to, reached by a user's own login. */
export interface Account { name: string; host: string; port: number; user: string; password: string }

export const DOVECOT_NS = { prefix: '', delimiter: '/' };

/** One Dovecot with the given users (password: the user's local part reversed, never used elsewhere). */
export async function dovecotAccounts(users: string[]): Promise<{ inst: DovecotInstance; accounts: Account[] }> {
  const inst = await startDovecot();
  await addDomain(inst, 'example.test');
  const accounts: Account[] = [];
  for (const user of users) {
    const password = `pw-${user.split('@')[0]}`;
    await addMailbox(inst, user, password);
    accounts.push({ name: 'dovecot', host: inst.host, port: inst.port, user, password });
  }
  return { inst, accounts };
}

export async function serverAccounts(inst: ImapServerInstance, users: string[]): Promise<Account[]> {
  const accounts: Account[] = [];
  for (const user of users) {
    const password = `pw-${user.split('@')[0]}`;
    await inst.addUser(user, password);
    accounts.push({ name: inst.kind, host: inst.host, port: inst.port, user, password });
  }
  return accounts;
}

export async function login(account: Account): Promise<ImapFlow> {
  const client = new ImapFlow({ host: account.host, port: account.port, secure: false, logger: false, disableAutoIdle: true, auth: { user: account.user, pass: account.password } });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export interface InteropMessage { folder: 'INBOX' | 'Sent' | 'Drafts' | 'Trash' | 'Junk' | 'Archives' | 'Archives/2023'; raw: Buffer; flags: string[]; date: Date }

const crlf = (lines: string[], body = 'Body.\r\n') => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');

/**
 * What the issue found servers change on APPEND, each in one message: flags and keywords, 8-bit
 * header bytes, a missing Message-ID, an arrival date decades ahead, an exact duplicate pair.
 * Every message carries its own `X-Interop-Key`, which no server touches: lost and doubled
 * messages are counted by it.
 */
export function interopCorpus(): InteropMessage[] {
  const base = (key: string, extra: string[] = []) => [`From: Sender <sender@example.org>`, 'To: someone@example.test', `Subject: interop ${key}`, 'Date: Tue, 01 Oct 2024 10:00:00 +0200', `X-Interop-Key: ${key}`, ...extra];
  const d = (iso: string) => new Date(iso);
  const duplicate = crlf(base('dup', ['Message-ID: <dup@example.org>']));
  return [
    { folder: 'INBOX', raw: crlf(base('seen', ['Message-ID: <seen@example.org>'])), flags: ['\\Seen'], date: d('2024-01-02T03:04:05Z') },
    { folder: 'INBOX', raw: crlf(base('keywords', ['Message-ID: <kw@example.org>'])), flags: ['\\Flagged', '$Label1', 'Projet'], date: d('2024-02-03T04:05:06Z') },
    { folder: 'INBOX', raw: crlf(base('no-message-id')), flags: ['\\Answered'], date: d('2024-03-04T05:06:07Z') },
    { folder: 'INBOX', raw: crlf(base('8bit-header', ['Message-ID: <8bit@example.org>', 'X-Note: café crème, naïve'])), flags: ['\\Seen'], date: d('2024-04-05T06:07:08Z') },
    { folder: 'INBOX', raw: crlf(base('8bit-no-id', ['Comments: Grüße aus Köln'])), flags: [], date: d('2024-04-06T06:07:08Z') },
    { folder: 'INBOX', raw: crlf(base('far-future', ['Message-ID: <future@example.org>'])), flags: ['\\Seen'], date: d('2090-06-07T08:09:10Z') },
    { folder: 'INBOX', raw: duplicate, flags: ['\\Seen'], date: d('2024-05-06T07:08:09Z') },
    { folder: 'INBOX', raw: duplicate, flags: ['\\Seen'], date: d('2024-05-06T07:08:09Z') },
    { folder: 'Sent', raw: crlf(base('sent', ['Message-ID: <sent@example.org>'])), flags: ['\\Seen'], date: d('2023-06-07T08:09:10Z') },
    { folder: 'Drafts', raw: crlf(base('draft')), flags: ['\\Draft'], date: d('2023-07-08T09:10:11Z') },
    { folder: 'Trash', raw: crlf(base('trash', ['Message-ID: <trash@example.org>'])), flags: ['\\Seen', '\\Deleted'], date: d('2023-08-09T10:11:12Z') },
    { folder: 'Junk', raw: crlf(base('junk', ['Message-ID: <junk@example.org>'])), flags: [], date: d('2023-09-10T11:12:13Z') },
    { folder: 'Archives', raw: crlf(base('archived', ['Message-ID: <arch@example.org>'])), flags: ['\\Seen'], date: d('2022-08-09T10:11:12Z') },
    { folder: 'Archives/2023', raw: crlf(base('large', ['Message-ID: <large@example.org>']), `${'x'.repeat(70)}\r\n`.repeat(2000)), flags: ['\\Seen'], date: d('2023-09-10T11:12:13Z') },
  ];
}

/** The path a corpus folder has on a server with this namespace. */
export function folderOn(ns: { prefix: string; delimiter: string }, folder: string): string {
  return folder === 'INBOX' ? 'INBOX' : ns.prefix + folder.split('/').join(ns.delimiter);
}

/** Appends the corpus as the user, creating and subscribing its folders; what the server refuses (imap4d takes no keywords) is appended without the refused flags. */
export async function seedCorpus(account: Account, ns: { prefix: string; delimiter: string }): Promise<void> {
  const client = await login(account);
  try {
    // Whether the destination ends with INBOX subscribed too is one of the checks.
    await client.mailboxSubscribe('INBOX');
    const existing = new Set((await client.list()).map((f) => f.path));
    for (const m of interopCorpus()) {
      const folder = folderOn(ns, m.folder);
      if (!existing.has(folder)) {
        await client.mailboxCreate(folder);
        await client.mailboxSubscribe(folder);
        existing.add(folder);
      }
      try {
        await client.append(folder, m.raw, m.flags, m.date);
      } catch {
        await client.append(folder, m.raw, m.flags.filter((f) => f.startsWith('\\')), m.date);
      }
    }
  } finally {
    await client.logout();
  }
}

export interface Held { folder: string; uid: number; key: string; size: number; flags: string[]; internalDate: string; sha256: string }

/** Every message every selectable folder holds, with the key it was seeded with. */
export async function holdings(account: Account): Promise<Held[]> {
  const client = await login(account);
  const held: Held[] = [];
  try {
    for (const folder of await client.list()) {
      if (folder.flags.has('\\Noselect') || folder.flags.has('\\NonExistent')) continue;
      const lock = await client.getMailboxLock(folder.path, { readOnly: true });
      try {
        if (!client.mailbox || client.mailbox.exists === 0) continue;
        for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true, size: true, source: true })) {
          const key = /^X-Interop-Key: (.+?)\r?$/m.exec(m.source!.toString('latin1'))?.[1] ?? '?';
          held.push({ folder: folder.path, uid: m.uid, key, size: m.size ?? 0, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), internalDate: new Date(m.internalDate!).toISOString(), sha256: createHash('sha256').update(m.source!).digest('hex') });
        }
      } finally {
        lock.release();
      }
    }
  } finally {
    await client.logout();
  }
  return held;
}

/** How many copies of each key the account holds: lost and doubled messages show as a difference. */
export function keyCounts(held: Held[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const h of held) counts[h.key] = (counts[h.key] ?? 0) + 1;
  return counts;
}

export function missingAndDoubled(source: Held[], dest: Held[]): { missing: number; doubled: number } {
  const want = keyCounts(source);
  const got = keyCounts(dest);
  let missing = 0;
  let doubled = 0;
  for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const diff = (got[key] ?? 0) - (want[key] ?? 0);
    if (diff < 0) missing -= diff;
    else doubled += diff;
  }
  return { missing, doubled };
}

export interface CopyRun { result: CliResult; report?: CopyJson }
export interface CopyJson { seconds: number; copied: number; matched: number; failed: number; altered?: number; folders: Array<{ source: string; dest: string; copied: number; matched: number; altered?: Array<{ uid: number; changes: string[] }> }> }

/** `cutover copy` from one account to the other as an admin would run it; each side logs in as the user. */
export function copier(from: Account, to: Account) {
  const dir = tempDataDir();
  writeFileSync(path.join(dir, 'from'), from.password);
  writeFileSync(path.join(dir, 'to'), to.password);
  const state = path.join(dir, 'state.sqlite');
  const args = (stateFile: string | undefined) => [
    'copy', '--source', `imap://${encodeURIComponent(from.user)}@127.0.0.1:${from.port}`, '--source-password-file', path.join(dir, 'from'),
    '--dest', `imap://${encodeURIComponent(to.user)}@127.0.0.1:${to.port}`, '--dest-password-file', path.join(dir, 'to'), '--json',
    ...(stateFile ? ['--state', stateFile] : []),
  ];
  return {
    state,
    async run(opts: { state?: boolean; crashAt?: string; timeoutMs?: number } = {}): Promise<CopyRun> {
      const result = await cutover(args(opts.state === false ? undefined : state), { dataDir: dir, env: opts.crashAt ? { CUTOVER_CRASH_AT: opts.crashAt } : {}, timeoutMs: opts.timeoutMs ?? 60_000 });
      let report: CopyJson | undefined;
      try { report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as CopyJson; } catch { report = undefined; }
      return { result, report };
    },
    forgetState: () => rmSync(state, { force: true }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface PairFigures { pair: string; messages: number; missing: number; doubled: number; altered: number; addedByNoStateRerun: number }

/**
 * The copy between `a` and `b` as a user would run it, in the three ways the issue lists: a
 * clean run (every alteration reported), a run killed after its `killAfter`-th append then
 * resumed with --state, and a run without the state file over a finished copy (adds nothing).
 */
export async function exercisePair(from: Account, clean: Account, resumed: Account, killAfter: number): Promise<{ figures: PairFigures; cleanRun: CopyJson; source: Held[]; dest: Held[] }> {
  const source = await holdings(from);
  const first = copier(from, clean);
  const run = await first.run();
  if (run.result.code !== 0 || !run.report) throw new Error(`${from.name} → ${clean.name}: exit ${run.result.code}\n${run.result.stderr}`);
  const dest = await holdings(clean);
  first.forgetState();
  const again = await first.run();
  if (again.result.code !== 0 || !again.report) throw new Error(`no-state re-run: exit ${again.result.code}\n${again.result.stderr}`);
  const afterRerun = missingAndDoubled(source, await holdings(clean));

  const killed = copier(from, resumed);
  const crash = await killed.run({ crashAt: `copy:after-append#${killAfter}` });
  if (crash.result.signal !== 'SIGKILL') throw new Error(`the run was to be killed after append ${killAfter}: exit ${crash.result.code}\n${crash.result.stderr}`);
  const resume = await killed.run();
  if (resume.result.code !== 0) throw new Error(`resumed run: exit ${resume.result.code}\n${resume.result.stderr}`);
  const resumedCounts = missingAndDoubled(source, await holdings(resumed));
  killed.forgetState();
  const last = await killed.run();
  const final = missingAndDoubled(source, await holdings(resumed));
  first.cleanup();
  killed.cleanup();
  return {
    cleanRun: run.report, source, dest,
    figures: {
      pair: `${from.name} → ${clean.name}`, messages: source.length,
      missing: Math.max(missingAndDoubled(source, dest).missing, afterRerun.missing, resumedCounts.missing, final.missing),
      doubled: Math.max(missingAndDoubled(source, dest).doubled, afterRerun.doubled, resumedCounts.doubled, final.doubled),
      altered: run.report.altered ?? 0,
      addedByNoStateRerun: (again.report.copied) + (last.report?.copied ?? Number.NaN),
    },
  };
}

/** The alterations a clean run reported, by the corpus key of the source message. */
export function alteredByKey(report: CopyJson, source: Held[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const folder of report.folders) {
    for (const a of folder.altered ?? []) {
      const key = source.find((h) => h.folder === folder.source && h.uid === a.uid)?.key ?? `${folder.source} UID ${a.uid}`;
      out.set(key, [...(out.get(key) ?? []), ...a.changes]);
    }
  }
  return out;
}

/** The figures the issue asks for, one JSON line per pair on stderr (the test runner shows it). */
export function reportFigures(figures: PairFigures): void {
  process.stderr.write(`interop figures ${JSON.stringify(figures)}\n`);
}

interface LsubClient { exec(command: string, attributes: unknown[], options: { untagged: Record<string, (u: { attributes?: Array<{ value?: unknown }> }) => Promise<void>> }): Promise<{ next(): void }> }

/** The folders the server itself reports as subscribed (LSUB): imapflow's list() always says INBOX is. */
export async function subscribedFolders(account: Account): Promise<string[]> {
  const client = await login(account);
  try {
    const names: string[] = [];
    const response = await (client as unknown as LsubClient).exec('LSUB', [{ type: 'STRING', value: '' }, { type: 'STRING', value: '*' }], {
      untagged: { LSUB: async (u) => { names.push(String(u.attributes?.[2]?.value ?? '')); } },
    });
    response.next();
    return names.sort();
  } finally {
    await client.logout();
  }
}

/** Folder → the special-use attributes the server lists for it (RFC 6154), from the server's own answer. */
export async function specialUseAttributes(account: Account): Promise<Record<string, string>> {
  const client = await login(account);
  try {
    const out: Record<string, string> = {};
    for (const f of await client.list()) {
      const use = [...f.flags].find((flag) => ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged'].includes(flag));
      if (use) out[f.path] = use;
    }
    return out;
  } finally {
    await client.logout();
  }
}

/**
 * One test file's servers: the server under test and a Dovecot, started once for the file, each
 * with alice (the seeded source), bob (a clean copy's destination) and carol (the resumed copy's).
 */
export function interopFixture(start: () => Promise<ImapServerInstance>) {
  // The fourth account on each side starts empty: a destination of its own for a test's re-runs.
  const users = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test'];
  const fixture = { server: undefined as unknown as ImapServerInstance, onServer: [] as Account[], onDovecot: [] as Account[] };
  let dovecot: DovecotInstance | undefined;
  before(async () => {
    const [server, dv] = await Promise.all([start(), dovecotAccounts(users)]);
    fixture.server = server;
    dovecot = dv.inst;
    fixture.onDovecot = dv.accounts;
    fixture.onServer = await serverAccounts(server, users);
    await Promise.all([seedCorpus(fixture.onServer[0]!, server.namespace), seedCorpus(fixture.onDovecot[0]!, DOVECOT_NS)]);
  });
  after(async () => { await Promise.all([fixture.server?.stop(), dovecot?.stop()]); });
  return fixture;
}
