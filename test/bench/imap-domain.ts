// A 20-account domain from an IMAP-only source, through `cutover migrate --accounts` with a CSV:
// the wall time from the command to every mailbox done, and how many manual steps the admin had to
// confirm. Run: node --import tsx test/bench/imap-domain.ts [--accounts N] [--dest imap|postfixadmin]
import path from 'node:path';
import { parseArgs } from 'node:util';
import knexFactory from 'knex';
import { addDomain, addMailbox } from '../../server/devservers/dovecot.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { seed } from '../support/mail.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, switchDnsToNew, writePlatformConfig } from '../support/platforms.ts';
import { writeAccountsCsv, writeImapConfig } from '../plugins/imap/support.ts';

const { values } = parseArgs({ options: { accounts: { type: 'string', default: '20' }, dest: { type: 'string', default: 'postfixadmin' } } });
const count = Number(values.accounts);
const destKind = values.dest === 'imap' ? 'imap' : 'postfixadmin';
const accounts = Array.from({ length: count }, (_, i) => ({ address: `user${String(i + 1).padStart(2, '0')}@${DOMAIN}`, sourcePassword: `old-pw-${i}`, destPassword: `New-pw-${i}x` }));

const land = await startLandscape({ accounts: accounts.map((a) => ({ address: a.address, password: a.sourcePassword })), old: { specialUse: false } });
try {
  let messages = 0;
  for (const a of accounts) {
    const corpus = corpusFor(a.address).messages;
    messages += corpus.length;
    await seed(land.old, a.address, corpus);
  }
  if (destKind === 'imap') {
    await addDomain(land.new, DOMAIN);
    for (const a of accounts) await addMailbox(land.new, a.address, a.destPassword);
  }
  const dataDir = tempDataDir();
  const run = async (args: string[]) => {
    const result = await cutover(args, { dataDir, timeoutMs: 900_000 });
    if (result.code !== 0) throw new Error(`cutover ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result;
  };
  await run(['platform', 'add', 'old', '--plugin', 'imap', '--config', writeImapConfig(land.old, dataDir, 'old', { mailHost: OLD_MX })]);
  await run(destKind === 'imap'
    ? ['platform', 'add', 'new', '--plugin', 'imap', '--config', writeImapConfig(land.new, dataDir, 'new', { mailHost: NEW_MX })]
    : ['platform', 'add', 'new', '--plugin', 'postfixadmin', '--config', writePlatformConfig(land.new, dataDir, 'new', NEW_MX)]);
  const csv = writeAccountsCsv(dataDir, 'accounts.csv', destKind === 'imap' ? accounts : accounts.map(({ destPassword: _, ...a }) => a));

  const db = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dataDir, 'cutover.sqlite') }, useNullAsDefault: true });
  const started = Date.now();
  const migration = cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--accounts', csv, '--wait', '--json', '--overlap', '0',
    '--nameserver', `127.0.0.1:${land.dns.port}`, '--dns-recheck', '1', '--name', 'bench', '--concurrency', '4'], { dataDir, timeoutMs: 900_000 });
  let finished = false;
  void migration.then(() => { finished = true; }, () => { finished = true; });
  const confirmed: string[] = [];
  let dnsSwitched = false;
  // The admin: confirms what the workflow asks, and changes the zone once every mailbox waits for it (as at a DNS host).
  while (!finished) {
    await new Promise((r) => setTimeout(r, 500));
    const rows: Array<{ address: string; step: string; state: string }> = await db('mailboxes').select('address', 'step', 'state').catch(() => []);
    const asking = rows.filter((r) => r.state === 'needs_admin');
    const domainStep = asking.find((r) => r.step === 'attach-domain' || r.step === 'dns-cutover');
    if (domainStep) {
      await run(['confirm', '--project', 'bench', '--domain', DOMAIN, '--step', domainStep.step]);
      confirmed.push(`${domainStep.step} (domain)`);
      continue;
    }
    for (const r of asking) {
      await run(['confirm', r.address]);
      confirmed.push(`${r.step} ${r.address}`);
    }
    if (!dnsSwitched && rows.length === count && rows.every((r) => r.step === 'dns-cutover' && r.state === 'waiting')) {
      await switchDnsToNew(land.dns);
      dnsSwitched = true;
    }
  }
  const result = await migration;
  const seconds = (Date.now() - started) / 1000;
  await db.destroy();
  const report = JSON.parse(result.stdout);
  const done = report.mailboxes.filter((m: { state: string }) => m.state === 'done').length;
  const copied = report.mailboxes.reduce((n: number, m: { folders: Array<{ copied: number }> }) => n + m.folders.reduce((k, f) => k + f.copied, 0), 0);
  console.log(JSON.stringify({ accounts: count, source: 'imap', destination: destKind, exit: result.code, done, messages, copied, seconds: Number(seconds.toFixed(1)), manualConfirmations: confirmed.length, confirmed }));
} finally {
  await land.stop();
}
