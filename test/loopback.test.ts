import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback } from '../server/loopback.ts';

test('loopback: localhost, 127.0.0.0/8 and ::1, nothing else', () => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) assert.equal(isLoopback(host), true, host);
  for (const host of ['10.0.0.1', '128.0.0.1', 'mail.example.org', '127.example.org', '::2', 'localhost.example.org']) assert.equal(isLoopback(host), false, host);
});
