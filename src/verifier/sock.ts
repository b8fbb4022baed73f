/**
 * Socket pointers, as the kernel's verifier types them: PTR_TO_SOCK_COMMON
 * (skb->sk, skc_lookup_tcp), PTR_TO_SOCKET (sk_lookup_tcp/udp, sk_fullsock,
 * the sockets of socket hook contexts, a sockmap lookup), PTR_TO_TCP_SOCK
 * (bpf_tcp_sock) and PTR_TO_XDP_SOCK (an xskmap lookup), each maybe-NULL
 * until compared with 0 (kernel/bpf/verifier.c, net/core/filter.c 6.12).
 *
 * - Reads: check_mem_access's type_is_sk_pointer branch. No writes ("R1
 *   cannot write into sock"); the offset and size must be a field of the
 *   uapi mirror (struct bpf_sock, bpf_tcp_sock, bpf_xdp_sock) as
 *   bpf_sock_is_valid_access / bpf_sock_common_is_valid_access /
 *   bpf_tcp_sock_is_valid_access / bpf_xdp_sock_is_valid_access allow
 *   ("R1 invalid sock access off=.. size=.."). Linux rewrites these loads
 *   (convert_ctx_access) into reads of the kernel struct; tsbpf marks them
 *   InsnAux.probeMem, so an engine reads 0 where no kernel memory is.
 * - No pointer arithmetic (adjust_ptr_min_max_vals' default case).
 * - Helper arguments: ARG_PTR_TO_SOCK_COMMON (sock_types), ARG_PTR_TO_SOCKET
 *   (fullsock_types), and the socket types ARG_PTR_TO_BTF_ID_SOCK_COMMON
 *   accepts beside kernel-object pointers; a release argument (sk_release)
 *   must hold a reference at offset 0.
 * - Helper returns: RET_PTR_TO_SOCKET / SOCK_COMMON / TCP_SOCK _OR_NULL. The
 *   lookups acquire a reference (is_acquire_function: the id the NULL check
 *   uses is the reference's); the casts sk_fullsock and tcp_sock
 *   (is_ptr_cast_function) hand on their argument's reference, released
 *   together with it.
 *
 * Reference state itself (acquire, release, "Unreleased reference" at exit)
 * is the verifier's one list, VerifierState.refs, which ring buffer
 * reservations, iterators and kfunc references share.
 */
import { Reg, regTypeStr, type RegType, type SockRegType } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import type { CallArgMeta, HelperArg } from './helper-args.js';
import { BPF_SOCK, BPF_TCP_SOCK } from '../uapi/ctx.js';
import { bpfSockValid } from './progtypes/sock.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { loadedScalar } from './ldst.js';
import { checkPtrUnmoved } from './ptr-off.js';

const SOCK_TYPES: ReadonlySet<RegType> = new Set<SockRegType>(['sock', 'sock_common', 'tcp_sock', 'xdp_sock']);

/** type_is_sk_pointer (any flags). */
export const isSock = (r: Reg): boolean => SOCK_TYPES.has(r.type);

/** The register types ARG_PTR_TO_SOCK_COMMON accepts, as check_reg_type lists them. */
const SOCK_TYPES_STR = 'sock_common, sock, tcp_sock, xdp_sock';

/** bpf_sock_common_is_valid_access: struct bpf_sock without type .. priority. */
function sockCommonValid(off: number, size: number): boolean {
  if (off >= BPF_SOCK.type && off < BPF_SOCK.priority + 4) return false;
  return bpfSockValid(off, size);
}

/** bpf_tcp_sock_is_valid_access: u32 fields, bytes_received and bytes_acked u64, read whole. */
function tcpSockValid(off: number, size: number): boolean {
  if (off < 0 || off >= BPF_TCP_SOCK.size || off % size !== 0) return false;
  return off === BPF_TCP_SOCK.bytes_received || off === BPF_TCP_SOCK.bytes_acked ? size === 8 : size === 4;
}

/** bpf_xdp_sock_is_valid_access: its one u32 field, queue_id. */
const xdpSockValid = (off: number, size: number): boolean => off >= 0 && off < 4 && off % size === 0 && size === 4;

const VALID: Record<SockRegType, (off: number, size: number) => boolean> = {
  sock: bpfSockValid,
  sock_common: sockCommonValid,
  tcp_sock: tcpSockValid,
  xdp_sock: xdpSockValid,
};

/**
 * check_mem_access through a (non-NULL) socket pointer: a read of a field
 * (check_sock_access), loaded as an unknown scalar narrowed to the load.
 */
export function sockAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, signExtend: boolean): Reg {
  const i = env.idx;
  const t = regTypeStr(base);
  if (write)
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} cannot write into ${t}`,
      insn: i,
      regs: [ptrReg],
      rule: 'socket fields are read-only to programs',
    });
  // check_sock_access: the access's offset is the instruction's (pointer arithmetic is refused, so the register's own is 0)
  if (!VALID[base.type as SockRegType](off, size))
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} invalid ${t} access off=${off} size=${size}`,
      insn: i,
      regs: [ptrReg],
      hint: `read a field of struct ${base.type === 'tcp_sock' ? 'bpf_tcp_sock' : base.type === 'xdp_sock' ? 'bpf_xdp_sock' : 'bpf_sock'} at its offset and size${base.type === 'sock_common' ? ' (type, protocol, mark and priority need a full socket: bpf_sk_fullsock)' : ''}`,
      rule: `the read is not a field a ${t} pointer gives`,
    });
  env.aux[i] = { ...(env.aux[i] ?? {}), probeMem: true };
  return loadedScalar(size, signExtend);
}

/**
 * The socket argument types of a helper: ARG_PTR_TO_SOCK_COMMON (any socket
 * pointer, not NULL), ARG_PTR_TO_SOCKET(_OR_NULL) (a full socket), and the
 * socket half of ARG_PTR_TO_BTF_ID_SOCK_COMMON. Returns false where the
 * register is not a socket pointer of an accepted type (the caller reports
 * the type mismatch with its own expected list).
 */
export function sockArg(env: Verifier, meta: CallArgMeta, a: HelperArg, full: boolean): boolean {
  const { reg } = a;
  const orNull = a.t === 'PTR_TO_SOCKET_OR_NULL' || a.t === 'PTR_TO_BTF_ID_SOCK_COMMON_OR_NULL';
  if (!(full ? reg.type === 'sock' : isSock(reg)) || (reg.maybeNull && !orNull)) return false;
  const release = releasedSocket(meta, a);
  ptrOffUnmoved(meta, a);
  if (release) socketReference(meta, a);
  if (reg.refObjId) meta.castRef = reg.refObjId;
  return true;
}

/**
 * check_func_arg_reg_off for a release argument (bpf_sk_release's): the pointer at offset 0.
 * True when argument `a` is the one the helper releases.
 */
export function releasedSocket(meta: CallArgMeta, a: HelperArg): boolean {
  if (meta.proto.releasesArg !== a.r - 1) return false;
  if (a.reg.off)
    throw new Reject({ errno: 'EINVAL', message: `R${a.r} must have zero offset when passed to release func or trusted arg to kfunc`, insn: meta.insn, regs: [a.r] });
  return true;
}

/**
 * check_func_arg's release step: the socket must hold a reference (a lookup's, or a cast of
 * one: is_ptr_cast_function hands the reference on), which the call releases.
 */
export function socketReference(meta: CallArgMeta, a: HelperArg): void {
  if (!a.reg.refObjId)
    throw new Reject({
      errno: 'EINVAL',
      message: `R${a.r} must be referenced when passed to release function`,
      insn: meta.insn,
      regs: [a.r],
      hint: `${meta.name} releases a socket a lookup (bpf_sk_lookup_tcp, bpf_sk_lookup_udp, bpf_skc_lookup_tcp) returned; this one holds no reference`,
      rule: `only a socket the program acquired can be released`,
    });
  meta.releaseRef = a.reg.refObjId;
}

/** __check_ptr_off_reg with fixed_off_ok false (the default case of check_func_arg_reg_off). */
function ptrOffUnmoved(meta: CallArgMeta, a: HelperArg): void {
  checkPtrUnmoved(meta.insn, a.r, a.reg);
}

/** ARG_PTR_TO_SOCK_COMMON: any socket pointer, not NULL. */
export function sockCommonArg(env: Verifier, meta: CallArgMeta, a: HelperArg, bad: (expected: string) => never): void {
  if (!sockArg(env, meta, a, false)) bad(SOCK_TYPES_STR);
}

/** ARG_PTR_TO_SOCKET(_OR_NULL): a full socket (sk_lookup's bpf_sk_assign), or NULL where allowed. */
export function fullSockArg(env: Verifier, meta: CallArgMeta, a: HelperArg, bad: (expected: string) => never): void {
  if (a.t === 'PTR_TO_SOCKET_OR_NULL' && a.reg.isNull) return;
  if (!sockArg(env, meta, a, true)) bad('sock');
}

/** The helpers whose returned socket is a new reference (is_acquire_function). */
const ACQUIRE = new Set<number>([BPF_FUNC.sk_lookup_tcp, BPF_FUNC.sk_lookup_udp, BPF_FUNC.skc_lookup_tcp]);
/** The helpers whose returned socket is their argument's, with its reference (is_ptr_cast_function). */
const CAST = new Set<number>([BPF_FUNC.sk_fullsock, BPF_FUNC.tcp_sock]);

/**
 * r0 of RET_PTR_TO_SOCKET / SOCK_COMMON / TCP_SOCK _OR_NULL: the socket
 * pointer or NULL, with a fresh id for the NULL check; a lookup's is a new
 * reference whose id serves as both (check_helper_call gives r0.id the
 * reference's id), a cast's keeps its argument's reference.
 */
export function sockRet(type: SockRegType) {
  return (env: Verifier, meta: CallArgMeta): Reg => {
    if (ACQUIRE.has(meta.id)) {
      env.newId(); // the maybe-NULL id check_helper_call takes first, then replaces with the reference's
      const ref = env.newId();
      env.cur.refs.push({ id: ref, insn: meta.insn });
      return Reg.ptr(type, { id: ref, refObjId: ref, maybeNull: true });
    }
    return Reg.ptr(type, { id: env.newId(), maybeNull: true, ...(CAST.has(meta.id) && meta.castRef ? { refObjId: meta.castRef } : {}) });
  };
}

/** A socket pointer read from a context field (the is_valid_access callbacks' reg_type). */
export function ctxSock(env: Verifier, type: SockRegType, maybeNull: boolean): Reg {
  return Reg.ptr(type, maybeNull ? { id: env.newId(), maybeNull: true } : {});
}

/**
 * A lookup in a map of sockets (mark_ptr_or_null_reg): the non-NULL value of
 * a sockmap or sockhash is a PTR_TO_SOCKET, of an xskmap a PTR_TO_XDP_SOCK.
 */
export function sockOfMapValue(env: Verifier, r: Reg): SockRegType | undefined {
  if (r.type !== 'map_value') return undefined;
  const t = env.maps[r.map]?.type;
  return t === 'sockmap' || t === 'sockhash' ? 'sock' : t === 'xskmap' ? 'xdp_sock' : undefined;
}

/** bpf_map_lookup_elem on a sockmap or sockhash acquires the socket (is_acquire_function): the value or NULL, referenced. */
export function sockMapLookupRet(env: Verifier, meta: CallArgMeta): Reg | undefined {
  const t = env.maps[meta.mapIdx]?.type;
  if (meta.id !== BPF_FUNC.map_lookup_elem || (t !== 'sockmap' && t !== 'sockhash')) return undefined;
  env.newId();
  const ref = env.newId();
  env.cur.refs.push({ id: ref, insn: meta.insn });
  return Reg.ptr('map_value', { map: meta.mapIdx, id: ref, refObjId: ref, maybeNull: true });
}

/** check_reference_leak's explanation when the reference held at exit is a socket (a lookup at insn `at`). */
export function sockRefLeak(env: Verifier, at: number): { hint: string; rule: string } | undefined {
  const ins = env.insns[at];
  const id = ins?.imm ?? -1;
  const name = id === BPF_FUNC.map_lookup_elem ? 'bpf_map_lookup_elem on a sockmap/sockhash'
    : id === BPF_FUNC.sk_lookup_tcp ? 'bpf_sk_lookup_tcp' : id === BPF_FUNC.sk_lookup_udp ? 'bpf_sk_lookup_udp' : id === BPF_FUNC.skc_lookup_tcp ? 'bpf_skc_lookup_tcp' : undefined;
  if (!name || ins?.src !== 0 || (id === BPF_FUNC.map_lookup_elem && !env.cur.refs.some((r) => r.insn === at))) return undefined;
  return {
    hint: `every path must pass the socket from ${name} (insn ${at}) to bpf_sk_release before returning, unless it is NULL`,
    rule: `a socket reference acquired by ${name} is not released on this path`,
  };
}
