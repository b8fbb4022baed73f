/**
 * Ethernet / IPv4 / IPv6 / UDP frames synthesised around a datagram (what a
 * program attached to a UDP socket sees, since a dgram socket gives only
 * the payload and the peer), and parsed back after a program rewrote them.
 * Checksums follow RFC 791 (IPv4 header), RFC 768 and RFC 8200 8.1 (UDP
 * with the pseudo-header; mandatory over IPv6).
 */
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { addrBytes } from '../tracepoint.js';

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const IPPROTO_UDP = 17;

/** Locally administered MACs: the "peer" and "this host" of synthesised frames. */
const PEER_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
const HOST_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x02);

export interface UdpDatagram {
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  payload: Uint8Array;
}

function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  for (let i = 0; i + 1 < len; i += 2) acc += (b[off + i]! << 8) | b[off + i + 1]!;
  if (len & 1) acc += b[off + len - 1]! << 8;
  return acc;
}
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** The frame of `d` as it would arrive on an Ethernet link (IPv4 or IPv6 from the addresses). */
export function buildUdpFrame(d: UdpDatagram): Uint8Array {
  const v4 = isIPv4(d.srcAddr) || /^::ffff:\d/i.test(d.srcAddr);
  const ipLen = v4 ? 20 : 40;
  const udpLen = 8 + d.payload.length;
  const f = new Uint8Array(ETH_HLEN + ipLen + udpLen);
  const dv = new DataView(f.buffer);
  f.set(HOST_MAC, 0);
  f.set(PEER_MAC, 6);
  dv.setUint16(12, v4 ? ETH_P_IP : ETH_P_IPV6);
  const ip = ETH_HLEN;
  const src = addrBytes(d.srcAddr) ?? new Uint8Array(16);
  const dst = addrBytes(d.dstAddr) ?? new Uint8Array(16);
  if (v4) {
    f[ip] = 0x45;
    dv.setUint16(ip + 2, ipLen + udpLen);
    dv.setUint16(ip + 6, 0x4000); // DF
    f[ip + 8] = 64;
    f[ip + 9] = IPPROTO_UDP;
    f.set(src.subarray(0, 4), ip + 12);
    f.set(dst.subarray(0, 4), ip + 16);
    dv.setUint16(ip + 10, ~fold(sum16(f, ip, 20)) & 0xffff);
  } else {
    dv.setUint32(ip, 0x60000000);
    dv.setUint16(ip + 4, udpLen);
    f[ip + 6] = IPPROTO_UDP;
    f[ip + 7] = 64;
    f.set(src, ip + 8);
    f.set(dst, ip + 24);
  }
  const u = ip + ipLen;
  dv.setUint16(u, d.srcPort);
  dv.setUint16(u + 2, d.dstPort);
  dv.setUint16(u + 4, udpLen);
  f.set(d.payload, u + 8);
  // Pseudo-header: addresses, protocol, UDP length.
  let acc = v4 ? sum16(f, ip + 12, 8) : sum16(f, ip + 8, 32);
  acc += IPPROTO_UDP + udpLen;
  acc = sum16(f, u, udpLen, acc);
  const c = ~fold(acc) & 0xffff;
  dv.setUint16(u + 6, c === 0 ? 0xffff : c);
  return f;
}

function addrText(b: Uint8Array, v4: boolean): string {
  if (v4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return g.join(':');
}

/** The UDP datagram in a frame (after a program rewrote it), or undefined when it is no longer Ethernet/IP/UDP. */
export function parseUdpFrame(f: Uint8Array): UdpDatagram | undefined {
  if (f.length < ETH_HLEN + 28) return undefined;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const proto = dv.getUint16(12);
  let ip = ETH_HLEN;
  let u: number;
  let src: string;
  let dst: string;
  if (proto === ETH_P_IP) {
    const ihl = (f[ip]! & 0x0f) * 4;
    if (f[ip + 9] !== IPPROTO_UDP || ihl < 20) return undefined;
    src = addrText(f.subarray(ip + 12, ip + 16), true);
    dst = addrText(f.subarray(ip + 16, ip + 20), true);
    u = ip + ihl;
  } else if (proto === ETH_P_IPV6) {
    if (f[ip + 6] !== IPPROTO_UDP || f.length < ETH_HLEN + 48) return undefined;
    src = addrText(f.subarray(ip + 8, ip + 24), false);
    dst = addrText(f.subarray(ip + 24, ip + 40), false);
    u = ip + 40;
  } else return undefined;
  if (u + 8 > f.length) return undefined;
  const len = Math.min(dv.getUint16(u + 4), f.length - u);
  return { srcAddr: src, srcPort: dv.getUint16(u), dstAddr: dst, dstPort: dv.getUint16(u + 2), payload: f.slice(u + 8, u + Math.max(8, len)) };
}

/**
 * The headers of the frames of one flow (peer and local address and port),
 * built once and then written in front of each datagram's payload straight
 * into a packet buffer (writeUdpFrame): the per-datagram work is the length
 * fields, the two checksums and the payload copy, with nothing allocated.
 */
export interface UdpFrameTemplate {
  readonly srcAddr: string;
  readonly srcPort: number;
  readonly dstAddr: string;
  readonly dstPort: number;
  readonly v4: boolean;
  /** bytes of the IP header (20 or 40) */
  readonly ipLen: number;
  /** Ethernet + IP + UDP headers, with the length and checksum fields 0 */
  readonly headers: Uint8Array;
  /** one's-complement sum (unfolded) of the IPv4 header without its length (0 for IPv6) */
  readonly ipSum: number;
  /** one's-complement sum of the pseudo-header's addresses and protocol (RFC 768, RFC 8200 8.1) */
  readonly pseudoSum: number;
  /** sum of the UDP ports */
  readonly portSum: number;
  /** the peer is an address of this host: Linux delivers it over loopback (see writeUdpFrame) */
  readonly local: boolean;
}

/** The template for datagrams from src to dst (addresses as dgram's rinfo / address() give them). */
export function udpFrameTemplate(srcAddr: string, srcPort: number, dstAddr: string, dstPort: number): UdpFrameTemplate {
  const headers = buildUdpFrame({ srcAddr, srcPort, dstAddr, dstPort, payload: new Uint8Array(0) });
  const v4 = headers[12] === ETH_P_IP >> 8 && headers[13] === (ETH_P_IP & 0xff);
  const ipLen = v4 ? 20 : 40;
  const ip = ETH_HLEN;
  const u = ip + ipLen;
  // Zero the fields writeUdpFrame fills per datagram.
  if (v4) headers.fill(0, ip + 2, ip + 4), headers.fill(0, ip + 10, ip + 12);
  else headers.fill(0, ip + 4, ip + 6);
  headers.fill(0, u + 4, u + 8);
  const ipSum = v4 ? sum16(headers, ip, 20) : 0;
  const pseudoSum = (v4 ? sum16(headers, ip + 12, 8) : sum16(headers, ip + 8, 32)) + IPPROTO_UDP;
  return { srcAddr, srcPort, dstAddr, dstPort, v4, ipLen, headers, ipSum, pseudoSum, portSum: (srcPort & 0xffff) + (dstPort & 0xffff), local: isLocalAddress(srcAddr) };
}

/**
 * Write the frame of `payload` (template `t`) at `u8[at]`; returns its
 * length. `checksum` says what the UDP checksum field holds: 'full', as on
 * the wire (RFC 768); or 'partial', as on a datagram Linux sends over
 * loopback, where the checksum is offloaded (CHECKSUM_PARTIAL) and the
 * field holds only the pseudo-header sum (~csum_tcpudp_magic(..., 0), what
 * udp4_hwcsum / udp6_hwcsum leave for the device to complete).
 */
export function writeUdpFrame(u8: Uint8Array, at: number, t: UdpFrameTemplate, payload: Uint8Array, checksum: 'full' | 'partial'): number {
  const hl = t.headers.length;
  const udpLen = 8 + payload.length;
  u8.set(t.headers, at);
  // The full checksum copies and sums the payload in one pass; the partial one needs no sum.
  let psum = 0;
  if (checksum === 'partial') u8.set(payload, at + hl);
  else psum = copySum16(u8, at + hl, payload);
  const ip = at + ETH_HLEN;
  const u = ip + t.ipLen;
  if (t.v4) {
    const total = t.ipLen + udpLen;
    u8[ip + 2] = total >> 8;
    u8[ip + 3] = total & 0xff;
    const c = ~fold(t.ipSum + total) & 0xffff;
    u8[ip + 10] = c >> 8;
    u8[ip + 11] = c & 0xff;
  } else {
    u8[ip + 4] = udpLen >> 8;
    u8[ip + 5] = udpLen & 0xff;
  }
  u8[u + 4] = udpLen >> 8;
  u8[u + 5] = udpLen & 0xff;
  let c: number;
  if (checksum === 'partial') c = fold(t.pseudoSum + udpLen);
  else {
    // Pseudo-header (with the UDP length), the header (ports and length again), the payload.
    c = ~fold(psum + t.pseudoSum + udpLen + t.portSum + udpLen) & 0xffff;
    if (c === 0) c = 0xffff;
  }
  u8[u + 6] = c >> 8;
  u8[u + 7] = c & 0xff;
  return hl + payload.length;
}

/** Copy `src` to `dst[at]` and return its one's-complement sum of big-endian 16-bit words (unfolded; RFC 1071). */
function copySum16(dst: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  let acc = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const hi = src[i]!;
    const lo = src[i + 1]!;
    dst[at + i] = hi;
    dst[at + i + 1] = lo;
    acc += (hi << 8) | lo;
  }
  if (i < n) {
    const hi = src[i]!;
    dst[at + i] = hi;
    acc += hi << 8;
  }
  return acc;
}

/**
 * Where the UDP payload of the frame at u8[start, end) is: its offset
 * (from 0 of u8) times 65536 plus its length, or -1 when the frame is no
 * longer Ethernet/IPv4-or-IPv6/UDP (the same rules as parseUdpFrame, without
 * building strings or copies).
 */
export function udpPayloadSpan(u8: Uint8Array, start: number, end: number): number {
  if (end - start < ETH_HLEN + 28) return -1;
  const proto = (u8[start + 12]! << 8) | u8[start + 13]!;
  const ip = start + ETH_HLEN;
  let u: number;
  if (proto === ETH_P_IP) {
    const ihl = (u8[ip]! & 0x0f) * 4;
    if (u8[ip + 9] !== IPPROTO_UDP || ihl < 20) return -1;
    u = ip + ihl;
  } else if (proto === ETH_P_IPV6) {
    if (u8[ip + 6] !== IPPROTO_UDP || end - start < ETH_HLEN + 48) return -1;
    u = ip + 40;
  } else return -1;
  if (u + 8 > end) return -1;
  const len = Math.min((u8[u + 4]! << 8) | u8[u + 5]!, end - u);
  return (u + 8) * 65536 + Math.max(0, len - 8);
}

let localAddrs: Set<string> | undefined;
/** Whether `addr` is this host's (loopback, or an address of one of its interfaces): Linux routes it over lo. */
function isLocalAddress(addr: string): boolean {
  const a = addr.toLowerCase().replace(/^::ffff:(?=\d)/, '');
  if (/^127\./.test(a) || a === '::1') return true;
  if (!localAddrs) {
    localAddrs = new Set();
    try {
      for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) localAddrs.add(i.address.toLowerCase());
    } catch {
      /* no interface list (sandboxed): loopback addresses only */
    }
  }
  return localAddrs.has(a);
}
