/**
 * Socket filters on a live UDP socket (SO_ATTACH_BPF semantics): the
 * program's return value is how many bytes of the packet the socket keeps —
 * 0 drops the datagram, n < length truncates it, anything larger keeps it
 * whole (sk_filter_trim_cap). The datagram reaches the program as the
 * synthesised IPv4/IPv6 + UDP packet (frame.ts) in an __sk_buff, its data
 * starting at the network header as BPF_PROG_TEST_RUN and packet sockets
 * present it (skb->protocol, family and addresses filled in). Note: a
 * Linux UDP socket's filter sees the skb from the UDP header instead; here
 * offsets are from the IP header, and the trim length counts the IP and
 * UDP headers (the application gets n - headers payload bytes).
 * Several filters run in attach order, each on what the previous kept.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { ETH_HLEN, parseUdpFrame } from './frame.js';
import { DgramHook, hookOf } from './dgram-hook.js';

export class SocketFilterHook extends DgramHook {
  /** datagrams dropped (return 0) and truncated */
  dropped = 0;
  truncated = 0;

  constructor(socket: Socket) {
    super(socket, 'socket_filter/dgram', ['socket_filter']);
  }

  protected handle(frame: Uint8Array, msg: Buffer, rinfo: RemoteInfo, emit: (payload: Buffer, rinfo: RemoteInfo) => boolean): boolean {
    const headers = frame.length - ETH_HLEN - msg.length;
    let keep = frame.length - ETH_HLEN;
    for (const link of this.links) {
      let r: number;
      try {
        r = link.program.run({ data: frame.subarray(0, ETH_HLEN + keep) }).retval >>> 0;
        link.runs++;
      } catch (e) {
        // A faulting filter drops, as the kernel treats an aborted filter run (returns 0).
        link.errors++;
        link.lastError = e;
        r = 0;
      }
      if (r === 0) {
        this.dropped++;
        return false;
      }
      if (r < keep) keep = r;
    }
    const payloadLen = Math.max(0, keep - headers);
    if (payloadLen < msg.length) this.truncated++;
    const d = parseUdpFrame(frame);
    const payload = d ? d.payload.subarray(0, payloadLen) : new Uint8Array(0);
    return emit(Buffer.from(payload.buffer, payload.byteOffset, payload.length), { ...rinfo, size: payload.length });
  }
}

const hooks = new WeakMap<Socket, SocketFilterHook>();

/** The socket filter hook of a UDP socket: `program.attach(socketFilter(socket))`. */
export function socketFilter(socket: Socket): SocketFilterHook {
  return hookOf(hooks, socket, 'socketFilter', (s) => new SocketFilterHook(s));
}
