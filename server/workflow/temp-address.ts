import { CutoverError } from '../errors.ts';

const MAX_NUMBER = 99;

export function tempAddressFor(pattern: string, address: string, n: number): string {
  const at = address.lastIndexOf('@');
  // Replacer functions: a local part may hold `$'` or `$&`, which a replacement string would expand.
  return pattern
    .replace('{local}', () => address.slice(0, at))
    .replace('{domain}', () => address.slice(at + 1))
    .replace('{nn}', () => String(n).padStart(2, '0'))
    .replace('{n}', () => String(n))
    .toLowerCase();
}

/** The first temporary address (01, 02, …) that no account on the source holds yet. */
export async function freeTempAddress(pattern: string, address: string, taken: (candidate: string) => Promise<boolean>): Promise<string> {
  for (let n = 1; n <= MAX_NUMBER; n++) {
    const candidate = tempAddressFor(pattern, address, n);
    if (!(await taken(candidate))) return candidate;
  }
  throw new CutoverError('TEMP_ADDRESS_EXHAUSTED', { address, last: tempAddressFor(pattern, address, MAX_NUMBER) });
}
