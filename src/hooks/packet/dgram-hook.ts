/**
 * The part every hook on a live UDP socket shares: it wraps the socket's
 * `emit` for 'message' events while programs are attached (the socket object
 * is the application's; nothing else changes; xdp runs before a socket
 * filter, as on Linux), and hands each datagram to the subclass, which runs the programs on the Ethernet/IP/UDP frame it would
 * have been on the wire (frame.ts), synthesised from the peer and the
 * socket's local address.
 *
 * The per-datagram path allocates as little as it can: the frame headers of
 * a flow are built once (udpFrameTemplate) and written with the payload
 * straight into a packet buffer that the hook keeps in the programs' address
 * space, with its context struct, from one datagram to the next (the
 * kernel's drivers recycle their rx buffers the same way); the programs run
 * through the engine's hook entry (Executable.runCtx) with a run state kept
 * per link. A datagram arriving while the buffer is in use (a program's
 * helper re-entering the socket) gets a buffer of its own.
 */
import { SK_BUFF } from '../../uapi/ctx.js';
import type { Socket, RemoteInfo } from 'node:dgram';
import { TsbpfError } from '../../errors.js';
import type { ProgTypeName } from '../../object/spec.js';
import type { Program } from '../../runtime/runtime.js';
import type { RedirectTarget, SkbPacket, XdpPacket } from '../../helpers/env.js';
import type { AddressSpace, Region } from '../../memory/address-space.js';
import { HookPoint, HookRun, memOf } from '../link.js';
import { udpFrameTemplate, writeUdpFrame, type UdpFrameTemplate } from './frame.js';

export type Emit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;

/** Run state of a program on a packet hook: the packet helpers (and LD_ABS/LD_IND for skb programs) find the packet here. */
class PacketRun extends HookRun {
  packet: XdpPacket | SkbPacket | undefined;
  redirect: RedirectTarget | undefined;
  constructor(
    p: Program,
    ctx: number,
    private readonly space: AddressSpace,
  ) {
    super(p.runtime.host, p.type, p.name, ctx, p.runtime.testRunEnv().scratch);
  }
  /** Where LD_ABS/LD_IND read: from skb->data, skb->len bytes (the engines call this; see vm/jit/engine.ts). */
  legacyPacket(_ctx: bigint): { data: number; len: number } | undefined {
    const p = this.packet;
    if (p === undefined || p.kind !== 'skb') return undefined;
    const dv = memOf(this.space).dv;
    return { data: dv.getUint32(p.ctx + SK_BUFF.data, true), len: dv.getUint32(p.ctx + SK_BUFF.len, true) };
  }
}

/** A packet buffer and its context struct in one space, kept by a hook across datagrams. */
export interface PacketBuf {
  readonly space: AddressSpace;
  /** first byte of the buffer (headroom included) */
  readonly base: number;
  readonly size: number;
  /** the context struct (xdp_md, __sk_buff) */
  readonly ctx: number;
  readonly regions: Region[];
  /** the hook's buffer for this space (kept), rather than one made for a nested datagram */
  readonly kept: boolean;
  busy: boolean;
  /** what the helpers see (made by the subclass once per buffer) */
  packet: XdpPacket | SkbPacket | undefined;
}

/**
 * The hooks installed on one socket, in the order Linux runs them on a
 * received datagram: xdp (in the driver) before the socket filter (in UDP's
 * receive path), whatever the order they were attached in. One wrapper of
 * `emit` serves them all; each hook hands what it passes to the next.
 */
interface SocketChain {
  readonly orig: Emit;
  readonly wrapper: Emit;
  hooks: readonly DgramHook[];
}
const chains = new WeakMap<Socket, SocketChain>();

export abstract class DgramHook extends HookPoint {
  /** where this hook runs on a received datagram: lower first (xdp 0, socket filter 1) */
  protected abstract readonly stage: number;
  private chain: SocketChain | undefined;
  private local: { address: string; port: number } | undefined;
  /** the flow of the last datagram (most sockets talk to few peers), and the others by address and port */
  private lastTmpl: UdpFrameTemplate | undefined;
  private readonly tmpls = new Map<string, Map<number, UdpFrameTemplate>>();
  private tmplCount = 0;
  private readonly bufs = new Map<AddressSpace, PacketBuf>();
  /** the one space of every attached program, or undefined (none, or several) */
  protected soleSpace: AddressSpace | undefined;

  constructor(
    readonly socket: Socket,
    name: string,
    types: ProgTypeName[],
  ) {
    super(name, types, 0, () => this.install(), () => this.uninstall());
  }

  protected override linksChanged(): void {
    let s: AddressSpace | undefined;
    for (let i = 0; i < this.links.length; i++) {
      const sp = this.links[i]!.program.runtime.space;
      if (i === 0) s = sp;
      else if (sp !== s) s = undefined;
    }
    this.soleSpace = s;
  }

  protected override makeRun(p: Program, ctx: number): HookRun {
    return new PacketRun(p, ctx, p.runtime.space);
  }

  private install(): void {
    let chain = chains.get(this.socket);
    if (chain === undefined) {
      // Monkey-patching emit: Socket['emit'] is a set of overloads, which one plain signature (Emit) stands for
      const orig = this.socket.emit as unknown as Emit;
      // Named parameters and `arguments` forwarded as is: no rest array per event.
      const wrapper = function (this: Socket, event: string | symbol, a?: unknown, b?: unknown): boolean {
        const first = c.hooks[0];
        if (event === 'message' && first !== undefined) return first.deliver(a as Buffer, b as RemoteInfo);
        // eslint-disable-next-line prefer-rest-params -- the arguments object, array-like, is forwarded without a copy
        return orig.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
      };
      const c: SocketChain = { orig, wrapper, hooks: [] };
      chain = c;
      chains.set(this.socket, c);
      this.socket.emit = wrapper as unknown as Socket['emit'];
    }
    chain.hooks = [...chain.hooks, this].sort((x, y) => x.stage - y.stage);
    this.chain = chain;
  }

  private uninstall(): void {
    const chain = this.chain;
    if (chain) {
      chain.hooks = chain.hooks.filter((h) => h !== this);
      if (chain.hooks.length === 0) {
        // (if the application wrapped emit again since, its wrapper keeps calling ours, which passes everything through)
        if ((this.socket.emit as unknown) === chain.wrapper) this.socket.emit = chain.orig as unknown as Socket['emit'];
        chains.delete(this.socket);
      }
    }
    this.chain = undefined;
    // The buffers go back to their spaces (a buffer in use is freed by its release).
    for (const b of this.bufs.values()) if (!b.busy) this.freeBuf(b);
    this.bufs.clear();
  }

  /** Run the programs on one datagram and act on the verdict; returns what emit returns. */
  deliver(msg: Buffer, rinfo: RemoteInfo): boolean {
    // The local address is asked once (a bound socket keeps it; Socket#address is a system call).
    if (this.local === undefined) {
      try {
        this.local = this.socket.address();
      } catch {
        return this.emitMessage(msg, rinfo);
      }
    }
    return this.handle(msg, rinfo);
  }

  /** Hand a datagram on: to the socket's next hook (a socket filter after xdp), or to the application's 'message' listeners. */
  protected emitMessage(payload: Buffer, rinfo: RemoteInfo): boolean {
    const chain = this.chain!;
    const hooks = chain.hooks;
    const i = hooks.indexOf(this);
    const next = i >= 0 ? hooks[i + 1] : undefined;
    if (next !== undefined) return next.deliver(payload, rinfo);
    return chain.orig.call(this.socket, 'message', payload, rinfo);
  }

  /** The frame template of the flow `rinfo` -> this socket (cached per peer address and port). */
  protected templateOf(rinfo: RemoteInfo): UdpFrameTemplate {
    const t = this.lastTmpl;
    if (t !== undefined && t.srcPort === rinfo.port && t.srcAddr === rinfo.address) return t;
    let byPort = this.tmpls.get(rinfo.address);
    let nt = byPort?.get(rinfo.port);
    if (nt === undefined) {
      // A socket talking to very many peers: start the cache afresh rather than grow without bound.
      if (this.tmplCount >= 4096) {
        this.tmpls.clear();
        this.tmplCount = 0;
        byPort = undefined;
      }
      const local = this.local!;
      nt = udpFrameTemplate(rinfo.address, rinfo.port, local.address, local.port);
      if (!byPort) this.tmpls.set(rinfo.address, (byPort = new Map()));
      byPort.set(rinfo.port, nt);
      this.tmplCount++;
    }
    this.lastTmpl = nt;
    return nt;
  }

  /** The frame of a datagram as a standalone array (the general path). */
  protected frameOf(msg: Uint8Array, rinfo: RemoteInfo, checksum: 'full' | 'partial'): Uint8Array {
    const t = this.templateOf(rinfo);
    const f = new Uint8Array(t.headers.length + msg.length);
    writeUdpFrame(f, 0, t, msg, checksum);
    return f;
  }

  /**
   * A packet buffer of at least `size` bytes (aligned to `align`) with a
   * `ctxSize`-byte context in `space` (`ctxWritable`: whether programs may
   * store to it, which checked-mode runs enforce), marked busy: the kept one when it is
   * free and large enough (a larger one replaces it otherwise), else a
   * temporary one. Give it back with releaseBuf. `init` sets `packet` on a
   * new buffer.
   */
  protected acquireBuf(space: AddressSpace, size: number, align: number, ctxSize: number, ctxWritable: boolean, init: (b: PacketBuf) => void): PacketBuf {
    let b = this.bufs.get(space);
    if (b !== undefined && !b.busy && b.size >= size) {
      b.busy = true;
      return b;
    }
    const keep = b === undefined || !b.busy;
    if (keep && b !== undefined) this.freeBuf(b);
    const base = space.alloc(size, align);
    const ctx = space.alloc(ctxSize);
    const regions = [
      space.addRegion({ base, size, kind: 'packet', name: `${this.name} packet`, writable: true }),
      space.addRegion({ base: ctx, size: ctxSize, kind: 'ctx', name: `${this.name} context`, writable: ctxWritable }),
    ];
    const nb: PacketBuf = { space, base, size, ctx, regions, kept: keep, busy: true, packet: undefined };
    init(nb);
    if (keep) this.bufs.set(space, nb);
    return nb;
  }

  protected releaseBuf(b: PacketBuf): void {
    b.busy = false;
    // A temporary buffer, or a kept one the hook let go of while it was in use (the last detach).
    if (!b.kept || this.bufs.get(b.space) !== b) this.freeBuf(b);
  }

  private freeBuf(b: PacketBuf): void {
    for (const r of b.regions) b.space.removeRegion(r);
    b.space.free(b.base);
    b.space.free(b.ctx);
  }

  /** Run `link`'s program on the packet in `b`; r0 (low 32 bits, unsigned). Throws what the program throws. */
  protected runOn(b: PacketBuf, link: (typeof this.links)[number]): number {
    const run = this.runOfLink(link, b.ctx) as PacketRun;
    run.packet = b.packet;
    run.redirect = undefined;
    return this.execRun(link.program, run, b.ctx) >>> 0;
  }

  /** Run the attached programs on a datagram and deliver it (or not). */
  protected abstract handle(msg: Buffer, rinfo: RemoteInfo): boolean;
}

/** One hook per socket and kind, made on first use: `program.attach(kind(socket))`. */
export function hookOf<H extends DgramHook>(cache: WeakMap<Socket, H>, socket: Socket, what: string, make: (s: Socket) => H): H {
  if (!socket || typeof (socket as { send?: unknown }).send !== 'function') throw new TsbpfError('EINVAL', `${what} wants a dgram.Socket`);
  let h = cache.get(socket);
  if (!h) cache.set(socket, (h = make(socket)));
  return h;
}
