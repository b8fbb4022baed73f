/**
 * pcap and pcapng capture files (the formats of libpcap and
 * draft-ietf-opsawg-pcapng): reading both, writing pcap. Both byte orders
 * and microsecond/nanosecond pcap timestamps are read; pcapng Enhanced and
 * Simple Packet Blocks are read (other blocks skipped), with each
 * interface's link type and timestamp resolution (if_tsresol).
 */
import { TsbpfError } from '../../errors.js';

export const LINKTYPE_ETHERNET = 1;

export interface CapturedPacket {
  /** capture time, ns since the epoch */
  tsNs: bigint;
  /** the bytes captured (may be fewer than origLen) */
  data: Uint8Array;
  origLen: number;
  linkType: number;
}

function bad(msg: string): TsbpfError {
  return new TsbpfError('EINVAL', `capture file: ${msg}`);
}

/** Every packet of a pcap or pcapng file, in file order. */
export function* readCapture(buf: Uint8Array): Generator<CapturedPacket> {
  if (buf.length < 4) throw bad('too short for a pcap or pcapng header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) === 0x0a0d0d0a) yield* readPcapng(buf, dv);
  else yield* readPcap(buf, dv);
}

function* readPcap(buf: Uint8Array, dv: DataView): Generator<CapturedPacket> {
  const m = dv.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) (le = true), (nano = m === 0xa1b23c4d);
  else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) (le = false), (nano = m === 0x4d3cb2a1);
  else throw bad(`unknown magic 0x${m.toString(16)} (not pcap or pcapng)`);
  if (buf.length < 24) throw bad('truncated pcap header');
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  let off = 24;
  let n = 0;
  while (off < buf.length) {
    if (off + 16 > buf.length) throw bad(`truncated record header of packet ${n + 1} at offset ${off}`);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    const orig = dv.getUint32(off + 12, le);
    off += 16;
    if (off + incl > buf.length) throw bad(`packet ${n + 1} at offset ${off - 16} runs past the end of the file (${incl} bytes)`);
    yield { tsNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nano ? 1n : 1000n), data: buf.subarray(off, off + incl), origLen: orig, linkType };
    off += incl;
    n++;
  }
}

function* readPcapng(buf: Uint8Array, dv: DataView): Generator<CapturedPacket> {
  let off = 0;
  let le = true;
  let ifaces: Array<{ linkType: number; tsUnitNs: number }> = [];
  while (off < buf.length) {
    if (off + 12 > buf.length) throw bad(`truncated pcapng block at offset ${off}`);
    const type = dv.getUint32(off, le);
    if (type === 0x0a0d0d0a) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw bad(`bad byte-order magic at offset ${off}`);
      ifaces = [];
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > buf.length) throw bad(`bad pcapng block length ${len} at offset ${off}`);
    const body = off + 8;
    if (type === 1) {
      const linkType = dv.getUint16(body, le);
      let tsUnitNs = 1000;
      // Options: if_tsresol (code 9).
      let o = body + 8;
      while (o + 4 <= off + len - 4) {
        const code = dv.getUint16(o, le);
        const olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = buf[o + 4]!;
          const exp = r & 0x7f;
          tsUnitNs = r & 0x80 ? 1e9 / 2 ** exp : 1e9 / 10 ** exp;
        }
        o += 4 + Math.ceil(olen / 4) * 4;
      }
      ifaces.push({ linkType, tsUnitNs });
    } else if (type === 6) {
      const ifId = dv.getUint32(body, le);
      const iface = ifaces[ifId];
      if (!iface) throw bad(`packet block at offset ${off} names interface ${ifId}, which was not described`);
      const ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
      const incl = dv.getUint32(body + 12, le);
      const orig = dv.getUint32(body + 16, le);
      if (body + 20 + incl > off + len) throw bad(`packet at offset ${off} is longer than its block`);
      yield { tsNs: scaleTs(ts, iface.tsUnitNs), data: buf.subarray(body + 20, body + 20 + incl), origLen: orig, linkType: iface.linkType };
    } else if (type === 3) {
      const iface = ifaces[0];
      if (!iface) throw bad(`simple packet block at offset ${off} before any interface`);
      const orig = dv.getUint32(body, le);
      const incl = Math.min(orig, len - 16);
      yield { tsNs: 0n, data: buf.subarray(body + 4, body + 4 + incl), origLen: orig, linkType: iface.linkType };
    }
    off += len;
  }
}

function scaleTs(ts: bigint, unitNs: number): bigint {
  return Number.isInteger(unitNs) ? ts * BigInt(unitNs) : BigInt(Math.round(Number(ts) * unitNs));
}

/** A pcap file (microsecond timestamps, little-endian) built in memory. */
export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  count = 0;
  constructor(linkType = LINKTYPE_ETHERNET, snaplen = 262144) {
    const h = new Uint8Array(24);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, 0xa1b2c3d4, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setUint32(16, snaplen, true);
    dv.setUint32(20, linkType, true);
    this.chunks.push(h);
  }
  add(data: Uint8Array, tsNs = 0n, origLen = data.length): void {
    const h = new Uint8Array(16);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, Number(tsNs / 1_000_000_000n), true);
    dv.setUint32(4, Number((tsNs % 1_000_000_000n) / 1000n), true);
    dv.setUint32(8, data.length, true);
    dv.setUint32(12, Math.max(origLen, data.length), true);
    this.chunks.push(h, data.slice());
    this.count++;
  }
  bytes(): Uint8Array {
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
