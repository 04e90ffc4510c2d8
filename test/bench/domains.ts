// The Domains page with 5,000 domains, and the re-check job's time for the same 5,000 against a
// local Knot (one zone, example.test, holding every domain's records: a third switched, a third
// still on the old MX, a third without SPF). Prints the page's median/p95 over real HTTP requests
// and the job's wall time. Run: node --import tsx test/bench/domains.ts  (BENCH_DOMAINS=N to change)
import { performance } from 'node:perf_hooks';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import { recheckAllDomains } from '../../server/dns/recheck.ts';
import { startKnot } from '../../server/devservers/knot.ts';
import { Client, startPanel } from '../web/client.ts';

const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 5_000);
const REQUESTS = 20;
const names = Array.from({ length: DOMAINS }, (_, i) => `d${String(i).padStart(5, '0')}.example.test`);
const records = names.flatMap((name, i) => {
  const label = name.replace('.example.test', '');
  const mx = i % 3 === 1 ? 'mx.old.example.test.' : 'mx.new.example.test.';
  return [`${label} IN MX 10 ${mx}`, ...(i % 3 === 2 ? [] : [`${label} IN TXT "v=spf1 include:spf.new.example.test -all"`])];
});
records.push('mx.new IN A 127.0.0.1', 'mx.old IN A 127.0.0.2', 'spf.new IN TXT "v=spf1 ip4:127.0.0.1 -all"');

const knot = await startKnot({ zone: 'example.test', records });
const panel = await startPanel();
try {
  const nameserver = `127.0.0.1:${knot.port}`;
  const platformId = await insertPlatform(panel.app.db, panel.app.box, 'bench-new', 'imap', {
    host: '127.0.0.1', expectedDns: { mx: [{ priority: 10, exchange: 'mx.new.example.test' }], spfIncludes: ['spf.new.example.test'] },
  });
  const now = new Date().toISOString();
  for (let i = 0; i < names.length; i += 500) {
    await panel.app.db('watched_domains').insert(names.slice(i, i + 500).map((name) => ({ name, platform_id: platformId, source: 'manual', nameservers: nameserver, created_at: now })));
  }

  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const t0 = performance.now();
  const summary = await recheckAllDomains(panel.app, { concurrency });
  const jobSeconds = (performance.now() - t0) / 1000;

  const client = new Client(panel.url);
  if ((await client.login()).status !== 303) throw new Error('bench: login failed');
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const res = await client.request('/domains');
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`bench: /domains answered ${res.status}`);
    bytes = res.text.length;
  }
  times.sort((a, b) => a - b);
  const statuses = (await panel.app.db("domain_checks").select("status").count({ n: "*" }).groupBy("status")) as unknown as Array<{ status: string; n: number }>;
  console.log(`domains bench: ${DOMAINS.toLocaleString('en')} domains against Knot on ${nameserver}`);
  console.log(`  re-check job (concurrency ${concurrency}): ${jobSeconds.toFixed(1)} s, ${(DOMAINS / jobSeconds).toFixed(0)} domains/s; ${summary.notGreen} not green; ${statuses.map((s) => `${s.status} ${s.n}`).join(', ')}`);
  console.log(`  Domains page: median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(1)} ms (${(bytes / 1024 / 1024).toFixed(1)} MB of HTML), ${REQUESTS} requests`);
} finally {
  await panel.close();
  await knot.stop();
}
