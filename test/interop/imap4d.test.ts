import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startImap4d } from '../../server/devservers/imap4d.ts';
import { alteredByKey, exercisePair, interopFixture, reportFigures } from './support.ts';

// GNU Mailutils imap4d 3.15: no UIDPLUS, no MULTIAPPEND (LITERAL+ only), no keywords, and APPEND's
// flags and date are ignored (the date becomes the Date: header's). Its AUTHENTICATE answer ends
// in a bare LF, which hung the pipelined appender for 5 minutes.
const fixture = interopFixture(startImap4d);

test('imap4d as the source: nothing lost or doubled, killed and resumed, or re-run without state', { timeout: 120_000 }, async () => {
  const { figures } = await exercisePair(fixture.onServer[0]!, fixture.onDovecot[1]!, fixture.onDovecot[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
});

test('imap4d as the destination: flags it ignored are set with STORE, every replaced date is reported, nothing doubled', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source, dest } = await exercisePair(fixture.onDovecot[0]!, fixture.onServer[1]!, fixture.onServer[2]!, 5);
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
