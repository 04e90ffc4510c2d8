// Just enough IMAP syntax to write APPEND commands and read their tagged answers.

const ATOM_SPECIALS = /[(){ %*"\\\]\x00-\x1f\x7f-\uffff]/;

export function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A flag that can be written as given: system flags and keywords made of atom characters. */
export function isWritableFlag(flag: string): boolean {
  if (/^\\(Seen|Answered|Flagged|Deleted|Draft)$/i.test(flag)) return true;
  return flag.length > 0 && !flag.startsWith('\\') && !ATOM_SPECIALS.test(flag);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMAP date-time in UTC: `"01-Jan-2024 10:00:00 +0000"`. */
export function imapDateTime(value: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `"${pad(value.getUTCDate())}-${MONTHS[value.getUTCMonth()]}-${value.getUTCFullYear()} ${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())} +0000"`;
}

export interface TaggedResponse { tag: string; status: 'OK' | 'NO' | 'BAD'; code?: string; text: string }

export function parseTagged(line: string): TaggedResponse | undefined {
  const match = /^(\S+) (OK|NO|BAD)(?: \[([^\]]*)\])? ?(.*)$/i.exec(line);
  if (!match || match[1] === '*' || match[1] === '+') return undefined;
  return { tag: match[1]!, status: match[2]!.toUpperCase() as TaggedResponse['status'], code: match[3], text: match[4] ?? '' };
}

/**
 * UIDs of an APPENDUID response code (`APPENDUID 1700000000 5:9,12`), in order; undefined when it
 * names more than `limit` (the messages appended): a hostile "1:4294967295" is not expanded.
 */
export function appendedUids(code: string | undefined, limit: number): { uidValidity: string; uids: number[] } | undefined {
  const match = /^APPENDUID (\d+) ([\d:,]+)$/i.exec(code ?? '');
  if (!match) return undefined;
  const uids: number[] = [];
  for (const part of match[2]!.split(',')) {
    const [from, to] = part.split(':').map(Number) as [number, number | undefined];
    const end = to ?? from;
    if (Math.abs(end - from) + 1 + uids.length > limit) return undefined;
    const step = end >= from ? 1 : -1;
    for (let uid = from; uid !== end + step; uid += step) uids.push(uid);
  }
  return { uidValidity: match[1]!, uids };
}

/** A UID set as the server sent it ("41,43:116"): its ranges, low to high each; undefined when it is not one. */
export function uidRanges(text: string): Array<[number, number]> | undefined {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(',')) {
    const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(part);
    if (!match) return undefined;
    const a = Number(match[1]);
    const b = match[2] === undefined ? a : Number(match[2]);
    ranges.push(a <= b ? [a, b] : [b, a]);
  }
  return ranges;
}

/** A compact UID set: "3:7,9,12:14" (consecutive UIDs as ranges keep a command line short). */
export function uidSet(uids: number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i]! + 1) i++;
    parts.push(start === sorted[i] ? String(start) : `${start}:${sorted[i]}`);
  }
  return parts.join(',');
}
