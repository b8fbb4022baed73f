/**
 * What a struct_ops program may write through a kernel pointer: each ops' own
 * btf_struct_access (its bpf_verifier_ops), which check_ptr_to_btf_access calls for a
 * store through a PTR_TO_BTF_ID instead of refusing it ("only read is supported").
 * A write it allows leaves no register to mark; a refusal is EACCES with its message.
 *
 * - bpf_tcp_ca_btf_struct_access (net/ipv4/bpf_tcp_ca.c): only a `struct tcp_sock`, only
 *   these fields (offsets in tcp_sock, which begins with inet_connection_sock, which begins
 *   with sock): sock.sk_pacing_rate, sock.sk_pacing_status, inet_connection_sock.icsk_ca_priv
 *   (any offset inside it), inet_connection_sock.icsk_ack.pending, tcp_sock.snd_cwnd,
 *   snd_cwnd_cnt, snd_cwnd_stamp (Linux 6.10+), snd_ssthresh, ecn_flags, app_limited; a write
 *   must start where the field
 *   starts (icsk_ca_priv: anywhere in it) and end inside it.
 * - bpf_dummy_ops_btf_struct_access (net/bpf/bpf_dummy_struct_ops.c): only a `struct
 *   bpf_dummy_ops_state`, anywhere inside it.
 * Other ops structs (sched_ext_ops, hid_bpf_ops, ...: a kernel BTF given) have rules tsbpf
 * does not know: undefined, and the caller refuses the write as unsupported.
 */
import type { Btf } from '../object/btf/btf.js';
import type { BtfType } from '../object/btf/types.js';

/** The writable fields of bpf_tcp_ca_btf_struct_access: [struct, member path, any offset inside]. */
const TCP_CA_WRITABLE: ReadonlyArray<[string, readonly string[], boolean]> = [
  ['sock', ['sk_pacing_rate'], false],
  ['sock', ['sk_pacing_status'], false],
  ['inet_connection_sock', ['icsk_ca_priv'], true],
  ['inet_connection_sock', ['icsk_ack', 'pending'], false],
  ['tcp_sock', ['snd_cwnd'], false],
  ['tcp_sock', ['snd_cwnd_cnt'], false],
  ['tcp_sock', ['snd_cwnd_stamp'], false],
  ['tcp_sock', ['snd_ssthresh'], false],
  ['tcp_sock', ['ecn_flags'], false],
  ['tcp_sock', ['app_limited'], false],
];

/** offsetof and offsetofend of a (nested, named) member, looking through anonymous members. */
function fieldRange(btf: Btf, struct: string, path: readonly string[]): { off: number; end: number } | undefined {
  let t: BtfType | undefined = btf.typeByName(struct, 'struct');
  let off = 0;
  for (const name of path) {
    if (!t || (t.kind !== 'struct' && t.kind !== 'union')) return undefined;
    const found = findMember(btf, t, name);
    if (!found) return undefined;
    off += found.off;
    t = btf.typeById(btf.resolve(found.typeId));
    if (path[path.length - 1] === name) return { off, end: off + btf.sizeof(found.typeId) };
  }
  return undefined;
}

function findMember(btf: Btf, t: BtfType, name: string): { off: number; typeId: number } | undefined {
  if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
  for (const m of t.members) {
    if (m.name === name && !m.bitfieldSize) return { off: m.bitOffset / 8, typeId: m.typeId };
    if (!m.name) {
      const inner = findMember(btf, btf.typeById(btf.resolve(m.typeId)), name);
      if (inner) return { off: m.bitOffset / 8 + inner.off, typeId: inner.typeId };
    }
  }
  return undefined;
}

/**
 * The ops' btf_struct_access for a write of `size` bytes at `off` of a kernel struct
 * (`btfName`, as the BTF given names it): null where it allows the write, the kernel's
 * message where it refuses it (EACCES), undefined where tsbpf does not know the ops' rules.
 */
export function structOpsWrite(btf: Btf, ops: string, btfName: string, off: number, size: number): string | null | undefined {
  if (ops === 'bpf_dummy_ops') {
    if (btfName !== 'bpf_dummy_ops_state') return 'only access to bpf_dummy_ops_state is supported';
    const st = btf.typeByName('bpf_dummy_ops_state', 'struct');
    if (!st || st.kind !== 'struct') return undefined;
    return off + size > st.size ? `write access at off ${off} with size ${size}` : null;
  }
  if (ops !== 'tcp_congestion_ops') return undefined;
  if (btfName !== 'tcp_sock') return 'only read is supported';
  let unknown = false;
  for (const [struct, path, inside] of TCP_CA_WRITABLE) {
    const f = fieldRange(btf, struct, path);
    // a field the BTF (the shipped subset) lacks: its offset is unknown, so no refusal can be sure
    if (!f) { unknown = true; continue; }
    if (inside ? off < f.off || off >= f.end : off !== f.off) continue;
    return off + size > f.end ? `write access at off ${off} with size ${size} beyond the member of tcp_sock ended at ${f.end}` : null;
  }
  return unknown ? undefined : `no write support to tcp_sock at off ${off}`;
}
