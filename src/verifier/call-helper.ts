/**
 * TODO header: call-helper.ts
 */
import * as op from '../isa/opcodes.js';
import type { ProgTypeName } from '../object/spec.js';
import type { HelperProto, ArgType } from '../helpers/proto.js';
import { Reg, regTypeStr } from './types.js';
import { tnumStr } from './tnum.js';
import { Scalar } from './scalar.js';
import { Reject } from './reject.js';
import { BPF_MAX_VAR_OFF, type Verifier, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, GPL_COMPATIBLE } from './check.js';
import { mapFuncIncompatibility, helperAvailable, PKT_ACCESS_HELPERS, PRIVILEGED_HELPERS } from './func-compat.js';
import { STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO } from './state.js';
import { RET_BOUNDED_BY_SIZE, UNMODELLED_HELPERS } from './helper-protos.js';
import { strictAlignError } from './align.js';
import { sockMapUnsupported, sockUnsupported, mapTypeId } from './btf-access.js';
import { checkRegion } from './map-value.js';
import { checkPacket } from './packet.js';
import { frameOf, noteDepth } from './stack.js';
import { enterFunc, checkExit } from './call.js';

// --- helpers ------------------------------------------------------------

export function checkHelperCall(env: Verifier, i: number, id: number): number {
  const h = env.helper(id);
  // A helper Linux has whose state tsbpf does not model (helper-protos.ts UNMODELLED_HELPERS): unsupported, not a verdict.
  const unmodelled = h ? undefined : UNMODELLED_HELPERS.get(id);
  if (unmodelled) throw new Reject({
    errno: 'ENOTSUPP',
    message: `bpf_${unmodelled.name}#${id} is not supported by tsbpf: ${unmodelled.why}`,
    insn: i,
    rule: `bpf_${unmodelled.name} is not supported by tsbpf`,
  });
  if (!h) throw new Reject({
    errno: 'EINVAL',
    message: `invalid func unknown#${id}`,
    insn: i,
    hint: 'tsbpf implements the helpers listed by `tsbpf` docs; this id is not one of them',
    rule: `helper #${id} is not available`,
  });
  const proto = h.proto;
  const name = `bpf_${h.name}`;
  if (!env.privileged && (UNPRIV_FORBIDDEN_HELPERS.has(id) || PRIVILEGED_HELPERS.has(id)))
    throw new Reject({
      errno: 'EINVAL',
      message: `program of this type cannot use helper ${name}#${id}`,
      insn: i,
      rule: `${name} needs privileges (CAP_BPF or CAP_PERFMON)`,
    });
  if (!helperAllowed(env.rules.name, id, env.input.attachType))
    throw new Reject({
      errno: 'EINVAL',
      message: `program of this type cannot use helper ${name}#${id}`,
      insn: i,
      rule: `${name} is not available to ${env.rules.name} programs`,
    });
  if (id === 12 && env.cur.refs.length)
    throw new Reject({
      errno: 'EINVAL',
      message: 'tail_call would lead to reference leak',
      insn: i,
      hint: 'submit or discard ring buffer reservations before a tail call',
      rule: 'a tail call never returns, so held references would leak',
    });
  if (id === 12 && env.cur.rcuLock)
    throw new Reject({
      errno: 'EINVAL',
      message: 'tail_call cannot be used inside bpf_rcu_read_lock-ed region',
      insn: i,
      hint: 'call bpf_rcu_read_unlock() before the tail call',
    });
  if (id === 12 && env.cur.preemptLock)
    throw new Reject({
      errno: 'EINVAL',
      message: 'tail_call cannot be used inside bpf_preempt_disable-ed region',
      insn: i,
      hint: 'call bpf_preempt_enable() before the tail call',
    });
  if (proto.gplOnly && !GPL_COMPATIBLE.has(env.input.license ?? 'GPL'))
    throw new Reject({
      errno: 'EINVAL',
      message: 'cannot call GPL-restricted function from non-GPL compatible program',
      insn: i,
      hint: 'declare `char LICENSE[] SEC("license") = "GPL";`',
      rule: `${name} is only available to GPL-compatible programs`,
    });
  const regs = env.regs();
  let mapIdx = -1;
  let memReg = -1;
  let funcTarget = -1;
  let allocSize = -1;
  let releaseRef = 0;
  let sizeMax = -1n;
  const keyReg = regs[2]!.clone();
  proto.args.forEach((t, k) => {
    const r = k + 1;
    if (k >= (VARIADIC_CHECKED_ARGS[id] ?? 5)) return;
    const reg = env.readReg(r);
    // check_func_arg: a packet pointer may go only to helpers whose proto sets pkt_access (may_access_direct_pkt_data with a meta)
    if (t !== 'ANYTHING' && reg.isPkt && !PKT_ACCESS_HELPERS.has(id))
      throw new Reject({
        errno: 'EACCES',
        message: 'helper access to the packet is not allowed',
        insn: i,
        regs: [r],
        hint: 'copy the bytes with bpf_skb_load_bytes / bpf_xdp_load_bytes, or pass a stack buffer',
        rule: `${name} cannot take a pointer into the packet`,
      });
    const bad = (expected: string): never => {
      if (reg.sock) throw sockUnsupported(env, r);
      throw new Reject({
        errno: 'EACCES',
        message: `R${r} type=${regTypeStr(reg)} expected=${expected}`,
        insn: i,
        regs: [r],
        hint: `argument ${r} of ${name} must be ${expected.replace(/, /g, ' or ')}`,
        rule: `argument ${r} of ${name} has the wrong type`,
      });
    };
    switch (t) {
      case 'ANYTHING':
        if (reg.isPointer && !env.privileged) throw new Reject({
          errno: 'EACCES',
          message: `R${r} leaks addr into helper function`,
          insn: i,
          regs: [r],
        });
        return;
      case 'CONST_MAP_PTR':
        // A map-in-map lookup's result is a map pointer only once null-checked (mark_ptr_or_null_reg).
        if (reg.type !== 'map_ptr' || reg.maybeNull) bad('map_ptr');
        mapIdx = reg.map;
        sockMapUnsupported(env, id, name, mapIdx);
        return;
      case 'PTR_TO_MAP_KEY':
      case 'PTR_TO_MAP_VALUE':
      case 'PTR_TO_UNINIT_MAP_VALUE': {
        const m = env.maps[mapIdx];
        if (!m) throw new Reject({
          errno: 'EACCES',
          message: `invalid map_ptr to access map->${t === 'PTR_TO_MAP_KEY' ? 'key' : 'value'}`,
          insn: i,
          regs: [r],
        });
        if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) bad('fp, pkt, pkt_meta, map_key, map_value');
        const size = t === 'PTR_TO_MAP_KEY' ? m.keySize : m.valueSize;
        if (size === 0) throw new Reject({
          errno: 'EACCES',
          message: 'invalid zero-sized read',
          insn: i,
          regs: [r],
          rule: `the ${m.type} map has no ${t === 'PTR_TO_MAP_KEY' ? 'keys' : 'values'} to pass`,
        });
        helperMemAccess(env, r, reg, size, t === 'PTR_TO_UNINIT_MAP_VALUE', false);
        return;
      }
      case 'PTR_TO_MEM':
      case 'PTR_TO_MEM_OR_NULL':
      case 'PTR_TO_UNINIT_MEM':
        if (t === 'PTR_TO_MEM_OR_NULL' && reg.isNull) { memReg = r; return; }
        if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) bad('fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem');
        memReg = r;
        return;
      case 'CONST_SIZE':
      case 'CONST_SIZE_OR_ZERO': {
        if (reg.type !== 'scalar') bad('scalar');
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
        const prev = proto_arg(env, proto, k - 1);
        sizeMax = s.umax;
        if (memReg === r - 1) {
          const pr = regs[r - 1]!;
          if (!(pr.isNull && prev === 'PTR_TO_MEM_OR_NULL')) {
            // check_mem_size_reg checks the region even for a size of 0 (a stack pointer must still be inside the stack).
            helperMemAccess(env, r - 1, pr, Number(s.umax), prev === 'PTR_TO_UNINIT_MEM', false);
          } else if (s.umax > 0n) {
            throw new Reject({
              errno: 'EACCES',
              message: `R${r - 1} type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem`,
              insn: i,
              regs: [r - 1, r],
            });
          }
        }
        return;
      }
      case 'CONST_ALLOC_SIZE_OR_ZERO':
        if (reg.type !== 'scalar' || !reg.s.isConst()) throw new Reject({
          errno: 'EACCES',
          message: `R${r} is not a known constant'`,
          insn: i,
          regs: [r],
          hint: 'pass a compile-time constant size to bpf_ringbuf_reserve',
          rule: 'the reservation size must be a constant',
        });
        allocSize = Number(reg.s.varOff.value);
        return;
      case 'PTR_TO_CTX':
      case 'PTR_TO_CTX_OR_NULL':
        if (t === 'PTR_TO_CTX_OR_NULL' && reg.isNull) return;
        if (reg.type !== 'ctx') bad('ctx');
        if (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n)
          throw new Reject({
            errno: 'EACCES',
            message: `dereference of modified ctx ptr R${r} off=${reg.off} disallowed`,
            insn: i,
            regs: [r],
            hint: 'pass the original context pointer (r1 at entry) to the helper',
          });
        return;
      case 'PTR_TO_FUNC':
        if (reg.type !== 'func') bad('func');
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
        funcTarget = reg.subprog;
        return;
      case 'PTR_TO_STACK':
      case 'PTR_TO_STACK_OR_NULL':
        if (t === 'PTR_TO_STACK_OR_NULL' && reg.isNull) return;
        if (reg.type !== 'fp') bad('fp');
        return;
      case 'PTR_TO_RINGBUF_MEM':
        if (reg.type !== 'mem' || !reg.ringbuf || reg.maybeNull) bad('ringbuf_mem');
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
        releaseRef = reg.refObjId;
        return;
      case 'PTR_TO_CONST_STR': {
        const m = env.maps[reg.map];
        if (reg.type !== 'map_value' || !m) bad('map_value');
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
        return;
      }
      case 'PTR_TO_LONG':
      case 'PTR_TO_U32': {
        // ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT (or MEM_WRITE) | MEM_ALIGNED (strtol/strtoul: 8 bytes; check_mtu: 4): writable, strictly aligned
        const n = t === 'PTR_TO_LONG' ? 8 : 4;
        if (!['fp', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) bad('fp, map_key, map_value, mem');
        // check_func_arg: the access first, then the alignment (MEM_ALIGNED)
        helperMemAccess(env, r, reg, n, true, false);
        const mis = strictAlignError(reg, 0, n);
        if (mis) throw new Reject({
          errno: 'EACCES',
          message: mis,
          insn: i,
          regs: [r],
          hint: `pass a ${n}-byte aligned buffer`,
          rule: `argument ${r} of ${name} must be ${n}-byte aligned`,
        });
        return;
      }
      default:
        throw new Reject({ errno: 'EINVAL', message: `helper argument type ${t} is not supported`, insn: i, regs: [r] });
    }
  });
  // check_map_func_compatibility, both directions (func-compat.ts).
  if (mapIdx >= 0) {
    const mt = env.maps[mapIdx]!.type;
    if (id === 12 && mt !== 'prog_array')
      throw new Reject({
        errno: 'EINVAL',
        message: 'expected prog array map for tail call',
        insn: i,
        regs: [2],
        hint: 'bpf_tail_call takes a BPF_MAP_TYPE_PROG_ARRAY map',
        rule: 'tail calls go through a program array',
      });
    const why = mapFuncIncompatibility(mt, mapTypeId(mt), id, name, env.rules.name, env.input.attachType);
    if (why) throw new Reject({
      errno: 'EINVAL',
      message: why,
      insn: i,
      regs: [1],
      rule: `${name} cannot be used with a ${mt} map${why.startsWith('cannot update sockmap') ? ` in ${env.rules.name} programs` : ''}`,
    });
  }
  // get_local_storage cannot fail, so it takes no flags (check_helper_call)
  if (id === 81 && !(regs[2]!.type === 'scalar' && regs[2]!.s.isConst() && regs[2]!.s.varOff.value === 0n))
    throw new Reject({
      errno: 'EINVAL',
      message: "get_local_storage() doesn't support non-zero flags",
      insn: i,
      regs: [2],
      hint: 'pass 0 as the flags argument',
    });
  if (releaseRef) {
    env.cur.refs = env.cur.refs.filter((x) => x.id !== releaseRef);
    for (const r of env.cur.allRegs()) if (r.refObjId === releaseRef) Object.assign(r, env.privileged ? Reg.unknown() : Reg.notInit());
  }
  if (proto.changesPktData) {
    for (const r of env.cur.allRegs()) if (r.isPkt || r.type === 'pkt_end') Object.assign(r, Reg.unknown());
  }
  // bpf_loop calls its callback at most nr_loops (R1) times: Linux counts the calls along each path
  // (callback_depth < umax(R1) in check_helper_call) and never calls it when R1 is 0.
  const loopMax = id === HELPER_LOOP && regs[1]!.type === 'scalar' ? regs[1]!.s.umax : -1n;
  // Callbacks: verify the function with the arguments the helper passes.
  if ((id === HELPER_LOOP || id === HELPER_FOR_EACH) && funcTarget >= 0 && loopMax !== 0n) {
    const ctxArg = regs[3]!.clone();
    let args: Reg[];
    if (id === HELPER_LOOP) args = [Reg.scalar(Scalar.urange(0n, 0xffffffffn)), ctxArg];
    else {
      const m = env.maps[mapIdx]!;
      args = [Reg.ptr('map_ptr', { map: mapIdx }), Reg.ptr('map_key', { map: mapIdx }), Reg.ptr('map_value', { map: mapIdx }), ctxArg];
      void m;
    }
    // The callback may run zero times: the path that skips it continues after the call.
    const skip = env.cur.clone();
    const sr = skip.cur.regs;
    for (let r = 1; r <= 5; r++) sr[r] = Reg.notInit();
    sr[0] = Reg.unknown();
    skip.path = { insn: i, to: i + 1, taken: false, prev: skip.path };
    env.push(skip, i + 1, i);
    env.cur.path = { insn: i, to: funcTarget, taken: true, prev: env.cur.path };
    const next = enterFunc(env, i, funcTarget, id, args);
    const cf = env.cur.cur;
    cf.callbackIter = 1;
    cf.callbackMax = loopMax > 0n && loopMax <= 0xffffffffn ? Number(loopMax) : -1;
    return next;
  }
  for (let r = 1; r <= 5; r++) regs[r] = Reg.notInit();
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  switch (proto.ret) {
    case 'INTEGER': {
      const r0 = Reg.unknown();
      if (id === 8) r0.s = Scalar.urange(0n, 255n); // get_smp_processor_id: < nr_cpu_ids
      // do_refine_retval_range: get_stack and the *_str reads return [-MAX_ERRNO, size]
      if (RET_BOUNDED_BY_SIZE.has(id) && sizeMax >= 0n) r0.s = retBoundedBySize(sizeMax);
      regs[0] = r0;
      break;
    }
    case 'VOID':
      regs[0] = Reg.notInit();
      break;
    case 'PTR_TO_MAP_VALUE_OR_NULL':
    case 'PTR_TO_MAP_VALUE':
      if (mapIdx >= 0 && env.innerOf[mapIdx]! >= 0) {
        // A map of maps holds map pointers: the lookup yields the inner map (or NULL).
        regs[0] = Reg.ptr('map_ptr', { map: env.innerOf[mapIdx]!, id: env.newId(), maybeNull: true });
        break;
      }
      if (id === 1 && constKeyInRange(env, mapIdx, keyReg)) {
        // An array lookup with a constant key below max_entries cannot fail (Linux 6.18 skips the NULL check).
        regs[0] = Reg.ptr('map_value', { map: mapIdx });
        break;
      }
      regs[0] = Reg.ptr('map_value', { map: mapIdx, id: env.newId(), maybeNull: proto.ret === 'PTR_TO_MAP_VALUE_OR_NULL' });
      break;
    case 'PTR_TO_RINGBUF_MEM_OR_NULL': {
      // As the kernel does: a fresh id for null-check propagation, another for the reference.
      const idv = env.newId();
      const ref = env.newId();
      regs[0] = Reg.ptr('mem', { memSize: allocSize, ringbuf: true, id: idv, refObjId: ref, maybeNull: true });
      env.cur.refs.push({ id: ref, insn: i });
      break;
    }
    case 'PTR_TO_MEM_OR_NULL':
      regs[0] = Reg.ptr('mem', { memSize: 0, id: env.newId(), maybeNull: true });
      break;
  }
  if (id === 1 && mapIdx >= 0) env.aux[i] = { ...(env.aux[i] ?? {}) };
  // A tail call made in a bpf-to-bpf function that succeeds returns to the function's caller, with
  // the tail-called program's r0 and the packet possibly moved. Linux 6.18 explores that return
  // beside the failed call's fall-through (which keeps the packet pointers): pkt pointers of every
  // frame are cleared, r0 is unknown and the function exits. In the main program (or a global
  // function verified on its own) a successful tail call never comes back, so only the
  // fall-through is explored. (Not inside callbacks, whose return value the helper checks.)
  if (id === 12 && env.cur.frames.length > 1 && !env.cur.frames.some((f) => f.callbackOf !== 0)) {
    const failed = env.cur.clone();
    failed.path = { insn: i, to: i + 1, taken: false, prev: failed.path };
    env.push(failed, i + 1, i);
    for (const r of env.cur.allRegs()) if (r.isPkt || r.type === 'pkt_end') Object.assign(r, Reg.unknown());
    env.regs()[0] = Reg.unknown();
    env.cur.path = { insn: i, to: env.cur.cur.callsite + 1, taken: true, prev: env.cur.path };
    return checkExit(env);
  }
  return i + 1;
}

/** The key at `key` is a known constant below the array's max_entries. */
export function constKeyInRange(env: Verifier, mapIdx: number, key: Reg): boolean {
  const m = env.maps[mapIdx];
  if (!m || (m.type !== 'array' && m.type !== 'percpu_array') || key.type !== 'fp' || !key.s.isConst()) return false;
  const o = key.off + Number(BigInt.asIntN(64, key.s.varOff.value));
  if (o < -op.MAX_BPF_STACK || o + 4 > 0) return false;
  const f = env.cur.frames[key.frameno]!;
  const slot = f.stack[Math.floor((-o - 1) / 8)];
  if (!slot) return false;
  let v: bigint | undefined;
  if ((-o) % 8 === 0 && slot.isSpill && slot.spilled?.type === 'scalar' && slot.spilled.s.isConst()) v = slot.spilled.s.varOff.value & 0xffffffffn;
  else {
    let zero = true;
    for (let b = 0; b < 4; b++) {
      const byte = -(o + b) - 1;
      if (f.stack[Math.floor(byte / 8)]?.t[byte % 8] !== STACK_ZERO) zero = false;
    }
    if (zero) v = 0n;
  }
  return v !== undefined && v < BigInt(m.maxEntries);
}

export function proto_arg(env: Verifier, p: HelperProto, k: number): ArgType | undefined {
  return p.args[k];
}

/** check_helper_mem_access: `size` bytes at the pointer, read (initialised) or written. */
export function helperMemAccess(env: Verifier, r: number, reg: Reg, size: number, write: boolean, _zeroOk: boolean): void {
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
    case 'fp': {
      const f = frameOf(env, reg);
      const s = reg.s;
      const lo = Number(s.smin) + reg.off, hi = Number(s.smax) + reg.off + size;
      if (!s.isConst() && !env.privileged) throw new Reject({
        errno: 'EACCES',
        message: `R${r} variable stack access prohibited for !root`,
        insn: i,
        regs: [r],
      });
      // check_stack_access_within_bounds: the lowest byte within [-512, -1] and the end at most 0 (so a zero-sized access at fp+0 is refused too)
      const how = write ? 'write to' : 'read from';
      if (!s.isConst() && (s.smin <= -BigInt(BPF_MAX_VAR_OFF) || s.smax >= BigInt(BPF_MAX_VAR_OFF)))
        throw new Reject({
          errno: 'EACCES',
          message: `invalid unbounded variable-offset ${how} stack R${r}`,
          insn: i,
          regs: [r],
          hint: 'bound the offset before passing the pointer',
          rule: 'the stack offset has no bounds',
        });
      if (lo < -op.MAX_BPF_STACK || lo > -1 || hi > 0)
        // EACCES when the first byte is outside the stack (check_stack_slot_within_bounds), EINVAL when the end is past fp
        throw new Reject({
          errno: lo < -op.MAX_BPF_STACK || lo > -1 ? 'EACCES' : 'EINVAL',
          message: s.isConst() ? `invalid ${how} stack R${r} off=${lo} size=${size}` : `invalid variable-offset ${how} stack R${r} var_off=${tnumStr(s.varOff)} off=${reg.off} size=${size}`,
          insn: i,
          regs: [r],
          hint: `the buffer passed in R${r} must lie within the 512-byte stack`,
          rule: 'the helper would access memory outside the stack',
        });
      noteDepth(env, f, lo);
      if (write) {
        for (let a = lo; a < hi; a++) {
          const byte = -a - 1;
          const slot = f.slot(Math.floor(byte / 8));
          if (slot.isSpill || slot.spilled) {
            for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) slot.t[j] = STACK_MISC;
            slot.spilled = null;
          }
          slot.t[byte % 8] = STACK_MISC;
          if (env.logLevel > 1 && f === env.cur.cur) env.scratchSlots.add(Math.floor(byte / 8));
        }
        return;
      }
      if (!s.isConst()) {
        for (let a = lo; a < hi; a++) {
          const byte = -a - 1;
          const t = f.stack[Math.floor(byte / 8)]?.t[byte % 8] ?? STACK_INVALID;
          if (t === STACK_INVALID && !env.privileged) throw new Reject({
            errno: 'EACCES',
            message: `invalid indirect read from stack R${r} var_off ${tnumStr(s.varOff)}+${reg.off} size ${size}`,
            insn: i,
            regs: [r],
          });
        }
        return;
      }
      const start = reg.off + Number(BigInt.asIntN(64, s.varOff.value));
      for (let b = 0; b < size; b++) {
        const byte = -(start + b) - 1;
        const slot = f.stack[Math.floor(byte / 8)];
        const t = slot ? slot.t[byte % 8]! : STACK_INVALID;
        if (t !== STACK_INVALID) continue;
        if (env.privileged) {
          // Root may pass uninitialised stack to helpers; it reads as unknown bytes.
          f.slot(Math.floor(byte / 8)).t[byte % 8] = STACK_MISC;
          continue;
        }
        throw new Reject({
          errno: 'EACCES',
          message: `invalid read from stack R${r} off ${start}+${b} size ${size}`,
          insn: i,
          regs: [r],
          hint: `initialise the ${size}-byte buffer at fp${start} before passing it (e.g. \`__u32 key = 0;\`)`,
          rule: 'the helper would read stack bytes that were never written',
        });
      }
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

export const HELPER_LOOP = 181;

export const HELPER_FOR_EACH = 164;

/**
 * Whether a function containing this helper call changes packet data for its callers (the kernel's
 * subprog changes_pkt_data): the helpers that may move the packet, and bpf_tail_call (id 12), since a
 * tail call made in a function returns to that function's caller after the tail-called program ran,
 * which may have called any of them (selftest verifier_sock.c invalidate_pkt_pointers_by_tail_call).
 */
export function callChangesPktData(id: number, proto: HelperProto | undefined): boolean {
  return id === 12 || proto?.changesPktData === true;
}

/** Variadic helpers whose kernel proto covers only the leading arguments (trace_printk: fmt, fmt_size). */
export const VARIADIC_CHECKED_ARGS: Record<number, number> = { 6: 2 };

/**
 * Helpers bpf_base_func_proto offers only with CAP_BPF (jiffies64, for_each_map_elem, loop) or
 * CAP_PERFMON (the tracing ones); probe_read/probe_read_str are tracing-only anyway. Checked against
 * 6.18 for unprivileged socket filters and cgroup skb programs (get_current_pid_tgid and
 * get_current_uid_gid are open to them).
 */
export const UNPRIV_FORBIDDEN_HELPERS = new Set([4, 6, 45, 112, 113, 114, 115, 165, 16, 118, 164, 181]);

/**
 * do_refine_retval_range for get_stack and the *_str reads: smax and s32max
 * become the size argument's umax, smin and s32min -MAX_ERRNO (4095), then
 * the bounds are synced (reg_bounds_sync).
 */
export function retBoundedBySize(sizeMax: bigint): Scalar {
  const s = Scalar.unknown();
  s.smax = sizeMax;
  s.s32max = sizeMax;
  s.smin = -4095n;
  s.s32min = -4095n;
  s.sync();
  return s;
}

/** Helpers only some program types may call (the kernel's per-type get_func_proto). */
export function helperAllowed(type: ProgTypeName, id: number, attachType?: string): boolean {
  return helperAvailable(type, id, attachType);
}
