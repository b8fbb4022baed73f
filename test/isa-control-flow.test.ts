/**
 * The instruction model's control flow (src/isa/control-flow.ts): jump
 * targets, successors and function starts, and that no other module works
 * a jump or call target out for itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assemble } from '../src/isa/index.js';
import { BPF_PSEUDO_FUNC } from '../src/isa/opcodes.js';
import { calleeStart, functionStarts, isCondJump, isJump, isPseudoCall, isPseudoFunc, jumpTarget, slotsOf, successors, successorTable } from '../src/isa/control-flow.js';
import { ROOT } from './paths.js';

test('jump targets: ja and conditional jumps use off, gotol uses imm, may_goto is a conditional jump', () => {
  const p = assemble('if r1 == 0 goto +2\ngoto +1\ngotol +0\nmay_goto +0\nr0 = 0\nexit');
  assert.deepEqual(p.map((ins, i) => (isJump(ins) ? jumpTarget(ins, i) : -1)), [3, 3, 3, 4, -1, -1]);
  assert.deepEqual(p.map(isCondJump), [true, false, false, true, false, false]);
  assert.deepEqual(p.map((_, i) => successors(p, i)), [[1, 3], [3], [3], [4, 4], [5], []]);
});

test('calls and lddw: a call returns to the next slot, an lddw takes two, exit ends the path', () => {
  const p = assemble('r1 = 5 ll\ncall 5\ncall fn\nexit\nfn:\nr0 = 0\nexit');
  assert.equal(slotsOf(p[0]!), 2);
  assert.deepEqual(successors(p, 0), [2]);
  assert.deepEqual(successors(p, 2), [3], 'a helper call falls through');
  assert.equal(isPseudoCall(p[3]!), true);
  assert.deepEqual(successors(p, 3), [4], 'callees are not successors');
  assert.equal(calleeStart(p[3]!, 3), 5);
  assert.deepEqual(successors(p, 4), []);
});

test('the successor table holds successors() of every slot, in range, none for an lddw\'s second slot', () => {
  const progs = [
    assemble('if r1 == 0 goto +2\ngoto +1\ngotol +0\nmay_goto +0\nr0 = 0\nexit'),
    assemble('r1 = 5 ll\ncall 5\ncall fn\nexit\nfn:\nr0 = 0\nexit'),
    assemble('r0 = 0\nl:\nr0 += 1\nif r0 < 9 goto l\nexit'),
  ];
  for (const p of progs) {
    const t = successorTable(p);
    const flat = (i: number): number[] => Array.from(t.to.subarray(t.off[i]!, t.off[i + 1]!));
    p.forEach((ins, i) => {
      const second = i > 0 && p[i - 1]!.code === 0x18;
      assert.equal(t.second[i], second ? 1 : 0);
      assert.deepEqual(flat(i), second ? [] : successors(p, i).filter((x) => x >= 0 && x < p.length), `slot ${i}`);
    });
  }
  // a jump past the end (refused later by the CFG checks) is left out of the table
  const out = assemble('if r1 == 0 goto +5\nexit');
  assert.deepEqual(Array.from(successorTable(out).to.subarray(0, successorTable(out).off[1]!)), [1]);
  // only the loop's back-edge makes a program not "forward"
  assert.deepEqual(progs.map((p) => successorTable(p).forward), [true, true, false]);
});

test('function starts: slot 0, bpf-to-bpf call targets and callbacks (function-pointer lddw)', () => {
  const p = assemble('r2 = 0 ll\ncall f\nr0 = 0\nexit\nf:\nr0 = 1\nexit\ncb:\nr0 = 0\nexit');
  // r2 = cb: a BPF_PSEUDO_FUNC lddw, imm relative to the next slot
  p[0] = { ...p[0]!, src: BPF_PSEUDO_FUNC, imm: 6 };
  assert.equal(isPseudoFunc(p[0]!), true);
  assert.deepEqual(functionStarts(p), [0, 5, 7]);
});

/** Source files under src/, but control-flow.ts itself. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no module but src/isa/control-flow.ts works out a jump or call target itself', () => {
  // `i + 1 + ins.off`, `pc + 1 + ins.imm`, `i + ins.imm + 1`, ...: the relative-target arithmetic
  const TARGET = /\b\w+\s*\+\s*1\s*\+\s*(?:ins\.)?(?:off|imm)\b|\b\w+\s*\+\s*(?:ins\.)?(?:off|imm)\s*\+\s*1\b/;
  const problems: string[] = [];
  for (const abs of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, abs);
    if (rel === join('src', 'isa', 'control-flow.ts')) continue;
    readFileSync(abs, 'utf8').split('\n').forEach((line, k) => {
      const code = line.replace(/\/\/.*$/, '');
      if (TARGET.test(code) && !/^\s*\*/.test(code)) problems.push(`${rel}:${k + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(problems, []);
});
