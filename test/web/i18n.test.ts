import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fromAcceptLanguage, t } from '../../server/web/i18n.ts';
import { Client, startPanel } from './client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
before(async () => { panel = await startPanel(); });
after(async () => { await panel?.close(); });

test('Accept-Language picks the first supported language by quality', () => {
  assert.equal(fromAcceptLanguage('fr-FR,fr;q=0.9,en;q=0.8'), 'fr');
  assert.equal(fromAcceptLanguage('de-DE,en;q=0.5,fr;q=0.7'), 'fr');
  assert.equal(fromAcceptLanguage('de'), 'en');
  assert.equal(fromAcceptLanguage(undefined), 'en');
  assert.equal(t('fr', 'nav.signedInAs', { name: 'x' }), 'Connecté en tant que x');
});

test('pages follow Accept-Language, and the switch stored in the session wins over it', async () => {
  const client = new Client(panel.url, { 'accept-language': 'fr-FR,fr;q=0.9' });
  const login = await client.request('/login');
  assert.match(login.text, /<html lang="fr">/);
  assert.match(login.text, /Se connecter/);
  assert.equal((await client.login()).status, 303);
  assert.match((await client.request('/')).text, /Tableau de bord/);
  const switched = await client.request('/language', { form: { _csrf: await client.token('/'), lang: 'en', back: '/panel/' } });
  assert.equal(switched.status, 303);
  assert.equal(switched.headers.get('location'), '/panel/');
  const home = await client.request('/');
  assert.match(home.text, /<html lang="en">/);
  assert.match(home.text, />Dashboard</);
  assert.equal((await panel.app.db('users').where({ name: 'root' }).first()).language, 'en', 'remembered for the next login');
  const offsite = await client.request('/language', { form: { _csrf: await client.token('/'), lang: 'fr', back: '//evil.example/' } });
  assert.equal(offsite.headers.get('location'), '/panel/', 'never redirects off the panel');
});
