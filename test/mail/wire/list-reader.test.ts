import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ListResponse } from 'imapflow';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { listFolders } from '../../../server/mail/listing.ts';
import { namespaceOf } from '../../../server/mail/inventory.ts';
import { FetchReader } from '../../../server/mail/wire/fetcher.ts';
import { listAccount, readListing } from '../../../server/mail/wire/list-reader.ts';
import { decodeMailboxName, encodeMailboxName } from '../../../server/mail/wire/mutf7.ts';
import type { ImapEndpoint } from '../../../server/plugins/contract.ts';
import { imapAs, rawMessage, seed } from '../../support/mail.ts';

// The copy's own listing (NAMESPACE and LIST-EXTENDED in one round trip after the login): the
// parser on written answers, then the same account listed by it and by imapflow on a real Dovecot.

const answer = (text: string, literals: Buffer[] = []) => {
  const parts = text.split(/(?<=\{\d+\})\r\n/);
  return { parts, literals: [...literals, null] };
};

test('modified UTF-7 names decode back to what they were encoded from; & is &-', () => {
  for (const name of ['Éléments envoyés', 'Projets & clients', '日本語/サブ', 'plain', 'a&b&c']) assert.equal(decodeMailboxName(encodeMailboxName(name)), name);
  assert.equal(decodeMailboxName('Bo&AO4-te'), 'Boîte');
});

test('LIST answers read as imapflow reads them: \\Subscribed moved out of the flags, \\NonExistent implying \\Noselect, INBOX subscribed, one folder per special use', () => {
  const listing = readListing([
    answer('* NAMESPACE (("" "/")) NIL NIL'),
    answer('* LIST (\\HasNoChildren \\Sent \\Subscribed) "/" "Sent"'),
    answer('* LIST (\\HasNoChildren \\Sent) "/" "Archive/Old sent"'),
    answer('* LIST (\\HasChildren) "/" Archive ("CHILDINFO" ("SUBSCRIBED"))'),
    answer('* LIST (\\NonExistent \\Subscribed) "/" "Gone"'),
    answer('* LIST (\\HasNoChildren) "/" {16}\r\n', [Buffer.from('&AMk-l&AOk-ments')]),
    answer('* LIST (\\HasNoChildren) "/" "inbox"'),
    answer('* STATUS "inbox" (MESSAGES 3 UIDNEXT 9 UIDVALIDITY 77 HIGHESTMODSEQ 12)'),
    answer('* STATUS "Sent" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 78)'),
  ])!;
  assert.deepEqual(listing.namespace, { prefix: '', delimiter: '/' });
  const byPath = new Map(listing.folders.map((f) => [f.path, f]));
  assert.deepEqual(listing.folders.map((f) => f.path), ['INBOX', 'Sent', 'Archive', 'Archive/Old sent', 'Éléments', 'Gone']);
  assert.equal(byPath.get('INBOX')!.subscribed, true, 'INBOX always counts as subscribed');
  assert.deepEqual(byPath.get('INBOX')!.status, { path: 'INBOX', messages: 3, uidNext: 9, uidValidity: 77n, highestModseq: 12n });
  assert.deepEqual([...byPath.get('Sent')!.flags], ['\\HasNoChildren', '\\Sent']);
  assert.equal(byPath.get('Sent')!.subscribed, true);
  assert.equal(byPath.get('Sent')!.specialUse, '\\Sent');
  assert.equal(byPath.get('Archive/Old sent')!.specialUse, undefined, 'the shallower \\Sent has the use');
  assert.deepEqual([byPath.get('Archive/Old sent')!.name, byPath.get('Archive/Old sent')!.parentPath], ['Old sent', 'Archive']);
  assert.equal(byPath.get('Archive')!.subscribed, false);
  assert.ok(byPath.get('Gone')!.flags.has('\\Noselect'));
  assert.equal(byPath.get('Éléments')!.pathAsListed, '&AMk-l&AOk-ments');
});

test('what is not read for certain leaves the listing to imapflow: no INBOX, or an answer that does not parse', () => {
  assert.equal(readListing([answer('* LIST () "/" "Sent"')]), undefined);
  assert.throws(() => readListing([answer('* LIST \\Sent "/" "Sent"')]));
  assert.throws(() => readListing([answer('* STATUS "INBOX" (MESSAGES x)')]));
});

let dovecot: DovecotInstance;
const USER = 'lister@example.test';
before(async () => {
  dovecot = await startDovecot();
  await addDomain(dovecot, 'example.test');
  await addMailbox(dovecot, USER, 'pw');
  const client = await imapAs(dovecot, USER);
  try {
    for (const folder of ['Archive', 'Archive/2024', 'Projets & clients', 'Éléments envoyés', 'Not subscribed']) await client.mailboxCreate(folder);
    await client.mailboxUnsubscribe('Not subscribed');
  } finally {
    await client.logout();
  }
  await seed(dovecot, USER, [{ folder: 'INBOX', raw: rawMessage({ subject: 'a' }) }, { folder: 'Archive/2024', raw: rawMessage({ subject: 'b' }) }]);
});
after(async () => { await dovecot?.stop(); });

const endpoint = (): ImapEndpoint => ({ host: '127.0.0.1', port: dovecot.port, security: 'none', tlsVerify: false, auth: { user: USER, pass: 'pw' } });
const shape = (f: ListResponse) => ({
  path: f.path, pathAsListed: f.pathAsListed, delimiter: f.delimiter, flags: [...f.flags].sort(), subscribed: Boolean(f.subscribed),
  specialUse: f.specialUseSource === 'name' && f.path !== 'INBOX' ? undefined : f.specialUse,
  status: f.status && { messages: f.status.messages, uidNext: f.status.uidNext, uidValidity: f.status.uidValidity, highestModseq: f.status.highestModseq },
});

test('on a real Dovecot, the one-round-trip listing equals imapflow\'s: paths, names as listed, flags, subscriptions, special uses, STATUS, namespace', async () => {
  const reader = await FetchReader.connect(endpoint(), { stallMs: 10_000 });
  let ours;
  try {
    ours = await listAccount(reader, ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'HIGHESTMODSEQ']);
  } finally {
    await reader.logout();
  }
  assert.ok(ours, 'Dovecot has LIST-EXTENDED and LIST-STATUS');
  const client = await imapAs(dovecot, USER, 'pw');
  try {
    const theirs = await listFolders(client, { messages: true, uidNext: true, uidValidity: true, highestModseq: true });
    assert.deepEqual(ours.folders.map(shape), theirs.map(shape));
    assert.deepEqual(ours.namespace, namespaceOf(client, theirs));
    assert.ok(ours.folders.some((f) => f.path === 'Éléments envoyés' && f.pathAsListed !== f.path));
    assert.equal(ours.folders.find((f) => f.path === 'Archive/2024')!.status!.messages, 1);
  } finally {
    await client.logout();
  }
});
