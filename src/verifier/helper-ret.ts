/**
 * r0 after a helper call, as a table keyed by the prototype's return type
 * (check_helper_call's ret_type switch, do_refine_retval_range): a map
 * value or NULL, ring buffer memory holding a new reference, a bounded
 * integer, ...
 */
import * as op from '../isa/opcodes.js';
import type { RetType } from '../uapi/helper-proto.js';
import { Reg } from './types.js';
import { Scalar } from './scalar.js';
import type { Verifier } from './env.js';
import type { CallArgMeta } from './helper-args.js';
import { STACK_SPILL, STACK_ZERO } from './state.js';
import { HELPERS } from '../uapi/helpers.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { Reject } from './reject.js';
import { kernelStruct } from './kernel-btf.js';
import { sockRet, sockMapLookupRet } from './sock.js';
import { memOrBtfIdRet } from './ksym.js';
import { dynptrDataRet } from './dynptr.js';
import { kptrXchgRet } from './kptr.js';

type RetSetter = (env: Verifier, meta: CallArgMeta, keyReg: Reg) => Reg;

/**
 * r0 after a helper call, by the prototype's return type (check_helper_call's switch on ret_type).
 * A return type missing here (sockets, kernel objects) is refused as unsupported.
 */
export const RET_TYPES: Partial<Record<RetType, RetSetter>> = {
  INTEGER: (_env, meta) => {
    const r0 = Reg.unknown();
    if (meta.id === BPF_FUNC.get_smp_processor_id) r0.s = Scalar.urange(0n, 255n); // get_smp_processor_id: < nr_cpu_ids
    // do_refine_retval_range: get_stack and the *_str reads return [-MAX_ERRNO, size]
    if (HELPERS.get(meta.id)?.retBoundedBySize && meta.sizeMax >= 0n) r0.s = retBoundedBySize(meta.sizeMax);
    return r0;
  },
  VOID: () => Reg.notInit(),
  PTR_TO_MAP_VALUE_OR_NULL: mapValueRet,
  PTR_TO_MAP_VALUE: mapValueRet,
  PTR_TO_RINGBUF_MEM_OR_NULL: (env, meta) => {
    // As the kernel does: a fresh id for null-check propagation, another for the reference.
    const idv = env.newId();
    const ref = env.newId();
    const r0 = Reg.ptr('mem', { memSize: meta.allocSize, ringbuf: true, id: idv, refObjId: ref, maybeNull: true });
    env.cur.refs.push({ id: ref, insn: meta.insn });
    return r0;
  },
  PTR_TO_MEM_OR_NULL: (env) => Reg.ptr('mem', { memSize: 0, id: env.newId(), maybeNull: true }),
  PTR_TO_SOCKET_OR_NULL: sockRet('sock'),
  PTR_TO_SOCK_COMMON_OR_NULL: sockRet('sock_common'),
  PTR_TO_TCP_SOCK_OR_NULL: sockRet('tcp_sock'),
  PTR_TO_BTF_ID_OR_NULL: btfIdRet,
  PTR_TO_BTF_ID: btfIdRet,
  PTR_TO_MEM_OR_BTF_ID: memOrBtfIdRet,
  PTR_TO_MEM_OR_BTF_ID_OR_NULL: memOrBtfIdRet,
  PTR_TO_DYNPTR_MEM_OR_NULL: dynptrDataRet,
};

/**
 * RET_PTR_TO_BTF_ID(_OR_NULL): a pointer to the proto's ret_btf_id struct in
 * the kernel BTF (no trust flag: ptr_pt_regs, ptr_or_null_tcp_sock), with an
 * id for the NULL check when it may be NULL. A cast (bpf_skc_to_*,
 * is_ptr_cast_function) keeps its argument's reference.
 */
function btfIdRet(env: Verifier, meta: CallArgMeta): Reg {
  if (meta.kptr) return kptrXchgRet(env, meta);
  const want = meta.proto.retStruct ?? '';
  const t = kernelStruct(env, want, meta.insn, `${meta.name}#${meta.id} returns struct ${want || '?'}, which the kernel BTF given lacks`);
  const orNull = meta.proto.ret === 'PTR_TO_BTF_ID_OR_NULL';
  return Reg.ptr('btf_id', { btfId: t.id, btfName: want, ...(orNull ? { id: env.newId(), maybeNull: true } : {}), ...(meta.castRef ? { refObjId: meta.castRef } : {}) });
}

/** A map lookup's value (or NULL), a map-in-map lookup's inner map. */
function mapValueRet(env: Verifier, meta: CallArgMeta, keyReg: Reg): Reg {
  const mapIdx = meta.mapIdx;
  const sk = sockMapLookupRet(env, meta);
  if (sk) return sk;
  if (mapIdx >= 0 && env.innerOf[mapIdx]! >= 0) {
    // A map of maps holds map pointers: the lookup yields the inner map (or NULL).
    return Reg.ptr('map_ptr', { map: env.innerOf[mapIdx]!, id: env.newId(), maybeNull: true });
  }
  if (meta.id === BPF_FUNC.map_lookup_elem && constKeyInRange(env, mapIdx, keyReg)) {
    // An array lookup with a constant key below max_entries cannot fail (Linux 6.18 skips the NULL check);
    // a value with a bpf_spin_lock still gets an id, which names the lock (check_helper_call)
    return Reg.ptr('map_value', { map: mapIdx, ...(env.maps[mapIdx]?.fields?.spinLock !== undefined ? { id: env.newId() } : {}) });
  }
  return Reg.ptr('map_value', { map: mapIdx, id: env.newId(), maybeNull: meta.proto.ret === 'PTR_TO_MAP_VALUE_OR_NULL' });
}

/**
 * The key at `key` is a known constant below the array's max_entries (get_constant_map_key):
 * key_size bytes of STACK_ZERO from the key's first byte down the slot, or a spilled constant
 * scalar whose spill is exactly key_size bytes there (an 8-byte spill read as a 4-byte key is
 * not a constant key to Linux).
 */
function constKeyInRange(env: Verifier, mapIdx: number, key: Reg): boolean {
  const m = env.maps[mapIdx];
  if (!m || (m.type !== 'array' && m.type !== 'percpu_array') || key.type !== 'fp' || !key.s.isConst()) return false;
  const o = key.off + Number(BigInt.asIntN(64, key.s.varOff.value));
  if (o < -op.MAX_BPF_STACK || o >= 0) return false;
  const byte = -o - 1, spi = byte >> 3, off = byte & 7;
  const slot = env.cur.frames[key.frameno]!.stack[spi];
  if (!slot) return false;
  let zero = 0, spill = 0;
  for (let i = off; i >= 0 && slot.t[i] === STACK_ZERO; i--) zero++;
  let v: bigint | undefined;
  if (zero >= m.keySize) v = 0n;
  else if (slot.isSpill && slot.spilled?.type === 'scalar' && slot.spilled.s.isConst()) {
    for (let i = off; i >= 0 && slot.t[i] === STACK_SPILL; i--) spill++;
    if (spill === m.keySize) v = slot.spilled.s.varOff.value;
  }
  return v !== undefined && v < BigInt(m.maxEntries);
}

/**
 * do_refine_retval_range for get_stack and the *_str reads: smax and s32max
 * become the size argument's umax, smin and s32min -MAX_ERRNO (4095), then
 * the bounds are synced (reg_bounds_sync).
 */
function retBoundedBySize(sizeMax: bigint): Scalar {
  const s = Scalar.unknown();
  s.smax = sizeMax;
  s.s32max = Number(sizeMax);
  s.smin = -4095n;
  s.s32min = -4095;
  s.sync();
  return s;
}
