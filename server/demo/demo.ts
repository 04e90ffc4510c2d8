import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { insertPlatform, listPlatforms } from '../db/repos/platforms.ts';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../devservers/dovecot.ts';
import { sendUpdate, startKnot } from '../devservers/knot.ts';
import { appendMessages } from '../devservers/seed.ts';
import { countUsers, insertUser, userByName } from '../db/repos/users.ts';
import { CutoverError } from '../errors.ts';
import { generatePassword } from '../services/passwords.ts';
import { hashPassword } from '../web/passwords.ts';
import { serveForever } from '../main.ts';
import { EXIT, parsePositiveInt, type Io } from '../cli/output.ts';
import { demoMailbox } from './corpus.ts';

const DOMAIN = 'example.test';
const ACCOUNTS = ['alice', 'bob', 'carol'];
// The platforms' hosts live in the demo zone itself (one Knot serves one zone), each with an
// address, an SPF record and a DMARC policy, so that after the switch every check is green, as a
// real migration ends.
const OLD_MX = `mx.old.${DOMAIN}`;
const NEW_MX = `mx.new.${DOMAIN}`;
const OLD_SPF = `spf.old.${DOMAIN}`;
const NEW_SPF = `spf.new.${DOMAIN}`;
const ZONE_RECORDS = [
  `@ IN MX 10 ${OLD_MX}.`, `@ IN TXT "v=spf1 include:${OLD_SPF} -all"`,
  'mx.old IN A 127.0.0.1', 'mx.new IN A 127.0.0.1',
  'spf.old IN TXT "v=spf1 ip4:127.0.0.1 -all"', 'spf.new IN TXT "v=spf1 ip4:127.0.0.1 -all"',
  `_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@${DOMAIN}"`,
];

interface DemoState { dnsPort: number; keyFile: string; zone: string }

function platformConfig(inst: DovecotInstance, mailHost: string, spfInclude: string, passwordFile: string) {
  return {
    database: { client: 'sqlite3' as const, filename: inst.dbPath },
    imap: { host: inst.host, port: inst.port, security: 'none' as const, tlsVerify: true, allowPlaintext: false },
    masterUser: { user: inst.masterUser, separator: '*', passwordFile },
    mailHost,
    expectedDns: { mx: [{ priority: 10, exchange: mailHost }], spfIncludes: [spfInclude] },
    relayTable: 'cutover_domain_relay',
  };
}

// The demo owns the platforms "old" and "new" it registered itself (listed in demo/owned.json); it
// refreshes their configs on every start, and refuses to touch same-named platforms it did not create.
async function registerPlatform(app: AppContext, demoDir: string, name: string, config: unknown): Promise<void> {
  const ownedFile = path.join(demoDir, 'owned.json');
  const owned: string[] = existsSync(ownedFile) ? JSON.parse(readFileSync(ownedFile, 'utf8')) : [];
  const existing = (await listPlatforms(app.db)).find((p) => p.name === name);
  if (existing && !owned.includes(name)) throw new CutoverError('INPUT_INVALID', { detail: `a platform named "${name}" exists and was not created by the demo; use another CUTOVER_DATA_DIR for the demo` });
  if (existing) await app.db('platforms').where({ id: existing.id }).update({ config_sealed: app.box.seal(JSON.stringify(config)) });
  else await insertPlatform(app.db, app.box, name, 'postfixadmin', config);
  writeFileSync(ownedFile, JSON.stringify([...new Set([...owned, name])]));
}

// A newcomer should reach the panel without a set-up step: the demo makes one admin, once, in a
// data directory that has none, and keeps the password in a 0600 file next to the demo state.
async function demoAdmin(app: AppContext, demoDir: string): Promise<{ name: string; password: string } | undefined> {
  const file = path.join(demoDir, 'admin.pass');
  if (existsSync(file) && await userByName(app.db, 'demo')) return { name: 'demo', password: readFileSync(file, 'utf8').trim() };
  if ((await countUsers(app.db)) > 0) return undefined;
  const password = generatePassword();
  await insertUser(app.db, 'demo', await hashPassword(password));
  writeFileSync(file, password, { mode: 0o600 });
  return { name: 'demo', password };
}

async function switchDns(app: AppContext, io: Io): Promise<number> {
  const stateFile = path.join(app.config.dataDir, 'demo', 'state.json');
  if (!existsSync(stateFile)) throw new CutoverError('INPUT_INVALID', { detail: 'no demo is running here (start one with npm run demo)' });
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState;
  await sendUpdate(state.keyFile, state.dnsPort, state.zone, [
    `del ${state.zone}. MX`, `del ${state.zone}. TXT`,
    `add ${state.zone}. 300 MX 10 ${NEW_MX}.`, `add ${state.zone}. 300 TXT "v=spf1 include:${NEW_SPF} -all"`,
  ]);
  io.out(`${state.zone}: MX now ${NEW_MX}, SPF includes ${NEW_SPF} (RFC 2136 update to the demo zone)`);
  return EXIT.ok;
}

export async function demoCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { port: { type: 'string' }, messages: { type: 'string' } } });
  if (positionals[0] === 'switch-dns') return switchDns(app, io);
  const port = parsePositiveInt(values.port, '--port') ?? 8080;
  const perAccount = parsePositiveInt(values.messages, '--messages') ?? 300;
  const demoDir = path.join(app.config.dataDir, 'demo');
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });

  io.out('starting two Dovecot hosts and a DNS zone on 127.0.0.1 …');
  const [oldHost, newHost, dns] = await Promise.all([
    startDovecot({ specialUse: false }), startDovecot(),
    startKnot({ zone: DOMAIN, records: ZONE_RECORDS }),
  ]);
  const stopAll = async () => { await Promise.allSettled([oldHost.stop(), newHost.stop(), dns.stop()]); };
  try {
    await addDomain(oldHost, DOMAIN);
    let total = 0;
    for (const local of ACCOUNTS) {
      const address = `${local}@${DOMAIN}`;
      await addMailbox(oldHost, address, `${local}-password`);
      const messages = demoMailbox(local, perAccount);
      total += messages.length;
      await appendMessages(oldHost, address, messages);
    }
    for (const [name, inst, mx, spf] of [['old', oldHost, OLD_MX, OLD_SPF], ['new', newHost, NEW_MX, NEW_SPF]] as const) {
      const passwordFile = path.join(demoDir, `${name}-master.pass`);
      writeFileSync(passwordFile, inst.masterPassword, { mode: 0o600 });
      await registerPlatform(app, demoDir, name, platformConfig(inst, mx, spf, passwordFile));
    }
    const login = await demoAdmin(app, demoDir);
    writeFileSync(path.join(demoDir, 'state.json'), JSON.stringify({ dnsPort: dns.port, keyFile: dns.keyFile, zone: DOMAIN } satisfies DemoState));

    io.out(`old platform: Dovecot 127.0.0.1:${oldHost.port}, ${ACCOUNTS.length} accounts of ${DOMAIN}, ${total} messages (French folder names, no SPECIAL-USE)`);
    io.out(`new platform: Dovecot 127.0.0.1:${newHost.port}, empty`);
    io.out(`DNS: ${DOMAIN} on Knot 127.0.0.1:${dns.port}, MX still ${OLD_MX}`);
    io.out('');
    io.out('In another terminal, run a real migration of the whole domain:');
    io.out(`  npx cutover migrate --from old --to new --domain ${DOMAIN} --nameserver 127.0.0.1:${dns.port} --overlap 0 --dns-recheck 5 --wait`);
    io.out('It waits at dns-cutover until the MX and SPF of the domain point to the new platform. Change them as you would at your DNS host:');
    io.out('  npx cutover demo switch-dns');
    io.out(`(or confirm by hand: npx cutover confirm --project "<project name>" --domain ${DOMAIN})`);
    io.out(login ? `Panel login: ${login.name} / ${login.password} (a demo admin; its password is also in ${path.join(demoDir, 'admin.pass')})` : 'Panel login: the admin accounts of this data directory.');
    io.out('Ctrl-C stops the demo and its servers.');
    return await serveForever(app, port, io, stopAll, { worker: false });
  } catch (err) {
    await stopAll();
    throw err;
  }
}
