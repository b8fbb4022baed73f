/**
 * tc's older path, for kernels without tcx (before 6.6): a clsact qdisc on
 * the interface and a cls_bpf filter in direct-action mode on its ingress or
 * egress hook, both made over rtnetlink as libbpf's bpf_tc_hook_create and
 * bpf_tc_attach do (what `tc qdisc add dev D clsact` and `tc filter add dev D
 * ingress bpf direct-action fd N` send). detach() deletes the filter, then
 * the qdisc if this process created it and no filter is left on it (so the
 * last of several links sharing it takes it away; one made by `tc` stays).
 */
import { TsbpfError } from '../errors.js';
import { KernelError, type Sys } from './ffi.js';
import { NLM_F, NlAttrs, RtNetlink } from './netlink.js';
import type { AttachableProgram } from './attach.js';

// include/uapi/linux/rtnetlink.h, pkt_sched.h, pkt_cls.h
const RTM_NEWQDISC = 36;
const RTM_DELQDISC = 37;
const RTM_NEWTFILTER = 44;
const RTM_DELTFILTER = 45;
const RTM_GETTFILTER = 46;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
const TC_H_CLSACT = 0xfffffff1;
const TC_H_MIN_INGRESS = 0xfff2;
const TC_H_MIN_EGRESS = 0xfff3;
const ETH_P_ALL = 0x0003;

const tcH = (maj: number, min: number): number => ((maj & 0xffff0000) | (min & 0xffff)) >>> 0;
const htons = (v: number): number => ((v & 0xff) << 8) | (v >> 8);

/** struct tcmsg: family, 3 pad bytes, ifindex, handle, parent, info. */
function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  dv.setInt32(4, ifindex, true);
  dv.setUint32(8, handle >>> 0, true);
  dv.setUint32(12, parent >>> 0, true);
  dv.setUint32(16, info >>> 0, true);
  return b;
}

export interface TcFilter {
  ifindex: number;
  direction: 'ingress' | 'egress';
  /** the filter's handle and priority (tc's `handle` and `pref`), as the kernel chose them when not given */
  handle: number;
  priority: number;
}

/** The interfaces (ifindex) whose clsact qdisc this process created. */
const ourQdiscs = new Set<number>();

const clsactParent = (d: 'ingress' | 'egress'): number => tcH(TC_H_CLSACT, d === 'ingress' ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);

/** Attach as a cls_bpf direct-action filter (libbpf bpf_tc_hook_create + bpf_tc_attach). */
export function tcFilterAttach(sys: Sys, prog: AttachableProgram, ifindex: number, direction: 'ingress' | 'egress', o: { handle?: number; priority?: number } = {}): TcFilter {
  if (o.priority !== undefined && (!Number.isInteger(o.priority) || o.priority < 1 || o.priority > 0xffff)) throw new TsbpfError('EINVAL', `tc priority ${o.priority}: from 1 to 65535`);
  if (o.handle !== undefined && (!Number.isInteger(o.handle) || o.handle < 1 || o.handle > 0xffffffff)) throw new TsbpfError('EINVAL', `tc handle ${o.handle}: from 1 to 2^32-1`);
  const nl = new RtNetlink(sys);
  try {
    let createdQdisc = true;
    try {
      const kind = new NlAttrs().str(TCA_KIND, 'clsact');
      nl.request(RTM_NEWQDISC, NLM_F.CREATE | NLM_F.EXCL, tcmsg(ifindex, tcH(TC_H_CLSACT, 0), TC_H_CLSACT, 0), kind, `tc qdisc add clsact on ifindex ${ifindex}`);
    } catch (e) {
      if (!(e instanceof KernelError && e.errno === 'EEXIST')) throw e;
      createdQdisc = false; // there already is one: ourQdiscs says whether this process made it
    }
    const opts = new NlAttrs().u32(TCA_BPF_FD, prog.fd).str(TCA_BPF_NAME, prog.name).u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    const attrs = new NlAttrs().str(TCA_KIND, 'bpf').nested(TCA_OPTIONS, opts);
    const parent = clsactParent(direction);
    let reply;
    try {
      // NLM_F_ECHO: the kernel sends the filter back, with the handle and priority it chose
      reply = nl.request(RTM_NEWTFILTER, NLM_F.CREATE | NLM_F.EXCL | NLM_F.ECHO, tcmsg(ifindex, o.handle ?? 1, parent, tcH((o.priority ?? 0) << 16, htons(ETH_P_ALL))), attrs, `tc filter add ${direction} bpf direct-action ${prog.name} on ifindex ${ifindex}`);
    } catch (e) {
      if (createdQdisc) deleteQdiscIfEmpty(nl, ifindex);
      throw e;
    }
    const echo = reply.find((m) => m.type === RTM_NEWTFILTER);
    if (!echo) throw new TsbpfError('EBADMSG', `tc filter add on ifindex ${ifindex}: the kernel did not echo the filter`);
    if (createdQdisc) ourQdiscs.add(ifindex);
    const dv = new DataView(echo.body.buffer, echo.body.byteOffset);
    return { ifindex, direction, handle: dv.getUint32(8, true), priority: dv.getUint32(16, true) >>> 16 };
  } finally {
    nl.close();
  }
}

/** Delete the filter (libbpf bpf_tc_detach), then the qdisc if this attach made it and it is empty. */
export function tcFilterDetach(sys: Sys, f: TcFilter): void {
  const nl = new RtNetlink(sys);
  try {
    try {
      nl.request(RTM_DELTFILTER, 0, tcmsg(f.ifindex, f.handle, clsactParent(f.direction), tcH(f.priority << 16, htons(ETH_P_ALL))), new NlAttrs().str(TCA_KIND, 'bpf'), `tc filter del on ifindex ${f.ifindex}`);
    } catch (e) {
      // ENOENT/ENODEV: the filter, the qdisc or the interface went first: nothing is attached
      if (!(e instanceof KernelError && (e.errno === 'ENOENT' || e.errno === 'ENODEV' || e.errno === 'EINVAL'))) throw e;
    }
    if (ourQdiscs.has(f.ifindex) && deleteQdiscIfEmpty(nl, f.ifindex)) ourQdiscs.delete(f.ifindex);
  } finally {
    nl.close();
  }
}

/** Delete the clsact qdisc unless a filter is still on it; true when it is gone. */
function deleteQdiscIfEmpty(nl: RtNetlink, ifindex: number): boolean {
  try {
    for (const d of ['ingress', 'egress'] as const) {
      const filters = nl.request(RTM_GETTFILTER, NLM_F.DUMP, tcmsg(ifindex, 0, clsactParent(d), 0), undefined, `tc filter show ${d} on ifindex ${ifindex}`);
      if (filters.some((m) => m.type === RTM_NEWTFILTER)) return false; // other filters: they still need it
    }
    nl.request(RTM_DELQDISC, 0, tcmsg(ifindex, tcH(TC_H_CLSACT, 0), TC_H_CLSACT, 0), undefined, `tc qdisc del clsact on ifindex ${ifindex}`);
  } catch (e) {
    if (!(e instanceof KernelError && (e.errno === 'ENOENT' || e.errno === 'ENODEV' || e.errno === 'EINVAL'))) throw e;
  }
  return true;
}
