import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm.js';
import { ALL_WORDS, ctxWordsRead } from '../src/hooks/ctx-reads.js';
import { Runtime } from '../src/runtime/runtime.js';
import { enableProbeHelpers, uprobe, uretprobe } from '../src/hooks/uprobe.js';
import { PT_REGS } from '../src/uapi/ctx.js';

const PT = 168;
const bit = (off: number): number => 1 << (off >> 3);
const words = (src: string, helpers?: Map<number, Array<[number, number]>>): number => ctxWordsRead(assemble(src), PT, helpers);

test('ctx reads: loads at constant offsets through copies and constant adds', () => {
  assert.equal(words('r0 = 0\nexit\n'), 0, 'a program that never loads from r1 reads nothing');
  assert.equal(words('r0 = *(u64 *)(r1 +112)\nexit\n'), bit(112));
  assert.equal(words('r6 = r1\nr0 = *(u32 *)(r6 +104)\nr0 = *(u8 *)(r6 +87)\nexit\n'), bit(104) | bit(80));
  assert.equal(words('r1 += 96\nr0 = *(u64 *)(r1 +0)\nr1 -= 8\nr0 = *(u64 *)(r1 +0)\nexit\n'), bit(96) | bit(88));
  // A 4-byte load straddling two words marks both.
  assert.equal(words('r0 = *(u32 *)(r1 +6)\nexit\n'), bit(0) | bit(8));
  // Both sides of a branch; r1 overwritten afterwards is no longer the context.
  assert.equal(words('if r2 == 0 goto +2\nr0 = *(u64 *)(r1 +112)\nexit\nr0 = *(u64 *)(r1 +104)\nr1 = 0\nr0 = *(u64 *)(r1 +0)\nexit\n'), bit(112) | bit(104));
  // Loads from the stack or a map value are not context reads.
  assert.equal(words('r2 = r10\nr2 += -8\nr3 = 7\n*(u64 *)(r2 +0) = r3\nr0 = *(u64 *)(r2 +0)\nexit\n'), 0);
});

test('ctx reads: anything the scan cannot follow means every word', () => {
  assert.equal(words('*(u64 *)(r10 -8) = r1\nr2 = *(u64 *)(r10 -8)\nr0 = *(u64 *)(r2 +0)\nexit\n'), ALL_WORDS, 'a spill');
  assert.equal(words('r6 = r1\nr1 = 1\ncall 5\nr1 = r10\ncall 14\nr0 = *(u64 *)(r6 +112)\nexit\n'), bit(112), 'helpers without the context are harmless');
  assert.equal(words('call 14\nexit\n'), ALL_WORDS, 'a helper given the context (r1 at entry) may read it');
  const args = (id: number): number | undefined => (id === 14 ? 0 : id === 113 ? 3 : undefined);
  assert.equal(ctxWordsRead(assemble('call 14\nr0 = *(u64 *)(r1 +0)\nexit\n'), PT, new Map(), args), 0, 'get_current_pid_tgid takes no argument: r1 is not passed (and is clobbered)');
  assert.equal(ctxWordsRead(assemble('r4 = r1\nr1 = r10\ncall 113\nexit\n'), PT, new Map(), args), 0, 'r4 is not an argument of a 3-argument helper');
  assert.equal(ctxWordsRead(assemble('r3 = r1\nr1 = r10\ncall 113\nexit\n'), PT, new Map(), args), ALL_WORDS, 'r3 is');
  assert.equal(words('r3 = r1\nr1 = r10\nr1 += -8\nr2 = 8\ncall 113\nexit\n'), ALL_WORDS, 'probe_read_kernel of the context');
  assert.equal(words('call 173\nexit\n', new Map([[173, [[128, 8]]]])), bit(128), 'a listed helper reads what its entry says');
  assert.equal(words('r2 = r1\nr2 &= 255\nexit\n'), ALL_WORDS, 'other arithmetic on the pointer');
  assert.equal(words('r2 = r1\nr2 += r3\nr0 = *(u8 *)(r2 +0)\nexit\n'), ALL_WORDS, 'a variable offset');
  assert.equal(words('r0 = 0\nr2 = r0\nr2 += r1\nexit\n'), ALL_WORDS, 'the pointer as the source of arithmetic');
  assert.equal(words('call +1\nexit\nr0 = *(u64 *)(r1 +0)\nexit\n'), ALL_WORDS, 'a bpf-to-bpf call given the context');
  // The same register at two offsets where paths meet, then used.
  assert.equal(words('if r2 == 0 goto +1\nr1 += 8\nr0 = *(u64 *)(r1 +0)\nexit\n'), ALL_WORDS);
  // ... and not used: nothing read.
  assert.equal(words('if r2 == 0 goto +1\nr1 += 8\nr0 = 0\nexit\n'), 0);
  // A loop walking the context.
  assert.equal(words('r2 = 0\nr0 = *(u64 *)(r1 +0)\nr1 += 8\nr2 += 1\nif r2 < 4 goto -4\nexit\n'), ALL_WORDS);
  assert.equal(words('r0 = *(u64 *)(r1 +168)\nexit\n'), ALL_WORDS, 'past the struct');
});

test('uprobe fills exactly the registers its programs read, across attach and detach', async () => {
  const rt = enableProbeHelpers(new Runtime());
  const load = (name: string, src: string) => rt.loadProgram({ name, type: 'kprobe', insns: assemble(src) });
  const out = rt.createMap({ name: 'out', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, pinning: 'none' });
  // Store the register at `off` into slot `slot` of the map.
  const store = (slot: number, off: number): string =>
    `r6 = *(u64 *)(r1 +${off})\n*(u32 *)(r10 -4) = ${slot}\nr1 = map[fd:${out.id}] ll\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto +1\n*(u64 *)(r0 +0) = r6\nr0 = 0\nexit\n`;
  const none = await load('none', 'r0 = 0\nexit\n');
  const rdi = await load('rdi', store(0, PT_REGS.rdi));
  const rsi = await load('rsi', store(1, PT_REGS.rsi));
  const rax = await load('rax', store(2, PT_REGS.rax));
  const get = (k: number): bigint => new DataView((out.get(k) as Uint8Array).buffer, (out.get(k) as Uint8Array).byteOffset).getBigInt64(0, true);
  const t = { f(a: unknown, b: unknown): number { return typeof a === 'number' ? a * 2 : -1; } };
  const l0 = none.attach(uprobe(t, 'f'));
  t.f(5, 6);
  const l1 = rdi.attach(uprobe(t, 'f'));
  t.f(-7, 'not read by anyone');
  assert.equal(get(0), -7n, 'rdi written once a reader is attached (sign-extended)');
  const l2 = rsi.attach(uprobe(t, 'f'));
  t.f(9, 123456);
  assert.equal(get(0), 9n);
  assert.equal(get(1), 123456n);
  (t.f as (...a: unknown[]) => number)(1);
  assert.equal(get(1), 0n, 'an absent argument is 0, not the previous call\'s');
  t.f(2, 2 ** 40);
  assert.equal(get(1), 2n ** 40n, 'a non-32-bit number takes the general fill');
  l1.detach();
  t.f(3, -1);
  assert.equal(get(0), 2n, 'rdi no longer read: the program that stored it is gone');
  assert.equal(get(1), -1n);
  const l3 = rax.attach(uretprobe(t, 'f'));
  t.f(21, 0);
  assert.equal(get(2), 42n, 'the return value in rax');
  t.f('x', 0);
  assert.equal(get(2), -1n);
  // A program reading pt_regs through a helper: the scan gives up, every register is written.
  const viaHelper = await load(
    'via',
    `r3 = r1\nr3 += ${PT_REGS.rdx}\nr1 = r10\nr1 += -16\nr2 = 8\ncall 112\nr6 = *(u64 *)(r10 -16)\n*(u32 *)(r10 -4) = 3\nr1 = map[fd:${out.id}] ll\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto +1\n*(u64 *)(r0 +0) = r6\nr0 = 0\nexit\n`,
  );
  const l4 = viaHelper.attach(uprobe(t, 'f'));
  (t.f as (...a: unknown[]) => number)(1, 2, -3);
  assert.equal(get(3), -3n, 'bpf_probe_read_user of regs->dx');
  l4.detach();
  for (const l of [l0, l2, l3]) {
    assert.equal(l.errors, 0);
    l.detach();
  }
  rt.close();
});
