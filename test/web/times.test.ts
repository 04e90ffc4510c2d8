import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationText as durationRaw, timeHtml as timeRaw } from '../../server/web/times.ts';

// ICU puts (narrow) no-break spaces where French typography wants them: compare with plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
const timeHtml = (...args: Parameters<typeof timeRaw>) => plain(timeRaw(...args));
const durationText = (...args: Parameters<typeof durationRaw>) => plain(durationRaw(...args));

const NOW = Date.parse('2026-12-06T10:00:00.000Z');

test('a recent time is relative in the page\'s language, with the absolute time on hover and the ISO value in datetime', () => {
  const fr = timeHtml('fr', '2026-12-06T09:57:00.000Z', NOW, 'UTC');
  assert.match(fr, /^<time datetime="2026-12-06T09:57:00\.000Z" title="6 déc\. 2026, 09:57:00">il y a 3 min<\/time>$/);
  assert.match(timeHtml('en', '2026-12-06T09:57:00.000Z', NOW, 'UTC'), />3 min\. ago</);
  assert.match(timeHtml('en', NOW + 2 * 3600_000, NOW, 'UTC'), />in 2 hr\.</);
});

test('an old time is shown absolute; empty values are empty and anything else is escaped text', () => {
  assert.match(timeHtml('en', '2026-01-02T03:04:05.000Z', NOW, 'UTC'), />Jan 2, 2026, 3:04:05\s?AM</);
  assert.equal(timeHtml('en', null, NOW), '');
  assert.equal(timeHtml('en', '<b>soon</b>', NOW), '&lt;b&gt;soon&lt;/b&gt;');
});

test('durations are durations: two largest units', () => {
  assert.equal(durationText('en', 3_900_000), '1 hr 5 min');
  assert.equal(durationText('fr', 90_061_000), '1 j 1 h');
  assert.equal(durationText('en', 450), '0.5 sec');
});
