/**
 * The packet builder: Ethernet, then IPv4 or IPv6, then TCP or UDP, then a
 * payload, with the checksums a receiver would verify (RFC 791 header
 * checksum, RFC 768/793 checksums over the pseudo-header; RFC 8200 8.1 for
 * IPv6, where the UDP checksum is mandatory). `describePacket` reads a frame
 * back into the same fields, for the packet that comes out of a run.
 */
import { parseHex, toHex } from './hex.js';

export interface PacketSpec {
  ethSrc: string;
  ethDst: string;
  l3: 'ipv4' | 'ipv6' | 'none';
  /** EtherType when l3 is 'none' (hex, e.g. 0x0806) */
  ethType: number;
  src: string;
  dst: string;
  /** IPv4 TTL / IPv6 hop limit */
  ttl: number;
  l4: 'tcp' | 'udp' | 'none';
  /** IP protocol / next header when l4 is 'none' */
  proto: number;
  sport: number;
  dport: number;
  /** TCP flags as letters: F S R P A U */
  tcpFlags: string;
  seq: number;
  /** payload as hex */
  payload: string;
}

export const DEFAULT_PACKET: PacketSpec = {
  ethSrc: '02:00:00:00:00:01',
  ethDst: '02:00:00:00:00:02',
  l3: 'ipv4',
  ethType: 0x0800,
  src: '10.0.0.1',
  dst: '10.0.0.2',
  ttl: 64,
  l4: 'udp',
  proto: 17,
  sport: 12345,
  dport: 53,
  tcpFlags: 'S',
  seq: 1,
  payload: '68 65 6c 6c 6f',
};

export class PacketError extends Error {}

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TCP_FLAGS = 'FSRPAU';

export function parseMac(s: string): Uint8Array {
  const parts = s.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{1,2}$/i.test(p))) throw new PacketError(`'${s}' is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function parseIpv4(s: string): Uint8Array {
  const parts = s.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new PacketError(`'${s}' is not an IPv4 address`);
  return Uint8Array.from(parts.map(Number));
}

/** RFC 4291 2.2 text forms, `::` included (no embedded IPv4). */
export function parseIpv6(s: string): Uint8Array {
  const t = s.trim();
  const halves = t.split('::');
  if (halves.length > 2) throw new PacketError(`'${s}' is not an IPv6 address`);
  const words = (h: string): number[] => (h === '' ? [] : h.split(':').map((w) => {
    if (!/^[0-9a-f]{1,4}$/i.test(w)) throw new PacketError(`'${s}' is not an IPv6 address`);
    return parseInt(w, 16);
  }));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) throw new PacketError(`'${s}' is not an IPv6 address`);
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

function formatIpv6(b: Uint8Array): string {
  const w = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // RFC 5952 4.2: the longest run of two or more zero words becomes `::`.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function port(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new PacketError(`${what} ${n} is not a port (0..65535)`);
  return n;
}

/** RFC 1071 one's complement sum, folded. */
export function inetChecksum(chunks: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const c of chunks) {
    for (const b of c) {
      if (odd === undefined) odd = b;
      else { sum += (odd << 8) | b; odd = undefined; }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function l4Header(p: PacketSpec, payload: Uint8Array): Uint8Array {
  if (p.l4 === 'udp') {
    const h = new Uint8Array(8);
    h.set(u16(port(p.sport, 'source port')), 0);
    h.set(u16(port(p.dport, 'destination port')), 2);
    h.set(u16(8 + payload.length), 4);
    return h;
  }
  if (p.l4 === 'tcp') {
    const h = new Uint8Array(20);
    h.set(u16(port(p.sport, 'source port')), 0);
    h.set(u16(port(p.dport, 'destination port')), 2);
    h.set(u32(p.seq >>> 0), 4);
    h[12] = 5 << 4; // data offset: 5 words, no options
    let flags = 0;
    for (const ch of p.tcpFlags.toUpperCase()) {
      const bit = TCP_FLAGS.indexOf(ch);
      if (bit < 0) throw new PacketError(`'${ch}' is not a TCP flag (F S R P A U)`);
      flags |= 1 << bit;
    }
    h[13] = flags;
    h.set(u16(65535), 14); // window
    return h;
  }
  return new Uint8Array(0);
}

/** The frame the spec describes, checksums filled in. */
export function buildPacket(p: PacketSpec): Uint8Array {
  const payload = parseHex(p.payload);
  const ethType = p.l3 === 'ipv4' ? ETH_P_IP : p.l3 === 'ipv6' ? ETH_P_IPV6 : p.ethType;
  const eth = concat([parseMac(p.ethDst), parseMac(p.ethSrc), u16(ethType & 0xffff)]);
  if (p.l3 === 'none') return concat([eth, payload]);
  const proto = p.l4 === 'tcp' ? IPPROTO_TCP : p.l4 === 'udp' ? IPPROTO_UDP : p.proto;
  if (!Number.isInteger(proto) || proto < 0 || proto > 255) throw new PacketError(`protocol ${proto} is not 0..255`);
  if (!Number.isInteger(p.ttl) || p.ttl < 0 || p.ttl > 255) throw new PacketError(`TTL ${p.ttl} is not 0..255`);
  const l4 = l4Header(p, payload);
  const segLen = l4.length + payload.length;
  const src = p.l3 === 'ipv4' ? parseIpv4(p.src) : parseIpv6(p.src);
  const dst = p.l3 === 'ipv4' ? parseIpv4(p.dst) : parseIpv6(p.dst);
  // Pseudo-header: RFC 793 3.1 / RFC 768 for IPv4, RFC 8200 8.1 for IPv6.
  const pseudo = p.l3 === 'ipv4' ? concat([src, dst, Uint8Array.of(0, proto), u16(segLen)]) : concat([src, dst, u32(segLen), Uint8Array.of(0, 0, 0, proto)]);
  if (l4.length) {
    const off = p.l4 === 'udp' ? 6 : 16;
    let sum = inetChecksum([pseudo, l4, payload]);
    if (p.l4 === 'udp' && sum === 0) sum = 0xffff; // RFC 768: a computed 0 is sent as all ones
    l4.set(u16(sum), off);
  }
  let ip: Uint8Array;
  if (p.l3 === 'ipv4') {
    ip = new Uint8Array(20);
    ip[0] = 0x45;
    ip.set(u16(20 + segLen), 2);
    ip[6] = 0x40; // DF
    ip[8] = p.ttl;
    ip[9] = proto;
    ip.set(src, 12);
    ip.set(dst, 16);
    ip.set(u16(inetChecksum([ip])), 10);
  } else {
    ip = new Uint8Array(40);
    ip[0] = 0x60;
    ip.set(u16(segLen), 4);
    ip[6] = proto;
    ip[7] = p.ttl;
    ip.set(src, 8);
    ip.set(dst, 24);
  }
  return concat([eth, ip, l4, payload]);
}

const mac = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** A frame read back into header fields, one line per layer, for showing the packet that came out of a run. */
export function describePacket(b: Uint8Array): string[] {
  const out: string[] = [];
  if (b.length < 14) return [`${b.length} bytes (shorter than an Ethernet header)`];
  const type = (b[12]! << 8) | b[13]!;
  out.push(`Ethernet ${mac(b.subarray(6, 12))} → ${mac(b.subarray(0, 6))} type 0x${type.toString(16).padStart(4, '0')}`);
  let off = 14;
  let proto = -1;
  if (type === ETH_P_IP && b.length >= off + 20) {
    const ihl = (b[off]! & 0xf) * 4;
    proto = b[off + 9]!;
    out.push(`IPv4 ${Array.from(b.subarray(off + 12, off + 16)).join('.')} → ${Array.from(b.subarray(off + 16, off + 20)).join('.')} ttl ${b[off + 8]} proto ${proto} len ${(b[off + 2]! << 8) | b[off + 3]!}`);
    off += Math.max(20, ihl);
  } else if (type === ETH_P_IPV6 && b.length >= off + 40) {
    proto = b[off + 6]!;
    out.push(`IPv6 ${formatIpv6(b.subarray(off + 8, off + 24))} → ${formatIpv6(b.subarray(off + 24, off + 40))} hop limit ${b[off + 7]} next header ${proto}`);
    off += 40;
  }
  if (proto === IPPROTO_UDP && b.length >= off + 8) {
    out.push(`UDP ${(b[off]! << 8) | b[off + 1]!} → ${(b[off + 2]! << 8) | b[off + 3]!} len ${(b[off + 4]! << 8) | b[off + 5]!}`);
    off += 8;
  } else if (proto === IPPROTO_TCP && b.length >= off + 20) {
    const flags = [...TCP_FLAGS].filter((_, i) => b[off + 13]! & (1 << i)).join('');
    out.push(`TCP ${(b[off]! << 8) | b[off + 1]!} → ${(b[off + 2]! << 8) | b[off + 3]!} flags ${flags || '-'} seq ${(((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0)}`);
    off += ((b[off + 12]! >> 4) || 5) * 4;
  }
  if (off < b.length) out.push(`payload ${b.length - off} bytes: ${toHex(b.subarray(off, off + 32))}${b.length - off > 32 ? ' …' : ''}`);
  return out;
}
