// The openspf.org / RFC 7208 test suite against the SPF evaluation cutover uses: mailauth 4.x's
// check_host() over cutover's own transport and resolver adapter, each section's zonedata served
// by a real UDP/TCP server on loopback.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spf } from 'mailauth/lib/spf/index.js';
import YAML from 'yaml';
import { parseSpf } from '../../server/dns/checks/spf-syntax.ts';
import { nodeStyleResolver, ServerResolver } from '../../server/dns/resolver.ts';
import { serveZone, type ZoneData, type ZoneEntry } from './rfc7208-zone.ts';

// The openspf.org RFC 7208 suite (BSD licence alongside), vendored from shared/testdata so the test needs nothing outside the repository.
const SUITE = fileURLToPath(new URL('./fixtures/rfc7208-tests.yml', import.meta.url));
const EXCEPTIONS = JSON.parse(readFileSync(fileURLToPath(new URL('./rfc7208-exceptions.json', import.meta.url)), 'utf8')) as { cases: Record<string, { reason: string; syntaxCheck: boolean }> };

/** The suite's TIMEOUT names never answer; long enough that a busy machine's real answers still arrive. */
const TIMEOUT_MS = 700;

/** Sections whose cases are what cutover's SPF checks rest on; explanation texts and sender/HELO macros are not. */
const RELIED_ON = new Set([
  'Initial processing', 'Record lookup', 'Selecting records', 'Record evaluation', 'ALL mechanism syntax', 'PTR mechanism syntax',
  'A mechanism syntax', 'Include mechanism semantics and syntax', 'MX mechanism syntax', 'EXISTS mechanism syntax',
  'IP4 mechanism syntax', 'IP6 mechanism syntax', 'Processing limits', 'Test cases from implementation bugs',
]);

interface SuiteCase { helo: string; host: string; mailfrom: string; result: string | string[] }
interface SuiteDoc { description: string; tests: Record<string, SuiteCase>; zonedata?: ZoneData }

function spfOf(zone: ZoneData | undefined, mailfrom: string): string | null {
  const domain = (mailfrom.split('@').pop() ?? '').toLowerCase();
  const entries: ZoneEntry[] = Object.entries(zone ?? {}).find(([name]) => name.toLowerCase() === domain)?.[1] ?? [];
  for (const entry of entries) {
    if (entry === 'TIMEOUT') continue;
    const value = entry.SPF ?? entry.TXT;
    const text = Array.isArray(value) ? value.join('') : typeof value === 'string' ? value : '';
    if (/^v=spf1(\s|$)/i.test(text)) return text;
  }
  return null;
}

test('RFC 7208 suite: every case passes except the listed ones, and the cases cutover relies on all pass', { timeout: 120_000 }, async (t) => {
  const docs = YAML.parseAllDocuments(readFileSync(SUITE, 'utf8')).map((doc) => doc.toJSON() as SuiteDoc);
  const failed = new Map<string, string>();
  const records = new Map<string, string | null>();
  let total = 0;
  for (const doc of docs) {
    const server = await serveZone(doc.zonedata);
    try {
      for (const [name, c] of Object.entries(doc.tests)) {
        total += 1;
        const id = `${doc.description} / ${name}`;
        records.set(id, spfOf(doc.zonedata, c.mailfrom || `postmaster@${c.helo}`));
        // A fresh resolver per case: the suite's own counting of lookups must start at zero.
        const resolver = nodeStyleResolver(new ServerResolver([server], { timeoutMs: TIMEOUT_MS, retries: 0 }));
        const outcome = await spf({ sender: c.mailfrom, ip: c.host, helo: c.helo, mta: 'suite.test', resolver: resolver as never });
        const wanted = Array.isArray(c.result) ? c.result : [c.result];
        if (!wanted.includes(outcome.status.result)) failed.set(id, `expected ${wanted.join(' or ')}, got ${outcome.status.result}: ${outcome.status.comment ?? ''}`);
      }
    } finally {
      await server.stop();
    }
  }
  const listed = new Set(Object.keys(EXCEPTIONS.cases));
  const unexpected = [...failed].filter(([id]) => !listed.has(id)).map(([id, why]) => `${id}: ${why}`);
  const nowPassing = [...listed].filter((id) => !failed.has(id));
  t.diagnostic(`RFC 7208 suite: ${total - failed.size}/${total} passed; listed exceptions: ${[...listed].join(', ')}`);
  assert.equal(total, 203, 'the saved suite has 203 cases');
  assert.deepEqual(unexpected, [], 'cases that fail without being listed in rfc7208-exceptions.json');
  assert.deepEqual(nowPassing, [], 'listed cases that pass now: remove them from rfc7208-exceptions.json');

  // A relied-on case may only be an exception when cutover's own syntax check reports its record.
  for (const id of listed) {
    const section = id.split(' / ')[0]!;
    const entry = EXCEPTIONS.cases[id]!;
    assert.ok(entry.reason.length > 20, `${id}: the exception needs a reason`);
    if (RELIED_ON.has(section)) assert.equal(entry.syntaxCheck, true, `${id} is in a section cutover relies on`);
    if (entry.syntaxCheck) {
      const record = records.get(id);
      assert.ok(record, `${id}: no SPF record found for the case`);
      assert.notDeepEqual(parseSpf(record).errors, [], `${id}: the syntax check does not report "${record}"`);
    }
  }
});

test('RFC 7208 suite: cutover\'s own syntax check flags no record the suite evaluates without permerror', () => {
  const docs = YAML.parseAllDocuments(readFileSync(SUITE, 'utf8')).map((doc) => doc.toJSON() as SuiteDoc);
  const falseAlarms: string[] = [];
  let checked = 0;
  for (const doc of docs) {
    for (const [name, c] of Object.entries(doc.tests)) {
      const wanted = Array.isArray(c.result) ? c.result : [c.result];
      const record = spfOf(doc.zonedata, c.mailfrom || `postmaster@${c.helo}`);
      if (!record || wanted.includes('permerror') || wanted.includes('none')) continue;
      checked += 1;
      const errors = parseSpf(record).errors;
      if (errors.length > 0) falseAlarms.push(`${doc.description} / ${name}: "${record}": ${errors.join('; ')}`);
    }
  }
  assert.ok(checked > 100, `only ${checked} records checked`);
  assert.deepEqual(falseAlarms, []);
});
