import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CutoverError } from '../server/errors.ts';
import { loadSecretKey, secretBox } from '../server/secrets.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tempDir = () => { const d = mkdtempSync(path.join(os.tmpdir(), 'cutover-secrets-')); dirs.push(d); return d; };

const isConfigInvalid = (err: unknown) => err instanceof CutoverError && err.code === 'CONFIG_INVALID';

test('seal/open round trip, including empty, unicode and long values; every seal is different', () => {
  const box = secretBox(randomBytes(32));
  for (const plain of ['', 'hunter2', 'pässwörd 🔑 パスワード', 'x'.repeat(100_000), '{"a":"b:c:d"}']) {
    const sealed = box.seal(plain);
    assert.equal(box.open(sealed), plain);
    assert.ok(!sealed.includes(plain) || plain === '', 'the plain text does not show');
    assert.match(sealed, /^v1:/);
  }
  assert.notEqual(box.seal('same'), box.seal('same'), 'a fresh IV per seal');
});

test('any tampering is detected: body, tag, IV, version', () => {
  const box = secretBox(randomBytes(32));
  const sealed = box.seal('the master password');
  const [v, iv, tag, body] = sealed.split(':') as [string, string, string, string];
  const flip = (b64: string) => { const b = Buffer.from(b64, 'base64'); b[0]! ^= 1; return b.toString('base64'); };
  for (const bad of [
    [v, iv, tag, flip(body)].join(':'),
    [v, iv, flip(tag), body].join(':'),
    [v, flip(iv), tag, body].join(':'),
    ['v2', iv, tag, body].join(':'),
    [v, iv, tag].join(':'),
    'not sealed at all',
  ]) {
    assert.throws(() => box.open(bad), isConfigInvalid, bad);
  }
});

test('a truncated authentication tag is rejected', () => {
  const box = secretBox(randomBytes(32));
  const [v, iv, tag, body] = box.seal('the master password').split(':') as [string, string, string, string];
  const short = Buffer.from(tag, 'base64').subarray(0, 4).toString('base64');
  assert.throws(() => box.open([v, iv, short, body].join(':')), isConfigInvalid);
});

test('a stored value whose IV or tag has the wrong length is a CONFIG_INVALID, not a raw crypto TypeError', () => {
  const box = secretBox(randomBytes(32));
  const [v, iv, tag, body] = box.seal('x').split(':') as [string, string, string, string];
  assert.throws(() => box.open([v, '!!!!', tag, body].join(':')), isConfigInvalid, 'IV decodes to 0 bytes');
  assert.throws(() => box.open([v, iv, Buffer.alloc(20).toString('base64'), body].join(':')), isConfigInvalid, '20-byte tag');
});

test('a value sealed with another key is a CONFIG_INVALID that says so', () => {
  const sealed = secretBox(randomBytes(32)).seal('secret');
  assert.throws(() => secretBox(randomBytes(32)).open(sealed), (err: unknown) => isConfigInvalid(err) && /another key/.test((err as Error).message));
});

test('a key that is not 32 bytes is refused', () => {
  for (const len of [0, 16, 31, 33, 64]) assert.throws(() => secretBox(randomBytes(len)), isConfigInvalid, `${len} bytes`);
});

test('the key file is created once, 0600, and reused', () => {
  const dir = tempDir();
  const first = loadSecretKey(dir);
  const file = path.join(dir, 'secret.key');
  assert.equal(first.length, 32);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const content = readFileSync(file, 'utf8');
  const second = loadSecretKey(dir);
  assert.deepEqual(second, first);
  assert.equal(readFileSync(file, 'utf8'), content, 'the file is not rewritten');
  // What one process sealed, the next one opens.
  assert.equal(secretBox(second).open(secretBox(first).seal('persisted')), 'persisted');
  // Another data directory, another key.
  assert.notDeepEqual(loadSecretKey(tempDir()), first);
});

test('an existing key file is used as it is (trailing newline tolerated)', () => {
  const dir = tempDir();
  const key = randomBytes(32);
  writeFileSync(path.join(dir, 'secret.key'), `${key.toString('base64')}\n`, { mode: 0o600 });
  assert.deepEqual(loadSecretKey(dir), key);
});

test('the key from the environment wins over the file, and a wrong-length one is caught by secretBox', () => {
  const dir = tempDir();
  const key = randomBytes(32);
  assert.deepEqual(loadSecretKey(dir, key.toString('base64')), key);
  assert.throws(() => statSync(path.join(dir, 'secret.key')), /ENOENT/, 'no file created when the environment gives the key');
  assert.throws(() => secretBox(loadSecretKey(dir, randomBytes(20).toString('base64'))), isConfigInvalid);
});
