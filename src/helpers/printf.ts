/**
 * The format language of bpf_trace_printk and bpf_snprintf, with the kernel's
 * rules (kernel/bpf/helpers.c, bpf_bprintf_prepare) and vsnprintf's output:
 *
 * - the format must be NUL-terminated within its size; ASCII control
 *   characters other than whitespace are refused;
 * - conversions: %d %i %u %x %X with optional `l`/`ll`, %c, %s, %%, and the
 *   pointer forms %p %pK %px %ps %pS %pB %pks %pus %pI4 %pi4 %pI6 %pi6;
 * - flags `0 + - space` and a decimal width; no precision, no `*`;
 * - %s (and %pks/%pus) must be followed by NUL, whitespace or punctuation;
 * - more conversions than arguments is -EINVAL.
 *
 * A string argument that cannot be read prints as the empty string, as the
 * kernel's copy_from_kernel_nofault failure path does.
 */
import type { AddressSpace } from '../memory/address-space.js';

export type PrintfResult = { ok: true; text: string } | { ok: false; errno: 'EINVAL' };

const isPunct = (c: number): boolean => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isPrint = (c: number): boolean => c >= 32 && c <= 126;

/**
 * How many bytes from `addr` a conversion may read, up to `want` (0: none):
 * the probe-read helpers' reach (reach.ts probeSpan), or the rest of the
 * space when the caller gives none.
 */
export type Readable = (addr: bigint, want: number) => number;

const wholeSpace = (space: AddressSpace): Readable => (addr, want) =>
  addr < 4096n || addr >= BigInt(space.size) ? 0 : Math.min(want, space.size - Number(addr));

/**
 * Read up to `max` bytes of a NUL-terminated string; undefined when the
 * pointer cannot be read, or the string runs into unreadable bytes before
 * its NUL (strncpy_from_kernel_nofault failing: the kernel prints "").
 */
function readStr(space: AddressSpace, readable: Readable, addr: bigint, max: number): string | undefined {
  const span = readable(addr, max);
  if (span === 0) return undefined;
  const a = Number(addr);
  const u8 = space.u8;
  let end = a;
  while (end - a < span && u8[end] !== 0) end++;
  if (end - a === span && span < max) return undefined;
  let s = '';
  for (let k = a; k < end; k++) s += String.fromCharCode(u8[k]!);
  return s;
}

function pad(body: string, width: number, left: boolean, zero: boolean, signLen = 0): string {
  if (body.length >= width) return body;
  if (left) return body + ' '.repeat(width - body.length);
  if (zero) return body.slice(0, signLen) + '0'.repeat(width - body.length) + body.slice(signLen);
  return ' '.repeat(width - body.length) + body;
}

/**
 * Format `fmt` (bytes up to its NUL) with raw 64-bit arguments. The result
 * text is what vsnprintf would produce (before any truncation).
 */
export function bpfFormat(space: AddressSpace, fmtBytes: Uint8Array, args: readonly bigint[], readable: Readable = wholeSpace(space)): PrintfResult {
  const nul = fmtBytes.indexOf(0);
  if (nul < 0) return { ok: false, errno: 'EINVAL' };
  const f = fmtBytes.subarray(0, nul);
  const at = (k: number): number => (k < f.length ? f[k]! : 0);
  let out = '';
  let spec = 0;
  for (let i = 0; i < f.length; i++) {
    const c = f[i]!;
    if (c < 0x80 && !isPrint(c) && !isSpace(c)) return { ok: false, errno: 'EINVAL' };
    if (c !== 0x25 /* % */) {
      out += String.fromCharCode(c);
      continue;
    }
    if (at(i + 1) === 0x25) {
      out += '%';
      i++;
      continue;
    }
    if (spec >= args.length) return { ok: false, errno: 'EINVAL' };
    i++;
    if (at(i) >= 0x80) return { ok: false, errno: 'EINVAL' };
    let left = false;
    let zero = false;
    let plus = false;
    let blank = false;
    for (;;) {
      const k = at(i);
      if (k === 0x30) zero = true;
      else if (k === 0x2b) plus = true;
      else if (k === 0x2d) left = true;
      else if (k === 0x20) blank = true;
      else break;
      i++;
    }
    let width = 0;
    if (at(i) >= 0x31 && at(i) <= 0x39) {
      while (at(i) >= 0x30 && at(i) <= 0x39) width = width * 10 + (f[i++]! - 0x30);
    }
    const arg = args[spec]!;
    const ch = at(i);
    if (ch === 0x70 /* p */) {
      const n1 = at(i + 1);
      if (n1 === 0 || isSpace(n1) || isPunct(n1)) {
        // Plain %p: the kernel prints a hashed pointer; tsbpf prints the address itself.
        out += pad(hex16(arg), width, left, zero);
        spec++;
        continue;
      }
      if ((n1 === 0x6b || n1 === 0x75) && at(i + 2) === 0x73) {
        i += 2;
        const n = at(i + 1);
        if (n !== 0 && !isSpace(n) && !isPunct(n)) return { ok: false, errno: 'EINVAL' };
        out += pad(readStr(space, readable, arg, 4096) ?? '', width, left, false);
        spec++;
        continue;
      }
      if (n1 === 0x4b || n1 === 0x78 || n1 === 0x73 || n1 === 0x53 || n1 === 0x42) {
        i++;
        out += pad(n1 === 0x73 || n1 === 0x53 || n1 === 0x42 ? `0x${BigInt.asUintN(64, arg).toString(16)}` : hex16(arg), width, left, zero);
        spec++;
        continue;
      }
      const n2 = at(i + 2);
      if ((n1 !== 0x69 && n1 !== 0x49) || (n2 !== 0x34 && n2 !== 0x36)) return { ok: false, errno: 'EINVAL' };
      i += 2;
      const size = n2 === 0x34 ? 4 : 16;
      const a = Number(arg);
      const ip = readable(arg, size) === size ? space.bytes(a, size) : new Uint8Array(size);
      out += pad(formatIp(ip, n1 === 0x49, size), width, left, false);
      spec++;
      continue;
    }
    if (ch === 0x73 /* s */) {
      const n = at(i + 1);
      if (n !== 0 && !isSpace(n) && !isPunct(n)) return { ok: false, errno: 'EINVAL' };
      out += pad(readStr(space, readable, arg, 4096) ?? '', width, left, false);
      spec++;
      continue;
    }
    if (ch === 0x63 /* c */) {
      out += pad(String.fromCharCode(Number(arg & 0xffn)), width, left, false);
      spec++;
      continue;
    }
    let bits = 32;
    if (at(i) === 0x6c) {
      bits = 64;
      i++;
    }
    if (at(i) === 0x6c) i++;
    const conv = at(i);
    let body: string;
    let signLen = 0;
    if (conv === 0x64 || conv === 0x69) {
      const v = BigInt.asIntN(bits, arg);
      const sign = v < 0n ? '-' : plus ? "+" : blank ? " " : "";
      body = sign + (v < 0n ? -v : v).toString(10);
      signLen = sign.length;
    } else if (conv === 0x75) body = BigInt.asUintN(bits, arg).toString(10);
    else if (conv === 0x78) body = BigInt.asUintN(bits, arg).toString(16);
    else if (conv === 0x58) body = BigInt.asUintN(bits, arg).toString(16).toUpperCase();
    else return { ok: false, errno: 'EINVAL' };
    out += pad(body, width, left, zero && !left, signLen);
    spec++;
  }
  return { ok: true, text: out };
}

function hex16(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

/** %pI4 / %pi4 / %pI6 / %pi6 as lib/vsprintf.c prints them. */
function formatIp(b: Uint8Array, dotted: boolean, size: number): string {
  if (size === 4) {
    const parts = Array.from(b, (x) => (dotted ? String(x) : String(x).padStart(3, '0')));
    return parts.join('.');
  }
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(((b[k]! << 8) | b[k + 1]!).toString(16).padStart(4, '0'));
  return dotted ? groups.join(':') : groups.join('');
}
