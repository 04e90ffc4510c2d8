// Splits files that hold many items into the one-item resources CalDAV and CardDAV store: an
// .ics with many events becomes one VCALENDAR per UID (a recurring event and its RECURRENCE-ID
// exceptions stay together, with the time zones they need), a .vcf with many cards one text per
// card. Lines are kept as they are (folding included), only regrouped.

const MAX_ITEMS = 1_000_000;

function lines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

const isLine = (line: string, value: string): boolean => line.replace(/\r?\n$/, '').toUpperCase() === value;

/** One VCALENDAR text per UID; components without a UID each get their own. */
export function splitICalendar(text: string): Array<{ uid: string | undefined; text: string }> {
  const header: string[] = [];
  const timezones: string[] = [];
  const groups = new Map<string, string[]>();
  let current: string[] | null = null;
  let currentKind = '';
  let uid: string | undefined;
  let depth = 0;
  let anonymous = 0;
  let inCalendar = false;
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    if (!inCalendar) {
      if (isLine(line, 'BEGIN:VCALENDAR')) inCalendar = true;
      continue;
    }
    if (depth === 0) {
      const begin = /^BEGIN:([A-Z-]+)\r?\n?$/i.exec(line);
      if (begin) {
        current = [line];
        currentKind = begin[1]!.toUpperCase();
        uid = undefined;
        depth = 1;
        continue;
      }
      if (isLine(line, 'END:VCALENDAR')) { inCalendar = false; continue; }
      if (!/^METHOD[:;]/i.test(line)) header.push(line);
      continue;
    }
    current!.push(line);
    if (/^BEGIN:/i.test(line)) depth++;
    else if (/^END:/i.test(line)) depth--;
    else if (depth === 1 && /^UID[:;]/i.test(line)) {
      let value = line;
      while (all[i + 1] && /^[ \t]/.test(all[i + 1]!)) value += all[++i]!, current!.push(all[i]!);
      uid = value.replace(/\r?\n[ \t]/g, '').replace(/^UID[^:]*:/i, '').trim();
    }
    if (depth === 0) {
      if (currentKind === 'VTIMEZONE') timezones.push(current!.join(''));
      else {
        const key = uid ?? `\u0000${anonymous++}`;
        const group = groups.get(key) ?? [];
        group.push(current!.join(''));
        groups.set(key, group);
        if (groups.size > MAX_ITEMS) throw new Error(`more than ${MAX_ITEMS} items in one calendar file`);
      }
      current = null;
    }
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const head = `BEGIN:VCALENDAR${eol}${header.join('')}`;
  return [...groups].map(([key, components]) => {
    const body = components.join('');
    const zones = timezones.filter((tz) => {
      const tzid = /^TZID[^:]*:(.*)$/im.exec(tz)?.[1]?.trim();
      return tzid !== undefined && body.includes(`TZID=${tzid}`);
    });
    return { uid: key.startsWith('\u0000') ? undefined : key, text: `${head}${zones.join('')}${body}END:VCALENDAR${eol}` };
  });
}

/** One text per BEGIN:VCARD … END:VCARD. */
export function splitVCards(text: string): string[] {
  const cards: string[] = [];
  let current: string[] | null = null;
  let depth = 0;
  for (const line of lines(text)) {
    if (isLine(line, 'BEGIN:VCARD')) {
      if (depth === 0) current = [];
      depth++;
    }
    current?.push(line);
    if (isLine(line, 'END:VCARD') && current) {
      depth--;
      if (depth === 0) {
        const card = current.join('');
        cards.push(/\n$/.test(card) ? card : `${card}\r\n`);
        current = null;
        if (cards.length > MAX_ITEMS) throw new Error(`more than ${MAX_ITEMS} cards in one file`);
      }
    }
  }
  return cards;
}
