import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { freePort } from '../../server/devservers/ports.ts';
import { cutover, tempDataDir } from '../support/cli.ts';

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
}

test('the quick-start demo runs the migration it prints, and stops its servers on Ctrl-C', { timeout: 180_000 }, async () => {
  const dataDir = tempDataDir();
  const panelPort = await freePort();
  const demo = cutover(['demo', '--port', String(panelPort), '--messages', '40'], { dataDir, timeoutMs: 170_000 });
  let output = '';
  demo.child.stdout!.on('data', (d) => { output += d; });
  const deadline = Date.now() + 60_000;
  while (!output.includes('panel: http://')) {
    assert.ok(Date.now() < deadline, `the demo did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const printed = /npx cutover (migrate .+)/.exec(output)![1]!.trim().split(/\s+/);
  const ports = [...output.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));

  const migration = cutover([...printed, '--json'], { dataDir, timeoutMs: 120_000 });
  while (!/waiting/.test((await cutover(['status', '--json'], { dataDir })).stdout)) await new Promise((r) => setTimeout(r, 300));
  const switched = await cutover(['demo', 'switch-dns'], { dataDir });
  assert.equal(switched.code, 0, switched.stderr);
  const result = await migration;
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.mailboxes.map((m: { state: string }) => m.state), ['done', 'done', 'done']);
  assert.deepEqual(report.mailboxes.map((m: { copiedMessages: number }) => m.copiedMessages), [40, 40, 40]);

  // The demo made an admin and printed its login: use it to read the project page.
  const [, user, password] = /Panel login: (\S+) \/ (\S+)/.exec(output)!;
  const panel = `http://127.0.0.1:${panelPort}`;
  const loginPage = await fetch(`${panel}/login`);
  const cookie = loginPage.headers.getSetCookie()[0]!.split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
  const login = await fetch(`${panel}/login`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, name: user!, password: password! }) });
  assert.equal(login.status, 303);
  const session = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const dashboard = await (await fetch(`${panel}/`, { headers: { cookie: session } })).text();
  const projectPath = /href="(\/projects\/\d+)"/.exec(dashboard)![1]!;
  const page = await (await fetch(`${panel}${projectPath}`, { headers: { cookie: session } })).text();
  assert.match(page, /alice@example\.test<\/a><\/td><td class="state done">done/);
  // The demo ends as a real migration does: every DNS check green, the overall dot too.
  const domainPage = await (await fetch(`${panel}${projectPath}/domains/example.test`, { headers: { cookie: session } })).text();
  assert.match(domainPage, /<p id="domain-status" data-status="ok">/, 'the overall dot is green');
  const statuses = [...domainPage.matchAll(/<tr data-check="([\w:-]+)" data-status="(\w+)">/g)].map((m) => `${m[1]}=${m[2]}`);
  assert.ok(statuses.length >= 4, statuses.join(' '));
  for (const status of statuses) assert.match(status, /=ok$/);

  demo.child.kill('SIGINT');
  assert.equal((await demo).code, 0);
  for (const port of ports) assert.ok(await refuses(port), `port ${port} still answers after the demo stopped`);
});
