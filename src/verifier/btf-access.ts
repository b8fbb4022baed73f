/**
 * Kernel objects: reads through a PTR_TO_BTF_ID (check_ptr_to_btf_access:
 * tracing arguments, bpf_get_current_task_btf, pointers walked from them),
 * reads of a map's own kernel structure through its pointer
 * (check_ptr_to_map_access), both walked with the kernel's BTF as
 * btf_struct_access does. (The socket pointers PTR_TO_SOCKET and its
 * relatives are read through their uapi mirrors: sock.ts.)
 */
import { MapType, type MapTypeName } from '../uapi/bpf-types.js';
import { Reg, type BtfPtrFlags } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { kernelBtf, structWalk, structWalkId, MAP_BTF_STRUCT } from './kernel-btf.js';
import { GPL_COMPATIBLE } from './env.js';
import { tnumStr } from './tnum.js';
import { loadedScalar } from './ldst.js';
import { checkPercpuAccess } from './ksym.js';
import { structOpsWrite } from './struct-ops-access.js';

/**
 * check_ptr_to_btf_access for a tracing program: a read of `size` bytes at
 * the pointer's offset plus `off`, which must be a field (or part of an
 * integer field) of the kernel struct it points to; a pointer field read
 * whole gives another PTR_TO_BTF_ID. Programs cannot write kernel objects
 * ("only read is supported"). Loads through these pointers are marked for
 * the engines (InsnAux.probeMem): in Linux they are BPF_PROBE_MEM loads that
 * read 0 where the kernel memory is not there. A helper's read of the object
 * (check_helper_mem_access) passes `load` false: no instruction loads.
 */
export function btfIdAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, signExtend: boolean, load = true): Reg {
  const i = env.idx;
  const btf = env.input.kernelBtf ?? kernelBtf();
  const tname = base.btfName;
  perfmonOnly(env, ptrReg, tname);
  if (!GPL_COMPATIBLE.has(env.input.license ?? 'GPL'))
    throw new Reject({
      errno: 'EACCES',
      message: `Cannot access kernel 'struct ${tname}' from non-GPL compatible program`,
      insn: i,
      regs: [ptrReg],
      hint: 'declare `char LICENSE[] SEC("license") = "GPL";`',
    });
  const o = base.off + off;
  if (o < 0)
    throw new Reject({ errno: 'EACCES', message: `R${ptrReg} is ptr_${tname} invalid negative access: off=${o}`, insn: i, regs: [ptrReg] });
  if (!base.s.isConst() || base.s.varOff.value !== 0n)
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} is ptr_${tname} invalid variable offset: off=${o}, var_off=${tnumStr(base.s.varOff)}`,
      insn: i,
      regs: [ptrReg],
      hint: 'kernel objects are read at constant offsets: read the field whole, or copy it out with bpf_probe_read_kernel()',
    });
  checkPercpuAccess(env, ptrReg, base, o);
  // struct_ops: the ops' own btf_struct_access decides which fields may be written
  // (struct-ops-access.ts: bpf_tcp_ca_btf_struct_access, bpf_dummy_ops_btf_struct_access)
  // (an untrusted pointer, one walked from another kernel object, is never written: "only read is supported")
  if (write && env.rules.name === 'struct_ops' && base.btfFlags !== 'untrusted') {
    const ops = env.input.structOps?.struct ?? '';
    const why = structOpsWrite(btf, ops, tname, o, size);
    if (why === undefined)
      throw new Reject({
        errno: 'ENOTSUPP',
        message: `R${ptrReg} writes struct ${tname} at off ${o}: ${ops || 'this'} struct_ops' btf_struct_access is not supported by tsbpf`,
        insn: i,
        regs: [ptrReg],
      });
    if (why !== null) throw new Reject({ errno: 'EACCES', message: why, insn: i, regs: [ptrReg], rule: `${ops} programs may write only some fields of kernel structs` });
    return Reg.notInit();
  }
  if (write)
    throw new Reject({
      errno: 'EACCES',
      message: 'only read is supported',
      insn: i,
      regs: [ptrReg],
      rule: `tracing programs cannot write kernel objects (struct ${tname})`,
    });
  const w = structWalkId(btf, base.btfId, o, size);
  if (w.kind === 'error')
    throw new Reject({
      errno: w.errno,
      message: w.message,
      insn: i,
      regs: [ptrReg],
      ...(w.errno === 'ENOTSUPP'
        ? { hint: 'give the kernel\'s BTF: `tsbpf prog load --kernel-btf /sys/kernel/btf/vmlinux`' }
        : { rule: `the read is not a field of struct ${tname}` }),
    });
  // a load the engines make a probe-mem read; a helper's read of the fields (load false) is the helper's
  if (!load) return Reg.unknown();
  env.aux[i] = { ...(env.aux[i] ?? {}), probeMem: true };
  if (w.kind === 'scalar') return loadedScalar(size, signExtend);
  // check_ptr_to_btf_access's flags for a walked pointer: from a trusted or RCU parent inside an
  // RCU read section (every non-sleepable tracing program), the fields the kernel lists as
  // inheriting trust keep it (BTF_TYPE_SAFE_TRUSTED / _RCU / _OR_NULL); any other pointer read
  // is untrusted (Linux 6.18: `rcu_ptr_task_struct` -> mm gives `untrusted_ptr_mm_struct`)
  // (the safe lists name a field inside anonymous members by its own name: bpf_iter_meta.seq is in a union)
  const field = `${tname}.${w.field.split('.').filter(Boolean).join('.')}`;
  let flags: BtfPtrFlags = 'untrusted';
  let maybeNull = false;
  if (base.btfFlags === 'trusted' || base.btfFlags === 'rcu') {
    const safe = SAFE_FIELDS.get(field);
    // type_is_trusted(_or_null) hold in a sleepable program too; the RCU lists only inside an RCU
    // read section (a sleepable iter.s program's ctx->meta->seq stays trusted)
    if (safe && (safe.flags === 'trusted' || !env.sleepable)) {
      flags = safe.flags;
      maybeNull = safe.orNull;
    }
  }
  const t = btf.typeById(w.targetId);
  return Reg.ptr('btf_id', { btfId: w.targetId, btfName: t.name, btfFlags: flags, ...(maybeNull ? { maybeNull, id: env.newId() } : {}) });
}

/** check_ptr_to_btf_access / check_ptr_to_map_access: kernel structs are for CAP_PERFMON only (allow_ptr_leaks). */
function perfmonOnly(env: Verifier, ptrReg: number, sname: string, errno: 'EACCES' | 'EPERM' = 'EACCES'): void {
  if (!env.privileged)
    throw new Reject({
      errno,
      message: `'struct ${sname}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN`,
      insn: env.idx,
      regs: [ptrReg],
      rule: `unprivileged programs cannot read a kernel struct (${sname})`,
    });
}

/**
 * Pointer fields that keep their parent's trust (the kernel's BTF_TYPE_SAFE_TRUSTED,
 * BTF_TYPE_SAFE_RCU and their _OR_NULL lists in verifier.c); the rest walk to untrusted.
 * The ones that real tracing tools walk; a field missing here only makes a pointer
 * untrusted, which changes no load's verdict, only what helpers and kfuncs accept it.
 */
type SafeField = { flags: BtfPtrFlags; orNull: boolean };
const safe = (fields: string[], flags: BtfPtrFlags, orNull: boolean): Array<[string, SafeField]> => fields.map((f) => [f, { flags, orNull }]);
const SAFE_FIELDS: ReadonlyMap<string, SafeField> = new Map([
  ...safe(['task_struct.cpus_ptr', 'task_struct.cgroups', 'task_struct.real_parent', 'task_struct.group_leader', 'css_set.dfl_cgrp'], 'rcu', false),
  ...safe(['mm_struct.exe_file', 'sk_buff.sk', 'request_sock.sk'], 'rcu', true),
  ...safe(['linux_binprm.file', 'file.f_inode', 'dentry.d_inode', 'bpf_iter_meta.seq'], 'trusted', false),
]);

/**
 * check_ptr_to_map_access: root may read the kernel's struct of the map
 * (struct bpf_array, bpf_htab, ... each starting with struct bpf_map)
 * through the map pointer, as a PTR_TO_BTF_ID walked with vmlinux BTF.
 * tsbpf walks the same layout (kernel-btf.ts) and so refuses what Linux
 * refuses, and types what Linux allows as Linux does (a pointer member, such
 * as map.ops, a PTR_TO_BTF_ID of its struct; any other field a scalar). At
 * run time tsbpf serves the struct bpf_map fields its map descriptor holds
 * (BPF_MAP_FIELDS in maps/map.ts); a read of another (kernel pointers, locks
 * and reference counts it does not have) is marked (InsnAux.unprovided) and
 * the runtime refuses to load the program (ENOTSUPP naming the field).
 */
export function mapPtrAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  const m = env.maps[base.map];
  const sname = MAP_BTF_STRUCT[m?.type ?? ''];
  if (!sname)
    throw new Reject({
      errno: 'ENOTSUPP',
      message: `map_ptr access not supported for map type ${mapTypeId(m?.type ?? 'unspec')}`,
      insn: i,
      regs: [ptrReg],
      rule: `reading the kernel structure of a ${m?.type} map through its pointer is not supported`,
    });
  perfmonOnly(env, ptrReg, sname, 'EPERM');
  const o = base.off + off;
  if (o < 0) throw new Reject({ errno: 'EACCES', message: `R${ptrReg} is ${sname} invalid negative access: off=${o}`, insn: i, regs: [ptrReg] });
  if (write) throw new Reject({
    errno: 'EACCES',
    message: `only read from ${sname} is supported`,
    insn: i,
    regs: [ptrReg],
    rule: 'a map\'s kernel structure is read-only to programs',
  });
  const w = structWalk(kernelBtf(), sname, o, size);
  if (w.kind === 'error') throw new Reject({
    errno: w.errno,
    message: w.message,
    insn: i,
    regs: [ptrReg],
    hint: `struct ${sname} has ${kernelBtf().sizeof(kernelBtf().typeByName(sname, 'struct')!.id)} bytes; read one of its fields whole`,
    rule: `the read is not a field of struct ${sname}`,
  });
  // mark_btf_ld_reg with btf_struct_access's result: a pointer member gives a PTR_TO_BTF_ID of its
  // struct (no flags: the map's struct is walked as a plain PTR_TO_BTF_ID), anything else a scalar
  const field = w.field.replace(/^map\./, '');
  if (w.kind === 'ptr' || !MAP_FIELDS_PROVIDED.has(field))
    // (what tsbpf's map descriptor lacks: the runtime refuses to load the program, runtime/loader.ts)
    env.aux[i] = { ...(env.aux[i] ?? {}), unprovided: `${w.field} of struct ${sname}` };
  if (w.kind === 'ptr') return mapPtrField(env, w.targetId);
  return loadedScalar(size, signExtend);
}

/**
 * The PTR_TO_BTF_ID a pointer member of a map's struct gives, typed in the kernel BTF the program
 * is judged against (the walk went through the shipped subset, which holds the map structs).
 */
function mapPtrField(env: Verifier, subsetId: number): Reg {
  const t = kernelBtf().typeById(subsetId);
  const btf = env.input.kernelBtf;
  const own = btf ? (btf.typeByName(t.name, 'struct') ?? btf.typeByName(t.name, 'union')) : undefined;
  return Reg.ptr('btf_id', { btfId: own ? own.id : subsetId, btfName: t.name });
}

/**
 * The struct bpf_map fields a tsbpf map descriptor holds (BPF_MAP_FIELDS in
 * maps/map.ts). `sha` is admitted because Linux admits it and programs read
 * it as plain bytes: there tsbpf's descriptor holds its own words (type,
 * sizes, id, storage address), not a SHA-256, which Linux computes only on
 * request; the verifier types the read as an unknown scalar either way.
 */
const MAP_FIELDS_PROVIDED = new Set(['sha', 'map_type', 'key_size', 'value_size', 'max_entries', 'map_extra', 'map_flags', 'id', 'numa_node',
  'btf_key_type_id', 'btf_value_type_id', 'name', 'frozen']);

/** The kernel's enum bpf_map_type value of a map type (messages: "cannot pass map_type 29 into func ..."). */
export function mapTypeId(t: MapTypeName): number {
  return MapType[t];
}
