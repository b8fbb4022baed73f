/**
 * The part every hook on a live UDP socket shares: it wraps the socket's
 * `emit` for 'message' events while programs are attached (the socket object
 * is the application's; nothing else changes), and hands each datagram to the
 * subclass as the Ethernet/IP/UDP frame it would have been on the wire
 * (frame.ts), synthesised from the peer and the socket's local address.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { TsbpfError } from '../../errors.js';
import type { ProgTypeName } from '../../object/spec.js';
import { HookPoint } from '../link.js';
import { buildUdpFrame } from './frame.js';

export type Emit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;

export abstract class DgramHook extends HookPoint {
  private origEmit: Emit | undefined;
  private local: { address: string; port: number } | undefined;

  constructor(
    readonly socket: Socket,
    name: string,
    types: ProgTypeName[],
  ) {
    super(name, types, 0, () => this.install(), () => this.uninstall());
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

  /** Run the programs on one datagram and act on the verdict; returns what emit returns. */
  deliver(msg: Buffer, rinfo: RemoteInfo): boolean {
    const emit = (...args: unknown[]): boolean => this.origEmit!.call(this.socket, 'message', ...args);
    // The local address is asked once (a bound socket keeps it; Socket#address is a system call).
    let local = this.local;
    if (!local) {
      try {
        local = this.local = this.socket.address();
      } catch {
        return emit(msg, rinfo);
      }
    }
    const frame = buildUdpFrame({ srcAddr: rinfo.address, srcPort: rinfo.port, dstAddr: local.address, dstPort: local.port, payload: msg });
    return this.handle(frame, msg, rinfo, emit);
  }

  /** Run the attached programs on `frame`; `emit(payload, rinfo)` delivers to the application. */
  protected abstract handle(frame: Uint8Array, msg: Buffer, rinfo: RemoteInfo, emit: (payload: Buffer, rinfo: RemoteInfo) => boolean): boolean;
}

/** One hook per socket and kind, made on first use: `program.attach(kind(socket))`. */
export function hookOf<H extends DgramHook>(cache: WeakMap<Socket, H>, socket: Socket, what: string, make: (s: Socket) => H): H {
  if (!socket || typeof (socket as { send?: unknown }).send !== 'function') throw new TsbpfError('EINVAL', `${what} wants a dgram.Socket`);
  let h = cache.get(socket);
  if (!h) cache.set(socket, (h = make(socket)));
  return h;
}
