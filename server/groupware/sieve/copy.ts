// Copies an account's Sieve scripts (mail filters, and the auto-reply, which is a vacation script)
// through ManageSieve, and keeps the active one active. A script the destination cannot compile
// (CHECKSCRIPT fails: an extension it lacks) goes to the skip list with the server's words, the
// line and the extension, and is never activated there.
import { createHash } from 'node:crypto';
import { crashpoint } from '../../crashpoint.ts';
import type { CollectionReport, GroupwareLedger, LedgerItem } from '../ledger.ts';
import type { ManageSieve } from './client.ts';

export const SIEVE_COLLECTION = 'sieve:';

const hash = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface SieveCopyOptions { source: ManageSieve; dest: ManageSieve; ledger: GroupwareLedger; pass: number }

export async function copySieve(opts: SieveCopyOptions): Promise<CollectionReport> {
  const { source, dest, ledger, pass } = opts;
  const report: CollectionReport = { sourceId: SIEVE_COLLECTION, kind: 'filters', name: 'Mail filters and auto-reply (Sieve)', destHref: dest.host, state: 'copied', reason: null, items: 0, copied: 0, updated: 0, unchanged: 0, deleted: 0, skipped: 0, pass };
  const known = await ledger.items(SIEVE_COLLECTION);
  const scripts = await source.listScripts();
  const there = new Map((await dest.listScripts()).map((s) => [s.name, s.active]));
  const destVersion = async (name: string) => (there.has(name) ? hash(await dest.getScript(name)) : undefined);
  const placed = new Set<string>();
  const notes: string[] = [];

  for (const script of scripts) {
    report.items++;
    const sourceId = `${SIEVE_COLLECTION}${script.name}`;
    const data = await source.getScript(script.name);
    const version = hash(data);
    const row: LedgerItem | undefined = known.get(sourceId);
    const skip = async (reason: string) => {
      await ledger.skip({ sourceId, collection: SIEVE_COLLECTION, sourceVersion: version, reason, pass });
      report.skipped++;
    };
    const current = await destVersion(script.name);
    if (row && row.sourceVersion === version && current === row.destVersion) { report.unchanged++; placed.add(script.name); continue; }
    if (current === version) {
      await ledger.record({ sourceId, collection: SIEVE_COLLECTION, uid: null, sourceVersion: version, destHref: script.name, destVersion: version, pass });
      report.unchanged++;
      placed.add(script.name);
      continue;
    }
    if (current !== undefined && (!row || current !== row.destVersion)) {
      await skip(row ? `script "${script.name}" was changed on the destination since it was copied; the destination's version was kept` : `a different script named "${script.name}" already exists on the destination`);
      continue;
    }
    if (dest.supportsCheck) {
      const check = await dest.checkScript(data);
      if (!check.ok) { await skip(`does not work on the destination: ${check.words}`); continue; }
    }
    const put = await dest.putScript(script.name, data);
    if (!put.ok) { await skip(`the destination refused it: ${put.words}`); continue; }
    crashpoint('sieve:after-put');
    await ledger.record({ sourceId, collection: SIEVE_COLLECTION, uid: null, sourceVersion: version, destHref: script.name, destVersion: version, pass });
    await ledger.unskip(sourceId);
    if (row) report.updated++;
    else report.copied++;
    placed.add(script.name);
  }

  const active = scripts.find((s) => s.active)?.name;
  let destActive = [...there].find(([, on]) => on)?.[0];
  if (active !== undefined && placed.has(active) && destActive !== active) {
    await dest.setActive(active);
    destActive = active;
  }
  if (active !== undefined && !placed.has(active)) notes.push(`the active script "${active}" was not activated on the destination (see the skip list)`);
  if (active === undefined && destActive !== undefined && known.has(`${SIEVE_COLLECTION}${destActive}`)) {
    await dest.setActive('');
    destActive = undefined;
  }

  const names = new Set(scripts.map((s) => s.name));
  for (const [sourceId, row] of known) {
    if (names.has(row.destHref)) continue;
    if ((await destVersion(row.destHref)) === row.destVersion) {
      if (destActive === row.destHref) {
        await dest.setActive('');
        destActive = undefined;
      }
      await dest.deleteScript(row.destHref);
      report.deleted++;
    }
    await ledger.forget(sourceId);
  }
  report.reason = notes.join('; ') || null;
  await ledger.saveCollection(report);
  return report;
}
