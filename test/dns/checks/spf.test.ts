import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSpf, mergeSpf } from '../../../server/dns/checks/spf.ts';

const D = 'example.test';
const NEW = ['mx.new.example'];

describe('checkSpf', () => {
  test('unknown when the TXT query failed', () => {
    assert.deepEqual(checkSpf(D, null, NEW), { id: 'spf', title: 'SPF', status: 'unknown', found: [], expected: ['include:mx.new.example'], gate: 'ok' });
  });

  test('no TXT at all: error, the fix proposes a fresh record', () => {
    const result = checkSpf(D, [], NEW);
    assert.equal(result.status, 'error');
    assert.deepEqual(result.found, []);
    assert.equal(result.fix, 'publish exactly: example.test. 3600 IN TXT "v=spf1 include:mx.new.example ~all"');
  });

  test('TXT records that are not SPF are ignored (v=spf10 and prefixes included)', () => {
    const result = checkSpf(D, [['google-site-verification=abc'], ['v=spf10 include:mx.new.example'], [' v=spf1 include:mx.new.example']], NEW);
    assert.equal(result.status, 'error');
    assert.deepEqual(result.found, []);
  });

  test('ok when the single record has the include', () => {
    assert.deepEqual(checkSpf(D, [['v=spf1 include:mx.new.example ~all'], ['other']], NEW), {
      id: 'spf', title: 'SPF', status: 'ok', found: ['v=spf1 include:mx.new.example ~all'], expected: ['include:mx.new.example'], gate: 'ok',
    });
  });

  test('version tag, mechanism and domain are case-insensitive; a trailing dot is ignored', () => {
    assert.equal(checkSpf(D, [['V=SPF1 INCLUDE:MX.New.Example. -all']], NEW).status, 'ok');
    assert.equal(checkSpf(D, [['v=spf1']], []).status, 'ok');
  });

  test('a record split in several character-strings is joined without a separator', () => {
    const result = checkSpf(D, [['v=spf1 include:mx.ne', 'w.example ~all']], NEW);
    assert.equal(result.status, 'ok');
    assert.deepEqual(result.found, ['v=spf1 include:mx.new.example ~all']);
  });

  test('+, ~ and ? qualifiers count as included', () => {
    for (const qualifier of ['+', '~', '?']) {
      assert.equal(checkSpf(D, [[`v=spf1 ${qualifier}include:mx.new.example -all`]], NEW).status, 'ok', qualifier);
    }
  });

  test('-include does not count; the merged record flips it in place', () => {
    const result = checkSpf(D, [['v=spf1 a -include:mx.new.example ~all']], NEW);
    assert.equal(result.status, 'error');
    assert.equal(result.fix, 'publish exactly: example.test. 3600 IN TXT "v=spf1 a include:mx.new.example ~all" — remove: example.test. IN TXT "v=spf1 a -include:mx.new.example ~all"');
  });

  test('missing include: the fix keeps every term and inserts before all', () => {
    const result = checkSpf(D, [['v=spf1 mx ip4:192.0.2.0/24 include:_spf.old.example exp=explain.example.test -all']], NEW);
    assert.equal(result.status, 'error');
    assert.equal(result.fix,
      'publish exactly: example.test. 3600 IN TXT "v=spf1 mx ip4:192.0.2.0/24 include:_spf.old.example exp=explain.example.test include:mx.new.example -all"'
      + ' — remove: example.test. IN TXT "v=spf1 mx ip4:192.0.2.0/24 include:_spf.old.example exp=explain.example.test -all"');
  });

  test('the removal names the record with its original character-strings', () => {
    const result = checkSpf(D, [['v=spf1 a ', '~all']], NEW);
    assert.match(result.fix ?? '', / — remove: example\.test\. IN TXT "v=spf1 a " "~all"$/);
  });

  test('only the missing includes are added', () => {
    const result = checkSpf(D, [['v=spf1 include:a.example ~all']], ['A.example', 'b.example', 'b.example.']);
    assert.deepEqual(result.expected, ['include:a.example', 'include:b.example']);
    assert.match(result.fix ?? '', /"v=spf1 include:a\.example include:b\.example ~all"/);
  });

  test('several SPF records are an error (permerror) even when one of them is right', () => {
    const result = checkSpf(D, [['v=spf1 include:mx.new.example ~all'], ['v=spf1 include:_spf.old.example -all']], NEW);
    assert.equal(result.status, 'error');
    assert.deepEqual(result.found, ['v=spf1 include:mx.new.example ~all', 'v=spf1 include:_spf.old.example -all']);
    assert.equal(result.fix,
      'publish exactly: example.test. 3600 IN TXT "v=spf1 include:mx.new.example include:_spf.old.example ~all"'
      + ' — remove: example.test. IN TXT "v=spf1 include:mx.new.example ~all"; example.test. IN TXT "v=spf1 include:_spf.old.example -all"');
  });

  test('a record with the include but a syntax error is red, and the fix names the bad term', () => {
    const result = checkSpf(D, [['v=spf1 include:mx.new.example ip4:192.0.2.300 ~all']], NEW);
    assert.equal(result.status, 'error');
    assert.match(result.fix ?? '', /"ip4:192\.0\.2\.300": "192\.0\.2\.300" is not an IPv4 network/);
  });

  test('the old platform\'s include is pointed out, without turning the check red', () => {
    const result = checkSpf(D, [['v=spf1 include:mx.new.example include:spf.old.example ~all']], NEW, ['spf.old.example', 'mx.new.example']);
    assert.equal(result.status, 'ok');
    assert.deepEqual(result.details, ['include:spf.old.example is the old platform\'s: remove it once the old platform no longer sends for example.test']);
  });

  test('a merged record longer than 255 bytes is published as several character-strings', () => {
    const ips = Array.from({ length: 20 }, (_, i) => `ip4:198.51.100.${i}`).join(' ');
    const result = checkSpf(D, [[`v=spf1 ${ips} ~all`]], NEW);
    const strings = [...(result.fix ?? '').split(' — ')[0]?.matchAll(/"([^"]*)"/g) ?? []].map((match) => match[1] ?? '');
    assert.equal(strings.length, 2);
    assert.ok(strings.every((text) => Buffer.byteLength(text) <= 255));
    assert.equal(strings.join(''), `v=spf1 ${ips} include:mx.new.example ~all`);
  });
});

describe('mergeSpf', () => {
  test('inserts before redirect= when there is no all', () => {
    assert.equal(mergeSpf(['v=spf1 a redirect=_spf.old.example'], NEW), 'v=spf1 a include:mx.new.example redirect=_spf.old.example');
  });

  test('inserts before the first all even if redirect= comes later', () => {
    assert.equal(mergeSpf(['v=spf1 a ?all redirect=_spf.old.example'], NEW), 'v=spf1 a include:mx.new.example ?all redirect=_spf.old.example');
  });

  test('appends when the record has neither all nor redirect=', () => {
    assert.equal(mergeSpf(['v=spf1 mx'], NEW), 'v=spf1 mx include:mx.new.example');
  });

  test('collapses extra whitespace', () => {
    assert.equal(mergeSpf(['v=spf1   mx    ~all  '], NEW), 'v=spf1 mx include:mx.new.example ~all');
  });

  test('several records: the first all wins and redirect targets become includes', () => {
    assert.equal(
      mergeSpf(['v=spf1 ip4:192.0.2.1 redirect=_spf.a.example', 'v=spf1 include:b.example -all'], NEW),
      'v=spf1 ip4:192.0.2.1 include:b.example include:_spf.a.example include:mx.new.example -all',
    );
  });

  test('several records with only redirects: the first stays the fallback', () => {
    assert.equal(
      mergeSpf(['v=spf1 redirect=_spf.a.example', 'v=spf1 mx redirect=_spf.b.example'], NEW),
      'v=spf1 mx include:_spf.b.example include:mx.new.example redirect=_spf.a.example',
    );
  });

  test('several records: duplicate mechanisms and repeated modifiers appear once', () => {
    assert.equal(
      mergeSpf(['v=spf1 mx include:mx.new.example exp=a.example ~all', 'v=spf1 MX exp=b.example include:mx.new.example -all'], NEW),
      'v=spf1 mx include:mx.new.example exp=a.example ~all',
    );
  });

  test('no record at all gives a soft-fail record with the includes', () => {
    assert.equal(mergeSpf([], ['a.example', 'b.example']), 'v=spf1 include:a.example include:b.example ~all');
  });
});
