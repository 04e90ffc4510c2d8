import { createHash } from 'node:crypto';

/**
 * OVHcloud API v1 request signature:
 * "$1$" + hex(sha1(AS + "+" + CK + "+" + METHOD + "+" + FULL_URL + "+" + BODY + "+" + TIMESTAMP)).
 * FULL_URL includes the scheme, host, /1.0 prefix and query string; BODY is the exact bytes sent
 * ("" for GET and DELETE); TIMESTAMP is the server's time (local time plus the /auth/time delta).
 */
export function signRequest(parts: { applicationSecret: string; consumerKey: string; method: string; url: string; body: string; timestamp: number | string }): string {
  const material = [parts.applicationSecret, parts.consumerKey, parts.method.toUpperCase(), parts.url, parts.body, String(parts.timestamp)].join('+');
  return `$1$${createHash('sha1').update(material, 'utf8').digest('hex')}`;
}

/**
 * JSON as node-ovh sends it: non-ASCII characters escaped as \uXXXX, so the signed string and
 * the bytes on the wire cannot differ by an encoding step.
 */
export function ovhJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A path segment (an e-mail address, a service name) escaped like Go's url.PathEscape: '@' and
 * the other sub-delimiters stay readable, '/', '?', '#', '%' and spaces do not.
 */
export function pathSegment(value: string): string {
  return encodeURIComponent(value).replace(/%(40|3A|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
