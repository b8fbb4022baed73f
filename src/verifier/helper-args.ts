/**
 * Helper arguments as a table keyed by argument type (check_func_arg, with
 * check_reg_type, check_helper_mem_access and check_mem_size_reg): each
 * type's check reads the argument's register and records what later checks
 * need in the call's meta (the map of a CONST_MAP_PTR, the memory a size
 * argument bounds, the callback, the reference released). Prototypes come
 * from the verifier's helper lookup (Verifier.helper).
 */
import type { HelperProto, ArgType } from '../uapi/helper-proto.js';
import { Reg, regTypeStr, isMemAlloc } from './types.js';
import { tnumStr } from './tnum.js';
import { Reject } from './reject.js';
import { ptrOffFault } from './ptr-off.js';
import { BPF_MAX_VAR_OFF, type Verifier, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG } from './env.js';
import { HELPERS } from '../uapi/helpers.js';
import { strictAlignError } from './align.js';
import { sockArg, sockCommonArg, fullSockArg, releasedSocket, socketReference } from './sock.js';
import { checkRegion } from './map-value.js';
import { checkPacket } from './packet.js';
import { stackHelperAccess } from './stack.js';
import { pointsToStruct } from './kernel-btf.js';
import { percpuBtfIdArg } from './ksym.js';
import { spinLockArg } from './spin-lock.js';
import { btfIdAccess } from './btf-access.js';
import { timerArg, checkTimerMap } from './timer.js';
import { dynptrHelperArg, type DynptrInfo } from './dynptr.js';
import { kptrXchgDestArg, kptrXchgSrcArg } from './kptr.js';
import type { KptrField } from '../object/btf/map-fields.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { checkBufferAccess } from './buf.js';

/** What the checks of one call's arguments learn for the checks after them (the kernel's struct bpf_call_arg_meta). */
export interface CallArgMeta {
  id: number;
  /** bpf_NAME, as messages name the helper */
  name: string;
  proto: HelperProto;
  insn: number;
  /** the map of the CONST_MAP_PTR argument, -1 before it */
  mapIdx: number;
  /** the register of the last memory argument, whose size the next argument gives */
  memReg: number;
  /** the callback of a PTR_TO_FUNC argument */
  funcTarget: number;
  /** bpf_ringbuf_reserve's constant size */
  allocSize: number;
  /** the reference a release argument gives back */
  releaseRef: number;
  /** the largest value of the last size argument */
  sizeMax: bigint;
  /** the reference a kernel-object argument holds: a cast (skc_to_*) returns it (meta.ref_obj_id) */
  castRef?: number;
  /** the type of a per-CPU variable argument, which bpf_per_cpu_ptr / bpf_this_cpu_ptr return (meta.ret_btf_id; ksym.ts) */
  retBtfId?: number;
  /** the initialised dynptr argument (dynptr_data's slice, dynptr_write to an skb), or the register of the one released */
  dynptr?: DynptrInfo;
  dynptrRelease?: number;
  /** the map of a PTR_TO_TIMER argument (timer.ts), which a later CONST_MAP_PTR must be */
  timerMap?: number;
  /** bpf_kptr_xchg's kptr field (meta.kptr_field): its struct types the second argument and r0 (kptr.ts) */
  kptr?: KptrField;
}

/** The argument being checked: register rN, its state, and its type in the prototype. */
export interface HelperArg {
  r: number;
  reg: Reg;
  t: ArgType;
}

type ArgCheck = (env: Verifier, meta: CallArgMeta, a: HelperArg) => void;

/** check_func_arg: argument r of the call, against its type in the prototype. */
export function checkFuncArg(env: Verifier, meta: CallArgMeta, r: number, t: ArgType): void {
  const reg = env.readReg(r);
  // check_func_arg: a packet pointer may go only to helpers whose proto sets pkt_access (may_access_direct_pkt_data with a meta)
  if (t !== 'ANYTHING' && reg.isPkt && !HELPERS.get(meta.id)?.pktAccess)
    throw new Reject({
      errno: 'EACCES',
      message: 'helper access to the packet is not allowed',
      insn: meta.insn,
      regs: [r],
      hint: 'copy the bytes with bpf_skb_load_bytes / bpf_xdp_load_bytes, or pass a stack buffer',
      rule: `${meta.name} cannot take a pointer into the packet`,
    });
  const check = ARG_CHECKS[t];
  if (!check) throw new Reject({ errno: 'EINVAL', message: `helper argument type ${t} is not supported`, insn: meta.insn, regs: [r] });
  check(env, meta, { r, reg, t });
}

/** The register's type is not one the argument type accepts (the kernel's check_reg_type). */
function badArg(env: Verifier, meta: CallArgMeta, a: HelperArg, expected: string): never {
  throw new Reject({
    errno: 'EACCES',
    message: `R${a.r} type=${regTypeStr(a.reg)} expected=${expected}`,
    insn: meta.insn,
    regs: [a.r],
    hint: `argument ${a.r} of ${meta.name} must be ${expected.replace(/, /g, ' or ')}`,
    rule: `argument ${a.r} of ${meta.name} has the wrong type`,
  });
}

/** ANYTHING */
function anythingArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg } = a;
  const i = meta.insn;
  if (reg.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${r} leaks addr into helper function`,
    insn: i,
    regs: [r],
  });
}

/** CONST_MAP_PTR */
function mapPtrArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { reg } = a;
  // A map-in-map lookup's result is a map pointer only once null-checked (mark_ptr_or_null_reg).
  if (reg.type !== 'map_ptr' || reg.maybeNull) badArg(env, meta, a, 'map_ptr');
  checkTimerMap(env, meta, a.r, reg.map);
  meta.mapIdx = reg.map;
}

/** PTR_TO_MAP_KEY / PTR_TO_MAP_VALUE / PTR_TO_UNINIT_MAP_VALUE */
function mapKeyValueArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg, t } = a;
  const i = meta.insn;
  const m = env.maps[meta.mapIdx];
  if (!m) throw new Reject({
    errno: 'EACCES',
    message: `invalid map_ptr to access map->${t === 'PTR_TO_MAP_KEY' ? 'key' : 'value'}`,
    insn: i,
    regs: [r],
  });
  // resolve_map_arg_type: a sockmap's or sockhash's value is a socket
  if (t !== 'PTR_TO_MAP_KEY' && (m.type === 'sockmap' || m.type === 'sockhash')) {
    if (t !== 'PTR_TO_MAP_VALUE') throw new Reject({ errno: 'EINVAL', message: 'invalid arg_type for sockmap/sockhash', insn: i, regs: [r] });
    return sockCommonBtfArg(env, meta, { ...a, t: 'PTR_TO_BTF_ID_SOCK_COMMON' });
  }
  if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) badArg(env, meta, a, 'fp, pkt, pkt_meta, map_key, map_value');
  const size = t === 'PTR_TO_MAP_KEY' ? m.keySize : m.valueSize;
  if (size === 0) throw new Reject({
    errno: 'EACCES',
    message: 'invalid zero-sized read',
    insn: i,
    regs: [r],
    rule: `the ${m.type} map has no ${t === 'PTR_TO_MAP_KEY' ? 'keys' : 'values'} to pass`,
  });
  helperMemAccess(env, r, reg, size, t === 'PTR_TO_UNINIT_MAP_VALUE');
}

/** PTR_TO_MAP_VALUE_OR_NULL (the storage helpers' initial value): NULL, or value_size initialised bytes. */
function mapValueOrNullArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  if (a.reg.isNull) return;
  mapKeyValueArg(env, meta, { ...a, t: 'PTR_TO_MAP_VALUE' });
}

/** PTR_TO_MEM / PTR_TO_MEM_OR_NULL / PTR_TO_UNINIT_MEM */
function memArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg, t } = a;
  if (t === 'PTR_TO_MEM_OR_NULL' && reg.isNull) { meta.memReg = r; return; }
  if (reg.type === 'btf_id' && reg.btfFlags === 'trusted' && !reg.maybeNull) {
    // check_reg_type: mem_types take a trusted kernel-object pointer, but only where the helper reads (MEM_RDONLY)
    if (t === 'PTR_TO_UNINIT_MEM' || meta.proto.writesMem?.includes(r - 1))
      throw new Reject({
        errno: 'EACCES',
        message: `${meta.name}() may write into memory pointed by R${r} type=${regTypeStr(reg)}`,
        insn: meta.insn,
        regs: [r],
        hint: 'kernel objects are read-only to programs: pass a buffer on the stack or in a map',
        rule: `argument ${r} of ${meta.name} is memory the helper writes`,
      });
    meta.memReg = r;
    return;
  }
  // check_reg_type's mem_types: PTR_TO_BUF too (an iterator's key or value buffer, buf.ts)
  if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem', 'buf'].includes(reg.type) || reg.maybeNull) badArg(env, meta, a, 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_');
  meta.memReg = r;
}

/** CONST_SIZE / CONST_SIZE_OR_ZERO */
function sizeArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg, t } = a;
  const i = meta.insn;
  if (reg.type !== 'scalar') badArg(env, meta, a, 'scalar');
  const s = reg.s;
  if (s.smin < 0n) throw new Reject({
    errno: 'EACCES',
    message: `R${r} min value is negative, either use unsigned or 'var &= const'`,
    insn: i,
    regs: [r],
    hint: `make the size unsigned or bound it, e.g. \`len &= 0xff\``,
    rule: 'the size argument may be negative',
  });
  if (s.umin === 0n && t === 'CONST_SIZE') throw new Reject({
    errno: 'EACCES',
    message: `R${r} invalid zero-sized read: u64=[${s.umin},${s.umax}]`,
    insn: i,
    regs: [r],
    hint: 'check that the size is at least 1 before the call',
    rule: 'the size argument may be zero',
  });
  if (s.umax >= BigInt(BPF_MAX_VAR_OFF)) throw new Reject({
    errno: 'EACCES',
    message: `R${r} unbounded memory access, use 'var &= const' or 'if (var < const)'`,
    insn: i,
    regs: [r],
    hint: `bound the size, e.g. \`if (len > sizeof(buf)) return 0;\``,
    rule: 'the size argument has no upper bound',
  });
  const prev = meta.proto.args[r - 2];
  meta.sizeMax = s.umax;
  if (meta.memReg === r - 1) {
    const pr = env.regs()[r - 1]!;
    if (!(pr.isNull && prev === 'PTR_TO_MEM_OR_NULL')) {
      // check_mem_size_reg checks the region even for a size of 0 (a stack pointer must still be inside the stack).
      helperMemAccess(env, r - 1, pr, Number(s.umax), prev === 'PTR_TO_UNINIT_MEM');
    } else if (s.umax > 0n) {
      throw new Reject({
        errno: 'EACCES',
        message: `R${r - 1} type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem`,
        insn: i,
        regs: [r - 1, r],
      });
    }
  }
}

/** CONST_ALLOC_SIZE_OR_ZERO */
function allocSizeArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg } = a;
  const i = meta.insn;
  if (reg.type !== 'scalar' || !reg.s.isConst()) throw new Reject({
    errno: 'EACCES',
    message: `R${r} is not a known constant'`,
    insn: i,
    regs: [r],
    hint: 'pass a compile-time constant size to bpf_ringbuf_reserve',
    rule: 'the reservation size must be a constant',
  });
  meta.allocSize = Number(reg.s.varOff.value);
}

/** PTR_TO_CTX / PTR_TO_CTX_OR_NULL */
function ctxArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg, t } = a;
  const i = meta.insn;
  if (t === 'PTR_TO_CTX_OR_NULL' && reg.isNull) return;
  if (reg.type !== 'ctx') badArg(env, meta, a, 'ctx');
  if (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n)
    throw new Reject({
      errno: 'EACCES',
      message: `dereference of modified ctx ptr R${r} off=${reg.off} disallowed`,
      insn: i,
      regs: [r],
      hint: 'pass the original context pointer (r1 at entry) to the helper',
    });
}

/** PTR_TO_FUNC */
function funcArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg } = a;
  const i = meta.insn;
  if (reg.type !== 'func') badArg(env, meta, a, 'func');
  // check_func_arg_reg_off -> __check_ptr_off_reg: the function pointer exactly as ld_imm64 made it
  if (reg.off !== 0) throw new Reject({
    errno: 'EACCES',
    message: `${reg.off < 0 ? 'negative offset' : 'dereference of modified'} func ptr R${r} off=${reg.off} disallowed`,
    insn: i,
    regs: [r],
  });
  if (!reg.s.isConst() || reg.s.varOff.value !== 0n) throw new Reject({
    errno: 'EACCES',
    message: `variable func access var_off=${tnumStr(reg.s.varOff)} disallowed`,
    insn: i,
    regs: [r],
  });
  meta.funcTarget = reg.subprog;
}

/** PTR_TO_STACK / PTR_TO_STACK_OR_NULL */
function stackArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { reg, t } = a;
  if (t === 'PTR_TO_STACK_OR_NULL' && reg.isNull) return;
  if (reg.type !== 'fp') badArg(env, meta, a, 'fp');
}

/** PTR_TO_RINGBUF_MEM */
function ringbufMemArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg } = a;
  const i = meta.insn;
  if (reg.type !== 'mem' || !reg.ringbuf || reg.maybeNull) badArg(env, meta, a, 'ringbuf_mem');
  if (!reg.refObjId || !env.cur.refs.some((x) => x.id === reg.refObjId)) throw new Reject({
    errno: 'EINVAL',
    message: `arg ${r} is an unacquired reference`,
    insn: i,
    regs: [r],
  });
  if (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n)
    throw new Reject({
      errno: 'EINVAL',
      message: `R${r} must have zero offset when passed to release func`,
      insn: i,
      regs: [r],
      hint: 'pass the pointer exactly as bpf_ringbuf_reserve returned it',
    });
  meta.releaseRef = reg.refObjId;
}

/** PTR_TO_CONST_STR */
function constStrArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg } = a;
  const i = meta.insn;
  const m = env.maps[reg.map];
  if (reg.type !== 'map_value' || !m) badArg(env, meta, a, 'map_value');
  if (!m!.frozen || !(m!.flags & BPF_F_RDONLY_PROG) || !m!.contents) throw new Reject({
    errno: 'EACCES',
    message: `R${r} does not point to a readonly map'`,
    insn: i,
    regs: [r],
    hint: 'use a string constant (it lives in .rodata)',
  });
  if (!reg.s.isConst()) throw new Reject({ errno: 'EACCES', message: `R${r} is not a constant address'`, insn: i, regs: [r] });
  const start = reg.off + Number(reg.s.varOff.value);
  const c = m!.contents!;
  let ok = false;
  for (let p = start; p < c.length; p++) if (c[p] === 0) { ok = true; break; }
  if (!ok || start < 0) throw new Reject({ errno: 'EINVAL', message: 'string is not zero-terminated', insn: i, regs: [r] });
}

/** PTR_TO_LONG / PTR_TO_U32 */
function fixedSizeArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const { r, reg, t } = a;
  const i = meta.insn;
  // ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT (or MEM_WRITE) | MEM_ALIGNED (strtol/strtoul: 8 bytes; check_mtu: 4): writable, strictly aligned
  const n = t === 'PTR_TO_LONG' ? 8 : 4;
  if (!['fp', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) badArg(env, meta, a, 'fp, map_key, map_value, mem');
  // check_func_arg: the access first, then the alignment (MEM_ALIGNED)
  helperMemAccess(env, r, reg, n, true);
  const mis = strictAlignError(reg, 0, n);
  if (mis) throw new Reject({
    errno: 'EACCES',
    message: mis,
    insn: i,
    regs: [r],
    hint: `pass a ${n}-byte aligned buffer`,
    rule: `argument ${r} of ${meta.name} must be ${n}-byte aligned`,
  });
}

/**
 * PTR_TO_BTF_ID_SOCK_COMMON(_OR_NULL): btf_id_sock_common_types. A kernel
 * object pointer plain or trusted (not RCU, not untrusted: check_reg_type
 * compares the type with its flags), not maybe-NULL unless the argument
 * allows NULL, whose struct is or begins with struct sock_common
 * (btf_struct_ids_match), at a constant offset (check_func_arg_reg_off).
 * A socket from skb->sk (PTR_TO_SOCK_COMMON) is refused as unsupported.
 */
function sockCommonBtfArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const orNull = a.t === 'PTR_TO_BTF_ID_SOCK_COMMON_OR_NULL';
  if (orNull && a.reg.isNull) return; // check_func_arg: register_is_null with a maybe-NULL type skips the type check
  if (sockArg(env, meta, a, false)) return; // a socket pointer (sock.ts)
  const accepted = a.reg.type === 'btf_id' && (a.reg.btfFlags === '' || a.reg.btfFlags === 'trusted') && (orNull || !a.reg.maybeNull);
  if (!accepted) badArg(env, meta, a, 'sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_');
  btfStructArg(env, meta, a, 'sock_common');
  // bpf_sk_release of a kernel socket pointer: a cast of a lookup's socket (bpf_skc_to_tcp_sock) holds its reference
  if (releasedSocket(meta, a)) socketReference(meta, a);
}

/**
 * PTR_TO_BTF_ID: btf_ptr_types, a kernel object pointer plain, trusted or
 * RCU-protected (not untrusted, not maybe-NULL) of the proto's struct
 * (argN_btf_id): get_task_stack's task, the seq_file helpers' seq.
 */
function btfIdArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  if (meta.id === BPF_FUNC.kptr_xchg) return kptrXchgSrcArg(env, meta, a, (expected) => badArg(env, meta, a, expected));
  const want = meta.proto.argStruct;
  if (!want) throw new Reject({ errno: 'EINVAL', message: `helper argument type ${a.t} of ${meta.name} names no struct`, insn: meta.insn, regs: [a.r] });
  // PTR_TO_BTF_ID_OR_NULL (the storage helpers' owner): NULL itself skips the type check, a maybe-NULL pointer is fine
  const orNull = a.t === 'PTR_TO_BTF_ID_OR_NULL';
  if (orNull && a.reg.isNull) return;
  if (!isBtfIdArgType(a.reg, orNull)) badArg(env, meta, a, BTF_ID_ARG_TYPES);
  btfStructArg(env, meta, a, want);
}

/** PTR_TO_FIXED_SIZE_MEM: readable memory of the proto's arg_size (the tcp_raw_*_syncookie headers). */
function fixedSizeMemArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const size = meta.proto.argSize?.[a.r - 1];
  if (size === undefined) throw new Reject({ errno: 'EINVAL', message: `helper argument type ${a.t} of ${meta.name} has no size`, insn: meta.insn, regs: [a.r] });
  memArg(env, meta, a);
  helperMemAccess(env, a.r, a.reg, size, false);
}

/** btf_ptr_types as check_reg_type prints them: what a PTR_TO_BTF_ID argument may be. */
export const BTF_ID_ARG_TYPES = 'ptr_, trusted_ptr_, rcu_ptr_';

/** check_reg_type against btf_ptr_types: a kernel object pointer, not untrusted, per-CPU or allocated, NULL only where allowed. */
export function isBtfIdArgType(reg: Reg, nullable: boolean): boolean {
  return reg.type === 'btf_id' && reg.btfFlags !== 'untrusted' && reg.btfFlags !== 'percpu' && !isMemAlloc(reg.btfFlags) && (nullable || !reg.maybeNull);
}

/**
 * btf_struct_ids_match then check_func_arg_reg_off (fixed_off_ok) for a pointer argument to struct `want`:
 * the kernel's message of the first check that fails, or undefined. Helpers and global functions share
 * the checks and report them each in their own words.
 */
export function btfStructArgFault(env: Verifier, r: number, reg: Reg, want: string): { message: string; structMismatch: boolean } | undefined {
  if (!pointsToStruct(env, reg, want)) return { message: `R${r} is of type ${reg.btfName} but ${want} is expected`, structMismatch: true };
  const off = ptrOffFault(reg, r, true);
  return off === undefined ? undefined : { message: off, structMismatch: false };
}

/** check_reg_type's btf_struct_ids_match and check_func_arg_reg_off for a PTR_TO_BTF_ID argument of struct `want`. */
function btfStructArg(env: Verifier, meta: CallArgMeta, a: HelperArg, want: string): void {
  const { r, reg } = a;
  const fault = btfStructArgFault(env, r, reg, want);
  if (fault) throw new Reject({
    errno: 'EACCES',
    message: fault.message,
    insn: meta.insn,
    regs: [r],
    ...(fault.structMismatch ? {
      hint: `pass a pointer to a struct ${want} (or a struct that begins with one)`,
      rule: `argument ${r} of ${meta.name} must point to a struct ${want}`,
    } : {}),
  });
  meta.castRef = reg.refObjId;
}

/** The checks by argument type (check_func_arg's switch on arg_type); a type missing here is refused as unsupported. */
const ARG_CHECKS: Partial<Record<ArgType, ArgCheck>> = {
  ANYTHING: anythingArg,
  CONST_MAP_PTR: mapPtrArg,
  PTR_TO_MAP_KEY: mapKeyValueArg,
  PTR_TO_MAP_VALUE: mapKeyValueArg,
  PTR_TO_UNINIT_MAP_VALUE: mapKeyValueArg,
  PTR_TO_MEM: memArg,
  PTR_TO_MEM_OR_NULL: memArg,
  PTR_TO_UNINIT_MEM: memArg,
  CONST_SIZE: sizeArg,
  CONST_SIZE_OR_ZERO: sizeArg,
  CONST_ALLOC_SIZE_OR_ZERO: allocSizeArg,
  PTR_TO_CTX: ctxArg,
  PTR_TO_CTX_OR_NULL: ctxArg,
  PTR_TO_FUNC: funcArg,
  PTR_TO_STACK: stackArg,
  PTR_TO_STACK_OR_NULL: stackArg,
  PTR_TO_RINGBUF_MEM: ringbufMemArg,
  PTR_TO_CONST_STR: constStrArg,
  PTR_TO_LONG: fixedSizeArg,
  PTR_TO_U32: fixedSizeArg,
  PTR_TO_BTF_ID_SOCK_COMMON: sockCommonBtfArg,
  PTR_TO_BTF_ID_SOCK_COMMON_OR_NULL: sockCommonBtfArg,
  PTR_TO_SOCK_COMMON: (env, meta, a) => sockCommonArg(env, meta, a, (e) => badArg(env, meta, a, e)),
  PTR_TO_SOCKET: (env, meta, a) => fullSockArg(env, meta, a, (e) => badArg(env, meta, a, e)),
  PTR_TO_SOCKET_OR_NULL: (env, meta, a) => fullSockArg(env, meta, a, (e) => badArg(env, meta, a, e)),
  PTR_TO_FIXED_SIZE_MEM: fixedSizeMemArg,
  PTR_TO_BTF_ID: btfIdArg,
  PTR_TO_BTF_ID_OR_NULL: btfIdArg,
  PTR_TO_MAP_VALUE_OR_NULL: mapValueOrNullArg,
  PTR_TO_PERCPU_BTF_ID: (env, meta, a) => percpuBtfIdArg(env, meta, a, (expected) => badArg(env, meta, a, expected)),
  PTR_TO_KPTR: (env, meta, a) => kptrXchgDestArg(env, meta, a, (expected) => badArg(env, meta, a, expected)),
  PTR_TO_SPIN_LOCK: (env, meta, a) => spinLockArg(env, meta, a, (expected) => badArg(env, meta, a, expected)),
  PTR_TO_TIMER: (env, meta, a) => timerArg(env, meta, a, (expected) => badArg(env, meta, a, expected)),
  PTR_TO_DYNPTR: dynptrHelperArg,
  PTR_TO_UNINIT_DYNPTR_LOCAL: dynptrHelperArg,
  PTR_TO_UNINIT_DYNPTR_RINGBUF: dynptrHelperArg,
  PTR_TO_DYNPTR_RINGBUF: dynptrHelperArg,
};

/** check_helper_mem_access: `size` bytes at the pointer, read (initialised) or written. */
export function helperMemAccess(env: Verifier, r: number, reg: Reg, size: number, write: boolean): void {
  const i = env.idx;
  switch (reg.type) {
    case 'pkt':
    case 'pkt_meta':
      if (write && !env.rules.pktWrite) throw new Reject({
        errno: 'EACCES',
        message: 'helper access to the packet is not allowed',
        insn: i,
        regs: [r],
      });
      checkPacket(env, r, reg, 0, size);
      return;
    case 'map_value':
    case 'map_key': {
      const m = env.maps[reg.map];
      const limit = reg.type === 'map_key' ? (m?.keySize ?? 0) : (m?.valueSize ?? 0);
      // check_helper_mem_access: a callback's key is read-only; check_map_access_type: the map's BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG
      if (write && reg.type === 'map_key') throw new Reject({
        errno: 'EACCES',
        message: `R${r} cannot write into ${regTypeStr(reg)}`,
        insn: i,
        regs: [r],
        rule: 'the key passed to a for_each_map_elem callback is read-only',
      });
      if (write && m && reg.type === 'map_value' && (m.flags & BPF_F_RDONLY_PROG))
        throw new Reject({
          errno: 'EACCES',
          message: `write into map forbidden, value_size=${m.valueSize} off=${reg.off} size=${size}`,
          insn: i,
          regs: [r],
          rule: 'the map is read-only for programs (BPF_F_RDONLY_PROG, e.g. .rodata)',
        });
      if (!write && m && reg.type === 'map_value' && (m.flags & BPF_F_WRONLY_PROG))
        throw new Reject({
          errno: 'EACCES',
          message: `read from map forbidden, value_size=${m.valueSize} off=${reg.off} size=${size}`,
          insn: i,
          regs: [r],
          rule: 'the map is write-only for programs (BPF_F_WRONLY_PROG)',
        });
      checkRegion(env, r, reg, 0, size, limit, 'map');
      return;
    }
    case 'mem':
      if (write && reg.rdonly) throw new Reject({ errno: 'EACCES', message: `R${r} cannot write into ${regTypeStr(reg)}`, insn: i, regs: [r] });
      checkRegion(env, r, reg, 0, size, reg.memSize, 'mem');
      return;
    case 'buf':
      checkBufferAccess(env, r, reg, 0, size, write);
      return;
    case 'fp':
      stackHelperAccess(env, r, reg, size, write);
      return;
    case 'btf_id':
      // check_helper_mem_access: a read of the object's fields (memArg let only a trusted pointer of a read-only argument here)
      if (!write) {
        btfIdAccess(env, r, reg, 0, size, false, false, false);
        return;
      }
  }
  throw new Reject({
    errno: 'EACCES',
    message: `R${r} type=${regTypeStr(reg)} expected=fp, pkt, pkt_meta, map_key, map_value, mem`,
    insn: i,
    regs: [r],
  });
}
