import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { ByteBudget } from '../../server/mail/budget.ts';

test('a wait that ends leaves no listener on the lane signal, however many there were', async () => {
  const budget = new ByteBudget(10);
  const lane = new AbortController();
  await budget.acquire(10, lane.signal);
  for (let i = 0; i < 50; i++) {
    const waiting = budget.acquire(10, lane.signal);
    assert.equal(getEventListeners(lane.signal, 'abort').length, 1);
    budget.release(10);
    await waiting;
  }
  assert.equal(getEventListeners(lane.signal, 'abort').length, 0);
  assert.equal(budget.inFlight, 10);
});

test('waiters are served in order, and an abort takes a waiter out of the line', async () => {
  const budget = new ByteBudget(10);
  await budget.acquire(8);
  const order: string[] = [];
  const lane = new AbortController();
  const aborted = budget.acquire(5, lane.signal).then(() => order.push('aborted one'), (err: Error) => order.push(`refused: ${err.message}`));
  const second = budget.acquire(6).then(() => order.push('second'));
  lane.abort(new Error('lane failed'));
  await aborted;
  budget.release(8);
  await second;
  assert.deepEqual(order, ['refused: lane failed', 'second']);
  assert.equal(budget.inFlight, 6);
});

test('a message larger than the whole budget goes through alone', async () => {
  const budget = new ByteBudget(10);
  await budget.acquire(50);
  let small = false;
  const next = budget.acquire(1).then(() => { small = true; });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(small, false);
  budget.release(50);
  await next;
  assert.equal(small, true);
});
