import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { startSmtpSink } from '../notify/smtp-sink.ts';
import { letterTick } from '../../server/daily/letters.ts';
import { sampleStates } from '../../server/daily/charts.ts';
import { Client, startPanel } from '../web/client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let client: Client;
let csrf: string;

before(async () => {
  sink = await startSmtpSink();
  panel = await startPanel({}, { CUTOVER_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, CUTOVER_SMTP_FROM: 'cutover@panel.example.test', CUTOVER_PANEL_URL: 'http://panel.example.test/panel' });
  client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
  csrf = JSON.parse((await client.request('/api/session')).text).csrfToken;
});
after(async () => { await panel?.close(); await sink?.close(); });

const api = async (method: string, path: string, json?: unknown) => {
  const res = await client.request(`/api${path}`, { method, json, headers: { 'x-csrf-token': csrf } });
  return { status: res.status, body: res.text ? JSON.parse(res.text) : null };
};
const formOf = async (path: string) => (await client.token(path));

test('the schedule form needs its CSRF token, refuses bad input in the admin\'s words, and the page says what the project waits for', async () => {
  const p = await insertProject(panel.app.db);
  const page = `/projects/${p.projectId}`;
  const noToken = await client.request(`${page}/schedule`, { form: { startAt: '2030-01-01T20:00', timeZone: 'Europe/Paris' } });
  assert.equal(noToken.status, 403, 'a form without its CSRF token is refused');
  for (const [form, words] of [
    [{ timeZone: 'Mars/Olympus' }, /is not a time zone/],
    [{ timeZone: 'UTC', startAt: 'tomorrow' }, /is not a date and time/],
    [{ timeZone: 'UTC', windowFrom: '20:00' }, /both ends of the window/],
    [{ timeZone: 'UTC', cap: '12' }, /not a number of bytes per second/],
    [{ timeZone: 'UTC', cap: 'lots' }, /not a number of bytes per second/],
    [{ timeZone: 'UTC', retentionDays: '99999' }, /between 0 and 3650/],
  ] as const) {
    const res = await client.request(`${page}/schedule`, { form: { _csrf: await formOf(page), ...form } });
    assert.equal(res.status, 303, JSON.stringify(form));
    assert.match((await client.request(page)).text, new RegExp(`class="flash error"[^>]*>[^<]*${words.source}`));
  }
  const saved = await client.request(`${page}/schedule`, { form: { _csrf: await formOf(page), startAt: '2031-01-06T20:00', timeZone: 'Europe/Paris', windowFrom: '20:00', windowTo: '07:00', windowZone: 'Europe/Paris', cap: '2M', hostCap: '1M', retentionDays: '30' } });
  assert.equal(saved.status, 303);
  const html = (await client.request(page)).text;
  assert.match(html, /data-host-cap="1048576">Source host src-\d+ capped at 1\.0 MB\/s\./);
  const project = await panel.app.db('projects').where({ id: p.projectId }).first();
  assert.equal(Number((await panel.app.db('platforms').where({ id: project.source_platform_id }).first()).max_bytes_per_second), 1048576);
  const source = (await panel.app.db('platforms').where({ id: project.source_platform_id }).first()).name;
  assert.equal((await api('PUT', `/platforms/${source}/bandwidth`, { maxBytesPerSecond: 12 })).status, 400);
  assert.equal((await api('PUT', `/platforms/${source}/bandwidth`, { maxBytesPerSecond: 4096 })).status, 200);
  assert.equal((await api('GET', `/projects/${p.projectId}/schedule`)).body.sourceHost.maxBytesPerSecond, 4096);
  assert.match(html, /data-hold="start">Waits for its start time: <time datetime="2031-01-06T19:00:00.000Z"[^>]*>on /);
  assert.match(html, /data-cap="2097152"/);
  const options = JSON.parse((await panel.app.db('projects').where({ id: p.projectId }).first()).options);
  assert.deepEqual({ startAt: options.startAt, copyWindow: options.copyWindow, cap: options.maxBytesPerSecond, days: options.retentionDays }, { startAt: '2031-01-06T19:00:00.000Z', copyWindow: { from: '20:00', to: '07:00', timeZone: 'Europe/Paris' }, cap: 2097152, days: 30 });
  const audit = await panel.app.db('audit').where({ action: 'project.schedule' }).orderBy('id', 'desc').first();
  assert.match(audit.detail, /startAt="2031-01-06T19:00:00.000Z"/);
});

test('the API reads and changes the schedule while the project runs, and says "waits for 20:00"', async () => {
  const p = await insertProject(panel.app.db);
  const waiting = await insertMailbox(panel.app.db, p, 'w@example.test', { state: 'waiting', next_run_at: Date.now() + 3600_000, manual_instructions: 'schedule: waits for 20:00 (UTC): copy window 20:00–07:00' });
  const hour = new Date().getUTCHours();
  const closed = { from: `${String((hour + 2) % 24).padStart(2, '0')}:00`, to: `${String((hour + 3) % 24).padStart(2, '0')}:00`, timeZone: 'UTC' };
  const put = await api('PUT', `/projects/${p.projectId}/schedule`, { copyWindow: closed, maxBytesPerSecond: 500_000 });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.hold.reason, 'window');
  assert.match(put.body.hold.message, new RegExp(`waits for ${closed.from} \\(UTC\\)`));
  assert.equal(put.body.woken, 1, 'the mailbox waiting on the old schedule looks again');
  assert.equal(Number((await panel.app.db('mailboxes').where({ id: waiting }).first()).next_run_at), 0);
  const got = await api('GET', `/projects/${p.projectId}/schedule`);
  assert.deepEqual([got.body.maxBytesPerSecond, got.body.copyWindow], [500_000, closed]);
  assert.match((await client.request(`/projects/${p.projectId}`)).text, new RegExp(`data-hold="window">Waits for ${closed.from} \\(UTC\\): copy window ${closed.from}–${closed.to}`));
  for (const bad of [{ copyWindow: { from: '7pm', to: '07:00' } }, { maxBytesPerSecond: -1 }, { startAt: '2030-01-01' }, { retentionDays: 4000 }, { unknown: 1 }]) {
    assert.equal((await api('PUT', `/projects/${p.projectId}/schedule`, bad)).status, 400, JSON.stringify(bad));
  }
  const cleared = await api('PUT', `/projects/${p.projectId}/schedule`, { copyWindow: null, maxBytesPerSecond: null });
  assert.equal(cleared.body.hold, null);
});

test('an admin\'s own time zone and language: times on the pages, and inside sentences, follow them', async () => {
  const p = await insertProject(panel.app.db);
  const started = new Date(Date.now() - 3 * 60_000).toISOString();
  await api('PUT', `/projects/${p.projectId}/schedule`, { startAt: started });
  const page = `/projects/${p.projectId}`;
  assert.match((await client.request(page)).text, /Starts <time datetime="[^"]+" title="[^"]+">3\sminutes\sago<\/time>\./);
  const bad = await client.request('/settings', { form: { _csrf: await formOf('/settings'), timeZone: 'Nowhere/Land', language: 'fr' } });
  assert.match((await client.request('/settings')).text, /class="flash error"[^>]*>[^<]*Nowhere\/Land/);
  assert.equal((await panel.app.db('users').where({ name: 'root' }).first()).time_zone, null, 'nothing saved');
  const saved = await client.request('/settings', { form: { _csrf: await formOf('/settings'), timeZone: 'Asia/Tokyo', language: 'fr' } });
  try {
  assert.equal(saved.status, 303);
  const html = (await client.request(page)).text;
  assert.match(html, /Démarre <time datetime="[^"]+" title="[^"]+">il\sy\sa\s3\sminutes<\/time>\./, 'a recent time reads right inside the French sentence');
  // An absolute time in a sentence brings its preposition, in Tokyo time (UTC+9).
  await api('PUT', `/projects/${p.projectId}/schedule`, { startAt: '2031-01-06T19:00:00Z' });
  assert.match((await client.request(page)).text, /Attend son heure de départ : <time datetime="2031-01-06T19:00:00.000Z" title="7\sjanv\.\s2031,\s04:00:00">le\s7\sjanv\.\s2031,\s04:00:00<\/time>\./);
  assert.deepEqual(JSON.parse((await client.request('/api/settings')).text).timeZone, 'Asia/Tokyo');
  const user = await panel.app.db('users').where({ name: 'root' }).first();
  assert.deepEqual([user.time_zone, user.language], ['Asia/Tokyo', 'fr']);
  // A new session (next login) starts with them.
  const again = new Client(panel.url);
  await again.login();
  assert.match((await again.request(page)).text, /<html lang="fr">[\s\S]*title="7\sjanv\.\s2031,\s04:00:00"/);
  } finally {
    await client.request('/settings', { form: { _csrf: await formOf('/settings'), timeZone: '', language: 'en' } });
  }
});

test('charts: server-side SVG with a title, a description and the figures as a table, on the project and the mailbox page', async () => {
  const p = await insertProject(panel.app.db);
  const m = await insertMailbox(panel.app.db, p, 'c@example.test', { state: 'queued' });
  const empty = (await client.request(`/projects/${p.projectId}`)).text;
  assert.match(empty, /Nothing copied yet\./);
  const minute = Math.floor(Date.now() / 60_000) - 5;
  await panel.app.db('progress_samples').insert([0, 1, 2, 3].map((i) => ({ mailbox_id: m, project_id: p.projectId, minute: minute + i, messages: [10, 40, 25, 5][i], bytes: [1e5, 4e5, 2.5e5, 5e4][i] })));
  await sampleStates(panel.app);
  const html = (await client.request(`/projects/${p.projectId}`)).text;
  const svg = /<svg class="chart-svg"[^>]*role="img" aria-labelledby="chart-messages-t chart-messages-d"[\s\S]*?<\/svg>/.exec(html)?.[0];
  assert.ok(svg, 'the messages chart is an inline SVG with its accessible name');
  assert.match(svg, /<title id="chart-messages-t">Messages copied per minute<\/title><desc id="chart-messages-d">80 messages in 4 min; busiest minute [^<]+ with 40\.<\/desc>/);
  assert.equal((svg.match(/<path class="line s-messages" d="M[\d. L]+"/g) ?? []).length, 1);
  assert.match(html, /id="chart-bytes"[\s\S]*?800 kB in 4 min/);
  assert.match(html, /id="chart-states"[\s\S]*?queued 1/);
  assert.match(html, /<details class="chart-figures"><summary>Minute · 4<\/summary><table><tr><th>Minute<\/th><th>Messages<\/th><\/tr>/);
  assert.doesNotMatch(html, /<script[^>]*chart/i, 'no charting script');
  const mailbox = (await client.request(`/mailboxes/${m}`)).text;
  assert.match(mailbox, /<title id="chart-mailbox-t">Messages copied so far<\/title><desc id="chart-mailbox-d">80 messages \(800 kB\) copied by/);
  const data = JSON.parse((await client.request(`/api/projects/${p.projectId}/charts`)).text);
  assert.deepEqual(data.throughput.map((r: { messages: number }) => r.messages), [10, 40, 25, 5]);
});

test('letters: edited per project and language with their placeholders checked, previewed, and the page lists them', async () => {
  const p = await insertProject(panel.app.db);
  await insertMailbox(panel.app.db, p, 'lea@example.test', { state: 'queued', step: 'preflight' });
  const page = `/projects/${p.projectId}/letters/before`;
  const first = await client.request(page);
  assert.equal(first.status, 200);
  assert.match(first.text, /Your mailbox lea@example\.test is moving \/ Votre boîte lea@example\.test déménage/);
  assert.equal((await client.request(page, { form: { lang: 'fr', what: 'save', subject: 'x', body: 'y' } })).status, 403, 'CSRF');
  const unknown = await client.request(page, { form: { _csrf: await formOf(page), lang: 'fr', what: 'save', subject: 'Déménagement', body: 'Bonjour {prenom}' } });
  assert.match((await client.request(page)).text, /class="flash error"[^>]*>unknown placeholder\(s\) \{prenom\}/);
  await client.request(page, { form: { _csrf: await formOf(page), lang: 'fr', what: 'save', subject: 'a'.repeat(201), body: 'b' } });
  assert.match((await client.request(page)).text, /class="flash error"[^>]*>the subject must be one line of 1 to 200 characters/);
  const ok = await client.request(page, { form: { _csrf: await formOf(page), lang: 'fr', what: 'save', subject: 'Déménagement de {address}', body: 'Bonjour,\nvotre boîte {address} change de service {when}.' } });
  assert.equal(ok.status, 303);
  const preview = JSON.parse((await client.request(`/api/projects/${p.projectId}/letters/before/preview`)).text);
  assert.equal(preview.to, 'lea@example.test');
  assert.match(preview.subject, /Déménagement de lea@example\.test/);
  assert.match(preview.text, /votre boîte lea@example\.test change de service dans les prochains jours\./);
  const api2 = await api('PUT', `/projects/${p.projectId}/letters/after/en`, { subject: 'Welcome {address}', body: 'Password: {passwordLink}' });
  assert.equal(api2.status, 200);
  assert.equal((await api('PUT', `/projects/${p.projectId}/letters/after/en`, { subject: 'Welcome', body: '{secret}' })).status, 400);
  assert.equal((await api('PUT', `/projects/${p.projectId}/letters/sideways/en`, { subject: 'a', body: 'b' })).status, 400);
});

test('letters go once each, through the SMTP server, with the start time inside the sentence and a one-time password link', async () => {
  const p = await insertProject(panel.app.db);
  const startAt = '2031-03-10T19:30:00Z';
  const scheduled = await api('PUT', `/projects/${p.projectId}/schedule`, { startAt, timeZone: 'Europe/Paris', letters: { before: true, after: true } });
  assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
  const sealed = panel.app.box.seal('Gen-Pw-42-xyz');
  const mb = await insertMailbox(panel.app.db, p, 'zoe@example.test', { state: 'queued', step: 'preflight', dest_password_generated: true, dest_password_sealed: sealed });
  const seen = sink.received.length;
  await letterTick(panel.app);
  await letterTick(panel.app);
  const before = sink.received.slice(seen);
  if (before.length !== 1) console.log(JSON.stringify(await panel.app.db('letters')), JSON.stringify(await panel.app.db('mailboxes').where({ id: mb })));
  assert.equal(before.length, 1, 'one letter before the move, once');
  assert.deepEqual(before[0]!.to, ['zoe@example.test']);
  assert.match(before[0]!.subject, /Your mailbox zoe@example\.test is moving \/ Votre boîte zoe@example\.test déménage/);
  assert.match(before[0]!.text, /moves to a new mail service on Monday, 10 March 2031 at 20:30 CET\./);
  assert.match(before[0]!.text, /passe à un nouveau service de messagerie le lundi 10 mars 2031 à 20:30\sUTC\+1\./);
  await panel.app.db('mailboxes').where({ id: mb }).update({ state: 'done', step: 'finalize' });
  await letterTick(panel.app);
  await letterTick(panel.app);
  const afterMails = sink.received.slice(seen + 1);
  assert.equal(afterMails.length, 1, 'one welcome letter, once');
  const welcome = afterMails[0]!;
  assert.doesNotMatch(welcome.text, /Gen-Pw-42-xyz/, 'never the password in the mail');
  const link = /http:\/\/panel\.example\.test\/panel(\/welcome\/[A-Za-z0-9_-]{43})/.exec(welcome.text);
  assert.ok(link, welcome.text);
  const visitor = new Client(panel.url);
  const landing = await visitor.request(link[1]!);
  assert.equal(landing.status, 200);
  assert.doesNotMatch(landing.text, /Gen-Pw-42-xyz/, 'opening the link (a mail scanner) does not show or use it');
  const token = /name="_csrf" value="([^"]+)"/.exec(landing.text)![1]!;
  const shown = await visitor.request(link[1]!, { form: { _csrf: token } });
  assert.match(shown.text, /<code id="welcome-password">Gen-Pw-42-xyz<\/code>/);
  const again = await visitor.request(link[1]!, { form: { _csrf: token } });
  assert.equal(again.status, 410);
  assert.doesNotMatch(again.text, /Gen-Pw-42-xyz/);
  const html = (await client.request(`/projects/${p.projectId}`)).text;
  assert.match(html, /data-letter="before" data-sent="1"/);
  assert.match(html, /data-letter="after" data-sent="1"/);
  const rows = await panel.app.db('letters').where({ project_id: p.projectId });
  assert.deepEqual(rows.map((r) => [r.kind, r.status]).sort(), [['after', 'sent'], ['before', 'sent']]);
});

test('delete now: refused while a mailbox runs, confirmed, then passwords and per-message rows are gone and the counts stay', async () => {
  const p = await insertProject(panel.app.db);
  const mb = await insertMailbox(panel.app.db, p, 'del@example.test', { state: 'waiting', source_password_sealed: panel.app.box.seal('src-secret'), dest_password_sealed: panel.app.box.seal('dst-secret') });
  await panel.app.db('ledger').insert({ mailbox_id: mb, source_folder: 'INBOX', uidvalidity: 1, uid: 1, dest_folder: 'INBOX', dest_uid: 1, size: 1234, fingerprint: 'fp-secretish', pass: 1 });
  const refused = await api('POST', `/projects/${p.projectId}/purge`, { confirm: true });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, 'PROJECT_BUSY');
  await panel.app.db('mailboxes').where({ id: mb }).update({ state: 'done' });
  assert.equal((await api('POST', `/projects/${p.projectId}/purge`, {})).status, 400, 'needs confirm: true');
  const page = `/projects/${p.projectId}`;
  const unconfirmed = await client.request(`${page}/purge`, { form: { _csrf: await formOf(page) } });
  assert.equal(unconfirmed.status, 303);
  assert.equal(await panel.app.db('ledger').where({ mailbox_id: mb }).count({ n: '*' }).first().then((r) => Number(r?.n)), 1, 'nothing deleted without the box ticked');
  const done = await client.request(`${page}/purge`, { form: { _csrf: await formOf(page), confirm: 'yes' } });
  assert.equal(done.status, 303);
  const row = await panel.app.db('mailboxes').where({ id: mb }).first();
  assert.deepEqual([row.source_password_sealed, row.dest_password_sealed], [null, null]);
  assert.equal(JSON.parse(row.purged_tally).copiedMessages, 1, 'the count stays');
  assert.equal(await panel.app.db('ledger').where({ mailbox_id: mb }).count({ n: '*' }).first().then((r) => Number(r?.n)), 0);
  const html = (await client.request(page)).text;
  assert.match(html, /Migration data deleted <time/);
  const audit = await panel.app.db('audit').where({ action: 'project.purge' }).orderBy('id', 'desc').first();
  assert.match(audit.detail, /requested by an admin: 1 mailbox\(es\), 2 stored password\(s\)\/login\(s\), 1 ledger row\(s\)/);
});

test('a mailbox\'s timeline is paged in SQL, newest first, 100 events a page', async () => {
  const p = await insertProject(panel.app.db);
  const m = await insertMailbox(panel.app.db, p, 'long@example.test', { state: 'waiting', step: 'delta-sync' });
  const base = Date.parse('2026-11-01T00:00:00Z');
  await panel.app.db('events').insert(Array.from({ length: 250 }, (_, i) => ({ project_id: p.projectId, mailbox_id: m, step: 'delta-sync', outcome: 'progress', message: `pass ${i + 1}`, actor: 'worker', at: new Date(base + i * 60_000).toISOString() })));
  const first = (await client.request(`/mailboxes/${m}`)).text;
  const messages = (html: string) => [...html.matchAll(/<td>(pass \d+)<\/td>/g)].map((x) => x[1]);
  assert.deepEqual(messages(first).slice(0, 2), ['pass 250', 'pass 249']);
  assert.equal(messages(first).length, 100);
  assert.match(first, /id="timeline-pages"><span>Page 1 of 3<\/span><a href="\?events=2" rel="next">/);
  const last = (await client.request(`/mailboxes/${m}?events=3`)).text;
  assert.equal(messages(last).length, 50);
  assert.equal(messages(last).at(-1), 'pass 1');
  assert.equal(messages((await client.request(`/mailboxes/${m}?events=99`)).text).length, 50, 'a page past the end shows the last');
});
