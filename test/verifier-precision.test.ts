/**
 * Static precision (src/verifier/precision.ts): pruning compares a scalar
 * only when its value can matter later. Each program below reaches the same
 * join with r2 = 0 on one path and r2 = 104 on the other, with a checkpoint
 * at the join (enough instructions and jumps since the last one). When r2 is
 * dead weight the second path is pruned there; when r2 later becomes a stack
 * offset (directly, through a copy, through a spill), a helper's size, a
 * branch condition or the return value, the second path must be explored
 * and rejected. Verdicts checked against Linux 6.18 (bpftool/libbpf load of
 * the same instructions): benign accepted; every other one rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm.js';
import { verify } from '../src/verifier/index.js';
import { computePrecise, slotMatters, BRANCH_FALL, BRANCH_SINK, BRANCH_TARGET } from '../src/verifier/precision.js';
import { successorTable } from '../src/isa/control-flow.js';
import type { ProgTypeName } from '../src/object/spec.js';

const PREFIX = `
  r5 = 1
  r5 = 2
  r5 = 3
  r5 = 4
  r5 = 5
  r5 = 6
  r6 = r1
  call bpf_get_prandom_u32
  r7 = r0
  if r7 == 1234 goto +0
  if r7 > 10 goto big
  r2 = 0
  r5 = 7
  r5 = 8
  r5 = 9
  r5 = 10
  r5 = 11
  r5 = 12
  goto join
big:
  r2 = 104
join:
`;
/** Instruction index of `join:` in PREFIX. */
const JOIN = 20;

const CASES: Array<{ name: string; tail: string; accept: boolean; type?: ProgTypeName }> = [
  { name: 'benign', accept: true, tail: 'r2 += 1\nr2 = 0\nr0 = 0\nexit' },
  { name: 'stack offset', accept: false, tail: 'r3 = r10\nr3 += -8\nr3 += r2\nr1 = 0\n*(u64 *)(r3 +0) = r1\nr0 = 0\nexit' },
  { name: 'offset through a copy', accept: false, tail: 'r3 = r2\nr3 += 1\nr4 = r10\nr4 += -8\nr4 += r3\nr1 = 0\n*(u64 *)(r4 -1) = r1\nr0 = 0\nexit' },
  { name: 'offset through a spill', accept: false, tail: '*(u64 *)(r10 -16) = r2\nr3 = *(u64 *)(r10 -16)\nr4 = r10\nr4 += -8\nr4 += r3\nr1 = 0\n*(u64 *)(r4 +0) = r1\nr0 = 0\nexit' },
  { name: 'branch condition', accept: false, tail: 'if r2 > 50 goto bad\nr0 = 0\nexit\nbad:\nr0 = *(u64 *)(r10 +8)\nexit' },
  { name: 'helper size', accept: false, tail: 'r1 = r6\nr3 = r10\nr3 += -16\nr4 = r2\nr4 += 8\nr2 = 0\ncall bpf_skb_load_bytes\nr0 = 0\nexit' },
  { name: 'return value', accept: false, type: 'cgroup_skb', tail: 'r0 = r2\nexit' },
];

for (const c of CASES) {
  test(`precision: r2 ${c.name} → ${c.accept ? 'accepted (pruned at the join)' : 'rejected'}`, () => {
    const insns = assemble(PREFIX + c.tail, { dialect: 'kernel' });
    const res = verify({ insns, progType: c.type ?? 'socket_filter', logLevel: 1 });
    assert.equal(res.ok, c.accept, res.error?.kernelMessage ?? 'accepted');
    const mask = computePrecise(insns, [0]).regs[JOIN]!;
    assert.equal(Boolean(mask & (1 << 2)), !c.accept, `r2 precise at the join: mask ${mask.toString(2)}`);
    // The benign case is pruned at the join although r2 differs (0 and 104) between the paths.
    if (c.accept) assert.match(res.log, new RegExp(`^${JOIN}: safe$`, 'm'));
  });
}

/** The same join, with r2 spilled to fp-16 on both paths before it (r2 itself is dead after the join). */
const SPILL_PREFIX = PREFIX.replace('  goto join\n', '  *(u64 *)(r10 -16) = r2\n  goto join\n').replace('  r2 = 104\n', '  r2 = 104\n  *(u64 *)(r10 -16) = r2\n');
const SPILL_JOIN = 22;
const SPILL_CASES = [
  { name: 'never read back', accept: true, tail: 'r0 = 0\nexit' },
  { name: 'read back into a stack offset', accept: false, tail: 'r3 = *(u64 *)(r10 -16)\nr4 = r10\nr4 += -8\nr4 += r3\nr1 = 0\n*(u64 *)(r4 +0) = r1\nr0 = 0\nexit' },
  { name: 'read back in part into a branch', accept: false, tail: 'r3 = *(u32 *)(r10 -16)\nif r3 > 50 goto bad\nr0 = 0\nexit\nbad:\nr0 = *(u64 *)(r10 +8)\nexit' },
];
for (const c of SPILL_CASES) {
  test(`precision: a spilled value ${c.name} → ${c.accept ? 'accepted (pruned at the join)' : 'rejected'}`, () => {
    const insns = assemble(SPILL_PREFIX + c.tail, { dialect: 'kernel' });
    const res = verify({ insns, progType: 'socket_filter', logLevel: 1 });
    assert.equal(res.ok, c.accept, res.error?.kernelMessage ?? 'accepted');
    const p = computePrecise(insns, [0]);
    assert.equal(slotMatters(p, SPILL_JOIN, 1), !c.accept, 'fp-16 (slot 1) matters at the join');
    if (c.accept) assert.match(res.log, new RegExp(`^${SPILL_JOIN}: safe$`, 'm'));
  });
}

test('precision: a loop accumulator and what feeds it are imprecise; the counter and a divisor are precise', () => {
  const insns = assemble(`
    r6 = r1
    r7 = *(u32 *)(r6 +0)
    r1 = 0
    r2 = 0
    r8 = 1
  loop:
    r3 = r7
    r3 &= 7
    r2 += r3
    r2 &= 4095
    r4 = r7
    r4 /= r8
    r1 += 1
    if r1 < 100 goto loop
    r0 = 0
    exit`, { dialect: 'kernel' });
  const m = computePrecise(insns, [0]).regs[5]!; // the loop head
  assert.equal(m & (1 << 1), 1 << 1, 'the counter decides the loop branch');
  assert.equal(m & (1 << 2), 0, 'the accumulator never reaches a decision');
  assert.equal(m & (1 << 8), 1 << 8, 'a register divisor matters (the engines use the non-zero proof)');
  assert.equal(m & (1 << 7), 0, 'r7 only feeds the accumulator and a dividend whose quotient is never used');
});

/**
 * A value read from a scalar field of the context (xdp_md's ingress_ifindex, offset 12) added to
 * r0 on one side of each diamond: r0 differs between the two paths at every join and reaches no
 * sink, so it is imprecise there and the second path is pruned at the join. A 4-byte read through
 * what may be the context at a pointer field (xdp_md's data, offset 0) may give a packet pointer,
 * and `r0 += r1` would then make r0 a pointer: r0 stays precise there. Linux 6.18 (bpf_prog_load
 * of the same instructions, log level 4): 106 instructions processed, 8 states, as below.
 */
function ctxDiamonds(off: number): string {
  const lines = ['r6 = r1', 'r0 = 1', 'r2 = 0', '*(u64 *)(r10 -8) = r2'];
  for (let k = 0; k < 8; k++)
    lines.push(`r1 = *(u32 *)(r6 +${off})`, `if r1 > ${k} goto t${k}`, 'r0 += r1', 'r2 ^= r0', 'r0 = *(u64 *)(r10 -8)', `goto j${k}`, `t${k}:`, 'r0 *= 3', 'w2 += 7', `j${k}:`);
  lines.push('r0 = 0', 'exit');
  return lines.join('\n');
}
const CTX_JOIN = 12; // j0: the first diamond's join

test('precision: a scalar read from the context is a scalar (xdp ingress_ifindex), pruned as Linux prunes', () => {
  const insns = assemble(ctxDiamonds(12), { dialect: 'kernel' });
  const res = verify({ insns, progType: 'xdp' });
  assert.ok(res.ok, res.error?.kernelMessage);
  assert.equal(res.stats.processedInsns, 106);
  assert.equal(res.stats.totalStates, 8);
  const scalarAt12 = (off: number): boolean => off === 12;
  const at = (off: number, ctxScalarAt?: (o: number) => boolean): number =>
    computePrecise(assemble(ctxDiamonds(off), { dialect: 'kernel' }), [0], undefined, true, undefined, undefined, false, undefined, undefined, undefined, ctxScalarAt).regs[CTX_JOIN]!;
  assert.equal(at(12, scalarAt12) & 1, 0, 'r0 imprecise at the join');
  assert.equal(at(0, scalarAt12) & 1, 1, 'r0 precise at the join: data (offset 0) may give a packet pointer');
  assert.equal(at(12) & 1, 1, 'r0 precise at the join without the program type: any 4-byte context read may give a pointer');
});

test('precision: a jump the walk never decided is no sink; an edge it never took is no path', () => {
  // r6 decides the jump at J; r7 is a stack offset on its target edge only; r8 is compared with r6
  // by a second jump at K and is itself an offset after it.
  const insns = assemble(`
    call bpf_get_prandom_u32
    r6 = r0
    call bpf_get_prandom_u32
    r7 = r0
    r8 = 3
    if r6 > 5 goto a
    r0 = 0
    exit
  a:
    r1 = r10
    r1 += -16
    r1 += r7
    r0 = *(u8 *)(r1 +0)
    if r8 > r6 goto b
    r0 = 0
    exit
  b:
    r1 = r10
    r1 += -16
    r1 += r8
    r0 = *(u8 *)(r1 +0)
    exit`, { dialect: 'kernel' });
  const J = 5, K = 12;
  const at = (bits: Record<number, number> | undefined): number => {
    const walked = bits && ((i: number): number => bits[i] ?? 0);
    return computePrecise(insns, [0], undefined, true, undefined, successorTable(insns), false, undefined, undefined, undefined, undefined, walked).regs[J]!;
  };
  const r = (n: number): number => 1 << n;
  const BOTH = BRANCH_FALL | BRANCH_TARGET;
  // without the walk's records every operand is a sink (the static rule)
  assert.equal(at(undefined) & (r(6) | r(7) | r(8)), r(6) | r(7) | r(8));
  // both jumps undecided on every walked path: r6 matters only because K compares it with r8,
  // an offset after K (backtrack_insn: `dreg <cond> sreg` makes both precise)
  assert.equal(at({ [J]: BOTH, [K]: BOTH }) & (r(6) | r(7) | r(8)), r(6) | r(7) | r(8));
  // K's target never taken: r8 is no offset on a walked path, so neither it nor r6 matters there
  assert.equal(at({ [J]: BOTH, [K]: BRANCH_FALL }) & (r(6) | r(7) | r(8)), r(7));
  // J decided on some path (a sink) and its target never taken: r6 matters, r7 does not
  assert.equal(at({ [J]: BRANCH_SINK | BRANCH_FALL, [K]: BOTH }) & (r(6) | r(7) | r(8)), r(6));
  // J never reached (no edge recorded): nothing from it on matters but for the exits
  assert.equal(at({}) & (r(6) | r(7) | r(8)), 0);
});
