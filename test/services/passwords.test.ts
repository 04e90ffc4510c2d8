import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generatePassword, meetsPasswordPolicy, readPasswordFile } from '../../server/services/passwords.ts';
import { tempDataDir } from '../support/cli.ts';

test('generated passwords always meet the platforms\' policy, use the whole alphabet evenly and never repeat', () => {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    const password = generatePassword();
    assert.match(password, /^[A-HJ-NP-Za-km-z2-9]{20}$/);
    assert.ok(meetsPasswordPolicy(password), password);
    seen.add(password);
    for (const c of password) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(seen.size, 5000);
  assert.equal(counts.size, 57);
  const expected = (5000 * 20) / 57;
  for (const [symbol, n] of counts) assert.ok(Math.abs(n - expected) / expected < 0.15, `${symbol}: ${n} vs ${expected.toFixed(0)}`);
});

test('the policy wants upper case, lower case and a digit', () => {
  assert.equal(meetsPasswordPolicy('abcdefGHIJ'), false);
  assert.equal(meetsPasswordPolicy('abcdef2345'), false);
  assert.equal(meetsPasswordPolicy('ABCDEF2345'), false);
  assert.equal(meetsPasswordPolicy('abcDEF2345'), true);
});

test('a password file names every bad line and keeps the good ones only when all are good', () => {
  const dir = tempDataDir();
  const good = path.join(dir, 'good.csv');
  writeFileSync(good, 'Address , source_password,dest_password\nA@Example.test,s1,\nb@example.test,,d2\n');
  const rows = readPasswordFile(good);
  assert.deepEqual([...rows], [['a@example.test', { source: 's1', dest: undefined }], ['b@example.test', { source: undefined, dest: 'd2' }]]);
  const bad = path.join(dir, 'bad.csv');
  writeFileSync(bad, 'address,source_password\nnot-an-address,x\nb@example.test,y\nb@example.test,z\n');
  assert.throws(() => readPasswordFile(bad), /line 2: "not-an-address" is not an e-mail address; line 4: b@example\.test appears twice/);
});
