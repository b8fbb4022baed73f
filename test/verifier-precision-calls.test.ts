/**
 * Static precision across bpf-to-bpf calls and at the main program's exit
 * (src/verifier/precision.ts). A function reaches its caller's stack only
 * through its arguments, so the caller's spilled scalars matter before a call
 * only when the function reads through such an argument for a check; writing
 * its result there (`*res = val`, libbpf's bpf_usdt_arg) reads nothing. The
 * main program's r0 matters at its exit only where the program type checks a
 * return range; a function's r0 always does (its caller may use it). Kernel
 * verdicts for the same shapes: test/verifier-corpus/precision-loops.txt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm.js';
import { verify } from '../src/verifier/index.js';
import { computePrecise, slotMatters } from '../src/verifier/precision.js';
import type { Insn } from '../src/isa/insn.js';

/** Function starts: 0 and every bpf-to-bpf call's target. */
function starts(insns: readonly Insn[]): number[] {
  const s = new Set([0]);
  insns.forEach((ins, i) => {
    if (ins.code === 0x85 && ins.src === 1) s.add(i + 1 + ins.imm);
  });
  return [...s].sort((a, b) => a - b);
}

/** The caller spills a value it computed into fp-8, passes &fp-8 to `fn`, then stores fp-8 into a map value. */
const caller = (fnBody: string): string => `
    r6 = r1
    call bpf_get_prandom_u32
    *(u64 *)(r10 -8) = r0
    r1 = r10
    r1 += -8
    call fn
    r1 = *(u64 *)(r10 -8)
    r0 = 0
    exit
  fn:
${fnBody}`;
const CALL = 5; // the `call fn` instruction

test('precision: a function that only writes through a pointer to its caller\'s stack leaves the caller\'s slot imprecise', () => {
  const insns = assemble(caller(`
    r6 = r1
    call bpf_get_prandom_u32
    *(u64 *)(r6 +0) = r0
    r0 = 0
    exit`), { dialect: 'kernel' });
  // bpf_get_prandom_u32 takes no argument (its prototype, as the verifier passes it)
  const p = computePrecise(insns, starts(insns), () => ({ args: 0, readsStack: false, stackArgs: 0 }));
  const fn = starts(insns)[1]!;
  assert.equal(p.readsCaller[fn], 0, 'the function reads nothing through its argument');
  assert.equal(slotMatters(p, CALL, 0), false, 'fp-8 does not matter before the call');
});

test('precision: a function that reads its caller\'s slot into a check makes the slot matter before the call', () => {
  const insns = assemble(caller(`
    r2 = *(u64 *)(r1 +0)
    if r2 > 10 goto big
    r0 = 0
    exit
  big:
    r0 = 1
    exit`), { dialect: 'kernel' });
  const p = computePrecise(insns, starts(insns));
  const fn = starts(insns)[1]!;
  assert.equal(p.readsCaller[fn], 1, 'the function reads through its argument into a branch');
  assert.equal(slotMatters(p, CALL, 0), true, 'fp-8 matters before the call');
});

test('precision: a function passing the pointer on to a helper that reads the key makes the slot matter', () => {
  const insns = assemble(caller(`
    r2 = r1
    r1 = 0 ll
    call bpf_map_lookup_elem
    r0 = 0
    exit`), { dialect: 'kernel' });
  const p = computePrecise(insns, starts(insns), () => ({ args: 0b110, readsStack: true, stackArgs: 0b100 }));
  assert.equal(slotMatters(p, CALL, 0), true, 'the key read by the helper comes from the caller\'s fp-8');
});

test('precision: a function given no pointer to the stack cannot read it', () => {
  // The same function reads through r1, but the caller passes the context, not a stack pointer.
  const insns = assemble(`
    r6 = r1
    call bpf_get_prandom_u32
    *(u64 *)(r10 -8) = r0
    r1 = r6
    call fn
    r1 = *(u64 *)(r10 -8)
    r0 = 0
    exit
  fn:
    r2 = *(u32 *)(r1 +0)
    if r2 > 10 goto big
    r0 = 0
    exit
  big:
    r0 = 1
    exit`, { dialect: 'kernel' });
  const p = computePrecise(insns, starts(insns));
  assert.equal(slotMatters(p, 4, 0), false, 'fp-8 does not matter before a call that gets no stack pointer');
});

test('precision: the main program\'s r0 matters at exit only with a return range; a function\'s always', () => {
  const insns = assemble(`
    r0 = 5
    call fn
    r0 = 7
    exit
  fn:
    r0 = 3
    exit`, { dialect: 'kernel' });
  const s = starts(insns);
  const withRange = computePrecise(insns, s, undefined, true);
  const noRange = computePrecise(insns, s, undefined, false);
  assert.equal(withRange.regs[3]! & 1, 1, 'r0 before the main exit, return range checked');
  assert.equal(noRange.regs[3]! & 1, 0, 'r0 before the main exit, no return range');
  assert.equal(noRange.regs[s[1]! + 1]! & 1, 1, 'r0 before a function\'s exit');
});

test('may_goto: a counter that bounds an array index stays exact; one that overruns it is caught', () => {
  const prog = (bound: number) => assemble(`
    r1 = 0
    r2 = r10
    r2 += -64
  loop:
    may_goto out
    *(u64 *)(r2 +0) = r1
    r2 += 8
    r1 += 1
    if r1 != ${bound} goto loop
  out:
    r0 = 0
    exit`, { dialect: 'kernel' });
  const ok = verify({ insns: prog(8), progType: 'socket_filter', maps: [] });
  assert.equal(ok.ok, true, ok.error?.kernelMessage);
  const bad = verify({ insns: prog(9), progType: 'socket_filter', maps: [] });
  assert.equal(bad.ok, false);
  assert.match(bad.error!.kernelMessage, /invalid (write to )?stack|stack/i);
});
