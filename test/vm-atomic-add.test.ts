/**
 * The interpreter's non-shared fast path for atomic add (32-bit halves with a
 * carry): same results as the JIT and as 64-bit arithmetic, with and
 * without BPF_FETCH.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insn, lddw, type Insn } from '../src/isa/insn.js';
import * as op from '../src/isa/opcodes.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine } from '../src/vm/jit/index.js';

const M64 = (1n << 64n) - 1n;
const space = new AddressSpace({ initialPages: 32 });

/** r1 = mem; r2 = addend; lock *(size *)(r1 + 0) += r2 (fetch: r2 = old); r0 = r2; exit */
function prog(size: number, addend: bigint, fetch: boolean): Insn[] {
  return [
    ...lddw(2, addend),
    insn(op.BPF_STX | op.BPF_ATOMIC | size, 1, 2, 0, op.BPF_ADD | (fetch ? op.BPF_FETCH : 0)),
    insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 0, 2),
    insn(op.OP_EXIT),
  ];
}

test('atomic add: 64-bit carries and wraps, 32-bit wraps and zero-extends the fetched value; both engines agree', () => {
  const mem = space.alloc(8, 8);
  const cases: Array<[bigint, bigint]> = [
    [0xffffffffn, 1n],
    [0n, M64],
    [0x7fffffffffffffffn, 1n],
    [0xfffffffffffffffen, 0x100000003n],
    [0x123456789n, 0xfedcba987n],
  ];
  for (const e of [new Interpreter(), new JitEngine()]) {
    for (const [init, add] of cases) {
      for (const fetch of [false, true]) {
        space.writeU64(mem, init);
        const r0 = e.prepare({ name: 'add64', insns: prog(op.BPF_DW, add, fetch), helpers: new HelperRegistry(), space, verified: true }).run({ args: [BigInt(mem)] });
        assert.equal(space.readU64(mem), (init + add) & M64, `${e.kind} ${init} + ${add}`);
        assert.equal(r0, fetch ? init : add);
        space.writeU64(mem, init);
        const r32 = e.prepare({ name: 'add32', insns: prog(op.BPF_W, add, fetch), helpers: new HelperRegistry(), space, verified: true }).run({ args: [BigInt(mem)] });
        const lo = init & 0xffffffffn;
        assert.equal(space.readU64(mem), (init & ~0xffffffffn) | ((lo + add) & 0xffffffffn), `${e.kind} 32-bit ${init} + ${add}`);
        assert.equal(r32, fetch ? lo : add);
      }
    }
  }
  space.free(mem);
});
