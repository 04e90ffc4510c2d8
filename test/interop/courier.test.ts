import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCourier } from '../../server/devservers/courier.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { alteredByKey, copier, exercisePair, interopFixture, reportFigures, subscribedFolders } from './support.ts';

// Courier-IMAP 5: an "INBOX." namespace with '.' as delimiter, no LITERAL+ nor MULTIAPPEND (so
// one synchronising APPEND at a time), no LIST-EXTENDED nor LIST-STATUS, and it keeps what it is sent.
const fixture = interopFixture(startCourier);

test('Courier as the source: nothing lost or doubled, killed and resumed, or re-run without state', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(fixture.onServer[0]!, fixture.onDovecot[1]!, fixture.onDovecot[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  // Dovecot keeps no arrival date decades ahead: reported, not silently accepted.
  assert.match(alteredByKey(cleanRun, source).get('far-future')?.join('; ') ?? '', /arrival date 2090-06-07T08:09:10Z stored as/);
});

test('Courier as the destination: stored as sent, INBOX subscribed as on the source, a re-run without state adds nothing', { timeout: 120_000 }, async () => {
  const { figures, cleanRun, source } = await exercisePair(fixture.onDovecot[0]!, fixture.onServer[1]!, fixture.onServer[2]!, 5);
  reportFigures(figures);
  assert.deepEqual([figures.missing, figures.doubled, figures.addedByNoStateRerun], [0, 0, 0]);
  assert.deepEqual([...alteredByKey(cleanRun, source)], []);
  assert.deepEqual(await subscribedFolders(fixture.onServer[1]!), ['INBOX', 'INBOX.Archives', 'INBOX.Archives.2023', 'INBOX.Drafts', 'INBOX.Junk', 'INBOX.Sent', 'INBOX.Trash']);
});

test('Courier as the source: a re-run with its state lists no folder that received nothing (Courier announces no UIDNEXT on EXAMINE), and opens no destination folder', { timeout: 120_000 }, async () => {
  const [proxy, destProxy] = await Promise.all([startTcpProxy(fixture.server.port), startTcpProxy(fixture.onDovecot[3]!.port)]);
  const copy = copier({ ...fixture.onServer[0]!, port: proxy.port }, { ...fixture.onDovecot[3]!, port: destProxy.port });
  try {
    const first = await copy.run();
    assert.equal(first.result.code, 0, first.result.stderr);
    const [before, beforeDest] = [proxy.commands.length, destProxy.commands.length];
    const again = await copy.run();
    assert.equal(again.result.code, 0, again.result.stderr);
    assert.equal(again.report?.copied, 0);
    // Listing a folder's messages (their sizes) is what a pass does in a folder it does not know to
    // be unchanged; the delta mirror's FLAGS-only fetch of known UIDs is not a listing.
    const listings = proxy.commands.slice(before).filter((c) => /\bUID FETCH\b.*RFC822\.SIZE/i.test(c.line));
    assert.deepEqual(listings.map((c) => c.line), []);
    // No flag changed on the source: the mirror has nothing to STORE, so it selects no destination folder.
    assert.deepEqual(destProxy.commands.slice(beforeDest).filter((c) => /^\S+ (UID )?(SELECT|EXAMINE|APPEND|STORE)\b/i.test(c.line)).map((c) => c.line), []);
  } finally {
    copy.cleanup();
    await Promise.all([proxy.stop(), destProxy.stop()]);
  }
});
