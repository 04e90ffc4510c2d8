import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCyrus } from '../../server/devservers/cyrus.ts';
import type { ImapServerInstance } from '../../server/devservers/imap-server.ts';
import type { DovecotInstance } from '../../server/devservers/dovecot.ts';
import { alteredByKey, dovecotAccounts, DOVECOT_NS, exercisePair, reportFigures, seedCorpus, serverAccounts, specialUseAttributes, subscribedFolders, type Account } from './support.ts';

// Cyrus IMAP 3.6 with Debian's defaults: 8-bit header bytes are stored as 'X' (munge8bit), which
// changed the fingerprint and doubled those messages on a re-run without state.
let server: ImapServerInstance;
let dovecot: DovecotInstance;
let onServer: Account[];
let onDovecot: Account[];
const users = ['alice@example.test', 'bob@example.test', 'carol@example.test'];

before(async () => {
  [server, { inst: dovecot, accounts: onDovecot }] = await Promise.all([startCyrus(), dovecotAccounts(users)]);
  onServer = await serverAccounts(server, users);
  await Promise.all([seedCorpus(onServer[0]!, server.namespace), seedCorpus(onDovecot[0]!, DOVECOT_NS)]);
});
after(async () => { await Promise.all([server?.stop(), dovecot?.stop()]); });

test('Cyrus as the source: nothing lost or doubled, killed and resumed, or re-run without state', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(onServer[0]!, onDovecot[1]!, onDovecot[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  // Dovecot keeps no arrival date decades ahead: reported, not silently accepted.
  assert.match(alteredByKey(cleanRun, source).get('far-future')?.join('; ') ?? '', /arrival date 2090-06-07T08:09:10Z stored as/);
});

test('Cyrus as the destination: rewritten 8-bit headers are reported, and a re-run without state adds nothing', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(onDovecot[0]!, onServer[1]!, onServer[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  const altered = alteredByKey(cleanRun, source);
  assert.deepEqual([...altered.keys()].sort(), ['8bit-header', '8bit-no-id']);
  assert.match(altered.get('8bit-header')!.join('; '), /header rewritten/);
  // Cyrus offers CREATE-SPECIAL-USE: the folders the copy created carry their use; INBOX's subscription came along.
  assert.deepEqual(await specialUseAttributes(onServer[1]!), { Archives: '\\Archive', Drafts: '\\Drafts', Junk: '\\Junk', Sent: '\\Sent', Trash: '\\Trash' });
  assert.ok((await subscribedFolders(onServer[1]!)).includes('INBOX'));
});
