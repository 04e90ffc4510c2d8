import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../server/workflow/backoff.ts';

const mid = () => 0.5; // no jitter: 0.8 + 0.4 * 0.5 = 1
const low = () => 0;
const high = () => 0.999999;
const CAP = 30 * 60_000;

test('without jitter: 5 s, doubling per attempt', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, mid)), [5_000, 10_000, 20_000, 40_000, 80_000, 160_000]);
});

test('attempt 0 or below is treated as the first attempt', () => {
  assert.equal(backoffDelay(0, mid), 5_000);
  assert.equal(backoffDelay(-3, mid), 5_000);
});

test('capped at 30 minutes, even for absurd attempt counts', () => {
  assert.equal(backoffDelay(10, mid), CAP);
  assert.equal(backoffDelay(50, mid), CAP);
  assert.equal(backoffDelay(5_000, mid), CAP);
  assert.ok(Number.isFinite(backoffDelay(1e9, mid)));
  // 5 s × 2^8 = 21.3 min is the last step below the cap.
  assert.equal(backoffDelay(9, mid), 1_280_000);
});

test('jitter stays within ±20 % of the curve', () => {
  for (const attempts of [1, 3, 7, 12]) {
    const raw = backoffDelay(attempts, mid);
    assert.equal(backoffDelay(attempts, low), Math.round(raw * 0.8));
    const top = backoffDelay(attempts, high);
    assert.ok(top <= Math.round(raw * 1.2) && top > raw * 1.19, `${attempts}: ${top}`);
  }
  for (let i = 0; i < 2_000; i++) {
    const attempts = 1 + (i % 15);
    const raw = backoffDelay(attempts, mid);
    const d = backoffDelay(attempts);
    assert.ok(d >= raw * 0.8 && d <= raw * 1.2, `attempt ${attempts}: ${d} outside [${raw * 0.8}, ${raw * 1.2}]`);
  }
});

test('jitter actually spreads workers out', () => {
  const seen = new Set(Array.from({ length: 200 }, () => backoffDelay(4)));
  assert.ok(seen.size > 50, `${seen.size} distinct delays out of 200`);
});

test('never shorter for more attempts at the same jitter', () => {
  for (const r of [low, mid, high]) {
    let prev = 0;
    for (let a = 1; a <= 20; a++) {
      const d = backoffDelay(a, r);
      assert.ok(d >= prev, `attempt ${a}`);
      prev = d;
    }
  }
});
