// Named properties pst-extractor reads into its table but offers no getter for (an appointment's
// time zone, a distribution list's members), read from that same table. Its own getters do the
// same through members TypeScript calls protected; the shape relied on is pst-extractor 1.12's.
import type { PSTMessage } from 'pst-extractor';

/** pst-extractor's numbering of the property sets (OutlookProperties.PSETID_*), not MAPI GUIDs. */
export const PSETID_ADDRESS = 2;
export const PSETID_APPOINTMENT = 4;

const PT_BINARY = 0x0102;
const PT_MV_BINARY = 0x1102;
const PT_UNICODE = 0x001f;
const PT_STRING8 = 0x001e;

interface TableItem { entryValueType: number; isExternalValueReference: boolean; entryValueReference: number; data: Buffer }
interface Internals {
  pstFile: { getNameToIdMapItem(lid: number, set: number): number };
  pstTableItems: Map<number, TableItem> | null;
  localDescriptorItems: Map<number, { getData(): Buffer }> | null;
  getStringItem(id: number): string;
}

function internals(message: PSTMessage): Internals {
  return message as unknown as Internals;
}

/** The raw value of a named property of one of the given types, or undefined where the item has none. */
function named(message: PSTMessage, lid: number, set: number, types: number[]): Buffer | undefined {
  const m = internals(message);
  const id = m.pstFile.getNameToIdMapItem(lid, set);
  const item = id > 0 ? m.pstTableItems?.get(id) : undefined;
  if (!item || !types.includes(item.entryValueType)) return undefined;
  // Values too large for the item's heap live in a sub-node of their own.
  const data = item.isExternalValueReference ? m.localDescriptorItems?.get(item.entryValueReference)?.getData() : item.data;
  return data ?? undefined;
}

export function namedBinary(message: PSTMessage, lid: number, set: number): Buffer | undefined {
  return named(message, lid, set, [PT_BINARY]);
}

export function namedString(message: PSTMessage, lid: number, set: number): string | undefined {
  if (!named(message, lid, set, [PT_UNICODE, PT_STRING8])) return undefined;
  // pst-extractor's own decoding, for the code page an 8-bit string is in.
  const m = internals(message);
  return m.getStringItem(m.pstFile.getNameToIdMapItem(lid, set)).replace(/\u0000/g, '') || undefined;
}

/**
 * A PtypMultipleBinary value: as a PST stores it (MS-PST 2.3.3.4.2), a count, one offset per
 * value from the start, then the values back to back. Undefined for a value whose offsets do not fit.
 */
export function namedBinaries(message: PSTMessage, lid: number, set: number): Buffer[] | undefined {
  const data = named(message, lid, set, [PT_MV_BINARY]);
  if (!data || data.length < 4) return undefined;
  const count = data.readUInt32LE(0);
  if (4 + count * 4 > data.length) return undefined;
  const offsets = Array.from({ length: count }, (_, i) => data.readUInt32LE(4 + i * 4));
  const values: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const end = i + 1 < count ? offsets[i + 1]! : data.length;
    if (offsets[i]! < 4 + count * 4 || end < offsets[i]! || end > data.length) return undefined;
    values.push(data.subarray(offsets[i], end));
  }
  return values;
}
