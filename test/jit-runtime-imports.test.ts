/**
 * The runtime services a compiled module imports (src/vm/jit/runtime-imports.ts):
 * exactly the ones its code can call, each in the variant that needs it, and
 * a program that needs none imports only the memory. Running them is the
 * conformance and JIT suites' part; this checks the module's import section.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm/index.js';
import type { Insn } from '../src/isa/insn.js';
import { compileProgram, type CompileOptions } from '../src/vm/jit/compile.js';

const PLAIN: CompileOptions = { shared: false, budget: false, stackSize: 512, stackBase: 1 << 16, memMinPages: 0, memMaxPages: undefined };

/** The `e` imports of `insns` compiled with `opts`, in import order (memory included). */
function runtimeImports(insns: Insn[], opts: CompileOptions = PLAIN): string[] {
  const m = new WebAssembly.Module(compileProgram(insns, opts).bytes as BufferSource);
  return WebAssembly.Module.imports(m)
    .filter((i) => i.module === 'e')
    .map((i) => i.name);
}

test('a program without calls or packet loads imports only the memory', () => {
  // lddw's second slot has opcode 0, which must not read as an LD_ABS
  const insns = assemble(['r0 = 0x123456789 ll', 'r1 = 7', '*(u64 *)(r10 - 8) = r1', 'r0 += r1', 'exit'].join('\n'));
  assert.deepEqual(runtimeImports(insns), ['mem']);
});

test('each service is imported by the code that calls it', () => {
  // bpf-to-bpf call: the call-depth check faults
  assert.deepEqual(runtimeImports(assemble(['call pc+2', 'r0 = 0', 'exit', 'r0 = 1', 'exit'].join('\n'))), ['fault', 'mem']);
  // bpf_tail_call (helper 12)
  assert.deepEqual(runtimeImports(assemble(['r2 = 0', 'r3 = 0', 'call 12', 'r0 = 0', 'exit'].join('\n'))), ['tail', 'mem']);
  assert.deepEqual(runtimeImports(assemble(['r2 = 1', 'callx r2', 'exit'].join('\n'))), ['callx', 'mem']);
  assert.deepEqual(runtimeImports(assemble(['r6 = r1', 'r0 = *(u16 *)skb[12]', 'exit'].join('\n'))), ['ldpkt', 'mem']);
  assert.deepEqual(runtimeImports(assemble(['r6 = r1', 'r2 = 1', 'r0 = *(u32 *)skb[r2 + 8]', 'exit'].join('\n'))), ['ldpkt', 'mem']);
});

test('the checked and deadline variants import fault and refuel', () => {
  const insns = assemble(['r0 = 1', 'exit'].join('\n'));
  assert.deepEqual(runtimeImports(insns, { ...PLAIN, budget: true }), ['fault', 'mem']);
  assert.deepEqual(runtimeImports(insns, { ...PLAIN, fuel: true }), ['refuel', 'mem']);
  // all of them, in the order compile.ts documents
  const all = assemble(['r6 = r1', 'r0 = *(u8 *)skb[0]', 'r2 = 0', 'r3 = 0', 'call 12', 'r2 = 1', 'callx r2', 'call pc+1', 'exit', 'r0 = 0', 'exit'].join('\n'));
  assert.deepEqual(runtimeImports(all, { ...PLAIN, budget: true, fuel: true }), ['fault', 'tail', 'callx', 'ldpkt', 'refuel', 'mem']);
});
