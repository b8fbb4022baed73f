/**
 * A small packet builder for test runs: Ethernet (optionally 802.1Q tagged),
 * IPv4 (with a correct header checksum) / IPv6, TCP / UDP (with correct
 * checksums over the pseudo-header) / ICMP, plus short and malformed
 * packets. Everything the differential suite feeds to the kernel and tsbpf.
 */

export interface EthOpts {
  dst?: number[];
  src?: number[];
  vlan?: number;
}

function csum16(bytes: Uint8Array, seed = 0): number {
  let s = seed;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) s += bytes[bytes.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function sumWords(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) s += bytes[bytes.length - 1]! << 8;
  return s;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function eth(type: number, payload: Uint8Array, o: EthOpts = {}): Uint8Array {
  const dst = o.dst ?? [0x02, 0, 0, 0, 0, 0x02];
  const src = o.src ?? [0x02, 0, 0, 0, 0, 0x01];
  const hdr = o.vlan !== undefined ? new Uint8Array(18) : new Uint8Array(14);
  hdr.set(dst, 0);
  hdr.set(src, 6);
  if (o.vlan !== undefined) {
    hdr.set([0x81, 0x00, (o.vlan >> 8) & 0x0f, o.vlan & 0xff, type >> 8, type & 0xff], 12);
  } else hdr.set([type >> 8, type & 0xff], 12);
  return concat(hdr, payload);
}

export interface Ip4Opts {
  src?: number[];
  dst?: number[];
  ttl?: number;
  proto: number;
  /** extra option bytes (multiple of 4) */
  options?: Uint8Array;
  /** leave the checksum zero */
  noChecksum?: boolean;
}

export function ipv4(o: Ip4Opts, payload: Uint8Array): Uint8Array {
  const opt = o.options ?? new Uint8Array(0);
  const h = new Uint8Array(20 + opt.length);
  const len = h.length + payload.length;
  h[0] = 0x40 | (h.length / 4);
  h[2] = len >> 8;
  h[3] = len & 0xff;
  h[4] = 0x12;
  h[5] = 0x34;
  h[6] = 0x40; // DF
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  h.set(o.src ?? [10, 0, 0, 1], 12);
  h.set(o.dst ?? [10, 0, 0, 2], 16);
  h.set(opt, 20);
  if (!o.noChecksum) {
    const c = csum16(h);
    h[10] = c >> 8;
    h[11] = c & 0xff;
  }
  return concat(h, payload);
}

export function ipv6(o: { src?: number[]; dst?: number[]; next: number; hop?: number }, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h[4] = payload.length >> 8;
  h[5] = payload.length & 0xff;
  h[6] = o.next;
  h[7] = o.hop ?? 64;
  h.set(o.src ?? [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 8);
  h.set(o.dst ?? [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 24);
  return concat(h, payload);
}

/** A pseudo-header checksum for a transport segment inside `ip` (v4 or v6 header bytes). */
function l4Checksum(ipHdr: Uint8Array, proto: number, seg: Uint8Array): number {
  let pseudo: Uint8Array;
  if (ipHdr[0]! >> 4 === 4) {
    pseudo = new Uint8Array(12);
    pseudo.set(ipHdr.subarray(12, 20), 0);
    pseudo[9] = proto;
    pseudo[10] = seg.length >> 8;
    pseudo[11] = seg.length & 0xff;
  } else {
    pseudo = new Uint8Array(40);
    pseudo.set(ipHdr.subarray(8, 40), 0);
    pseudo[34] = seg.length >> 8;
    pseudo[35] = seg.length & 0xff;
    pseudo[39] = proto;
  }
  let s = sumWords(pseudo) + sumWords(seg);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  return proto === 17 && c === 0 ? 0xffff : c;
}

export function udp(sport: number, dport: number, data: Uint8Array = new Uint8Array(8)): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = sport >> 8;
  h[1] = sport & 0xff;
  h[2] = dport >> 8;
  h[3] = dport & 0xff;
  const len = 8 + data.length;
  h[4] = len >> 8;
  h[5] = len & 0xff;
  return concat(h, data);
}

export function tcp(sport: number, dport: number, flags = 0x02, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = sport >> 8;
  h[1] = sport & 0xff;
  h[2] = dport >> 8;
  h[3] = dport & 0xff;
  h[7] = 1;
  h[12] = 5 << 4;
  h[13] = flags;
  h[14] = 0xff;
  h[15] = 0xff;
  return concat(h, data);
}

export function icmpEcho(id = 1, seq = 1, data: Uint8Array = new Uint8Array(16)): Uint8Array {
  const h = new Uint8Array(8 + data.length);
  h[0] = 8;
  h[4] = id >> 8;
  h[5] = id & 0xff;
  h[6] = seq >> 8;
  h[7] = seq & 0xff;
  h.set(data, 8);
  const c = csum16(h);
  h[2] = c >> 8;
  h[3] = c & 0xff;
  return h;
}

/** IPv4/IPv6 + transport with the transport checksum filled in. */
export function ip4l4(o: Omit<Ip4Opts, 'proto'>, proto: 6 | 17, seg: Uint8Array): Uint8Array {
  const pkt = ipv4({ ...o, proto }, seg);
  const hl = (pkt[0]! & 0xf) * 4;
  const c = l4Checksum(pkt.subarray(0, hl), proto, pkt.subarray(hl));
  const at = hl + (proto === 17 ? 6 : 16);
  pkt[at] = c >> 8;
  pkt[at + 1] = c & 0xff;
  return pkt;
}

export function ip6l4(proto: 6 | 17, seg: Uint8Array): Uint8Array {
  const pkt = ipv6({ next: proto }, seg);
  const c = l4Checksum(pkt.subarray(0, 40), proto, pkt.subarray(40));
  const at = 40 + (proto === 17 ? 6 : 16);
  pkt[at] = c >> 8;
  pkt[at + 1] = c & 0xff;
  return pkt;
}

function padTo(p: Uint8Array, n: number): Uint8Array {
  if (p.length >= n) return p;
  const out = new Uint8Array(n);
  out.set(p);
  return out;
}

export interface NamedPacket {
  name: string;
  data: Uint8Array;
}

/** The differential suite's packet set: common traffic, edge sizes, malformed headers. */
export function packetSet(): NamedPacket[] {
  const P: NamedPacket[] = [];
  const add = (name: string, data: Uint8Array): void => {
    P.push({ name, data });
  };
  add('ipv4-udp-dns', eth(0x0800, ip4l4({}, 17, udp(40000, 53, new Uint8Array(20).fill(0x61)))));
  add('ipv4-udp-other', eth(0x0800, ip4l4({ src: [192, 168, 1, 7] }, 17, udp(1234, 4321))));
  add('ipv4-tcp-syn', eth(0x0800, ip4l4({ src: [10, 1, 2, 3] }, 6, tcp(5555, 80))));
  add('ipv4-tcp-64', padTo(eth(0x0800, ip4l4({}, 6, tcp(1, 2, 0x10))), 64));
  add('ipv4-icmp', eth(0x0800, ipv4({ proto: 1, ttl: 1 }, icmpEcho())));
  add('ipv4-options', eth(0x0800, ip4l4({ options: new Uint8Array([1, 1, 1, 0]) }, 17, udp(7, 53))));
  add('ipv4-udp-zero-csum', (() => {
    const p = eth(0x0800, ipv4({ proto: 17 }, udp(9, 53)));
    return p; // UDP checksum left 0 ("none")
  })());
  add('ipv6-udp', eth(0x86dd, ip6l4(17, udp(1000, 53))));
  add('ipv6-tcp', eth(0x86dd, ip6l4(6, tcp(443, 50000, 0x12))));
  add('vlan-ipv4-udp', eth(0x0800, ip4l4({}, 17, udp(1, 53)), { vlan: 42 }));
  add('arp', padTo(eth(0x0806, new Uint8Array(28).fill(1)), 60));
  add('broadcast-ipv4', eth(0x0800, ip4l4({}, 17, udp(68, 67)), { dst: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] }));
  add('multicast-ipv4', eth(0x0800, ip4l4({ dst: [224, 0, 0, 251] }, 17, udp(5353, 5353)), { dst: [0x01, 0x00, 0x5e, 0, 0, 0xfb] }));
  add('host-dst-zero-mac', eth(0x0800, ip4l4({}, 6, tcp(1, 2)), { dst: [0, 0, 0, 0, 0, 0] }));
  add('eth-only-14', eth(0x0800, new Uint8Array(0)));
  add('eth-802.3-len', padTo(eth(0x0040, new Uint8Array([0xff, 0xff, 0, 0])), 60));
  add('eth-802.2-llc', padTo(eth(0x0040, new Uint8Array([0xaa, 0xaa, 3, 0])), 60));
  add('ipv4-truncated', eth(0x0800, new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17])));
  add('ipv4-bad-ihl', eth(0x0800, (() => { const p = ip4l4({}, 17, udp(1, 53)); p[0] = 0x4f; return p; })()));
  add('ipv6-truncated', eth(0x86dd, new Uint8Array(30)));
  add('short-13', new Uint8Array(13).fill(0xee));
  add('large-1600', eth(0x0800, ip4l4({}, 17, udp(1, 2, new Uint8Array(1600 - 14 - 28).fill(7)))));
  add('jumbo-4000', eth(0x0800, ip4l4({}, 17, udp(3, 4, new Uint8Array(4000 - 14 - 28).fill(9)))));
  return P;
}
