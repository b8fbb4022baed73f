/**
 * Multi-probe links: one BPF_LINK_CREATE attaches a program to many
 * functions at once.
 *  - kprobe.multi (BPF_TRACE_KPROBE_MULTI, Linux 5.18, needs CONFIG_FPROBE):
 *    kernel symbols or addresses, or a glob resolved as libbpf's
 *    bpf_program__attach_kprobe_multi_opts does, from tracefs's
 *    available_filter_functions_addrs (addresses, Linux 6.5) or else
 *    available_filter_functions (names); entries the kernel marks
 *    `__ftrace_invalid_address__` are skipped.
 *  - uprobe.multi (BPF_TRACE_UPROBE_MULTI, Linux 6.6, CONFIG_UPROBES): file
 *    offsets in one binary, from symbols or a glob as libbpf's
 *    bpf_program__attach_uprobe_multi does, with optional USDT semaphore
 *    offsets (ref_ctr_offsets) and a pid.
 * Cookies (bpf_get_attach_cookie) go one per entry, in the order given; the
 * kernel sorts the addresses itself and carries the cookies along
 * (bpf_kprobe_multi_link_attach's sort_r), so none is sorted here.
 * The plan (what goes into the attr) is built apart from the system call so
 * that it can be checked on any machine.
 */
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { ATTACH_TYPE, Attr, KPROBE_MULTI, LINK_CREATE, UPROBE_MULTI, cstr, nativeBuf } from './attr.js';
import { BPF_CMD, ERRNO_NAMES, KernelFeatureError, kernelError, type Sys } from './ffi.js';
import { globMatch, patternOffsets, resolveBinaryPath, symbolOffset } from './elf-symbols.js';
import { kernelConfig } from './kconfig.js';

/** BPF_F_KPROBE_MULTI_RETURN / BPF_F_UPROBE_MULTI_RETURN */
const MULTI_RETURN = 1;

export interface KprobeMultiOptions {
  /** a glob (`*`, `?`) over the kernel's traceable functions */
  pattern?: string;
  symbols?: string[];
  addrs?: bigint[];
  /** one per symbol or address */
  cookies?: bigint[];
  retprobe?: boolean;
}

export interface UprobeMultiOptions {
  /** the binary or library (a bare name is looked up as libbpf does) */
  path: string;
  /** a glob over the binary's function names */
  pattern?: string;
  symbols?: string[];
  offsets?: number[];
  /** USDT semaphores, one file offset per probe (0: none) */
  refCtrOffsets?: number[];
  cookies?: bigint[];
  retprobe?: boolean;
  /** only this process (0: this one); all processes when absent or -1 */
  pid?: number;
}

export interface KprobeMultiPlan {
  flags: number;
  cnt: number;
  syms?: string[];
  addrs?: bigint[];
  cookies?: bigint[];
}

export interface UprobeMultiPlan {
  path: string;
  flags: number;
  offsets: number[];
  refCtrOffsets?: number[];
  cookies?: bigint[];
  pid: number;
}

/** Exactly one way of naming the probes, and per-entry arrays as long as the list (libbpf's checks, EINVAL otherwise). */
function checkOne(what: string, ways: Record<string, unknown>, cnt: number, perEntry: Record<string, unknown[] | undefined>): void {
  const given = Object.entries(ways).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (given.length !== 1) throw new TsbpfError('EINVAL', `${what}: give exactly one of ${Object.keys(ways).join(', ')}${given.length ? ` (got ${given.join(' and ')})` : ''}`);
  if (cnt === 0) throw new TsbpfError('EINVAL', `${what}: no probe to attach`);
  for (const [k, v] of Object.entries(perEntry)) {
    if (v !== undefined && v.length !== cnt) throw new TsbpfError('EINVAL', `${what}: ${k} has ${v.length} entries for ${cnt} probes`);
  }
}

/** tracefs's list of traceable functions, read as libbpf does (the addrs file when the kernel has it). */
export interface FilterFunctions {
  /** available_filter_functions_addrs (Linux 6.5): "ADDR NAME [MODULE]" lines */
  addrs?: string;
  /** available_filter_functions: "NAME [MODULE]" lines */
  names?: string;
}

export function readFilterFunctions(tracefsDir: string): FilterFunctions {
  const errs: string[] = [];
  for (const f of ['available_filter_functions_addrs', 'available_filter_functions'] as const) {
    try {
      const text = readFileSync(`${tracefsDir}/${f}`, 'utf8');
      return f === 'available_filter_functions_addrs' ? { addrs: text } : { names: text };
    } catch (e) {
      errs.push(`${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  throw new TsbpfError('EACCES', `kprobe.multi: the kernel's traceable functions cannot be read from ${tracefsDir} (${errs.join('; ')})`);
}

/** The functions matching `pattern`: addresses when the list has them, names otherwise. */
export function matchFilterFunctions(list: FilterFunctions, pattern: string): { syms?: string[]; addrs?: bigint[] } {
  const text = list.addrs ?? list.names ?? '';
  const syms: string[] = [];
  const addrs: bigint[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    const [addr, name] = list.addrs !== undefined ? [w[0], w[1]] : [undefined, w[0]];
    if (!name || name.includes('__ftrace_invalid_address__') || !globMatch(name, pattern)) continue;
    if (addr !== undefined) addrs.push(BigInt(`0x${addr}`));
    else syms.push(name);
  }
  if (syms.length + addrs.length === 0) throw new TsbpfError('ENOENT', `kprobe.multi: no traceable kernel function matches ${pattern}`);
  return list.addrs !== undefined ? { addrs } : { syms };
}

export function kprobeMultiPlan(o: KprobeMultiOptions, filterFunctions: () => FilterFunctions): KprobeMultiPlan {
  const what = `kprobe.multi${o.pattern ? ` ${o.pattern}` : ''}`;
  const cnt = o.symbols?.length ?? o.addrs?.length ?? 1;
  checkOne(what, { pattern: o.pattern, symbols: o.symbols, addrs: o.addrs }, cnt, { cookies: o.cookies });
  const flags = o.retprobe ? MULTI_RETURN : 0;
  if (o.pattern !== undefined) {
    if (o.cookies) throw new TsbpfError('EINVAL', `${what}: cookies go with symbols or addrs, not with a pattern`);
    const m = matchFilterFunctions(filterFunctions(), o.pattern);
    return { flags, cnt: (m.syms ?? m.addrs)!.length, ...m };
  }
  return { flags, cnt, ...(o.symbols ? { syms: o.symbols } : { addrs: o.addrs }), ...(o.cookies ? { cookies: o.cookies } : {}) };
}

export function uprobeMultiPlan(o: UprobeMultiOptions): UprobeMultiPlan {
  const path = resolveBinaryPath(o.path);
  const what = `uprobe.multi ${path}${o.pattern ? `:${o.pattern}` : ''}`;
  const cnt = o.symbols?.length ?? o.offsets?.length ?? 1;
  checkOne(what, { pattern: o.pattern, symbols: o.symbols, offsets: o.offsets }, cnt, { cookies: o.cookies, refCtrOffsets: o.refCtrOffsets });
  let offsets: number[];
  if (o.pattern !== undefined) {
    if (o.cookies || o.refCtrOffsets) throw new TsbpfError('EINVAL', `${what}: cookies and refCtrOffsets go with symbols or offsets, not with a pattern`);
    offsets = patternOffsets(path, o.pattern);
  } else offsets = o.symbols ? o.symbols.map((s) => symbolOffset(path, s)) : o.offsets!;
  // libbpf: pid 0 is the calling process, -1 every process (0 in the attr)
  const pid = o.pid === undefined || o.pid === -1 ? 0 : o.pid === 0 ? process.pid : o.pid;
  return { path, flags: o.retprobe ? MULTI_RETURN : 0, offsets, pid, ...(o.refCtrOffsets ? { refCtrOffsets: o.refCtrOffsets } : {}), ...(o.cookies ? { cookies: o.cookies } : {}) };
}

function u64s(v: ReadonlyArray<bigint | number>): Uint8Array {
  const b = nativeBuf(v.length * 8);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(x)), true));
  return b;
}

/** The BPF_LINK_CREATE attr of a kprobe.multi plan (syms is an array of char pointers). */
export function kprobeMultiAttr(sys: Pick<Sys, 'address'>, progFd: number, p: KprobeMultiPlan): Attr {
  const a = new Attr(sys as Sys);
  a.u32(LINK_CREATE.prog_fd, progFd).u32(LINK_CREATE.attach_type, ATTACH_TYPE.trace_kprobe_multi!);
  a.u32(KPROBE_MULTI.flags, p.flags).u32(KPROBE_MULTI.cnt, p.cnt);
  if (p.syms) {
    const names = p.syms.map((s) => a.keepAlive(cstr(s)));
    a.ptr(KPROBE_MULTI.syms, u64s(names.map((n) => sys.address(n))));
  }
  if (p.addrs) a.ptr(KPROBE_MULTI.addrs, u64s(p.addrs));
  if (p.cookies) a.ptr(KPROBE_MULTI.cookies, u64s(p.cookies));
  return a;
}

export function uprobeMultiAttr(sys: Pick<Sys, 'address'>, progFd: number, p: UprobeMultiPlan): Attr {
  const a = new Attr(sys as Sys);
  a.u32(LINK_CREATE.prog_fd, progFd).u32(LINK_CREATE.attach_type, ATTACH_TYPE.trace_uprobe_multi!);
  a.ptr(UPROBE_MULTI.path, cstr(p.path));
  a.ptr(UPROBE_MULTI.offsets, u64s(p.offsets));
  if (p.refCtrOffsets) a.ptr(UPROBE_MULTI.ref_ctr_offsets, u64s(p.refCtrOffsets));
  if (p.cookies) a.ptr(UPROBE_MULTI.cookies, u64s(p.cookies));
  a.u32(UPROBE_MULTI.cnt, p.offsets.length).u32(UPROBE_MULTI.flags, p.flags).u32(UPROBE_MULTI.pid, p.pid);
  return a;
}

/**
 * The error for a kernel that refused a multi link: a KernelFeatureError
 * naming the config option when the answer means the link type is missing
 * (EOPNOTSUPP from the stub a kernel without it compiles; EINVAL from one
 * that predates the attach type), a plain KernelError otherwise.
 */
export function multiLinkError(rc: number, kind: 'kprobe.multi' | 'uprobe.multi', what: string): Error {
  const config = kind === 'kprobe.multi' ? 'CONFIG_FPROBE' : 'CONFIG_UPROBES';
  const errno = ERRNO_NAMES.get(-rc);
  if (errno === 'EOPNOTSUPP' || errno === 'ENOTSUPP' || (errno === 'EINVAL' && kernelConfig(config) === 'n')) {
    const set = kernelConfig(config);
    const since = kind === 'kprobe.multi' ? 'Linux 5.18' : 'Linux 6.6';
    const why = set === 'n' ? `${config} is not set in this kernel's config` : `the kernel needs ${config} (and ${since})`;
    return new KernelFeatureError(errno, `${what}: the kernel has no ${kind} links: ${why}; bpf(BPF_LINK_CREATE) answered ${errno}`, -rc, `${kind} links`, config);
  }
  return kernelError('bpf(BPF_LINK_CREATE)', -rc, what);
}

export function linkCreateMulti(sys: Sys, a: Attr, kind: 'kprobe.multi' | 'uprobe.multi', what: string): number {
  const fd = sys.bpfTry(BPF_CMD.LINK_CREATE, a.bytes);
  if (fd < 0) throw multiLinkError(fd, kind, what);
  return fd;
}
