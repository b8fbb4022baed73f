/**
 * Outlining (src/vm/jit/outline.ts) with its default limits, on programs
 * large enough to be split: a long parser-like chain whose checks leave
 * early to a shared `drop` label, inside a loop with a long body (so that
 * regions branch out to the loop's head, out of the loop and to labels
 * that enclose them), a bpf-to-bpf call from inside a region, and stack
 * slots written in one region and read in another. The JIT's results must
 * be the interpreter's, in the plain and the checked variant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm/index.js';
import type { Insn } from '../src/isa/insn.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import type { ProgramImage, RunDeadline } from '../src/vm/engine.js';
import { RunDeadlineExceeded } from '../src/vm/fault.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine, printWat } from '../src/vm/jit/index.js';
import { DEFAULT_OUTLINE } from '../src/vm/jit/outline.js';

const BUF = 64;

/** r1 = a 64-byte buffer; the result folds every path taken. */
function bigProgram(checks: number): Insn[] {
  const l: string[] = ['r6 = r1', 'r7 = 0', 'r8 = 3', '*(u64 *)(r10 - 16) = r7'];
  l.push('loop:');
  for (let k = 0; k < checks; k++) {
    // A check per "field": an early exit to drop on one value (every 50th check), a diamond.
    l.push(
      `r2 = *(u8 *)(r6 + ${k % BUF})`,
      `if r2 == ${dropValue(k)} goto drop`,
      `if r2 > ${(k * 11) % 256} goto t${k}`,
      'r7 += r2',
      'r7 *= 3',
      `goto j${k}`,
      `t${k}:`,
      'r7 ^= r2',
      `j${k}:`,
    );
    if (k % 97 === 0) l.push('r1 = r7', 'call mix', 'r7 = r0');
    if (k % 131 === 0) l.push('r3 = *(u64 *)(r10 - 16)', 'r3 += r7', '*(u64 *)(r10 - 16) = r3');
    if (k % 400 === 399) l.push(`if r7 == ${k} goto loop`); // a branch back to the loop head from deep inside
  }
  l.push('r8 -= 1', 'if r8 != 0 goto loop', 'r0 = *(u64 *)(r10 - 16)', 'r0 ^= r7', 'exit');
  // drop: 0xd5 in the top byte, the loop count and r7's low half below (w0 = w7 zero-extends).
  l.push('drop:', 'w0 = w7', 'r3 = r8', 'r3 <<= 32', 'r0 |= r3', 'r3 = 0xd5', 'r3 <<= 56', 'r0 |= r3', 'exit');
  l.push('mix:', 'r0 = r1', 'r0 <<= 7', 'r0 ^= r1', 'r0 >>= 3', 'exit');
  return assemble(l.join('\n'));
}

/** the byte that makes check k leave early (none, above 255, for most checks) */
const dropValue = (k: number): number => (k % 50 === 0 ? (k * 37) % 256 : 256 + k);

const space = new AddressSpace({ initialPages: 16 });

function runOn(engine: JitEngine | Interpreter, insns: readonly Insn[], data: Uint8Array, verified: boolean, deadline?: RunDeadline): bigint {
  const buf = space.alloc(BUF);
  space.write(buf, data);
  try {
    const img: ProgramImage = { name: 'big', insns, helpers: new HelperRegistry(), space, verified };
    const exe = engine.prepare(img);
    try {
      return exe.run({ args: [BigInt(buf)], ...(deadline ? { deadline } : {}) });
    } finally {
      (exe as { close?: () => void }).close?.();
    }
  } finally {
    space.free(buf);
  }
}

test('a large program is outlined into regions and computes what the interpreter computes', () => {
  const insns = bigProgram(1500);
  assert.ok(insns.length > 4 * DEFAULT_OUTLINE.above, `${insns.length} instructions`);
  const jit = new JitEngine();
  const interp = new Interpreter();
  const exe = jit.prepare({ name: 'big', insns, helpers: new HelperRegistry(), space, verified: true });
  const main = exe.compiled.functions.find((f) => f.entry === 0)!;
  exe.close();
  // About one region per `target` instructions, several of them branching out of themselves.
  assert.ok(main.regions.length >= insns.length / DEFAULT_OUTLINE.target / 2, `${main.regions.length} regions`);
  assert.ok(main.regions.filter((r) => r.escapes > 0).length >= 2, 'regions that branch to labels outside them');
  // The small callee stays whole.
  assert.equal(exe.compiled.functions.find((f) => f.entry !== 0)!.regions.length, 0);
  assert.match(printWat(exe.compiled), /\(func \$f0\.r0 /);
  let drops = 0;
  // Half of the inputs avoid every early exit: all bytes one that no check drops on.
  let safe = 0;
  while (Array.from({ length: 1500 }, (_, k) => dropValue(k)).includes(safe)) safe++;
  for (let seed = 1; seed <= 8; seed++) {
    const data = new Uint8Array(BUF).map((_, i) => (Math.imul(seed * 131 + i, 2654435761) >>> 24) & 0xff);
    if (seed % 2) data.fill(safe);
    const want = runOn(interp, insns, data, true);
    if (want >> 56n === 0xd5n) drops++;
    for (const verified of [true, false]) assert.equal(runOn(jit, insns, data, verified), want, `seed ${seed}, ${verified ? 'plain' : 'checked'}`);
    // The deadline variant charges fuel at function entries and loop heads, regions included.
    assert.equal(runOn(jit, insns, data, true, { instructions: 1e7 }), want, `seed ${seed}, deadline`);
  }
  const data = new Uint8Array(BUF).fill(safe);
  for (const engine of [jit, interp]) assert.throws(() => runOn(engine, insns, data, true, { instructions: 20_000 }), RunDeadlineExceeded);
  assert.ok(drops > 0 && drops < 8, `runs that left early: ${drops} of 8`);
});

test('a function at or below the limit stays one WebAssembly function', () => {
  const insns = bigProgram(150);
  assert.ok(insns.length <= DEFAULT_OUTLINE.above);
  const exe = new JitEngine().prepare({ name: 'small', insns, helpers: new HelperRegistry(), space, verified: true });
  assert.deepEqual(
    exe.compiled.functions.map((f) => f.regions.length),
    exe.compiled.functions.map(() => 0),
  );
  exe.close();
});
