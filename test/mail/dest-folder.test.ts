import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uidSet } from '../../server/mail/dest-folder.ts';

// The read-back itself runs against real servers in test/interop/*.test.ts.
test('appended UIDs go out as a short UID set: runs as ranges, in order, once each', () => {
  assert.equal(uidSet([5, 3, 4, 9, 10, 12, 4]), '3:5,9:10,12');
  assert.equal(uidSet([7]), '7');
  assert.equal(uidSet(Array.from({ length: 100_000 }, (_, i) => i + 1)), '1:100000');
});
