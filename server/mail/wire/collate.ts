// Folder names ordered as String.prototype.localeCompare orders them in English, which is how
// imapflow orders its listings; our own listing keeps that order. localeCompare's first call loads
// ICU's collation data, 7-10 ms of a no-op pass's ~150: names made only of ASCII letters, digits,
// spaces and "-./" are compared here instead, where the English collation agrees with this rule.

const PLAIN = /^[A-Za-z0-9 ./-]*$/;

/** -1, 0 or 1 as `a.localeCompare(b, 'en')`. */
export function collate(a: string, b: string): number {
  if (a === b) return 0;
  if (!PLAIN.test(a) || !PLAIN.test(b)) return Math.sign(a.localeCompare(b, 'en'));
  // Primary strength: letters without case, after digits, after "-./", after the space (ASCII's order).
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  // Tertiary strength: at the first difference in case, the lowercase letter first.
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]! ? -1 : 1;
  return 0;
}
