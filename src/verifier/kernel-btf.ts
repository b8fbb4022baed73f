/**
 * The few kernel types the verifier judges programs against, cut out of the
 * kernel's own BTF (/sys/kernel/btf/vmlinux of the Linux the corpus is
 * recorded on) into the same shipped subset as the context types
 * (object/btf/context.ts; regenerate with test/fixtures-btf/gen-context.ts):
 *
 * - `struct bpf_map` and the struct of each map type: Linux lets a
 *   privileged program read a map's fields through the map pointer
 *   (check_ptr_to_map_access), walking these types with btf_struct_walk;
 * - the FUNCs of the kfuncs tsbpf implements, for their signatures;
 * - the tracing targets tsbpf knows by name (fentry/fexit/fmod_ret FUNCs,
 *   tp_btf `btf_trace_<name>` typedefs, lsm `bpf_lsm_<hook>` FUNCs), for the
 *   argument count and types of their context (other targets need the
 *   kernel's BTF: `--kernel-btf`).
 *
 * The browser has no /sys: shipping the subset keeps the verifier's answer
 * the same everywhere. Layouts are the recorded kernel's (x86-64); a program
 * built with CO-RE against vmlinux.h gets its offsets from the same source.
 */
import { rawTpArgFlags } from './raw-tp-null-args.js';
import type { Btf } from '../object/btf/btf.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import type { Reg } from './types.js';
import { contextBtf } from '../object/btf/context.js';
import type { BtfType, StructType } from '../object/btf/types.js';
import type { TracingArg, TracingAttach, TracingTarget } from './progtypes/tracing.js';

/** Map-type structs (each map type's ops->map_btf_id), as check_ptr_to_map_access names them. */
export const MAP_BTF_STRUCT: Readonly<Record<string, string>> = {
  array: 'bpf_array', percpu_array: 'bpf_array', prog_array: 'bpf_array', perf_event_array: 'bpf_array', array_of_maps: 'bpf_array',
  hash: 'bpf_htab', percpu_hash: 'bpf_htab', lru_hash: 'bpf_htab', lru_percpu_hash: 'bpf_htab', hash_of_maps: 'bpf_htab',
  lpm_trie: 'lpm_trie', ringbuf: 'bpf_ringbuf_map', queue: 'bpf_queue_stack', stack: 'bpf_queue_stack', bloom_filter: 'bpf_bloom_filter',
  cgroup_array: 'bpf_array', stack_trace: 'bpf_stack_map',
};

/** The kfuncs tsbpf implements (see kfuncs.ts); their FUNCs are copied for the signatures. */
const KFUNC_NAMES: readonly string[] = ['bpf_rcu_read_lock', 'bpf_rcu_read_unlock', 'bpf_preempt_disable', 'bpf_preempt_enable'];

/** Kernel functions and tracepoints tsbpf knows as fentry/fexit and tp_btf targets. */
const TRACING_TARGETS: readonly string[] = [
  'bpf_fentry_test1', 'bpf_fentry_test2', 'bpf_fentry_test3', 'bpf_fentry_test7', 'bpf_modify_return_test',
  'typedef btf_trace_task_newtask', 'typedef btf_trace_sched_switch',
  // lsm hooks (progtypes/lsm.ts) of each kind: int, bool, void, sleepable, untrusted, disabled; and a bpf_lsm_ non-hook
  'bpf_lsm_file_open', 'bpf_lsm_socket_bind', 'bpf_lsm_task_alloc', 'bpf_lsm_task_free', 'bpf_lsm_inode_xattr_skipcap', 'bpf_lsm_bpf',
  'bpf_lsm_bprm_committed_creds', 'bpf_lsm_vm_enough_memory', 'bpf_lsm_verify_prog', 'bpf_lsm_sk_free_security',
  // what lsm programs read through their arguments
  'struct file',
  // iterators whose contexts hand key and value buffers (progtypes/iter.ts, buf.ts), and the meta->seq they print to
  'bpf_iter_bpf_map_elem', 'bpf_iter_sockmap', 'bpf_iter_bpf_sk_storage_map', 'struct bpf_iter_meta', 'struct seq_file',
  // the iterators, raw tracepoints and kernel functions the kernel's selftests and real tools attach to most (suite 45)
  'func bpf_iter_task', 'func bpf_iter_task_vma', 'func bpf_iter_cgroup', 'func bpf_iter_ksym', 'func bpf_iter_unix',
  'struct kallsym_iter', 'struct unix_sock', 'struct unix_address', 'struct kernfs_node',
  // and their context structs, which programs read with CO-RE
  'struct bpf_iter__task', 'struct bpf_iter__task_vma', 'struct bpf_iter__cgroup', 'struct bpf_iter__ksym', 'struct bpf_iter__unix',
  'typedef btf_trace_sys_enter', 'typedef btf_trace_tcp_destroy_sock', 'bpf_fentry_test4',
];

/** Kernel objects kfuncs hand out and take (kfuncs-cpumask.ts: a bpf_cpumask is a cpumask with a count; kfuncs.ts: the cgroup kfuncs). */
const KFUNC_OBJECTS: readonly string[] = ['struct bpf_cpumask', 'struct cpumask', 'struct cgroup'];
/**
 * Kernel objects helpers hand out (bpf_get_current_task_btf's task_struct, bpf_skc_to_tcp_sock's
 * tcp_sock): copied whole with what they embed; what they point to stays a forward declaration,
 * and a read through a pointer to one is unsupported with the shipped subset (structWalkId).
 */
const KERNEL_OBJECTS: readonly string[] = ['struct task_struct', 'struct tcp_sock',
  // bpf_cast_to_kern_ctx's of an XDP context, bpf_find_vma's callback argument (not bpf_skc_to_tcp_request_sock's
  // tcp_request_sock: 64 KB of BTF for one helper, +77% of the subset, measured on 6.18)
  'struct xdp_buff', 'struct vm_area_struct',
  // task_struct.mm, the pointer tracing programs follow most (3.4 KB of BTF)
  'struct mm_struct',
  // skb_shinfo() as programs write it: bpf_rdonly_cast(head + end, bpf_core_type_id_kernel(struct skb_shared_info))
  'struct skb_shared_info',
  // the protocol headers network programs size and read through CO-RE (Tracee's cgroup_skb programs
  // pass bpf_core_type_size(struct iphdr) to bpf_skb_load_bytes_relative: 0 for a type the target lacks)
  'struct ethhdr', 'struct iphdr', 'struct ipv6hdr', 'struct tcphdr', 'struct udphdr'];

export const KERNEL_BTF_TYPES: readonly string[] = [
  'struct bpf_map',
  ...[...new Set(Object.values(MAP_BTF_STRUCT))].map((s) => `struct ${s}`),
  ...KFUNC_NAMES,
  ...TRACING_TARGETS,
  ...KFUNC_OBJECTS,
  ...KERNEL_OBJECTS,
  // struct_ops (progtypes/struct-ops.ts): the ops structs, their registrations and the member stubs that say which arguments are NULL-able
  'struct bpf_dummy_ops', 'struct bpf_dummy_ops_state', 'struct bpf_struct_ops_bpf_dummy_ops', 'bpf_dummy_ops__test_1', 'bpf_dummy_test_2', 'bpf_dummy_test_sleepable',
  'struct tcp_congestion_ops', 'struct bpf_struct_ops_tcp_congestion_ops',
];

/** The kernel types above (with the context types: one shipped subset, parsed once). */
export function kernelBtf(): Btf {
  return contextBtf();
}

/**
 * A struct of the kernel BTF the program is judged against (the input's, else the shipped
 * subset) that a helper, kfunc or callback hands out; without it tsbpf cannot type the pointer,
 * so the program is unsupported (ENOTSUPP, `message` saying who needs it), not judged.
 */
export function kernelStruct(env: Verifier, name: string, insn: number, message: string): BtfType {
  const t = (env.input.kernelBtf ?? kernelBtf()).typeByName(name, 'struct');
  if (!t) throw new Reject({
    errno: 'ENOTSUPP',
    message,
    insn,
    hint: 'give the kernel\'s BTF: `tsbpf prog load --kernel-btf /sys/kernel/btf/vmlinux`',
    rule: `the kernel BTF has no struct ${name}`,
  });
  return t;
}

export type StructWalk =
  | { kind: 'scalar'; field: string }
  /** a pointer member read whole: the id of the struct/union/fwd it points to */
  | { kind: 'ptr'; field: string; targetId: number }
  | { kind: 'error'; errno: 'EACCES' | 'EINVAL' | 'ENOTSUPP'; message: string };

/**
 * btf_struct_walk + btf_struct_access for a read of `size` bytes at `off`
 * of struct `structName`: what the kernel finds there (a scalar, a pointer
 * member) or the message it refuses the access with. Nested structs are
 * entered; arrays are addressed by element but an int array may be read
 * across elements up to its end (the kernel's mtrue_end rule).
 */
export function structWalk(btf: Btf, structName: string, off0: number, size: number): StructWalk {
  const t = btf.typeByName(structName, 'struct');
  if (!t) return { kind: 'error', errno: 'EINVAL', message: `Type '${structName}' is not a struct` };
  return structWalkId(btf, t.id, off0, size);
}

/**
 * The answers given so far, per BTF (a kernel BTF is parsed once and shared by every load of the
 * process): a tracing program reads the same few fields at every path through it, and the walk
 * is a pure function of (type, offset, size). The answers are never changed by their users.
 */
const walks = new WeakMap<Btf, Map<number, StructWalk>>();

/** structWalk from a type id (a PTR_TO_BTF_ID's btf_id): struct or union. */
export function structWalkId(btf: Btf, id: number, off0: number, size: number): StructWalk {
  // (offsets are non-negative here, checked by the caller; the key is exact below 2^53)
  if (off0 < 0 || off0 >= 1 << 26 || size < 0 || size >= 16) return walkStruct(btf, id, off0, size);
  let m = walks.get(btf);
  if (!m) walks.set(btf, (m = new Map()));
  const key = id * 2 ** 30 + off0 * 16 + size;
  let w = m.get(key);
  if (!w) m.set(key, (w = walkStruct(btf, id, off0, size)));
  return w;
}

/**
 * The shipped subset cuts the kernel's types at pointers: a pointer member's target is a forward
 * declaration there even where the subset holds that struct whole elsewhere (struct sock, embedded
 * in tcp_sock). In the kernel's BTF both are the one struct, so a forward declaration of the
 * shipped subset stands for the struct of its name where the subset has one. (A BTF given with
 * --kernel-btf is taken as it is.)
 */
function subsetDefinition(btf: Btf, id: number): number {
  const t = btf.typeById(id);
  if (t.kind !== 'fwd' || btf !== kernelBtf()) return id;
  return btf.typeByName(t.name, t.union ? 'union' : 'struct')?.id ?? id;
}

function walkStruct(btf: Btf, id: number, off0: number, size: number): StructWalk {
  const t0 = btf.typeById(subsetDefinition(btf, btf.resolve(id)));
  // The shipped subset cuts the kernel's types at pointers: a struct it holds only as a forward
  // declaration is a full struct in the kernel's BTF, whose fields tsbpf does not know.
  if (t0.kind === 'fwd' && btf === kernelBtf())
    return { kind: 'error', errno: 'ENOTSUPP', message: `struct ${t0.name} is not in tsbpf's shipped kernel BTF (only declared there): reading it needs the kernel's BTF` };
  if (t0.kind !== 'struct' && t0.kind !== 'union') return { kind: 'error', errno: 'EINVAL', message: `Type '${t0.name}' is not a struct` };
  let t: StructType = t0;
  const structName = t0.name;
  let off = off0;
  const path: string[] = [];
  for (let depth = 0; depth < 32; depth++) {
    // __btf_name_by_offset: the log names an anonymous struct or member "(anon)"
    const tname = t.name || '(anon)';
    if (off + size > t.size) {
      // Only a trailing flexible array may be read past the struct's size (walk_flex_arrays).
      const last = t.members[t.members.length - 1];
      const lt = last ? btf.typeById(btf.resolve(last.typeId)) : undefined;
      if (last && lt?.kind === 'array' && lt.nelems === 0 && off >= last.bitOffset / 8) {
        const et = btf.typeById(btf.resolve(lt.elemTypeId));
        if (et.kind === 'int') return { kind: 'scalar', field: [...path, last.name].join('.') };
        if ((et.kind === 'struct' || et.kind === 'union') && et.size) {
          off = (off - last.bitOffset / 8) % et.size;
          t = et;
          path.push(last.name);
          continue;
        }
      }
      return { kind: 'error', errno: 'EACCES', message: `access beyond struct ${tname} at off ${off} size ${size}` };
    }
    let next: StructType | undefined;
    for (const m of t.members) {
      let moff = Math.floor(m.bitOffset / 8);
      if (off + size <= moff) break;
      if (m.bitfieldSize) {
        const endBit = m.bitOffset + m.bitfieldSize;
        if (off <= moff && Math.ceil(endBit / 8) <= off + size) return { kind: 'scalar', field: [...path, m.name].join('.') };
        continue;
      }
      if (off < moff) break;
      // __btf_resolve_size: arrays (of arrays) flatten to their element type.
      let mt: BtfType = btf.typeById(btf.resolve(m.typeId));
      let msize = btf.sizeof(m.typeId);
      const trueEnd = moff + msize;
      if (off >= trueEnd) continue;
      if (mt.kind === 'array') {
        let n = 1;
        while (mt.kind === 'array') {
          n *= mt.nelems;
          mt = btf.typeById(btf.resolve(mt.elemTypeId));
        }
        if (moff === trueEnd) continue;
        msize = msize / n;
        moff += Math.floor((off - moff) / msize) * msize;
      }
      const field = [...path, m.name].join('.');
      if (mt.kind === 'struct' || mt.kind === 'union') {
        next = mt;
        off -= moff;
        path.push(m.name);
        break;
      }
      if (mt.kind === 'ptr') {
        if (msize !== size || off !== moff)
          return { kind: 'error', errno: 'EACCES', message: `cannot access ptr member ${m.name || '(anon)'} with moff ${moff} in struct ${tname} with off ${off} size ${size}` };
        const targetId = btf.resolve(mt.typeId);
        const target = btf.typeById(targetId);
        if (target.kind === 'struct' || target.kind === 'fwd' || target.kind === 'union') return { kind: 'ptr', field, targetId };
      }
      if (off + size > trueEnd)
        return { kind: 'error', errno: 'EACCES', message: `access beyond the end of member ${m.name || '(anon)'} (mend:${trueEnd}) in struct ${tname} with off ${off} size ${size}` };
      return { kind: 'scalar', field };
    }
    if (!next) return { kind: 'error', errno: 'EINVAL', message: `struct ${tname} doesn't have field at offset ${off}` };
    t = next;
  }
  return { kind: 'error', errno: 'EINVAL', message: `struct ${structName}: nesting too deep` };
}

/**
 * btf_struct_ids_match (not strict): is the object at offset `off` of the
 * struct `id` a struct `needId`, or does a struct `needId` begin there once
 * nested structs are entered (struct tcp_sock starts with inet_connection_sock,
 * ..., struct sock, struct sock_common)? As btf_struct_walk with a one-byte
 * access: the member containing `off` is entered while it is a struct or
 * union; where one starts exactly at `off` the search restarts from it.
 */
export function structIdsMatch(btf: Btf, id: number, off: number, needId: number): boolean {
  let cur = subsetDefinition(btf, btf.resolve(id));
  for (let depth = 0; depth < 64; depth++) {
    if (off === 0 && cur === needId) return true;
    let t = btf.typeById(cur);
    let found = false;
    while (!found) {
      if ((t.kind !== 'struct' && t.kind !== 'union') || off + 1 > t.size) return false;
      let entered = false;
      for (const m of t.members) {
        let moff = Math.floor(m.bitOffset / 8);
        if (off + 1 <= moff) break;
        if (m.bitfieldSize || off < moff) continue;
        let mid = btf.resolve(m.typeId);
        let mt: BtfType = btf.typeById(mid);
        let msize = btf.sizeof(m.typeId);
        if (off >= moff + msize) continue;
        if (mt.kind === 'array') {
          let n = 1;
          while (mt.kind === 'array') {
            n *= mt.nelems;
            mid = btf.resolve(mt.elemTypeId);
            mt = btf.typeById(mid);
          }
          if (msize === 0 || n === 0) continue;
          msize = msize / n;
          moff += Math.floor((off - moff) / msize) * msize;
        }
        if (mt.kind !== 'struct' && mt.kind !== 'union') return false;
        if (off === moff) {
          cur = mid;
          off = 0;
          found = true;
        } else {
          off -= moff;
          t = mt;
        }
        entered = true;
        break;
      }
      if (!entered) return false;
    }
  }
  return false;
}

/**
 * structIdsMatch by name, in the kernel BTF the program is judged against: is there a struct
 * `want` at the kernel object pointer's fixed offset (the first member of a struct that begins
 * with one included)? False where that BTF has no struct `want`.
 */
export function pointsToStruct(env: Verifier, reg: Reg, want: string): boolean {
  const btf = env.input.kernelBtf ?? kernelBtf();
  const need = btf.typeByName(want, 'struct');
  // a struct the shipped subset only declares: whether a `want` begins it is in the kernel's BTF only
  const has = btf.typeById(subsetDefinition(btf, btf.resolve(reg.btfId)));
  if (has.kind === 'fwd' && btf === kernelBtf())
    throw new Reject({
      errno: 'ENOTSUPP',
      message: `struct ${has.name} is not in tsbpf's shipped kernel BTF (only declared there): whether it is a struct ${want} needs the kernel's BTF`,
      insn: env.idx,
      hint: 'give the kernel\'s BTF: `tsbpf prog load --kernel-btf /sys/kernel/btf/vmlinux`',
    });
  return need !== undefined && structIdsMatch(btf, reg.btfId, reg.off, need.id);
}

/** Byte offset and size of a member of `struct bpf_map` (for the runtime's map descriptor). */
export function bpfMapField(name: string): { offset: number; size: number } | undefined {
  const t = kernelBtf().typeByName('bpf_map', 'struct') as StructType | undefined;
  const m = t?.members.find((x) => x.name === name);
  if (!t || !m) return undefined;
  return { offset: m.bitOffset / 8, size: kernelBtf().sizeof(m.typeId) };
}

/** sizeof(struct bpf_map) on the recorded kernel. */
export function bpfMapSize(): number {
  const t = kernelBtf().typeByName('bpf_map', 'struct') as StructType | undefined;
  return t?.size ?? 0;
}

/** btf_ctx_access's classification of one argument or return type. */
function tracingArg(btf: Btf, id: number): TracingArg {
  const t = btf.typeById(btf.resolve(id));
  const type = cName(btf, id);
  const kindStr = t.kind === 'void' ? 'UNKN' : t.kind.toUpperCase();
  if ((t.kind === 'int' && t.size <= 8) || t.kind === 'enum' || t.kind === 'enum64' || t.kind === 'struct' || t.kind === 'union')
    return { kind: 'scalar', type, kindStr };
  if (t.kind !== 'ptr') return { kind: 'other', type, kindStr };
  // `void *` (the pointee id is 0) and pointers to integers read as numbers; other pointers are PTR_TO_BTF_ID
  if (t.typeId === 0) return { kind: 'scalar', type, kindStr, ptr: true };
  const p = btf.typeById(btf.resolve(t.typeId));
  if (p.kind === 'int') return { kind: 'scalar', type, kindStr, ptr: true };
  return { kind: 'btf_ptr', type, kindStr, ptr: true, btfId: btf.resolve(t.typeId), btfName: p.name };
}

/**
 * A struct_ops program's target (check_struct_ops_btf_id): member `member` of
 * the kernel's `struct <struct>`, which must be registered (vmlinux has
 * `struct bpf_struct_ops_<struct>` for each) and be a function pointer; its
 * prototype types the context as a tracing target's does. An argument is
 * NULL-able where the kernel's stub for the member (cfi_stubs, a static
 * function named `..._<member>`) names it `*__nullable`
 * (bpf_struct_ops_desc_init's prepare_arg_info); one named `*__ref` (a
 * referenced argument) is refused as unsupported.
 */
export function structOpsTarget(btf: Btf, struct: string, member: string, btfName = 'the kernel BTF tsbpf ships'): TracingTarget | string {
  const st = btf.typeByName(struct, 'struct');
  if (!st || st.kind !== 'struct' || !btf.typeByName(`bpf_struct_ops_${struct}`, 'struct'))
    return `struct_ops ${struct} is not registered in ${btfName} (no struct bpf_struct_ops_${struct})`;
  const m = st.members.find((x) => x.name === member);
  if (!m) return `struct ${struct} has no member ${member} in ${btfName}`;
  const p = btf.typeById(btf.resolve(m.typeId));
  const proto = p.kind === 'ptr' ? btf.typeById(btf.resolve(p.typeId)) : undefined;
  if (!proto || proto.kind !== 'func_proto') return `attach to invalid member ${member} of struct ${struct}`;
  const out: TracingTarget = { attach: 'struct_ops', name: member, args: proto.params.map((q) => ({ ...tracingArg(btf, q.typeId), ...(q.name ? { name: q.name } : {}) })) };
  if (proto.returnTypeId !== 0) out.ret = tracingArg(btf, proto.returnTypeId);
  for (const t of btf.types) {
    if (t.kind !== 'func' || t.linkage !== 'static' || !t.name.endsWith(`_${member}`)) continue;
    const sp = btf.typeById(t.typeId);
    if (sp.kind !== 'func_proto' || sp.params.length !== out.args.length) continue;
    for (const [k, q] of sp.params.entries()) {
      if (q.name.endsWith('__ref')) return `${member}'s argument ${q.name} is a referenced (__ref) argument, which tsbpf does not model`;
      if (q.name.endsWith('__nullable') && out.args[k]!.kind === 'btf_ptr') out.args[k]!.maybeNull = true;
    }
  }
  return out;
}

/** A short C spelling of a type, for messages. */
function cName(btf: Btf, id: number, depth = 0): string {
  if (depth > 8) return '?';
  const t = btf.typeById(id);
  switch (t.kind) {
    case 'void': return 'void';
    case 'ptr': return `${cName(btf, t.typeId, depth + 1)} *`;
    case 'const': case 'volatile': case 'restrict': return `${t.kind} ${cName(btf, t.typeId, depth + 1)}`;
    case 'type_tag': return cName(btf, t.typeId, depth + 1);
    case 'struct': case 'union': case 'enum': return `${t.kind} ${t.name || '(anon)'}`;
    case 'enum64': return `enum ${t.name || '(anon)'}`;
    default: return t.name || t.kind;
  }
}

/**
 * The attach target of a tracing program, found by name in the kernel's
 * BTF: a FUNC for fentry/fexit/fmod_ret, the `btf_trace_<name>` typedef of
 * a raw tracepoint for tp_btf (whose first `void *__data` argument the
 * program does not see). A string is the reason there is none; `btfName` says
 * which BTF was searched, for that reason.
 */
export function tracingTarget(btf: Btf, attach: TracingAttach, name: string, btfName = 'the kernel BTF tsbpf ships'): TracingTarget | string {
  let proto: BtfType | undefined;
  if (attach === 'trace_raw_tp') {
    const td = btf.typeByName(`btf_trace_${name}`, 'typedef');
    if (!td) return `no raw tracepoint ${name} (typedef btf_trace_${name}) in ${btfName}`;
    const p = btf.typeById(btf.resolve(td.id));
    if (p.kind === 'ptr') proto = btf.typeById(btf.resolve(p.typeId));
  } else {
    const f = btf.typeByName(name, 'func');
    if (!f || f.kind !== 'func') return `no kernel function ${name} in ${btfName}`;
    proto = btf.typeById(f.typeId);
  }
  if (!proto || proto.kind !== 'func_proto') return `${name} has no function prototype in ${btfName}`;
  let params = proto.params;
  if (attach === 'trace_raw_tp') params = params.slice(1);
  const out: TracingTarget = { attach, name, args: params.map((p) => ({ ...tracingArg(btf, p.typeId), ...(p.name ? { name: p.name } : {}) })) };
  if (proto.returnTypeId !== 0) out.ret = tracingArg(btf, proto.returnTypeId);
  for (const [k, a] of out.args.entries()) {
    if (a.kind !== 'btf_ptr') continue;
    // btf_ctx_access: a parameter named `*__nullable` may be NULL; a raw tracepoint's
    // argument may be NULL or an ERR_PTR as raw_tp_null_args lists (then it is a number)
    const f = attach === 'trace_raw_tp' ? rawTpArgFlags(name, k) : { maybeNull: false, maybeErr: false };
    if (f.maybeErr) out.args[k] = { kind: 'scalar', type: a.type, kindStr: a.kindStr, ptr: true, ...(a.name ? { name: a.name } : {}) };
    else if (f.maybeNull || a.name?.endsWith('__nullable')) a.maybeNull = true;
  }
  return out;
}
