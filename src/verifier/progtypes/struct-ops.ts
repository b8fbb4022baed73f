/**
 * struct_ops programs (BPF_PROG_TYPE_STRUCT_OPS, SEC("struct_ops/...")):
 * each implements one function pointer member of a kernel ops struct
 * (`tcp_congestion_ops.ssthresh`, `bpf_dummy_ops.test_1`, ...), named by the
 * `.struct_ops` / `.struct_ops.link` slot that points to it (object/struct-ops.ts).
 * The kernel's check_struct_ops_btf_id: a GPL-compatible license, a
 * registered ops struct (else ENOTSUPP: attach_btf_id 0, or a module's ops
 * struct not loaded), a function pointer member; the context is the
 * member's arguments as u64s, typed from its prototype as a tracing
 * target's are (btf_ctx_access; pointers trusted, NULL-able where the
 * member's stub says so: kernel-btf.ts structOpsTarget; a congestion
 * control's `struct sock *` is a tcp_sock, bpf_tcp_ca_is_valid_access).
 * A member the ops struct leaves unsupported is refused ("attach to
 * unsupported member", below). check_return_code: nothing for a void
 * member, else R0 must be set (no range). Writes through kernel pointers
 * follow each ops' own btf_struct_access (struct-ops-access.ts: tcp_sock
 * fields for a congestion control, the state for bpf_dummy_ops); the kfuncs
 * registered for struct_ops are kfuncs-tcp-ca.ts's.
 */
import type { ProgTypeRules } from './index.js';
import { tracingRules } from './tracing.js';
import { structOpsTarget } from '../kernel-btf.js';
import type { Btf } from '../../object/btf/btf.js';

/**
 * The members an ops struct's registration leaves without a stub in its cfi_stubs
 * (bpf_struct_ops_supported: ENOTSUPP), as the kernel's own ops define them:
 * bpf_tcp_ca.c's __bpf_ops_tcp_congestion_ops has none for get_info (which
 * bpf_tcp_ca_check_member refuses too); bpf_dummy_ops stubs all three.
 */
const UNSTUBBED: ReadonlyMap<string, ReadonlySet<string>> = new Map([['tcp_congestion_ops', new Set(['get_info'])]]);

/**
 * check_struct_ops_btf_id after the member is found: bpf_struct_ops_supported (a stub
 * for the member) and the ops' check_member (bpf_dummy_ops_check_member: only
 * test_sleepable may be sleepable, EINVAL), both "attach to unsupported member".
 */
function unsupportedMember(slot: { struct: string; member: string }, sleepable: boolean): { errno: 'ENOTSUPP' | 'EINVAL'; message: string } | undefined {
  const message = `attach to unsupported member ${slot.member} of struct ${slot.struct}`;
  if (UNSTUBBED.get(slot.struct)?.has(slot.member)) return { errno: 'ENOTSUPP', message };
  if (slot.struct === 'bpf_dummy_ops' && sleepable && slot.member !== 'test_sleepable') return { errno: 'EINVAL', message };
  return undefined;
}

/** The rules for a struct_ops program, or the reason (errno, message) it cannot be judged. */
export function structOpsRules(btf: Btf, slot: { struct: string; member: string } | undefined, btfName?: string, sleepable = false): ProgTypeRules | { errno: 'ENOTSUPP' | 'EINVAL'; message: string } {
  // no attach_btf_id: check_struct_ops_btf_id's ENOTSUPP, with no message (libbpf refuses such a program first)
  if (!slot) return { errno: 'ENOTSUPP', message: 'struct_ops program with no attach_btf_id: it implements no member of an ops struct' };
  const t = structOpsTarget(btf, slot.struct, slot.member, btfName);
  if (typeof t === 'string')
    return { errno: /^attach to invalid member/.test(t) ? 'EINVAL' : 'ENOTSUPP', message: /^attach to invalid member/.test(t) ? t : `${t}: struct_ops not supported by tsbpf here` };
  const bad = unsupportedMember(slot, sleepable);
  if (bad) return bad;
  // bpf_tcp_ca_is_valid_access: a congestion control's `struct sock *` arguments are tcp_socks
  if (slot.struct === 'tcp_congestion_ops') {
    const tcp = btf.typeByName('tcp_sock', 'struct');
    for (const a of t.args) {
      if (a.kind !== 'btf_ptr' || a.btfName !== 'sock') continue;
      if (!tcp) return { errno: 'ENOTSUPP', message: `struct tcp_sock is not in ${btfName ?? 'the kernel BTF tsbpf ships'}: struct_ops not supported by tsbpf here` };
      a.btfId = tcp.id;
      a.btfName = 'tcp_sock';
    }
  }
  const base = tracingRules(t);
  // bpf_dummy_verifier_ops has no get_func_proto: its programs may call no helper
  return { ...base, name: 'struct_ops', ...(t.ret ? {} : { retUnchecked: true }), ...(slot.struct === 'bpf_dummy_ops' ? { noHelpers: true } : {}) };
}

/**
 * bpf_tcp_ca_get_func_proto: a congestion control's release member gets neither bpf_setsockopt nor
 * bpf_getsockopt (the socket is retiring its congestion control: no new resources), which its other
 * members get (uapi/helper-progtypes.ts SK_SOCKOPT).
 */
export function structOpsHelperRefused(slot: { struct: string; member: string } | undefined, helper: string): boolean {
  return slot?.struct === 'tcp_congestion_ops' && slot.member === 'release' && (helper === 'setsockopt' || helper === 'getsockopt');
}
