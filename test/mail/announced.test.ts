import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namesEveryMessageFrom } from '../../server/mail/announced.ts';

const answers = (pairs: Array<[number, number]>) => new Map(pairs);

test('a delta listing needs no UID SEARCH only when its answers leave no message from `from` on unnamed', () => {
  // The usual delta: the new messages start at the UIDNEXT the last pass saw.
  assert.equal(namesEveryMessageFrom(answers([[4, 583], [5, 584], [6, 585]]), 3, 583, 6), true);
  // Nothing new: "583:*" names the last message, below 583.
  assert.equal(namesEveryMessageFrom(answers([[6, 580]]), 0, 583, 6), true);
  assert.equal(namesEveryMessageFrom(new Map(), 0, 583, 0), true);
  // The predecessor of the first new message answered, below `from`.
  assert.equal(namesEveryMessageFrom(answers([[3, 570], [4, 590], [5, 591]]), 2, 583, 5), true);
  // Every message is new (all at or above `from`).
  assert.equal(namesEveryMessageFrom(answers([[1, 600], [2, 601]]), 2, 583, 2), true);

  // The first answered is above `from` and its predecessor unknown: UID 583..589 might be unnamed.
  assert.equal(namesEveryMessageFrom(answers([[5, 590], [6, 591]]), 2, 583, 6), false);
  // A sequence number missing in the middle, or the last one (EXISTS) not answered.
  assert.equal(namesEveryMessageFrom(answers([[4, 583], [6, 585]]), 2, 583, 6), false);
  assert.equal(namesEveryMessageFrom(answers([[4, 583], [5, 584]]), 2, 583, 6), false);
  // UIDs that do not rise with sequence numbers are not believed.
  assert.equal(namesEveryMessageFrom(answers([[4, 583], [5, 590], [6, 585]]), 3, 583, 6), false);
  // Answers the listing did not keep (a repeat, an unusable one): counted apart, so not proved.
  assert.equal(namesEveryMessageFrom(answers([[4, 583], [5, 584]]), 1, 583, 5), false);
  assert.equal(namesEveryMessageFrom(new Map(), 0, 583, 3), false);
});
