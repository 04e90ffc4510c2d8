import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startImap4d } from '../../server/devservers/imap4d.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { alteredByKey, copier, exercisePair, holdings, interopFixture, missingAndDoubled, reportFigures } from './support.ts';

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

test('imap4d as the source: a re-run with its state knows each message by its header under the new UIDVALIDITY: no body fetched, the destination not opened, nothing doubled', { timeout: 120_000 }, async () => {
  const [sourceProxy, destProxy] = await Promise.all([startTcpProxy(fixture.server.port), startTcpProxy(fixture.onDovecot[3]!.port)]);
  const copy = copier({ ...fixture.onServer[0]!, port: sourceProxy.port }, { ...fixture.onDovecot[3]!, port: destProxy.port });
  try {
    const first = await copy.run();
    assert.equal(first.result.code, 0, first.result.stderr);
    assert.ok(first.report!.copied > 0);
    for (const pass of [2, 3]) {
      const [fromSource, fromDest] = [sourceProxy.commands.length, destProxy.commands.length];
      const again = await copy.run();
      assert.equal(again.result.code, 0, again.result.stderr);
      // Every message under a new UIDVALIDITY (imap4d gives one per session to a folder opened read-only), every one recognised.
      assert.deepEqual([again.report!.copied, again.report!.matched], [0, first.report!.copied], `pass ${pass}`);
      assert.deepEqual(sourceProxy.commands.slice(fromSource).filter((c) => /BODY\.PEEK\[\]/i.test(c.line)).map((c) => c.line), [], `pass ${pass}: no body fetched`);
      assert.deepEqual(destProxy.commands.slice(fromDest).filter((c) => /^\S+ (UID )?(SELECT|EXAMINE|APPEND|STORE)\b/i.test(c.line)).map((c) => c.line), [], `pass ${pass}: no destination folder opened`);
    }
    const { missing, doubled } = missingAndDoubled(await holdings(fixture.onServer[0]!), await holdings(fixture.onDovecot[3]!));
    assert.deepEqual({ missing, doubled }, { missing: 0, doubled: 0 });
  } finally {
    copy.cleanup();
    await Promise.all([sourceProxy.stop(), destProxy.stop()]);
  }
});
