import type { ImapFlow, Logger } from 'imapflow';
import { CutoverError } from '../errors.ts';

/**
 * What a server sends is bounded and watched (issue #11). imapflow 2.1.2 accepts lines and
 * literals of up to 1 GB and drops a line it cannot parse with nothing but a log entry, so each
 * connection gets tighter limits, raised only where the server announced something bigger
 * (a message's RFC822.SIZE, the folder's EXISTS for a SEARCH), and a logger that keeps the lines
 * imapflow could not parse: they are how a pass names the message it could not read.
 */

/** A line without a literal: LIST, FETCH metadata, CAPABILITY. A SEARCH answer gets room for the folder's EXISTS. */
export const LINE_LIMIT = 1024 * 1024;
/** Literals outside a body FETCH (headers read on the destination, partial downloads are 1 MB). */
export const LITERAL_LIMIT = 64 * 1024 * 1024;
/**
 * The stall timeout when nothing else is configured (`--stall-timeout`, the project option
 * `stallTimeoutSeconds`): this long without a byte while an answer is owed, or without a message
 * moving in a folder, fails the connection or the folder. mbsync's default is 20 s.
 */
export const DEFAULT_STALL_SECONDS = 15;
/** What `--stall-timeout` and `stallTimeoutSeconds` accept. */
export const STALL_SECONDS_MIN = 3;
export const STALL_SECONDS_MAX = 3600;

/**
 * Room added to the stall timeout while an upload of `bytes` is owed an answer: what the kernel
 * still holds, and the server's time to store a large message, at 256 KB/s at worst. A 35 MB
 * APPEND gets 140 s more; a small one nothing noticeable.
 */
export function uploadAllowanceMs(bytes: number): number {
  return Math.ceil(bytes / 262.144);
}

const KEPT_LINES = 256;
const QUOTED_CHARS = 300;
const PROTOCOL_CODES = new Set(['LineTooLarge', 'LiteralTooLarge', 'ResponseTooLarge', 'UnexpectedTag', 'ResponseProcessingFailed']);

interface GuardState { unparsed: string[]; fault?: { code: string; message: string } }

const states = new WeakMap<object, GuardState>();

/**
 * imapflow options that bound what one connection buffers, with the logger that keeps unparsed
 * lines; `bind` ties what that logger records to the client made from the options.
 */
export function guardedClient(): { options: { maxLineLength: number; maxLiteralSize: number; maxResponseSize: number; logger: Logger }; bind(client: ImapFlow): void } {
  const state: GuardState = { unparsed: [] };
  const quiet = () => undefined;
  const logger: Logger = {
    debug: quiet, info: quiet, warn: quiet,
    // imapflow calls error() for an unparseable server line ({src: 's', msg: its first 1 KB}) and
    // for a stream limit it enforced ({err}); the other levels stay silent.
    error(entry: { src?: string; msg?: unknown; err?: { code?: string; message?: string } }) {
      if (entry?.src === 's' && typeof entry.msg === 'string') {
        // One line the parser could not read: the message it was about is unreadable, the connection goes on.
        state.unparsed.push(entry.msg.replace(/\r?\n$/, ''));
        if (state.unparsed.length > KEPT_LINES) state.unparsed.shift();
        return;
      }
      const code = entry?.err?.code;
      if (code && PROTOCOL_CODES.has(code) && !state.fault) state.fault = { code, message: entry.err!.message ?? code };
    },
  };
  return {
    options: { maxLineLength: LINE_LIMIT, maxLiteralSize: LITERAL_LIMIT, maxResponseSize: 2 * LITERAL_LIMIT + LINE_LIMIT, logger },
    bind: (client) => { states.set(client, state); },
  };
}

/** The protocol violation that ended this connection (a limit, an answer to a command not sent), as an error to stop on. */
export function protocolFault(client: ImapFlow, host: string): CutoverError | undefined {
  const fault = states.get(client)?.fault;
  if (!fault) return undefined;
  const detail = fault.code === 'LineTooLarge' ? `a line longer than the ${LINE_LIMIT}-byte limit (${fault.message})` : fault.message;
  return new CutoverError('IMAP_PROTOCOL', { host, detail });
}

/** Lines imapflow could not parse since the last call, oldest first (at most the last 256). */
export function takeUnparsedLines(client: ImapFlow): string[] {
  const state = states.get(client);
  if (!state) return [];
  return state.unparsed.splice(0);
}

/** A server line as quoted in a report: one line, at most 300 characters. */
export function quoteLine(line: string): string {
  const flat = line.replace(/[\r\n]+/g, ' ');
  return flat.length > QUOTED_CHARS ? `${flat.slice(0, QUOTED_CHARS)}…` : flat;
}

interface StreamLimits { maxLineLength: number; maxLiteralSize: number; maxResponseSize: number }

// imapflow reads its limits from its ImapStream on every check; they are changed there for one
// command at a time. Pinned imapflow 2.1.2: without that stream, the limits stay as constructed.
function streamOf(client: ImapFlow): StreamLimits | undefined {
  const stream = (client as unknown as { streamer?: Partial<StreamLimits> }).streamer;
  return stream && typeof stream.maxLiteralSize === 'number' && typeof stream.maxLineLength === 'number' ? stream as StreamLimits : undefined;
}

/** Runs `work` with the connection's limits set to `limits` (what the server announced), then puts the defaults back. */
export async function withLimits<T>(client: ImapFlow, limits: { line?: number; literal?: number }, work: () => Promise<T>): Promise<T> {
  const stream = streamOf(client);
  if (!stream) return work();
  const line = Math.ceil(limits.line ?? LINE_LIMIT);
  const literal = Math.ceil(limits.literal ?? LITERAL_LIMIT);
  Object.assign(stream, { maxLineLength: line, maxLiteralSize: literal, maxResponseSize: 2 * literal + line });
  try {
    return await work();
  } finally {
    Object.assign(stream, { maxLineLength: LINE_LIMIT, maxLiteralSize: LITERAL_LIMIT, maxResponseSize: 2 * LITERAL_LIMIT + LINE_LIMIT });
  }
}

/** The literal a body FETCH may carry: what the server announced (RFC822.SIZE), with room for servers that count a little off. */
export function literalLimitFor(announcedBytes: number): number {
  return 2 * announcedBytes + 1024 * 1024;
}

/** The largest UID (and UIDVALIDITY) IMAP allows: a 32-bit unsigned number other than 0. */
export const MAX_UID = 0xffffffff;

export function isValidUid(uid: unknown): uid is number {
  return typeof uid === 'number' && Number.isInteger(uid) && uid >= 1 && uid <= MAX_UID;
}
