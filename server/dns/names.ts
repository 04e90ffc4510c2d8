// DNS names arrive in every spelling (user input, zone files, wire answers with or without the
// root dot, 0x20 case randomisation), so all comparisons go through one canonical form.

/** Lower-case, no trailing dot; the root stays '.' so a null MX (RFC 7505) remains visible. */
export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  const stripped = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  return stripped === '' ? '.' : stripped;
}

/** Fully-qualified zone-file spelling: a name without the final dot would be relative to $ORIGIN. */
export function fqdn(name: string): string {
  const normal = normalizeName(name);
  return normal === '.' ? '.' : `${normal}.`;
}
