// One-off entry IDs (MS-OXCDATA 2.2.5.1): an address carried whole inside an entry ID, as a
// distribution list keeps each member (PidLidDistributionListOneOffMembers, MS-OXOCNTC 2.2.2.1.2).

/** The provider GUID every one-off entry ID carries, as it is stored (81 2B 1F A4 ...). */
const ONE_OFF_PROVIDER = Buffer.from('812b1fa4bea310199d6e00dd010f5402', 'hex');
const MAPI_ONE_OFF_UNICODE = 0x8000;

export interface OneOff { name: string; addressType: string; address: string }

/** The NUL-terminated strings from `at`: two-byte UTF-16 or one-byte, per the entry's flag. */
function strings(b: Buffer, at: number, unicode: boolean, count: number): string[] | undefined {
  const width = unicode ? 2 : 1;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let end = at;
    while (end + width <= b.length && (unicode ? b.readUInt16LE(end) : b[end]) !== 0) end += width;
    if (end + width > b.length) return undefined; // no terminator: truncated
    // An 8-bit entry carries no code page; Latin-1 keeps every byte as one character.
    out.push(b.toString(unicode ? 'utf16le' : 'latin1', at, end));
    at = end + width;
  }
  return out;
}

/** The entry's display name, address type and address, or undefined where it is not a one-off entry ID. */
export function parseOneOff(entry: Buffer): OneOff | undefined {
  if (entry.length < 24 || entry.readUInt32LE(0) !== 0 || !entry.subarray(4, 20).equals(ONE_OFF_PROVIDER)) return undefined;
  const unicode = (entry.readUInt16LE(22) & MAPI_ONE_OFF_UNICODE) !== 0;
  const parts = strings(entry, 24, unicode, 3);
  if (!parts) return undefined;
  const [name, addressType, address] = parts as [string, string, string];
  return { name, addressType, address };
}
