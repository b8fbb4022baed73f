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
import { TsbpfError } from '../../errors.js';
import type { Program } from '../../runtime/runtime.js';
import { HookPoint, type Link } from '../link.js';
import { buildUdpFrame, parseUdpFrame } from './frame.js';
import { runXdp, XDP_ABORTED, XDP_PASS, XDP_TX } from './xdp.js';

type Emit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;

export class DgramXdpHook extends HookPoint {
  /** datagrams by final action (index: XDP_ABORTED..XDP_REDIRECT) */
  readonly counts = [0, 0, 0, 0, 0];
  /** XDP_TX answers that could not be sent, or PASS frames that no longer parse as UDP (counted as drops) */
  malformed = 0;
  private origEmit: Emit | undefined;
  private local: { address: string; port: number } | undefined;

  constructor(readonly socket: Socket) {
    super('xdp/dgram', ['xdp'], 0, () => this.install(), () => this.uninstall());
  }

  private install(): void {
    const sock = this.socket;
    const orig = sock.emit as unknown as Emit;
    this.origEmit = orig;
    const hook = this;
    sock.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message' && hook.links.length > 0) return hook.deliver(args[0] as Buffer, args[1] as RemoteInfo);
      return orig.call(this, event, ...args);
    } as unknown as Socket['emit'];
  }

  private uninstall(): void {
    if (this.origEmit) this.socket.emit = this.origEmit as unknown as Socket['emit'];
    this.origEmit = undefined;
  }

  /** Run the programs on one datagram and act on the verdict; returns what emit returns. */
  deliver(msg: Buffer, rinfo: RemoteInfo): boolean {
    const emit = this.origEmit!;
    // The local address is asked once (a bound socket keeps it; Socket#address is a system call).
    let local = this.local;
    if (!local) {
      try {
        local = this.local = this.socket.address();
      } catch {
        return emit.call(this.socket, 'message', msg, rinfo);
      }
    }
    let frame = buildUdpFrame({ srcAddr: rinfo.address, srcPort: rinfo.port, dstAddr: local.address, dstPort: local.port, payload: msg });
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
      return emit.call(this.socket, 'message', Buffer.from(d.payload.buffer, d.payload.byteOffset, d.payload.length), rinfo);
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
  if (!socket || typeof (socket as { send?: unknown }).send !== 'function') throw new TsbpfError('EINVAL', 'dgramXdp wants a dgram.Socket');
  let h = hooks.get(socket);
  if (!h) hooks.set(socket, (h = new DgramXdpHook(socket)));
  return h;
}

/** `attach(program, socket)` for xdp programs. */
export function attachXdpToSocket(p: Program, socket: Socket): Link {
  return p.attach(dgramXdp(socket));
}
