import assert from 'node:assert/strict';
import { test } from 'node:test';
import { worstStatus } from '../../../server/dns/checks/types.ts';

test('worstStatus: error > unknown > warn > ok; nothing to check is ok', () => {
  assert.equal(worstStatus([]), 'ok');
  assert.equal(worstStatus(['ok', 'ok']), 'ok');
  assert.equal(worstStatus(['ok', 'warn']), 'warn');
  assert.equal(worstStatus(['warn', 'unknown', 'ok']), 'unknown');
  assert.equal(worstStatus(['unknown', 'error']), 'error');
  assert.equal(worstStatus(['error', 'unknown']), 'error');
});
