import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startImap4d } from '../../server/devservers/imap4d.ts';
import type { ImapServerInstance } from '../../server/devservers/imap-server.ts';
import type { DovecotInstance } from '../../server/devservers/dovecot.ts';
import { alteredByKey, dovecotAccounts, DOVECOT_NS, exercisePair, holdings, reportFigures, seedCorpus, serverAccounts, type Account } from './support.ts';

// GNU Mailutils imap4d 3.15: no UIDPLUS, no MULTIAPPEND (LITERAL+ only), no keywords, and APPEND's
// flags and date are ignored (the date becomes the Date: header's). Its AUTHENTICATE answer ends
// in a bare LF, which hung the pipelined appender for 5 minutes.
let server: ImapServerInstance;
let dovecot: DovecotInstance;
let onServer: Account[];
let onDovecot: Account[];
const users = ['alice@example.test', 'bob@example.test', 'carol@example.test'];

before(async () => {
  [server, { inst: dovecot, accounts: onDovecot }] = await Promise.all([startImap4d(), dovecotAccounts(users)]);
  onServer = await serverAccounts(server, users);
  await Promise.all([seedCorpus(onServer[0]!, server.namespace), seedCorpus(onDovecot[0]!, DOVECOT_NS)]);
});
after(async () => { await Promise.all([server?.stop(), dovecot?.stop()]); });

test('imap4d as the source: nothing lost or doubled, killed and resumed, or re-run without state', { timeout: 120_000 }, async () => {
  const { figures } = await exercisePair(onServer[0]!, onDovecot[1]!, onDovecot[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
});

test('imap4d as the destination: flags it ignored are set with STORE, every replaced date is reported, nothing doubled', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source, dest } = await exercisePair(onDovecot[0]!, onServer[1]!, onServer[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  const altered = alteredByKey(cleanRun, source);
  // Every message's date became its Date: header's, so every message is reported.
  assert.equal(altered.size, new Set(source.map((h) => h.key)).size, JSON.stringify([...altered]));
  assert.match(altered.get('no-message-id')!.join('; '), /arrival date 2024-03-04T05:06:07Z stored as 2024-10-01T08:00:00Z/);
  assert.match(altered.get('seen')!.join('; '), /flags \\Seen lost on APPEND; set right afterwards with STORE/);
  // System flags are right on the destination after the STORE; keywords are not kept by imap4d at all.
  const system = (flags: string[]) => flags.filter((f) => f.startsWith('\\')).join(' ');
  for (const h of source) assert.equal(system(dest.find((d) => d.key === h.key)!.flags), system(h.flags), h.key);
});
