/**
 * Addresses the JIT sums in i32 (src/vm/jit/address-sum.ts): `r2 = r6;
 * r2 += r1; *(r2 + off)` reaches exactly the memory the plain form
 * `wrap(r2) + off` reaches, for every value of the registers (wrap-around
 * and high halves included), facts end where a register they read is
 * written or a block starts, and an address past the memory still traps
 * instead of reaching anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm/index.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine, JitMemoryFault, dumpJited } from '../src/vm/jit/index.js';
import type { ProgramImage } from '../src/vm/engine.js';

const space = new AddressSpace({ initialPages: 4 });
const BUF = 256;
const base = space.alloc(BUF);
space.write(base, Uint8Array.from({ length: BUF }, (_, i) => (i * 7 + 3) & 0xff));

const image = (src: string): ProgramImage => ({ name: 'sum', insns: assemble(src), helpers: new HelperRegistry(), space, verified: true });

function jit(src: string, args: bigint[]): bigint {
  const exe = new JitEngine().prepare(image(src));
  try {
    return exe.run({ args });
  } finally {
    exe.close();
  }
}

function interp(src: string, args: bigint[]): bigint {
  return new Interpreter().prepare(image(src)).run({ args });
}

/** r1 = base, r2 = index: the byte at base + index + 5 through the summed address */
const SUMMED = `
  r6 = r1
  r7 = r2
  r3 = r6
  r3 += r7
  r0 = *(u8 *)(r3 + 5)
  exit`;
/** the same access with the sum hidden from the tracker (an OR of 0 is a write it does not model) */
const PLAIN = `
  r6 = r1
  r7 = r2
  r3 = r6
  r3 += r7
  r3 |= 0
  r0 = *(u8 *)(r3 + 5)
  exit`;

test('the summed address is emitted in i32 and the plain one is not', () => {
  const summed = dumpJited(image(SUMMED));
  const plain = dumpJited(image(PLAIN));
  const load = /i32\.add\s+i64\.load8_u offset=5/;
  assert.match(summed, load);
  assert.doesNotMatch(plain, load);
});

test('a summed address reaches the same byte as the plain form, for any register values', () => {
  const M64 = 1n << 64n;
  const idx = [0n, 1n, 100n, 250n, -5n + M64, -1n + M64, (1n << 32n) + 10n, (0xdeadn << 40n) | 17n, (1n << 63n) | 3n];
  for (const i of idx) {
    const want = space.u8[(base + Number(BigInt.asUintN(32, i)) + 5) >>> 0];
    const args = [BigInt(base), i];
    assert.equal(jit(SUMMED, args), jit(PLAIN, args), `index 0x${i.toString(16)}`);
    assert.equal(jit(SUMMED, args), BigInt(want!), `index 0x${i.toString(16)}`);
  }
  // in range, the interpreter (which checks every access) agrees
  for (const i of [0n, 17n, 250n]) assert.equal(jit(SUMMED, [BigInt(base), i]), interp(SUMMED, [BigInt(base), i]));
});

test('a summed address past the end of memory traps', () => {
  const end = BigInt(space.memory.buffer.byteLength);
  assert.throws(() => jit(SUMMED, [BigInt(base), end - BigInt(base)]), JitMemoryFault);
  assert.throws(() => jit(SUMMED, [end - 3n, 0n]), JitMemoryFault);
});

test('a fact ends when a register it reads is written, or at a block boundary', () => {
  const progs = [
    // the index changes after the sum: the access must use the old one
    `r6 = r1
     r3 = r6
     r3 += r2
     r2 += 9
     r0 = *(u8 *)(r3 + 0)
     exit`,
    // the base changes after the sum
    `r6 = r1
     r3 = r6
     r3 += r2
     r6 += 40
     r0 = *(u8 *)(r3 + 0)
     exit`,
    // a constant, then a register, then a constant
    `r3 = r1
     r3 += 8
     r3 += r2
     r3 += -3
     r0 = *(u8 *)(r3 + 1)
     exit`,
    // the sum's register is overwritten by a 32-bit move
    `r3 = r1
     r3 += r2
     w3 = w1
     r0 = *(u8 *)(r3 + 2)
     exit`,
    // two paths join with different definitions of r3
    `r3 = r1
     r3 += r2
     if r2 > 10 goto join
     r3 = r1
     r3 += 100
   join:
     r0 = *(u8 *)(r3 + 0)
     exit`,
    // the same register summed with itself, and a load into a term register
    `r3 = r1
     r3 += r2
     r2 = *(u8 *)(r3 + 0)
     r4 = r1
     r4 += r2
     r0 = *(u8 *)(r4 + 0)
     r0 <<= 8
     r5 = *(u8 *)(r3 + 1)
     r0 |= r5
     exit`,
  ];
  for (const src of progs) {
    for (const i of [0n, 5n, 12n, 50n]) {
      const args = [BigInt(base), i];
      assert.equal(jit(src, args), interp(src, args), `${src.split('\n').slice(0, 4).join(';')} with index ${i}`);
    }
  }
});
