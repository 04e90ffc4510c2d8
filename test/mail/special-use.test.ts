import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPECIAL_USES, specialUseByName } from '../../server/mail/special-use.ts';

test('the table covers the RFC 6154 uses the copy engine maps', () => {
  assert.deepEqual([...SPECIAL_USES].sort(), ['\\Archive', '\\Drafts', '\\Junk', '\\Sent', '\\Trash']);
});

test('English, French, German, Spanish and Japanese names map to their use', () => {
  const cases: Array<[string, string]> = [
    ['Sent', '\\Sent'], ['Sent Items', '\\Sent'], ['Envoyés', '\\Sent'], ['Éléments envoyés', '\\Sent'], ['Gesendet', '\\Sent'],
    ['Gesendete Objekte', '\\Sent'], ['Enviados', '\\Sent'], ['送信済み', '\\Sent'],
    ['Drafts', '\\Drafts'], ['Brouillons', '\\Drafts'], ['Entwürfe', '\\Drafts'], ['Borradores', '\\Drafts'], ['下書き', '\\Drafts'],
    ['Trash', '\\Trash'], ['Deleted Items', '\\Trash'], ['Corbeille', '\\Trash'], ['Papierkorb', '\\Trash'], ['Papelera', '\\Trash'], ['ゴミ箱', '\\Trash'],
    ['Junk', '\\Junk'], ['Spam', '\\Junk'], ['Courrier indésirable', '\\Junk'], ['Correo no deseado', '\\Junk'], ['迷惑メール', '\\Junk'],
    ['Archive', '\\Archive'], ['Archiv', '\\Archive'],
  ];
  for (const [name, use] of cases) assert.equal(specialUseByName(name), use, name);
});

test('matching ignores case, surrounding blanks and Unicode normalisation form', () => {
  assert.equal(specialUseByName('SENT ITEMS'), '\\Sent');
  assert.equal(specialUseByName('  Papierkorb '), '\\Trash');
  assert.equal(specialUseByName('Entwu\u0308rfe'), '\\Drafts', 'NFD ü');
  assert.equal(specialUseByName('E\u0301le\u0301ments envoye\u0301s'), '\\Sent', 'NFD é');
});

test('ordinary names, paths and INBOX are not special', () => {
  for (const name of ['INBOX', 'Projects', 'Sent/2023', 'Sentinel', 'Entwürfe & Ideen', '受信トレイ2', '', 'Sent Items 2']) {
    assert.equal(specialUseByName(name), undefined, JSON.stringify(name));
  }
});
