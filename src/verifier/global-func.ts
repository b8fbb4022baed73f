/**
 * Global (non-static) functions, as Linux verifies them (btf_prepare_func_args,
 * btf_check_func_arg_match, do_check_subprogs): a global function is checked
 * once, on its own, for any arguments its BTF prototype allows, and a call to
 * it is checked only against that prototype; the caller learns nothing of
 * what it does but that r0 is some number.
 *
 * The prototype types each argument:
 * - a pointer to the program type's context struct (or one tagged
 *   `__arg_ctx`): the context (PTR_TO_CTX);
 * - a pointer tagged `__arg_trusted`: a trusted pointer to the kernel struct
 *   of the same (essential) name (PTR_TO_BTF_ID | PTR_TRUSTED), NULL too if
 *   also tagged `__arg_nullable`;
 * - any other pointer to a sized type: memory of that size, or NULL (the
 *   callee must check) unless tagged `__arg_nonnull`;
 * - an integer or enum: an unknown number.
 * and the function must return an integer or enum.
 */
import type { Btf } from '../object/btf/btf.js';
import type { ProgTypeName } from '../object/spec.js';
import type { Errno } from '../errors.js';
import { essentialName } from '../object/btf/flavor.js';

export type GlobalArg =
  | { kind: 'ctx' }
  | { kind: 'scalar' }
  | { kind: 'dynptr' }
  | { kind: 'mem'; size: number; nullable: boolean }
  /** `__arg_trusted`: a trusted pointer to kernel type btfId (of the kernel BTF the program is judged against) */
  | { kind: 'trusted'; btfId: number; btfName: string; nullable: boolean };

/** The kernel BTF `__arg_trusted` types resolve in; `shipped` when it is tsbpf's subset (which may lack a type the kernel has). */
export interface KernTypes {
  btf: Btf;
  shipped: boolean;
}

export interface GlobalProto {
  name: string;
  args: GlobalArg[];
}

export interface ProtoError {
  errno: Errno;
  message: string;
}

/** The context struct each program type's functions may take (the kernel's bpf_types.h), and its kernel-side twin. */
const CTX_STRUCT: Partial<Record<ProgTypeName, [string, string]>> = {
  xdp: ['xdp_md', 'xdp_buff'],
  socket_filter: ['__sk_buff', 'sk_buff'],
  sched_cls: ['__sk_buff', 'sk_buff'],
  sched_act: ['__sk_buff', 'sk_buff'],
  cgroup_skb: ['__sk_buff', 'sk_buff'],
  kprobe: ['pt_regs', 'pt_regs'],
  raw_tracepoint: ['bpf_raw_tracepoint_args', 'bpf_raw_tracepoint_args'],
  raw_tracepoint_writable: ['bpf_raw_tracepoint_args', 'bpf_raw_tracepoint_args'],
  perf_event: ['bpf_perf_event_data', 'bpf_perf_event_data_kern'],
};

/** The kernel-side context struct of `progType` (bpf_ctx_convert's kern type: sk_buff for __sk_buff), if tsbpf knows it. */
export function kernCtxStruct(progType: ProgTypeName): string | undefined {
  return CTX_STRUCT[progType]?.[1];
}

/** btf_type_str: the kernel's upper-case kind names. */
function kindStr(k: string): string {
  return k === 'void' ? 'UNKN' : k.toUpperCase();
}

/** btf_is_prog_ctx_type: `t` (a pointer) points to the program type's context struct. */
function isCtxPointer(btf: Btf, ptrTarget: number, progType: ProgTypeName): boolean {
  const names = CTX_STRUCT[progType];
  if (!names) return false;
  let id = ptrTarget;
  // kprobe contexts may be spelt bpf_user_pt_regs_t
  for (let d = 0; d < 16; d++) {
    const t = btf.typeById(id);
    if (t.kind === 'typedef' && progType === 'kprobe' && t.name === 'bpf_user_pt_regs_t') return true;
    if (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') id = t.typeId;
    else break;
  }
  const t = btf.typeById(id);
  if (t.kind !== 'struct' && t.kind !== 'union') return false;
  return t.name === names[0] || t.name === names[1];
}

/** btf_is_dynptr_ptr: a pointer to `struct bpf_dynptr` (or its forward declaration), modifiers skipped. */
function isDynptrPointer(btf: Btf, ptrTarget: number): boolean {
  const t = btf.typeById(btf.resolve(ptrTarget));
  return (t.kind === 'struct' || (t.kind === 'fwd' && !t.union)) && t.name === 'bpf_dynptr';
}

/** `arg:NAME` decl tags on parameter `i` of FUNC `funcId`. */
function argTags(btf: Btf, funcId: number, i: number): string[] {
  const out: string[] = [];
  for (let id = 1; id < btf.length; id++) {
    const t = btf.typeById(id);
    if (t.kind === 'decl_tag' && t.typeId === funcId && t.componentIdx === i && t.name.startsWith('arg:')) out.push(t.name.slice(4));
  }
  return out;
}

/**
 * btf_get_ptr_to_btf_id: the one kernel type a `__arg_trusted` pointer's target names (CO-RE
 * candidate matching, bpf_core_find_cands: same kind, same name up to a `___flavor` suffix).
 * The shipped subset lacks most kernel types or holds them only declared: there a missing or
 * declared-only struct is unsupported (ENOTSUPP) rather than judged, and a declaration stands
 * for the struct (whose accesses and kfunc arguments then need the kernel's BTF).
 */
function trustedTarget(btf: Btf, kern: KernTypes, i: number, ptrTarget: number): { btfId: number; btfName: string } | ProtoError {
  const t = btf.typeById(btf.resolve(ptrTarget));
  const what = `arg#${i} reference type('${kindStr(t.kind)} ${t.name}')`;
  if (!t.name) return { errno: 'EINVAL', message: `${what} candidate matching error: -22` };
  const ess = essentialName(t.name);
  const cands = kern.btf.idsByEssentialName(ess).filter((id) => kern.btf.typeById(id).kind === t.kind);
  if (!kern.shipped) {
    if (cands.length === 1) return { btfId: cands[0]!, btfName: kern.btf.typeById(cands[0]!).name };
  } else if (t.kind === 'struct' || t.kind === 'union') {
    // (the subset's forward declarations are its own cuts, not the kernel's: only a struct or union is looked up there)
    if (cands.length === 1) return { btfId: cands[0]!, btfName: kern.btf.typeById(cands[0]!).name };
    const fwd = cands.length === 0
      ? kern.btf.idsByName(ess).find((id) => { const f = kern.btf.typeById(id); return f.kind === 'fwd' && f.union === (t.kind === 'union'); })
      : undefined;
    if (fwd !== undefined) return { btfId: fwd, btfName: ess };
  }
  if (kern.shipped) return { errno: 'ENOTSUPP', message: `${what}: ${kindStr(t.kind).toLowerCase()} ${ess} is not in tsbpf's shipped kernel BTF; __arg_trusted needs the kernel's BTF` };
  return cands.length === 0 ? { errno: 'ENOENT', message: `${what} has no matches` } : { errno: 'ESRCH', message: `${what} is ambiguous` };
}

/** btf_prepare_func_args for a global function: its argument types, or the kernel's reason to refuse it. */
export function prepareGlobalFunc(btf: Btf | undefined, funcTypeId: number | undefined, progType: ProgTypeName, subprog: number, kern: KernTypes): GlobalProto | ProtoError {
  if (!btf || !funcTypeId) return { errno: 'EFAULT', message: 'Global functions need valid BTF' };
  const fn = btf.typeById(funcTypeId);
  if (fn.kind !== 'func') return { errno: 'EFAULT', message: `BTF of func#${subprog} doesn't point to KIND_FUNC` };
  const name = fn.name;
  const proto = btf.typeById(fn.typeId);
  if (proto.kind !== 'func_proto') return { errno: 'EFAULT', message: `Invalid type of function ${name}()` };
  if (proto.params.length > 5) return { errno: 'EINVAL', message: `Global function ${name}() with ${proto.params.length} > 5 args. Buggy compiler.` };
  const ret = btf.typeById(btf.resolve(proto.returnTypeId));
  if (ret.kind !== 'int' && ret.kind !== 'enum' && ret.kind !== 'enum64')
    return { errno: 'EINVAL', message: `Global function ${name}() doesn't return scalar. Only those are supported.` };
  const args: GlobalArg[] = [];
  for (let i = 0; i < proto.params.length; i++) {
    const tags = argTags(btf, fn.id, i);
    for (const tag of tags) {
      if (tag === 'arena')
        return { errno: 'ENOTSUPP', message: `arg#${i} of ${name}() is tagged __arg_${tag}, which tsbpf does not support` };
      if (tag !== 'ctx' && tag !== 'nonnull' && tag !== 'trusted' && tag !== 'nullable') return { errno: 'EOPNOTSUPP', message: `arg#${i} has unsupported set of tags` };
    }
    const t = btf.typeById(btf.resolve(proto.params[i]!.typeId));
    if (t.kind === 'ptr') {
      if (tags.includes('ctx') || isCtxPointer(btf, t.typeId, progType)) {
        if (tags.some((x) => x !== 'ctx')) return { errno: 'EINVAL', message: `arg#${i} has invalid combination of tags` };
        args.push({ kind: 'ctx' });
        continue;
      }
      // btf_prepare_func_args: ARG_PTR_TO_DYNPTR | MEM_RDONLY, any initialised dynptr of the caller
      if (isDynptrPointer(btf, t.typeId)) {
        if (tags.length) return { errno: 'EINVAL', message: `arg#${i} has invalid combination of tags` };
        args.push({ kind: 'dynptr' });
        continue;
      }
      if (tags.includes('trusted')) {
        if (tags.includes('nonnull')) return { errno: 'EINVAL', message: `arg#${i} has invalid combination of tags` };
        const k = trustedTarget(btf, kern, i, t.typeId);
        if ('message' in k) return k;
        args.push({ kind: 'trusted', ...k, nullable: tags.includes('nullable') });
        continue;
      }
      // a generic memory pointer is NULL-able unless __arg_nonnull; __arg_nullable is for trusted ones
      if (tags.includes('nullable')) return { errno: 'EINVAL', message: `arg#${i} has invalid combination of tags` };
      const target = btf.resolve(t.typeId);
      let size: number;
      try {
        size = btf.sizeof(target);
      } catch {
        const tt = btf.typeById(target);
        return { errno: 'EINVAL', message: `arg#${i} reference type('${kindStr(tt.kind)} ${tt.name}') size cannot be determined: -22` };
      }
      args.push({ kind: 'mem', size, nullable: !tags.includes('nonnull') });
      continue;
    }
    if (tags.length) return { errno: 'EINVAL', message: `arg#${i} has pointer tag, but is not a pointer type` };
    if (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') {
      args.push({ kind: 'scalar' });
      continue;
    }
    return { errno: 'EINVAL', message: `Arg#${i} type ${kindStr(t.kind)} in ${name}() is not supported yet.` };
  }
  return { name, args };
}

/**
 * check_btf_func's scalar_return: the FUNC's prototype returns an integer of at most 8 bytes or an
 * enum (modifiers and typedefs skipped). Unreadable BTF counts as scalar: the loader's own BTF
 * checks report it.
 */
export function returnsScalar(btf: Btf | undefined, funcTypeId: number | undefined): boolean {
  if (!btf || !funcTypeId) return true;
  try {
    const fn = btf.typeById(funcTypeId);
    if (fn.kind !== 'func') return true;
    const proto = btf.typeById(fn.typeId);
    if (proto.kind !== 'func_proto') return true;
    if (!proto.returnTypeId) return false;
    const ret = btf.typeById(btf.resolve(proto.returnTypeId));
    return (ret.kind === 'int' && ret.size <= 8) || ret.kind === 'enum' || ret.kind === 'enum64';
  } catch {
    return true;
  }
}

/** Whether a FUNC type id names a global function. */
export function isGlobalFunc(btf: Btf | undefined, funcTypeId: number | undefined): boolean {
  if (!btf || !funcTypeId) return false;
  try {
    const t = btf.typeById(funcTypeId);
    return t.kind === 'func' && t.linkage === 'global';
  } catch {
    return false;
  }
}

/** The FUNC name of a function, for messages (`func#N` when there is no BTF). */
export function funcName(btf: Btf | undefined, funcTypeId: number | undefined, subprog: number): string {
  try {
    if (btf && funcTypeId) return btf.typeById(funcTypeId).name;
  } catch {
    /* fall through */
  }
  return `func#${subprog}`;
}
