/**
 * One program into the kernel, as libbpf's bpf_object_load_prog does:
 * CO-RE relocations applied against the kernel's BTF with tsbpf's own
 * relocator (object/btf/core.ts, the same code `tsbpf prog load
 * --kernel-btf` runs), map fds patched into the lddw instructions
 * (BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE, resolve_pseudo_ldimm64's
 * input), kfuncs and typed ksyms resolved to vmlinux BTF ids, the target of
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
import { coreRelocated } from '../object/relocate.js';
import { ATTACH_TYPE, Attr, PROG_LOAD, cstr, nativeBuf } from './attr.js';
import type { LoadedBtf } from './btf-load.js';
import { BPF_CMD, KernelError, type Sys } from './ffi.js';

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
    super(syscall.errno, `program ${program}: BPF_PROG_LOAD: ${syscall.errno}`, syscall.errnoNumber);
  }
}

/** The instructions as the kernel must see them (CO-RE applied, fds and BTF ids in place). */
export function kernelInsns(ps: ProgramSpec, ctx: ProgLoadContext): Insn[] {
  const insns = coreRelocated(ps, ctx.spec.btf, ps.coreRelos?.length ? ctx.vmlinux() : undefined);
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
        // libbpf bpf_object__resolve_ksym_func_btf_id: the FUNC of that name in vmlinux (module BTF: not searched)
        const t = ctx.vmlinux().typeByName(ref.symbol ?? '', 'func');
        if (!t) throw new TsbpfError('ENOENT', `${ps.name}: insn ${i}: kfunc ${ref.symbol} is not in the kernel's BTF`);
        ins.src = op.BPF_PSEUDO_KFUNC_CALL;
        ins.imm = t.id;
        ins.off = 0;
        break;
      }
      case 'btf_id': {
        // typed __ksym: ld_imm64 with BPF_PSEUDO_BTF_ID and the VAR's id (bpf_object__resolve_ksym_var_btf_id)
        const t = ctx.vmlinux().typeByName(ref.symbol ?? '', 'var');
        if (!t) throw new TsbpfError('ENOENT', `${ps.name}: insn ${i}: ksym ${ref.symbol} is not in the kernel's BTF`);
        ins.src = op.BPF_PSEUDO_BTF_ID;
        ins.imm = t.id;
        insns[i + 1]!.imm = 0;
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
 * typedef `btf_trace_<tracepoint>`, iter `bpf_iter_<target>`.
 */
export function attachBtfId(ps: ProgramSpec, vmlinux: Btf): number | undefined {
  if (ps.type !== 'tracing' && ps.type !== 'lsm') return undefined;
  const to = ps.attachTo;
  if (!to) return undefined;
  const [name, kind] =
    ps.type === 'lsm' ? [`bpf_lsm_${to}`, 'func' as const] : ps.attachType === 'trace_raw_tp' ? [`btf_trace_${to}`, 'typedef' as const] : ps.attachType === 'trace_iter' ? [`bpf_iter_${to}`, 'func' as const] : [to, 'func' as const];
  const t = vmlinux.typeByName(name, kind);
  if (!t) throw new TsbpfError('ESRCH', `${ps.name}: the attach target ${name} is not in the kernel's BTF`);
  return t.id;
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

function progAttr(ps: ProgramSpec, ctx: ProgLoadContext, code: Uint8Array, log: Uint8Array | undefined, level: number): Attr {
  const a = new Attr(ctx.sys);
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
  const btfId = attachBtfId(ps, ctx.vmlinux());
  if (btfId !== undefined) a.u32(PROG_LOAD.attach_btf_id, btfId);
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
  const insns = kernelInsns(ps, ctx);
  const code = encode(insns, 'le');
  const level = ctx.logLevel ?? 0;
  // with a log level asked for, load with the log from the start
  let size = level > 0 ? 1 << 20 : 0;
  for (;;) {
    const log = size ? nativeBuf(size) : undefined;
    const a = progAttr(ps, ctx, code, log, level || 1);
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
