/**
 * XDP on a TAP device used as a NIC: frames the kernel transmits on the TAP
 * are frames arriving on the NIC's wire, and every one of them runs the
 * attached xdp programs the way a driver runs bpf_prog_run_xdp: a real
 * struct xdp_md (ingress_ifindex = the TAP's ifindex, rx_queue_index 0), the
 * frame in a page with XDP_PACKET_HEADROOM (256 bytes) in front for
 * bpf_xdp_adjust_head / adjust_meta and the skb_shared_info tailroom behind
 * (the runtime's xdp test-run layout). Verdicts, as net/core/filter.c and
 * the drivers act on them:
 *   XDP_PASS      the frame (as the program left it) goes up "the stack
 *                 behind the NIC": `pass`, either another TapDevice — whose
 *                 own transmissions then go out on this NIC's wire, so the two
 *                 namespaces talk through the NIC — or a callback;
 *   XDP_DROP      dropped;
 *   XDP_TX        sent back out of the same TAP;
 *   XDP_REDIRECT  sent out of the device bpf_redirect(ifindex) or
 *                 bpf_redirect_map(&devmap, key, flags) chose (an open
 *                 TapDevice with that ifindex; BPF_F_BROADCAST sends to every
 *                 device of the devmap, BPF_F_EXCLUDE_INGRESS leaves this one
 *                 out). A target that is no open TAP, or XDP_REDIRECT without a
 *                 redirect helper, drops the frame and counts a redirect error
 *                 (xdp_do_redirect failing, trace_xdp_redirect_err);
 *   XDP_ABORTED, unknown values and program faults: dropped and counted as
 *                 exceptions (trace_xdp_exception / bpf_warn_invalid_xdp_action).
 * Several programs run in attach order until one returns something other
 * than XDP_PASS (libxdp's dispatcher). With no program attached the NIC
 * passes every frame. Frames the TAP reads before any consumer wait in the
 * kernel's queue.
 */
import { XDP_MD } from '../../uapi/ctx.js';
import { TsbpfError } from '../../errors.js';
import type { XdpPacket } from '../../helpers/env.js';
import type { AddressSpace, Region } from '../../memory/address-space.js';
import { PAGE_SIZE, SKB_SHINFO_SIZE, XDP_PACKET_HEADROOM } from '../../runtime/testrun/types.js';
import { DevMap, DevMapHash } from '../../maps/devmap.js';
import type { Program } from '../../runtime/runtime.js';
import { HookPoint, memOf, type Link } from '../link.js';
import { TapDevice } from './tap.js';
import { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_REDIRECT, XDP_TX } from './xdp.js';

const BPF_F_BROADCAST = 1n << 3n;
const BPF_F_EXCLUDE_INGRESS = 1n << 4n;
const ETH_HLEN = 14;
/** The linear part of an RX page: what a frame may fill before the driver would need fragments. */
const LINEAR_MAX = PAGE_SIZE - XDP_PACKET_HEADROOM - SKB_SHINFO_SIZE;

/**
 * A driver's RX buffer in one runtime's address space, kept across frames:
 * a page (data_hard_start), XDP_PACKET_HEADROOM in front of the frame, the
 * skb_shared_info tailroom behind, and the struct xdp_md.
 */
interface RxSlot {
  space: AddressSpace;
  page: number;
  ctx: number;
  packet: XdpPacket;
  regions: Region[];
}

type Redirect = { prog: Program; helper: string; ifindex: number; flags: bigint; map?: number; key?: number };

export type PassTarget = TapDevice | ((frame: Uint8Array, hook: TapXdpHook) => void);

export interface TapXdpOptions {
  /** the stack behind the NIC: where XDP_PASS frames go (default: nowhere, counted in passDropped) */
  pass?: PassTarget;
}

export interface TapXdpStats {
  /** frames by final action (index XDP_ABORTED..XDP_REDIRECT) */
  actions: number[];
  /** XDP_ABORTED, invalid return values and program faults */
  exceptions: number;
  /** XDP_REDIRECT frames that had no usable target */
  redirectErrors: number;
  /** XDP_PASS frames with no pass target */
  passDropped: number;
  /** frames shorter than an Ethernet header (never run, dropped) */
  runts: number;
}

export class TapXdpHook extends HookPoint {
  readonly stats: TapXdpStats = { actions: [0, 0, 0, 0, 0], exceptions: 0, redirectErrors: 0, passDropped: 0, runts: 0 };
  /** called after each frame with its final action (exceptions as XDP_ABORTED, runts as XDP_DROP), e.g. to stop after N frames */
  onFrame: ((action: number) => void) | undefined;
  private passTarget: PassTarget | undefined;
  private closed = false;
  private readonly ctxIn = new Uint8Array(XDP_MD.size);

  constructor(readonly tap: TapDevice, opts: TapXdpOptions = {}) {
    super(`xdp/tap ${tap.name}`, ['xdp'], XDP_MD.size);
    if (!(tap instanceof TapDevice) || !tap.isOpen) throw new TsbpfError('EINVAL', 'tapXdp wants an open TapDevice');
    const dv = new DataView(this.ctxIn.buffer);
    dv.setUint32(XDP_MD.ingress_ifindex, tap.ifindex, true);
    this.pass = opts.pass;
    tap.setConsumer((f) => this.receive(f));
  }

  /** Where XDP_PASS frames go; a TapDevice also sends its own frames out through this NIC. */
  get pass(): PassTarget | undefined {
    return this.passTarget;
  }
  set pass(t: PassTarget | undefined) {
    if (t === this.tap) throw new TsbpfError('EINVAL', 'a NIC cannot pass frames to itself');
    if (t instanceof TapDevice && !t.isOpen) throw new TsbpfError('EBADF', `TAP ${t.name} is closed`);
    if (this.passTarget instanceof TapDevice && this.passTarget.isOpen) this.passTarget.setConsumer(undefined);
    this.passTarget = t;
    // The host's transmissions leave through the NIC, untouched (XDP is an ingress hook).
    if (t instanceof TapDevice) t.setConsumer((f) => this.tap.write(f));
  }

  override attachProgram(p: Program): Link {
    if (this.closed) throw new TsbpfError('EBADF', `${this.name} is closed`);
    const link = super.attachProgram(p);
    // The runtime resolves ingress_ifindex (and devmap updates) against its devices.
    if (!p.runtime.devices.has(this.tap.ifindex)) p.runtime.devices.set(this.tap.ifindex, this.tap);
    return link;
  }

  /** One frame from the wire. */
  receive(frame: Uint8Array): void {
    const action = this.process(frame);
    this.onFrame?.(action);
  }

  private process(frame: Uint8Array): number {
    if (frame.length < ETH_HLEN) {
      this.stats.runts++;
      return XDP_DROP;
    }
    const list = this.links;
    let action = XDP_PASS;
    let redirect: Redirect | undefined;
    if (list.length > 0 && frame.length <= LINEAR_MAX && !this.inRx) {
      // The driver path: the frame goes into the RX page of the program's runtime and the
      // programs run on it in place (Program.invoke), with no per-frame allocation.
      this.inRx = true;
      try {
        let slot: RxSlot | undefined;
        for (let i = 0; i < list.length; i++) {
          const link = list[i]!;
          const p = link.program;
          if (!slot || slot.space !== p.runtime.space) {
            // Programs of another runtime: the frame moves to that runtime's page.
            if (slot) frame = this.frameOf(slot).slice();
            slot = this.slotOf(p.runtime.space);
            this.load(slot, frame);
          }
          try {
            const r = p.invoke(slot.ctx, { packet: slot.packet });
            link.runs++;
            const retval = Number(r.r0 & 0xffffffffn);
            action = retval <= XDP_REDIRECT ? retval : -1;
            redirect = r.redirect ? { prog: p, ...r.redirect } : undefined;
          } catch (e) {
            link.errors++;
            link.lastError = e;
            action = -1;
          }
          if (action !== XDP_PASS) break;
        }
        // A view of the page: TAP writes copy it synchronously; a pass callback gets a copy.
        if (slot) frame = this.frameOf(slot);
        return this.act(action, frame, redirect, slot !== undefined);
      } finally {
        this.inRx = false;
      }
    }
    // Frames longer than a page's linear part (MTU above 3506) or a frame arriving while one is
    // being run (a pass callback re-entering): the test-run path, which handles fragments.
    for (let i = 0; i < list.length; i++) {
      const link = list[i]!;
      const p = link.program;
      const dv = new DataView(this.ctxIn.buffer);
      dv.setUint32(XDP_MD.data_end, frame.length, true);
      try {
        const r = p.run({ data: frame, ctx: this.ctxIn });
        link.runs++;
        // The output starts at data_meta; the frame on the wire starts at data.
        const off = r.ctx ? new DataView(r.ctx.buffer, r.ctx.byteOffset).getUint32(XDP_MD.data, true) : 0;
        frame = off ? r.data!.subarray(off) : r.data!;
        action = r.retval <= XDP_REDIRECT ? r.retval : -1;
        redirect = r.redirect ? { prog: p, ...r.redirect } : undefined;
      } catch (e) {
        link.errors++;
        link.lastError = e;
        action = -1;
      }
      if (action !== XDP_PASS) break;
    }
    return this.act(action, frame, redirect);
  }

  private inRx = false;
  private readonly slots = new Map<AddressSpace, RxSlot>();

  private slotOf(space: AddressSpace): RxSlot {
    let s = this.slots.get(space);
    if (!s) {
      const page = space.alloc(PAGE_SIZE, PAGE_SIZE);
      const ctx = space.alloc(XDP_MD.size);
      const regions = [
        space.addRegion({ base: page, size: PAGE_SIZE - SKB_SHINFO_SIZE, kind: 'packet', name: `xdp frame ${this.tap.name}`, writable: true }),
        space.addRegion({ base: ctx, size: XDP_MD.size, kind: 'ctx', name: `xdp_md ${this.tap.name}`, writable: false }),
      ];
      s = { space, page, ctx, regions, packet: { kind: 'xdp', ctx, hardStart: page, frameSize: PAGE_SIZE, tailroom: SKB_SHINFO_SIZE, frags: [] } };
      this.slots.set(space, s);
    }
    return s;
  }

  /** The frame at XDP_PACKET_HEADROOM, and a fresh struct xdp_md (as the driver's xdp_prepare_buff). */
  private load(s: RxSlot, frame: Uint8Array): void {
    // memOf: cached views of the space (AddressSpace's own getters re-check the memory's buffer on every access).
    const { u8, dv } = memOf(s.space);
    const data = s.page + XDP_PACKET_HEADROOM;
    u8.set(frame, data);
    dv.setUint32(s.ctx + XDP_MD.data, data, true);
    dv.setUint32(s.ctx + XDP_MD.data_end, data + frame.length, true);
    dv.setUint32(s.ctx + XDP_MD.data_meta, data, true);
    dv.setUint32(s.ctx + XDP_MD.ingress_ifindex, this.tap.ifindex, true);
    dv.setUint32(s.ctx + XDP_MD.rx_queue_index, 0, true);
    dv.setUint32(s.ctx + XDP_MD.egress_ifindex, 0, true);
    if (s.packet.frags!.length) s.packet.frags = [];
  }

  /** The frame as the programs left it: data .. data_end (metadata is not sent). */
  private frameOf(s: RxSlot): Uint8Array {
    const { u8, dv } = memOf(s.space);
    const d = dv.getUint32(s.ctx + XDP_MD.data, true);
    return u8.subarray(d, dv.getUint32(s.ctx + XDP_MD.data_end, true));
  }

  private act(action: number, frame: Uint8Array, redirect: Redirect | undefined, isView = false): number {
    if (action < 0 || action === XDP_ABORTED) {
      this.stats.actions[XDP_ABORTED]!++;
      this.stats.exceptions++;
      return XDP_ABORTED;
    }
    this.stats.actions[action]!++;
    switch (action) {
      case XDP_PASS: {
        const t = this.passTarget;
        if (t === undefined) this.stats.passDropped++;
        else if (t instanceof TapDevice) t.write(frame);
        else t(isView ? frame.slice() : frame, this);
        break;
      }
      case XDP_TX:
        this.tap.write(frame);
        break;
      case XDP_REDIRECT:
        if (!redirect || !this.redirect(frame, redirect)) this.stats.redirectErrors++;
        break;
    }
    return action;
  }

  /** xdp_do_redirect: send to the chosen device(s); false when there is none. */
  private redirect(frame: Uint8Array, r: Redirect): boolean {
    if (r.helper === 'redirect') return this.sendTo(r.ifindex, frame);
    const m = r.map !== undefined ? r.prog.runtime.maps.byAddr(r.map) : undefined;
    if (!(m instanceof DevMap || m instanceof DevMapHash)) return false;
    if (r.flags & BPF_F_BROADCAST) {
      // dev_map_enqueue_multi: every device of the map (each write copies the frame), less the ingress one if asked.
      let sent = false;
      for (const t of m.targets()) {
        if (r.flags & BPF_F_EXCLUDE_INGRESS && t.ifindex === this.tap.ifindex) continue;
        sent = this.sendTo(t.ifindex, frame) || sent;
      }
      return sent;
    }
    const ifindex = m.target(r.key ?? 0);
    return ifindex !== undefined && this.sendTo(ifindex, frame);
  }

  private sendTo(ifindex: number, frame: Uint8Array): boolean {
    const dev = TapDevice.byIfindex(ifindex);
    return dev !== undefined && dev.isOpen && dev.write(frame);
  }

  /** Stop the NIC: detach every program and stop reading (the devices stay open; close them yourself). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.links]) l.detach();
    for (const s of this.slots.values()) {
      for (const r of s.regions) s.space.removeRegion(r);
      s.space.free(s.page);
      s.space.free(s.ctx);
    }
    this.slots.clear();
    if (this.tap.isOpen) this.tap.setConsumer(undefined);
    if (this.passTarget instanceof TapDevice && this.passTarget.isOpen) this.passTarget.setConsumer(undefined);
    hooks.delete(this.tap);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

const hooks = new WeakMap<TapDevice, TapXdpHook>();

/**
 * The XDP attach point of a TAP device (made on first use; `opts` apply
 * then, and `hook.pass` changes the pass target later):
 * `program.attach(tapXdp(tap, { pass: hostTap }))`.
 */
export function tapXdp(tap: TapDevice, opts?: TapXdpOptions): TapXdpHook {
  let h = hooks.get(tap);
  if (!h) hooks.set(tap, (h = new TapXdpHook(tap, opts)));
  else if (opts?.pass !== undefined) h.pass = opts.pass;
  return h;
}
