/**
 * Open-coded iterators at run time (helpers/iter-kfuncs.ts): programs written with bpf_for and
 * bpf_for_each loops (test/real-progs/iter_num_sum.c, iter_bits_sum.c) run in both engines and
 * give what the loops compute; the kfuncs' edge cases follow kernel/bpf/bpf_iter.c and
 * kernel/bpf/helpers.c; a program cannot call the run-time functions by their id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadObjectFile } from '../src/object/file.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { ITER_KFUNC_FNS, ITER_KFUNC_ID_BASE } from '../src/helpers/iter-kfuncs.js';
import type { ExecEnv } from '../src/vm/helper-abi.js';
import { TsbpfError } from '../src/errors.js';
import { VerifierError } from '../src/verifier/error.js';
import { ROOT } from './paths.js';

const DIR = join(ROOT, 'test/real-progs');
const ENGINES = ['jit', 'interpreter'] as const;
const VALUES = Array.from({ length: 16 }, (_, k) => 1 << k);

function packet(bytes: number[]): Uint8Array {
  const p = new Uint8Array(64);
  p.set(bytes);
  return p;
}

for (const engine of ENGINES) {
  test(`${engine}: bpf_for over the packet's count adds that many values (iter_num_sum.o)`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(await loadObjectFile(join(DIR, 'iter_num_sum.o')));
      const prog = coll.program('iter_num_sum');
      for (const n of [0, 1, 3, 15, 16, 17, 200, 255]) {
        const want = VALUES.slice(0, Math.min(n, 16)).reduce((a, b) => a + b, 0);
        assert.equal(prog.run({ data: packet([n]) }).retval, want, `n = ${n}`);
      }
      coll.close();
    } finally {
      rt.close();
    }
  });

  test(`${engine}: bpf_for_each(bits) visits the set bits of the packet's word (iter_bits_sum.o)`, async () => {
    const rt = new Runtime({ engine });
    try {
      const coll = await rt.load(await loadObjectFile(join(DIR, 'iter_bits_sum.o')));
      const prog = coll.program('iter_bits_sum');
      const word = (w: bigint) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, w, true);
        return packet([...b]);
      };
      const sumOfBits = (w: bigint) => { let s = 0; for (let k = 0; k < 64; k++) if ((w >> BigInt(k)) & 1n) s += k; return s; };
      for (const w of [0n, 1n, 0x8421n, 1n << 63n, 0xffff_ffff_ffff_ffffn, 0x8000_0001_0000_0100n])
        assert.equal(prog.run({ data: word(w) }).retval, sumOfBits(w), `word 0x${w.toString(16)}`);
      coll.close();
    } finally {
      rt.close();
    }
  });
}

test('a program whose iterator leaks is refused at load, with the reason', async () => {
  const rt = new Runtime();
  try {
    await assert.rejects(rt.load(await loadObjectFile(join(DIR, 'iter_num_leak.o'))),
      (e: unknown) => e instanceof VerifierError && e.errno === 'EINVAL' && /Unreleased reference id=\d+ alloc_insn=\d+/.test(e.kernelMessage) &&
        /bpf_iter_num_new is not destroyed/.test(e.message));
  } finally {
    rt.close();
  }
});

test('the run-time functions cannot be named by a program: their ids are no helper the verifier knows', async () => {
  const rt = new Runtime();
  try {
    // r1 = r10; r1 += -8; call ITER_KFUNC_ID_BASE + 1 (bpf_iter_num_next); r0 = 0; exit
    const insns = [
      { code: 0xbf, dst: 1, src: 10, off: 0, imm: 0 },
      { code: 0x07, dst: 1, src: 0, off: 0, imm: -8 },
      { code: 0x85, dst: 0, src: 0, off: 0, imm: ITER_KFUNC_ID_BASE + 1 },
      { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
      { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ];
    await assert.rejects(rt.loadProgram({ name: 'p', type: 'xdp', insns, license: 'GPL' }),
      (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL' && /invalid func unknown#/.test(e.message));
  } finally {
    rt.close();
  }
});

/** The kfuncs' functions on a state at `it` of a small address space. */
function harness() {
  const space = new AddressSpace({ initialPages: 1 });
  const it = space.alloc(64, 8);
  const env = { space } as unknown as ExecEnv;
  const call = (name: string, ...args: bigint[]) => {
    const a = [...args, 0n, 0n, 0n, 0n];
    return ITER_KFUNC_FNS.get(name)!.fn(env, BigInt(it), a[0]!, a[1]!, a[2]!, a[3]!);
  };
  const drain = (next: string) => {
    const got: number[] = [];
    for (let p = call(next); p !== 0n; p = call(next)) got.push(space.readU32(Number(p)) | 0);
    return got;
  };
  return { space, it, call, drain };
}

const s32 = (v: number) => BigInt.asUintN(64, BigInt(v));
const errno = (r: bigint) => Number(BigInt.asIntN(64, r));

test('bpf_iter_num: [start, end), empty when equal, -EINVAL/-E2BIG leave it drained, NULL for ever once drained', () => {
  const h = harness();
  assert.equal(h.call('bpf_iter_num_new', s32(-2), s32(3)), 0n);
  assert.deepEqual(h.drain('bpf_iter_num_next'), [-2, -1, 0, 1, 2]);
  assert.equal(h.call('bpf_iter_num_next'), 0n, 'sticky NULL');
  assert.equal(h.call('bpf_iter_num_new', 5n, 5n), 0n);
  assert.deepEqual(h.drain('bpf_iter_num_next'), []);
  assert.equal(errno(h.call('bpf_iter_num_new', 5n, 4n)), -22, 'start > end: -EINVAL');
  assert.deepEqual(h.drain('bpf_iter_num_next'), []);
  assert.equal(errno(h.call('bpf_iter_num_new', 0n, BigInt(8 * 1024 * 1024 + 1))), -7, 'past BPF_MAX_LOOPS: -E2BIG');
  assert.deepEqual(h.drain('bpf_iter_num_next'), []);
  assert.equal(h.call('bpf_iter_num_new', 0n, BigInt(8 * 1024 * 1024)), 0n, 'exactly BPF_MAX_LOOPS');
  // INT_MAX at the end does not wrap
  assert.equal(h.call('bpf_iter_num_new', s32(0x7fff_fffe), s32(0x7fff_ffff)), 0n);
  assert.deepEqual(h.drain('bpf_iter_num_next'), [0x7fff_fffe]);
  h.call('bpf_iter_num_destroy');
  assert.equal(h.space.readU64(h.it), 0n, 'destroy zeroes the state');
});

test('bpf_iter_bits: one word in the state, several in a copy, the errors of bpf_iter_bits_new', () => {
  const h = harness();
  const words = h.space.alloc(32, 8);
  h.space.writeU64(words, 0x8000_0000_0000_0005n);
  h.space.writeU64(words + 8, 0x3n);
  assert.equal(h.call('bpf_iter_bits_new', BigInt(words), 1n), 0n);
  assert.deepEqual(h.drain('bpf_iter_bits_next'), [0, 2, 63]);
  assert.equal(h.call('bpf_iter_bits_next'), 0n, 'sticky NULL');
  assert.equal(h.call('bpf_iter_bits_new', BigInt(words), 2n), 0n);
  h.space.writeU64(words + 8, 0n); // a copy: later writes to the source do not count
  assert.deepEqual(h.drain('bpf_iter_bits_next'), [0, 2, 63, 64, 65]);
  h.call('bpf_iter_bits_destroy');
  assert.equal(errno(h.call('bpf_iter_bits_new', 0n, 1n)), -22, 'NULL: -EINVAL');
  assert.deepEqual(h.drain('bpf_iter_bits_next'), []);
  assert.equal(errno(h.call('bpf_iter_bits_new', BigInt(words), 0n)), -22, 'no words: -EINVAL');
  assert.equal(errno(h.call('bpf_iter_bits_new', BigInt(words), 512n)), -7, 'past 511 words: -E2BIG');
  assert.equal(errno(h.call('bpf_iter_bits_new', 8n, 1n)), -14, 'unreadable: -EFAULT');
  assert.deepEqual(h.drain('bpf_iter_bits_next'), []);
});

test('an iterator over kernel objects is judged, and refused at load: tsbpf has no tasks (ENOTSUPP naming it)', async () => {
  const rt = new Runtime();
  try {
    await assert.rejects(rt.load(await loadObjectFile(join(DIR, 'iter_task_open_coded.o'))),
      (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /kfunc bpf_iter_task_new is not supported/.test(e.message));
  } finally {
    rt.close();
  }
});
