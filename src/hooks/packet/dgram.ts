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
 * XDP_PASS (libxdp's multi-program dispatcher semantics).
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import type { Program } from '../../runtime/runtime.js';
import type { Link } from '../link.js';
import { parseUdpFrame } from './frame.js';
import { DgramHook, hookOf } from './dgram-hook.js';
import { runXdp, XDP_ABORTED, XDP_PASS, XDP_TX } from './xdp.js';

export class DgramXdpHook extends DgramHook {
  /** datagrams by final action (index: XDP_ABORTED..XDP_REDIRECT) */
  readonly counts = [0, 0, 0, 0, 0];
  /** XDP_TX answers that could not be sent, or PASS frames that no longer parse as UDP (counted as drops) */
  malformed = 0;

  constructor(socket: Socket) {
    super(socket, 'xdp/dgram', ['xdp']);
  }

  protected handle(frame: Uint8Array, _msg: Buffer, rinfo: RemoteInfo, emit: (payload: Buffer, rinfo: RemoteInfo) => boolean): boolean {
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
    this.counts[action]!++;
    if (action === XDP_PASS) {
      const d = parseUdpFrame(frame);
      if (!d) {
        this.malformed++;
        return false;
      }
      return emit(Buffer.from(d.payload.buffer, d.payload.byteOffset, d.payload.length), rinfo);
    }
    if (action === XDP_TX) {
      const d = parseUdpFrame(frame);
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
}

const hooks = new WeakMap<Socket, DgramXdpHook>();

/** The xdp hook of a UDP socket: `program.attach(dgramXdp(socket))`. */
export function dgramXdp(socket: Socket): DgramXdpHook {
  return hookOf(hooks, socket, 'dgramXdp', (s) => new DgramXdpHook(s));
}

/** `attach(program, socket)` for xdp programs. */
export function attachXdpToSocket(p: Program, socket: Socket): Link {
  return p.attach(dgramXdp(socket));
}
