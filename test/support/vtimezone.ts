// Reading back the VTIMEZONE file mode writes, as a calendar client would, without the writer's code.

/** The content lines of each STANDARD/DAYLIGHT part of a VTIMEZONE text, by name. */
export function observances(ics: string): Array<Record<string, string>> {
  return [...ics.matchAll(/BEGIN:(STANDARD|DAYLIGHT)\r?\n([\s\S]*?)END:\1\r?\n/g)].map((m) => ({
    KIND: m[1]!, ...Object.fromEntries(m[2]!.split(/\r?\n/).filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)])),
  }));
}

/**
 * A wall time of the VTIMEZONE text as UTC, read as a client reads it (RFC 5545 3.6.5): the
 * observance whose latest onset is at or before it gives the offset. Only the yearly
 * BYMONTH/BYDAY rules Outlook's zones have.
 */
export function utcFromText(ics: string, wallIso: string): Date {
  const wall = Date.parse(`${wallIso}Z`);
  const offset = (text: string) => (text[0] === '-' ? -1 : 1) * (Number(text.slice(1, 3)) * 60 + Number(text.slice(3, 5)));
  const stamp = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13));
  let best = { onset: -Infinity, to: NaN };
  for (const o of observances(ics)) {
    const start = stamp(o.DTSTART!);
    const from = offset(o.TZOFFSETFROM!);
    const onsets = [start];
    const rule = o.RRULE && Object.fromEntries(o.RRULE.split(';').map((kv) => kv.split('=') as [string, string]));
    if (rule) {
      const until = rule.UNTIL ? stamp(rule.UNTIL) : Infinity;
      const month = Number(rule.BYMONTH) - 1;
      const [, nth, day] = /^(-?\d)(\w\w)$/.exec(rule.BYDAY!)!;
      const weekday = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'].indexOf(day!);
      for (let y = new Date(start).getUTCFullYear(); y <= new Date(wall).getUTCFullYear(); y++) {
        const dates = [...Array(31).keys()].map((i) => new Date(Date.UTC(y, month, i + 1))).filter((d) => d.getUTCMonth() === month && d.getUTCDay() === weekday);
        const date = Number(nth) < 0 ? dates.at(-1)! : dates[Number(nth) - 1]!;
        const onset = date.getTime() + (((start % 86_400_000) + 86_400_000) % 86_400_000);
        if (onset - from * 60_000 <= until) onsets.push(onset);
      }
    }
    for (const onset of onsets) if (onset <= wall && onset > best.onset) best = { onset, to: offset(o.TZOFFSETTO!) };
  }
  return new Date(wall - best.to * 60_000);
}

/** An event's DTSTART as a UTC stamp (20160802T150000Z): as written, or read through the VTIMEZONE its TZID names. */
export function startUtc(ics: string): string | undefined {
  const unfolded = ics.replace(/\r?\n[ \t]/g, '');
  const utc = /^DTSTART(?:;VALUE=DATE-TIME)?:(\d{8}T\d{6}Z)\r?$/m.exec(unfolded);
  if (utc) return utc[1];
  const wall = /^DTSTART;TZID=(?:"[^"]*"|[^:;]*):(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)\r?$/m.exec(unfolded);
  if (!wall) return undefined;
  const [, y, mo, d, h, mi, s] = wall;
  return utcFromText(unfolded, `${y}-${mo}-${d}T${h}:${mi}:${s}`).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
