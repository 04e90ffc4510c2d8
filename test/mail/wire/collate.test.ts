import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collate } from '../../../server/mail/wire/collate.ts';

test('folder names sort as localeCompare sorts them in English, ICU or not', () => {
  // Half the words from the characters compared without ICU, half with others mixed in.
  const alphabets = ['aAbBzZ09 ./-', 'aAbBzZ09 ./-_äÉ'];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const word = (alphabet: string) => Array.from({ length: 1 + Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const names = ['INBOX', 'Inbox', 'inbox', 'Sent', 'Sent Items', 'sent-items', 'Archive/2024', 'Archive.2024', 'Archive 2024', 'a', 'A', 'aa', 'aA', 'Aa', '1', 'Z9', ''];
  for (let i = 0; i < 3000; i++) names.push(word(alphabets[i % 2]!));
  let compared = 0;
  for (let i = 0; i + 1 < names.length; i++) {
    const [a, b] = [names[i]!, names[(i * 7919) % names.length]!];
    assert.equal(collate(a, b), Math.sign(a.localeCompare(b, 'en')), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    compared++;
  }
  assert.ok(compared > 3000);
  assert.deepEqual(['b', 'B', 'a', 'Sent Items', 'Sent', 'A', '2'].sort(collate), ['2', 'a', 'A', 'b', 'B', 'Sent', 'Sent Items']);
});
