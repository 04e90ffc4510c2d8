// Writing vCard 3.0 and iCalendar (RFC 5545) text from values read out of a file: escaping,
// line folding at 75 octets, UTC and date-only times. Only what file mode builds, nothing else.

/** TEXT value escaping (RFC 5545 §3.3.11, RFC 6350 §3.4): backslash, comma, semicolon, newlines. */
export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');
}

/** Folds a content line at 75 octets without cutting a UTF-8 sequence, CRLF-terminated. */
export function foldLine(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= 75) return `${line}\r\n`;
  const out: string[] = [];
  let start = 0;
  let limit = 75;
  while (start < bytes.length) {
    let end = Math.min(start + limit, bytes.length);
    // Back off to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
    out.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
    limit = 74; // the leading space of a continuation line counts
  }
  return `${out.join('\r\n ')}\r\n`;
}

/** 20230102T030405Z */
export function utcStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** 20230102 (the UTC calendar day) */
export function dateOnly(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '');
}

/** Builds one text of content lines; empty and undefined values are left out. */
export class ContentLines {
  private readonly lines: string[] = [];

  /** A property whose value is already in its final form (dates, structured values escaped by the caller). */
  raw(name: string, value: string | undefined | null): this {
    if (value !== undefined && value !== null && value !== '') this.lines.push(foldLine(`${name}:${value}`));
    return this;
  }

  /** A TEXT property, escaped. */
  text(name: string, value: string | undefined | null): this {
    const trimmed = value?.replace(/\u0000/g, '').trim();
    return trimmed ? this.raw(name, escapeText(trimmed)) : this;
  }

  toString(): string {
    return this.lines.join('');
  }
}
