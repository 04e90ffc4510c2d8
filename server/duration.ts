const SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** `90`, `90s`, `15m`, `4h`, `1d` in seconds (a bare number is seconds); null when it is not a duration. */
export function durationSeconds(text: string): number | null {
  const match = /^(\d+)\s*(s|m|h|d)?$/i.exec(text.trim());
  return match ? Number(match[1]) * SECONDS[(match[2] ?? 's').toLowerCase() as keyof typeof SECONDS] : null;
}
