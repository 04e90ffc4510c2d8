import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapImapError } from '../../server/mail/imap.ts';

// What imapflow throws on a tagged NO to LOGIN/AUTHENTICATE (commands/login.js, authenticate.js).
function refusedLogin(serverResponseCode: string | undefined, responseText: string): Error {
  return Object.assign(new Error('Command failed'), { authenticationFailed: true, serverResponseCode, responseText });
}

test('a login the server cannot check for now ([UNAVAILABLE], RFC 5530) is retried later, not taken for a wrong password', () => {
  // Dovecot when its passdb fails (seen in the fleet bench: its SQLite passdb "database is locked").
  const err = mapImapError(refusedLogin('UNAVAILABLE', 'Temporary authentication failure. [mx:2026-12-06 13:39:51]'), '127.0.0.1', 'login');
  assert.equal(err.code, 'HOST_UNREACHABLE');
  assert.equal(err.retryable, true);
  assert.match(err.message, /Temporary authentication failure/);
});

test('a plain refusal ([AUTHENTICATIONFAILED] or no code) stays a wrong user name or password, not retried', () => {
  for (const code of ['AUTHENTICATIONFAILED', undefined]) {
    const err = mapImapError(refusedLogin(code, 'Authentication failed.'), '127.0.0.1', 'login');
    assert.equal(err.code, 'AUTH_FAILED');
    assert.equal(err.retryable, false);
  }
});
