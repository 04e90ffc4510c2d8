// A streaming reader of WebDAV multistatus bodies (RFC 4918 §13) on saxes: each <response> is
// handed over as soon as it closes, so a listing of 50,000 resources never sits in memory whole,
// and what a hostile server sends is bounded per response (text, depth, element count).
import { SaxesParser } from 'saxes';
import { CutoverError } from '../../errors.ts';

export const DAV_NS = 'DAV:';
export const CALDAV_NS = 'urn:ietf:params:xml:ns:caldav';
export const CARDDAV_NS = 'urn:ietf:params:xml:ns:carddav';
export const APPLE_ICAL_NS = 'http://apple.com/ns/ical/';

/** An element as `{namespace}local`, its text (concatenated, trimmed), its attributes (by local name, a few, short) and its child elements. */
export interface XmlNode { name: string; text: string; attrs?: Record<string, string>; children: XmlNode[] }

const MAX_ATTRIBUTES = 8;
const MAX_ATTRIBUTE_CHARS = 200;

export interface DavResponse {
  href: string;
  /** The response-level status (a `<status>` beside `<href>`), when the server gave one. */
  status?: number;
  /** Properties found (propstat 2xx), by `{namespace}local`. */
  props: Map<string, XmlNode>;
}

export interface MultistatusLimits {
  /** Characters of text one <response> may hold. */
  maxResponseChars: number;
  maxDepth: number;
  maxElementsPerResponse: number;
}

export const DEFAULT_LIMITS: MultistatusLimits = { maxResponseChars: 256 * 1024, maxDepth: 24, maxElementsPerResponse: 2_000 };

export const qname = (ns: string, local: string): string => `{${ns}}${local}`;
const MULTISTATUS = qname(DAV_NS, 'multistatus');
const RESPONSE = qname(DAV_NS, 'response');

export function child(node: XmlNode | undefined, ns: string, local: string): XmlNode | undefined {
  const name = qname(ns, local);
  return node?.children.find((c) => c.name === name);
}

/** `HTTP/1.1 404 Not Found` → 404; undefined when absent or unreadable. */
export function statusCode(text: string | undefined): number | undefined {
  const match = text ? /^HTTP\/\d(?:\.\d)?\s+(\d{3})/i.exec(text.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

function toResponse(node: XmlNode, where: string): DavResponse {
  const href = child(node, DAV_NS, 'href')?.text;
  if (!href) throw invalid(where, 'a <response> without <href>');
  const props = new Map<string, XmlNode>();
  for (const propstat of node.children.filter((c) => c.name === qname(DAV_NS, 'propstat'))) {
    const code = statusCode(child(propstat, DAV_NS, 'status')?.text);
    if (code === undefined || code < 200 || code > 299) continue;
    for (const prop of child(propstat, DAV_NS, 'prop')?.children ?? []) props.set(prop.name, prop);
  }
  const status = statusCode(child(node, DAV_NS, 'status')?.text);
  return { href, ...(status !== undefined && { status }), props };
}

function invalid(where: string, detail: string): CutoverError {
  return new CutoverError('DAV_REPLY_INVALID', { where, detail });
}

/**
 * Feed it text with write(); completed responses pile up in drain(). close() checks the document
 * ended properly. `where` names the request in errors ("PROPFIND http://…/alice/").
 */
export class MultistatusReader {
  private readonly parser = new SaxesParser({ xmlns: true });
  private readonly done: DavResponse[] = [];
  private readonly stack: XmlNode[] = [];
  private depth = 0;
  private sawRoot = false;
  private chars = 0;
  private elements = 0;
  private failure: Error | undefined;

  constructor(private readonly where: string, private readonly limits: MultistatusLimits = DEFAULT_LIMITS) {
    this.parser.on('error', (err) => { this.failure ??= invalid(where, err.message); });
    this.parser.on('opentag', (tag) => {
      this.depth++;
      if (this.depth > limits.maxDepth) return this.fail(`elements nested deeper than ${limits.maxDepth}`);
      const name = qname(tag.uri, tag.local);
      if (this.depth === 1) {
        if (name !== MULTISTATUS) return this.fail(`the document is a <${tag.name}>, not a DAV: multistatus`);
        this.sawRoot = true;
        return;
      }
      if (this.stack.length === 0 && !(this.depth === 2 && name === RESPONSE)) return;
      if (++this.elements > limits.maxElementsPerResponse) return this.fail(`a <response> with more than ${limits.maxElementsPerResponse} elements`);
      const node: XmlNode = { name, text: '', children: [] };
      const attributes = Object.values(tag.attributes).filter((a) => a.prefix !== 'xmlns' && a.name !== 'xmlns').slice(0, MAX_ATTRIBUTES);
      if (attributes.length > 0) node.attrs = Object.fromEntries(attributes.map((a) => [a.local, a.value.slice(0, MAX_ATTRIBUTE_CHARS)]));
      this.stack.at(-1)?.children.push(node);
      this.stack.push(node);
    });
    this.parser.on('text', (text) => this.addText(text));
    this.parser.on('cdata', (text) => this.addText(text));
    this.parser.on('closetag', () => {
      this.depth--;
      const node = this.stack.pop();
      if (!node) return;
      node.text = node.text.trim();
      if (this.stack.length === 0) {
        this.done.push(toResponse(node, where));
        this.chars = 0;
        this.elements = 0;
      }
    });
  }

  private addText(text: string): void {
    const node = this.stack.at(-1);
    if (!node) return;
    this.chars += text.length;
    if (this.chars > this.limits.maxResponseChars) return this.fail(`a <response> longer than ${this.limits.maxResponseChars} characters`);
    node.text += text;
  }

  private fail(detail: string): void {
    this.failure ??= invalid(this.where, detail);
  }

  write(text: string): void {
    if (this.failure) throw this.failure;
    try {
      this.parser.write(text);
    } catch (err) {
      this.failure ??= invalid(this.where, (err as Error).message);
    }
    if (this.failure) throw this.failure;
  }

  close(): void {
    if (!this.failure) {
      try { this.parser.close(); } catch (err) { this.failure ??= invalid(this.where, (err as Error).message); }
    }
    if (!this.failure && !this.sawRoot) this.failure = invalid(this.where, 'an empty body where a multistatus was expected');
    if (this.failure) throw this.failure;
  }

  /** Responses completed since the last call. */
  drain(): DavResponse[] {
    return this.done.splice(0);
  }
}

/** Parses a whole (small) multistatus body. */
export function parseMultistatus(text: string, where: string): DavResponse[] {
  const reader = new MultistatusReader(where);
  reader.write(text);
  reader.close();
  return reader.drain();
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
