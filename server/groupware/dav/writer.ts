// The DAV writer: puts items (vCard or iCalendar text with a stable source id) into one
// destination collection, byte for byte, and keeps the groupware ledger. The workflow's copy from
// a DAV source and file mode (PST/ICS/VCF) both write through it.
//   - new item: PUT If-None-Match: * (never overwrites what is there);
//   - changed item: PUT If-Match: <the version we wrote> (never overwrites a change made there);
//   - gone from the source: DELETE If-Match: <the version we wrote> (only what we put there).
// A resource found where a crashed run left it (same bytes, or same UID) is adopted, not doubled.
import { createHash } from 'node:crypto';
import { crashpoint } from '../../crashpoint.ts';
import type { DavClient } from './client.ts';
import type { GroupwareLedger, LedgerItem } from '../ledger.ts';

export interface DavWriteItem {
  /** Stable identity of the item at its origin: a source href, or a file's identity plus the item's id. */
  sourceId: string;
  /** The source collection (or file) the item belongs to; the ledger groups by it. */
  collection: string;
  /** The source's version of the item (its ETag, or a hash of the bytes). */
  sourceVersion: string;
  data: Buffer;
  contentType: string;
  /** Preferred resource name on the destination (the source's file name); a safe one is derived otherwise. */
  name?: string;
}

export type WriteResult =
  | { result: 'created' | 'updated' | 'matched' }
  | { result: 'skipped'; reason: string };

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+=-]{0,127}$/;

/** The UID of a vCard or of an iCalendar object's components (the first UID property, unfolded). */
export function itemUid(data: Buffer): string | undefined {
  const text = data.subarray(0, 256 * 1024).toString('utf8').replace(/\r?\n[ \t]/g, '');
  const match = /^UID(?:;[^:\r\n]*)?:([^\r\n]*)$/im.exec(text);
  return match?.[1]?.trim() || undefined;
}

function extensionFor(contentType: string): string {
  return /vcard/i.test(contentType) ? '.vcf' : '.ics';
}

export function destName(item: DavWriteItem, uid: string | undefined): string {
  let name = item.name;
  try { name = name === undefined ? undefined : decodeURIComponent(name); } catch { name = undefined; }
  if (name && SAFE_NAME.test(name)) return encodeURIComponent(name);
  return createHash('sha256').update(uid ?? item.sourceId).digest('hex').slice(0, 32) + extensionFor(item.contentType);
}

export class DavWriter {
  constructor(
    private readonly dest: DavClient,
    /** The destination collection, a path ending in '/'. */
    readonly collectionHref: string,
    private readonly ledger: GroupwareLedger,
    private readonly pass: number,
  ) {}

  private async recordWritten(item: DavWriteItem, uid: string | undefined, href: string, etag: string | undefined): Promise<void> {
    const destVersion = etag ?? (await this.dest.etag(href)) ?? null;
    await this.ledger.record({ sourceId: item.sourceId, collection: item.collection, uid: uid ?? null, sourceVersion: item.sourceVersion, destHref: href, destVersion, pass: this.pass });
  }

  private async refuse(item: DavWriteItem, reason: string): Promise<WriteResult> {
    await this.ledger.skip({ sourceId: item.sourceId, collection: item.collection, sourceVersion: item.sourceVersion, reason, pass: this.pass });
    return { result: 'skipped', reason };
  }

  /** Writes one item; `known` is its ledger row when an earlier pass wrote it. */
  async write(item: DavWriteItem, known?: LedgerItem): Promise<WriteResult> {
    const uid = itemUid(item.data);
    if (known) {
      const put = await this.dest.put(known.destHref, item.data, item.contentType, known.destVersion ? { ifMatch: known.destVersion } : { ifNoneMatch: true });
      if (put.ok) {
        await this.recordWritten(item, uid, known.destHref, put.etag);
        return { result: 'updated' };
      }
      if (put.status === 412) return this.refuse(item, `changed on the destination since it was copied (${known.destHref}); the destination's version was kept`);
      return this.refuse(item, `the destination refused the new version: ${put.words}`);
    }
    const href = this.collectionHref + destName(item, uid);
    const put = await this.dest.put(href, item.data, item.contentType, { ifNoneMatch: true });
    if (put.ok) {
      crashpoint('groupware:after-put');
      await this.recordWritten(item, uid, href, put.etag);
      return { result: 'created' };
    }
    if (put.status !== 412) return this.refuse(item, `the destination refused it: ${put.words}`);
    return this.adopt(item, uid, href);
  }

  /** Something is already at `href`: ours from a run that crashed before its ledger write, or not ours. */
  private async adopt(item: DavWriteItem, uid: string | undefined, href: string): Promise<WriteResult> {
    const there = await this.dest.get(href, item.data.length * 2 + 64 * 1024);
    if ('data' in there && there.data.equals(item.data)) {
      await this.recordWritten(item, uid, href, there.etag);
      return { result: 'matched' };
    }
    if ('data' in there && uid !== undefined && itemUid(there.data) === uid && there.etag) {
      const put = await this.dest.put(href, item.data, item.contentType, { ifMatch: there.etag });
      if (put.ok) {
        await this.recordWritten(item, uid, href, put.etag);
        return { result: 'matched' };
      }
      return this.refuse(item, `the destination refused it: ${put.words}`);
    }
    return this.refuse(item, `another item already exists at ${href} on the destination`);
  }

  /** Deletes on the destination what this ledger put there; a version changed there is kept. */
  async remove(known: LedgerItem): Promise<'deleted' | 'kept'> {
    const gone = known.destVersion ? await this.dest.delete(known.destHref, known.destVersion) : false;
    if (gone) {
      await this.ledger.forget(known.sourceId);
      return 'deleted';
    }
    await this.ledger.skip({ sourceId: known.sourceId, collection: known.collection, sourceVersion: known.sourceVersion, reason: `deleted on the source, but changed on the destination since it was copied (${known.destHref}): not deleted there`, pass: this.pass });
    await this.ledger.forget(known.sourceId);
    return 'kept';
  }
}
