/**
 * Packet builders for tests of networking programs: Ethernet, IPv4, IPv6,
 * TCP and UDP, composed inside out, with the checksums a stack would
 * compute (RFC 791's header checksum, RFC 793/768's over the pseudo-header,
 * RFC 8200 §8.1 for IPv6), so that a test never writes a byte array by hand:
 *
 *   ethernet({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
 *     ipv4({ src: '10.0.0.1', dst: '10.0.0.100' }, tcp({ sport: 40000, dport: 80, flags: 'S' })))
 */
import { TsbpfError } from '../errors.js';

/** An L4 segment before the IP layer knows where it goes: the IP builder fills its checksum. */
export interface Segment {
  proto: number;
  bytes: Uint8Array;
  /** where the checksum over the pseudo-header goes */
  csumOffset: number;
}

/** An L3 packet with its EtherType. */
export interface L3Packet {
  etherType: number;
  bytes: Uint8Array;
}

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

const TCP_FLAGS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20 };

export function mac(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{1,2}$/i.test(p))) throw new TsbpfError('EINVAL', `'${s}' is not a MAC address`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function ip4(s: string): Uint8Array {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new TsbpfError('EINVAL', `'${s}' is not an IPv4 address`);
  return Uint8Array.from(parts.map(Number));
}

/** An IPv6 address in RFC 4291 §2.2 text form (`::` once, no embedded IPv4). */
export function ip6(s: string): Uint8Array {
  const halves = s.split('::');
  if (halves.length > 2) throw new TsbpfError('EINVAL', `'${s}' is not an IPv6 address`);
  const groups = (h: string): number[] => (h === '' ? [] : h.split(':').map((g) => {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) throw new TsbpfError('EINVAL', `'${s}' is not an IPv6 address`);
    return parseInt(g, 16);
  }));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) throw new TsbpfError('EINVAL', `'${s}' is not an IPv6 address`);
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** The Internet checksum (RFC 1071) of `parts`, as one's complement of the one's complement sum. */
export function inetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
    if (p.length % 2) sum += p[p.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function u16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function u32(b: Uint8Array, off: number, v: number): void {
  u16(b, off, (v >>> 16) & 0xffff);
  u16(b, off + 2, v & 0xffff);
}

export function tcp(o: { sport: number; dport: number; seq?: number; ack?: number; flags?: string; window?: number }, data: Uint8Array = new Uint8Array(0)): Segment {
  const b = new Uint8Array(20 + data.length);
  u16(b, 0, o.sport);
  u16(b, 2, o.dport);
  u32(b, 4, o.seq ?? 0);
  u32(b, 8, o.ack ?? 0);
  b[12] = 5 << 4;
  let flags = 0;
  for (const c of o.flags ?? 'S') {
    const f = TCP_FLAGS[c];
    if (f === undefined) throw new TsbpfError('EINVAL', `unknown TCP flag ${c} (F S R P A U)`);
    flags |= f;
  }
  b[13] = flags;
  u16(b, 14, o.window ?? 65535);
  b.set(data, 20);
  return { proto: IPPROTO_TCP, bytes: b, csumOffset: 16 };
}

export function udp(o: { sport: number; dport: number }, data: Uint8Array = new Uint8Array(0)): Segment {
  const b = new Uint8Array(8 + data.length);
  u16(b, 0, o.sport);
  u16(b, 2, o.dport);
  u16(b, 4, b.length);
  b.set(data, 8);
  return { proto: IPPROTO_UDP, bytes: b, csumOffset: 6 };
}

function withL4Checksum(seg: Segment, pseudo: Uint8Array): Uint8Array {
  const b = seg.bytes.slice();
  u16(b, seg.csumOffset, 0);
  let c = inetChecksum(pseudo, b);
  // RFC 768: a UDP checksum that computes to zero is sent as all ones.
  if (c === 0 && seg.proto === IPPROTO_UDP) c = 0xffff;
  u16(b, seg.csumOffset, c);
  return b;
}

export function ipv4(o: { src: string; dst: string; ttl?: number; id?: number; proto?: number; tos?: number }, payload: Segment | Uint8Array): L3Packet {
  const src = ip4(o.src);
  const dst = ip4(o.dst);
  const seg = payload instanceof Uint8Array ? undefined : payload;
  const proto = o.proto ?? seg?.proto;
  if (proto === undefined) throw new TsbpfError('EINVAL', 'ipv4: raw payload bytes need a proto');
  let body = payload instanceof Uint8Array ? payload : payload.bytes;
  if (seg) {
    const pseudo = new Uint8Array(12);
    pseudo.set(src, 0);
    pseudo.set(dst, 4);
    pseudo[9] = seg.proto;
    u16(pseudo, 10, seg.bytes.length);
    body = withL4Checksum(seg, pseudo);
  }
  const b = new Uint8Array(20 + body.length);
  b[0] = 0x45;
  b[1] = o.tos ?? 0;
  u16(b, 2, b.length);
  u16(b, 4, o.id ?? 0);
  u16(b, 6, 0x4000); // DF
  b[8] = o.ttl ?? 64;
  b[9] = proto;
  b.set(src, 12);
  b.set(dst, 16);
  u16(b, 10, inetChecksum(b.subarray(0, 20)));
  b.set(body, 20);
  return { etherType: ETH_P_IP, bytes: b };
}

export function ipv6(o: { src: string; dst: string; hopLimit?: number; next?: number; flowLabel?: number }, payload: Segment | Uint8Array): L3Packet {
  const src = ip6(o.src);
  const dst = ip6(o.dst);
  const seg = payload instanceof Uint8Array ? undefined : payload;
  const next = o.next ?? seg?.proto;
  if (next === undefined) throw new TsbpfError('EINVAL', 'ipv6: raw payload bytes need a next header');
  let body = payload instanceof Uint8Array ? payload : payload.bytes;
  if (seg) {
    const pseudo = new Uint8Array(40);
    pseudo.set(src, 0);
    pseudo.set(dst, 16);
    u32(pseudo, 32, seg.bytes.length);
    pseudo[39] = seg.proto;
    body = withL4Checksum(seg, pseudo);
  }
  const b = new Uint8Array(40 + body.length);
  u32(b, 0, (6 << 28) | ((o.flowLabel ?? 0) & 0xfffff));
  u16(b, 4, body.length);
  b[6] = next;
  b[7] = o.hopLimit ?? 64;
  b.set(src, 8);
  b.set(dst, 24);
  b.set(body, 40);
  return { etherType: ETH_P_IPV6, bytes: b };
}

export function ethernet(o: { src?: string; dst?: string; type?: number }, payload: L3Packet | Uint8Array): Uint8Array {
  const type = o.type ?? (payload instanceof Uint8Array ? undefined : payload.etherType);
  if (type === undefined) throw new TsbpfError('EINVAL', 'ethernet: raw payload bytes need a type');
  const body = payload instanceof Uint8Array ? payload : payload.bytes;
  const b = new Uint8Array(14 + body.length);
  b.set(mac(o.dst ?? '02:00:00:00:00:02'), 0);
  b.set(mac(o.src ?? '02:00:00:00:00:01'), 6);
  u16(b, 12, type);
  b.set(body, 14);
  return b;
}

/** The Ethernet header of a frame, for assertions. */
export function ethernetHeader(frame: Uint8Array): { dst: string; src: string; type: number } {
  if (frame.length < 14) throw new TsbpfError('EINVAL', `a frame of ${frame.length} bytes has no Ethernet header`);
  const m = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
  return { dst: m(frame.subarray(0, 6)), src: m(frame.subarray(6, 12)), type: (frame[12]! << 8) | frame[13]! };
}
