/**
 * The runtime services a module imports from `e` (compile.ts's header gives
 * their signatures; engine.ts supplies them): only those the program's code
 * can call, found by one scan of its instructions before any code is written
 * (function indices must be known then: imports come first in the index
 * space, Core Spec 2.5.1).
 *
 * Why not all of them: every imported JS function costs V8 a wrapper. On
 * Node 20 a module that imports one takes about 0.2 ms more to construct
 * (WebAssembly.Module) and each one about 0.05 ms more to instantiate,
 * where a 1,000-instruction program's whole compile is about 1.4 ms. A
 * verified program without calls, tail calls, callx or legacy packet loads
 * imports none of them.
 */
import { HELPER_TAIL_CALL } from '../../uapi/helper-ids.js';
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';
import type { CompileOptions } from './compile.js';
import { CompileError } from './compile-error.js';
import { I32, I64, type ModuleBuilder, type ValType } from './wasm.js';

/** The services, in import order. */
export const enum Service {
  /** e.fault(kind i32, pc i32, arg i64): raise a typed fault (layout.ts's FaultKind) */
  Fault = 0,
  /** e.tail(pc i32, ctx i64, map i64, idx i64) -> i32: 1 = tail call taken */
  Tail = 1,
  /** e.callx(pc i32, id i64, r1..r5 i64) -> i64: call a helper by run-time id */
  Callx = 2,
  /** e.ldpkt(pc i32, r6 i64, off i32, size i32) -> i64: legacy packet load, -1 = out of bounds */
  Ldpkt = 3,
  /** e.refuel(pc i32, fuel i32) -> i32: the deadline variant's slice is spent */
  Refuel = 4,
}

const SERVICES: ReadonlyArray<{ name: string; params: ValType[]; results: ValType[] }> = [
  { name: 'fault', params: [I32, I32, I64], results: [] },
  { name: 'tail', params: [I32, I64, I64, I64], results: [I32] },
  { name: 'callx', params: [I32, I64, I64, I64, I64, I64, I64], results: [I64] },
  { name: 'ldpkt', params: [I32, I64, I32, I32], results: [I64] },
  { name: 'refuel', params: [I32, I32], results: [I32] },
];

/**
 * The services `insns` compiled with `opts` may call, as a bit set (1 << Service).
 * It may say more than the code calls (an instruction in unreachable code), never less:
 * each emitter that calls a service is listed here with its condition.
 */
export function servicesUsed(insns: readonly Insn[], opts: CompileOptions): number {
  let used = 0;
  // checked variant: the budget charge per block (metering.ts) and every memory check (memory-access.ts)
  if (opts.budget) used |= 1 << Service.Fault;
  if (opts.fuel) used |= 1 << Service.Refuel;
  for (let i = 0; i < insns.length; i++) {
    const ins = insns[i]!;
    const code = ins.code;
    if (code === op.OP_LDDW) {
      i++; // its second slot's code is 0, which would read as an LD_ABS
      continue;
    }
    if (code === op.OP_CALL) {
      // a bpf-to-bpf call checks the call depth, a kfunc call faults (calls.ts)
      if (ins.src === op.BPF_PSEUDO_CALL || ins.src === op.BPF_PSEUDO_KFUNC_CALL) used |= 1 << Service.Fault;
      else if (ins.src === op.BPF_PSEUDO_HELPER && ins.imm === HELPER_TAIL_CALL) used |= 1 << Service.Tail;
    } else if (code === op.OP_CALLX) used |= 1 << Service.Callx;
    else if (op.classOf(code) === op.BPF_LD) used |= 1 << Service.Ldpkt; // LD_ABS/LD_IND
  }
  return used;
}

/** The function index of each imported service. */
export class RuntimeImports {
  private readonly index = new Int32Array(SERVICES.length).fill(-1);

  /** Import the services in `used` (servicesUsed) into `m`, before any other function. */
  constructor(m: ModuleBuilder, used: number) {
    SERVICES.forEach((s, k) => {
      if (used & (1 << k)) this.index[k] = m.importFunc('e', s.name, m.type(s.params, s.results));
    });
  }

  /** The function to call for service `s` at slot `pc`; a service servicesUsed missed is a compiler bug, never a wrong call. */
  func(s: Service, pc: number): number {
    const f = this.index[s]!;
    if (f < 0) throw new CompileError(pc, `runtime service e.${SERVICES[s]!.name} was not imported`);
    return f;
  }
}
