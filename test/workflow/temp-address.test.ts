import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CutoverError } from '../../server/errors.ts';
import { freeTempAddress, tempAddressFor } from '../../server/workflow/temp-address.ts';

const DEFAULT = '{local}{nn}@{domain}';

test('tempAddressFor fills local part, domain and a two-digit or plain number, in lower case', () => {
  assert.equal(tempAddressFor(DEFAULT, 'alice@example.test', 1), 'alice01@example.test');
  assert.equal(tempAddressFor(DEFAULT, 'Alice.Smith@Example.TEST', 7), 'alice.smith07@example.test');
  assert.equal(tempAddressFor(DEFAULT, 'bob@example.test', 42), 'bob42@example.test');
  assert.equal(tempAddressFor('old-{n}.{local}@{domain}', 'bob@example.test', 3), 'old-3.bob@example.test');
  assert.equal(tempAddressFor('{local}@old{nn}.{domain}', 'bob@example.test', 12), 'bob@old12.example.test');
});

test('tempAddressFor splits at the last @ (a quoted local part may hold one)', () => {
  assert.equal(tempAddressFor(DEFAULT, '"a@b"@example.test', 1), '"a@b"01@example.test');
});

test("tempAddressFor copies a local part holding '$' literally", () => {
  assert.equal(tempAddressFor(DEFAULT, "pay$'x@example.test", 1), "pay$'x01@example.test");
  assert.equal(tempAddressFor(DEFAULT, 'a$$b@example.test', 1), 'a$$b01@example.test');
  assert.equal(tempAddressFor(DEFAULT, 'a$&b@example.test', 1), 'a$&b01@example.test');
});

test('freeTempAddress returns the first number no account holds, asking in order', async () => {
  const taken = new Set(['alice01@example.test', 'alice02@example.test', 'alice04@example.test']);
  const asked: string[] = [];
  const free = await freeTempAddress(DEFAULT, 'alice@example.test', async (c) => { asked.push(c); return taken.has(c); });
  assert.equal(free, 'alice03@example.test');
  assert.deepEqual(asked, ['alice01@example.test', 'alice02@example.test', 'alice03@example.test']);
  assert.equal(await freeTempAddress(DEFAULT, 'bob@example.test', async () => false), 'bob01@example.test');
});

test('freeTempAddress gives up after 99 with TEMP_ADDRESS_EXHAUSTED naming the last candidate', async () => {
  let calls = 0;
  await assert.rejects(freeTempAddress(DEFAULT, 'carol@example.test', async () => { calls++; return true; }), (err: unknown) => {
    assert.ok(err instanceof CutoverError);
    assert.equal(err.code, 'TEMP_ADDRESS_EXHAUSTED');
    assert.equal(err.retryable, false);
    assert.match(err.message, /carol99@example\.test/);
    return true;
  });
  assert.equal(calls, 99);
});

test('freeTempAddress passes on errors from the lookup', async () => {
  await assert.rejects(freeTempAddress(DEFAULT, 'd@example.test', async () => { throw new Error('db down'); }), /db down/);
});
