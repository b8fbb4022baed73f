/**
 * Attaching programs to the kernel's hooks, each giving a KernelLink:
 *  - kprobe/kretprobe and uprobe/uretprobe through the kprobe/uprobe PMUs
 *    (perf_event_open with the function name or file offset in config1/2, as
 *    libbpf's perf_event_open_probe), tracepoints by their tracefs id, both
 *    linked with BPF_LINK_CREATE(BPF_PERF_EVENT) (PERF_EVENT_IOC_SET_BPF on
 *    kernels without it);
 *  - raw tracepoints, tp_btf, fentry/fexit/fmod_ret and lsm with
 *    BPF_RAW_TRACEPOINT_OPEN;
 *  - XDP on an interface and tc through tcx with BPF_LINK_CREATE on the
 *    ifindex, or through a clsact qdisc and a cls_bpf filter (tc-legacy.ts)
 *    on kernels without tcx; cgroup programs on a cgroup v2 directory;
 *  - socket filters with SO_ATTACH_BPF on a socket of this process.
 * Links are fds: the kernel detaches them when the fd closes, so a process
 * that exits (or crashes) leaves nothing attached unless it pinned the link.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { TsbpfError } from '../errors.js';
import type { ProgramSpec } from '../object/spec.js';
import { ATTACH_TYPE, Attr, LINK_CREATE, RAW_TP, cstr, nativeBuf } from './attr.js';
import { ERRNO_VALUES } from '../errors.js';
import { BPF_CMD, KernelFeatureError, kernelError, type Sys } from './ffi.js';
import { kernelConfig } from './kconfig.js';
import { Features } from './probe.js';
import { kprobeMultiAttr, kprobeMultiPlan, linkCreateMulti, multiLinkError, readFilterFunctions, uprobeMultiAttr, uprobeMultiPlan, type KprobeMultiOptions, type UprobeMultiOptions } from './multi-probe.js';
import { linkInfo, type LinkInfo } from './info.js';
import { pinFd } from './map.js';
import { resolveBinaryPath, symbolOffset } from './elf-symbols.js';
import { tcFilterAttach, tcFilterDetach } from './tc-legacy.js';
import { PERF_COUNT_SW_CPU_CLOCK, PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF, PERF_FLAG_FD_CLOEXEC, PERF_TYPE_SOFTWARE, PERF_TYPE_TRACEPOINT, perfEventAttr, onlineCpus } from './perf-event.js';

export type AttachTarget =
  | { kprobe: string; offset?: number; retprobe?: boolean }
  | { tracepoint: string }
  | { rawTracepoint: string }
  | { uprobe: string; symbol?: string; offset?: number; retprobe?: boolean; pid?: number }
  /** one link on many kernel functions (BPF_TRACE_KPROBE_MULTI) */
  | { kprobeMulti: KprobeMultiOptions }
  /** one link on many functions of one binary (BPF_TRACE_UPROBE_MULTI) */
  | { uprobeMulti: UprobeMultiOptions }
  | { xdp: string | number; mode?: 'skb' | 'drv' | 'hw' }
  | { tcx: string | number; direction: 'ingress' | 'egress' }
  /** tc: through tcx, falling back to a clsact qdisc + cls_bpf filter where the kernel has no tcx; `legacy: true` always takes the filter path */
  | { tc: string | number; direction: 'ingress' | 'egress'; legacy?: boolean; handle?: number; priority?: number }
  | { cgroup: string; attachType?: string }
  | { socket: number | { _handle?: { fd?: number } } }
  | { perfEvent: { type?: number; config?: number; period?: number; frequency?: number; cpus?: number[] } };

/** How attach treats the kernel (KernelRuntimeOptions.assumeMissing). */
export interface AttachOptions {
  /** features to take as missing: `tcx` sends `{ tc }` to the clsact + cls_bpf path */
  missing?: ReadonlySet<string>;
}

/** What attach needs of a program. */
export interface AttachableProgram {
  readonly fd: number;
  readonly name: string;
  readonly spec: ProgramSpec;
}

/** An attachment; `detach()` takes it off (idempotent). */
export class KernelLink {
  private detached = false;
  pinned = false;
  private readonly listeners: Array<() => void> = [];
  constructor(
    private readonly sys: Sys,
    /** what it is attached to, for messages */
    readonly target: string,
    /** the bpf_link fd (-1 for socket filters, which are socket options) */
    readonly fd: number,
    private readonly release: () => void,
  ) {}
  get attached(): boolean {
    return !this.detached;
  }
  /** BPF_OBJ_PIN the link: it stays attached after this process exits, until the pin is removed. */
  pin(path: string): void {
    if (this.fd < 0) throw new TsbpfError('EINVAL', `${this.target}: this attachment is not a bpf_link and cannot be pinned`);
    pinFd(this.sys, this.fd, path, `link ${this.target}`);
    this.pinned = true;
  }
  /** the kernel's view of the link (bpftool link show) */
  info(): LinkInfo | undefined {
    return this.fd >= 0 && !this.detached ? linkInfo(this.sys, this.fd) : undefined;
  }
  onDetach(cb: () => void): void {
    this.listeners.push(cb);
  }
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.release();
    for (const l of this.listeners) l();
  }
  [Symbol.dispose](): void {
    this.detach();
  }
}

const XDP_FLAGS: Record<string, number> = { skb: 1 << 1, drv: 1 << 2, hw: 1 << 3 };
const SOL_SOCKET = 1;
const SO_ATTACH_BPF = 50;
const SO_DETACH_BPF = 27;

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** tracefs's root, mounted at /sys/kernel/tracing when it is not yet (as root). */
export function tracefs(): string {
  for (const d of TRACEFS) if (existsSync(`${d}/events`)) return d;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS[0]!], { stdio: 'ignore' });
  } catch {
    throw new TsbpfError('ENOENT', 'tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)');
  }
  return TRACEFS[0]!;
}

function pmu(kind: 'kprobe' | 'uprobe'): { type: number; retBit: number } {
  const dir = `/sys/bus/event_source/devices/${kind}`;
  try {
    const type = Number(readFileSync(`${dir}/type`, 'utf8').trim());
    // format/retprobe reads "config:0": the bit of config that asks for the return probe
    const m = /config:(\d+)/.exec(readFileSync(`${dir}/format/retprobe`, 'utf8'));
    return { type, retBit: m ? Number(m[1]) : 0 };
  } catch {
    // the PMU is registered by CONFIG_KPROBE_EVENTS / CONFIG_UPROBE_EVENTS, which need CONFIG_KPROBES / CONFIG_UPROBES
    const config = kind === 'kprobe' ? 'CONFIG_KPROBES' : 'CONFIG_UPROBES';
    const why = kernelConfig(config) === 'n' ? `${config} is not set in this kernel's config` : `the kernel needs ${config} and ${config.replace(/S$/, '')}_EVENTS`;
    throw new KernelFeatureError('ENOTSUPP', `the ${kind} PMU (${dir}) is missing: the kernel has no ${kind}s (${why})`, ERRNO_VALUES.ENOTSUPP, `${kind}s`, config);
  }
}

/** Link a perf event fd to the program: BPF_LINK_CREATE(BPF_PERF_EVENT), else the ioctls (kernels before 5.15). */
function perfLink(sys: Sys, prog: AttachableProgram, pfd: number, target: string): KernelLink {
  const a = new Attr(sys);
  a.u32(LINK_CREATE.prog_fd, prog.fd).u32(LINK_CREATE.target_fd, pfd).u32(LINK_CREATE.attach_type, ATTACH_TYPE.perf_event!);
  const fd = sys.bpfTry(BPF_CMD.LINK_CREATE, a.bytes);
  if (fd >= 0) {
    return new KernelLink(sys, target, fd, () => {
      sys.close(fd);
      sys.close(pfd);
    });
  }
  if (fd !== -22 && fd !== -524 && fd !== -95) {
    sys.close(pfd);
    throw kernelError('bpf(BPF_LINK_CREATE)', -fd, `attach ${prog.name} to ${target}`);
  }
  try {
    sys.ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog.fd, `attach ${prog.name} to ${target}`);
    sys.ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
  } catch (e) {
    sys.close(pfd);
    throw e;
  }
  return new KernelLink(sys, target, -1, () => sys.close(pfd));
}

function kprobe(sys: Sys, prog: AttachableProgram, fn: string, offset: number, ret: boolean): KernelLink {
  const p = pmu('kprobe');
  const attr = perfEventAttr(sys, { type: p.type, config: ret ? 1n << BigInt(p.retBit) : 0n, config1: cstr(fn), config2: BigInt(offset) });
  const pfd = sys.perfEventOpen(attr.bytes, -1, 0, -1, PERF_FLAG_FD_CLOEXEC, `${ret ? 'kretprobe' : 'kprobe'} ${fn}`);
  return perfLink(sys, prog, pfd, `${ret ? 'kretprobe' : 'kprobe'}/${fn}`);
}

function uprobe(sys: Sys, prog: AttachableProgram, path: string, offset: number, ret: boolean, pid: number): KernelLink {
  const p = pmu('uprobe');
  const attr = perfEventAttr(sys, { type: p.type, config: ret ? 1n << BigInt(p.retBit) : 0n, config1: cstr(path), config2: BigInt(offset) });
  // libbpf: pid -1 with cpu 0 probes every process; a pid probes that one on any CPU
  const pfd = sys.perfEventOpen(attr.bytes, pid, pid === -1 ? 0 : -1, -1, PERF_FLAG_FD_CLOEXEC, `${ret ? 'uretprobe' : 'uprobe'} ${path}+${offset}`);
  return perfLink(sys, prog, pfd, `${ret ? 'uretprobe' : 'uprobe'}/${path}+0x${offset.toString(16)}`);
}

const features = new WeakMap<Sys, Features>();

function kprobeMulti(sys: Sys, prog: AttachableProgram, o: KprobeMultiOptions): KernelLink {
  // ask first: a kernel without the link type gets that said, not a failure to read tracefs's function list
  let f = features.get(sys);
  if (!f) features.set(sys, (f = new Features(sys)));
  const has = f.kprobeMultiLink();
  if (!has.ok && has.errno !== undefined) throw multiLinkError(-has.errno, 'kprobe.multi', `attach ${prog.name} to kprobe.multi (${has.reason})`);
  const plan = kprobeMultiPlan(o, () => readFilterFunctions(tracefs()));
  const target = `${o.retprobe ? 'kretprobe' : 'kprobe'}.multi/${o.pattern ?? `${plan.cnt} functions`}`;
  const fd = linkCreateMulti(sys, kprobeMultiAttr(sys, prog.fd, plan), 'kprobe.multi', `attach ${prog.name} to ${target}`);
  return new KernelLink(sys, target, fd, () => sys.close(fd));
}

function uprobeMulti(sys: Sys, prog: AttachableProgram, o: UprobeMultiOptions): KernelLink {
  const plan = uprobeMultiPlan(o);
  const target = `${o.retprobe ? 'uretprobe' : 'uprobe'}.multi/${plan.path}:${o.pattern ?? `${plan.offsets.length} functions`}`;
  const fd = linkCreateMulti(sys, uprobeMultiAttr(sys, prog.fd, plan), 'uprobe.multi', `attach ${prog.name} to ${target}`);
  return new KernelLink(sys, target, fd, () => sys.close(fd));
}

function tracepoint(sys: Sys, prog: AttachableProgram, name: string): KernelLink {
  const [cat, ev] = name.split('/');
  if (!cat || !ev) throw new TsbpfError('EINVAL', `tracepoint ${name}: expected CATEGORY/NAME`);
  const idFile = `${tracefs()}/events/${cat}/${ev}/id`;
  let id: number;
  try {
    id = Number(readFileSync(idFile, 'utf8').trim());
  } catch {
    throw new TsbpfError('ENOENT', `tracepoint ${name} does not exist (${idFile})`);
  }
  const pfd = sys.perfEventOpen(perfEventAttr(sys, { type: PERF_TYPE_TRACEPOINT, config: BigInt(id) }).bytes, -1, 0, -1, PERF_FLAG_FD_CLOEXEC, `tracepoint ${name}`);
  return perfLink(sys, prog, pfd, `tracepoint/${name}`);
}

/** BPF_RAW_TRACEPOINT_OPEN: a raw tracepoint by name, or (name NULL) the BTF target a tracing/lsm program was loaded for. */
function rawTp(sys: Sys, prog: AttachableProgram, name: string | undefined, target: string): KernelLink {
  const a = new Attr(sys);
  if (name !== undefined) a.ptr(RAW_TP.name, cstr(name));
  a.u32(RAW_TP.prog_fd, prog.fd);
  const fd = sys.bpf(BPF_CMD.RAW_TRACEPOINT_OPEN, a.bytes, `attach ${prog.name} to ${target}`);
  return new KernelLink(sys, target, fd, () => sys.close(fd));
}

function ifindexOf(sys: Sys, dev: string | number): number {
  return typeof dev === 'number' ? dev : sys.ifNameToIndex(dev);
}

function linkCreate(sys: Sys, prog: AttachableProgram, targetFd: number, attachType: number, flags: number, target: string): KernelLink {
  const a = new Attr(sys);
  a.u32(LINK_CREATE.prog_fd, prog.fd).u32(LINK_CREATE.target_fd, targetFd).u32(LINK_CREATE.attach_type, attachType).u32(LINK_CREATE.flags, flags);
  const fd = sys.bpf(BPF_CMD.LINK_CREATE, a.bytes, `attach ${prog.name} to ${target}`);
  return new KernelLink(sys, target, fd, () => sys.close(fd));
}

/**
 * tc on an interface: tcx (BPF_LINK_CREATE, Linux 6.6) unless asked for the
 * filter path; a kernel without tcx refuses the attach type with EINVAL (or
 * ENOTSUPP/EOPNOTSUPP), and then the clsact + cls_bpf path is taken, as
 * cilium/ebpf and libbpf users do by hand. A filter is no bpf_link: it is not
 * taken off when the process exits (as with `tc filter add`), only by detach().
 */
function tc(sys: Sys, prog: AttachableProgram, t: { tc: string | number; direction: 'ingress' | 'egress'; legacy?: boolean; handle?: number; priority?: number }, noTcx = false): KernelLink {
  if (t.direction !== 'ingress' && t.direction !== 'egress') throw new TsbpfError('EINVAL', `tc attach of ${prog.name}: direction is ingress or egress, not ${String(t.direction)}`);
  const ifindex = ifindexOf(sys, t.tc);
  if (!t.legacy && !noTcx && t.handle === undefined && t.priority === undefined) {
    const a = new Attr(sys);
    a.u32(LINK_CREATE.prog_fd, prog.fd).u32(LINK_CREATE.target_fd, ifindex).u32(LINK_CREATE.attach_type, ATTACH_TYPE[`tcx_${t.direction}`]!);
    const fd = sys.bpfTry(BPF_CMD.LINK_CREATE, a.bytes);
    if (fd >= 0) return new KernelLink(sys, `tcx ${t.direction} on ifindex ${ifindex}`, fd, () => sys.close(fd));
    if (fd !== -22 && fd !== -524 && fd !== -95) throw kernelError('bpf(BPF_LINK_CREATE)', -fd, `attach ${prog.name} to tcx ${t.direction} on ifindex ${ifindex}`);
  }
  const f = tcFilterAttach(sys, prog, ifindex, t.direction, { handle: t.handle, priority: t.priority });
  const what = `tc ${t.direction} on ifindex ${ifindex} (cls_bpf direct-action, pref ${f.priority} handle 0x${f.handle.toString(16)})`;
  return new KernelLink(sys, what, -1, () => tcFilterDetach(sys, f));
}

function socketFd(s: number | { _handle?: { fd?: number } }): number {
  if (typeof s === 'number') return s;
  const fd = s._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new TsbpfError('EBADF', 'socket filter: the socket has no fd yet (bind or connect it first)');
  return fd;
}

export function attachProgram(sys: Sys, prog: AttachableProgram, target?: AttachTarget, opts: AttachOptions = {}): KernelLink {
  const ps = prog.spec;
  if (!target) return autoAttach(sys, prog, ps);
  if ('kprobe' in target) return kprobe(sys, prog, target.kprobe, target.offset ?? 0, target.retprobe ?? ps.section.startsWith('kretprobe'));
  if ('tracepoint' in target) return tracepoint(sys, prog, target.tracepoint);
  if ('kprobeMulti' in target) return kprobeMulti(sys, prog, { ...target.kprobeMulti, retprobe: target.kprobeMulti.retprobe ?? ps.section.startsWith('kretprobe') });
  if ('uprobeMulti' in target) return uprobeMulti(sys, prog, { ...target.uprobeMulti, retprobe: target.uprobeMulti.retprobe ?? ps.section.startsWith('uretprobe') });
  if ('rawTracepoint' in target) return rawTp(sys, prog, target.rawTracepoint, `raw_tp/${target.rawTracepoint}`);
  if ('uprobe' in target) {
    const path = resolveBinaryPath(target.uprobe);
    const off = (target.symbol ? symbolOffset(path, target.symbol) : 0) + (target.offset ?? 0);
    return uprobe(sys, prog, path, off, target.retprobe ?? ps.section.startsWith('uretprobe'), target.pid ?? -1);
  }
  if ('xdp' in target) {
    const ifindex = ifindexOf(sys, target.xdp);
    return linkCreate(sys, prog, ifindex, ATTACH_TYPE.xdp!, target.mode ? XDP_FLAGS[target.mode]! : 0, `xdp on ifindex ${ifindex}`);
  }
  if ('tcx' in target) {
    const ifindex = ifindexOf(sys, target.tcx);
    return linkCreate(sys, prog, ifindex, ATTACH_TYPE[`tcx_${target.direction}`]!, 0, `tcx ${target.direction} on ifindex ${ifindex}`);
  }
  if ('tc' in target) return tc(sys, prog, target, opts.missing?.has('tcx') === true);
  if ('cgroup' in target) {
    const at = target.attachType ?? ps.attachType;
    const t = at !== undefined ? ATTACH_TYPE[at] : undefined;
    if (t === undefined) throw new TsbpfError('EINVAL', `cgroup attach of ${prog.name}: no attach type (give attachType, e.g. cgroup_inet_ingress)`);
    const cfd = openSync(target.cgroup, 'r');
    try {
      return linkCreate(sys, prog, cfd, t, 0, `cgroup ${target.cgroup} (${at})`);
    } finally {
      closeSync(cfd);
    }
  }
  if ('socket' in target) {
    const sfd = socketFd(target.socket);
    const v = nativeBuf(4);
    new DataView(v.buffer).setInt32(0, prog.fd, true);
    sys.setsockopt(sfd, SOL_SOCKET, SO_ATTACH_BPF, v, `socket filter ${prog.name} on fd ${sfd}`);
    return new KernelLink(sys, `socket fd ${sfd}`, -1, () => {
      try {
        sys.setsockopt(sfd, SOL_SOCKET, SO_DETACH_BPF, nativeBuf(4));
      } catch {
        // the socket was closed first: nothing is attached any more
      }
    });
  }
  if ('perfEvent' in target) return perfSampling(sys, prog, target.perfEvent);
  throw new TsbpfError('EINVAL', `attach ${prog.name}: unknown target ${JSON.stringify(target)}`);
}

/**
 * A perf_event program on a sampling event per CPU (default: the software
 * cpu-clock at `frequency` Hz, 99 unless given), as libbpf's
 * bpf_program__attach_perf_event over one event per CPU: one link whose
 * detach() closes them all.
 */
function perfSampling(sys: Sys, prog: AttachableProgram, o: { type?: number; config?: number; period?: number; frequency?: number; cpus?: number[] }): KernelLink {
  const cpus = o.cpus ?? onlineCpus();
  const links: KernelLink[] = [];
  try {
    for (const cpu of cpus) {
      const attr = perfEventAttr(sys, {
        type: o.type ?? PERF_TYPE_SOFTWARE,
        config: BigInt(o.config ?? PERF_COUNT_SW_CPU_CLOCK),
        ...(o.period !== undefined ? { samplePeriod: BigInt(o.period) } : { sampleFreq: o.frequency ?? 99 }),
      });
      const pfd = sys.perfEventOpen(attr.bytes, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC, `perf event on CPU ${cpu}`);
      links.push(perfLink(sys, prog, pfd, `perf_event/cpu${cpu}`));
    }
  } catch (e) {
    for (const l of links) l.detach();
    throw e;
  }
  // the per-CPU links as one: its fd is the first CPU's (info(), pin()), detach takes all
  return new KernelLink(sys, `perf_event on CPUs ${cpus.join(',')}`, links[0]?.fd ?? -1, () => {
    for (const l of links) l.detach();
  });
}

/** libbpf's auto-attach: the section says where. */
function autoAttach(sys: Sys, prog: AttachableProgram, ps: ProgramSpec): KernelLink {
  const sec = ps.section;
  const to = ps.attachTo ?? sec.slice(sec.indexOf('/') + 1);
  const kind = sec.split('/')[0]!;
  const none = (): never => {
    throw new TsbpfError('EINVAL', `program ${prog.name}: section ${sec} names no hook to attach to by itself; pass a target (attach({ xdp: 'eth0' }), ...)`);
  };
  if (!sec.includes('/') && ps.type !== 'tracing' && ps.type !== 'lsm') return none();
  switch (kind) {
    case 'kprobe':
    case 'kretprobe': {
      const m = /^([^+]+)(?:\+(\d+|0x[0-9a-f]+))?$/i.exec(to);
      if (!m) return none();
      return kprobe(sys, prog, m[1]!, m[2] ? Number(m[2]) : 0, kind === 'kretprobe');
    }
    case 'tracepoint':
    case 'tp':
      return tracepoint(sys, prog, to);
    case 'raw_tp':
    case 'raw_tracepoint':
    case 'raw_tp.w':
    case 'raw_tracepoint.w':
      return rawTp(sys, prog, to, `raw_tp/${to}`);
    case 'uprobe':
    case 'uretprobe': {
      // SEC("uprobe/PATH:FUNC[+OFF]") (libbpf attach_uprobe)
      const m = /^(.+):([^:+]+)(?:\+(\d+|0x[0-9a-f]+))?$/i.exec(to);
      if (!m) return none();
      const path = resolveBinaryPath(m[1]!);
      return uprobe(sys, prog, path, symbolOffset(path, m[2]!) + (m[3] ? Number(m[3]) : 0), kind === 'uretprobe', -1);
    }
    case 'kprobe.multi':
    case 'kretprobe.multi':
      // SEC("kprobe.multi/PATTERN") (libbpf attach_kprobe_multi)
      return kprobeMulti(sys, prog, { pattern: to, retprobe: kind === 'kretprobe.multi' });
    case 'uprobe.multi':
    case 'uretprobe.multi':
    case 'uprobe.multi.s':
    case 'uretprobe.multi.s': {
      // SEC("uprobe.multi/PATH:PATTERN") (libbpf attach_uprobe_multi)
      const m = /^(.+):([^:]+)$/.exec(to);
      if (!m) return none();
      return uprobeMulti(sys, prog, { path: m[1]!, pattern: m[2]!, retprobe: kind.startsWith('uretprobe') });
    }
    default:
      if (ps.type === 'tracing' || ps.type === 'lsm') return rawTp(sys, prog, undefined, sec);
      return none();
  }
}
