import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeFor } from '../../server/cli/output.ts';
import { CutoverError } from '../../server/errors.ts';
import { expandUidSet, unparsedLineFor } from '../../server/mail/announced.ts';
import { isValidUid, literalLimitFor, quoteLine } from '../../server/mail/guard.ts';
import { mapImapError } from '../../server/mail/imap.ts';
import { Watchdog } from '../../server/mail/watchdog.ts';

// The logic behind test/mail/hostile*.test.ts, which proves the same paths against a real server.

test('UIDs are 1..2^32-1, and a UID set from a server is expanded within a limit', () => {
  assert.deepEqual([0, 1, 4294967295, 4294967296, -1, 1.5, NaN].map(isValidUid), [false, true, true, false, false, false, false]);
  assert.deepEqual([...expandUidSet('1:3,7,10:9', 100)], [1, 2, 3, 7, 9, 10]);
  assert.equal(expandUidSet('1:4294967295', 1000).size, 1000, 'a hostile range cannot fill memory');
  assert.deepEqual([...expandUidSet('0,4294967296,5', 10)], [5]);
});

test('the unparsed line that names a UID is the one quoted, cut to one line of 300 characters', () => {
  const lines = ['* 1 FETCH (UID 12 FLAGS (x"y))', '* 2 FETCH (UID 123 FLAGS (bad"kw))'];
  assert.equal(unparsedLineFor(123, lines), lines[1]);
  assert.equal(unparsedLineFor(12, lines), lines[0]);
  assert.equal(unparsedLineFor(1, lines), undefined);
  assert.equal(quoteLine(`a\r\nb${'x'.repeat(400)}`).length, 301);
  assert.ok(quoteLine('a\r\nb').startsWith('a b'));
  assert.equal(literalLimitFor(1000), 2000 + 1024 * 1024);
});

test('exit codes: protocol errors 7, a stall 3, a missing STARTTLS is the TLS code', () => {
  assert.equal(exitCodeFor(new CutoverError('IMAP_PROTOCOL', { host: 'h', detail: 'd' })), 7);
  assert.equal(exitCodeFor(new CutoverError('IMAP_FAILED', { host: 'h', command: 'c', detail: 'd' })), 7);
  assert.equal(exitCodeFor(new CutoverError('IMAP_STALLED', { host: 'h', seconds: 3, during: 'x' })), 3);
  assert.equal(exitCodeFor(new CutoverError('INPUT_INVALID', { detail: 'd' })), 2);
  const starttls = Object.assign(new Error('Server does not support STARTTLS'), { tlsFailed: true });
  assert.equal(mapImapError(starttls, 'mail.example.net', 'login').code, 'STARTTLS_MISSING');
  assert.equal(exitCodeFor(mapImapError(starttls, 'mail.example.net', 'login')), 5);
  const endless = Object.assign(new Error('Line length 1048577 exceeds maximum allowed size of 1048576 bytes'), { code: 'LineTooLarge' });
  assert.equal(exitCodeFor(mapImapError(endless, 'mail.example.net', 'login')), 7);
});

test('the watchdog fires once after the stall time without progress, and not while progress comes', async () => {
  let fired = 0;
  const dog = new Watchdog(1500, () => { fired++; });
  try {
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 100));
      dog.progress();
    }
    assert.equal(fired, 0);
    // Waiting for a pooled connection is not a stall.
    await dog.paused(() => new Promise((r) => setTimeout(r, 2500)));
    assert.equal(fired, 0);
    assert.ok(dog.idleMs() < 1000, `${dog.idleMs()} ms`);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(fired, 1);
    assert.ok(dog.fired);
  } finally {
    dog.stop();
  }
});
