import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ovhJson, pathSegment, signRequest } from '../../../plugins/ovhcloud/signing.ts';
import { signatureOf } from '../../support/fake-ovh/auth.ts';

// The published vectors (go-ovh ovh/ovh_test.go, recomputed in shared/reference/ovh-api.md §1.3).
const V2 = { applicationSecret: '9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk', consumerKey: '5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY', url: 'https://eu.api.ovh.com/1.0/auth', timestamp: 1457018875 };

test('signature: vector 1 (GET /domains/)', () => {
  assert.equal(signRequest({ applicationSecret: 'EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF', consumerKey: 'MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1', method: 'GET', url: 'https://eu.api.ovh.com/1.0/domains/', body: '', timestamp: 1366560945 }),
    '$1$d3705e8afb27a0d2970a322b96550abfc67bb798');
});

test('signature: vector 2 for GET, DELETE, POST and PUT', () => {
  assert.equal(signRequest({ ...V2, method: 'GET', body: '' }), '$1$e9556054b6309771395efa467c22e627407461ad');
  assert.equal(signRequest({ ...V2, method: 'DELETE', body: '' }), '$1$a1eecd00b3b02b6cf5708b84b9ff42059a950d85');
  assert.equal(signRequest({ ...V2, method: 'POST', body: '{"a":"b","c":"d"}' }), '$1$ec2fb5c7a81f64723c77d2e5b609ae6f58a84fc1');
  assert.equal(signRequest({ ...V2, method: 'PUT', body: '{"a":"b","c":"d"}' }), '$1$8a75a9e7c8e7296c9dbeda6a2a735eb6bd58ec4b');
});

test('signature: the method is upper-cased, and every part changes the result', () => {
  const base = { ...V2, method: 'post', body: '{"a":"b","c":"d"}' };
  assert.equal(signRequest(base), '$1$ec2fb5c7a81f64723c77d2e5b609ae6f58a84fc1');
  const variants = [{ applicationSecret: 'x' }, { consumerKey: 'x' }, { url: `${V2.url}?a=1` }, { body: '{"a":"b"}' }, { timestamp: V2.timestamp + 1 }];
  for (const change of variants) assert.notEqual(signRequest({ ...base, ...change }), signRequest(base), JSON.stringify(change));
});

test('the fake API verifies with the same formula (its own implementation) and agrees on the vectors', () => {
  assert.equal(signatureOf(V2.applicationSecret, V2.consumerKey, 'PUT', V2.url, '{"a":"b","c":"d"}', String(V2.timestamp)), '$1$8a75a9e7c8e7296c9dbeda6a2a735eb6bd58ec4b');
});

test('JSON bodies escape non-ASCII like node-ovh, so signed and sent bytes are the same', () => {
  assert.equal(ovhJson({ displayName: 'Élodie Müller' }), '{"displayName":"\\u00c9lodie M\\u00fcller"}');
  assert.deepEqual(JSON.parse(ovhJson({ displayName: 'Élodie Müller' })), { displayName: 'Élodie Müller' });
  assert.equal(ovhJson({ a: 'plain' }), '{"a":"plain"}');
});

test('path segments keep @ readable and escape what would change the path', () => {
  assert.equal(pathSegment('john.smith@example.com'), 'john.smith@example.com');
  assert.equal(pathSegment('a/b?c#d e%'), 'a%2Fb%3Fc%23d%20e%25');
  assert.equal(pathSegment("o'brien+tag@example.com"), "o'brien+tag@example.com");
});
