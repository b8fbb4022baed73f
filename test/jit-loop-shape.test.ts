/**
 * The JIT runs a function that has loops inside four more WebAssembly
 * `loop`s that nothing branches back to (function-compiler.ts LOOP_WRAPPERS:
 * V8 unrolls a loop more the deeper it is nested). What that leans on: no
 * branch targets a wrapper, so
 * every program computes what it did before, loops at the top level, nested,
 * in subprograms and with early exits alike; a loop-free function is not
 * wrapped; and the deadline variant still stops a loop that never ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm/index.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine, dumpJited } from '../src/vm/jit/index.js';
import { RunDeadlineExceeded } from '../src/vm/fault.js';
import type { ProgramImage } from '../src/vm/engine.js';

const space = new AddressSpace({ initialPages: 4 });
const image = (src: string): ProgramImage => ({ name: 'loops', insns: assemble(src), helpers: new HelperRegistry(), space, verified: true });

function both(src: string, args: bigint[]): [bigint, bigint] {
  const exe = new JitEngine().prepare(image(src));
  try {
    return [exe.run({ args }), new Interpreter().prepare(image(src)).run({ args })];
  } finally {
    exe.close();
  }
}

/** the lines of function f0 (the program's entry), trimmed */
const f0Lines = (src: string): string[] => {
  const wat = dumpJited(image(src)).split('\n');
  const at = wat.findIndex((l) => l.includes('(func $f0'));
  const end = wat.findIndex((l, i) => i > at && l.includes('(func '));
  return wat.slice(at, end).map((l) => l.trim());
};

const TOP_LOOP = `
  r0 = 0
loop:
  r0 += r1
  r1 -= 1
  if r1 != 0 goto loop
  exit`;

test('a function with a loop is wrapped in four more loops; a loop-free one is not', () => {
  const looped = f0Lines(TOP_LOOP);
  // the wrappers open before the first instruction, the program's own loop after it
  assert.equal(looped.filter((l) => l === 'loop').length, 5, looped.join('\n'));
  const insn0 = looped.findIndex((l) => l.startsWith(';; insn 0'));
  assert.equal(looped.slice(0, insn0).filter((l) => l === 'loop').length, 4, looped.join('\n'));
  assert.equal(f0Lines('r0 = r1\nr0 += 1\nexit').filter((l) => l === 'loop').length, 0);
});

test('loops compute what the interpreter computes: top level, nested, early exits, subprograms', () => {
  const progs = [
    TOP_LOOP,
    // nested loops
    `r0 = 0
     r3 = r1
   outer:
     r4 = r2
   inner:
     r0 += r4
     r4 -= 1
     if r4 != 0 goto inner
     r3 -= 1
     if r3 != 0 goto outer
     exit`,
    // a loop left by a jump forward to a shared tail and by an exit
    `r0 = 0
   loop:
     r0 += 3
     if r0 > r2 goto tail
     if r0 == 99 goto out
     r1 -= 1
     if r1 != 0 goto loop
   tail:
     r0 *= 2
     exit
   out:
     r0 = 7
     exit`,
    // the loop in a bpf-to-bpf function, called from a loop
    `r6 = r1
     r7 = 0
   again:
     r1 = r6
     call sum
     r7 += r0
     r6 -= 1
     if r6 != 0 goto again
     r0 = r7
     exit
   sum:
     r0 = 0
   s:
     r0 += r1
     r1 -= 1
     if r1 != 0 goto s
     exit`,
  ];
  for (const src of progs) {
    for (const [a, b] of [[1n, 1n], [5n, 3n], [40n, 200n]] as const) {
      const [jit, interp] = both(src, [a, b]);
      assert.equal(jit, interp, `${src.trim().split('\n')[0]} (${a}, ${b})`);
    }
  }
});

test('an endless loop is still stopped by an instruction deadline', () => {
  const exe = new JitEngine().prepare(image('r0 = 0\nl: r0 += 1\nif r0 != 0 goto l\nexit'));
  try {
    assert.throws(() => exe.run({ args: [], deadline: { instructions: 100_000 } }), RunDeadlineExceeded);
  } finally {
    exe.close();
  }
});
