import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCyrus } from '../../server/devservers/cyrus.ts';
import { alteredByKey, exercisePair, interopFixture, reportFigures, specialUseAttributes, subscribedFolders } from './support.ts';

// Cyrus IMAP 3.6 with Debian's defaults: 8-bit header bytes are stored as 'X' (munge8bit), which
// changed the fingerprint and doubled those messages on a re-run without state.
const fixture = interopFixture(startCyrus);

test('Cyrus as the source: nothing lost or doubled, killed and resumed, or re-run without state', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(fixture.onServer[0]!, fixture.onDovecot[1]!, fixture.onDovecot[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  // Dovecot keeps no arrival date decades ahead: reported, not silently accepted.
  assert.match(alteredByKey(cleanRun, source).get('far-future')?.join('; ') ?? '', /arrival date 2090-06-07T08:09:10Z stored as/);
});

test('Cyrus as the destination: rewritten 8-bit headers are reported, and a re-run without state adds nothing', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(fixture.onDovecot[0]!, fixture.onServer[1]!, fixture.onServer[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  const altered = alteredByKey(cleanRun, source);
  assert.deepEqual([...altered.keys()].sort(), ['8bit-header', '8bit-no-id']);
  assert.match(altered.get('8bit-header')!.join('; '), /header rewritten/);
  // Cyrus offers CREATE-SPECIAL-USE: the folders the copy created carry their use; INBOX's subscription came along.
  assert.deepEqual(await specialUseAttributes(fixture.onServer[1]!), { Archives: '\\Archive', Drafts: '\\Drafts', Junk: '\\Junk', Sent: '\\Sent', Trash: '\\Trash' });
  assert.ok((await subscribedFolders(fixture.onServer[1]!)).includes('INBOX'));
});
