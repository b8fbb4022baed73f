/**
 * Bytes as the playground shows and takes them: hex pairs separated by
 * spaces, read back tolerant of `0x`, colons, commas and line breaks.
 */

/** `01 02 ff`, with a line break every `perLine` bytes when given. */
export function toHex(bytes: Uint8Array, perLine = 0): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += perLine && i % perLine === 0 ? '\n' : ' ';
    out += bytes[i]!.toString(16).padStart(2, '0');
  }
  return out;
}

export class HexError extends Error {}

/** Parse hex text; throws HexError naming the first bad character or an odd digit count. */
export function parseHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s:,]+/g, '');
  const bad = /[^0-9a-f]/i.exec(clean);
  if (bad) throw new HexError(`'${bad[0]}' is not a hex digit`);
  if (clean.length % 2) throw new HexError(`odd number of hex digits (${clean.length})`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian unsigned integer of up to 8 bytes (how x86 and arm64 BPF maps store numbers). */
export function leUint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = Math.min(bytes.length, 8) - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
