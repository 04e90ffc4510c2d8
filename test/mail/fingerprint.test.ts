import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint, headerBytes } from '../../server/mail/fingerprint.ts';

const HEADER = 'From: a@example.org\r\nTo: b@example.test\r\nSubject: hi\r\nMessage-ID: <x@example.org>\r\n\r\n';

test('headerBytes ends right after the first blank line, blank line included', () => {
  const message = Buffer.from(`${HEADER}line one\r\n\r\nline three after an empty line\r\n`);
  const header = headerBytes(message);
  assert.equal(header.toString(), HEADER);
  assert.ok(header.toString().endsWith('\r\n\r\n'));
});

test('headerBytes of a message without a body separator is the whole message', () => {
  const message = Buffer.from('From: a@example.org\r\nSubject: no body\r\n');
  assert.equal(headerBytes(message).toString(), message.toString());
  assert.equal(headerBytes(Buffer.alloc(0)).length, 0);
});

test('headerBytes keeps binary header bytes as they are', () => {
  const raw = Buffer.concat([Buffer.from('Subject: '), Buffer.from([0xe9, 0xff, 0x00]), Buffer.from('\r\n\r\nbody')]);
  assert.deepEqual(headerBytes(raw), raw.subarray(0, raw.length - 4));
});

test('the same header, size and arrival date give the same print, whatever the date type', () => {
  const header = Buffer.from(HEADER);
  const date = new Date('2024-05-06T07:08:09Z');
  const a = fingerprint(header, 1234, date);
  assert.equal(a, fingerprint(Buffer.from(HEADER), 1234, new Date(date)));
  assert.equal(a, fingerprint(header, 1234, '2024-05-06T07:08:09.000Z'));
  assert.equal(fingerprint(header, 1234, undefined), fingerprint(header, 1234, undefined));
});

test('the same header with another size or another arrival date is another message', () => {
  const header = Buffer.from(HEADER);
  const date = new Date('2024-05-06T07:08:09Z');
  const base = fingerprint(header, 1234, date);
  assert.notEqual(base, fingerprint(header, 1235, date), 'size');
  assert.notEqual(base, fingerprint(header, 1234, new Date('2024-05-06T07:08:10Z')), 'date, one second later');
  assert.notEqual(base, fingerprint(header, 1234, undefined), 'date unknown');
});

test('any header byte changes the print: Message-ID, Received, even a trailing space', () => {
  const date = new Date('2024-05-06T07:08:09Z');
  const base = fingerprint(Buffer.from(HEADER), 100, date);
  assert.notEqual(base, fingerprint(Buffer.from(HEADER.replace('<x@', '<y@')), 100, date));
  assert.notEqual(base, fingerprint(Buffer.from(`Received: by mx\r\n${HEADER}`), 100, date));
  assert.notEqual(base, fingerprint(Buffer.from(HEADER.replace('hi', 'hi ')), 100, date));
});

test('two messages that differ only in their body differ through the size, not the header', () => {
  const date = new Date('2024-05-06T07:08:09Z');
  const one = Buffer.from(`${HEADER}first body\r\n`);
  const two = Buffer.from(`${HEADER}second, different body\r\n`);
  assert.deepEqual(headerBytes(one), headerBytes(two));
  assert.notEqual(fingerprint(headerBytes(one), one.length, date), fingerprint(headerBytes(two), two.length, date));
});

test('a destination copy is recognised whatever the server changed: 8-bit header bytes as X, arrival date, flags', async () => {
  const { DestMatcher } = await import('../../server/mail/fingerprint.ts');
  const eightBit = Buffer.from('Subject: caf\u00e9 cr\u00e8me\r\nX-Note: Gr\u00fc\u00dfe\r\n\r\n', 'utf8');
  const munged = Buffer.from(eightBit.toString('latin1').replace(/[\x80-\xff]/g, 'X'), 'latin1');
  const matcher = new DestMatcher();
  matcher.add(munged, munged.length + 10, new Date('2026-12-06T09:00:00Z'), 7);
  assert.equal(matcher.take(eightBit, eightBit.length + 11, new Date('2090-01-01T00:00:00Z')), undefined, 'another body length is another message');
  assert.equal(matcher.take(eightBit, eightBit.length + 10, new Date('2090-01-01T00:00:00Z')), 7);
  assert.equal(matcher.take(eightBit, eightBit.length + 10, undefined), undefined, 'claimed once only');
});

test('among same-key copies the one with the same arrival date is claimed first; others are not confused', async () => {
  const { DestMatcher } = await import('../../server/mail/fingerprint.ts');
  const header = Buffer.from(HEADER);
  const matcher = new DestMatcher();
  matcher.add(header, 200, new Date('2024-01-01T00:00:00Z'), 1);
  matcher.add(header, 200, new Date('2024-01-02T00:00:00Z'), 2);
  assert.equal(matcher.take(header, 200, new Date('2024-01-02T00:00:00Z')), 2);
  assert.equal(matcher.take(Buffer.from(HEADER.replace('<x@', '<y@')), 200, new Date('2024-01-01T00:00:00Z')), undefined);
  assert.equal(matcher.take(header, 200, new Date('2030-01-01T00:00:00Z')), 1);
  assert.equal(matcher.size, 0);
});
