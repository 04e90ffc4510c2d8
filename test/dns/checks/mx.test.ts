import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkMx } from '../../../server/dns/checks/mx.ts';

const NEW = [{ priority: 10, exchange: 'mx.new.example' }];
const OVH = [
  { priority: 1, exchange: 'mx0.mail.ovh.net' },
  { priority: 5, exchange: 'mx1.mail.ovh.net' },
];

describe('checkMx', () => {
  test('ok when the sets are equal, with no fix', () => {
    assert.deepEqual(checkMx('example.test', NEW, NEW), {
      id: 'mx', title: 'MX', status: 'ok', found: ['10 mx.new.example'], expected: ['10 mx.new.example'], gate: 'ok',
    });
  });

  test('names are compared lower-cased and without the trailing dot', () => {
    const result = checkMx('Example.TEST.', [{ priority: 10, exchange: 'MX.New.Example.' }], [{ priority: 10, exchange: 'mx.new.example' }]);
    assert.equal(result.status, 'ok');
    assert.deepEqual(result.found, ['10 mx.new.example']);
  });

  test('answer order and duplicate records do not matter', () => {
    const found = [{ priority: 5, exchange: 'mx1.mail.ovh.net' }, { priority: 1, exchange: 'mx0.mail.ovh.net' }, { priority: 1, exchange: 'MX0.mail.ovh.net.' }];
    const result = checkMx('example.test', found, OVH);
    assert.equal(result.status, 'ok');
    assert.deepEqual(result.found, ['1 mx0.mail.ovh.net', '5 mx1.mail.ovh.net']);
  });

  test('error when the expected host is missing; the fix publishes the set and removes the old host', () => {
    const result = checkMx('example.test', [{ priority: 10, exchange: 'old-mx.example.net.' }], NEW);
    assert.equal(result.status, 'error');
    assert.deepEqual(result.found, ['10 old-mx.example.net']);
    assert.equal(result.fix, 'publish exactly: example.test. 3600 IN MX 10 mx.new.example. — remove: example.test. IN MX 10 old-mx.example.net.');
  });

  test('error when only some expected hosts are present', () => {
    const result = checkMx('example.test', [{ priority: 1, exchange: 'mx0.mail.ovh.net' }], OVH);
    assert.equal(result.status, 'error');
    assert.equal(result.fix, 'publish exactly: example.test. 3600 IN MX 1 mx0.mail.ovh.net.; example.test. 3600 IN MX 5 mx1.mail.ovh.net.');
  });

  test('error when the domain has no MX at all', () => {
    const result = checkMx('example.test', [], NEW);
    assert.equal(result.status, 'error');
    assert.deepEqual(result.found, []);
    assert.equal(result.fix, 'publish exactly: example.test. 3600 IN MX 10 mx.new.example.');
  });

  test('warn when a leftover host remains next to the expected ones', () => {
    const result = checkMx('example.test', [...NEW, { priority: 20, exchange: 'old-mx.example.net' }], NEW);
    assert.equal(result.status, 'warn');
    assert.deepEqual(result.found, ['10 mx.new.example', '20 old-mx.example.net']);
    assert.equal(result.fix, 'publish exactly: example.test. 3600 IN MX 10 mx.new.example. — remove: example.test. IN MX 20 old-mx.example.net.');
  });

  test('warn when the hosts are right but a priority differs', () => {
    const result = checkMx('example.test', [{ priority: 5, exchange: 'mx1.mail.ovh.net' }, { priority: 10, exchange: 'mx0.mail.ovh.net' }], OVH);
    assert.equal(result.status, 'warn');
    assert.equal(result.fix, 'publish exactly: example.test. 3600 IN MX 1 mx0.mail.ovh.net.; example.test. 3600 IN MX 5 mx1.mail.ovh.net. — remove: example.test. IN MX 10 mx0.mail.ovh.net.');
  });

  test('unknown when the query failed: nothing found, expectation still shown, no fix', () => {
    assert.deepEqual(checkMx('example.test', null, OVH), {
      id: 'mx', title: 'MX', status: 'unknown', found: [], expected: ['1 mx0.mail.ovh.net', '5 mx1.mail.ovh.net'], gate: 'ok',
    });
  });

  test('hosts of the old platform still published are flagged as leftovers', () => {
    const old = [{ priority: 10, exchange: 'old-mx.example.net' }];
    const result = checkMx('example.test', [...NEW, { priority: 20, exchange: 'Old-MX.example.net.' }], NEW, old);
    assert.equal(result.status, 'warn');
    assert.deepEqual(result.found, ['10 mx.new.example', '20 old-mx.example.net (old platform)']);
    assert.deepEqual(result.details, ['20 old-mx.example.net is the old platform\'s: remove it, or mail keeps landing there']);
    assert.match(result.fix ?? '', /remove: example\.test\. IN MX 20 old-mx\.example\.net\.$/);
    // A host both platforms share is no leftover.
    assert.equal(checkMx('example.test', NEW, NEW, NEW).details, undefined);
  });

  test('a null MX is pointed out', () => {
    const result = checkMx('example.test', [{ priority: 0, exchange: '.' }], NEW);
    assert.equal(result.status, 'error');
    assert.match(result.details?.join() ?? '', /null MX/);
  });

  test('fix owner is fully qualified whatever the domain spelling', () => {
    const result = checkMx('EXAMPLE.test', [], NEW);
    assert.match(result.fix ?? '', /^publish exactly: example\.test\. 3600 IN MX/);
  });
});
