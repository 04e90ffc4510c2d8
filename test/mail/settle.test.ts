import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settleAll } from '../../server/mail/settle.ts';

const later = <T>(ms: number, value: T, fail = false) => new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(value) : resolve(value)), ms));

test('settleAll gives every value in order, plain values and undefined included', async () => {
  assert.deepEqual(await settleAll([later(5, 'a'), undefined, 3]), ['a', undefined, 3]);
});

test('settleAll waits for every command, then fails with the first failure in the order given, not the first to arrive', async () => {
  let slowDone = false;
  const slow = later(30, 'slow').then((v) => { slowDone = true; return v; });
  const failure = await settleAll([later(20, new Error('first sent'), true), later(1, new Error('first to arrive'), true), slow]).catch((err: Error) => err);
  assert.equal((failure as Error).message, 'first sent');
  assert.equal(slowDone, true, 'nothing is left running');
});
