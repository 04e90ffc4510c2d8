import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMailboxFile, parsePastedAccounts } from '../../server/services/import-parse.ts';

test('the Microsoft 365 columns: a login per side next to each password, under either spelling', async () => {
  const rows = await parseMailboxFile(Buffer.from('address,source_login,source_password,dest_login,dest_password\nalice@example.com,alice,old-pw,alice.smith@example.com,new-pw\nbob@example.com,,bob-pw,,\n'));
  assert.deepEqual(rows, [
    { line: 2, address: 'alice@example.com', sourceLogin: 'alice', sourcePassword: 'old-pw', destLogin: 'alice.smith@example.com', destPassword: 'new-pw' },
    { line: 3, address: 'bob@example.com', sourcePassword: 'bob-pw', destPassword: undefined },
  ]);
  // Exchange Online's own batch file: EmailAddress,UserName,Password.
  const m365 = await parseMailboxFile(Buffer.from('EmailAddress,UserName,Password\r\ncarol@example.com,carol@old-host.example,pw1\r\n'));
  assert.deepEqual(m365, [{ line: 2, address: 'carol@example.com', sourceLogin: 'carol@old-host.example', sourcePassword: 'pw1', destPassword: undefined }]);
});

test('a pasted list: bare addresses one per line, or CSV with its header', async () => {
  assert.deepEqual((await parsePastedAccounts('alice@example.com\n\nbob@example.com\n')).map((r) => [r.line, r.address, r.sourcePassword]), [[1, 'alice@example.com', undefined], [3, 'bob@example.com', undefined]]);
  // Without a header, the template's order: address, source_login, source_password, dest_login, dest_password.
  assert.deepEqual(await parsePastedAccounts('alice@example.com,alice,pw'), [{ line: 1, address: 'alice@example.com', sourceLogin: 'alice', sourcePassword: 'pw', destPassword: undefined }]);
  assert.deepEqual(await parsePastedAccounts('email;password\nalice@example.com;pw\n'), [{ line: 2, address: 'alice@example.com', sourcePassword: 'pw', destPassword: undefined }]);
  await assert.rejects(parsePastedAccounts('   \n'), /the file has a header but no mailbox rows/);
});
