/**
 * Running a raw program the way the conformance suite does: r1 points at a
 * writable copy of the input memory, r2 holds its length (0 and 0 without
 * input), r10 is a 512-byte stack, and helper 5 returns its first argument.
 *
 * Also used by `tsbpf run` and the conformance plugin.
 */
import { TsbpfError } from '../errors.js';
import { HelperRegistry, type HelperDef } from '../vm/helper-abi.js';
import type { Insn } from '../isa/insn.js';
import { OP_LDDW, BPF_PSEUDO_FUNC } from '../isa/opcodes.js';
import { assemble } from '../isa/asm.js';
import { AddressSpace } from '../memory/address-space.js';
import type { Engine, Executable, ProgramImage } from '../vm/engine.js';
import { Interpreter } from '../vm/interpreter.js';
import { UnsupportedInsn } from '../vm/fault.js';
import type { ConformanceTest } from './data.js';

export type EngineKind = 'interpret' | 'jit';

/** The suite's only helper: id 5 returns r1 and does nothing else. */
const CONFORMANCE_HELPER: HelperDef = {
  id: 5,
  name: 'conformance_identity',
  proto: { ret: 'INTEGER', args: ['ANYTHING'] },
  fn: (_env, r1) => r1,
};

/**
 * The engine for `--interpret` or `--jit`. The JIT (src/vm/jit/index.ts) is
 * loaded on demand so that the interpreter works in builds without it.
 */
export async function loadEngine(kind: EngineKind): Promise<Engine> {
  if (kind === 'interpret') return new Interpreter();
  let mod: { JitEngine?: new () => Engine };
  try {
    mod = (await import('../vm/jit/index.js')) as typeof mod;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND')
      throw new TsbpfError('ENOSYS', 'the JIT engine (src/vm/jit/index.ts) is not part of this build; use --interpret');
    throw e;
  }
  if (typeof mod.JitEngine !== 'function') throw new TsbpfError('ENOSYS', 'src/vm/jit/index.ts does not export JitEngine');
  return new mod.JitEngine();
}

/**
 * lddw pseudo sources other than BPF_PSEUDO_FUNC name maps, map values or BTF
 * ids, which only a runtime can resolve: a raw program using them fails here
 * with a typed error rather than running with a meaningless value.
 */
function checkRawLddw(insns: readonly Insn[]): void {
  for (let i = 0; i < insns.length; i++) {
    const ins = insns[i]!;
    if (ins.code === OP_LDDW) {
      if (ins.src !== 0 && ins.src !== BPF_PSEUDO_FUNC)
        throw new UnsupportedInsn(i, `lddw with pseudo source ${ins.src} (a map or BTF reference) cannot be resolved in a raw program`);
      i++;
    }
  }
}

export interface RawRun {
  exe: Executable;
  space: AddressSpace;
  /** r1..r2 as the suite sets them */
  args: bigint[];
  /** address of the input copy (0 without input) */
  memAddr: number;
}

/** Prepare a raw program and its input as the suite's execution contract says. */
export function prepareRaw(insns: readonly Insn[], mem: Uint8Array | undefined, engine: Engine, name = 'raw'): RawRun {
  checkRawLddw(insns);
  const space = new AddressSpace({ initialPages: 4 });
  let memAddr = 0;
  const len = mem?.length ?? 0;
  if (mem !== undefined && len > 0) {
    memAddr = space.alloc(len);
    space.write(memAddr, mem);
    space.addRegion({ base: memAddr, size: len, kind: 'input', name: 'input memory', writable: true });
  }
  const image: ProgramImage = {
    name,
    insns,
    helpers: new HelperRegistry([CONFORMANCE_HELPER]),
    space,
  };
  const exe = engine.prepare(image);
  return { exe, space, args: [BigInt(memAddr), BigInt(len)], memAddr };
}

/** Run a raw program once; returns r0. */
export function runRaw(insns: readonly Insn[], mem: Uint8Array | undefined, engine: Engine, budget?: number): bigint {
  const r = prepareRaw(insns, mem, engine);
  return r.exe.run(budget === undefined ? { args: r.args } : { args: r.args, budget });
}

/** The program of a test: its `-- asm` through our assembler, else its `-- raw` words. */
export function testProgram(t: ConformanceTest): Insn[] {
  if (t.asm !== undefined) return assemble(t.asm, { dialect: 'conformance' });
  return t.raw!;
}

export interface TestOutcome {
  name: string;
  pass: boolean;
  /** r0 when the program ran */
  value?: bigint;
  /** the error when it did not */
  error?: string;
  message?: string;
}

/** Budget for suite programs: all terminate within a few thousand instructions. */
export const CONFORMANCE_BUDGET = 10_000_000;

export function runTest(t: ConformanceTest, engine: Engine): TestOutcome {
  let value: bigint;
  try {
    value = runRaw(testProgram(t), t.hasMem ? t.mem : undefined, engine, CONFORMANCE_BUDGET);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (t.error !== undefined) return { name: t.name, pass: true, error: msg };
    return { name: t.name, pass: false, error: msg, message: `error: ${msg}` };
  }
  if (t.error !== undefined) return { name: t.name, pass: false, value, message: `expected error '${t.error}', got r0 = 0x${value.toString(16)}` };
  const pass = value === t.result;
  return pass
    ? { name: t.name, pass, value }
    : { name: t.name, pass, value, message: `r0 = 0x${value.toString(16)}, expected 0x${t.result!.toString(16)}` };
}
