/**
 * The test-run driver shared by every program type: prepare the context and
 * packet in the address space, run the program `repeat` times on the same
 * state (as the kernel does: adjustments accumulate across repetitions),
 * time it, and read the outputs back.
 */
import type { Executable } from '../../vm/engine.js';
import type { Insn } from '../../isa/insn.js';
import { OP_CALL, OP_LDDW, BPF_PSEUDO_HELPER } from '../../isa/opcodes.js';
import { BPF_FUNC } from '../../uapi/helper-ids.js';
import { releaseHeld, type HelperHost, type HelperRun, type RedirectTarget, type SkbPacket, type XdpPacket } from '../../helpers/env.js';
import type { AddressSpace } from '../../memory/address-space.js';
import type { NetDevice } from '../netdev.js';
import { prepareXdp } from './xdp.js';
import { prepareSkb } from './skb.js';
import { prepareCtxBuffer } from './ctxbuf.js';
import { TestRunError, type TestRunOptions, type TestRunResult } from './types.js';
import { nowMs } from '../../clock.js';

export interface PreparedRun {
  /** address of the context (r1) */
  ctx: number;
  packet?: XdpPacket | SkbPacket;
  /** the CPU to run on */
  cpu?: number;
  /** where LD_ABS/LD_IND read (socket filters) */
  legacyPacket?: (ctx: bigint) => { data: number; len: number } | undefined;
  finish(retval: number, duration: number): TestRunResult;
  release(): void;
}

/** The per-run state helpers see as ExecEnv.run; also the interpreter's legacy packet source. */
export class RunState implements HelperRun {
  redirect?: RedirectTarget;
  constructor(
    readonly host: HelperHost,
    readonly progType: string,
    readonly progName: string,
    readonly ctx: number,
    readonly packet: XdpPacket | SkbPacket | undefined,
    readonly scratch: number,
    private readonly legacy?: (ctx: bigint) => { data: number; len: number } | undefined,
  ) {}
  legacyPacket(ctx: bigint): { data: number; len: number } | undefined {
    return this.legacy?.(ctx);
  }
}

export interface TestRunTarget {
  name: string;
  type: string;
  expectedAttachType?: string;
  /** prog->aux->max_ctx_offset: a raw_tp run needs at least this much ctx_in */
  maxCtxOffset?: number;
  exec: Executable;
}

export interface TestRunEnv {
  space: AddressSpace;
  host: HelperHost;
  devices: ReadonlyMap<number, NetDevice>;
  numCpus: number;
  /** scratch block for helpers (redirect_map keys) */
  scratch: number;
}

const SKB_TYPES = new Set(['socket_filter', 'sched_cls', 'sched_act', 'cgroup_skb', 'lwt_in', 'lwt_out', 'lwt_xmit']);
// (raw_tracepoint_writable is not one: the kernel's raw_tracepoint_writable_prog_ops has no
// test_run, so BPF_PROG_TEST_RUN gives ENOTSUPP; a ctx_in would hand the program a writable
// buffer of a size nobody checked against its max_tp_access.)
const CTX_TYPES = new Set(['raw_tracepoint', 'syscall', 'kprobe', 'tracepoint', 'tracing']);

/** Helpers that leave a result in RunState.redirect, which every repetition starts without. */
const REDIRECTS: ReadonlySet<number> = new Set([BPF_FUNC.redirect, BPF_FUNC.redirect_map]);

/**
 * The repetitions may run in the engine's own loop (Executable.runRepeat)
 * unless the program sets per-run state the loop here resets (a redirect).
 */
function engineLoopFits(insns: readonly Insn[]): boolean {
  for (let i = 0; i < insns.length; i++) {
    const ins = insns[i]!;
    if (ins.code === OP_LDDW) i++;
    else if (ins.code === OP_CALL && ins.src === BPF_PSEUDO_HELPER && REDIRECTS.has(ins.imm)) return false;
  }
  return true;
}

/** The kernel caps the reported average at U32_MAX ns. */
const U32_MAX = 0xffffffff;

const now: () => number = nowMs;

export function testRun(env: TestRunEnv, prog: TestRunTarget, opts: TestRunOptions = {}): TestRunResult {
  const repeat = opts.repeat ?? 0;
  if (!Number.isInteger(repeat) || repeat < 0 || repeat > U32_MAX) throw new TestRunError('EINVAL', `invalid repeat ${repeat}`);
  let prep: PreparedRun;
  if (prog.type === 'xdp') prep = prepareXdp(env.space, opts, env.devices, prog.expectedAttachType);
  else if (SKB_TYPES.has(prog.type)) {
    if (prog.type === 'lwt_xmit') throw new TestRunError('EOPNOTSUPP', 'lwt_xmit test runs need IPv6 routing');
    prep = prepareSkb(env.space, prog.type, opts, env.devices);
  } else if (CTX_TYPES.has(prog.type)) prep = prepareCtxBuffer(env.space, prog.type, opts, env.numCpus, prog.maxCtxOffset ?? 0);
  // The kernel's BPF_PROG_TEST_RUN: program types without a test_run op give ENOTSUPP.
  else throw new TestRunError('ENOTSUPP', `program type ${prog.type} has no test run`);
  try {
    const state = new RunState(env.host, prog.type, prog.name, prep.ctx, prep.packet, env.scratch, prep.legacyPacket);
    const runs = Math.max(1, repeat);
    const args = [BigInt(prep.ctx)];
    const cpu = prep.cpu ?? 0;
    let r0 = 0n;
    // One RunArgs for every repetition (engines only read it).
    const runArgs = { args, cpu, run: state, ...(opts.deadline ? { deadline: opts.deadline } : {}) };
    const exec = prog.exec;
    // The kernel's bpf_test_run loop: in the engine (the JIT's stays in WebAssembly) where it
    // can, one run per call from here otherwise.
    const inEngine = exec.runRepeat !== undefined && opts.deadline === undefined && engineLoopFits(exec.image.insns);
    const t0 = now();
    try {
      const last = inEngine ? exec.runRepeat!(prep.ctx, cpu, state, runs) : undefined;
      if (last !== undefined) r0 = BigInt(last >>> 0);
      else
        for (let i = 0; i < runs; i++) {
          state.redirect = undefined;
          r0 = exec.run(runArgs);
        }
    } finally {
      // A repetition stopped half-way (a deadline) gives back the ring buffer records it reserved.
      releaseHeld(state);
    }
    const elapsed = now() - t0;
    const duration = Math.min(U32_MAX, Math.floor((elapsed * 1e6) / runs));
    const result = prep.finish(Number(r0 & 0xffffffffn), duration);
    if (state.redirect) result.redirect = state.redirect;
    if (opts.dataSizeOut !== undefined && result.data && result.data.length > opts.dataSizeOut) {
      throw Object.assign(new TestRunError('ENOSPC', `output of ${result.data.length} bytes exceeds data_size_out ${opts.dataSizeOut}`), { result });
    }
    return result;
  } finally {
    prep.release();
  }
}
