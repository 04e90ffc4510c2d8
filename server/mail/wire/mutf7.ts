// RFC 3501 §5.1.3 modified UTF-7 for mailbox names, as the servers without UTF8=ACCEPT expect it.
export function encodeMailboxName(name: string): string {
  let out = '';
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const utf16 = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) utf16.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = '';
  };
  for (const char of name) {
    const code = char.codePointAt(0)!;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += char === '&' ? '&-' : char;
    } else {
      pending += char;
    }
  }
  flush();
  return out;
}
