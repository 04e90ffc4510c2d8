import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CopyReport } from '../../server/mail/copy.ts';
import { emptyReport } from '../../server/mail/lane.ts';
import { noteAlterations } from '../../server/workflow/alterations.ts';

// The same reports come from real servers in test/interop/*.test.ts; this checks what the timeline says.
const report = (altered: CopyReport['folders'][number]['altered']): CopyReport => {
  const folder = { ...emptyReport({ source: 'INBOX', dest: 'INBOX', subscribed: true, selectable: true, excluded: false }), altered };
  return { folders: [folder], announced: 1, copied: 1, bytes: 10, matched: 0, skipped: 0, failed: 0, reconnects: 0, seconds: 1, altered: altered.length };
};

test('each altered message is listed in one warning on the timeline; none, no note', async () => {
  const notes: string[] = [];
  const ctx = { note: async (m: string) => { notes.push(m); } };
  await noteAlterations(ctx, report([]));
  assert.deepEqual(notes, []);
  await noteAlterations(ctx, report([{ uid: 4, destUid: 9, changes: ['arrival date 2090-06-07T08:09:10Z stored as 2026-12-06T09:00:00Z'] }, { uid: 5, destUid: null, changes: ['header rewritten (8-bit bytes not kept as sent)'] }]));
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /^Warning: the destination stored 2 message\(s\) otherwise/);
  assert.match(notes[0]!, /INBOX UID 4 → INBOX UID 9: arrival date 2090-06-07T08:09:10Z stored as 2026-12-06T09:00:00Z/);
  assert.match(notes[0]!, /INBOX UID 5 → INBOX: header rewritten/);
});
