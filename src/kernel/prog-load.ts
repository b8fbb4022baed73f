/**
 * One program into the kernel, as libbpf's bpf_object_load_prog does:
 * CO-RE relocations applied against the kernel's BTF with tsbpf's own
 * relocator (object/btf/core.ts, the same code `tsbpf prog load
 * --kernel-btf` runs), map fds patched into the lddw instructions
 * (BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE, resolve_pseudo_ldimm64's
 * input), kfuncs and typed ksyms resolved to BTF ids of vmlinux or of a
 * module (its BTF fd in fd_array or the ld_imm64's second slot), the target of
 * tracing programs (attach_btf_id), then BPF_PROG_LOAD with func_info and
 * line_info against the object's loaded BTF. The verifier log is asked for
 * at the level requested, or on failure at level 1 (libbpf's retry), in a
 * buffer that grows while the kernel answers ENOSPC.
 */
import { TsbpfError } from '../errors.js';
import { encode, type Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import type { Btf } from '../object/btf/index.js';
import { ProgType, type CollectionSpec, type ProgramSpec } from '../object/spec.js';
import type { CoreModule } from '../object/btf/index.js';
import { findKernelType } from './module-btf.js';
import { coreRelocated } from '../object/relocate.js';
import { ATTACH_TYPE, Attr, PROG_LOAD, cstr, nativeBuf } from './attr.js';
import type { LoadedBtf } from './btf-load.js';
import { BPF_CMD, KernelError, permissionHint, type Sys } from './ffi.js';

export const BPF_F_SLEEPABLE = 1 << 4;
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;
const MAX_LOG = 1 << 30;

export interface ProgLoadContext {
  sys: Sys;
  spec: CollectionSpec;
  mapFd(name: string): number | undefined;
  btf?: LoadedBtf;
  /** the kernel's vmlinux BTF (parsed on first use) */
  vmlinux(): Btf;
  /** the loaded modules' BTF, split on vmlinux (read on first use; module-btf.ts) */
  modules?(): readonly CoreModule[];
  /** an fd of module `name`'s kernel BTF object (attach_btf_obj_fd), owned by the caller's runtime */
  moduleBtfFd?(name: string): number;
  logLevel?: 0 | 1 | 2;
}

export interface LoadedProg {
  fd: number;
  /** the verifier log when one was asked for */
  log?: string;
  insns: Insn[];
}

/** A rejected load: the kernel's errno and verifier log (kernel.ts turns it into a KernelVerifierError). */
export class ProgLoadError extends KernelError {
  constructor(
    syscall: KernelError,
    readonly program: string,
    readonly kernelLog: string,
  ) {
    // an EPERM without a verifier log for a caller that is not root is the kernel refusing the caller: say what
    // it needs (root gets EPERM before verification too, e.g. fentry where the kernel allows no trampolines)
    super(syscall.errno, `program ${program}: BPF_PROG_LOAD: ${syscall.errno}${kernelLog || process.getuid?.() === 0 ? '' : permissionHint(syscall.errnoNumber)}`, syscall.errnoNumber);
  }
}

/**
 * The BTF fds a program's kfunc calls name by index (BPF_PROG_LOAD's
 * fd_array): a kfunc call's `off` is 0 for vmlinux, else the index of its
 * module's BTF fd here. Index 0 is never a module's (libbpf's
 * bpf_object__resolve_ksym_func_btf_id keeps it for vmlinux), so the array
 * starts with a 0 and each module gets one slot.
 */
export class FdArray {
  readonly fds: number[] = [0];
  private readonly slots = new Map<number, number>();
  index(fd: number): number {
    let i = this.slots.get(fd);
    if (i === undefined) {
      if (this.fds.length > 0x7fff) throw new TsbpfError('E2BIG', 'more module BTFs than a kfunc call offset can name');
      this.slots.set(fd, (i = this.fds.length));
      this.fds.push(fd);
    }
    return i;
  }
  /** the array for BPF_PROG_LOAD, or undefined when no module is named */
  bytes(): Uint8Array | undefined {
    if (this.fds.length === 1) return undefined;
    const b = nativeBuf(4 * this.fds.length);
    const dv = new DataView(b.buffer);
    this.fds.forEach((fd, k) => dv.setInt32(k * 4, fd, true));
    return b;
  }
}

/**
 * A kfunc or typed ksym by name (libbpf find_ksym_btf_id): vmlinux first,
 * then the loaded modules' own types, with the module's BTF object fd.
 */
function ksymTarget(ctx: ProgLoadContext, ps: ProgramSpec, i: number, name: string, kind: 'func' | 'var', weak = false): { id: number; fd?: number } | undefined {
  const t = findKernelType(ctx.vmlinux(), () => ctx.modules?.() ?? [], name, kind);
  // libbpf bpf_object__resolve_ksyms_btf_id: a weak extern the kernel lacks stays unresolved (0)
  if (!t && weak) return undefined;
  if (!t) throw new TsbpfError('ENOENT', `${ps.name}: insn ${i}: ${kind === 'func' ? 'kfunc' : 'ksym'} ${name} is not in the kernel's BTF (vmlinux or a loaded module's)`);
  if (!t.module) return { id: t.id };
  if (!ctx.moduleBtfFd) throw new TsbpfError('EINVAL', `${ps.name}: ${name} is in module ${t.module}, and this loader cannot name its BTF object`);
  return { id: t.id, fd: ctx.moduleBtfFd(t.module) };
}

/**
 * The instructions as the kernel must see them (CO-RE applied, fds and BTF
 * ids in place); `fdArray` collects the module BTF fds kfunc calls name.
 */
export function kernelInsns(ps: ProgramSpec, ctx: ProgLoadContext, fdArray = new FdArray()): Insn[] {
  const insns = coreRelocated(ps, ctx.spec.btf, ps.coreRelos?.length ? ctx.vmlinux() : undefined, { modules: () => ctx.modules?.() ?? [] });
  for (const ref of ps.references) {
    const i = ref.index;
    const ins = insns[i];
    if (!ins) throw new TsbpfError('EINVAL', `${ps.name}: reference to insn ${i} past the end`);
    switch (ref.kind) {
      case 'map':
      case 'map_value': {
        const fd = ctx.mapFd(ref.map ?? '');
        if (fd === undefined) throw new TsbpfError('EINVAL', `${ps.name}: insn ${i}: reference to unknown map '${ref.map}'`);
        ins.src = ref.kind === 'map' ? op.BPF_PSEUDO_MAP_FD : op.BPF_PSEUDO_MAP_VALUE;
        ins.imm = fd;
        // the second slot keeps the value offset (map_value) or 0
        if (ref.kind === 'map') insns[i + 1]!.imm = 0;
        break;
      }
      case 'kfunc': {
        // libbpf bpf_object__resolve_ksym_func_btf_id: the FUNC's id, and in `off` the fd_array slot of its module's BTF (0: vmlinux)
        // (a weak kfunc the kernel lacks: id 0, which the verifier refuses only where the walk reaches it)
        const t = ksymTarget(ctx, ps, i, ref.symbol ?? '', 'func', ref.weak);
        ins.src = op.BPF_PSEUDO_KFUNC_CALL;
        ins.imm = t?.id ?? 0;
        ins.off = t?.fd === undefined ? 0 : fdArray.index(t.fd);
        break;
      }
      case 'btf_id': {
        // typed __ksym: ld_imm64 with BPF_PSEUDO_BTF_ID, the VAR's id (a kfunc's FUNC id when the extern is a
        // function), and in the second slot its module's BTF fd (0: vmlinux) (bpf_object__resolve_ksym_var_btf_id,
        // _func_btf_id); a weak one the kernel lacks loads 0, which is how bpf_ksym_exists() says it is absent
        const t = ksymTarget(ctx, ps, i, ref.symbol ?? '', ref.ksymFunc ? 'func' : 'var', ref.weak);
        ins.src = t ? op.BPF_PSEUDO_BTF_ID : 0;
        ins.imm = t?.id ?? 0;
        insns[i + 1]!.imm = t?.fd ?? 0;
        break;
      }
      default:
        break;
    }
  }
  return insns;
}

/**
 * The BTF id a tracing program attaches to (libbpf libbpf_find_attach_btf_id):
 * fentry/fexit/fmod_ret name a FUNC, lsm `bpf_lsm_<hook>`, tp_btf the
 * typedef `btf_trace_<tracepoint>`, iter `bpf_iter_<target>`; looked up in
 * vmlinux, then in the modules' own types (find_kernel_btf_id), the module
 * named when it is there.
 */
export function attachBtfId(ps: ProgramSpec, vmlinux: Btf, modules: () => readonly CoreModule[] = () => []): { id: number; module?: string } | undefined {
  if (ps.type !== 'tracing' && ps.type !== 'lsm') return undefined;
  const to = ps.attachTo;
  if (!to) return undefined;
  const [name, kind] =
    ps.type === 'lsm' ? [`bpf_lsm_${to}`, 'func' as const] : ps.attachType === 'trace_raw_tp' ? [`btf_trace_${to}`, 'typedef' as const] : ps.attachType === 'trace_iter' ? [`bpf_iter_${to}`, 'func' as const] : [to, 'func' as const];
  const t = findKernelType(vmlinux, modules, name, kind);
  if (!t) throw new TsbpfError('ESRCH', `${ps.name}: the attach target ${name} is not in the kernel's BTF (vmlinux or a loaded module's)`);
  return t;
}

function funcInfo(ps: ProgramSpec): Uint8Array | undefined {
  const fi = ps.funcInfo;
  if (!fi?.length) return undefined;
  const b = nativeBuf(8 * fi.length);
  const dv = new DataView(b.buffer);
  fi.forEach((f, k) => {
    dv.setUint32(k * 8, f.insnOff, true);
    dv.setUint32(k * 8 + 4, f.typeId, true);
  });
  return b;
}

function lineInfo(ps: ProgramSpec, btf: LoadedBtf): Uint8Array | undefined {
  const li = ps.lineInfo;
  if (!li?.length) return undefined;
  const b = nativeBuf(16 * li.length);
  const dv = new DataView(b.buffer);
  li.forEach((l, k) => {
    dv.setUint32(k * 16, l.insnOff, true);
    dv.setUint32(k * 16 + 4, btf.strings.get(l.fileName) ?? 0, true);
    dv.setUint32(k * 16 + 8, btf.strings.get(l.line) ?? 0, true);
    // BPF_LINE_INFO_LINE_NUM / _COL: line in the high 22 bits, column in the low 10
    dv.setUint32(k * 16 + 12, ((l.lineNum << 10) | (l.lineCol & 0x3ff)) >>> 0, true);
  });
  return b;
}

function progAttr(ps: ProgramSpec, ctx: ProgLoadContext, code: Uint8Array, fdArray: Uint8Array | undefined, log: Uint8Array | undefined, level: number): Attr {
  const a = new Attr(ctx.sys);
  if (fdArray) a.ptr(PROG_LOAD.fd_array, fdArray);
  a.u32(PROG_LOAD.prog_type, ProgType[ps.type]);
  a.u32(PROG_LOAD.insn_cnt, code.length / 8);
  a.ptr(PROG_LOAD.insns, code);
  a.ptr(PROG_LOAD.license, cstr(ps.license));
  if (ps.kernelVersion) a.u32(PROG_LOAD.kern_version, ps.kernelVersion);
  a.u32(PROG_LOAD.prog_flags, (ps.sleepable ? BPF_F_SLEEPABLE : 0) | (ps.xdpFrags ? BPF_F_XDP_HAS_FRAGS : 0));
  a.name(PROG_LOAD.prog_name, ps.name);
  if (ps.attachType) {
    const t = ATTACH_TYPE[ps.attachType];
    if (t === undefined) throw new TsbpfError('EINVAL', `${ps.name}: attach type ${ps.attachType} is unknown to the kernel backend`);
    a.u32(PROG_LOAD.expected_attach_type, t);
  }
  const target = attachBtfId(ps, ctx.vmlinux(), () => ctx.modules?.() ?? []);
  if (target !== undefined) {
    a.u32(PROG_LOAD.attach_btf_id, target.id);
    if (target.module) {
      if (!ctx.moduleBtfFd) throw new TsbpfError('EINVAL', `${ps.name}: the attach target is in module ${target.module}, and this loader cannot name its BTF object`);
      // attach_btf_obj_fd shares its place with attach_prog_fd (a union in bpf_attr)
      a.u32(PROG_LOAD.attach_prog_fd, ctx.moduleBtfFd(target.module));
    }
  }
  if (ctx.btf) {
    a.u32(PROG_LOAD.prog_btf_fd, ctx.btf.fd);
    const fi = funcInfo(ps);
    if (fi) {
      a.u32(PROG_LOAD.func_info_rec_size, 8).u32(PROG_LOAD.func_info_cnt, fi.length / 8);
      a.ptr(PROG_LOAD.func_info, fi);
    }
    const li = lineInfo(ps, ctx.btf);
    if (li) {
      a.u32(PROG_LOAD.line_info_rec_size, 16).u32(PROG_LOAD.line_info_cnt, li.length / 16);
      a.ptr(PROG_LOAD.line_info, li);
    }
  }
  if (log) {
    a.ptr(PROG_LOAD.log_buf, log);
    a.u32(PROG_LOAD.log_size, log.length).u32(PROG_LOAD.log_level, level);
  }
  return a;
}

const text = (b: Uint8Array): string => {
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 ? b.length : end));
};

export function loadProgram(ps: ProgramSpec, ctx: ProgLoadContext): LoadedProg {
  if (ps.typeError || ps.type === 'unspec') throw new TsbpfError('EINVAL', `program ${ps.name}: ${ps.typeError ?? 'unknown program type'}`);
  const fds = new FdArray();
  const insns = kernelInsns(ps, ctx, fds);
  const code = encode(insns, 'le');
  const fdArray = fds.bytes();
  const level = ctx.logLevel ?? 0;
  // with a log level asked for, load with the log from the start
  let size = level > 0 ? 1 << 20 : 0;
  for (;;) {
    const log = size ? nativeBuf(size) : undefined;
    const a = progAttr(ps, ctx, code, fdArray, log, level || 1);
    try {
      const fd = ctx.sys.bpf(BPF_CMD.PROG_LOAD, a.bytes, `program ${ps.name}`);
      return log ? { fd, insns, log: text(log) } : { fd, insns };
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      if (e.errno === 'ENOSPC' && size && size < MAX_LOG) {
        size *= 4;
        continue;
      }
      if (!size && (e.errno === 'EACCES' || e.errno === 'EINVAL' || e.errno === 'E2BIG' || e.errno === 'EPERM' || e.errno === 'ENOTSUPP')) {
        // libbpf: reload with the log at level 1 to say why
        size = 1 << 20;
        continue;
      }
      throw new ProgLoadError(e, ps.name, log ? text(log).trim() : '');
    }
  }
}
