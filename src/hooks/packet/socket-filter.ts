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
import { TsbpfError } from '../../errors.js';
import { HookPoint } from '../link.js';
import { buildUdpFrame, ETH_HLEN, parseUdpFrame } from './frame.js';

type Emit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;

export class SocketFilterHook extends HookPoint {
  /** datagrams dropped (return 0) and truncated */
  dropped = 0;
  truncated = 0;
  private origEmit: Emit | undefined;
  private local: { address: string; port: number } | undefined;

  constructor(readonly socket: Socket) {
    super('socket_filter/dgram', ['socket_filter'], 0, () => this.install(), () => this.uninstall());
  }

  private install(): void {
    const orig = this.socket.emit as unknown as Emit;
    this.origEmit = orig;
    const hook = this;
    this.socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message' && hook.links.length > 0) return hook.deliver(args[0] as Buffer, args[1] as RemoteInfo);
      return orig.call(this, event, ...args);
    } as unknown as Socket['emit'];
  }

  private uninstall(): void {
    if (this.origEmit) this.socket.emit = this.origEmit as unknown as Socket['emit'];
    this.origEmit = undefined;
  }

  deliver(msg: Buffer, rinfo: RemoteInfo): boolean {
    const emit = this.origEmit!;
    let local = this.local;
    if (!local) {
      try {
        local = this.local = this.socket.address();
      } catch {
        return emit.call(this.socket, 'message', msg, rinfo);
      }
    }
    const frame = buildUdpFrame({ srcAddr: rinfo.address, srcPort: rinfo.port, dstAddr: local.address, dstPort: local.port, payload: msg });
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
    return emit.call(this.socket, 'message', Buffer.from(payload.buffer, payload.byteOffset, payload.length), { ...rinfo, size: payload.length });
  }
}

const hooks = new WeakMap<Socket, SocketFilterHook>();

/** The socket filter hook of a UDP socket: `program.attach(socketFilter(socket))`. */
export function socketFilter(socket: Socket): SocketFilterHook {
  if (!socket || typeof (socket as { send?: unknown }).send !== 'function') throw new TsbpfError('EINVAL', 'socketFilter wants a dgram.Socket');
  let h = hooks.get(socket);
  if (!h) hooks.set(socket, (h = new SocketFilterHook(socket)));
  return h;
}
