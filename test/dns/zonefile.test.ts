import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fqdn, normalizeName } from '../../server/dns/names.ts';
import { describeChange, quoteStrings, txtRdata, zoneLine } from '../../server/dns/zonefile.ts';

test('normalizeName and fqdn keep the root visible', () => {
  assert.equal(normalizeName(' MX.Example.NET. '), 'mx.example.net');
  assert.equal(normalizeName('.'), '.');
  assert.equal(fqdn('Example.test'), 'example.test.');
  assert.equal(fqdn('.'), '.');
});

test('zoneLine with and without TTL', () => {
  assert.equal(zoneLine({ owner: 'example.test', ttl: 300, type: 'MX', rdata: '10 mx.new.example.' }), 'example.test. 300 IN MX 10 mx.new.example.');
  assert.equal(zoneLine({ owner: 'example.test.', type: 'MX', rdata: '10 mx.new.example.' }), 'example.test. IN MX 10 mx.new.example.');
});

test('txtRdata splits at 255 bytes without cutting a character, and escapes quotes', () => {
  assert.equal(txtRdata('say "hi" \\ok'), '"say \\"hi\\" \\\\ok"');
  const long = `${'a'.repeat(254)}é${'b'.repeat(10)}`;
  assert.equal(txtRdata(long), `"${'a'.repeat(254)}" "é${'b'.repeat(10)}"`);
  assert.equal(txtRdata('x'.repeat(510)), `"${'x'.repeat(255)}" "${'x'.repeat(255)}"`);
  assert.equal(quoteStrings(['a ', 'b']), '"a " "b"');
});

test('describeChange leaves out an empty side', () => {
  assert.equal(describeChange(['A'], ['B', 'C']), 'publish exactly: A — remove: B; C');
  assert.equal(describeChange(['A', 'B'], []), 'publish exactly: A; B');
  assert.equal(describeChange([], ['B']), 'remove: B');
});
