/**
 * xdp programs on a live UDP socket (`dgram`). A datagram socket hands the
 * application only the payload and the peer, so each datagram reaches the
 * programs wrapped in Ethernet / IPv4 (or IPv6) / UDP headers synthesised
 * from the peer and local addresses (frame.ts): a program written for a
 * Linux NIC parses it unchanged. Verdicts:
 *   XDP_PASS     the application's 'message' listeners get the payload as the
 *                program left it (rewrites and length changes included);
 *   XDP_DROP, XDP_ABORTED, unknown values: the datagram is dropped;
 *   XDP_TX       the rewritten packet is sent back out of the socket to the
 *                frame's destination address and port (after the usual
 *                MAC/IP/port swap, the original sender);
 *   XDP_REDIRECT dropped and counted (a socket has no other interface).
 * Installing wraps the socket's `emit` for 'message' events only (the
 * socket object is the application's; nothing else changes); several
 * programs run in attach order until one returns something other than
 * XDP_PASS (libxdp's multi-program dispatcher semantics), on the same frame.
 * The frame is the driver's page (256 bytes of headroom, 320 of tailroom,
 * ingress_ifindex 1, rx queue 0, as BPF_PROG_TEST_RUN lays it out) with a
 * complete UDP checksum, as a NIC receives it; the hook keeps that page in
 * the programs' space across datagrams (dgram-hook.ts). A frame larger than
 * the page holds (over 3520 bytes), or programs of several runtimes on one
 * socket, take the general path: a test run per program, with the bytes
 * past the page in fragments (multi-buffer frames).
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import type { Program } from '../../runtime/runtime.js';
import type { Link } from '../link.js';
import { memOf } from '../link.js';
import { XDP_MD } from '../../helpers/xdp.js';
import { parseUdpFrame, udpPayloadSpan, writeUdpFrame } from './frame.js';
import { DgramHook, hookOf, type PacketBuf } from './dgram-hook.js';
import { runXdp, XDP_ABORTED, XDP_PASS, XDP_REDIRECT, XDP_TX } from './xdp.js';

/** The driver's frame, as BPF_PROG_TEST_RUN lays it out (runtime/testrun/xdp.ts): a page, 256 bytes of headroom, 320 of tailroom. */
const PAGE_SIZE = 4096;
const XDP_PACKET_HEADROOM = 256;
const SKB_SHINFO_SIZE = 320;
/** The largest frame the kept page holds; larger datagrams take the general path (multi-buffer frames). */
const MAX_LINEAR = PAGE_SIZE - XDP_PACKET_HEADROOM - SKB_SHINFO_SIZE;
/** The loopback device's ifindex: xdp_md.ingress_ifindex of a datagram (as a test run's default). */
const INGRESS_IFINDEX = 1;

export class DgramXdpHook extends DgramHook {
  /** in the driver, first */
  protected readonly stage = 0;
  /** datagrams by final action (index: XDP_ABORTED..XDP_REDIRECT) */
  readonly counts = [0, 0, 0, 0, 0];
  /** XDP_TX answers that could not be sent, or PASS frames that no longer parse as UDP (counted as drops) */
  malformed = 0;
  private readonly initBuf = (b: PacketBuf): void => {
    b.packet = { kind: 'xdp', ctx: b.ctx, hardStart: b.base, frameSize: PAGE_SIZE, tailroom: SKB_SHINFO_SIZE };
  };

  constructor(socket: Socket) {
    super(socket, 'xdp/dgram', ['xdp']);
  }

  /**
   * The fast path: the frame written into the hook's kept page in the
   * programs' space, the programs run on it in place, and on XDP_PASS the
   * application gets the datagram's own Buffer back when the program left
   * the payload as it was (a copy of the rewritten bytes otherwise).
   */
  protected handle(msg: Buffer, rinfo: RemoteInfo): boolean {
    const space = this.soleSpace;
    const t = this.templateOf(rinfo);
    const len = t.headers.length + msg.length;
    if (space === undefined || len > MAX_LINEAR) return this.handleGeneral(msg, rinfo);
    const b = this.acquireBuf(space, PAGE_SIZE, PAGE_SIZE, XDP_MD.SIZE, false, this.initBuf);
    let action = XDP_PASS;
    let payload: Buffer | undefined;
    let answer: Uint8Array | undefined;
    try {
      const start = b.base + XDP_PACKET_HEADROOM;
      let m = memOf(space);
      writeUdpFrame(m.u8, start, t, msg, 'full');
      const dv = m.dv;
      const c = b.ctx;
      dv.setUint32(c + XDP_MD.data, start, true);
      dv.setUint32(c + XDP_MD.data_end, start + len, true);
      dv.setUint32(c + XDP_MD.data_meta, start, true);
      dv.setUint32(c + XDP_MD.ingress_ifindex, INGRESS_IFINDEX, true);
      dv.setUint32(c + XDP_MD.rx_queue_index, 0, true);
      dv.setUint32(c + XDP_MD.egress_ifindex, 0, true);
      const list = this.links;
      for (let i = 0; i < list.length; i++) {
        const link = list[i]!;
        try {
          const r = this.runOn(b, link);
          link.runs++;
          // Unknown actions count as XDP_ABORTED (bpf_warn_invalid_xdp_action).
          action = r <= XDP_REDIRECT ? r : XDP_ABORTED;
        } catch (e) {
          link.errors++;
          link.lastError = e;
          action = XDP_ABORTED;
        }
        if (action !== XDP_PASS) break;
      }
      if (action === XDP_PASS || action === XDP_TX) {
        // (the space may have grown during the run: fresh views)
        m = memOf(space);
        const d = m.dv.getUint32(c + XDP_MD.data, true);
        const e = m.dv.getUint32(c + XDP_MD.data_end, true);
        if (action === XDP_TX) answer = m.u8.slice(d, e);
        else {
          const span = udpPayloadSpan(m.u8, d, e);
          if (span >= 0) {
            const off = Math.floor(span / 65536);
            const n = span % 65536;
            payload = n === msg.length && sameBytes(msg, m.u8, off) ? msg : Buffer.from(m.u8.slice(off, off + n).buffer);
          }
        }
      }
    } finally {
      this.releaseBuf(b);
    }
    return this.verdict(action, payload, answer, msg, rinfo);
  }

  /** Act on the final action; `payload` is what PASS delivers (undefined: the frame is no longer UDP), `answer` the frame TX sends. */
  private verdict(action: number, payload: Buffer | undefined, answer: Uint8Array | undefined, msg: Buffer, rinfo: RemoteInfo): boolean {
    this.counts[action]!++;
    if (action === XDP_PASS) {
      if (payload === undefined) {
        this.malformed++;
        return false;
      }
      return this.emitMessage(payload, payload === msg || payload.length === rinfo.size ? rinfo : { ...rinfo, size: payload.length });
    }
    if (action === XDP_TX) {
      const d = answer && parseUdpFrame(answer);
      if (!d) {
        this.malformed++;
        return false;
      }
      this.socket.send(d.payload, d.dstPort, d.dstAddr.includes(':') && rinfo.family === 'IPv4' ? rinfo.address : d.dstAddr, (err) => {
        if (err) this.malformed++;
      });
    }
    return false;
  }

  /**
   * The general path (programs of several runtimes on one socket, or a frame
   * larger than a page holds): each program gets a test run of the frame the
   * previous one left, as a multi-buffer frame when it is large.
   */
  private handleGeneral(msg: Buffer, rinfo: RemoteInfo): boolean {
    let frame = this.frameOf(msg, rinfo, 'full');
    let action = XDP_PASS;
    for (const link of this.links) {
      try {
        const v = runXdp(link.program, frame);
        link.runs++;
        frame = v.data;
        action = v.action;
      } catch (e) {
        link.errors++;
        link.lastError = e;
        action = XDP_ABORTED;
      }
      if (action !== XDP_PASS) break;
    }
    let payload: Buffer | undefined;
    if (action === XDP_PASS) {
      const span = udpPayloadSpan(frame, 0, frame.length);
      if (span >= 0) {
        const off = Math.floor(span / 65536);
        payload = Buffer.from(frame.slice(off, off + (span % 65536)).buffer);
      }
    }
    return this.verdict(action, payload, frame, msg, rinfo);
  }
}

/** Whether `u8[off...]` holds the bytes of `msg` (a loop for small datagrams: cheaper than a native call). */
function sameBytes(msg: Buffer, u8: Uint8Array, off: number): boolean {
  const n = msg.length;
  if (n > 256) return msg.compare(u8, off, off + n) === 0;
  for (let i = 0; i < n; i++) if (msg[i] !== u8[off + i]) return false;
  return true;
}

const hooks = new WeakMap<Socket, DgramXdpHook>();

/** The xdp hook of a UDP socket: `program.attach(dgramXdp(socket))`. */
export function dgramXdp(socket: Socket): DgramXdpHook {
  return hookOf(hooks, socket, 'dgramXdp', (s) => new DgramXdpHook(s));
}

/**
 * Attach an xdp program to a UDP socket.
 * @deprecated use `program.attach(dgramXdp(socket))`.
 */
export function attachXdpToSocket(p: Program, socket: Socket): Link {
  return p.attach(dgramXdp(socket));
}
