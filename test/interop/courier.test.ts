import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCourier } from '../../server/devservers/courier.ts';
import type { ImapServerInstance } from '../../server/devservers/imap-server.ts';
import type { DovecotInstance } from '../../server/devservers/dovecot.ts';
import { alteredByKey, dovecotAccounts, DOVECOT_NS, exercisePair, reportFigures, seedCorpus, serverAccounts, subscribedFolders, type Account } from './support.ts';

// Courier-IMAP 5: an "INBOX." namespace with '.' as delimiter, no LITERAL+ nor MULTIAPPEND (so
// one synchronising APPEND at a time), no LIST-EXTENDED nor LIST-STATUS, and it keeps what it is sent.
let server: ImapServerInstance;
let dovecot: DovecotInstance;
let onServer: Account[];
let onDovecot: Account[];
const users = ['alice@example.test', 'bob@example.test', 'carol@example.test'];

before(async () => {
  [server, { inst: dovecot, accounts: onDovecot }] = await Promise.all([startCourier(), dovecotAccounts(users)]);
  onServer = await serverAccounts(server, users);
  await Promise.all([seedCorpus(onServer[0]!, server.namespace), seedCorpus(onDovecot[0]!, DOVECOT_NS)]);
});
after(async () => { await Promise.all([server?.stop(), dovecot?.stop()]); });

test('Courier as the source: nothing lost or doubled, killed and resumed, or re-run without state', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(onServer[0]!, onDovecot[1]!, onDovecot[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  // Dovecot keeps no arrival date decades ahead: reported, not silently accepted.
  assert.match(alteredByKey(cleanRun, source).get('far-future')?.join('; ') ?? '', /arrival date 2090-06-07T08:09:10Z stored as/);
});

test('Courier as the destination: stored as sent, INBOX subscribed as on the source, a re-run without state adds nothing', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(onDovecot[0]!, onServer[1]!, onServer[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  assert.deepEqual([...alteredByKey(cleanRun, source)], []);
  assert.deepEqual(await subscribedFolders(onServer[1]!), ['INBOX', 'INBOX.Archives', 'INBOX.Archives.2023', 'INBOX.Drafts', 'INBOX.Junk', 'INBOX.Sent', 'INBOX.Trash']);
});
