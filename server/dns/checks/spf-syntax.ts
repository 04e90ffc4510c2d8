// RFC 7208 §12 grammar for one SPF record: the terms, each either a directive (qualifier +
// mechanism) or a modifier, with every violation named so the fix can say which term is wrong.
import net from 'node:net';

export type Qualifier = '+' | '-' | '~' | '?';
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface Mechanism {
  kind: 'mechanism';
  text: string;
  qualifier: Qualifier;
  name: MechanismName;
  /** domain-spec (macros unexpanded) for include, a, mx, ptr, exists. */
  domain?: string;
  network?: string;
  cidr4?: number;
  cidr6?: number;
}

export interface Modifier { kind: 'modifier'; text: string; name: string; value: string }

export type SpfTerm = Mechanism | Modifier;

export interface ParsedSpf { terms: SpfTerm[]; errors: string[]; warnings: string[] }

const VERSION = /^v=spf1$/i;
/** RFC 7208 §7.2: c, r and t only exist in explanation strings, never in a domain-spec. */
const MACRO_EXPAND = /%\{[slodiphv]\d*r?[.\-+,/_=]*\}|%%|%_|%-/gi;
const MACRO_LITERAL = /^[\x21-\x24\x26-\x7e]*$/;
const TOPLABEL = /^(?=.*[a-z])[a-z0-9]+$|^[a-z0-9][a-z0-9-]*-[a-z0-9-]*[a-z0-9]$/i;
const MODIFIER_NAME = /^[a-z][a-z0-9\-_.]*$/i;
const CIDR_VALUE = /^(0|[1-9]\d{0,2})$/;

/** A macro-string: literals and %{…} / %% / %_ / %- expansions; every other % is an error. */
export function validMacroString(text: string): boolean {
  const literal = text.replace(MACRO_EXPAND, '');
  return !literal.includes('%') && MACRO_LITERAL.test(literal);
}

export function hasMacro(text: string): boolean {
  return text.includes('%');
}

/** domain-spec = macro-string domain-end, domain-end = "." toplabel ["."] / macro-expand. */
export function validDomainSpec(text: string): boolean {
  if (text === '' || !validMacroString(text)) return false;
  if (/(%\{[^}]*\}|%%|%_|%-)$/.test(text)) return true;
  const labels = text.replace(/\.$/, '').split('.');
  const top = labels[labels.length - 1] ?? '';
  if (labels.length < 2 || labels.some((label) => label === '' && !hasMacro(text))) return false;
  return TOPLABEL.test(top) && labels.every((label) => Buffer.byteLength(label) <= 63);
}

function cidr(value: string | undefined, max: number): number | null | undefined {
  if (value === undefined) return undefined;
  if (!CIDR_VALUE.test(value) || Number(value) > max) return null;
  return Number(value);
}

/** Splits `domain/24//64` style arguments: the domain-spec, the IPv4 and the IPv6 prefix lengths. */
function dualCidr(rest: string): { domain: string; cidr4?: number | null; cidr6?: number | null } {
  const match = /^(.*?)(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(rest);
  if (!match) return { domain: rest };
  return { domain: match[1] ?? '', cidr4: cidr(match[2], 32), cidr6: cidr(match[3], 128) };
}

function parseMechanism(term: string, errors: string[]): Mechanism | null {
  const qualifier = (/^[+\-~?]/.test(term) ? term[0] : '+') as Qualifier;
  const body = /^[+\-~?]/.test(term) ? term.slice(1) : term;
  const match = /^([a-z0-9]+)(.*)$/i.exec(body);
  const name = (match?.[1] ?? '').toLowerCase();
  const rest = match?.[2] ?? '';
  const bad = (why: string): null => { errors.push(`"${term}": ${why}`); return null; };
  const base = { kind: 'mechanism' as const, text: term, qualifier };
  switch (name) {
    case 'all':
      return rest === '' ? { ...base, name: 'all' } : bad('"all" takes no argument');
    case 'include':
    case 'exists': {
      if (!rest.startsWith(':') || !validDomainSpec(rest.slice(1))) return bad(`${name} needs ":" and a valid domain`);
      return { ...base, name, domain: rest.slice(1) };
    }
    case 'a':
    case 'mx': {
      if (rest !== '' && !rest.startsWith(':') && !rest.startsWith('/')) return bad(`unknown mechanism "${name}${rest.split(/[:/]/)[0] ?? ''}"`);
      const parsed = dualCidr(rest.startsWith(':') ? rest.slice(1) : rest);
      if (rest.startsWith(':') && !validDomainSpec(parsed.domain)) return bad(`${name}: "${parsed.domain}" is not a valid domain`);
      if (parsed.cidr4 === null || parsed.cidr6 === null) return bad('invalid prefix length (IPv4 0-32, IPv6 0-128, no leading zero)');
      return { ...base, name, domain: rest.startsWith(':') ? parsed.domain : undefined, cidr4: parsed.cidr4, cidr6: parsed.cidr6 };
    }
    case 'ptr': {
      if (rest !== '' && (!rest.startsWith(':') || !validDomainSpec(rest.slice(1)))) return bad('ptr takes an optional ":" and domain, no prefix length');
      return { ...base, name: 'ptr', domain: rest ? rest.slice(1) : undefined };
    }
    case 'ip4':
    case 'ip6': {
      if (!rest.startsWith(':')) return bad(`${name} needs ":" and an address`);
      const [network, length, extra] = rest.slice(1).split('/');
      const family = name === 'ip4' ? 4 : 6;
      if (extra !== undefined || network === undefined || net.isIP(network) !== family) return bad(`"${rest.slice(1)}" is not an IPv${family} network`);
      const prefix = cidr(length, family === 4 ? 32 : 128);
      if (prefix === null) return bad(`invalid prefix length /${length}`);
      return { ...base, name, network, ...(family === 4 ? { cidr4: prefix } : { cidr6: prefix }) };
    }
    default:
      return bad(`unknown mechanism "${name || term}"`);
  }
}

/** Parses `v=spf1 …`; errors are what makes a receiver return permerror. */
export function parseSpf(record: string): ParsedSpf {
  const [version, ...rest] = record.trim().split(/ +/);
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!VERSION.test(version ?? '')) return { terms: [], errors: ['the record does not start with "v=spf1"'], warnings };
  if (/[^\x20-\x7e]/.test(record)) errors.push('the record contains characters outside printable ASCII');
  const terms: SpfTerm[] = [];
  const seen = new Set<string>();
  for (const term of rest.filter((t) => t !== '')) {
    const modifier = /^([^:/=]+)=(.*)$/.exec(term);
    if (modifier && !/^[+\-~?]/.test(term)) {
      const name = modifier[1]!.toLowerCase();
      const value = modifier[2] ?? '';
      if (!MODIFIER_NAME.test(name)) errors.push(`"${term}": invalid modifier name`);
      else if ((name === 'redirect' || name === 'exp') && !validDomainSpec(value)) errors.push(`"${term}": ${name}= needs a valid domain`);
      else if (!validMacroString(value)) errors.push(`"${term}": invalid macro in the value`);
      else if (seen.has(name) && (name === 'redirect' || name === 'exp')) errors.push(`"${term}": ${name}= appears more than once`);
      else terms.push({ kind: 'modifier', text: term, name, value });
      seen.add(name);
      continue;
    }
    const mechanism = parseMechanism(term, errors);
    if (mechanism) terms.push(mechanism);
  }
  const all = terms.findIndex((term) => term.kind === 'mechanism' && term.name === 'all');
  if (all >= 0 && all < terms.filter((term) => term.kind === 'mechanism').length - 1) warnings.push('mechanisms after "all" are never evaluated');
  const allTerm = terms[all];
  if (allTerm?.kind === 'mechanism' && allTerm.qualifier === '+') warnings.push('"+all" authorises every host on the Internet');
  if (terms.some((term) => term.kind === 'mechanism' && term.name === 'ptr')) warnings.push('"ptr" is slow and unreliable; RFC 7208 §5.5 says not to use it');
  if (all < 0 && !terms.some((term) => term.kind === 'modifier' && term.name === 'redirect')) warnings.push('no "all" and no "redirect=": mail from other hosts gets "neutral"');
  return { terms, errors, warnings };
}
