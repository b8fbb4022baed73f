/**
 * sk_buff test run (socket_filter, sched_cls, sched_act, cgroup_skb, lwt_*),
 * as net/bpf/test_run.c bpf_prog_test_run_skb builds it:
 *
 * - the packet sits after NET_SKB_PAD (64) bytes of headroom, with the
 *   skb_shared_info tailroom after the cache-aligned data;
 * - eth_type_trans sets protocol and pkt_type (against the loopback
 *   device's all-zero address) and pulls the Ethernet header; tc programs
 *   (sched_cls, sched_act) get it pushed back, so their data starts at the
 *   Ethernet header, socket filters' at the network header;
 * - an IPv4/IPv6 packet shorter than its fixed header is refused (EINVAL);
 * - from ctx_in only mark, priority, ingress_ifindex, ifindex, cb[],
 *   tstamp, wire_len, gso_segs, gso_size and hwtstamp may be non-zero;
 * - for socket filters the output packet's Ethernet header is zeroed (the
 *   kernel pushes back 14 zero bytes after the run).
 */
import { SK_BUFF } from '../../uapi/ctx.js';
import type { SkbPacket } from '../../helpers/env.js';
import type { AddressSpace } from '../../memory/address-space.js';
import type { NetDevice } from '../netdev.js';
import { csumFold, csumPartial } from '../../helpers/csum.js';
import { ctxInit } from './xdp.js';
import {
  BPF_F_TEST_SKB_CHECKSUM_COMPLETE, ETH_HLEN, PAGE_SIZE, SKB_HEADROOM, SKB_SHINFO_SIZE, TestRunError, skbDataAlign,
  type TestRunOptions, type TestRunResult,
} from './types.js';
import type { PreparedRun } from './run.js';

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_802_3 = 0x0001;
const ETH_P_802_2 = 0x0004;
const ETH_P_802_3_MIN = 0x0600;
const AF_INET = 2;
const AF_INET6 = 10;
/** GSO_LEGACY_MAX_SIZE, GSO_MAX_SEGS */
const GSO_LEGACY_MAX_SIZE = 65536;
const GSO_MAX_SEGS = 65535;

/** The __sk_buff byte ranges ctx_in may set (convert___skb_to_skb); everything else must be zero. */
const ALLOWED: Array<[number, number]> = [
  [SK_BUFF.mark, SK_BUFF.mark + 4],
  [SK_BUFF.priority, SK_BUFF.ifindex + 4],
  [SK_BUFF.cb, SK_BUFF.cb + 20],
  [SK_BUFF.tstamp, SK_BUFF.gso_segs + 4],
  [SK_BUFF.gso_size, SK_BUFF.gso_size + 4],
  [SK_BUFF.hwtstamp, SK_BUFF.hwtstamp + 8],
];

const l2Types = new Set(['sched_cls', 'sched_act']);

export function prepareSkb(space: AddressSpace, progType: string, opts: TestRunOptions, devices: ReadonlyMap<number, NetDevice>): PreparedRun {
  const flags = opts.flags ?? 0;
  if (flags & ~BPF_F_TEST_SKB_CHECKSUM_COMPLETE || opts.cpu) throw new TestRunError('EINVAL', 'unsupported flags or cpu');
  const data = opts.data ?? new Uint8Array(0);
  const size = data.length;
  if (size < ETH_HLEN) throw new TestRunError('EINVAL', `packet of ${size} bytes is shorter than an Ethernet header`);
  if (size > PAGE_SIZE - SKB_HEADROOM - SKB_SHINFO_SIZE) throw new TestRunError('EINVAL', `packet of ${size} bytes exceeds the ${PAGE_SIZE - SKB_HEADROOM - SKB_SHINFO_SIZE}-byte limit`);
  const ctxIn = opts.ctx ? ctxInit(opts.ctx, SK_BUFF.size) : undefined;
  const isL2 = l2Types.has(progType);

  let dev = devices.get(1)!;
  const cv = ctxIn ? new DataView(ctxIn.buffer, ctxIn.byteOffset, ctxIn.byteLength) : undefined;
  if (cv) {
    const ifindex = cv.getUint32(SK_BUFF.ifindex, true);
    if (ifindex > 1) {
      const d = devices.get(ifindex);
      if (!d) throw new TestRunError('ENODEV', `no device with ifindex ${ifindex}`);
      dev = d;
    }
  }

  // eth_type_trans against a device whose address is all zeros (loopback).
  const dst = data.subarray(0, 6);
  let pktType = 0;
  if (dst.some((b) => b !== 0)) {
    if (dst[0]! & 1) pktType = dst.every((b) => b === 0xff) ? 1 : 2;
    else pktType = 3;
  }
  const h = (data[12]! << 8) | data[13]!;
  let proto: number;
  if (h >= ETH_P_802_3_MIN) proto = h;
  else proto = size >= ETH_HLEN + 2 && data[14] === 0xff && data[15] === 0xff ? ETH_P_802_3 : ETH_P_802_2;
  const l3len = size - ETH_HLEN;
  let family = 0;
  let localIp4 = 0;
  let remoteIp4 = 0;
  let localIp6: Uint8Array | undefined;
  let remoteIp6: Uint8Array | undefined;
  if (proto === ETH_P_IP) {
    if (l3len < 20) throw new TestRunError('EINVAL', 'IPv4 packet shorter than its header');
    family = AF_INET;
    localIp4 = new DataView(data.buffer, data.byteOffset).getUint32(ETH_HLEN + 12, true);
    remoteIp4 = new DataView(data.buffer, data.byteOffset).getUint32(ETH_HLEN + 16, true);
  } else if (proto === ETH_P_IPV6) {
    if (l3len < 40) throw new TestRunError('EINVAL', 'IPv6 packet shorter than its header');
    family = AF_INET6;
    localIp6 = data.slice(ETH_HLEN + 8, ETH_HLEN + 24);
    remoteIp6 = data.slice(ETH_HLEN + 24, ETH_HLEN + 40);
  }

  if (cv) {
    for (let i = 0; i < SK_BUFF.size; i++) {
      if (ctxIn![i] === 0) continue;
      if (!ALLOWED.some(([a, b]) => i >= a && i < b)) throw new TestRunError('EINVAL', `__sk_buff byte ${i} may not be set in ctx_in`);
    }
    const wire = cv.getUint32(SK_BUFF.wire_len, true);
    const skbLen = isL2 ? size : l3len;
    // convert___skb_to_skb runs after the push for tc, so wire_len is checked against the length the program sees.
    if (wire !== 0 && (wire < skbLen || wire > GSO_LEGACY_MAX_SIZE)) throw new TestRunError('EINVAL', `wire_len ${wire} is out of range`);
    if (cv.getUint32(SK_BUFF.gso_segs, true) > GSO_MAX_SEGS) throw new TestRunError('EINVAL', 'gso_segs is out of range');
  }

  const bufSize = SKB_HEADROOM + skbDataAlign(size) + SKB_SHINFO_SIZE;
  const head = space.alloc(bufSize);
  const ctx = space.alloc(SK_BUFF.size);
  const region = space.addRegion({ base: head, size: SKB_HEADROOM + skbDataAlign(size), kind: 'packet', name: 'skb data', writable: true });
  const ctxRegion = space.addRegion({ base: ctx, size: SK_BUFF.size, kind: 'ctx', name: '__sk_buff', writable: true });
  space.write(head + SKB_HEADROOM, data);
  const dataAddr = head + SKB_HEADROOM + (isL2 ? 0 : ETH_HLEN);
  const len = isL2 ? size : l3len;

  const w32 = (off: number, v: number): void => space.writeU32(ctx + off, v >>> 0);
  w32(SK_BUFF.len, len);
  w32(SK_BUFF.pkt_type, pktType);
  w32(SK_BUFF.protocol, ((proto & 0xff) << 8) | (proto >> 8));
  w32(SK_BUFF.ifindex, dev.ifindex);
  w32(SK_BUFF.data, dataAddr);
  w32(SK_BUFF.data_end, dataAddr + len);
  w32(SK_BUFF.data_meta, dataAddr);
  w32(SK_BUFF.family, family);
  w32(SK_BUFF.local_ip4, localIp4);
  w32(SK_BUFF.remote_ip4, remoteIp4);
  if (localIp6) space.write(ctx + SK_BUFF.local_ip6, localIp6);
  if (remoteIp6) space.write(ctx + SK_BUFF.remote_ip6, remoteIp6);
  // wire_len is qdisc_skb_cb->pkt_len, which only convert___skb_to_skb sets: 0 without ctx_in.
  if (cv) {
    w32(SK_BUFF.mark, cv.getUint32(SK_BUFF.mark, true));
    w32(SK_BUFF.priority, cv.getUint32(SK_BUFF.priority, true));
    w32(SK_BUFF.ingress_ifindex, cv.getUint32(SK_BUFF.ingress_ifindex, true));
    space.write(ctx + SK_BUFF.cb, ctxIn!.subarray(SK_BUFF.cb, SK_BUFF.cb + 20));
    space.writeU64(ctx + SK_BUFF.tstamp, cv.getBigUint64(SK_BUFF.tstamp, true));
    const wire = cv.getUint32(SK_BUFF.wire_len, true);
    w32(SK_BUFF.wire_len, wire === 0 ? len : wire);
    w32(SK_BUFF.gso_segs, cv.getUint32(SK_BUFF.gso_segs, true));
    w32(SK_BUFF.gso_size, cv.getUint32(SK_BUFF.gso_size, true));
    space.writeU64(ctx + SK_BUFF.hwtstamp, cv.getBigUint64(SK_BUFF.hwtstamp, true));
  }
  const packet: SkbPacket = { kind: 'skb', ctx, head, end: head + SKB_HEADROOM + skbDataAlign(size) };
  const csumComplete = (flags & BPF_F_TEST_SKB_CHECKSUM_COMPLETE) !== 0;
  // The checksum covers from the network header (skb_network_offset) to the end.
  const netStart = head + SKB_HEADROOM + ETH_HLEN;
  if (csumComplete) packet.csumComplete = { csum: csumPartial(space.bytes(netStart, l3len), 0) };

  return {
    ctx,
    packet,
    legacyPacket: () => ({ data: space.readU32(ctx + SK_BUFF.data), len: space.readU32(ctx + SK_BUFF.len) }),
    finish(retval: number, duration: number): TestRunResult {
      const d = space.readU32(ctx + SK_BUFF.data);
      const l = space.readU32(ctx + SK_BUFF.len);
      let out: Uint8Array;
      if (isL2) out = space.bytes(d, l).slice();
      else {
        // The kernel pushes the Ethernet header back as 14 zero bytes.
        out = new Uint8Array(ETH_HLEN + l);
        out.set(space.bytes(d, l), ETH_HLEN);
      }
      if (csumComplete) {
        const now = csumPartial(space.bytes(netStart, d + l - netStart), 0);
        if (csumFold(packet.csumComplete!.csum) !== csumFold(now)) throw new TestRunError('EBADMSG', 'skb->csum does not match the packet after the run');
      }
      // convert_skb_to___skb: these fields are copied back over ctx_in (or a zeroed struct).
      const ctxOut = ctxIn ? ctxIn.slice() : new Uint8Array(SK_BUFF.size);
      const ov = new DataView(ctxOut.buffer);
      const r32 = (off: number): number => space.readU32(ctx + off);
      ov.setUint32(SK_BUFF.mark, r32(SK_BUFF.mark), true);
      ov.setUint32(SK_BUFF.priority, r32(SK_BUFF.priority), true);
      ov.setUint32(SK_BUFF.ingress_ifindex, r32(SK_BUFF.ingress_ifindex), true);
      ov.setUint32(SK_BUFF.ifindex, dev.ifindex, true);
      ov.setBigUint64(SK_BUFF.tstamp, space.readU64(ctx + SK_BUFF.tstamp), true);
      ctxOut.set(space.bytes(ctx + SK_BUFF.cb, 20), SK_BUFF.cb);
      ov.setUint32(SK_BUFF.wire_len, r32(SK_BUFF.wire_len), true);
      ov.setUint32(SK_BUFF.gso_segs, r32(SK_BUFF.gso_segs), true);
      ov.setBigUint64(SK_BUFF.hwtstamp, space.readU64(ctx + SK_BUFF.hwtstamp), true);
      return { retval, data: out, ctx: ctxOut, duration };
    },
    release(): void {
      space.removeRegion(region);
      space.removeRegion(ctxRegion);
      space.free(head);
      space.free(ctx);
    },
  };
}
