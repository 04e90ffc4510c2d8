import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendedUids, uidRanges, uidSet } from '../../../server/mail/wire/syntax.ts';

test('APPENDUID: the UIDs in order, and a set naming more than was appended is not expanded', () => {
  assert.deepEqual(appendedUids('APPENDUID 77 5:7,12', 4), { uidValidity: '77', uids: [5, 6, 7, 12] });
  assert.deepEqual(appendedUids('APPENDUID 77 9:8', 2)?.uids, [9, 8]);
  assert.equal(appendedUids('APPENDUID 77 1:4294967295', 3), undefined, 'a hostile range costs nothing');
  assert.equal(appendedUids('APPENDUID 77 1,2,3,4', 3), undefined);
  assert.equal(appendedUids('COPYUID 77 1 2', 1), undefined);
});

test('a UID set read back as ranges, and written compactly', () => {
  assert.deepEqual(uidRanges('41,43:116,9:2'), [[41, 41], [43, 116], [2, 9]]);
  assert.equal(uidRanges('1:*'), undefined);
  assert.equal(uidRanges('12345678901'), undefined);
  assert.equal(uidSet([9, 3, 4, 5, 12, 4]), '3:5,9,12');
});
