/**
 * The steps a program goes through at load time, in the order `Runtime`
 * runs them (docs/architecture.md, "Load pipeline"): relocate (CO-RE, the
 * object layer's last relocation, then the lddw map references: libbpf's
 * bpf_object__relocate and the kernel's resolve_pseudo_ldimm64), validate
 * (the helpers this runtime runs, well-formed instructions), verify (the
 * verifier, then the kernel's post-verification fixups). Compiling and
 * publishing are the runtime's own (Runtime.compile, Runtime.publish).
 */
import { TsbpfError } from '../errors.js';
import { KPTR_SIZE, specialFieldsOf } from '../maps/special-fields.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { validateProgram } from '../isa/validate.js';
import type { HelperRegistry } from '../vm/helper-abi.js';
import { unknownHelper } from '../helpers/index.js';
import type { BpfMap } from '../maps/map.js';
import { ArrayMap } from '../maps/array.js';
import type { CollectionSpec, ProgramSpec } from '../object/spec.js';
import type { InsnAux } from '../verifier/insn-aux.js';
import type { AddressSpace } from '../memory/address-space.js';
import type { VerifierInput, VerifierMapInfo, VerifierResult } from '../verifier/index.js';
import type { Btf } from '../object/btf/btf.js';
import { coreRelocated } from '../object/relocate.js';
import { KFUNCS } from '../verifier/kfuncs.js';
import { KFUNC_FNS } from '../helpers/kfunc-fns.js';
import { kernelBtf } from '../verifier/kernel-btf.js';
import { POISON_HELPER_ID } from '../object/btf/core.js';
import { HELPERS } from '../uapi/helpers.js';
import { SK_BUFF } from '../uapi/ctx.js';

/** The verifier's entry point (src/verifier/index.ts verify), as the runtime calls it. */
export type ProgramCheck = (input: VerifierInput) => VerifierResult;

export interface PrepareContext {
  helpers: HelperRegistry;
  mapByName(name: string): BpfMap<unknown> | undefined;
  mapById(id: number): BpfMap<unknown> | undefined;
  check: ProgramCheck | null;
  spec?: CollectionSpec;
  numCpus: number;
  space: AddressSpace;
  privileged: boolean;
  logLevel?: 0 | 1 | 2;
  /** the BTF CO-RE relocations are resolved against (RuntimeOptions.coreTarget); default contextBtf() */
  coreTarget?: Btf;
  /** the kernel BTF tracing programs are judged against (RuntimeOptions.kernelBtf); default the verifier's shipped subset */
  kernelBtf?: Btf;
}

/** The address a BPF_PSEUDO_MAP_VALUE lddw designates: the array's value storage plus the offset (array_map_direct_value_addr). */
function directValueAddr(m: BpfMap<unknown>, off: number, prog: string, i: number): number {
  if (!(m instanceof ArrayMap)) throw new TsbpfError('EINVAL', `${prog}: insn ${i}: map ${m.name} (${m.type}) has no direct value access`);
  if (m.maxEntries !== 1) throw new TsbpfError('ENOTSUPP', `${prog}: insn ${i}: direct value access needs a single-element array (${m.name} has ${m.maxEntries})`);
  if (off < 0 || off >= m.valueSize) throw new TsbpfError('EINVAL', `${prog}: insn ${i}: invalid access to map value pointer, value_size=${m.valueSize} off=${off >>> 0}`);
  return m.valuesAddr + off;
}

function setImm64(insns: Insn[], i: number, v: number): void {
  insns[i]!.imm = v | 0;
  insns[i + 1]!.imm = 0;
}

/**
 * A program after relocation: CO-RE applied and every lddw that names a map
 * resolved to its address, as the kernel sees it after libbpf's
 * bpf_object__relocate and its own resolve_pseudo_ldimm64.
 */
export interface RelocatedProgram {
  name: string;
  insns: Insn[];
  /** the maps the program references (the kernel's used_maps): the program holds them while loaded */
  maps: BpfMap<unknown>[];
  /** the map each lddw designates, for the verifier */
  mapAt: Map<number, BpfMap<unknown>>;
  /** kfunc calls tsbpf implements (verifier/kfuncs.ts), by slot: judged by the verifier, then run as no-ops or calls of their run-time functions */
  kfuncs: Map<number, string>;
  /** lddw slots that load a kfunc's address (bpf_ksym_exists): BTF ids for the verifier, then a constant */
  ksymFuncs: Set<number>;
}

/**
 * Where a kfunc's address loads from once verified: a fixed, non-zero value in
 * the kernel's text range (the program can only compare it: the verifier gives
 * it 0 readable bytes), distinct per BTF id.
 */
const KSYM_FUNC_ADDR = 0xffff_ffff_8100_0000n;

/** Whether this runtime runs kfunc `name` (verifier/kfuncs.ts `runtime`), which needs the verifier to judge it first. */
function runsKfunc(ctx: PrepareContext, name: string | undefined): name is string {
  return !!ctx.check && name !== undefined && (KFUNCS.get(name)?.runtime ?? 'none') !== 'none';
}

/**
 * Step 1, relocate: CO-RE first (object/relocate.ts coreRelocated: the
 * target is the runtime's coreTarget or tsbpf's own types; existence checks
 * the target cannot satisfy become 0, other misses poison their instruction,
 * as libbpf), then the lddw map references, by name from the object or by id
 * for raw programs (the kernel ABI's fds).
 */
export function relocate(ps: ProgramSpec, ctx: PrepareContext): RelocatedProgram {
  const insns = coreRelocated(ps, ctx.spec?.btf, ctx.coreTarget);
  const name = ps.name;
  const n = insns.length;
  const resolved = new Set<number>();
  const used = new Map<number, BpfMap<unknown>>();
  const mapAt = new Map<number, BpfMap<unknown>>();
  const isLddw = (i: number): boolean => i >= 0 && i + 1 < n && insns[i]!.code === op.OP_LDDW;
  const kfuncs = new Map<number, string>();
  const ksymFuncs = new Set<number>();

  for (const ref of ps.references) {
    const i = ref.index;
    switch (ref.kind) {
      case 'map':
      case 'map_value': {
        if (!isLddw(i)) throw new TsbpfError('EINVAL', `${name}: insn ${i}: map reference on a non-lddw instruction`);
        const m = ctx.mapByName(ref.map ?? '');
        if (!m) throw new TsbpfError('EINVAL', `${name}: insn ${i}: reference to unknown map '${ref.map}'`);
        used.set(m.addr, m);
        mapAt.set(i, m);
        if (ref.kind === 'map') {
          insns[i]!.src = op.BPF_PSEUDO_MAP_FD;
          setImm64(insns, i, m.addr);
        } else {
          const off = insns[i + 1]!.imm;
          insns[i]!.src = op.BPF_PSEUDO_MAP_VALUE;
          setImm64(insns, i, directValueAddr(m, off, name, i));
        }
        resolved.add(i);
        break;
      }
      case 'kfunc':
        if (runsKfunc(ctx, ref.symbol)) {
          kfuncs.set(i, ref.symbol);
          break;
        }
        // A weak kfunc this runtime lacks is, as libbpf leaves it for a kernel without it, a call
        // of BTF id 0: the verifier refuses it only where its walk reaches it (bpf_ksym_exists guards).
        if (ctx.check && ref.weak) {
          insns[i]!.imm = 0;
          insns[i]!.off = 0;
          break;
        }
        throw new TsbpfError('ENOTSUPP', `${name}: insn ${i}: kfunc ${ref.symbol ?? '?'} is not supported by tsbpf`);
      case 'btf_id': {
        // A kfunc's address (bpf_ksym_exists): its BTF id in the kernel BTF for the verifier, when this
        // runtime runs it; 0 when it is weak and the runtime lacks it, as libbpf resolves it.
        const t = ref.ksymFunc && runsKfunc(ctx, ref.symbol) ? (ctx.kernelBtf ?? kernelBtf()).typeByName(ref.symbol, 'func') : undefined;
        if (t && isLddw(i)) {
          insns[i]!.src = op.BPF_PSEUDO_BTF_ID;
          setImm64(insns, i, t.id);
          ksymFuncs.add(i);
          resolved.add(i);
          break;
        }
        if (ref.ksymFunc && ctx.check && ref.weak && isLddw(i)) {
          insns[i]!.src = 0;
          setImm64(insns, i, 0);
          resolved.add(i);
          break;
        }
        throw new TsbpfError('ENOTSUPP', `${name}: insn ${i}: ksym ${ref.symbol ?? '?'} (BTF id) is not supported by tsbpf`);
      }
      default:
        break;
    }
  }

  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (ins.code !== op.OP_LDDW || i + 1 >= n) continue;
    if (!resolved.has(i)) {
      // Raw programs name maps as the kernel ABI does with fds: here, the map id.
      if (ins.src === op.BPF_PSEUDO_MAP_FD || ins.src === op.BPF_PSEUDO_MAP_VALUE) {
        const m = ctx.mapById(ins.imm >>> 0);
        if (!m) throw new TsbpfError('EBADF', `${name}: insn ${i}: fd ${ins.imm} is not pointing to valid bpf_map`);
        used.set(m.addr, m);
        mapAt.set(i, m);
        setImm64(insns, i, ins.src === op.BPF_PSEUDO_MAP_FD ? m.addr : directValueAddr(m, insns[i + 1]!.imm, name, i));
      } else if (ins.src === op.BPF_PSEUDO_MAP_IDX || ins.src === op.BPF_PSEUDO_MAP_IDX_VALUE || ins.src === op.BPF_PSEUDO_BTF_ID) {
        throw new TsbpfError('EINVAL', `${name}: insn ${i}: unresolved lddw with src ${ins.src}`);
      }
    }
    i++;
  }
  return { name, insns, maps: [...used.values()], mapAt, kfuncs, ksymFuncs };
}

/**
 * Step 2, validate: every call names a helper this runtime runs (or a
 * poisoned CO-RE instruction, or a kfunc tsbpf implements), and the
 * instructions are well formed (isa/validate.ts), before the verifier or
 * an engine sees them.
 */
export function validate(prog: RelocatedProgram, ctx: PrepareContext): void {
  const { name, insns, kfuncs } = prog;
  const n = insns.length;
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (ins.code === op.OP_LDDW && i + 1 < n) {
      i++;
      continue;
    }
    // A CO-RE relocation libbpf would poison: the verifier refuses it only where it is reachable.
    if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_HELPER && ins.imm === POISON_HELPER_ID) continue;
    if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_HELPER && !ctx.helpers.has(ins.imm)) {
      // A helper Linux defines (the helper catalog) that this runtime cannot run: unsupported, naming it.
      const info = HELPERS.get(ins.imm);
      if (info?.optIn) throw new TsbpfError('ENOTSUPP', `${name}: insn ${i}: helper bpf_${info.name}#${ins.imm} is not enabled in this runtime: call ${info.optIn} before loading`);
      if (info?.unmodelled) throw new TsbpfError('ENOTSUPP', `${name}: insn ${i}: helper bpf_${info.name}#${ins.imm} is not supported by tsbpf: ${info.unmodelled}`);
      if (info) throw new TsbpfError('ENOTSUPP', `${name}: insn ${i}: helper bpf_${info.name}#${ins.imm} is known to the verifier but not implemented by tsbpf`);
      throw unknownHelper(ins.imm, i);
    }
    // (a weak kfunc this runtime lacks: id 0, judged by the verifier where reachable, then dead)
    if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_KFUNC_CALL && !kfuncs.has(i) && !(ctx.check && ins.imm === 0 && ins.off === 0)) throw new TsbpfError('ENOTSUPP', `${name}: insn ${i}: kfunc calls are not supported by tsbpf`);
  }

  validateProgram(insns);
}

/** What the verifier proved about a program it accepted. */
export interface Verdict {
  aux?: ReadonlyArray<InsnAux | undefined>;
  log?: string;
  /** the end of the farthest context access (prog->aux->max_ctx_offset) */
  maxCtxOffset?: number;
}

/** A map's value BTF as the verifier needs it (spin-lock.ts): from the map's special fields. */
function withSpecialFields(info: VerifierMapInfo, m: BpfMap<unknown>): VerifierMapInfo {
  if (m.spec.btfValueTypeId === undefined) return info;
  const lock = m.specialFields.find(([, size]) => size === 4)?.[0];
  const timer = m.specialFields.find(([, size]) => size === 16)?.[0];
  const fields = { ...(lock !== undefined ? { spinLock: lock } : {}), ...(timer !== undefined ? { timer } : {}) };
  return { ...info, btf: true, ...(lock !== undefined || timer !== undefined ? { fields } : {}) };
}

/**
 * Step 3, verify (the kernel's bpf_check): the verifier judges the program
 * with the maps it references; a rejection throws. An accepted program's
 * instructions are then fixed up as the kernel does after verification:
 * implemented kfuncs and poisoned (dead) CO-RE instructions become no-ops.
 */
export function verify(ps: ProgramSpec, prog: RelocatedProgram, check: ProgramCheck, ctx: PrepareContext): Verdict {
  const { name, insns, mapAt, kfuncs, ksymFuncs } = prog;
  const mapList = [...new Set(mapAt.values())];
  const infos: VerifierMapInfo[] = mapList.map((m) => {
    const info: VerifierMapInfo = { name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags, frozen: m.frozen };
    const t = m.spec.innerMap;
    if (t) info.inner = { name: t.name, type: t.type, keySize: t.keySize, valueSize: t.valueSize, maxEntries: t.maxEntries, flags: t.flags };
    // A frozen global-data array's bytes let the verifier treat .rodata reads as constants.
    if (m.frozen && m instanceof ArrayMap && m.maxEntries === 1) info.contents = ctx.space.bytes(m.valuesAddr, m.valueSize).slice();
    // the value's BTF: that it has one, and its lock and timer (what the map learnt at creation)
    return withSpecialFields(info, m);
  });
  // A map-value lddw holds its address by now, its offset folded in; the verifier judges it by map and
  // offset (check_ld_imm reads insn[1].imm, before the kernel writes the address), so it sees the offset
  // there again. Without it, a .rodata constant or a bound would be taken at offset 0 of the value.
  // kptrs (verifier/kptr.ts): judged as Linux judges them, not run: the runtime keeps no
  // references to kernel objects in map values (nor frees them with the map)
  const kptrMap = mapList.find((m) => m.specialFields.some(([, size]) => size === KPTR_SIZE)
    || (m.spec.innerMap !== undefined && specialFieldsOf(m.spec.innerMap, ctx.spec?.btf).some(([, size]) => size === KPTR_SIZE)));
  if (kptrMap) throw new TsbpfError('ENOTSUPP', `${name}: map ${kptrMap.name}: its value holds kptr fields (__kptr), which tsbpf verifies but does not run`);
  const judged = insns.slice();
  for (const [i, m] of mapAt) {
    if (insns[i]!.src === op.BPF_PSEUDO_MAP_VALUE && m instanceof ArrayMap) judged[i + 1] = { ...insns[i + 1]!, imm: (insns[i]!.imm >>> 0) - m.valuesAddr };
  }
  const out = check({
    insns: judged,
    progType: ps.type,
    maps: infos,
    mapOfInsn: (i) => {
      const m = mapAt.get(i);
      return m ? mapList.indexOf(m) : undefined;
    },
    helpers: (id) => ctx.helpers.get(id),
    privileged: ctx.privileged,
    license: ps.license,
    // BPF_F_SLEEPABLE: libbpf sets it for the sleepable sections (SEC("syscall"), ".s" ones)
    sleepable: ps.sleepable === true,
    ...(ctx.logLevel !== undefined ? { logLevel: ctx.logLevel } : {}),
    ...(ps.lineInfo ? { lineInfo: ps.lineInfo } : {}),
    ...(ps.funcInfo ? { funcInfo: ps.funcInfo } : {}),
    ...(ctx.spec?.btf ? { btf: ctx.spec.btf } : {}),
    ...(ctx.kernelBtf ? { kernelBtf: ctx.kernelBtf } : {}),
    // tracing programs' targets and kfunc names (verifier/progtypes/tracing.ts, verifier/kfuncs.ts)
    ...(ps.attachType ? { attachType: ps.attachType } : {}),
    ...(ps.attachTo ? { attachTo: ps.attachTo } : {}),
    ...(ps.structOps ? { structOps: ps.structOps } : {}),
    ...(kfuncs.size ? { kfuncOfInsn: (i: number) => kfuncs.get(i) } : {}),
  });
  if (!out.ok) {
    if (out.error) throw out.error;
    throw new TsbpfError('EACCES', `${name}: the verifier rejected the program\n${out.log}`);
  }
  // a read the verifier typed but tsbpf's runtime cannot serve (verifier/btf-access.ts: a field of a
  // map's kernel struct its descriptor lacks): refused, never run with a value Linux would not give
  const unprovided = out.aux.findIndex((a) => a?.unprovided);
  if (unprovided >= 0)
    throw new TsbpfError('ENOTSUPP', `${name}: insn ${unprovided}: reads ${out.aux[unprovided]!.unprovided}, which tsbpf's maps do not provide (verified, not run)`);
  // struct_ops programs run as members of a kernel ops struct (tcp_congestion_ops, ...) the kernel
  // calls; tsbpf has none to register them in: verified, never run.
  if (ps.type === 'struct_ops')
    throw new TsbpfError('ENOTSUPP', `${name}: struct_ops programs (${ps.structOps ? `${ps.structOps.struct}.${ps.structOps.member}` : 'no ops struct'}) are verified but not run by tsbpf: it has no kernel ops struct to attach them to`);
  // A raw_tracepoint_writable program writes into its tracepoint's buffer (PTR_TO_TP_BUFFER, up to
  // max_tp_access bytes, which bpf_probe_register checks against the tracepoint's writable_size at
  // attach). tsbpf has no writable tracepoint to size that buffer, and the kernel has no test run for
  // the type: verified, never run.
  if (ps.type === 'raw_tracepoint_writable')
    throw new TsbpfError('ENOTSUPP', `${name}: raw_tracepoint_writable programs are verified but not run by tsbpf: it has no writable tracepoint (whose buffer size bounds the program's writes) to attach them to`);
  // A flow dissector's ctx->flow_keys points to the struct bpf_flow_keys the kernel's dissector
  // hands it (bpf_flow_dissect); tsbpf builds none, so a program that reads it is verified, not run.
  if (ps.type === 'flow_dissector' && out.stats.maxCtxOffset > SK_BUFF.flow_keys)
    throw new TsbpfError('ENOTSUPP', `${name}: flow_keys (struct bpf_flow_keys) is verified but not provided by tsbpf's runtime: flow dissector programs that read it are not run`);
  // The kfuncs tsbpf implements (verifier/kfuncs.ts), once verified: the no-op ones become a jump
  // to the next instruction, the others a call of their run-time function (helpers/kfunc-fns.ts);
  // a kfunc's address becomes a constant.
  for (const [i, name] of kfuncs) {
    const fn = KFUNC_FNS.get(name);
    insns[i] = fn ? { code: op.OP_CALL, dst: 0, src: op.BPF_PSEUDO_HELPER, off: 0, imm: fn.id } : { code: op.OP_JA, dst: 0, src: 0, off: 0, imm: 0 };
  }
  for (const i of ksymFuncs) {
    const addr = KSYM_FUNC_ADDR + BigInt(insns[i]!.imm >>> 0) * 16n;
    insns[i] = { ...insns[i]!, src: 0, imm: Number(BigInt.asIntN(32, addr)) };
    insns[i + 1] = { ...insns[i + 1]!, imm: Number(BigInt.asIntN(32, addr >> 32n)) };
  }
  // Calls left that the verifier found unreachable are dead code, as the kernel's sanitize_dead_code
  // rewrites them: poisoned CO-RE instructions, and calls of weak kfuncs this runtime lacks (id 0;
  // the implemented ones were rewritten above).
  for (const [i, ins] of insns.entries())
    if (ins.code === op.OP_CALL && ((ins.src === op.BPF_PSEUDO_HELPER && ins.imm === POISON_HELPER_ID) || ins.src === op.BPF_PSEUDO_KFUNC_CALL))
      insns[i] = { code: op.OP_JA, dst: 0, src: 0, off: 0, imm: 0 };
  return { aux: out.aux, log: out.log, maxCtxOffset: out.stats.maxCtxOffset };
}

/** Program types whose attach target's prototype is part of their context (the kernel's attach_func_proto). */
const TRACING_TYPES: ReadonlySet<string> = new Set(['tracing', 'lsm', 'ext', 'struct_ops']);

/**
 * The identity of a tracing program's attach prototype (aux->attach_func_proto):
 * the BTF type id of the target function's FUNC_PROTO in the kernel BTF the
 * verifier checks against (the tracepoint handler's prototype for tp_btf).
 * vmlinux BTF is deduplicated, so targets with the same prototype share it,
 * as they share the kernel's pointer. Undefined for other program types.
 */
export function attachFuncProto(ps: ProgramSpec): number | undefined {
  if (!TRACING_TYPES.has(ps.type) || !ps.attachTo) return undefined;
  const btf = kernelBtf();
  if (ps.attachType === 'trace_raw_tp') {
    const td = btf.typeByName(`btf_trace_${ps.attachTo}`, 'typedef');
    if (!td) return undefined;
    const p = btf.typeById(btf.resolve(td.id));
    return p.kind === 'ptr' ? btf.resolve(p.typeId) : undefined;
  }
  const f = btf.typeByName(ps.attachTo, 'func');
  return f && f.kind === 'func' ? f.typeId : undefined;
}
